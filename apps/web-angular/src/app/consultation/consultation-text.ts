import { sameAddress, shortAddress } from '../core/address';
import { ApiError } from '../core/api-error';
import { categoryLabel } from '../shared/category-label';
import { formatDateTime } from '../shared/time-left';
import type { CallOutcome } from './call-engine';
import { type ConsultationStatus, JOIN_EARLY_MINUTES } from './consultation-api';
import { REMOVAL_REASONS } from './signalling-protocol';

/** Why someone is not (or no longer) in the call: a heading and a sentence, shown as they are. */
export interface Refusal {
  readonly heading: string;
  readonly message: string;
  /** Whether "Try again" may help. */
  readonly rejoinable: boolean;
}

const STATUS: Readonly<Record<ConsultationStatus, string>> = {
  scheduled: 'Scheduled',
  live: 'In progress',
  ended: 'Ended',
  no_show: 'Missed',
};

export function statusLabel(status: string): string {
  return (STATUS as Readonly<Record<string, string>>)[status] ?? status;
}

const ROLES: Readonly<Record<string, string>> = {
  patient: 'Patient',
  provider: 'Provider',
  specialist: 'Specialist',
  interpreter: 'Interpreter',
  family: 'Family member',
};

export function roleLabel(role: string): string {
  return ROLES[role] ?? (role ? role.charAt(0).toUpperCase() + role.slice(1) : 'Participant');
}

export function modeLabel(mode: string): string {
  return mode === 'audio' ? 'Audio only' : 'Video';
}

/** Does the consent the patient withdrew explain this? (The API's removal reasons, and `no_consent`.) */
const CONSENT_WITHDRAWN = 'The patient has withdrawn consent for this consultation';

/**
 * Why `POST /sessions/:id/credentials` refused: the API answers 403 `{ code, message }` (`no_consent`,
 * `not_admitted`, `too_early`, `consultation_ended`) or 404 for someone else's consultation.
 */
export function credentialsRefusal(error: unknown, startsAt?: string): Refusal {
  const e = error instanceof ApiError ? error : new ApiError(0, undefined, 'Something went wrong.');
  switch (e.code) {
    case 'no_consent':
      return {
        heading: 'You cannot join this consultation',
        message: `${CONSENT_WITHDRAWN}, or it has expired, so you can no longer join it. Ask the patient to grant you access again.`,
        rejoinable: false,
      };
    case 'not_admitted':
      return {
        heading: 'Waiting for the patient',
        message: 'The patient has not admitted you to this consultation yet. You can join once they do.',
        rejoinable: true,
      };
    case 'too_early': {
      const opens = startsAt
        ? ` at ${formatDateTime(new Date(Date.parse(startsAt) - JOIN_EARLY_MINUTES * 60_000).toISOString())}`
        : '';
      return {
        heading: 'It is too early to join',
        message: `The room opens ${JOIN_EARLY_MINUTES} minutes before the start${opens}.`,
        rejoinable: true,
      };
    }
    case 'consultation_ended':
      return {
        heading: 'This consultation has ended',
        message: 'It can no longer be joined.',
        rejoinable: false,
      };
    case 'session_not_found':
      return {
        heading: 'Consultation not found',
        message: 'This consultation does not exist, or you do not take part in it.',
        rejoinable: false,
      };
  }
  if (e.status === 404) {
    return {
      heading: 'Consultation not found',
      message: 'This consultation does not exist, or you do not take part in it.',
      rejoinable: false,
    };
  }
  return {
    heading: e.status === 403 ? 'You cannot join this consultation' : 'The call could not be opened',
    message: e.message,
    rejoinable: e.status === 0 || e.status >= 500 || e.status === 429,
  };
}

/** A removal reason from the server, in words for the person who was removed. */
function removalSentence(reason: string | undefined): string {
  if (reason === REMOVAL_REASONS.revoked) return `${CONSENT_WITHDRAWN}, so the call has ended for you.`;
  if (reason === REMOVAL_REASONS.inactive) {
    return "The patient's consent for this consultation is no longer active (it was withdrawn or it expired), so the call has ended for you.";
  }
  return reason ? `You were removed from the call: ${reason}.` : 'You were removed from the call.';
}

/** Why a call that was open stopped (`null` for hanging up oneself: nothing to explain). */
export function outcomeRefusal(outcome: CallOutcome, endedByMe = false): Refusal | null {
  switch (outcome.kind) {
    case 'left':
      return null;
    case 'ended':
      return {
        heading: 'The consultation has ended',
        message: endedByMe
          ? 'You ended the consultation. Everyone has been disconnected.'
          : outcome.reason === 'the scheduled time is over'
            ? 'The scheduled time is over.'
            : outcome.reason === 'ended by the provider'
              ? 'The provider ended the consultation.'
              : outcome.reason
                ? `It ended: ${outcome.reason}.`
                : 'It can no longer be joined.',
        rejoinable: false,
      };
    case 'removed':
      return {
        heading: 'You are no longer in the call',
        message: removalSentence(outcome.reason),
        rejoinable: false,
      };
    case 'replaced':
      return {
        heading: 'You joined from somewhere else',
        message:
          'You joined this consultation from another window or device, so this window was disconnected.',
        rejoinable: true,
      };
    case 'refused':
      return {
        heading: 'You cannot join this consultation',
        message: outcome.reason ? `The join was refused: ${outcome.reason}.` : 'The join was refused.',
        rejoinable: false,
      };
    case 'shutting-down':
      return {
        heading: 'Custos is restarting',
        message: 'The call service is restarting. Join again in a moment.',
        rejoinable: true,
      };
    case 'lost':
      return {
        heading: 'The connection was lost',
        message: 'The connection to the call dropped. Check your network and join again.',
        rejoinable: true,
      };
    case 'unreachable':
      return {
        heading: 'The call could not be reached',
        message: 'Custos could not open the connection to the call. Check your network and try again.',
        rejoinable: true,
      };
    case 'unavailable':
      return {
        heading: 'This call cannot run here',
        message: outcome.reason
          ? `${outcome.reason.charAt(0).toUpperCase()}${outcome.reason.slice(1)}.`
          : 'This browser cannot run the call.',
        rejoinable: false,
      };
  }
}

/** Someone else was put out of the call: what the others are told. */
export function othersRemovalSentence(person: string, reason: string, iAmPatient: boolean): string {
  const name = capitalize(person);
  if (reason === REMOVAL_REASONS.revoked) {
    return iAmPatient
      ? `${name} has left the call: you withdrew your consent for this consultation.`
      : `${name} has left the call: the patient withdrew consent for this consultation.`;
  }
  if (reason === REMOVAL_REASONS.inactive) {
    return `${name} has left the call: the patient's consent for this consultation is no longer active.`;
  }
  return reason ? `${name} was removed from the call: ${reason}.` : `${name} was removed from the call.`;
}

/** The first letter in capitals, for a name that starts a sentence. */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** What a consultation is about, after its kind: `about lab results`, or nothing for plain telehealth. */
export function consultationTopic(category: string): string {
  return category === 'telehealth' ? '' : `about ${categoryLabel(category)}`;
}

/** Who the consultation is with, from `me`'s side: the provider (by name when known) for the patient, else the patient. */
export function counterpartName(
  session: { readonly provider: string; readonly patient: string },
  me: string | null,
  displayName: (address: string) => string,
): string {
  if (!sameAddress(me, session.patient)) return `patient ${shortAddress(session.patient)}`;
  const name = displayName(session.provider);
  return name === shortAddress(session.provider) ? `provider ${name}` : name;
}

/**
 * A participant as others name them, in the middle of a sentence: "the patient", the provider's name
 * from the directory, or role and address ("specialist 0x3c44…93bc"). `capitalize` it to start one.
 */
export function participantName(
  address: string,
  session: { readonly provider: string; readonly patient: string } | null,
  role: string,
  displayName: (address: string) => string,
): string {
  if (session && sameAddress(address, session.patient)) return 'the patient';
  const name = displayName(address);
  if (name !== shortAddress(address)) return name;
  return `${roleLabel(role || 'participant').toLowerCase()} ${shortAddress(address)}`;
}
