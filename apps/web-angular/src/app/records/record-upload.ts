import { Injectable, inject } from '@angular/core';
import { type CategoryName } from '@custos/chain/categories';
import { MAX_RECORD_BYTES } from '@custos/domain/records';
import { type RecordMetadata, sealRecord, sealRecordMetadata, wrapKey } from '@custos/e2ee';
import { contentAddress, recordIdOf } from '@custos/records';

import { ApiError, toApiError } from '../core/api-client';
import { ProviderDirectory } from '../core/provider-directory';
import { Session } from '../core/session';
import { Wallet, WalletError } from '../core/wallet';
import { MessagingKeyError, MessagingKeys } from '../messaging/messaging-keys';
import { ConsentSigning } from '../patient/consent-signing';
import type { UploadProgress } from './upload-progress';
import { RecordsApi, type SealedMetadata, type WrappedRecordKey } from './records-api';

/** What the patient adds: the plaintext and what it is. */
export interface RecordDraft {
  readonly content: Uint8Array;
  readonly metadata: RecordMetadata;
  readonly category: CategoryName;
  /** The record this one amends (its latest version), or null. */
  readonly supersedes: string | null;
}

/** A record encrypted and uploaded, ready to be registered (kept to retry the signature alone). */
export interface PreparedRecord {
  readonly cid: string;
  readonly recordId: string;
  readonly category: CategoryName;
  readonly supersedes: string | null;
  readonly metadata: SealedMetadata;
  /** The record key wrapped for the patient and for every current reader. */
  readonly keys: readonly WrappedRecordKey[];
}

type Report = (progress: UploadProgress) => void;

/** A step of saving a record that did not happen, in words (no crypto vocabulary). */
export class RecordUploadError extends Error {
  override readonly name = 'RecordUploadError';
}

/**
 * Saves a patient's record end-to-end encrypted:
 *
 * 1. `prepare`: asks who must be able to read it (`GET /records/recipients`: providers with an active
 *    grant for the category, emergency staff) and checks each one's key against their wallet signature
 *    (`MessagingKeys`), encrypts in the browser (`sealRecord`, metadata with `sealRecordMetadata`),
 *    computes the content address, wraps the record key for the patient and each reader, uploads the
 *    ciphertext (`POST /records/blobs`) and stops when the server's CID is not the one computed here;
 * 2. `register`: the patient signs `RegisterRecord` and the API relays it (`POST /records`), followed
 *    like a grant (`ConsentSigning`): signed → sent → confirmed.
 *
 * Plaintext and record keys never leave the browser; the record key is zeroed once wrapped.
 */
@Injectable({ providedIn: 'root' })
export class RecordUpload {
  private readonly api = inject(RecordsApi);
  private readonly keys = inject(MessagingKeys);
  private readonly session = inject(Session);
  private readonly wallet = inject(Wallet);
  private readonly signing = inject(ConsentSigning);
  private readonly directory = inject(ProviderDirectory);

  /** Encrypts and uploads; resolves null when it failed (reported). */
  async prepare(draft: RecordDraft, report: Report): Promise<PreparedRecord | null> {
    let after: 'encrypted' | undefined;
    try {
      const own = this.keys.keyPair();
      const patient = this.session.address()?.toLowerCase();
      if (!own || !patient || own.account !== patient) {
        throw new RecordUploadError('Unlock your encryption key first.');
      }
      report({ step: 'encrypting' });
      const readers = await this.readerKeys(draft.category, patient);
      const { blob, key } = await sealRecord(draft.content, patient);
      if (blob.length > MAX_RECORD_BYTES) throw new RecordUploadError(tooLarge(blob.length));
      let cid: string;
      let metadata: SealedMetadata;
      const keys: WrappedRecordKey[] = [];
      try {
        cid = await contentAddress(blob);
        metadata = await sealRecordMetadata(draft.metadata, key, cid);
        keys.push({ recipient: patient, wrappedKey: await wrapKey(key, own.keys.publicKey) });
        for (const [recipient, publicKey] of Object.entries(readers)) {
          keys.push({ recipient, wrappedKey: await wrapKey(key, publicKey) });
        }
      } finally {
        key.fill(0);
      }

      after = 'encrypted';
      report({ step: 'uploading' });
      const stored = await this.api.uploadBlob(blob);
      if (stored.cid !== cid) {
        throw new RecordUploadError(
          'Custos stored the file under another content address than the one computed in your browser, so nothing was registered. Try again.',
        );
      }
      return {
        cid,
        recordId: recordIdOf(cid),
        category: draft.category,
        supersedes: draft.supersedes,
        metadata,
        keys,
      };
    } catch (error) {
      report({ step: 'failed', reason: describe(error), after });
      return null;
    }
  }

  /** Signs and relays the registration; resolves true once confirmed on-chain. */
  register(prepared: PreparedRecord, report: Report, abort?: AbortSignal): Promise<boolean> {
    return this.signing.registerRecord(
      { recordId: prepared.recordId, category: prepared.category, supersedes: prepared.supersedes },
      async ({ deadline, signature }) => {
        const accepted = await this.api.register({
          cid: prepared.cid,
          category: prepared.category,
          supersedes: prepared.supersedes,
          metadata: prepared.metadata,
          keys: prepared.keys,
          deadline,
          signature,
        });
        return { id: accepted.relayId, status: 'submitted' };
      },
      // Signing failures happen after the upload: keep the steps already done.
      (p) => report(p.step === 'failed' ? { ...p, after: p.after ?? 'uploaded' } : p),
      abort,
    );
  }

  /** The checked public key of everyone who must read a new record of `category` (not the patient). */
  private async readerKeys(category: CategoryName, patient: string): Promise<Record<string, string>> {
    const recipients = await this.api.recipients(category);
    const addresses = [...new Set(recipients.map((r) => r.recipient.toLowerCase()))].filter(
      (address) => address !== patient,
    );
    if (addresses.length === 0) return {};
    await this.directory.load().catch(() => undefined); // names in messages only
    try {
      return await this.keys.recipientKeys(addresses, (a) => this.directory.displayName(a));
    } catch (error) {
      if (error instanceof MessagingKeyError) {
        throw new RecordUploadError(
          `The encryption key Custos gave for ${this.directory.displayName(error.account)} is ` +
            (error.code === 'missing' ? 'missing' : 'not signed by their account') +
            ', so nothing was uploaded. Try again later.',
        );
      }
      throw error;
    }
  }
}

function tooLarge(bytes: number): string {
  const mib = (n: number) => (n / (1024 * 1024)).toFixed(1);
  return `This record is ${mib(bytes)} MB once encrypted; records can be at most ${mib(MAX_RECORD_BYTES)} MB.`;
}

function describe(error: unknown): string {
  if (error instanceof RecordUploadError || error instanceof WalletError) return error.message;
  if (error instanceof ApiError) return error.message;
  return toApiError(error).message;
}
