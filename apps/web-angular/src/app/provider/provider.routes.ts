import { type Routes } from '@angular/router';

import { CONSULTATION_ROUTES } from '../consultation/consultation.routes';
import { ProviderPatients } from './provider-patients';
import { RequestAccessForm } from './request-access-form';
import { ScheduleForm } from './schedule-form';

/** The provider area's pages (one lazy chunk with the provider layout, see app.routes.ts). */
export const PROVIDER_ROUTES: Routes = [
  { path: '', title: 'Your patients · Custos', component: ProviderPatients },
  { path: 'request-access', title: 'Request access · Custos', component: RequestAccessForm },
  {
    path: 'patients/:patient/records',
    title: 'Patient records · Custos',
    data: { back: '/provider' },
    loadComponent: () => import('../records/staff-records-page').then((m) => m.StaffRecordsPage),
  },
  {
    path: 'messages',
    loadChildren: () => import('../messaging/messaging.routes').then((m) => m.messagingRoutes('provider')),
  },
  {
    path: 'consultations',
    data: { area: 'provider' },
    children: [
      { path: 'new', title: 'Schedule a consultation · Custos', component: ScheduleForm },
      ...CONSULTATION_ROUTES,
    ],
  },
];
