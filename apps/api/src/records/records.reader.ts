import { Inject, Injectable, InternalServerErrorException, Logger } from '@nestjs/common';
import { conflict, forbidden, invalid, notFound } from '@custos/domain';
import {
  BLOB_STORE,
  BlobIntegrityError,
  type BlobStore,
  BlobStoreUnavailableError,
} from '../blob-store/blob-store.port';
import type { CommandContext } from '../core/aggregate-repository';
import { findAll } from '../core/find-all';
import type { Page } from '../read-models/read-model.port';
import type { ReadModelStore } from '../read-models/read-model.port';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import { type AuditGate, RecordAccess, type RecordAccessBasis } from './record-access';
import type { RecordDetailView, RecordKeyView, RecordView } from './records.dto';
import { type RecordDocument, type RecordKeyDocument, recordKeyId } from './records.projection';

const DEFAULT_PAGE = 50;

function view(doc: RecordDocument): RecordView {
  return {
    id: doc.id,
    patient: doc.patient,
    cid: doc.cid,
    category: doc.category,
    size: doc.size,
    supersedes: doc.supersedes,
    supersededBy: doc.supersededBy,
    status: doc.status,
    submittedAt: doc.submittedAt,
    registeredAt: doc.registeredAt,
    metadata: doc.metadata,
  };
}

/** Newest first; ties by id. The cursor is the last item's place in that order. */
const newestFirst = (a: RecordDocument, b: RecordDocument) =>
  b.submittedAt.localeCompare(a.submittedAt) || b.id.localeCompare(a.id);

function encodeCursor(doc: RecordDocument): string {
  return Buffer.from(`${doc.submittedAt}|${doc.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { submittedAt: string; id: string } {
  const [submittedAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!submittedAt || !id) throw invalidCursor();
  return { submittedAt, id };
}

const invalidCursor = () => invalid('invalid_cursor', 'cursor is not one this list gave');

/**
 * The reading side of records, behind the record access rule (RecordAccess): lists, a version with its
 * amendment history, the ciphertext, and the caller's wrapped key. Readers other than the patient see
 * registered records only (a pending one is not yet on-chain).
 */
@Injectable()
export class RecordsReader {
  private readonly logger = new Logger('RecordsReader');

  constructor(
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    private readonly access: RecordAccess,
  ) {}

  async list(
    context: CommandContext,
    patient: string,
    cursor: string | undefined,
    limit = DEFAULT_PAGE,
  ): Promise<Page<RecordView>> {
    const gate = { patient, resource: `records:${patient}`, action: 'list_records' };
    const readable = await this.access.readable(context.actor, patient, context.now);
    if (readable.basis === null) {
      const reason =
        "no active access to any of this patient's records (no active grant, no open emergency window)";
      await this.access.deny(context, gate, reason);
      throw forbidden('no_record_access', reason);
    }
    const owner = readable.basis === 'owner';
    const all = (await findAll<RecordDocument>(this.readModels, 'records', { where: { patient } }))
      .filter(
        (r) => owner || (r.status === 'registered' && (readable.all || readable.categories.has(r.category))),
      )
      .sort(newestFirst);
    let start = 0;
    if (cursor) {
      let after: { submittedAt: string; id: string };
      try {
        after = decodeCursor(cursor);
      } catch {
        throw invalidCursor();
      }
      start = all.findIndex((r) => newestFirst(r, { ...r, ...after } as RecordDocument) > 0);
      if (start < 0) start = all.length;
    }
    const items = all.slice(start, start + limit);
    const more = start + limit < all.length;
    if (!owner) await this.access.allow(context, gate, readable.basis);
    return {
      items: items.map(view),
      nextCursor: more && items.length ? encodeCursor(items[items.length - 1]!) : null,
    };
  }

  async detail(context: CommandContext, id: string): Promise<RecordDetailView> {
    const record = await this.readable(context, id, 'read_record');
    const owner = record.patient === context.actor;
    const visible = (r: RecordDocument | null): r is RecordDocument =>
      r !== null && r.patient === record.patient && (owner || r.status === 'registered');
    // Back through `supersedes`, forward through registered amendments.
    const back: string[] = [];
    for (let r: RecordDocument | null = record; r?.supersedes;) {
      r = await this.readModels.get<RecordDocument>('records', r.supersedes);
      if (!visible(r) || back.includes(r.id)) break;
      back.unshift(r.id);
    }
    const forward: string[] = [];
    for (let r: RecordDocument | null = record; r?.supersededBy;) {
      r = await this.readModels.get<RecordDocument>('records', r.supersededBy);
      if (!visible(r) || forward.includes(r.id)) break;
      forward.push(r.id);
    }
    return { ...view(record), history: [...back, record.id, ...forward] };
  }

  /**
   * The ciphertext as stored; the reader checks its address and decrypts. Audited as allowed only once
   * the bytes are in hand: a blob missing from the store, changed at rest or unreachable is a refusal
   * on record.
   */
  async blob(context: CommandContext, id: string): Promise<Uint8Array> {
    const { record, gate, basis } = await this.permitted(context, id, 'read_record_blob', `record:${id}`);
    let bytes: Uint8Array | null;
    try {
      bytes = await this.blobs.get(record.cid);
    } catch (error) {
      if (error instanceof BlobStoreUnavailableError) {
        // Answered 503 (DomainErrorFilter); the attempt is on record as not served.
        await this.access.deny(context, gate, 'the blob store did not answer');
        throw error;
      }
      if (!(error instanceof BlobIntegrityError)) throw error;
      // Storage corruption or tampering at rest: never serve bytes that are not what was registered.
      this.logger.error(`blob ${record.cid} of record ${id} no longer matches its content address`);
      await this.access.deny(context, gate, 'the stored ciphertext no longer matches its content address');
      throw new InternalServerErrorException(
        `the stored ciphertext of record ${id} no longer matches its content address (corrupted or tampered with at rest); it is not served`,
      );
    }
    if (!bytes) {
      await this.access.deny(context, gate, 'the ciphertext is not in the blob store');
      throw notFound('blob_not_found', `the ciphertext of record ${id} is not in the blob store`);
    }
    await this.access.allow(context, gate, basis);
    return bytes;
  }

  /** The record key wrapped for the caller; each release is audited. */
  async key(context: CommandContext, id: string): Promise<RecordKeyView> {
    const { gate, basis } = await this.permitted(context, id, 'release_record_key', `record:${id}/key`);
    const shared = await this.readModels.get<RecordKeyDocument>(
      'record_keys',
      recordKeyId(id, context.actor),
    );
    if (!shared) {
      await this.access.deny(context, gate, 'the patient has not shared the record key with this reader yet');
      throw notFound(
        'record_key_not_shared',
        "the patient's app has not shared this record's key with you yet; it does when the patient next opens Custos",
      );
    }
    await this.access.allow(context, gate, basis);
    return { recordId: id, recipient: context.actor, wrappedKey: shared.wrappedKey };
  }

  /** A record the caller may read now (audited either way), or 403/404/409. */
  private async readable(context: CommandContext, id: string, action: string): Promise<RecordDocument> {
    const { record, gate, basis } = await this.permitted(context, id, action, `record:${id}`);
    await this.access.allow(context, gate, basis);
    return record;
  }

  /**
   * The record and the caller's basis for reading it now, or 403/404/409 with the refusal audited. The
   * caller audits the allowance once it has what it serves.
   */
  private async permitted(
    context: CommandContext,
    id: string,
    action: string,
    resource: string,
  ): Promise<{ record: RecordDocument; gate: AuditGate; basis: RecordAccessBasis }> {
    const record = await this.find(context, id, action);
    const gate = { patient: record.patient, resource, action };
    const decision = await this.access.decide(context.actor, record.patient, record.category, context.now);
    if (decision.basis === null) return this.access.refuse(context, gate, decision.reason);
    const basis = decision.basis;
    if (basis !== 'owner' && record.status !== 'registered') return this.notRegistered(context, gate, record);
    return { record, gate, basis };
  }

  private async find(context: CommandContext, id: string, action: string): Promise<RecordDocument> {
    const record = await this.readModels.get<RecordDocument>('records', id);
    if (!record) {
      await this.access.deny(context, { patient: null, resource: `record:${id}`, action }, 'no such record');
      throw notFound('record_not_found', `there is no record ${id}`);
    }
    return record;
  }

  private async notRegistered(
    context: CommandContext,
    gate: AuditGate,
    record: RecordDocument,
  ): Promise<never> {
    const reason = `the record is not registered on-chain (${record.status})`;
    await this.access.deny(context, gate, reason);
    throw conflict('record_not_registered', reason);
  }
}
