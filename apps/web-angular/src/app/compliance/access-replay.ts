import {
  ChangeDetectionStrategy,
  Component,
  type ElementRef,
  Injector,
  afterNextRender,
  computed,
  inject,
  signal,
  viewChild,
} from '@angular/core';

import { toApiError } from '../core/api-client';
import { ProviderDirectory } from '../core/provider-directory';
import { AddressChip } from '../shared/address-chip';
import { categoryLabel } from '../shared/category-label';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { DateTimePipe } from '../shared/time-left';
import { ComplianceApi, type ReplayedAccess } from './compliance-api';
import { isAddressText, localInputToIso, toLocalInput } from './form-values';

/** One line of the replay: a consent or an emergency window open at that moment. */
interface ReplayRow {
  readonly kind: 'consent' | 'emergency';
  readonly provider: string;
  readonly what: string;
  /** Unix seconds. */
  readonly expiresAt: number;
  readonly reason: string | null;
}

/**
 * Replay "as of": who had access to a patient's data at a chosen moment, rebuilt by the API from the
 * events up to it (consents and emergency windows, only while the account held its role).
 *
 * Test hooks: `replay-form`, `replay-patient`, `replay-as-of`, `replay-submit`, `replay-form-error`,
 * `replay-loading`, `replay-error`, `replay-result`, `replay-row` (`data-kind`), `replay-empty`.
 */
@Component({
  selector: 'app-access-replay',
  imports: [AddressChip, LoadingState, ErrorState, EmptyState, DateTimePipe],
  template: `
    <h2 class="visually-hidden">Replay access as of a moment</h2>
    <p class="lede">
      Choose a patient and a moment: Custos rebuilds, from its recorded events, who could see that patient's
      data then, and why.
    </p>
    <form class="panel" data-testid="replay-form" (submit)="submit($event)" novalidate>
      <div class="filters__grid">
        <div class="field">
          <label for="replay-patient">Patient address</label>
          <input
            id="replay-patient"
            data-testid="replay-patient"
            autocomplete="off"
            spellcheck="false"
            placeholder="0x…"
            required
            [attr.aria-invalid]="formError() ? true : null"
            aria-describedby="replay-form-error"
            [value]="patient()"
            (input)="patient.set(value($event))"
          />
        </div>
        <div class="field">
          <label for="replay-as-of">As of</label>
          <input
            #asOfInput
            id="replay-as-of"
            type="datetime-local"
            step="1"
            required
            data-testid="replay-as-of"
            [value]="asOf()"
            (input)="asOf.set(value($event))"
          />
          <p class="hint">In your time zone.</p>
        </div>
      </div>
      <div id="replay-form-error" aria-live="assertive">
        @if (formError()) {
          <p class="form-error" data-testid="replay-form-error">{{ formError() }}</p>
        }
      </div>
      <div class="actions">
        <button
          type="submit"
          class="button--primary"
          data-testid="replay-submit"
          [disabled]="status() === 'loading'"
        >
          Replay
        </button>
      </div>
    </form>

    @switch (status()) {
      @case ('loading') {
        <app-loading-state label="Rebuilding who had access…" testId="replay-loading" />
      }
      @case ('error') {
        <app-error-state
          heading="The replay could not be made"
          [message]="error()"
          testId="replay-error"
          (retry)="run()"
        />
      }
      @case ('ready') {
        @if (result(); as r) {
          <section class="section" data-testid="replay-result" aria-labelledby="replay-result-heading">
            <h3 id="replay-result-heading" tabindex="-1" #resultHeading>
              Access to <app-address-chip [address]="r.patient" testId="replay-result-patient" /> as of
              {{ r.asOf | dateTime }}
            </h3>
            @if (rows().length === 0) {
              <app-empty-state heading="Nobody had access at that moment." testId="replay-empty">
                No consent was active and no emergency access was open for this patient then.
              </app-empty-state>
            } @else {
              <div class="table-wrap" tabindex="0" role="region" aria-labelledby="replay-result-heading">
                <table class="table">
                  <thead>
                    <tr>
                      <th scope="col">Who</th>
                      <th scope="col">Access</th>
                      <th scope="col">What</th>
                      <th scope="col">Until</th>
                      <th scope="col">Reason</th>
                    </tr>
                  </thead>
                  <tbody>
                    @for (row of rows(); track row.kind + row.provider + row.what) {
                      <tr
                        data-testid="replay-row"
                        [attr.data-kind]="row.kind"
                        [class.row--emergency]="row.kind === 'emergency'"
                      >
                        <td data-label="Who">
                          @if (directory.profile(row.provider)?.name; as name) {
                            <span class="block">{{ name }}</span>
                          }
                          <app-address-chip [address]="row.provider" testId="replay-provider" />
                        </td>
                        <td data-label="Access">
                          @if (row.kind === 'emergency') {
                            <span class="tag tag--emergency">Emergency</span>
                          } @else {
                            <span class="tag tag--ok">Consent</span>
                          }
                        </td>
                        <td data-label="What">{{ row.what }}</td>
                        <td data-label="Until">{{ row.expiresAt | dateTime }}</td>
                        <td data-label="Reason">{{ row.reason ?? '—' }}</td>
                      </tr>
                    }
                  </tbody>
                </table>
              </div>
            }
          </section>
        }
      }
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AccessReplay {
  private readonly api = inject(ComplianceApi);
  protected readonly directory = inject(ProviderDirectory);

  protected readonly patient = signal('');
  protected readonly asOf = signal(toLocalInput(new Date()));
  protected readonly formError = signal<string | null>(null);
  protected readonly status = signal<'idle' | 'loading' | 'ready' | 'error'>('idle');
  protected readonly error = signal<string | null>(null);
  protected readonly result = signal<ReplayedAccess | null>(null);

  protected readonly rows = computed<readonly ReplayRow[]>(() => {
    const r = this.result();
    if (!r) return [];
    return [
      ...r.emergencyWindows.map((w) => ({
        kind: 'emergency' as const,
        provider: w.provider,
        what: 'All records (emergency access)',
        expiresAt: w.expiresAt,
        reason: w.reason,
      })),
      ...r.grants.map((g) => ({
        kind: 'consent' as const,
        provider: g.provider,
        what: categoryLabel(g.category),
        expiresAt: g.expiresAt,
        reason: null,
      })),
    ];
  });

  private readonly resultHeading = viewChild<ElementRef<HTMLElement>>('resultHeading');
  private readonly injector = inject(Injector);
  private query: { patient: string; asOf: string } | null = null;

  constructor() {
    this.directory.load().catch(() => undefined);
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected submit(event: Event): void {
    event.preventDefault();
    const patient = this.patient().trim();
    if (!isAddressText(patient)) {
      this.formError.set('Enter the patient’s address: 0x and 40 hex digits.');
      return;
    }
    const asOf = localInputToIso(this.asOf());
    if (!asOf) {
      this.formError.set('Choose the date and time to replay.');
      return;
    }
    this.formError.set(null);
    this.query = { patient: patient.toLowerCase(), asOf };
    void this.run();
  }

  protected async run(): Promise<void> {
    const query = this.query;
    if (!query) return;
    this.status.set('loading');
    try {
      const result = await this.api.replay(query.patient, query.asOf);
      if (query !== this.query) return;
      this.result.set(result);
      this.status.set('ready');
      afterNextRender(() => this.resultHeading()?.nativeElement.focus(), { injector: this.injector });
    } catch (error) {
      if (query !== this.query) return;
      this.error.set(toApiError(error).message);
      this.status.set('error');
    }
  }
}
