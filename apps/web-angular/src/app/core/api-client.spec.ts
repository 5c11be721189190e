import { HttpErrorResponse, provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';

import { signInForTest } from '../testing/test-helpers';
import { ApiClient, ApiError, toApiError } from './api-client';
import { Session } from './session';

describe('ApiClient', () => {
  let http: HttpTestingController;
  let api: ApiClient;

  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [provideRouter([]), provideHttpClient(), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpTestingController);
    api = TestBed.inject(ApiClient);
  });

  afterEach(() => {
    http.verify();
    sessionStorage.clear();
  });

  it('calls the API on the same origin without a token when signed out', async () => {
    const call = api.get<{ ok: boolean }>('/directory/providers', { limit: 5, cursor: undefined });
    const req = http.expectOne('/directory/providers?limit=5');
    expect(req.request.headers.has('Authorization')).toBe(false);
    req.flush({ ok: true });
    expect(await call).toEqual({ ok: true });
  });

  it('reads every page of a list', async () => {
    const call = api.getAll<number>('/things', { status: 'pending' });
    http.expectOne('/things?status=pending&limit=200').flush({ items: [1, 2], nextCursor: 'c2' });
    await Promise.resolve();
    await new Promise((r) => setTimeout(r));
    http.expectOne('/things?status=pending&limit=200&cursor=c2').flush({ items: [3], nextCursor: null });
    expect(await call).toEqual([1, 2, 3]);
  });

  it('turns API errors into readable ApiErrors with their code', async () => {
    const call = api.post('/consents/grants', {});
    http.expectOne('/consents/grants').flush(
      {
        statusCode: 400,
        error: 'Bad Request',
        code: 'not_a_provider',
        message: 'provider is not a registered provider: 0xabc',
      },
      { status: 400, statusText: 'Bad Request' },
    );
    await expect(call).rejects.toEqual(
      new ApiError(400, 'not_a_provider', 'Provider is not a registered provider: 0xabc.'),
    );
  });

  it('joins validation messages and explains server and network failures', () => {
    const validation = toApiError(
      new HttpErrorResponse({
        status: 400,
        error: { statusCode: 400, message: ['limit must be an integer', 'cursor too long'] },
      }),
    );
    expect(validation.message).toBe('Limit must be an integer; cursor too long.');

    const down = toApiError(
      new HttpErrorResponse({ status: 503, error: { statusCode: 503, message: 'no contract configured' } }),
    );
    expect(down.message).toBe(
      'Custos had a problem (error 503). No contract configured. Try again in a moment.',
    );

    const offline = toApiError(new HttpErrorResponse({ status: 0, error: new ProgressEvent('error') }));
    expect(offline.isNetworkError).toBe(true);
    expect(offline.message).toBe('Custos cannot be reached. Check your connection and try again.');
  });

  it('ends the session and sends the user to sign in when a signed-in call gets 401', async () => {
    await signInForTest(['provider']);
    const router = TestBed.inject(Router);
    const navigate = vi.spyOn(router, 'navigate').mockResolvedValue(true);

    const call = api.get('/audit/me');
    const req = http.expectOne('/audit/me');
    expect(req.request.headers.get('Authorization')).toBe('Bearer test-token');
    req.flush({ statusCode: 401, message: 'token expired' }, { status: 401, statusText: 'Unauthorized' });

    await expect(call).rejects.toMatchObject({
      status: 401,
      message: 'Your session has ended. Please sign in again.',
    });
    expect(TestBed.inject(Session).signedIn()).toBe(false);
    expect(navigate).toHaveBeenCalledWith(['/sign-in'], {
      queryParams: { returnUrl: '/', reason: 'expired' },
    });
  });
});
