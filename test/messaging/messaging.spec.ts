// End-to-end encrypted messaging through the API: keys bound to wallets, conversations under the
// messaging consent rule, ciphertext only on the server, receipts, hiding, history, triage.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  type AccessAuditedData,
  conversationStream,
  messagingKeyStatement,
  RETENTION_YEARS,
} from '@custos/domain';
import { verifyMessage, Wallet } from 'ethers';
import type {
  ConversationView,
  MessageView,
  MessagingKeyView,
} from '../../apps/api/src/messaging/messaging.dto';
import type { NotificationDocument } from '../../apps/api/src/projections/read-models';
import { DAY, HOUR, snapshot, TestApi, type User } from '../api/harness';
import { IntegrityError } from '@custos/e2ee';
import {
  associatedData,
  decryptMessage,
  encryptMessage,
  keysOf,
  type MessagingUser,
  outsiderKey,
  withMessagingKey,
} from './e2e-crypto';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface ErrorBody {
  statusCode: number;
  code?: string;
  message: string;
}

const fromNow = (seconds: number) => new Date(Date.now() + seconds * 1000);
const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);

describe('messaging: end-to-end encrypted conversations between a patient and their care team', () => {
  let api: TestApi;
  let patient: MessagingUser;
  let doctor: MessagingUser;
  let nurse: MessagingUser;
  let stranger: MessagingUser;
  let conversationId: string;
  /** Every plaintext sent in this suite: none may appear on the server. */
  const plaintexts: string[] = [];

  const grantMessaging = (p: User, provider: User, until = fromNow(30 * DAY)) =>
    api.grant(p.address, provider.address, 'messaging', until, ago(60));

  async function send(
    from: MessagingUser,
    to: MessagingUser[],
    text: string,
    extra: Record<string, unknown> = {},
    id = conversationId,
  ) {
    const envelope = await encryptMessage(id, text, keysOf(from, ...to));
    plaintexts.push(text);
    const res = await api.post(
      `/conversations/${id}/messages`,
      { kind: 'text', ...envelope, ...extra },
      from.token,
    );
    return { res, envelope };
  }

  const messagesOf = async (user: User, id = conversationId, query: Record<string, string> = {}) => {
    const res = await api.get(`/conversations/${id}/messages`, user.token, query);
    assert.equal(res.statusCode, 200, res.body);
    return res.json<Page<MessageView>>();
  };
  const conversationEvents = async (id = conversationId) => api.eventStore.readStream(conversationStream(id));
  const denials = async (afterPosition: number) =>
    (await api.events(afterPosition))
      .filter((e) => e.type === 'AccessAudited')
      .map((e) => e.data as AccessAuditedData)
      .filter((d) => d.outcome === 'denied');

  before(async () => {
    api = await TestApi.start();
    patient = await withMessagingKey(api, await api.newUser());
    doctor = await withMessagingKey(api, await api.newUser('provider'));
    nurse = await withMessagingKey(api, await api.newUser('provider'));
    stranger = await withMessagingKey(api, await api.newUser('provider'));
  });
  after(() => api.close());

  // ------------------------------------------------------------------------------------------ keys

  test('a messaging key is readable by any signed-in account, with the signature that binds it', async () => {
    const res = await api.get(
      `/messaging/keys/${doctor.address.toUpperCase().replace('0X', '0x')}`,
      patient.token,
    );
    assert.equal(res.statusCode, 200, res.body);
    const key = res.json<MessagingKeyView>();
    assert.equal(key.account, doctor.address);
    assert.equal(key.publicKey, doctor.publicKey);
    // The client checks the binding itself before wrapping anything for this key.
    assert.equal(
      verifyMessage(messagingKeyStatement(key.account, key.publicKey), key.signature).toLowerCase(),
      doctor.address,
    );
    const none = await api.get(`/messaging/keys/${Wallet.createRandom().address}`, patient.token);
    assert.equal(none.statusCode, 404);
    assert.equal(none.json<ErrorBody>().code, 'messaging_key_not_found');
  });

  test('a key whose signature is not the account’s own is refused (400), nothing appended', async () => {
    const before = await api.eventCount();
    const publicKey = Buffer.alloc(32, 5).toString('base64url');
    const otherWallet = Wallet.createRandom();
    for (const signature of [
      await otherWallet.signMessage(messagingKeyStatement(patient.address, publicKey)), // someone else signed
      await patient.wallet.signMessage(messagingKeyStatement(patient.address, doctor.publicKey)), // another key
      `0x${'11'.repeat(65)}`, // not a signature at all
    ]) {
      const res = await api.request('PUT', '/messaging/keys/me', {
        token: patient.token,
        body: { publicKey, signature },
      });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json<ErrorBody>().code, 'invalid_signature');
    }
    assert.equal(await api.eventCount(), before);
    const key = (await api.get(`/messaging/keys/${patient.address}`, doctor.token)).json<MessagingKeyView>();
    assert.equal(key.publicKey, patient.publicKey, 'the registered key is unchanged');
  });

  // ------------------------------------------------------------------------------------ consent rule

  test('without a messaging grant, no conversation starts: 403, audited, nothing appended', async () => {
    const head = await api.eventStore.headPosition();
    // A grant for another category does not count.
    await api.grant(patient.address, doctor.address, 'lab_results', fromNow(30 * DAY));
    const afterGrant = await api.eventStore.headPosition();
    const res = await api.post(
      '/conversations',
      { patient: patient.address, providers: [doctor.address] },
      patient.token,
    );
    assert.equal(res.statusCode, 403, res.body);
    const body = res.json<ErrorBody>();
    assert.equal(body.code, 'messaging_consent_required');
    assert.match(body.message, /messaging grant/);
    const appended = await api.events(afterGrant);
    assert.deepEqual(
      appended.map((e) => e.type),
      ['AccessAudited'],
      'only the audit entry was appended',
    );
    const [denial] = await denials(head);
    assert.equal(denial!.actor, patient.address);
    assert.equal(denial!.patient, patient.address);
    assert.equal(denial!.action, 'start_conversation');
  });

  test('with the grant, the patient starts a conversation with the doctor', async () => {
    await grantMessaging(patient, doctor);
    const res = await api.post(
      '/conversations',
      { patient: patient.address.toUpperCase().replace('0X', '0x'), providers: [doctor.address] },
      patient.token,
    );
    assert.equal(res.statusCode, 201, res.body);
    conversationId = res.json<{ id: string }>().id;
    assert.match(conversationId, /^[0-9a-f-]{36}$/);
    const view = (await api.get(`/conversations/${conversationId}`, doctor.token)).json<ConversationView>();
    assert.equal(view.patient, patient.address);
    assert.deepEqual(view.providers, [doctor.address]);
    assert.equal(view.role, 'provider');
  });

  // ------------------------------------------------------------------------------------ encryption

  test('both participants decrypt what the patient sent; the server holds ciphertext only', async () => {
    const text = 'My blood pressure was 160/100 this morning, should I double the lisinopril?';
    const { res, envelope } = await send(patient, [doctor], text);
    assert.equal(res.statusCode, 201, res.body);
    const accepted = res.json<{ messageId: string; position: number; sentAt: string }>();
    assert.equal(accepted.messageId, envelope.messageId);
    assert.ok(accepted.position >= 0);

    for (const reader of [doctor, patient]) {
      const [message] = (await messagesOf(reader)).items;
      assert.equal(message!.messageId, envelope.messageId);
      // The answer names the message as the history holds it (its position resumes a live feed).
      assert.deepEqual([accepted.position, accepted.sentAt], [message!.position, message!.sentAt]);
      assert.equal(message!.sender, patient.address);
      assert.equal(message!.senderRole, 'patient');
      assert.equal(await decryptMessage(message!, reader), text);
    }
    // A participant's key does not open the copy wrapped for another.
    const [forDoctor] = (await messagesOf(doctor)).items;
    await assert.rejects(decryptMessage(forDoctor!, nurse), IntegrityError);
  });

  test('a wrong key cannot decrypt: an outsider’s X25519 key, or a participant’s with another message’s additional data', async () => {
    const first = await send(patient, [doctor], 'Dizziness after the new dose of amlodipine');
    const second = await send(patient, [doctor], 'And my ankles are swollen');
    assert.equal(first.res.statusCode, 201, first.res.body);
    assert.equal(second.res.statusCode, 201, second.res.body);
    const items = (await messagesOf(doctor, conversationId, { order: 'desc', limit: '2' })).items;
    const a = items.find((m) => m.messageId === first.envelope.messageId)!;
    const b = items.find((m) => m.messageId === second.envelope.messageId)!;
    // The participant with the right additional data opens both: the refusals below are the key or the place.
    assert.equal(await decryptMessage(a, doctor), 'Dizziness after the new dose of amlodipine');
    assert.equal(await decryptMessage(b, doctor), 'And my ankles are swollen');

    // An outsider: a fresh X25519 key registered nowhere, and a signed-in account with a registered key
    // that is not in the conversation, even handed the doctor's wrapped key.
    await assert.rejects(decryptMessage(a, await outsiderKey()), IntegrityError);
    await assert.rejects(decryptMessage(a, stranger), IntegrityError);
    // The patient's own key does not open the copy wrapped for the doctor.
    await assert.rejects(decryptMessage(a, patient), IntegrityError);

    // The doctor's key with the additional data of another message, or of the same message id in
    // another conversation: the server cannot move a ciphertext to another place.
    await assert.rejects(
      decryptMessage(a, doctor, associatedData(conversationId, b.messageId)),
      IntegrityError,
    );
    await assert.rejects(
      decryptMessage(a, doctor, associatedData(randomUUID(), a.messageId)),
      IntegrityError,
    );
    await assert.rejects(decryptMessage(a, doctor, new Uint8Array()), IntegrityError);
    // Which is what a swap by the server looks like to the reader: a's envelope served as message b.
    await assert.rejects(decryptMessage({ ...a, messageId: b.messageId }, doctor), IntegrityError);
    // Nor b's content key with a's ciphertext.
    await assert.rejects(decryptMessage({ ...a, wrappedKey: b.wrappedKey }, doctor), IntegrityError);
  });

  test('idempotent resend: the same envelope with the same messageId adds nothing; other content is 409', async () => {
    const text = 'Is it fine to take ibuprofen with it?';
    const { res, envelope } = await send(patient, [doctor], text);
    assert.equal(res.statusCode, 201, res.body);
    const first = res.json<{ position: number }>();
    const before = await api.eventCount();
    const again = await api.post(
      `/conversations/${conversationId}/messages`,
      { kind: 'text', ...envelope, messageId: envelope.messageId.toUpperCase() },
      patient.token,
    );
    assert.equal(again.statusCode, 201, again.body);
    assert.equal(again.json<{ position: number }>().position, first.position);
    assert.equal(await api.eventCount(), before);
    const other = await encryptMessage(
      conversationId,
      'something else',
      keysOf(patient, doctor),
      envelope.messageId,
    );
    const conflict = await api.post(
      `/conversations/${conversationId}/messages`,
      { kind: 'text', ...other },
      patient.token,
    );
    assert.equal(conflict.statusCode, 409, conflict.body);
    assert.equal(conflict.json<ErrorBody>().code, 'message_exists');
    assert.equal(await api.eventCount(), before);
  });

  test('structured medical kinds come from providers only', async () => {
    const before = await api.eventCount();
    const fromPatient = await send(patient, [doctor], 'my own lab result', { kind: 'lab_result' });
    assert.equal(fromPatient.res.statusCode, 403, fromPatient.res.body);
    assert.equal(fromPatient.res.json<ErrorBody>().code, 'provider_only_kind');
    assert.equal(await api.eventCount(), before);

    const fromDoctor = await send(doctor, [patient], 'HbA1c 6.1 %, LDL 2.9 mmol/L', { kind: 'lab_result' });
    assert.equal(fromDoctor.res.statusCode, 201, fromDoctor.res.body);
    const mine = (await messagesOf(patient)).items.find((m) => m.messageId === fromDoctor.envelope.messageId);
    assert.equal(mine!.kind, 'lab_result');
    assert.equal(await decryptMessage(mine!, patient), 'HbA1c 6.1 %, LDL 2.9 mmol/L');
  });

  test('a wrapped key must be given for exactly the participants', async () => {
    const before = await api.eventCount();
    const envelope = await encryptMessage(conversationId, 'for the doctor only', keysOf(doctor));
    const res = await api.post(
      `/conversations/${conversationId}/messages`,
      { kind: 'text', ...envelope },
      patient.token,
    );
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json<ErrorBody>().code, 'wrapped_keys_mismatch');
    assert.equal(await api.eventCount(), before);
  });

  // ------------------------------------------------------------------------------------ receipts

  test('acknowledgment and read receipts: unread counts, who read and acknowledged', async () => {
    const { res, envelope } = await send(doctor, [patient], 'Please confirm you will stop the aspirin.', {
      requiresAcknowledgment: true,
    });
    assert.equal(res.statusCode, 201, res.body);
    const inbox = (await api.get('/conversations', patient.token)).json<Page<ConversationView>>();
    const entry = inbox.items.find((c) => c.id === conversationId)!;
    assert.equal(entry.unread, 2, 'the lab result and this one');
    assert.equal(entry.awaitingAcknowledgment, 1);

    const base = `/conversations/${conversationId}/messages/${envelope.messageId}`;
    const own = await api.post(`${base}/acknowledgment`, undefined, doctor.token);
    assert.equal(own.statusCode, 403);
    assert.equal(own.json<ErrorBody>().code, 'own_message');

    assert.equal((await api.post(`${base}/read`, undefined, patient.token)).statusCode, 204);
    assert.equal((await api.post(`${base}/read`, undefined, patient.token)).statusCode, 204, 'again: no-op');
    assert.equal((await api.post(`${base}/acknowledgment`, undefined, patient.token)).statusCode, 204);

    const seen = (await messagesOf(doctor)).items.find((m) => m.messageId === envelope.messageId)!;
    assert.deepEqual(
      seen.readBy.map((r) => r.by),
      [patient.address],
    );
    assert.deepEqual(
      seen.acknowledgedBy.map((r) => r.by),
      [patient.address],
    );
    const after = (await api.get(`/conversations/${conversationId}`, patient.token)).json<ConversationView>();
    assert.equal(after.unread, 1);
    assert.equal(after.awaitingAcknowledgment, 0);

    // A message that asks for no acknowledgment cannot be acknowledged.
    const [first] = (await messagesOf(doctor)).items;
    const noAck = await api.post(
      `/conversations/${conversationId}/messages/${first!.messageId}/acknowledgment`,
      undefined,
      doctor.token,
    );
    assert.equal(noAck.statusCode, 400);
    assert.equal(noAck.json<ErrorBody>().code, 'acknowledgment_not_required');
  });

  // ------------------------------------------------------------------------------------ hiding

  test('hiding takes a conversation out of my inbox only; nothing is deleted', async () => {
    const before = (await messagesOf(patient)).items.length;
    assert.equal(
      (await api.post(`/conversations/${conversationId}/hide`, undefined, patient.token)).statusCode,
      204,
    );
    const visible = (await api.get('/conversations', patient.token)).json<Page<ConversationView>>();
    assert.ok(!visible.items.some((c) => c.id === conversationId));
    const all = (await api.get('/conversations', patient.token, { hidden: 'true' })).json<
      Page<ConversationView>
    >();
    assert.equal(all.items.find((c) => c.id === conversationId)?.hidden, true);
    // The doctor's inbox is unaffected; the history is all there.
    const doctors = (await api.get('/conversations', doctor.token)).json<Page<ConversationView>>();
    assert.ok(doctors.items.some((c) => c.id === conversationId));
    assert.equal((await messagesOf(patient)).items.length, before);
    assert.equal(
      (await api.post(`/conversations/${conversationId}/unhide`, undefined, patient.token)).statusCode,
      204,
    );
    const back = (await api.get('/conversations', patient.token)).json<Page<ConversationView>>();
    assert.equal(back.items.find((c) => c.id === conversationId)?.hidden, false);
  });

  test('there is no delete: no route removes a conversation or a message', () => {
    const deletes = api.routes.filter(
      (r) => (r.url.startsWith('/conversations') || r.url.startsWith('/messaging')) && r.method === 'DELETE',
    );
    assert.deepEqual(deletes, []);
    assert.equal(RETENTION_YEARS, 6);
  });

  // ------------------------------------------------------------------------------------ pagination

  test('the history pages with a cursor, oldest first or newest first, without gaps or repeats', async () => {
    for (let i = 0; i < 5; i++) {
      assert.equal((await send(patient, [doctor], `note ${i}`)).res.statusCode, 201);
    }
    const everything = (await messagesOf(doctor, conversationId, { limit: '200' })).items;
    assert.ok(everything.length >= 9);
    const seen: MessageView[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<MessageView> = await messagesOf(doctor, conversationId, {
        limit: '2',
        ...(cursor ? { cursor } : {}),
      });
      assert.ok(page.items.length <= 2);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(
      seen.map((m) => m.messageId),
      everything.map((m) => m.messageId),
    );
    const positions = seen.map((m) => m.position);
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
    );
    const newest = await messagesOf(doctor, conversationId, { order: 'desc', limit: '3' });
    assert.deepEqual(
      newest.items.map((m) => m.messageId),
      everything
        .slice(-3)
        .reverse()
        .map((m) => m.messageId),
    );
    assert.equal(await decryptMessage(newest.items[0]!, doctor), 'note 4');
  });

  // ------------------------------------------------------------------------------------ isolation

  test('someone who is not in the conversation gets 404 everywhere, as if it did not exist', async () => {
    const other = await withMessagingKey(api, await api.newUser());
    const [message] = (await messagesOf(doctor)).items;
    for (const user of [other, stranger]) {
      const before = await api.eventCount();
      for (const [method, url] of [
        ['GET', `/conversations/${conversationId}`],
        ['GET', `/conversations/${conversationId}/messages`],
        ['POST', `/conversations/${conversationId}/hide`],
        ['POST', `/conversations/${conversationId}/messages/${message!.messageId}/read`],
      ] as const) {
        const res = await api.request(method, url, { token: user.token });
        assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
        assert.equal(res.json<ErrorBody>().code, 'conversation_not_found');
      }
      const envelope = await encryptMessage(conversationId, 'let me in', keysOf(patient, doctor, user));
      const res = await api.post(
        `/conversations/${conversationId}/messages`,
        { kind: 'text', ...envelope },
        user.token,
      );
      assert.equal(res.statusCode, 404);
      assert.equal(await api.eventCount(), before);
      const inbox = (await api.get('/conversations', user.token, { hidden: 'true' })).json<
        Page<ConversationView>
      >();
      assert.ok(!inbox.items.some((c) => c.id === conversationId));
    }
    const unknown = await api.get(`/conversations/${randomUUID()}`, patient.token);
    assert.equal(unknown.statusCode, 404);
  });

  // ------------------------------------------------------------------------------------ grants lapse

  test('revoked, expired or provider role lost: messages are refused (403, audited, nothing appended), history readable', async () => {
    const history = (await messagesOf(patient)).items.length;
    const attempt = async (label: string) => {
      const head = await api.eventStore.headPosition();
      const revision = (await conversationEvents()).length;
      const { res } = await send(patient, [doctor], `attempt while ${label}`);
      assert.equal(res.statusCode, 403, `${label}: ${res.body}`);
      const body = res.json<ErrorBody>();
      assert.equal(body.code, 'messaging_consent_required');
      assert.match(body.message, /messaging grant/);
      assert.equal(
        (await conversationEvents()).length,
        revision,
        `${label}: nothing appended to the conversation`,
      );
      const audited = await denials(head);
      assert.equal(audited.length, 1, label);
      assert.deepEqual(
        { ...audited[0], reason: undefined },
        {
          actor: patient.address,
          patient: patient.address,
          resource: `conversation:${conversationId}`,
          action: 'send_message',
          purpose: 'messaging',
          outcome: 'denied',
          reason: undefined,
        },
      );
      // The audit entry names the act, not the message: no kind, no ciphertext, no flags.
      assert.doesNotMatch(JSON.stringify(audited[0]), /text|ciphertext|urgent|kind/);
      // The doctor may not send either: the rule is the patient's grant, whoever writes.
      const fromDoctor = await send(doctor, [patient], `reply while ${label}`);
      assert.equal(fromDoctor.res.statusCode, 403, label);
      // History stays readable to both, and receipts need no grant.
      assert.equal((await messagesOf(patient)).items.length, history, label);
      assert.equal((await messagesOf(doctor)).items.length, history, label);
    };

    await api.revoke(patient.address, doctor.address, 'messaging');
    await attempt('revoked');
    const [first] = (await messagesOf(doctor)).items;
    assert.equal(
      (
        await api.post(
          `/conversations/${conversationId}/messages/${first!.messageId}/read`,
          undefined,
          doctor.token,
        )
      ).statusCode,
      204,
      'a read receipt needs no grant',
    );

    await api.grant(patient.address, doctor.address, 'messaging', ago(1), ago(HOUR)); // already expired
    await attempt('expired');

    await grantMessaging(patient, doctor);
    await api.takeRole(doctor.address, 'provider');
    await attempt('the doctor is no longer a provider');
    await api.giveRole(doctor.address, 'provider');

    const { res } = await send(patient, [doctor], 'Thanks, all good again.');
    assert.equal(res.statusCode, 201, res.body);
  });

  // ------------------------------------------------------------------------------------ care team

  test('care team: adding needs the grant; every current provider needs one; removed providers keep their history only', async () => {
    const head = await api.eventStore.headPosition();
    const add = await api.post(
      `/conversations/${conversationId}/participants`,
      { provider: nurse.address },
      patient.token,
    );
    assert.equal(add.statusCode, 403, add.body);
    assert.equal(add.json<ErrorBody>().code, 'messaging_consent_required');
    assert.equal((await denials(head))[0]?.action, 'add_participant');

    const byDoctor = await api.post(
      `/conversations/${conversationId}/participants`,
      { provider: nurse.address },
      doctor.token,
    );
    assert.equal(byDoctor.statusCode, 403, 'only the patient adds to their care team');
    assert.equal(byDoctor.json<ErrorBody>().code, 'patient_only');

    await grantMessaging(patient, nurse);
    assert.equal(
      (
        await api.post(
          `/conversations/${conversationId}/participants`,
          { provider: nurse.address },
          patient.token,
        )
      ).statusCode,
      204,
    );
    // The nurse never received what was sent before they joined.
    assert.deepEqual((await messagesOf(nurse)).items, []);
    const team = await send(patient, [doctor, nurse], 'Hello to you both');
    assert.equal(team.res.statusCode, 201, team.res.body);
    const [forNurse] = (await messagesOf(nurse)).items;
    assert.equal(await decryptMessage(forNurse!, nurse), 'Hello to you both');

    // Every current provider needs a grant: without the nurse's, the doctor cannot write either.
    await api.revoke(patient.address, nurse.address, 'messaging');
    assert.equal((await send(doctor, [patient, nurse], 'Blocked')).res.statusCode, 403);

    // Removing the nurse lets the conversation go on; the nurse keeps what was sent to them.
    assert.equal(
      (
        await api.post(
          `/conversations/${conversationId}/participants/${nurse.address}/remove`,
          undefined,
          patient.token,
        )
      ).statusCode,
      204,
    );
    const after = await send(doctor, [patient], 'Just us again');
    assert.equal(after.res.statusCode, 201, after.res.body);
    const nurseHistory = (await messagesOf(nurse)).items;
    assert.deepEqual(
      nurseHistory.map((m) => m.messageId),
      [team.envelope.messageId],
    );
    const view = (await api.get(`/conversations/${conversationId}`, nurse.token)).json<ConversationView>();
    assert.equal(view.active, false);
    assert.deepEqual(view.formerProviders, [nurse.address]);
    const fromNurse = await send(nurse, [patient, doctor], 'Can I still write?');
    assert.equal(fromNurse.res.statusCode, 403);
    assert.equal(fromNurse.res.json<ErrorBody>().code, 'not_a_participant');
  });

  // ------------------------------------------------------------------------------------ triage

  test('a provider’s inbox is ordered by triage from metadata; urgent messages notify the care team', async () => {
    const triageDoctor = await withMessagingKey(api, await api.newUser('provider'));
    const patients = {
      routine: await withMessagingKey(api, await api.newUser()),
      urgent: await withMessagingKey(api, await api.newUser()),
      waiting: await withMessagingKey(api, await api.newUser()),
      booked: await withMessagingKey(api, await api.newUser()),
      answered: await withMessagingKey(api, await api.newUser()),
    };
    const ids: Record<string, string> = {};
    for (const [name, p] of Object.entries(patients)) {
      await grantMessaging(p, triageDoctor);
      const res = await api.post(
        '/conversations',
        { patient: p.address, providers: [triageDoctor.address] },
        p.token,
      );
      assert.equal(res.statusCode, 201, res.body);
      ids[name] = res.json<{ id: string }>().id;
    }
    const head = await api.eventStore.headPosition();
    assert.equal(
      (await send(patients.answered, [triageDoctor], 'Thanks', {}, ids.answered)).res.statusCode,
      201,
    );
    assert.equal(
      (await send(triageDoctor, [patients.answered], 'You are welcome', {}, ids.answered)).res.statusCode,
      201,
    );
    assert.equal(
      (await send(patients.routine, [triageDoctor], 'Refill please', {}, ids.routine)).res.statusCode,
      201,
    );
    // Thirty hours ago (as if the API had accepted it then): these patients have waited more than a day.
    const waitedLong = async (p: MessagingUser, id: string, text: string) => {
      const old = await encryptMessage(id, text, keysOf(p, triageDoctor));
      plaintexts.push(text);
      const sentAt = ago(30 * HOUR);
      const data = {
        conversationId: id,
        sender: p.address,
        kind: 'text',
        requiresAcknowledgment: false,
        urgent: false,
      };
      await api.append(
        conversationStream(id),
        [{ type: 'MessageSent', version: 1, data: { ...data, ...old, sentAt: sentAt.toISOString() } }],
        sentAt,
        p.address,
      );
    };
    await waitedLong(patients.waiting, ids.waiting!, 'Still dizzy since Monday');
    await waitedLong(patients.booked, ids.booked!, 'Question for our appointment');
    // ... but one of them sees the doctor in two hours: it can wait until then.
    await api.grant(patients.booked.address, triageDoctor.address, 'telehealth', fromNow(DAY));
    const booked = await api.post(
      '/sessions',
      {
        patient: patients.booked.address,
        category: 'general',
        startsAt: fromNow(2 * HOUR).toISOString(),
        durationMinutes: 30,
      },
      triageDoctor.token,
    );
    assert.equal(booked.statusCode, 201, booked.body);
    const urgent = await send(
      patients.urgent,
      [triageDoctor],
      'Chest pain right now',
      { urgent: true },
      ids.urgent,
    );
    assert.equal(urgent.res.statusCode, 201, urgent.res.body);

    const inbox = (await api.get('/conversations', triageDoctor.token)).json<Page<ConversationView>>();
    assert.deepEqual(
      inbox.items.map((c) => c.id),
      [ids.urgent, ids.waiting, ids.routine, ids.booked, ids.answered],
    );
    assert.deepEqual(
      inbox.items.map((c) => [c.triage?.priority, c.triage?.score]),
      [
        ['urgent', 240],
        ['high', 65],
        ['normal', 40],
        ['normal', 35],
        ['normal', 30],
      ],
    );
    assert.ok(inbox.items[1]!.triage!.reasons.some((r) => /waiting 24 h/.test(r)));
    assert.ok(inbox.items[3]!.triage!.reasons.some((r) => /appointment within 24 h/.test(r)));
    // Paged with the triage cursor: the same order, one at a time.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<ConversationView> = (
        await api.get('/conversations', triageDoctor.token, { limit: '1', ...(cursor ? { cursor } : {}) })
      ).json<Page<ConversationView>>();
      paged.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(
      paged,
      inbox.items.map((c) => c.id),
    );
    const bad = await api.get('/conversations', triageDoctor.token, { cursor: 'bm90LWEtY3Vyc29y' });
    assert.equal(bad.statusCode, 400);

    // A patient's inbox: by last activity, no triage.
    const mine = (await api.get('/conversations', patients.urgent.token)).json<Page<ConversationView>>();
    assert.deepEqual(
      mine.items.map((c) => [c.id, c.triage]),
      [[ids.urgent, null]],
    );

    // The urgent message notified the doctor: who and where, nothing about the content or its kind.
    const notes = (await api.get('/notifications/me', triageDoctor.token)).json<Page<NotificationDocument>>();
    const urgentNotes = notes.items.filter((n) => n.kind === 'urgent_message');
    assert.equal(urgentNotes.length, 1);
    assert.deepEqual(urgentNotes[0]!.subject, {
      conversationId: ids.urgent,
      sender: patients.urgent.address,
    });
    assert.ok((await api.events(head)).some((e) => e.type === 'MessageSent'));
    const patientNotes = (await api.get('/notifications/me', patients.urgent.token)).json<
      Page<NotificationDocument>
    >();
    assert.ok(!patientNotes.items.some((n) => n.kind === 'urgent_message'), 'the sender is not notified');
  });

  // ------------------------------------------------------------------------------------ no plaintext

  test('no plaintext anywhere on the server: not in any event, not in any read model', async () => {
    assert.ok(plaintexts.length >= 10);
    const events = JSON.stringify(await api.events());
    await api.settle();
    const documents = JSON.stringify(await snapshot(api.readModels));
    for (const text of plaintexts) {
      assert.ok(!events.includes(text), `an event contains "${text}"`);
      assert.ok(!documents.includes(text), `a read model contains "${text}"`);
    }
    // Nor any telling word of them.
    for (const word of ['lisinopril', 'ibuprofen', 'aspirin', 'dizzy', 'Chest pain', 'HbA1c']) {
      assert.ok(!events.includes(word) && !documents.includes(word), word);
    }
    assert.ok(events.includes('MessageSent'));
  });
});
