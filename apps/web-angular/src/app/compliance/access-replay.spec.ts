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
  type,
  until,
} from '../testing/test-helpers';
import { AccessReplay } from './access-replay';
import type { ReplayedAccess } from './compliance-api';

const EMERGENCY_STAFF = '0x90f79bf6eb2c4f870365e785982e1f101e93b906';

describe('AccessReplay', () => {
  let fixture: ComponentFixture<AccessReplay>;
  let root: HTMLElement;
  let http: HttpTestingController;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [provideRouter([]), provideHttpClient(), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpTestingController);
    await signInForTest(['auditor']);
    fixture = TestBed.createComponent(AccessReplay);
    root = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
    (await nextRequest('GET', '/directory/providers')).flush({
      items: [{ address: PROVIDER_ADDRESS.toLowerCase(), name: 'Dr Ada Lee', specialty: 'Cardiology' }],
      nextCursor: null,
    });
  });

  afterEach(() => {
    http.verify();
    sessionStorage.clear();
  });

  async function submit(patient: string, asOf: string): Promise<void> {
    type(byTestId<HTMLInputElement>(root, 'replay-patient'), patient);
    type(byTestId<HTMLInputElement>(root, 'replay-as-of'), asOf);
    byTestId(root, 'replay-submit').click();
    await fixture.whenStable();
  }

  it('asks for the patient and moment, and sends them as an address and UTC time', async () => {
    await submit(PATIENT_ADDRESS, '2026-03-12T14:05:30');
    const request = await nextRequest('GET', '/audit/replay');
    expect(request.request.params.get('patient')).toBe(PATIENT_ADDRESS.toLowerCase());
    // The input is read in the browser's time zone.
    expect(request.request.params.get('asOf')).toBe(new Date('2026-03-12T14:05:30').toISOString());
    expect(request.request.headers.get('Authorization')).toBe('Bearer test-token');
    expect(byTestId(root, 'replay-loading')).toBeTruthy();

    request.flush({
      asOf: request.request.params.get('asOf')!,
      patient: PATIENT_ADDRESS.toLowerCase(),
      grants: [
        { provider: PROVIDER_ADDRESS.toLowerCase(), category: 'lab_results', expiresAt: 1_900_000_000 },
      ],
      emergencyWindows: [
        {
          provider: EMERGENCY_STAFF,
          expiresAt: 1_800_000_000,
          reasonHash: '0xab',
          reason: 'Unconscious in ER',
        },
      ],
    } satisfies ReplayedAccess);
    await until(() => allByTestId(root, 'replay-row').length === 2, 'replay rows');

    const [emergency, consent] = allByTestId(root, 'replay-row') as [HTMLElement, HTMLElement];
    expect(emergency.dataset['kind']).toBe('emergency');
    expect(emergency.textContent).toContain('Unconscious in ER');
    expect(emergency.textContent).toContain('All records');
    expect(consent.dataset['kind']).toBe('consent');
    expect(consent.textContent).toContain('Dr Ada Lee');
    expect(consent.textContent).toContain('lab results');
    expect(byTestId(root, 'replay-result').textContent).toContain('as of');
  });

  it('refuses a patient that is not an address, without calling the API', async () => {
    await submit('not-an-address', '2026-03-12T14:05');
    expect(byTestId(root, 'replay-form-error').textContent).toContain('address');
    http.expectNone((r) => r.url === '/audit/replay');
  });

  it('refuses an empty moment', async () => {
    await submit(PATIENT_ADDRESS, '');
    expect(byTestId(root, 'replay-form-error').textContent).toContain('date and time');
    http.expectNone((r) => r.url === '/audit/replay');
  });

  it('says when nobody had access', async () => {
    await submit(PATIENT_ADDRESS, '2020-01-01T00:00');
    (await nextRequest('GET', '/audit/replay')).flush({
      asOf: '2020-01-01T00:00:00.000Z',
      patient: PATIENT_ADDRESS.toLowerCase(),
      grants: [],
      emergencyWindows: [],
    } satisfies ReplayedAccess);
    await until(() => !!root.querySelector('[data-testid="replay-empty"]'), 'empty state');
    expect(allByTestId(root, 'replay-row')).toHaveLength(0);
  });

  it('shows a refusal, and tries again', async () => {
    await submit(PATIENT_ADDRESS, '2026-03-12T14:05');
    (await nextRequest('GET', '/audit/replay')).flush(
      { statusCode: 403, message: 'auditor role required' },
      { status: 403, statusText: 'Forbidden' },
    );
    await until(() => !!root.querySelector('[data-testid="replay-error"]'), 'error state');
    expect(byTestId(root, 'replay-error').textContent).toContain('Auditor role required.');

    byTestId(root, 'replay-error-retry').click();
    (await nextRequest('GET', '/audit/replay')).flush({
      asOf: '2026-03-12T14:05:00.000Z',
      patient: PATIENT_ADDRESS.toLowerCase(),
      grants: [],
      emergencyWindows: [],
    } satisfies ReplayedAccess);
    await until(() => !!root.querySelector('[data-testid="replay-empty"]'), 'empty state');
  });
});
