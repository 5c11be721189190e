import {
  type Consultation,
  type ConsultationEvent,
  type ConsultationEventType,
  type ConsultationRole,
  consultationDecider,
  consultationStream,
  type RecordedEvent,
} from '@custos/domain';
import type { Projection } from '../projections/projection';
import type { ReadModelWriter } from '../read-models/read-model.port';

// No import from ../projections/read-models here: it imports this file for its PROJECTIONS list.

/**
 * One document per consultation: `consultations`. The consultation's state exactly as the decider
 * folds it (the projection runs the domain's own `evolve`), so the gates read what the commands decide
 * on, plus what the queries and the closing job filter by.
 */
export interface ConsultationDocument extends Consultation {
  /**
   * True until the consultation's outcome is settled: it is still scheduled or live, or it ended while
   * the patient or the provider never joined (a no-show is still to be recorded). The closing job picks
   * these once `endsAt` has passed.
   */
  pendingOutcome: boolean;
  updatedAt: string;
  [key: string]: unknown;
}

/**
 * One document per (consultation, participant): `consultation_members`, id `<session>|<address>`. What
 * `GET /sessions` pages through: the sessions someone takes part in, without a query on a nested map.
 */
export interface ConsultationMemberDocument {
  id: string;
  session: string;
  participant: string;
  role: ConsultationRole;
  /** The provider and the patient from the start; an invitee once the patient admits them. */
  admitted: boolean;
  /** Unix seconds, copied from the consultation for sorting. */
  startsAt: number;
  updatedAt: string;
  [key: string]: unknown;
}

export const memberId = (session: string, participant: string) => `${session}|${participant}`;

// Every consultation event type, checked against the domain's union in both directions.
const EVENT_TYPES: Record<ConsultationEventType, true> = {
  ConsultationScheduled: true,
  ParticipantInvited: true,
  ParticipantAdmitted: true,
  ConsultationStarted: true,
  ParticipantJoined: true,
  ParticipantLeft: true,
  RecordingConsentGiven: true,
  RecordingConsentWithdrawn: true,
  ScreenShareStarted: true,
  ScreenShareStopped: true,
  ConsultationEnded: true,
  ConsultationNoShow: true,
  ParticipantRemoved: true,
};

function pendingOutcome(state: Consultation): boolean {
  if (state.status === 'scheduled' || state.status === 'live') return true;
  if (state.status === 'no_show') return false;
  return !state.everJoined.includes(state.patient) || !state.everJoined.includes(state.provider);
}

async function upsertMember(
  w: ReadModelWriter,
  state: Consultation,
  participant: string,
  occurredAt: string,
): Promise<void> {
  const member = state.participants[participant];
  if (!member) return;
  await w.upsert('consultation_members', {
    id: memberId(state.id, participant),
    session: state.id,
    participant,
    role: member.role,
    admitted: member.admitted,
    startsAt: state.startsAt,
    updatedAt: occurredAt,
  } satisfies ConsultationMemberDocument);
}

export const consultationsProjection: Projection = {
  name: 'consultations',
  collections: [
    {
      name: 'consultations',
      indexes: ['provider', 'patient', 'status', 'endsAt', 'pendingOutcome'],
      compoundIndexes: [['pendingOutcome', 'endsAt']],
    },
    {
      name: 'consultation_members',
      indexes: ['participant', 'session', 'admitted', 'startsAt'],
      compoundIndexes: [['participant', 'admitted', 'startsAt']],
    },
  ],
  eventTypes: new Set(Object.keys(EVENT_TYPES)),
  apply: async (event: RecordedEvent, w: ReadModelWriter) => {
    const { id } = event.data as { id?: unknown };
    // Messaging has a `ParticipantRemoved` too: only events of a consultation's own stream count.
    if (typeof id !== 'string' || event.stream !== consultationStream(id)) return;
    const current = await w.get<ConsultationDocument>('consultations', id);
    const state = consultationDecider.evolve(
      current ? stateOf(current) : consultationDecider.initialState,
      event as unknown as ConsultationEvent,
    );
    if (state === null) return;
    const occurredAt = event.metadata.occurredAt;
    await w.upsert('consultations', {
      ...state,
      pendingOutcome: pendingOutcome(state),
      updatedAt: occurredAt,
    } satisfies ConsultationDocument);
    if (event.type === 'ConsultationScheduled') {
      await upsertMember(w, state, state.provider, occurredAt);
      await upsertMember(w, state, state.patient, occurredAt);
    } else if (event.type === 'ParticipantInvited' || event.type === 'ParticipantAdmitted') {
      await upsertMember(w, state, (event.data as { participant: string }).participant, occurredAt);
    }
  },
};

/** The decider's state held in a document (without the document's own fields). */
export function stateOf(document: ConsultationDocument): Consultation {
  const { pendingOutcome: _pending, updatedAt: _updated, ...state } = document;
  return state as Consultation;
}
