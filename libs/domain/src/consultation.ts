import {
  conflict,
  type Decider,
  type DomainError,
  forbidden,
  invalid,
  notFound,
  unixSeconds,
} from './decider';
import type { EventDraft } from './events';

/**
 * Telehealth consultations, one stream per consultation (`session-<id>`). A provider schedules a
 * consultation with a patient for a time window; the provider may invite others (a specialist, an
 * interpreter, family), and an invitee may join only once the patient has admitted them. Recording is
 * never allowed without the patient's consent, which the patient may give and withdraw at any time.
 *
 * The consent to the provider (an active grant on-chain for the category) is not checked here: the API
 * checks the consent projection before it decides, and asks for `RemoveParticipant` when a grant is
 * revoked during a call. Commands carry the `actor`: a lower-case wallet address, or `system` for the
 * API's own timers and gates. Times are unix seconds; `now` is an argument, never read here.
 */

export const consultationStream = (id: string): string => `session-${id}`;

/** The actor of commands the API issues on its own (timers, consent gates). */
export const CONSULTATION_SYSTEM_ACTOR = 'system';

/** The room opens this many minutes before the start. */
export const JOIN_EARLY_MINUTES = 15;
export const CONSULTATION_MIN_MINUTES = 5;
export const CONSULTATION_MAX_MINUTES = 240;
/** How far in the past a consultation may start when it is scheduled (clock skew, a slow form). */
export const SCHEDULE_GRACE_SECONDS = 60;
export const CONSULTATION_REASON_MAX_LENGTH = 500;

export const CONSULTATION_MODES = ['video', 'audio'] as const;
/** `audio` is for nurse and voice check-ins: no camera and no screen sharing. */
export type ConsultationMode = (typeof CONSULTATION_MODES)[number];

export const CONSULTATION_INVITEE_ROLES = ['specialist', 'interpreter', 'family', 'provider'] as const;
export type ConsultationInviteeRole = (typeof CONSULTATION_INVITEE_ROLES)[number];
/** The scheduling provider is `provider`, the patient `patient`; invitees have the role they were invited as. */
export type ConsultationRole = 'patient' | ConsultationInviteeRole;

export type ConsultationStatus = 'scheduled' | 'live' | 'ended' | 'no_show';
/** Who never joined a consultation whose window has passed. */
export type NoShowMissing = 'patient' | 'provider' | 'both';

// ----------------------------------------------------------------------------------------- events

export type ConsultationEvent =
  | EventDraft<
      'ConsultationScheduled',
      {
        id: string;
        provider: string;
        patient: string;
        /** A category name (`general`, `telehealth`, ...), validated by the API. */
        category: string;
        mode: ConsultationMode;
        /** Unix seconds. */
        startsAt: number;
        /** Unix seconds: `startsAt + durationMinutes * 60`. */
        endsAt: number;
      }
    >
  | EventDraft<
      'ParticipantInvited',
      { id: string; participant: string; role: ConsultationInviteeRole; invitedBy: string }
    >
  /** The patient consents to an invitee: from now on the invitee may join. */
  | EventDraft<'ParticipantAdmitted', { id: string; participant: string }>
  /** The provider's first join, or the provider's explicit start. */
  | EventDraft<'ConsultationStarted', { id: string; startedBy: string }>
  | EventDraft<'ParticipantJoined', { id: string; participant: string }>
  | EventDraft<'ParticipantLeft', { id: string; participant: string }>
  | EventDraft<'RecordingConsentGiven', { id: string; patient: string }>
  | EventDraft<'RecordingConsentWithdrawn', { id: string; patient: string }>
  | EventDraft<'ScreenShareStarted', { id: string; participant: string }>
  | EventDraft<'ScreenShareStopped', { id: string; participant: string }>
  /** `endedBy` is the provider's address, or `time` when the window closed. */
  | EventDraft<'ConsultationEnded', { id: string; endedBy: string; reason: string }>
  | EventDraft<'ConsultationNoShow', { id: string; missing: NoShowMissing }>
  /** Put out of the room by the system, e.g. the patient revoked the provider's consent mid-call. */
  | EventDraft<'ParticipantRemoved', { id: string; participant: string; reason: string }>;

export type ConsultationEventType = ConsultationEvent['type'];

// ----------------------------------------------------------------------------------------- commands

export type ConsultationCommand =
  | {
      type: 'ScheduleConsultation';
      id: string;
      actor: string;
      provider: string;
      patient: string;
      category: string;
      mode: ConsultationMode;
      /** Unix seconds. */
      startsAt: number;
      durationMinutes: number;
    }
  | {
      type: 'InviteParticipant';
      id: string;
      actor: string;
      participant: string;
      role: ConsultationInviteeRole;
    }
  | { type: 'AdmitParticipant'; id: string; actor: string; participant: string }
  | { type: 'StartConsultation'; id: string; actor: string }
  | { type: 'JoinConsultation'; id: string; actor: string }
  /** The actor leaves; `system` (a dropped connection) names the `participant` who left. */
  | { type: 'LeaveConsultation'; id: string; actor: string; participant?: string }
  | { type: 'GiveRecordingConsent'; id: string; actor: string }
  | { type: 'WithdrawRecordingConsent'; id: string; actor: string }
  | { type: 'StartScreenShare'; id: string; actor: string }
  | { type: 'StopScreenShare'; id: string; actor: string }
  /** By the provider at any time, or by `system` once the window has closed (`endedBy: 'time'`). */
  | { type: 'EndConsultation'; id: string; actor: string; reason?: string }
  | { type: 'RecordNoShow'; id: string; actor: string }
  | { type: 'RemoveParticipant'; id: string; actor: string; participant: string; reason: string };

// ----------------------------------------------------------------------------------------- state

export interface ConsultationParticipant {
  role: ConsultationRole;
  /** The provider and the patient are admitted from the start; an invitee once the patient admits them. */
  admitted: boolean;
  /** In the room now. */
  joined: boolean;
  /** Who invited them; `null` for the provider and the patient. */
  invitedBy: string | null;
}

export interface Consultation {
  id: string;
  provider: string;
  patient: string;
  category: string;
  mode: ConsultationMode;
  /** Unix seconds. */
  startsAt: number;
  /** Unix seconds. */
  endsAt: number;
  status: ConsultationStatus;
  /** Keyed by address: the provider, the patient and every invitee. */
  participants: Readonly<Record<string, ConsultationParticipant>>;
  recordingConsent: boolean;
  /** Who is sharing a screen now, in the order they started. */
  screenSharing: readonly string[];
  /** Everyone who has ever joined, in the order of their first join. */
  everJoined: readonly string[];
  /** Once ended: the provider's address or `time`, and why. */
  endedBy: string | null;
  endReason: string | null;
  /** Once recorded as a no-show: who never joined. */
  missing: NoShowMissing | null;
}

/** `null` until the consultation is scheduled. */
export type ConsultationState = Consultation | null;

/** Whether the consultation is over: ended, or recorded as a no-show. */
export const isConsultationOver = (state: Consultation): boolean =>
  state.status === 'ended' || state.status === 'no_show';

/** Recording is allowed only during the call and only while the patient consents to it. */
export function mayRecord(state: ConsultationState): boolean {
  return state !== null && state.status === 'live' && state.recordingConsent;
}

export type JoinRefusalCode =
  'not_found' | 'not_participant' | 'not_admitted' | 'consultation_ended' | 'too_early';

export type JoinCheck =
  | { ok: true }
  | {
      ok: false;
      /** The DomainError code `JoinConsultation` is refused with. */
      code: JoinRefusalCode;
      /** A sentence the UI can show as it is. */
      reason: string;
    };

/**
 * Whether `participant` may join at `now`, and if not, why. The same rules `JoinConsultation` applies
 * (an active grant to the provider is the API's check, not this one).
 */
export function mayJoin(state: ConsultationState, participant: string, now: Date): JoinCheck {
  if (state === null) {
    return { ok: false, code: 'not_found', reason: 'this consultation does not exist' };
  }
  const member = state.participants[participant];
  if (!member) {
    return { ok: false, code: 'not_participant', reason: 'you are not a participant of this consultation' };
  }
  if (!member.admitted) {
    return {
      ok: false,
      code: 'not_admitted',
      reason: 'the patient has not admitted you to this consultation yet',
    };
  }
  const nowSeconds = unixSeconds(now);
  if (isConsultationOver(state) || nowSeconds >= state.endsAt) {
    return { ok: false, code: 'consultation_ended', reason: 'the consultation has ended' };
  }
  if (nowSeconds < state.startsAt - JOIN_EARLY_MINUTES * 60) {
    return {
      ok: false,
      code: 'too_early',
      reason: `too early: the room opens ${JOIN_EARLY_MINUTES} minutes before the start`,
    };
  }
  return { ok: true };
}

// ----------------------------------------------------------------------------------------- decider

/** The error kind of each join refusal (the edge's HTTP status). */
const JOIN_REFUSALS: Readonly<Record<JoinRefusalCode, (code: string, message: string) => DomainError>> = {
  not_found: notFound,
  not_participant: forbidden,
  not_admitted: forbidden,
  consultation_ended: conflict,
  too_early: conflict,
};

function requireConsultation(state: ConsultationState, id: string): Consultation {
  if (state === null) throw notFound('not_found', `there is no consultation ${id}`);
  if (state.id !== id) {
    throw invalid('wrong_stream', `this stream holds consultation ${state.id}, not ${id}`);
  }
  return state;
}

function requireNotOver(state: Consultation): void {
  if (isConsultationOver(state)) throw conflict('consultation_ended', 'the consultation has ended');
}

function requireProvider(state: Consultation, actor: string): void {
  if (actor !== state.provider) {
    throw forbidden('not_the_provider', 'only the provider of this consultation may do this');
  }
}

function requirePatient(state: Consultation, actor: string): void {
  if (actor !== state.patient) {
    throw forbidden('not_the_patient', 'only the patient of this consultation may do this');
  }
}

function requireSystem(actor: string): void {
  if (actor !== CONSULTATION_SYSTEM_ACTOR) throw forbidden('not_system', 'only the system may do this');
}

function checkReason(reason: string | undefined, fallback: string): string {
  const text = (reason ?? '').trim() || fallback;
  if (text.length === 0 || text.length > CONSULTATION_REASON_MAX_LENGTH) {
    throw invalid('invalid_reason', `a reason must be 1 to ${CONSULTATION_REASON_MAX_LENGTH} characters`);
  }
  return text;
}

function noShowMissing(state: Consultation): NoShowMissing | null {
  const patient = !state.everJoined.includes(state.patient);
  const provider = !state.everJoined.includes(state.provider);
  if (patient && provider) return 'both';
  if (patient) return 'patient';
  if (provider) return 'provider';
  return null;
}

const TIME_IS_OVER = 'the scheduled time is over';

function decide(command: ConsultationCommand, state: ConsultationState, now: Date): ConsultationEvent[] {
  const nowSeconds = unixSeconds(now);
  const id = command.id;

  if (command.type === 'ScheduleConsultation') {
    if (state !== null) throw conflict('already_scheduled', `consultation ${state.id} is already scheduled`);
    if (command.actor !== command.provider) {
      throw forbidden('not_the_provider', 'a consultation is scheduled by its provider');
    }
    if (id.trim().length === 0) throw invalid('invalid_id', 'a consultation needs an id');
    if (command.provider.length === 0 || command.patient.length === 0) {
      throw invalid('invalid_participant', 'a consultation needs a provider and a patient');
    }
    if (command.provider === command.patient) {
      throw invalid('self_consultation', 'a provider cannot schedule a consultation with themselves');
    }
    const category = command.category.trim();
    if (category.length === 0) throw invalid('invalid_category', 'a consultation needs a category');
    if (!CONSULTATION_MODES.includes(command.mode)) {
      throw invalid('invalid_mode', `mode must be one of ${CONSULTATION_MODES.join(', ')}`);
    }
    const { durationMinutes, startsAt } = command;
    if (
      !Number.isSafeInteger(durationMinutes) ||
      durationMinutes < CONSULTATION_MIN_MINUTES ||
      durationMinutes > CONSULTATION_MAX_MINUTES
    ) {
      throw invalid(
        'invalid_duration',
        `durationMinutes must be ${CONSULTATION_MIN_MINUTES} to ${CONSULTATION_MAX_MINUTES}`,
      );
    }
    if (!Number.isSafeInteger(startsAt) || startsAt < 0) {
      throw invalid('invalid_start', 'startsAt must be unix seconds');
    }
    if (startsAt < nowSeconds - SCHEDULE_GRACE_SECONDS) {
      throw invalid('starts_in_the_past', `startsAt ${startsAt} is in the past (now is ${nowSeconds})`);
    }
    return [
      {
        type: 'ConsultationScheduled',
        version: 1,
        data: {
          id,
          provider: command.provider,
          patient: command.patient,
          category,
          mode: command.mode,
          startsAt,
          endsAt: startsAt + durationMinutes * 60,
        },
      },
    ];
  }

  const consultation = requireConsultation(state, id);

  switch (command.type) {
    case 'InviteParticipant': {
      requireProvider(consultation, command.actor);
      requireNotOver(consultation);
      const { participant, role } = command;
      if (participant.length === 0) throw invalid('invalid_participant', 'name the participant to invite');
      if (!CONSULTATION_INVITEE_ROLES.includes(role)) {
        throw invalid('invalid_role', `role must be one of ${CONSULTATION_INVITEE_ROLES.join(', ')}`);
      }
      if (participant === consultation.patient) {
        throw invalid('cannot_invite_patient', 'the patient is already part of the consultation');
      }
      if (participant === consultation.provider) {
        throw invalid('cannot_invite_provider', 'the provider is already part of the consultation');
      }
      if (consultation.participants[participant]) {
        throw conflict('already_invited', `${participant} is already invited`);
      }
      return [
        {
          type: 'ParticipantInvited',
          version: 1,
          data: { id, participant, role, invitedBy: command.actor },
        },
      ];
    }

    case 'AdmitParticipant': {
      requirePatient(consultation, command.actor);
      requireNotOver(consultation);
      const member = consultation.participants[command.participant];
      if (!member || member.invitedBy === null) {
        throw notFound('not_invited', `${command.participant} is not invited to this consultation`);
      }
      if (member.admitted) return [];
      return [{ type: 'ParticipantAdmitted', version: 1, data: { id, participant: command.participant } }];
    }

    case 'StartConsultation': {
      requireProvider(consultation, command.actor);
      requireNotOver(consultation);
      if (consultation.status === 'live') return [];
      const check = mayJoin(consultation, command.actor, now);
      if (!check.ok) throw JOIN_REFUSALS[check.code](check.code, check.reason);
      return [{ type: 'ConsultationStarted', version: 1, data: { id, startedBy: command.actor } }];
    }

    case 'JoinConsultation': {
      const participant = command.actor;
      const check = mayJoin(consultation, participant, now);
      if (!check.ok) throw JOIN_REFUSALS[check.code](check.code, check.reason);
      if (consultation.participants[participant]?.joined) return [];
      const joined: ConsultationEvent = { type: 'ParticipantJoined', version: 1, data: { id, participant } };
      if (participant === consultation.provider && consultation.status === 'scheduled') {
        return [{ type: 'ConsultationStarted', version: 1, data: { id, startedBy: participant } }, joined];
      }
      return [joined];
    }

    case 'LeaveConsultation': {
      const participant = command.participant ?? command.actor;
      if (participant !== command.actor) requireSystem(command.actor);
      const member = consultation.participants[participant];
      if (!member) {
        throw forbidden('not_participant', 'you are not a participant of this consultation');
      }
      if (!member.joined) return [];
      return [{ type: 'ParticipantLeft', version: 1, data: { id, participant } }];
    }

    case 'GiveRecordingConsent': {
      requirePatient(consultation, command.actor);
      requireNotOver(consultation);
      if (consultation.recordingConsent) return [];
      return [{ type: 'RecordingConsentGiven', version: 1, data: { id, patient: command.actor } }];
    }

    case 'WithdrawRecordingConsent': {
      // Always allowed, even once the consultation is over: consent can always be withdrawn.
      requirePatient(consultation, command.actor);
      if (!consultation.recordingConsent) return [];
      return [{ type: 'RecordingConsentWithdrawn', version: 1, data: { id, patient: command.actor } }];
    }

    case 'StartScreenShare': {
      requireNotOver(consultation);
      if (consultation.mode !== 'video') {
        throw invalid('audio_only', 'screens cannot be shared in an audio-only consultation');
      }
      if (!consultation.participants[command.actor]?.joined) {
        throw forbidden('not_joined', 'only someone in the room can share a screen');
      }
      if (consultation.screenSharing.includes(command.actor)) return [];
      return [{ type: 'ScreenShareStarted', version: 1, data: { id, participant: command.actor } }];
    }

    case 'StopScreenShare': {
      if (consultation.mode !== 'video') {
        throw invalid('audio_only', 'screens cannot be shared in an audio-only consultation');
      }
      if (!consultation.participants[command.actor]?.joined) {
        throw forbidden('not_joined', 'only someone in the room can stop sharing a screen');
      }
      if (!consultation.screenSharing.includes(command.actor)) return [];
      return [{ type: 'ScreenShareStopped', version: 1, data: { id, participant: command.actor } }];
    }

    case 'EndConsultation': {
      if (command.actor === CONSULTATION_SYSTEM_ACTOR) {
        if (isConsultationOver(consultation)) return [];
        if (nowSeconds < consultation.endsAt) {
          throw conflict('consultation_not_over', 'the scheduled time is not over yet');
        }
        const reason = checkReason(command.reason, TIME_IS_OVER);
        return [{ type: 'ConsultationEnded', version: 1, data: { id, endedBy: 'time', reason } }];
      }
      requireProvider(consultation, command.actor);
      if (isConsultationOver(consultation)) return [];
      const reason = checkReason(command.reason, 'ended by the provider');
      return [{ type: 'ConsultationEnded', version: 1, data: { id, endedBy: command.actor, reason } }];
    }

    case 'RecordNoShow': {
      requireSystem(command.actor);
      if (consultation.status === 'no_show') return [];
      if (nowSeconds < consultation.endsAt) {
        throw conflict('consultation_not_over', 'a no-show is recorded only once the scheduled time is over');
      }
      const missing = noShowMissing(consultation);
      if (missing === null) {
        throw conflict('everyone_joined', 'both the provider and the patient joined this consultation');
      }
      const noShow: ConsultationEvent = { type: 'ConsultationNoShow', version: 1, data: { id, missing } };
      if (consultation.status === 'live') {
        return [
          { type: 'ConsultationEnded', version: 1, data: { id, endedBy: 'time', reason: TIME_IS_OVER } },
          noShow,
        ];
      }
      return [noShow];
    }

    case 'RemoveParticipant': {
      requireSystem(command.actor);
      const reason = checkReason(command.reason, '');
      const member = consultation.participants[command.participant];
      if (!member) {
        throw notFound('not_participant', `${command.participant} is not a participant of this consultation`);
      }
      if (!member.joined) return [];
      return [
        {
          type: 'ParticipantRemoved',
          version: 1,
          data: { id, participant: command.participant, reason },
        },
      ];
    }
  }
}

function withParticipant(
  state: Consultation,
  participant: string,
  change: Partial<ConsultationParticipant>,
): Consultation {
  const member = state.participants[participant];
  if (!member) return state;
  return { ...state, participants: { ...state.participants, [participant]: { ...member, ...change } } };
}

/** Out of the room: not joined, not sharing a screen. */
function withoutParticipant(state: Consultation, participant: string): Consultation {
  const left = withParticipant(state, participant, { joined: false });
  return { ...left, screenSharing: left.screenSharing.filter((p) => p !== participant) };
}

/** Everyone out of the room: the consultation is over. */
function closed(state: Consultation): Consultation {
  const participants = Object.fromEntries(
    Object.entries(state.participants).map(([address, member]) => [address, { ...member, joined: false }]),
  );
  return { ...state, participants, screenSharing: [] };
}

function evolve(state: ConsultationState, event: ConsultationEvent): ConsultationState {
  if (event.type === 'ConsultationScheduled') {
    const { id, provider, patient, category, mode, startsAt, endsAt } = event.data;
    return {
      id,
      provider,
      patient,
      category,
      mode,
      startsAt,
      endsAt,
      status: 'scheduled',
      participants: {
        [provider]: { role: 'provider', admitted: true, joined: false, invitedBy: null },
        [patient]: { role: 'patient', admitted: true, joined: false, invitedBy: null },
      },
      recordingConsent: false,
      screenSharing: [],
      everJoined: [],
      endedBy: null,
      endReason: null,
      missing: null,
    };
  }
  if (state === null) return state;

  switch (event.type) {
    case 'ParticipantInvited': {
      const { participant, role, invitedBy } = event.data;
      return {
        ...state,
        participants: {
          ...state.participants,
          [participant]: { role, admitted: false, joined: false, invitedBy },
        },
      };
    }
    case 'ParticipantAdmitted':
      return withParticipant(state, event.data.participant, { admitted: true });
    case 'ConsultationStarted':
      return { ...state, status: 'live' };
    case 'ParticipantJoined': {
      const { participant } = event.data;
      const joined = withParticipant(state, participant, { joined: true });
      return joined.everJoined.includes(participant)
        ? joined
        : { ...joined, everJoined: [...joined.everJoined, participant] };
    }
    case 'ParticipantLeft':
    case 'ParticipantRemoved':
      return withoutParticipant(state, event.data.participant);
    case 'RecordingConsentGiven':
      return { ...state, recordingConsent: true };
    case 'RecordingConsentWithdrawn':
      return { ...state, recordingConsent: false };
    case 'ScreenShareStarted':
      return state.screenSharing.includes(event.data.participant)
        ? state
        : { ...state, screenSharing: [...state.screenSharing, event.data.participant] };
    case 'ScreenShareStopped':
      return { ...state, screenSharing: state.screenSharing.filter((p) => p !== event.data.participant) };
    case 'ConsultationEnded':
      return { ...closed(state), status: 'ended', endedBy: event.data.endedBy, endReason: event.data.reason };
    case 'ConsultationNoShow':
      return { ...closed(state), status: 'no_show', missing: event.data.missing };
  }
}

export const consultationDecider: Decider<ConsultationCommand, ConsultationState, ConsultationEvent> = {
  initialState: null,
  decide,
  evolve,
};
