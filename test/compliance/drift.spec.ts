// Consent drift against a real node (anvil): grants made on the contract reach the projection through
// the mirror and GET /compliance/drift finds nothing; a projection document tampered with behind the
// mirror's back shows up as drift, is appended once as ConsentDriftDetected, and raises the gauge.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DRIFT_STREAM, type ConsentDriftDetectedData } from '@custos/domain';
import { categoryId } from '../../libs/chain/src';
import { DriftService, type DriftReport } from '../../apps/api/src/compliance/drift.service';
import type { ConsentDocument } from '../../apps/api/src/projections/read-models';
import { ANVIL_CHAIN_ID, type Anvil, type Deployed, deployContract, startAnvil } from '../chain/anvil';
import { DAY, TestApi, until } from '../api/harness';

let anvil: Anvil;
let d: Deployed;
let api: TestApi;
let auditorToken: string;
let patientToken: string;
const lower = (a: string) => a.toLowerCase();
let provider: string;
let patient: string;
/** Each tampering is applied as a fake projection at a new checkpoint position. */
let tamperPosition = 0;

const pairId = (category: string) => `${patient}|${provider}|${category}`;

/** Writes into the consents read model directly, as no projection would. */
async function tamper(
  work: (consents: Map<string, ConsentDocument | null>) => void,
  ...categories: string[]
) {
  const docs = new Map<string, ConsentDocument | null>();
  for (const c of categories) docs.set(c, await api.readModels.get<ConsentDocument>('consents', pairId(c)));
  work(docs);
  await api.readModels.applyAtomically('test-tamper', ++tamperPosition, async (w) => {
    for (const [c, doc] of docs) {
      if (doc) await w.upsert('consents', doc);
      else await w.delete('consents', pairId(c));
    }
  });
}

async function drift(token = auditorToken): Promise<DriftReport> {
  const res = await api.get('/compliance/drift', token);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<DriftReport>();
}

async function driftEvents(): Promise<ConsentDriftDetectedData[]> {
  const events = await api.eventStore.readStream(DRIFT_STREAM);
  assert.ok(events.every((e) => e.type === 'ConsentDriftDetected' && e.version === 1));
  return events.map((e) => e.data as ConsentDriftDetectedData);
}

async function metric(name: string): Promise<number> {
  const res = await api.get('/metrics');
  const line = res.body.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

let originals: Map<string, ConsentDocument>;

before(async () => {
  anvil = await startAnvil();
  d = await deployContract(anvil.url);
  const providerAccount = d.account(1);
  const patientAccount = d.account(2);
  const auditorAccount = d.account(3);
  provider = lower(providerAccount.address);
  patient = lower(patientAccount.address);
  await (await d.contract.grantRole(await d.contract.PROVIDER_ROLE(), providerAccount.address)).wait();
  await (await d.contract.grantRole(await d.contract.AUDITOR_ROLE(), auditorAccount.address)).wait();
  const expiresAt = (await d.provider.getBlock('latest'))!.timestamp + 30 * DAY;
  for (const category of ['lab_results', 'imaging', 'vitals'] as const) {
    await (
      await d.as(patientAccount).grantAccess(providerAccount.address, categoryId(category), expiresAt)
    ).wait();
  }
  api = await TestApi.start({
    CHAIN_RPC_URL: anvil.url,
    CONTRACT_ADDRESS: d.address,
    CHAIN_ID: String(ANVIL_CHAIN_ID),
    CHAIN_POLL_INTERVAL: '100ms',
    CHAIN_CONFIRMATIONS: '1',
  });
  // Roles and grants reach the read models through the chain mirror.
  await until('the auditor role mirrored', async () => {
    const entry = await api.readModels.get<{ id: string; isAuditor: boolean }>(
      'directory',
      lower(auditorAccount.address),
    );
    return entry?.isAuditor === true;
  });
  originals = new Map();
  for (const category of ['lab_results', 'imaging', 'vitals']) {
    originals.set(
      category,
      await until(`grant ${category} mirrored`, () =>
        api.readModels.get<ConsentDocument>('consents', pairId(category)),
      ),
    );
  }
  auditorToken = await api.signIn(auditorAccount);
  patientToken = await api.signIn(patientAccount);
});

after(async () => {
  await api?.close();
  d?.close();
  await anvil?.close();
});

describe('consent drift: the projection against the chain', () => {
  test('the periodic check is scheduled when there is a contract', () => {
    assert.equal(api.app.get(DriftService).scheduled, true);
  });

  test('grants made on-chain and mirrored: no differences', async () => {
    const report = await drift();
    assert.deepEqual(report.differences, []);
    assert.equal(report.checkedPairs, 3);
    assert.equal(typeof report.chainBlock, 'number');
    assert.ok(report.chainBlock >= d.deployBlock);
    assert.ok(!Number.isNaN(Date.parse(report.checkedAt)));
    assert.deepEqual(await driftEvents(), []);
    assert.equal(await metric('custos_consent_drift_pairs'), 0);
  });

  test('anyone but an auditor is refused', async () => {
    assert.equal((await api.get('/compliance/drift', patientToken)).statusCode, 403);
    assert.equal((await api.get('/compliance/drift')).statusCode, 401);
  });

  test('a consent marked revoked in the projection is drift: reported, appended once, gauge 1', async () => {
    await tamper((docs) => {
      const doc = docs.get('lab_results')!;
      docs.set('lab_results', { ...doc, status: 'revoked', revokedAt: new Date().toISOString() });
    }, 'lab_results');
    const expiresAt = originals.get('lab_results')!.expiresAt;

    const first = await drift();
    assert.equal(first.checkedPairs, 3);
    assert.deepEqual(
      first.differences.map(({ detectedAt: _, ...rest }) => rest),
      [
        {
          patient,
          provider,
          category: 'lab_results',
          projection: { active: false, expiresAt },
          chain: { active: true, expiresAt },
        },
      ],
    );
    let events = await driftEvents();
    assert.equal(events.length, 1);
    assert.deepEqual(events[0], first.differences[0]);
    assert.equal(await metric('custos_consent_drift_pairs'), 1);
    assert.equal(await metric('custos_consent_drift_detections_total'), 1);

    // The same difference again: reported, not appended again.
    const second = await drift();
    assert.equal(second.differences.length, 1);
    events = await driftEvents();
    assert.equal(events.length, 1);
    assert.equal(await metric('custos_consent_drift_pairs'), 1);
    assert.equal(await metric('custos_consent_drift_detections_total'), 1);
  });

  test('a changed expiry and a missing document are drift too (the missing one found from the logs)', async () => {
    const imaging = originals.get('imaging')!;
    await tamper(
      (docs) => {
        docs.set('imaging', { ...imaging, expiresAt: imaging.expiresAt + DAY });
        docs.set('vitals', null);
      },
      'imaging',
      'vitals',
    );
    const report = await drift();
    assert.equal(report.checkedPairs, 3);
    const byCategory = new Map(report.differences.map((x) => [x.category, x]));
    assert.deepEqual([...byCategory.keys()].sort(), ['imaging', 'lab_results', 'vitals']);
    assert.deepEqual(byCategory.get('imaging')!.projection, {
      active: true,
      expiresAt: imaging.expiresAt + DAY,
    });
    assert.deepEqual(byCategory.get('imaging')!.chain, { active: true, expiresAt: imaging.expiresAt });
    assert.deepEqual(byCategory.get('vitals')!.projection, { active: false, expiresAt: null });
    assert.equal(byCategory.get('vitals')!.chain.active, true);
    // Only the two new differences were appended.
    const events = await driftEvents();
    assert.deepEqual(
      events.map((e) => e.category),
      ['lab_results', 'imaging', 'vitals'],
    );
    assert.equal(await metric('custos_consent_drift_pairs'), 3);
    assert.equal(await metric('custos_consent_drift_detections_total'), 3);
  });

  test('once the projection is right again: no differences, gauge back to 0', async () => {
    await tamper(
      (docs) => {
        for (const category of docs.keys()) docs.set(category, originals.get(category)!);
      },
      'lab_results',
      'imaging',
      'vitals',
    );
    const report = await drift();
    assert.deepEqual(report.differences, []);
    assert.equal(await metric('custos_consent_drift_pairs'), 0);
    assert.equal((await driftEvents()).length, 3);
  });
});

describe('consent drift without a contract', () => {
  test('503 with the reason, and no periodic check', async () => {
    const bare = await TestApi.start();
    try {
      const auditor = await bare.newUser('auditor');
      const res = await bare.get('/compliance/drift', auditor.token);
      assert.equal(res.statusCode, 503, res.body);
      assert.match(res.json<{ message: string }>().message, /no contract configured/);
      assert.equal(bare.app.get(DriftService).scheduled, false);
    } finally {
      await bare.close();
    }
  });
});
