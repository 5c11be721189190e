import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { activeGrants, type ConsentEvent, consentDecider, MAX_GRANT_SECONDS } from './consent';
import { fold } from './decider';
import { keyedGet } from './keyed-map';
import { scenario } from './testing/scenario';

const patient = '0x00000000000000000000000000000000000000a1';
const provider = '0x00000000000000000000000000000000000000b2';
const other = '0x00000000000000000000000000000000000000c3';
const now = new Date('2026-03-01T12:00:00Z');
const nowSeconds = now.getTime() / 1000;
const day = 86_400;
const signed = { nonce: 0, deadline: nowSeconds + 600, signature: '0xsig' };

const requested = (requestId = 'r1', category = 'lab_results'): ConsentEvent => ({
  type: 'ConsentRequested',
  version: 1,
  data: {
    requestId,
    patient,
    provider,
    category,
    purpose: 'Review of thyroid panel',
    durationSeconds: 30 * day,
    requestedAt: '2026-02-28T09:00:00.000Z',
  },
});
const granted = (category = 'lab_results', expiresAt = nowSeconds + 30 * day): ConsentEvent => ({
  type: 'ConsentGranted',
  version: 1,
  data: { patient, provider, category, expiresAt },
});

const consent = scenario(consentDecider);

describe('consent: requests', () => {
  test('a provider asks for a category with a purpose and a duration', () => {
    consent
      .given()
      .when(
        {
          type: 'RequestConsent',
          requestId: 'r1',
          patient,
          provider,
          category: 'lab_results',
          purpose: '  Review of thyroid panel ',
          durationSeconds: 30 * day,
        },
        now,
      )
      .then([
        {
          type: 'ConsentRequested',
          version: 1,
          data: {
            requestId: 'r1',
            patient,
            provider,
            category: 'lab_results',
            purpose: 'Review of thyroid panel',
            durationSeconds: 30 * day,
            requestedAt: now.toISOString(),
          },
        },
      ]);
  });

  test('a second pending request for the same category from the same provider is refused', () => {
    consent
      .given([requested('r1')])
      .when(
        {
          type: 'RequestConsent',
          requestId: 'r2',
          patient,
          provider,
          category: 'lab_results',
          purpose: 'again',
          durationSeconds: day,
        },
        now,
      )
      .thenError('request_already_pending', 'conflict');
  });

  test('a request without a real purpose or with a duration beyond a year is refused', () => {
    const base = { type: 'RequestConsent' as const, requestId: 'r1', patient, provider, category: 'imaging' };
    consent
      .given()
      .when({ ...base, purpose: ' ', durationSeconds: day })
      .thenError('invalid_purpose', 'invalid');
    consent
      .given()
      .when({ ...base, purpose: 'Follow-up', durationSeconds: MAX_GRANT_SECONDS + 1 })
      .thenError('invalid_duration', 'invalid');
    consent
      .given()
      .when({ ...base, purpose: 'Follow-up', durationSeconds: 59 })
      .thenError('invalid_duration');
  });

  test('a provider cannot ask themselves for consent', () => {
    consent
      .given()
      .when({
        type: 'RequestConsent',
        requestId: 'r1',
        patient: provider,
        provider,
        category: 'imaging',
        purpose: 'Follow-up',
        durationSeconds: day,
      })
      .thenError('self_request', 'invalid');
  });

  test('the patient declines a pending request, once', () => {
    const declined: ConsentEvent = {
      type: 'ConsentRequestDeclined',
      version: 1,
      data: { requestId: 'r1', patient, provider, category: 'lab_results' },
    };
    consent.given([requested()]).when({ type: 'DeclineConsentRequest', requestId: 'r1' }).then([declined]);
    consent
      .given([requested(), declined])
      .when({ type: 'DeclineConsentRequest', requestId: 'r1' })
      .thenError('request_not_pending', 'conflict');
    consent
      .given()
      .when({ type: 'DeclineConsentRequest', requestId: 'nope' })
      .thenError('request_not_found', 'not_found');
  });

  test('a grant seen on-chain answers the pending request for that provider and category', () => {
    const state = fold(consentDecider, [
      requested('r1', 'lab_results'),
      requested('r2', 'imaging'),
      granted(),
    ]);
    assert.equal(keyedGet(state.requests, 'r1')?.status, 'granted');
    assert.equal(keyedGet(state.requests, 'r2')?.status, 'pending');
  });
});

describe('consent: signed grants and revokes', () => {
  test('a signed grant becomes a submitted intent carrying what the relayer needs', () => {
    consent
      .given([requested()])
      .when(
        {
          type: 'SubmitGrant',
          relayId: 'g1',
          patient,
          grants: [{ provider, category: 'lab_results', expiresAt: nowSeconds + 30 * day }],
          requestIds: ['r1'],
          ...signed,
        },
        now,
      )
      .then([
        {
          type: 'ConsentGrantSubmitted',
          version: 1,
          data: {
            relayId: 'g1',
            patient,
            grants: [{ provider, category: 'lab_results', expiresAt: nowSeconds + 30 * day }],
            requestIds: ['r1'],
            ...signed,
          },
        },
      ]);
  });

  test('expiry must be after now and within 365 days, as the contract requires', () => {
    const submit = (expiresAt: number) =>
      consent.given().when(
        {
          type: 'SubmitGrant',
          relayId: 'g1',
          patient,
          grants: [{ provider, category: 'x', expiresAt }],
          ...signed,
        },
        now,
      );
    submit(nowSeconds).thenError('invalid_expiry', 'invalid');
    submit(nowSeconds + MAX_GRANT_SECONDS + 1).thenError('invalid_expiry');
    assert.equal(submit(nowSeconds + MAX_GRANT_SECONDS).state().relays.g1?.status, 'submitted');
  });

  test('an expired signature, an empty batch, a duplicate in a batch or a reused relay id is refused', () => {
    const grant = { provider, category: 'imaging', expiresAt: nowSeconds + day };
    const base = { type: 'SubmitGrant' as const, relayId: 'g1', patient, grants: [grant], ...signed };
    consent
      .given()
      .when({ ...base, deadline: nowSeconds - 1 }, now)
      .thenError('signature_expired', 'invalid');
    consent
      .given()
      .when({ ...base, grants: [] }, now)
      .thenError('invalid_batch_size');
    consent
      .given()
      .when({ ...base, grants: [grant, grant] }, now)
      .thenError('duplicate_grant');
    const submitted = consent.given().when(base, now).state();
    assert.throws(() => consentDecider.decide(base, submitted, now), { code: 'relay_exists' });
  });

  test('a grant cannot answer a request for something else', () => {
    consent
      .given([requested('r1', 'lab_results')])
      .when(
        {
          type: 'SubmitGrant',
          relayId: 'g1',
          patient,
          grants: [{ provider: other, category: 'lab_results', expiresAt: nowSeconds + day }],
          requestIds: ['r1'],
          ...signed,
        },
        now,
      )
      .thenError('request_mismatch', 'invalid');
  });

  test('a revoke needs a grant to revoke', () => {
    const revoke = {
      type: 'SubmitRevoke' as const,
      relayId: 'v1',
      patient,
      provider,
      category: 'lab_results',
      ...signed,
    };
    consent.given().when(revoke, now).thenError('no_grant', 'not_found');
    consent
      .given([granted()])
      .when(revoke, now)
      .then([
        {
          type: 'ConsentRevokeSubmitted',
          version: 1,
          data: { relayId: 'v1', patient, provider, category: 'lab_results', ...signed },
        },
      ]);
  });

  test("a record's registration is a signed intent on the same nonce sequence as grants", () => {
    const terms = { recordId: `0x${'ab'.repeat(32)}`, category: 'lab_results', supersedes: null };
    const register = {
      type: 'SubmitRecordRegistration' as const,
      relayId: 'r1',
      patient,
      ...terms,
      ...signed,
    };
    const submittedRegistration: ConsentEvent = {
      type: 'RecordRegistrationSubmitted',
      version: 1,
      data: { relayId: 'r1', patient, ...terms, ...signed },
    };
    consent.given().when(register, now).then([submittedRegistration]);
    // A grant already took nonce 0: the registration signed with it would be refused by the contract.
    consent
      .given([
        {
          type: 'ConsentGrantSubmitted',
          version: 1,
          data: { relayId: 'g1', patient, grants: [], requestIds: [], ...signed },
        },
      ])
      .when(register, now)
      .thenError('nonce_used', 'invalid');
    consent
      .given([submittedRegistration])
      .when({ type: 'RecordRelaySent', relayId: 'r1', txHash: '0xtx' })
      .then([{ type: 'ConsentRelaySent', version: 1, data: { relayId: 'r1', patient, txHash: '0xtx' } }]);
  });

  test('a relay failure is recorded once, and only for a known relay', () => {
    const submitted: ConsentEvent = {
      type: 'ConsentGrantSubmitted',
      version: 1,
      data: { relayId: 'g1', patient, grants: [], requestIds: [], ...signed },
    };
    const failed: ConsentEvent = {
      type: 'ConsentRelayFailed',
      version: 1,
      data: { relayId: 'g1', patient, reason: 'nonce already used' },
    };
    consent
      .given([submitted])
      .when({ type: 'FailRelay', relayId: 'g1', reason: 'nonce already used' })
      .then([failed]);
    consent.given([submitted, failed]).when({ type: 'FailRelay', relayId: 'g1', reason: 'again' }).then([]);
    consent.given().when({ type: 'FailRelay', relayId: 'zz', reason: 'x' }).thenError('relay_not_found');
  });
});

describe('consent: relay progress', () => {
  const submitted: ConsentEvent = {
    type: 'ConsentGrantSubmitted',
    version: 1,
    data: {
      relayId: 'g1',
      patient,
      grants: [{ provider, category: 'imaging', expiresAt: nowSeconds + day }],
      requestIds: [],
      ...signed,
    },
  };
  const sent: ConsentEvent = {
    type: 'ConsentRelaySent',
    version: 1,
    data: { relayId: 'g1', patient, txHash: '0xaa' },
  };
  const mined: ConsentEvent = {
    type: 'ConsentRelayMined',
    version: 1,
    data: { relayId: 'g1', patient, txHash: '0xaa', blockNumber: 7 },
  };
  const confirmed: ConsentEvent = {
    type: 'ConsentRelayConfirmed',
    version: 1,
    data: { relayId: 'g1', patient, blockNumber: 7 },
  };

  test('submitted → sent (txHash) → mined (block) → confirmed, each step once', () => {
    consent.given([submitted]).when({ type: 'RecordRelaySent', relayId: 'g1', txHash: '0xaa' }).then([sent]);
    consent
      .given([submitted, sent])
      .when({ type: 'RecordRelayMined', relayId: 'g1', blockNumber: 7 })
      .then([mined]);
    consent
      .given([submitted, sent, mined])
      .when({ type: 'RecordRelayConfirmed', relayId: 'g1' })
      .then([confirmed]);
    const state = fold(consentDecider, [submitted, sent, mined, confirmed]);
    assert.deepEqual(state.relays.g1, {
      relayId: 'g1',
      kind: 'grant',
      status: 'confirmed',
      nonce: 0,
      txHash: '0xaa',
      blockNumber: 7,
    });
    // Repeats decide nothing: a worker retrying after a crash records nothing twice.
    consent
      .given([submitted, sent])
      .when({ type: 'RecordRelaySent', relayId: 'g1', txHash: '0xaa' })
      .then([]);
    consent
      .given([submitted, sent, mined])
      .when({ type: 'RecordRelayMined', relayId: 'g1', blockNumber: 7 })
      .then([]);
    consent
      .given([submitted, sent, mined, confirmed])
      .when({ type: 'RecordRelayConfirmed', relayId: 'g1' })
      .then([]);
  });

  test('steps out of order are refused: never sent twice, never mined unsent, never confirmed unmined', () => {
    consent
      .given([submitted, sent])
      .when({ type: 'RecordRelaySent', relayId: 'g1', txHash: '0xbb' })
      .thenError('relay_already_sent', 'conflict');
    consent
      .given([submitted])
      .when({ type: 'RecordRelayMined', relayId: 'g1', blockNumber: 7 })
      .thenError('relay_not_sent', 'conflict');
    consent
      .given([submitted, sent])
      .when({ type: 'RecordRelayConfirmed', relayId: 'g1' })
      .thenError('relay_not_mined', 'conflict');
    consent
      .given([submitted, sent, mined, confirmed])
      .when({ type: 'FailRelay', relayId: 'g1', reason: 'late' })
      .thenError('relay_settled', 'conflict');
    consent
      .given()
      .when({ type: 'RecordRelaySent', relayId: 'zz', txHash: '0x1' })
      .thenError('relay_not_found');
  });

  test('until confirmed, a reorganisation may move a mined relay to another block or drop it', () => {
    const moved: ConsentEvent = { ...mined, data: { ...mined.data, blockNumber: 9 } } as ConsentEvent;
    consent
      .given([submitted, sent, mined])
      .when({ type: 'RecordRelayMined', relayId: 'g1', blockNumber: 9 })
      .then([moved]);
    assert.equal(fold(consentDecider, [submitted, sent, mined, moved]).relays.g1?.blockNumber, 9);
    const dropped = consent
      .given([submitted, sent, mined])
      .when({ type: 'FailRelay', relayId: 'g1', reason: 'dropped in a chain reorganisation' })
      .state();
    assert.equal(dropped.relays.g1?.status, 'failed');
    // Once confirmed, it is final.
    consent
      .given([submitted, sent, mined, confirmed])
      .when({ type: 'RecordRelayMined', relayId: 'g1', blockNumber: 9 })
      .then([]);
  });

  test('a sent relay can still fail (reverted), and a failure records the reason', () => {
    const state = consent
      .given([submitted, sent])
      .when({ type: 'FailRelay', relayId: 'g1', reason: 'NotAProvider' })
      .state();
    assert.equal(state.relays.g1?.status, 'failed');
    assert.equal(state.relays.g1?.reason, 'NotAProvider');
  });

  test('a nonce in flight cannot be signed for again; a failed relay frees its nonce', () => {
    const again = {
      type: 'SubmitGrant' as const,
      relayId: 'g2',
      patient,
      grants: [{ provider, category: 'vitals', expiresAt: nowSeconds + day }],
      ...signed,
    };
    consent.given([submitted, sent]).when(again, now).thenError('nonce_used', 'invalid');
    consent
      .given([granted('imaging'), submitted])
      .when({ type: 'SubmitRevoke', relayId: 'v1', patient, provider, category: 'imaging', ...signed }, now)
      .thenError('nonce_used', 'invalid');
    const failed: ConsentEvent = {
      type: 'ConsentRelayFailed',
      version: 1,
      data: { relayId: 'g1', patient, reason: 'InvalidSignature' },
    };
    assert.equal(consent.given([submitted, failed]).when(again, now).state().relays.g2?.status, 'submitted');
    assert.equal(
      consent
        .given([submitted, sent])
        .when({ ...again, nonce: 1 }, now)
        .state().relays.g2?.nonce,
      1,
    );
  });
});

describe('consent: chain facts and the active view', () => {
  test('chain facts are recorded as they are', () => {
    consent
      .given()
      .when({ type: 'RecordConsentGranted', patient, provider, category: 'imaging', expiresAt: 123 })
      .then([
        {
          type: 'ConsentGranted',
          version: 1,
          data: { patient, provider, category: 'imaging', expiresAt: 123 },
        },
      ]);
    consent
      .given([granted('imaging')])
      .when({ type: 'RecordConsentRevoked', patient, provider, category: 'imaging' })
      .then([{ type: 'ConsentRevoked', version: 1, data: { patient, provider, category: 'imaging' } }]);
  });

  test('a grant is active until its expiry second, computed when read', () => {
    const state = fold(consentDecider, [granted('lab_results', nowSeconds + 10)]);
    assert.equal(activeGrants(state, now).length, 1);
    assert.equal(activeGrants(state, new Date((nowSeconds + 9) * 1000)).length, 1);
    assert.equal(activeGrants(state, new Date((nowSeconds + 10) * 1000)).length, 0);
  });

  test('a re-grant replaces the expiry and a revoke removes only its category', () => {
    const state = fold(consentDecider, [
      granted('lab_results', nowSeconds + day),
      granted('imaging', nowSeconds + day),
      granted('lab_results', nowSeconds + 2 * day),
      { type: 'ConsentRevoked', version: 1, data: { patient, provider, category: 'imaging' } },
    ]);
    assert.deepEqual(activeGrants(state, now), [
      { provider, category: 'lab_results', expiresAt: nowSeconds + 2 * day },
    ]);
  });

  test("a stream refuses another patient's commands", () => {
    consent
      .given([granted()])
      .when({ type: 'RecordConsentGranted', patient: other, provider, category: 'x', expiresAt: 1 })
      .thenError('wrong_stream', 'invalid');
  });
});
