import { ChangeDetectionStrategy, Component } from '@angular/core';

import { AnchorVerification } from './anchor-verification';
import { DriftReport } from './drift-report';

/** Evidence that what Custos shows is what the chain holds: audit anchoring and consent drift. */
@Component({
  selector: 'app-integrity-page',
  imports: [AnchorVerification, DriftReport],
  template: `
    <app-anchor-verification />
    <app-drift-report />
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class IntegrityPage {}
