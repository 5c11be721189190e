// Live delivery over the WebSocket at /messages/live, with two real `ws` clients against the API
// listening on 127.0.0.1: new messages and receipts reach the other participant at once, a reconnect
// resumes from the last position without gaps or duplicates, and nobody else hears anything.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { AccessAuditedData } from '@custos/domain';
import WebSocket from 'ws';
import type { LiveItem } from '../../apps/api/src/messaging/message-delivery';
import { DAY, TestApi, type User } from '../api/harness';
import { decryptMessage, encryptMessage, keysOf, type MessagingUser, withMessagingKey } from './e2e-crypto';

type Frame =
  LiveItem | { type: 'resumed'; through: number; more: boolean } | { type: 'error'; message: string };

/** A connected client: every frame it received, in order, and a way to wait for the next ones. */
class LiveClient {
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as Frame);
      this.wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.wake();
    });
  }

  static connect(url: string, protocols: string[]): Promise<LiveClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, protocols);
      socket.once('open', () => resolve(new LiveClient(socket)));
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`refused with ${response.statusCode}`)),
      );
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once `count` frames matching `match` have arrived (counting from the start). */
  async until(match: (frame: Frame) => boolean, count = 1, timeoutMs = 5_000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.filter(match);
      if (found.length >= count) return found;
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out: ${found.length}/${count} frames; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  untilClosed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve(this.closed);
      const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.socket.once(
        'close',
        (code, reason) => (clearTimeout(timer), resolve({ code, reason: String(reason) })),
      );
    });
  }

  messages(): Extract<Frame, { type: 'message' }>[] {
    return this.frames.filter((f): f is Extract<Frame, { type: 'message' }> => f.type === 'message');
  }

  highestPosition(): number {
    return Math.max(-1, ...this.frames.map((f) => ('position' in f ? f.position : -1)));
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  close(): Promise<unknown> {
    if (this.closed) return Promise.resolve();
    const done = this.untilClosed();
    this.socket.close();
    return done;
  }
}

describe('live delivery over the WebSocket /messages/live', () => {
  let api: TestApi;
  let url: string;
  let patient: MessagingUser;
  let doctor: MessagingUser;
  let stranger: MessagingUser;
  let conversationId: string;
  const open: LiveClient[] = [];

  const connect = async (user: User) => {
    const client = await LiveClient.connect(url, ['custos', `custos-token.${user.token}`]);
    open.push(client);
    return client;
  };
  async function send(
    from: MessagingUser,
    to: MessagingUser[],
    text: string,
    extra: Record<string, unknown> = {},
  ) {
    const envelope = await encryptMessage(conversationId, text, keysOf(from, ...to));
    const res = await api.post(
      `/conversations/${conversationId}/messages`,
      { kind: 'text', ...envelope, ...extra },
      from.token,
    );
    assert.equal(res.statusCode, 201, res.body);
    return envelope.messageId;
  }

  before(async () => {
    api = await TestApi.start();
    patient = await withMessagingKey(api, await api.newUser());
    doctor = await withMessagingKey(api, await api.newUser('provider'));
    stranger = await withMessagingKey(api, await api.newUser('provider'));
    await api.grant(patient.address, doctor.address, 'messaging', new Date(Date.now() + 30 * DAY * 1000));
    const res = await api.post(
      '/conversations',
      { patient: patient.address, providers: [doctor.address] },
      patient.token,
    );
    assert.equal(res.statusCode, 201, res.body);
    conversationId = res.json<{ id: string }>().id;
    await api.app.listen(0, '127.0.0.1');
    const { port } = api.app.getHttpServer().address() as AddressInfo;
    url = `ws://127.0.0.1:${port}/messages/live`;
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await api.close();
  });

  test('no session token, or a bad one: refused with 401 before the handshake, and audited', async () => {
    const head = await api.eventStore.headPosition();
    await assert.rejects(LiveClient.connect(url, ['custos']), /refused with 401/);
    await assert.rejects(LiveClient.connect(url, ['custos', 'custos-token.not.a.token']), /refused with 401/);
    const denials = (await api.events(head))
      .filter((e) => e.type === 'AccessAudited')
      .map((e) => e.data as AccessAuditedData);
    assert.deepEqual(
      denials.map((d) => [d.actor, d.resource, d.outcome]),
      [
        ['anonymous', '/messages/live', 'denied'],
        ['anonymous', '/messages/live', 'denied'],
      ],
    );
  });

  test('a message reaches the other participant (and the sender’s own devices) at once; outsiders hear nothing', async () => {
    const doctorSocket = await connect(doctor);
    const patientSocket = await connect(patient);
    const strangerSocket = await connect(stranger);
    assert.equal(
      doctorSocket.socket.protocol,
      'custos',
      'the server answers the plain protocol, never the token',
    );

    const text = 'The rash spread to my arms overnight';
    const messageId = await send(patient, [doctor], text);
    const [item] = (await doctorSocket.until((f) => f.type === 'message')) as Extract<
      Frame,
      { type: 'message' }
    >[];
    assert.equal(item!.messageId, messageId);
    assert.equal(item!.conversationId, conversationId);
    assert.ok(Number.isInteger(item!.position));
    assert.equal(await decryptMessage(item!, doctor), text);
    const [own] = (await patientSocket.until((f) => f.type === 'message')) as Extract<
      Frame,
      { type: 'message' }
    >[];
    assert.equal(await decryptMessage(own!, patient), text);
    assert.notEqual(own!.wrappedKey, item!.wrappedKey, 'each reader gets their own wrapped key only');

    // Receipts go back to the sender.
    const base = `/conversations/${conversationId}/messages/${messageId}`;
    assert.equal((await api.post(`${base}/read`, undefined, doctor.token)).statusCode, 204);
    const [read] = await patientSocket.until((f) => f.type === 'read');
    assert.deepEqual(
      { ...read, position: undefined, at: undefined },
      { type: 'read', conversationId, messageId, by: doctor.address, position: undefined, at: undefined },
    );
    const askId = await send(doctor, [patient], 'Please confirm you read the care plan', {
      requiresAcknowledgment: true,
    });
    await patientSocket.until((f) => f.type === 'message' && f.messageId === askId);
    assert.equal(
      (
        await api.post(
          `/conversations/${conversationId}/messages/${askId}/acknowledgment`,
          undefined,
          patient.token,
        )
      ).statusCode,
      204,
    );
    const [ack] = await doctorSocket.until((f) => f.type === 'acknowledgment');
    assert.equal(ack!.type === 'acknowledgment' && ack!.by, patient.address);

    // The stranger's socket is open and got nothing.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(strangerSocket.frames, []);
    await strangerSocket.close();
    await patientSocket.close();
    await doctorSocket.close();
  });

  test('after a reconnect, resume brings exactly what was missed, in order, then live continues', async () => {
    const first = await connect(doctor);
    const before = await send(patient, [doctor], 'Before the tunnel');
    await first.until((f) => f.type === 'message' && f.messageId === before);
    const seen = new Set(first.messages().map((m) => m.messageId));
    const resumeFrom = first.highestPosition();
    await first.close();

    // While the doctor is offline.
    const missed = [
      await send(patient, [doctor], 'Missed one'),
      await send(patient, [doctor], 'Missed two'),
      await send(patient, [doctor], 'Missed three'),
    ];

    const second = await connect(doctor);
    second.send({ type: 'resume', after: resumeFrom });
    const [done] = await second.until((f) => f.type === 'resumed');
    const replayed = second.messages();
    assert.deepEqual(
      replayed.map((m) => m.messageId),
      missed,
    );
    assert.deepEqual(await Promise.all(replayed.map((m) => decryptMessage(m, doctor))), [
      'Missed one',
      'Missed two',
      'Missed three',
    ]);
    assert.ok(
      replayed.every((m) => !seen.has(m.messageId)),
      'nothing already seen comes again',
    );
    assert.deepEqual(done, { type: 'resumed', through: second.highestPosition(), more: false });

    const live = await send(patient, [doctor], 'Back online');
    await second.until((f) => f.type === 'message' && f.messageId === live);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ids = second.messages().map((m) => m.messageId);
    assert.deepEqual(ids, [...missed, live], 'each once, in order');

    // A replay from the start holds every message and receipt for the doctor, each once.
    const third = await connect(doctor);
    third.send({ type: 'resume', after: -1 });
    await third.until((f) => f.type === 'resumed');
    const all = third.frames.filter((f) => f.type !== 'resumed');
    const keys = all.map((f) => `${f.type}|${'messageId' in f ? f.messageId : ''}|${'by' in f ? f.by : ''}`);
    assert.equal(new Set(keys).size, keys.length);
    const positions = all.map((f) => ('position' in f ? f.position : -1));
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
    );
    assert.ok(all.some((f) => f.type === 'acknowledgment'));
    await third.close();
    await second.close();
  });

  test('a frame that is not a resume is answered with an error; the socket stays open', async () => {
    const client = await connect(patient);
    client.send('not json');
    client.send({ type: 'resume', after: 'yesterday' });
    client.send({ type: 'subscribe', conversationId });
    const errors = await client.until((f) => f.type === 'error', 3);
    assert.ok(errors.every((e) => e.type === 'error' && /resume/.test(e.message)));
    const id = await send(doctor, [patient], 'Still here?');
    await client.until((f) => f.type === 'message' && f.messageId === id);
    await client.close();
  });

  test('signing out ends the live session (4001) at the next delivery', async () => {
    const token = await api.signIn(doctor.wallet);
    const client = await LiveClient.connect(url, ['custos', `custos-token.${token}`]);
    open.push(client);
    const signOut = await api.post('/auth/sign-out', undefined, token);
    assert.equal(signOut.statusCode, 204, signOut.body);
    await send(patient, [doctor], 'Anyone there?');
    const { code } = await client.untilClosed();
    assert.equal(code, 4001);
    assert.deepEqual(client.messages(), []);
  });
});
