import { ChangeDetectionStrategy, Component, input, output, signal } from '@angular/core';

import type { AuditFilter } from './compliance-api';
import { isAddressText, localInputToIso } from './form-values';

/** The timeline's filters: the API's (patient, actor, time range) and the action, matched here. */
export interface TimelineFilter extends AuditFilter {
  /** Exact action, e.g. `read`, `release_key` (the API does not filter by action: done in the browser). */
  readonly action?: string;
}

/**
 * The audit timeline's filter form: patient, actor, action, from, to. Addresses and the time range
 * are checked before `applied` emits; times are read in the browser's time zone and sent as UTC.
 *
 * Test hooks: `filter-patient`, `filter-actor`, `filter-action`, `filter-from`, `filter-to`,
 * `filter-apply`, `filter-clear`, `filter-error`.
 */
@Component({
  selector: 'app-audit-filter-form',
  template: `
    <form class="filters" aria-label="Filter the audit trail" (submit)="apply($event)" novalidate>
      <div class="filters__grid">
        <div class="field">
          <label for="filter-patient">Patient address</label>
          <input
            id="filter-patient"
            data-testid="filter-patient"
            autocomplete="off"
            spellcheck="false"
            placeholder="0x…"
            [value]="patient()"
            (input)="patient.set(value($event))"
          />
        </div>
        <div class="field">
          <label for="filter-actor">Actor address</label>
          <input
            id="filter-actor"
            data-testid="filter-actor"
            autocomplete="off"
            spellcheck="false"
            placeholder="0x…"
            [value]="actor()"
            (input)="actor.set(value($event))"
          />
        </div>
        <div class="field">
          <label for="filter-action">Action</label>
          <input
            id="filter-action"
            data-testid="filter-action"
            list="filter-action-options"
            autocomplete="off"
            placeholder="Any"
            [value]="action()"
            (input)="action.set(value($event))"
          />
          <datalist id="filter-action-options">
            @for (option of actions(); track option) {
              <option [value]="option"></option>
            }
          </datalist>
        </div>
        <div class="field">
          <label for="filter-from">From</label>
          <input
            id="filter-from"
            type="datetime-local"
            step="1"
            data-testid="filter-from"
            [value]="from()"
            (input)="from.set(value($event))"
          />
        </div>
        <div class="field">
          <label for="filter-to">Until (not included)</label>
          <input
            id="filter-to"
            type="datetime-local"
            step="1"
            data-testid="filter-to"
            [value]="to()"
            (input)="to.set(value($event))"
          />
        </div>
      </div>
      @if (error()) {
        <p class="form-error" role="alert" data-testid="filter-error">{{ error() }}</p>
      }
      <div class="actions">
        <button type="submit" class="button--primary" data-testid="filter-apply">Apply filters</button>
        <button type="button" data-testid="filter-clear" (click)="clear()">Clear</button>
      </div>
    </form>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AuditFilterForm {
  /** Actions seen so far, offered as suggestions. */
  readonly actions = input<readonly string[]>([]);
  readonly applied = output<TimelineFilter>();

  protected readonly patient = signal('');
  protected readonly actor = signal('');
  protected readonly action = signal('');
  protected readonly from = signal('');
  protected readonly to = signal('');
  protected readonly error = signal<string | null>(null);

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected apply(event: Event): void {
    event.preventDefault();
    const patient = this.patient().trim();
    const actor = this.actor().trim();
    if (patient && !isAddressText(patient))
      return this.fail('The patient must be an address: 0x and 40 hex digits.');
    if (actor && !isAddressText(actor))
      return this.fail('The actor must be an address: 0x and 40 hex digits.');
    const from = localInputToIso(this.from());
    const to = localInputToIso(this.to());
    if (this.from() && !from) return this.fail('The start is not a valid date and time.');
    if (this.to() && !to) return this.fail('The end is not a valid date and time.');
    if (from && to && from >= to) return this.fail('The start must be before the end.');
    this.error.set(null);
    this.applied.emit({
      ...(patient ? { patient: patient.toLowerCase() } : {}),
      ...(actor ? { actor: actor.toLowerCase() } : {}),
      ...(this.action().trim() ? { action: this.action().trim() } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
    });
  }

  protected clear(): void {
    for (const field of [this.patient, this.actor, this.action, this.from, this.to]) field.set('');
    this.error.set(null);
    this.applied.emit({});
  }

  private fail(message: string): void {
    this.error.set(message);
  }
}
