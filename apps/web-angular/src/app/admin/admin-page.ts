import { ChangeDetectionStrategy, Component } from '@angular/core';

/** The administrator's view (placeholder). */
@Component({
  selector: 'app-admin-page',
  template: `
    <h1>Administration</h1>
    <p>
      The administration view is coming soon: here you will register providers, emergency staff and auditors.
    </p>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AdminPage {}
