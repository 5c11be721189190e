import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fold } from './decider';
import { keyedEntries, keyedGet } from './keyed-map';
import {
  awaitingAcknowledgmentFrom,
  base64urlByteLength,
  type ConversationCommand,
  type ConversationEvent,
  conversationDecider,
  conversationParticipants,
  conversationStream,
  isHiddenFor,
  MAX_CARE_TEAM_SIZE,
  MAX_CIPHERTEXT_BYTES,
  type MessageSentData,
  type MessagingKeyCommand,
  type MessagingKeyEvent,
  messagingKeyDecider,
  messagingKeyStatement,
  messagingKeyStream,
  participantRole,
  RETENTION_YEARS,
  unreadFor,
} from './messaging';
import { scenario } from './testing/scenario';

const patient = '0x00000000000000000000000000000000000000a1';
const doctor = '0x00000000000000000000000000000000000000b2';
const nurse = '0x00000000000000000000000000000000000000b3';
const stranger = '0x00000000000000000000000000000000000000c4';
const now = new Date('2026-03-01T12:00:00Z');
const later = new Date('2026-03-02T08:30:00Z');
const b64 = (bytes: number, fill = 1) => Buffer.alloc(bytes, fill).toString('base64url');

const publicKey = b64(32, 7);
const otherKey = b64(32, 9);
const signature = '0x' + 'ab'.repeat(65);

const keys = scenario(messagingKeyDecider);
const conversation = scenario(conversationDecider);

// ----------------------------------------------------------------------------------- messaging keys

const registered = (key = publicKey, previousKey: string | null = null): MessagingKeyEvent => ({
  type: 'MessagingKeyRegistered',
  version: 1,
  data: { account: patient, publicKey: key, signature, previousKey },
});
const register = (overrides: Partial<MessagingKeyCommand> = {}): MessagingKeyCommand => ({
  type: 'RegisterMessagingKey',
  actor: patient,
  publicKey,
  signature,
  signatureValid: true,
  ...overrides,
});

describe('messaging keys', () => {
  test('streams are named per account and per conversation', () => {
    assert.equal(messagingKeyStream(patient), `messaging-key-${patient}`);
    assert.equal(conversationStream('c1'), 'conversation-c1');
  });

  test('the statement the wallet signs is one fixed text, with the address lower-cased', () => {
    assert.equal(
      messagingKeyStatement('0x00000000000000000000000000000000000000A1', publicKey),
      `Custos messaging key\nAccount: ${patient}\nKey: ${publicKey}`,
    );
  });

  test('given no key, when the account registers one with a valid signature, then it is registered', () => {
    keys.given().when(register()).then([registered()]);
    const state = keys.given().when(register()).state();
    assert.equal(state.publicKey, publicKey);
    assert.equal(state.account, patient);
  });

  test('a signature the API could not verify, or that is not a 65-byte signature, is refused', () => {
    keys
      .given()
      .when(register({ signatureValid: false }))
      .thenError('invalid_signature', 'invalid');
    keys
      .given()
      .when(register({ signature: '0xdead' }))
      .thenError('invalid_signature', 'invalid');
  });

  test('the key must be 32 bytes of canonical base64url', () => {
    for (const bad of [
      b64(31),
      b64(33),
      Buffer.alloc(32, 7).toString('base64'), // padded, and may contain + or /
      '0x' + '07'.repeat(32), // hex is not the format
      publicKey.slice(0, -1) + 'B', // non-zero trailing bits: a second spelling of some key
      '',
    ]) {
      keys
        .given()
        .when(register({ publicKey: bad }))
        .thenError('invalid_public_key', 'invalid');
    }
    assert.equal(base64urlByteLength(publicKey), 32);
    assert.equal(publicKey.length, 43);
  });

  test('an account registers only its own key, in its own stream', () => {
    keys
      .given()
      .when(register({ actor: 'not-an-address' }))
      .thenError('invalid_address', 'invalid');
    keys
      .given([registered()])
      .when(register({ actor: doctor }))
      .thenError('wrong_stream', 'invalid');
  });

  test('registering the same key again decides nothing', () => {
    keys.given([registered()]).when(register()).then([]);
  });

  test('a different key rotates the key, and the event names the key it replaces', () => {
    keys
      .given([registered()])
      .when(register({ publicKey: otherKey }))
      .then([registered(otherKey, publicKey)]);
    const state = fold(messagingKeyDecider, [registered(), registered(otherKey, publicKey)]);
    assert.equal(state.publicKey, otherKey);
  });
});

// ----------------------------------------------------------------------------------- conversations

const conversationId = 'c-123';
const started = (providers = [doctor, nurse], startedBy = patient): ConversationEvent => ({
  type: 'ConversationStarted',
  version: 1,
  data: { conversationId, patient, providers, startedBy, startedAt: now.toISOString() },
});
const start = (overrides: Partial<Extract<ConversationCommand, { type: 'StartConversation' }>> = {}) => ({
  type: 'StartConversation' as const,
  conversationId,
  actor: patient,
  patient,
  providers: [doctor, nurse],
  messagingAllowed: true,
  ...overrides,
});

const m1 = '0f8b6d4e-1a2b-4c3d-8e9f-001122334455';
const m2 = '9a7c5e3f-2b1d-4e0f-9a8b-66778899aabb';
const wrapped = (participants: string[] = [patient, doctor, nurse]) =>
  Object.fromEntries(participants.map((p, i) => [p, b64(72, 10 + i)]));
const ciphertext = b64(120, 3);
const iv = b64(12, 4);

type Send = Extract<ConversationCommand, { type: 'SendMessage' }>;
const send = (overrides: Partial<Send> = {}): Send => ({
  type: 'SendMessage',
  conversationId,
  actor: patient,
  messageId: m1,
  kind: 'text',
  requiresAcknowledgment: false,
  urgent: false,
  ciphertext,
  iv,
  wrappedKeys: wrapped(),
  messagingAllowed: true,
  ...overrides,
});
const sent = (overrides: Partial<MessageSentData> = {}): ConversationEvent => ({
  type: 'MessageSent',
  version: 1,
  data: {
    conversationId,
    messageId: m1,
    sender: patient,
    kind: 'text',
    requiresAcknowledgment: false,
    urgent: false,
    ciphertext,
    iv,
    wrappedKeys: wrapped(),
    sentAt: now.toISOString(),
    ...overrides,
  },
});
const read = (by: string, messageId = m1, at = later): ConversationEvent => ({
  type: 'MessageRead',
  version: 1,
  data: { conversationId, messageId, by, readAt: at.toISOString() },
});
const acknowledged = (by: string, messageId = m1, at = later): ConversationEvent => ({
  type: 'MessageAcknowledged',
  version: 1,
  data: { conversationId, messageId, by, acknowledgedAt: at.toISOString() },
});
const hidden = (by = patient): ConversationEvent => ({
  type: 'ConversationHidden',
  version: 1,
  data: { conversationId, by },
});
const removed = (provider: string, removedBy = patient): ConversationEvent => ({
  type: 'ParticipantRemoved',
  version: 1,
  data: { conversationId, provider, removedBy },
});

describe('conversations: starting', () => {
  test('the patient starts a conversation with their care team', () => {
    conversation.given().when(start(), now).then([started()]);
    const state = conversation.given().when(start(), now).state();
    assert.deepEqual(conversationParticipants(state), [patient, doctor, nurse]);
    assert.equal(participantRole(state, patient), 'patient');
    assert.equal(participantRole(state, nurse), 'provider');
    assert.equal(participantRole(state, stranger), null);
  });

  test('a provider of the care team may start it too', () => {
    conversation
      .given()
      .when(start({ actor: doctor, providers: [doctor] }), now)
      .then([started([doctor], doctor)]);
  });

  test('someone outside the conversation cannot start it', () => {
    conversation
      .given()
      .when(start({ actor: stranger }))
      .thenError('not_a_participant', 'forbidden');
  });

  test('without an active messaging grant to every provider, no conversation starts', () => {
    conversation
      .given()
      .when(start({ messagingAllowed: false }))
      .thenError('messaging_consent_required', 'forbidden');
  });

  test('the care team is 1 to 20 distinct providers, the patient not among them', () => {
    conversation
      .given()
      .when(start({ providers: [] }))
      .thenError('invalid_care_team', 'invalid');
    conversation
      .given()
      .when(start({ providers: [doctor, doctor] }))
      .thenError('invalid_care_team');
    conversation
      .given()
      .when(start({ providers: [doctor, patient] }))
      .thenError('invalid_care_team');
    const many = Array.from(
      { length: MAX_CARE_TEAM_SIZE + 1 },
      (_, i) => '0x' + (i + 1).toString(16).padStart(40, '0'),
    );
    conversation
      .given()
      .when(start({ providers: many }))
      .thenError('invalid_care_team');
  });

  test('ids and addresses are checked', () => {
    conversation
      .given()
      .when(start({ conversationId: 'a/b' }))
      .thenError('invalid_conversation_id', 'invalid');
    conversation
      .given()
      .when(start({ providers: ['0x00000000000000000000000000000000000000B2'] }))
      .thenError('invalid_address', 'invalid');
  });

  test('a retry of the same start decides nothing; a different start with the same id conflicts', () => {
    conversation
      .given([started()])
      .when(start({ providers: [nurse, doctor] }), later)
      .then([]);
    conversation
      .given([started()])
      .when(start({ providers: [doctor] }))
      .thenError('conversation_exists', 'conflict');
    conversation
      .given([started()])
      .when(start({ conversationId: 'c-other' }))
      .thenError('wrong_stream', 'invalid');
  });
});

describe('conversations: sending', () => {
  test('a participant sends an envelope wrapped for every participant', () => {
    conversation.given([started()]).when(send(), now).then([sent()]);
  });

  test('the state keeps what decisions need of each message, and no ciphertext', () => {
    const state = fold(conversationDecider, [
      started(),
      sent(),
      sent({ messageId: m2, sender: doctor, kind: 'lab_result', sentAt: later.toISOString() }),
    ]);
    assert.equal(state.lastMessageAt, later.toISOString());
    assert.equal(state.lastSenderRole, 'provider');
    const message = keyedGet(state.messages, m2)!;
    assert.deepEqual(Object.keys(message).sort(), [
      'acknowledgedBy',
      'fingerprint',
      'readBy',
      'requiresAcknowledgment',
      'sender',
    ]);
    assert.equal(message.sender, doctor);
    assert.deepEqual(message.acknowledgedBy, []);
    assert.deepEqual(message.readBy, []);
    assert.equal(
      JSON.stringify({ ...state, messages: [...keyedEntries(state.messages)] }).includes(ciphertext),
      false,
    );
    assert.deepEqual([...keyedEntries(state.messages)].map(([id]) => id).sort(), [m1, m2]);
  });

  test('providers send structured medical content; requiresAcknowledgment and urgent are kept', () => {
    for (const kind of ['lab_result', 'prescription', 'referral', 'care_plan', 'imaging'] as const) {
      conversation
        .given([started()])
        .when(send({ actor: doctor, kind, requiresAcknowledgment: true, urgent: true }), now)
        .then([sent({ sender: doctor, kind, requiresAcknowledgment: true, urgent: true })]);
      conversation.given([started()]).when(send({ kind })).thenError('provider_only_kind', 'forbidden');
    }
    conversation
      .given([started()])
      .when(send({ requiresAcknowledgment: true }), now)
      .then([sent({ requiresAcknowledgment: true })]);
  });

  test('an attachment carries a blob id and size; kind attachment requires one, text allows none', () => {
    const attachment = { blobId: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', size: 2048 };
    conversation
      .given([started()])
      .when(send({ kind: 'attachment', attachment }), now)
      .then([sent({ kind: 'attachment', attachment })]);
    conversation
      .given([started()])
      .when(send({ actor: doctor, kind: 'imaging', attachment }), now)
      .then([sent({ sender: doctor, kind: 'imaging', attachment })]);
    conversation
      .given([started()])
      .when(send({ kind: 'attachment' }))
      .thenError('attachment_required', 'invalid');
    conversation.given([started()]).when(send({ attachment })).thenError('attachment_not_allowed', 'invalid');
    for (const bad of [
      { blobId: '', size: 2048 },
      { blobId: 'has space', size: 2048 },
      { blobId: 'bafy', size: 0 },
      { blobId: 'bafy', size: 1.5 },
      { blobId: 'bafy', size: 51 * 1024 * 1024 },
    ]) {
      conversation
        .given([started()])
        .when(send({ kind: 'attachment', attachment: bad }))
        .thenError('invalid_attachment', 'invalid');
    }
  });

  test('the ciphertext is base64url of 16 bytes to 64 KiB; the iv is 12 bytes', () => {
    conversation
      .given([started()])
      .when(send({ ciphertext: b64(MAX_CIPHERTEXT_BYTES) }), now)
      .then([sent({ ciphertext: b64(MAX_CIPHERTEXT_BYTES) })]);
    conversation
      .given([started()])
      .when(send({ ciphertext: b64(MAX_CIPHERTEXT_BYTES + 1) }))
      .thenError('ciphertext_too_large', 'invalid');
    conversation
      .given([started()])
      .when(send({ ciphertext: b64(15) }))
      .thenError('invalid_ciphertext', 'invalid');
    conversation
      .given([started()])
      .when(send({ ciphertext: 'not base64url!' }))
      .thenError('invalid_ciphertext');
    conversation
      .given([started()])
      .when(send({ iv: b64(16) }))
      .thenError('invalid_iv', 'invalid');
    conversation
      .given([started()])
      .when(send({ iv: '' }))
      .thenError('invalid_iv');
  });

  test('wrapped keys cover every participant, sender included, and nobody else', () => {
    conversation
      .given([started()])
      .when(send({ wrappedKeys: wrapped([doctor, nurse]) }))
      .thenError('wrapped_keys_mismatch', 'invalid');
    conversation
      .given([started()])
      .when(send({ wrappedKeys: wrapped([patient, doctor, nurse, stranger]) }))
      .thenError('wrapped_keys_mismatch', 'invalid');
    conversation
      .given([started()])
      .when(send({ wrappedKeys: { ...wrapped(), [nurse]: '' } }))
      .thenError('invalid_wrapped_key', 'invalid');
    conversation
      .given([started()])
      .when(send({ wrappedKeys: { ...wrapped(), [nurse]: b64(513) } }))
      .thenError('invalid_wrapped_key');
  });

  test('the message id is a client-generated uuid, stored lower-case', () => {
    conversation
      .given([started()])
      .when(send({ messageId: 'm1' }))
      .thenError('invalid_message_id', 'invalid');
    conversation
      .given([started()])
      .when(send({ messageId: m1.toUpperCase() }), now)
      .then([sent()]);
  });

  test('only participants send, and only in a conversation that exists', () => {
    conversation.given().when(send()).thenError('conversation_not_found', 'not_found');
    conversation
      .given([started()])
      .when(send({ actor: stranger }))
      .thenError('not_a_participant', 'forbidden');
    conversation
      .given([started()])
      .when(send({ conversationId: 'c-other' }))
      .thenError('wrong_stream', 'invalid');
  });

  test('when the messaging grant lapsed or was revoked, new messages are refused; history stays', () => {
    conversation
      .given([started(), sent()])
      .when(send({ messageId: m2, messagingAllowed: false }))
      .thenError('messaging_consent_required', 'forbidden');
    conversation
      .given([started(), sent()])
      .when(send({ messageId: m2, actor: doctor, messagingAllowed: false }))
      .thenError('messaging_consent_required', 'forbidden');
    const state = fold(conversationDecider, [started(), sent()]);
    assert.ok(keyedGet(state.messages, m1));
  });

  test('sending the same message id with the same envelope again decides nothing', () => {
    conversation.given([started(), sent()]).when(send(), later).then([]);
    // The retry of a message accepted in time stays harmless after the grant lapses.
    conversation
      .given([started(), sent()])
      .when(send({ messagingAllowed: false }), later)
      .then([]);
    // Key order in wrappedKeys does not matter.
    const reversed = Object.fromEntries(Object.entries(wrapped()).reverse());
    conversation
      .given([started(), sent()])
      .when(send({ wrappedKeys: reversed }), later)
      .then([]);
  });

  test('the same message id with different content, flags or sender conflicts', () => {
    for (const change of [
      { ciphertext: b64(120, 5) },
      { iv: b64(12, 6) },
      { urgent: true },
      { requiresAcknowledgment: true },
      { wrappedKeys: { ...wrapped(), [nurse]: b64(72, 99) } },
      { actor: doctor },
    ]) {
      conversation
        .given([started(), sent()])
        .when(send(change), later)
        .thenError('message_exists', 'conflict');
    }
  });

  test('an unknown kind is refused', () => {
    conversation
      .given([started()])
      .when(send({ kind: 'voice' as never }))
      .thenError('invalid_kind', 'invalid');
  });
});

describe('conversations: acknowledgments and read receipts', () => {
  const needsAck = sent({ sender: doctor, kind: 'lab_result', requiresAcknowledgment: true });
  const ack = (actor: string, messageId = m1) =>
    ({ type: 'AcknowledgeMessage', conversationId, actor, messageId }) as const;
  const markRead = (actor: string, messageId = m1) =>
    ({ type: 'MarkMessageRead', conversationId, actor, messageId }) as const;

  test('another participant acknowledges a message that asks for it, reading it on the way', () => {
    conversation
      .given([started(), needsAck])
      .when(ack(patient), later)
      .then([read(patient), acknowledged(patient)]);
    conversation
      .given([started(), needsAck, read(patient)])
      .when(ack(patient), later)
      .then([acknowledged(patient)]);
    const state = fold(conversationDecider, [started(), needsAck, read(patient), acknowledged(patient)]);
    assert.deepEqual(keyedGet(state.messages, m1)?.acknowledgedBy, [patient]);
    assert.deepEqual(keyedGet(state.messages, m1)?.readBy, [patient]);
  });

  test('acknowledging twice decides nothing; each participant acknowledges for themselves', () => {
    conversation
      .given([started(), needsAck, read(patient), acknowledged(patient)])
      .when(ack(patient), later)
      .then([]);
    conversation
      .given([started(), needsAck, read(patient), acknowledged(patient)])
      .when(ack(nurse), later)
      .then([read(nurse), acknowledged(nurse)]);
  });

  test('the sender cannot acknowledge their own message', () => {
    conversation.given([started(), needsAck]).when(ack(doctor)).thenError('own_message', 'forbidden');
  });

  test('a message that asks for no acknowledgment cannot be acknowledged', () => {
    conversation
      .given([started(), sent()])
      .when(ack(doctor))
      .thenError('acknowledgment_not_required', 'invalid');
  });

  test('unknown messages, outsiders and missing conversations are refused', () => {
    conversation
      .given([started(), needsAck])
      .when(ack(patient, m2))
      .thenError('message_not_found', 'not_found');
    conversation.given([started(), needsAck]).when(ack(stranger)).thenError('not_a_participant', 'forbidden');
    conversation.given().when(ack(patient)).thenError('conversation_not_found', 'not_found');
    conversation
      .given([started(), sent()])
      .when(markRead(stranger))
      .thenError('not_a_participant', 'forbidden');
  });

  test('acknowledgments and read receipts need no active grant: history stays usable', () => {
    // The commands carry no consent flag at all; they succeed on a conversation whose grant lapsed.
    conversation
      .given([started(), needsAck])
      .when(ack(patient), later)
      .then([read(patient), acknowledged(patient)]);
  });

  test('a participant marks a message read once; the sender sends no read receipt', () => {
    conversation
      .given([started(), sent()])
      .when(markRead(doctor), later)
      .then([read(doctor)]);
    conversation
      .given([started(), sent(), read(doctor)])
      .when(markRead(doctor), later)
      .then([]);
    conversation.given([started(), sent()]).when(markRead(patient)).thenError('own_message', 'forbidden');
    conversation
      .given([started(), sent()])
      .when(markRead(doctor, m2))
      .thenError('message_not_found', 'not_found');
    conversation
      .given([started(), sent()])
      .when(markRead(doctor, m1.toUpperCase()), later)
      .then([read(doctor)]);
  });

  test('unread and awaiting-acknowledgment lists per participant', () => {
    const state = fold(conversationDecider, [
      started(),
      sent(),
      sent({ messageId: m2, sender: doctor, requiresAcknowledgment: true }),
      read(doctor),
    ]);
    assert.deepEqual(unreadFor(state, doctor), []);
    assert.deepEqual(unreadFor(state, nurse).sort(), [m1, m2].sort());
    assert.deepEqual(unreadFor(state, patient), [m2]);
    assert.deepEqual(awaitingAcknowledgmentFrom(state, patient), [m2]);
    assert.deepEqual(awaitingAcknowledgmentFrom(state, doctor), []);
  });
});

describe('conversations: retention, hiding, never deleting', () => {
  const hide = (actor = patient) => ({ type: 'HideConversation', conversationId, actor }) as const;
  const unhide = (actor = patient) => ({ type: 'UnhideConversation', conversationId, actor }) as const;

  test('conversations are kept six years', () => {
    assert.equal(RETENTION_YEARS, 6);
  });

  test('the patient hides a conversation; every message is still there', () => {
    conversation.given([started(), sent()]).when(hide()).then([hidden()]);
    const state = fold(conversationDecider, [started(), sent(), hidden()]);
    assert.equal(isHiddenFor(state, patient), true);
    assert.equal(isHiddenFor(state, doctor), false);
    assert.ok(keyedGet(state.messages, m1));
  });

  test('hiding twice or showing a visible conversation decides nothing', () => {
    conversation.given([started(), hidden()]).when(hide()).then([]);
    conversation.given([started()]).when(unhide()).then([]);
  });

  test('the patient shows a hidden conversation again', () => {
    const shown: ConversationEvent = {
      type: 'ConversationUnhidden',
      version: 1,
      data: { conversationId, by: patient },
    };
    conversation.given([started(), hidden()]).when(unhide()).then([shown]);
    assert.equal(isHiddenFor(fold(conversationDecider, [started(), hidden(), shown]), patient), false);
  });

  test('hiding is per participant; outsiders cannot hide', () => {
    conversation
      .given([started(), hidden()])
      .when(hide(doctor))
      .then([hidden(doctor)]);
    conversation.given([started()]).when(hide(stranger)).thenError('not_a_participant', 'forbidden');
    conversation.given().when(hide()).thenError('conversation_not_found', 'not_found');
  });

  test('a hidden conversation still receives messages', () => {
    conversation.given([started(), hidden()]).when(send(), now).then([sent()]);
  });

  test('there is no delete command: an attempt is refused as unknown', () => {
    for (const type of ['DeleteConversation', 'DeleteMessage']) {
      conversation
        .given([started(), sent()])
        .when({ type, conversationId, actor: patient } as unknown as ConversationCommand)
        .thenError('unknown_command', 'invalid');
    }
    // @ts-expect-error: no such command exists in the type either.
    const deletion: ConversationCommand = { type: 'DeleteConversation', conversationId, actor: patient };
    assert.ok(deletion);
  });
});

describe('conversations: the care team', () => {
  const add = (provider = stranger, overrides: { actor?: string; messagingAllowed?: boolean } = {}) =>
    ({
      type: 'AddParticipant',
      conversationId,
      actor: patient,
      provider,
      messagingAllowed: true,
      ...overrides,
    }) as const;
  const remove = (provider: string, actor = patient) =>
    ({ type: 'RemoveParticipant', conversationId, actor, provider }) as const;
  const addedStranger: ConversationEvent = {
    type: 'ParticipantAdded',
    version: 1,
    data: { conversationId, provider: stranger, addedBy: patient },
  };

  test('the patient adds a provider who has a messaging grant; new messages must be wrapped for them', () => {
    conversation.given([started()]).when(add()).then([addedStranger]);
    conversation
      .given([started(), addedStranger])
      .when(send({ messageId: m2 }))
      .thenError('wrapped_keys_mismatch', 'invalid');
    conversation
      .given([started(), addedStranger])
      .when(send({ messageId: m2, wrappedKeys: wrapped([patient, doctor, nurse, stranger]) }), now)
      .then([sent({ messageId: m2, wrappedKeys: wrapped([patient, doctor, nurse, stranger]) })]);
  });

  test('only the patient adds, only with a grant, and adding twice decides nothing', () => {
    conversation
      .given([started()])
      .when(add(stranger, { actor: doctor }))
      .thenError('patient_only', 'forbidden');
    conversation
      .given([started()])
      .when(add(stranger, { messagingAllowed: false }))
      .thenError('messaging_consent_required', 'forbidden');
    conversation.given([started(), addedStranger]).when(add()).then([]);
    conversation.given([started()]).when(add(patient)).thenError('invalid_care_team', 'invalid');
    conversation.given([started()]).when(add('0x1')).thenError('invalid_address', 'invalid');
  });

  test('the care team has at most 20 providers', () => {
    const team = Array.from(
      { length: MAX_CARE_TEAM_SIZE },
      (_, i) => '0x' + (i + 1).toString(16).padStart(40, '0'),
    );
    conversation
      .given([started(team)])
      .when(add())
      .thenError('invalid_care_team', 'invalid');
  });

  test('the patient removes a provider, or a provider leaves; a removed provider sends no more', () => {
    conversation
      .given([started()])
      .when(remove(nurse))
      .then([removed(nurse)]);
    conversation
      .given([started()])
      .when(remove(nurse, nurse))
      .then([removed(nurse, nurse)]);
    conversation
      .given([started(), removed(nurse)])
      .when(remove(nurse))
      .then([]);
    conversation
      .given([started(), removed(nurse)])
      .when(send({ actor: nurse, wrappedKeys: wrapped([patient, doctor]) }))
      .thenError('not_a_participant', 'forbidden');
    conversation
      .given([started(), removed(nurse)])
      .when(send({ wrappedKeys: wrapped([patient, doctor]) }), now)
      .then([sent({ wrappedKeys: wrapped([patient, doctor]) })]);
    const state = fold(conversationDecider, [started(), removed(nurse)]);
    assert.deepEqual(state.providers, [doctor]);
    assert.deepEqual(state.formerProviders, [nurse]);
  });

  test('a former provider may still hide the conversation they can read', () => {
    conversation
      .given([started(), removed(nurse)])
      .when({ type: 'HideConversation', conversationId, actor: nurse })
      .then([hidden(nurse)]);
  });

  test('a provider cannot remove another; nobody removes the patient or the last provider', () => {
    conversation.given([started()]).when(remove(nurse, doctor)).thenError('patient_only', 'forbidden');
    conversation.given([started()]).when(remove(patient)).thenError('invalid_care_team', 'invalid');
    conversation
      .given([started([doctor])])
      .when(remove(doctor))
      .thenError('last_provider', 'conflict');
  });
});
