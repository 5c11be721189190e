// Suite 2: who may call what. Every route the server serves (found at run time, see TestApi.routes) is
// called by every kind of caller, and the answer must be what EXPECTATIONS says. A route without an
// entry fails: deciding who may call a new route is part of adding it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AccessAuditedData, Role } from '@custos/domain';
import { Wallet } from 'ethers';
import { SiweMessage } from 'siwe';
import type { NonceResponse } from '../../apps/api/src/auth/auth.dto';
import type { GuardedRole } from '../../apps/api/src/auth/roles.decorator';
import { siweFields } from '../../apps/api/src/auth/testing';
import {
  addressesIn,
  DAY,
  randomAddress,
  type RequestOptions,
  type ServedRoute,
  TestApi,
  type User,
} from './harness';
import { nestRoutes } from './routes';
import { messagingSamples as messaging } from '../messaging/request-samples';
import { recordsSamples as records } from '../records/request-samples';

interface Actor {
  name: string;
  /** Absent for the anonymous caller. */
  user?: User;
  roles: readonly Role[];
}

interface World {
  api: TestApi;
  patient: User;
  providerWithGrant: User;
  providerWithoutGrant: User;
}

/** A concrete request for a route: its URL with parameters filled in, query, body. */
type Sample = RequestOptions & { url?: string };

interface Expectation {
  /** Who may call the route: anyone, any signed-in wallet, or holders of one of these roles. */
  allow: 'everyone' | 'signed-in' | readonly GuardedRole[];
  /** What an allowed caller gets for the sample request. */
  status: number;
  /** A request an allowed caller would make (may create what it needs first); default: the bare route. */
  sample?: (world: World, caller: Actor) => Promise<Sample> | Sample;
  /** The route ends the session it is called with: call it with a session of its own. */
  endsSession?: true;
}

// ---------------------------------------------------------------------------------------------------
// THE AUTHORIZATION TABLE: route → who may call it. Keep it in step with the routes.
// ---------------------------------------------------------------------------------------------------
const EXPECTATIONS: Record<string, Expectation> = {
  // Public: monitoring and the first two steps of signing in.
  'GET /health': { allow: 'everyone', status: 200 },
  'GET /metrics': { allow: 'everyone', status: 200 },
  'POST /auth/nonce': { allow: 'everyone', status: 201 },
  'POST /auth/verify': { allow: 'everyone', status: 200, sample: signedSiweMessage },

  // Public: the OpenAPI document and Swagger UI, mounted on Fastify by SwaggerModule (outside Nest's guards).
  'GET /api/docs': { allow: 'everyone', status: 200 },
  'GET /api/docs/': { allow: 'everyone', status: 200 },
  'GET /api/docs/index.html': { allow: 'everyone', status: 200 },
  'GET /api/docs-json': { allow: 'everyone', status: 200 },
  'GET /api/docs-yaml': { allow: 'everyone', status: 200 },
  'GET /api/docs/swagger-ui-init.js': { allow: 'everyone', status: 200 },
  'GET /api/docs/docs/swagger-ui-init.js': { allow: 'everyone', status: 200 },
  'GET /api/docs/*': { allow: 'everyone', status: 200, sample: () => ({ url: '/api/docs/swagger-ui.css' }) },
  'GET /api/docs/docs/*': {
    allow: 'everyone',
    status: 200,
    sample: () => ({ url: '/api/docs/docs/swagger-ui.css' }),
  },
  // SwaggerModule answers 404 to everyone here on purpose (it hides swagger-ui-dist's licence file).
  'GET /api/docs/LICENSE': { allow: 'everyone', status: 404 },

  // Any signed-in wallet: a patient's own data, answered for the caller only.
  'GET /auth/me': { allow: 'signed-in', status: 200 },
  'POST /auth/sign-out': { allow: 'signed-in', status: 204, endsSession: true },
  'GET /audit/me': { allow: 'signed-in', status: 200 },
  'GET /consent-requests': { allow: 'signed-in', status: 200 },
  'POST /consent-requests/:id/decline': { allow: 'signed-in', status: 204, sample: pendingRequestToCaller },
  'GET /patients/me/consents': { allow: 'signed-in', status: 200 },
  // My consents as FHIR; `?patient=` someone else's is for auditors only (403 inside, audited: consent-fhir.spec).
  'GET /consents/fhir': { allow: 'signed-in', status: 200 },
  'GET /notifications/me': { allow: 'signed-in', status: 200 },
  'GET /directory/providers': { allow: 'signed-in', status: 200 },
  // Signed consents, relayed for the patient who signed them (the body's patient is the caller). This
  // suite's API has no contract: 503 once the request passed the guards and validation.
  'POST /consents/grants': { allow: 'signed-in', status: 503, sample: signedConsentBody },
  'POST /consents/grants/batch': {
    allow: 'signed-in',
    status: 503,
    sample: (world, caller) => {
      const { provider, category, expiresAt, ...rest } = signedConsentBody(world, caller).body;
      return { body: { ...rest, items: [{ provider, category, expiresAt }] } };
    },
  },
  'POST /consents/revocations': {
    allow: 'signed-in',
    status: 503,
    sample: (world, caller) => {
      const { expiresAt: _, ...body } = signedConsentBody(world, caller).body;
      return { body };
    },
  },
  // The chain for browser wallets: this suite's API has no contract, so 503 once past the guards.
  'GET /chain/signing-context': { allow: 'signed-in', status: 503 },
  'POST /chain/rpc': {
    allow: 'signed-in',
    status: 503,
    sample: () => ({ body: { jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] } }),
  },
  // The submitter's relay (or any, for an auditor); an unknown id is 404 for everyone signed in.
  'GET /consents/relays/:id': {
    allow: 'signed-in',
    status: 404,
    sample: () => ({ url: `/consents/relays/${randomUUID()}` }),
  },

  // Messaging. Any signed-in account may message, for itself: membership and the messaging consent rule
  // are checked inside (404 / 403 `messaging_consent_required`), so each caller gets a conversation of
  // its own, as its patient. Tencent Chat is not configured here: 503 once past the guards.
  'PUT /messaging/keys/me': { allow: 'signed-in', status: 200, sample: messaging.registerKey },
  'GET /messaging/keys/:address': {
    allow: 'signed-in',
    status: 200,
    sample: (world) => messaging.keyOf(world, world.patient),
  },
  'POST /messaging/chat-credentials': { allow: 'signed-in', status: 503 },
  'POST /conversations': { allow: 'signed-in', status: 201, sample: messaging.startConversation },
  'GET /conversations': { allow: 'signed-in', status: 200 },
  'GET /conversations/:id': { allow: 'signed-in', status: 200, sample: messaging.conversation() },
  'GET /conversations/:id/messages': {
    allow: 'signed-in',
    status: 200,
    sample: messaging.conversation('/messages'),
  },
  'POST /conversations/:id/messages': { allow: 'signed-in', status: 201, sample: messaging.sendMessage },
  'POST /conversations/:id/messages/:messageId/acknowledgment': {
    allow: 'signed-in',
    status: 204,
    sample: messaging.receipt('acknowledgment'),
  },
  'POST /conversations/:id/messages/:messageId/read': {
    allow: 'signed-in',
    status: 204,
    sample: messaging.receipt('read'),
  },
  'POST /conversations/:id/hide': {
    allow: 'signed-in',
    status: 204,
    sample: messaging.conversation('/hide'),
  },
  'POST /conversations/:id/unhide': {
    allow: 'signed-in',
    status: 204,
    sample: messaging.conversation('/unhide'),
  },
  'POST /conversations/:id/participants': {
    allow: 'signed-in',
    status: 204,
    sample: messaging.addParticipant,
  },
  'POST /conversations/:id/participants/:address/remove': {
    allow: 'signed-in',
    status: 204,
    sample: messaging.removeParticipant,
  },

  // Records. Any signed-in account may keep records, as their patient; the record access rule is checked
  // inside (403 `no_record_access`, audited: test/records/records.spec.ts), so each caller gets a
  // registered record of its own. `POST /records` is relayed to the chain: 503 here once past the guards
  // and validation.
  'POST /records/blobs': { allow: 'signed-in', status: 201, sample: records.uploadBlob },
  'POST /records': { allow: 'signed-in', status: 503, sample: records.submit },
  'GET /records': { allow: 'signed-in', status: 200 },
  'GET /records/recipients': {
    allow: 'signed-in',
    status: 200,
    sample: () => ({ query: { category: 'lab_results' } }),
  },
  'GET /records/key-requests': { allow: 'signed-in', status: 200 },
  'GET /records/:id': { allow: 'signed-in', status: 200, sample: records.record() },
  'GET /records/:id/blob': { allow: 'signed-in', status: 200, sample: records.record('/blob') },
  'GET /records/:id/key': { allow: 'signed-in', status: 200, sample: records.record('/key') },
  'POST /records/:id/keys': { allow: 'signed-in', status: 204, sample: records.shareKeys },

  // Providers.
  'POST /consent-requests': {
    allow: ['provider'],
    status: 201,
    sample: () => ({
      body: {
        patient: randomAddress(),
        category: 'lab_results',
        purpose: 'Follow-up on last month’s blood tests',
        durationSeconds: 30 * DAY,
      },
    }),
  },
  'GET /providers/me/patients': { allow: ['provider'], status: 200 },

  // Consultations. Someone else's is 404; each allowed caller gets one of their own (consultationOf).
  'POST /sessions': {
    allow: ['provider'],
    status: 201,
    sample: async ({ api }, caller) => {
      const patient = randomAddress();
      if (caller.user) {
        await api.grant(patient, caller.user.address, 'telehealth', new Date(Date.now() + DAY * 1000));
      }
      return {
        body: { patient, category: 'general', startsAt: new Date().toISOString(), durationMinutes: 30 },
      };
    },
  },
  'GET /sessions': { allow: 'signed-in', status: 200 },
  'GET /sessions/:id': {
    allow: 'signed-in',
    status: 200,
    sample: async (world, caller) => ({ url: `/sessions/${await consultationOf(world, caller, 'patient')}` }),
  },
  'POST /sessions/:id/invitations': {
    allow: ['provider'],
    status: 204,
    sample: async (world, caller) => ({
      url: `/sessions/${await consultationOf(world, caller, 'provider')}/invitations`,
      body: { participant: randomAddress(), role: 'specialist' },
    }),
  },
  'POST /sessions/:id/admissions': {
    allow: 'signed-in',
    status: 204,
    sample: async (world, caller) => {
      const id = await consultationOf(world, caller, 'patient');
      const participant = randomAddress();
      if (caller.user) {
        const session = (await world.api.get(`/sessions/${id}`, caller.user.token)).json<{
          provider: string;
        }>();
        const provider = [world.providerWithGrant, world.providerWithoutGrant].find(
          (p) => p.address === session.provider,
        )!;
        const invite = { participant, role: 'interpreter' };
        const res = await world.api.post(`/sessions/${id}/invitations`, invite, provider.token);
        assert.equal(res.statusCode, 204, `setup: invitation for ${caller.name}: ${res.body}`);
      }
      return { url: `/sessions/${id}/admissions`, body: { participant } };
    },
  },
  'POST /sessions/:id/recording-consent': {
    allow: 'signed-in',
    status: 204,
    sample: async (world, caller) => ({
      url: `/sessions/${await consultationOf(world, caller, 'patient')}/recording-consent`,
      body: { consent: true },
    }),
  },
  'POST /sessions/:id/end': {
    allow: ['provider'],
    status: 204,
    sample: async (world, caller) => ({
      url: `/sessions/${await consultationOf(world, caller, 'provider')}/end`,
    }),
  },
  // Open to every participant; the consent gate inside refuses (and audits) a provider without a grant.
  'POST /sessions/:id/credentials': {
    allow: 'signed-in',
    status: 200,
    sample: async (world, caller) => ({
      url: `/sessions/${await consultationOf(world, caller, 'patient')}/credentials`,
    }),
  },

  // Emergency staff.
  'POST /emergency/reasons': {
    allow: ['emergency'],
    status: 201,
    sample: ({ patient }) => ({
      body: { patient: patient.address, reason: `Unconscious on arrival, case ${randomUUID()}` },
    }),
  },

  // Compliance officers.
  'GET /audit': {
    allow: ['auditor'],
    status: 200,
    sample: ({ patient }) => ({ query: { patient: patient.address } }),
  },
  'GET /audit/replay': {
    allow: ['auditor'],
    status: 200,
    sample: ({ patient }) => ({ query: { asOf: new Date().toISOString(), patient: patient.address } }),
  },
  // Consent drift against the chain: this suite's API has no contract, so 503 once past the guards.
  'GET /compliance/drift': { allow: ['auditor'], status: 503 },
  // Audit anchors: nothing is anchored without a contract (404 for an unknown event, 503 to verify).
  'GET /audit/proof/:id': {
    allow: ['auditor'],
    status: 404,
    sample: () => ({ url: `/audit/proof/${randomUUID()}` }),
  },
  'GET /audit/verification': { allow: ['auditor'], status: 503 },

  // Administrators.
  'GET /chain/status': { allow: ['admin'], status: 200 },
  'GET /directory/accounts': {
    allow: ['admin'],
    status: 200,
    sample: () => ({ query: { role: 'provider' } }),
  },
  'PUT /directory/:address/profile': {
    allow: ['admin'],
    status: 200,
    sample: ({ providerWithGrant }) => ({
      url: `/directory/${providerWithGrant.address}/profile`,
      body: { name: 'Dr. Ada Lovelace', specialty: 'Cardiology' },
    }),
  },
};

function signedConsentBody({ providerWithGrant }: World, caller: Actor) {
  const now = Math.floor(Date.now() / 1000);
  return {
    body: {
      patient: caller.user?.address ?? randomAddress(),
      provider: providerWithGrant.address,
      category: 'imaging',
      expiresAt: now + DAY,
      deadline: now + 3600,
      signature: `0x${'11'.repeat(65)}`,
    },
  };
}

async function signedSiweMessage({ api }: World, caller: Actor): Promise<Sample> {
  const wallet = caller.user?.wallet ?? Wallet.createRandom();
  const nonce = (await api.post('/auth/nonce', undefined)).json<NonceResponse>();
  const message = new SiweMessage(siweFields(wallet, nonce)).prepareMessage();
  return { body: { message, signature: await wallet.signMessage(message) } };
}

/** A provider's pending request addressed to the caller, for the caller to decline. */
async function pendingRequestToCaller(world: World, caller: Actor): Promise<Sample> {
  if (!caller.user) return { url: `/consent-requests/${randomUUID()}/decline` };
  const provider =
    caller.user === world.providerWithoutGrant ? world.providerWithGrant : world.providerWithoutGrant;
  const res = await world.api.post(
    '/consent-requests',
    { patient: caller.user.address, category: 'imaging', purpose: 'Check the X-ray', durationSeconds: DAY },
    provider.token,
  );
  assert.equal(res.statusCode, 201, `setup: request to ${caller.name}: ${res.body}`);
  return { url: `/consent-requests/${res.json<{ id: string }>().id}/decline` };
}

/**
 * A consultation starting now with the caller as its patient or its provider, scheduled under a fresh
 * telehealth grant (anonymous, or a non-provider asked to be the provider: a random id, refused first).
 */
async function consultationOf(world: World, caller: Actor, as: 'patient' | 'provider'): Promise<string> {
  const user = caller.user;
  if (!user || (as === 'provider' && !caller.roles.includes('provider'))) return randomUUID();
  const provider =
    as === 'provider'
      ? user
      : user === world.providerWithGrant
        ? world.providerWithoutGrant
        : world.providerWithGrant;
  const patient = as === 'patient' ? user.address : randomAddress();
  await world.api.grant(patient, provider.address, 'telehealth', new Date(Date.now() + DAY * 1000));
  const res = await world.api.post(
    '/sessions',
    { patient, category: 'general', startsAt: new Date().toISOString(), durationMinutes: 30 },
    provider.token,
  );
  assert.equal(res.statusCode, 201, `setup: consultation for ${caller.name}: ${res.body}`);
  return res.json<{ id: string }>().id;
}

// ---------------------------------------------------------------------------------------------------

function mayCall(expectation: Expectation, actor: Actor): boolean {
  if (expectation.allow === 'everyone') return true;
  if (!actor.user) return false;
  if (expectation.allow === 'signed-in') return true;
  return expectation.allow.some((role) => actor.roles.includes(role));
}

describe('authorization matrix: every route × every kind of caller', () => {
  let api: TestApi;
  let world: World;
  let actors: Actor[];
  let routes: ServedRoute[];

  before(async () => {
    api = await TestApi.start();
    const patient = await api.newUser();
    const providerWithGrant = await api.newUser('provider');
    await api.grant(
      patient.address,
      providerWithGrant.address,
      'lab_results',
      new Date(Date.now() + 30 * DAY * 1000),
    );
    const providerWithoutGrant = await api.newUser('provider');
    world = { api, patient, providerWithGrant, providerWithoutGrant };
    actors = [
      { name: 'anonymous', roles: [] },
      { name: 'patient', user: patient, roles: [] },
      { name: 'other patient', user: await api.newUser(), roles: [] },
      { name: 'provider with a grant', user: providerWithGrant, roles: ['provider'] },
      { name: 'provider without a grant', user: providerWithoutGrant, roles: ['provider'] },
      { name: 'emergency staff', user: await api.newUser('emergency'), roles: ['emergency'] },
      { name: 'auditor', user: await api.newUser('auditor'), roles: ['auditor'] },
      { name: 'admin', user: await api.newUser('admin'), roles: ['admin'] },
    ];
    routes = api.routes.sort((a, b) => a.key.localeCompare(b.key));
  });
  after(() => api.close());

  test('the routes found include every route of every Nest controller', () => {
    const fromNest = nestRoutes(api.app, routes); // throws when a controller route is not served as computed
    assert.ok(fromNest.length >= 10, `only ${fromNest.length} controller routes found`);
    assert.ok(routes.length >= fromNest.length);
  });

  test('every route served has an authorization expectation, and every expectation a route', () => {
    const served = new Set(routes.map((r) => r.key));
    const missing = routes.filter((r) => !(r.key in EXPECTATIONS)).map((r) => r.key);
    assert.deepEqual(
      missing,
      [],
      `route(s) with no authorization expectation: ${missing.join(', ')}; ` +
        'add them to EXPECTATIONS in test/api/authorization-matrix.spec.ts',
    );
    const stale = Object.keys(EXPECTATIONS).filter((key) => !served.has(key));
    assert.deepEqual(stale, [], `expectations for routes that are not served: ${stale.join(', ')}`);
  });

  test('each route answers each caller as its rule says; refusals leak nothing and are audited once', async (t) => {
    for (const route of routes) {
      await t.test(route.key, async () => {
        const expectation = EXPECTATIONS[route.key];
        assert.ok(expectation, `route ${route.key} has no authorization expectation`);
        const failures: string[] = [];
        for (const actor of actors) {
          failures.push(...(await check(route, expectation, actor)));
        }
        if (expectation.allow !== 'everyone' && route.method === 'GET') {
          // Fastify answers HEAD with the GET handler: it must be as closed as the GET.
          const head = await api.request('HEAD', route.url.replace(/:(\w+)/g, '0'));
          if (head.statusCode !== 401) failures.push(`anonymous HEAD: expected 401, got ${head.statusCode}`);
        }
        assert.deepEqual(failures, [], failures.join('\n'));
      });
    }
  });

  async function check(route: ServedRoute, expectation: Expectation, actor: Actor): Promise<string[]> {
    const failures: string[] = [];
    const allowed = mayCall(expectation, actor);
    // Refused callers get the same request an allowed one would send (another user's address in it).
    const sample = (await expectation.sample?.(world, actor)) ?? {};
    const token =
      actor.user && expectation.endsSession ? await api.signIn(actor.user.wallet) : actor.user?.token;
    const headBefore = await api.eventStore.headPosition();

    const res = await api.request(route.method, sample.url ?? route.url, { ...sample, token });

    const appended = await api.events(headBefore);
    const denials = appended.filter(
      (e) => e.type === 'AccessAudited' && (e.data as AccessAuditedData).outcome === 'denied',
    );
    const who = `${actor.name}`;
    if (allowed) {
      if (res.statusCode !== expectation.status)
        failures.push(
          `${who}: expected ${expectation.status}, got ${res.statusCode} ${res.body.slice(0, 200)}`,
        );
      if (denials.length > 0) failures.push(`${who}: allowed, yet ${denials.length} denial(s) were audited`);
      return failures;
    }

    const expected = actor.user ? 403 : 401;
    if (res.statusCode !== expected) {
      failures.push(`${who}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    const foreign = addressesIn(res.body).filter((a) => a !== actor.user?.address);
    if (foreign.length > 0) failures.push(`${who}: the ${res.statusCode} body names ${foreign.join(', ')}`);
    if (appended.length !== 1 || denials.length !== 1) {
      failures.push(
        `${who}: expected exactly one AccessAudited denial, got ${appended.map((e) => e.type).join(', ') || 'nothing'}`,
      );
    } else {
      const audit = denials[0]!.data as AccessAuditedData;
      const want = {
        actor: actor.user?.address ?? 'anonymous',
        resource: route.url,
        action: route.method,
        outcome: 'denied',
      };
      const got = {
        actor: audit.actor,
        resource: audit.resource,
        action: audit.action,
        outcome: audit.outcome,
      };
      if (JSON.stringify(got) !== JSON.stringify(want))
        failures.push(`${who}: audited ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    }
    return failures;
  }
});
