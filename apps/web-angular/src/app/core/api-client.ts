import { HttpClient, HttpErrorResponse, HttpHeaders, HttpParams } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { type Observable, catchError, firstValueFrom, from, switchMap, throwError } from 'rxjs';

import { ApiError, toApiError } from './api-error';
import { Session } from './session';

export { ApiError, toApiError } from './api-error';

/** Query string values; `undefined` and `null` are left out. */
export type QueryParams = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** One page of a paginated list (`?cursor=&limit=`): pass `nextCursor` back for the next page. */
export interface Page<T> {
  readonly items: readonly T[];
  /** `null` on the last page. */
  readonly nextCursor: string | null;
}

/**
 * The one way views talk to the Custos API: same origin, JSON, `Authorization: Bearer <token>` from
 * the session when signed in, Promises that reject with an `ApiError`.
 *
 * A 401 on a call that carried a token means the session is over (expired or revoked): the session is
 * ended, which sends the user to the sign-in page (see `Session.end`).
 *
 * ```ts
 * private readonly api = inject(ApiClient);
 * const page = await this.api.get<Page<Thing>>('/things', { limit: 50 });
 * await this.api.post('/things/42/decline');
 * ```
 */
@Injectable({ providedIn: 'root' })
export class ApiClient {
  private readonly http = inject(HttpClient);
  private readonly session = inject(Session);

  get<T>(path: string, params?: QueryParams): Promise<T> {
    return this.send<T>((headers) => this.http.get<T>(path, { headers, params: toParams(params) }));
  }

  post<T = void>(path: string, body?: unknown): Promise<T> {
    return this.send<T>((headers) => this.http.post<T>(path, body ?? null, { headers }));
  }

  put<T = void>(path: string, body?: unknown): Promise<T> {
    return this.send<T>((headers) => this.http.put<T>(path, body ?? null, { headers }));
  }

  delete<T = void>(path: string): Promise<T> {
    return this.send<T>((headers) => this.http.delete<T>(path, { headers }));
  }

  /**
   * A file to download (`responseType: 'blob'`), e.g. an export. A refusal's JSON body is read from
   * the blob, so the `ApiError` carries the API's message like any other call.
   */
  getBlob(path: string, params?: QueryParams): Promise<Blob> {
    return this.send<Blob>((headers) =>
      this.http
        .get(path, { headers, params: toParams(params), responseType: 'blob' })
        .pipe(catchError(readBlobError)),
    );
  }

  /** Every page of a paginated list, concatenated (at most `maxPages` pages of `pageSize`). */
  async getAll<T>(path: string, params: QueryParams = {}, pageSize = 200, maxPages = 20): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < maxPages; page++) {
      const result: Page<T> = await this.get<Page<T>>(path, {
        ...params,
        limit: pageSize,
        cursor: cursor ?? undefined,
      });
      items.push(...result.items);
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    return items;
  }

  private async send<T>(call: (headers: HttpHeaders) => Observable<T>): Promise<T> {
    const token = this.session.token();
    let headers = new HttpHeaders();
    if (token) headers = headers.set('Authorization', `Bearer ${token}`);
    try {
      return await firstValueFrom(call(headers));
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.status === 401 && token && this.session.token() === token) {
        this.session.end('expired');
        throw new ApiError(401, apiError.code, 'Your session has ended. Please sign in again.');
      }
      throw apiError;
    }
  }
}

function toParams(params: QueryParams | undefined): HttpParams | undefined {
  if (!params) return undefined;
  let result = new HttpParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) result = result.set(key, String(value));
  }
  return result;
}

/** An error answered to a blob request, with its body read back as JSON (or text). */
function readBlobError(error: unknown): Observable<never> {
  if (!(error instanceof HttpErrorResponse) || !(error.error instanceof Blob)) return throwError(() => error);
  return from(blobText(error.error)).pipe(
    switchMap((text) => {
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: keep the text.
      }
      return throwError(
        () =>
          new HttpErrorResponse({
            error: body,
            status: error.status,
            statusText: error.statusText,
            url: error.url ?? undefined,
            headers: error.headers,
          }),
      );
    }),
  );
}

function blobText(blob: Blob): Promise<string> {
  if (typeof blob.text === 'function') return blob.text();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsText(blob);
  });
}
