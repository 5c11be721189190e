import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessAudited } from './audit';

const decision = {
  actor: '0x00000000000000000000000000000000000000b2',
  patient: '0x00000000000000000000000000000000000000a1',
  resource: 'consents',
  action: 'read',
  purpose: null,
  outcome: 'denied' as const,
  reason: 'no active grant for lab_results',
};

test('every gate decision becomes an AccessAudited event with its outcome and reason', () => {
  assert.deepEqual(accessAudited(decision), { type: 'AccessAudited', version: 1, data: decision });
});

test('an audit entry without a reason, or with an unbounded one, is refused', () => {
  assert.throws(() => accessAudited({ ...decision, reason: '' }), { code: 'invalid_audit' });
  assert.throws(() => accessAudited({ ...decision, resource: 'x'.repeat(501) }), { code: 'invalid_audit' });
});
