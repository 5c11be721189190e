import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fold } from './decider';
import { type DirectoryEvent, directoryDecider } from './directory';
import { scenario } from './testing/scenario';

const account = '0x00000000000000000000000000000000000000b2';
const roleGranted = (role: 'provider' | 'anchor' = 'provider'): DirectoryEvent => ({
  type: 'RoleGranted',
  version: 1,
  data: { account, role },
});
const directory = scenario(directoryDecider);

describe('directory', () => {
  test('an admin sets the profile patients see for a provider', () => {
    directory
      .given([roleGranted()])
      .when({ type: 'SetProfile', account, name: ' Dr. Ada Lovelace ', specialty: 'Endocrinology' })
      .then([
        {
          type: 'ProfileUpdated',
          version: 1,
          data: { account, name: 'Dr. Ada Lovelace', specialty: 'Endocrinology' },
        },
      ]);
  });

  test('no profile for an account without a patient-facing role', () => {
    directory
      .given([roleGranted('anchor')])
      .when({ type: 'SetProfile', account, name: 'Relayer', specialty: '' })
      .thenError('not_a_member', 'not_found');
    directory
      .given([roleGranted(), { type: 'RoleRevoked', version: 1, data: { account, role: 'provider' } }])
      .when({ type: 'SetProfile', account, name: 'Dr. A', specialty: '' })
      .thenError('not_a_member');
  });

  test('an empty or overlong name is refused; setting the same profile again changes nothing', () => {
    directory
      .given([roleGranted()])
      .when({ type: 'SetProfile', account, name: ' ', specialty: '' })
      .thenError('invalid_name');
    directory
      .given([roleGranted()])
      .when({ type: 'SetProfile', account, name: 'x'.repeat(101), specialty: '' })
      .thenError('invalid_name', 'invalid');
    directory
      .given([
        roleGranted(),
        { type: 'ProfileUpdated', version: 1, data: { account, name: 'Dr. A', specialty: 'GP' } },
      ])
      .when({ type: 'SetProfile', account, name: 'Dr. A', specialty: 'GP' })
      .then([]);
  });

  test('role facts from the chain are recorded and folded without duplicates', () => {
    directory
      .given()
      .when({ type: 'RecordRoleGranted', account, role: 'emergency' })
      .then([{ type: 'RoleGranted', version: 1, data: { account, role: 'emergency' } }]);
    const state = fold(directoryDecider, [roleGranted(), roleGranted()]);
    assert.deepEqual(state.roles, ['provider']);
  });
});
