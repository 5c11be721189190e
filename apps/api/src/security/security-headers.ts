import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { AppConfig } from '../config/config.schema';

/**
 * Where Tencent's browser SDKs connect when TRTC or Tencent Chat is configured: their
 * published firewall allowlists (TRTC Web: yun.tim.qq.com, *.rtc.qcloud.com, *.rtc.qq.com,
 * *.cloud-rtc.com, *.cloud-rtc.net, *.rtc-web.com, *.rtc-web.io, *.my-imcloud.com; Chat:
 * *.im.qcloud.com, *.my-imcloud.com, file storage on *.myqcloud.com and *.tencentcos.cn).
 */
const TENCENT_HOSTS = [
  '*.qq.com',
  '*.qcloud.com',
  '*.tencentcloud.com',
  '*.tencent-cloud.com',
  '*.cloud-rtc.com',
  '*.cloud-rtc.net',
  '*.rtc-web.com',
  '*.rtc-web.io',
  '*.my-imcloud.com',
  '*.myqcloud.com',
  '*.tencentcos.cn',
];

/**
 * The security headers every response gets (@fastify/helmet), with a Content Security
 * Policy that the built Angular app runs under:
 * - scripts from the app's own origin only; the inline event handlers of index.html
 *   (Angular's `onload="this.media='all'"` that applies the stylesheet after first paint)
 *   are allowed by hash, nothing else inline;
 * - inline styles, which Angular's component styles are;
 * - fetch and WebSocket (/messages/live, /sessions/signal) to the app's origin, plus
 *   Tencent's hosts when TRTC or Tencent Chat is configured;
 * - blob: and data: images and media, blob: frames and objects (the record viewer shows a
 *   decrypted PDF from a blob: URL), blob: workers (the TRTC SDK's);
 * - no framing by other sites.
 * HSTS and upgrade-insecure-requests only when PUBLIC_URL is https: on http they would
 * break the app served on a LAN address.
 */
export function securityHeaders(config: AppConfig, indexHtml: string | undefined): FastifyHelmetOptions {
  const publicUrl = new URL(config.PUBLIC_URL);
  const https = publicUrl.protocol === 'https:';
  const connect = ["'self'", `${https ? 'wss' : 'ws'}://${publicUrl.host}`];
  if (config.trtc || config.tencentChat) {
    connect.push(...TENCENT_HOSTS.flatMap((host) => [`https://${host}`, `wss://${host}`]));
  }
  const inline = indexHtml === undefined ? { scripts: [], handlers: [] } : inlineScriptHashes(indexHtml);
  return {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'base-uri': ["'self'"],
        'script-src': ["'self'", ...inline.scripts],
        'script-src-attr': inline.handlers.length > 0 ? ["'unsafe-hashes'", ...inline.handlers] : ["'none'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:', 'blob:'],
        'media-src': ["'self'", 'data:', 'blob:'],
        'font-src': ["'self'", 'data:'],
        'connect-src': connect,
        'worker-src': ["'self'", 'blob:'],
        'frame-src': ["'self'", 'blob:'],
        'object-src': ['blob:'],
        'frame-ancestors': ["'self'"],
        'form-action': ["'self'"],
        ...(https ? { 'upgrade-insecure-requests': [] } : {}),
      },
    },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    // Wallet extensions and the PDF viewer open nothing cross-origin that needs a looser policy.
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
  };
}

/** CSP hash sources of the inline `<script>` bodies and inline event handlers of an HTML page. */
export function inlineScriptHashes(html: string): { scripts: string[]; handlers: string[] } {
  const scripts = new Set<string>();
  for (const [, attributes, body] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (!/\bsrc\s*=/i.test(attributes!) && body!.trim() !== '') scripts.add(hashSource(body!));
  }
  const handlers = new Set<string>();
  for (const match of html.matchAll(/<[a-z][^>]*>/gi)) {
    for (const [, , doubleQuoted, singleQuoted] of match[0].matchAll(
      /\son([a-z]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/gi,
    )) {
      handlers.add(hashSource(decodeEntities(doubleQuoted ?? singleQuoted ?? '')));
    }
  }
  return { scripts: [...scripts], handlers: [...handlers] };
}

function hashSource(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** The entities an attribute value may hold; the browser hashes the decoded value. */
function decodeEntities(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The helmet package that @fastify/helmet runs on (resolved from it, so always the same version). */
const helmet = createRequire(require.resolve('@fastify/helmet'))('helmet') as typeof import('helmet').default;

/**
 * Sets the headers of `options` on every response, as @fastify/helmet does with the same options,
 * but computed once: the plugin builds helmet's middleware again (parsing the whole CSP) on every
 * request, and the policy never changes while the API runs (no nonces, no per-request directives).
 */
export function registerSecurityHeaders(instance: FastifyInstance, options: FastifyHelmetOptions): void {
  const { global: _global, enableCSPNonces: _nonces, ...helmetOptions } = options;
  const set = new Map<string, string>();
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => set.set(name, String(value)),
    removeHeader: (name: string) => removed.push(name),
  };
  // helmet's middleware runs synchronously and only sets or removes headers.
  helmet(helmetOptions)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  const headers = [...set];
  instance.addHook('onRequest', (_request, reply, done) => {
    const response = reply.raw;
    for (const [name, value] of headers) response.setHeader(name, value);
    for (const name of removed) response.removeHeader(name);
    done();
  });
}
