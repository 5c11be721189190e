import { type Routes } from '@angular/router';

import { ConsultationDetail } from './consultation-detail';
import { ConsultationList } from './consultation-list';

/**
 * The consultation pages of an area (patient or provider), mounted under its `consultations` path:
 * the list, one consultation, and its call. The call is its own lazy chunk (WebRTC and TRTC code).
 */
export const CONSULTATION_ROUTES: Routes = [
  { path: '', title: 'Consultations · Custos', component: ConsultationList },
  { path: ':id', title: 'Consultation · Custos', component: ConsultationDetail },
  {
    path: ':id/room',
    title: 'Consultation call · Custos',
    loadComponent: () => import('./consultation-room').then((m) => m.ConsultationRoom),
  },
];
