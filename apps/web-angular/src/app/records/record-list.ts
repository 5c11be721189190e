import {
  ChangeDetectionStrategy,
  Component,
  computed,
  effect,
  inject,
  input,
  output,
  signal,
  untracked,
} from '@angular/core';

import { toApiError } from '../core/api-client';
import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadMore } from '../shared/load-more';
import { LoadingState } from '../shared/loading-state';
import { RecordHistory } from './record-history';
import { RecordReader } from './record-reader';
import { type RecordRow, RecordTable, withTitles } from './record-table';
import { RecordViewer } from './record-viewer';
import { RecordsApi, type RecordView } from './records-api';

const PAGE_SIZE = 50;

/**
 * Records a page at a time (`GET /records`, newest first), titles decrypted here: loading, failed
 * (with "Try again"), empty (the projected text) or the table with "Show older records"; below it the
 * history of a record and the record opened. The signed-in patient's own records (`patient` null) or
 * those of `patient` that a provider or emergency staff member may read now. Needs the encryption key
 * unlocked.
 *
 * Test hooks: `<testId>-loading`, `<testId>-error`, `<testId>-empty`, `<testId>-more`, the table's
 * `tableTestId`, and those of the table, history and viewer.
 */
@Component({
  selector: 'app-record-list',
  imports: [EmptyState, ErrorState, LoadMore, LoadingState, RecordHistory, RecordTable, RecordViewer],
  template: `
    @switch (status()) {
      @case ('loading') {
        <app-loading-state [label]="loadingLabel()" [testId]="testId() + '-loading'" />
      }
      @case ('error') {
        <app-error-state
          [heading]="errorHeading()"
          [message]="error()"
          [testId]="testId() + '-error'"
          (retry)="load()"
        />
      }
      @default {
        @if (shown().length === 0) {
          <app-empty-state [heading]="emptyHeading()" [testId]="testId() + '-empty'">
            <ng-content />
          </app-empty-state>
        } @else {
          <app-record-table
            [attr.data-testid]="tableTestId()"
            [caption]="caption()"
            [rows]="shown()"
            [amendable]="amendable()"
            (opened)="opened.set($event)"
            (amend)="startAmend($event)"
            (history)="historyOf.set($event)"
          />
          <app-load-more
            label="Show older records"
            [testId]="testId() + '-more'"
            [hasMore]="!!nextCursor()"
            [loading]="loadingMore()"
            [error]="moreError()"
            (more)="loadMore()"
          />
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
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RecordList {
  /** Lower-case address of the patient whose records these are, or null for the signed-in patient's. */
  readonly patient = input<string | null>(null);
  /** Shows latest versions only (older ones are in each record's history). */
  readonly latestOnly = input(false);
  /** Shows "Amend" on latest versions (the patient's own records). */
  readonly amendable = input(false);
  /** Prefix of the test hooks. */
  readonly testId = input.required<string>();
  readonly tableTestId = input.required<string>();
  readonly caption = input.required<string>();
  readonly loadingLabel = input.required<string>();
  readonly errorHeading = input.required<string>();
  readonly emptyHeading = input.required<string>();
  /** "Amend" pressed on a row (the history, if open, is closed). */
  readonly amend = output<RecordRow>();

  private readonly api = inject(RecordsApi);
  private readonly reader = inject(RecordReader);
  /** Counts first-page loads, so that a stale answer (another patient, a reload) is dropped. */
  private loads = 0;

  readonly status = signal<'loading' | 'ready' | 'error'>('loading');
  /** Every version loaded, newest first. */
  readonly rows = signal<readonly RecordRow[]>([]);
  protected readonly error = signal<string | null>(null);
  protected readonly nextCursor = signal<string | null>(null);
  protected readonly loadingMore = signal(false);
  protected readonly moreError = signal<string | null>(null);
  protected readonly shown = computed(() =>
    this.latestOnly() ? this.rows().filter((r) => r.record.supersededBy === null) : this.rows(),
  );
  protected readonly historyOf = signal<RecordRow | null>(null);
  protected readonly opened = signal<RecordView | null>(null);

  constructor() {
    effect(() => {
      this.patient();
      untracked(() => {
        this.opened.set(null);
        this.historyOf.set(null);
        this.status.set('loading');
        void this.load();
      });
    });
  }

  /** Loads the first page (again); the rows loaded stay shown meanwhile. */
  async load(): Promise<void> {
    const load = ++this.loads;
    if (this.status() !== 'ready') this.status.set('loading');
    try {
      const page = await this.api.list(this.query());
      const rows = await withTitles(this.reader, page.items);
      if (load !== this.loads) return;
      this.rows.set(rows);
      this.nextCursor.set(page.nextCursor);
      this.moreError.set(null);
      this.error.set(null);
      this.status.set('ready');
    } catch (error) {
      if (load !== this.loads) return;
      this.error.set(toApiError(error).message);
      this.status.set('error');
    }
  }

  protected async loadMore(): Promise<void> {
    const cursor = this.nextCursor();
    if (!cursor || this.loadingMore()) return;
    const load = this.loads;
    this.loadingMore.set(true);
    this.moreError.set(null);
    try {
      const page = await this.api.list({ ...this.query(), cursor });
      const more = await withTitles(this.reader, page.items);
      if (load !== this.loads) return;
      this.rows.update((rows) => [...rows, ...more]);
      this.nextCursor.set(page.nextCursor);
    } catch (error) {
      if (load === this.loads) this.moreError.set(toApiError(error).message);
    } finally {
      this.loadingMore.set(false);
    }
  }

  protected startAmend(row: RecordRow): void {
    this.historyOf.set(null);
    this.amend.emit(row);
  }

  private query(): { patient?: string; limit: number } {
    const patient = this.patient();
    return patient ? { patient, limit: PAGE_SIZE } : { limit: PAGE_SIZE };
  }
}
