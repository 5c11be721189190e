// The built-in WebRTC signalling at /sessions/signal, with real WebSocket clients on a listening API:
// two participants exchange offer/answer/ice, outsiders are refused at the upgrade, a revocation
// during the call puts the provider out at once, and the end of the consultation closes the call.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AccessAuditedData, consultationStream, REMOVAL_REASONS } from '@custos/domain';
import { WebSocket } from 'ws';
import type { WebRtcCredentials } from '../../apps/api/src/telehealth/call-credentials.service';
import { CallTokens } from '../../apps/api/src/telehealth/call-tokens';
import { SignallingService } from '../../apps/api/src/telehealth/signalling.service';
import { DAY, TestApi, type User } from '../api/harness';
import { schedule } from './helpers';

type Message = { type: string } & Record<string, unknown>;

/** A signalling client that keeps every message it receives, to be awaited by type. */
class Client {
  readonly messages: Message[] = [];
  /** Every message received, including those taken with `next`. */
  readonly received: Message[] = [];
  /** The server's welcome: the session, the participant, the role and the peers already there. */
  welcome!: Message;
  private waiters: (() => void)[] = [];
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as Message;
      this.messages.push(message);
      this.received.push(message);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  /** Connects with the token as the `custos-token.` subprotocol; resolves once welcomed. */
  static async connect(url: string, token: string): Promise<Client> {
    const socket = new WebSocket(url, ['custos', `custos-token.${token}`]);
    const client = new Client(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
      socket.once('error', reject);
    });
    assert.equal(socket.protocol, 'custos', 'the server answers custos, never the token');
    client.welcome = await client.next('welcome');
    return client;
  }

  /** The first message of `type` not taken yet. */
  async next(type: string, timeoutMs = 3_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex((m) => m.type === type);
      if (index >= 0) return this.messages.splice(index, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} message; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  send(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message));
  }

  close(): void {
    this.socket.close();
  }
}

/** The HTTP status of a refused upgrade (or `open` when the socket opened). */
function upgradeStatus(url: string, protocols: string[]): Promise<number | 'open'> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols);
    socket.once('open', () => {
      socket.close();
      resolve('open');
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

const OFFER_SDP = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

describe('signalling: two participants, outsiders refused, revocation puts the provider out', () => {
  let api: TestApi;
  let url: string;
  let patient: User;
  let provider: User;
  let stranger: User;
  let sessionId: string;
  const open: Client[] = [];

  const token = async (user: User, id: string) => {
    const res = await api.request('POST', `/sessions/${id}/credentials`, { token: user.token });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<WebRtcCredentials>().token;
  };
  const connect = async (user: User, id: string) => {
    const client = await Client.connect(url, await token(user, id));
    open.push(client);
    return client;
  };
  const types = async (id: string) =>
    (await api.eventStore.readStream(consultationStream(id))).map((e) => e.type);

  before(async () => {
    api = await TestApi.start();
    await api.app.listen(0, '127.0.0.1');
    url = `${(await api.app.getUrl()).replace(/^http/, 'ws')}/sessions/signal`;
    patient = await api.newUser();
    provider = await api.newUser('provider');
    stranger = await api.newUser();
    await api.grant(patient.address, provider.address, 'general', new Date(Date.now() + DAY * 1000));
    sessionId = await schedule(api, provider, patient);
  });
  after(async () => {
    for (const client of open) client.socket.terminate();
    await api.close();
  });

  test('the provider and the patient connect, see each other and exchange offer, answer and ice', async () => {
    const doctor = await connect(provider, sessionId);
    const alice = await connect(patient, sessionId);
    // The patient was welcomed with the provider already there; the provider hears that she joined.
    assert.deepEqual(await doctor.next('peer-joined'), {
      type: 'peer-joined',
      participant: patient.address,
      role: 'patient',
    });
    assert.deepEqual(await types(sessionId), [
      'ConsultationScheduled',
      'ConsultationStarted',
      'ParticipantJoined',
      'ParticipantJoined',
    ]);
    assert.deepEqual(
      api.app.get(SignallingService).connected(sessionId).sort(),
      [patient.address, provider.address].sort(),
    );

    doctor.send({ type: 'offer', to: patient.address, sdp: OFFER_SDP, from: stranger.address });
    assert.deepEqual(await alice.next('offer'), { type: 'offer', from: provider.address, sdp: OFFER_SDP });
    alice.send({ type: 'answer', to: provider.address.toUpperCase().replace('0X', '0x'), sdp: 'v=0 answer' });
    assert.deepEqual(await doctor.next('answer'), {
      type: 'answer',
      from: patient.address,
      sdp: 'v=0 answer',
    });
    const candidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0' };
    alice.send({ type: 'ice', to: provider.address, candidate });
    assert.deepEqual(await doctor.next('ice'), { type: 'ice', from: patient.address, candidate });
    doctor.send({ type: 'ice', to: patient.address, candidate: null });
    assert.deepEqual(await alice.next('ice'), { type: 'ice', from: provider.address, candidate: null });
  });

  test('messages to nobody connected, of unknown types or malformed are refused to the sender only', async () => {
    const [doctor, alice] = open as [Client, Client];
    doctor.send({ type: 'offer', to: stranger.address, sdp: OFFER_SDP });
    assert.equal((await doctor.next('error')).code, 'peer_not_connected');
    doctor.send({ type: 'offer', to: provider.address, sdp: OFFER_SDP });
    assert.equal((await doctor.next('error')).code, 'peer_not_connected', 'not to oneself');
    doctor.send({ type: 'chat', to: patient.address, text: 'hello' });
    assert.equal((await doctor.next('error')).code, 'invalid_type');
    doctor.socket.send('not json');
    assert.equal((await doctor.next('error')).code, 'invalid_message');
    doctor.send({ type: 'offer', to: patient.address });
    assert.equal((await doctor.next('error')).code, 'invalid_sdp');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(alice.messages, [], 'nothing reached the patient');
  });

  test('outsiders are refused at the upgrade: no token or a bad one 401, a non-participant 403', async () => {
    assert.equal(await upgradeStatus(url, ['custos']), 401);
    assert.equal(await upgradeStatus(url, ['custos', 'custos-token.ct1.abc.def']), 401);
    // A patient's session token is no call token.
    assert.equal(await upgradeStatus(url, ['custos', `custos-token.${patient.token}`]), 401);
    // A well-signed token for someone who is not a participant (the API never issues one: 404 first).
    const forged = api.app.get(CallTokens).issue({
      sid: sessionId,
      sub: stranger.address,
      role: 'family',
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    assert.equal(await upgradeStatus(url, ['custos', `custos-token.${forged}`]), 403);
    const expired = api.app.get(CallTokens).issue({
      sid: sessionId,
      sub: patient.address,
      role: 'patient',
      exp: Math.floor(Date.now() / 1000) - 1,
    });
    assert.equal(await upgradeStatus(url, ['custos', `custos-token.${expired}`]), 401);
    const other = await api.request('POST', `/sessions/${sessionId}/credentials`, { token: stranger.token });
    assert.equal(other.statusCode, 404);
  });

  test('a second connection of the same participant replaces the first', async () => {
    const [doctor, alice] = open as [Client, Client];
    const again = await connect(patient, sessionId);
    assert.equal((await alice.closed).code, 4000);
    // The provider sees the patient join again, never leave.
    assert.equal((await doctor.next('peer-joined')).participant, patient.address);
    assert.ok(!doctor.messages.some((m) => m.type === 'peer-left'));
    doctor.send({ type: 'offer', to: patient.address, sdp: OFFER_SDP });
    assert.equal((await again.next('offer')).from, provider.address);
    open.splice(open.indexOf(alice), 1);
  });

  test('the patient revokes consent during the call: the provider is put out at once, both sides told', async () => {
    const doctor = open[0]!;
    const alice = open.at(-1)!;
    const before = await api.eventStore.headPosition();
    await api.revoke(patient.address, provider.address, 'general');

    const expected = { type: 'removed', participant: provider.address, reason: REMOVAL_REASONS.revoked };
    assert.deepEqual(await alice.next('removed'), expected);
    assert.deepEqual(await doctor.next('removed'), expected);
    const closed = await doctor.closed;
    assert.equal(closed.code, 4003);
    assert.match(closed.reason, /the patient revoked consent for this consultation/);
    assert.deepEqual(api.app.get(SignallingService).connected(sessionId), [patient.address]);

    // Recorded as a removal caused by the revocation.
    let removed: { data: unknown; metadata: { actor: string; causationId: string } } | undefined;
    for (let i = 0; i < 50 && !removed; i++) {
      removed = (await api.events(before)).find((e) => e.type === 'ParticipantRemoved');
      if (!removed) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(removed, 'ParticipantRemoved recorded');
    assert.deepEqual(removed.data, {
      id: sessionId,
      participant: provider.address,
      reason: REMOVAL_REASONS.revoked,
    });
    assert.equal(removed.metadata.actor, 'system');
    const revocation = (await api.events(before)).find((e) => e.type === 'ConsentRevoked')!;
    assert.equal(removed.metadata.causationId, revocation.id);

    // The provider's further requests are refused by the consent check, and so is the old token.
    const res = await api.request('POST', `/sessions/${sessionId}/credentials`, { token: provider.token });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json<{ code: string }>().code, 'no_consent');
    const denial = (await api.events(before))
      .filter((e) => e.type === 'AccessAudited')
      .map((e) => e.data as AccessAuditedData)
      .at(-1)!;
    assert.deepEqual([denial.actor, denial.outcome], [provider.address, 'denied']);
    // The patient stays connected.
    assert.equal(alice.socket.readyState, WebSocket.OPEN);
  });

  test('a revocation for another patient or category, or one another grant outlives, leaves the call alone', async () => {
    const other = await api.newUser();
    await api.grant(other.address, provider.address, 'general', new Date(Date.now() + DAY * 1000));
    await api.grant(other.address, provider.address, 'imaging', new Date(Date.now() + DAY * 1000));
    await api.grant(other.address, provider.address, 'telehealth', new Date(Date.now() + DAY * 1000));
    const id = await schedule(api, provider, other);
    const doctor = await connect(provider, id);
    const bob = await connect(other, id);
    await api.revoke(other.address, provider.address, 'imaging');
    // Telehealth covers every category, but the grant for this one is still active: the call goes on.
    await api.revoke(other.address, provider.address, 'telehealth');
    await api.revoke(patient.address, provider.address, 'telehealth');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      doctor.messages.filter((m) => m.type === 'removed'),
      [],
    );
    assert.equal(doctor.socket.readyState, WebSocket.OPEN);
    assert.equal(bob.socket.readyState, WebSocket.OPEN);
  });

  test('a grant that expires during the call: the periodic sweep puts the provider out', async () => {
    const other = await api.newUser();
    await api.grant(other.address, provider.address, 'telehealth', new Date(Date.now() + 60_000));
    const id = await schedule(api, provider, other);
    const doctor = await connect(provider, id);
    const bob = await connect(other, id);
    const signalling = api.app.get(SignallingService);
    await signalling.sweep(new Date());
    assert.equal(doctor.socket.readyState, WebSocket.OPEN, 'still active now');
    // Two minutes later the grant has expired (no event marks an expiry: the sweep compares with now).
    await signalling.sweep(new Date(Date.now() + 120_000));
    const expected = { type: 'removed', participant: provider.address, reason: REMOVAL_REASONS.inactive };
    assert.deepEqual(await bob.next('removed'), expected);
    assert.deepEqual(await doctor.next('removed'), expected);
    assert.equal((await doctor.closed).code, 4003);
    assert.equal(bob.socket.readyState, WebSocket.OPEN);
    // Past the end of the window, the sweep ends the call for everyone left.
    await signalling.sweep(new Date(Date.now() + 31 * 60_000));
    assert.deepEqual(await bob.next('ended'), { type: 'ended', reason: 'the scheduled time is over' });
    assert.equal((await bob.closed).code, 4001);
  });

  test('the patient leaves: the provider hears it and ParticipantLeft is recorded', async () => {
    const other = await api.newUser();
    await api.grant(other.address, provider.address, 'telehealth', new Date(Date.now() + DAY * 1000));
    const id = await schedule(api, provider, other);
    const doctor = await connect(provider, id);
    const bob = await connect(other, id);
    await doctor.next('peer-joined');
    bob.close();
    assert.deepEqual(await doctor.next('peer-left'), { type: 'peer-left', participant: other.address });
    for (let i = 0; i < 50 && !(await types(id)).includes('ParticipantLeft'); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await types(id)).at(-1), 'ParticipantLeft');
  });

  test('the provider ends the consultation: everyone is told and closed; nobody connects after', async () => {
    const other = await api.newUser();
    await api.grant(other.address, provider.address, 'telehealth', new Date(Date.now() + DAY * 1000));
    const id = await schedule(api, provider, other);
    const patientToken = await token(other, id);
    const doctor = await connect(provider, id);
    const bob = await Client.connect(url, patientToken);
    open.push(bob);
    assert.equal((await api.post(`/sessions/${id}/end`, undefined, provider.token)).statusCode, 204);
    for (const client of [doctor, bob]) {
      assert.deepEqual(await client.next('ended'), { type: 'ended', reason: 'ended by the provider' });
      assert.equal((await client.closed).code, 4001);
    }
    assert.equal(await upgradeStatus(url, ['custos', `custos-token.${patientToken}`]), 403);
  });
});

describe('signalling: two consultations at once never cross', () => {
  let api: TestApi;
  let url: string;
  let tokens: CallTokens;
  /** Consultation A: doctorA and alice; B: doctorB and bob; C: doctorA again, with carol. */
  let a: { id: string; doctor: User; patient: User };
  let b: { id: string; doctor: User; patient: User };
  let c: { id: string; doctor: User; patient: User };
  const open: Client[] = [];
  const quiet = () => new Promise((r) => setTimeout(r, 150));

  const token = async (user: User, id: string) => {
    const res = await api.request('POST', `/sessions/${id}/credentials`, { token: user.token });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<WebRtcCredentials>().token;
  };
  const connect = async (user: User, id: string, at = url) => {
    const client = await Client.connect(at, await token(user, id));
    open.push(client);
    return client;
  };
  /** The token with its claims replaced and its signature kept. */
  const withClaims = (callToken: string, change: Record<string, unknown>) => {
    const [version, payload, signature] = callToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const changed = Buffer.from(JSON.stringify({ ...claims, ...change }), 'utf8').toString('base64url');
    return `${version}.${changed}.${signature}`;
  };
  /** Everything a client heard, as text: to look for the other consultation's ids and addresses. */
  const heard = (client: Client) => JSON.stringify(client.received);

  before(async () => {
    api = await TestApi.start();
    await api.app.listen(0, '127.0.0.1');
    url = `${(await api.app.getUrl()).replace(/^http/, 'ws')}/sessions/signal`;
    tokens = api.app.get(CallTokens);
    const consultation = async (doctor: User, patient: User) => {
      await api.grant(patient.address, doctor.address, 'general', new Date(Date.now() + DAY * 1000));
      return { id: await schedule(api, doctor, patient), doctor, patient };
    };
    const doctorA = await api.newUser('provider');
    a = await consultation(doctorA, await api.newUser());
    b = await consultation(await api.newUser('provider'), await api.newUser());
    c = await consultation(doctorA, await api.newUser());
  });
  after(async () => {
    for (const client of open) client.socket.terminate();
    await api.close();
  });

  test('offers, answers and ice stay in their consultation; addressing the other one is refused', async () => {
    const doctorA = await connect(a.doctor, a.id);
    const alice = await connect(a.patient, a.id);
    const doctorB = await connect(b.doctor, b.id);
    const bob = await connect(b.patient, b.id);
    assert.deepEqual(
      [alice.welcome.session, bob.welcome.session],
      [a.id, b.id],
      'each is welcomed into its own consultation',
    );
    assert.deepEqual(alice.welcome.peers, [{ participant: a.doctor.address, role: 'provider' }]);
    assert.deepEqual(bob.welcome.peers, [{ participant: b.doctor.address, role: 'provider' }]);
    assert.equal((await doctorA.next('peer-joined')).participant, a.patient.address);
    assert.equal((await doctorB.next('peer-joined')).participant, b.patient.address);

    // The same kinds of messages in both at once: each reaches its own peer only.
    alice.send({ type: 'offer', to: a.doctor.address, sdp: OFFER_SDP });
    bob.send({ type: 'offer', to: b.doctor.address, sdp: `${OFFER_SDP}b=AS:1\r\n` });
    assert.deepEqual(await doctorA.next('offer'), { type: 'offer', from: a.patient.address, sdp: OFFER_SDP });
    assert.deepEqual(await doctorB.next('offer'), {
      type: 'offer',
      from: b.patient.address,
      sdp: `${OFFER_SDP}b=AS:1\r\n`,
    });
    doctorA.send({ type: 'answer', to: a.patient.address, sdp: 'v=0 answer A' });
    doctorB.send({ type: 'ice', to: b.patient.address, candidate: null });
    assert.equal((await alice.next('answer')).sdp, 'v=0 answer A');
    assert.equal((await bob.next('ice')).from, b.doctor.address);

    // Addressed to someone connected to the other consultation: refused to the sender, never relayed.
    alice.send({ type: 'offer', to: b.doctor.address, sdp: OFFER_SDP });
    assert.equal((await alice.next('error')).code, 'peer_not_connected');
    alice.send({ type: 'ice', to: b.patient.address, candidate: null });
    assert.equal((await alice.next('error')).code, 'peer_not_connected');
    doctorB.send({ type: 'answer', to: a.patient.address, sdp: 'v=0 answer B' });
    assert.equal((await doctorB.next('error')).code, 'peer_not_connected');

    // Leaving one consultation is announced in it only.
    bob.close();
    assert.equal((await doctorB.next('peer-left')).participant, b.patient.address);
    open.splice(open.indexOf(bob), 1);
    await quiet();

    for (const client of [doctorA, alice]) {
      const text = heard(client);
      for (const foreign of [b.id, b.doctor.address, b.patient.address, 'answer B', 'b=AS:1']) {
        assert.ok(!text.includes(foreign), `a socket of A heard ${foreign}: ${text}`);
      }
    }
    for (const client of [doctorB, bob]) {
      const text = heard(client);
      for (const foreign of [a.id, a.patient.address, a.doctor.address, 'answer A']) {
        assert.ok(!text.includes(foreign), `a socket of B heard ${foreign}: ${text}`);
      }
    }
    const signalling = api.app.get(SignallingService);
    assert.deepEqual(signalling.connected(a.id).sort(), [a.doctor.address, a.patient.address].sort());
    assert.deepEqual(signalling.connected(b.id), [b.doctor.address]);
  });

  test('a token for one consultation cannot be used on another', async () => {
    const aliceToken = await token(a.patient, a.id);
    // The token alone decides the consultation: naming B in the URL changes nothing.
    const alice = await Client.connect(`${url}?session=${b.id}&sid=${b.id}`, aliceToken);
    open.push(alice);
    assert.equal(alice.welcome.session, a.id);
    assert.ok(!api.app.get(SignallingService).connected(b.id).includes(a.patient.address));

    // The token's claims changed to B, with A's signature: 401, whoever's it was.
    for (const [user, id] of [
      [a.patient, a.id],
      [a.doctor, a.id],
    ] as const) {
      const forged = withClaims(await token(user, id), { sid: b.id });
      assert.equal(await upgradeStatus(url, ['custos', `custos-token.${forged}`]), 401);
    }
    // Someone else's identity in A's token: 401 too.
    assert.equal(
      await upgradeStatus(url, [
        'custos',
        `custos-token.${withClaims(aliceToken, { sub: b.patient.address })}`,
      ]),
      401,
    );
    // A well-signed token for B naming a participant of A only (the API never issues one): 403.
    const signedForB = tokens.issue({
      sid: b.id,
      sub: a.patient.address,
      role: 'patient',
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    assert.equal(await upgradeStatus(url, ['custos', `custos-token.${signedForB}`]), 403);
    // And asking the API for B's credentials as a participant of A only: 404, audited.
    const head = await api.eventStore.headPosition();
    const res = await api.request('POST', `/sessions/${b.id}/credentials`, { token: a.patient.token });
    assert.equal(res.statusCode, 404, res.body);
    const [denial] = (await api.events(head))
      .filter((e) => e.type === 'AccessAudited')
      .map((e) => e.data as AccessAuditedData);
    assert.deepEqual(
      [denial?.actor, denial?.resource, denial?.outcome],
      [a.patient.address, `session:${b.id}/credentials`, 'denied'],
    );
    assert.ok(!api.app.get(SignallingService).connected(b.id).includes(a.patient.address));
  });

  test('the same provider in two consultations at once: each socket hears its own consultation only', async () => {
    const doctorInA = open.find(
      (client) => client.welcome.session === a.id && client.welcome.participant === a.doctor.address,
    )!;
    const alice = open
      .filter((client) => client.welcome.session === a.id && client.welcome.participant === a.patient.address)
      .at(-1)!;
    const doctorInC = await connect(c.doctor, c.id);
    const carol = await connect(c.patient, c.id);
    await quiet();
    // A second consultation is no second connection of the same participant: A's socket stays.
    assert.equal(doctorInA.socket.readyState, WebSocket.OPEN);
    assert.deepEqual(
      api.app.get(SignallingService).connected(a.id).sort(),
      [a.doctor.address, a.patient.address].sort(),
    );

    carol.send({ type: 'offer', to: c.doctor.address, sdp: 'v=0 from carol' });
    alice.send({ type: 'offer', to: a.doctor.address, sdp: 'v=0 from alice' });
    assert.deepEqual(await doctorInC.next('offer'), {
      type: 'offer',
      from: c.patient.address,
      sdp: 'v=0 from carol',
    });
    assert.deepEqual(await doctorInA.next('offer'), {
      type: 'offer',
      from: a.patient.address,
      sdp: 'v=0 from alice',
    });
    await quiet();
    assert.ok(!heard(doctorInA).includes('from carol') && !heard(doctorInA).includes(c.patient.address));
    assert.ok(!heard(doctorInC).includes('from alice') && !heard(doctorInC).includes(a.patient.address));
    assert.ok(!heard(alice).includes(c.id) && !heard(carol).includes(a.id));

    // Ending C ends C only.
    assert.equal((await api.post(`/sessions/${c.id}/end`, undefined, c.doctor.token)).statusCode, 204);
    for (const client of [doctorInC, carol]) assert.equal((await client.closed).code, 4001);
    await quiet();
    assert.equal(doctorInA.socket.readyState, WebSocket.OPEN);
    assert.equal(alice.socket.readyState, WebSocket.OPEN);
    assert.ok(!doctorInA.received.some((m) => m.type === 'ended'));
  });
});
