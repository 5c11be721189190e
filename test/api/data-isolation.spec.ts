// Suite 3: each caller sees their own data only; providers see active grants only; compliance officers
// see the audit trail, replay access as of a past moment, and export it as CSV and FHIR.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditDocument, ConsentRequestDocument } from '../../apps/api/src/projections/read-models';
import type { ConsentView, PatientGrantView } from '../../apps/api/src/consent/consent.queries';
import type { ReplayedAccess } from '../../apps/api/src/audit/audit.queries';
import { findAll } from '../../apps/api/src/core/find-all';
import { DAY, HOUR, TestApi, type User } from './harness';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);
const fromNow = (seconds: number) => new Date(Date.now() + seconds * 1000);

describe('data isolation: each caller sees only what is theirs', () => {
  let api: TestApi;
  let alice: User; // patient
  let bob: User; // another patient
  let paula: User; // provider Alice granted (and Bob asked)
  let quinn: User; // provider Bob granted
  let auditor: User;
  /** When Alice granted Paula `vitals`, and when she revoked it. */
  let vitalsGranted: Date;
  let vitalsRevoked: Date;

  before(async () => {
    api = await TestApi.start();
    [alice, bob, paula, quinn, auditor] = [
      await api.newUser(),
      await api.newUser(),
      await api.newUser('provider'),
      await api.newUser('provider'),
      await api.newUser('auditor'),
    ];
    // Alice: an active grant, an expired one and a revoked one, all to Paula.
    await api.grant(alice.address, paula.address, 'lab_results', fromNow(30 * DAY), ago(3 * HOUR));
    await api.grant(alice.address, paula.address, 'imaging', ago(60), ago(2 * DAY));
    vitalsGranted = ago(2 * HOUR);
    vitalsRevoked = ago(HOUR);
    await api.grant(alice.address, paula.address, 'vitals', fromNow(30 * DAY), vitalsGranted);
    await api.revoke(alice.address, paula.address, 'vitals', vitalsRevoked);
    // Bob: one active grant, to Quinn.
    await api.grant(bob.address, quinn.address, 'general', fromNow(7 * DAY), ago(HOUR));

    // Paula asks both patients for more.
    for (const [patient, category] of [
      [alice, 'medications'],
      [bob, 'allergies'],
    ] as const) {
      const res = await api.post(
        '/consent-requests',
        { patient: patient.address, category, purpose: 'Review before surgery', durationSeconds: 7 * DAY },
        paula.token,
      );
      assert.equal(res.statusCode, 201, res.body);
    }
    // The auditor looks at each patient's trail: audited with the patient's address.
    for (const patient of [alice, bob]) {
      assert.equal((await api.get('/audit', auditor.token, { patient: patient.address })).statusCode, 200);
    }
    await api.settle();
  });
  after(() => api.close());

  test('a patient sees only the consent requests addressed to them', async () => {
    for (const [me, other] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      const page = (await api.get('/consent-requests', me.token)).json<Page<ConsentRequestDocument>>();
      assert.equal(page.items.length, 1);
      assert.ok(page.items.every((r) => r.patient === me.address));
      assert.doesNotMatch(JSON.stringify(page), new RegExp(other.address, 'i'));
      // As a provider they made none.
      const made = (await api.get('/consent-requests', me.token, { as: 'provider' })).json<Page<unknown>>();
      assert.deepEqual(made.items, []);
    }
  });

  test('the provider who asked sees their requests to both patients', async () => {
    const page = (await api.get('/consent-requests', paula.token, { as: 'provider' })).json<
      Page<ConsentRequestDocument>
    >();
    assert.deepEqual(page.items.map((r) => r.patient).sort(), [alice.address, bob.address].sort());
  });

  test("a patient cannot reach another patient's data by adding ?patient= to their own lists", async () => {
    // Lists with a validated query refuse the unknown parameter; the others ignore it. Neither answers Bob's data.
    for (const url of ['/consent-requests', '/audit/me', '/notifications/me', '/patients/me/consents']) {
      const res = await api.get(url, alice.token, { patient: bob.address });
      assert.ok([200, 400].includes(res.statusCode), `${url}: ${res.statusCode}`);
      if (res.statusCode === 400) assert.match(res.body, /property patient should not exist/, url);
      assert.doesNotMatch(res.body, new RegExp(bob.address, 'i'), url);
    }
  });

  test("a patient's consents list their own grants only, with the status computed now", async () => {
    const mine = (await api.get('/patients/me/consents', alice.token)).json<ConsentView[]>();
    assert.deepEqual(mine.map((c) => [c.category, c.status]).sort(), [
      ['imaging', 'expired'],
      ['lab_results', 'active'],
      ['vitals', 'revoked'],
    ]);
    assert.ok(mine.every((c) => c.provider === paula.address));
    const bobs = (await api.get('/patients/me/consents', bob.token)).json<ConsentView[]>();
    assert.deepEqual(
      bobs.map((c) => [c.provider, c.category, c.status]),
      [[quinn.address, 'general', 'active']],
    );
  });

  test("a patient's audit trail holds entries about them only", async () => {
    for (const [me, other] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      const page = (await api.get('/audit/me', me.token)).json<Page<AuditDocument>>();
      assert.ok(page.items.length >= 1, 'the auditor’s look is in the trail');
      assert.ok(page.items.every((e) => e.patient === me.address));
      assert.doesNotMatch(JSON.stringify(page), new RegExp(other.address, 'i'));
    }
  });

  test('a provider lists only patients who granted them, and only grants active now', async () => {
    const paulas = (await api.get('/providers/me/patients', paula.token)).json<Page<PatientGrantView>>();
    assert.deepEqual(
      paulas.items.map((g) => [g.patient, g.category]),
      [[alice.address, 'lab_results']],
      'the expired imaging grant, the revoked vitals grant and Bob (who granted Quinn) are absent',
    );
    const quinns = (await api.get('/providers/me/patients', quinn.token)).json<Page<PatientGrantView>>();
    assert.deepEqual(
      quinns.items.map((g) => [g.patient, g.category]),
      [[bob.address, 'general']],
    );
  });

  test('an auditor searches the trail by patient and by actor', async () => {
    const byPatient = (await api.get('/audit', auditor.token, { patient: alice.address })).json<
      Page<AuditDocument>
    >();
    assert.ok(byPatient.items.length >= 1);
    assert.ok(byPatient.items.every((e) => e.patient === alice.address));
    const byActor = (await api.get('/audit', auditor.token, { actor: auditor.address })).json<
      Page<AuditDocument>
    >();
    assert.ok(byActor.items.length >= 2);
    assert.ok(byActor.items.every((e) => e.actor === auditor.address));
  });

  test('replay as of a past moment shows the grants active then: granted at t1, revoked at t2', async () => {
    const replay = async (asOf: Date) => {
      const res = await api.get('/audit/replay', auditor.token, {
        asOf: asOf.toISOString(),
        patient: alice.address,
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<ReplayedAccess>();
      assert.equal(body.patient, alice.address);
      return body.grants.map((g) => g.category).sort();
    };
    // imaging: granted two days ago, expired a minute ago; lab_results: granted three hours ago.
    const between = new Date((vitalsGranted.getTime() + vitalsRevoked.getTime()) / 2);
    assert.deepEqual(await replay(between), ['imaging', 'lab_results', 'vitals']);
    assert.deepEqual(await replay(new Date()), ['lab_results'], 'after t2, vitals is gone');
    assert.deepEqual(await replay(ago(2.5 * HOUR)), ['imaging', 'lab_results'], 'before t1, no vitals');
    assert.deepEqual(await replay(ago(DAY)), ['imaging']);
    assert.deepEqual(await replay(ago(3 * DAY)), []);
  });

  test('the CSV export has a header and one row per audit entry of the patient', async () => {
    await api.settle();
    const trail = await findAll<AuditDocument>(api.readModels, 'audit', {
      where: { patient: alice.address },
    });
    const res = await api.get('/audit', auditor.token, { patient: alice.address, format: 'csv' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    assert.match(String(res.headers['content-disposition']), /attachment/);
    const [header, ...rows] = res.body.trimEnd().split('\r\n');
    assert.equal(header, 'sequence,occurredAt,actor,patient,resource,action,purpose,outcome,reason');
    assert.ok(trail.length >= 2);
    // Every entry about Alice, newest first (the export's own entry may or may not be projected yet).
    const sequences = rows.map((row) => Number(row.split(',')[0]));
    const expected = trail.map((e) => e.sequence).sort((a, b) => b - a);
    assert.deepEqual(sequences.slice(sequences.length - expected.length), expected);
    assert.ok(rows.length <= expected.length + 1);
    assert.ok(rows.every((row) => row.split(',')[3] === alice.address));
  });

  test('the FHIR export is a Bundle of AuditEvent resources, plus Consent resources when a patient is given', async () => {
    const withPatient = await api.get('/audit', auditor.token, { patient: alice.address, format: 'fhir' });
    assert.equal(withPatient.statusCode, 200);
    assert.match(String(withPatient.headers['content-type']), /^application\/fhir\+json/);
    const bundle = withPatient.json<{
      resourceType: string;
      type: string;
      total: number;
      entry: { resource: { resourceType: string; status?: string } }[];
    }>();
    assert.equal(bundle.resourceType, 'Bundle');
    assert.equal(bundle.total, bundle.entry.length);
    const kinds = bundle.entry.map((e) => e.resource.resourceType);
    assert.ok(kinds.includes('AuditEvent'));
    const consents = bundle.entry.filter((e) => e.resource.resourceType === 'Consent');
    assert.deepEqual(consents.map((c) => c.resource.status).sort(), ['active', 'inactive', 'inactive']);
    assert.doesNotMatch(withPatient.body, new RegExp(bob.address, 'i'));

    const everyone = (await api.get('/audit', auditor.token, { format: 'fhir' })).json<typeof bundle>();
    assert.ok(everyone.entry.length > 0);
    assert.ok(everyone.entry.every((e) => e.resource.resourceType === 'AuditEvent'));
  });
});
