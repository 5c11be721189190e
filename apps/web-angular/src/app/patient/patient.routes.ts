import { type Routes } from '@angular/router';

import { CONSULTATION_ROUTES } from '../consultation/consultation.routes';
import { AccessLog } from './access-log';
import { AccountPage } from './account-page';
import { NotificationList } from './notification-list';
import { PatientHome } from './patient-home';

/** The patient area's pages (one lazy chunk with the patient layout, see app.routes.ts). */
export const PATIENT_ROUTES: Routes = [
  { path: '', title: 'Your records · Custos', component: PatientHome },
  { path: 'access-log', title: 'Access log · Custos', component: AccessLog },
  { path: 'notifications', title: 'Notifications · Custos', component: NotificationList },
  { path: 'account', title: 'Your account · Custos', component: AccountPage },
  { path: 'consultations', children: CONSULTATION_ROUTES },
  {
    path: 'records',
    title: 'Your health records · Custos',
    loadComponent: () => import('../records/patient-records-page').then((m) => m.PatientRecordsPage),
  },
  {
    path: 'messages',
    loadChildren: () => import('../messaging/messaging.routes').then((m) => m.messagingRoutes('patient')),
  },
];
