import { ChangeDetectionStrategy, Component, effect, inject, signal, untracked } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { ActivatedRoute, RouterLink } from '@angular/router';
import { map } from 'rxjs';

import { toApiError } from '../core/api-client';
import { MessagingKeys } from '../messaging/messaging-keys';
import { AddressChip } from '../shared/address-chip';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { RecordHistory } from './record-history';
import { RecordReader } from './record-reader';
import { type RecordRow, RecordTable, withTitles } from './record-table';
import { RecordViewer } from './record-viewer';
import { RecordsApi, type RecordView } from './records-api';
import { RecordsUnlock } from './records-unlock';

const PAGE_SIZE = 50;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * A patient's records as a provider or emergency staff member sees them
 * (`/provider/patients/:patient/records`, `/emergency/patients/:patient/records`): the records in the
 * categories they may read now (`GET /records?patient=`), titles decrypted with the keys the patient's
 * app shared, each openable (see `RecordViewer`). The API's refusal is shown as it gives it.
 *
 * Test hooks: `staff-records`, `staff-records-loading`, `staff-records-error`, `staff-records-empty`,
 * `staff-records-more`, and those of the table, history and viewer.
 */
@Component({
  selector: 'app-staff-records-page',
  imports: [
    AddressChip,
    EmptyState,
    ErrorState,
    LoadingState,
    RecordHistory,
    RecordTable,
    RecordViewer,
    RecordsUnlock,
    RouterLink,
  ],
  template: `
    <h1>Patient records</h1>
    @if (patient(); as patient) {
      <p class="lede">
        Records of <app-address-chip [address]="patient" testId="staff-records-patient" /> that you may read
        now. They are decrypted in your browser; every opening is recorded in the patient's access log.
      </p>
    }
    <p><a [routerLink]="back" data-testid="staff-records-back">Back</a></p>

    @if (!patient()) {
      <app-error-state
        heading="No such patient"
        message="The address in the link is not an account address."
        [retryable]="false"
        testId="staff-records-error"
      />
    } @else if (!keys.unlocked()) {
      <app-records-unlock />
    } @else {
      @switch (status()) {
        @case ('loading') {
          <app-loading-state label="Loading and decrypting the records…" testId="staff-records-loading" />
        }
        @case ('error') {
          <app-error-state
            heading="The records could not be loaded"
            [message]="error()"
            testId="staff-records-error"
            (retry)="load()"
          />
        }
        @default {
          @if (rows().length === 0) {
            <app-empty-state heading="No records you may read." testId="staff-records-empty">
              The patient has no records in the categories they gave you access to.
            </app-empty-state>
          } @else {
            <app-record-table
              data-testid="staff-records"
              caption="The patient's records, newest first"
              [rows]="rows()"
              (opened)="opened.set($event)"
              (history)="historyOf.set($event)"
            />
            @if (nextCursor()) {
              <div class="actions">
                <button type="button" data-testid="staff-records-more" (click)="loadMore()">
                  Show older records
                </button>
              </div>
            }
          }
        }
      }
      @if (historyOf(); as row) {
        <app-record-history
          [of]="row"
          [known]="rows()"
          (opened)="opened.set($event)"
          (closed)="historyOf.set(null)"
        />
      }
      @if (opened(); as record) {
        <app-record-viewer [record]="record" />
      }
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class StaffRecordsPage {
  protected readonly keys = inject(MessagingKeys);
  private readonly api = inject(RecordsApi);
  private readonly reader = inject(RecordReader);

  private readonly route = inject(ActivatedRoute);
  /** Where "Back" leads: the area's home (route data `back`). */
  protected readonly back = (this.route.snapshot.data['back'] as string | undefined) ?? '/';
  /** Lower-case address of the patient in the link, or null when it is not an address. */
  protected readonly patient = toSignal(
    this.route.paramMap.pipe(
      map((params) => {
        const address = params.get('patient') ?? '';
        return ADDRESS.test(address) ? address.toLowerCase() : null;
      }),
    ),
    { initialValue: null },
  );
  protected readonly status = signal<'loading' | 'ready' | 'error'>('loading');
  protected readonly error = signal<string | null>(null);
  protected readonly rows = signal<readonly RecordRow[]>([]);
  protected readonly nextCursor = signal<string | null>(null);
  protected readonly historyOf = signal<RecordRow | null>(null);
  protected readonly opened = signal<RecordView | null>(null);

  constructor() {
    effect(() => {
      const patient = this.patient();
      if (!patient || !this.keys.unlocked()) return;
      untracked(() => {
        this.opened.set(null);
        this.historyOf.set(null);
        this.status.set('loading');
        void this.load();
      });
    });
  }

  async load(): Promise<void> {
    const patient = this.patient();
    if (!patient) return;
    if (this.status() !== 'ready') this.status.set('loading');
    try {
      const page = await this.api.list({ patient, limit: PAGE_SIZE });
      this.rows.set(await withTitles(this.reader, page.items));
      this.nextCursor.set(page.nextCursor);
      this.error.set(null);
      this.status.set('ready');
    } catch (error) {
      this.error.set(toApiError(error).message);
      this.status.set('error');
    }
  }

  protected async loadMore(): Promise<void> {
    const patient = this.patient();
    const cursor = this.nextCursor();
    if (!patient || !cursor) return;
    try {
      const page = await this.api.list({ patient, cursor, limit: PAGE_SIZE });
      const more = await withTitles(this.reader, page.items);
      this.rows.update((rows) => [...rows, ...more]);
      this.nextCursor.set(page.nextCursor);
    } catch (error) {
      this.error.set(toApiError(error).message);
      this.status.set('error');
    }
  }
}
