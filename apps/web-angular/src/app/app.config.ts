import { provideHttpClient, withFetch } from '@angular/common/http';
import { type ApplicationConfig, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideRouter } from '@angular/router';

import { routes } from './app.routes';

// Angular 21 bootstraps without zone.js by default (zoneless change detection), so no
// provideZonelessChangeDetection() is needed and no zone.js polyfill is loaded.
// Mind the initial bundle (target: at most 300 kB transferred; angular.json budgets 600 kB / 1 MB raw):
// the framework alone is ~255 kB raw (~80 kB gzip) and the app shell (session, API client, guards,
// address chip) ~13 kB, and e.g. withInMemoryScrolling() costs ~4 kB, so add root providers sparingly.
// Everything else (ethers, the wallet, each role's views) is lazy.
export const appConfig: ApplicationConfig = {
  providers: [provideBrowserGlobalErrorListeners(), provideRouter(routes), provideHttpClient(withFetch())],
};
