// Suite 4: bad input is refused at the edge. Each case is a request from a caller who may use the
// route, with one thing wrong: answered 400 (or 413 for a body over MAX_BODY_BYTES or the route's own
// limit, 415 for a media type the route does not take) with a message naming the field, and nothing
// appended to the event store.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { MAX_RECORD_BYTES, MAX_RECORD_KEYS, WRAPPED_RECORD_KEY_LENGTH } from '@custos/domain';
import { generateKeyPair, wrapKey } from '@custos/e2ee';
import { Wallet } from 'ethers';
import { SiweMessage } from 'siwe';
import type { NonceResponse } from '../../apps/api/src/auth/auth.dto';
import { siweFields } from '../../apps/api/src/auth/testing';
import { DAY, randomAddress, type RequestOptions, type Response, TestApi, type User } from './harness';
import { MAX_BODY_DEPTH } from '../../apps/api/src/security/body-depth';
import { LARGE_BODY_ROUTES } from '../../apps/api/src/security/body-limits';
import { nestRoutes } from './routes';
import { envelopeFor, messagingKeyBody, startConversation } from '../messaging/request-samples';
import { withMessagingKey } from '../messaging/e2e-crypto';
import { randomRecordId, recordSubmission, storedRecord } from '../records/request-samples';

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
/** A valid `POST /records` body of the patient's (503 here: no contract to relay it to). */
const recordBody = async (w: World) => {
  const { publicKey } = await generateKeyPair();
  return (await recordSubmission(w.patient.address, { [w.patient.address]: publicKey })).body;
};
type RecordBody = Awaited<ReturnType<typeof recordBody>>;
const changedRecord = (change: (valid: RecordBody) => Record<string, unknown>) => async (w: World) =>
  change(await recordBody(w));
/** A record key wrapped for someone: the server cannot tell for whom, only its shape. */
const wrappedKey = async () => wrapKey(new Uint8Array(32), (await generateKeyPair()).publicKey);
const keysBody = async (w: World) => ({
  keys: [{ recipient: w.patient.address, wrappedKey: await wrappedKey() }],
});

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
  ...Object.entries(MALFORMED_ADDRESSES).map(([what, patient]) => ({
    route: 'GET /consents/fhir',
    as: 'auditor' as const,
    name: `patient address ${what}`,
    query: { patient },
    field: 'patient',
  })),
  {
    route: 'GET /consents/fhir',
    as: 'auditor',
    name: 'patient given twice',
    query: { patient: [randomAddress(), randomAddress()] },
    field: 'patient',
  },
  {
    route: 'GET /consents/fhir',
    as: 'patient',
    name: 'unknown query parameter',
    query: { format: 'json' },
    field: 'format',
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
  {
    route: 'POST /consent-requests',
    as: 'provider',
    name: 'a field nested 5,000 arrays deep (overflowed the ValidationPipe: 500)',
    raw: {
      payload: `{"patient":${'['.repeat(5_000)}1${']'.repeat(5_000)},"category":"vitals","purpose":"Review","durationSeconds":3600}`,
      contentType: 'application/json',
    },
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

  // ------------------------------------------------------------------------------------------ records
  ...(['cid', 'category', 'supersedes', 'metadata', 'keys', 'deadline', 'signature'] as const).map(
    (field) => ({
      route: 'POST /records',
      as: 'patient' as const,
      name: `${field} missing`,
      body: without(recordBody, field),
      field,
    }),
  ),
  ...(
    [
      ['cid empty', () => ({ cid: '' }), 'cid'],
      ['cid not a CID', () => ({ cid: 'bafy-not-a-cid' }), 'cid'],
      ['cid a CIDv0', () => ({ cid: 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG' }), 'cid'],
      ['cid in upper case (another spelling of the CID)', (v) => ({ cid: v.cid.toUpperCase() }), 'cid'],
      ['cid as a number', () => ({ cid: 42 }), 'cid'],
      ['category unknown', () => ({ category: 'genome' }), 'category'],
      ['category as an operator object', () => ({ category: { $ne: null } }), 'category'],
      ['supersedes too short', () => ({ supersedes: '0x1234' }), 'supersedes'],
      ['supersedes without 0x', () => ({ supersedes: 'ab'.repeat(32) }), 'supersedes'],
      ['supersedes a CID instead of a record id', (v) => ({ supersedes: v.cid }), 'supersedes'],
      ['metadata as a string', () => ({ metadata: 'Lipid panel' }), 'metadata'],
      ['metadata as a list', (v) => ({ metadata: [v.metadata] }), 'metadata'],
      ['metadata null', () => ({ metadata: null }), 'metadata'],
      [
        'metadata.iv of 16 bytes',
        (v) => ({ metadata: { ...v.metadata, iv: Buffer.alloc(16).toString('base64url') } }),
        'iv',
      ],
      ['metadata.iv missing', (v) => ({ metadata: { ciphertext: v.metadata.ciphertext } }), 'iv'],
      [
        'metadata.ciphertext over 4 KiB',
        (v) => ({ metadata: { ...v.metadata, ciphertext: 'A'.repeat(5463) } }),
        'ciphertext',
      ],
      [
        'metadata.ciphertext in padded base64',
        (v) => ({ metadata: { ...v.metadata, ciphertext: 'q83v+/==' } }),
        'ciphertext',
      ],
      ['metadata.ciphertext empty', (v) => ({ metadata: { ...v.metadata, ciphertext: '' } }), 'ciphertext'],
      [
        'metadata with a plaintext title',
        (v) => ({ metadata: { ...v.metadata, title: 'Lipid panel' } }),
        'title',
      ],
      ['keys empty', () => ({ keys: [] }), 'keys'],
      ['keys as one key', (v) => ({ keys: v.keys[0] }), 'keys'],
      ['keys of plain strings', (v) => ({ keys: [v.keys[0]!.wrappedKey] }), 'keys'],
      ['a null key', () => ({ keys: [null] }), 'keys'],
      [
        `keys over ${MAX_RECORD_KEYS}`,
        (v) => ({
          keys: Array.from({ length: MAX_RECORD_KEYS + 1 }, () => ({
            ...v.keys[0],
            recipient: randomAddress(),
          })),
        }),
        'keys',
      ],
      [
        'a key with a malformed recipient',
        (v) => ({ keys: [{ ...v.keys[0], recipient: 'alice.eth' }] }),
        'recipient',
      ],
      [
        'a key wrapped to the wrong length',
        (v) => ({ keys: [{ ...v.keys[0], wrappedKey: v.keys[0]!.wrappedKey.slice(1) }] }),
        'wrappedKey',
      ],
      [
        'a key in padded base64',
        (v) => ({ keys: [{ ...v.keys[0], wrappedKey: `${v.keys[0]!.wrappedKey.slice(2)}==` }] }),
        'wrappedKey',
      ],
      [
        'two keys for one recipient (differently cased)',
        (v) => ({
          keys: [
            v.keys[0],
            { ...v.keys[0], recipient: v.keys[0]!.recipient.toUpperCase().replace('0X', '0x') },
          ],
        }),
        'keys',
      ],
      ['a key with an extra field', (v) => ({ keys: [{ ...v.keys[0], publicKey: 'AAAA' }] }), 'publicKey'],
      ['deadline negative', () => ({ deadline: -1 }), 'deadline'],
      ['deadline as a string', (v) => ({ deadline: String(v.deadline) }), 'deadline'],
      ['deadline not whole', (v) => ({ deadline: v.deadline + 0.5 }), 'deadline'],
      ['signature not hex', () => ({ signature: `0x${'zz'.repeat(65)}` }), 'signature'],
      // 64 bytes is a compact (EIP-2098) signature, accepted like 65.
      ['signature of 63 bytes', () => ({ signature: `0x${'11'.repeat(63)}` }), 'signature'],
      ['signature without 0x', () => ({ signature: '11'.repeat(65) }), 'signature'],
      ['a patient field (impersonation)', () => ({ patient: randomAddress() }), 'patient'],
      ['a size field (the server measures the blob)', () => ({ size: 1 }), 'size'],
      ['a nonce field', () => ({ nonce: 0 }), 'nonce'],
    ] as [string, (valid: RecordBody) => Record<string, unknown>, string][]
  ).map(([name, change, field]) => ({
    route: 'POST /records',
    as: 'patient' as const,
    name,
    body: changedRecord((valid) => ({ ...valid, ...change(valid) })),
    field,
  })),
  { route: 'POST /records', as: 'patient', name: 'no body at all', field: 'cid' },
  {
    route: 'POST /records/blobs',
    as: 'patient',
    name: 'the ciphertext sent as JSON',
    raw: { payload: '{"blob":"AAAA"}', contentType: 'application/json' },
    status: 415,
    field: null,
  },
  {
    route: 'POST /records/blobs',
    as: 'patient',
    name: 'the ciphertext sent as text',
    raw: { payload: 'AAAA', contentType: 'text/plain' },
    status: 415,
    field: null,
  },
  {
    route: 'POST /records/blobs',
    as: 'patient',
    name: 'an empty blob',
    raw: { payload: '', contentType: 'application/octet-stream' },
    field: null,
  },
  ...Object.entries(MALFORMED_ADDRESSES).map(([what, patient]) => ({
    route: 'GET /records',
    as: 'provider' as const,
    name: `patient address ${what}`,
    query: { patient },
    field: 'patient',
  })),
  {
    route: 'GET /records',
    as: 'provider',
    name: 'patient given twice',
    query: { patient: [randomAddress(), randomAddress()] },
    field: 'patient',
  },
  {
    route: 'GET /records',
    as: 'patient',
    name: 'a cursor this list never gave',
    query: { cursor: 'not-a-real-cursor' },
    field: 'cursor',
  },
  ...pageCases('GET /records', 'patient'),
  ...(
    [
      ['category missing', {}],
      ['category unknown', { category: 'genome' }],
      ['category given twice', { category: ['lab_results', 'imaging'] }],
    ] as const
  ).map(([name, query]) => ({
    route: 'GET /records/recipients',
    as: 'patient' as const,
    name,
    query,
    field: 'category',
  })),
  {
    route: 'GET /records/recipients',
    as: 'patient',
    name: 'unknown query parameter',
    query: { category: 'lab_results', patient: randomAddress() },
    field: 'patient',
  },
  ...(['', '/blob', '/key', '/keys'] as const).flatMap((suffix) =>
    (
      [
        ['id too short', '0x1234'],
        ['id not hex', `0x${'g'.repeat(64)}`],
        ['id without 0x', 'ab'.repeat(32)],
        ['id of 65 hex digits', `0x${'a'.repeat(65)}`],
        ['id a UUID', randomUUID()],
        ['id a CID instead of a record id', 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'],
      ] as const
    ).map(([name, id]) => ({
      route: suffix === '/keys' ? 'POST /records/:id/keys' : `GET /records/:id${suffix}`,
      as: 'patient' as const,
      name,
      url: `/records/${id}${suffix}`,
      body: suffix === '/keys' ? keysBody : undefined,
      field: 'id',
    })),
  ),
  ...(
    [
      ['keys missing', async () => ({}), 'keys'],
      ['keys empty', async () => ({ keys: [] }), 'keys'],
      [
        `keys over ${MAX_RECORD_KEYS}`,
        async () => {
          const wrapped = await wrappedKey();
          return {
            keys: Array.from({ length: MAX_RECORD_KEYS + 1 }, () => ({
              recipient: randomAddress(),
              wrappedKey: wrapped,
            })),
          };
        },
        'keys',
      ],
      [
        'two keys for one recipient',
        async (w: World) => {
          const { keys } = await keysBody(w);
          return { keys: [...keys, { ...keys[0]!, wrappedKey: await wrappedKey() }] };
        },
        'keys',
      ],
      [
        'a key with a malformed recipient',
        async () => ({ keys: [{ recipient: '0x1234', wrappedKey: await wrappedKey() }] }),
        'recipient',
      ],
      [
        `a key of ${WRAPPED_RECORD_KEY_LENGTH + 1} characters`,
        async (w: World) => ({
          keys: [{ recipient: w.patient.address, wrappedKey: `${await wrappedKey()}A` }],
        }),
        'wrappedKey',
      ],
      [
        'a recordId field',
        async (w: World) => ({ ...(await keysBody(w)), recordId: randomRecordId() }),
        'recordId',
      ],
    ] as [string, (w: World) => Promise<Record<string, unknown>>, string][]
  ).map(([name, body, field]) => ({
    route: 'POST /records/:id/keys',
    as: 'patient' as const,
    name,
    url: `/records/${randomRecordId()}/keys`,
    body,
    field,
  })),
];

// ---------------------------------------------------------------------------------------------------

/**
 * Routes that take a body over MAX_BODY_BYTES, of one media type, up to a limit of their own (README,
 * "Records"); any other body sent to them is held to MAX_BODY_BYTES like everywhere else.
 */
const OWN_BODY_LIMITS: Record<string, { contentType: string; limit: number }> = {
  'POST /records/blobs': { contentType: 'application/octet-stream', limit: MAX_RECORD_BYTES },
};

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
  'GET /consents/fhir': { as: 'auditor', status: 200, query: { patient: randomAddress() } },
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
  // Past the guards and validation, `POST /records` needs the contract to relay to: 503 here.
  'POST /records': { as: 'patient', status: 503, body: recordBody },
  'POST /records/:id/keys': {
    as: 'patient',
    status: 204,
    url: async (w: World) =>
      `/records/${(await storedRecord(w.api, await withMessagingKey(w.api, w.patient))).id}/keys`,
    body: keysBody,
  },
  'GET /records': { as: 'patient', status: 200, query: { limit: '10' } },
  'GET /records/recipients': { as: 'patient', status: 200, query: { category: 'lab_results' } },
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
    const maxBody = w.api.config.MAX_BODY_BYTES;
    const tooBig = JSON.stringify({ padding: 'x'.repeat(maxBody) });
    const routes = w.api.routes.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));
    assert.ok(routes.length >= 5);
    const unserved = Object.keys(OWN_BODY_LIMITS).filter((key) => !routes.some((r) => r.key === key));
    assert.deepEqual(unserved, [], 'OWN_BODY_LIMITS names routes that are not served');
    const failures: string[] = [];
    for (const route of routes) {
      const url = route.url.replace(/:id\b/g, randomUUID()).replace(/:address\b/g, w.provider.address);
      const own = OWN_BODY_LIMITS[route.key];
      // JSON everywhere; and raw bytes over the route's own limit, or over MAX_BODY_BYTES where the
      // route takes none (the octet-stream parser records need must not lift the limit elsewhere).
      const bodies = [
        { contentType: 'application/json', payload: tooBig },
        own
          ? { contentType: own.contentType, payload: Buffer.alloc(own.limit + 1) }
          : { contentType: 'application/octet-stream', payload: Buffer.alloc(maxBody + 1) },
      ];
      for (const { contentType, payload } of bodies) {
        const before = await w.api.eventCount();
        const res = await w.api.request(route.method, url, {
          token: w.everyone.token,
          payload,
          headers: { 'content-type': contentType },
        });
        const what = `${route.key} (${contentType}, ${payload.length} bytes)`;
        if (res.statusCode !== 413) failures.push(`${what}: ${res.statusCode} ${res.body.slice(0, 120)}`);
        if ((await w.api.eventCount()) !== before) failures.push(`${what}: appended events`);
      }
    }
    assert.deepEqual(failures, []);
  });

  test('a body nested deeper than MAX_BODY_DEPTH is refused (400) on every route, before anything is appended', async () => {
    const tooDeep = `${'{"a":'.repeat(MAX_BODY_DEPTH)}[]${'}'.repeat(MAX_BODY_DEPTH)}`;
    const failures: string[] = [];
    // Routes that take JSON bodies (the large-body routes take raw bytes only, refused 415 before).
    const routes = w.api.routes.filter(
      (r) =>
        ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) &&
        !LARGE_BODY_ROUTES.some((large) => large.route === r.key),
    );
    assert.ok(routes.length >= 5);
    for (const route of routes) {
      const url = route.url.replace(/:id\b/g, randomUUID()).replace(/:address\b/g, w.provider.address);
      const before = await w.api.eventCount();
      const res = await w.api.request(route.method, url, {
        token: w.everyone.token,
        payload: tooDeep,
        headers: { 'content-type': 'application/json' },
      });
      if (res.statusCode !== 400 || !/nested too deeply/.test(res.body)) {
        failures.push(`${route.key}: ${res.statusCode} ${res.body.slice(0, 120)}`);
      }
      if ((await w.api.eventCount()) !== before) failures.push(`${route.key}: appended events`);
    }
    assert.deepEqual(failures, []);
  });
});
