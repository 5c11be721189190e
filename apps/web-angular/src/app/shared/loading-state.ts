import { ChangeDetectionStrategy, Component, input } from '@angular/core';

/**
 * Shown while something loads: a short sentence in a live region (no spinner-only states).
 *
 * `<app-loading-state label="Loading your access log…" />`
 */
@Component({
  selector: 'app-loading-state',
  template: `<p class="state state--loading" role="status" aria-busy="true" [attr.data-testid]="testId()">
    <span class="state__spinner" aria-hidden="true"></span>{{ label() }}
  </p>`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class LoadingState {
  readonly label = input('Loading…');
  readonly testId = input('loading-state');
}
