// Suite 7: projections are deterministic. After a mixed workload through the API, rebuilding every
// projection from zero into an empty read-model store gives the live read models, document for document.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chainStream, emergencyStream } from '@custos/domain';
import { wrapKey } from '@custos/e2ee';
import { ProjectionRunner } from '../../apps/api/src/projections/projection-runner';
import { PROJECTIONS } from '../../apps/api/src/projections/read-models';
import { createReadModelStore } from '../../apps/api/src/read-models/read-model.factory';
import type { RecordView } from '../../apps/api/src/records/records.dto';
import { DAY, HOUR, randomAddress, snapshot, TestApi, type User } from './harness';
import { envelopeFor, messagingKeyBody, startConversation } from '../messaging/request-samples';
import { withMessagingKey } from '../messaging/e2e-crypto';
import { storedRecord } from '../records/request-samples';

const at = (secondsFromNow: number) => new Date(Date.now() + secondsFromNow * 1000);

describe('rebuild: every projection replayed from zero equals the live read models', () => {
  let api: TestApi;
  const folders: string[] = [];

  /** Replays every event into an empty store in a new folder; returns its documents and checkpoints. */
  async function rebuild(batchSize?: number) {
    const folder = mkdtempSync(path.join(tmpdir(), 'custos-rebuild-'));
    folders.push(folder);
    const store = await createReadModelStore({ CUSTOS_DATA_DIR: folder, MONGODB_URI: undefined });
    try {
      const runner = new ProjectionRunner(api.eventStore, store, PROJECTIONS, { batchSize });
      await runner.start();
      await runner.caughtUp(await api.eventStore.headPosition());
      await runner.stop();
      const checkpoints: Record<string, number> = {};
      for (const p of PROJECTIONS) checkpoints[p.name] = await store.checkpoint(p.name);
      return { documents: await snapshot(store), checkpoints };
    } finally {
      await store.close();
    }
  }

  before(async () => {
    api = await TestApi.start();
    const alice = await api.newUser();
    const bob = await api.newUser();
    const paula = await api.newUser('provider');
    const quinn = await api.newUser('provider');
    const erin = await api.newUser('emergency');
    const auditor = await api.newUser('auditor');
    const admin = await api.newUser('admin');
    const ask = async (provider: User, patient: User, category: string) => {
      const res = await api.post(
        '/consent-requests',
        { patient: patient.address, category, purpose: 'Treatment planning', durationSeconds: 30 * DAY },
        provider.token,
      );
      assert.equal(res.statusCode, 201, res.body);
      return res.json<{ id: string }>().id;
    };
    const decline = async (patient: User, id: string) =>
      assert.equal(
        (await api.request('POST', `/consent-requests/${id}/decline`, { token: patient.token })).statusCode,
        204,
      );

    // Requests, declines, and grants that answer pending requests.
    await decline(alice, await ask(paula, alice, 'imaging'));
    await ask(paula, alice, 'lab_results');
    await ask(quinn, alice, 'lab_results');
    await ask(quinn, bob, 'general');
    await api.grant(alice.address, paula.address, 'lab_results', at(30 * DAY), at(-2 * HOUR));
    await api.grant(alice.address, paula.address, 'vitals', at(-60), at(-3 * DAY));
    await api.grant(bob.address, quinn.address, 'general', at(7 * DAY));
    await api.revoke(alice.address, paula.address, 'lab_results');
    await api.grant(alice.address, paula.address, 'lab_results', at(60 * DAY)); // granted again

    // Directory: profiles, a role taken away and given back.
    for (const [who, name] of [
      [paula, 'Dr. Paula Jones'],
      [quinn, 'Dr. Quinn Li'],
      [erin, 'Erin Okafor'],
    ] as const) {
      const res = await api.request('PUT', `/directory/${who.address}/profile`, {
        token: admin.token,
        body: { name, specialty: 'General practice' },
      });
      assert.equal(res.statusCode, 200, res.body);
    }
    await api.takeRole(quinn.address, 'provider');
    assert.equal((await api.get('/providers/me/patients', quinn.token)).statusCode, 403);
    await api.giveRole(quinn.address, 'provider');

    // Emergency: a reason through the API, then the window from the chain, and its end.
    const reason = await api.post(
      '/emergency/reasons',
      { patient: bob.address, reason: 'Unconscious on arrival; checking allergies' },
      erin.token,
    );
    assert.equal(reason.statusCode, 201, reason.body);
    const { reasonHash } = reason.json<{ reasonHash: string }>();
    await api.append(emergencyStream(bob.address), [
      {
        type: 'EmergencyAccessStarted',
        version: 1,
        data: {
          patient: bob.address,
          provider: erin.address,
          reasonHash,
          expiresAt: Math.floor(Date.now() / 1000) + HOUR,
        },
      },
    ]);
    await api.append(emergencyStream(bob.address), [
      {
        type: 'EmergencyAccessEnded',
        version: 1,
        data: { patient: bob.address, provider: erin.address, endedBy: erin.address },
      },
    ]);

    // An audit range anchored on-chain (the mirror's fact).
    await api.append(chainStream(randomAddress()), [
      {
        type: 'AuditAnchored',
        version: 1,
        data: { root: `0x${'ab'.repeat(32)}`, fromPosition: 0, toPosition: 3 },
      },
    ]);

    // Telehealth: a consultation scheduled under a grant, an invitee admitted, recording consent, the end.
    await api.grant(bob.address, quinn.address, 'telehealth', at(DAY));
    const scheduled = await api.post(
      '/sessions',
      { patient: bob.address, category: 'general', startsAt: at(0).toISOString(), durationMinutes: 30 },
      quinn.token,
    );
    assert.equal(scheduled.statusCode, 201, scheduled.body);
    const sessionUrl = `/sessions/${scheduled.json<{ id: string }>().id}`;
    for (const [url, body, who] of [
      [`${sessionUrl}/invitations`, { participant: paula.address, role: 'specialist' }, quinn],
      [`${sessionUrl}/admissions`, { participant: paula.address }, bob],
      [`${sessionUrl}/recording-consent`, { consent: true }, bob],
      [`${sessionUrl}/end`, undefined, quinn],
    ] as const) {
      assert.equal((await api.post(url, body, who.token)).statusCode, 204, url);
    }

    // Messaging: a key, a conversation under a messaging grant, an urgent message, receipts, hiding, and a
    // provider added and removed.
    const key = await api.request('PUT', '/messaging/keys/me', {
      token: alice.token,
      body: await messagingKeyBody(alice),
    });
    assert.equal(key.statusCode, 200, key.body);
    const chat = `/conversations/${await startConversation(api, alice, paula)}`;
    const question = envelopeFor([alice.address, paula.address], { requiresAcknowledgment: true });
    assert.equal((await api.post(`${chat}/messages`, question, paula.token)).statusCode, 201);
    const urgent = envelopeFor([alice.address, paula.address], { urgent: true });
    assert.equal((await api.post(`${chat}/messages`, urgent, alice.token)).statusCode, 201);
    await api.grant(alice.address, quinn.address, 'messaging', at(DAY));
    for (const [url, body, who] of [
      [`${chat}/messages/${question.messageId}/acknowledgment`, undefined, alice],
      [`${chat}/hide`, undefined, paula],
      [`${chat}/participants`, { provider: quinn.address }, alice],
      [`${chat}/participants/${quinn.address}/remove`, undefined, quinn],
    ] as const) {
      assert.equal((await api.post(url, body, who.token)).statusCode, 204, url);
    }

    // Records (no chain here: the events POST /records, the relay and the mirror append): one registered,
    // its registered amendment, one whose registration failed, one still pending; a key shared later
    // through the API with a grantee, who reads it; a provider without a grant refused (audited).
    const alicesKeys = await withMessagingKey(api, alice);
    const paulasKeys = await withMessagingKey(api, paula);
    const panel = await storedRecord(api, alicesKeys, { text: 'lipid panel, first version' });
    const amendment = await storedRecord(api, alicesKeys, {
      text: 'lipid panel, corrected',
      supersedes: panel.id,
      readers: [paulasKeys],
    });
    await storedRecord(api, alicesKeys, { category: 'imaging', outcome: 'failed' });
    await storedRecord(api, alicesKeys, { outcome: 'pending' });
    const shared = await api.post(
      `/records/${panel.id}/keys`,
      { keys: [{ recipient: paula.address, wrappedKey: await wrapKey(panel.key, paulasKeys.publicKey) }] },
      alice.token,
    );
    assert.equal(shared.statusCode, 204, shared.body);
    assert.equal((await api.get(`/records/${panel.id}/key`, paula.token)).statusCode, 200);
    const history = await api.get(`/records/${panel.id}`, paula.token);
    assert.deepEqual(history.json<{ history: string[] }>().history, [panel.id, amendment.id]);
    assert.equal((await api.get(`/records/${amendment.id}/blob`, quinn.token)).statusCode, 403);
    const mine = (await api.get('/records', alice.token)).json<{ items: RecordView[] }>().items;
    assert.deepEqual(
      mine.map((r) => `${r.category} ${r.status}${r.supersededBy ? ', amended' : ''}`).sort(),
      ['imaging failed', 'lab_results pending', 'lab_results registered', 'lab_results registered, amended'],
    );

    // Compliance and refusals, all audited.
    const searches: Record<string, string>[] = [
      { patient: alice.address },
      { patient: bob.address, format: 'csv' },
      { actor: paula.address, format: 'fhir' },
    ];
    for (const query of searches) {
      assert.equal((await api.get('/audit', auditor.token, query)).statusCode, 200);
    }
    assert.equal(
      (
        await api.get('/audit/replay', auditor.token, {
          asOf: at(-HOUR).toISOString(),
          patient: alice.address,
        })
      ).statusCode,
      200,
    );
    assert.equal((await api.get('/audit', alice.token)).statusCode, 403);
    assert.equal((await api.get('/patients/me/consents')).statusCode, 401);
    assert.equal((await api.request('POST', '/auth/sign-out', { token: bob.token })).statusCode, 204);
    assert.equal((await api.get('/auth/me', bob.token)).statusCode, 401);

    await api.settle();
  });
  after(async () => {
    await api.close();
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  test('the workload reached every read model it feeds', async () => {
    const live = await snapshot(api.readModels);
    const empty = Object.entries(live)
      .filter(([, docs]) => docs.length === 0)
      .map(([name]) => name);
    assert.deepEqual(empty, []);
  });

  test('a rebuild from zero equals the live read models, document for document', async () => {
    const live = await snapshot(api.readModels);
    const rebuilt = await rebuild();
    for (const collection of Object.keys(live)) {
      assert.deepEqual(rebuilt.documents[collection], live[collection], collection);
    }
    const head = await api.eventStore.headPosition();
    for (const p of PROJECTIONS) assert.equal(rebuilt.checkpoints[p.name], head, p.name);
  });

  test('the result does not depend on how events are batched (one event per unit)', async () => {
    const live = await snapshot(api.readModels);
    assert.deepEqual((await rebuild(1)).documents, live);
  });
});
