// Valid messaging requests for the cross-cutting API suites (authorization matrix, bad input): each
// caller gets a conversation of its own, as its patient, with a provider it granted `messaging` to.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { messagingKeyStatement } from '@custos/domain';
import { DAY, randomAddress, type RequestOptions, type TestApi, type User } from '../api/harness';

type Sample = RequestOptions & { url?: string };

/** What the suites' worlds have in common. */
interface ProvidersWorld {
  api: TestApi;
  providerWithGrant: User;
  providerWithoutGrant: User;
}
interface Caller {
  user?: User;
}

const base64url = (bytes: number) => randomBytes(bytes).toString('base64url');
const inAMonth = () => new Date(Date.now() + 30 * DAY * 1000);

/** A ciphertext envelope for `participants` (random bytes: the server cannot tell them from real ones). */
export function envelopeFor(participants: readonly string[], extra: Record<string, unknown> = {}) {
  return {
    messageId: randomUUID(),
    kind: 'text',
    ciphertext: base64url(48),
    iv: base64url(12),
    wrappedKeys: Object.fromEntries(participants.map((p) => [p, base64url(92)])),
    ...extra,
  };
}

/** `PUT /messaging/keys/me` for `user`: a fresh key, signed by their wallet. */
export async function messagingKeyBody(user: User | undefined) {
  const publicKey = base64url(32);
  const signature = user
    ? await user.wallet.signMessage(messagingKeyStatement(user.address, publicKey))
    : `0x${'11'.repeat(65)}`;
  return { publicKey, signature };
}

/** Starts a conversation with `patient` as its patient and `provider` in the care team, under a fresh grant. */
export async function startConversation(api: TestApi, patient: User, provider: User): Promise<string> {
  await api.grant(patient.address, provider.address, 'messaging', inAMonth());
  const res = await api.post(
    '/conversations',
    { patient: patient.address, providers: [provider.address] },
    patient.token,
  );
  assert.equal(res.statusCode, 201, `setup: conversation: ${res.body}`);
  return res.json<{ id: string }>().id;
}

/** A conversation of the caller's own (as its patient), or a random id for an anonymous caller. */
async function conversationOf(
  world: ProvidersWorld,
  caller: Caller,
): Promise<{ id: string; provider: User }> {
  const provider =
    caller.user === world.providerWithGrant ? world.providerWithoutGrant : world.providerWithGrant;
  if (!caller.user) return { id: randomUUID(), provider };
  return { id: await startConversation(world.api, caller.user, provider), provider };
}

// ---------------------------------------------------------------------- authorization matrix samples

export const messagingSamples = {
  registerKey: async (_world: ProvidersWorld, caller: Caller): Promise<Sample> => ({
    body: await messagingKeyBody(caller.user),
  }),

  /** The key of `someone` (registered once, the same key each time). */
  keyOf: async ({ api }: ProvidersWorld & { patient: User }, someone: User): Promise<Sample> => {
    const publicKey = Buffer.alloc(32, 42).toString('base64url');
    const signature = await someone.wallet.signMessage(messagingKeyStatement(someone.address, publicKey));
    const res = await api.request('PUT', '/messaging/keys/me', {
      token: someone.token,
      body: { publicKey, signature },
    });
    assert.equal(res.statusCode, 200, `setup: key: ${res.body}`);
    return { url: `/messaging/keys/${someone.address}` };
  },

  startConversation: async (world: ProvidersWorld, caller: Caller): Promise<Sample> => {
    const provider =
      caller.user === world.providerWithGrant ? world.providerWithoutGrant : world.providerWithGrant;
    const patient = caller.user?.address ?? randomAddress();
    if (caller.user) await world.api.grant(patient, provider.address, 'messaging', inAMonth());
    return { body: { patient, providers: [provider.address] } };
  },

  /** `/conversations/<one of the caller's><suffix>`. */
  conversation:
    (suffix = '') =>
    async (world: ProvidersWorld, caller: Caller): Promise<Sample> => ({
      url: `/conversations/${(await conversationOf(world, caller)).id}${suffix}`,
    }),

  sendMessage: async (world: ProvidersWorld, caller: Caller): Promise<Sample> => {
    const { id, provider } = await conversationOf(world, caller);
    return {
      url: `/conversations/${id}/messages`,
      body: envelopeFor([caller.user?.address ?? randomAddress(), provider.address]),
    };
  },

  /** A receipt by the caller for a message their provider sent them. */
  receipt:
    (kind: 'acknowledgment' | 'read') =>
    async (world: ProvidersWorld, caller: Caller): Promise<Sample> => {
      const { id, provider } = await conversationOf(world, caller);
      let messageId = randomUUID();
      if (caller.user) {
        const envelope = envelopeFor([caller.user.address, provider.address], {
          requiresAcknowledgment: true,
        });
        const res = await world.api.post(`/conversations/${id}/messages`, envelope, provider.token);
        assert.equal(res.statusCode, 201, `setup: message: ${res.body}`);
        messageId = envelope.messageId;
      }
      return { url: `/conversations/${id}/messages/${messageId}/${kind}` };
    },

  addParticipant: async (world: ProvidersWorld, caller: Caller): Promise<Sample> => {
    const { id } = await conversationOf(world, caller);
    const joining = caller.user ? await world.api.newUser('provider') : undefined;
    if (caller.user && joining) {
      await world.api.grant(caller.user.address, joining.address, 'messaging', inAMonth());
    }
    return {
      url: `/conversations/${id}/participants`,
      body: { provider: joining?.address ?? randomAddress() },
    };
  },

  removeParticipant: async (world: ProvidersWorld, caller: Caller): Promise<Sample> => {
    const added = await messagingSamples.addParticipant(world, caller);
    if (caller.user) {
      const res = await world.api.post(added.url!, added.body, caller.user.token);
      assert.equal(res.statusCode, 204, `setup: add a provider: ${res.body}`);
    }
    return { url: `${added.url}/${(added.body as { provider: string }).provider}/remove` };
  },
};
