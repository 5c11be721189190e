import type { EventDraft } from './events';

/**
 * Contract facts that no aggregate owns, and the chain mirror's own bookkeeping. The mirror appends
 * consent, role and emergency logs to their aggregates' streams (`consent-<patient>`,
 * `directory-<account>`, `emergency-<patient>`); every other log of the contract goes to
 * `chain-<contract>` as one of the events below. Addresses are lower-case hex; ids and hashes are
 * 0x-prefixed 32-byte hex; category ids that are ours are given by name.
 */

export const chainStream = (contract: string): string => `chain-${contract}`;
/** The mirror's checkpoints and the reorgs it detected (see ChainMirrorEvent). */
export const mirrorStream = (contract: string): string => `mirror-${contract}`;

export type ChainFactEvent =
  | EventDraft<
      'RecordRegistered',
      { patient: string; recordId: string; category: string; supersedes: string | null }
    >
  | EventDraft<'RecordAccessed', { patient: string; accessor: string; recordId: string; action: string }>
  | EventDraft<'AuditAnchored', { root: string; fromPosition: number; toPosition: number }>
  | EventDraft<'ContractPaused', { account: string }>
  | EventDraft<'ContractUnpaused', { account: string }>
  /**
   * Any other log of the contract (the admin-transfer events of AccessControlDefaultAdminRules, a role
   * that is not one of ours): its event name and arguments as strings, so that nothing is lost.
   */
  | EventDraft<'ContractEventRecorded', { name: string; args: Record<string, string> }>;

/** One event the mirror appended, as its checkpoints remember it (for reorgs). */
export interface MirroredLog {
  /** The event id: `txHash:logIndex` (with `@blockHash` when the log was re-included after a reorg). */
  id: string;
  stream: string;
  blockNumber: number;
  blockHash: string;
}

/**
 * Everything the mirror needs to resume, carried by its latest `mirror-<contract>` event: the last
 * block it mirrored, what it appended in the last blocks (to name orphaned events after a reorg), and
 * the events orphaned lately (a log re-included in a new block is appended again under a new id).
 */
export interface MirrorState {
  /** The last block mirrored; null before the first. */
  block: { number: number; hash: string } | null;
  /** The next block to read. */
  nextBlock: number;
  /** Block hashes known in the reorg window (ends of mirrored ranges, blocks with logs). */
  knownBlocks: { number: number; hash: string }[];
  /** Events appended from blocks in the reorg window. */
  recent: MirroredLog[];
  /** Ids of events orphaned by recent reorgs, and the block they were in. */
  orphaned: { id: string; blockNumber: number }[];
}

export type ChainMirrorEvent =
  /** Blocks [fromBlock, toBlock] were read and their logs appended. */
  | EventDraft<
      'ChainMirrored',
      { fromBlock: number; toBlock: number; blockHash: string; logs: number; state: MirrorState }
    >
  /**
   * The chain no longer holds a block the mirror had read. Blocks after `forkBlock` (the newest block
   * the mirror knew that is still canonical) are read again. The events in `orphaned` were appended
   * from blocks that are no longer part of the chain: they are not facts any more, and a projection
   * rebuilt without them matches the chain (the drift check finds what a live projection kept).
   */
  | EventDraft<
      'ChainReorgDetected',
      {
        /** The mirrored block found replaced. */
        replaced: { number: number; hash: string };
        forkBlock: number;
        orphaned: MirroredLog[];
        state: MirrorState;
      }
    >;
