import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';

import { toApiError } from '../core/api-client';
import { AddressChip } from '../shared/address-chip';
import { categoryLabel } from '../shared/category-label';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { DateTimePipe, formatDateTime } from '../shared/time-left';
import { type ConsentSideView, ComplianceApi, type DriftReport as DriftReportData } from './compliance-api';

/**
 * The drift report: the API's consent projection reconciled with the contract now
 * (`GET /compliance/drift`); every (patient, provider, category) on which they disagree. Runs on
 * demand (it reads the chain for every pair and records new differences).
 *
 * Test hooks: `drift-run`, `drift-loading`, `drift-error`, `drift-status` (`data-differences`),
 * `drift-row`.
 */
@Component({
  selector: 'app-drift-report',
  imports: [AddressChip, LoadingState, ErrorState, DateTimePipe],
  template: `
    <section class="panel" aria-labelledby="drift-heading">
      <h2 id="drift-heading">Consent drift</h2>
      <p class="hint">
        Compares the consents Custos shows with the contract on the chain, pair by pair. Every new difference
        is recorded.
      </p>
      <div class="actions">
        <button
          type="button"
          class="button--primary"
          data-testid="drift-run"
          [disabled]="status() === 'loading'"
          (click)="run()"
        >
          {{ report() ? 'Reconcile again' : 'Reconcile now' }}
        </button>
      </div>
      @switch (status()) {
        @case ('loading') {
          <app-loading-state label="Comparing every consent with the chain…" testId="drift-loading" />
        }
        @case ('error') {
          <app-error-state
            heading="The reconciliation could not run"
            [message]="error()"
            testId="drift-error"
            (retry)="run()"
          />
        }
        @case ('ready') {
          @if (report(); as r) {
            <p role="status" data-testid="drift-status" [attr.data-differences]="r.differences.length">
              @if (r.differences.length === 0) {
                <span class="tag tag--ok">No drift</span> The projection and the chain agree on all
                {{ r.checkedPairs }} {{ r.checkedPairs === 1 ? 'pair' : 'pairs' }}.
              } @else {
                <span class="tag tag--denied">Drift</span> {{ r.differences.length }} of {{ r.checkedPairs }}
                pairs differ.
              }
              <span class="muted">Checked {{ r.checkedAt | dateTime }} at block {{ r.chainBlock }}.</span>
            </p>
            @if (r.differences.length > 0) {
              <div class="table-wrap" tabindex="0" role="region" aria-labelledby="drift-heading">
                <table class="table">
                  <thead>
                    <tr>
                      <th scope="col">Patient</th>
                      <th scope="col">Provider</th>
                      <th scope="col">Category</th>
                      <th scope="col">Custos shows</th>
                      <th scope="col">Chain says</th>
                    </tr>
                  </thead>
                  <tbody>
                    @for (d of r.differences; track d.patient + d.provider + d.category) {
                      <tr data-testid="drift-row">
                        <td data-label="Patient">
                          <app-address-chip [address]="d.patient" testId="drift-patient" />
                        </td>
                        <td data-label="Provider">
                          <app-address-chip [address]="d.provider" testId="drift-provider" />
                        </td>
                        <td data-label="Category">{{ category(d.category) }}</td>
                        <td data-label="Custos shows">{{ side(d.projection) }}</td>
                        <td data-label="Chain says">{{ side(d.chain) }}</td>
                      </tr>
                    }
                  </tbody>
                </table>
              </div>
            }
          }
        }
      }
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class DriftReport {
  private readonly api = inject(ComplianceApi);

  protected readonly status = signal<'idle' | 'loading' | 'ready' | 'error'>('idle');
  protected readonly error = signal<string | null>(null);
  protected readonly report = signal<DriftReportData | null>(null);
  protected readonly category = categoryLabel;

  async run(): Promise<void> {
    this.status.set('loading');
    try {
      this.report.set(await this.api.drift());
      this.status.set('ready');
    } catch (error) {
      this.error.set(toApiError(error).message);
      this.status.set('error');
    }
  }

  protected side(view: ConsentSideView): string {
    if (!view.active) return view.expiresAt === null ? 'No grant' : 'Not active';
    return view.expiresAt === null ? 'Active' : `Active until ${formatDateTime(view.expiresAt)}`;
  }
}
