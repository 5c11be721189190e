/**
 * Minimal stand-ins for WebSocket, RTCPeerConnection and media tracks: jsdom has none of WebRTC, and
 * a test must never open a real socket. Only what WebRtcCall uses is here.
 */
import type { SignalSocket } from '../consultation/webrtc-call';

export class FakeSocket {
  static created: FakeSocket[] = [];
  readyState = 1;
  readonly sent: Record<string, unknown>[] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  onopen: SignalSocket['onopen'] = null;
  onmessage: SignalSocket['onmessage'] = null;
  onclose: SignalSocket['onclose'] = null;
  onerror: SignalSocket['onerror'] = null;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.created.push(this);
  }

  static last(): FakeSocket {
    const socket = FakeSocket.created.at(-1);
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number, reason?: string): void {
    this.readyState = 3;
    this.closedWith = { code, reason };
  }

  /** The server sends a message. */
  receive(message: Record<string, unknown>): void {
    this.onmessage?.call(
      this as unknown as WebSocket,
      new MessageEvent('message', { data: JSON.stringify(message) }),
    );
  }

  /** The server (or the network) closes the socket. */
  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.call(this as unknown as WebSocket, new CloseEvent('close', { code, reason }));
  }

  asSocket(): SignalSocket {
    return this as unknown as SignalSocket;
  }
}

export class FakeTrack {
  enabled = true;
  readonly stop = vi.fn();
  private readonly listeners = new Map<string, () => void>();

  constructor(readonly kind: 'audio' | 'video') {}

  addEventListener(type: string, listener: () => void): void {
    this.listeners.set(type, listener);
  }

  /** The browser ends the track (e.g. "Stop sharing"). */
  end(): void {
    this.listeners.get('ended')?.();
  }
}

export function fakeStream(...tracks: FakeTrack[]): MediaStream {
  return {
    getTracks: () => tracks,
    getAudioTracks: () => tracks.filter((t) => t.kind === 'audio'),
    getVideoTracks: () => tracks.filter((t) => t.kind === 'video'),
  } as unknown as MediaStream;
}

export class FakeTransceiver {
  direction: RTCRtpTransceiverDirection;
  currentDirection: RTCRtpTransceiverDirection | null = null;
  readonly receiver: { track: { kind: string } };
  readonly sender: {
    track: unknown;
    replaceTrack: ReturnType<typeof vi.fn>;
    setStreams: ReturnType<typeof vi.fn>;
  };

  constructor(kind: string, direction: RTCRtpTransceiverDirection, track: unknown = null) {
    this.direction = direction;
    this.receiver = { track: { kind } };
    const sender = {
      track,
      replaceTrack: vi.fn(async (next: unknown) => {
        sender.track = next;
      }),
      setStreams: vi.fn(),
    };
    this.sender = sender;
  }
}

export class FakePeerConnection {
  static created: FakePeerConnection[] = [];
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  onicecandidate: ((event: { candidate: { toJSON(): RTCIceCandidateInit } | null }) => void) | null = null;
  ontrack: ((event: { track: unknown }) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  transceivers: FakeTransceiver[] = [];
  readonly addedIce: RTCIceCandidateInit[] = [];
  closed = false;

  constructor(readonly config: RTCConfiguration) {
    FakePeerConnection.created.push(this);
  }

  static create = (config: RTCConfiguration): RTCPeerConnection =>
    new FakePeerConnection(config) as unknown as RTCPeerConnection;

  addTransceiver(trackOrKind: FakeTrack | string, init: RTCRtpTransceiverInit): FakeTransceiver {
    const kind = typeof trackOrKind === 'string' ? trackOrKind : trackOrKind.kind;
    const track = typeof trackOrKind === 'string' ? null : trackOrKind;
    const transceiver = new FakeTransceiver(kind, init.direction ?? 'sendrecv', track);
    this.transceivers.push(transceiver);
    return transceiver;
  }

  getTransceivers(): FakeTransceiver[] {
    return this.transceivers;
  }

  async createOffer(): Promise<RTCSessionDescriptionInit> {
    return { type: 'offer', sdp: 'local-offer' };
  }

  async createAnswer(): Promise<RTCSessionDescriptionInit> {
    return { type: 'answer', sdp: 'local-answer' };
  }

  async setLocalDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.localDescription = description;
    this.signalingState = description.type === 'offer' ? 'have-local-offer' : 'stable';
  }

  async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.remoteDescription = description;
    if (description.type === 'offer') {
      this.signalingState = 'have-remote-offer';
      // What the browser does with an offer of one audio and one video section.
      this.transceivers = [
        new FakeTransceiver('audio', 'recvonly'),
        new FakeTransceiver('video', 'recvonly'),
      ];
    } else {
      this.signalingState = 'stable';
    }
  }

  async addIceCandidate(candidate: RTCIceCandidateInit): Promise<void> {
    this.addedIce.push(candidate);
  }

  close(): void {
    this.closed = true;
  }

  /** The browser found a local candidate. */
  emitCandidate(candidate: RTCIceCandidateInit): void {
    this.onicecandidate?.({ candidate: { toJSON: () => candidate } });
  }
}
