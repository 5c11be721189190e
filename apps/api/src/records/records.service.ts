import { randomUUID } from 'node:crypto';
import { Inject, Injectable, PayloadTooLargeException } from '@nestjs/common';
import {
  blobUploaded,
  conflict,
  consentDecider,
  consentStream,
  forbidden,
  invalid,
  notFound,
  type RecordKeyGrant,
  recordsDecider,
  recordsStream,
  unixSeconds,
  UPLOADS_STREAM,
} from '@custos/domain';
import { contentAddress, recordIdOf } from '@custos/records';
import { BLOB_STORE, type BlobStore } from '../blob-store/blob-store.port';
import { APP_CONFIG } from '../config/config.module';
import { type AppConfig, durationInWords } from '../config/config.schema';
import { isConsentActive } from '../consent/consent.queries';
import { AggregateRepository, type CommandContext, stamp } from '../core/aggregate-repository';
import { findAll } from '../core/find-all';
import { EVENT_STORE } from '../event-store/event-store.module';
import type { EventStore } from '../event-store/event-store.port';
import type { MessagingKeyDocument } from '../messaging/messaging.projection';
import { ProjectionsService } from '../projections/projections.module';
import type { ConsentDocument, DirectoryDocument } from '../projections/read-models';
import type { ReadModelStore } from '../read-models/read-model.port';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import { RelayChain } from '../relay/relay-chain';
import { RelayWorker } from '../relay/relay.worker';
import type { UploadAllowanceDocument, UploadDocument } from './uploads.projection';
import type {
  KeyRequestView,
  RecordAccepted,
  RecordRecipientView,
  RecordSubmissionBody,
} from './records.dto';
import { type RecordDocument, type RecordKeyDocument, recordKeyId } from './records.projection';

/**
 * The patient's side of records: storing ciphertext, submitting a record (content, keys and the
 * signed on-chain registration), and sharing its key with new readers. The server never holds a
 * record key in the clear: it checks only who a wrapped key is for.
 */
@Injectable()
export class RecordsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly aggregates: AggregateRepository,
    private readonly projections: ProjectionsService,
    private readonly chain: RelayChain,
    private readonly worker: RelayWorker,
  ) {}

  /**
   * Stores a record's ciphertext; the address is computed here, never taken from the client. Until a
   * record or a message refers to it, it counts against the uploader's UPLOADS_UNCLAIMED_MAX_BYTES,
   * and after UPLOADS_UNCLAIMED_FOR it is removed (UploadSweeper).
   */
  async storeBlob(context: CommandContext, bytes: Uint8Array): Promise<{ cid: string; size: number }> {
    if (bytes.length === 0) throw invalid('empty_blob', 'the body is empty: send the encrypted record bytes');
    if (bytes.length > this.config.RECORD_MAX_BYTES) {
      throw new PayloadTooLargeException(
        `a record is at most ${this.config.RECORD_MAX_BYTES} bytes of ciphertext`,
      );
    }
    const uploader = context.actor;
    const allowance = await this.readModels.get<UploadAllowanceDocument>('upload_allowances', uploader);
    const unclaimed = allowance?.unclaimedBytes ?? 0;
    const limit = this.config.UPLOADS_UNCLAIMED_MAX_BYTES;
    if (unclaimed + bytes.length > limit && !(await this.alreadyCounted(uploader, bytes))) {
      throw new PayloadTooLargeException({
        statusCode: 413,
        error: 'Payload Too Large',
        code: 'unclaimed_uploads_over_limit',
        message:
          `your uploads that no record refers to yet hold ${unclaimed} bytes, and this one would take them ` +
          `past ${limit} (UPLOADS_UNCLAIMED_MAX_BYTES): submit them as records, or wait until they expire ` +
          `${durationInWords(this.config.UPLOADS_UNCLAIMED_FOR)} after their upload`,
      });
    }
    const stored = await this.blobs.put(bytes);
    await this.aggregates.record(UPLOADS_STREAM, [blobUploaded({ ...stored, uploader })], context);
    return stored;
  }

  /** Whether these bytes cost the uploader nothing more: claimed, or already charged to them. */
  private async alreadyCounted(uploader: string, bytes: Uint8Array): Promise<boolean> {
    const upload = await this.readModels.get<UploadDocument>('uploads', await contentAddress(bytes));
    return upload !== null && (upload.claimed || upload.uploaders.includes(uploader));
  }

  /**
   * Submits a record. In order: every check that can fail (the blob is stored, each reader may hold
   * the key, the amended version is registered, the signature matches the patient's on-chain nonce,
   * both deciders accept), then the registration intent on the consent stream, then the content on
   * the records stream. The relay sends a registration only once its content is stored, so a crash
   * between the two appends leaves a relay that fails with a reason, never a record on-chain whose
   * content is lost.
   */
  async submit(context: CommandContext, body: RecordSubmissionBody): Promise<RecordAccepted> {
    const patient = context.actor;
    const recordId = recordIdOf(body.cid);
    this.chain.require(); // 503 before anything else when there is no contract
    if (body.deadline < unixSeconds(context.now)) {
      throw invalid(
        'signature_expired',
        `deadline passed: the signature's deadline ${body.deadline} is over`,
      );
    }
    // A record id is the hash of its ciphertext's address, the same whoever submits it: the first
    // patient to submit a ciphertext owns its record here. Anyone who has seen a CID (a reader of the
    // record) would otherwise take the record over by submitting it as theirs.
    const existing = await this.readModels.get<RecordDocument>('records', recordId);
    if (existing && existing.patient !== patient) {
      throw conflict(
        'record_exists',
        `the ciphertext ${body.cid} is another account's record: upload your own encryption of your document`,
      );
    }
    // The stored size is the truth, not the client's word (read without reading the bytes).
    const size = await this.blobs.size(body.cid);
    if (size === null) {
      throw notFound(
        'blob_not_found',
        `no stored blob ${body.cid}: upload the ciphertext to POST /records/blobs first`,
      );
    }
    await this.checkRecipients(patient, body.category, body.keys, context.now);
    if (body.supersedes !== null) {
      const previous = await this.readModels.get<RecordDocument>('records', body.supersedes);
      if (previous?.patient === patient && previous.status !== 'registered') {
        throw conflict(
          'record_not_registered',
          `record ${body.supersedes} is not registered on-chain yet (${previous.status}): amend it once it is`,
        );
      }
    }
    const failedRegistrations = (
      await findAll<RecordDocument>(this.readModels, 'records', { where: { patient, status: 'failed' } })
    ).map((r) => r.id);

    const nonce = await this.chain.verify({
      kind: 'register_record',
      patient,
      recordId,
      category: body.category,
      supersedes: body.supersedes,
      deadline: body.deadline,
      signature: body.signature,
    });

    const relayId = randomUUID();
    const recordCommand = {
      type: 'SubmitRecord' as const,
      recordId,
      patient,
      cid: body.cid,
      category: body.category,
      size,
      supersedes: body.supersedes,
      metadata: body.metadata,
      keys: body.keys.map(({ recipient, wrappedKey }) => ({ recipient, wrappedKey })),
      relayId,
      failedRegistrations,
    };
    const consentCommand = {
      type: 'SubmitRecordRegistration' as const,
      relayId,
      patient,
      recordId,
      category: body.category,
      supersedes: body.supersedes,
      nonce,
      deadline: body.deadline,
      signature: body.signature,
    };
    // Decide both before appending either: a refusal leaves nothing behind.
    const records = await this.aggregates.load(recordsDecider, recordsStream(patient));
    const recordEvents = recordsDecider.decide(recordCommand, records.state, context.now);
    const consent = await this.aggregates.load(consentDecider, consentStream(patient));
    const consentEvents = consentDecider.decide(consentCommand, consent.state, context.now);

    await this.store.append(consentStream(patient), stamp(consentEvents, context), consent.revision);
    const { position } = await this.store.append(
      recordsStream(patient),
      stamp(recordEvents, context),
      records.revision,
    );
    await this.projections.runner.caughtUp(position);
    this.worker.wake();
    return { id: recordId, relayId };
  }

  /** Shares a record's key with more readers (a grant made after the upload, a new emergency colleague). */
  async shareKeys(context: CommandContext, recordId: string, keys: RecordKeyGrant[]): Promise<void> {
    const record = await this.readModels.get<RecordDocument>('records', recordId);
    if (!record || record.patient !== context.actor) {
      throw notFound('record_not_found', `there is no record ${recordId} of yours`);
    }
    await this.checkRecipients(record.patient, record.category, keys, context.now);
    await this.aggregates.execute(
      recordsDecider,
      recordsStream(record.patient),
      { type: 'ShareRecordKeys', recordId, patient: record.patient, keys },
      context,
    );
  }

  /**
   * Who should hold the keys of `patient`'s records of `category` now, with the key to wrap for: the
   * patient, each provider with an active grant for the category, and emergency staff (their access
   * is checked when they ask, while a break-glass window is open). Only accounts that registered a
   * messaging key can be listed: a key cannot be wrapped for anyone else.
   */
  async recipients(patient: string, category: string, now: Date): Promise<RecordRecipientView[]> {
    const seconds = unixSeconds(now);
    const grants = await findAll<ConsentDocument>(this.readModels, 'consents', {
      where: { patient, category, status: 'granted' },
    });
    const candidates: { account: string; role: RecordRecipientView['role'] }[] = [
      { account: patient, role: 'patient' },
    ];
    for (const grant of grants) {
      const directory = await this.readModels.get<DirectoryDocument>('directory', grant.provider);
      if (isConsentActive(grant, directory, seconds))
        candidates.push({ account: grant.provider, role: 'provider' });
    }
    const emergency = await findAll<DirectoryDocument>(this.readModels, 'directory', {
      where: { isEmergency: true },
    });
    for (const staff of emergency) {
      if (!candidates.some((c) => c.account === staff.account)) {
        candidates.push({ account: staff.account, role: 'emergency' });
      }
    }
    const views: RecordRecipientView[] = [];
    for (const { account, role } of candidates) {
      const key = await this.readModels.get<MessagingKeyDocument>('messaging_keys', account);
      if (key) views.push({ recipient: account, publicKey: key.publicKey, role });
    }
    return views;
  }

  /** The readers who may read one of my records now but hold no wrapped key for it yet. */
  async keyRequests(patient: string, now: Date): Promise<KeyRequestView[]> {
    const records = (
      await findAll<RecordDocument>(this.readModels, 'records', { where: { patient } })
    ).filter((r) => r.status !== 'failed');
    const byCategory = new Map<string, RecordRecipientView[]>();
    const requests: KeyRequestView[] = [];
    for (const record of records) {
      let recipients = byCategory.get(record.category);
      if (!recipients) {
        recipients = await this.recipients(patient, record.category, now);
        byCategory.set(record.category, recipients);
      }
      for (const { recipient, publicKey } of recipients) {
        const shared = await this.readModels.get<RecordKeyDocument>(
          'record_keys',
          recordKeyId(record.id, recipient),
        );
        if (!shared) requests.push({ recordId: record.id, category: record.category, recipient, publicKey });
      }
    }
    return requests;
  }

  /** A key may be wrapped only for someone who may read the category now, or emergency staff. */
  private async checkRecipients(
    patient: string,
    category: string,
    keys: readonly RecordKeyGrant[],
    now: Date,
  ): Promise<void> {
    const allowed = new Set((await this.recipients(patient, category, now)).map((r) => r.recipient));
    for (const { recipient } of keys) {
      if (!allowed.has(recipient)) {
        throw forbidden(
          'recipient_not_allowed',
          `${recipient} may not hold this record's key: not you, not a provider with an active ${category} grant with a registered messaging key, not emergency staff`,
        );
      }
    }
  }
}
