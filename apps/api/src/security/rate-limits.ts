import { HttpException, HttpStatus } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { type AppConfig, durationInWords } from '../config/config.schema';
import { Authenticator } from './authenticator';

type RateLimitSetting =
  | 'RATE_LIMIT_SIGN_IN'
  | 'RATE_LIMIT_RELAY'
  | 'RATE_LIMIT_CREDENTIALS'
  | 'RATE_LIMIT_UPLOADS'
  | 'RATE_LIMIT_REFUSED';

export interface RateLimit {
  /** The setting that holds the limit (requests per RATE_LIMIT_WINDOW); named in the 429. */
  readonly setting: RateLimitSetting;
  /** What is counted, for the 429's message. */
  readonly what: string;
  /** `METHOD /path` as declared; a trailing `/*` matches every route under the path. */
  readonly routes: readonly string[];
  /**
   * Whom a count belongs to: the client IP, or the signed-in account when the request carries a
   * valid session token (the IP otherwise), so that a clinic's staff behind one address do not
   * share a count.
   */
  readonly per: 'ip' | 'account';
}

/** The limited routes: those that cost the server (gas, signatures, storage) or invite guessing. One count per entry. */
export const RATE_LIMITS: readonly RateLimit[] = [
  { setting: 'RATE_LIMIT_SIGN_IN', what: 'sign-in requests', routes: ['POST /auth/*'], per: 'ip' },
  {
    setting: 'RATE_LIMIT_RELAY',
    what: 'relayed consents and records',
    routes: [
      'POST /consents/grants',
      'POST /consents/grants/batch',
      'POST /consents/revocations',
      'POST /records',
    ],
    per: 'account',
  },
  {
    setting: 'RATE_LIMIT_CREDENTIALS',
    what: 'call credential requests',
    routes: ['POST /sessions/:id/credentials'],
    per: 'account',
  },
  // Each upload is up to RECORD_MAX_BYTES of disk until a record refers to it.
  { setting: 'RATE_LIMIT_UPLOADS', what: 'record uploads', routes: ['POST /records/blobs'], per: 'account' },
];

/** Distinct clients remembered per limit; the least recently seen are forgotten beyond it. */
const CLIENTS_REMEMBERED = 10_000;

/**
 * Counts requests to the routes of RATE_LIMITS per client over RATE_LIMIT_WINDOW
 * (@fastify/rate-limit, in this process's memory) and answers 429 with Retry-After and a
 * JSON body naming the limit once a client is over. The count runs in an `onRequest`
 * hook: a refused request is not parsed, authorized or handled, so it appends nothing.
 *
 * Must run before the routes are registered (before `app.init()`).
 */
export async function registerRateLimits(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  await app.register(fastifyRateLimit, { global: false });
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  const authenticator = app.get(Authenticator);
  const clientOf = (request: FastifyRequest, per: RateLimit['per']): string => {
    if (per === 'account') {
      const auth = authenticator.authenticate(request);
      if (auth.authenticated) return `account ${auth.principal.address.toLowerCase()}`;
    }
    return `ip ${normalizeIP(request.ip)}`;
  };

  const hooks = RATE_LIMITS.map((limit) => {
    const max = config[limit.setting];
    return {
      limit,
      hook: fastify.rateLimit({
        max,
        timeWindow: config.RATE_LIMIT_WINDOW,
        cache: CLIENTS_REMEMBERED,
        keyGenerator: (request) => clientOf(request, limit.per),
        errorResponseBuilder: (_request, context) => tooManyRequests(limit, max, config, context.ttl),
      }) as onRequestHookHandler,
    };
  });

  registerRefusalLimit(fastify, config, clientOf);

  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      const limited = hooks.find(({ limit }) => limit.routes.some((r) => routeMatches(r, method, route.url)));
      if (!limited) continue;
      route.onRequest = [...[route.onRequest ?? []].flat(), limited.hook];
      return;
    }
  });
}

/** The answers that count as refusals: each of them is on the audit trail as a denied access. */
const REFUSED_STATUSES = new Set([401, 403, 404]);

const REFUSED: RateLimit = {
  setting: 'RATE_LIMIT_REFUSED',
  what: 'refused requests (401, 403, 404)',
  routes: [],
  per: 'account',
};

/**
 * Every refusal by a route (401, 403, or a 404 that hides whether something exists) is an audit event, so a
 * client that keeps being refused writes to the event store at the rate it sends. After
 * RATE_LIMIT_REFUSED refusals within RATE_LIMIT_WINDOW the client's requests, on any route, are
 * answered 429 before they are read, authorized or recorded, until its window ends. Counted per
 * account when the refused request was signed in, per IP address when it was not (a 401).
 */
function registerRefusalLimit(
  fastify: FastifyInstance,
  config: AppConfig,
  clientOf: (request: FastifyRequest, per: RateLimit['per']) => string,
): void {
  const max = config.RATE_LIMIT_REFUSED;
  const window = config.RATE_LIMIT_WINDOW;
  /** Client → refusals in its current window (a Map in insertion order: the oldest windows first). */
  const counts = new Map<string, { refused: number; endsAt: number }>();
  /** How many counted clients are over the limit: while none is, a request is not looked at. */
  let over = 0;

  const forget = (now: number) => {
    for (const [client, count] of counts) {
      if (count.endsAt > now && counts.size <= CLIENTS_REMEMBERED) break;
      counts.delete(client);
      if (count.refused >= max) over--;
    }
  };

  fastify.addHook('onRequest', (request, reply, done) => {
    if (over === 0) return done();
    const now = Date.now();
    forget(now);
    const client = clientOf(request, 'account');
    const count = counts.get(client);
    if (!count || count.refused < max || count.endsAt <= now) return done();
    const limit: RateLimit = { ...REFUSED, per: client.startsWith('ip ') ? 'ip' : 'account' };
    const error = tooManyRequests(limit, max, config, count.endsAt - now);
    void reply
      .code(429)
      .header('retry-after', String(Math.ceil((count.endsAt - now) / 1000)))
      .send(error.getResponse());
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    // A path that matches no route is refused without an audit event (UnmatchedRouteFilter): a
    // browser asking for an old bundle after a deploy must not lock out its whole address.
    if (!REFUSED_STATUSES.has(reply.statusCode) || request.is404) return done();
    const now = Date.now();
    const client = request.principal
      ? `account ${request.principal.address.toLowerCase()}`
      : clientOf(request, 'account');
    let count = counts.get(client);
    if (!count || count.endsAt <= now) {
      if (count && count.refused >= max) over--;
      counts.delete(client);
      count = { refused: 0, endsAt: now + window };
      counts.set(client, count);
    }
    count.refused += 1;
    if (count.refused === max) over++;
    forget(now);
    done();
  });
}

function routeMatches(pattern: string, method: string, url: string): boolean {
  const [patternMethod, patternPath] = pattern.split(' ') as [string, string];
  if (patternMethod !== method) return false;
  return patternPath.endsWith('/*') ? url.startsWith(patternPath.slice(0, -1)) : url === patternPath;
}

function tooManyRequests(limit: RateLimit, max: number, config: AppConfig, ttlMs: number): HttpException {
  const retryAfter = Math.ceil(ttlMs / 1000);
  const client = limit.per === 'ip' ? 'this address' : 'this account';
  return new HttpException(
    {
      statusCode: HttpStatus.TOO_MANY_REQUESTS,
      error: 'Too Many Requests',
      code: 'rate_limited',
      limit: limit.setting,
      message:
        `Too many ${limit.what} from ${client}: at most ${max} per ${durationInWords(config.RATE_LIMIT_WINDOW)} ` +
        `(${limit.setting}). Retry in ${retryAfter} s.`,
      retryAfterSeconds: retryAfter,
    },
    HttpStatus.TOO_MANY_REQUESTS,
  );
}
