import type {
  AccessAuditedData,
  ChainFactEvent,
  ConsentEvent,
  ConversationEvent,
  DirectoryEvent,
  EmergencyEvent,
  RecordedEvent,
  RelayKind,
  RequestStatus,
  Role,
} from '@custos/domain';
import type { ReadModelWriter } from '../read-models/read-model.port';
import { messagingProjection, urgentMessageRecipients } from '../messaging/messaging.projection';
import type { Projection } from './projection';
import { consultationsProjection } from '../telehealth/consultation.projection';
import { recordsProjection } from '../records/records.projection';
import { uploadsProjection } from '../records/uploads.projection';

/**
 * The read models of the event-sourced core and the projections that write them. Each document keeps
 * `updatedAt` = the `occurredAt` of the last event that changed it, never the wall clock.
 */

type Data<T extends { type: string; data: unknown }, K extends T['type']> = Extract<T, { type: K }>['data'];

function on<E extends { type: string; data: unknown }>(handlers: {
  [K in E['type']]?: (data: Data<E, K>, event: RecordedEvent, writer: ReadModelWriter) => Promise<void>;
}): Pick<Projection, 'eventTypes' | 'apply'> {
  const table = handlers as Record<
    string,
    (data: unknown, event: RecordedEvent, w: ReadModelWriter) => Promise<void>
  >;
  return {
    eventTypes: new Set(Object.keys(table)),
    apply: async (event, writer) => {
      await table[event.type]?.(event.data, event, writer);
    },
  };
}

// ------------------------------------------------------------------------------------ consents

/** One document per (patient, provider, category) ever granted: `consents`. */
export interface ConsentDocument {
  id: string;
  patient: string;
  provider: string;
  category: string;
  /** Unix seconds; compare with the time of reading to know whether it is active. */
  expiresAt: number;
  status: 'granted' | 'revoked';
  grantedAt: string;
  revokedAt: string | null;
  /** The transaction of the (latest) grant, when the grant came from the chain mirror. */
  grantTxHash?: string | null;
  updatedAt: string;
  [key: string]: unknown;
}

/** A provider's request: `consent_requests`. */
export interface ConsentRequestDocument {
  id: string;
  patient: string;
  provider: string;
  category: string;
  purpose: string;
  durationSeconds: number;
  requestedAt: string;
  status: RequestStatus;
  updatedAt: string;
  [key: string]: unknown;
}

/** A relayed signature's progress: `consent_relays`. */
export interface ConsentRelayDocument {
  id: string;
  patient: string;
  kind: RelayKind;
  status: 'submitted' | 'mined' | 'confirmed' | 'failed';
  /** Set when the relayer broadcast the transaction (status still `submitted` until it is mined). */
  txHash?: string | null;
  blockNumber?: number | null;
  reason: string | null;
  submittedAt: string;
  updatedAt: string;
  [key: string]: unknown;
}

export const consentId = (patient: string, provider: string, category: string) =>
  `${patient}|${provider}|${category}`;

/** Pending request ids per (patient, provider, category), so a grant can answer them without a query. */
interface PendingRequestsDocument {
  id: string;
  requestIds: string[];
  [key: string]: unknown;
}

async function pendingRequests(
  w: ReadModelWriter,
  patient: string,
  provider: string,
  category: string,
): Promise<PendingRequestsDocument> {
  const id = consentId(patient, provider, category);
  return (await w.get<PendingRequestsDocument>('consent_pending_requests', id)) ?? { id, requestIds: [] };
}

/** A signed intent handed to the relay: its `consent_relays` document, waiting to be sent. */
function submittedRelay(
  w: ReadModelWriter,
  intent: { relayId: string; patient: string },
  kind: RelayKind,
  event: RecordedEvent,
): Promise<void> {
  return w.upsert('consent_relays', {
    id: intent.relayId,
    patient: intent.patient,
    kind,
    status: 'submitted',
    txHash: null,
    blockNumber: null,
    reason: null,
    submittedAt: event.metadata.occurredAt,
    updatedAt: event.metadata.occurredAt,
  } satisfies ConsentRelayDocument);
}

async function updateRelay(
  w: ReadModelWriter,
  relayId: string,
  event: RecordedEvent,
  change: Partial<ConsentRelayDocument>,
): Promise<void> {
  const relay = await w.get<ConsentRelayDocument>('consent_relays', relayId);
  if (relay) await w.upsert('consent_relays', { ...relay, ...change, updatedAt: event.metadata.occurredAt });
}

export const consentsProjection: Projection = {
  name: 'consents',
  collections: [
    {
      name: 'consents',
      indexes: ['patient', 'provider', 'category', 'status', 'expiresAt'],
      compoundIndexes: [
        ['patient', 'expiresAt'],
        ['provider', 'status', 'expiresAt'],
      ],
    },
    {
      name: 'consent_requests',
      indexes: ['patient', 'provider', 'status', 'requestedAt'],
      compoundIndexes: [
        ['patient', 'requestedAt'],
        ['patient', 'status', 'requestedAt'],
        ['provider', 'requestedAt'],
        ['provider', 'status', 'requestedAt'],
      ],
    },
    {
      name: 'consent_relays',
      indexes: ['patient', 'status', 'submittedAt'],
      compoundIndexes: [['status', 'submittedAt']],
    },
    { name: 'consent_pending_requests', indexes: [] },
  ],
  ...on<ConsentEvent>({
    ConsentRequested: async (d, event, w) => {
      await w.upsert('consent_requests', {
        id: d.requestId,
        patient: d.patient,
        provider: d.provider,
        category: d.category,
        purpose: d.purpose,
        durationSeconds: d.durationSeconds,
        requestedAt: d.requestedAt,
        status: 'pending',
        updatedAt: event.metadata.occurredAt,
      } satisfies ConsentRequestDocument);
      const pending = await pendingRequests(w, d.patient, d.provider, d.category);
      await w.upsert('consent_pending_requests', {
        ...pending,
        requestIds: [...pending.requestIds, d.requestId],
      });
    },
    ConsentRequestDeclined: async (d, event, w) => {
      const request = await w.get<ConsentRequestDocument>('consent_requests', d.requestId);
      if (request) {
        await w.upsert('consent_requests', {
          ...request,
          status: 'declined',
          updatedAt: event.metadata.occurredAt,
        });
      }
      const pending = await pendingRequests(w, d.patient, d.provider, d.category);
      await w.upsert('consent_pending_requests', {
        ...pending,
        requestIds: pending.requestIds.filter((id) => id !== d.requestId),
      });
    },
    ConsentGrantSubmitted: (d, event, w) => submittedRelay(w, d, 'grant', event),
    RecordRegistrationSubmitted: (d, event, w) => submittedRelay(w, d, 'register_record', event),
    ConsentRevokeSubmitted: (d, event, w) => submittedRelay(w, d, 'revoke', event),
    ConsentRelayFailed: async (d, event, w) => {
      const relay = await w.get<ConsentRelayDocument>('consent_relays', d.relayId);
      if (relay) {
        await w.upsert('consent_relays', {
          ...relay,
          status: 'failed',
          reason: d.reason,
          updatedAt: event.metadata.occurredAt,
        });
      }
    },
    ConsentRelaySent: (d, event, w) => updateRelay(w, d.relayId, event, { txHash: d.txHash }),
    ConsentRelayMined: (d, event, w) =>
      updateRelay(w, d.relayId, event, { status: 'mined', txHash: d.txHash, blockNumber: d.blockNumber }),
    ConsentRelayConfirmed: (d, event, w) =>
      updateRelay(w, d.relayId, event, { status: 'confirmed', blockNumber: d.blockNumber }),
    ConsentGranted: async (d, event, w) => {
      const id = consentId(d.patient, d.provider, d.category);
      await w.upsert('consents', {
        id,
        patient: d.patient,
        provider: d.provider,
        category: d.category,
        expiresAt: d.expiresAt,
        status: 'granted',
        grantedAt: event.metadata.occurredAt,
        revokedAt: null,
        grantTxHash: event.metadata.chain?.txHash ?? null,
        updatedAt: event.metadata.occurredAt,
      } satisfies ConsentDocument);
      // The grant answers the provider's pending requests for that category, as in the decider.
      const pending = await pendingRequests(w, d.patient, d.provider, d.category);
      for (const requestId of pending.requestIds) {
        const request = await w.get<ConsentRequestDocument>('consent_requests', requestId);
        if (request) {
          await w.upsert('consent_requests', {
            ...request,
            status: 'granted',
            updatedAt: event.metadata.occurredAt,
          });
        }
      }
      if (pending.requestIds.length > 0)
        await w.upsert('consent_pending_requests', { ...pending, requestIds: [] });
    },
    ConsentRevoked: async (d, event, w) => {
      const id = consentId(d.patient, d.provider, d.category);
      const consent = await w.get<ConsentDocument>('consents', id);
      if (consent) {
        await w.upsert('consents', {
          ...consent,
          status: 'revoked',
          revokedAt: event.metadata.occurredAt,
          updatedAt: event.metadata.occurredAt,
        });
      }
    },
  }),
};

// ------------------------------------------------------------------------------------ directory

/** An account with a role and its profile: `directory`. */
export interface DirectoryDocument {
  id: string;
  account: string;
  roles: Role[];
  isProvider: boolean;
  isEmergency: boolean;
  isAuditor: boolean;
  isAdmin: boolean;
  name: string | null;
  specialty: string | null;
  updatedAt: string;
  [key: string]: unknown;
}

function withRoles(doc: DirectoryDocument, roles: Role[], updatedAt: string): DirectoryDocument {
  return {
    ...doc,
    roles,
    isProvider: roles.includes('provider'),
    isEmergency: roles.includes('emergency'),
    isAuditor: roles.includes('auditor'),
    isAdmin: roles.includes('admin'),
    updatedAt,
  };
}

async function directoryEntry(w: ReadModelWriter, account: string): Promise<DirectoryDocument> {
  return (
    (await w.get<DirectoryDocument>('directory', account)) ?? {
      id: account,
      account,
      roles: [],
      isProvider: false,
      isEmergency: false,
      isAuditor: false,
      isAdmin: false,
      name: null,
      specialty: null,
      updatedAt: '',
    }
  );
}

export const directoryProjection: Projection = {
  name: 'directory',
  collections: [
    {
      name: 'directory',
      indexes: ['isProvider', 'isEmergency', 'isAuditor', 'isAdmin', 'name'],
      compoundIndexes: [['isProvider', 'name']],
    },
  ],
  ...on<DirectoryEvent>({
    RoleGranted: async (d, event, w) => {
      const doc = await directoryEntry(w, d.account);
      const roles = doc.roles.includes(d.role) ? doc.roles : [...doc.roles, d.role].sort();
      await w.upsert('directory', withRoles(doc, roles, event.metadata.occurredAt));
    },
    RoleRevoked: async (d, event, w) => {
      const doc = await directoryEntry(w, d.account);
      await w.upsert(
        'directory',
        withRoles(
          doc,
          doc.roles.filter((r) => r !== d.role),
          event.metadata.occurredAt,
        ),
      );
    },
    ProfileUpdated: async (d, event, w) => {
      const doc = await directoryEntry(w, d.account);
      await w.upsert('directory', {
        ...doc,
        name: d.name,
        specialty: d.specialty,
        updatedAt: event.metadata.occurredAt,
      });
    },
  }),
};

// ------------------------------------------------------------------------------------ emergency

/** An emergency window: `emergency_windows`, one per (patient, staff member). */
export interface EmergencyWindowDocument {
  id: string;
  patient: string;
  provider: string;
  reasonHash: string;
  /** Unix seconds. */
  expiresAt: number;
  startedAt: string;
  endedAt: string | null;
  updatedAt: string;
  [key: string]: unknown;
}

/** Reasons given off-chain, by hash: `emergency_reasons`. Readable by auditors only. */
export interface EmergencyReasonDocument {
  id: string;
  patient: string;
  provider: string;
  reason: string;
  recordedAt: string;
  [key: string]: unknown;
}

export const emergencyProjection: Projection = {
  name: 'emergency',
  collections: [
    { name: 'emergency_windows', indexes: ['patient', 'provider', 'expiresAt', 'startedAt'] },
    { name: 'emergency_reasons', indexes: ['patient'] },
  ],
  ...on<EmergencyEvent>({
    EmergencyReasonRecorded: async (d, event, w) => {
      await w.upsert('emergency_reasons', {
        id: d.reasonHash,
        patient: d.patient,
        provider: d.provider,
        reason: d.reason,
        recordedAt: event.metadata.occurredAt,
      } satisfies EmergencyReasonDocument);
    },
    EmergencyAccessStarted: async (d, event, w) => {
      await w.upsert('emergency_windows', {
        id: `${d.patient}|${d.provider}`,
        patient: d.patient,
        provider: d.provider,
        reasonHash: d.reasonHash,
        expiresAt: d.expiresAt,
        startedAt: event.metadata.occurredAt,
        endedAt: null,
        updatedAt: event.metadata.occurredAt,
      } satisfies EmergencyWindowDocument);
    },
    EmergencyAccessEnded: async (d, event, w) => {
      const id = `${d.patient}|${d.provider}`;
      const window = await w.get<EmergencyWindowDocument>('emergency_windows', id);
      if (window) {
        await w.upsert('emergency_windows', {
          ...window,
          endedAt: event.metadata.occurredAt,
          updatedAt: event.metadata.occurredAt,
        });
      }
    },
  }),
};

// ------------------------------------------------------------------------------------ audit

/** One gate decision: `audit`. `sequence` is its revision in the audit stream (the anchored position). */
export interface AuditDocument extends AccessAuditedData {
  id: string;
  sequence: number;
  occurredAt: string;
  [key: string]: unknown;
}

export const auditProjection: Projection = {
  name: 'audit',
  // Indexed for what is searched (GET /audit: patient, actor, time) and nothing else: each index is
  // one more B-tree written for every gate decision. A search by patient or actor is always sorted by
  // time, so those two have only their compound indexes. A proof looks its entry up by id; the
  // anchoring reads its ranges from the event store.
  collections: [
    {
      name: 'audit',
      indexes: ['occurredAt'],
      compoundIndexes: [
        ['patient', 'occurredAt'],
        ['actor', 'occurredAt'],
        ['patient', 'actor', 'occurredAt'],
      ],
    },
  ],
  ...on<{ type: 'AccessAudited'; data: AccessAuditedData }>({
    AccessAudited: async (d, event, w) => {
      await w.upsert('audit', {
        ...d,
        id: event.id,
        sequence: event.revision,
        occurredAt: event.metadata.occurredAt,
      } satisfies AuditDocument);
    },
  }),
};

/**
 * One audit range anchored on-chain, as the mirror saw its `AuditAnchored` log: `audit_anchors`, keyed
 * by the range's first position. From the chain, not from the API's own record, so a range anchored by
 * an earlier process that stopped before recording it is known too.
 */
export interface AuditAnchorDocument {
  id: string;
  fromPosition: number;
  toPosition: number;
  root: string;
  txHash: string | null;
  blockNumber: number | null;
  anchoredAt: string;
  [key: string]: unknown;
}

export const auditAnchorsProjection: Projection = {
  name: 'audit_anchors',
  collections: [{ name: 'audit_anchors', indexes: ['fromPosition'] }],
  ...on<ChainFactEvent>({
    AuditAnchored: async (d, event, w) => {
      await w.upsert('audit_anchors', {
        id: String(d.fromPosition),
        fromPosition: d.fromPosition,
        toPosition: d.toPosition,
        root: d.root.toLowerCase(),
        txHash: event.metadata.chain?.txHash ?? null,
        blockNumber: event.metadata.chain?.blockNumber ?? null,
        anchoredAt: event.metadata.occurredAt,
      } satisfies AuditAnchorDocument);
    },
  }),
};

// ------------------------------------------------------------------------------------ notifications

/** Something a user should know about: `notifications`. Texts carry no health information. */
export interface NotificationDocument {
  id: string;
  recipient: string;
  kind: string;
  /** Who or what it is about, e.g. the provider or the category. */
  subject: Record<string, string | number | null>;
  occurredAt: string;
  [key: string]: unknown;
}

async function notify(
  w: ReadModelWriter,
  event: RecordedEvent,
  recipient: string,
  kind: string,
  subject: NotificationDocument['subject'],
): Promise<void> {
  await w.upsert('notifications', {
    id: `${event.id}|${recipient}`,
    recipient,
    kind,
    subject,
    occurredAt: event.metadata.occurredAt,
  } satisfies NotificationDocument);
}

export const notificationsProjection: Projection = {
  name: 'notifications',
  collections: [
    {
      name: 'notifications',
      indexes: ['recipient', 'occurredAt', 'kind'],
      compoundIndexes: [['recipient', 'occurredAt']],
    },
  ],
  ...on<ConsentEvent | EmergencyEvent | ConversationEvent>({
    ConsentRequested: (d, e, w) =>
      notify(w, e, d.patient, 'consent_requested', {
        provider: d.provider,
        category: d.category,
        requestId: d.requestId,
      }),
    ConsentRequestDeclined: (d, e, w) =>
      notify(w, e, d.provider, 'consent_request_declined', { patient: d.patient, category: d.category }),
    ConsentGranted: (d, e, w) =>
      notify(w, e, d.provider, 'consent_granted', {
        patient: d.patient,
        category: d.category,
        expiresAt: d.expiresAt,
      }),
    ConsentRevoked: (d, e, w) =>
      notify(w, e, d.provider, 'consent_revoked', { patient: d.patient, category: d.category }),
    ConsentRelayFailed: (d, e, w) => notify(w, e, d.patient, 'consent_relay_failed', { relayId: d.relayId }),
    EmergencyAccessStarted: (d, e, w) =>
      notify(w, e, d.patient, 'emergency_access_started', { provider: d.provider, expiresAt: d.expiresAt }),
    // Urgent messages: who sent one in which conversation, never its kind or content (messaging.projection.ts).
    MessageSent: async (d, e, w) => {
      for (const recipient of urgentMessageRecipients(e, d)) {
        await notify(w, e, recipient, 'urgent_message', {
          conversationId: d.conversationId,
          sender: d.sender,
        });
      }
    },
  }),
};

export const PROJECTIONS: readonly Projection[] = [
  consentsProjection,
  directoryProjection,
  emergencyProjection,
  auditProjection,
  auditAnchorsProjection,
  notificationsProjection,
  messagingProjection,
  consultationsProjection,
  recordsProjection,
  uploadsProjection,
];
