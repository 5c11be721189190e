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

/**
 * Where a signed action stands: the user signs, Custos sends it on, the chain confirms it.
 * `signing` waits for the signature (`extension`: in the browser extension's window).
 */
export type ActionProgress =
  | { readonly step: 'idle' }
  | { readonly step: 'signing'; readonly inExtension?: boolean }
  | { readonly step: 'signed' }
  | { readonly step: 'sent' }
  | { readonly step: 'confirmed' }
  | {
      readonly step: 'failed';
      readonly reason: string;
      /** The last step reached before the failure (none when signing itself failed). */
      readonly after?: 'signed' | 'sent';
    };

export type ActionStep = ActionProgress['step'];

/**
 * A step of its own before the signed action, e.g. encrypting then uploading a record: `running` while
 * it runs (with `sentence`), `done` once done (a failure's `after`), shown as `label`.
 */
export interface PreparationStep<Running extends string = string, Done extends string = string> {
  readonly running: Running;
  readonly done: Done;
  readonly label: string;
  readonly sentence: string;
}

/** A signed action after preparation steps (`Running`: their running steps, `Done`: their done ones). */
export type PreparedActionProgress<Running extends string, Done extends string> =
  | { readonly step: Running }
  | Exclude<ActionProgress, { readonly step: 'failed' }>
  | {
      readonly step: 'failed';
      readonly reason: string;
      readonly after?: Done | 'signed' | 'sent';
    };

/** What the view reads of any progress above. */
interface ShownProgress {
  readonly step: string;
  readonly inExtension?: boolean;
  readonly reason?: string;
  readonly after?: string;
}

const ACTION_STEPS = [
  { key: 'signed', label: 'Signed' },
  { key: 'sent', label: 'Sent' },
  { key: 'confirmed', label: 'Confirmed' },
] as const;

/**
 * The progress of a signed action: Signed → Sent → Confirmed, or Failed with the reason and a Retry
 * button; `preparation` steps, when given, come first (Encrypted → Uploaded → Signed → …). The sentence
 * is in a live region and receives focus when the component appears, so keyboard and screen-reader
 * users follow along.
 *
 * `<app-action-progress [progress]="progress()" confirmedText="Access given." (retry)="run()" />`
 *
 * Test hooks (`testId` is `action-progress` unless given): `<testId>` (with `data-step`),
 * `<testId>-state` (the sentence), `<testId>-reason`, `<testId>-retry`.
 */
@Component({
  selector: 'app-action-progress',
  template: `
    @let p = progress();
    <div class="progress" [attr.data-testid]="testId()" [attr.data-step]="p.step">
      <ol class="progress__steps">
        @for (step of steps(); track step.key; let i = $index) {
          <li
            class="progress__step"
            [class.is-done]="reached() >= i"
            [class.is-current]="reached() + 1 === i && p.step !== 'failed'"
          >
            <span class="visually-hidden">{{ reached() >= i ? 'Done: ' : 'Not yet: ' }}</span>{{ step.label }}
          </li>
        }
      </ol>
      <p #status class="progress__state" role="status" tabindex="-1" [attr.data-testid]="testId() + '-state'">
        {{ sentence() }}
      </p>
      @if (p.step === 'failed') {
        <p class="progress__reason" [attr.data-testid]="testId() + '-reason'">{{ p.reason }}</p>
        <button
          type="button"
          class="button--primary"
          [attr.data-testid]="testId() + '-retry'"
          (click)="retry.emit()"
        >
          Retry
        </button>
      }
    </div>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ActionProgressView {
  readonly progress = input.required<ShownProgress>();
  /** The sentence once confirmed, e.g. `Access given.` */
  readonly confirmedText = input('Confirmed.');
  /** Steps of its own before signing (see `PreparationStep`), in order. */
  readonly preparation = input<readonly PreparationStep[]>([]);
  /** Prefix of the test hooks. */
  readonly testId = input('action-progress');
  /** Emitted by the Retry button of a failed action. */
  readonly retry = output<void>();

  private readonly status = viewChild.required<ElementRef<HTMLElement>>('status');

  protected readonly steps = computed(() => [
    ...this.preparation().map((step) => ({ key: step.done, label: step.label })),
    ...ACTION_STEPS,
  ]);

  /** Index of the last step reached (-1 for none); a failure keeps what was reached before it. */
  protected readonly reached = computed(() => {
    const p = this.progress();
    const index = (key: string) => this.steps().findIndex((step) => step.key === key);
    switch (p.step) {
      case 'idle':
        return -1;
      case 'signing':
        return this.preparation().length - 1;
      case 'failed':
        return p.after ? index(p.after) : -1;
      default: {
        const running = this.preparation().findIndex((step) => step.running === p.step);
        return running >= 0 ? running - 1 : index(p.step);
      }
    }
  });

  protected readonly sentence = computed(() => {
    const p = this.progress();
    const prepared = this.preparation().at(-1);
    const before = prepared ? `${prepared.label}. ` : '';
    switch (p.step) {
      case 'idle':
        return '';
      case 'signing':
        return before + (p.inExtension ? 'Confirm in your wallet extension…' : 'Signing…');
      case 'signed':
        return 'Signed. Sending…';
      case 'sent':
        return 'Sent. Waiting for confirmation…';
      case 'confirmed':
        return this.confirmedText();
      case 'failed':
        return 'It did not go through.';
      default:
        return this.preparation().find((step) => step.running === p.step)?.sentence ?? '';
    }
  });

  constructor() {
    afterNextRender(() => this.focus());
  }

  /** Moves keyboard focus to the progress sentence. */
  focus(): void {
    this.status().nativeElement.focus();
  }
}
