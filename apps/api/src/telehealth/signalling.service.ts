import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  CONSULTATION_SYSTEM_ACTOR,
  type ConsultationCommand,
  type ConsultationRole,
  consultationStream,
  DomainError,
  type ClientMessage,
  type IceCandidateInit,
  mayJoin,
  type RecordedEvent,
  REMOVAL_REASONS,
  SIGNAL_CLOSE,
  SIGNALLING_PATH,
  type ServerMessage,
  unixSeconds,
} from '@custos/domain';
import { type RawData, WebSocket } from 'ws';
import type { CommandContext } from '../core/aggregate-repository';
import { EVENT_STORE } from '../event-store/event-store.module';
import { ConcurrencyError, type EventStore, type EventSubscription } from '../event-store/event-store.port';
import { ProjectionsService } from '../projections/projections.module';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { ReadModelStore } from '../read-models/read-model.port';
import { type UpgradeDecision, WebSocketEndpoints, websocketToken } from '../realtime/websocket-endpoints';
import { CallTokens } from './call-tokens';
import { RunConsultationCommand } from './consultation.commands';
import { type ConsultationDocument, stateOf } from './consultation.projection';
import { TELEHEALTH_CATEGORY, TelehealthConsent } from './telehealth-consent';

/** An SDP offer is a few kilobytes; this leaves room for many codecs and candidates. */
export const SIGNALLING_MAX_MESSAGE_BYTES = 64 * 1024;
/** How often open calls are checked against the consent (expiry, the provider's role) and the clock. */
export const SIGNALLING_SWEEP_MS = 15_000;

const RELAYED = new Set<unknown>(['offer', 'answer', 'ice'] satisfies ClientMessage['type'][]);
const isRelayed = (type: unknown): type is ClientMessage['type'] => RELAYED.has(type);

interface Admission {
  session: string;
  participant: string;
  role: ConsultationRole;
}

interface Peer extends Admission {
  socket: WebSocket;
  /** Removed, replaced or ended by the server: its closing is no `ParticipantLeft` to record. */
  gone: boolean;
}

/** The participants of one consultation connected to this process. */
interface Room {
  id: string;
  provider: string;
  patient: string;
  category: string;
  /** Unix seconds. */
  endsAt: number;
  peers: Map<string, Peer>;
}

const send = (socket: WebSocket, message: ServerMessage) => {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
};

/**
 * The built-in WebRTC signalling at `/sessions/signal`. A participant connects with the call token
 * from `POST /sessions/:id/credentials` (as the subprotocol `custos-token.<token>`); the upgrade is
 * checked again against the consultation (admitted, in its window, not ended) and, for its provider,
 * against the consent projection. Connected participants of one consultation exchange `offer`,
 * `answer` and `ice` messages addressed `to` one another; the server names the sender (`from`) and
 * relays nothing else, and nothing between consultations. It announces `peer-joined` / `peer-left`
 * and records ParticipantJoined / ParticipantLeft.
 *
 * It watches the event store from its head: when the patient revokes the provider's grant for the
 * consultation's category or for telehealth (and no other grant keeps it active), the provider is put
 * out at once: both sides get `removed` with the reason, the provider's socket is closed (4003) and
 * `RemoveParticipant` is recorded. A consultation that ends closes every socket (`ended`, 4001). A
 * periodic sweep does the same for a grant that expired or a provider who lost the role, and for a
 * window that closed before the closing job recorded it.
 */
@Injectable()
export class SignallingService
  implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger = new Logger('Signalling');
  private readonly rooms = new Map<string, Room>();
  /** Commands per consultation run one after another (they would only race on its stream). */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private subscription: EventSubscription | null = null;
  private watcher: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(
    private readonly endpoints: WebSocketEndpoints,
    private readonly commands: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    private readonly projections: ProjectionsService,
    private readonly consent: TelehealthConsent,
    private readonly tokens: CallTokens,
  ) {}

  onModuleInit(): void {
    this.endpoints.serve<Admission>(SIGNALLING_PATH, {
      maxPayload: SIGNALLING_MAX_MESSAGE_BYTES,
      authorize: (request) => this.authorize(request, new Date()),
      onConnection: (socket, admission) => this.connect(socket, admission),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const subscription = this.store.subscribe(await this.store.headPosition());
    this.subscription = subscription;
    this.watcher = this.watch(subscription);
    this.timer = setInterval(() => void this.track(this.sweep(new Date())), SIGNALLING_SWEEP_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const room of this.rooms.values()) {
      for (const peer of room.peers.values()) {
        peer.gone = true;
        peer.socket.close(SIGNAL_CLOSE.SHUTTING_DOWN, 'the server is shutting down; reconnect');
      }
    }
    this.rooms.clear();
    await this.subscription?.close();
    await this.watcher;
  }

  /** Before the event store closes: let the commands already started finish. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /** The participants connected to a consultation here (for tests and metrics). */
  connected(sessionId: string): string[] {
    return [...(this.rooms.get(sessionId)?.peers.keys() ?? [])];
  }

  // ------------------------------------------------------------------------------------- upgrade

  async authorize(request: IncomingMessage, now: Date): Promise<UpgradeDecision<Admission>> {
    const token = websocketToken(request);
    if (!token) {
      return {
        ok: false,
        status: 401,
        reason: 'a call token is required: offer the subprotocols custos and custos-token.<token>',
      };
    }
    const check = this.tokens.check(token, unixSeconds(now));
    if (!check.valid) return { ok: false, status: 401, reason: `call token refused: ${check.reason}` };
    const { sid, sub } = check.claims;
    const doc = await this.readModels.get<ConsultationDocument>('consultations', sid);
    if (!doc) return { ok: false, status: 404, reason: 'this consultation does not exist' };
    const join = mayJoin(stateOf(doc), sub, now);
    if (!join.ok) return { ok: false, status: 403, reason: join.reason };
    if (sub === doc.provider && !(await this.consent.isActive(doc.patient, sub, doc.category, now))) {
      return { ok: false, status: 403, reason: REMOVAL_REASONS.inactive };
    }
    const role = doc.participants[sub]?.role ?? check.claims.role;
    return { ok: true, value: { session: sid, participant: sub, role } };
  }

  private connect(socket: WebSocket, admission: Admission): void {
    const ready = this.serialize(admission.session, () => this.join(socket, admission));
    // Messages sent before the join is recorded wait for it, in order.
    socket.on('message', (data, isBinary) => {
      void ready.then((peer) => peer && this.relay(peer, data, isBinary));
    });
    socket.on('close', () => {
      void ready.then((peer) => peer && this.left(peer));
    });
    socket.on('error', (error) => this.logger.debug(`socket error: ${error.message.slice(0, 200)}`));
  }

  private async join(socket: WebSocket, admission: Admission): Promise<Peer | null> {
    const { session, participant, role } = admission;
    try {
      await this.run({ type: 'JoinConsultation', id: session, actor: participant }, participant);
    } catch (error) {
      const reason = error instanceof DomainError ? error.message : 'the join could not be recorded';
      socket.close(SIGNAL_CLOSE.REFUSED, reason.slice(0, 120));
      return null;
    }
    const doc = await this.readModels.get<ConsultationDocument>('consultations', session);
    if (!doc || this.stopping) {
      socket.close(SIGNAL_CLOSE.REFUSED, 'the consultation is not available');
      return null;
    }
    const peer: Peer = { ...admission, socket, gone: false };
    if (socket.readyState !== WebSocket.OPEN) {
      // Gone while the join was recorded: record the leave too (the close handler has fired already).
      void this.left(peer);
      return null;
    }
    let room = this.rooms.get(session);
    if (!room) {
      room = {
        id: session,
        provider: doc.provider,
        patient: doc.patient,
        category: doc.category,
        endsAt: doc.endsAt,
        peers: new Map(),
      };
      this.rooms.set(session, room);
    }
    const previous = room.peers.get(participant);
    if (previous) {
      previous.gone = true;
      previous.socket.close(SIGNAL_CLOSE.REPLACED, 'replaced by a newer connection of the same participant');
    }
    room.peers.set(participant, peer);
    const others = [...room.peers.values()].filter((p) => p !== peer);
    send(socket, {
      type: 'welcome',
      session,
      participant,
      role,
      peers: others.map((p) => ({ participant: p.participant, role: p.role })),
    });
    for (const other of others) send(other.socket, { type: 'peer-joined', participant, role });
    // A revocation handled between the upgrade's check and now found no provider in the room: look again
    // (not awaited: the removal queues behind this join).
    if (participant === room.provider) void this.track(this.confirmConsent(room));
    return peer;
  }

  private async confirmConsent(room: Room): Promise<void> {
    if (!(await this.consent.isActive(room.patient, room.provider, room.category, new Date()))) {
      await this.removeProvider(room, REMOVAL_REASONS.inactive);
    }
  }

  private async left(peer: Peer): Promise<void> {
    const room = this.rooms.get(peer.session);
    if (room?.peers.get(peer.participant) === peer) {
      room.peers.delete(peer.participant);
      for (const other of room.peers.values()) {
        send(other.socket, { type: 'peer-left', participant: peer.participant });
      }
      if (room.peers.size === 0) this.rooms.delete(room.id);
    }
    if (peer.gone || this.stopping) return;
    peer.gone = true;
    await this.system(peer.session, {
      type: 'LeaveConsultation',
      id: peer.session,
      actor: CONSULTATION_SYSTEM_ACTOR,
      participant: peer.participant,
    });
  }

  // ------------------------------------------------------------------------------------- relay

  private relay(peer: Peer, data: RawData, isBinary: boolean): void {
    const room = this.rooms.get(peer.session);
    if (peer.gone || room?.peers.get(peer.participant) !== peer) return;
    if (unixSeconds(new Date()) >= room.endsAt) {
      this.endRoom(room, 'the scheduled time is over');
      return;
    }
    const refuse = (code: string, message: string) => send(peer.socket, { type: 'error', code, message });
    if (isBinary) return refuse('invalid_message', 'messages are JSON text');
    let message: unknown;
    try {
      message = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
    } catch {
      return refuse('invalid_message', 'messages are JSON text');
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      return refuse('invalid_message', 'a message is a JSON object');
    }
    const { type, to, sdp, candidate } = message as Record<string, unknown>;
    if (!isRelayed(type)) {
      return refuse('invalid_type', 'type must be one of: offer, answer, ice');
    }
    if (typeof to !== 'string') return refuse('invalid_to', 'to must name a connected participant');
    const target = room.peers.get(to.toLowerCase());
    if (!target || target === peer) {
      return refuse('peer_not_connected', 'to must name another participant connected to this consultation');
    }
    if (type === 'ice') {
      if (candidate !== null && (typeof candidate !== 'object' || Array.isArray(candidate))) {
        return refuse('invalid_candidate', 'candidate must be an RTCIceCandidateInit object or null');
      }
      send(target.socket, { type, from: peer.participant, candidate: candidate as IceCandidateInit | null });
      return;
    }
    if (typeof sdp !== 'string' || sdp.length === 0) {
      return refuse('invalid_sdp', 'sdp must be the session description text');
    }
    send(target.socket, { type, from: peer.participant, sdp });
  }

  // ------------------------------------------------------------------------------------- consent

  private async watch(subscription: EventSubscription): Promise<void> {
    try {
      for await (const event of subscription) {
        if (this.stopping) break;
        try {
          await this.track(this.onEvent(event));
        } catch (error) {
          this.logger.error(`could not act on ${event.type}: ${(error as Error).message.slice(0, 300)}`);
        }
      }
    } catch (error) {
      if (!this.stopping) this.logger.error(`event watch stopped: ${(error as Error).message.slice(0, 300)}`);
    }
  }

  private async onEvent(event: RecordedEvent): Promise<void> {
    if (this.rooms.size === 0) return;
    if (event.type === 'ConsentRevoked') {
      const { patient, provider, category } = event.data as {
        patient: string;
        provider: string;
        category: string;
      };
      const affected = [...this.rooms.values()].filter(
        (room) =>
          room.patient === patient &&
          room.provider === provider &&
          (room.category === category || category === TELEHEALTH_CATEGORY) &&
          room.peers.has(provider),
      );
      await this.recheck(affected, event, REMOVAL_REASONS.revoked);
      return;
    }
    if (event.type === 'RoleRevoked') {
      const { account, role } = event.data as { account: string; role: string };
      if (role !== 'provider') return;
      const affected = [...this.rooms.values()].filter(
        (room) => room.provider === account && room.peers.has(account),
      );
      await this.recheck(affected, event, REMOVAL_REASONS.inactive);
      return;
    }
    const { id, participant, reason } = event.data as { id?: unknown; participant?: string; reason?: string };
    if (typeof id !== 'string' || event.stream !== consultationStream(id)) return;
    const room = this.rooms.get(id);
    if (!room) return;
    if (event.type === 'ConsultationEnded' || event.type === 'ConsultationNoShow') {
      this.endRoom(
        room,
        event.type === 'ConsultationEnded' ? (reason ?? 'ended') : 'the scheduled time is over',
      );
    } else if (event.type === 'ParticipantRemoved' && participant) {
      // Removed by another instance (or by us: then the peer is already gone).
      this.putOut(room, participant, reason ?? REMOVAL_REASONS.inactive);
    }
  }

  /**
   * After the consent projection has applied `event`, puts the provider of each room out unless a grant
   * still covers the consultation (a revoked category grant while a telehealth grant stays active).
   */
  private async recheck(rooms: Room[], event: RecordedEvent, reason: string): Promise<void> {
    if (rooms.length === 0) return;
    await this.projections.runner.caughtUp(event.position);
    for (const room of rooms) {
      if (await this.consent.isActive(room.patient, room.provider, room.category, new Date())) continue;
      await this.removeProvider(room, reason, event.id);
    }
  }

  private async removeProvider(room: Room, reason: string, causationId?: string): Promise<void> {
    if (!this.putOut(room, room.provider, reason)) return;
    await this.system(
      room.id,
      {
        type: 'RemoveParticipant',
        id: room.id,
        actor: CONSULTATION_SYSTEM_ACTOR,
        participant: room.provider,
        reason,
      },
      causationId,
    );
  }

  /** Tells everyone in the room, then closes the participant's socket. False when not connected. */
  private putOut(room: Room, participant: string, reason: string): boolean {
    const peer = room.peers.get(participant);
    if (!peer || peer.gone) return false;
    peer.gone = true;
    const message: ServerMessage = { type: 'removed', participant, reason };
    for (const p of room.peers.values()) send(p.socket, message);
    room.peers.delete(participant);
    peer.socket.close(SIGNAL_CLOSE.REMOVED, `removed: ${reason}`.slice(0, 120));
    if (room.peers.size === 0) this.rooms.delete(room.id);
    return true;
  }

  private endRoom(room: Room, reason: string): void {
    this.rooms.delete(room.id);
    for (const peer of room.peers.values()) {
      peer.gone = true;
      send(peer.socket, { type: 'ended', reason });
      peer.socket.close(SIGNAL_CLOSE.ENDED, 'the consultation has ended');
    }
    room.peers.clear();
  }

  /** Rooms whose window closed are ended; providers whose consent lapsed are put out. */
  async sweep(now: Date): Promise<void> {
    for (const room of [...this.rooms.values()]) {
      if (unixSeconds(now) >= room.endsAt) {
        this.endRoom(room, 'the scheduled time is over');
      } else if (
        room.peers.has(room.provider) &&
        !(await this.consent.isActive(room.patient, room.provider, room.category, now))
      ) {
        await this.removeProvider(room, REMOVAL_REASONS.inactive);
      }
    }
  }

  // ------------------------------------------------------------------------------------- commands

  /** Runs a command as `actor`, again when it raced another writer on the stream (up to 3 times). */
  private async run(command: ConsultationCommand, actor: string, causationId?: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const context: CommandContext = { actor, correlationId: randomUUID(), causationId, now: new Date() };
      try {
        await this.commands.execute(new RunConsultationCommand(context, command));
        return;
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= 3) throw error;
      }
    }
  }

  /** A command of the system's own, after the session's earlier ones; a failure is logged. */
  private system(session: string, command: ConsultationCommand, causationId?: string): Promise<void> {
    return this.serialize(session, () =>
      this.run(command, CONSULTATION_SYSTEM_ACTOR, causationId).catch((error: Error) =>
        this.logger.warn(`${command.type} on consultation ${session} failed: ${error.message.slice(0, 300)}`),
      ),
    );
  }

  private serialize<T>(session: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(session) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    const settled = next.catch(() => undefined);
    this.queues.set(session, settled);
    void settled.then(() => {
      if (this.queues.get(session) === settled) this.queues.delete(session);
    });
    return this.track(next);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const done = () => this.inFlight.delete(work);
    work.then(done, done);
    return work;
  }
}
