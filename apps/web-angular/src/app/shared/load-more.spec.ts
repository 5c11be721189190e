import { Component, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';

import { byTestId } from '../testing/test-helpers';
import { LoadMore } from './load-more';

@Component({
  imports: [LoadMore],
  template: `
    <app-load-more
      label="Show older entries"
      testId="log-more"
      [hasMore]="hasMore()"
      [loading]="loading()"
      [error]="error()"
      (more)="asked = asked + 1"
    />
  `,
})
class Host {
  readonly hasMore = signal(true);
  readonly loading = signal(false);
  readonly error = signal<string | null>(null);
  asked = 0;
}

describe('LoadMore', () => {
  it('asks for the next page while there is one, waits while it loads, and says why it failed', async () => {
    const fixture = TestBed.createComponent(Host);
    const host = fixture.componentInstance;
    const root = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();

    const button = () => byTestId<HTMLButtonElement>(root, 'log-more');
    expect(button().textContent?.trim()).toBe('Show older entries');
    expect(button().disabled).toBe(false);
    button().click();
    expect(host.asked).toBe(1);

    host.loading.set(true);
    await fixture.whenStable();
    expect(button().textContent?.trim()).toBe('Loading…');
    expect(button().disabled).toBe(true);

    host.loading.set(false);
    host.error.set('Custos cannot be reached.');
    await fixture.whenStable();
    expect(root.querySelector('[role="alert"]')?.textContent).toBe('Custos cannot be reached.');
    expect(button().disabled).toBe(false);

    host.hasMore.set(false);
    host.error.set(null);
    await fixture.whenStable();
    expect(root.querySelector('[data-testid="log-more"]')).toBeNull();
    expect(root.querySelector('[role="alert"]')).toBeNull();
  });
});
