/**
 * The built-in WebRTC signalling protocol: what the API's signalling server
 * (apps/api/src/telehealth/signalling.service.ts) and the browser
 * (apps/web-angular/src/app/consultation/signalling-protocol.ts) say to each other, defined once.
 *
 * Connect to SIGNALLING_PATH offering the subprotocols `custos` and `custos-token.<token>` (the token
 * from `POST /sessions/:id/credentials`). The server sends `welcome` (with the participants already
 * there), `peer-joined`, `peer-left`, relays `offer` / `answer` / `ice` with `from`, and tells
 * `removed` (someone was put out, e.g. the patient revoked the provider's consent) and `ended`. The
 * client sends `offer` / `answer` / `ice` addressed `to` another participant. Anything else it sends
 * is answered with `error`.
 */

export const SIGNALLING_PATH = '/sessions/signal';

/** The application's close codes (4000-4999 are the application's). */
export const SIGNAL_CLOSE = {
  /** The same participant connected again elsewhere; the older socket is closed. */
  REPLACED: 4000,
  /** The consultation ended (the provider ended it, or its time is over). */
  ENDED: 4001,
  /** The join was refused when it was recorded (e.g. the consultation ended meanwhile). */
  REFUSED: 4002,
  /** Put out of the call, e.g. the patient revoked the provider's consent. */
  REMOVED: 4003,
  /** The server is restarting: join again. */
  SHUTTING_DOWN: 4009,
} as const;

/** Why a participant was put out (`removed`): the server's exact words, which the UI says in its own. */
export const REMOVAL_REASONS = {
  revoked: 'the patient revoked consent for this consultation',
  inactive: "the patient's consent for this consultation is no longer active",
} as const;

export interface SignalPeer {
  /** Lower-case address. */
  readonly participant: string;
  readonly role: string;
}

/** WebRTC's RTCIceCandidateInit, relayed as the sender gave it (`null`: the end of its candidates). */
export interface IceCandidateInit {
  candidate?: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

export type ServerMessage =
  | {
      readonly type: 'welcome';
      readonly session: string;
      readonly participant: string;
      readonly role: string;
      readonly peers: readonly SignalPeer[];
    }
  | { readonly type: 'peer-joined'; readonly participant: string; readonly role: string }
  | { readonly type: 'peer-left'; readonly participant: string }
  | { readonly type: 'offer' | 'answer'; readonly from: string; readonly sdp: string }
  | { readonly type: 'ice'; readonly from: string; readonly candidate: IceCandidateInit | null }
  | { readonly type: 'removed'; readonly participant: string; readonly reason: string }
  | { readonly type: 'ended'; readonly reason: string }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

export type ClientMessage =
  | { readonly type: 'offer' | 'answer'; readonly to: string; readonly sdp: string }
  | { readonly type: 'ice'; readonly to: string; readonly candidate: IceCandidateInit | null };
