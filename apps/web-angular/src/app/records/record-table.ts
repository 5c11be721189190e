import { ChangeDetectionStrategy, Component, computed, input, output } from '@angular/core';

import { DateTimePipe } from '../shared/time-left';
import { RecordReadError } from './record-keys';
import type { RecordReader } from './record-reader';
import { recordCategoryLabel } from './record-categories';
import type { RecordView } from './records-api';

/** A record with its title decrypted, or why the title cannot be shown. */
export interface RecordRow {
  readonly record: RecordView;
  readonly title: string | null;
  readonly problem: string | null;
}

/** Each record with its decrypted title (one key fetch per record, in parallel). */
export function withTitles(reader: RecordReader, records: readonly RecordView[]): Promise<RecordRow[]> {
  return Promise.all(
    records.map(async (record): Promise<RecordRow> => {
      try {
        return { record, title: (await reader.metadata(record)).title, problem: null };
      } catch (error) {
        const problem =
          error instanceof RecordReadError ? error.message : 'The title could not be decrypted.';
        return { record, title: null, problem };
      }
    }),
  );
}

/** The name a row goes by in buttons and headings. */
export function rowTitle(row: RecordRow): string {
  return row.title ?? 'Untitled record';
}

/** `1.2 MB`, `830 kB`, `12 bytes`. */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  if (bytes < 1_000_000) return `${Math.round(bytes / 1000)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** A button on a row of the table. */
interface RowAction {
  readonly text: string;
  readonly testId: string;
  /** Its accessible name, which names the row: `Open record 1: Blood test`. */
  readonly name: string;
  readonly disabled?: boolean;
  readonly run: () => void;
}

const STATUS_TEXT: Record<RecordView['status'], string> = {
  pending: 'Registering…',
  registered: 'Registered',
  failed: 'Registration failed',
};

/**
 * Records as a table: title, category, date, size, status, and per row "Open", "Amend" (the latest
 * version, when `amendable`) and "History" (records with more than one version). Buttons are named
 * after the row's place and title: "Open record 1: Blood test", "Amend record 1: Blood test",
 * "History of record 1: Blood test" (newest first, as the API lists them).
 *
 * Test hooks: `record-row` (with `data-record-id`, `data-status`), `record-row-title`, `record-open`,
 * `record-amend`, `record-history`.
 */
@Component({
  selector: 'app-record-table',
  imports: [DateTimePipe],
  template: `
    <div class="table-wrap" tabindex="0" role="region" [attr.aria-label]="caption()">
      <table class="table" data-testid="record-table">
        <caption class="visually-hidden">
          {{
            caption()
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">Title</th>
            <th scope="col">Category</th>
            <th scope="col">Added</th>
            <th scope="col">Size</th>
            <th scope="col">Status</th>
            <th scope="col"><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          @for (line of lines(); track line.row.record.id) {
            @let row = line.row;
            <tr
              data-testid="record-row"
              [attr.data-record-id]="row.record.id"
              [attr.data-status]="row.record.status"
            >
              <td data-label="Title">
                @if (row.title !== null) {
                  <strong data-testid="record-row-title">{{ row.title }}</strong>
                } @else {
                  <span data-testid="record-row-title" class="muted">Title not available</span>
                  <span class="hint" data-testid="record-title-problem">{{ row.problem }}</span>
                }
                @if (row.record.supersedes) {
                  <span class="muted"> (amended)</span>
                }
                @if (row.record.supersededBy) {
                  <span class="muted"> (replaced by a newer version)</span>
                }
              </td>
              <td data-label="Category">{{ categoryLabel(row.record.category) }}</td>
              <td data-label="Added">{{ row.record.submittedAt | dateTime }}</td>
              <td data-label="Size">{{ size(row.record.size) }}</td>
              <td data-label="Status">{{ statusText[row.record.status] }}</td>
              <td data-label="Actions">
                <div class="actions">
                  @for (action of line.actions; track action.testId) {
                    <button
                      type="button"
                      class="button--small"
                      [attr.data-testid]="action.testId"
                      [attr.aria-label]="action.name"
                      [disabled]="action.disabled"
                      (click)="action.run()"
                    >
                      {{ action.text }}
                    </button>
                  }
                </div>
              </td>
            </tr>
          }
        </tbody>
      </table>
    </div>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RecordTable {
  readonly rows = input.required<readonly RecordRow[]>();
  readonly caption = input('Records, newest first');
  /** Shows "Amend" on latest versions (the patient's own records). */
  readonly amendable = input(false);
  readonly opened = output<RecordView>();
  readonly amend = output<RecordRow>();
  readonly history = output<RecordRow>();

  protected readonly statusText = STATUS_TEXT;
  protected readonly categoryLabel = recordCategoryLabel;
  protected readonly size = formatSize;
  protected readonly lines = computed(() =>
    this.rows().map((row, i) => ({ row, actions: this.actionsOf(row, `record ${i + 1}: ${rowTitle(row)}`) })),
  );

  /** The buttons of a row; `name` is how their accessible names call it (`record 1: Blood test`). */
  private actionsOf(row: RecordRow, name: string): RowAction[] {
    const { record } = row;
    const actions: RowAction[] = [
      { text: 'Open', testId: 'record-open', name: `Open ${name}`, run: () => this.opened.emit(record) },
    ];
    if (this.amendable() && !record.supersededBy && record.status !== 'failed') {
      actions.push({
        text: 'Amend',
        testId: 'record-amend',
        name: `Amend ${name}`,
        disabled: row.title === null,
        run: () => this.amend.emit(row),
      });
    }
    if (record.supersedes || record.supersededBy) {
      actions.push({
        text: 'History',
        testId: 'record-history',
        name: `History of ${name}`,
        run: () => this.history.emit(row),
      });
    }
    return actions;
  }
}
