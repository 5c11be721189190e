import { FakePeerConnection, FakeSocket, FakeTrack, fakeStream } from '../testing/call-fakes';
import type { CallEvent } from './call-engine';
import { REMOVAL_REASONS, SIGNAL_CLOSE, parseServerMessage } from './signalling-protocol';
import { WebRtcCall, type WebRtcCallOptions } from './webrtc-call';

const PATIENT = '0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc';
const PROVIDER = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8';

describe('WebRtcCall (signalling over a fake socket)', () => {
  let audio: FakeTrack;
  let camera: FakeTrack;
  let events: CallEvent[];

  beforeEach(() => {
    FakeSocket.created = [];
    FakePeerConnection.created = [];
    audio = new FakeTrack('audio');
    camera = new FakeTrack('video');
    events = [];
  });

  async function open(options: Partial<WebRtcCallOptions> = {}) {
    const call = new WebRtcCall({
      token: 'call-token',
      iceServers: [{ urls: 'stun:stun.example.org' }],
      mode: 'video',
      localStream: fakeStream(audio, camera),
      url: 'ws://custos.test/sessions/signal',
      createSocket: (url, protocols) => new FakeSocket(url, protocols).asSocket(),
      createPeerConnection: FakePeerConnection.create,
      onEvent: (event) => events.push(event),
      ...options,
    });
    await call.start();
    const socket = FakeSocket.last();
    return { call, socket };
  }

  it('offers the call token as a subprotocol', async () => {
    const { socket } = await open();
    expect(socket.url).toBe('ws://custos.test/sessions/signal');
    expect(socket.protocols).toEqual(['custos', 'custos-token.call-token']);
  });

  it('answers an offer from the participant who joined after it (offer → answer)', async () => {
    const { call, socket } = await open();
    socket.receive({ type: 'welcome', session: 's1', participant: PATIENT, role: 'patient', peers: [] });
    socket.receive({ type: 'peer-joined', participant: PROVIDER, role: 'provider' });
    await call.settled();
    expect(call.phase()).toBe('connected');
    expect(call.remotes()).toEqual([{ id: PROVIDER, role: 'provider', stream: null, state: 'waiting' }]);
    expect(events).toContainEqual({ type: 'joined', participant: PROVIDER, role: 'provider' });
    expect(FakePeerConnection.created).toHaveLength(0); // the newcomer offers

    // A candidate that comes with the offer waits for the remote description.
    socket.receive({ type: 'offer', from: PROVIDER, sdp: 'remote-offer' });
    socket.receive({ type: 'ice', from: PROVIDER, candidate: { candidate: 'candidate:1', sdpMid: '0' } });
    await call.settled();

    const pc = FakePeerConnection.created[0]!;
    expect(pc.config.iceServers).toEqual([{ urls: 'stun:stun.example.org' }]);
    expect(pc.remoteDescription).toEqual({ type: 'offer', sdp: 'remote-offer' });
    expect(pc.localDescription).toEqual({ type: 'answer', sdp: 'local-answer' });
    // The offered sections send my microphone and camera back.
    const [audioSection, videoSection] = pc.transceivers;
    expect(audioSection!.direction).toBe('sendrecv');
    expect(audioSection!.sender.replaceTrack).toHaveBeenCalledWith(audio);
    expect(videoSection!.direction).toBe('sendrecv');
    expect(videoSection!.sender.replaceTrack).toHaveBeenCalledWith(camera);
    expect(socket.sent).toEqual([{ type: 'answer', to: PROVIDER, sdp: 'local-answer' }]);
    expect(pc.addedIce).toEqual([{ candidate: 'candidate:1', sdpMid: '0' }]);

    // My own candidates go to the provider.
    pc.emitCandidate({ candidate: 'candidate:2', sdpMid: '0' });
    expect(socket.sent.at(-1)).toEqual({
      type: 'ice',
      to: PROVIDER,
      candidate: { candidate: 'candidate:2', sdpMid: '0' },
    });
  });

  it('offers to everyone already in the room, then takes their answer', async () => {
    const { call, socket } = await open();
    socket.receive({
      type: 'welcome',
      session: 's1',
      participant: PROVIDER,
      role: 'provider',
      peers: [{ participant: PATIENT, role: 'patient' }],
    });
    await call.settled();
    const pc = FakePeerConnection.created[0]!;
    expect(pc.transceivers.map((t) => [t.receiver.track.kind, t.direction, t.sender.track])).toEqual([
      ['audio', 'sendrecv', audio],
      ['video', 'sendrecv', camera],
    ]);
    expect(socket.sent).toEqual([{ type: 'offer', to: PATIENT, sdp: 'local-offer' }]);

    socket.receive({ type: 'ice', from: PATIENT, candidate: { candidate: 'early' } });
    socket.receive({ type: 'answer', from: PATIENT, sdp: 'remote-answer' });
    await call.settled();
    expect(pc.remoteDescription).toEqual({ type: 'answer', sdp: 'remote-answer' });
    expect(pc.addedIce).toEqual([{ candidate: 'early' }]);
  });

  it('offers audio only in an audio consultation', async () => {
    const { call, socket } = await open({ mode: 'audio', localStream: fakeStream(audio) });
    socket.receive({
      type: 'welcome',
      session: 's1',
      participant: PROVIDER,
      role: 'provider',
      peers: [{ participant: PATIENT, role: 'patient' }],
    });
    await call.settled();
    expect(FakePeerConnection.created[0]!.transceivers.map((t) => t.receiver.track.kind)).toEqual(['audio']);
    expect(call.localPreview()).toBeNull();
  });

  it('closes the connection of someone who left', async () => {
    const { call, socket } = await open();
    socket.receive({
      type: 'welcome',
      session: 's1',
      participant: PROVIDER,
      role: 'provider',
      peers: [{ participant: PATIENT, role: 'patient' }],
    });
    socket.receive({ type: 'peer-left', participant: PATIENT });
    await call.settled();
    expect(FakePeerConnection.created[0]!.closed).toBe(true);
    expect(call.remotes()).toEqual([]);
    expect(events).toContainEqual({ type: 'left', participant: PATIENT, role: 'patient' });
  });

  it('is put out with the reason when the patient revokes consent (removed, then 4003)', async () => {
    const { call, socket } = await open();
    socket.receive({
      type: 'welcome',
      session: 's1',
      participant: PROVIDER,
      role: 'provider',
      peers: [{ participant: PATIENT, role: 'patient' }],
    });
    socket.receive({ type: 'removed', participant: PROVIDER, reason: REMOVAL_REASONS.revoked });
    socket.serverClose(SIGNAL_CLOSE.REMOVED, `removed: ${REMOVAL_REASONS.revoked}`);
    await call.settled();
    expect(call.outcome()).toEqual({ kind: 'removed', reason: REMOVAL_REASONS.revoked });
    expect(call.phase()).toBe('closed');
    expect(FakePeerConnection.created[0]!.closed).toBe(true);
  });

  it('tells the patient when the provider is removed, and keeps the patient in the call', async () => {
    const { call, socket } = await open();
    socket.receive({
      type: 'welcome',
      session: 's1',
      participant: PATIENT,
      role: 'patient',
      peers: [{ participant: PROVIDER, role: 'provider' }],
    });
    socket.receive({ type: 'removed', participant: PROVIDER, reason: REMOVAL_REASONS.revoked });
    await call.settled();
    expect(call.outcome()).toBeNull();
    expect(call.remotes()).toEqual([]);
    expect(events).toContainEqual({
      type: 'removed',
      participant: PROVIDER,
      role: 'provider',
      reason: REMOVAL_REASONS.revoked,
    });
  });

  it('says why the socket closed when no message did', async () => {
    const cases: [number, string, boolean, unknown][] = [
      [
        SIGNAL_CLOSE.ENDED,
        'the consultation has ended',
        true,
        { kind: 'ended', reason: 'the consultation has ended' },
      ],
      [SIGNAL_CLOSE.REPLACED, '', true, { kind: 'replaced' }],
      [
        SIGNAL_CLOSE.REFUSED,
        'the consultation has ended',
        false,
        { kind: 'refused', reason: 'the consultation has ended' },
      ],
      [
        SIGNAL_CLOSE.REMOVED,
        'removed: the patient revoked consent for this consultation',
        true,
        {
          kind: 'removed',
          reason: 'the patient revoked consent for this consultation',
        },
      ],
      [SIGNAL_CLOSE.SHUTTING_DOWN, '', true, { kind: 'shutting-down' }],
      [1006, '', true, { kind: 'lost' }],
      [1006, '', false, { kind: 'unreachable' }],
    ];
    for (const [code, reason, welcomed, outcome] of cases) {
      const { call, socket } = await open();
      if (welcomed)
        socket.receive({ type: 'welcome', session: 's1', participant: PATIENT, role: 'patient', peers: [] });
      socket.serverClose(code, reason);
      await call.settled();
      expect(call.outcome(), `close ${code}`).toEqual(outcome);
    }
  });

  it('prefers the `ended` message to the close reason', async () => {
    const { call, socket } = await open();
    socket.receive({ type: 'welcome', session: 's1', participant: PATIENT, role: 'patient', peers: [] });
    socket.receive({ type: 'ended', reason: 'ended by the provider' });
    socket.serverClose(SIGNAL_CLOSE.ENDED, 'the consultation has ended');
    await call.settled();
    expect(call.outcome()).toEqual({ kind: 'ended', reason: 'ended by the provider' });
  });

  it('leaves with a normal close, and mutes and hides by disabling the tracks', async () => {
    const { call, socket } = await open();
    await call.setMicrophone(false);
    await call.setCamera(false);
    expect(audio.enabled).toBe(false);
    expect(camera.enabled).toBe(false);
    call.leave();
    expect(socket.closedWith).toEqual({ code: 1000, reason: 'left' });
    expect(call.outcome()).toEqual({ kind: 'left' });
  });

  it('shares the screen by replacing the sent video track, and puts the camera back', async () => {
    const screenTrack = new FakeTrack('video');
    const screen = fakeStream(screenTrack);
    const { call, socket } = await open({ getDisplayMedia: async () => screen });
    socket.receive({
      type: 'welcome',
      session: 's1',
      participant: PROVIDER,
      role: 'provider',
      peers: [{ participant: PATIENT, role: 'patient' }],
    });
    await call.settled();
    const video = FakePeerConnection.created[0]!.transceivers[1]!;

    await call.startScreenShare();
    expect(video.sender.track).toBe(screenTrack);
    expect(call.screenSharing()).toBe(true);
    expect(call.localPreview()).toBe(screen);

    screenTrack.end(); // the browser's "Stop sharing"
    await vi.waitFor(() => expect(call.screenSharing()).toBe(false));
    expect(video.sender.track).toBe(camera);
    expect(screenTrack.stop).toHaveBeenCalled();
  });
});

describe('parseServerMessage', () => {
  it('reads the server messages and ignores anything else', () => {
    expect(parseServerMessage('{"type":"offer","from":"0xAB","sdp":"v=0"}')).toEqual({
      type: 'offer',
      from: '0xab',
      sdp: 'v=0',
    });
    expect(parseServerMessage('{"type":"ice","from":"0xab","candidate":null}')).toEqual({
      type: 'ice',
      from: '0xab',
      candidate: null,
    });
    expect(parseServerMessage('not json')).toBeNull();
    expect(parseServerMessage('{"type":"offer","from":"0xab"}')).toBeNull();
    expect(parseServerMessage('{"type":"surprise"}')).toBeNull();
    expect(parseServerMessage(new ArrayBuffer(2))).toBeNull();
  });
});
