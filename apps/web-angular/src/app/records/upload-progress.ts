import {
  ChangeDetectionStrategy,
  Component,
  type ElementRef,
  afterNextRender,
  computed,
  input,
  output,
  viewChild,
} from '@angular/core';

import type { ActionProgress } from '../shared/action-progress';

/**
 * Where saving a record stands: encrypted in the browser, the ciphertext uploaded, then the signed
 * registration's own steps (see `ActionProgress`). A failure keeps the last step reached.
 */
export type UploadProgress =
  | { readonly step: 'encrypting' }
  | { readonly step: 'uploading' }
  | Exclude<ActionProgress, { readonly step: 'failed' }>
  | {
      readonly step: 'failed';
      readonly reason: string;
      readonly after?: 'encrypted' | 'uploaded' | 'signed' | 'sent';
    };

const STEPS = [
  { key: 'encrypted', label: 'Encrypted' },
  { key: 'uploaded', label: 'Uploaded' },
  { key: 'signed', label: 'Signed' },
  { key: 'sent', label: 'Sent' },
  { key: 'confirmed', label: 'Confirmed' },
] as const;

/** Index of the last step done at each moment (-1: none yet). */
const REACHED: Record<Exclude<UploadProgress['step'], 'failed'>, number> = {
  idle: -1,
  encrypting: -1,
  uploading: 0,
  signing: 1,
  signed: 2,
  sent: 3,
  confirmed: 4,
};
const AFTER: Record<'encrypted' | 'uploaded' | 'signed' | 'sent', number> = {
  encrypted: 0,
  uploaded: 1,
  signed: 2,
  sent: 3,
};

/**
 * The progress of saving a record: Encrypted → Uploaded → Signed → Sent → Confirmed, or failed with
 * the reason and a Retry button; the same markup and live region as `app-action-progress`.
 *
 * Test hooks: `upload-progress` (with `data-step`), `upload-progress-state`, `upload-progress-reason`,
 * `upload-progress-retry`.
 */
@Component({
  selector: 'app-upload-progress',
  template: `
    @let p = progress();
    <div class="progress" data-testid="upload-progress" [attr.data-step]="p.step">
      <ol class="progress__steps">
        @for (step of steps; track step.key; let i = $index) {
          <li
            class="progress__step"
            [class.is-done]="reached() >= i"
            [class.is-current]="reached() + 1 === i && p.step !== 'failed'"
          >
            <span class="visually-hidden">{{ reached() >= i ? 'Done: ' : 'Not yet: ' }}</span>{{ step.label }}
          </li>
        }
      </ol>
      <p #status class="progress__state" role="status" tabindex="-1" data-testid="upload-progress-state">
        {{ sentence() }}
      </p>
      @if (p.step === 'failed') {
        <p class="progress__reason" data-testid="upload-progress-reason">{{ p.reason }}</p>
        <button
          type="button"
          class="button--primary"
          data-testid="upload-progress-retry"
          (click)="retry.emit()"
        >
          Retry
        </button>
      }
    </div>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class UploadProgressView {
  readonly progress = input.required<UploadProgress>();
  readonly confirmedText = input('Your record is saved.');
  readonly retry = output<void>();

  protected readonly steps = STEPS;
  private readonly status = viewChild.required<ElementRef<HTMLElement>>('status');

  protected readonly reached = computed(() => {
    const p = this.progress();
    if (p.step !== 'failed') return REACHED[p.step];
    return p.after ? AFTER[p.after] : -1;
  });

  protected readonly sentence = computed(() => {
    const p = this.progress();
    switch (p.step) {
      case 'idle':
        return '';
      case 'encrypting':
        return 'Encrypting in your browser…';
      case 'uploading':
        return 'Encrypted. Uploading the encrypted file…';
      case 'signing':
        return p.inExtension ? 'Uploaded. Confirm in your wallet extension…' : 'Uploaded. Signing…';
      case 'signed':
        return 'Signed. Sending…';
      case 'sent':
        return 'Sent. Waiting for confirmation…';
      case 'confirmed':
        return this.confirmedText();
      case 'failed':
        return 'It did not go through.';
    }
  });

  constructor() {
    afterNextRender(() => this.status().nativeElement.focus());
  }
}
