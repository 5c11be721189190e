import { ChangeDetectionStrategy, Component } from '@angular/core';

/** The compliance officer's view (placeholder). */
@Component({
  selector: 'app-compliance-page',
  template: `
    <h1>Compliance</h1>
    <p>The compliance view is coming soon: here you will replay, verify and export the audit history.</p>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class CompliancePage {}
