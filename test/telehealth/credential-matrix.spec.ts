// The credentials gate of telehealth as one table: each case (caller, grants, window) gets its status,
// its error code and exactly one AccessAudited event with the right outcome and reason. The same table
// runs with the built-in WebRTC signalling (a call token) and with Tencent TRTC (a UserSig and a
// PrivateMapKey, decoded and checked with the secret key), so neither back end can loosen the gate.
//
// "A grant expiring at this exact second": the API's `now` is the request's (CommandContext.now, taken
// from the clock when the request arrives) and a consent is active while `expiresAt > now` (exclusive).
// The case grants `expiresAt` = the current second S right after a second begins, then asks at once;
// the audit event's `occurredAt` is that very `now`, so the test checks the request was decided at S,
// and runs the case again with fresh accounts in the rare run where the clock had moved on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AccessAuditedData, RecordedEvent } from '@custos/domain';
import type {
  CallCredentials,
  TrtcCredentials,
  WebRtcCredentials,
} from '../../apps/api/src/telehealth/call-credentials.service';
import { CallTokens } from '../../apps/api/src/telehealth/call-tokens';
import { trtcRoomId, trtcUserId } from '../../apps/api/src/telehealth/trtc';
import { DAY, TestApi, type User } from '../api/harness';
import { consultationAt, MINUTE } from './helpers';
import { decodeSig, decodeUserBuf } from './trtc-decode';

const SDK_APP_ID = 1400123456;
const SECRET_KEY = 'trtc-matrix-secret-key-0123456789abcdef';
const nowSeconds = () => Math.floor(Date.now() / 1000);
const inDays = (days: number) => new Date(Date.now() + days * DAY * 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The accounts of one case: fresh for each, so no case sees another's grants. */
interface World {
  api: TestApi;
  patient: User;
  provider: User;
  stranger: User;
}

interface Setup {
  /** The consultation (category `general`). */
  id: string;
  /** The unix second the request must be decided at, for the cases on an expiry boundary. */
  decideAt?: number;
}

interface Case {
  case: string;
  caller: 'patient' | 'provider' | 'stranger';
  setup: (w: World) => Promise<Setup>;
  status: number;
  /** The error code of a refusal. */
  code?: string;
  audit: { outcome: 'allowed' | 'denied'; reason: RegExp };
}

/** A consultation whose window is open now: started a minute ago, 30 minutes long. */
const openNow = (w: World) => consultationAt(w.api, w.provider.address, w.patient.address, nowSeconds() - 60);
const grant = (w: World, category: string, expiresAt = inDays(1)) =>
  w.api.grant(w.patient.address, w.provider.address, category, expiresAt);

/** Waits for the start of a second (so that what follows fits in it) and returns that second. */
async function freshSecond(): Promise<number> {
  const into = Date.now() % 1000;
  if (into > 50) await sleep(1000 - into + 2);
  return nowSeconds();
}

const NO_CONSENT = /^the patient's consent for this consultation is not active/;
const NOT_PARTICIPANT = /^not a participant of this consultation$/;
const ISSUED = (role: string) => new RegExp(`^(WebRTC|TRTC) credentials issued to the ${role}, valid until `);

const MATRIX: Case[] = [
  {
    case: 'no grant',
    caller: 'provider',
    setup: async (w) => ({ id: await openNow(w) }),
    status: 403,
    code: 'no_consent',
    audit: { outcome: 'denied', reason: NO_CONSENT },
  },
  {
    case: 'a grant for another category',
    caller: 'provider',
    setup: async (w) => {
      await grant(w, 'imaging');
      return { id: await openNow(w) };
    },
    status: 403,
    code: 'no_consent',
    audit: { outcome: 'denied', reason: NO_CONSENT },
  },
  {
    case: 'a grant expiring at this exact second (expiry is exclusive)',
    caller: 'provider',
    setup: async (w) => {
      const id = await openNow(w);
      const second = await freshSecond();
      await grant(w, 'general', new Date(second * 1000));
      return { id, decideAt: second };
    },
    status: 403,
    code: 'no_consent',
    audit: { outcome: 'denied', reason: NO_CONSENT },
  },
  {
    case: 'a grant expiring the next second (still active at this one)',
    caller: 'provider',
    setup: async (w) => {
      const id = await openNow(w);
      const second = await freshSecond();
      await grant(w, 'general', new Date((second + 1) * 1000));
      return { id, decideAt: second };
    },
    status: 200,
    audit: { outcome: 'allowed', reason: ISSUED('provider') },
  },
  {
    case: 'a grant that expired a minute ago',
    caller: 'provider',
    setup: async (w) => {
      await grant(w, 'general', new Date(Date.now() - 60_000));
      return { id: await openNow(w) };
    },
    status: 403,
    code: 'no_consent',
    audit: { outcome: 'denied', reason: NO_CONSENT },
  },
  {
    case: 'revoked',
    caller: 'provider',
    setup: async (w) => {
      await grant(w, 'general');
      const id = await openNow(w);
      await w.api.revoke(w.patient.address, w.provider.address, 'general');
      return { id };
    },
    status: 403,
    code: 'no_consent',
    audit: { outcome: 'denied', reason: NO_CONSENT },
  },
  {
    case: 'a grant whose provider lost the provider role',
    caller: 'provider',
    setup: async (w) => {
      await grant(w, 'general');
      const id = await openNow(w);
      await w.api.takeRole(w.provider.address, 'provider');
      return { id };
    },
    status: 403,
    code: 'no_consent',
    audit: { outcome: 'denied', reason: NO_CONSENT },
  },
  {
    case: 'non-participant (the patient granted the provider; the caller is neither)',
    caller: 'stranger',
    setup: async (w) => {
      await grant(w, 'general');
      return { id: await openNow(w) };
    },
    status: 404,
    code: 'session_not_found',
    audit: { outcome: 'denied', reason: NOT_PARTICIPANT },
  },
  {
    case: 'outside the window: more than 15 minutes before the start',
    caller: 'provider',
    setup: async (w) => {
      await grant(w, 'general');
      return {
        id: await consultationAt(w.api, w.provider.address, w.patient.address, nowSeconds() + 16 * MINUTE),
      };
    },
    status: 403,
    code: 'too_early',
    audit: { outcome: 'denied', reason: /^too early: the room opens 15 minutes before the start$/ },
  },
  {
    case: 'outside the window: after the scheduled end',
    caller: 'patient',
    setup: async (w) => {
      await grant(w, 'general');
      return {
        id: await consultationAt(w.api, w.provider.address, w.patient.address, nowSeconds() - 40 * MINUTE),
      };
    },
    status: 403,
    code: 'consultation_ended',
    audit: { outcome: 'denied', reason: /^the consultation has ended$/ },
  },
  {
    case: 'patient (no grant of their own needed)',
    caller: 'patient',
    setup: async (w) => ({ id: await openNow(w) }),
    status: 200,
    audit: { outcome: 'allowed', reason: ISSUED('patient') },
  },
  {
    case: 'provider with an active grant for the category',
    caller: 'provider',
    setup: async (w) => {
      await grant(w, 'general');
      return { id: await openNow(w) };
    },
    status: 200,
    audit: { outcome: 'allowed', reason: ISSUED('provider') },
  },
  {
    case: 'provider with an active telehealth grant (covers every category)',
    caller: 'provider',
    setup: async (w) => {
      await grant(w, 'telehealth');
      return { id: await openNow(w) };
    },
    status: 200,
    audit: { outcome: 'allowed', reason: ISSUED('provider') },
  },
];

/** What an allowed answer must be: credentials for this caller, this consultation, until its end at most. */
function checkCredentials(api: TestApi, body: CallCredentials, id: string, caller: User, role: string): void {
  const expiresAt = Date.parse(body.expiresAt) / 1000;
  // The window is open for 29 more minutes, plus 2 of grace: capped at 30 minutes from now.
  assert.ok(
    Math.abs(expiresAt - (nowSeconds() + 30 * MINUTE)) <= 2,
    `expires with the consultation: ${body.expiresAt}`,
  );
  if (body.mode === 'webrtc') {
    const check = api.app.get(CallTokens).check((body as WebRtcCredentials).token, nowSeconds());
    assert.ok(check.valid, 'a call token the signalling accepts');
    assert.deepEqual(check.claims, { sid: id, sub: caller.address, role, exp: expiresAt });
    return;
  }
  const trtc = body as TrtcCredentials;
  assert.equal(trtc.sdkAppId, SDK_APP_ID);
  assert.equal(trtc.userId, trtcUserId(caller.address));
  assert.equal(trtc.roomId, trtcRoomId(id));
  const userSig = decodeSig(trtc.userSig, SECRET_KEY);
  const key = decodeSig(trtc.privateMapKey, SECRET_KEY);
  for (const doc of [userSig, key]) {
    assert.equal(doc['TLS.identifier'], trtc.userId);
    assert.equal(doc['TLS.sdkappid'], SDK_APP_ID);
    assert.ok(Math.abs(doc['TLS.time'] + doc['TLS.expire'] - expiresAt) <= 1, 'expires with the credentials');
  }
  const buf = decodeUserBuf(key['TLS.userbuf']!);
  assert.equal(buf.account, trtc.userId);
  assert.equal(buf.roomId, trtc.roomId);
  assert.equal(buf.sdkAppId, SDK_APP_ID);
  assert.ok(Math.abs(buf.expiresAt - expiresAt) <= 1);
}

for (const mode of ['webrtc', 'trtc'] as const) {
  describe(`telehealth credential matrix (${mode})`, () => {
    let api: TestApi;

    before(async () => {
      api = await TestApi.start(
        mode === 'trtc' ? { TRTC_SDK_APP_ID: String(SDK_APP_ID), TRTC_SECRET_KEY: SECRET_KEY } : {},
      );
    });
    after(() => api.close());

    test('each case: the status, the code, and one audit event with its outcome and reason', async () => {
      for (const row of MATRIX) {
        for (let attempt = 1; ; attempt++) {
          const world: World = {
            api,
            patient: await api.newUser(),
            provider: await api.newUser('provider'),
            stranger: await api.newUser('provider'),
          };
          const caller = world[row.caller];
          const { id, decideAt } = await row.setup(world);
          const head = await api.eventStore.headPosition();
          const res = await api.request('POST', `/sessions/${id}/credentials`, { token: caller.token });
          const audits: RecordedEvent[] = (await api.events(head)).filter((e) => e.type === 'AccessAudited');
          const label = `${row.case} (${mode})`;
          assert.equal(audits.length, 1, `${label}: one audit event, got ${audits.length}`);
          const [event] = audits as [RecordedEvent];
          if (decideAt !== undefined) {
            // The audit is stamped with the request's `now`: it must be the second the case is about.
            const decidedAt = Math.floor(Date.parse(event.metadata.occurredAt) / 1000);
            if (decidedAt !== decideAt && attempt < 5) continue;
            assert.equal(decidedAt, decideAt, `${label}: decided at the second of the expiry`);
          }

          assert.equal(res.statusCode, row.status, `${label}: ${res.body}`);
          const audit = event.data as AccessAuditedData;
          assert.deepEqual(
            { ...audit, reason: undefined },
            {
              actor: caller.address,
              patient: world.patient.address,
              resource: `session:${id}/credentials`,
              action: 'issue_credentials',
              purpose: 'telehealth consultation',
              outcome: row.audit.outcome,
              reason: undefined,
            },
            label,
          );
          assert.match(audit.reason, row.audit.reason, label);
          assert.doesNotMatch(audit.reason, /general|imaging|telehealth grant/, `${label}: no category`);

          if (row.status === 200) {
            const role = row.caller === 'patient' ? 'patient' : 'provider';
            checkCredentials(api, res.json<CallCredentials>(), id, caller, role);
            assert.equal(res.json<CallCredentials>().mode, mode);
          } else {
            assert.equal(res.json<{ code: string }>().code, row.code, label);
            assert.doesNotMatch(res.body, /token|userSig|privateMapKey/, `${label}: no credentials`);
          }
          break;
        }
      }
    });
  });
}
