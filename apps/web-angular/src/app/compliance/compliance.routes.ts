import { type Routes } from '@angular/router';

import { AccessReplay } from './access-replay';
import { AuditTimeline } from './audit-timeline';
import { IntegrityPage } from './integrity-page';

/** The compliance area's pages (one lazy chunk with the compliance layout, see app.routes.ts). */
export const COMPLIANCE_ROUTES: Routes = [
  { path: '', title: 'Audit timeline · Custos', component: AuditTimeline },
  { path: 'replay', title: 'Replay access · Custos', component: AccessReplay },
  { path: 'integrity', title: 'Integrity checks · Custos', component: IntegrityPage },
];
