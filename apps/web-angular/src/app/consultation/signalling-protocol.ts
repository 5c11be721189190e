/**
 * The built-in WebRTC signalling protocol as the browser speaks it. The protocol itself (path, close
 * codes, messages) is defined once, in libs/domain/src/signalling.ts, with the API's server.
 */
import { type IceCandidateInit, SIGNALLING_PATH, type ServerMessage } from '@custos/domain/signalling';

export {
  type ClientMessage,
  REMOVAL_REASONS,
  SIGNAL_CLOSE,
  SIGNALLING_PATH,
  type ServerMessage,
  type SignalPeer,
} from '@custos/domain/signalling';

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
            candidate: m['candidate'] as IceCandidateInit | null,
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
