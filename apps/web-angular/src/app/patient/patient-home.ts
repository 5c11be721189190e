import {
  ChangeDetectionStrategy,
  Component,
  type ElementRef,
  computed,
  inject,
  signal,
  viewChild,
} from '@angular/core';

import { SAVE_FILE, exportFilename } from '../compliance/file-download';
import { toApiError } from '../core/api-client';
import { ProviderDirectory } from '../core/provider-directory';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { RecordKeySharing } from '../records/record-key-sharing';
import { DateTimePipe } from '../shared/time-left';
import { categoryLabel } from '../shared/category-label';
import { ConsentRequestItem } from './consent-request-item';
import { GrantItem } from './grant-item';
import { type ConsentGrant, type ConsentRequest, PatientApi } from './patient-api';

/**
 * The patient's overview: requests waiting for an answer (allow in two clicks, or decline) and who
 * can see their records now (revoke), with past grants below.
 */
@Component({
  selector: 'app-patient-home',
  imports: [LoadingState, ErrorState, EmptyState, ConsentRequestItem, GrantItem, DateTimePipe],
  templateUrl: './patient-home.html',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PatientHome {
  private readonly api = inject(PatientApi);
  private readonly directory = inject(ProviderDirectory);
  private readonly saveFile = inject(SAVE_FILE);
  private readonly keySharing = inject(RecordKeySharing);

  protected readonly status = signal<'loading' | 'ready' | 'error'>('loading');
  protected readonly error = signal<string | null>(null);
  protected readonly requests = signal<readonly ConsentRequest[]>([]);
  protected readonly grants = signal<readonly ConsentGrant[]>([]);
  /** A sentence about the last thing done (declined, allowed, revoked), read out politely. */
  protected readonly notice = signal('');
  protected readonly exporting = signal(false);

  protected readonly active = computed(() =>
    this.grants()
      .filter((g) => g.status === 'active')
      .sort((a, b) => a.expiresAt - b.expiresAt),
  );
  protected readonly past = computed(() => this.grants().filter((g) => g.status !== 'active'));

  private readonly requestsHeading = viewChild<ElementRef<HTMLElement>>('requestsHeading');
  private readonly grantsHeading = viewChild<ElementRef<HTMLElement>>('grantsHeading');

  constructor() {
    void this.load();
  }

  /** Loads (or reloads) requests and grants; the directory gives providers' names. */
  async load(): Promise<void> {
    if (this.status() !== 'ready') this.status.set('loading');
    try {
      const [requests, grants] = await Promise.all([
        this.api.pendingRequests(),
        this.api.consents(),
        this.directory.load().catch(() => undefined), // names are a nicety: addresses do too
      ]);
      this.requests.set(requests);
      this.grants.set(grants);
      this.error.set(null);
      this.status.set('ready');
    } catch (error) {
      this.error.set(toApiError(error).message);
      this.status.set('error');
    }
  }

  protected readonly categoryLabel = categoryLabel;

  /** Downloads my consents as a FHIR R4 Bundle of Consent resources (`GET /consents/fhir`). */
  protected async exportFhir(): Promise<void> {
    if (this.exporting()) return;
    this.exporting.set(true);
    try {
      const bundle = await this.api.consentsFhir();
      this.saveFile(bundle, exportFilename('fhir.json', new Date(), 'custos-consents'));
      this.notice.set('Your consents were exported as a FHIR file.');
    } catch (error) {
      this.notice.set(`The export did not work: ${toApiError(error).message}`);
    } finally {
      this.exporting.set(false);
    }
  }

  protected providerName(address: string): string {
    return this.directory.displayName(address);
  }

  protected providerSpecialty(address: string): string | null {
    return this.directory.profile(address)?.specialty || null;
  }

  /**
   * A request was allowed and confirmed: reload, then say so next to the list of access. The new
   * reader gets the keys of the records they may now read at once (quietly, when the encryption key
   * is unlocked; otherwise at the next unlock): the server cannot wrap a record key for them.
   */
  protected async onAllowed(request: ConsentRequest): Promise<void> {
    await this.reloadUntil(() => !this.requests().some((r) => r.id === request.id));
    void this.keySharing.sharePending();
    this.notice.set(
      `Access given: ${this.providerName(request.provider)} can now see your ${categoryLabel(request.category)}.`,
    );
    this.grantsHeading()?.nativeElement.focus();
  }

  /**
   * Reloads until `settled()` (the change reached the API's read model, which follows the chain by a
   * moment), at most a few times.
   */
  private async reloadUntil(settled: () => boolean): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      await this.load();
      if (settled() || this.status() === 'error') return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  protected onDeclined(request: ConsentRequest): void {
    this.requests.update((list) => list.filter((r) => r.id !== request.id));
    this.notice.set(`You declined ${this.providerName(request.provider)}'s request.`);
    this.requestsHeading()?.nativeElement.focus();
  }

  protected async onRevoked(grant: ConsentGrant): Promise<void> {
    await this.reloadUntil(
      () => !this.active().some((g) => g.provider === grant.provider && g.category === grant.category),
    );
    this.notice.set(
      `Access taken back: ${this.providerName(grant.provider)} can no longer see your ${categoryLabel(grant.category)}.`,
    );
    this.grantsHeading()?.nativeElement.focus();
  }
}
