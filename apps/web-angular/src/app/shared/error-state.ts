import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';

/**
 * Shown when loading failed: what failed, the reason, and a "Try again" button when `retry` is bound.
 *
 * `<app-error-state heading="Your access log could not be loaded" [message]="error()" (retry)="load()" />`
 */
@Component({
  selector: 'app-error-state',
  template: `<div class="state state--error" role="alert" [attr.data-testid]="testId()">
    <p class="state__heading">{{ heading() }}</p>
    @if (message()) {
      <p class="state__body">{{ message() }}</p>
    }
    @if (retryable()) {
      <button type="button" [attr.data-testid]="testId() + '-retry'" (click)="retry.emit()">Try again</button>
    }
  </div>`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ErrorState {
  readonly heading = input('Something went wrong');
  readonly message = input<string | null>(null);
  /** Shows the "Try again" button (on by default). */
  readonly retryable = input(true);
  readonly testId = input('error-state');
  readonly retry = output<void>();
}
