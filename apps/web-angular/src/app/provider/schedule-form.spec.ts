import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
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
import type { PatientGrant } from './provider-api';
import {
  ScheduleForm,
  type ScheduleFields,
  nextStart,
  toLocalInput,
  validateSchedule,
} from './schedule-form';

@Component({ template: '<h1>Consultation</h1>' })
class DetailStub {}

const patient = PATIENT_ADDRESS.toLowerCase();
const grant = (category: string, who = patient): PatientGrant => ({
  patient: who,
  category,
  expiresAt: Math.floor(Date.now() / 1000) + 86_400,
  grantedAt: '2026-11-25T10:00:00.000Z',
});

describe('validateSchedule', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');
  const fields: ScheduleFields = {
    patient,
    category: 'general',
    startsAt: '2026-11-25T12:30',
    durationMinutes: '30',
    mode: 'video',
  };

  it('accepts a consultation the grants cover', () => {
    expect(validateSchedule(fields, Date.parse('2026-11-25T12:30') - 60_000, new Set(['general']))).toEqual(
      {},
    );
    expect(
      validateSchedule(
        { ...fields, category: 'imaging' },
        Date.parse('2026-11-25T12:00'),
        new Set(['telehealth']),
      ),
    ).toEqual({});
  });

  it('refuses a missing patient, an uncovered category, a past start and a length outside 5–240', () => {
    expect(validateSchedule({ ...fields, patient: '' }, now).patient).toBe('Choose the patient.');
    expect(validateSchedule(fields, now, new Set(['imaging'])).category).toMatch(
      /has not granted you access/,
    );
    const start = Date.parse(fields.startsAt);
    expect(validateSchedule(fields, start + 2 * 60_000).startsAt).toMatch(/not in the past/);
    expect(validateSchedule({ ...fields, startsAt: '' }, now).startsAt).toMatch(/Enter the date/);
    expect(validateSchedule({ ...fields, durationMinutes: '4' }, now).durationMinutes).toMatch(/5 to 240/);
    expect(validateSchedule({ ...fields, durationMinutes: '241' }, now).durationMinutes).toMatch(/5 to 240/);
  });

  it('starts at the next 5 minutes by default, in local time', () => {
    const at = new Date(2026, 10, 25, 9, 41, 7);
    expect(toLocalInput(nextStart(at))).toBe('2026-11-25T09:45');
  });
});

describe('ScheduleForm', () => {
  let http: HttpTestingController;
  let root: HTMLElement;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [
        provideRouter([
          { path: 'consultations/new', component: ScheduleForm },
          { path: 'consultations/:id', component: DetailStub },
        ]),
        provideHttpClient(),
        provideHttpClientTesting(),
      ],
    });
    http = TestBed.inject(HttpTestingController);
    await signInForTest(['provider'], PROVIDER_ADDRESS);
  });

  afterEach(() => sessionStorage.clear());

  async function open(grants: PatientGrant[], url = '/consultations/new') {
    const harness = await RouterTestingHarness.create(url);
    root = harness.routeNativeElement as HTMLElement;
    (await nextRequest('GET', '/providers/me/patients')).flush({ items: grants, nextCursor: null });
    await until(() => !root.querySelector('[data-testid="schedule-loading"]'), 'the patients');
    await harness.fixture.whenStable();
    return harness;
  }

  it('schedules with the body the API expects, then opens the consultation', async () => {
    const harness = await open([
      grant('telehealth'),
      grant('lab_results', '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc'),
    ]);
    const select = byTestId<HTMLSelectElement>(root, 'schedule-patient');
    select.value = patient;
    select.dispatchEvent(new Event('change'));
    await harness.fixture.whenStable();
    expect(byTestId<HTMLSelectElement>(root, 'schedule-category').value).toBe('telehealth');

    const start = new Date(Date.now() + 10 * 60_000);
    start.setSeconds(0, 0);
    type(byTestId(root, 'schedule-starts-at'), toLocalInput(start));
    type(byTestId(root, 'schedule-duration'), '45');
    byTestId(root, 'schedule-mode-audio').click();
    byTestId(root, 'schedule-submit').click();

    const request = await nextRequest('POST', '/sessions');
    expect(request.request.body).toEqual({
      patient,
      category: 'telehealth',
      startsAt: start.toISOString(),
      durationMinutes: 45,
      mode: 'audio',
    });
    request.flush({ id: 'c0ffee' });
    await until(() => TestBed.inject(Router).url === '/consultations/c0ffee', 'the consultation page');
  });

  it('prefills from the patients list and keeps to what the patient granted', async () => {
    await open([grant('lab_results')], `/consultations/new?patient=${patient}&category=lab_results`);
    expect(byTestId<HTMLSelectElement>(root, 'schedule-patient').value).toBe(patient);
    const options = Array.from(byTestId<HTMLSelectElement>(root, 'schedule-category').options).map(
      (o) => o.value,
    );
    expect(options).toEqual(['', 'lab_results']);
    expect(byTestId<HTMLSelectElement>(root, 'schedule-category').value).toBe('lab_results');
  });

  it('shows the problems and sends nothing', async () => {
    const harness = await open([grant('general')]);
    type(byTestId(root, 'schedule-duration'), '500');
    type(byTestId(root, 'schedule-starts-at'), '2020-01-01T10:00');
    byTestId(root, 'schedule-submit').click();
    await harness.fixture.whenStable();
    expect(byTestId(root, 'schedule-starts-at-error').textContent).toContain('not in the past');
    expect(byTestId(root, 'schedule-duration-error').textContent).toContain('5 to 240 minutes');
    expect(document.activeElement).toBe(byTestId(root, 'schedule-starts-at'));
    http.expectNone('/sessions');
  });

  it('says what to do when no patient has granted access', async () => {
    await open([]);
    expect(root.textContent).toContain('No patient has granted you access yet.');
  });

  it('shows the API refusal (no consent)', async () => {
    await open([grant('general')]);
    byTestId(root, 'schedule-submit').click();
    (await nextRequest('POST', '/sessions')).flush(
      {
        statusCode: 403,
        code: 'no_consent',
        message:
          'the patient has not granted you access to general or to telehealth (or the grant is no longer active); ask the patient for access first',
      },
      { status: 403, statusText: 'Forbidden' },
    );
    await until(() => !!root.querySelector('[data-testid="schedule-error"]'), 'the error');
    expect(byTestId(root, 'schedule-error').textContent).toContain('ask the patient for access first');
  });
});
