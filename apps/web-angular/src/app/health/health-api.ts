import { HttpClient } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { type Observable, map } from 'rxjs';

/** What the API's `GET /health` answers when it is up. */
export interface HealthResponse {
  readonly status: string;
}

/** Talks to the API's health endpoint (same origin, relative URL). */
@Injectable({ providedIn: 'root' })
export class HealthApi {
  private readonly http = inject(HttpClient);

  /** Emits `true` when the API reports `{ "status": "ok" }`, `false` for any other body. */
  check(): Observable<boolean> {
    return this.http.get<HealthResponse>('/health').pipe(map((body) => body?.status === 'ok'));
  }
}
