// The API end to end, as a client sees it: the real AppModule (real role directory from the `directory`
// read model, real audit recorder, SQLite event store and read models) booted by createApp on a fresh
// temporary folder, requests injected into Fastify, and real wallets that sign in with EIP-4361.
//
// Chain facts (roles, grants, revocations) are what the chain mirror will append in a later issue;
// until then the harness appends them to the event store itself, then waits for the projections.
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  consentStream,
  directoryStream,
  type EventDraft,
  type RecordedEvent,
  type Role,
} from '@custos/domain';
import { type HDNodeWallet, Wallet } from 'ethers';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { signIn as signInThroughApi } from '../../apps/api/src/auth/testing';
import { createApp } from '../../apps/api/src/bootstrap';
import type { AppConfig } from '../../apps/api/src/config/config.schema';
import { loadConfig } from '../../apps/api/src/config/load-config';
import { stamp } from '../../apps/api/src/core/aggregate-repository';
import { EVENT_STORE } from '../../apps/api/src/event-store/event-store.module';
import type { EventStore } from '../../apps/api/src/event-store/event-store.port';
import type { ProjectionRunner } from '../../apps/api/src/projections/projection-runner';
import { ProjectionsService } from '../../apps/api/src/projections/projections.module';
import { PROJECTIONS } from '../../apps/api/src/projections/read-models';
import type { ReadModelStoreAdapter } from '../../apps/api/src/read-models/read-model.common';
import type { ReadDocument, ReadModelStore } from '../../apps/api/src/read-models/read-model.port';
import { READ_MODEL_STORE } from '../../apps/api/src/read-models/read-models.module';
import { findAll } from '../../apps/api/src/core/find-all';

export type Response = LightMyRequestResponse;

/** A route as Fastify serves it: `GET /audit`, `POST /consent-requests/:id/decline`. */
export interface ServedRoute {
  method: string;
  url: string;
  key: string;
}

/** A person with a wallet who signed in through the API. Addresses are lower case, as the API stores them. */
export interface User {
  wallet: HDNodeWallet;
  address: string;
  token: string;
}

export interface RequestOptions {
  token?: string | null;
  body?: unknown;
  /** Sent as is (e.g. a string that is not JSON); `body` is JSON-encoded. */
  payload?: string | Buffer;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
}

const unix = (date: Date) => Math.floor(date.getTime() / 1000);
export const HOUR = 3600;
export const DAY = 24 * HOUR;

/**
 * Records every route Fastify registers for the app created inside `create`. Fastify publishes each new
 * instance on the `fastify.initialization` diagnostics channel before anything is registered on it, so
 * the `onRoute` hook added there sees Nest's controllers and anything mounted on Fastify directly (such
 * as Swagger UI), exactly as they are served.
 */
async function captureRoutes<T>(
  create: () => Promise<T>,
): Promise<{ result: T; routesOf: (fastify: FastifyInstance) => ServedRoute[] }> {
  const seen = new Map<FastifyInstance, ServedRoute[]>();
  const onInit = (message: unknown) => {
    const fastify = (message as { fastify: FastifyInstance }).fastify;
    const routes: ServedRoute[] = [];
    seen.set(fastify, routes);
    fastify.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        routes.push({ method, url: route.url, key: `${method} ${route.url}` });
      }
    });
  };
  diagnostics.subscribe('fastify.initialization', onInit);
  try {
    const result = await create();
    return {
      result,
      routesOf: (fastify) => {
        const routes = seen.get(fastify);
        if (!routes) throw new Error('harness: the app was not created on a Fastify instance seen at start');
        return routes;
      },
    };
  } finally {
    diagnostics.unsubscribe('fastify.initialization', onInit);
  }
}

export class TestApi {
  app!: NestFastifyApplication;
  fastify!: FastifyInstance;
  private allRoutes: ServedRoute[] = [];
  private closed = false;

  private constructor(
    readonly dataDir: string,
    readonly config: AppConfig,
  ) {}

  /** Boots the API on a new temporary folder. `env` adds or overrides settings. */
  static async start(env: Record<string, string> = {}): Promise<TestApi> {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-api-e2e-'));
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'fatal',
      CUSTOS_DATA_DIR: dataDir,
      // No web build: the API only, as in production behind a CDN.
      WEB_DIST_DIR: path.join(dataDir, 'no-web-build'),
      // A fixed secret, so that sessions survive reopen() as they would in production.
      AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
      // Suites refuse hundreds of requests on purpose, all from 127.0.0.1; abuse-limits.spec.ts sets it low.
      RATE_LIMIT_REFUSED: '1000000000',
      ...env,
    });
    const api = new TestApi(dataDir, config);
    try {
      await api.boot();
    } catch (error) {
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
    return api;
  }

  private async boot(): Promise<void> {
    const { result: app, routesOf } = await captureRoutes(() => createApp(this.config, { logger: false }));
    this.app = app;
    await app.init();
    this.fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
    await this.fastify.ready();
    this.allRoutes = routesOf(this.fastify);
  }

  /**
   * Every route served, once each: HEAD routes that Fastify adds for each GET are left out (same
   * handler, same guards as the GET).
   */
  get routes(): ServedRoute[] {
    const keys = new Set(this.allRoutes.map((r) => r.key));
    const unique = new Map<string, ServedRoute>();
    for (const route of this.allRoutes) {
      if (route.method === 'HEAD' && keys.has(`GET ${route.url}`)) continue;
      unique.set(route.key, route);
    }
    return [...unique.values()];
  }

  /** Closes the app and boots it again on the same folder (a restart). */
  async reopen(): Promise<void> {
    await this.app.close();
    await this.boot();
  }

  /** Closes the app and removes its folder. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.app.close();
    } finally {
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  // ------------------------------------------------------------------------------------------ HTTP

  inject = (options: InjectOptions): Promise<Response> => this.fastify.inject(options);

  request(method: string, url: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    return this.inject({
      method: method as InjectOptions['method'],
      url,
      query: options.query,
      headers,
      ...(options.payload !== undefined
        ? { payload: options.payload }
        : options.body !== undefined
          ? { payload: options.body as InjectOptions['payload'] }
          : {}),
    });
  }

  get(url: string, token?: string | null, query?: RequestOptions['query']): Promise<Response> {
    return this.request('GET', url, { token, query });
  }

  post(url: string, body: unknown, token?: string | null): Promise<Response> {
    return this.request('POST', url, { token, body });
  }

  // ------------------------------------------------------------------------------------------ people

  /** Sign-In with Ethereum through POST /auth/nonce and POST /auth/verify; the Bearer token. */
  signIn(wallet: HDNodeWallet | Wallet): Promise<string> {
    return signInThroughApi(this.inject, wallet);
  }

  /** A new wallet, given `roles` on the chain (mirrored), signed in. */
  async newUser(...roles: Role[]): Promise<User> {
    const wallet = Wallet.createRandom();
    const address = wallet.address.toLowerCase();
    for (const role of roles) await this.giveRole(address, role, new Date(Date.now() - 30 * DAY * 1000));
    return { wallet, address, token: await this.signIn(wallet) };
  }

  // ------------------------------------------------------------------------------------------ events

  get eventStore(): EventStore {
    return this.app.get<symbol, EventStore>(EVENT_STORE);
  }

  get readModels(): ReadModelStoreAdapter {
    return this.app.get<symbol, ReadModelStoreAdapter>(READ_MODEL_STORE);
  }

  get projections(): ProjectionRunner {
    return this.app.get(ProjectionsService).runner;
  }

  /** Appends events as a chain fact (actor `chain`) that happened `at`, and waits for the projections. */
  async append(stream: string, drafts: EventDraft[], at = new Date(), actor = 'chain'): Promise<number> {
    const events = stamp(drafts, { actor, correlationId: randomUUID(), now: at });
    const { position } = await this.eventStore.append(stream, events, 'any');
    await this.projections.caughtUp(position);
    return position;
  }

  /** The chain granted `role` to `address` (RoleGranted, mirrored). */
  giveRole(address: string, role: Role, at = new Date()): Promise<number> {
    const account = address.toLowerCase();
    return this.append(
      directoryStream(account),
      [{ type: 'RoleGranted', version: 1, data: { account, role } }],
      at,
    );
  }

  /** The chain revoked `role` from `address` (RoleRevoked, mirrored). */
  takeRole(address: string, role: Role, at = new Date()): Promise<number> {
    const account = address.toLowerCase();
    return this.append(
      directoryStream(account),
      [{ type: 'RoleRevoked', version: 1, data: { account, role } }],
      at,
    );
  }

  /** The chain recorded `patient`'s grant to `provider` for `category` until `expiresAt` (a Date). */
  grant(patient: string, provider: string, category: string, expiresAt: Date, at = new Date()) {
    const p = patient.toLowerCase();
    return this.append(
      consentStream(p),
      [
        {
          type: 'ConsentGranted',
          version: 1,
          data: { patient: p, provider: provider.toLowerCase(), category, expiresAt: unix(expiresAt) },
        },
      ],
      at,
    );
  }

  /** The chain recorded that `patient` revoked `provider`'s access to `category`. */
  revoke(patient: string, provider: string, category: string, at = new Date()) {
    const p = patient.toLowerCase();
    return this.append(
      consentStream(p),
      [
        {
          type: 'ConsentRevoked',
          version: 1,
          data: { patient: p, provider: provider.toLowerCase(), category },
        },
      ],
      at,
    );
  }

  /** Every event in the store, in global order. */
  async events(afterPosition = -1): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for await (const event of this.eventStore.readAll(afterPosition)) events.push(event);
    return events;
  }

  async eventCount(): Promise<number> {
    let count = 0;
    for await (const _ of this.eventStore.readAll()) count++;
    return count;
  }

  /** Waits until every projection has applied every event in the store. */
  async settle(): Promise<void> {
    await this.projections.caughtUp(await this.eventStore.headPosition());
  }
}

/** The collections every projection writes. */
export const READ_MODEL_COLLECTIONS: readonly string[] = [
  ...new Set(PROJECTIONS.flatMap((p) => p.collections.map((c) => c.name))),
];

/** Every document of every read-model collection, sorted by id: for comparing two stores. */
export async function snapshot(store: ReadModelStore): Promise<Record<string, ReadDocument[]>> {
  const result: Record<string, ReadDocument[]> = {};
  for (const collection of READ_MODEL_COLLECTIONS) result[collection] = await findAll(store, collection, {});
  return result;
}

/** Addresses (0x + 40 hex) in a text, lower case. */
export function addressesIn(text: string): string[] {
  return [...text.matchAll(/0x[0-9a-fA-F]{40}(?![0-9a-fA-F])/g)].map((m) => m[0].toLowerCase());
}

/** A fresh address nobody signs in with. */
export const randomAddress = () => Wallet.createRandom().address.toLowerCase();

/**
 * Polls `probe` every 50 ms until it gives a truthy value (returned), or fails after `ms` naming
 * `what`: for what arrives asynchronously (the chain mirror, a relay's progress, a projection).
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
