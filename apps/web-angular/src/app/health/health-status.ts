import { HttpErrorResponse } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, DestroyRef, inject, signal } from '@angular/core';
import { type Subscription } from 'rxjs';

import { HealthApi } from './health-api';

/** The three things the user can see: still asking, the API answered ok, or it did not. */
export type HealthState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'ok' }
  | { readonly kind: 'error'; readonly message: string };

/** Shows whether the Custos API is reachable, with a way to ask again. */
@Component({
  selector: 'app-health-status',
  templateUrl: './health-status.html',
  styleUrl: './health-status.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class HealthStatus {
  private readonly api = inject(HealthApi);
  private request?: Subscription;

  protected readonly state = signal<HealthState>({ kind: 'loading' });

  constructor() {
    inject(DestroyRef).onDestroy(() => this.request?.unsubscribe());
    this.refresh();
  }

  /** Asks the API again; the previous request, if still open, is abandoned. */
  refresh(): void {
    this.request?.unsubscribe();
    this.state.set({ kind: 'loading' });
    this.request = this.api.check().subscribe({
      next: (ok) =>
        this.state.set(ok ? { kind: 'ok' } : { kind: 'error', message: 'unexpected answer from the API' }),
      error: (err: unknown) => this.state.set({ kind: 'error', message: describe(err) }),
    });
  }
}

function describe(err: unknown): string {
  if (err instanceof HttpErrorResponse) {
    if (err.status === 0) {
      return 'cannot reach the API';
    }
    return `the API answered ${err.status}${err.statusText ? ' ' + err.statusText : ''}`;
  }
  return 'unexpected error';
}
