/**
 * The built-in WebRTC signalling protocol of the API (apps/api/src/telehealth/signalling.service.ts),
 * as the browser speaks it.
 *
 * Connect to `/sessions/signal` offering the subprotocols `custos` and `custos-token.<token>` (the
 * token from `POST /sessions/:id/credentials`). The server sends `welcome` (with the participants
 * already there), `peer-joined`, `peer-left`, relays `offer` / `answer` / `ice` with `from`, and tells
 * `removed` (someone was put out, e.g. the patient revoked the provider's consent) and `ended`. The
 * client sends `offer` / `answer` / `ice` addressed `to` another participant. Anything else it sends
 * is answered with `error`.
 */

export const SIGNALLING_PATH = '/sessions/signal';

/** The application's close codes. */
export const SIGNAL_CLOSE = {
  /** The same participant connected again elsewhere; this older socket is closed. */
  REPLACED: 4000,
  /** The consultation ended (the provider ended it, or its time is over). */
  ENDED: 4001,
  /** The join was refused when it was recorded. */
  REFUSED: 4002,
  /** Put out of the call, e.g. the patient revoked the provider's consent. */
  REMOVED: 4003,
  /** The server is restarting: join again. */
  SHUTTING_DOWN: 4009,
} as const;

/** The removal reasons the server gives (its exact words), to say them in the UI's own words. */
export const REMOVAL_REASONS = {
  revoked: 'the patient revoked consent for this consultation',
  inactive: "the patient's consent for this consultation is no longer active",
} as const;

export interface SignalPeer {
  /** Lower-case address. */
  readonly participant: string;
  readonly role: string;
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
  | { readonly type: 'ice'; readonly from: string; readonly candidate: RTCIceCandidateInit | null }
  | { readonly type: 'removed'; readonly participant: string; readonly reason: string }
  | { readonly type: 'ended'; readonly reason: string }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

export type ClientMessage =
  | { readonly type: 'offer' | 'answer'; readonly to: string; readonly sdp: string }
  | { readonly type: 'ice'; readonly to: string; readonly candidate: RTCIceCandidateInit | null };

/** The subprotocols that carry the call token (browsers cannot set headers on a WebSocket). */
export function signallingProtocols(token: string): string[] {
  return ['custos', `custos-token.${token}`];
}

/** `ws(s)://<this host>/sessions/signal`. */
export function signallingUrl(location: Pick<Location, 'protocol' | 'host'> = globalThis.location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${SIGNALLING_PATH}`;
}

const isText = (value: unknown): value is string => typeof value === 'string';
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A message from the server, checked; `null` for anything malformed or unknown (ignored). */
export function parseServerMessage(data: unknown): ServerMessage | null {
  if (!isText(data)) return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  const m = value;
  switch (m['type']) {
    case 'welcome': {
      const peers = Array.isArray(m['peers']) ? m['peers'] : [];
      if (!isText(m['participant'])) return null;
      return {
        type: 'welcome',
        session: isText(m['session']) ? m['session'] : '',
        participant: m['participant'].toLowerCase(),
        role: isText(m['role']) ? m['role'] : '',
        peers: peers
          .filter((p): p is Record<string, unknown> => isObject(p) && isText(p['participant']))
          .map((p) => ({
            participant: String(p['participant']).toLowerCase(),
            role: isText(p['role']) ? p['role'] : '',
          })),
      };
    }
    case 'peer-joined':
      return isText(m['participant'])
        ? {
            type: 'peer-joined',
            participant: m['participant'].toLowerCase(),
            role: isText(m['role']) ? m['role'] : '',
          }
        : null;
    case 'peer-left':
      return isText(m['participant'])
        ? { type: 'peer-left', participant: m['participant'].toLowerCase() }
        : null;
    case 'offer':
    case 'answer':
      return isText(m['from']) && isText(m['sdp'])
        ? { type: m['type'], from: m['from'].toLowerCase(), sdp: m['sdp'] }
        : null;
    case 'ice':
      return isText(m['from']) && (m['candidate'] === null || isObject(m['candidate']))
        ? {
            type: 'ice',
            from: m['from'].toLowerCase(),
            candidate: m['candidate'] as RTCIceCandidateInit | null,
          }
        : null;
    case 'removed':
      return isText(m['participant'])
        ? {
            type: 'removed',
            participant: m['participant'].toLowerCase(),
            reason: isText(m['reason']) ? m['reason'] : '',
          }
        : null;
    case 'ended':
      return { type: 'ended', reason: isText(m['reason']) ? m['reason'] : '' };
    case 'error':
      return {
        type: 'error',
        code: isText(m['code']) ? m['code'] : 'error',
        message: isText(m['message']) ? m['message'] : '',
      };
    default:
      return null;
  }
}
