import { invalid } from './decider';
import type { EventDraft } from './events';

/**
 * Every gate decision, allowed or denied, is an `AccessAudited` event in one global stream (`audit`):
 * its revision is the audit position that anchored Merkle roots cover on-chain.
 */

export const AUDIT_STREAM = 'audit';

export type AuditOutcome = 'allowed' | 'denied';

export interface AccessAuditedData {
  /** Who asked: a wallet address, or `anonymous`. */
  actor: string;
  /** Whose data it concerned, when a patient is involved. */
  patient: string | null;
  /** What was asked for, e.g. `consents`, `record:<id>`, `session:<id>/credentials`. */
  resource: string;
  /** What was done, e.g. `read`, `issue_credentials`, `release_key`. */
  action: string;
  /** Why the actor asked (consent purpose or a route's declared purpose), if known. */
  purpose: string | null;
  outcome: AuditOutcome;
  /** Why it was allowed or denied, in words a patient can read. Never personal health information. */
  reason: string;
}

export type AuditEvent = EventDraft<'AccessAudited', AccessAuditedData>;

export const AUDIT_TEXT_MAX_LENGTH = 500;

/** The audit event for one gate decision. */
export function accessAudited(data: AccessAuditedData): AuditEvent {
  for (const [field, value] of Object.entries({
    resource: data.resource,
    action: data.action,
    reason: data.reason,
  })) {
    if (value.length === 0 || value.length > AUDIT_TEXT_MAX_LENGTH) {
      throw invalid('invalid_audit', `audit ${field} must be 1 to ${AUDIT_TEXT_MAX_LENGTH} characters`);
    }
  }
  return { type: 'AccessAudited', version: 1, data };
}

/**
 * The API's own record of each audit range it anchored (stream `audit-anchors`): besides what the chain
 * holds (root, range), the hash of every event in the range, so that a later verification that finds
 * a root mismatch can name the first event that changed (the hashes are authentic when they still
 * give the anchored root).
 */
export const AUDIT_ANCHORS_STREAM = 'audit-anchors';

export interface AuditRangeAnchoredData {
  fromPosition: number;
  toPosition: number;
  root: string;
  /** `eventHashes[i]` is the hash of the event at `fromPosition + i` (see libs/chain audit-merkle). */
  eventHashes: string[];
  txHash: string;
  blockNumber: number;
}

export type AuditAnchorEvent = EventDraft<'AuditRangeAnchored', AuditRangeAnchoredData>;
