// Issue 8, part 3: 200 concurrent conflicting commands on ONE aggregate, a patient's consent stream,
// over HTTP, all at once. Every command loads the stream, decides and appends expecting the revision it
// loaded, so of two racing commands one wins and the other is answered 409 (`concurrent_update`); the
// commands also conflict by their meaning: a provider may have one pending request per category (a
// second is `request_already_pending`), a request is declined once (`request_not_pending`). The mix:
// - each of 20 providers asks 4 times at once for `imaging` (at most one can be pending);
// - each asks 3 times for `lab_results`, where a request of theirs is already pending: those can only
//   succeed once the patient's decline of it got in first;
// - the patient declines each of the 20 pending `lab_results` requests 3 times.
// Every answer is 2xx or 409 (the table printed counts each kind of conflict), never 5xx; the stream
// holds exactly one event per 2xx answer; and the successful commands decided again, in the order of
// their events, from the state before the burst, give the same events: the final state is theirs
// applied in order. The read model agrees.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type ConsentCommand,
  consentDecider,
  type ConsentEvent,
  type ConsentState,
  consentStream,
  fold,
  keyedEntries,
  type RecordedEvent,
} from '@custos/domain';
import { Wallet } from 'ethers';
import type { ConsentRequestDocument } from '../../apps/api/src/projections/read-models';
import { type HttpAnswer, HttpClient, type Person } from './client';
import {
  type ApiProcess,
  type Chain,
  inspectDataFolder,
  signIn,
  signInMany,
  startApi,
  startChain,
  temporaryFolder,
  until,
} from './harness';

const PROVIDERS = 20;
const PURPOSE = 'Review before the next appointment';
const DURATION = 30 * 86400;

interface Sent {
  command: ConsentCommand;
  answer: HttpAnswer;
}

describe('concurrency: 200 conflicting commands at once on one consent stream', () => {
  const folder = temporaryFolder('custos-reliability-concurrency-');
  let chain: Chain;
  let api: ApiProcess;
  let client: HttpClient;
  let patient: Person;
  let providers: Person[];
  let sent: Sent[] = [];
  let beforeBurst: RecordedEvent[] = [];
  let burst: RecordedEvent[] = [];
  let requestDocuments: ConsentRequestDocument[] = [];
  let burstMs = 0;

  const requestBody = (category: string) => ({
    patient: patient.address,
    category,
    purpose: PURPOSE,
    durationSeconds: DURATION,
  });

  before(async () => {
    const wallets = Array.from({ length: PROVIDERS }, () => Wallet.createRandom());
    chain = await startChain(
      folder.dir,
      wallets.map((w) => w.address),
    );
    api = await startApi(path.join(folder.dir, 'data'), { chain });
    client = new HttpClient(api.url, 256);
    providers = await Promise.all(wallets.map((w) => signIn(client, w)));
    for (const provider of providers) {
      await until('the provider role to be mirrored', async () => {
        const me = await client.get('/auth/me', provider.token);
        return me.json<{ roles: string[] }>().roles.includes('provider');
      });
    }
    patient = (await signInMany(client, 1))[0]!;
    // One pending `lab_results` request per provider, made one after the other.
    const pending: string[] = [];
    for (const provider of providers) {
      const res = await client.post('/consent-requests', requestBody('lab_results'), provider.token);
      assert.equal(res.status, 201, res.body);
      pending.push(res.json<{ id: string }>().id);
    }

    // The burst: built first, then all sent at once, in an order that mixes the kinds.
    const burstRequests: {
      command: Omit<ConsentCommand, 'requestId'> | ConsentCommand;
      send: () => Promise<HttpAnswer>;
    }[] = [];
    for (const [i, provider] of providers.entries()) {
      const ask = (category: string) => ({
        command: {
          type: 'RequestConsent' as const,
          patient: patient.address,
          provider: provider.address,
          category,
          purpose: PURPOSE,
          durationSeconds: DURATION,
        },
        send: () => client.post('/consent-requests', requestBody(category), provider.token),
      });
      for (let k = 0; k < 4; k++) burstRequests.push(ask('imaging'));
      for (let k = 0; k < 3; k++) burstRequests.push(ask('lab_results'));
      for (let k = 0; k < 3; k++) {
        burstRequests.push({
          command: { type: 'DeclineConsentRequest', requestId: pending[i]! },
          send: () =>
            client.request('POST', `/consent-requests/${pending[i]}/decline`, { token: patient.token }),
        });
      }
    }
    assert.equal(burstRequests.length, 200);
    burstRequests.sort(() => Math.random() - 0.5);
    const started = Date.now();
    const answers = await Promise.all(burstRequests.map((r) => r.send()));
    burstMs = Date.now() - started;
    sent = burstRequests.map((r, i) => {
      const answer = answers[i]!;
      const command =
        r.command.type === 'RequestConsent' && answer.status === 201
          ? ({ ...r.command, requestId: answer.json<{ id: string }>().id } as ConsentCommand)
          : (r.command as ConsentCommand);
      return { command, answer };
    });

    await api.stop();
    const inspected = await inspectDataFolder(api.dataDir);
    const stream = inspected.events.filter((e) => e.stream === consentStream(patient.address));
    beforeBurst = stream.slice(0, PROVIDERS);
    burst = stream.slice(PROVIDERS);
    requestDocuments = (inspected.live.consent_requests ?? []) as unknown as ConsentRequestDocument[];

    const codes = new Map<string, number>();
    for (const { answer } of sent) {
      const key =
        answer.status === 409 ? `409 ${answer.json<{ code: string }>().code}` : String(answer.status);
      codes.set(key, (codes.get(key) ?? 0) + 1);
    }
    console.log(`# concurrency: 200 commands answered in ${burstMs} ms`);
    console.table(Object.fromEntries([...codes].sort()));
  });

  after(async () => {
    client?.close();
    await api?.stop();
    await chain?.close();
    folder.cleanUp();
  });

  test('each command succeeds or is answered 409; never 5xx', () => {
    for (const { command, answer } of sent) {
      const ok = command.type === 'RequestConsent' ? 201 : 204;
      assert.ok(
        answer.status === ok || answer.status === 409,
        `${command.type}: ${answer.status} ${answer.body}`,
      );
    }
    // Conflicts happened. Which kind depends on timing: the rules of the aggregate always refuse some
    // (a second pending request, a second decline); the race on the stream (`concurrent_update`) needs
    // two commands between load and append at once, which the embedded store makes rare when an append
    // does not wait for the disk. Both are 409 and append nothing; the checks below hold either way.
    const conflicts = sent
      .filter((s) => s.answer.status === 409)
      .map((s) => s.answer.json<{ code: string }>().code);
    assert.ok(conflicts.length > 0, 'some commands conflicted');
    for (const code of conflicts) {
      assert.ok(['concurrent_update', 'request_already_pending', 'request_not_pending'].includes(code), code);
    }
    assert.ok(
      sent.some((s) => s.answer.status !== 409),
      'some commands succeeded',
    );
  });

  test('the stream holds one event per successful command, and nothing else', () => {
    const succeeded = sent.filter((s) => s.answer.status < 300);
    assert.equal(burst.length, succeeded.length);
    const key = (type: string, requestId: string) => `${type} ${requestId}`;
    const expected = succeeded.map(({ command }) =>
      command.type === 'RequestConsent'
        ? key('ConsentRequested', command.requestId)
        : key('ConsentRequestDeclined', (command as { requestId: string }).requestId),
    );
    const found = burst.map((e) => key(e.type, (e.data as { requestId: string }).requestId));
    assert.deepEqual([...found].sort(), [...expected].sort());
  });

  test('the final state is the successful commands decided again, in order, from the state before', () => {
    const byEvent = new Map<string, ConsentCommand>();
    for (const { command, answer } of sent) {
      if (answer.status >= 300) continue;
      const requestId = (command as { requestId: string }).requestId;
      byEvent.set(
        `${command.type === 'RequestConsent' ? 'ConsentRequested' : 'ConsentRequestDeclined'} ${requestId}`,
        command,
      );
    }
    let state: ConsentState = fold(consentDecider, beforeBurst as unknown as ConsentEvent[]);
    for (const event of burst) {
      const command = byEvent.get(`${event.type} ${(event.data as { requestId: string }).requestId}`)!;
      const decided = consentDecider.decide(command, state, new Date(event.metadata.occurredAt));
      assert.deepEqual(
        decided.map((e) => ({ type: e.type, data: e.data })),
        [{ type: event.type, data: event.data }],
        `${command.type} at revision ${event.revision}`,
      );
      state = consentDecider.evolve(state, decided[0]!);
    }
    const folded = fold(consentDecider, [...beforeBurst, ...burst] as unknown as ConsentEvent[]);
    assert.deepEqual(state, folded);
    // At most one pending request per provider and category, as the rules say.
    const pending = [...keyedEntries(state.requests)].map(([, r]) => r).filter((r) => r.status === 'pending');
    assert.equal(new Set(pending.map((r) => `${r.provider}|${r.category}`)).size, pending.length);
    // The read model agrees with the state, request by request.
    const documents = requestDocuments.filter((d) => d.patient === patient.address);
    assert.deepEqual(
      documents.map((d) => [d.id, d.status]).sort(),
      [...keyedEntries(state.requests)].map(([id, r]) => [id, r.status]).sort(),
    );
  });
});
