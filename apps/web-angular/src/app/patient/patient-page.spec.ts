import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';

import {
  PROVIDER_ADDRESS,
  allByTestId,
  byTestId,
  nextRequest,
  signInForTest,
  until,
} from '../testing/test-helpers';
import type { AppNotification } from './patient-api';
import { PATIENT_ROUTES } from './patient.routes';
import { PatientPage } from './patient-page';

const note = (kind: string, occurredAt: string, subject: AppNotification['subject']): AppNotification => ({
  id: `${kind}-${occurredAt}`,
  recipient: '0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc',
  kind,
  subject,
  occurredAt,
});

const NOTIFICATIONS = [
  note('emergency_access_started', '2026-11-25T09:00:00.000Z', {
    provider: '0x90f79bf6eb2c4f870365e785982e1f101e93b906',
    expiresAt: 1_795_000_000,
  }),
  note('consent_requested', '2026-11-24T09:00:00.000Z', {
    provider: PROVIDER_ADDRESS.toLowerCase(),
    category: 'imaging',
    requestId: 'r1',
  }),
];

describe('Patient area: notifications', () => {
  let http: HttpTestingController;

  beforeEach(async () => {
    localStorage.clear();
    TestBed.configureTestingModule({
      providers: [
        provideRouter([{ path: 'patient', component: PatientPage, children: PATIENT_ROUTES }]),
        provideHttpClient(),
        provideHttpClientTesting(),
      ],
    });
    http = TestBed.inject(HttpTestingController);
    await signInForTest([]);
  });

  afterEach(() => {
    sessionStorage.clear();
    localStorage.clear();
  });

  it('badges new notifications, flags an emergency access, and clears the badge once read', async () => {
    const harness = await RouterTestingHarness.create('/patient/account');
    const root = harness.fixture.nativeElement as HTMLElement;
    (await nextRequest('GET', '/directory/providers')).flush({
      items: [{ address: PROVIDER_ADDRESS.toLowerCase(), name: 'Dr Ada Lee', specialty: null }],
      nextCursor: null,
    });
    (await nextRequest('GET', '/notifications/me')).flush({ items: NOTIFICATIONS, nextCursor: null });
    await until(() => !!root.querySelector('[data-testid="notification-badge"]'), 'the badge');

    const badge = byTestId(root, 'notification-badge');
    expect(badge.textContent?.replace(/\s+/g, ' ').trim()).toBe('2 new');
    expect(badge.classList).toContain('badge--urgent');
    const banner = byTestId(root, 'emergency-banner');
    expect(banner.getAttribute('role')).toBe('alert');
    expect(banner.textContent).toContain('Emergency access to your records.');
    expect(banner.textContent).toContain('0x90f7…b906 opened your records in an emergency');

    await harness.navigateByUrl('/patient/notifications');
    (await nextRequest('GET', '/notifications/me')).flush({ items: NOTIFICATIONS, nextCursor: null });
    await until(() => allByTestId(root, 'notification-row').length === 2, 'the list');
    const [emergency, request] = allByTestId(root, 'notification-row') as [HTMLElement, HTMLElement];
    expect(emergency.dataset['urgent']).toBe('true');
    expect(emergency.classList).toContain('notification--urgent');
    expect(emergency.textContent).toContain('Emergency');
    expect(request.textContent).toContain('Dr Ada Lee asked to see your imaging (X-rays, scans).');
    expect(request.textContent).toContain('New');

    await until(() => !root.querySelector('[data-testid="notification-badge"]'), 'the badge to clear');
    expect(root.querySelector('[data-testid="emergency-banner"]')).toBeNull();
    http.match(() => true); // the periodic refresh may or may not have fired
  });

  it('says when there are no notifications', async () => {
    const harness = await RouterTestingHarness.create('/patient/notifications');
    const root = harness.fixture.nativeElement as HTMLElement;
    for (const req of http.match((r) => r.url === '/notifications/me'))
      req.flush({ items: [], nextCursor: null });
    await until(() => !!root.querySelector('[data-testid="notifications-empty"]'), 'the empty state');
    expect(byTestId(root, 'notifications-empty').textContent).toContain('You have no notifications.');
  });
});
