import {
  ChangeDetectionStrategy,
  Component,
  type ElementRef,
  computed,
  inject,
  signal,
  viewChild,
} from '@angular/core';
import { ActivatedRoute } from '@angular/router';

import { sameAddress, shortAddress } from '../core/address';
import { toApiError } from '../core/api-client';
import { Session } from '../core/session';
import { addressError } from '../consultation/address-validation';
import { AddressChip } from '../shared/address-chip';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { DateTimePipe, DurationPipe } from '../shared/time-left';
import { CATEGORY_NAMES, type CategoryName, isCategoryName, providerCategoryLabel } from './category-options';
import {
  type ConsentRequestBody,
  MAX_GRANT_SECONDS,
  MIN_REQUEST_SECONDS,
  PURPOSE_MAX_LENGTH,
  PURPOSE_MIN_LENGTH,
  ProviderApi,
  type SentConsentRequest,
} from './provider-api';

export type DurationUnit = 'hours' | 'days';

/** The request-access form's fields, as typed. */
export interface AccessRequestFields {
  readonly patient: string;
  readonly category: string;
  readonly purpose: string;
  readonly duration: string;
  readonly unit: DurationUnit;
}

export type AccessRequestErrors = Partial<Record<'patient' | 'category' | 'purpose' | 'duration', string>>;

const UNIT_SECONDS: Readonly<Record<DurationUnit, number>> = { hours: 3600, days: 86_400 };

/**
 * What is wrong with the fields (empty when nothing), with the rules the API applies: an address,
 * a known category, a purpose of 3–500 characters, 1 hour to 365 days. `self` is the provider, who
 * cannot ask themselves.
 */
export function validateAccessRequest(
  fields: AccessRequestFields,
  self?: string | null,
): AccessRequestErrors {
  const errors: AccessRequestErrors = {};
  const patientError = addressError(fields.patient, "the patient's address");
  if (patientError) errors.patient = patientError;
  else if (sameAddress(fields.patient.trim(), self)) errors.patient = 'You cannot ask yourself for access.';
  if (!isCategoryName(fields.category)) errors.category = 'Choose which records you need.';
  const purpose = fields.purpose.trim();
  if (purpose.length < PURPOSE_MIN_LENGTH) {
    errors.purpose = 'Say why you need access (at least 3 characters): the patient reads it before deciding.';
  } else if (purpose.length > PURPOSE_MAX_LENGTH) {
    errors.purpose = `Keep the purpose under ${PURPOSE_MAX_LENGTH} characters (now ${purpose.length}).`;
  }
  const amount = Number(fields.duration);
  const seconds = amount * UNIT_SECONDS[fields.unit];
  if (fields.duration.trim() === '' || !Number.isInteger(amount) || amount <= 0) {
    errors.duration = 'Enter how long you need access, as a whole number.';
  } else if (seconds < MIN_REQUEST_SECONDS || seconds > MAX_GRANT_SECONDS) {
    errors.duration = 'Ask for at least 1 hour and at most 365 days.';
  }
  return errors;
}

/** The request body for valid fields. */
export function accessRequestBody(fields: AccessRequestFields): ConsentRequestBody {
  return {
    patient: fields.patient.trim(),
    category: fields.category as CategoryName,
    purpose: fields.purpose.trim(),
    durationSeconds: Number(fields.duration) * UNIT_SECONDS[fields.unit],
  };
}

/**
 * A provider asks a patient for access to one category of records, saying why and for how long
 * (`POST /consent-requests`); the patient answers in their Custos. Below: the requests made so far.
 * `?patient=` and `?category=` prefill the form.
 *
 * Test hooks: `request-access-form`, `request-patient`, `request-category`, `request-purpose`,
 * `request-duration`, `request-duration-unit`, `request-submit`, `request-<field>-error`,
 * `request-error`, `request-sent`, `sent-request-row` (with `data-status`).
 */
@Component({
  selector: 'app-request-access-form',
  imports: [AddressChip, LoadingState, ErrorState, EmptyState, DateTimePipe, DurationPipe],
  template: `
    <h1>Request access</h1>
    <p class="lede">
      Ask a patient to let you see one kind of their records. They see who asks, why and for how long, and
      decide. You can see nothing until they allow it.
    </p>

    <form class="panel" novalidate data-testid="request-access-form" (submit)="submit($event)">
      <div class="field">
        <label for="request-patient">Patient's account address</label>
        <input
          #patientInput
          id="request-patient"
          type="text"
          autocomplete="off"
          spellcheck="false"
          placeholder="0x…"
          data-testid="request-patient"
          [value]="patient()"
          [attr.aria-invalid]="!!shown().patient"
          [attr.aria-describedby]="shown().patient ? 'request-patient-error' : null"
          (input)="patient.set(patientInput.value)"
        />
        @if (shown().patient; as e) {
          <p id="request-patient-error" class="form-error" data-testid="request-patient-error">{{ e }}</p>
        }
      </div>

      <div class="field">
        <label for="request-category">Records you need</label>
        <select
          #categorySelect
          id="request-category"
          data-testid="request-category"
          [attr.aria-invalid]="!!shown().category"
          [attr.aria-describedby]="shown().category ? 'request-category-error' : null"
          (change)="category.set(categorySelect.value)"
        >
          <option value="" disabled [selected]="category() === ''">Choose…</option>
          @for (name of categories; track name) {
            <option [value]="name" [selected]="name === category()">{{ label(name) }}</option>
          }
        </select>
        @if (shown().category; as e) {
          <p id="request-category-error" class="form-error" data-testid="request-category-error">{{ e }}</p>
        }
      </div>

      <div class="field">
        <label for="request-purpose">Why you need it</label>
        <textarea
          #purposeInput
          id="request-purpose"
          rows="3"
          data-testid="request-purpose"
          [attr.maxlength]="purposeMax"
          [value]="purpose()"
          [attr.aria-invalid]="!!shown().purpose"
          aria-describedby="request-purpose-hint"
          (input)="purpose.set(purposeInput.value)"
        ></textarea>
        <p id="request-purpose-hint" class="hint">
          The patient reads this before deciding. Do not write health details here.
          {{ purpose().trim().length }}/{{ purposeMax }}
        </p>
        @if (shown().purpose; as e) {
          <p class="form-error" data-testid="request-purpose-error">{{ e }}</p>
        }
      </div>

      <div class="field">
        <span class="field__label" id="request-duration-label">For how long</span>
        <div class="inline-fields" role="group" aria-labelledby="request-duration-label">
          <input
            #durationInput
            id="request-duration"
            type="number"
            min="1"
            step="1"
            inputmode="numeric"
            aria-label="Amount"
            data-testid="request-duration"
            [value]="duration()"
            [attr.aria-invalid]="!!shown().duration"
            (input)="duration.set(durationInput.value)"
          />
          <select
            #unitSelect
            aria-label="Unit"
            data-testid="request-duration-unit"
            (change)="unit.set($any(unitSelect.value))"
          >
            <option value="days" [selected]="unit() === 'days'">days</option>
            <option value="hours" [selected]="unit() === 'hours'">hours</option>
          </select>
        </div>
        @if (shown().duration; as e) {
          <p class="form-error" data-testid="request-duration-error">{{ e }}</p>
        }
      </div>

      <div class="actions">
        <button type="submit" class="button--primary" data-testid="request-submit" [disabled]="busy()">
          {{ busy() ? 'Sending…' : 'Send the request' }}
        </button>
      </div>
      @if (error()) {
        <p class="form-error" role="alert" data-testid="request-error">{{ error() }}</p>
      }
      <p class="notice" role="status" data-testid="request-sent">{{ sent() }}</p>
    </form>

    <section class="section" aria-labelledby="sent-heading">
      <h2 id="sent-heading">Your requests</h2>
      @switch (listStatus()) {
        @case ('loading') {
          <app-loading-state label="Loading your requests…" testId="sent-requests-loading" />
        }
        @case ('error') {
          <app-error-state
            heading="Your requests could not be loaded"
            [message]="listError()"
            testId="sent-requests-error"
            (retry)="loadSent()"
          />
        }
        @default {
          @if (requests().length === 0) {
            <app-empty-state heading="You have not asked for access yet." testId="sent-requests-empty">
              Requests you send appear here with the patient's answer.
            </app-empty-state>
          } @else {
            <ul class="plain-list">
              @for (r of requests(); track r.id) {
                <li
                  data-testid="sent-request-row"
                  [attr.data-status]="r.status"
                  [attr.data-patient]="r.patient"
                >
                  <app-address-chip [address]="r.patient" testId="sent-request-patient" />
                  — {{ label(r.category) }} for {{ r.durationSeconds | duration }}, asked
                  {{ r.requestedAt | dateTime }}:
                  <span class="tag" [class.tag--ok]="r.status === 'granted'">{{ statusText(r) }}</span>
                </li>
              }
            </ul>
          }
        }
      }
    </section>
  `,
  styleUrl: '../consultation/form-fields.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RequestAccessForm {
  private readonly api = inject(ProviderApi);
  private readonly session = inject(Session);

  protected readonly categories = CATEGORY_NAMES;
  protected readonly purposeMax = PURPOSE_MAX_LENGTH;
  protected readonly label = providerCategoryLabel;

  protected readonly patient = signal('');
  protected readonly category = signal('');
  protected readonly purpose = signal('');
  protected readonly duration = signal('30');
  protected readonly unit = signal<DurationUnit>('days');
  protected readonly submitted = signal(false);
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly sent = signal('');

  protected readonly listStatus = signal<'loading' | 'ready' | 'error'>('loading');
  protected readonly listError = signal<string | null>(null);
  protected readonly requests = signal<readonly SentConsentRequest[]>([]);

  private readonly fields = computed<AccessRequestFields>(() => ({
    patient: this.patient(),
    category: this.category(),
    purpose: this.purpose(),
    duration: this.duration(),
    unit: this.unit(),
  }));
  private readonly errors = computed(() => validateAccessRequest(this.fields(), this.session.address()));
  /** Errors are shown once the form has been submitted, then updated as the person types. */
  protected readonly shown = computed<AccessRequestErrors>(() => (this.submitted() ? this.errors() : {}));

  private readonly patientInput = viewChild.required<ElementRef<HTMLInputElement>>('patientInput');
  private readonly categorySelect = viewChild.required<ElementRef<HTMLSelectElement>>('categorySelect');
  private readonly purposeInput = viewChild.required<ElementRef<HTMLTextAreaElement>>('purposeInput');
  private readonly durationInput = viewChild.required<ElementRef<HTMLInputElement>>('durationInput');

  constructor() {
    const query = inject(ActivatedRoute).snapshot.queryParamMap;
    this.patient.set(query.get('patient') ?? '');
    const category = query.get('category');
    if (isCategoryName(category)) this.category.set(category);
    void this.loadSent();
  }

  async loadSent(): Promise<void> {
    if (this.listStatus() !== 'ready') this.listStatus.set('loading');
    try {
      this.requests.set(await this.api.sentRequests());
      this.listStatus.set('ready');
    } catch (error) {
      this.listError.set(toApiError(error).message);
      this.listStatus.set('error');
    }
  }

  protected statusText(r: SentConsentRequest): string {
    return r.status === 'granted'
      ? 'Allowed'
      : r.status === 'declined'
        ? 'Declined'
        : 'Waiting for the patient';
  }

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    this.submitted.set(true);
    this.error.set(null);
    this.sent.set('');
    const errors = this.errors();
    const first = (['patient', 'category', 'purpose', 'duration'] as const).find((f) => errors[f]);
    if (first) {
      const element = {
        patient: this.patientInput,
        category: this.categorySelect,
        purpose: this.purposeInput,
        duration: this.durationInput,
      }[first]();
      element.nativeElement.focus();
      return;
    }
    const body = accessRequestBody(this.fields());
    this.busy.set(true);
    try {
      await this.api.requestAccess(body);
      this.sent.set(
        `Request sent to patient ${shortAddress(body.patient)}. They will see it in Custos and decide.`,
      );
      this.purpose.set('');
      this.submitted.set(false);
      void this.loadSent();
    } catch (error) {
      this.error.set(toApiError(error).message);
    } finally {
      this.busy.set(false);
    }
  }
}
