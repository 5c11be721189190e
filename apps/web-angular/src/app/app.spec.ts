import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';

import { App } from './app';
import { SESSION_STORAGE_KEY } from './core/session';
import { byTestId, signInForTest } from './testing/test-helpers';

@Component({ template: '<h1>Stub page</h1>' })
class StubPage {}

describe('App shell', () => {
  beforeEach(() => {
    TestBed.configureTestingModule({
      imports: [App],
      providers: [
        provideRouter([
          { path: '', component: StubPage },
          { path: 'patient', component: StubPage },
          { path: 'provider', component: StubPage },
          { path: 'compliance', component: StubPage },
          { path: 'admin', component: StubPage },
        ]),
        provideHttpClient(),
        provideHttpClientTesting(),
      ],
    });
  });

  afterEach(() => sessionStorage.removeItem(SESSION_STORAGE_KEY));

  async function render(url = '/'): Promise<HTMLElement> {
    const fixture = TestBed.createComponent(App);
    await TestBed.inject(Router).navigateByUrl(url);
    await fixture.whenStable();
    return fixture.nativeElement as HTMLElement;
  }

  it('shows the product name in the header, linking home', async () => {
    const root = await render();
    const brand = root.querySelector('header a');
    expect(brand?.textContent?.trim()).toBe('Custos');
    expect(brand?.getAttribute('href')).toBe('/');
  });

  const navLinks = (root: HTMLElement) =>
    Array.from(root.querySelectorAll('nav a')).map((a) => [a.textContent?.trim(), a.getAttribute('href')]);

  it('has a labelled main navigation with one link per area', async () => {
    await signInForTest(['provider', 'auditor', 'admin', 'emergency']);
    const root = await render();
    const nav = root.querySelector('nav');
    expect(nav?.getAttribute('aria-label')).toBe('Main');
    const links = Array.from(nav?.querySelectorAll('a') ?? []).map((a) => [
      a.textContent?.trim(),
      a.getAttribute('href'),
    ]);
    expect(links).toEqual([
      ['Home', '/'],
      ['Patient', '/patient'],
      ['Provider', '/provider'],
      ['Compliance', '/compliance'],
      ['Administration', '/admin'],
      ['Emergency', '/emergency'],
    ]);
  });

  it('renders the routed page inside the <main> landmark', async () => {
    const root = await render('/patient');
    expect(root.querySelector('main h1')?.textContent).toBe('Stub page');
  });

  it('marks only the current area as the current page', async () => {
    await signInForTest(['provider']);
    const root = await render('/provider');
    const current = Array.from(root.querySelectorAll('nav a[aria-current="page"]')).map((a) =>
      a.textContent?.trim(),
    );
    expect(current).toEqual(['Provider']);
  });

  it('has a skip link that moves keyboard focus to the main content', async () => {
    const root = await render();
    const skip = root.querySelector<HTMLAnchorElement>('a.skip-link');
    expect(skip?.textContent).toContain('Skip to main content');
    skip?.click();
    expect(document.activeElement).toBe(root.querySelector('main'));
  });

  it('shows only Home and a sign-in link when signed out', async () => {
    const root = await render();
    expect(navLinks(root)).toEqual([['Home', '/']]);
    expect(byTestId(root, 'header-sign-in').getAttribute('href')).toBe('/sign-in');
  });

  it('shows the patient area to everyone signed in, role areas only to their roles', async () => {
    await signInForTest(['provider']);
    const root = await render();
    expect(navLinks(root)).toEqual([
      ['Home', '/'],
      ['Patient', '/patient'],
      ['Provider', '/provider'],
    ]);
  });

  it('shows the signed-in address and signs out', async () => {
    await signInForTest([]);
    const fixture = TestBed.createComponent(App);
    await TestBed.inject(Router).navigateByUrl('/');
    await fixture.whenStable();
    const root = fixture.nativeElement as HTMLElement;
    expect(byTestId(root, 'header-address').textContent).toContain('0x9965…A4dc');

    byTestId(root, 'sign-out').click();
    const signOut = TestBed.inject(HttpTestingController).expectOne('/auth/sign-out');
    expect(signOut.request.headers.get('Authorization')).toBe('Bearer test-token');
    signOut.flush(null);
    await fixture.whenStable();
    expect(navLinks(root)).toEqual([['Home', '/']]);
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });
});
