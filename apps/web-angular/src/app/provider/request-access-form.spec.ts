import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
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
import { type AccessRequestFields, RequestAccessForm, validateAccessRequest } from './request-access-form';

const valid: AccessRequestFields = {
  patient: PATIENT_ADDRESS,
  category: 'lab_results',
  purpose: 'Follow-up of your blood tests',
  duration: '30',
  unit: 'days',
};

describe('validateAccessRequest', () => {
  it('accepts a complete request', () => {
    expect(validateAccessRequest(valid, PROVIDER_ADDRESS)).toEqual({});
  });

  it('applies the API rules: address, category, purpose 3–500, 1 hour to 365 days, not oneself', () => {
    expect(validateAccessRequest({ ...valid, patient: '' }).patient).toMatch(/Enter the patient's address/);
    expect(validateAccessRequest({ ...valid, patient: '0x1234' }).patient).toMatch(/40 hexadecimal/);
    expect(
      validateAccessRequest({ ...valid, patient: PROVIDER_ADDRESS.toLowerCase() }, PROVIDER_ADDRESS).patient,
    ).toBe('You cannot ask yourself for access.');
    expect(validateAccessRequest({ ...valid, category: 'gossip' }).category).toBeDefined();
    expect(validateAccessRequest({ ...valid, purpose: '  ab ' }).purpose).toMatch(/at least 3/);
    expect(validateAccessRequest({ ...valid, purpose: 'x'.repeat(501) }).purpose).toMatch(/under 500/);
    expect(validateAccessRequest({ ...valid, duration: '' }).duration).toMatch(/whole number/);
    expect(validateAccessRequest({ ...valid, duration: '1.5' }).duration).toMatch(/whole number/);
    expect(validateAccessRequest({ ...valid, duration: '366' }).duration).toMatch(/365 days/);
    expect(validateAccessRequest({ ...valid, duration: '1', unit: 'hours' }).duration).toBeUndefined();
    expect(validateAccessRequest({ ...valid, duration: '365' }).duration).toBeUndefined();
  });
});

describe('RequestAccessForm', () => {
  let http: HttpTestingController;
  let root: HTMLElement;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [
        provideRouter([{ path: 'request-access', component: RequestAccessForm }]),
        provideHttpClient(),
        provideHttpClientTesting(),
      ],
    });
    http = TestBed.inject(HttpTestingController);
    await signInForTest(['provider'], PROVIDER_ADDRESS);
  });

  afterEach(() => sessionStorage.clear());

  async function open(url = '/request-access') {
    const harness = await RouterTestingHarness.create(url);
    root = harness.routeNativeElement as HTMLElement;
    (await nextRequest('GET', '/consent-requests')).flush({ items: [], nextCursor: null });
    await harness.fixture.whenStable();
    return harness;
  }

  it('shows what is missing, focuses the first problem and sends nothing', async () => {
    const harness = await open();
    byTestId(root, 'request-submit').click();
    await harness.fixture.whenStable();
    expect(byTestId(root, 'request-patient-error').textContent).toContain("Enter the patient's address");
    expect(byTestId(root, 'request-category-error').textContent).toContain('Choose which records');
    expect(byTestId(root, 'request-purpose-error').textContent).toContain('at least 3 characters');
    expect(root.querySelector('[data-testid="request-duration-error"]')).toBeNull(); // 30 days by default
    expect(byTestId(root, 'request-patient').getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(byTestId(root, 'request-patient'));
    http.expectNone('/consent-requests');
  });

  it('sends the request body the API expects, then says it was sent', async () => {
    const harness = await open(`/request-access?patient=${PATIENT_ADDRESS}&category=imaging`);
    expect(byTestId<HTMLInputElement>(root, 'request-patient').value).toBe(PATIENT_ADDRESS);
    expect(byTestId<HTMLSelectElement>(root, 'request-category').value).toBe('imaging');

    const category = byTestId<HTMLSelectElement>(root, 'request-category');
    category.value = 'lab_results';
    category.dispatchEvent(new Event('change'));
    type(byTestId(root, 'request-purpose'), '  Follow-up of your blood tests  ');
    type(byTestId(root, 'request-duration'), '2');
    const unit = byTestId<HTMLSelectElement>(root, 'request-duration-unit');
    unit.value = 'hours';
    unit.dispatchEvent(new Event('change'));
    byTestId(root, 'request-submit').click();

    const request = await nextRequest('POST', '/consent-requests');
    expect(request.request.body).toEqual({
      patient: PATIENT_ADDRESS,
      category: 'lab_results',
      purpose: 'Follow-up of your blood tests',
      durationSeconds: 7200,
    });
    expect(request.request.headers.get('Authorization')).toBe('Bearer test-token');
    request.flush({ id: 'r1' });
    await until(() => /Request sent/.test(byTestId(root, 'request-sent').textContent ?? ''), 'the notice');
    expect(byTestId(root, 'request-sent').textContent).toContain('0x9965…A4dc');
    (await nextRequest('GET', '/consent-requests')).flush({
      items: [
        {
          id: 'r1',
          patient: PATIENT_ADDRESS.toLowerCase(),
          provider: PROVIDER_ADDRESS.toLowerCase(),
          category: 'lab_results',
          purpose: 'Follow-up of your blood tests',
          durationSeconds: 7200,
          requestedAt: '2026-11-25T10:00:00.000Z',
          status: 'pending',
        },
      ],
      nextCursor: null,
    });
    await until(() => !!root.querySelector('[data-testid="sent-request-row"]'), 'the sent request');
    await harness.fixture.whenStable();
    expect(byTestId(root, 'sent-request-row').textContent).toContain('Waiting for the patient');
  });

  it('shows the API refusal', async () => {
    await open(`/request-access?patient=${PATIENT_ADDRESS}&category=imaging`);
    type(byTestId(root, 'request-purpose'), 'Second opinion on your scan');
    byTestId(root, 'request-submit').click();
    (await nextRequest('POST', '/consent-requests')).flush(
      { statusCode: 409, code: 'request_pending', message: 'a request for imaging is already waiting' },
      { status: 409, statusText: 'Conflict' },
    );
    await until(() => !!root.querySelector('[data-testid="request-error"]'), 'the error');
    expect(byTestId(root, 'request-error').textContent).toContain(
      'A request for imaging is already waiting.',
    );
  });
});
