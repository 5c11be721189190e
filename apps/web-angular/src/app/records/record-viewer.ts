import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  type ElementRef,
  InjectionToken,
  effect,
  inject,
  input,
  signal,
  untracked,
  viewChild,
} from '@angular/core';
import type { RecordMetadata } from '@custos/e2ee';

import { SAVE_FILE } from '../compliance/file-download';
import { DateTimePipe } from '../shared/time-left';
import { LoadingState } from '../shared/loading-state';
import { FhirResourceView } from './fhir-resource-view';
import { RecordReadError, type RecordReadErrorCode } from './record-keys';
import { RecordReader } from './record-reader';
import type { RecordView } from './records-api';

/** Object URLs for decrypted content (tests provide their own: jsdom has none). */
export interface ObjectUrls {
  create(blob: Blob): string;
  revoke(url: string): void;
}

export const OBJECT_URLS = new InjectionToken<ObjectUrls>('OBJECT_URLS', {
  providedIn: 'root',
  factory: () => ({ create: (blob) => URL.createObjectURL(blob), revoke: (url) => URL.revokeObjectURL(url) }),
});

/** Raster image types shown inline; anything else (SVG included) is offered as a download. */
const INLINE_IMAGE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
]);

type Shown =
  | { readonly kind: 'fhir'; readonly resource: unknown }
  | { readonly kind: 'pdf'; readonly url: string }
  | { readonly kind: 'image'; readonly url: string }
  | { readonly kind: 'file' };

type ViewerState =
  | { readonly status: 'loading' }
  | {
      readonly status: 'error';
      readonly code: RecordReadErrorCode;
      readonly heading: string;
      readonly message: string;
    }
  | {
      readonly status: 'ready';
      readonly metadata: RecordMetadata;
      readonly content: Uint8Array;
      readonly shown: Shown;
    };

const ERROR_HEADINGS: Record<RecordReadErrorCode, string> = {
  locked: 'Your encryption key is locked',
  refused: 'You cannot open this record',
  'not-shared': 'This record is not shared with you yet',
  integrity: 'This record cannot be shown',
  unreadable: 'This record cannot be shown',
  failed: 'This record could not be opened',
};

/**
 * One record, decrypted in the browser and shown: FHIR readably (`app-fhir-resource-view`), a PDF in
 * an `<object>` and an image in an `<img>` from an object URL of the decrypted bytes (typed by us,
 * never by the content), anything else as a download. The content address and decryption are checked
 * first (`RecordReader`): a mismatch is an integrity error and nothing is shown. Object URLs are
 * revoked when another record is shown and when the viewer goes away.
 *
 * Test hooks: `record-viewer` (with `data-status`), `record-viewer-title`, `record-viewer-error`
 * (with `data-code`), `record-viewer-pdf`, `record-viewer-image`, `record-viewer-download`.
 */
@Component({
  selector: 'app-record-viewer',
  imports: [DateTimePipe, FhirResourceView, LoadingState],
  template: `
    @let s = state();
    <section
      class="panel record-viewer"
      data-testid="record-viewer"
      [attr.data-status]="s.status"
      aria-labelledby="record-viewer-heading"
    >
      @switch (s.status) {
        @case ('loading') {
          <h2 id="record-viewer-heading" class="visually-hidden">Record</h2>
          <app-loading-state label="Fetching and decrypting the record…" testId="record-viewer-loading" />
        }
        @case ('error') {
          <h2 id="record-viewer-heading">{{ s.heading }}</h2>
          <p class="form-error" role="alert" data-testid="record-viewer-error" [attr.data-code]="s.code">
            {{ s.message }}
          </p>
        }
        @case ('ready') {
          <h2 id="record-viewer-heading" data-testid="record-viewer-title">{{ s.metadata.title }}</h2>
          <p class="hint">
            {{ s.metadata.fileName || s.metadata.mediaType }} · added {{ record().submittedAt | dateTime }} ·
            decrypted in your browser
          </p>
          @let shown = s.shown;
          @if (shown.kind === 'fhir') {
            <app-fhir-resource-view [resource]="shown.resource" />
          } @else if (shown.kind === 'pdf') {
            <object
              #pdf
              class="record-viewer__frame"
              type="application/pdf"
              data-testid="record-viewer-pdf"
              [attr.aria-label]="s.metadata.title"
            >
              <p>This browser cannot show PDFs here: download it instead.</p>
            </object>
          } @else if (shown.kind === 'image') {
            <img
              class="record-viewer__image"
              data-testid="record-viewer-image"
              [src]="shown.url"
              [alt]="s.metadata.title"
            />
          } @else {
            <p>This kind of file cannot be shown here. Download it to open it with another program.</p>
          }
          <div class="actions">
            <button type="button" data-testid="record-viewer-download" (click)="download()">
              Download {{ s.metadata.fileName || s.metadata.title }}
            </button>
          </div>
        }
      }
    </section>
  `,
  styles: `
    .record-viewer__frame {
      display: block;
      width: 100%;
      height: 70vh;
      border: 1px solid currentColor;
    }
    .record-viewer__image {
      display: block;
      max-width: 100%;
      height: auto;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RecordViewer {
  readonly record = input.required<RecordView>();

  private readonly reader = inject(RecordReader);
  private readonly urls = inject(OBJECT_URLS);
  private readonly pdf = viewChild<ElementRef<HTMLObjectElement>>('pdf');
  private readonly saveFile = inject(SAVE_FILE);
  private url: string | null = null;
  private loads = 0;

  protected readonly state = signal<ViewerState>({ status: 'loading' });

  constructor() {
    effect(() => {
      const record = this.record();
      untracked(() => void this.load(record));
    });
    // Set on the element rather than bound: the URL is our own object URL of bytes typed as PDF here,
    // and a binding would need the resource-URL sanitizer (DomSanitizer) in the initial bundle.
    effect(() => {
      const element = this.pdf()?.nativeElement;
      const s = this.state();
      if (element && s.status === 'ready' && s.shown.kind === 'pdf') element.data = s.shown.url;
    });
    inject(DestroyRef).onDestroy(() => {
      this.loads++;
      this.releaseUrl();
    });
  }

  protected download(): void {
    const s = this.state();
    if (s.status !== 'ready') return;
    const { metadata, content } = s;
    this.saveFile(new Blob([copy(content)], { type: downloadType(metadata) }), fileNameOf(metadata));
  }

  private async load(record: RecordView): Promise<void> {
    const load = ++this.loads;
    this.releaseUrl();
    this.state.set({ status: 'loading' });
    try {
      const opened = await this.reader.open(record);
      if (load !== this.loads) return;
      this.state.set({
        status: 'ready',
        metadata: opened.metadata,
        content: opened.content,
        shown: this.show(opened.metadata, opened.content),
      });
    } catch (error) {
      if (load !== this.loads) return;
      const readError =
        error instanceof RecordReadError
          ? error
          : new RecordReadError('failed', error instanceof Error ? error.message : 'Something went wrong.');
      this.state.set({
        status: 'error',
        code: readError.code,
        heading: ERROR_HEADINGS[readError.code],
        message: readError.message,
      });
    }
  }

  private show(metadata: RecordMetadata, content: Uint8Array): Shown {
    if (metadata.format === 'fhir') {
      let resource: unknown;
      try {
        resource = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(content));
      } catch {
        throw new RecordReadError('unreadable', 'This record says it is FHIR, but it is not valid JSON.');
      }
      return { kind: 'fhir', resource };
    }
    const type = metadata.mediaType.toLowerCase().split(';')[0]!.trim();
    if (type === 'application/pdf') {
      // Typed by us: the browser's PDF viewer, never a document of the content's choosing.
      return { kind: 'pdf', url: this.createUrl(new Blob([copy(content)], { type: 'application/pdf' })) };
    }
    if (INLINE_IMAGE_TYPES.has(type)) {
      return { kind: 'image', url: this.createUrl(new Blob([copy(content)], { type })) };
    }
    return { kind: 'file' };
  }

  private createUrl(blob: Blob): string {
    this.releaseUrl();
    this.url = this.urls.create(blob);
    return this.url;
  }

  private releaseUrl(): void {
    if (this.url) this.urls.revoke(this.url);
    this.url = null;
  }
}

/** WebCrypto and Blob want ArrayBuffer-backed views. */
function copy(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}

/** A download never opens in the browser as a page: unknown types are plain bytes. */
function downloadType(metadata: RecordMetadata): string {
  if (metadata.format === 'fhir') return 'application/fhir+json';
  const type = metadata.mediaType.toLowerCase().split(';')[0]!.trim();
  return type === 'application/pdf' || INLINE_IMAGE_TYPES.has(type) ? type : 'application/octet-stream';
}

function fileNameOf(metadata: RecordMetadata): string {
  if (metadata.fileName) return metadata.fileName;
  const base =
    metadata.title
      .replace(/[^\p{L}\p{N} ._-]+/gu, '')
      .trim()
      .slice(0, 80) || 'record';
  return metadata.format === 'fhir' ? `${base}.json` : base;
}
