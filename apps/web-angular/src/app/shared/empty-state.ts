import { ChangeDetectionStrategy, Component, input } from '@angular/core';

/**
 * Shown when a list has nothing in it: says so, and what would make something appear (projected).
 *
 * `<app-empty-state heading="No requests">When a provider asks for access, it appears here.</app-empty-state>`
 */
@Component({
  selector: 'app-empty-state',
  template: `<div class="state state--empty" [attr.data-testid]="testId()">
    <p class="state__heading">{{ heading() }}</p>
    <div class="state__body"><ng-content /></div>
  </div>`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class EmptyState {
  readonly heading = input.required<string>();
  readonly testId = input('empty-state');
}
