import { signal } from '@angular/core';

import type { CallEngine, CallEvent, CallOutcome, CallPhase, RemoteParticipant } from './call-engine';
import type { ConsultationMode, TrtcCredentials } from './consultation-api';

/** The ESM build of the Tencent RTC Web SDK v5 (see ../shared/ARCHITECTURE.md: ~1.4 MB, load it late). */
export const TRTC_SDK_MODULE = 'trtc-sdk-v5/trtc.esm.js';

/** The part of the TRTC SDK v5 this call uses. */
export interface TrtcSdk {
  create(): TrtcClient;
  readonly EVENT: Readonly<Record<string, string>>;
}

type View = string | HTMLElement | null;

export interface TrtcClient {
  enterRoom(options: {
    sdkAppId: number;
    userId: string;
    userSig: string;
    strRoomId: string;
    privateMapKey: string;
    scene: 'rtc';
  }): Promise<void>;
  exitRoom(): Promise<void>;
  destroy(): void;
  startLocalAudio(options?: object): Promise<void>;
  updateLocalAudio(options: { mute: boolean }): Promise<void>;
  startLocalVideo(options: { view: View }): Promise<void>;
  updateLocalVideo(options: { view?: View; mute?: boolean }): Promise<void>;
  startScreenShare(options?: object): Promise<void>;
  stopScreenShare(): Promise<void>;
  startRemoteVideo(options: { userId: string; streamType: string; view: View }): Promise<void>;
  stopRemoteVideo(options: { userId: string; streamType: string }): Promise<void>;
  on(event: string, handler: (payload: Record<string, unknown>) => void): void;
}

/**
 * Loads the SDK on first use, only for a TRTC call: a literal import of the ESM build, so the bundler
 * puts the SDK in a chunk of its own that only a TRTC call downloads (never the initial bundle).
 */
export function loadTrtcSdk(): Promise<TrtcSdk> {
  return (
    import('trtc-sdk-v5/trtc.esm.js') as Promise<unknown> as Promise<{ default?: TrtcSdk } & Partial<TrtcSdk>>
  ).then((module) => (module.default ?? (module as TrtcSdk)) as TrtcSdk);
}

/** TRTC's user id is the address's 20 bytes in base64url (see apps/api/src/telehealth/trtc.ts). */
export function addressOfTrtcUser(userId: string): string {
  try {
    const base64 = userId.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='));
    if (bytes.length !== 20) return userId;
    return `0x${Array.from(bytes, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('')}`;
  } catch {
    return userId;
  }
}

export interface TrtcCallOptions {
  readonly credentials: TrtcCredentials;
  readonly mode: ConsultationMode;
  /** Role of each participant by lower-case address, from the consultation. */
  readonly roles: ReadonlyMap<string, string>;
  readonly loadSdk?: () => Promise<TrtcSdk>;
  readonly onEvent?: (event: CallEvent) => void;
}

const MAIN = 'main';

/**
 * A call through Tencent TRTC: the room `custos-<session>` entered with the UserSig and the
 * PrivateMapKey the API issued for it; the SDK captures and draws the video into the elements the
 * room gives it (`attachView`), and plays remote audio itself.
 */
export class TrtcCall implements CallEngine {
  readonly kind = 'trtc' as const;

  private readonly phaseState = signal<CallPhase>('idle');
  private readonly remotesState = signal<readonly RemoteParticipant[]>([]);
  private readonly outcomeState = signal<CallOutcome | null>(null);
  private readonly sharingState = signal(false);

  readonly phase = this.phaseState.asReadonly();
  readonly remotes = this.remotesState.asReadonly();
  readonly outcome = this.outcomeState.asReadonly();
  readonly screenSharing = this.sharingState.asReadonly();
  readonly localPreview = signal<MediaStream | null>(null).asReadonly();

  private client: TrtcClient | null = null;
  private readonly views = new Map<string, HTMLElement>();
  /** Remote users (by TRTC user id) whose main video is published. */
  private readonly videoOn = new Set<string>();
  private readonly users = new Map<string, string>();
  private cameraOn = true;

  constructor(private readonly options: TrtcCallOptions) {}

  async start(): Promise<void> {
    if (this.phaseState() !== 'idle') return;
    this.phaseState.set('connecting');
    let sdk: TrtcSdk;
    try {
      sdk = await (this.options.loadSdk ?? (() => loadTrtcSdk()))();
    } catch {
      this.finish({
        kind: 'unavailable',
        reason: 'video through Tencent RTC is not available in this version of the web app',
      });
      return;
    }
    if (this.outcomeState()) return;
    const client = sdk.create();
    this.client = client;
    const E = sdk.EVENT;
    const userOf = (p: Record<string, unknown>) => String(p['userId'] ?? '');
    client.on(E['REMOTE_USER_ENTER'] ?? 'remote-user-enter', (p) => this.enter(userOf(p)));
    client.on(E['REMOTE_USER_EXIT'] ?? 'remote-user-exit', (p) => this.exit(userOf(p)));
    client.on(E['REMOTE_VIDEO_AVAILABLE'] ?? 'remote-video-available', (p) => {
      if (p['streamType'] !== undefined && p['streamType'] !== MAIN) return;
      this.enter(userOf(p));
      this.videoOn.add(userOf(p));
      void this.draw(userOf(p));
    });
    client.on(E['REMOTE_VIDEO_UNAVAILABLE'] ?? 'remote-video-unavailable', (p) => {
      if (p['streamType'] !== undefined && p['streamType'] !== MAIN) return;
      this.videoOn.delete(userOf(p));
    });
    client.on(E['KICKED_OUT'] ?? 'kicked-out', (p) => {
      const why = String(p['reason'] ?? '');
      this.finish(
        why === 'room_disband'
          ? { kind: 'ended', reason: 'the room was closed' }
          : { kind: 'removed', reason: String(p['message'] ?? '') },
      );
    });
    client.on(E['SCREEN_SHARE_STOPPED'] ?? 'screen-share-stopped', () => this.sharingState.set(false));
    client.on(E['ERROR'] ?? 'error', (p) =>
      this.options.onEvent?.({ type: 'error', message: String(p['message'] ?? 'video error') }),
    );

    const c = this.options.credentials;
    try {
      await client.enterRoom({
        sdkAppId: c.sdkAppId,
        userId: c.userId,
        userSig: c.userSig,
        strRoomId: c.roomId,
        privateMapKey: c.privateMapKey,
        scene: 'rtc',
      });
    } catch (error) {
      this.finish({ kind: 'unreachable', reason: error instanceof Error ? error.message : undefined });
      return;
    }
    this.phaseState.set('connected');
    await this.quietly(() => client.startLocalAudio());
    if (this.options.mode === 'video') {
      await this.quietly(() => client.startLocalVideo({ view: this.views.get('local') ?? null }));
    }
  }

  async setMicrophone(on: boolean): Promise<void> {
    await this.quietly(() => this.client?.updateLocalAudio({ mute: !on }));
  }

  async setCamera(on: boolean): Promise<void> {
    this.cameraOn = on;
    await this.quietly(() => this.client?.updateLocalVideo({ mute: !on }));
  }

  async startScreenShare(): Promise<void> {
    if (this.options.mode !== 'video') throw new Error('Audio consultations have no screen sharing.');
    if (!this.client) return;
    await this.client.startScreenShare();
    this.sharingState.set(true);
  }

  async stopScreenShare(): Promise<void> {
    if (!this.sharingState()) return;
    this.sharingState.set(false);
    await this.quietly(() => this.client?.stopScreenShare());
  }

  leave(): void {
    if (this.outcomeState()) return;
    this.finish({ kind: 'left' });
  }

  attachView(participant: string, element: HTMLElement | null): void {
    if (element) this.views.set(participant, element);
    else this.views.delete(participant);
    if (!element || !this.client) return;
    if (participant === 'local') {
      void this.quietly(() => this.client?.updateLocalVideo({ view: element, mute: !this.cameraOn }));
      return;
    }
    const userId = [...this.users].find(([, address]) => address === participant)?.[0];
    if (userId) void this.draw(userId);
  }

  private enter(userId: string): void {
    if (!userId || this.users.has(userId)) return;
    const address = addressOfTrtcUser(userId);
    this.users.set(userId, address);
    this.publish();
    this.options.onEvent?.({ type: 'joined', participant: address, role: this.roleOf(address) });
  }

  private exit(userId: string): void {
    const address = this.users.get(userId);
    if (!address) return;
    this.users.delete(userId);
    this.videoOn.delete(userId);
    this.publish();
    this.options.onEvent?.({ type: 'left', participant: address, role: this.roleOf(address) });
  }

  /** Draws a remote user's video once both the video and the element for it are there. */
  private async draw(userId: string): Promise<void> {
    const view = this.views.get(this.users.get(userId) ?? '');
    if (!view || !this.videoOn.has(userId) || !this.client) return;
    await this.quietly(() => this.client?.startRemoteVideo({ userId, streamType: MAIN, view }));
  }

  private roleOf(address: string): string {
    return this.options.roles.get(address) ?? '';
  }

  private publish(): void {
    this.remotesState.set(
      [...this.users.values()].map((id) => ({ id, role: this.roleOf(id), stream: null, state: 'connected' })),
    );
  }

  private finish(outcome: CallOutcome): void {
    if (this.outcomeState()) return;
    this.outcomeState.set(outcome);
    this.phaseState.set('closed');
    this.sharingState.set(false);
    this.users.clear();
    this.publish();
    const client = this.client;
    this.client = null;
    if (client) {
      void client
        .exitRoom()
        .catch(() => undefined)
        .finally(() => client.destroy());
    }
  }

  private async quietly(work: () => Promise<void> | undefined): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.options.onEvent?.({
        type: 'error',
        message: error instanceof Error ? error.message : 'a device could not be used',
      });
    }
  }
}
