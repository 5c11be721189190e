import { provideHttpClient } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';

import {
  PATIENT_ADDRESS,
  PROVIDER_ADDRESS,
  byTestId,
  nextRequest,
  signInForTest,
  type,
  until,
} from '../testing/test-helpers';
import type { SessionView } from './consultation-api';
import { CONSULTATION_ROUTES } from './consultation.routes';

const SPECIALIST = '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc';

const session = (overrides: Partial<SessionView> = {}): SessionView => ({
  id: 's1',
  provider: PROVIDER_ADDRESS.toLowerCase(),
  patient: PATIENT_ADDRESS.toLowerCase(),
  category: 'lab_results',
  mode: 'video',
  startsAt: new Date(Date.now() + 5 * 60_000).toISOString(),
  endsAt: new Date(Date.now() + 35 * 60_000).toISOString(),
  status: 'scheduled',
  role: 'patient',
  participants: [
    { address: PROVIDER_ADDRESS.toLowerCase(), role: 'provider', admitted: true, joined: false },
    { address: PATIENT_ADDRESS.toLowerCase(), role: 'patient', admitted: true, joined: false },
    { address: SPECIALIST, role: 'specialist', admitted: false, joined: false },
  ],
  recordingConsent: false,
  endedBy: null,
  endReason: null,
  missing: null,
  ...overrides,
});

describe('ConsultationDetail', () => {
  let root: HTMLElement;

  async function open(as: 'patient' | 'provider', view: SessionView) {
    TestBed.configureTestingModule({
      providers: [
        provideRouter([{ path: 'consultations', children: CONSULTATION_ROUTES }]),
        provideHttpClient(),
        provideHttpClientTesting(),
      ],
    });
    await signInForTest(
      as === 'provider' ? ['provider'] : [],
      as === 'provider' ? PROVIDER_ADDRESS : PATIENT_ADDRESS,
    );
    const harness = await RouterTestingHarness.create('/consultations/s1');
    root = harness.routeNativeElement as HTMLElement;
    (await nextRequest('GET', '/sessions/s1')).flush(view);
    (await nextRequest('GET', '/directory/providers')).flush({ items: [], nextCursor: null });
    await until(() => !!root.querySelector('[data-testid="session-detail"]'), 'the consultation');
    return harness;
  }

  afterEach(() => sessionStorage.clear());

  it('lets the patient answer the recording question and admit an invitee', async () => {
    await open('patient', session());
    expect(byTestId(root, 'recording-consent-state').textContent).toContain('nothing is recorded');
    expect(byTestId(root, 'session-join').getAttribute('href')).toBe('/consultations/s1/room');

    byTestId(root, 'recording-consent-give').click();
    const consent = await nextRequest('POST', '/sessions/s1/recording-consent');
    expect(consent.request.body).toEqual({ consent: true });
    consent.flush(null, { status: 204, statusText: 'No Content' });
    (await nextRequest('GET', '/sessions/s1')).flush(session({ recordingConsent: true }));
    await until(() => byTestId(root, 'recording-consent').dataset['consent'] === 'true', 'the new answer');
    expect(byTestId(root, 'recording-consent-state').textContent).toContain('you allowed recording');

    byTestId(root, 'admit-participant').click();
    const admission = await nextRequest('POST', '/sessions/s1/admissions');
    expect(admission.request.body).toEqual({ participant: SPECIALIST });
    admission.flush(null, { status: 204, statusText: 'No Content' });
    (await nextRequest('GET', '/sessions/s1')).flush(session());
    await until(() => /can now join/.test(byTestId(root, 'session-notice').textContent ?? ''), 'the notice');
    expect(root.querySelector('[data-testid="invite-form"]')).toBeNull();
    expect(root.querySelector('[data-testid="session-end"]')).toBeNull();
  });

  it('lets the provider invite someone, and offers no recording answer', async () => {
    await open('provider', session({ role: 'provider' }));
    expect(root.querySelector('[data-testid="recording-consent"]')).toBeNull();
    expect(root.querySelector('[data-testid="admit-participant"]')).toBeNull();
    type(byTestId(root, 'invite-participant'), SPECIALIST);
    const role = byTestId<HTMLSelectElement>(root, 'invite-role');
    role.value = 'interpreter';
    role.dispatchEvent(new Event('change'));
    byTestId(root, 'invite-submit').click();
    const invitation = await nextRequest('POST', '/sessions/s1/invitations');
    expect(invitation.request.body).toEqual({ participant: SPECIALIST, role: 'interpreter' });
    invitation.flush(null, { status: 204, statusText: 'No Content' });
    await until(() => /Invited as interpreter/.test(byTestId(root, 'invite-done').textContent ?? ''), 'done');
  });

  it('offers no Join once the consultation has ended, and says how it ended', async () => {
    await open('patient', session({ status: 'ended', endedBy: PROVIDER_ADDRESS.toLowerCase() }));
    expect(root.querySelector('[data-testid="session-join"]')).toBeNull();
    expect(byTestId(root, 'session-detail').textContent).toContain('The provider ended it.');
  });
});
