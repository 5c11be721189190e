import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  Global,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * Browsers cannot set headers on a WebSocket, and URLs end up in logs, so a token travels as a
 * subprotocol: the client offers `['custos', 'custos-token.<token>']`; the server answers `custos`.
 */
export const WEBSOCKET_PROTOCOL = 'custos';
const TOKEN_PROTOCOL_PREFIX = 'custos-token.';

/** The token offered in `Sec-WebSocket-Protocol` (see WEBSOCKET_PROTOCOL), if any. */
export function websocketToken(request: IncomingMessage): string | undefined {
  const header = request.headers['sec-websocket-protocol'];
  const offered = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((p) => p.trim());
  const entry = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  return entry ? entry.slice(TOKEN_PROTOCOL_PREFIX.length) : undefined;
}

/** Whether an upgrade request may open the socket, decided before the handshake completes. */
export type UpgradeDecision<T> =
  { ok: true; value: T } | { ok: false; status: 400 | 401 | 403 | 404 | 429; reason: string };

export interface WebSocketEndpoint<T> {
  /** Largest message accepted, in bytes (bigger ones close the socket with 1009). */
  maxPayload: number;
  /** Authenticates and authorizes the upgrade request (a refusal is an HTTP answer, no socket opens). */
  authorize(request: IncomingMessage, url: URL): Promise<UpgradeDecision<T>>;
  /** A socket the endpoint accepted, with what `authorize` returned. */
  onConnection(socket: WebSocket, value: T, request: IncomingMessage): void;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

function refuse(socket: Duplex, status: number, reason: string): void {
  const body = JSON.stringify({ statusCode: status, error: STATUS_TEXT[status], message: reason });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * The API's WebSocket endpoints, all on the HTTP server's port: one `upgrade` listener routes each
 * request by exact path to the endpoint registered for it (modules call `serve` while they are
 * constructed or initialised); an unknown path is answered 404 and closed. Each endpoint decides in
 * `authorize` before the handshake, so a refused caller never holds a socket.
 */
@Injectable()
export class WebSocketEndpoints implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('WebSocket');
  private readonly endpoints = new Map<
    string,
    { endpoint: WebSocketEndpoint<unknown>; server: WebSocketServer }
  >();
  private attached: { server: NodeJS.EventEmitter; listener: (...args: unknown[]) => void } | null = null;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** Serves `endpoint` at `path` (e.g. `/sessions/signal`). */
  serve<T>(path: string, endpoint: WebSocketEndpoint<T>): void {
    if (this.endpoints.has(path)) throw new Error(`a WebSocket endpoint is already served at ${path}`);
    const server = new WebSocketServer({
      noServer: true,
      maxPayload: endpoint.maxPayload,
      // Answer `custos` (never echo the token protocol back); a client that did not offer it still connects.
      handleProtocols: (protocols) => (protocols.has(WEBSOCKET_PROTOCOL) ? WEBSOCKET_PROTOCOL : false),
    });
    this.endpoints.set(path, { endpoint: endpoint as WebSocketEndpoint<unknown>, server });
  }

  /** The sockets open at `path` (for tests and metrics). */
  clients(path: string): ReadonlySet<WebSocket> {
    return this.endpoints.get(path)?.server.clients ?? new Set();
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as NodeJS.EventEmitter | undefined;
    if (!server) return;
    const listener = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.upgrade(request, socket, head);
    };
    server.on('upgrade', listener);
    this.attached = { server, listener: listener as (...args: unknown[]) => void };
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://localhost');
    } catch {
      return refuse(socket, 400, 'malformed request URL');
    }
    const entry = this.endpoints.get(url.pathname);
    if (!entry) return refuse(socket, 404, `no WebSocket endpoint at ${url.pathname}`);
    let decision: UpgradeDecision<unknown>;
    try {
      decision = await entry.endpoint.authorize(request, url);
    } catch (error) {
      this.logger.warn(`upgrade at ${url.pathname} failed: ${(error as Error).message.slice(0, 200)}`);
      return refuse(socket, 500, 'the connection could not be authorized');
    }
    if (!decision.ok) return refuse(socket, decision.status, decision.reason);
    const value = decision.value;
    entry.server.handleUpgrade(request, socket, head, (ws) =>
      entry.endpoint.onConnection(ws, value, request),
    );
  }

  onModuleDestroy(): void {
    if (this.attached) this.attached.server.off('upgrade', this.attached.listener);
    this.attached = null;
    for (const { server } of this.endpoints.values()) {
      for (const client of server.clients) client.terminate();
      server.close();
    }
  }
}

/** One WebSocket router for the whole API (global: any capability module may serve an endpoint). */
@Global()
@Module({ providers: [WebSocketEndpoints], exports: [WebSocketEndpoints] })
export class WebSocketModule {}
