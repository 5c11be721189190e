// Suite 4: bad input is refused at the edge. Each case is a request from a caller who may use the
// route, with one thing wrong: answered 400 (or 413 for a body over MAX_BODY_BYTES) with a message
// naming the field, and nothing appended to the event store.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Wallet } from 'ethers';
import { SiweMessage } from 'siwe';
import type { NonceResponse } from '../../apps/api/src/auth/auth.dto';
import { siweFields } from '../../apps/api/src/auth/testing';
import { DAY, randomAddress, type RequestOptions, type Response, TestApi, type User } from './harness';
import { nestRoutes } from './routes';
import { envelopeFor, messagingKeyBody, startConversation } from '../messaging/request-samples';

interface World {
  api: TestApi;
  patient: User;
  provider: User;
  auditor: User;
  admin: User;
  emergency: User;
  /** Holds every role: may call every route. */
  everyone: User;
}

type Caller = 'anonymous' | 'patient' | 'provider' | 'auditor' | 'admin' | 'emergency';
type Build<T> = T | ((w: World) => T | Promise<T>);

interface BadInput {
  route: string;
  as: Caller;
  /** What is wrong with the request. */
  name: string;
  url?: Build<string>;
  query?: Build<Record<string, unknown>>;
  body?: Build<unknown>;
  /** A raw body (not JSON-encoded) with its content type. */
  raw?: { payload: string; contentType: string };
  /** 400 unless said otherwise. */
  status?: number;
  /** The field the message must name; null when the problem is not one field's (e.g. unparseable JSON). */
  field: string | null;
  /** A known product bug: the case is reported, not failed. */
  todo?: string;
}

// ---------------------------------------------------------------------------------------------------
// Valid requests, which the cases below spoil one thing at a time.
// ---------------------------------------------------------------------------------------------------
const consentRequest = (w: World) => ({
  patient: w.patient.address,
  category: 'lab_results',
  purpose: 'Review of the latest blood tests',
  durationSeconds: 7 * DAY,
});
const sessionBody = (w: World) => ({
  patient: w.patient.address,
  category: 'general',
  startsAt: new Date(Date.now() + 3600_000).toISOString(),
  durationMinutes: 30,
});
const conversationBody = (w: World) => ({ patient: w.patient.address, providers: [w.provider.address] });
const replayQuery = (w: World) => ({ asOf: new Date().toISOString(), patient: w.patient.address });
const profileUrl = (w: World) => `/directory/${w.provider.address}/profile`;
const profile = { name: 'Dr. Grace Hopper', specialty: 'Neurology' };
const emergencyReason = (w: World) => ({
  patient: w.patient.address,
  reason: 'Unconscious on arrival; checking allergies',
});
async function siweBody(w: World) {
  const wallet = Wallet.createRandom();
  const nonce = (await w.api.post('/auth/nonce', undefined)).json<NonceResponse>();
  const message = new SiweMessage(siweFields(wallet, nonce)).prepareMessage();
  return { message, signature: await wallet.signMessage(message) };
}

const spoil =
  <T extends object>(base: (w: World) => T | Promise<T>, change: Record<string, unknown>) =>
  async (w: World) => ({ ...(await base(w)), ...change });
const without =
  <T extends object>(base: (w: World) => T | Promise<T>, field: string) =>
  async (w: World) => {
    const copy = { ...(await base(w)) } as Record<string, unknown>;
    delete copy[field];
    return copy;
  };

const MALFORMED_ADDRESSES = {
  'too short': '0x1234',
  'not hex': `0x${'g'.repeat(40)}`,
  'no 0x prefix': 'a'.repeat(40),
  'a name': 'alice.eth',
};

/** The page parameters every list takes, spoiled. */
function pageCases(route: string, as: Caller, query: Build<Record<string, string>> = {}): BadInput[] {
  const q = (extra: Record<string, string>) => async (w: World) => ({
    ...(typeof query === 'function' ? await query(w) : query),
    ...extra,
  });
  return [
    { route, as, name: 'limit 0', query: q({ limit: '0' }), field: 'limit' },
    { route, as, name: 'limit above 200', query: q({ limit: '201' }), field: 'limit' },
    { route, as, name: 'limit not a number', query: q({ limit: 'ten' }), field: 'limit' },
    { route, as, name: 'oversized cursor', query: q({ cursor: 'c'.repeat(501) }), field: 'cursor' },
    { route, as, name: 'unknown query parameter', query: q({ admin: 'true' }), field: 'admin' },
  ];
}

const signedGrant = (w: World) => ({
  patient: w.patient.address,
  provider: w.provider.address,
  category: 'imaging',
  expiresAt: Math.floor(Date.now() / 1000) + DAY,
  deadline: Math.floor(Date.now() / 1000) + 3600,
  signature: `0x${'11'.repeat(65)}`,
});
const signedBatch = (w: World) => {
  const { provider, category, expiresAt, ...rest } = signedGrant(w);
  return { ...rest, items: [{ provider, category, expiresAt }] };
};
const signedRevoke = (w: World) => {
  const { expiresAt: _, ...rest } = signedGrant(w);
  return rest;
};
const signedCases = (
  route: string,
  valid: (w: World) => Record<string, unknown>,
  fields: string[],
): BadInput[] => [
  ...fields.map((field) => ({
    route,
    as: 'patient' as const,
    name: `${field} missing`,
    body: without(valid, field),
    field,
  })),
  ...(
    [
      ['patient malformed', { patient: '0x1234' }, 'patient'],
      ['signature not hex', { signature: '0xzz' }, 'signature'],
      ['signature too short', { signature: `0x${'11'.repeat(20)}` }, 'signature'],
      ['deadline as a string', { deadline: '123' }, 'deadline'],
      ['deadline negative', { deadline: -1 }, 'deadline'],
      ['an extra field', { nonce: 3 }, 'nonce'],
    ] as const
  ).map(([name, change, field]) => ({
    route,
    as: 'patient' as const,
    name,
    body: spoil(valid, change),
    field,
  })),
];

const CASES: BadInput[] = [
  // ----------------------------------------------------------------------- signed consents (relay)
  ...signedCases('POST /consents/grants', signedGrant, [
    'patient',
    'provider',
    'category',
    'expiresAt',
    'deadline',
    'signature',
  ]),
  {
    route: 'POST /consents/grants',
    as: 'patient',
    name: 'unknown category',
    body: spoil(signedGrant, { category: 'genome' }),
    field: 'category',
  },
  {
    route: 'POST /consents/grants',
    as: 'patient',
    name: 'expiresAt not whole',
    body: spoil(signedGrant, { expiresAt: 1.5 }),
    field: 'expiresAt',
  },
  ...signedCases('POST /consents/grants/batch', signedBatch, ['patient', 'items', 'deadline', 'signature']),
  {
    route: 'POST /consents/grants/batch',
    as: 'patient',
    name: 'no items',
    body: spoil(signedBatch, { items: [] }),
    field: 'items',
  },
  {
    route: 'POST /consents/grants/batch',
    as: 'patient',
    name: 'an item with a malformed provider',
    body: spoil(signedBatch, {
      items: [{ provider: '0x12', category: 'imaging', expiresAt: 2_000_000_000 }],
    }),
    field: 'provider',
  },
  ...signedCases('POST /consents/revocations', signedRevoke, [
    'patient',
    'provider',
    'category',
    'deadline',
    'signature',
  ]),
  {
    route: 'GET /consents/relays/:id',
    as: 'patient',
    name: 'id not a UUID',
    url: '/consents/relays/nope',
    field: 'id',
  },
  {
    route: 'POST /chain/rpc',
    as: 'patient',
    name: 'a method the gateway does not offer',
    body: { jsonrpc: '2.0', id: 1, method: 'debug_traceTransaction', params: [] },
    field: 'method',
  },
  {
    route: 'POST /chain/rpc',
    as: 'patient',
    name: 'not JSON-RPC 2.0',
    body: { jsonrpc: '1.0', id: 1, method: 'eth_blockNumber', params: [] },
    field: 'jsonrpc',
  },
  {
    route: 'GET /directory/accounts',
    as: 'admin',
    name: 'role missing',
    query: {},
    field: 'role',
  },
  {
    route: 'GET /audit/proof/:id',
    as: 'auditor',
    name: 'id not a UUID',
    url: '/audit/proof/nope',
    field: 'id',
  },
  // ----------------------------------------------------------------------- POST /consent-requests
  ...Object.entries(MALFORMED_ADDRESSES).map(([what, patient]) => ({
    route: 'POST /consent-requests',
    as: 'provider' as const,
    name: `patient address ${what}`,
    body: spoil(consentRequest, { patient }),
    field: 'patient',
  })),
  ...['patient', 'category', 'purpose', 'durationSeconds'].map((field) => ({
    route: 'POST /consent-requests',
    as: 'provider' as const,
    name: `${field} missing`,
    body: without(consentRequest, field),
    field,
  })),
  ...(
    [
      ['patient as a number', { patient: 12345 }, 'patient'],
      ['unknown category', { category: 'genome' }, 'category'],
      ['category as an operator object', { category: { $ne: null } }, 'category'],
      ['purpose as a number', { purpose: 42 }, 'purpose'],
      ['purpose too short', { purpose: 'ok' }, 'purpose'],
      ['purpose too short once trimmed', { purpose: '     ok      ' }, 'purpose'],
      ['purpose over 500 characters', { purpose: 'x'.repeat(501) }, 'purpose'],
      ['durationSeconds as a string', { durationSeconds: '3600' }, 'durationSeconds'],
      ['durationSeconds not whole', { durationSeconds: 3600.5 }, 'durationSeconds'],
      ['durationSeconds negative', { durationSeconds: -1 }, 'durationSeconds'],
      ['durationSeconds under an hour', { durationSeconds: 3599 }, 'durationSeconds'],
      ['durationSeconds over a year', { durationSeconds: 365 * DAY + 1 }, 'durationSeconds'],
      ['durationSeconds 1e308', { durationSeconds: 1e308 }, 'durationSeconds'],
      ['durationSeconds null', { durationSeconds: null }, 'durationSeconds'],
      ['an extra field', { isAdmin: true }, 'isAdmin'],
      [
        'a provider field (impersonation)',
        { provider: '0x000000000000000000000000000000000000dead' },
        'provider',
      ],
    ] as const
  ).map(([name, change, field]) => ({
    route: 'POST /consent-requests',
    as: 'provider' as const,
    name,
    body: spoil(consentRequest, change),
    field,
  })),
  {
    route: 'POST /consent-requests',
    as: 'provider',
    name: 'no body at all',
    field: 'patient',
  },
  {
    route: 'POST /consent-requests',
    as: 'provider',
    name: 'a JSON array instead of an object',
    raw: { payload: '[]', contentType: 'application/json' },
    field: 'patient',
  },
  {
    route: 'POST /consent-requests',
    as: 'provider',
    name: 'unparseable JSON',
    raw: { payload: '{"patient":', contentType: 'application/json' },
    field: null,
  },
  {
    route: 'POST /consent-requests',
    as: 'provider',
    name: 'a __proto__ key',
    raw: { payload: '{"__proto__":{"isAdmin":true}}', contentType: 'application/json' },
    field: null,
  },

  // ----------------------------------------------------------- POST /consent-requests/:id/decline
  ...(
    [
      ['id not a UUID', 'not-a-uuid'],
      ['id in upper case', randomUUID().toUpperCase()],
      ['id one character short', randomUUID().slice(1)],
    ] as const
  ).map(([name, id]) => ({
    route: 'POST /consent-requests/:id/decline',
    as: 'patient' as const,
    name,
    url: `/consent-requests/${id}/decline`,
    field: 'id',
  })),
  {
    route: 'POST /consent-requests/:id/decline',
    as: 'patient',
    name: 'id of 36 dashes',
    url: `/consent-requests/${'-'.repeat(36)}/decline`,
    field: 'id',
  },
  {
    route: 'POST /consent-requests/:id/decline',
    as: 'patient',
    name: 'id longer than Fastify accepts',
    url: `/consent-requests/${'a'.repeat(500)}/decline`,
    status: 414,
    field: null,
  },

  // ------------------------------------------------------------------------------------- GET /audit
  ...(['patient', 'actor'] as const).flatMap((field) =>
    Object.entries(MALFORMED_ADDRESSES).map(([what, value]) => ({
      route: 'GET /audit',
      as: 'auditor' as const,
      name: `${field} address ${what}`,
      query: { [field]: value },
      field,
    })),
  ),
  ...(
    [
      ['patient given twice', { patient: [randomAddress(), randomAddress()] }, 'patient'],
      ['from not a time', { from: 'yesterday' }, 'from'],
      ['from month 13', { from: '2024-13-01T00:00:00Z' }, 'from'],
      ['to not a time', { to: '1700000000' }, 'to'],
      ['to hour 24', { to: '2024-01-01T24:00:00Z' }, 'to'],
      ['format not offered', { format: 'xml' }, 'format'],
    ] as [string, Record<string, unknown>, string][]
  ).map(([name, query, field]) => ({ route: 'GET /audit', as: 'auditor' as const, name, query, field })),
  {
    route: 'GET /audit',
    as: 'auditor',
    name: 'from as an ISO-8601 week date the validator accepts and Date cannot parse',
    query: { from: '2024-W01' },
    field: 'from',
  },
  {
    route: 'GET /audit',
    as: 'auditor',
    name: 'a cursor this API never issued',
    query: { cursor: 'not-a-real-cursor' },
    field: 'cursor',
  },
  ...pageCases('GET /audit', 'auditor'),

  // ------------------------------------------------------------------------------ GET /audit/replay
  ...(['asOf', 'patient'] as const).map((field) => ({
    route: 'GET /audit/replay',
    as: 'auditor' as const,
    name: `${field} missing`,
    query: without(replayQuery, field),
    field,
  })),
  ...Object.entries(MALFORMED_ADDRESSES).map(([what, patient]) => ({
    route: 'GET /audit/replay',
    as: 'auditor' as const,
    name: `patient address ${what}`,
    query: spoil(replayQuery, { patient }),
    field: 'patient',
  })),
  ...(
    [
      ['asOf not a time', { asOf: 'now' }],
      ['asOf 30 February', { asOf: '2024-02-30T00:00:00Z' }],
      ['asOf year 0', { asOf: '0000-01-01T00:00:00Z' }],
      ['asOf beyond the range of dates', { asOf: '+275761-01-01T00:00:00Z' }],
      ['asOf as unix seconds', { asOf: '1700000000' }],
    ] as const
  ).map(([name, change]) => ({
    route: 'GET /audit/replay',
    as: 'auditor' as const,
    name,
    query: spoil(replayQuery, change),
    field: 'asOf',
  })),
  ...(
    [
      ['asOf as an ISO-8601 week date', '2024-W01'],
      ['asOf in ISO-8601 basic format', '20240101T000000Z'],
      ['asOf with a decimal comma', '2024-01-01T00:00:00,5Z'],
    ] as const
  ).map(([name, asOf]) => ({
    route: 'GET /audit/replay',
    as: 'auditor' as const,
    name,
    query: spoil(replayQuery, { asOf }),
    field: 'asOf',
  })),
  {
    route: 'GET /audit/replay',
    as: 'auditor',
    name: 'an extra query parameter',
    query: spoil(replayQuery, { provider: randomAddress() }),
    field: 'provider',
  },

  // -------------------------------------------------------------------------------- POST /auth/verify
  ...(['message', 'signature'] as const).map((field) => ({
    route: 'POST /auth/verify',
    as: 'anonymous' as const,
    name: `${field} missing`,
    body: without(siweBody, field),
    field,
  })),
  ...(
    [
      ['signature too short', { signature: '0x1234' }, 'signature'],
      ['signature not hex', { signature: `0x${'z'.repeat(130)}` }, 'signature'],
      ['signature as a number', { signature: 1 }, 'signature'],
      ['message as a number', { message: 42 }, 'message'],
      ['message over 4096 characters', { message: 'm'.repeat(4097) }, 'message'],
      ['message not an EIP-4361 message', { message: 'Please let me in' }, 'message'],
      ['an extra field', { address: randomAddress() }, 'address'],
    ] as const
  ).map(([name, change, field]) => ({
    route: 'POST /auth/verify',
    as: 'anonymous' as const,
    name,
    body: spoil(siweBody, change),
    field,
  })),

  // ---------------------------------------------------------------- PUT /directory/:address/profile
  ...Object.entries(MALFORMED_ADDRESSES).map(([what, address]) => ({
    route: 'PUT /directory/:address/profile',
    as: 'admin' as const,
    name: `address ${what}`,
    url: `/directory/${address}/profile`,
    body: profile,
    field: 'address',
  })),
  ...(
    [
      ['name missing', { specialty: 'Neurology' }, 'name'],
      ['specialty missing', { name: 'Dr. Grace Hopper' }, 'specialty'],
      ['name over 100 characters', { ...profile, name: 'n'.repeat(101) }, 'name'],
      ['name blank', { ...profile, name: '    ' }, 'name'],
      ['specialty as a number', { ...profile, specialty: 7 }, 'specialty'],
      ['specialty over 100 characters', { ...profile, specialty: 's'.repeat(101) }, 'specialty'],
      ['an extra field', { ...profile, roles: ['admin'] }, 'roles'],
    ] as const
  ).map(([name, body, field]) => ({
    route: 'PUT /directory/:address/profile',
    as: 'admin' as const,
    name,
    url: profileUrl,
    body,
    field,
  })),

  // ---------------------------------------------------------------------------- POST /emergency/reasons
  ...Object.entries(MALFORMED_ADDRESSES).map(([what, patient]) => ({
    route: 'POST /emergency/reasons',
    as: 'emergency' as const,
    name: `patient address ${what}`,
    body: spoil(emergencyReason, { patient }),
    field: 'patient',
  })),
  ...(
    [
      ['reason too short', { reason: 'urgent' }, 'reason'],
      ['reason too short once trimmed', { reason: '   urgent!    ' }, 'reason'],
      ['reason over 2000 characters', { reason: 'r'.repeat(2001) }, 'reason'],
      ['reason as a list', { reason: ['Unconscious on arrival'] }, 'reason'],
      ['an extra field', { expiresAt: 9999999999 }, 'expiresAt'],
    ] as const
  ).map(([name, change, field]) => ({
    route: 'POST /emergency/reasons',
    as: 'emergency' as const,
    name,
    body: spoil(emergencyReason, change),
    field,
  })),
  {
    route: 'POST /emergency/reasons',
    as: 'emergency',
    name: 'reason missing',
    body: without(emergencyReason, 'reason'),
    field: 'reason',
  },

  // ------------------------------------------------------------------------------------------ lists
  { route: 'GET /consent-requests', as: 'patient', name: 'as=admin', query: { as: 'admin' }, field: 'as' },
  {
    route: 'GET /consent-requests',
    as: 'patient',
    name: 'status unknown',
    query: { status: 'open' },
    field: 'status',
  },
  ...pageCases('GET /consent-requests', 'patient'),
  ...pageCases('GET /audit/me', 'patient'),
  ...pageCases('GET /providers/me/patients', 'provider'),
  ...pageCases('GET /notifications/me', 'patient'),
  ...pageCases('GET /directory/providers', 'patient'),

  // ---------------------------------------------------------------------------------------- sessions
  ...Object.entries(MALFORMED_ADDRESSES).map(([what, patient]) => ({
    route: 'POST /sessions',
    as: 'provider' as const,
    name: `patient address ${what}`,
    body: spoil(sessionBody, { patient }),
    field: 'patient',
  })),
  ...['patient', 'category', 'startsAt', 'durationMinutes'].map((field) => ({
    route: 'POST /sessions',
    as: 'provider' as const,
    name: `${field} missing`,
    body: without(sessionBody, field),
    field,
  })),
  ...(
    [
      ['unknown category', { category: 'genome' }, 'category'],
      ['startsAt without a time zone', { startsAt: '2030-01-01T10:00:00' }, 'startsAt'],
      ['startsAt as unix seconds', { startsAt: 1_900_000_000 }, 'startsAt'],
      ['startsAt 30 February', { startsAt: '2030-02-30T10:00:00Z' }, 'startsAt'],
      ['startsAt in the past', { startsAt: '2020-01-01T10:00:00Z' }, 'startsAt'],
      ['durationMinutes under 5', { durationMinutes: 4 }, 'durationMinutes'],
      ['durationMinutes over 240', { durationMinutes: 241 }, 'durationMinutes'],
      ['durationMinutes not whole', { durationMinutes: 30.5 }, 'durationMinutes'],
      ['durationMinutes as a string', { durationMinutes: '30' }, 'durationMinutes'],
      ['mode unknown', { mode: 'hologram' }, 'mode'],
      [
        'a provider field (impersonation)',
        { provider: '0x000000000000000000000000000000000000dead' },
        'provider',
      ],
    ] as const
  ).map(([name, change, field]) => ({
    route: 'POST /sessions',
    as: 'provider' as const,
    name,
    body: spoil(sessionBody, change),
    field,
  })),
  ...pageCases('GET /sessions', 'patient'),
  ...(
    [
      ['GET /sessions/:id', 'patient', undefined],
      ['POST /sessions/:id/invitations', 'provider', { participant: randomAddress(), role: 'family' }],
      ['POST /sessions/:id/admissions', 'patient', { participant: randomAddress() }],
      ['POST /sessions/:id/recording-consent', 'patient', { consent: true }],
      ['POST /sessions/:id/end', 'provider', undefined],
      ['POST /sessions/:id/credentials', 'patient', undefined],
    ] as const
  ).flatMap(([route, as, body]) =>
    [
      ['id not a UUID', 'not-a-uuid'],
      ['id in upper case', randomUUID().toUpperCase()],
    ].map(([name, id]) => ({
      route,
      as,
      name: name!,
      url: route.split(' ')[1]!.replace(':id', id!),
      body,
      field: 'id',
    })),
  ),
  ...(
    [
      ['participant malformed', { participant: '0x1234', role: 'family' }, 'participant'],
      ['participant missing', { role: 'family' }, 'participant'],
      ['role unknown', { participant: randomAddress(), role: 'surgeon' }, 'role'],
      ['role missing', { participant: randomAddress() }, 'role'],
      ['an extra field', { participant: randomAddress(), role: 'family', admitted: true }, 'admitted'],
    ] as const
  ).map(([name, body, field]) => ({
    route: 'POST /sessions/:id/invitations',
    as: 'provider' as const,
    name,
    url: `/sessions/${randomUUID()}/invitations`,
    body,
    field,
  })),
  ...(
    [
      ['participant malformed', { participant: 'alice.eth' }, 'participant'],
      ['participant missing', {}, 'participant'],
    ] as const
  ).map(([name, body, field]) => ({
    route: 'POST /sessions/:id/admissions',
    as: 'patient' as const,
    name,
    url: `/sessions/${randomUUID()}/admissions`,
    body,
    field,
  })),
  ...(
    [
      ['consent as a string', { consent: 'true' }],
      ['consent null', { consent: null }],
      ['consent missing', {}],
    ] as const
  ).map(([name, body]) => ({
    route: 'POST /sessions/:id/recording-consent',
    as: 'patient' as const,
    name,
    url: `/sessions/${randomUUID()}/recording-consent`,
    body,
    field: 'consent',
  })),

  // ---------------------------------------------------------------------------------------- messaging
  ...(['publicKey', 'signature'] as const).map((field) => ({
    route: 'PUT /messaging/keys/me',
    as: 'patient' as const,
    name: `${field} missing`,
    body: without((w: World) => messagingKeyBody(w.patient), field),
    field,
  })),
  ...(
    [
      ['publicKey padded base64', { publicKey: `${Buffer.alloc(32, 7).toString('base64')}` }, 'publicKey'],
      ['publicKey as hex', { publicKey: '07'.repeat(32) }, 'publicKey'],
      ['publicKey of 31 bytes', { publicKey: Buffer.alloc(31, 7).toString('base64url') }, 'publicKey'],
      ['publicKey as a number', { publicKey: 7 }, 'publicKey'],
      ['signature too short', { signature: `0x${'11'.repeat(20)}` }, 'signature'],
      ['signature not hex', { signature: `0x${'zz'.repeat(65)}` }, 'signature'],
      ['an account field (impersonation)', { account: randomAddress() }, 'account'],
    ] as const
  ).map(([name, change, field]) => ({
    route: 'PUT /messaging/keys/me',
    as: 'patient' as const,
    name,
    body: spoil((w: World) => messagingKeyBody(w.patient), change),
    field,
  })),
  ...Object.entries(MALFORMED_ADDRESSES).map(([what, address]) => ({
    route: 'GET /messaging/keys/:address',
    as: 'patient' as const,
    name: `address ${what}`,
    url: `/messaging/keys/${address}`,
    field: 'address',
  })),
  ...Object.entries(MALFORMED_ADDRESSES).map(([what, patient]) => ({
    route: 'POST /conversations',
    as: 'patient' as const,
    name: `patient address ${what}`,
    body: spoil(conversationBody, { patient }),
    field: 'patient',
  })),
  ...(
    [
      ['patient missing', { patient: undefined }, 'patient'],
      ['providers missing', { providers: undefined }, 'providers'],
      ['providers empty', { providers: [] }, 'providers'],
      ['providers as one address', { providers: randomAddress() }, 'providers'],
      ['providers with a malformed address', { providers: ['0x1234'] }, 'providers'],
      [
        'providers naming one twice',
        { providers: [`0x${'ab'.repeat(20)}`, `0x${'AB'.repeat(20)}`] },
        'providers',
      ],
      ['providers over 20', { providers: Array.from({ length: 21 }, () => randomAddress()) }, 'providers'],
      ['a startedBy field', { startedBy: randomAddress() }, 'startedBy'],
    ] as const
  ).map(([name, change, field]) => ({
    route: 'POST /conversations',
    as: 'patient' as const,
    name,
    body: spoil(conversationBody, change),
    field,
  })),
  {
    route: 'GET /conversations',
    as: 'patient',
    name: 'hidden=yes',
    query: { hidden: 'yes' },
    field: 'hidden',
  },
  ...pageCases('GET /conversations', 'patient'),
  ...(
    [
      ['GET /conversations/:id', ''],
      ['GET /conversations/:id/messages', '/messages'],
      ['POST /conversations/:id/messages', '/messages'],
      ['POST /conversations/:id/hide', '/hide'],
      ['POST /conversations/:id/unhide', '/unhide'],
      ['POST /conversations/:id/participants', '/participants'],
    ] as const
  ).flatMap(([route, suffix]) =>
    [
      ['id not a UUID', 'not-a-uuid'],
      ['id in upper case', randomUUID().toUpperCase()],
    ].map(([name, id]) => ({
      route,
      as: 'patient' as const,
      name: name!,
      url: `/conversations/${id}${suffix}`,
      body:
        route === 'POST /conversations/:id/messages'
          ? envelopeFor([randomAddress()])
          : route === 'POST /conversations/:id/participants'
            ? { provider: randomAddress() }
            : undefined,
      field: 'id',
    })),
  ),
  {
    route: 'GET /conversations/:id/messages',
    as: 'patient',
    name: 'order sideways',
    url: `/conversations/${randomUUID()}/messages`,
    query: { order: 'sideways' },
    field: 'order',
  },
  ...(
    [
      ['limit 0', { limit: '0' }, 'limit'],
      ['limit above 200', { limit: '201' }, 'limit'],
      ['oversized cursor', { cursor: 'c'.repeat(501) }, 'cursor'],
      ['unknown query parameter', { after: '3' }, 'after'],
    ] as const
  ).map(([name, query, field]) => ({
    route: 'GET /conversations/:id/messages',
    as: 'patient' as const,
    name,
    url: `/conversations/${randomUUID()}/messages`,
    query,
    field,
  })),
  ...(
    [
      ['messageId missing', { messageId: undefined }, 'messageId'],
      ['messageId not a UUID', { messageId: 'message-1' }, 'messageId'],
      ['kind missing', { kind: undefined }, 'kind'],
      ['kind unknown', { kind: 'diagnosis' }, 'kind'],
      ['ciphertext missing', { ciphertext: undefined }, 'ciphertext'],
      ['ciphertext in padded base64', { ciphertext: 'q83v+/==' + 'A'.repeat(30) }, 'ciphertext'],
      ['ciphertext shorter than a tag', { ciphertext: 'AAAA' }, 'ciphertext'],
      ['ciphertext over 64 KiB', { ciphertext: 'A'.repeat(87_400) }, 'ciphertext'],
      ['ciphertext as plaintext JSON', { ciphertext: { text: 'hello' } }, 'ciphertext'],
      ['iv missing', { iv: undefined }, 'iv'],
      ['iv of 16 bytes', { iv: Buffer.alloc(16).toString('base64url') }, 'iv'],
      ['wrappedKeys missing', { wrappedKeys: undefined }, 'wrappedKeys'],
      ['wrappedKeys as a list', { wrappedKeys: ['AAAA'] }, 'wrappedKeys'],
      ['wrappedKeys keyed by a name', { wrappedKeys: { alice: 'AAAA' } }, 'wrappedKeys'],
      ['wrappedKeys with a number', { wrappedKeys: { [`0x${'ab'.repeat(20)}`]: 42 } }, 'wrappedKeys'],
      ['wrappedKeys empty', { wrappedKeys: {} }, 'wrappedKeys'],
      ['urgent as a string', { urgent: 'yes' }, 'urgent'],
      ['requiresAcknowledgment as a number', { requiresAcknowledgment: 1 }, 'requiresAcknowledgment'],
      ['attachment size negative', { kind: 'attachment', attachment: { blobId: 'bafy1', size: -1 } }, 'size'],
      [
        'attachment blobId with a slash',
        { kind: 'attachment', attachment: { blobId: '../x', size: 64 } },
        'blobId',
      ],
      ['a sender field (impersonation)', { sender: randomAddress() }, 'sender'],
    ] as const
  ).map(([name, change, field]) => ({
    route: 'POST /conversations/:id/messages',
    as: 'patient' as const,
    name,
    url: `/conversations/${randomUUID()}/messages`,
    body: spoil((w: World) => envelopeFor([w.patient.address, w.provider.address]), change),
    field,
  })),
  ...(['acknowledgment', 'read'] as const).flatMap((receipt) => [
    {
      route: `POST /conversations/:id/messages/:messageId/${receipt}`,
      as: 'patient' as const,
      name: 'messageId not a UUID',
      url: `/conversations/${randomUUID()}/messages/first/${receipt}`,
      field: 'messageId',
    },
    {
      route: `POST /conversations/:id/messages/:messageId/${receipt}`,
      as: 'patient' as const,
      name: 'id not a UUID',
      url: `/conversations/nope/messages/${randomUUID()}/${receipt}`,
      field: 'id',
    },
  ]),
  ...(
    [
      ['provider malformed', { provider: 'alice.eth' }, 'provider'],
      ['provider missing', {}, 'provider'],
      ['providers instead of provider', { providers: [randomAddress()] }, 'providers'],
    ] as const
  ).map(([name, body, field]) => ({
    route: 'POST /conversations/:id/participants',
    as: 'patient' as const,
    name,
    url: `/conversations/${randomUUID()}/participants`,
    body,
    field,
  })),
  ...Object.entries(MALFORMED_ADDRESSES).map(([what, address]) => ({
    route: 'POST /conversations/:id/participants/:address/remove',
    as: 'patient' as const,
    name: `address ${what}`,
    url: `/conversations/${randomUUID()}/participants/${address}/remove`,
    field: 'address',
  })),
  {
    route: 'POST /conversations/:id/participants/:address/remove',
    as: 'patient',
    name: 'id not a UUID',
    url: `/conversations/nope/participants/${randomAddress()}/remove`,
    field: 'id',
  },
];

// ---------------------------------------------------------------------------------------------------

/** The valid request each route's cases start from; must succeed (checked below). */
const VALID: Record<
  string,
  {
    as: Caller;
    status: number;
    url?: Build<string>;
    query?: Build<Record<string, string>>;
    body?: Build<unknown>;
  }
> = {
  'POST /consent-requests': {
    as: 'provider',
    status: 201,
    body: spoil(consentRequest, { patient: randomAddress() }),
  },
  'POST /consent-requests/:id/decline': {
    as: 'patient',
    status: 204,
    url: async (w) => {
      const res = await w.api.post(
        '/consent-requests',
        { ...consentRequest(w), category: 'vitals' },
        w.provider.token,
      );
      return `/consent-requests/${res.json<{ id: string }>().id}/decline`;
    },
  },
  'GET /audit': {
    as: 'auditor',
    status: 200,
    query: { patient: randomAddress(), from: '2024-01-01T00:00:00Z' },
  },
  'GET /audit/replay': { as: 'auditor', status: 200, query: replayQuery },
  'POST /auth/verify': { as: 'anonymous', status: 200, body: siweBody },
  'PUT /directory/:address/profile': { as: 'admin', status: 200, url: profileUrl, body: profile },
  'POST /emergency/reasons': { as: 'emergency', status: 201, body: emergencyReason },
  'GET /consent-requests': {
    as: 'patient',
    status: 200,
    query: { as: 'provider', status: 'pending', limit: '5' },
  },
  'GET /audit/me': { as: 'patient', status: 200, query: { limit: '200' } },
  'GET /providers/me/patients': { as: 'provider', status: 200, query: { limit: '1' } },
  'GET /notifications/me': { as: 'patient', status: 200, query: { limit: '10' } },
  'GET /directory/providers': { as: 'patient', status: 200, query: { limit: '10' } },
  'POST /sessions': {
    as: 'provider',
    status: 201,
    body: async (w: World) => {
      const patient = randomAddress();
      await w.api.grant(patient, w.provider.address, 'telehealth', new Date(Date.now() + DAY * 1000));
      return { ...sessionBody(w), patient };
    },
  },
  'GET /sessions': { as: 'patient', status: 200, query: { limit: '10' } },
  'PUT /messaging/keys/me': { as: 'patient', status: 200, body: (w: World) => messagingKeyBody(w.patient) },
  'POST /conversations': {
    as: 'patient',
    status: 201,
    body: async (w: World) => {
      await w.api.grant(
        w.patient.address,
        w.provider.address,
        'messaging',
        new Date(Date.now() + DAY * 1000),
      );
      return conversationBody(w);
    },
  },
  'GET /conversations': { as: 'patient', status: 200, query: { hidden: 'true', limit: '10' } },
  'POST /conversations/:id/messages': {
    as: 'patient',
    status: 201,
    url: async (w: World) =>
      `/conversations/${await startConversation(w.api, w.patient, w.provider)}/messages`,
    body: (w: World) => envelopeFor([w.patient.address, w.provider.address], { urgent: true }),
  },
};

async function build<T>(value: Build<T> | undefined, w: World): Promise<T | undefined> {
  return typeof value === 'function' ? (value as (w: World) => T | Promise<T>)(w) : value;
}

function tokenOf(w: World, caller: Caller): string | undefined {
  return caller === 'anonymous' ? undefined : w[caller].token;
}

function messageOf(res: Response): string {
  try {
    const { message } = res.json<{ message?: unknown }>();
    return Array.isArray(message) ? message.join('; ') : String(message);
  } catch {
    return res.body;
  }
}

describe('bad input is refused at the edge, naming the field, and appends nothing', () => {
  let w: World;
  before(async () => {
    const api = await TestApi.start();
    w = {
      api,
      patient: await api.newUser(),
      provider: await api.newUser('provider'),
      auditor: await api.newUser('auditor'),
      admin: await api.newUser('admin'),
      emergency: await api.newUser('emergency'),
      everyone: await api.newUser('provider', 'emergency', 'auditor', 'admin'),
    };
  });
  after(() => w.api.close());

  test('every route that validates a body, params or query has bad-input cases', () => {
    const covered = new Set(CASES.map((c) => c.route));
    const missing = nestRoutes(w.api.app, w.api.routes)
      .filter((r) => r.inputs.length > 0 && !covered.has(r.key))
      .map((r) => `${r.key} (${r.inputs.join(', ')})`);
    assert.deepEqual(missing, [], `no bad-input case for: ${missing.join(', ')}; add some to CASES`);
  });

  test('the valid requests the cases start from are accepted', async () => {
    for (const [route, valid] of Object.entries(VALID)) {
      const [method, path] = route.split(' ') as [string, string];
      const res = await w.api.request(method, (await build(valid.url, w)) ?? path, {
        token: tokenOf(w, valid.as),
        query: await build(valid.query, w),
        body: await build(valid.body, w),
      });
      assert.equal(res.statusCode, valid.status, `${route}: ${res.body}`);
    }
  });

  for (const c of CASES) {
    test(`${c.route}: ${c.name} → ${c.status ?? 400}`, c.todo ? { todo: c.todo } : {}, async () => {
      const [method, path] = c.route.split(' ') as [string, string];
      const url = (await build(c.url, w)) ?? path;
      const query = (await build(c.query, w)) as RequestOptions['query'];
      const body = await build(c.body, w);
      const before = await w.api.eventCount();
      const res = await w.api.request(method, url, {
        token: tokenOf(w, c.as),
        query,
        ...(c.raw ? { payload: c.raw.payload, headers: { 'content-type': c.raw.contentType } } : { body }),
      });
      assert.equal(res.statusCode, c.status ?? 400, res.body.slice(0, 300));
      if (c.field !== null)
        assert.match(messageOf(res), new RegExp(`\\b${c.field}\\b`), 'the message names the field');
      assert.equal(await w.api.eventCount(), before, 'nothing was appended');
    });
  }

  test('a body over MAX_BODY_BYTES is refused (413) on every route that takes one, before anything is appended', async () => {
    const tooBig = JSON.stringify({ padding: 'x'.repeat(w.api.config.MAX_BODY_BYTES) });
    const routes = w.api.routes.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));
    assert.ok(routes.length >= 5);
    const failures: string[] = [];
    for (const route of routes) {
      const url = route.url.replace(/:id\b/g, randomUUID()).replace(/:address\b/g, w.provider.address);
      const before = await w.api.eventCount();
      const res = await w.api.request(route.method, url, {
        token: w.everyone.token,
        payload: tooBig,
        headers: { 'content-type': 'application/json' },
      });
      if (res.statusCode !== 413) failures.push(`${route.key}: ${res.statusCode} ${res.body.slice(0, 120)}`);
      if ((await w.api.eventCount()) !== before) failures.push(`${route.key}: appended events`);
    }
    assert.deepEqual(failures, []);
  });
});
