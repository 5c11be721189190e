import { type Routes } from '@angular/router';

import { requireRole, requireSignIn } from './core/auth-guards';

/**
 * Every page is a lazily loaded standalone component, so each role's view is its own chunk. Role
 * pages require signing in (`/sign-in?returnUrl=…`) and the role; the patient area is for everyone
 * signed in.
 */
export const routes: Routes = [
  {
    path: '',
    pathMatch: 'full',
    title: 'Custos',
    loadComponent: () => import('./home/home-page').then((m) => m.HomePage),
  },
  {
    path: 'sign-in',
    title: 'Sign in · Custos',
    loadComponent: () => import('./sign-in/sign-in-page').then((m) => m.SignInPage),
  },
  {
    path: 'patient',
    title: 'Patient · Custos',
    canActivate: [requireSignIn],
    loadComponent: () => import('./patient/patient-page').then((m) => m.PatientPage),
    loadChildren: () => import('./patient/patient.routes').then((m) => m.PATIENT_ROUTES),
  },
  {
    path: 'provider',
    title: 'Provider · Custos',
    canActivate: [requireRole('provider')],
    loadComponent: () => import('./provider/provider-page').then((m) => m.ProviderPage),
    loadChildren: () => import('./provider/provider.routes').then((m) => m.PROVIDER_ROUTES),
  },
  {
    path: 'compliance',
    title: 'Compliance · Custos',
    canActivate: [requireRole('auditor')],
    loadComponent: () => import('./compliance/compliance-page').then((m) => m.CompliancePage),
    loadChildren: () => import('./compliance/compliance.routes').then((m) => m.COMPLIANCE_ROUTES),
  },
  {
    path: 'admin',
    title: 'Administration · Custos',
    canActivate: [requireRole('admin')],
    loadComponent: () => import('./admin/admin-page').then((m) => m.AdminPage),
  },
  {
    path: 'emergency',
    title: 'Emergency access · Custos',
    canActivate: [requireRole('emergency')],
    loadComponent: () => import('./emergency/emergency-page').then((m) => m.EmergencyPage),
  },
  {
    path: 'emergency/patients/:patient/records',
    title: 'Patient records · Custos',
    canActivate: [requireRole('emergency')],
    data: { back: '/emergency' },
    loadComponent: () => import('./records/staff-records-page').then((m) => m.StaffRecordsPage),
  },
  {
    path: '**',
    title: 'Page not found · Custos',
    loadComponent: () => import('./not-found/not-found-page').then((m) => m.NotFoundPage),
  },
];
