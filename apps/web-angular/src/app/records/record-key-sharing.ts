import { Injectable, inject, signal } from '@angular/core';
import { wrapKey } from '@custos/e2ee';

import { ProviderDirectory } from '../core/provider-directory';
import { Session } from '../core/session';
import { MessagingKeyError, MessagingKeys } from '../messaging/messaging-keys';
import { RecordKeys } from './record-keys';
import { RecordsApi, type RecordKeyRequest, type WrappedRecordKey } from './records-api';

/** What one sharing pass did. */
export interface KeySharingResult {
  /** Wrapped keys handed over. */
  readonly shared: number;
  /** Lower-case addresses that received at least one key. */
  readonly recipients: readonly string[];
  /** Lower-case addresses left out: their key is missing or not signed by their account. */
  readonly skipped: readonly string[];
}

/**
 * The patient's side of access granted after a record was uploaded: the API lists who may read a
 * record now but has no wrapped key yet (`GET /records/key-requests`, e.g. a grant made later); the
 * patient's browser unwraps its own copy of each record key, wraps it for each of them and hands the
 * wrapped keys over (`POST /records/:id/keys`). Each reader's key is the one checked against their
 * wallet signature (`MessagingKeys`), never just the one the API offers.
 *
 * `sharePending()` is quiet: it runs only with the encryption key unlocked, one pass at a time, and
 * leaves one sentence in `status` ("Shared 3 record keys with Dr Ada Lee.").
 */
@Injectable({ providedIn: 'root' })
export class RecordKeySharing {
  private readonly api = inject(RecordsApi);
  private readonly keys = inject(MessagingKeys);
  private readonly recordKeys = inject(RecordKeys);
  private readonly directory = inject(ProviderDirectory);
  private running: Promise<KeySharingResult | null> | null = null;

  /** A sentence about the last pass, or '' when there was nothing to share. */
  readonly status = signal('');

  constructor() {
    inject(Session).onEnd(() => this.status.set(''));
  }

  /** One pass; resolves null when the key is locked or the pass failed (said in `status`). */
  sharePending(): Promise<KeySharingResult | null> {
    if (!this.keys.keyPair()) return Promise.resolve(null);
    this.running ??= this.run().finally(() => (this.running = null));
    return this.running;
  }

  private async run(): Promise<KeySharingResult | null> {
    try {
      const requests = await this.api.keyRequests();
      if (requests.length === 0) return { shared: 0, recipients: [], skipped: [] };
      const byRecord = new Map<string, RecordKeyRequest[]>();
      for (const request of requests) {
        byRecord.set(request.recordId, [...(byRecord.get(request.recordId) ?? []), request]);
      }
      const verified = await this.verifiedKeys([...new Set(requests.map((r) => r.recipient.toLowerCase()))]);
      let shared = 0;
      const recipients = new Set<string>();
      for (const [recordId, wanted] of byRecord) {
        const keys: WrappedRecordKey[] = [];
        const readers = [...new Set(wanted.map((r) => r.recipient.toLowerCase()))].filter((a) => verified[a]);
        if (readers.length === 0) continue;
        const contentKey = await this.recordKeys.contentKey(recordId);
        for (const recipient of readers) {
          keys.push({ recipient, wrappedKey: await wrapKey(contentKey, verified[recipient]!) });
        }
        await this.api.shareKeys(recordId, keys);
        shared += keys.length;
        for (const { recipient } of keys) recipients.add(recipient);
      }
      const skipped = Object.entries(verified)
        .filter(([, key]) => key === null)
        .map(([address]) => address);
      const result = { shared, recipients: [...recipients], skipped };
      this.status.set(await this.describe(result));
      return result;
    } catch {
      this.status.set('Some record keys could not be shared just now; Custos tries again next time.');
      return null;
    }
  }

  /** Each address's checked key, or null when it is missing or not signed by its account. */
  private async verifiedKeys(addresses: readonly string[]): Promise<Record<string, string | null>> {
    const entries = await Promise.all(
      addresses.map(async (address) => {
        try {
          const keys = await this.keys.recipientKeys([address]);
          return [address, keys[address] ?? null] as const;
        } catch (error) {
          if (error instanceof MessagingKeyError) return [address, null] as const;
          throw error;
        }
      }),
    );
    return Object.fromEntries(entries);
  }

  private async describe(result: KeySharingResult): Promise<string> {
    await this.directory.load().catch(() => undefined); // names are a nicety
    const names = (addresses: readonly string[]) =>
      listOf(addresses.map((a) => this.directory.displayName(a)));
    const parts: string[] = [];
    if (result.shared > 0) {
      parts.push(
        `Shared ${result.shared} record key${result.shared === 1 ? '' : 's'} with ${names(result.recipients)}.`,
      );
    }
    if (result.skipped.length > 0) {
      parts.push(
        `Not shared with ${names(result.skipped)}: their encryption key could not be checked. Custos tries again next time.`,
      );
    }
    return parts.join(' ');
  }
}

/** `A`, `A and B`, `A, B and C`. */
function listOf(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
