import { provideHttpClient } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { reflectComponentType, type Type } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter, type Route, Router } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';

import { routes } from './app.routes';
import { SESSION_STORAGE_KEY } from './core/session';
import { signInForTest } from './testing/test-helpers';

describe('app routes', () => {
  it('loads every page lazily (loadComponent, never an eager component)', () => {
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      expect(route.component, `route "${route.path}"`).toBeUndefined();
      expect(typeof route.loadComponent, `route "${route.path}"`).toBe('function');
    }
  });

  it('has a page for home, sign-in, each role, and a catch-all', () => {
    expect(routes.map((r) => r.path)).toEqual([
      '',
      'sign-in',
      'patient',
      'provider',
      'compliance',
      'admin',
      'emergency',
      'emergency/patients/:patient/records',
      '**',
    ]);
  });

  it('gives every page a document title', () => {
    for (const route of routes) {
      expect(route.title, `route "${route.path}"`).toMatch(/Custos$/);
    }
  });

  describe('navigating', () => {
    beforeEach(() => {
      TestBed.configureTestingModule({
        providers: [provideRouter(routes), provideHttpClient(), provideHttpClientTesting()],
      });
    });

    afterEach(() => sessionStorage.removeItem(SESSION_STORAGE_KEY));

    // Role pages need a signed-in account with the role: sign in with every role first.
    const pages: ReadonlyArray<[url: string, heading: string, text: RegExp]> = [
      ['/patient', 'Your records', /Decide who can see your health records/],
      ['/provider', 'Your patients', /Patients who granted you access/],
      ['/compliance', 'Compliance', /Audit timeline/],
      ['/admin', 'Administration', /Register and remove providers, emergency staff and auditors/],
      ['/emergency', 'Emergency access', /cannot give consent/],
      ['/no/such/page', 'Page not found', /no page at this address/],
    ];

    for (const [url, heading, text] of pages) {
      it(`${url} shows the "${heading}" page`, async () => {
        await signInForTest(['provider', 'auditor', 'admin', 'emergency']);
        const harness = await RouterTestingHarness.create(url);
        const root = harness.routeNativeElement as HTMLElement;
        expect(root.querySelector('h1')?.textContent).toBe(heading);
        expect(root.textContent).toMatch(text);
      });
    }

    for (const url of ['/patient', '/provider', '/compliance', '/admin', '/emergency']) {
      it(`${url} asks a signed-out visitor to sign in, then come back`, async () => {
        const harness = await RouterTestingHarness.create(url);
        const root = harness.routeNativeElement as HTMLElement;
        expect(root.querySelector('h1')?.textContent).toBe('Sign in');
        expect(TestBed.inject(Router).url).toBe(`/sign-in?returnUrl=${encodeURIComponent(url)}`);
      });
    }

    it('sends a signed-in account without the role home, saying the area is not theirs', async () => {
      await signInForTest([]);
      const harness = await RouterTestingHarness.create('/admin');
      expect(TestBed.inject(Router).url).toBe('/?denied=%2Fadmin');
      const root = harness.routeNativeElement as HTMLElement;
      expect(root.querySelector('[data-testid="home-denied"]')?.textContent).toContain(
        'does not have access to the administration area',
      );
    });

    it('home explains what Custos is', async () => {
      const harness = await RouterTestingHarness.create('/');
      const text = (harness.routeNativeElement as HTMLElement).textContent ?? '';
      expect(text).toContain('Custos lets you decide who can see your health records');
    });

    it('resolves each lazy route to a standalone component', async () => {
      for (const route of routes as Route[]) {
        const loaded = (await route.loadComponent?.()) as Type<unknown>;
        expect(reflectComponentType(loaded)?.isStandalone, `route "${route.path}"`).toBe(true);
      }
    });
  });
});
