import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { keccak256, toUtf8Bytes } from 'ethers';

/**
 * The audit log's Merkle leaves, as anchored on-chain by `anchorAudit(root, from, to)`.
 *
 * Leaf encoding (version 1), for event `e` at audit position `p` (its revision in the `audit` stream):
 *
 *     eventHash = keccak256(utf8(canonicalJson({
 *       id, revision, type, version, data,
 *       metadata: { actor, correlationId, causationId, occurredAt }
 *     })))
 *     leaf      = keccak256(keccak256(abi.encode(uint64 p, bytes32 eventHash)))
 *
 * `canonicalJson` is JSON with object keys sorted by UTF-16 code unit at every level and no whitespace
 * (the events hold only strings, integers, booleans, null, arrays and objects). The tree is
 * OpenZeppelin's StandardMerkleTree over `[uint64, bytes32]` values: leaves double-hashed as above,
 * sorted, pairs hashed in sorted order. So a proof verifies with `@openzeppelin/merkle-tree`'s
 * `StandardMerkleTree.verify(root, ['uint64','bytes32'], [p, eventHash], proof)` off-chain, or with
 * OpenZeppelin's `MerkleProof.verify(proof, root, leaf)` in a contract. The store's global position and
 * the time of writing are left out on purpose: they differ between event store adapters and copies.
 */
export const AUDIT_LEAF_ENCODING: readonly string[] = ['uint64', 'bytes32'];
export const AUDIT_LEAF_VERSION = 'custos-audit-leaf-v1';

/** The parts of a recorded audit event that its hash covers. */
export interface AuditLeafSource {
  id: string;
  revision: number;
  type: string;
  version: number;
  data: unknown;
  metadata: { actor: string; correlationId: string; causationId: string; occurredAt: string };
}

/** A leaf's values: its audit position and its event hash. */
export type AuditLeafValue = [position: number, eventHash: string];

/** JSON with sorted keys and no whitespace, so that equal data always gives equal bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite number');
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`cannot encode ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** keccak256 of the event's canonical JSON (see the leaf encoding above). */
export function auditEventHash(event: AuditLeafSource): string {
  const { actor, correlationId, causationId, occurredAt } = event.metadata;
  return keccak256(
    toUtf8Bytes(
      canonicalJson({
        id: event.id,
        revision: event.revision,
        type: event.type,
        version: event.version,
        data: event.data,
        metadata: { actor, correlationId, causationId, occurredAt },
      }),
    ),
  );
}

export function auditLeafValue(event: AuditLeafSource): AuditLeafValue {
  return [event.revision, auditEventHash(event)];
}

/** The tree over consecutive audit positions; `values[i]` must be at position `values[0][0] + i`. */
export function auditTree(values: readonly AuditLeafValue[]): StandardMerkleTree<AuditLeafValue> {
  if (values.length === 0) throw new RangeError('an anchored range holds at least one event');
  values.forEach(([position], i) => {
    if (position !== values[0]![0] + i) throw new RangeError(`position ${position} out of sequence`);
  });
  return StandardMerkleTree.of(
    values.map(([p, h]) => [p, h] as AuditLeafValue),
    [...AUDIT_LEAF_ENCODING],
  );
}

/** The root the contract holds for a range with these leaves. */
export function auditRoot(values: readonly AuditLeafValue[]): string {
  return auditTree(values).root;
}

/** Checks an inclusion proof against an anchored root. */
export function verifyAuditProof(root: string, value: AuditLeafValue, proof: readonly string[]): boolean {
  try {
    return StandardMerkleTree.verify(root, [...AUDIT_LEAF_ENCODING], value, [...proof]);
  } catch {
    return false;
  }
}
