import { type Routes } from '@angular/router';

/** Every page is a lazily loaded standalone component, so each role's view is its own chunk. */
export const routes: Routes = [
  {
    path: '',
    pathMatch: 'full',
    title: 'Custos',
    loadComponent: () => import('./home/home-page').then((m) => m.HomePage),
  },
  {
    path: 'patient',
    title: 'Patient · Custos',
    loadComponent: () => import('./patient/patient-page').then((m) => m.PatientPage),
  },
  {
    path: 'provider',
    title: 'Provider · Custos',
    loadComponent: () => import('./provider/provider-page').then((m) => m.ProviderPage),
  },
  {
    path: 'compliance',
    title: 'Compliance · Custos',
    loadComponent: () => import('./compliance/compliance-page').then((m) => m.CompliancePage),
  },
  {
    path: 'admin',
    title: 'Administration · Custos',
    loadComponent: () => import('./admin/admin-page').then((m) => m.AdminPage),
  },
  {
    path: '**',
    title: 'Page not found · Custos',
    loadComponent: () => import('./not-found/not-found-page').then((m) => m.NotFoundPage),
  },
];
