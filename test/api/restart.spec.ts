// Suite 6: a restart loses nothing and duplicates nothing. The app is closed and booted again on the
// same folder: the read models are as they were, each projection resumes from its checkpoint, new
// events are projected, and every notifying event has exactly one notification.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  ConsentRequestDocument,
  NotificationDocument,
} from '../../apps/api/src/projections/read-models';
import { PROJECTIONS } from '../../apps/api/src/projections/read-models';
import { findAll } from '../../apps/api/src/core/find-all';
import type { ProjectionLag } from '../../apps/api/src/projections/projection-runner';
import { DAY, snapshot, TestApi, type User } from './harness';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Event types the notifications projection turns into one notification each. */
const NOTIFYING = [
  'ConsentRequested',
  'ConsentRequestDeclined',
  'ConsentGranted',
  'ConsentRevoked',
  'ConsentRelayFailed',
  'EmergencyAccessStarted',
];

describe('restart: close the app and reopen it on the same folder', () => {
  let api: TestApi;
  let patient: User;
  let provider: User;
  let auditor: User;
  let documentsBefore: Awaited<ReturnType<typeof snapshot>>;
  let checkpoints: Record<string, number>;
  let head: number;
  let lagAfterReopen: ProjectionLag[];

  const request = async (category: string) => {
    const res = await api.post(
      '/consent-requests',
      { patient: patient.address, category, purpose: 'Routine follow-up', durationSeconds: 30 * DAY },
      provider.token,
    );
    assert.equal(res.statusCode, 201, res.body);
    return res.json<{ id: string }>().id;
  };

  before(async () => {
    api = await TestApi.start();
    patient = await api.newUser();
    provider = await api.newUser('provider');
    auditor = await api.newUser('auditor');
    const declined = await request('imaging');
    await request('vitals');
    assert.equal(
      (await api.request('POST', `/consent-requests/${declined}/decline`, { token: patient.token }))
        .statusCode,
      204,
    );
    await api.grant(patient.address, provider.address, 'lab_results', new Date(Date.now() + 30 * DAY * 1000));
    await api.grant(patient.address, provider.address, 'allergies', new Date(Date.now() + 30 * DAY * 1000));
    await api.revoke(patient.address, provider.address, 'allergies');
    assert.equal((await api.get('/audit', auditor.token, { patient: patient.address })).statusCode, 200);
    assert.equal((await api.get('/audit')).statusCode, 401); // an audited refusal
    await api.settle();

    documentsBefore = await snapshot(api.readModels);
    head = await api.eventStore.headPosition();
    checkpoints = {};
    for (const p of PROJECTIONS) checkpoints[p.name] = await api.readModels.checkpoint(p.name);

    await api.reopen();
    lagAfterReopen = await api.projections.lag();
  });
  after(() => api.close());

  test('every event is still in the store', async () => {
    assert.equal(await api.eventStore.headPosition(), head);
    assert.equal((await api.events()).length, await api.eventCount());
  });

  test('each projection resumes from its checkpoint instead of starting over', async () => {
    // Measured first thing after the boot: a projection that started from zero would still be behind.
    assert.equal(lagAfterReopen.length, PROJECTIONS.length);
    for (const lag of lagAfterReopen) assert.equal(lag.events, 0, lag.projection);
    // Stopping wrote each checkpoint where its projection had got to (a projection passes over events
    // not meant for it without writing a checkpoint each time): everything, before the restart.
    for (const p of PROJECTIONS) assert.equal(await api.readModels.checkpoint(p.name), head, p.name);
    for (const p of PROJECTIONS) assert.ok(checkpoints[p.name]! <= head, p.name);
  });

  test('the read models are document for document what they were', async () => {
    await api.settle();
    assert.deepEqual(await snapshot(api.readModels), documentsBefore);
  });

  test('a session from before the restart still works (AUTH_TOKEN_SECRET is fixed)', async () => {
    const me = await api.get('/auth/me', provider.token);
    assert.equal(me.statusCode, 200);
    assert.deepEqual(me.json<{ roles: string[] }>().roles, ['provider']);
  });

  test('the patient sees the same requests and consents as before', async () => {
    const requests = (await api.get('/consent-requests', patient.token)).json<Page<ConsentRequestDocument>>();
    assert.deepEqual(requests.items.map((r) => [r.category, r.status]).sort(), [
      ['imaging', 'declined'],
      ['vitals', 'pending'],
    ]);
    const consents = (await api.get('/patients/me/consents', patient.token)).json<
      { category: string; status: string }[]
    >();
    assert.deepEqual(consents.map((c) => [c.category, c.status]).sort(), [
      ['allergies', 'revoked'],
      ['lab_results', 'active'],
    ]);
  });

  test('new events after the restart are projected', async () => {
    const id = await request('medications');
    const page = (await api.get('/consent-requests', patient.token, { status: 'pending' })).json<
      Page<ConsentRequestDocument>
    >();
    assert.ok(page.items.some((r) => r.id === id));
    await api.grant(patient.address, provider.address, 'medications', new Date(Date.now() + DAY * 1000));
    const patients = (await api.get('/providers/me/patients', provider.token)).json<
      Page<{ category: string }>
    >();
    assert.deepEqual(patients.items.map((p) => p.category).sort(), ['lab_results', 'medications']);
    for (const lag of await api.projections.lag()) assert.equal(lag.events, 0, lag.projection);
  });

  test('no duplicates: one notification per notifying event, one audit entry per AccessAudited', async () => {
    await api.settle();
    const events = await api.events();
    const notifying = events.filter((e) => NOTIFYING.includes(e.type));
    const notifications = await findAll<NotificationDocument>(api.readModels, 'notifications', {});
    assert.equal(notifications.length, notifying.length);
    assert.deepEqual(
      notifications.map((n) => n.id.split('|')[0]).sort(),
      notifying.map((e) => e.id).sort(),
      'each notification comes from a different notifying event',
    );
    const audited = events.filter((e) => e.type === 'AccessAudited');
    const audit = await findAll(api.readModels, 'audit', {});
    assert.equal(audit.length, audited.length);
    assert.ok(audited.length >= 2);
  });

  test('a second restart in a row changes nothing either', async () => {
    await api.settle();
    const snap = await snapshot(api.readModels);
    await api.reopen();
    await api.settle();
    assert.deepEqual(await snapshot(api.readModels), snap);
  });
});
