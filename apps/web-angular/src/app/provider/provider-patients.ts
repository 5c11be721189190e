import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';

import { toApiError } from '../core/api-client';
import { AddressChip } from '../shared/address-chip';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { DateTimePipe, TimeLeftPipe } from '../shared/time-left';
import { providerCategoryLabel } from './category-options';
import { type PatientGrant, ProviderApi } from './provider-api';

/**
 * The provider's home: the patients whose grant to them is active now (`GET /providers/me/patients`),
 * one row per patient and category, soonest expiry first, with a way to schedule a consultation or ask
 * for more.
 *
 * Test hooks: `provider-patients`, `provider-patient-row` (with `data-patient`, `data-category`,
 * `data-expires-at`), `patient-records`, `patient-schedule`, `patient-request-access`, `provider-patients-empty`,
 * `provider-patients-error`.
 */
@Component({
  selector: 'app-provider-patients',
  imports: [RouterLink, AddressChip, LoadingState, ErrorState, EmptyState, DateTimePipe, TimeLeftPipe],
  template: `
    <h1>Your patients</h1>
    <p class="lede">
      Patients who granted you access, to what and until when. Access ends at that moment, or earlier if the
      patient takes it back.
    </p>
    <p>
      <a routerLink="request-access" class="button-link" data-testid="request-access-link">Request access</a>
    </p>

    @switch (status()) {
      @case ('loading') {
        <app-loading-state label="Loading your patients…" testId="provider-patients-loading" />
      }
      @case ('error') {
        <app-error-state
          heading="Your patients could not be loaded"
          [message]="error()"
          testId="provider-patients-error"
          (retry)="load()"
        />
      }
      @default {
        @if (grants().length === 0) {
          <app-empty-state heading="No patient has granted you access yet." testId="provider-patients-empty">
            Ask a patient for access; once they allow it, they appear here.
          </app-empty-state>
        } @else {
          <div class="table-wrap" tabindex="0" role="region" aria-labelledby="patients-caption">
            <table class="table" data-testid="provider-patients">
              <caption id="patients-caption" class="visually-hidden">
                Patients who granted you access, soonest expiry first ({{
                  patientCount()
                }}
                patients)
              </caption>
              <thead>
                <tr>
                  <th scope="col">Patient</th>
                  <th scope="col">Records</th>
                  <th scope="col">Access until</th>
                  <th scope="col"><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                @for (g of grants(); track g.patient + '|' + g.category) {
                  <tr
                    data-testid="provider-patient-row"
                    [attr.data-patient]="g.patient"
                    [attr.data-category]="g.category"
                    [attr.data-expires-at]="g.expiresAt"
                  >
                    <td data-label="Patient">
                      <app-address-chip [address]="g.patient" testId="patient-address" />
                    </td>
                    <td data-label="Records">{{ label(g.category) }}</td>
                    <td data-label="Access until">
                      {{ g.expiresAt | dateTime }} ·
                      <strong class="time-left" data-testid="patient-time-left">{{
                        g.expiresAt | timeLeft
                      }}</strong>
                    </td>
                    <td data-label="Actions">
                      <a
                        [routerLink]="['patients', g.patient, 'records']"
                        data-testid="patient-records"
                        [attr.aria-label]="'Records of patient ' + g.patient"
                        >Records</a
                      >
                      ·
                      <a
                        [routerLink]="['consultations', 'new']"
                        [queryParams]="{ patient: g.patient, category: g.category }"
                        data-testid="patient-schedule"
                        >Schedule a consultation</a
                      >
                      ·
                      <a
                        routerLink="request-access"
                        [queryParams]="{ patient: g.patient }"
                        data-testid="patient-request-access"
                        >Ask for more</a
                      >
                    </td>
                  </tr>
                }
              </tbody>
            </table>
          </div>
          <div class="actions">
            <button type="button" data-testid="provider-patients-refresh" (click)="load()">Refresh</button>
          </div>
        }
      }
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ProviderPatients {
  private readonly api = inject(ProviderApi);

  protected readonly status = signal<'loading' | 'ready' | 'error'>('loading');
  protected readonly error = signal<string | null>(null);
  protected readonly grants = signal<readonly PatientGrant[]>([]);
  protected readonly patientCount = computed(() => new Set(this.grants().map((g) => g.patient)).size);
  protected readonly label = providerCategoryLabel;

  constructor() {
    void this.load();
  }

  async load(): Promise<void> {
    if (this.status() !== 'ready') this.status.set('loading');
    try {
      const grants = await this.api.patients();
      this.grants.set([...grants].sort((a, b) => a.expiresAt - b.expiresAt));
      this.error.set(null);
      this.status.set('ready');
    } catch (error) {
      this.error.set(toApiError(error).message);
      this.status.set('error');
    }
  }
}
