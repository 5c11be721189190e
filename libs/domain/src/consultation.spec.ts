import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type ConsultationCommand,
  type ConsultationEvent,
  type ConsultationInviteeRole,
  type ConsultationMode,
  consultationDecider,
  consultationStream,
  JOIN_EARLY_MINUTES,
  mayJoin,
  mayRecord,
} from './consultation';
import { fold } from './decider';
import { scenario } from './testing/scenario';

const id = 'c-1';
const provider = '0x00000000000000000000000000000000000000b2';
const patient = '0x00000000000000000000000000000000000000a1';
const specialist = '0x00000000000000000000000000000000000000c3';
const stranger = '0x00000000000000000000000000000000000000d4';
const system = 'system';

const now = new Date('2026-03-01T12:00:00Z');
const nowSeconds = now.getTime() / 1000;
const startsAt = nowSeconds + 3600;
const endsAt = startsAt + 30 * 60;
/** A Date `offset` seconds after the start. */
const at = (offset: number): Date => new Date((startsAt + offset) * 1000);
const during = at(60);

const consultation = scenario(consultationDecider);

// ------------------------------------------------------------------------------------ event builders

const scheduled = (mode: ConsultationMode = 'video'): ConsultationEvent => ({
  type: 'ConsultationScheduled',
  version: 1,
  data: { id, provider, patient, category: 'telehealth', mode, startsAt, endsAt },
});
const invited = (
  participant = specialist,
  role: ConsultationInviteeRole = 'specialist',
): ConsultationEvent => ({
  type: 'ParticipantInvited',
  version: 1,
  data: { id, participant, role, invitedBy: provider },
});
const admitted = (participant = specialist): ConsultationEvent => ({
  type: 'ParticipantAdmitted',
  version: 1,
  data: { id, participant },
});
const started = (startedBy = provider): ConsultationEvent => ({
  type: 'ConsultationStarted',
  version: 1,
  data: { id, startedBy },
});
const joined = (participant: string): ConsultationEvent => ({
  type: 'ParticipantJoined',
  version: 1,
  data: { id, participant },
});
const left = (participant: string): ConsultationEvent => ({
  type: 'ParticipantLeft',
  version: 1,
  data: { id, participant },
});
const consentGiven: ConsultationEvent = { type: 'RecordingConsentGiven', version: 1, data: { id, patient } };
const consentWithdrawn: ConsultationEvent = {
  type: 'RecordingConsentWithdrawn',
  version: 1,
  data: { id, patient },
};
const sharing = (participant: string): ConsultationEvent => ({
  type: 'ScreenShareStarted',
  version: 1,
  data: { id, participant },
});
const ended = (endedBy = provider, reason = 'ended by the provider'): ConsultationEvent => ({
  type: 'ConsultationEnded',
  version: 1,
  data: { id, endedBy, reason },
});
const noShow = (missing: 'patient' | 'provider' | 'both'): ConsultationEvent => ({
  type: 'ConsultationNoShow',
  version: 1,
  data: { id, missing },
});

/** Provider and patient in the room. */
const live: ConsultationEvent[] = [scheduled(), started(), joined(provider), joined(patient)];

const schedule = (change: Partial<Extract<ConsultationCommand, { type: 'ScheduleConsultation' }>> = {}) =>
  ({
    type: 'ScheduleConsultation',
    id,
    actor: provider,
    provider,
    patient,
    category: ' telehealth ',
    mode: 'video',
    startsAt,
    durationMinutes: 30,
    ...change,
  }) satisfies ConsultationCommand;

// ------------------------------------------------------------------------------------------- tests

describe('consultation: scheduling', () => {
  test('the stream is named after the session', () => {
    assert.equal(consultationStream('abc'), 'session-abc');
  });

  test('a provider schedules a consultation with a patient for a window', () => {
    consultation.given().when(schedule(), now).then([scheduled()]);
  });

  test('an audio-only consultation for a voice check-in', () => {
    consultation
      .given()
      .when(schedule({ mode: 'audio', category: 'telehealth' }), now)
      .then([scheduled('audio')]);
  });

  test('only the provider schedules', () => {
    consultation
      .given()
      .when(schedule({ actor: patient }), now)
      .thenError('not_the_provider', 'forbidden');
    consultation
      .given()
      .when(schedule({ actor: system }), now)
      .thenError('not_the_provider', 'forbidden');
  });

  test('a consultation is never scheduled twice', () => {
    consultation.given([scheduled()]).when(schedule(), now).thenError('already_scheduled', 'conflict');
  });

  test('the duration is 5 to 240 minutes', () => {
    for (const durationMinutes of [4, 241, 0, 30.5, Number.NaN]) {
      consultation.given().when(schedule({ durationMinutes }), now).thenError('invalid_duration', 'invalid');
    }
    for (const durationMinutes of [5, 240]) {
      const state = consultation.given().when(schedule({ durationMinutes }), now).state();
      assert.equal(state?.endsAt, startsAt + durationMinutes * 60);
    }
  });

  test('the start may be at most a minute in the past', () => {
    const state = consultation
      .given()
      .when(schedule({ startsAt: nowSeconds - 60 }), now)
      .state();
    assert.equal(state?.startsAt, nowSeconds - 60);
    consultation
      .given()
      .when(schedule({ startsAt: nowSeconds - 61 }), now)
      .thenError('starts_in_the_past', 'invalid');
    consultation
      .given()
      .when(schedule({ startsAt: startsAt + 0.5 }), now)
      .thenError('invalid_start', 'invalid');
  });

  test('a category and a known mode are required', () => {
    consultation
      .given()
      .when(schedule({ category: '  ' }), now)
      .thenError('invalid_category', 'invalid');
    consultation
      .given()
      .when(schedule({ mode: 'chat' as ConsultationMode }), now)
      .thenError('invalid_mode', 'invalid');
  });

  test('a provider cannot schedule a consultation with themselves', () => {
    consultation
      .given()
      .when(schedule({ patient: provider }), now)
      .thenError('self_consultation', 'invalid');
  });

  test('every other command needs a scheduled consultation of the same id', () => {
    consultation
      .given()
      .when({ type: 'JoinConsultation', id, actor: patient }, during)
      .thenError('not_found', 'not_found');
    consultation
      .given([scheduled()])
      .when({ type: 'JoinConsultation', id: 'c-2', actor: patient }, during)
      .thenError('wrong_stream', 'invalid');
  });
});

describe('consultation: invitations', () => {
  test('the provider invites a specialist', () => {
    consultation
      .given([scheduled()])
      .when(
        { type: 'InviteParticipant', id, actor: provider, participant: specialist, role: 'specialist' },
        now,
      )
      .then([invited()]);
  });

  test('only the provider of the session invites', () => {
    consultation
      .given([scheduled()])
      .when({ type: 'InviteParticipant', id, actor: patient, participant: specialist, role: 'family' }, now)
      .thenError('not_the_provider', 'forbidden');
  });

  test('nobody is invited once the consultation has ended', () => {
    consultation
      .given([...live, ended()])
      .when(
        { type: 'InviteParticipant', id, actor: provider, participant: specialist, role: 'specialist' },
        now,
      )
      .thenError('consultation_ended', 'conflict');
  });

  test('the same participant is not invited twice', () => {
    consultation
      .given([scheduled(), invited()])
      .when(
        { type: 'InviteParticipant', id, actor: provider, participant: specialist, role: 'interpreter' },
        now,
      )
      .thenError('already_invited', 'conflict');
  });

  test('the patient and the provider are not invitees', () => {
    consultation
      .given([scheduled()])
      .when({ type: 'InviteParticipant', id, actor: provider, participant: patient, role: 'family' }, now)
      .thenError('cannot_invite_patient', 'invalid');
    consultation
      .given([scheduled()])
      .when({ type: 'InviteParticipant', id, actor: provider, participant: provider, role: 'provider' }, now)
      .thenError('cannot_invite_provider', 'invalid');
  });

  test('an invitee has one of the known roles', () => {
    consultation
      .given([scheduled()])
      .when(
        {
          type: 'InviteParticipant',
          id,
          actor: provider,
          participant: specialist,
          role: 'observer' as ConsultationInviteeRole,
        },
        now,
      )
      .thenError('invalid_role', 'invalid');
  });
});

describe('consultation: admission', () => {
  test('the patient admits an invitee', () => {
    consultation
      .given([scheduled(), invited()])
      .when({ type: 'AdmitParticipant', id, actor: patient, participant: specialist }, now)
      .then([admitted()]);
  });

  test('only the patient admits', () => {
    consultation
      .given([scheduled(), invited()])
      .when({ type: 'AdmitParticipant', id, actor: provider, participant: specialist }, now)
      .thenError('not_the_patient', 'forbidden');
  });

  test('only an invitee can be admitted', () => {
    consultation
      .given([scheduled()])
      .when({ type: 'AdmitParticipant', id, actor: patient, participant: stranger }, now)
      .thenError('not_invited', 'not_found');
    consultation
      .given([scheduled()])
      .when({ type: 'AdmitParticipant', id, actor: patient, participant: provider }, now)
      .thenError('not_invited', 'not_found');
  });

  test('admitting twice records nothing', () => {
    consultation
      .given([scheduled(), invited(), admitted()])
      .when({ type: 'AdmitParticipant', id, actor: patient, participant: specialist }, now)
      .then([]);
  });

  test('nobody is admitted once the consultation has ended', () => {
    consultation
      .given([scheduled(), invited(), ended()])
      .when({ type: 'AdmitParticipant', id, actor: patient, participant: specialist }, now)
      .thenError('consultation_ended', 'conflict');
  });
});

describe('consultation: starting and joining', () => {
  test("the provider's first join starts the consultation", () => {
    consultation
      .given([scheduled()])
      .when({ type: 'JoinConsultation', id, actor: provider }, during)
      .then([started(), joined(provider)]);
  });

  test('the provider may start explicitly, and starting again records nothing', () => {
    consultation
      .given([scheduled()])
      .when({ type: 'StartConsultation', id, actor: provider }, at(-60))
      .then([started()]);
    consultation
      .given([scheduled(), started()])
      .when({ type: 'StartConsultation', id, actor: provider }, during)
      .then([]);
  });

  test('only the provider starts, and within the window', () => {
    consultation
      .given([scheduled()])
      .when({ type: 'StartConsultation', id, actor: patient }, during)
      .thenError('not_the_provider', 'forbidden');
    consultation
      .given([scheduled()])
      .when({ type: 'StartConsultation', id, actor: provider }, at(-JOIN_EARLY_MINUTES * 60 - 1))
      .thenError('too_early', 'conflict');
    consultation
      .given([scheduled()])
      .when({ type: 'StartConsultation', id, actor: provider }, at(30 * 60))
      .thenError('consultation_ended', 'conflict');
    consultation
      .given([scheduled(), ended()])
      .when({ type: 'StartConsultation', id, actor: provider }, during)
      .thenError('consultation_ended', 'conflict');
  });

  test('the patient may wait in the room before the provider: that does not start it', () => {
    const state = consultation
      .given([scheduled()])
      .when({ type: 'JoinConsultation', id, actor: patient }, at(-5 * 60))
      .state();
    assert.equal(state?.status, 'scheduled');
    assert.equal(state?.participants[patient]?.joined, true);
    consultation
      .given([scheduled(), joined(patient)])
      .when({ type: 'JoinConsultation', id, actor: provider }, during)
      .then([started(), joined(provider)]);
  });

  test('the provider rejoining a live consultation only joins', () => {
    consultation
      .given([...live, left(provider)])
      .when({ type: 'JoinConsultation', id, actor: provider }, during)
      .then([joined(provider)]);
  });

  test('an admitted invitee joins; one not yet admitted is refused', () => {
    consultation
      .given([...live, invited(), admitted()])
      .when({ type: 'JoinConsultation', id, actor: specialist }, during)
      .then([joined(specialist)]);
    consultation
      .given([...live, invited()])
      .when({ type: 'JoinConsultation', id, actor: specialist }, during)
      .thenError('not_admitted', 'forbidden');
  });

  test('a stranger is refused', () => {
    consultation
      .given(live)
      .when({ type: 'JoinConsultation', id, actor: stranger }, during)
      .thenError('not_participant', 'forbidden');
  });

  test(`the room opens ${JOIN_EARLY_MINUTES} minutes before the start and closes at the end`, () => {
    consultation
      .given([scheduled()])
      .when({ type: 'JoinConsultation', id, actor: patient }, at(-JOIN_EARLY_MINUTES * 60 - 1))
      .thenError('too_early', 'conflict');
    consultation
      .given([scheduled()])
      .when({ type: 'JoinConsultation', id, actor: patient }, at(-JOIN_EARLY_MINUTES * 60))
      .then([joined(patient)]);
    consultation
      .given([scheduled()])
      .when({ type: 'JoinConsultation', id, actor: patient }, new Date(endsAt * 1000 - 1000))
      .then([joined(patient)]);
    consultation
      .given([scheduled()])
      .when({ type: 'JoinConsultation', id, actor: patient }, new Date(endsAt * 1000))
      .thenError('consultation_ended', 'conflict');
  });

  test('nobody joins an ended consultation', () => {
    consultation
      .given([...live, ended()])
      .when({ type: 'JoinConsultation', id, actor: patient }, during)
      .thenError('consultation_ended', 'conflict');
    consultation
      .given([scheduled(), noShow('both')])
      .when({ type: 'JoinConsultation', id, actor: patient }, during)
      .thenError('consultation_ended', 'conflict');
  });

  test('joining again while in the room records nothing', () => {
    consultation.given(live).when({ type: 'JoinConsultation', id, actor: patient }, during).then([]);
  });

  test('mayJoin gives the UI a reason it can show', () => {
    const state = fold(consultationDecider, [scheduled(), invited()]);
    assert.deepEqual(mayJoin(state, patient, during), { ok: true });
    assert.deepEqual(mayJoin(state, stranger, during), {
      ok: false,
      code: 'not_participant',
      reason: 'you are not a participant of this consultation',
    });
    assert.deepEqual(mayJoin(state, patient, at(-JOIN_EARLY_MINUTES * 60 - 1)), {
      ok: false,
      code: 'too_early',
      reason: 'too early: the room opens 15 minutes before the start',
    });
    assert.deepEqual(mayJoin(state, patient, new Date(endsAt * 1000)), {
      ok: false,
      code: 'consultation_ended',
      reason: 'the consultation has ended',
    });
    assert.equal(mayJoin(state, specialist, during).ok, false);
    assert.equal(mayJoin(null, patient, during).ok, false);
    assert.deepEqual(mayJoin(fold(consultationDecider, [scheduled(), ended()]), patient, during), {
      ok: false,
      code: 'consultation_ended',
      reason: 'the consultation has ended',
    });
  });
});

describe('consultation: leaving', () => {
  test('a participant in the room leaves', () => {
    consultation
      .given(live)
      .when({ type: 'LeaveConsultation', id, actor: patient }, during)
      .then([left(patient)]);
  });

  test('leaving when not in the room records nothing', () => {
    consultation
      .given([scheduled()])
      .when({ type: 'LeaveConsultation', id, actor: patient }, during)
      .then([]);
    consultation
      .given([...live, ended()])
      .when({ type: 'LeaveConsultation', id, actor: provider }, during)
      .then([]);
  });

  test('a stranger has nothing to leave', () => {
    consultation
      .given(live)
      .when({ type: 'LeaveConsultation', id, actor: stranger }, during)
      .thenError('not_participant', 'forbidden');
  });

  test('the system records a dropped connection; nobody else leaves for someone', () => {
    consultation
      .given(live)
      .when({ type: 'LeaveConsultation', id, actor: system, participant: patient }, during)
      .then([left(patient)]);
    consultation
      .given(live)
      .when({ type: 'LeaveConsultation', id, actor: provider, participant: patient }, during)
      .thenError('not_system', 'forbidden');
  });

  test('leaving stops a screen share', () => {
    const state = fold(consultationDecider, [...live, sharing(patient), left(patient)]);
    assert.deepEqual(state?.screenSharing, []);
    assert.equal(state?.participants[patient]?.joined, false);
    assert.deepEqual(state?.everJoined, [provider, patient]);
  });
});

describe('consultation: recording consent', () => {
  test('the patient consents to recording; again records nothing', () => {
    consultation
      .given(live)
      .when({ type: 'GiveRecordingConsent', id, actor: patient }, during)
      .then([consentGiven]);
    consultation
      .given([...live, consentGiven])
      .when({ type: 'GiveRecordingConsent', id, actor: patient }, during)
      .then([]);
  });

  test('the patient may consent before the start, but not once it has ended', () => {
    consultation
      .given([scheduled()])
      .when({ type: 'GiveRecordingConsent', id, actor: patient }, now)
      .then([consentGiven]);
    consultation
      .given([...live, ended()])
      .when({ type: 'GiveRecordingConsent', id, actor: patient }, during)
      .thenError('consultation_ended', 'conflict');
  });

  test('only the patient gives or withdraws recording consent', () => {
    consultation
      .given(live)
      .when({ type: 'GiveRecordingConsent', id, actor: provider }, during)
      .thenError('not_the_patient', 'forbidden');
    consultation
      .given([...live, consentGiven])
      .when({ type: 'WithdrawRecordingConsent', id, actor: provider }, during)
      .thenError('not_the_patient', 'forbidden');
  });

  test('the patient withdraws consent; withdrawing without consent records nothing', () => {
    consultation
      .given([...live, consentGiven])
      .when({ type: 'WithdrawRecordingConsent', id, actor: patient }, during)
      .then([consentWithdrawn]);
    consultation.given(live).when({ type: 'WithdrawRecordingConsent', id, actor: patient }, during).then([]);
  });

  test('recording is allowed only during the call and only with consent', () => {
    assert.equal(mayRecord(null), false);
    assert.equal(mayRecord(fold(consultationDecider, live)), false);
    assert.equal(mayRecord(fold(consultationDecider, [scheduled(), consentGiven])), false);
    assert.equal(mayRecord(fold(consultationDecider, [...live, consentGiven])), true);
    assert.equal(mayRecord(fold(consultationDecider, [...live, consentGiven, consentWithdrawn])), false);
    assert.equal(mayRecord(fold(consultationDecider, [...live, consentGiven, ended()])), false);
  });
});

describe('consultation: screen sharing', () => {
  test('someone in the room shares a screen; again records nothing', () => {
    consultation
      .given(live)
      .when({ type: 'StartScreenShare', id, actor: provider }, during)
      .then([sharing(provider)]);
    consultation
      .given([...live, sharing(provider)])
      .when({ type: 'StartScreenShare', id, actor: provider }, during)
      .then([]);
  });

  test('only someone in the room shares', () => {
    consultation
      .given([scheduled(), started(), joined(provider)])
      .when({ type: 'StartScreenShare', id, actor: patient }, during)
      .thenError('not_joined', 'forbidden');
    consultation
      .given(live)
      .when({ type: 'StartScreenShare', id, actor: stranger }, during)
      .thenError('not_joined', 'forbidden');
  });

  test('no screen sharing in an audio-only consultation', () => {
    consultation
      .given([scheduled('audio'), started(), joined(provider)])
      .when({ type: 'StartScreenShare', id, actor: provider }, during)
      .thenError('audio_only', 'invalid');
    consultation
      .given([scheduled('audio'), started(), joined(provider)])
      .when({ type: 'StopScreenShare', id, actor: provider }, during)
      .thenError('audio_only', 'invalid');
  });

  test('no screen sharing once ended', () => {
    consultation
      .given([...live, ended()])
      .when({ type: 'StartScreenShare', id, actor: provider }, during)
      .thenError('consultation_ended', 'conflict');
  });

  test('the sharer stops; stopping when not sharing records nothing', () => {
    consultation
      .given([...live, sharing(provider)])
      .when({ type: 'StopScreenShare', id, actor: provider }, during)
      .then([{ type: 'ScreenShareStopped', version: 1, data: { id, participant: provider } }]);
    consultation.given(live).when({ type: 'StopScreenShare', id, actor: provider }, during).then([]);
    consultation
      .given([scheduled()])
      .when({ type: 'StopScreenShare', id, actor: provider }, during)
      .thenError('not_joined', 'forbidden');
  });
});

describe('consultation: ending', () => {
  test('the provider ends the consultation, with or without a reason', () => {
    consultation
      .given(live)
      .when({ type: 'EndConsultation', id, actor: provider, reason: ' follow-up booked ' }, during)
      .then([ended(provider, 'follow-up booked')]);
    consultation
      .given(live)
      .when({ type: 'EndConsultation', id, actor: provider }, during)
      .then([ended(provider, 'ended by the provider')]);
  });

  test('only the provider ends it', () => {
    consultation
      .given(live)
      .when({ type: 'EndConsultation', id, actor: patient }, during)
      .thenError('not_the_provider', 'forbidden');
  });

  test('the system ends it once the window has closed, not before', () => {
    consultation
      .given(live)
      .when({ type: 'EndConsultation', id, actor: system }, new Date(endsAt * 1000))
      .then([ended('time', 'the scheduled time is over')]);
    consultation
      .given(live)
      .when({ type: 'EndConsultation', id, actor: system }, new Date(endsAt * 1000 - 1000))
      .thenError('consultation_not_over', 'conflict');
  });

  test('ending an ended consultation records nothing', () => {
    consultation
      .given([...live, ended()])
      .when({ type: 'EndConsultation', id, actor: provider }, during)
      .then([]);
    consultation
      .given([...live, ended()])
      .when({ type: 'EndConsultation', id, actor: system }, new Date(endsAt * 1000))
      .then([]);
  });

  test('a reason is at most 500 characters', () => {
    consultation
      .given(live)
      .when({ type: 'EndConsultation', id, actor: provider, reason: 'x'.repeat(501) }, during)
      .thenError('invalid_reason', 'invalid');
  });

  test('ending empties the room', () => {
    const state = fold(consultationDecider, [...live, sharing(provider), ended()]);
    assert.equal(state?.status, 'ended');
    assert.equal(state?.endedBy, provider);
    assert.deepEqual(state?.screenSharing, []);
    assert.ok(Object.values(state?.participants ?? {}).every((p) => !p.joined));
  });
});

describe('consultation: no-shows', () => {
  const after = new Date(endsAt * 1000);

  test('nobody came', () => {
    consultation
      .given([scheduled()])
      .when({ type: 'RecordNoShow', id, actor: system }, after)
      .then([noShow('both')]);
  });

  test('the patient never came: the provider waiting in the room is ended by time', () => {
    consultation
      .given([scheduled(), started(), joined(provider)])
      .when({ type: 'RecordNoShow', id, actor: system }, after)
      .then([ended('time', 'the scheduled time is over'), noShow('patient')]);
  });

  test('the provider never came', () => {
    const state = consultation
      .given([scheduled(), joined(patient), left(patient)])
      .when({ type: 'RecordNoShow', id, actor: system }, after)
      .state();
    assert.equal(state?.status, 'no_show');
    assert.equal(state?.missing, 'provider');
  });

  test('a no-show after the provider ended an empty call early', () => {
    consultation
      .given([scheduled(), started(), joined(provider), ended()])
      .when({ type: 'RecordNoShow', id, actor: system }, after)
      .then([noShow('patient')]);
  });

  test('not before the window has passed', () => {
    consultation
      .given([scheduled()])
      .when({ type: 'RecordNoShow', id, actor: system }, new Date(endsAt * 1000 - 1000))
      .thenError('consultation_not_over', 'conflict');
  });

  test('not when both joined', () => {
    consultation
      .given([...live, left(patient), left(provider), ended()])
      .when({ type: 'RecordNoShow', id, actor: system }, after)
      .thenError('everyone_joined', 'conflict');
  });

  test('only the system records a no-show, once', () => {
    consultation
      .given([scheduled()])
      .when({ type: 'RecordNoShow', id, actor: provider }, after)
      .thenError('not_system', 'forbidden');
    consultation
      .given([scheduled(), noShow('both')])
      .when({ type: 'RecordNoShow', id, actor: system }, after)
      .then([]);
  });
});

describe('consultation: removal', () => {
  const removed: ConsultationEvent = {
    type: 'ParticipantRemoved',
    version: 1,
    data: { id, participant: provider, reason: 'consent revoked' },
  };

  test('consent revoked mid-call: the system removes the provider at once', () => {
    consultation
      .given([...live, sharing(provider)])
      .when(
        { type: 'RemoveParticipant', id, actor: system, participant: provider, reason: 'consent revoked' },
        during,
      )
      .then([removed]);
    const state = fold(consultationDecider, [...live, sharing(provider), removed]);
    assert.equal(state?.participants[provider]?.joined, false);
    assert.deepEqual(state?.screenSharing, []);
    assert.equal(state?.status, 'live');
  });

  test('only the system removes', () => {
    consultation
      .given(live)
      .when({ type: 'RemoveParticipant', id, actor: patient, participant: provider, reason: 'bye' }, during)
      .thenError('not_system', 'forbidden');
  });

  test('removing someone not in the room records nothing', () => {
    consultation
      .given([scheduled()])
      .when(
        { type: 'RemoveParticipant', id, actor: system, participant: provider, reason: 'consent revoked' },
        now,
      )
      .then([]);
  });

  test('a removal needs a reason and a participant', () => {
    consultation
      .given(live)
      .when({ type: 'RemoveParticipant', id, actor: system, participant: provider, reason: ' ' }, during)
      .thenError('invalid_reason', 'invalid');
    consultation
      .given(live)
      .when({ type: 'RemoveParticipant', id, actor: system, participant: stranger, reason: 'x' }, during)
      .thenError('not_participant', 'not_found');
  });
});

describe('consultation: a whole story', () => {
  test('schedule, invite, admit, join, consent to recording, share a screen, end', () => {
    const history: ConsultationEvent[] = [];
    const run = (command: ConsultationCommand, time: Date) => {
      const state = fold(consultationDecider, history);
      history.push(...consultationDecider.decide(command, state, time));
    };
    run(schedule(), now);
    run({ type: 'InviteParticipant', id, actor: provider, participant: specialist, role: 'specialist' }, now);
    run({ type: 'AdmitParticipant', id, actor: patient, participant: specialist }, now);
    run({ type: 'JoinConsultation', id, actor: patient }, at(-120));
    run({ type: 'JoinConsultation', id, actor: provider }, at(0));
    run({ type: 'JoinConsultation', id, actor: specialist }, at(60));
    run({ type: 'GiveRecordingConsent', id, actor: patient }, at(90));
    run({ type: 'StartScreenShare', id, actor: specialist }, at(120));
    run({ type: 'StopScreenShare', id, actor: specialist }, at(600));
    run({ type: 'LeaveConsultation', id, actor: specialist }, at(660));
    run({ type: 'EndConsultation', id, actor: provider, reason: 'done' }, at(1200));

    assert.deepEqual(
      history.map((e) => e.type),
      [
        'ConsultationScheduled',
        'ParticipantInvited',
        'ParticipantAdmitted',
        'ParticipantJoined',
        'ConsultationStarted',
        'ParticipantJoined',
        'ParticipantJoined',
        'RecordingConsentGiven',
        'ScreenShareStarted',
        'ScreenShareStopped',
        'ParticipantLeft',
        'ConsultationEnded',
      ],
    );

    const midway = fold(consultationDecider, history.slice(0, 9));
    assert.equal(midway?.status, 'live');
    assert.equal(mayRecord(midway), true);
    assert.deepEqual(midway?.screenSharing, [specialist]);

    assert.deepEqual(fold(consultationDecider, history), {
      id,
      provider,
      patient,
      category: 'telehealth',
      mode: 'video',
      startsAt,
      endsAt,
      status: 'ended',
      participants: {
        [provider]: { role: 'provider', admitted: true, joined: false, invitedBy: null },
        [patient]: { role: 'patient', admitted: true, joined: false, invitedBy: null },
        [specialist]: { role: 'specialist', admitted: true, joined: false, invitedBy: provider },
      },
      recordingConsent: true,
      screenSharing: [],
      everJoined: [patient, provider, specialist],
      endedBy: provider,
      endReason: 'done',
      missing: null,
    });
    assert.equal(mayRecord(fold(consultationDecider, history)), false);
  });
});
