import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';

import { PATIENT_ADDRESS } from '../testing/test-helpers';
import { SESSION_STORAGE_KEY, Session } from './session';

describe('Session', () => {
  let http: HttpTestingController;

  function setup(): Session {
    TestBed.configureTestingModule({
      providers: [provideRouter([]), provideHttpClient(), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpTestingController);
    return TestBed.inject(Session);
  }

  const kept = (expiresInMs: number, roles: string[] = []) =>
    sessionStorage.setItem(
      SESSION_STORAGE_KEY,
      JSON.stringify({
        token: 'kept-token',
        address: PATIENT_ADDRESS,
        expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
        roles,
      }),
    );

  afterEach(() => {
    http.verify();
    sessionStorage.clear();
  });

  it('starts signed out when nothing was kept', async () => {
    const session = setup();
    await session.ready;
    expect(session.status()).toBe('signed-out');
    expect(session.token()).toBeNull();
  });

  it('keeps you signed in across a reload: the kept token is checked with GET /auth/me', async () => {
    kept(3600_000);
    const session = setup();
    expect(session.status()).toBe('restoring');
    const me = http.expectOne('/auth/me');
    expect(me.request.headers.get('Authorization')).toBe('Bearer kept-token');
    me.flush({ address: PATIENT_ADDRESS, roles: ['auditor', 'anchor', 'unknown'] });
    await session.ready;
    expect(session.status()).toBe('signed-in');
    expect(session.roles()).toEqual(['auditor', 'anchor']);
    expect(session.hasRole('auditor')).toBe(true);
  });

  it('forgets a kept token the API refuses', async () => {
    kept(3600_000);
    const session = setup();
    http
      .expectOne('/auth/me')
      .flush({ statusCode: 401, message: 'revoked' }, { status: 401, statusText: 'Unauthorized' });
    await session.ready;
    expect(session.status()).toBe('signed-out');
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });

  it('drops a kept token that has expired without asking', async () => {
    kept(-1000);
    const session = setup();
    await session.ready;
    expect(session.status()).toBe('signed-out');
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });

  it('signs out: revokes the token on the API and tells listeners', async () => {
    kept(3600_000, ['provider']);
    const session = setup();
    http.expectOne('/auth/me').flush({ address: PATIENT_ADDRESS, roles: ['provider'] });
    await session.ready;
    const ended: string[] = [];
    session.onEnd((reason) => ended.push(reason));

    const done = session.signOut();
    const req = http.expectOne('/auth/sign-out');
    expect(req.request.method).toBe('POST');
    expect(req.request.headers.get('Authorization')).toBe('Bearer kept-token');
    req.flush(null);
    await done;
    expect(session.signedIn()).toBe(false);
    expect(session.roles()).toEqual([]);
    expect(ended).toEqual(['signed-out']);
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });
});
