import {
  ChangeDetectionStrategy,
  Component,
  type ElementRef,
  computed,
  effect,
  inject,
  signal,
  untracked,
  viewChild,
} from '@angular/core';

import { toApiError } from '../core/api-client';
import { MessagingKeys } from '../messaging/messaging-keys';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { RecordHistory } from './record-history';
import { RecordKeySharing } from './record-key-sharing';
import { RecordReader } from './record-reader';
import { type RecordRow, RecordTable, rowTitle, withTitles } from './record-table';
import { type AmendTarget, RecordUploadForm } from './record-upload-form';
import { RecordViewer } from './record-viewer';
import { RecordsApi, type RecordView } from './records-api';
import { RecordsUnlock } from './records-unlock';

const PAGE_SIZE = 50;

/**
 * The patient's records (`/patient/records`): add a file or a FHIR resource, see their records
 * (latest versions, newest first, titles decrypted here), open one, amend the latest version, see a
 * record's history. Everything needs the encryption key unlocked first; then keys waiting to be
 * shared with people given access after an upload are shared (see `RecordKeySharing`).
 *
 * Test hooks: `patient-records`, `records-loading`, `records-error`, `records-empty`, `records-more`,
 * `records-notice`, and those of the table, form, history and viewer.
 */
@Component({
  selector: 'app-patient-records-page',
  imports: [
    EmptyState,
    ErrorState,
    LoadingState,
    RecordHistory,
    RecordTable,
    RecordUploadForm,
    RecordViewer,
    RecordsUnlock,
  ],
  template: `
    <h1>Your health records</h1>
    <p class="lede">
      Keep your documents and health data here. They are encrypted in your browser; only you and the people
      you give access to a category can open them.
    </p>

    @if (!keys.unlocked()) {
      <app-records-unlock />
    } @else {
      <p class="notice" role="status" data-testid="records-notice">{{ notice() }}</p>

      @if (amending(); as target) {
        <section class="panel" aria-labelledby="amend-heading" data-testid="record-amend-panel">
          <h2 id="amend-heading" #amendHeading tabindex="-1">New version of {{ target.title }}</h2>
          <app-record-upload-form
            [amending]="target"
            (saved)="onSaved($event, target)"
            (cancelled)="amending.set(null)"
          />
        </section>
      } @else {
        <section class="panel" aria-labelledby="add-heading">
          <h2 id="add-heading">Add a record</h2>
          <app-record-upload-form (saved)="onSaved($event, null)" />
        </section>
      }

      <section class="section" aria-labelledby="records-heading">
        <h2 id="records-heading" #recordsHeading tabindex="-1">Your records</h2>
        @switch (status()) {
          @case ('loading') {
            <app-loading-state label="Loading and decrypting your records…" testId="records-loading" />
          }
          @case ('error') {
            <app-error-state
              heading="Your records could not be loaded"
              [message]="error()"
              testId="records-error"
              (retry)="load()"
            />
          }
          @default {
            @if (latest().length === 0) {
              <app-empty-state heading="You have no records yet." testId="records-empty">
                Add a file or a FHIR resource above; it is encrypted before it leaves your browser.
              </app-empty-state>
            } @else {
              <app-record-table
                data-testid="patient-records"
                caption="Your records, newest first"
                [rows]="latest()"
                [amendable]="true"
                (opened)="open($event)"
                (amend)="startAmend($event)"
                (history)="historyOf.set($event)"
              />
              @if (nextCursor()) {
                <div class="actions">
                  <button type="button" data-testid="records-more" (click)="loadMore()">
                    Show older records
                  </button>
                </div>
              }
            }
          }
        }
      </section>

      @if (historyOf(); as row) {
        <app-record-history
          [of]="row"
          [known]="rows()"
          (opened)="open($event)"
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
export class PatientRecordsPage {
  protected readonly keys = inject(MessagingKeys);
  private readonly api = inject(RecordsApi);
  private readonly reader = inject(RecordReader);
  private readonly sharing = inject(RecordKeySharing);

  protected readonly status = signal<'loading' | 'ready' | 'error'>('loading');
  protected readonly error = signal<string | null>(null);
  protected readonly rows = signal<readonly RecordRow[]>([]);
  protected readonly nextCursor = signal<string | null>(null);
  /** Latest versions only: older ones are in each record's history. */
  protected readonly latest = computed(() => this.rows().filter((r) => r.record.supersededBy === null));
  protected readonly amending = signal<AmendTarget | null>(null);
  protected readonly historyOf = signal<RecordRow | null>(null);
  protected readonly opened = signal<RecordView | null>(null);
  protected readonly notice = signal('');

  private readonly recordsHeading = viewChild<ElementRef<HTMLElement>>('recordsHeading');
  private readonly amendHeading = viewChild<ElementRef<HTMLElement>>('amendHeading');

  constructor() {
    effect(() => {
      if (!this.keys.unlocked()) return;
      untracked(() => {
        void this.load();
        void this.sharing.sharePending();
      });
    });
  }

  /** Loads the first page (again). */
  async load(): Promise<void> {
    if (this.status() !== 'ready') this.status.set('loading');
    try {
      const page = await this.api.list({ limit: PAGE_SIZE });
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
    const cursor = this.nextCursor();
    if (!cursor) return;
    try {
      const page = await this.api.list({ cursor, limit: PAGE_SIZE });
      const more = await withTitles(this.reader, page.items);
      this.rows.update((rows) => [...rows, ...more]);
      this.nextCursor.set(page.nextCursor);
    } catch (error) {
      this.notice.set(toApiError(error).message);
    }
  }

  protected open(record: RecordView): void {
    this.opened.set(record);
  }

  protected startAmend(row: RecordRow): void {
    if (row.title === null) return;
    this.historyOf.set(null);
    this.amending.set({ record: row.record, title: row.title });
    setTimeout(() => this.amendHeading()?.nativeElement.focus());
  }

  /** A record (or a new version) is registered: reload until the list shows it, then say so. */
  protected async onSaved(recordId: string, amended: AmendTarget | null): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      await this.load();
      if (this.rows().some((r) => r.record.id === recordId) || this.status() === 'error') break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const saved = this.rows().find((r) => r.record.id === recordId);
    const title = saved ? rowTitle(saved) : 'Your record';
    this.notice.set(amended ? `New version of ${amended.title} saved.` : `${title} saved.`);
    this.amending.set(null);
    this.recordsHeading()?.nativeElement.focus();
  }
}
