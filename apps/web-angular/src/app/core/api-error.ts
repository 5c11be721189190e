import { HttpErrorResponse } from '@angular/common/http';

/**
 * A refused or failed API call, with a message a person can read (shown as is in the UI).
 *
 * The API answers errors as `{ statusCode, error?, code?, message }` where `message` is a string or,
 * for validation errors, a list of strings. `status` is 0 when the API could not be reached at all.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    /** HTTP status, or 0 for a network failure. */
    readonly status: number,
    /** The API's machine-readable code when it gave one (e.g. `relay_not_found`, `not_a_provider`). */
    readonly code: string | undefined,
    /** A readable sentence. */
    message: string,
  ) {
    super(message);
  }

  /** True when the API could not be reached (offline, server down, CORS). */
  get isNetworkError(): boolean {
    return this.status === 0;
  }
}

/** Turns anything an HTTP call can throw into an `ApiError` with a readable message. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (!(error instanceof HttpErrorResponse)) {
    return new ApiError(0, undefined, error instanceof Error ? error.message : 'Something went wrong.');
  }
  const status = error.status;
  if (status === 0) {
    return new ApiError(0, undefined, 'Custos cannot be reached. Check your connection and try again.');
  }
  const body: unknown = error.error;
  const code =
    body && typeof body === 'object' && typeof (body as { code?: unknown }).code === 'string'
      ? (body as { code: string }).code
      : undefined;
  const serverText = serverMessage(body);
  if (status >= 500) {
    const detail = serverText ? ` ${sentence(serverText)}` : '';
    return new ApiError(
      status,
      code,
      `Custos had a problem (error ${status}).${detail} Try again in a moment.`,
    );
  }
  if (serverText) return new ApiError(status, code, sentence(serverText));
  const fallback: Record<number, string> = {
    400: 'The request was not accepted.',
    401: 'You need to sign in.',
    403: 'You are not allowed to do this.',
    404: 'Not found.',
    409: 'Someone else changed this at the same time. Reload and try again.',
    429: 'Too many attempts. Wait a moment and try again.',
  };
  return new ApiError(status, code, fallback[status] ?? `The request failed (error ${status}).`);
}

function serverMessage(body: unknown): string | null {
  if (typeof body === 'string') return body.trim() || null;
  if (!body || typeof body !== 'object') return null;
  const message = (body as { message?: unknown }).message;
  if (typeof message === 'string') return message.trim() || null;
  if (Array.isArray(message)) {
    const parts = message.filter((m): m is string => typeof m === 'string' && m.trim() !== '');
    return parts.length ? parts.join('; ') : null;
  }
  return null;
}

/** Capitalised, ending with a full stop. */
function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
