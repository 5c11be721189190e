import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  ElementRef,
  computed,
  effect,
  inject,
  input,
  output,
  signal,
  untracked,
  viewChild,
} from '@angular/core';
import { type CategoryName, isCategoryName } from '@custos/chain/categories';
import { MAX_RECORD_BYTES } from '@custos/domain/records';
import type { RecordMetadata } from '@custos/e2ee';

import { ActionProgressView } from '../shared/action-progress';
import { WalletUnlock } from '../shared/wallet-unlock';
import { blobBytes } from './blob-bytes';
import { fhirProblem } from './fhir-summary';
import { RECORD_CATEGORIES, recordCategoryLabel } from './record-categories';
import { type PreparedRecord, RecordUpload } from './record-upload';
import type { RecordView } from './records-api';
import { UPLOAD_STEPS, type UploadProgress } from './upload-progress';

let nextFormId = 0;

export const TITLE_MAX_LENGTH = 200;
const FILE_NAME_MAX_LENGTH = 200;
export const FHIR_MEDIA_TYPE = 'application/fhir+json';

/** The record being amended: the new version keeps its category. */
export interface AmendTarget {
  readonly record: RecordView;
  readonly title: string;
}

/**
 * Adds a record, or a new version of one (`amending`): a file (PDF, image, anything) or a FHIR R4
 * resource pasted or loaded as JSON (it must parse and have a `resourceType`), with a title and a
 * category. Saving shows Encrypted → Uploaded → Signed → Sent → Confirmed; a Retry after a failure
 * repeats only the signature when the file was already uploaded.
 *
 * Accessible names: "Choose a file", "FHIR R4 resource (JSON)", "Title", "Category", and the button
 * "Upload record" (amending: "Upload new version").
 */
@Component({
  selector: 'app-record-upload-form',
  imports: [ActionProgressView, WalletUnlock],
  template: `
    <form class="record-form" (submit)="submit($event)" novalidate [attr.aria-label]="formLabel()">
      <fieldset class="field">
        <legend>What are you adding?</legend>
        <label class="field--checkbox">
          <input
            type="radio"
            name="record-format"
            value="file"
            data-testid="record-format-file"
            [checked]="format() === 'file'"
            (change)="format.set('file')"
          />
          A file (PDF, image, any document)
        </label>
        <label class="field--checkbox">
          <input
            type="radio"
            name="record-format"
            value="fhir"
            data-testid="record-format-fhir"
            [checked]="format() === 'fhir'"
            (change)="format.set('fhir')"
          />
          A FHIR resource (JSON)
        </label>
      </fieldset>

      @if (format() === 'file') {
        <div class="field">
          <label [for]="id + '-file'">Choose a file</label>
          <input [id]="id + '-file'" type="file" data-testid="record-file" (change)="chooseFile($event)" />
        </div>
      } @else {
        <div class="field">
          <label [for]="id + '-fhir'">FHIR R4 resource (JSON)</label>
          <textarea
            [id]="id + '-fhir'"
            rows="8"
            spellcheck="false"
            class="mono"
            data-testid="record-fhir"
            [value]="fhirText()"
            (input)="fhirText.set(value($event))"
          ></textarea>
        </div>
        <div class="field">
          <label [for]="id + '-fhir-file'">Or load it from a JSON file</label>
          <input
            [id]="id + '-fhir-file'"
            type="file"
            accept=".json,application/json,application/fhir+json"
            data-testid="record-fhir-file"
            (change)="loadFhirFile($event)"
          />
        </div>
      }

      <div class="field">
        <label [for]="id + '-title'">Title</label>
        <input
          [id]="id + '-title'"
          data-testid="record-title"
          autocomplete="off"
          required
          [attr.maxlength]="titleMaxLength"
          [value]="title()"
          (input)="title.set(value($event))"
        />
      </div>
      <div class="field">
        <label [for]="id + '-category'">Category</label>
        <select
          [id]="id + '-category'"
          data-testid="record-category"
          [disabled]="!!amending()"
          [attr.aria-describedby]="amending() ? id + '-category-hint' : null"
          (change)="category.set(value($event))"
        >
          <option value="" [selected]="category() === ''">Choose a category</option>
          @for (name of categories; track name) {
            <option [value]="name" [selected]="category() === name">{{ label(name) }}</option>
          }
        </select>
        @if (amending()) {
          <p class="hint" [id]="id + '-category-hint'">A new version stays in the category of the record.</p>
        }
      </div>
      <app-wallet-unlock testId="record-passphrase" />
      @if (formError()) {
        <p class="form-error" role="alert" data-testid="record-form-error">{{ formError() }}</p>
      }
      <div class="actions">
        <button type="submit" class="button--primary" data-testid="record-upload" [disabled]="busy()">
          {{ amending() ? 'Upload new version' : 'Upload record' }}
        </button>
        @if (amending()) {
          <button
            type="button"
            data-testid="record-amend-cancel"
            [disabled]="busy()"
            (click)="cancelled.emit()"
          >
            Cancel
          </button>
        }
      </div>
    </form>
    @if (progress().step !== 'idle') {
      <app-action-progress
        testId="upload-progress"
        [preparation]="uploadSteps"
        [progress]="progress()"
        [confirmedText]="amending() ? 'The new version is saved.' : 'Your record is saved.'"
        (retry)="retry()"
      />
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RecordUploadForm {
  /** The record to amend (its latest version), or null to add a new record. */
  readonly amending = input<AmendTarget | null>(null);
  /** The record id, once its registration is confirmed. */
  readonly saved = output<string>();
  readonly cancelled = output<void>();

  private readonly upload = inject(RecordUpload);
  private readonly unlock = viewChild.required(WalletUnlock);
  private readonly abort = new AbortController();
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);

  protected readonly id = `record-form-${++nextFormId}`;
  protected readonly categories = RECORD_CATEGORIES;
  protected readonly label = recordCategoryLabel;
  protected readonly titleMaxLength = TITLE_MAX_LENGTH;
  protected readonly format = signal<'file' | 'fhir'>('file');
  protected readonly file = signal<File | null>(null);
  protected readonly fhirText = signal('');
  private readonly fhirFileName = signal<string | null>(null);
  protected readonly title = signal('');
  protected readonly category = signal('');
  protected readonly formError = signal<string | null>(null);
  protected readonly progress = signal<UploadProgress>({ step: 'idle' });
  protected readonly uploadSteps = UPLOAD_STEPS;
  protected readonly busy = signal(false);
  protected readonly formLabel = computed(() =>
    this.amending() ? `New version of ${this.amending()!.title}` : 'Add a record',
  );

  /** The last draft uploaded but not registered: Retry signs it again instead of uploading anew. */
  private prepared: PreparedRecord | null = null;

  constructor() {
    effect(() => {
      const target = this.amending();
      untracked(() => {
        this.title.set(target?.title ?? '');
        this.category.set(target?.record.category ?? '');
        this.progress.set({ step: 'idle' });
        this.prepared = null;
      });
    });
    inject(DestroyRef).onDestroy(() => this.abort.abort());
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement).value;
  }

  protected chooseFile(event: Event): void {
    this.file.set((event.target as HTMLInputElement).files?.[0] ?? null);
    if (!this.title().trim() && this.file()) this.title.set(this.file()!.name.replace(/\.[^.]+$/, ''));
  }

  protected async loadFhirFile(event: Event): Promise<void> {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (!file) return;
    if (file.size > MAX_RECORD_BYTES) return this.formError.set(tooLarge(file.size));
    this.fhirText.set(new TextDecoder().decode(await blobBytes(file)));
    this.fhirFileName.set(file.name);
  }

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    if (this.busy()) return;
    this.busy.set(true);
    try {
      const draft = await this.draft();
      if (typeof draft === 'string') {
        this.formError.set(draft);
        return;
      }
      const problem = await this.unlock().unlock();
      if (problem) {
        this.formError.set(problem);
        return;
      }
      this.formError.set(null);
      this.prepared = null;
      this.prepared = await this.upload.prepare(draft, (p) => this.progress.set(p));
      if (this.prepared) await this.register(this.prepared);
    } finally {
      this.busy.set(false);
    }
  }

  protected async retry(): Promise<void> {
    if (this.busy()) return;
    if (!this.prepared) {
      this.progress.set({ step: 'idle' });
      return; // nothing uploaded yet: the form button starts over
    }
    const problem = await this.unlock().unlock();
    if (problem) {
      this.progress.set({ step: 'failed', reason: problem, after: 'uploaded' });
      return;
    }
    this.busy.set(true);
    try {
      await this.register(this.prepared);
    } finally {
      this.busy.set(false);
    }
  }

  private async register(prepared: PreparedRecord): Promise<void> {
    const confirmed = await this.upload.register(prepared, (p) => this.progress.set(p), this.abort.signal);
    if (!confirmed) return;
    this.prepared = null;
    this.saved.emit(prepared.recordId);
    if (!this.amending()) this.reset();
  }

  private reset(): void {
    for (const input of this.host.nativeElement.querySelectorAll<HTMLInputElement>('input[type=file]')) {
      input.value = '';
    }
    this.file.set(null);
    this.fhirText.set('');
    this.fhirFileName.set(null);
    this.title.set('');
    this.category.set('');
  }

  /** The draft to save, or what is wrong with the form. */
  private async draft(): Promise<
    | { content: Uint8Array; metadata: RecordMetadata; category: CategoryName; supersedes: string | null }
    | string
  > {
    const title = this.title().trim();
    const target = this.amending();
    const category = target ? target.record.category : this.category();
    let content: Uint8Array;
    let metadata: RecordMetadata;
    if (this.format() === 'file') {
      const file = this.file();
      if (!file) return 'Choose the file to upload.';
      if (file.size === 0) return 'This file is empty.';
      if (file.size > MAX_RECORD_BYTES) return tooLarge(file.size);
      if (!title) return 'Give the record a title.';
      if (title.length > TITLE_MAX_LENGTH) return `Keep the title under ${TITLE_MAX_LENGTH} characters.`;
      if (!isCategoryName(category)) return 'Choose a category.';
      content = await blobBytes(file);
      metadata = {
        title,
        mediaType: file.type || 'application/octet-stream',
        fileName: file.name.slice(0, FILE_NAME_MAX_LENGTH),
        format: 'file',
      };
    } else {
      const text = this.fhirText().trim();
      if (!text) return 'Paste the FHIR resource (JSON), or load it from a file.';
      const problem = fhirProblem(text);
      if (problem) return problem;
      if (!title) return 'Give the record a title.';
      if (title.length > TITLE_MAX_LENGTH) return `Keep the title under ${TITLE_MAX_LENGTH} characters.`;
      if (!isCategoryName(category)) return 'Choose a category.';
      content = new TextEncoder().encode(text);
      if (content.length > MAX_RECORD_BYTES) return tooLarge(content.length);
      const fileName = this.fhirFileName();
      metadata = {
        title,
        mediaType: FHIR_MEDIA_TYPE,
        ...(fileName ? { fileName: fileName.slice(0, FILE_NAME_MAX_LENGTH) } : {}),
        format: 'fhir',
      };
    }
    return { content, metadata, category, supersedes: target ? target.record.id : null };
  }
}

function tooLarge(bytes: number): string {
  const mib = (n: number) => (n / (1024 * 1024)).toFixed(1);
  return `This file is ${mib(bytes)} MB; a record can be at most ${mib(MAX_RECORD_BYTES)} MB.`;
}
