// The HTTP limits of issue 8 as a client sees them, on the real AppModule booted by createApp
// (requests injected into Fastify): security headers and the CSP on API and web app responses,
// CORS for CORS_ORIGIN only, and request bodies refused before they are read.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { createApp } from '../bootstrap';
import { loadConfig } from '../config/load-config';
import { startChainStub } from '../testing/chain-stub';
import { inlineScriptHashes } from './security-headers';

// Angular's production index.html: critical CSS inlined, the stylesheet applied by an inline handler.
const INDEX =
  '<!doctype html><html><head><style>:root{--c:#000}</style>' +
  '<link rel="stylesheet" href="styles-ABCD2345.css" media="print" onload="this.media=\'all\'">' +
  '</head><body><app-root></app-root><script src="main-ABCD2345.js" type="module"></script></body></html>';
// The CSP hash of `this.media='all'`.
const STYLESHEET_HANDLER = "'sha256-MhtPZXr7+LpJUY5qtMutB+qWfQtMaPccfe7QXtCcEYc='";

let chain: Awaited<ReturnType<typeof startChainStub>> | undefined;
const dirs: string[] = [];
after(async () => {
  await chain?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'custos-hardening-'));
  dirs.push(dir);
  return dir;
}

interface Booted {
  app: NestFastifyApplication;
  request: (options: InjectOptions) => Promise<LightMyRequestResponse>;
}

async function boot(env: Record<string, string> = {}): Promise<Booted> {
  chain ??= await startChainStub();
  const webDir = tempDir();
  writeFileSync(path.join(webDir, 'index.html'), INDEX);
  const config = loadConfig({
    NODE_ENV: 'test',
    CUSTOS_DATA_DIR: tempDir(),
    WEB_DIST_DIR: webDir,
    CHAIN_RPC_URL: chain.url,
    ...env,
  });
  const app = await createApp(config, { logger: false });
  await app.init();
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  await fastify.ready();
  return { app, request: (options) => fastify.inject(options) };
}

/** The directives of a Content-Security-Policy header: name → sources. */
function directives(res: LightMyRequestResponse): Map<string, string[]> {
  const header = String(res.headers['content-security-policy'] ?? '');
  assert.ok(header, 'a Content-Security-Policy header');
  return new Map(
    header.split(';').map((part) => {
      const [name, ...sources] = part.trim().split(/\s+/);
      return [name!, sources];
    }),
  );
}

describe('security headers', () => {
  let booted: Booted;
  before(async () => (booted = await boot()));
  after(() => booted.app.close());

  const responses = {
    'an API response (GET /health)': { method: 'GET', url: '/health' },
    'a refusal (401)': { method: 'GET', url: '/auth/me' },
    'the web app (GET /)': { method: 'GET', url: '/', headers: { accept: 'text/html' } },
    'a client-side route (SPA fallback)': {
      method: 'GET',
      url: '/patient/consents',
      headers: { accept: 'text/html' },
    },
  } as const;
  for (const [what, options] of Object.entries(responses)) {
    test(`${what} carries them`, async () => {
      const res = await booted.request(options);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
      assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin');
      assert.equal(res.headers['x-powered-by'], undefined);
      assert.equal(res.headers['strict-transport-security'], undefined, 'no HSTS on http');
      assert.ok(directives(res).has('default-src'));
    });
  }

  test('the CSP lets the built app run and nothing else: own scripts, its one inline handler by hash', async () => {
    const csp = directives(
      await booted.request({ method: 'GET', url: '/', headers: { accept: 'text/html' } }),
    );
    assert.deepEqual(csp.get('default-src'), ["'self'"]);
    assert.deepEqual(csp.get('script-src'), ["'self'"]);
    assert.deepEqual(csp.get('script-src-attr'), ["'unsafe-hashes'", STYLESHEET_HANDLER]);
    assert.deepEqual(csp.get('style-src'), ["'self'", "'unsafe-inline'"]);
    assert.deepEqual(csp.get('connect-src'), ["'self'", 'ws://127.0.0.1:3000']);
    assert.deepEqual(csp.get('img-src'), ["'self'", 'data:', 'blob:']);
    assert.deepEqual(csp.get('frame-src'), ["'self'", 'blob:']);
    assert.deepEqual(csp.get('object-src'), ['blob:']);
    assert.deepEqual(csp.get('worker-src'), ["'self'", 'blob:']);
    assert.deepEqual(csp.get('frame-ancestors'), ["'self'"]);
    assert.equal(csp.has('upgrade-insecure-requests'), false, 'http: the app may be served on a LAN address');
  });

  test('inline scripts and handlers are hashed as the browser hashes them; external scripts are not', () => {
    const hashes = inlineScriptHashes(
      `${INDEX}<script>window.x = 1;</script><img src="a.png" onerror='alert(&quot;x&quot;)'>`,
    );
    assert.deepEqual(hashes.scripts, ["'sha256-U1BU0BfAhaBREBgsEDDctSYokOF3U7hQUIj6mrtukfw='"]);
    assert.deepEqual(hashes.handlers, [
      STYLESHEET_HANDLER,
      "'sha256-rP5byD8sye7e0RsJ3rjFscv+LjSSiwckp1UwZDe+ams='",
    ]);
  });
});

describe('security headers behind https', () => {
  let booted: Booted;
  before(
    async () =>
      (booted = await boot({
        PUBLIC_URL: 'https://custos.example',
        TRTC_SDK_APP_ID: '1400000001',
        TRTC_SECRET_KEY: 'trtc-secret',
      })),
  );
  after(() => booted.app.close());

  test('HSTS and upgrade-insecure-requests; WebSockets over wss; Tencent hosts once TRTC is configured', async () => {
    const res = await booted.request({ method: 'GET', url: '/health' });
    assert.match(String(res.headers['strict-transport-security']), /max-age=31536000; includeSubDomains/);
    const csp = directives(res);
    assert.ok(csp.has('upgrade-insecure-requests'));
    const connect = csp.get('connect-src')!;
    assert.deepEqual(connect.slice(0, 2), ["'self'", 'wss://custos.example']);
    // Hosts from Tencent's allowlists for the TRTC and Chat web SDKs.
    for (const url of ['wss://signal.rtc.qq.com', 'https://yun.tim.qq.com', 'wss://wss.my-imcloud.com']) {
      const { protocol, hostname } = new URL(url);
      const allowed = connect.some((source) => {
        const [scheme, pattern] = source.split('://');
        return `${scheme}:` === protocol && pattern?.startsWith('*.') && hostname.endsWith(pattern.slice(1));
      });
      assert.ok(allowed, `${url} is not allowed by connect-src ${connect.join(' ')}`);
    }
    assert.ok(!connect.some((source) => source.includes('://*.com')), 'no blanket wildcard');
  });
});

describe('CORS', () => {
  const ALLOWED = 'https://app.custos.example';
  const OTHER = 'https://evil.example';

  describe('with CORS_ORIGIN set', () => {
    let booted: Booted;
    before(async () => (booted = await boot({ CORS_ORIGIN: `${ALLOWED},https://second.custos.example` })));
    after(() => booted.app.close());

    test('a request from an allowed origin is answered with that origin, without credentials', async () => {
      const res = await booted.request({ method: 'GET', url: '/health', headers: { origin: ALLOWED } });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['access-control-allow-origin'], ALLOWED);
      assert.equal(res.headers['access-control-allow-credentials'], undefined);
    });

    test('its preflight is answered: the methods and the Authorization header it may send', async () => {
      const res = await booted.request({
        method: 'OPTIONS',
        url: '/consents/grants',
        headers: {
          origin: ALLOWED,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      assert.equal(res.statusCode, 204);
      assert.equal(res.headers['access-control-allow-origin'], ALLOWED);
      assert.match(String(res.headers['access-control-allow-methods']), /\bPOST\b/);
      assert.match(String(res.headers['access-control-allow-headers']), /authorization/i);
      assert.match(String(res.headers['access-control-max-age']), /^\d+$/);
    });

    test('another origin gets no Access-Control-Allow-Origin, on a request or a preflight', async () => {
      const get = await booted.request({ method: 'GET', url: '/health', headers: { origin: OTHER } });
      assert.equal(get.headers['access-control-allow-origin'], undefined);
      const preflight = await booted.request({
        method: 'OPTIONS',
        url: '/consents/grants',
        headers: { origin: OTHER, 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    });
  });

  describe('without CORS_ORIGIN (the default: same-origin only)', () => {
    let booted: Booted;
    before(async () => (booted = await boot()));
    after(() => booted.app.close());

    test('no origin gets Access-Control-Allow-Origin, and a preflight is not answered', async () => {
      for (const origin of [ALLOWED, OTHER, 'http://127.0.0.1:3000']) {
        const get = await booted.request({ method: 'GET', url: '/health', headers: { origin } });
        assert.equal(get.statusCode, 200);
        assert.equal(get.headers['access-control-allow-origin'], undefined, origin);
        const preflight = await booted.request({
          method: 'OPTIONS',
          url: '/consents/grants',
          headers: { origin, 'access-control-request-method': 'POST' },
        });
        assert.notEqual(preflight.statusCode, 204);
        assert.equal(preflight.headers['access-control-allow-origin'], undefined, origin);
      }
    });
  });
});

describe('request bodies', () => {
  let booted: Booted;
  before(async () => (booted = await boot({ MAX_BODY_BYTES: '4096' })));
  after(() => booted.app.close());

  test('MAX_BODY_BYTES is 256 KiB unless set', () => {
    assert.equal(loadConfig({}).MAX_BODY_BYTES, 256 * 1024);
  });

  test('a JSON body over MAX_BODY_BYTES is a 413 naming the limit, answered from its Content-Length', async () => {
    const res = await booted.request({
      method: 'POST',
      url: '/auth/verify',
      payload: { message: 'x'.repeat(5000), signature: '0x00' },
    });
    assert.equal(res.statusCode, 413);
    assert.deepEqual(res.json(), {
      statusCode: 413,
      error: 'Payload Too Large',
      code: 'body_too_large',
      message: `Request body too large: ${res.raw.req.headers['content-length']} bytes, where at most 4096 are accepted here (MAX_BODY_BYTES).`,
    });
  });

  test('a body without a Content-Length is cut off at MAX_BODY_BYTES as it streams in (413)', async () => {
    const res = await booted.request({
      method: 'POST',
      url: '/auth/verify',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      payload: Readable.from([Buffer.from('{"message":"'), Buffer.alloc(8192, 'x'), Buffer.from('"}')]),
    });
    assert.equal(res.statusCode, 413);
  });

  test('a body just under the limit is read and validated as usual', async () => {
    const res = await booted.request({
      method: 'POST',
      url: '/auth/verify',
      payload: { message: 'x'.repeat(3000), signature: '0x00' },
    });
    assert.equal(res.statusCode, 400);
  });

  test('raw bytes (application/octet-stream) are refused (415) where JSON is expected, before being read', async () => {
    const res = await booted.request({
      method: 'POST',
      url: '/auth/verify',
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(100),
    });
    assert.equal(res.statusCode, 415);
    assert.match(res.json<{ message: string }>().message, /application\/octet-stream is not accepted here/);
  });
});
