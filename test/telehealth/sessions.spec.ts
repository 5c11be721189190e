// Telehealth over HTTP: scheduling needs the patient's grant, participants alone see a consultation,
// the patient admits invitees and consents to recording, and call credentials pass the consent gate
// (every issue and refusal audited). The built-in WebRTC mode: no TRTC settings.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { consultationStream } from '@custos/domain';
import { CallTokens } from '../../apps/api/src/telehealth/call-tokens';
import { ConsultationClosingJob } from '../../apps/api/src/telehealth/consultation-closing.job';
import type { SessionView } from '../../apps/api/src/telehealth/consultation.queries';
import type { WebRtcCredentials } from '../../apps/api/src/telehealth/call-credentials.service';
import { DAY, TestApi, type User } from '../api/harness';
import { auditsSince, credentials, MINUTE, pastConsultation, schedule, startsIn } from './helpers';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const inDays = (days: number) => new Date(Date.now() + days * DAY * 1000);
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('telehealth sessions: scheduling, participants and the credentials gate', () => {
  let api: TestApi;
  let patient: User;
  let provider: User;
  let otherProvider: User;
  let specialist: User;
  let stranger: User;
  /** Starts now, 30 minutes, category general: provider and patient. */
  let sessionId: string;

  before(async () => {
    api = await TestApi.start();
    patient = await api.newUser();
    provider = await api.newUser('provider');
    otherProvider = await api.newUser('provider');
    specialist = await api.newUser('provider');
    stranger = await api.newUser();
    await api.grant(patient.address, provider.address, 'general', inDays(30));
  });
  after(() => api.close());

  describe('scheduling', () => {
    test('a provider with the patient’s grant for the category schedules: 201 with a uuid', async () => {
      sessionId = await schedule(api, provider, patient);
      assert.match(sessionId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const view = (await api.get(`/sessions/${sessionId}`, provider.token)).json<SessionView>();
      assert.equal(view.status, 'scheduled');
      assert.equal(view.mode, 'video');
      assert.equal(view.category, 'general');
      assert.equal(view.role, 'provider');
      assert.equal(Date.parse(view.endsAt) - Date.parse(view.startsAt), 30 * MINUTE * 1000);
    });

    test('without a grant: 403 with a reason the UI can show, nothing appended', async () => {
      const before = await api.eventCount();
      const res = await api.post(
        '/sessions',
        { patient: patient.address, category: 'general', startsAt: startsIn(3600), durationMinutes: 20 },
        otherProvider.token,
      );
      assert.equal(res.statusCode, 403, res.body);
      const body = res.json<{ code: string; message: string }>();
      assert.equal(body.code, 'no_consent');
      assert.match(body.message, /not granted you access to general or to telehealth/);
      assert.equal(await api.eventCount(), before);
    });

    test('a grant for another category does not let a provider schedule this one', async () => {
      const res = await api.post(
        '/sessions',
        { patient: patient.address, category: 'imaging', startsAt: startsIn(3600), durationMinutes: 20 },
        provider.token,
      );
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json<{ code: string }>().code, 'no_consent');
    });

    test('a telehealth grant covers any category; audio mode is kept', async () => {
      const other = await api.newUser();
      await api.grant(other.address, otherProvider.address, 'telehealth', inDays(1));
      const id = await schedule(api, otherProvider, other, { category: 'mental_health', mode: 'audio' });
      const view = (await api.get(`/sessions/${id}`, other.token)).json<SessionView>();
      assert.equal(view.category, 'mental_health');
      assert.equal(view.mode, 'audio');
      assert.equal(view.role, 'patient');
    });

    test('an expired or revoked grant does not count', async () => {
      const other = await api.newUser();
      await api.grant(other.address, otherProvider.address, 'vitals', new Date(Date.now() - 1000));
      await api.grant(other.address, otherProvider.address, 'imaging', inDays(1));
      await api.revoke(other.address, otherProvider.address, 'imaging');
      for (const category of ['vitals', 'imaging']) {
        const res = await api.post(
          '/sessions',
          { patient: other.address, category, startsAt: startsIn(600), durationMinutes: 15 },
          otherProvider.token,
        );
        assert.equal(res.statusCode, 403, `${category}: ${res.body}`);
      }
    });

    test('bad input is a 400 naming the field even without a grant, and appends nothing', async () => {
      const before = await api.eventCount();
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ startsAt: startsIn(-3600) }, /startsAt/],
        [{ startsAt: '2026-03-01 12:00' }, /startsAt/],
        [{ durationMinutes: 4 }, /durationMinutes/],
        [{ category: 'genome' }, /category/],
        [{ mode: 'hologram' }, /mode/],
        [{ patient: otherProvider.address }, /themselves/],
      ];
      for (const [change, field] of cases) {
        const res = await api.post(
          '/sessions',
          {
            patient: stranger.address,
            category: 'general',
            startsAt: startsIn(60),
            durationMinutes: 15,
            ...change,
          },
          otherProvider.token,
        );
        assert.equal(res.statusCode, 400, `${JSON.stringify(change)}: ${res.body}`);
        assert.match(res.body, field);
      }
      assert.equal(await api.eventCount(), before);
    });

    test('a patient cannot schedule (provider role required)', async () => {
      const res = await api.post(
        '/sessions',
        { patient: stranger.address, category: 'general', startsAt: startsIn(60), durationMinutes: 15 },
        patient.token,
      );
      assert.equal(res.statusCode, 403);
    });
  });

  describe('who sees what', () => {
    test('GET /sessions lists mine, as provider and as patient; not a stranger’s', async () => {
      const mine = (await api.get('/sessions', provider.token)).json<Page<SessionView>>();
      assert.ok(mine.items.some((s) => s.id === sessionId));
      const theirs = (await api.get('/sessions', patient.token)).json<Page<SessionView>>();
      assert.deepEqual(
        theirs.items.map((s) => s.id),
        [sessionId],
      );
      const strangers = (await api.get('/sessions', stranger.token)).json<Page<SessionView>>();
      assert.deepEqual(strangers.items, []);
    });

    test('GET /sessions is paginated, latest start first', async () => {
      const other = await api.newUser();
      await api.grant(other.address, otherProvider.address, 'telehealth', inDays(1));
      const ids: string[] = [];
      for (const minutes of [10, 30, 20]) {
        ids.push(await schedule(api, otherProvider, other, { startsAt: startsIn(minutes * MINUTE) }));
      }
      const first = (await api.get('/sessions', other.token, { limit: '2' })).json<Page<SessionView>>();
      assert.equal(first.items.length, 2);
      assert.ok(first.nextCursor);
      const second = (await api.get('/sessions', other.token, { limit: '2', cursor: first.nextCursor })).json<
        Page<SessionView>
      >();
      assert.deepEqual(
        [...first.items, ...second.items].map((s) => s.id),
        [ids[1], ids[2], ids[0]],
      );
      assert.equal(second.nextCursor, null);
    });

    test('someone else’s consultation answers 404 like one that does not exist', async () => {
      for (const [user, id] of [
        [stranger, sessionId],
        [otherProvider, sessionId],
        [patient, randomUUID()],
      ] as const) {
        const res = await api.get(`/sessions/${id}`, user.token);
        assert.equal(res.statusCode, 404, res.body);
        assert.equal(res.json<{ code: string }>().code, 'session_not_found');
        assert.doesNotMatch(res.body, new RegExp(patient.address));
      }
      const before = await api.eventCount();
      const res = await api.post(
        `/sessions/${sessionId}/recording-consent`,
        { consent: true },
        stranger.token,
      );
      assert.equal(res.statusCode, 404);
      const end = await api.post(`/sessions/${sessionId}/end`, undefined, otherProvider.token);
      assert.equal(end.statusCode, 404);
      assert.equal(await api.eventCount(), before);
    });
  });

  describe('invitees', () => {
    test('the provider invites a specialist; only the patient admits them', async () => {
      const invite = await api.post(
        `/sessions/${sessionId}/invitations`,
        { participant: specialist.address.toUpperCase().replace('0X', '0x'), role: 'specialist' },
        provider.token,
      );
      assert.equal(invite.statusCode, 204, invite.body);
      // Invited, not admitted: the invitee sees it by id, but it is not in their list yet.
      const view = (await api.get(`/sessions/${sessionId}`, specialist.token)).json<SessionView>();
      assert.deepEqual(
        view.participants.find((p) => p.address === specialist.address),
        { address: specialist.address, role: 'specialist', admitted: false, joined: false },
      );
      assert.deepEqual((await api.get('/sessions', specialist.token)).json<Page<SessionView>>().items, []);
      await credentials(api, specialist, sessionId, { status: 403, outcome: 'denied', code: 'not_admitted' });

      const byProvider = await api.post(
        `/sessions/${sessionId}/admissions`,
        { participant: specialist.address },
        provider.token,
      );
      assert.equal(byProvider.statusCode, 403);
      assert.equal(byProvider.json<{ code: string }>().code, 'not_the_patient');
      const admit = await api.post(
        `/sessions/${sessionId}/admissions`,
        { participant: specialist.address },
        patient.token,
      );
      assert.equal(admit.statusCode, 204, admit.body);
      const listed = (await api.get('/sessions', specialist.token)).json<Page<SessionView>>();
      assert.deepEqual(
        listed.items.map((s) => [s.id, s.role]),
        [[sessionId, 'specialist']],
      );
    });

    test('admitting someone who was not invited: 404', async () => {
      const res = await api.post(
        `/sessions/${sessionId}/admissions`,
        { participant: stranger.address },
        patient.token,
      );
      assert.equal(res.statusCode, 404);
      assert.equal(res.json<{ code: string }>().code, 'not_invited');
    });

    test('only the provider of the consultation invites', async () => {
      const res = await api.post(
        `/sessions/${sessionId}/invitations`,
        { participant: stranger.address, role: 'family' },
        specialist.token,
      );
      assert.equal(res.statusCode, 403);
      assert.equal(res.json<{ code: string }>().code, 'not_the_provider');
    });
  });

  describe('recording consent', () => {
    test('the patient gives and withdraws it; the provider cannot', async () => {
      const give = await api.post(
        `/sessions/${sessionId}/recording-consent`,
        { consent: true },
        patient.token,
      );
      assert.equal(give.statusCode, 204, give.body);
      assert.equal(
        (await api.get(`/sessions/${sessionId}`, provider.token)).json<SessionView>().recordingConsent,
        true,
      );
      const byProvider = await api.post(
        `/sessions/${sessionId}/recording-consent`,
        { consent: false },
        provider.token,
      );
      assert.equal(byProvider.statusCode, 403);
      const withdraw = await api.post(
        `/sessions/${sessionId}/recording-consent`,
        { consent: false },
        patient.token,
      );
      assert.equal(withdraw.statusCode, 204);
      assert.equal(
        (await api.get(`/sessions/${sessionId}`, patient.token)).json<SessionView>().recordingConsent,
        false,
      );
    });
  });

  describe('credentials (built-in WebRTC)', () => {
    test('the patient and the provider get a call token bound to the session, audited as allowed', async () => {
      for (const [user, role] of [
        [patient, 'patient'],
        [provider, 'provider'],
        [specialist, 'specialist'],
      ] as const) {
        const { res, audit } = await credentials(api, user, sessionId, { status: 200, outcome: 'allowed' });
        const body = res.json<WebRtcCredentials>();
        assert.equal(body.mode, 'webrtc');
        assert.deepEqual(body.iceServers, []);
        // 30 minutes from now at most (the session ends in 30 minutes, plus 2 of grace).
        const expiresAt = Date.parse(body.expiresAt) / 1000;
        assert.ok(expiresAt <= nowSeconds() + 30 * MINUTE && expiresAt >= nowSeconds() + 29 * MINUTE);
        const check = api.app.get(CallTokens).check(body.token, nowSeconds());
        assert.ok(check.valid);
        assert.deepEqual(check.claims, { sid: sessionId, sub: user.address, role, exp: expiresAt });
        assert.equal(audit.patient, patient.address);
        assert.match(audit.reason, /credentials issued/);
      }
    });

    test('not a participant: 404, audited as denied', async () => {
      const { audit } = await credentials(api, stranger, sessionId, {
        status: 404,
        outcome: 'denied',
        code: 'session_not_found',
      });
      assert.equal(audit.patient, patient.address, 'the patient sees the attempt in their trail');
      const unknown = await credentials(api, stranger, randomUUID(), { status: 404, outcome: 'denied' });
      assert.equal(unknown.audit.patient, null);
    });

    test('too early: more than 15 minutes before the start, audited', async () => {
      const later = await schedule(api, provider, patient, { startsAt: startsIn(16 * MINUTE) });
      const { res } = await credentials(api, patient, later, {
        status: 403,
        outcome: 'denied',
        code: 'too_early',
      });
      assert.match(res.json<{ message: string }>().message, /room opens 15 minutes before the start/);
      // Within 15 minutes of the start, the room is open.
      const soon = await schedule(api, provider, patient, { startsAt: startsIn(14 * MINUTE) });
      await credentials(api, patient, soon, { status: 200, outcome: 'allowed' });
    });

    test('a grant for another category does not count; a telehealth grant does', async () => {
      const other = await api.newUser();
      await api.grant(other.address, provider.address, 'lab_results', inDays(1));
      const id = await schedule(api, provider, other, { category: 'lab_results' });
      await api.revoke(other.address, provider.address, 'lab_results');
      await api.grant(other.address, provider.address, 'imaging', inDays(1));
      const { res } = await credentials(api, provider, id, {
        status: 403,
        outcome: 'denied',
        code: 'no_consent',
      });
      assert.match(res.json<{ message: string }>().message, /consent for this consultation is not active/);
      // The patient may still join (and wait): the gate is on the provider.
      await credentials(api, other, id, { status: 200, outcome: 'allowed' });
      await api.grant(other.address, provider.address, 'telehealth', inDays(1));
      await credentials(api, provider, id, { status: 200, outcome: 'allowed' });
    });

    test('after revocation the provider is refused at once; after the provider role is taken too', async () => {
      const other = await api.newUser();
      await api.grant(other.address, provider.address, 'general', inDays(1));
      const id = await schedule(api, provider, other);
      await credentials(api, provider, id, { status: 200, outcome: 'allowed' });
      await api.revoke(other.address, provider.address, 'general');
      await credentials(api, provider, id, { status: 403, outcome: 'denied', code: 'no_consent' });

      const third = await api.newUser();
      const lapsing = await api.newUser('provider');
      await api.grant(third.address, lapsing.address, 'telehealth', inDays(1));
      const id2 = await schedule(api, lapsing, third);
      await api.takeRole(lapsing.address, 'provider');
      // The route itself is open to any signed-in participant; the gate refuses.
      await credentials(api, lapsing, id2, { status: 403, outcome: 'denied', code: 'no_consent' });
    });

    test('after the provider ends it: refused to everyone, audited; ending again changes nothing', async () => {
      const other = await api.newUser();
      await api.grant(other.address, provider.address, 'general', inDays(1));
      const id = await schedule(api, provider, other);
      const byPatient = await api.post(`/sessions/${id}/end`, undefined, other.token);
      assert.equal(byPatient.statusCode, 403, 'provider role');
      assert.equal((await api.post(`/sessions/${id}/end`, undefined, provider.token)).statusCode, 204);
      for (const user of [provider, other]) {
        await credentials(api, user, id, { status: 403, outcome: 'denied', code: 'consultation_ended' });
      }
      const before = await api.eventCount();
      assert.equal((await api.post(`/sessions/${id}/end`, undefined, provider.token)).statusCode, 204);
      assert.equal(await api.eventCount(), before);
      const view = (await api.get(`/sessions/${id}`, other.token)).json<SessionView>();
      assert.equal(view.status, 'ended');
      assert.equal(view.endedBy, provider.address);
    });

    test('after the scheduled end: refused, audited', async () => {
      const id = await pastConsultation(
        api,
        provider.address,
        patient.address,
        nowSeconds() - 40 * MINUTE,
        30,
      );
      await credentials(api, patient, id, { status: 403, outcome: 'denied', code: 'consultation_ended' });
      await credentials(api, provider, id, { status: 403, outcome: 'denied', code: 'consultation_ended' });
    });

    test('audit reasons carry no category and no health data', async () => {
      const before = -1;
      const audits = (await auditsSince(api, before)).filter((a) => a.action === 'issue_credentials');
      assert.ok(audits.length >= 10);
      for (const audit of audits) {
        assert.doesNotMatch(audit.reason, /general|lab_results|imaging|mental_health/);
      }
    });
  });

  describe('closing by time', () => {
    test('nobody came: a no-show; both came: ended by time; settled ones are left alone', async () => {
      const start = nowSeconds() - 2 * 3600;
      const nobody = await pastConsultation(api, provider.address, patient.address, start, 30);
      const patientOnly = await pastConsultation(api, provider.address, patient.address, start, 30, (id) => [
        { type: 'ParticipantJoined', version: 1, data: { id, participant: patient.address } },
      ]);
      const both = await pastConsultation(api, provider.address, patient.address, start, 30, (id) => [
        { type: 'ConsultationStarted', version: 1, data: { id, startedBy: provider.address } },
        { type: 'ParticipantJoined', version: 1, data: { id, participant: provider.address } },
        { type: 'ParticipantJoined', version: 1, data: { id, participant: patient.address } },
      ]);
      const future = await schedule(api, provider, patient, { startsAt: startsIn(3600) });

      const job = api.app.get(ConsultationClosingJob);
      const report = await job.run(new Date());
      assert.deepEqual(report.failed, []);
      assert.ok(report.noShows.includes(nobody) && report.noShows.includes(patientOnly));
      assert.ok(report.ended.includes(both));
      assert.ok(![...report.noShows, ...report.ended].includes(future));
      assert.ok(![...report.noShows, ...report.ended].includes(sessionId), 'not over yet');

      const view = (id: string) =>
        api.get(`/sessions/${id}`, patient.token).then((r) => r.json<SessionView>());
      assert.deepEqual([(await view(nobody)).status, (await view(nobody)).missing], ['no_show', 'both']);
      assert.deepEqual(
        [(await view(patientOnly)).status, (await view(patientOnly)).missing],
        ['no_show', 'provider'],
      );
      assert.deepEqual([(await view(both)).status, (await view(both)).endedBy], ['ended', 'time']);

      const stream = await api.eventStore.readStream(consultationStream(both));
      assert.equal(stream.at(-1)?.metadata.actor, 'system');

      const again = await job.run(new Date());
      assert.ok(
        ![...again.noShows, ...again.ended, ...again.failed].some((id) => [nobody, both].includes(id)),
      );
    });
  });
});
