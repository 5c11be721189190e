import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { type ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { auditTree } from '@custos/chain/audit-merkle';
import { id } from 'ethers';

import { contractInterface } from '../core/contract-abi';
import {
  CONTRACT,
  PATIENT_ADDRESS,
  PROVIDER_ADDRESS,
  allByTestId,
  byTestId,
  nextRequest,
  signInForTest,
  type,
  until,
} from '../testing/test-helpers';
import { AuditTimeline } from './audit-timeline';
import type { AuditEntry, AuditProof } from './compliance-api';
import { SAVE_FILE } from './file-download';

let counter = 0;
const entry = (overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  id: `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`,
  sequence: counter,
  occurredAt: '2026-03-12T10:15:00.000Z',
  actor: PROVIDER_ADDRESS.toLowerCase(),
  patient: PATIENT_ADDRESS.toLowerCase(),
  resource: 'consents',
  action: 'read',
  purpose: 'treatment',
  outcome: 'allowed',
  reason: 'active consent',
  ...overrides,
});

describe('AuditTimeline', () => {
  let fixture: ComponentFixture<AuditTimeline>;
  let root: HTMLElement;
  let http: HttpTestingController;
  let saved: { blob: Blob; filename: string }[];

  beforeEach(async () => {
    saved = [];
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: SAVE_FILE, useValue: (blob: Blob, filename: string) => saved.push({ blob, filename }) },
      ],
    });
    http = TestBed.inject(HttpTestingController);
    await signInForTest(['auditor']);
    fixture = TestBed.createComponent(AuditTimeline);
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

  async function answerSearch(items: AuditEntry[], nextCursor: string | null = null) {
    const request = await nextRequest('GET', '/audit');
    request.flush({ items, nextCursor });
    await until(() => !root.querySelector('[data-testid="timeline-loading"]'), 'the timeline');
    await fixture.whenStable();
    return request;
  }

  it('lists the audit trail, newest first, with the volume chart', async () => {
    expect(byTestId(root, 'timeline-loading')).toBeTruthy();
    const request = await answerSearch([
      entry({ occurredAt: '2026-03-12T11:00:00.000Z' }),
      entry({
        actor: 'anonymous',
        patient: null,
        resource: '/audit',
        action: 'GET',
        outcome: 'denied',
        reason: 'sign in required',
      }),
    ]);
    expect(request.request.params.get('limit')).toBe('100');
    expect(request.request.headers.get('Authorization')).toBe('Bearer test-token');

    const rows = allByTestId(root, 'timeline-row');
    expect(rows.map((r) => r.dataset['outcome'])).toEqual(['allowed', 'denied']);
    expect(rows[0]!.textContent).toContain('Dr Ada Lee');
    expect(rows[0]!.textContent).toContain('consents');
    expect(rows[1]!.textContent).toContain('Not signed in');
    expect(rows[1]!.textContent).toContain('Denied');
    const bars = allByTestId(root, 'volume-bar');
    expect(bars.reduce((n, b) => n + Number(b.dataset['allowed']) + Number(b.dataset['denied']), 0)).toBe(2);
  });

  it('says when nothing matches', async () => {
    await answerSearch([]);
    expect(byTestId(root, 'timeline-empty').textContent).toContain('No audit entries match');
  });

  it('shows a failure and tries again', async () => {
    (await nextRequest('GET', '/audit')).flush(
      { statusCode: 500, message: 'boom' },
      { status: 500, statusText: 'Server Error' },
    );
    await until(() => !!root.querySelector('[data-testid="timeline-error"]'), 'error state');
    byTestId(root, 'timeline-error-retry').click();
    await answerSearch([entry()]);
    expect(allByTestId(root, 'timeline-row')).toHaveLength(1);
  });

  it('filters by patient, actor and time range on the API, and by action here', async () => {
    await answerSearch([entry()]);
    type(byTestId<HTMLInputElement>(root, 'filter-patient'), PATIENT_ADDRESS);
    type(byTestId<HTMLInputElement>(root, 'filter-actor'), PROVIDER_ADDRESS);
    type(byTestId<HTMLInputElement>(root, 'filter-action'), 'release_key');
    type(byTestId<HTMLInputElement>(root, 'filter-from'), '2026-03-01T00:00');
    type(byTestId<HTMLInputElement>(root, 'filter-to'), '2026-03-31T00:00');
    byTestId(root, 'filter-apply').click();

    const request = await answerSearch([
      entry({ action: 'release_key', resource: 'record:1' }),
      entry({ action: 'read' }),
      entry({ action: 'release_key', resource: 'record:2' }),
    ]);
    const params = request.request.params;
    expect(params.get('patient')).toBe(PATIENT_ADDRESS.toLowerCase());
    expect(params.get('actor')).toBe(PROVIDER_ADDRESS.toLowerCase());
    expect(params.get('from')).toBe(new Date('2026-03-01T00:00').toISOString());
    expect(params.get('to')).toBe(new Date('2026-03-31T00:00').toISOString());
    expect(params.has('action')).toBe(false);
    expect(allByTestId(root, 'timeline-row').map((r) => r.textContent)).toEqual([
      expect.stringContaining('record:1'),
      expect.stringContaining('record:2'),
    ]);
    expect(byTestId(root, 'timeline-action-note').textContent).toContain('2 of 3');
  });

  it('refuses a malformed address or an inverted range without asking the API', async () => {
    await answerSearch([entry()]);
    type(byTestId<HTMLInputElement>(root, 'filter-actor'), '0x123');
    byTestId(root, 'filter-apply').click();
    await fixture.whenStable();
    expect(byTestId(root, 'filter-error').textContent).toContain('actor must be an address');

    type(byTestId<HTMLInputElement>(root, 'filter-actor'), '');
    type(byTestId<HTMLInputElement>(root, 'filter-from'), '2026-03-31T00:00');
    type(byTestId<HTMLInputElement>(root, 'filter-to'), '2026-03-01T00:00');
    byTestId(root, 'filter-apply').click();
    await fixture.whenStable();
    expect(byTestId(root, 'filter-error').textContent).toContain('before the end');
    http.expectNone((r) => r.url === '/audit');
  });

  it('loads older entries with the cursor', async () => {
    await answerSearch([entry()], 'cursor-2');
    byTestId(root, 'timeline-more').click();
    const more = await nextRequest('GET', '/audit');
    expect(more.request.params.get('cursor')).toBe('cursor-2');
    more.flush({ items: [entry(), entry()], nextCursor: null });
    await until(() => allByTestId(root, 'timeline-row').length === 3, 'three rows');
    expect(root.querySelector('[data-testid="timeline-more"]')).toBeNull();
  });

  describe('export', () => {
    it('downloads the CSV with the Bearer token and the current filters', async () => {
      await answerSearch([entry()]);
      type(byTestId<HTMLInputElement>(root, 'filter-patient'), PATIENT_ADDRESS);
      byTestId(root, 'filter-apply').click();
      await answerSearch([entry()]);

      byTestId(root, 'export-csv').click();
      const request = await nextRequest('GET', '/audit');
      expect(request.request.params.get('format')).toBe('csv');
      expect(request.request.params.get('patient')).toBe(PATIENT_ADDRESS.toLowerCase());
      expect(request.request.responseType).toBe('blob');
      expect(request.request.headers.get('Authorization')).toBe('Bearer test-token');
      const csv = new Blob(['id,occurredAt\n1,2026\n'], { type: 'text/csv' });
      request.flush(csv);
      await until(() => saved.length === 1, 'the download');
      expect(saved[0]!.blob).toBe(csv);
      expect(saved[0]!.filename).toMatch(/^custos-audit-\d{8}-\d{6}\.csv$/);
      await fixture.whenStable();
      expect(byTestId(root, 'export-status').textContent).toContain('Downloaded');
    });

    it('downloads FHIR, and reports a refused export in words', async () => {
      await answerSearch([entry()]);
      byTestId(root, 'export-fhir').click();
      const request = await nextRequest('GET', '/audit');
      expect(request.request.params.get('format')).toBe('fhir');
      request.flush(new Blob([JSON.stringify({ statusCode: 403, message: 'auditor role required' })]), {
        status: 403,
        statusText: 'Forbidden',
      });
      await until(() => !!byTestId(root, 'export-status').textContent?.trim(), 'the export status');
      await fixture.whenStable();
      expect(byTestId(root, 'export-status').textContent).toContain('Auditor role required.');
      expect(saved).toHaveLength(0);
    });
  });

  describe('proof', () => {
    const ANCHOR_TX = `0x${'ab'.repeat(32)}`;

    /** A range of three events anchored at positions 10..12, and the proof of the middle one. */
    function anchoredProof(target: AuditEntry, tamper = false): AuditProof {
      const values: [number, string][] = [10, 11, 12].map((p) => [p, id(`event-${p}`)]);
      values[1] = [target.sequence, id('event-11')];
      const tree = auditTree(values);
      return {
        eventId: target.id,
        position: target.sequence,
        eventHash: tamper ? id('something else') : id('event-11'),
        leaf: tree.leafHash(values[1]!),
        proof: tree.getProof(1),
        root: tree.root,
        fromPosition: 10,
        toPosition: 12,
        leafEncoding: { version: 'custos-audit-leaf-v1', types: ['uint64', 'bytes32'] },
        anchor: {
          chainId: 31337,
          contract: CONTRACT,
          transactionHash: ANCHOR_TX,
          blockNumber: 42,
          anchoredAt: '2026-03-12T10:16:00.000Z',
        },
      };
    }

    async function answerReceipt(root: string, from = 10, to = 12) {
      const rpc = await nextRequest('POST', '/chain/rpc');
      const body = rpc.request.body as { id: number; method: string; params: string[] };
      expect(body.method).toBe('eth_getTransactionReceipt');
      expect(body.params).toEqual([ANCHOR_TX]);
      const log = contractInterface.encodeEventLog('AuditAnchored', [root, from, to]);
      rpc.flush({
        jsonrpc: '2.0',
        id: body.id,
        result: {
          transactionHash: ANCHOR_TX,
          blockNumber: '0x2a',
          to: CONTRACT,
          status: '0x1',
          logs: [{ address: CONTRACT, ...log }],
        },
      });
    }

    async function verify(target: AuditEntry): Promise<HTMLElement> {
      await answerSearch([target]);
      byTestId(root, 'proof-button').click();
      await fixture.whenStable();
      expect(byTestId(root, 'proof-result').dataset['status']).toBe('checking');
      return byTestId(root, 'proof-button');
    }

    const result = () => byTestId(root, 'proof-result');

    it('verifies the Merkle proof in the browser and finds the root in the anchoring transaction', async () => {
      const target = entry({ sequence: 11 });
      await verify(target);
      const proof = anchoredProof(target);
      (await nextRequest('GET', `/audit/proof/${target.id}`)).flush(proof);
      await answerReceipt(proof.root);
      await until(() => result().dataset['status'] === 'verified', 'verified');
      await fixture.whenStable();
      expect(result().textContent).toContain('found in the anchoring transaction');
      expect(result().textContent).toContain('block 42');
      expect(result().textContent).toContain(proof.root);
    });

    it('rejects a proof that does not lead to the anchored root', async () => {
      const target = entry({ sequence: 11 });
      await verify(target);
      (await nextRequest('GET', `/audit/proof/${target.id}`)).flush(anchoredProof(target, true));
      await until(() => result().dataset['status'] === 'failed', 'failed');
      await fixture.whenStable();
      expect(result().textContent).toContain('does not lead to the anchored root');
    });

    it('rejects a root the anchoring transaction does not hold', async () => {
      const target = entry({ sequence: 11 });
      await verify(target);
      (await nextRequest('GET', `/audit/proof/${target.id}`)).flush(anchoredProof(target));
      await answerReceipt(id('another root'));
      await until(() => result().dataset['status'] === 'failed', 'failed');
      await fixture.whenStable();
      expect(result().textContent).toContain('does not hold this root');
    });

    it('says when the entry is not anchored yet', async () => {
      const target = entry();
      await verify(target);
      (await nextRequest('GET', `/audit/proof/${target.id}`)).flush(
        {
          statusCode: 404,
          code: 'not_anchored_yet',
          message: 'audit event is not anchored on-chain yet; the next anchor is due within 60 s',
        },
        { status: 404, statusText: 'Not Found' },
      );
      await until(() => result().dataset['status'] === 'pending', 'pending');
      await fixture.whenStable();
      expect(result().textContent).toContain('next anchor is due within 60 s');
    });
  });
});
