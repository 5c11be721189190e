import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';

import { App } from './app';

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
      ],
    });
  });

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

  it('has a labelled main navigation with one link per area', async () => {
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
    ]);
  });

  it('renders the routed page inside the <main> landmark', async () => {
    const root = await render('/patient');
    expect(root.querySelector('main h1')?.textContent).toBe('Stub page');
  });

  it('marks only the current area as the current page', async () => {
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
});
