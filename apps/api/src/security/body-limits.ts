import { HttpStatus, Logger, PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { AccessDecisionRecorder, describeRoute, recordDenial } from '../auth/access-decision-recorder';
import type { AppConfig } from '../config/config.schema';
import { Authenticator } from './authenticator';
import { unauthorized } from './deny-by-default.guard';

/** The media type of raw uploads: accepted only on the routes of LARGE_BODY_ROUTES. */
export const BINARY_MEDIA_TYPE = 'application/octet-stream';

export interface LargeBodyRoute {
  /** `METHOD /path` as declared. */
  readonly route: string;
  /** The only media type the route takes. */
  readonly mediaType: typeof BINARY_MEDIA_TYPE;
  /** The setting that holds its limit in bytes (instead of MAX_BODY_BYTES). */
  readonly setting: 'RECORD_MAX_BYTES';
}

/**
 * The routes allowed a body over MAX_BODY_BYTES. Each takes one media type (anything else is
 * a 415 before the body is read) from signed-in callers only (anyone else gets the usual 401,
 * audited, before the body is read). The handler finds the bytes as a Buffer in `request.body`.
 */
export const LARGE_BODY_ROUTES: readonly LargeBodyRoute[] = [
  { route: 'POST /records/blobs', mediaType: BINARY_MEDIA_TYPE, setting: 'RECORD_MAX_BYTES' },
];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on the routes of LARGE_BODY_ROUTES. */
    largeBody?: LargeBodyRoute;
  }
}

/**
 * Request bodies are refused early when too large: Fastify's `bodyLimit` is MAX_BODY_BYTES
 * (createApp), the routes of LARGE_BODY_ROUTES get their own, and a declared Content-Length
 * over the route's limit is answered 413 naming the limit before anything is read (a body
 * that turns out larger as it streams in is cut off at the limit by Fastify, also 413).
 *
 * Must run before the routes are registered (before `app.init()`).
 */
export function registerBodyLimits(app: NestFastifyApplication, config: AppConfig): void {
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  const authenticator = app.get(Authenticator);
  const decisions = app.get(AccessDecisionRecorder);
  const logger = new Logger('BodyLimits');

  // Raw bytes, buffered up to the route's limit; refused on other routes below before any is read.
  fastify.addContentTypeParser(BINARY_MEDIA_TYPE, { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );

  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      const largeBody = LARGE_BODY_ROUTES.find((r) => r.route === `${method} ${route.url}`);
      if (!largeBody) continue;
      route.bodyLimit = config[largeBody.setting];
      route.config = { ...route.config, largeBody };
      const onlySignedIn: onRequestHookHandler = async (request) => {
        const auth = authenticator.authenticate(request);
        if (auth.authenticated) return;
        await recordDenial(
          decisions,
          {
            ...describeRoute(request),
            actor: 'anonymous',
            outcome: 'denied',
            reason: `authentication required: ${auth.reason}`,
            patient: null,
            purpose: null,
          },
          logger,
        );
        throw unauthorized(auth.reason);
      };
      route.onRequest = [...[route.onRequest ?? []].flat(), onlySignedIn];
      return;
    }
  });

  fastify.addHook('onRequest', (request, _reply, done) => done(bodyRefusal(request, config)));
}

/** Why the request's body is refused before it is read, if it is. */
function bodyRefusal(request: FastifyRequest, config: AppConfig): Error | undefined {
  const declared = request.headers['content-length'];
  if (declared === undefined ? request.headers['transfer-encoding'] === undefined : declared === '0') {
    return undefined; // no body
  }
  const largeBody = request.routeOptions.config.largeBody;
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  // Raw bytes only where a route takes them, and such a route takes nothing else: whatever it
  // refuses is held to MAX_BODY_BYTES like any other body.
  const accepted =
    largeBody === undefined ? mediaType !== BINARY_MEDIA_TYPE : mediaType === largeBody.mediaType;
  const [limit, setting] =
    largeBody !== undefined && accepted
      ? [request.routeOptions.bodyLimit, largeBody.setting]
      : [config.MAX_BODY_BYTES, 'MAX_BODY_BYTES'];
  const length = Number(declared);
  if (length > limit) {
    return new PayloadTooLargeException({
      statusCode: HttpStatus.PAYLOAD_TOO_LARGE,
      error: 'Payload Too Large',
      code: 'body_too_large',
      message: `Request body too large: ${length} bytes, where at most ${limit} are accepted here (${setting}).`,
    });
  }
  if (!accepted) {
    return new UnsupportedMediaTypeException(
      largeBody === undefined
        ? `${BINARY_MEDIA_TYPE} is not accepted here: send JSON`
        : `${describeRoute(request).resource} takes ${largeBody.mediaType}, not ${mediaType || 'a body without a content type'}`,
    );
  }
  return undefined;
}
