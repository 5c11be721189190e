import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { PinoLoggerService } from './logging/pino-logger';
import { openApiDocument } from './openapi';
import { registerBodyDepthLimit } from './security/body-depth';
import { registerBodyLimits } from './security/body-limits';
import { registerRateLimits } from './security/rate-limits';
import { registerSecurityHeaders, securityHeaders } from './security/security-headers';
import type { AppConfig } from './config/config.schema';
import { WebAppService } from './web/web-app.service';

export interface CreateAppOptions {
  /** false silences Nest's logger (tests); by default LOG_LEVEL decides. */
  logger?: false;
  /**
   * The root module; AppModule.forRoot(config) by default. Tests wrap it to
   * add probe routes: { module: X, imports: [AppModule.forRoot(config)], controllers: [...] }.
   */
  rootModule?: DynamicModule | Type;
}

/**
 * Creates the API on Fastify from a validated configuration, without
 * listening: main.ts listens, tests inject requests. Everything that shapes
 * request handling is here or in the modules, so both see the same app.
 */
export async function createApp(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.MAX_BODY_BYTES,
    trustProxy: config.TRUST_PROXY,
    routerOptions: { ignoreTrailingSlash: true },
    // Nest does the logging; Fastify's own request log would need redaction.
    logger: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    options.rootModule ?? AppModule.forRoot(config),
    adapter,
    {
      logger: options.logger === false ? false : new PinoLoggerService(config.LOG_LEVEL),
      abortOnError: false,
    },
  );
  await hardenHttp(app, config);
  publishOpenApi(app);
  return app;
}

/**
 * Issue 8's limits, in Fastify hooks that run before a body is read or a guard runs: security
 * headers with the web app's CSP, CORS for CORS_ORIGIN only, per-client rate limits and body
 * size and nesting limits. Before `app.init()`, which registers the routes these attach to.
 */
async function hardenHttp(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const webApp = app.get(WebAppService);
  const indexHtml = webApp.available ? readFileSync(path.join(webApp.root, 'index.html'), 'utf8') : undefined;
  registerSecurityHeaders(app.getHttpAdapter().getInstance(), securityHeaders(config, indexHtml));
  // Unset: same-origin only (npm start serves the app from the API), and no CORS headers at all.
  if (config.CORS_ORIGIN.length > 0) {
    app.enableCors({
      origin: [...config.CORS_ORIGIN],
      methods: ['GET', 'HEAD', 'POST', 'PUT'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      exposedHeaders: ['Content-Disposition', 'Retry-After'],
      // Bearer tokens, no cookies: nothing for the browser to attach on its own.
      credentials: false,
      maxAge: 600,
    });
  }
  await registerRateLimits(app, config);
  registerBodyLimits(app, config);
  registerBodyDepthLimit(app);
}

/**
 * The OpenAPI document at /api/docs-json and its browsable form at /api/docs (both public), built from
 * the DTO classes that validate each request (openapi.ts).
 */
function publishOpenApi(app: NestFastifyApplication): void {
  SwaggerModule.setup('api/docs', app, openApiDocument(app), { jsonDocumentUrl: 'api/docs-json' });
}
