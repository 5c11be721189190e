import {
  ChangeDetectionStrategy,
  Component,
  effect,
  inject,
  input,
  output,
  signal,
  untracked,
} from '@angular/core';

import { toApiError } from '../core/api-client';
import { ErrorState } from '../shared/error-state';
import { LoadingState } from '../shared/loading-state';
import { DateTimePipe } from '../shared/time-left';
import { RecordReader } from './record-reader';
import { type RecordRow, rowTitle, withTitles } from './record-table';
import { RecordsApi, type RecordView } from './records-api';

/**
 * The amendment chain of a record (`GET /records/:id` → `history`, oldest first): every version with
 * its title and date, each openable ("Open version 2: Blood test"). Rows already loaded are reused.
 *
 * Test hooks: `record-history-panel`, `record-version` (with `data-record-id`), `record-version-open`,
 * `record-history-close`.
 */
@Component({
  selector: 'app-record-history',
  imports: [DateTimePipe, ErrorState, LoadingState],
  template: `
    <section class="panel" data-testid="record-history-panel" aria-labelledby="record-history-heading">
      <h2 id="record-history-heading">History of {{ name(of()) }}</h2>
      @switch (status()) {
        @case ('loading') {
          <app-loading-state label="Loading the versions…" testId="record-history-loading" />
        }
        @case ('error') {
          <app-error-state
            heading="The history could not be loaded"
            [message]="error()"
            testId="record-history-error"
            (retry)="load(of())"
          />
        }
        @default {
          <ol class="plain-list">
            @for (version of versions(); track version.record.id; let i = $index) {
              <li data-testid="record-version" [attr.data-record-id]="version.record.id">
                <strong>Version {{ i + 1 }}{{ i === versions().length - 1 ? ' (latest)' : '' }}:</strong>
                {{ name(version) }} · {{ version.record.submittedAt | dateTime }}
                <button
                  type="button"
                  class="button--small"
                  data-testid="record-version-open"
                  [attr.aria-label]="'Open version ' + (i + 1) + ': ' + name(version)"
                  (click)="opened.emit(version.record)"
                >
                  Open
                </button>
              </li>
            }
          </ol>
        }
      }
      <div class="actions">
        <button type="button" data-testid="record-history-close" (click)="closed.emit()">
          Close history
        </button>
      </div>
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RecordHistory {
  /** Any version of the record. */
  readonly of = input.required<RecordRow>();
  /** Rows already loaded (their titles are reused). */
  readonly known = input<readonly RecordRow[]>([]);
  readonly opened = output<RecordView>();
  readonly closed = output<void>();

  private readonly api = inject(RecordsApi);
  private readonly reader = inject(RecordReader);
  private loads = 0;

  protected readonly status = signal<'loading' | 'ready' | 'error'>('loading');
  protected readonly error = signal<string | null>(null);
  protected readonly versions = signal<readonly RecordRow[]>([]);
  protected readonly name = rowTitle;

  constructor() {
    effect(() => {
      const row = this.of();
      untracked(() => void this.load(row));
    });
  }

  protected async load(row: RecordRow): Promise<void> {
    const load = ++this.loads;
    this.status.set('loading');
    try {
      const detail = await this.api.record(row.record.id);
      const known = new Map(this.known().map((r) => [r.record.id, r]));
      const missing = detail.history.filter((id) => !known.has(id));
      const fetched = await withTitles(
        this.reader,
        await Promise.all(missing.map((id) => this.api.record(id))),
      );
      for (const version of fetched) known.set(version.record.id, version);
      if (load !== this.loads) return;
      this.versions.set(detail.history.map((id) => known.get(id)).filter((r): r is RecordRow => !!r));
      this.status.set('ready');
    } catch (error) {
      if (load !== this.loads) return;
      this.error.set(toApiError(error).message);
      this.status.set('error');
    }
  }
}
