import { Controller, Get, Inject, Param } from '@nestjs/common';
import {
  AUDIT_LEAF_ENCODING,
  AUDIT_LEAF_VERSION,
  type AuditLeafSource,
  auditLeafValue,
  auditTree,
} from '@custos/chain';
import { AUDIT_STREAM, conflict, notFound } from '@custos/domain';
import { AuditRecorder } from '../audit/audit-recorder';
import { Roles } from '../auth/roles.decorator';
import { APP_CONFIG } from '../config/config.module';
import { type AppConfig, durationInWords } from '../config/config.schema';
import type { CommandContext } from '../core/aggregate-repository';
import { IdParam } from '../core/id-param';
import { Context } from '../core/request-context';
import { EVENT_STORE } from '../event-store/event-store.module';
import type { EventStore } from '../event-store/event-store.port';
import type { AuditAnchorDocument, AuditDocument } from '../projections/read-models';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { ReadModelStore } from '../read-models/read-model.port';
import type { AnchorVerificationReport } from './anchor-verifier';
import { AuditAnchorService } from './audit-anchor.service';

/** An audit event's inclusion proof in the Merkle root anchored on-chain for its range. */
export interface AuditProof {
  eventId: string;
  /** The event's audit position (its revision in the `audit` stream). */
  position: number;
  /** keccak256 of the event's canonical JSON: with `position`, the leaf's values. */
  eventHash: string;
  /** The leaf: keccak256(keccak256(abi.encode(uint64 position, bytes32 eventHash))). */
  leaf: string;
  proof: string[];
  root: string;
  fromPosition: number;
  toPosition: number;
  leafEncoding: { version: string; types: readonly string[] };
  anchor: {
    chainId: number;
    contract: string;
    transactionHash: string | null;
    blockNumber: number | null;
    anchoredAt: string;
  };
}

/** Compliance officers' evidence that the audit log is the one anchored on-chain. */
@Controller('audit')
export class AnchoringController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    private readonly anchors: AuditAnchorService,
    private readonly recorder: AuditRecorder,
  ) {}

  /**
   * The inclusion proof of one audit event in its anchored range, and the anchoring transaction.
   * 404 when the event is unknown or not anchored yet; 409 when the event store no longer gives the
   * anchored root (run `GET /audit/verification` to find the event that changed).
   */
  @Get('proof/:id')
  @Roles('auditor')
  async proof(@Context() context: CommandContext, @Param() params: IdParam): Promise<AuditProof> {
    const entry = await this.readModels.get<AuditDocument>('audit', params.id);
    if (!entry) throw notFound('audit_event_not_found', `no audit event ${params.id}`);
    const position = entry.sequence;
    const [anchor] = (
      await this.readModels.find<AuditAnchorDocument>('audit_anchors', {
        range: { field: 'fromPosition', lt: position + 1 },
        sort: { field: 'fromPosition', direction: 'desc' },
        limit: 1,
      })
    ).items;
    if (!anchor || anchor.toPosition < position) {
      throw notFound(
        'not_anchored_yet',
        `audit event ${params.id} (position ${position}) is not anchored on-chain yet; the next anchor is due within ${durationInWords(this.config.AUDIT_ANCHOR_INTERVAL)}`,
      );
    }
    const events = await this.store.readStream(AUDIT_STREAM, {
      fromRevision: anchor.fromPosition,
      maxCount: anchor.toPosition - anchor.fromPosition + 1,
    });
    const values = events.map((e) => auditLeafValue(e as unknown as AuditLeafSource));
    const tree = auditTree(values);
    if (events.length !== anchor.toPosition - anchor.fromPosition + 1 || tree.root !== anchor.root) {
      throw conflict(
        'audit_log_mismatch',
        `the audit events at positions ${anchor.fromPosition}..${anchor.toPosition} no longer give the root anchored on-chain; GET /audit/verification names the first event that changed`,
      );
    }
    const index = position - anchor.fromPosition;
    const value = values[index]!;
    await this.audited(context, `audit/proof/${params.id}`, entry.patient);
    return {
      eventId: params.id,
      position,
      eventHash: value[1],
      leaf: tree.leafHash(value),
      proof: tree.getProof(index),
      root: anchor.root,
      fromPosition: anchor.fromPosition,
      toPosition: anchor.toPosition,
      leafEncoding: { version: AUDIT_LEAF_VERSION, types: AUDIT_LEAF_ENCODING },
      anchor: {
        chainId: this.config.CHAIN_ID,
        contract: this.anchors.contractAddress ?? '',
        transactionHash: anchor.txHash,
        blockNumber: anchor.blockNumber,
        anchoredAt: anchor.anchoredAt,
      },
    };
  }

  /**
   * Checks every anchored range against the event store now: the first event that does not match, if
   * any. 503 without a contract. The check is audited once it has run.
   */
  @Get('verification')
  @Roles('auditor')
  async verification(@Context() context: CommandContext): Promise<AnchorVerificationReport> {
    const report = await this.anchors.verify(context.now);
    await this.audited(context, 'audit/verification', null);
    return report;
  }

  private audited(context: CommandContext, resource: string, patient: string | null) {
    return this.recorder.record(
      {
        actor: context.actor,
        patient,
        resource,
        action: 'read',
        purpose: 'compliance review',
        outcome: 'allowed',
        reason: 'auditor role',
      },
      context,
    );
  }
}
