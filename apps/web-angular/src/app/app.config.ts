import { provideHttpClient, withFetch } from '@angular/common/http';
import { type ApplicationConfig, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideRouter } from '@angular/router';

import { routes } from './app.routes';

// Angular 21 bootstraps without zone.js by default (zoneless change detection), so no
// provideZonelessChangeDetection() is needed and no zone.js polyfill is loaded.
// Mind the initial-bundle budget (warning 250 kB, error 300 kB): the framework alone is ~246 kB
// raw here, and e.g. withInMemoryScrolling() costs ~4 kB, so add root providers sparingly.
export const appConfig: ApplicationConfig = {
  providers: [provideBrowserGlobalErrorListeners(), provideRouter(routes), provideHttpClient(withFetch())],
};
