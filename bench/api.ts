/**
 * API benchmark: call credentials and message sends over real HTTP, against the same server's
 * `GET /health` at the same concurrency in the same run.
 * Run with `npm run bench:api`. Exits 1 when a target is missed.
 *
 * The API is the real one on its embedded defaults (SQLite event store and read models in a temporary
 * folder), listening on 127.0.0.1, with TRTC configured (so a credential is a UserSig and a
 * PrivateMapKey, each an HMAC and a deflate) and no chain (the gates read the projections only).
 * The load: CONNECTIONS keep-alive connections, each sending its next request as soon as the answer
 * to the last one came; rounds of ROUND_MS, alternating health and the measured route, several times.
 *
 * - Credentials: `POST /sessions/:id/credentials` by the provider of a live consultation with an
 *   active grant: the consent check, the consultation state, the audit event appended and projected,
 *   the TRTC signatures. Targets: requests/s ≥ 0.5 × health's, p99 ≤ 20 ms.
 * - Messages: `POST /conversations/:id/messages` with 1 KB ciphertext bodies, one conversation per
 *   connection (a conversation is a stream: sends to one conversation are ordered). Reported.
 */
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DAY, TestApi, type User } from '../test/api/harness';
import { percentile } from './stats';

const CONNECTIONS = 32;
const ROUND_MS = 3_000;
const ROUNDS = 3;
const WARMUP_MS = 1_000;
const RATIO_TARGET = 0.5;
const P99_TARGET_MS = 20;

interface Load {
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
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

/** CONNECTIONS closed loops for `ms`; latency of each answered request. */
async function load(port: number, request: Request, expected: number, ms: number): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  let errors = 0;
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
  agent.destroy();
  return {
    requests: latencies.length,
    errors,
    perSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** Health and `measured` in alternating rounds; the per-round figures and their totals. */
async function compare(port: number, measured: Request, expected: number) {
  const health: Request = { method: 'GET', path: '/health' };
  await load(port, health, 200, WARMUP_MS);
  await load(port, measured, expected, WARMUP_MS);
  const rounds: { health: Load; measured: Load }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    rounds.push({
      health: await load(port, health, 200, ROUND_MS),
      measured: await load(port, measured, expected, ROUND_MS),
    });
  }
  const sum = (pick: (r: (typeof rounds)[number]) => Load) => ({
    perSecond: rounds.reduce((n, r) => n + pick(r).perSecond, 0) / rounds.length,
    p99: Math.max(...rounds.map((r) => pick(r).p99)),
    p50: Math.max(...rounds.map((r) => pick(r).p50)),
    errors: rounds.reduce((n, r) => n + pick(r).errors, 0),
    requests: rounds.reduce((n, r) => n + pick(r).requests, 0),
  });
  return { health: sum((r) => r.health), measured: sum((r) => r.measured) };
}

const ms = (value: number) => `${value.toFixed(2)} ms`;
const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;

async function main(): Promise<void> {
  const api = await TestApi.start({
    TRTC_SDK_APP_ID: '1400000001',
    TRTC_SECRET_KEY: randomBytes(32).toString('hex'),
    AUDIT_ANCHOR_INTERVAL: '0',
  });
  let failed = false;
  try {
    await api.app.listen(0, '127.0.0.1');
    const { port } = api.app.getHttpServer().address() as { port: number };
    const provider: User = await api.newUser('provider');
    const patient: User = await api.newUser();
    const inAMonth = new Date(Date.now() + 30 * DAY * 1000);
    await api.grant(patient.address, provider.address, 'general', inAMonth);
    await api.grant(patient.address, provider.address, 'messaging', inAMonth);

    // A consultation under way: started a minute ago, for an hour.
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
    const credentials: Request = {
      method: 'POST',
      path: `/sessions/${sessionId}/credentials`,
      token: provider.token,
    };
    const probe = await api.post(`/sessions/${sessionId}/credentials`, {}, provider.token);
    if (probe.statusCode !== 200 || probe.json<{ mode: string }>().mode !== 'trtc') {
      throw new Error(`credentials: ${probe.statusCode} ${probe.body}`);
    }

    console.log(`API benchmark: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${ROUND_MS / 1000} s each`);
    const c = await compare(port, credentials, 200);
    const ratio = c.measured.perSecond / c.health.perSecond;
    const credentialsOk = ratio >= RATIO_TARGET && c.measured.p99 <= P99_TARGET_MS && c.measured.errors === 0;
    console.log(
      `GET /health                      ${rate(c.health.perSecond).padStart(9)}  p50 ${ms(c.health.p50)}  p99 ${ms(c.health.p99)}`,
    );
    console.log(
      `POST /sessions/:id/credentials   ${rate(c.measured.perSecond).padStart(9)}  p50 ${ms(c.measured.p50)}  p99 ${ms(c.measured.p99)}  (${c.measured.errors} errors)`,
    );
    console.log(
      `credentials/health ratio ${ratio.toFixed(3)} (target ≥ ${RATIO_TARGET}), p99 ${ms(c.measured.p99)} (target ≤ ${P99_TARGET_MS} ms): ${credentialsOk ? 'PASS' : 'MISS'}`,
    );
    failed ||= !credentialsOk;

    // Message sends: one conversation per connection, 1 KB ciphertexts.
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
    const m = await compare(port, message, 201);
    console.log(
      `POST /conversations/:id/messages ${rate(m.measured.perSecond).padStart(9)}  p50 ${ms(m.measured.p50)}  p99 ${ms(m.measured.p99)}  (${m.measured.errors} errors, 1 KB ciphertext)`,
    );
    console.log(
      `messages/health ratio ${(m.measured.perSecond / m.health.perSecond).toFixed(3)} (health ${rate(m.health.perSecond)} in the same rounds)`,
    );
    if (m.measured.errors > 0) failed = true;
  } finally {
    await api.close();
  }
  if (failed) {
    console.log('bench:api: a target was missed');
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
