import { Component, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';

import { byTestId } from '../testing/test-helpers';
import { EmptyState } from './empty-state';
import { ErrorState } from './error-state';
import { LoadingState } from './loading-state';

@Component({
  imports: [LoadingState, EmptyState, ErrorState],
  template: `
    <app-loading-state label="Loading your access log…" />
    <app-empty-state heading="No requests are waiting for you.">They appear here.</app-empty-state>
    <app-error-state heading="Could not load" [message]="message()" (retry)="retries = retries + 1" />
  `,
})
class Host {
  readonly message = signal<string | null>('Custos cannot be reached.');
  retries = 0;
}

describe('loading, empty and error states', () => {
  it('say what is happening, in live regions where it matters, with Try again on errors', async () => {
    const fixture = TestBed.createComponent(Host);
    await fixture.whenStable();
    const root = fixture.nativeElement as HTMLElement;

    const loading = byTestId(root, 'loading-state');
    expect(loading.getAttribute('role')).toBe('status');
    expect(loading.textContent?.trim()).toBe('Loading your access log…');

    expect(byTestId(root, 'empty-state').textContent).toContain('No requests are waiting for you.');
    expect(byTestId(root, 'empty-state').textContent).toContain('They appear here.');

    const error = byTestId(root, 'error-state');
    expect(error.getAttribute('role')).toBe('alert');
    expect(error.textContent).toContain('Could not load');
    expect(error.textContent).toContain('Custos cannot be reached.');
    byTestId(root, 'error-state-retry').click();
    expect(fixture.componentInstance.retries).toBe(1);
  });
});
