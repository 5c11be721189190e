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

import { EmptyState } from '../shared/empty-state';
import { ErrorState } from '../shared/error-state';
import { LoadMore } from '../shared/load-more';
import { LoadingState } from '../shared/loading-state';
import { PagedList } from '../shared/paged-list';
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
          [message]="list.error()"
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
            [hasMore]="!!list.nextCursor()"
            [loading]="list.loadingMore()"
            [error]="list.moreError()"
            (more)="list.loadMore()"
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
  protected readonly list = new PagedList<RecordRow>(async (cursor) => {
    const page = await this.api.list({ ...this.query(), cursor });
    return { items: await withTitles(this.reader, page.items), nextCursor: page.nextCursor };
  });

  readonly status = this.list.status;
  /** Every version loaded, newest first. */
  readonly rows = this.list.items;
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
  load(): Promise<void> {
    return this.list.load({ keepShown: true });
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
