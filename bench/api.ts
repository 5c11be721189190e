/**
 * API benchmark: call credentials and message sends over real HTTP, against the same server's
 * `GET /health` at the same concurrency in the same run.
 * Run with `npm run bench:api`. Exits 1 when a target is missed.
 *
 * The API is the real one on its embedded defaults (SQLite event store and read models in a temporary
 * folder), listening on 127.0.0.1, with TRTC configured (so a credential is a UserSig and a
 * PrivateMapKey, each an HMAC and a deflate, signed on the TrtcSigner's thread) and no chain (the
 * gates read the projections only).
 * It runs in a child process of its own, as in production: the load generator here does not share
 * its event loop. The child also reports its CPU time (user + system, all its threads: the WAL
 * checkpoint and TRTC signing threads too), so each round shows the server's CPU per request: on a shared machine a
 * steadier guide than requests/s and latencies, which move with whatever else runs.
 * The load: CONNECTIONS keep-alive connections, each sending its next request as soon as the answer
 * to the last one came; rounds of ROUND_MS, alternating health and the measured route, several times.
 *
 * - Credentials: `POST /sessions/:id/credentials` by the provider of a live consultation with an
 *   active grant: the consent check, the consultation state, the audit event appended and projected,
 *   the TRTC signatures. Targets: requests/s ≥ 0.5 × health's, p99 ≤ 20 ms.
 * - For scale, in the same run: `GET /sessions/:id` by the same provider (the same token check, guards
 *   and rate limit, one read-model read, no audit entry, no signing), and the CPU that Tencent's
 *   tls-sig-api-v2 takes for one credential's two signatures, timed in this process.
 * - Messages: `POST /conversations/:id/messages` with 1 KB ciphertext bodies, one conversation per
 *   connection (a conversation is a stream: sends to one conversation are ordered). Reported.
 *
 * Each route also shows how long the server's event loop was busy per request (its main thread: the one
 * part that cannot use another core), and for credentials what the target leaves: at half of health's
 * rate, the event loop has 1 s / rate per request, and the server the machine's cores less what the
 * load generator (this process, on the same machine) used per request.
 *
 * BENCH_CPU_PROF=<folder> runs the server with `--cpu-prof` writing its profile there.
 */
import { type ChildProcess, fork } from 'node:child_process';
import http from 'node:http';
import { availableParallelism } from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { signTrtc } from '../apps/api/src/telehealth/trtc';
import { DAY, TestApi } from '../test/api/harness';
import { percentile } from './stats';

const CONNECTIONS = 32;
const ROUND_MS = 3_000;
const ROUNDS = 3;
const WARMUP_MS = 1_000;
const RATIO_TARGET = 0.5;
const P99_TARGET_MS = 20;
/** argv[2] of the child process that serves the API. */
const SERVER_ROLE = 'server';

/** What the server process set up and sends to the load generator once it listens. */
interface Fixture {
  port: number;
  sessionId: string;
  provider: { address: string; token: string };
  patient: { address: string; token: string };
  conversations: string[];
}

/** Messages between the load generator and the server process. */
type ToServer = { type: 'cpu' } | { type: 'stop' };
type FromServer =
  | { type: 'ready'; fixture: Fixture }
  | { type: 'cpu'; micros: number; eventLoopMicros: number }
  | { type: 'failed'; error: string };

// ------------------------------------------------------------------------------------------ server

async function serve(): Promise<void> {
  const api = await TestApi.start({
    TRTC_SDK_APP_ID: '1400000001',
    TRTC_SECRET_KEY: randomBytes(32).toString('hex'),
    AUDIT_ANCHOR_INTERVAL: '0',
    // One provider asks for credentials thousands of times a second: the limiter still counts every
    // request (its cost is measured), but never refuses one.
    RATE_LIMIT_CREDENTIALS: '1000000000',
  });
  const reply = (message: FromServer) => process.send?.(message);
  process.on('message', (message: ToServer) => {
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      const eventLoopMicros = performance.eventLoopUtilization().active * 1000;
      reply({ type: 'cpu', micros: user + system, eventLoopMicros });
    } else {
      void api.close().then(() => process.exit(0));
    }
  });
  // The load generator went away: do not linger.
  process.on('disconnect', () => void api.close().then(() => process.exit(1)));
  try {
    await api.app.listen(0, '127.0.0.1');
    const { port } = api.app.getHttpServer().address() as { port: number };
    const provider = await api.newUser('provider');
    const patient = await api.newUser();
    const inAMonth = new Date(Date.now() + 30 * DAY * 1000);
    await api.grant(patient.address, provider.address, 'general', inAMonth);
    await api.grant(patient.address, provider.address, 'messaging', inAMonth);

    // A consultation that starts in 5 s (credentials are issued from 15 minutes before), for an hour.
    const scheduled = await api.post(
      '/sessions',
      {
        patient: patient.address,
        category: 'general',
        startsAt: new Date(Date.now() + 5_000).toISOString(),
        durationMinutes: 60,
      },
      provider.token,
    );
    if (scheduled.statusCode !== 201) throw new Error(`schedule: ${scheduled.body}`);
    const sessionId = scheduled.json<{ id: string }>().id;
    const probe = await api.post(`/sessions/${sessionId}/credentials`, {}, provider.token);
    if (probe.statusCode !== 200 || probe.json<{ mode: string }>().mode !== 'trtc') {
      throw new Error(`credentials: ${probe.statusCode} ${probe.body}`);
    }
    const conversations: string[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const res = await api.post(
        '/conversations',
        { patient: patient.address, providers: [provider.address] },
        patient.token,
      );
      if (res.statusCode !== 201) throw new Error(`conversation: ${res.body}`);
      conversations.push(res.json<{ id: string }>().id);
    }
    const person = (user: { address: string; token: string }) => ({
      address: user.address,
      token: user.token,
    });
    reply({
      type: 'ready',
      fixture: { port, sessionId, provider: person(provider), patient: person(patient), conversations },
    });
  } catch (error) {
    reply({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    await api.close();
    process.exit(1);
  }
}

// ------------------------------------------------------------------------------------------ load

/** The API in a child process, with the same loader (`-r @swc-node/register`) as this one. */
class ServerProcess {
  private readonly pending: ((message: FromServer) => void)[] = [];
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: FromServer) => this.pending.shift()?.(message));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static async start(): Promise<{ server: ServerProcess; fixture: Fixture }> {
    const profile = process.env.BENCH_CPU_PROF;
    const child = fork(__filename, [SERVER_ROLE], {
      execArgv: [...process.execArgv, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const server = new ServerProcess(child);
    const first = await Promise.race([
      server.next(),
      server.exited.then((code): FromServer => ({ type: 'failed', error: `server exited with ${code}` })),
    ]);
    if (first.type !== 'ready') {
      child.kill();
      throw new Error(first.type === 'failed' ? first.error : `unexpected ${first.type}`);
    }
    return { server, fixture: first.fixture };
  }

  /** The server's CPU time so far (user + system, all threads) and its event loop's busy time, µs. */
  async usage(): Promise<{ micros: number; eventLoopMicros: number }> {
    const answer = this.next();
    this.child.send({ type: 'cpu' } satisfies ToServer);
    const message = await answer;
    if (message.type !== 'cpu') throw new Error(`expected cpu, got ${message.type}`);
    return { micros: message.micros, eventLoopMicros: message.eventLoopMicros };
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ type: 'stop' } satisfies ToServer);
    const timer = setTimeout(() => this.child.kill(), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  private next(): Promise<FromServer> {
    return new Promise((resolve) => this.pending.push(resolve));
  }
}

interface Load {
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Server CPU time (user + system) per answered request, µs. */
  cpuMicros: number;
  /** Time the server's event loop was busy per answered request, µs. */
  eventLoopMicros: number;
  /** This process's (the load generator's) CPU time per answered request, µs. */
  loadMicros: number;
}

interface Request {
  method: 'GET' | 'POST';
  /** A function for a different path per request. */
  path: string | (() => string);
  token?: string;
  body?: () => unknown;
}

function send(agent: http.Agent, port: number, request: Request): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = request.body ? JSON.stringify(request.body()) : undefined;
    const req = http.request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: request.method,
        path: typeof request.path === 'function' ? request.path() : request.path,
        headers: {
          ...(request.token ? { authorization: `Bearer ${request.token}` } : {}),
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** CONNECTIONS closed loops for `ms`; latency of each answered request, and the server's CPU. */
async function load(
  server: ServerProcess,
  port: number,
  request: Request,
  expected: number,
  ms: number,
): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  let errors = 0;
  const cpuBefore = await server.usage();
  const loadBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const status = await send(agent, port, request).catch(() => 0);
        latencies.push(performance.now() - t0);
        if (status !== expected) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const loadUsed = process.cpuUsage(loadBefore);
  const cpuAfter = await server.usage();
  agent.destroy();
  return {
    requests: latencies.length,
    errors,
    perSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuMicros: (cpuAfter.micros - cpuBefore.micros) / latencies.length,
    eventLoopMicros: (cpuAfter.eventLoopMicros - cpuBefore.eventLoopMicros) / latencies.length,
    loadMicros: (loadUsed.user + loadUsed.system) / latencies.length,
  };
}

/** Health and `measured` in alternating rounds; the per-round figures and their totals. */
async function compare(server: ServerProcess, port: number, measured: Request, expected: number) {
  const health: Request = { method: 'GET', path: '/health' };
  await load(server, port, health, 200, WARMUP_MS);
  await load(server, port, measured, expected, WARMUP_MS);
  const rounds: { health: Load; measured: Load }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    rounds.push({
      health: await load(server, port, health, 200, ROUND_MS),
      measured: await load(server, port, measured, expected, ROUND_MS),
    });
  }
  const sum = (pick: (r: (typeof rounds)[number]) => Load) => {
    const requests = rounds.reduce((n, r) => n + pick(r).requests, 0);
    /** A per-request figure over all rounds, each round weighed by its requests. */
    const perRequest = (key: 'cpuMicros' | 'eventLoopMicros' | 'loadMicros') =>
      rounds.reduce((n, r) => n + pick(r)[key] * pick(r).requests, 0) / requests;
    return {
      perSecond: rounds.reduce((n, r) => n + pick(r).perSecond, 0) / rounds.length,
      p99: Math.max(...rounds.map((r) => pick(r).p99)),
      p50: Math.max(...rounds.map((r) => pick(r).p50)),
      errors: rounds.reduce((n, r) => n + pick(r).errors, 0),
      requests,
      cpuMicros: perRequest('cpuMicros'),
      eventLoopMicros: perRequest('eventLoopMicros'),
      loadMicros: perRequest('loadMicros'),
    };
  };
  return { health: sum((r) => r.health), measured: sum((r) => r.measured) };
}

const ms = (value: number) => `${value.toFixed(2)} ms`;
const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;
/** CPU per credential of signTrtc (a UserSig and a PrivateMapKey), on this thread, µs. */
function signingMicros(): number {
  const settings = { sdkAppId: 1400000001, secretKey: randomBytes(32).toString('hex') };
  const grant = {
    userId: randomBytes(20).toString('base64url'),
    roomId: `custos-${randomUUID().replace(/-/g, '')}`,
    privileges: 255,
    lifetimeSeconds: 1800,
  };
  for (let i = 0; i < 2_000; i++) signTrtc(settings, grant);
  const count = 20_000;
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) signTrtc(settings, grant);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

const cpu = (load: { cpuMicros: number; eventLoopMicros: number }) =>
  `${Math.round(load.cpuMicros)} µs CPU/req (event loop ${Math.round(load.eventLoopMicros)})`;

async function main(): Promise<void> {
  const { server, fixture } = await ServerProcess.start();
  const { port, provider, patient, conversations } = fixture;
  let failed = false;
  try {
    const credentials: Request = {
      method: 'POST',
      path: `/sessions/${fixture.sessionId}/credentials`,
      token: provider.token,
    };
    console.log(
      `API benchmark: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${ROUND_MS / 1000} s each, server in its own process`,
    );
    const c = await compare(server, port, credentials, 200);
    const ratio = c.measured.perSecond / c.health.perSecond;
    const credentialsOk = ratio >= RATIO_TARGET && c.measured.p99 <= P99_TARGET_MS && c.measured.errors === 0;
    console.log(
      `GET /health                      ${rate(c.health.perSecond).padStart(9)}  p50 ${ms(c.health.p50)}  p99 ${ms(c.health.p99)}  ${cpu(c.health)}`,
    );
    console.log(
      `POST /sessions/:id/credentials   ${rate(c.measured.perSecond).padStart(9)}  p50 ${ms(c.measured.p50)}  p99 ${ms(c.measured.p99)}  ${cpu(c.measured)}  (${c.measured.errors} errors)`,
    );
    // What the target leaves a credential request, on this machine, with this load generator.
    const targetRate = RATIO_TARGET * c.health.perSecond;
    const cores = availableParallelism();
    console.log(
      `  at the target (${rate(targetRate)}) a credential may take ${Math.round(1e6 / targetRate)} µs of the event loop and ` +
        `${Math.round((cores * 1e6) / targetRate - c.measured.loadMicros)} µs CPU (${cores} cores less the load generator's ${Math.round(c.measured.loadMicros)} µs/req)`,
    );
    console.log(
      `credentials/health ratio ${ratio.toFixed(3)} (target ≥ ${RATIO_TARGET}), p99 ${ms(c.measured.p99)} (target ≤ ${P99_TARGET_MS} ms): ${credentialsOk ? 'PASS' : 'MISS'}`,
    );
    failed ||= !credentialsOk;
    const read = await compare(
      server,
      port,
      { method: 'GET', path: `/sessions/${fixture.sessionId}`, token: provider.token },
      200,
    );
    console.log(
      `  for scale: GET /sessions/:id ${rate(read.measured.perSecond)}  ${cpu(read.measured)}  (health ${rate(read.health.perSecond)}); ` +
        `tls-sig-api-v2 signing ${signingMicros().toFixed(1)} µs CPU per credential`,
    );

    // Message sends: one conversation per connection, 1 KB ciphertexts.
    let next = 0;
    const wrapped = () => randomBytes(92).toString('base64url');
    const message: Request = {
      method: 'POST',
      path: () => `/conversations/${conversations[next++ % conversations.length]}/messages`,
      token: patient.token,
      body: () => ({
        messageId: randomUUID(),
        kind: 'text',
        requiresAcknowledgment: false,
        urgent: false,
        ciphertext: randomBytes(1024).toString('base64url'),
        iv: randomBytes(12).toString('base64url'),
        wrappedKeys: { [patient.address]: wrapped(), [provider.address]: wrapped() },
      }),
    };
    const m = await compare(server, port, message, 201);
    console.log(
      `POST /conversations/:id/messages ${rate(m.measured.perSecond).padStart(9)}  p50 ${ms(m.measured.p50)}  p99 ${ms(m.measured.p99)}  ${cpu(m.measured)}  (${m.measured.errors} errors, 1 KB ciphertext)`,
    );
    console.log(
      `messages/health ratio ${(m.measured.perSecond / m.health.perSecond).toFixed(3)} (health ${rate(m.health.perSecond)}, ${cpu(m.health)} in the same rounds)`,
    );
    if (m.measured.errors > 0) failed = true;
  } finally {
    await server.stop();
  }
  if (failed) {
    console.log('bench:api: a target was missed');
    process.exitCode = 1;
  }
}

const run = process.argv[2] === SERVER_ROLE ? serve : main;
run().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
