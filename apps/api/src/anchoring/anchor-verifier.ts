import {
  type AuditLeafValue,
  auditLeafValue,
  auditRoot,
  type AuditLeafSource,
  type HealthRecordAccessControl,
} from '@custos/chain';
import {
  AUDIT_ANCHORS_STREAM,
  AUDIT_STREAM,
  type AuditRangeAnchoredData,
  type RecordedEvent,
} from '@custos/domain';
import type { EventStore } from '../event-store/event-store.port';

/** The first audit event that does not match what was anchored. */
export interface AnchorMismatch {
  /** Audit position of the first event that differs (or is missing). */
  position: number;
  /** Its event id; null when the store has no event at that position. */
  eventId: string | null;
  /** The anchored range it belongs to. */
  fromPosition: number;
  toPosition: number;
  anchoredRoot: string;
  reason: string;
}

export interface AnchorVerificationReport {
  /** True when every anchored range matches the event store. */
  ok: boolean;
  checkedAt: string;
  /** The block the anchors were read at. */
  chainBlock: number;
  /** Ranges on-chain, and how many of them were checked before the first mismatch stopped the check. */
  anchoredRanges: number;
  verifiedRanges: number;
  /** Events covered by the anchors, and those written since the last anchor (not anchored yet). */
  anchoredEvents: number;
  unanchoredEvents: number;
  firstMismatch: AnchorMismatch | null;
}

/** The ranges the API recorded anchoring, by first position. */
async function anchorRecords(store: EventStore): Promise<Map<number, AuditRangeAnchoredData>> {
  const records = new Map<number, AuditRangeAnchoredData>();
  for (const event of await store.readStream(AUDIT_ANCHORS_STREAM)) {
    if (event.type !== 'AuditRangeAnchored') continue;
    const data = event.data as AuditRangeAnchoredData;
    records.set(data.fromPosition, data);
  }
  return records;
}

const asLeafSource = (event: RecordedEvent) => event as unknown as AuditLeafSource;

/**
 * Checks every range anchored on-chain against the audit stream: recomputes each range's Merkle root
 * from the events the store holds now and compares it with the root in the contract. On a mismatch it
 * names the first event that differs: from the hashes recorded when the range was anchored, when
 * those still give the on-chain root (so they are authentic), else the range's first event. Ranges are
 * checked in order and the check stops at the first mismatch.
 */
export async function verifyAuditAnchors(
  store: EventStore,
  contract: HealthRecordAccessControl,
  now: Date,
): Promise<AnchorVerificationReport> {
  const runner = contract.runner?.provider;
  if (!runner) throw new Error('the contract has no provider to read from');
  const chainBlock = await runner.getBlockNumber();
  const at = { blockTag: chainBlock };
  const next = Number(await contract.nextAuditPosition(at));
  const head = (await store.readStream(AUDIT_STREAM, { fromRevision: Math.max(0, next - 1) })).at(-1);
  const storedEvents = head ? head.revision + 1 : 0;
  const records = await anchorRecords(store);

  let anchoredRanges = 0;
  let verifiedRanges = 0;
  let firstMismatch: AnchorMismatch | null = null;
  let from = 0;
  while (from < next) {
    const anchor = await contract.auditAnchor(from, at);
    const to = Number(anchor.toPosition);
    const anchoredRoot = anchor.root.toLowerCase();
    anchoredRanges++;
    if (firstMismatch) {
      from = to + 1;
      continue;
    }
    const events = await store.readStream(AUDIT_STREAM, { fromRevision: from, maxCount: to - from + 1 });
    const values: AuditLeafValue[] = events.map((e) => auditLeafValue(asLeafSource(e)));
    const mismatch = (index: number, reason: string): AnchorMismatch => ({
      position: from + index,
      eventId: events[index]?.id ?? null,
      fromPosition: from,
      toPosition: to,
      anchoredRoot,
      reason,
    });
    if (events.length < to - from + 1) {
      firstMismatch = mismatch(
        events.length,
        'the event was anchored on-chain but is missing from the event store',
      );
    } else if (auditRoot(values) !== anchoredRoot) {
      const record = records.get(from);
      const recorded: AuditLeafValue[] | null =
        record && record.toPosition === to ? record.eventHashes.map((h, i) => [from + i, h]) : null;
      const index =
        recorded && auditRoot(recorded) === anchoredRoot
          ? values.findIndex((v, i) => v[1] !== recorded[i]![1])
          : -1;
      firstMismatch =
        index >= 0
          ? mismatch(index, 'the event differs from the one anchored on-chain')
          : mismatch(
              0,
              'the range does not match its anchored root, and no authentic record of its event hashes is left to name the event',
            );
    } else {
      verifiedRanges++;
    }
    from = to + 1;
  }
  return {
    ok: firstMismatch === null,
    checkedAt: now.toISOString(),
    chainBlock,
    anchoredRanges,
    verifiedRanges,
    anchoredEvents: next,
    unanchoredEvents: Math.max(0, storedEvents - next),
    firstMismatch,
  };
}
