import {
  ChangeDetectionStrategy,
  Component,
  type ElementRef,
  computed,
  inject,
  signal,
  viewChild,
} from '@angular/core';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';

import { toApiError } from '../core/api-client';
import { addressError } from '../consultation/address-validation';
import {
  CONSULTATION_MAX_MINUTES,
  CONSULTATION_MIN_MINUTES,
  ConsultationApi,
  type ConsultationMode,
  JOIN_EARLY_MINUTES,
  type ScheduleSessionBody,
} from '../consultation/consultation-api';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { CATEGORY_NAMES, type CategoryName, isCategoryName, providerCategoryLabel } from './category-options';
import { type PatientGrant, ProviderApi } from './provider-api';

/** The schedule form's fields, as typed (`startsAt` as a `datetime-local` value, in local time). */
export interface ScheduleFields {
  readonly patient: string;
  readonly category: string;
  readonly startsAt: string;
  readonly durationMinutes: string;
  readonly mode: ConsultationMode;
}

export type ScheduleErrors = Partial<Record<'patient' | 'category' | 'startsAt' | 'durationMinutes', string>>;

/** The API accepts a start up to this long ago (clocks differ a little). */
const PAST_GRACE_MS = 60_000;

/** `2026-03-01T12:05` in local time, as a `datetime-local` input holds it. */
export function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The next whole 5 minutes from `now`: a start the room is open for at once. */
export function nextStart(now: Date): Date {
  const step = 5 * 60_000;
  return new Date(Math.ceil(now.getTime() / step) * step);
}

/**
 * What is wrong with the fields (empty when nothing): an address, a category the patient's grants
 * cover (`allowed`: the categories they granted me; with `telehealth` any category), a start that is
 * not in the past, 5–240 minutes.
 */
export function validateSchedule(
  fields: ScheduleFields,
  now: number,
  allowed?: ReadonlySet<string>,
): ScheduleErrors {
  const errors: ScheduleErrors = {};
  const patientError = addressError(fields.patient, 'the patient');
  if (patientError) errors.patient = fields.patient.trim() === '' ? 'Choose the patient.' : patientError;
  if (!isCategoryName(fields.category)) {
    errors.category = 'Choose what the consultation is about.';
  } else if (allowed && !allowed.has('telehealth') && !allowed.has(fields.category)) {
    errors.category = `This patient has not granted you access to ${providerCategoryLabel(fields.category).toLowerCase()} or to telehealth. Request access first.`;
  }
  const start = Date.parse(fields.startsAt);
  if (fields.startsAt.trim() === '' || Number.isNaN(start)) {
    errors.startsAt = 'Enter the date and time it starts.';
  } else if (start < now - PAST_GRACE_MS) {
    errors.startsAt = 'Choose a start that is not in the past.';
  }
  const minutes = Number(fields.durationMinutes);
  if (
    fields.durationMinutes.trim() === '' ||
    !Number.isInteger(minutes) ||
    minutes < CONSULTATION_MIN_MINUTES ||
    minutes > CONSULTATION_MAX_MINUTES
  ) {
    errors.durationMinutes = `Enter a length of ${CONSULTATION_MIN_MINUTES} to ${CONSULTATION_MAX_MINUTES} minutes.`;
  }
  return errors;
}

/** The request body for valid fields. */
export function scheduleBody(fields: ScheduleFields): ScheduleSessionBody {
  return {
    patient: fields.patient.trim(),
    category: fields.category as CategoryName,
    startsAt: new Date(Date.parse(fields.startsAt)).toISOString(),
    durationMinutes: Number(fields.durationMinutes),
    mode: fields.mode,
  };
}

/**
 * A provider schedules a consultation with a patient whose grant to them is active, for its category
 * or for telehealth (`POST /sessions`), then lands on its page. `?patient=` and `?category=` prefill.
 *
 * Test hooks: `schedule-form`, `schedule-patient` (a select; option values are lower-case addresses),
 * `schedule-category`, `schedule-starts-at`, `schedule-duration`, `schedule-mode-video`,
 * `schedule-mode-audio`, `schedule-submit`, `schedule-<field>-error`, `schedule-error`.
 */
@Component({
  selector: 'app-schedule-form',
  imports: [RouterLink, LoadingState, ErrorState, EmptyState],
  template: `
    <p><a routerLink=".." data-testid="schedule-back">← All consultations</a></p>
    <h1>Schedule a consultation</h1>
    <p class="lede">
      With a patient who granted you access to what it is about, or to telehealth. The room opens
      {{ joinEarly }} minutes before the start.
    </p>

    @switch (status()) {
      @case ('loading') {
        <app-loading-state label="Loading your patients…" testId="schedule-loading" />
      }
      @case ('error') {
        <app-error-state
          heading="Your patients could not be loaded"
          [message]="loadError()"
          testId="schedule-load-error"
          (retry)="load()"
        />
      }
      @default {
        @if (patients().length === 0) {
          <app-empty-state heading="No patient has granted you access yet." testId="schedule-no-patients">
            <a routerLink="/provider/request-access">Request access</a> first; once a patient allows it, you
            can schedule a consultation with them.
          </app-empty-state>
        } @else {
          <form class="panel" novalidate data-testid="schedule-form" (submit)="submit($event)">
            <div class="field">
              <label for="schedule-patient">Patient</label>
              <select
                #patientSelect
                id="schedule-patient"
                data-testid="schedule-patient"
                [attr.aria-invalid]="!!shown().patient"
                (change)="choosePatient(patientSelect.value)"
              >
                <option value="" disabled [selected]="patient() === ''">Choose…</option>
                @for (p of patients(); track p) {
                  <option [value]="p" [selected]="p === patient()">{{ p }}</option>
                }
              </select>
              @if (shown().patient; as e) {
                <p class="form-error" data-testid="schedule-patient-error">{{ e }}</p>
              }
            </div>

            <div class="field">
              <label for="schedule-category">About</label>
              <select
                #categorySelect
                id="schedule-category"
                data-testid="schedule-category"
                [attr.aria-invalid]="!!shown().category"
                (change)="category.set(categorySelect.value)"
              >
                <option value="" disabled [selected]="category() === ''">Choose…</option>
                @for (name of categoryChoices(); track name) {
                  <option [value]="name" [selected]="name === category()">{{ label(name) }}</option>
                }
              </select>
              @if (shown().category; as e) {
                <p class="form-error" data-testid="schedule-category-error">{{ e }}</p>
              }
            </div>

            <div class="field">
              <label for="schedule-starts-at">Starts</label>
              <input
                #startsAtInput
                id="schedule-starts-at"
                type="datetime-local"
                data-testid="schedule-starts-at"
                [value]="startsAt()"
                [attr.aria-invalid]="!!shown().startsAt"
                (input)="startsAt.set(startsAtInput.value)"
                (change)="startsAt.set(startsAtInput.value)"
              />
              @if (shown().startsAt; as e) {
                <p class="form-error" data-testid="schedule-starts-at-error">{{ e }}</p>
              }
            </div>

            <div class="field">
              <label for="schedule-duration">Length in minutes</label>
              <input
                #durationInput
                id="schedule-duration"
                type="number"
                inputmode="numeric"
                [attr.min]="minMinutes"
                [attr.max]="maxMinutes"
                step="5"
                data-testid="schedule-duration"
                [value]="durationMinutes()"
                [attr.aria-invalid]="!!shown().durationMinutes"
                (input)="durationMinutes.set(durationInput.value)"
              />
              @if (shown().durationMinutes; as e) {
                <p class="form-error" data-testid="schedule-duration-error">{{ e }}</p>
              }
            </div>

            <fieldset class="choices">
              <legend>Kind</legend>
              <label>
                <input
                  type="radio"
                  name="schedule-mode"
                  value="video"
                  data-testid="schedule-mode-video"
                  [checked]="mode() === 'video'"
                  (change)="mode.set('video')"
                />
                Video
              </label>
              <label>
                <input
                  type="radio"
                  name="schedule-mode"
                  value="audio"
                  data-testid="schedule-mode-audio"
                  [checked]="mode() === 'audio'"
                  (change)="mode.set('audio')"
                />
                Audio only
              </label>
            </fieldset>

            <div class="actions">
              <button type="submit" class="button--primary" data-testid="schedule-submit" [disabled]="busy()">
                {{ busy() ? 'Scheduling…' : 'Schedule' }}
              </button>
            </div>
            @if (error()) {
              <p class="form-error" role="alert" data-testid="schedule-error">{{ error() }}</p>
            }
          </form>
        }
      }
    }
  `,
  styleUrl: '../consultation/form-fields.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ScheduleForm {
  private readonly providerApi = inject(ProviderApi);
  private readonly consultations = inject(ConsultationApi);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);

  protected readonly joinEarly = JOIN_EARLY_MINUTES;
  protected readonly minMinutes = CONSULTATION_MIN_MINUTES;
  protected readonly maxMinutes = CONSULTATION_MAX_MINUTES;
  protected readonly label = providerCategoryLabel;

  protected readonly status = signal<'loading' | 'ready' | 'error'>('loading');
  protected readonly loadError = signal<string | null>(null);
  private readonly grants = signal<readonly PatientGrant[]>([]);

  protected readonly patient = signal('');
  protected readonly category = signal('');
  protected readonly startsAt = signal(toLocalInput(nextStart(new Date())));
  protected readonly durationMinutes = signal('30');
  protected readonly mode = signal<ConsultationMode>('video');
  protected readonly submitted = signal(false);
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);

  /** Every patient with an active grant to me (and a prefilled one, whom the API will judge). */
  protected readonly patients = computed(() => {
    const list = [...new Set(this.grants().map((g) => g.patient.toLowerCase()))];
    const chosen = this.patient().trim().toLowerCase();
    if (chosen && !list.includes(chosen) && !addressError(chosen)) list.push(chosen);
    return list;
  });
  /** The categories the chosen patient granted me, active now. */
  private readonly allowed = computed(() => {
    const chosen = this.patient().trim().toLowerCase();
    return new Set(
      this.grants()
        .filter((g) => g.patient.toLowerCase() === chosen)
        .map((g) => g.category),
    );
  });
  /** With a telehealth grant, any category; otherwise the ones granted. */
  protected readonly categoryChoices = computed(() => {
    const allowed = this.allowed();
    if (allowed.size === 0 || allowed.has('telehealth')) return CATEGORY_NAMES;
    return CATEGORY_NAMES.filter((name) => allowed.has(name));
  });

  private readonly fields = computed<ScheduleFields>(() => ({
    patient: this.patient(),
    category: this.category(),
    startsAt: this.startsAt(),
    durationMinutes: this.durationMinutes(),
    mode: this.mode(),
  }));
  protected readonly shown = computed<ScheduleErrors>(() =>
    this.submitted() ? validateSchedule(this.fields(), Date.now(), this.grantsFor()) : {},
  );

  private readonly patientSelect = viewChild<ElementRef<HTMLSelectElement>>('patientSelect');
  private readonly categorySelect = viewChild<ElementRef<HTMLSelectElement>>('categorySelect');
  private readonly startsAtInput = viewChild<ElementRef<HTMLInputElement>>('startsAtInput');
  private readonly durationInput = viewChild<ElementRef<HTMLInputElement>>('durationInput');

  constructor() {
    const query = this.route.snapshot.queryParamMap;
    this.patient.set((query.get('patient') ?? '').toLowerCase());
    const category = query.get('category');
    if (isCategoryName(category)) this.category.set(category);
    void this.load();
  }

  async load(): Promise<void> {
    this.status.set('loading');
    try {
      this.grants.set(await this.providerApi.patients());
      if (!this.patient() && this.patients().length === 1) this.choosePatient(this.patients()[0]!);
      else if (this.patient() && !this.category()) this.choosePatient(this.patient());
      this.status.set('ready');
    } catch (error) {
      this.loadError.set(toApiError(error).message);
      this.status.set('error');
    }
  }

  /** Picks the patient and a category their grants cover (telehealth when granted). */
  protected choosePatient(address: string): void {
    this.patient.set(address);
    const allowed = this.allowed();
    if (this.category() && (allowed.has('telehealth') || allowed.has(this.category()))) return;
    if (allowed.has('telehealth')) this.category.set('telehealth');
    else {
      const first = CATEGORY_NAMES.find((name) => allowed.has(name));
      if (first) this.category.set(first);
    }
  }

  /** The chosen patient's granted categories, once known (undefined: let the API judge). */
  private grantsFor(): ReadonlySet<string> | undefined {
    const allowed = this.allowed();
    return allowed.size > 0 ? allowed : undefined;
  }

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    this.submitted.set(true);
    this.error.set(null);
    const errors = validateSchedule(this.fields(), Date.now(), this.grantsFor());
    const first = (['patient', 'category', 'startsAt', 'durationMinutes'] as const).find((f) => errors[f]);
    if (first) {
      const element = {
        patient: this.patientSelect,
        category: this.categorySelect,
        startsAt: this.startsAtInput,
        durationMinutes: this.durationInput,
      }[first]();
      element?.nativeElement.focus();
      return;
    }
    this.busy.set(true);
    try {
      const { id } = await this.consultations.schedule(scheduleBody(this.fields()));
      await this.router.navigate(['..', id], { relativeTo: this.route });
    } catch (error) {
      this.error.set(toApiError(error).message);
    } finally {
      this.busy.set(false);
    }
  }
}
