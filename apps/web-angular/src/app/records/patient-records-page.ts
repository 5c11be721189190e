import {
  ChangeDetectionStrategy,
  Component,
  type ElementRef,
  effect,
  inject,
  signal,
  untracked,
  viewChild,
} from '@angular/core';

import { MessagingKeys } from '../messaging/messaging-keys';
import { RecordKeySharing } from './record-key-sharing';
import { RecordList } from './record-list';
import { type RecordRow, rowTitle } from './record-table';
import { type AmendTarget, RecordUploadForm } from './record-upload-form';
import { RecordsUnlock } from './records-unlock';

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
  imports: [RecordList, RecordUploadForm, RecordsUnlock],
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
        <app-record-list
          testId="records"
          tableTestId="patient-records"
          caption="Your records, newest first"
          loadingLabel="Loading and decrypting your records…"
          errorHeading="Your records could not be loaded"
          emptyHeading="You have no records yet."
          [latestOnly]="true"
          [amendable]="true"
          (amend)="startAmend($event)"
        >
          Add a file or a FHIR resource above; it is encrypted before it leaves your browser.
        </app-record-list>
      </section>
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PatientRecordsPage {
  protected readonly keys = inject(MessagingKeys);
  private readonly sharing = inject(RecordKeySharing);

  protected readonly amending = signal<AmendTarget | null>(null);
  protected readonly notice = signal('');

  private readonly list = viewChild(RecordList);
  private readonly recordsHeading = viewChild<ElementRef<HTMLElement>>('recordsHeading');
  private readonly amendHeading = viewChild<ElementRef<HTMLElement>>('amendHeading');

  constructor() {
    effect(() => {
      if (this.keys.unlocked()) untracked(() => void this.sharing.sharePending());
    });
  }

  protected startAmend(row: RecordRow): void {
    if (row.title === null) return;
    this.amending.set({ record: row.record, title: row.title });
    setTimeout(() => this.amendHeading()?.nativeElement.focus());
  }

  /** A record (or a new version) is registered: reload until the list shows it, then say so. */
  protected async onSaved(recordId: string, amended: AmendTarget | null): Promise<void> {
    const list = this.list();
    for (let attempt = 0; list && attempt < 5; attempt++) {
      await list.load();
      if (list.rows().some((r) => r.record.id === recordId) || list.status() === 'error') break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const saved = list?.rows().find((r) => r.record.id === recordId);
    const title = saved ? rowTitle(saved) : 'Your record';
    this.notice.set(amended ? `New version of ${amended.title} saved.` : `${title} saved.`);
    this.amending.set(null);
    this.recordsHeading()?.nativeElement.focus();
  }
}
