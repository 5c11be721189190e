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
import type { AnchorVerificationReport, DriftReport } from './compliance-api';
import { IntegrityPage } from './integrity-page';

const report = (overrides: Partial<AnchorVerificationReport> = {}): AnchorVerificationReport => ({
  ok: true,
  checkedAt: '2026-03-12T10:00:00.000Z',
  chainBlock: 120,
  anchoredRanges: 3,
  verifiedRanges: 3,
  anchoredEvents: 57,
  unanchoredEvents: 2,
  firstMismatch: null,
  ...overrides,
});

describe('IntegrityPage', () => {
  let fixture: ComponentFixture<IntegrityPage>;
  let root: HTMLElement;
  let http: HttpTestingController;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [provideRouter([]), provideHttpClient(), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpTestingController);
    await signInForTest(['auditor']);
    fixture = TestBed.createComponent(IntegrityPage);
    root = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
  });

  afterEach(() => {
    http.verify();
    sessionStorage.clear();
  });

  const status = () => byTestId(root, 'verification-status');

  it('checks the anchors when shown and says they verify', async () => {
    expect(byTestId(root, 'verification-loading')).toBeTruthy();
    (await nextRequest('GET', '/audit/verification')).flush(report());
    await until(() => !!root.querySelector('[data-testid="verification-status"]'), 'status');
    expect(status().dataset['state']).toBe('verified');
    expect(status().textContent).toContain('3 of 3');
    expect(root.textContent).toContain('2 newer events are not anchored yet');
  });

  it('names the first changed event on a mismatch', async () => {
    (await nextRequest('GET', '/audit/verification')).flush(
      report({
        ok: false,
        verifiedRanges: 1,
        firstMismatch: {
          position: 23,
          eventId: 'evt-23',
          fromPosition: 20,
          toPosition: 39,
          anchoredRoot: '0xroot',
          reason: 'the event differs from the one anchored on-chain',
        },
      }),
    );
    await until(() => !!root.querySelector('[data-testid="verification-mismatch"]'), 'mismatch');
    expect(status().dataset['state']).toBe('mismatch');
    const mismatch = byTestId(root, 'verification-mismatch').textContent!;
    expect(mismatch).toContain('#23');
    expect(mismatch).toContain('evt-23');
    expect(mismatch).toContain('20–39');
  });

  it('says when nothing is anchored yet, and shows a failure with a retry', async () => {
    (await nextRequest('GET', '/audit/verification')).flush(
      { statusCode: 503, message: 'no contract configured' },
      { status: 503, statusText: 'Unavailable' },
    );
    await until(() => !!root.querySelector('[data-testid="verification-error"]'), 'error');
    byTestId(root, 'verification-error-retry').click();
    (await nextRequest('GET', '/audit/verification')).flush(
      report({ anchoredRanges: 0, verifiedRanges: 0, anchoredEvents: 0 }),
    );
    await until(() => !!root.querySelector('[data-testid="verification-status"]'), 'status');
    expect(status().dataset['state']).toBe('nothing-anchored');
  });

  it('runs the drift reconciliation on demand and lists the differences', async () => {
    (await nextRequest('GET', '/audit/verification')).flush(report());
    http.expectNone((r) => r.url === '/compliance/drift');
    byTestId(root, 'drift-run').click();
    await fixture.whenStable();
    expect(byTestId(root, 'drift-loading')).toBeTruthy();
    (await nextRequest('GET', '/compliance/drift')).flush({
      checkedPairs: 4,
      differences: [
        {
          patient: PATIENT_ADDRESS.toLowerCase(),
          provider: PROVIDER_ADDRESS.toLowerCase(),
          category: 'lab_results',
          projection: { active: true, expiresAt: 1_900_000_000 },
          chain: { active: false, expiresAt: null },
          detectedAt: '2026-03-12T10:00:00.000Z',
        },
      ],
      checkedAt: '2026-03-12T10:00:00.000Z',
      chainBlock: 120,
    } satisfies DriftReport);
    await until(() => !!root.querySelector('[data-testid="drift-status"]'), 'drift status');
    expect(byTestId(root, 'drift-status').dataset['differences']).toBe('1');
    const [row] = allByTestId(root, 'drift-row');
    expect(row!.textContent).toContain('lab results');
    expect(row!.textContent).toContain('Active until');
    expect(row!.textContent).toContain('No grant');
  });

  it('says when there is no drift', async () => {
    (await nextRequest('GET', '/audit/verification')).flush(report());
    byTestId(root, 'drift-run').click();
    (await nextRequest('GET', '/compliance/drift')).flush({
      checkedPairs: 4,
      differences: [],
      checkedAt: '2026-03-12T10:00:00.000Z',
      chainBlock: 120,
    } satisfies DriftReport);
    await until(() => !!root.querySelector('[data-testid="drift-status"]'), 'drift status');
    expect(byTestId(root, 'drift-status').textContent).toContain('agree on all 4 pairs');
  });
});
