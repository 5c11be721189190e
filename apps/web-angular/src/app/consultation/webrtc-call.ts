import { signal } from '@angular/core';

import type {
  CallEngine,
  CallEvent,
  CallOutcome,
  CallPhase,
  PeerState,
  RemoteParticipant,
} from './call-engine';
import type { ConsultationMode, IceServer } from './consultation-api';
import {
  type ClientMessage,
  SIGNAL_CLOSE,
  type ServerMessage,
  parseServerMessage,
  signallingProtocols,
  signallingUrl,
} from './signalling-protocol';

/** What the call needs of a WebSocket (a real one, or a fake in tests). */
export type SignalSocket = Pick<
  WebSocket,
  'readyState' | 'send' | 'close' | 'onopen' | 'onmessage' | 'onclose' | 'onerror'
>;

export interface WebRtcCallOptions {
  /** From `POST /sessions/:id/credentials`. */
  readonly token: string;
  readonly iceServers: readonly IceServer[];
  readonly mode: ConsultationMode;
  /** Camera and/or microphone; `null` to only receive (no device, or the person refused). */
  readonly localStream: MediaStream | null;
  /** Defaults to `ws(s)://<this host>/sessions/signal`. */
  readonly url?: string;
  readonly createSocket?: (url: string, protocols: string[]) => SignalSocket;
  readonly createPeerConnection?: (config: RTCConfiguration) => RTCPeerConnection;
  readonly getDisplayMedia?: (options: DisplayMediaStreamOptions) => Promise<MediaStream>;
  readonly onEvent?: (event: CallEvent) => void;
}

interface Peer {
  readonly id: string;
  role: string;
  pc: RTCPeerConnection | null;
  stream: MediaStream | null;
  state: PeerState;
  /** Candidates that came before the remote description. */
  pendingIce: RTCIceCandidateInit[];
}

const OPEN = 1;

/**
 * A call over the API's built-in signalling: one RTCPeerConnection per other participant (a small
 * mesh; consultations have a handful of people).
 *
 * The flow: the socket opens with the call token; `welcome` lists who is already there, and the
 * newcomer sends each of them an `offer`; those already in the room wait for the newcomer's offer
 * (`peer-joined`) and `answer` it, so two offers never cross. ICE candidates trickle both ways as
 * `ice`; a candidate that arrives before its remote description waits for it. Each connection has an
 * audio transceiver and, for video consultations, a video one, both `sendrecv` even without a local
 * device, so that sharing the screen (or a camera that comes back) only replaces the sent track and
 * needs no new offer.
 *
 * Messages are handled one after another, in order (each may wait for the browser's SDP work).
 * `removed` and `ended` say why the server is about to close the socket; the close code says it when
 * no message did (see `outcome`).
 */
export class WebRtcCall implements CallEngine {
  readonly kind = 'webrtc' as const;

  private readonly phaseState = signal<CallPhase>('idle');
  private readonly remotesState = signal<readonly RemoteParticipant[]>([]);
  private readonly outcomeState = signal<CallOutcome | null>(null);
  private readonly sharingState = signal(false);
  private readonly previewState = signal<MediaStream | null>(null);
  private readonly selfState = signal<string | null>(null);

  readonly phase = this.phaseState.asReadonly();
  readonly remotes = this.remotesState.asReadonly();
  readonly outcome = this.outcomeState.asReadonly();
  readonly screenSharing = this.sharingState.asReadonly();
  readonly localPreview = this.previewState.asReadonly();
  /** My own address as the server knows it (lower-case), once welcomed. */
  readonly self = this.selfState.asReadonly();

  private socket: SignalSocket | null = null;
  private readonly peers = new Map<string, Peer>();
  private welcomed = false;
  /** Why the server is closing the socket, from the message that came just before the close. */
  private announced: CallOutcome | null = null;
  private screen: MediaStream | null = null;
  private work: Promise<void> = Promise.resolve();

  constructor(private readonly options: WebRtcCallOptions) {
    this.previewState.set(options.mode === 'video' ? options.localStream : null);
  }

  /** Opens the signalling socket; the rest happens as messages arrive. */
  async start(): Promise<void> {
    if (this.phaseState() !== 'idle') return;
    this.phaseState.set('connecting');
    const create = this.options.createSocket ?? ((url, protocols) => new WebSocket(url, protocols));
    let socket: SignalSocket;
    try {
      socket = create(this.options.url ?? signallingUrl(), signallingProtocols(this.options.token));
    } catch (error) {
      this.finish({ kind: 'unreachable', reason: error instanceof Error ? error.message : undefined });
      return;
    }
    this.socket = socket;
    socket.onmessage = (event: MessageEvent) => this.enqueue(() => this.onMessage(event.data));
    socket.onclose = (event: CloseEvent) => this.enqueue(async () => this.onClose(event.code, event.reason));
    socket.onerror = () => undefined; // a close event follows with the code
  }

  /** Resolves once every message received so far has been handled (for tests). */
  settled(): Promise<void> {
    return this.work;
  }

  async setMicrophone(on: boolean): Promise<void> {
    for (const track of this.options.localStream?.getAudioTracks() ?? []) track.enabled = on;
  }

  async setCamera(on: boolean): Promise<void> {
    for (const track of this.options.localStream?.getVideoTracks() ?? []) track.enabled = on;
  }

  async startScreenShare(): Promise<void> {
    if (this.options.mode !== 'video') throw new Error('Audio consultations have no screen sharing.');
    if (this.screen) return;
    const getDisplayMedia =
      this.options.getDisplayMedia ??
      ((constraints: DisplayMediaStreamOptions) => navigator.mediaDevices.getDisplayMedia(constraints));
    const screen = await getDisplayMedia({ video: true, audio: false });
    const track = screen.getVideoTracks()[0];
    if (!track || this.outcomeState()) {
      for (const t of screen.getTracks()) t.stop();
      return;
    }
    // The browser's own "Stop sharing" button ends the track.
    track.addEventListener('ended', () => void this.stopScreenShare());
    this.screen = screen;
    this.sharingState.set(true);
    this.previewState.set(screen);
    await this.sendVideo(track);
  }

  async stopScreenShare(): Promise<void> {
    const screen = this.screen;
    if (!screen) return;
    this.screen = null;
    for (const t of screen.getTracks()) t.stop();
    this.sharingState.set(false);
    this.previewState.set(this.options.localStream);
    await this.sendVideo(this.cameraTrack());
  }

  leave(): void {
    if (this.outcomeState()) return;
    this.finish({ kind: 'left' });
    this.socket?.close(1000, 'left');
  }

  // ------------------------------------------------------------------------------------ messages

  private enqueue(task: () => Promise<void>): void {
    this.work = this.work.then(task).catch((error: unknown) => {
      this.options.onEvent?.({
        type: 'error',
        message: error instanceof Error ? error.message : 'the call could not handle a message',
      });
    });
  }

  private async onMessage(data: unknown): Promise<void> {
    if (this.outcomeState()) return;
    const message = parseServerMessage(data);
    if (!message) return;
    await this.handle(message);
  }

  private async handle(message: ServerMessage): Promise<void> {
    switch (message.type) {
      case 'welcome': {
        this.welcomed = true;
        this.selfState.set(message.participant);
        this.phaseState.set('connected');
        for (const other of message.peers) {
          if (other.participant === message.participant) continue;
          await this.offerTo(this.peer(other.participant, other.role));
        }
        return;
      }
      case 'peer-joined': {
        // They send the offer; a participant who joins again starts afresh.
        const peer = this.peer(message.participant, message.role);
        this.resetConnection(peer);
        peer.state = 'waiting';
        this.publish();
        this.options.onEvent?.({ type: 'joined', participant: peer.id, role: peer.role });
        return;
      }
      case 'peer-left': {
        const peer = this.drop(message.participant);
        if (peer) this.options.onEvent?.({ type: 'left', participant: peer.id, role: peer.role });
        return;
      }
      case 'offer':
        await this.answer(this.peer(message.from), message.sdp);
        return;
      case 'answer': {
        const peer = this.peers.get(message.from);
        const pc = peer?.pc;
        if (!peer || !pc || pc.signalingState !== 'have-local-offer') return;
        await pc.setRemoteDescription({ type: 'answer', sdp: message.sdp });
        await this.flushIce(peer);
        return;
      }
      case 'ice': {
        const peer = this.peers.get(message.from);
        if (!peer?.pc || !message.candidate) return;
        if (!peer.pc.remoteDescription) {
          peer.pendingIce.push(message.candidate);
          return;
        }
        await this.addIce(peer.pc, message.candidate);
        return;
      }
      case 'removed': {
        if (message.participant === this.selfState()) {
          this.announced = { kind: 'removed', reason: message.reason };
          return;
        }
        const peer = this.drop(message.participant);
        this.options.onEvent?.({
          type: 'removed',
          participant: message.participant,
          role: peer?.role ?? '',
          reason: message.reason,
        });
        return;
      }
      case 'ended':
        this.announced = { kind: 'ended', reason: message.reason };
        return;
      case 'error':
        this.options.onEvent?.({ type: 'error', message: message.message || message.code });
        return;
    }
  }

  private onClose(code: number, reason: string): void {
    if (this.outcomeState()) return;
    this.finish(this.announced ?? this.outcomeOfClose(code, reason));
  }

  private outcomeOfClose(code: number, reason: string): CallOutcome {
    switch (code) {
      case SIGNAL_CLOSE.REPLACED:
        return { kind: 'replaced' };
      case SIGNAL_CLOSE.ENDED:
        return { kind: 'ended', reason };
      case SIGNAL_CLOSE.REFUSED:
        return { kind: 'refused', reason };
      case SIGNAL_CLOSE.REMOVED:
        return { kind: 'removed', reason: reason.replace(/^removed:\s*/, '') };
      case SIGNAL_CLOSE.SHUTTING_DOWN:
        return { kind: 'shutting-down' };
      default:
        // A refused upgrade never opens the socket (the browser says 1006 and nothing else).
        return this.welcomed ? { kind: 'lost' } : { kind: 'unreachable' };
    }
  }

  private finish(outcome: CallOutcome): void {
    this.outcomeState.set(outcome);
    this.phaseState.set('closed');
    for (const id of [...this.peers.keys()]) this.drop(id);
    if (this.screen) {
      for (const t of this.screen.getTracks()) t.stop();
      this.screen = null;
      this.sharingState.set(false);
    }
    if (this.socket) {
      this.socket.onmessage = null;
      this.socket.onclose = null;
    }
  }

  private send(message: ClientMessage): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(message));
  }

  // ------------------------------------------------------------------------------------ peers

  private peer(id: string, role?: string): Peer {
    let peer = this.peers.get(id);
    if (!peer) {
      peer = { id, role: role ?? '', pc: null, stream: null, state: 'waiting', pendingIce: [] };
      this.peers.set(id, peer);
    } else if (role) {
      peer.role = role;
    }
    return peer;
  }

  /** Closes and forgets one participant's connection; returns what it was. */
  private drop(id: string): Peer | undefined {
    const peer = this.peers.get(id);
    if (!peer) return undefined;
    this.resetConnection(peer);
    this.peers.delete(id);
    this.publish();
    return peer;
  }

  private resetConnection(peer: Peer): void {
    if (peer.pc) {
      peer.pc.onicecandidate = null;
      peer.pc.ontrack = null;
      peer.pc.onconnectionstatechange = null;
      peer.pc.close();
    }
    peer.pc = null;
    peer.stream = null;
    peer.pendingIce = [];
  }

  private connect(peer: Peer): RTCPeerConnection {
    this.resetConnection(peer);
    const create = this.options.createPeerConnection ?? ((config) => new RTCPeerConnection(config));
    const pc = create({ iceServers: this.options.iceServers.map(toRtcIceServer) });
    peer.pc = pc;
    peer.state = 'connecting';
    pc.onicecandidate = (event) => {
      if (event.candidate) this.send({ type: 'ice', to: peer.id, candidate: event.candidate.toJSON() });
    };
    pc.ontrack = (event) => {
      if (peer.pc !== pc) return;
      const stream = peer.stream ?? new MediaStream();
      if (!stream.getTracks().includes(event.track)) stream.addTrack(event.track);
      peer.stream = stream;
      this.publish();
    };
    pc.onconnectionstatechange = () => {
      if (peer.pc !== pc) return;
      const state = pc.connectionState;
      const next: PeerState =
        state === 'connected'
          ? 'connected'
          : state === 'failed'
            ? 'failed'
            : state === 'disconnected'
              ? 'reconnecting'
              : peer.state;
      if (next === peer.state) return;
      peer.state = next;
      this.publish();
      if (next === 'failed')
        this.options.onEvent?.({ type: 'failed', participant: peer.id, role: peer.role });
    };
    this.publish();
    return pc;
  }

  /** As the newcomer: offer to someone already in the room. */
  private async offerTo(peer: Peer): Promise<void> {
    const pc = this.connect(peer);
    const init: RTCRtpTransceiverInit = { direction: 'sendrecv', streams: this.localStreams() };
    pc.addTransceiver(this.audioTrack() ?? 'audio', init);
    if (this.options.mode === 'video') pc.addTransceiver(this.videoTrack() ?? 'video', init);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.send({ type: 'offer', to: peer.id, sdp: pc.localDescription?.sdp ?? offer.sdp ?? '' });
  }

  /** Answer an offer (a fresh connection each time: there is no renegotiation). */
  private async answer(peer: Peer, sdp: string): Promise<void> {
    const pc = this.connect(peer);
    await pc.setRemoteDescription({ type: 'offer', sdp });
    const local = this.options.localStream;
    for (const transceiver of pc.getTransceivers()) {
      const kind = transceiver.receiver.track?.kind;
      // An audio consultation sends no video, whatever the offer holds.
      if (kind !== 'audio' && !(kind === 'video' && this.options.mode === 'video')) continue;
      const track = kind === 'audio' ? this.audioTrack() : this.videoTrack();
      transceiver.direction = 'sendrecv';
      if (track) await transceiver.sender.replaceTrack(track);
      if (local && typeof transceiver.sender.setStreams === 'function') transceiver.sender.setStreams(local);
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.send({ type: 'answer', to: peer.id, sdp: pc.localDescription?.sdp ?? answer.sdp ?? '' });
    await this.flushIce(peer);
  }

  private async flushIce(peer: Peer): Promise<void> {
    const pc = peer.pc;
    const pending = peer.pendingIce;
    peer.pendingIce = [];
    for (const candidate of pending) if (pc) await this.addIce(pc, candidate);
  }

  private async addIce(pc: RTCPeerConnection, candidate: RTCIceCandidateInit): Promise<void> {
    try {
      await pc.addIceCandidate(candidate);
    } catch {
      // A candidate the browser cannot use (another network, a stale connection): others will do.
    }
  }

  // ------------------------------------------------------------------------------------ media

  private localStreams(): MediaStream[] {
    return this.options.localStream ? [this.options.localStream] : [];
  }

  private audioTrack(): MediaStreamTrack | null {
    return this.options.localStream?.getAudioTracks()[0] ?? null;
  }

  private cameraTrack(): MediaStreamTrack | null {
    return this.options.localStream?.getVideoTracks()[0] ?? null;
  }

  /** What goes out as video now: the shared screen, else the camera. */
  private videoTrack(): MediaStreamTrack | null {
    return this.screen?.getVideoTracks()[0] ?? this.cameraTrack();
  }

  private async sendVideo(track: MediaStreamTrack | null): Promise<void> {
    for (const peer of this.peers.values()) {
      for (const transceiver of peer.pc?.getTransceivers() ?? []) {
        if (transceiver.receiver.track?.kind !== 'video' || transceiver.currentDirection === 'stopped')
          continue;
        try {
          await transceiver.sender.replaceTrack(track);
        } catch {
          // That connection is closing; the next one picks up the current track.
        }
      }
    }
  }

  private publish(): void {
    this.remotesState.set(
      [...this.peers.values()].map((p) => ({ id: p.id, role: p.role, stream: p.stream, state: p.state })),
    );
  }
}

function toRtcIceServer(server: IceServer): RTCIceServer {
  const urls = typeof server.urls === 'string' ? server.urls : [...server.urls];
  return {
    urls,
    ...(server.username !== undefined ? { username: server.username } : {}),
    ...(server.credential !== undefined ? { credential: server.credential } : {}),
  };
}
