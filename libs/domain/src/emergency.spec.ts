import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fold } from './decider';
import { type EmergencyEvent, emergencyDecider, isWindowOpen } from './emergency';
import { scenario } from './testing/scenario';

const patient = '0x00000000000000000000000000000000000000a1';
const provider = '0x00000000000000000000000000000000000000e5';
const reasonHash = '0x' + '12'.repeat(32);
const reason = 'Unconscious on arrival, allergy history needed';
const emergency = scenario(emergencyDecider);

const reasonRecorded: EmergencyEvent = {
  type: 'EmergencyReasonRecorded',
  version: 1,
  data: { patient, provider, reasonHash, reason },
};
const started: EmergencyEvent = {
  type: 'EmergencyAccessStarted',
  version: 1,
  data: { patient, provider, reasonHash, expiresAt: 1_000 },
};

describe('emergency access', () => {
  test('staff give the reason off-chain; a vague one-word reason is refused', () => {
    emergency
      .given()
      .when({ type: 'RecordEmergencyReason', patient, provider, reason: ` ${reason} `, reasonHash })
      .then([reasonRecorded]);
    emergency
      .given()
      .when({ type: 'RecordEmergencyReason', patient, provider, reason: 'urgent', reasonHash })
      .thenError('invalid_reason', 'invalid');
  });

  test('the window from the chain carries the reason given for its hash', () => {
    const state = fold(emergencyDecider, [reasonRecorded, started]);
    assert.equal(state.windows[provider]?.reason, reason);
    assert.equal(isWindowOpen(state.windows[provider]!, new Date(999_000)), true);
    assert.equal(isWindowOpen(state.windows[provider]!, new Date(1_000_000)), false);
  });

  test('an ended window is gone', () => {
    emergency
      .given([started])
      .when({ type: 'RecordEmergencyEnded', patient, provider, endedBy: patient })
      .then([{ type: 'EmergencyAccessEnded', version: 1, data: { patient, provider, endedBy: patient } }]);
    const state = fold(emergencyDecider, [
      started,
      { type: 'EmergencyAccessEnded', version: 1, data: { patient, provider, endedBy: patient } },
    ]);
    assert.deepEqual(state.windows, {});
  });
});
