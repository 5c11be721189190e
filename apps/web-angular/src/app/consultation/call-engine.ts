import type { Signal } from '@angular/core';

/** Where a call stands: opening, in the room (alone or with others), or over (see `outcome`). */
export type CallPhase = 'idle' | 'connecting' | 'connected' | 'closed';

/** The media connection to one other participant. */
export type PeerState = 'waiting' | 'connecting' | 'connected' | 'reconnecting' | 'failed';

/** Someone else in the call. */
export interface RemoteParticipant {
  /** Lower-case address. */
  readonly id: string;
  /** Their role in the consultation, when the server said it (`patient`, `provider`, `specialist`, …). */
  readonly role: string;
  /** What they send (WebRTC); `null` until their first track arrives, and always with TRTC. */
  readonly stream: MediaStream | null;
  readonly state: PeerState;
}

/**
 * Why a call stopped, as facts (the room says them in words, see consultation-text.ts).
 *
 * - `left`: this person hung up;
 * - `ended`: the consultation ended (`reason`: the server's words);
 * - `removed`: this person was put out (`reason`, e.g. the patient revoked consent);
 * - `replaced`: the same account joined from elsewhere;
 * - `refused`: the server refused the join while recording it (`reason`);
 * - `shutting-down`: the server is restarting;
 * - `lost`: the connection dropped during the call;
 * - `unreachable`: the connection never opened (the credentials may have been refused meanwhile);
 * - `unavailable`: this kind of call cannot run in this browser or build (`reason`).
 */
export type CallOutcomeKind =
  | 'left'
  | 'ended'
  | 'removed'
  | 'replaced'
  | 'refused'
  | 'shutting-down'
  | 'lost'
  | 'unreachable'
  | 'unavailable';

export interface CallOutcome {
  readonly kind: CallOutcomeKind;
  /** The server's (or the browser's) own words, when it gave any. */
  readonly reason?: string;
}

/** Whether joining again may help. */
export function isRejoinable(outcome: CallOutcome): boolean {
  return outcome.kind === 'lost' || outcome.kind === 'shutting-down' || outcome.kind === 'unreachable';
}

/** Something that happened in the call, for the room's announcements. */
export type CallEvent =
  | { readonly type: 'joined' | 'left'; readonly participant: string; readonly role: string }
  | { readonly type: 'removed'; readonly participant: string; readonly role: string; readonly reason: string }
  | { readonly type: 'failed'; readonly participant: string; readonly role: string }
  | { readonly type: 'error'; readonly message: string };

/**
 * One call, whatever carries it (the built-in WebRTC signalling or Tencent TRTC). State is exposed
 * as signals; `start()` opens it, `leave()` closes it. Media toggles never throw for a missing device.
 */
export interface CallEngine {
  readonly kind: 'webrtc' | 'trtc';
  readonly phase: Signal<CallPhase>;
  readonly remotes: Signal<readonly RemoteParticipant[]>;
  readonly outcome: Signal<CallOutcome | null>;
  readonly screenSharing: Signal<boolean>;
  /** What this person sends as video (camera or shared screen), for the local preview (WebRTC). */
  readonly localPreview: Signal<MediaStream | null>;

  start(): Promise<void>;
  setMicrophone(on: boolean): Promise<void>;
  setCamera(on: boolean): Promise<void>;
  /** Starts sharing the screen (the browser asks which); rejects when the person cancels. */
  startScreenShare(): Promise<void>;
  stopScreenShare(): Promise<void>;
  /** Hangs up (outcome `left`); safe to call more than once. */
  leave(): void;
  /** For SDKs that draw video into an element (TRTC): where to draw `participant`'s (or `local`) video. */
  attachView?(participant: string, element: HTMLElement | null): void;
}
