import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';

/**
 * The footer of a list loaded a page at a time: a button for the next page while there is one
 * (disabled, "Loading…", while it loads), and why the last one failed.
 *
 * ```html
 * <app-load-more label="Show older entries" testId="access-log-more" [hasMore]="!!nextCursor()"
 *   [loading]="loadingMore()" [error]="moreError()" (more)="loadMore()" />
 * ```
 */
@Component({
  selector: 'app-load-more',
  template: `
    @if (hasMore()) {
      <div class="actions">
        <button type="button" [attr.data-testid]="testId()" [disabled]="loading()" (click)="more.emit()">
          {{ loading() ? 'Loading…' : label() }}
        </button>
      </div>
    }
    @if (error()) {
      <p class="form-error" role="alert">{{ error() }}</p>
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class LoadMore {
  /** The button, e.g. `Show older entries`. */
  readonly label = input.required<string>();
  /** `data-testid` of the button. */
  readonly testId = input.required<string>();
  /** True while there is a next page. */
  readonly hasMore = input.required<boolean>();
  /** True while the next page loads. */
  readonly loading = input(false);
  /** Why loading the next page failed, or null. */
  readonly error = input<string | null>(null);
  /** Asks for the next page. */
  readonly more = output<void>();
}
