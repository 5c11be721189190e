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

const STEPS = [
  { key: 'signed', label: 'Signed' },
  { key: 'sent', label: 'Sent' },
  { key: 'confirmed', label: 'Confirmed' },
] as const;

const ORDER: Record<Exclude<ActionStep, 'failed'>, number> = {
  idle: -1,
  signing: -1,
  signed: 0,
  sent: 1,
  confirmed: 2,
};

/**
 * The progress of a signed action: Signed → Sent → Confirmed, or Failed with the reason and a Retry
 * button. The sentence is in a live region and receives focus when the component appears, so keyboard
 * and screen-reader users follow along.
 *
 * `<app-action-progress [progress]="progress()" confirmedText="Access given." (retry)="run()" />`
 *
 * Test hooks: `action-progress` (with `data-step`), `action-progress-state` (the sentence),
 * `action-progress-retry`.
 */
@Component({
  selector: 'app-action-progress',
  template: `
    @let p = progress();
    <div class="progress" data-testid="action-progress" [attr.data-step]="p.step">
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
      <p #status class="progress__state" role="status" tabindex="-1" data-testid="action-progress-state">
        {{ sentence() }}
      </p>
      @if (p.step === 'failed') {
        <p class="progress__reason" data-testid="action-progress-reason">{{ p.reason }}</p>
        <button
          type="button"
          class="button--primary"
          data-testid="action-progress-retry"
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
  readonly progress = input.required<ActionProgress>();
  /** The sentence once confirmed, e.g. `Access given.` */
  readonly confirmedText = input('Confirmed.');
  /** Emitted by the Retry button of a failed action. */
  readonly retry = output<void>();

  protected readonly steps = STEPS;
  private readonly status = viewChild.required<ElementRef<HTMLElement>>('status');

  /** Index of the last step reached (-1 for none); a failure keeps what was reached before it. */
  protected readonly reached = computed(() => {
    const p = this.progress();
    if (p.step !== 'failed') return ORDER[p.step];
    return p.after ? ORDER[p.after] : -1;
  });

  protected readonly sentence = computed(() => {
    const p = this.progress();
    switch (p.step) {
      case 'idle':
        return '';
      case 'signing':
        return p.inExtension ? 'Confirm in your wallet extension…' : 'Signing…';
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
    afterNextRender(() => this.focus());
  }

  /** Moves keyboard focus to the progress sentence. */
  focus(): void {
    this.status().nativeElement.focus();
  }
}
