import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { type ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';

import {
  PATIENT_ADDRESS,
  PROVIDER_ADDRESS,
  allByTestId,
  byTestId,
  nextRequest,
  signInForTest,
  until,
} from '../testing/test-helpers';
import { AccessLog, describeAccess } from './access-log';
import type { AuditEntry } from './patient-api';

const entry = (overrides: Partial<AuditEntry>): AuditEntry => ({
  id: crypto.randomUUID(),
  sequence: 1,
  occurredAt: '2026-11-24T08:30:00.000Z',
  actor: PROVIDER_ADDRESS.toLowerCase(),
  patient: PATIENT_ADDRESS.toLowerCase(),
  resource: 'session:7/credentials',
  action: 'issue_call_credentials',
  purpose: 'Follow-up consultation',
  outcome: 'allowed',
  reason: 'active telehealth consent',
  ...overrides,
});

describe('AccessLog', () => {
  let fixture: ComponentFixture<AccessLog>;
  let root: HTMLElement;
  let http: HttpTestingController;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [provideRouter([]), provideHttpClient(), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpTestingController);
    await signInForTest([]);
    fixture = TestBed.createComponent(AccessLog);
    root = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
    (await nextRequest('GET', '/directory/providers')).flush({
      items: [{ address: PROVIDER_ADDRESS.toLowerCase(), name: 'Dr Ada Lee', specialty: null }],
      nextCursor: null,
    });
  });

  afterEach(() => {
    http.verify();
    sessionStorage.clear();
  });

  async function answer(items: AuditEntry[], nextCursor: string | null = null): Promise<void> {
    expect(byTestId(root, 'access-log-loading')).toBeTruthy();
    (await nextRequest('GET', '/audit/me')).flush({ items, nextCursor });
    await until(() => !root.querySelector('[data-testid="access-log-loading"]'), 'the log');
    await fixture.whenStable();
  }

  it('lists who accessed what, when and why, and highlights emergency access', async () => {
    await answer(
      [
        entry({
          actor: '0x90f79bf6eb2c4f870365e785982e1f101e93b906',
          resource: 'emergency',
          action: 'declare_emergency',
          purpose: 'emergency care',
          reason: 'emergency role',
        }),
        entry({}),
        entry({
          actor: 'anonymous',
          resource: '/audit',
          action: 'GET',
          purpose: null,
          outcome: 'denied',
          reason: 'sign in required',
        }),
      ],
      'next-page',
    );
    const rows = allByTestId(root, 'access-log-row');
    expect(rows).toHaveLength(3);

    const [emergency, call, refused] = rows as [HTMLElement, HTMLElement, HTMLElement];
    expect(emergency.dataset['emergency']).toBe('true');
    expect(emergency.classList).toContain('row--emergency');
    expect(byTestId(emergency, 'access-log-emergency').textContent).toBe('Emergency');
    expect(emergency.textContent).toContain('Declared an emergency to open your records');

    expect(call.dataset['emergency']).toBe('false');
    expect(call.textContent).toContain('Dr Ada Lee');
    expect(call.textContent).toContain('Joined a video consultation with you');
    expect(call.textContent).toContain('Follow-up consultation');
    expect(call.textContent).toContain('Allowed');

    expect(refused.dataset['outcome']).toBe('denied');
    expect(refused.textContent).toContain('Someone not signed in');
    expect(refused.textContent).toContain('Refused');

    byTestId(root, 'access-log-more').click();
    const more = await nextRequest('GET', '/audit/me');
    expect(more.request.params.get('cursor')).toBe('next-page');
    more.flush({ items: [entry({})], nextCursor: null });
    await until(() => allByTestId(root, 'access-log-row').length === 4, 'the older entries');
  });

  it('says when nobody has accessed the records', async () => {
    await answer([]);
    expect(byTestId(root, 'access-log-empty').textContent).toContain('Nobody has accessed your records yet.');
  });

  it('explains a failure and tries again', async () => {
    (await nextRequest('GET', '/audit/me')).error(new ProgressEvent('error'));
    await until(() => !!root.querySelector('[data-testid="access-log-error"]'), 'the error');
    expect(byTestId(root, 'access-log-error').textContent).toContain('Custos cannot be reached.');
    byTestId(root, 'access-log-error-retry').click();
    await fixture.whenStable();
    await answer([entry({})]);
    expect(allByTestId(root, 'access-log-row')).toHaveLength(1);
  });
});

describe('describeAccess', () => {
  it('puts resources and actions in plain words', () => {
    expect(describeAccess('record:0xabc', 'release_key')).toBe('Opened one of your records');
    expect(describeAccess('conversation:42', 'send_message')).toBe('Sent you a message');
    expect(describeAccess('/consent-requests/:id/decline', 'POST')).toBe('Checked your consents');
    expect(describeAccess('thing', 'do_it')).toBe('Do it thing');
  });
});
