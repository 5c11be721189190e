import { conflict, type Decider, invalid, notFound, unixSeconds } from './decider';
import type { EventDraft } from './events';
import { emptyKeyedMap, type KeyedMap, keyedEntries, keyedGet, keyedHas, keyedSet } from './keyed-map';

/**
 * Consent, one stream per patient (`consent-<patient>`). The chain is the truth about grants:
 * `ConsentGranted` / `ConsentRevoked` are facts the mirror reads from contract logs. Everything else
 * here is the off-chain side: providers' requests, patients' declines, and signed intents relayed to
 * the chain. Addresses are lower-case hex; times on the chain's scale are unix seconds.
 *
 * A grant is active while `expiresAt` is after the moment of reading; nothing stores an "active" flag.
 */

export const consentStream = (patient: string): string => `consent-${patient}`;

/** Limits the contract enforces too; checked here so a bad intent never costs gas. */
export const MAX_GRANT_SECONDS = 365 * 24 * 60 * 60;
export const MIN_REQUEST_SECONDS = 60 * 60;
export const MAX_BATCH_GRANTS = 50;
export const PURPOSE_MAX_LENGTH = 500;

export interface GrantTerms {
  provider: string;
  category: string;
  /** Unix seconds. */
  expiresAt: number;
}

/** What a `RegisterRecord` signature covers besides the patient, the nonce and the deadline. */
export interface RecordRegistrationTerms {
  /** 0x-prefixed 32-byte hex: `recordIdOf(cid)`. */
  recordId: string;
  category: string;
  /** The record id of the version this one amends, or null. */
  supersedes: string | null;
}

/** A patient's EIP-712 signature and the fields it covers besides the grant terms. */
export interface SignedIntent {
  nonce: number;
  /** Unix seconds: the last second the signature may be used. */
  deadline: number;
  signature: string;
}

// ----------------------------------------------------------------------------------------- events

export type ConsentEvent =
  | EventDraft<
      'ConsentRequested',
      {
        requestId: string;
        patient: string;
        provider: string;
        category: string;
        purpose: string;
        durationSeconds: number;
        /** ISO time the provider asked. */
        requestedAt: string;
      }
    >
  | EventDraft<
      'ConsentRequestDeclined',
      { requestId: string; patient: string; provider: string; category: string }
    >
  | EventDraft<
      'ConsentGrantSubmitted',
      {
        relayId: string;
        patient: string;
        grants: GrantTerms[];
        requestIds: string[];
        /** Signed as one EIP-712 `GrantBatch` (present only then); otherwise one `Grant`. */
        batch?: true;
      } & SignedIntent
    >
  | EventDraft<
      'ConsentRevokeSubmitted',
      { relayId: string; patient: string; provider: string; category: string } & SignedIntent
    >
  /**
   * A patient's signed `RegisterRecord` (see records.ts): on this stream because it spends a nonce of
   * the same sequence as grants and revokes, and the relay sends them in nonce order.
   */
  | EventDraft<
      'RecordRegistrationSubmitted',
      { relayId: string; patient: string } & RecordRegistrationTerms & SignedIntent
    >
  | EventDraft<'ConsentGranted', { patient: string } & GrantTerms>
  | EventDraft<'ConsentRevoked', { patient: string; provider: string; category: string }>
  | EventDraft<'ConsentRelayFailed', { relayId: string; patient: string; reason: string }>
  /** The relayer broadcast the transaction carrying the intent (alone or in a multicall). */
  | EventDraft<'ConsentRelaySent', { relayId: string; patient: string; txHash: string }>
  /** The transaction was included in a block and succeeded. */
  | EventDraft<'ConsentRelayMined', { relayId: string; patient: string; txHash: string; blockNumber: number }>
  /** The block is `CHAIN_CONFIRMATIONS` deep: the intent is final on-chain. */
  | EventDraft<'ConsentRelayConfirmed', { relayId: string; patient: string; blockNumber: number }>;

export type ConsentEventType = ConsentEvent['type'];

// ----------------------------------------------------------------------------------------- commands

export type ConsentCommand =
  | {
      type: 'RequestConsent';
      requestId: string;
      patient: string;
      provider: string;
      category: string;
      purpose: string;
      durationSeconds: number;
    }
  | { type: 'DeclineConsentRequest'; requestId: string }
  | ({
      type: 'SubmitGrant';
      relayId: string;
      patient: string;
      grants: GrantTerms[];
      requestIds?: string[];
      /** Signed as one EIP-712 `GrantBatch` rather than one `Grant`. */
      batch?: boolean;
    } & SignedIntent)
  | ({
      type: 'SubmitRevoke';
      relayId: string;
      patient: string;
      provider: string;
      category: string;
    } & SignedIntent)
  | ({ type: 'SubmitRecordRegistration'; relayId: string; patient: string } & RecordRegistrationTerms &
      SignedIntent)
  | ({ type: 'RecordConsentGranted'; patient: string } & GrantTerms)
  | { type: 'RecordConsentRevoked'; patient: string; provider: string; category: string }
  | { type: 'FailRelay'; relayId: string; reason: string }
  | { type: 'RecordRelaySent'; relayId: string; txHash: string }
  | { type: 'RecordRelayMined'; relayId: string; blockNumber: number }
  | { type: 'RecordRelayConfirmed'; relayId: string };

// ----------------------------------------------------------------------------------------- state

export type RequestStatus = 'pending' | 'declined' | 'granted';

/**
 * What the decisions need to know of a provider's request (its purpose, duration and time are in the
 * event and the read model): a patient's stream holds every request ever made, and its folded state
 * stays in memory while in use (AggregateRepository).
 */
export interface ConsentRequest {
  provider: string;
  category: string;
  status: RequestStatus;
}

/** A grant as the chain last stated it: a re-grant replaces the expiry. */
export type Grant = GrantTerms;

/** `submitted` (with a txHash once sent) → `mined` → `confirmed`, or `failed` at any step before mined. */
export type RelayStatus = 'submitted' | 'mined' | 'confirmed' | 'failed';

/** What a relay carries to the chain: a grant (or a batch), a revoke, or a record's registration. */
export type RelayKind = 'grant' | 'revoke' | 'register_record';

export interface Relay {
  relayId: string;
  kind: RelayKind;
  status: RelayStatus;
  /** The patient's nonce the signature covers. */
  nonce: number;
  txHash?: string;
  blockNumber?: number;
  reason?: string;
}

export interface ConsentState {
  patient: string | null;
  /** By request id. */
  requests: KeyedMap<ConsentRequest>;
  /** Keyed by `grantKey(provider, category)`; expired grants stay until revoked (the chain keeps them too). */
  grants: Readonly<Record<string, Grant>>;
  relays: Readonly<Record<string, Relay>>;
}

/** A request still waiting for an answer, for this provider and category (at most one at a time). */
const isPendingFor = (request: ConsentRequest, provider: string, category: string): boolean =>
  request.status === 'pending' && request.provider === provider && request.category === category;

export const grantKey = (provider: string, category: string): string => `${provider}|${category}`;

/** Whether a grant is active at `now`: `expiresAt == now` is not active, as on-chain. */
export const isGrantActive = (grant: Pick<GrantTerms, 'expiresAt'>, now: Date): boolean =>
  grant.expiresAt > unixSeconds(now);

export function activeGrants(state: ConsentState, now: Date): Grant[] {
  return Object.values(state.grants).filter((grant) => isGrantActive(grant, now));
}

// ----------------------------------------------------------------------------------------- decider

const initialState: ConsentState = { patient: null, requests: emptyKeyedMap(), grants: {}, relays: {} };

function requirePatient(state: ConsentState, patient: string): void {
  if (state.patient !== null && state.patient !== patient) {
    throw invalid('wrong_stream', `this consent stream belongs to ${state.patient}, not ${patient}`);
  }
}

function requireUnusedRelay(state: ConsentState, relayId: string): void {
  if (state.relays[relayId]) throw conflict('relay_exists', `relay ${relayId} was already submitted`);
}

function requireRelay(state: ConsentState, relayId: string): { relay: Relay; patient: string } {
  const relay = state.relays[relayId];
  if (!relay || state.patient === null) throw notFound('relay_not_found', `no relay ${relayId}`);
  return { relay, patient: state.patient };
}

/**
 * One signature per nonce in flight: a second intent signed with the nonce of a relay that has not
 * failed would be refused by the contract (the nonce is used once), so it is refused before any gas.
 */
function requireUnusedNonce(state: ConsentState, nonce: number): void {
  const taken = Object.values(state.relays).find((r) => r.nonce === nonce && r.status !== 'failed');
  if (taken) {
    throw invalid('nonce_used', `nonce ${nonce} is already used by relay ${taken.relayId} (${taken.status})`);
  }
}

function checkSignedIntent(intent: SignedIntent, now: Date): void {
  if (!Number.isSafeInteger(intent.nonce) || intent.nonce < 0) {
    throw invalid('invalid_nonce', 'nonce must be a non-negative integer');
  }
  if (intent.deadline < unixSeconds(now)) {
    throw invalid('signature_expired', `the signature's deadline ${intent.deadline} has passed`);
  }
}

/** What every signed intent must be: the patient's own stream, a new relay, a live signature, a free nonce. */
function checkSubmission(
  state: ConsentState,
  command: { patient: string; relayId: string } & SignedIntent,
  now: Date,
): void {
  requirePatient(state, command.patient);
  requireUnusedRelay(state, command.relayId);
  checkSignedIntent(command, now);
  requireUnusedNonce(state, command.nonce);
}

function checkGrantTerms(grants: readonly GrantTerms[], now: Date): void {
  if (grants.length === 0 || grants.length > MAX_BATCH_GRANTS) {
    throw invalid(
      'invalid_batch_size',
      `a grant carries 1 to ${MAX_BATCH_GRANTS} grants, not ${grants.length}`,
    );
  }
  const seen = new Set<string>();
  const nowSeconds = unixSeconds(now);
  for (const grant of grants) {
    if (!(grant.expiresAt > nowSeconds && grant.expiresAt <= nowSeconds + MAX_GRANT_SECONDS)) {
      throw invalid(
        'invalid_expiry',
        `expiresAt ${grant.expiresAt} must be after now (${nowSeconds}) and at most 365 days ahead`,
      );
    }
    const key = grantKey(grant.provider, grant.category);
    if (seen.has(key)) {
      throw invalid('duplicate_grant', `${grant.category} for ${grant.provider} appears twice in one grant`);
    }
    seen.add(key);
  }
}

function decide(command: ConsentCommand, state: ConsentState, now: Date): ConsentEvent[] {
  switch (command.type) {
    case 'RequestConsent': {
      requirePatient(state, command.patient);
      if (command.provider === command.patient) {
        throw invalid('self_request', 'a provider cannot request access to their own records');
      }
      const purpose = command.purpose.trim();
      if (purpose.length < 3 || purpose.length > PURPOSE_MAX_LENGTH) {
        throw invalid('invalid_purpose', `purpose must be 3 to ${PURPOSE_MAX_LENGTH} characters`);
      }
      if (
        !Number.isSafeInteger(command.durationSeconds) ||
        command.durationSeconds < MIN_REQUEST_SECONDS ||
        command.durationSeconds > MAX_GRANT_SECONDS
      ) {
        throw invalid('invalid_duration', 'durationSeconds must be between 1 hour and 365 days');
      }
      if (keyedHas(state.requests, command.requestId)) {
        throw conflict('request_exists', `request ${command.requestId} already exists`);
      }
      const pending = [...keyedEntries(state.requests)].find(([, r]) =>
        isPendingFor(r, command.provider, command.category),
      );
      if (pending) {
        throw conflict(
          'request_already_pending',
          `a request for ${command.category} from this provider is already pending (${pending[0]})`,
        );
      }
      return [
        {
          type: 'ConsentRequested',
          version: 1,
          data: {
            requestId: command.requestId,
            patient: command.patient,
            provider: command.provider,
            category: command.category,
            purpose,
            durationSeconds: command.durationSeconds,
            requestedAt: now.toISOString(),
          },
        },
      ];
    }

    case 'DeclineConsentRequest': {
      const request = keyedGet(state.requests, command.requestId);
      if (!request || state.patient === null) {
        throw notFound('request_not_found', `no consent request ${command.requestId}`);
      }
      if (request.status !== 'pending') {
        throw conflict('request_not_pending', `request ${command.requestId} is already ${request.status}`);
      }
      return [
        {
          type: 'ConsentRequestDeclined',
          version: 1,
          data: {
            requestId: command.requestId,
            patient: state.patient,
            provider: request.provider,
            category: request.category,
          },
        },
      ];
    }

    case 'SubmitGrant': {
      checkSubmission(state, command, now);
      checkGrantTerms(command.grants, now);
      if (!command.batch && command.grants.length !== 1) {
        throw invalid('invalid_batch_size', 'a single Grant signature covers exactly one grant');
      }
      const requestIds = command.requestIds ?? [];
      for (const requestId of requestIds) {
        const request = keyedGet(state.requests, requestId);
        if (!request) throw notFound('request_not_found', `no consent request ${requestId}`);
        if (!command.grants.some((g) => g.provider === request.provider && g.category === request.category)) {
          throw invalid('request_mismatch', `the grant does not answer request ${requestId}`);
        }
      }
      return [
        {
          type: 'ConsentGrantSubmitted',
          version: 1,
          data: {
            relayId: command.relayId,
            patient: command.patient,
            grants: command.grants.map(({ provider, category, expiresAt }) => ({
              provider,
              category,
              expiresAt,
            })),
            requestIds,
            ...(command.batch ? { batch: true as const } : {}),
            nonce: command.nonce,
            deadline: command.deadline,
            signature: command.signature,
          },
        },
      ];
    }

    case 'SubmitRevoke': {
      checkSubmission(state, command, now);
      if (!state.grants[grantKey(command.provider, command.category)]) {
        throw notFound(
          'no_grant',
          `there is no grant of ${command.category} to ${command.provider} to revoke`,
        );
      }
      return [
        {
          type: 'ConsentRevokeSubmitted',
          version: 1,
          data: {
            relayId: command.relayId,
            patient: command.patient,
            provider: command.provider,
            category: command.category,
            nonce: command.nonce,
            deadline: command.deadline,
            signature: command.signature,
          },
        },
      ];
    }

    case 'SubmitRecordRegistration': {
      checkSubmission(state, command, now);
      return [
        {
          type: 'RecordRegistrationSubmitted',
          version: 1,
          data: {
            relayId: command.relayId,
            patient: command.patient,
            recordId: command.recordId,
            category: command.category,
            supersedes: command.supersedes,
            nonce: command.nonce,
            deadline: command.deadline,
            signature: command.signature,
          },
        },
      ];
    }

    // Chain facts are recorded as they are: the contract already enforced its rules.
    case 'RecordConsentGranted':
      requirePatient(state, command.patient);
      return [
        {
          type: 'ConsentGranted',
          version: 1,
          data: {
            patient: command.patient,
            provider: command.provider,
            category: command.category,
            expiresAt: command.expiresAt,
          },
        },
      ];

    case 'RecordConsentRevoked':
      requirePatient(state, command.patient);
      return [
        {
          type: 'ConsentRevoked',
          version: 1,
          data: { patient: command.patient, provider: command.provider, category: command.category },
        },
      ];

    case 'FailRelay': {
      const { relay, patient } = requireRelay(state, command.relayId);
      if (relay.status === 'failed') return []; // already recorded: retries of the worker are harmless
      // A mined relay is not final until confirmed: a reorganisation may drop its transaction.
      if (relay.status !== 'submitted' && relay.status !== 'mined') {
        throw conflict('relay_settled', `relay ${command.relayId} is already ${relay.status}`);
      }
      return [
        {
          type: 'ConsentRelayFailed',
          version: 1,
          data: { relayId: command.relayId, patient, reason: command.reason },
        },
      ];
    }

    // Relay progress, recorded by the relay worker. Repeating a step is harmless (it decides nothing),
    // so a worker that retries after a crash or a lost answer cannot record a step twice.
    case 'RecordRelaySent': {
      const { relay, patient } = requireRelay(state, command.relayId);
      if (relay.txHash === command.txHash) return [];
      if (relay.status !== 'submitted' || relay.txHash !== undefined) {
        throw conflict(
          'relay_already_sent',
          `relay ${command.relayId} was already sent (${relay.txHash ?? relay.status}): it is never sent twice`,
        );
      }
      return [
        {
          type: 'ConsentRelaySent',
          version: 1,
          data: { relayId: command.relayId, patient, txHash: command.txHash },
        },
      ];
    }

    case 'RecordRelayMined': {
      const { relay, patient } = requireRelay(state, command.relayId);
      if (relay.status === 'confirmed') return [];
      // The same block again decides nothing; another block means a reorganisation moved the
      // transaction before it was confirmed: its depth counts from the new block.
      if (relay.status === 'mined' && relay.blockNumber === command.blockNumber) return [];
      if ((relay.status !== 'submitted' && relay.status !== 'mined') || relay.txHash === undefined) {
        throw conflict(
          'relay_not_sent',
          `relay ${command.relayId} is ${relay.status} and has no transaction`,
        );
      }
      if (!Number.isSafeInteger(command.blockNumber) || command.blockNumber < 0) {
        throw invalid('invalid_block', 'blockNumber must be a non-negative integer');
      }
      return [
        {
          type: 'ConsentRelayMined',
          version: 1,
          data: { relayId: command.relayId, patient, txHash: relay.txHash, blockNumber: command.blockNumber },
        },
      ];
    }

    case 'RecordRelayConfirmed': {
      const { relay, patient } = requireRelay(state, command.relayId);
      if (relay.status === 'confirmed') return [];
      if (relay.status !== 'mined' || relay.blockNumber === undefined) {
        throw conflict('relay_not_mined', `relay ${command.relayId} is ${relay.status}, not mined`);
      }
      return [
        {
          type: 'ConsentRelayConfirmed',
          version: 1,
          data: { relayId: command.relayId, patient, blockNumber: relay.blockNumber },
        },
      ];
    }
  }
}

function withRelay(state: ConsentState, relayId: string, change: Partial<Relay>): ConsentState {
  const relay = state.relays[relayId];
  if (!relay) return state;
  return { ...state, relays: { ...state.relays, [relayId]: { ...relay, ...change } } };
}

function evolve(state: ConsentState, event: ConsentEvent): ConsentState {
  switch (event.type) {
    case 'ConsentRequested': {
      const { requestId, patient, provider, category } = event.data;
      return {
        ...state,
        patient,
        requests: keyedSet(state.requests, requestId, { provider, category, status: 'pending' }),
      };
    }
    case 'ConsentRequestDeclined': {
      const { requestId } = event.data;
      const request = keyedGet(state.requests, requestId);
      if (!request) return state;
      return {
        ...state,
        requests: keyedSet(state.requests, requestId, { ...request, status: 'declined' }),
      };
    }
    case 'ConsentGrantSubmitted':
      return {
        ...state,
        patient: event.data.patient,
        relays: {
          ...state.relays,
          [event.data.relayId]: {
            relayId: event.data.relayId,
            kind: 'grant',
            status: 'submitted',
            nonce: event.data.nonce,
          },
        },
      };
    case 'RecordRegistrationSubmitted':
      return {
        ...state,
        patient: event.data.patient,
        relays: {
          ...state.relays,
          [event.data.relayId]: {
            relayId: event.data.relayId,
            kind: 'register_record',
            status: 'submitted',
            nonce: event.data.nonce,
          },
        },
      };
    case 'ConsentRevokeSubmitted':
      return {
        ...state,
        patient: event.data.patient,
        relays: {
          ...state.relays,
          [event.data.relayId]: {
            relayId: event.data.relayId,
            kind: 'revoke',
            status: 'submitted',
            nonce: event.data.nonce,
          },
        },
      };
    case 'ConsentGranted': {
      const { patient, provider, category, expiresAt } = event.data;
      // A grant on-chain answers every pending request for the same provider and category.
      let requests = state.requests;
      for (const [id, r] of keyedEntries(state.requests)) {
        if (isPendingFor(r, provider, category))
          requests = keyedSet(requests, id, { ...r, status: 'granted' });
      }
      return {
        ...state,
        patient,
        requests,
        grants: { ...state.grants, [grantKey(provider, category)]: { provider, category, expiresAt } },
      };
    }
    case 'ConsentRevoked': {
      const grants = { ...state.grants };
      delete grants[grantKey(event.data.provider, event.data.category)];
      return { ...state, patient: event.data.patient, grants };
    }
    case 'ConsentRelayFailed': {
      const relay = state.relays[event.data.relayId];
      if (!relay) return state;
      return {
        ...state,
        relays: {
          ...state.relays,
          [relay.relayId]: { ...relay, status: 'failed', reason: event.data.reason },
        },
      };
    }
    case 'ConsentRelaySent':
      return withRelay(state, event.data.relayId, { txHash: event.data.txHash });
    case 'ConsentRelayMined':
      return withRelay(state, event.data.relayId, { status: 'mined', blockNumber: event.data.blockNumber });
    case 'ConsentRelayConfirmed':
      return withRelay(state, event.data.relayId, { status: 'confirmed' });
  }
}

export const consentDecider: Decider<ConsentCommand, ConsentState, ConsentEvent> = {
  initialState,
  decide,
  evolve,
};
