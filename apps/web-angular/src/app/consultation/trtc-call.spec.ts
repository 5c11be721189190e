import type { TrtcCredentials } from './consultation-api';
import { TrtcCall, type TrtcClient, type TrtcSdk, addressOfTrtcUser } from './trtc-call';

const PROVIDER = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8';
/** The provider's 20 bytes in base64url, as the API names TRTC users. */
const PROVIDER_USER = btoa(
  String.fromCharCode(...(PROVIDER.slice(2).match(/../g) ?? []).map((h) => parseInt(h, 16))),
)
  .replace(/\+/g, '-')
  .replace(/\//g, '_')
  .replace(/=+$/, '');

const CREDENTIALS: TrtcCredentials = {
  mode: 'trtc',
  sdkAppId: 1400000001,
  userId: 'patient-user',
  userSig: 'sig',
  privateMapKey: 'pmk',
  roomId: 'custos-abc',
  expiresAt: '2026-11-25T12:30:00.000Z',
};

function fakeSdk() {
  const handlers = new Map<string, (payload: Record<string, unknown>) => void>();
  const client = {
    enterRoom: vi.fn(async () => undefined),
    exitRoom: vi.fn(async () => undefined),
    destroy: vi.fn(),
    startLocalAudio: vi.fn(async () => undefined),
    updateLocalAudio: vi.fn(async () => undefined),
    startLocalVideo: vi.fn(async () => undefined),
    updateLocalVideo: vi.fn(async () => undefined),
    startScreenShare: vi.fn(async () => undefined),
    stopScreenShare: vi.fn(async () => undefined),
    startRemoteVideo: vi.fn(async () => undefined),
    stopRemoteVideo: vi.fn(async () => undefined),
    on: (event: string, handler: (payload: Record<string, unknown>) => void) => handlers.set(event, handler),
  } satisfies TrtcClient;
  const sdk: TrtcSdk = {
    create: () => client,
    EVENT: {
      REMOTE_USER_ENTER: 'remote-user-enter',
      REMOTE_USER_EXIT: 'remote-user-exit',
      REMOTE_VIDEO_AVAILABLE: 'remote-video-available',
      REMOTE_VIDEO_UNAVAILABLE: 'remote-video-unavailable',
      KICKED_OUT: 'kicked-out',
      SCREEN_SHARE_STOPPED: 'screen-share-stopped',
      ERROR: 'error',
    },
  };
  const emit = (event: string, payload: Record<string, unknown>) => handlers.get(event)?.(payload);
  return { sdk, client, emit };
}

describe('TrtcCall', () => {
  it('reads the address back from a TRTC user id', () => {
    expect(addressOfTrtcUser(PROVIDER_USER)).toBe(PROVIDER);
    expect(addressOfTrtcUser('not-an-address')).toBe('not-an-address');
  });

  it('enters the one room with the PrivateMapKey, publishes, and draws remote video where the room says', async () => {
    const { sdk, client, emit } = fakeSdk();
    const call = new TrtcCall({
      credentials: CREDENTIALS,
      mode: 'video',
      roles: new Map([[PROVIDER, 'provider']]),
      loadSdk: async () => sdk,
    });
    await call.start();
    expect(client.enterRoom).toHaveBeenCalledWith({
      sdkAppId: 1400000001,
      userId: 'patient-user',
      userSig: 'sig',
      strRoomId: 'custos-abc',
      privateMapKey: 'pmk',
      scene: 'rtc',
    });
    expect(client.startLocalAudio).toHaveBeenCalled();
    expect(client.startLocalVideo).toHaveBeenCalled();
    expect(call.phase()).toBe('connected');

    emit('remote-video-available', { userId: PROVIDER_USER, streamType: 'main' });
    expect(call.remotes()).toEqual([{ id: PROVIDER, role: 'provider', stream: null, state: 'connected' }]);
    const view = document.createElement('div');
    call.attachView(PROVIDER, view);
    await vi.waitFor(() =>
      expect(client.startRemoteVideo).toHaveBeenCalledWith({
        userId: PROVIDER_USER,
        streamType: 'main',
        view,
      }),
    );

    await call.setMicrophone(false);
    expect(client.updateLocalAudio).toHaveBeenCalledWith({ mute: true });

    emit('kicked-out', { reason: 'room_disband' });
    expect(call.outcome()).toEqual({ kind: 'ended', reason: 'the room was closed' });
    await vi.waitFor(() => expect(client.destroy).toHaveBeenCalled());
  });

  it('says the SDK is not available when it cannot be loaded', async () => {
    const call = new TrtcCall({
      credentials: CREDENTIALS,
      mode: 'audio',
      roles: new Map(),
      loadSdk: () => Promise.reject(new TypeError('Failed to resolve module specifier')),
    });
    await call.start();
    expect(call.outcome()?.kind).toBe('unavailable');
  });
});
