import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  accessAudited,
  AUDIT_STREAM,
  type ConsentEvent,
  consentStream,
  type DirectoryEvent,
  directoryStream,
  type EventDraft,
} from '@custos/domain';
import { stamp } from '../core/aggregate-repository';
import { findAll } from '../core/find-all';
import { createEventStore } from '../event-store/event-store.factory';
import type { EventStore } from '../event-store/event-store.port';
import { createReadModelStore } from '../read-models/read-model.factory';
import type { ReadModelStore } from '../read-models/read-model.port';
import type { Projection } from './projection';
import { ProjectionRunner } from './projection-runner';
import {
  type ConsentDocument,
  type ConsentRequestDocument,
  consentId,
  type DirectoryDocument,
  type NotificationDocument,
  PROJECTIONS,
} from './read-models';

const folders: string[] = [];
after(() => folders.forEach((f) => rmSync(f, { recursive: true, force: true })));
function folder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'custos-projections-'));
  folders.push(dir);
  return dir;
}

const patient = '0x00000000000000000000000000000000000000a1';
const provider = '0x00000000000000000000000000000000000000b2';
const t0 = Date.parse('2026-03-01T12:00:00Z');
let clock = 0;
const at = () => new Date(t0 + ++clock * 1000);
const context = () => ({ actor: patient, correlationId: 'c', now: at() });

async function append(store: EventStore, stream: string, events: EventDraft[]) {
  return store.append(stream, stamp(events, context()), 'any');
}

const requested: ConsentEvent = {
  type: 'ConsentRequested',
  version: 1,
  data: {
    requestId: 'r1',
    patient,
    provider,
    category: 'lab_results',
    purpose: 'Thyroid follow-up',
    durationSeconds: 86_400,
    requestedAt: '2026-03-01T12:00:00.000Z',
  },
};
const granted: ConsentEvent = {
  type: 'ConsentGranted',
  version: 1,
  data: { patient, provider, category: 'lab_results', expiresAt: t0 / 1000 + 86_400 },
};
const revoked: ConsentEvent = {
  type: 'ConsentRevoked',
  version: 1,
  data: { patient, provider, category: 'lab_results' },
};
const providerRole: DirectoryEvent = {
  type: 'RoleGranted',
  version: 1,
  data: { account: provider, role: 'provider' },
};

async function openStores(dir: string) {
  const events = createEventStore(
    { CUSTOS_DATA_DIR: dir, EVENTSTORE_URL: undefined },
    { pollIntervalMs: 50 },
  );
  const readModels = await createReadModelStore({ CUSTOS_DATA_DIR: dir, MONGODB_URI: undefined });
  return { events, readModels };
}

/** Every document of every collection the projections write, for comparing two read-model stores. */
async function snapshot(readModels: ReadModelStore) {
  const out: Record<string, unknown[]> = {};
  for (const spec of PROJECTIONS.flatMap((p) => p.collections)) {
    out[spec.name] = await findAll(readModels, spec.name, {});
  }
  return out;
}

describe('projections', () => {
  test('a consent story shows up in the read models, request answered by the grant, then revoked', async () => {
    const { events, readModels } = await openStores(folder());
    const runner = new ProjectionRunner(events, readModels, PROJECTIONS);
    await runner.start();
    await append(events, directoryStream(provider), [providerRole]);
    await append(events, consentStream(patient), [requested]);
    const { position } = await append(events, consentStream(patient), [granted]);
    await runner.caughtUp(position);

    const consent = await readModels.get<ConsentDocument>(
      'consents',
      consentId(patient, provider, 'lab_results'),
    );
    assert.equal(consent?.status, 'granted');
    assert.equal(consent?.expiresAt, t0 / 1000 + 86_400);
    assert.equal((await readModels.get<ConsentRequestDocument>('consent_requests', 'r1'))?.status, 'granted');
    assert.equal((await readModels.get<DirectoryDocument>('directory', provider))?.isProvider, true);
    const forProvider = await readModels.find<ConsentDocument>('consents', { where: { provider } });
    assert.equal(forProvider.items.length, 1);

    const last = await append(events, consentStream(patient), [revoked]);
    await runner.caughtUp(last.position);
    assert.equal(
      (await readModels.get<ConsentDocument>('consents', consentId(patient, provider, 'lab_results')))
        ?.status,
      'revoked',
    );
    const notices = await findAll<NotificationDocument>(readModels, 'notifications', {});
    assert.deepEqual(notices.map((n) => [n.recipient, n.kind]).sort(), [
      [patient, 'consent_requested'],
      [provider, 'consent_granted'],
      [provider, 'consent_revoked'],
    ]);
    await runner.stop();
    await events.close();
    await readModels.close();
  });

  test('a rebuild from zero equals the live read models', async () => {
    const dir = folder();
    const { events, readModels } = await openStores(dir);
    const live = new ProjectionRunner(events, readModels, PROJECTIONS, { batchSize: 7 });
    await live.start();
    let head = -1;
    for (let i = 0; i < 40; i++) {
      const other = `0x${i.toString(16).padStart(40, '0')}`;
      await append(events, directoryStream(other), [
        { ...providerRole, data: { account: other, role: 'provider' } },
      ]);
      await append(events, consentStream(patient), [
        {
          ...granted,
          data: { ...granted.data, provider: other, category: i % 2 ? 'imaging' : 'lab_results' },
        },
      ]);
      const audited = accessAudited({
        actor: other,
        patient,
        resource: 'consents',
        action: 'read',
        purpose: null,
        outcome: i % 3 ? 'allowed' : 'denied',
        reason: 'test',
      });
      ({ position: head } = await append(events, AUDIT_STREAM, [audited]));
    }
    await live.caughtUp(head);
    await live.stop();

    const rebuilt = await createReadModelStore({ CUSTOS_DATA_DIR: folder(), MONGODB_URI: undefined });
    const fromZero = new ProjectionRunner(events, rebuilt, PROJECTIONS, { batchSize: 1000 });
    await fromZero.start();
    await fromZero.caughtUp(head);
    await fromZero.stop();
    assert.deepEqual(await snapshot(rebuilt), await snapshot(readModels));
    assert.equal((await findAll(rebuilt, 'audit', {})).length, 40);
    await Promise.all([events.close(), readModels.close(), rebuilt.close()]);
  });

  test('after a restart projections resume from their checkpoints and apply nothing twice', async () => {
    const dir = folder();
    let { events, readModels } = await openStores(dir);
    let runner = new ProjectionRunner(events, readModels, PROJECTIONS);
    await runner.start();
    const first = await append(events, consentStream(patient), [requested]);
    await runner.caughtUp(first.position);
    await runner.stop();
    await Promise.all([events.close(), readModels.close()]);

    ({ events, readModels } = await openStores(dir));
    const second = await append(events, consentStream(patient), [granted]);
    runner = new ProjectionRunner(events, readModels, PROJECTIONS);
    await runner.start();
    await runner.caughtUp(second.position);
    const notices = await findAll<NotificationDocument>(readModels, 'notifications', {});
    assert.deepEqual(notices.map((n) => n.kind).sort(), ['consent_granted', 'consent_requested']);
    assert.equal(await readModels.checkpoint('notifications'), second.position);
    await runner.stop();
    await Promise.all([events.close(), readModels.close()]);
  });

  test('a failing batch is rolled back and retried: its writes land exactly once', async () => {
    const { events, readModels } = await openStores(folder());
    let failures = 1;
    const counted: Projection = {
      name: 'counted',
      collections: [{ name: 'counts', indexes: [] }],
      eventTypes: new Set(['ConsentGranted', 'ConsentRevoked']),
      async apply(event, writer) {
        const doc = (await writer.get<{ id: string; n: number }>('counts', 'all')) ?? { id: 'all', n: 0 };
        await writer.upsert('counts', { ...doc, n: doc.n + 1 });
        if (event.type === 'ConsentRevoked' && failures-- > 0) throw new Error('disk full');
      },
    };
    const errors: string[] = [];
    const runner = new ProjectionRunner(events, readModels, [counted], {
      retryDelayMs: 20,
      onError: (_, e) => errors.push((e as Error).message),
    });
    await runner.start();
    await append(events, consentStream(patient), [granted]);
    const { position } = await append(events, consentStream(patient), [revoked]);
    await runner.caughtUp(position);
    assert.deepEqual(errors, ['disk full']);
    assert.equal((await readModels.get<{ id: string; n: number }>('counts', 'all'))?.n, 2);
    await runner.stop();
    await Promise.all([events.close(), readModels.close()]);
  });
});
