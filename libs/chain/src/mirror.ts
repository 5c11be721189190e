// The chain mirror: contract logs in, domain events out. It reads the contract's logs block range by
// block range from where it stopped, turns each log into one event for its aggregate's stream, and
// hands the events to an append port. It knows nothing of Nest or of the event store: the API wires it
// to the store (apps/api/src/chain), tests wire it to an array.
//
// Relative import on purpose: Hardhat's test runner loads libs/chain without tsconfig path mapping.
import { type Interface, type LogDescription, ZeroHash, id as keccakText } from 'ethers';
import {
  type ChainFactEvent,
  type ChainMirrorEvent,
  consentStream,
  type ConsentEvent,
  chainStream,
  directoryStream,
  type DirectoryEvent,
  type EmergencyEvent,
  type EventDraft,
  type EventMetadata,
  type MirroredLog,
  type MirrorState,
  mirrorStream,
  type NewEvent,
  type Role,
  emergencyStream,
} from '../../domain/src/index';
import { categoryName } from './categories';
import { HealthRecordAccessControl__factory } from './typechain';

// ------------------------------------------------------------------------------------------ ports

/** A log as `eth_getLogs` returns it (ethers' `Log` fits). */
export interface ChainLog {
  readonly blockNumber: number;
  readonly blockHash: string;
  readonly transactionHash: string;
  /** The log's index in its block. */
  readonly index: number;
  readonly address: string;
  readonly topics: readonly string[];
  readonly data: string;
  readonly removed?: boolean;
}

/** A block header, as much as the mirror needs (ethers' `Block` fits). */
export interface ChainBlock {
  readonly number: number;
  readonly hash: string | null;
  /** Unix seconds. */
  readonly timestamp: number;
}

/** The reads the mirror makes: a subset of ethers' JsonRpcProvider. */
export interface ChainReader {
  getBlockNumber(): Promise<number>;
  getBlock(blockNumber: number): Promise<ChainBlock | null>;
  getLogs(filter: { address: string; fromBlock: number; toBlock: number }): Promise<readonly ChainLog[]>;
  /** Used to find the deployment block when no start block is given (optional). */
  getCode?(address: string, blockTag: number): Promise<string>;
}

/** Where the mirror's events go. */
export interface MirrorSink {
  /**
   * Appends to `stream`. Must be idempotent per event id (the event store is): the mirror re-reads
   * blocks after a restart, a failed poll or a reorg and appends the same ids again.
   */
  append(stream: string, events: readonly NewEvent[]): Promise<void>;
  /** The last event of `stream` (the mirror reads its own checkpoint stream), if any. */
  lastEvent(stream: string): Promise<{ type: string; data: unknown } | undefined>;
}

export interface MirrorLogger {
  log?(message: string): void;
  warn?(message: string): void;
  error?(message: string): void;
}

export interface ChainMirrorOptions {
  reader: ChainReader;
  sink: MirrorSink;
  /** The contract's address (any case). */
  contract: string;
  chainId: number;
  /**
   * First block to read when there is no checkpoint yet (the deployment block). When omitted, the
   * mirror finds the block the contract's code appeared in (if the reader has getCode), else reads
   * from block 0.
   */
  startBlock?: number;
  /** A log is final once its block has this many confirmations (its own block counts). Default 1. */
  confirmations?: number;
  /** Between polls while the node answers (ms). Default 1000. */
  pollIntervalMs?: number;
  /** Most blocks one eth_getLogs covers. Default 1000 (halved while the node says the range is too large). */
  maxBlockSpan?: number;
  /** Retry delays while polls fail: `initialMs`, doubled after each failure, at most `maxMs`. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** How many blocks back the mirror remembers hashes and appended events, to handle reorgs. Default 128. */
  reorgWindow?: number;
  /** How long (in blocks) an orphaned log is watched for, to append it again when it is re-included. Default 1024. */
  reinclusionWindow?: number;
  /** A checkpoint is written for every range with logs, and after this many blocks without. Default 1000. */
  checkpointEveryBlocks?: number;
  logger?: MirrorLogger;
  /** The clock, for the time of a detected reorg. */
  now?: () => Date;
}

export type MirrorRunState = 'idle' | 'running' | 'failing' | 'stopped';

export interface ChainMirrorStatus {
  /** idle: not started; running: the last poll succeeded; failing: polls fail, retrying with backoff. */
  state: MirrorRunState;
  contract: string;
  /** Last block mirrored (null before the first). */
  mirroredBlock: number | null;
  /** Chain head at the last successful look. */
  headBlock: number | null;
  /** headBlock - mirroredBlock (includes the confirmation depth). */
  lagBlocks: number | null;
  consecutiveFailures: number;
  /** Why the last poll failed, while failing. */
  lastError: string | null;
  /** When the next attempt is due, while failing. */
  retryAt: Date | null;
  lastSuccessAt: Date | null;
  /** Reorgs detected since the mirror was created. */
  reorgs: number;
}

export interface PollResult {
  head: number;
  /** Last block mirrored after the poll (null when nothing is final yet). */
  mirroredBlock: number | null;
  /** Events handed to the sink (including ones it already had). */
  appended: number;
  reorg: boolean;
}

// ------------------------------------------------------------------------------------------ decoding

const ROLE_IDS: ReadonlyMap<string, Role> = new Map<string, Role>([
  [ZeroHash, 'admin'],
  [keccakText('PROVIDER_ROLE'), 'provider'],
  [keccakText('EMERGENCY_ROLE'), 'emergency'],
  [keccakText('AUDITOR_ROLE'), 'auditor'],
  [keccakText('ANCHOR_ROLE'), 'anchor'],
]);

/** The domain role of a contract role id; undefined for a role that is not ours. */
export function roleOf(roleId: string): Role | undefined {
  return ROLE_IDS.get(roleId.toLowerCase());
}

/** The contract's ABI, for decoding its logs. */
export const contractInterface: Interface = HealthRecordAccessControl__factory.createInterface();

export type MirroredEventDraft = ConsentEvent | DirectoryEvent | EmergencyEvent | ChainFactEvent;

/** One log turned into an event draft for a stream. */
export interface MappedLog {
  stream: string;
  draft: MirroredEventDraft;
}

const address = (value: unknown): string => String(value).toLowerCase();
const hex = (value: unknown): string => String(value).toLowerCase();
const category = (value: unknown): string => categoryName(String(value)) ?? hex(value);
const int = (value: unknown): number => Number(value as bigint);

function stringify(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return JSON.stringify(value.map(stringify));
  return typeof value === 'string' ? value.toLowerCase() : String(value);
}

function otherEvent(contract: string, parsed: LogDescription): MappedLog {
  const args: Record<string, string> = {};
  parsed.fragment.inputs.forEach((input, i) => {
    args[input.name || String(i)] = stringify(parsed.args[i]);
  });
  return {
    stream: chainStream(contract),
    draft: { type: 'ContractEventRecorded', version: 1, data: { name: parsed.name, args } },
  };
}

/**
 * The event a decoded contract log stands for, and its stream. Consent, role and emergency logs feed
 * their aggregates; every other log is a fact of the `chain-<contract>` stream.
 */
export function mapContractLog(contract: string, parsed: LogDescription): MappedLog {
  const a = parsed.args;
  switch (parsed.name) {
    case 'AccessGranted': {
      const patient = address(a.patient);
      return {
        stream: consentStream(patient),
        draft: {
          type: 'ConsentGranted',
          version: 1,
          data: {
            patient,
            provider: address(a.provider),
            category: category(a.category),
            expiresAt: int(a.expiresAt),
          },
        },
      };
    }
    case 'AccessRevoked': {
      const patient = address(a.patient);
      return {
        stream: consentStream(patient),
        draft: {
          type: 'ConsentRevoked',
          version: 1,
          data: { patient, provider: address(a.provider), category: category(a.category) },
        },
      };
    }
    case 'RoleGranted':
    case 'RoleRevoked': {
      const role = roleOf(String(a.role));
      if (!role) return otherEvent(contract, parsed);
      const account = address(a.account);
      return {
        stream: directoryStream(account),
        draft: { type: parsed.name, version: 1, data: { account, role } },
      };
    }
    case 'EmergencyAccessStarted': {
      const patient = address(a.patient);
      return {
        stream: emergencyStream(patient),
        draft: {
          type: 'EmergencyAccessStarted',
          version: 1,
          data: {
            patient,
            provider: address(a.provider),
            reasonHash: hex(a.reasonHash),
            expiresAt: int(a.expiresAt),
          },
        },
      };
    }
    case 'EmergencyAccessEnded': {
      const patient = address(a.patient);
      return {
        stream: emergencyStream(patient),
        draft: {
          type: 'EmergencyAccessEnded',
          version: 1,
          data: { patient, provider: address(a.provider), endedBy: address(a.endedBy) },
        },
      };
    }
    case 'RecordRegistered':
      return {
        stream: chainStream(contract),
        draft: {
          type: 'RecordRegistered',
          version: 1,
          data: {
            patient: address(a.patient),
            recordId: hex(a.recordId),
            category: category(a.category),
            supersedes: hex(a.supersedes) === ZeroHash ? null : hex(a.supersedes),
          },
        },
      };
    case 'RecordAccessed':
      return {
        stream: chainStream(contract),
        draft: {
          type: 'RecordAccessed',
          version: 1,
          data: {
            patient: address(a.patient),
            accessor: address(a.accessor),
            recordId: hex(a.recordId),
            action: hex(a.action),
          },
        },
      };
    case 'AuditAnchored':
      return {
        stream: chainStream(contract),
        draft: {
          type: 'AuditAnchored',
          version: 1,
          data: { root: hex(a.root), fromPosition: int(a.fromPosition), toPosition: int(a.toPosition) },
        },
      };
    case 'Paused':
    case 'Unpaused':
      return {
        stream: chainStream(contract),
        draft: {
          type: parsed.name === 'Paused' ? 'ContractPaused' : 'ContractUnpaused',
          version: 1,
          data: { account: address(a.account) },
        },
      };
    default:
      return otherEvent(contract, parsed);
  }
}

/** A log the contract's ABI does not describe (kept, undecoded). */
function undecodedLog(contract: string, log: ChainLog): MappedLog {
  const args: Record<string, string> = { data: log.data.toLowerCase() };
  log.topics.forEach((topic, i) => (args[`topic${i}`] = topic.toLowerCase()));
  return {
    stream: chainStream(contract),
    draft: { type: 'ContractEventRecorded', version: 1, data: { name: 'unknown', args } },
  };
}

/** The event id of a log: `txHash:logIndex`, so reading a log twice appends it once. */
export const logEventId = (log: Pick<ChainLog, 'transactionHash' | 'index'>): string =>
  `${log.transactionHash.toLowerCase()}:${log.index}`;

/** The id a log was first appended under, without the `@blockHash` of a re-inclusion. */
const baseId = (eventId: string): string => eventId.split('@')[0] as string;

// ------------------------------------------------------------------------------------------ the mirror

/** The chain changed while a range was read; the next poll sees the reorg and handles it. */
class ChainMovedError extends Error {
  override readonly name = 'ChainMovedError';
}

/** stop() was called: abandon the poll without writing anything more. */
class MirrorStoppedError extends Error {
  override readonly name = 'MirrorStoppedError';
}

/** The node's ways of saying an eth_getLogs range is too large (geth, Alchemy, Infura, QuickNode...). */
const isRangeTooLarge = (error: unknown): boolean =>
  /block range|range (is )?too (large|wide|big)|too many (results|logs|blocks)|response size|returned more than|limited to a/i.test(
    describeError(error),
  );

/** A short, single-line description of an RPC or store error. */
export function describeError(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string; code?: string } | undefined;
  const text = e?.shortMessage ?? e?.message ?? String(error);
  const code = e?.code && !text.includes(e.code) ? ` (${e.code})` : '';
  return `${text}${code}`.replace(/\s+/g, ' ').slice(0, 300);
}

const delay = (ms: number, signal: { wake?: () => void }) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });

/**
 * Mirrors one contract's logs into domain events.
 *
 * - Finality: only blocks up to `head - confirmations + 1` are read.
 * - Idempotence: each event's id is `txHash:logIndex`; the sink ignores ids it has.
 * - Checkpoint: the latest `mirror-<contract>` event (ChainMirrored or ChainReorgDetected) carries the
 *   whole MirrorState; the mirror resumes from it.
 * - Reorgs: every poll checks that the last mirrored block is still canonical; if not, it finds the
 *   newest known block that is, appends ChainReorgDetected naming the events of the orphaned blocks,
 *   and reads again from there.
 * - Outages: a failed poll is retried with exponential backoff; the mirror never throws out of its loop.
 */
export class ChainMirror {
  readonly contract: string;
  private readonly reader: ChainReader;
  private readonly sink: MirrorSink;
  private readonly confirmations: number;
  private readonly pollIntervalMs: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly reorgWindow: number;
  private readonly reinclusionWindow: number;
  private readonly checkpointEveryBlocks: number;
  private readonly logger: MirrorLogger;
  private readonly now: () => Date;
  private span: number;

  private state: MirrorState | undefined;
  private lastCheckpointBlock = -1;
  private serial: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> | undefined;
  private running = false;
  private stopped = false;
  private readonly sleeper: { wake?: () => void } = {};
  private current: ChainMirrorStatus;

  constructor(private readonly options: ChainMirrorOptions) {
    this.contract = options.contract.toLowerCase();
    this.reader = options.reader;
    this.sink = options.sink;
    this.confirmations = Math.max(1, options.confirmations ?? 1);
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.backoffInitialMs = options.backoff?.initialMs ?? 1_000;
    this.backoffMaxMs = Math.max(this.backoffInitialMs, options.backoff?.maxMs ?? 30_000);
    this.reorgWindow = Math.max(this.confirmations + 1, options.reorgWindow ?? 128);
    this.reinclusionWindow = options.reinclusionWindow ?? 1024;
    this.checkpointEveryBlocks = options.checkpointEveryBlocks ?? 1_000;
    this.span = Math.max(1, options.maxBlockSpan ?? 1_000);
    this.logger = options.logger ?? {};
    this.now = options.now ?? (() => new Date());
    this.current = {
      state: 'idle',
      contract: this.contract,
      mirroredBlock: null,
      headBlock: null,
      lagBlocks: null,
      consecutiveFailures: 0,
      lastError: null,
      retryAt: null,
      lastSuccessAt: null,
      reorgs: 0,
    };
  }

  /** The mirror's health, for /health and metrics. */
  status(): ChainMirrorStatus {
    return { ...this.current };
  }

  /** Polls for the life of the mirror, in the background, until stop(). */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.current.state = 'running';
    this.loop = this.run();
  }

  /**
   * Stops polling: no append starts once this is called, and the poll in progress is abandoned (its
   * blocks are read again by the next mirror, which appends nothing twice). A request in flight is
   * awaited at most `graceMs`.
   */
  async stop(graceMs = 2_000): Promise<void> {
    this.stopped = true;
    this.running = false;
    this.current.state = 'stopped';
    this.sleeper.wake?.();
    if (!this.loop) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.loop,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** One poll: checks for a reorg, then mirrors every final block not mirrored yet. Throws on failure. */
  poll(): Promise<PollResult> {
    if (this.stopped) return Promise.reject(new MirrorStoppedError('the mirror was stopped'));
    const next = this.serial.then(() => this.pollNow());
    this.serial = next.catch(() => undefined);
    return next;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let wait = this.pollIntervalMs;
      try {
        await this.poll();
        if (this.current.consecutiveFailures > 0) {
          this.logger.log?.(
            `chain mirror: polling again after ${this.current.consecutiveFailures} failed attempt(s); at block ${this.current.mirroredBlock}`,
          );
        }
        this.current = {
          ...this.current,
          state: this.running ? 'running' : 'stopped',
          consecutiveFailures: 0,
          lastError: null,
          retryAt: null,
        };
      } catch (error) {
        if (!this.running) break;
        const failures = this.current.consecutiveFailures + 1;
        wait = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** Math.min(failures - 1, 30));
        const reason = describeError(error);
        this.current = {
          ...this.current,
          state: 'failing',
          consecutiveFailures: failures,
          lastError: reason,
          retryAt: new Date(Date.now() + wait),
        };
        // 1st, 2nd, 4th, 8th... failure: the log stays short however long the outage lasts.
        if ((failures & (failures - 1)) === 0) {
          this.logger.warn?.(
            `chain mirror: poll failed (${failures} in a row), retrying in ${wait} ms: ${reason}`,
          );
        }
      }
      if (this.running) await delay(wait, this.sleeper);
    }
  }

  private async pollNow(): Promise<PollResult> {
    const state = this.state ?? (await this.loadState());
    const head = await this.reader.getBlockNumber();
    this.current.headBlock = head;
    let reorg = false;
    if (state.block) {
      const block = await this.reader.getBlock(state.block.number);
      if (block?.hash?.toLowerCase() !== state.block.hash) {
        await this.handleReorg(head);
        reorg = true;
      }
    }
    const safeHead = head - this.confirmations + 1;
    let appended = 0;
    while ((this.state as MirrorState).nextBlock <= safeHead) {
      this.assertNotStopped();
      const from = (this.state as MirrorState).nextBlock;
      appended += await this.mirrorRange(from, Math.min(from + this.span - 1, safeHead));
    }
    const mirroredBlock = (this.state as MirrorState).block?.number ?? null;
    this.current = {
      ...this.current,
      mirroredBlock,
      headBlock: head,
      lagBlocks: mirroredBlock === null ? null : Math.max(0, head - mirroredBlock),
      lastSuccessAt: this.now(),
    };
    return { head, mirroredBlock, appended, reorg };
  }

  private assertNotStopped(): void {
    if (this.stopped) throw new MirrorStoppedError('the mirror was stopped');
  }

  /** Resumes from the latest checkpoint, or starts at the deployment block. */
  private async loadState(): Promise<MirrorState> {
    const last = await this.sink.lastEvent(mirrorStream(this.contract));
    if (last && (last.type === 'ChainMirrored' || last.type === 'ChainReorgDetected')) {
      const state = (last.data as { state: MirrorState }).state;
      this.state = state;
      this.lastCheckpointBlock = state.block?.number ?? -1;
      this.current.mirroredBlock = state.block?.number ?? null;
      return state;
    }
    const startBlock = this.options.startBlock ?? (await this.findDeployBlock());
    this.state = { block: null, nextBlock: startBlock, knownBlocks: [], recent: [], orphaned: [] };
    this.logger.log?.(`chain mirror: no checkpoint yet, reading ${this.contract} from block ${startBlock}`);
    return this.state;
  }

  /**
   * The first block with the contract's code (binary search over eth_getCode), or 0 when the node
   * cannot tell (no historical state). Throws while the node is unreachable, so the poll is retried.
   */
  private async findDeployBlock(): Promise<number> {
    const getCode = this.reader.getCode?.bind(this.reader);
    if (!getCode) return 0;
    const head = await this.reader.getBlockNumber();
    try {
      if ((await getCode(this.contract, head)) === '0x') {
        this.logger.warn?.(`chain mirror: there is no contract at ${this.contract} on this chain (yet)`);
        return 0;
      }
      let low = 0;
      let high = head;
      while (low < high) {
        const middle = Math.floor((low + high) / 2);
        if ((await getCode(this.contract, middle)) === '0x') low = middle + 1;
        else high = middle;
      }
      return low;
    } catch (error) {
      await this.reader.getBlockNumber(); // the node went away: fail the poll and try again later
      this.logger.warn?.(
        `chain mirror: could not find the deployment block (${describeError(error)}); reading from block 0`,
      );
      return 0;
    }
  }

  /** Reads [from, to] (or a smaller range when the node refuses it), appends its events, checkpoints. */
  private async mirrorRange(from: number, to: number): Promise<number> {
    const state = this.state as MirrorState;
    const end = await this.reader.getBlock(to);
    if (!end?.hash) throw new ChainMovedError(`block ${to} is not available yet`);
    let logs: readonly ChainLog[];
    try {
      logs = await this.reader.getLogs({ address: this.contract, fromBlock: from, toBlock: to });
    } catch (error) {
      if (to > from && isRangeTooLarge(error)) {
        this.span = Math.max(1, Math.floor((to - from + 1) / 2));
        this.logger.warn?.(
          `chain mirror: the node refused ${to - from + 1} blocks per query; trying ${this.span}`,
        );
        return 0;
      }
      throw error;
    }
    const ordered = logs
      .filter((log) => !log.removed && log.address.toLowerCase() === this.contract)
      .slice()
      .sort((x, y) => x.blockNumber - y.blockNumber || x.index - y.index);

    // Headers of the blocks with logs (for their time), each checked against the log's block hash.
    const headers = new Map<number, ChainBlock>([[to, end]]);
    for (const blockNumber of new Set(ordered.map((log) => log.blockNumber))) {
      if (!headers.has(blockNumber)) {
        const header = await this.reader.getBlock(blockNumber);
        if (!header) throw new ChainMovedError(`block ${blockNumber} disappeared while it was read`);
        headers.set(blockNumber, header);
      }
    }
    for (const log of ordered) {
      if (headers.get(log.blockNumber)?.hash?.toLowerCase() !== log.blockHash.toLowerCase()) {
        throw new ChainMovedError(`block ${log.blockNumber} changed while it was read`);
      }
    }
    // The range still hangs off the last mirrored block, and its end did not move: no reorg under us.
    const [endAgain, previous] = await Promise.all([
      this.reader.getBlock(to),
      state.block ? this.reader.getBlock(state.block.number) : Promise.resolve(null),
    ]);
    if (endAgain?.hash !== end.hash || (state.block && previous?.hash?.toLowerCase() !== state.block.hash)) {
      throw new ChainMovedError(`the chain changed while blocks ${from}-${to} were read`);
    }

    const reincluded = new Set(state.orphaned.map((o) => o.id));
    const appended: MirroredLog[] = [];
    for (const log of ordered) {
      this.assertNotStopped();
      const header = headers.get(log.blockNumber) as ChainBlock;
      const parsed = this.decode(log);
      const mapped = parsed ? mapContractLog(this.contract, parsed) : undecodedLog(this.contract, log);
      const base = logEventId(log);
      const eventId = reincluded.has(base) ? `${base}@${log.blockHash.toLowerCase()}` : base;
      const event = this.stamp(mapped.draft, eventId, log, header);
      await this.sink.append(mapped.stream, [event]);
      appended.push({
        id: eventId,
        stream: mapped.stream,
        blockNumber: log.blockNumber,
        blockHash: log.blockHash.toLowerCase(),
      });
    }

    const horizon = to - this.reorgWindow;
    const known = new Map<number, string>(state.knownBlocks.map((b) => [b.number, b.hash]));
    known.set(to, end.hash.toLowerCase());
    for (const log of appended) known.set(log.blockNumber, log.blockHash);
    const recentIds = new Set(state.recent.map((r) => r.id));
    const next: MirrorState = {
      block: { number: to, hash: end.hash.toLowerCase() },
      nextBlock: to + 1,
      knownBlocks: [...known]
        .filter(([number]) => number > horizon)
        .sort(([x], [y]) => x - y)
        .map(([number, hash]) => ({ number, hash })),
      recent: [...state.recent, ...appended.filter((a) => !recentIds.has(a.id))].filter(
        (r) => r.blockNumber > horizon,
      ),
      orphaned: state.orphaned.filter((o) => o.blockNumber > to - this.reinclusionWindow),
    };
    if (appended.length > 0 || to - this.lastCheckpointBlock >= this.checkpointEveryBlocks) {
      this.assertNotStopped();
      const checkpoint: ChainMirrorEvent = {
        type: 'ChainMirrored',
        version: 1,
        data: {
          fromBlock: from,
          toBlock: to,
          blockHash: next.block!.hash,
          logs: appended.length,
          state: next,
        },
      };
      await this.sink.append(mirrorStream(this.contract), [
        this.stampMirrorEvent(checkpoint, `mirrored:${to}:${next.block!.hash}`, this.timeOf(end)),
      ]);
      this.lastCheckpointBlock = to;
    }
    this.state = next;
    this.current.mirroredBlock = to;
    if (this.current.headBlock !== null) this.current.lagBlocks = Math.max(0, this.current.headBlock - to);
    return appended.length;
  }

  /**
   * The last mirrored block is no longer canonical: find the newest known block that still is, name
   * the events appended from the blocks after it, and continue from there.
   */
  private async handleReorg(head: number): Promise<void> {
    const state = this.state as MirrorState;
    const replaced = state.block as { number: number; hash: string };
    const candidates = state.knownBlocks
      .filter((b) => b.number <= head && b.number !== replaced.number)
      .sort((x, y) => y.number - x.number);
    let fork: { number: number; hash: string } | null = null;
    for (const candidate of candidates) {
      const block = await this.reader.getBlock(candidate.number);
      if (block?.hash?.toLowerCase() === candidate.hash) {
        fork = candidate;
        break;
      }
    }
    const forkBlock = fork ? fork.number : (this.options.startBlock ?? 0) - 1;
    if (!fork) {
      this.logger.error?.(
        `chain mirror: none of the ${candidates.length} recent blocks it knows is on the chain any more (was the chain reset?); reading again from block ${forkBlock + 1}. Events from blocks older than the last ${this.reorgWindow} are not listed as orphaned.`,
      );
    }
    const orphaned = state.recent.filter((r) => r.blockNumber > forkBlock);
    const next: MirrorState = {
      block: fork,
      nextBlock: forkBlock + 1,
      knownBlocks: state.knownBlocks.filter((b) => b.number <= forkBlock),
      recent: state.recent.filter((r) => r.blockNumber <= forkBlock),
      orphaned: [
        ...state.orphaned,
        ...orphaned
          .map((o) => ({ id: baseId(o.id), blockNumber: o.blockNumber }))
          .filter((o) => !state.orphaned.some((known) => known.id === o.id)),
      ],
    };
    const event: ChainMirrorEvent = {
      type: 'ChainReorgDetected',
      version: 1,
      data: { replaced, forkBlock, orphaned, state: next },
    };
    this.assertNotStopped();
    await this.sink.append(mirrorStream(this.contract), [
      this.stampMirrorEvent(event, `reorg:${replaced.number}:${replaced.hash}`, this.now().toISOString()),
    ]);
    this.state = next;
    this.lastCheckpointBlock = forkBlock;
    this.current.reorgs += 1;
    this.current.mirroredBlock = fork?.number ?? null;
    this.logger.warn?.(
      `chain mirror: reorg detected, block ${replaced.number} ${replaced.hash} was replaced; reading again from block ${forkBlock + 1}; ${orphaned.length} event(s) came from orphaned blocks`,
    );
  }

  private decode(log: ChainLog): LogDescription | null {
    try {
      return contractInterface.parseLog({ topics: [...log.topics], data: log.data });
    } catch {
      return null;
    }
  }

  private timeOf(block: ChainBlock): string {
    return new Date(block.timestamp * 1000).toISOString();
  }

  private stamp(draft: EventDraft, eventId: string, log: ChainLog, block: ChainBlock): NewEvent {
    const txHash = log.transactionHash.toLowerCase();
    const metadata: EventMetadata = {
      actor: 'chain',
      correlationId: txHash,
      causationId: txHash,
      occurredAt: this.timeOf(block),
      chain: {
        chainId: this.options.chainId,
        blockNumber: log.blockNumber,
        blockHash: log.blockHash.toLowerCase(),
        txHash,
        logIndex: log.index,
      },
    };
    return { ...draft, id: eventId, metadata };
  }

  private stampMirrorEvent(draft: EventDraft, eventId: string, occurredAt: string): NewEvent {
    return {
      ...draft,
      id: eventId,
      metadata: { actor: 'chain', correlationId: eventId, causationId: eventId, occurredAt },
    };
  }
}
