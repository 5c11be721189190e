import type { EventDraft } from './events';

/**
 * Drift between the consent projection and the chain, found by the reconciliation job
 * (`GET /compliance/drift` and its periodic run). The chain is the truth for consent: a difference means
 * the projection (or the mirror feeding it) went wrong. Every difference is one `ConsentDriftDetected`
 * in the global `drift` stream; the same difference is not appended again while it persists.
 */

export const DRIFT_STREAM = 'drift';

/** One side's view of a (patient, provider, category): active now, and the expiry (unix seconds). */
export interface ConsentSideView {
  active: boolean;
  /** Unix seconds; null when that side knows no grant (no projection document, or 0 on-chain). */
  expiresAt: number | null;
}

export interface ConsentDriftDetectedData {
  /** Lower-case addresses. */
  patient: string;
  provider: string;
  /** The category name when it is one of ours, else the 0x-prefixed bytes32 id (as the projection keeps it). */
  category: string;
  projection: ConsentSideView;
  chain: ConsentSideView;
  /** When the difference was found, ISO-8601 UTC. */
  detectedAt: string;
}

export type DriftEvent = EventDraft<'ConsentDriftDetected', ConsentDriftDetectedData>;

/** The event for one difference found. */
export function consentDriftDetected(data: ConsentDriftDetectedData): DriftEvent {
  return { type: 'ConsentDriftDetected', version: 1, data };
}
