import type { IncomingMessage } from 'node:http';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { RecordedEvent } from '@custos/domain';
import { type RawData, type WebSocket } from 'ws';
import { AccessDecisionRecorder, recordDenial } from '../auth/access-decision-recorder';
import { SessionTokens } from '../auth/session-tokens';
import { findAll } from '../core/find-all';
import { EVENT_STORE } from '../event-store/event-store.module';
import type { EventStore, EventSubscription } from '../event-store/event-store.port';
import { ProjectionsService } from '../projections/projections.module';
import type { ReadModelStore } from '../read-models/read-model.port';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import { type UpgradeDecision, WebSocketEndpoints, websocketToken } from '../realtime/websocket-endpoints';
import type { MessageView } from './messaging.dto';
import { CONVERSATION_STREAM_PREFIX, type MessageFeedDocument } from './messaging.projection';
import { messageFor } from './messaging.queries';

/**
 * LIVE DELIVERY: `GET /messages/live` (WebSocket), for participants of conversations.
 *
 * Connect with the session token from sign-in as a subprotocol:
 *   new WebSocket('wss://host/messages/live', ['custos', 'custos-token.' + token])
 * A missing, expired or signed-out token is answered 401 before the handshake (and audited).
 *
 * Server → client, one JSON object per text frame; every item carries `position` (the event's global
 * position) and `messageId`:
 *   { type: 'message', position, conversationId, messageId, sender, senderRole, kind, urgent,
 *     requiresAcknowledgment, ciphertext, iv, wrappedKey, attachment, sentAt, acknowledgedBy, readBy }
 *       a message sent to me (the sender's own devices get it too); `wrappedKey` is mine only
 *   { type: 'acknowledgment' | 'read', position, conversationId, messageId, by, at }
 *       a receipt for a message that was sent to me
 *   { type: 'resumed', through, more }   the end of a replay (see resume)
 *   { type: 'error', message }           a frame the server could not use
 * Client → server:
 *   { type: 'resume', after: <position> }
 *       replays, in position order, everything for me after `after` (-1: from the beginning), then
 *       `resumed`. At most 1000 items per replay: with `more: true`, resume again after `through`.
 *       Items that happen during the replay follow it, in order.
 *
 * Delivery is at least once: the client deduplicates (a message by `messageId`, a receipt by type,
 * `messageId` and `by`) and keeps the highest `position` it received; after a reconnect it resumes
 * from there. Without a resume it receives what happens from the moment it connected (fetch the
 * history over HTTP, then resume from its highest `position`: nothing falls in between).
 * Close codes: 4001 the session ended (expired or signed out; sign in again); 1011 delivery was
 * interrupted on the server, 1013 the client fell too far behind reading (both: reconnect and resume).
 *
 * Live items come from the event store (a subscription from the head at start-up, conversation
 * streams only), each sent once the projections have applied it; replays come from `message_feed`.
 * Logs name positions and counts only, never message metadata or ciphertext.
 */
export const MESSAGES_LIVE_PATH = '/messages/live';
/** Client frames are tiny (`resume`). */
const MAX_CLIENT_FRAME_BYTES = 1024;
export const MAX_RESUME_ITEMS = 1000;
const RESUME_PAGE = 200;
const HEARTBEAT_MS = 30_000;
const RESUBSCRIBE_DELAY_MS = 1_000;
/** A client this far behind on reading is closed (1013) rather than buffered without bound; it resumes. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const DELIVERED_EVENT_TYPES = new Set(['MessageSent', 'MessageAcknowledged', 'MessageRead']);

export type LiveItem =
  | ({ type: 'message' } & MessageView)
  | {
      type: 'acknowledgment' | 'read';
      position: number;
      conversationId: string;
      messageId: string;
      by: string;
      at: string;
    };

type ServerFrame =
  LiveItem | { type: 'resumed'; through: number; more: boolean } | { type: 'error'; message: string };

interface LiveClient {
  socket: WebSocket;
  account: string;
  token: string;
  alive: boolean;
  /** Live items held back while a resume replays the feed; null when none runs. */
  held: LiveItem[] | null;
  /** Client frames are handled one after the other. */
  work: Promise<void>;
  expiry: NodeJS.Timeout;
}

interface Session {
  account: string;
  token: string;
  /** Unix seconds. */
  expiresAt: number;
}

@Injectable()
export class MessageDelivery implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('MessageDelivery');
  private readonly clients = new Map<string, Set<LiveClient>>();
  private tokens!: SessionTokens;
  private subscription: EventSubscription | undefined;
  private following: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    endpoints: WebSocketEndpoints,
    private readonly moduleRef: ModuleRef,
    private readonly decisions: AccessDecisionRecorder,
    private readonly projections: ProjectionsService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {
    endpoints.serve<Session>(MESSAGES_LIVE_PATH, {
      maxPayload: MAX_CLIENT_FRAME_BYTES,
      authorize: (request) => this.authorize(request),
      onConnection: (socket, session) => this.connect(socket, session),
    });
  }

  onModuleInit(): void {
    // AuthModule keeps SessionTokens to itself; the same instance checks HTTP and WebSocket sessions.
    this.tokens = this.moduleRef.get(SessionTokens, { strict: false });
  }

  async onApplicationBootstrap(): Promise<void> {
    const head = await this.store.headPosition();
    this.following = this.follow(head);
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS).unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    await this.subscription?.close();
    await this.following;
    for (const set of this.clients.values()) for (const client of set) clearTimeout(client.expiry);
  }

  /** Open sockets (for tests and metrics). */
  get connections(): number {
    let count = 0;
    for (const set of this.clients.values()) count += set.size;
    return count;
  }

  // ------------------------------------------------------------------------------------ connecting

  private async authorize(request: IncomingMessage): Promise<UpgradeDecision<Session>> {
    const token = websocketToken(request);
    const check = token === undefined ? null : this.tokens.check(token);
    if (token !== undefined && check?.valid) {
      return { ok: true, value: { account: check.claims.sub, token, expiresAt: check.claims.exp } };
    }
    const reason =
      check && !check.valid
        ? check.reason
        : 'no session token was offered (subprotocol custos-token.<token>)';
    await recordDenial(
      this.decisions,
      {
        actor: 'anonymous',
        resource: MESSAGES_LIVE_PATH,
        action: 'GET',
        outcome: 'denied',
        reason: `authentication required: ${reason}`,
        patient: null,
        purpose: null,
      },
      this.logger,
    );
    return { ok: false, status: 401, reason: `Authentication required: ${reason}.` };
  }

  private connect(socket: WebSocket, session: Session): void {
    const client: LiveClient = {
      socket,
      account: session.account,
      token: session.token,
      alive: true,
      held: null,
      work: Promise.resolve(),
      expiry: setTimeout(
        () => socket.close(4001, 'session expired'),
        Math.max(0, session.expiresAt * 1000 - Date.now()),
      ).unref(),
    };
    let set = this.clients.get(client.account);
    if (!set) this.clients.set(client.account, (set = new Set()));
    set.add(client);
    socket.on('pong', () => (client.alive = true));
    socket.on('message', (data, isBinary) => {
      client.work = client.work.then(() => this.receive(client, data, isBinary));
    });
    socket.on('close', () => {
      clearTimeout(client.expiry);
      const clients = this.clients.get(client.account);
      clients?.delete(client);
      if (clients?.size === 0) this.clients.delete(client.account);
    });
    socket.on('error', () => socket.terminate());
  }

  private async receive(client: LiveClient, data: RawData, isBinary: boolean): Promise<void> {
    let frame: unknown;
    try {
      frame = isBinary ? undefined : JSON.parse(rawText(data));
    } catch {
      frame = undefined;
    }
    const { type, after } = (typeof frame === 'object' && frame !== null ? frame : {}) as Record<
      string,
      unknown
    >;
    if (type !== 'resume' || !Number.isSafeInteger(after) || (after as number) < -1) {
      this.send(client, {
        type: 'error',
        message: 'expected {"type":"resume","after":<position>} with a whole position of -1 or more',
      });
      return;
    }
    try {
      await this.resume(client, after as number);
    } catch (error) {
      this.logger.warn(`resume failed: ${(error as Error).message.slice(0, 200)}`);
      client.socket.close(1011, 'delivery interrupted; reconnect and resume');
    }
  }

  /** Replays the feed after `after`; live items arriving meanwhile are held and follow it. */
  private async resume(client: LiveClient, after: number): Promise<void> {
    client.held = [];
    let through = after;
    let sent = 0;
    let cursor: string | undefined;
    let more = false;
    try {
      do {
        const page = await this.readModels.find<MessageFeedDocument>('message_feed', {
          where: { recipient: client.account },
          range: { field: 'position', gte: after + 1 },
          sort: { field: 'position', direction: 'asc' },
          cursor,
          limit: RESUME_PAGE,
        });
        for (const entry of page.items) {
          const item = await this.itemFor(entry);
          if (item) this.send(client, item);
          through = entry.position;
          sent++;
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined && sent < MAX_RESUME_ITEMS);
      more = cursor !== undefined;
    } finally {
      const held = client.held;
      client.held = null;
      // With more to replay, the next resume brings the held items again, in order.
      if (!more) for (const item of held) if (item.position > through) this.send(client, item);
    }
    this.send(client, { type: 'resumed', through, more });
  }

  // ------------------------------------------------------------------------------------ delivering

  /** Follows the store from `after`, resubscribing after a failure, until the module stops. */
  private async follow(after: number): Promise<void> {
    let position = after;
    while (!this.stopped) {
      const subscription = this.store.subscribe(position);
      this.subscription = subscription;
      try {
        for await (const event of subscription) {
          position = event.position;
          if (this.clients.size > 0 && delivered(event)) await this.deliver(event.position);
        }
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn(
          `live delivery stopped at position ${position}, resubscribing: ${(error as Error).message}`,
        );
        await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_DELAY_MS));
      }
    }
  }

  private async deliver(position: number): Promise<void> {
    try {
      await this.projections.runner.caughtUp(position);
      const entries = await findAll<MessageFeedDocument>(this.readModels, 'message_feed', {
        where: { position },
      });
      for (const entry of entries) {
        const clients = this.clients.get(entry.recipient);
        if (!clients || clients.size === 0) continue;
        const item = await this.itemFor(entry);
        if (item) for (const client of clients) this.push(client, item);
      }
    } catch (error) {
      // A skipped item would be a gap: every client reconnects and resumes from what it has.
      this.logger.warn(
        `live delivery of position ${position} failed: ${(error as Error).message.slice(0, 200)}`,
      );
      for (const set of this.clients.values()) {
        for (const client of set) client.socket.close(1011, 'delivery interrupted; reconnect and resume');
      }
    }
  }

  private async itemFor(entry: MessageFeedDocument): Promise<LiveItem | null> {
    if (entry.item === 'message') {
      const message = await messageFor(
        this.readModels,
        entry.conversationId,
        entry.messageId,
        entry.recipient,
      );
      return message ? { type: 'message', ...message } : null;
    }
    return {
      type: entry.item,
      position: entry.position,
      conversationId: entry.conversationId,
      messageId: entry.messageId,
      by: entry.by,
      at: entry.at,
    };
  }

  private push(client: LiveClient, item: LiveItem): void {
    // A session signed out since the socket opened receives nothing more.
    if (!this.tokens.check(client.token).valid) {
      client.socket.close(4001, 'session ended');
      return;
    }
    if (client.held) client.held.push(item);
    else this.send(client, item);
  }

  private send(client: LiveClient, frame: ServerFrame): void {
    const socket = client.socket;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      socket.close(1013, 'too far behind; reconnect and resume');
      return;
    }
    socket.send(JSON.stringify(frame));
  }

  /** Drops sockets whose peer stopped answering pings. */
  private beat(): void {
    for (const set of this.clients.values()) {
      for (const client of set) {
        if (!client.alive) {
          client.socket.terminate();
          continue;
        }
        client.alive = false;
        client.socket.ping();
      }
    }
  }
}

function delivered(event: RecordedEvent): boolean {
  return DELIVERED_EVENT_TYPES.has(event.type) && event.stream.startsWith(CONVERSATION_STREAM_PREFIX);
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}
