// Sign-In with Ethereum end to end: boots the real AppModule on Fastify (requests
// injected, no socket) with a hand-moved clock, a test role directory and a
// recording access-decision recorder bound in AuthModule, and signs real
// EIP-4361 messages with fresh ethers wallets.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Controller, Get, Module, Req } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type HDNodeWallet, Wallet } from 'ethers';
import type { FastifyInstance, FastifyRequest, InjectOptions } from 'fastify';
import { SiweMessage } from 'siwe';
import { AppModule } from '../app.module';
import { createApp } from '../bootstrap';
import type { AppConfig } from '../config/config.schema';
import { loadConfig } from '../config/load-config';
import { DenyByDefaultGuard } from '../security/deny-by-default.guard';
import { Public } from '../security/public.decorator';
import type { NonceResponse } from './auth.dto';
import { Roles } from './roles.decorator';
import { RolesGuard } from './roles.guard';
import { RevokedSessions } from './revoked-sessions';
import { SessionTokens } from './session-tokens';
import {
  ManualClock,
  RecordingAccessDecisionRecorder,
  TestRoleDirectory,
  siweFields,
  signIn,
  withAuthBindings,
} from './testing';

const PUBLIC_URL = 'https://custos.test';
const MINUTE = 60_000;

@Controller('probe')
class RolesProbeController {
  @Get('anyone')
  anyone(@Req() request: FastifyRequest) {
    return { address: request.principal?.address, roles: request.principal?.roles };
  }

  @Roles('provider')
  @Get('patients')
  patients(@Req() request: FastifyRequest) {
    return { roles: request.principal?.roles };
  }

  @Roles('auditor', 'admin')
  @Get('audit')
  audit() {
    return { ok: true };
  }

  @Public()
  @Roles('admin')
  @Get('public-but-admin')
  publicButAdmin() {
    return { ok: true };
  }
}

async function boot(env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-auth-'));
  const config = loadConfig({
    WEB_DIST_DIR: path.join(tmpdir(), 'custos-no-web-build'),
    CUSTOS_DATA_DIR: dataDir,
    PUBLIC_URL,
    CHAIN_ID: '31337',
    ...env,
  });
  const clock = new ManualClock();
  const directory = new TestRoleDirectory();
  const recorder = new RecordingAccessDecisionRecorder();
  @Module({
    imports: [
      withAuthBindings(AppModule.forRoot(config), {
        clock,
        roleDirectory: directory,
        accessDecisionRecorder: recorder,
      }),
    ],
    controllers: [RolesProbeController],
  })
  class AuthProbeRootModule {}
  const app = await createApp(config, { logger: false, rootModule: AuthProbeRootModule });
  await app.init();
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  await fastify.ready();
  const request = (options: InjectOptions) => fastify.inject(options);
  const close = async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { app, config, request, clock, directory, recorder, close };
}

type Booted = Awaited<ReturnType<typeof boot>>;

let app: NestFastifyApplication;
let config: AppConfig;
let request: Booted['request'];
let clock: ManualClock;
let directory: TestRoleDirectory;
let recorder: RecordingAccessDecisionRecorder;
let close: Booted['close'];

before(async () => ({ app, config, request, clock, directory, recorder, close } = await boot()));
after(() => close());

async function newNonce(): Promise<NonceResponse> {
  const res = await request({ method: 'POST', url: '/auth/nonce' });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<NonceResponse>();
}

/** A signed message built from a fresh nonce, with `overrides` applied to its fields. */
async function signedMessage(
  wallet: Wallet | HDNodeWallet,
  overrides: Partial<SiweMessage> = {},
  signer: Wallet | HDNodeWallet = wallet,
) {
  const nonce = await newNonce();
  const message = new SiweMessage({ ...siweFields(wallet, nonce), ...overrides }).prepareMessage();
  return { message, signature: await signer.signMessage(message) };
}

function verify(payload: unknown) {
  return request({ method: 'POST', url: '/auth/verify', payload: payload as Record<string, unknown> });
}

function get(url: string, token?: string) {
  return request({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
}

function assertRefused(res: { statusCode: number; json: () => unknown; body: string }, reason: RegExp) {
  assert.equal(res.statusCode, 401, res.body);
  const body = res.json() as { statusCode: number; error: string; message: string };
  assert.equal(body.error, 'Unauthorized');
  assert.match(body.message, reason);
}

describe('POST /auth/nonce', () => {
  test('returns a fresh nonce and everything needed to build the EIP-4361 message', async () => {
    const res = await request({ method: 'POST', url: '/auth/nonce' });
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers['cache-control'], 'no-store');
    const body = res.json<NonceResponse>();
    assert.deepEqual(Object.keys(body).sort(), [
      'chainId',
      'domain',
      'expirationTime',
      'issuedAt',
      'nonce',
      'statement',
      'uri',
    ]);
    assert.match(body.nonce, /^[0-9a-f]{32}$/);
    assert.equal(body.domain, 'custos.test');
    assert.equal(body.uri, PUBLIC_URL);
    assert.equal(body.chainId, 31337);
    assert.equal(typeof body.statement, 'string');
    assert.equal(body.issuedAt, new Date(clock.now()).toISOString());
    assert.equal(Date.parse(body.expirationTime) - Date.parse(body.issuedAt), config.SIWE_NONCE_TTL);
    assert.equal(config.SIWE_NONCE_TTL, 5 * MINUTE, 'a 5-minute life by default');
    assert.notEqual((await newNonce()).nonce, body.nonce);
  });
});

describe('POST /auth/verify', () => {
  test('happy path: nonce, signed message, token, then GET /auth/me', async () => {
    const wallet = Wallet.createRandom();
    const { message, signature } = await signedMessage(wallet);
    const res = await verify({ message, signature });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    const session = res.json<{ token: string; expiresAt: string; address: string }>();
    assert.deepEqual(Object.keys(session).sort(), ['address', 'expiresAt', 'token']);
    assert.equal(session.address, wallet.address);
    assert.equal(
      Date.parse(session.expiresAt),
      Math.floor((clock.now() + config.AUTH_TOKEN_TTL) / 1000) * 1000,
    );

    const me = await get('/auth/me', session.token);
    assert.equal(me.statusCode, 200, me.body);
    assert.deepEqual(me.json(), { address: wallet.address, roles: [] });
  });

  test('the token carries sub (lower-case address), iat, exp and jti', async () => {
    const wallet = Wallet.createRandom();
    const token = await signIn(request, wallet);
    const [header, payload] = token.split('.') as [string, string];
    assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url').toString()), { alg: 'HS256', typ: 'JWT' });
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    assert.deepEqual(Object.keys(claims).sort(), ['exp', 'iat', 'jti', 'sub']);
    assert.equal(claims.sub, wallet.address.toLowerCase());
    assert.equal(claims.exp - claims.iat, config.AUTH_TOKEN_TTL / 1000);
  });

  test('a nonce is single-use: the same signed message is refused the second time', async () => {
    const wallet = Wallet.createRandom();
    const signed = await signedMessage(wallet);
    assert.equal((await verify({ message: signed.message, signature: signed.signature })).statusCode, 200);
    assertRefused(
      await verify({ message: signed.message, signature: signed.signature }),
      /^Sign-in refused: unknown, already used or expired nonce\.$/,
    );
  });

  test('a failed attempt uses up the nonce: it cannot be retried with a good signature', async () => {
    const wallet = Wallet.createRandom();
    const signed = await signedMessage(wallet, {}, Wallet.createRandom());
    assertRefused(await verify({ message: signed.message, signature: signed.signature }), /bad signature/);
    const good = await wallet.signMessage(signed.message);
    assertRefused(await verify({ message: signed.message, signature: good }), /already used/);
  });

  test('an expired nonce is refused', async () => {
    const wallet = Wallet.createRandom();
    const signed = await signedMessage(wallet);
    clock.advance(config.SIWE_NONCE_TTL);
    assertRefused(await verify(signed), /^Sign-in refused: nonce expired\.$/);
  });

  test('by default a nonce lives 5 minutes: good at 4 min 59 s, refused at 5 min', async () => {
    assert.equal(config.SIWE_NONCE_TTL, 5 * MINUTE);
    const wallet = Wallet.createRandom();
    const inTime = await signedMessage(wallet);
    clock.advance(5 * MINUTE - 1000);
    assert.equal((await verify(inTime)).statusCode, 200);
    const late = await signedMessage(wallet);
    clock.advance(5 * MINUTE);
    assertRefused(await verify(late), /^Sign-in refused: nonce expired\.$/);
  });

  test('a nonce the server never issued is refused', async () => {
    const wallet = Wallet.createRandom();
    const nonce = await newNonce();
    const message = new SiweMessage({
      ...siweFields(wallet, nonce),
      nonce: 'a1b2c3d4e5f6a7b8',
    }).prepareMessage();
    assertRefused(await verify({ message, signature: await wallet.signMessage(message) }), /unknown/);
  });

  const refusals: [string, Partial<SiweMessage>, RegExp][] = [
    [
      'a wrong domain',
      { domain: 'evil.example' },
      /^Sign-in refused: wrong domain \(expected custos\.test\)\.$/,
    ],
    ['a domain with another port', { domain: 'custos.test:8443' }, /wrong domain/],
    [
      'a wrong uri',
      { uri: 'https://evil.example' },
      /^Sign-in refused: wrong uri \(expected https:\/\/custos\.test\)\.$/,
    ],
    ['a wrong chain id', { chainId: 1 }, /^Sign-in refused: wrong chain id \(expected 31337\)\.$/],
    ['a wrong scheme', { scheme: 'http' }, /wrong scheme/],
  ];
  for (const [what, overrides, reason] of refusals) {
    test(`a message with ${what} is refused, even correctly signed`, async () => {
      const wallet = Wallet.createRandom();
      assertRefused(await verify(await signedMessage(wallet, overrides)), reason);
    });
  }

  test('a message past its expiration time is refused', async () => {
    const wallet = Wallet.createRandom();
    const signed = await signedMessage(wallet, {
      expirationTime: new Date(clock.now() + MINUTE).toISOString(),
    });
    clock.advance(2 * MINUTE); // the nonce (5 minutes) is still valid
    assertRefused(await verify(signed), /^Sign-in refused: message expired\.$/);
  });

  test('a message not valid yet is refused', async () => {
    const wallet = Wallet.createRandom();
    const signed = await signedMessage(wallet, { notBefore: new Date(clock.now() + MINUTE).toISOString() });
    assertRefused(await verify(signed), /^Sign-in refused: message not yet valid\.$/);
  });

  test('a signature by another wallet is refused', async () => {
    const wallet = Wallet.createRandom();
    assertRefused(
      await verify(await signedMessage(wallet, {}, Wallet.createRandom())),
      /^Sign-in refused: bad signature\.$/,
    );
  });

  test('a signature of another message is refused', async () => {
    const wallet = Wallet.createRandom();
    const signed = await signedMessage(wallet);
    const signature = await wallet.signMessage(`${signed.message} `);
    assertRefused(await verify({ message: signed.message, signature }), /bad signature/);
  });

  test('a well-formed signature that does not decode is refused as a bad signature', async () => {
    const wallet = Wallet.createRandom();
    const signed = await signedMessage(wallet);
    assertRefused(
      await verify({ message: signed.message, signature: `0x${'00'.repeat(64)}1f` }),
      /bad signature/,
    );
  });

  describe('malformed bodies are answered 400 naming the field', () => {
    const signature = `0x${'ab'.repeat(65)}`;
    const cases: [string, unknown, RegExp][] = [
      ['no body fields', {}, /^message /],
      ['no signature', { message: 'hello' }, /^signature /],
      ['a message that is not a string', { message: 42, signature }, /^message must be a string$/],
      [
        'an oversized message',
        { message: 'x'.repeat(5000), signature },
        /^message must be shorter than or equal to 4096/,
      ],
      [
        'a short signature',
        { message: 'hello', signature: '0x1234' },
        /^signature must be a 0x-prefixed 65-byte hex signature$/,
      ],
      [
        'an oversized signature',
        { message: 'hello', signature: `0x${'ab'.repeat(5000)}` },
        /^signature must be/,
      ],
      [
        'an unexpected field',
        { message: 'hello', signature, admin: true },
        /^property admin should not exist$/,
      ],
      [
        'a message that is not EIP-4361',
        { message: 'please let me in', signature },
        /^message must be a Sign-In with Ethereum \(EIP-4361\) message$/,
      ],
    ];
    for (const [what, payload, field] of cases) {
      test(what, async () => {
        const res = await verify(payload);
        assert.equal(res.statusCode, 400, res.body);
        const messages: string[] = res.json().message;
        assert.ok(
          messages.some((m) => field.test(m)),
          messages.join('; '),
        );
      });
    }

    test('a message that names a nonce but does not parse still uses the nonce up', async () => {
      const wallet = Wallet.createRandom();
      const signed = await signedMessage(wallet);
      const broken = signed.message.replace(wallet.address, '0xnot-an-address');
      assert.equal((await verify({ message: broken, signature: signed.signature })).statusCode, 400);
      assertRefused(await verify(signed), /already used/);
    });
  });
});

describe('session tokens', () => {
  test('a token is refused once expired (AUTH_TOKEN_TTL)', async () => {
    const token = await signIn(request, Wallet.createRandom());
    clock.advance(config.AUTH_TOKEN_TTL - 2000);
    assert.equal((await get('/auth/me', token)).statusCode, 200);
    clock.advance(2000);
    assertRefused(await get('/auth/me', token), /^Authentication required: token expired\.$/);
  });

  test('sign-out revokes the token presented, and only that one', async () => {
    const wallet = Wallet.createRandom();
    const token = await signIn(request, wallet);
    const other = await signIn(request, wallet);
    const res = await request({
      method: 'POST',
      url: '/auth/sign-out',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.statusCode, 204);
    assertRefused(await get('/auth/me', token), /^Authentication required: token revoked\.$/);
    assertRefused(
      await request({ method: 'POST', url: '/auth/sign-out', headers: { authorization: `Bearer ${token}` } }),
      /token revoked/,
    );
    assert.equal((await get('/auth/me', other)).statusCode, 200, 'the other session is still signed in');
  });

  test('sign-out without a token is refused like any protected route', async () => {
    assertRefused(await request({ method: 'POST', url: '/auth/sign-out' }), /no credentials/);
  });

  test('a tampered token is refused: another address in the payload', async () => {
    const token = await signIn(request, Wallet.createRandom());
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.sub = Wallet.createRandom().address.toLowerCase();
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    assertRefused(await get('/auth/me', forged), /^Authentication required: bad signature\.$/);
  });

  test('a tampered token is refused: a later expiry', async () => {
    const token = await signIn(request, Wallet.createRandom());
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.exp += 3600;
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    assertRefused(await get('/auth/me', forged), /bad signature/);
  });

  test('a token signed with another secret is refused', async () => {
    const foreign = new SessionTokens(
      'another-secret-another-secret-another',
      config.AUTH_TOKEN_TTL,
      clock,
      app.get(RevokedSessions),
    );
    const { token } = foreign.issue(Wallet.createRandom().address);
    assertRefused(await get('/auth/me', token), /bad signature/);
  });

  test('an unsigned token ("alg": "none") is refused', async () => {
    const token = await signIn(request, Wallet.createRandom());
    const payload = token.split('.')[1];
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    assertRefused(await get('/auth/me', none), /malformed token/);
  });

  for (const [what, authorization] of [
    ['garbage', 'Bearer forged-token'],
    ['an empty bearer', 'Bearer '],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['an oversized token', `Bearer ${'a'.repeat(5000)}.b.c`],
  ] as const) {
    test(`${what} is refused as a malformed token`, async () => {
      const res = await request({ method: 'GET', url: '/auth/me', headers: { authorization } });
      assertRefused(res, /^Authentication required: malformed token/);
    });
  }

  test('an unknown route with a valid token is a plain 404, without one a 401', async () => {
    const token = await signIn(request, Wallet.createRandom());
    const res = await request({
      method: 'GET',
      url: '/no-such-route',
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
    assert.equal(res.statusCode, 404);
    assert.equal((await get('/no-such-route')).statusCode, 401);
  });
});

describe('roles: from the chain at request time, not from the token', () => {
  beforeEach(() => recorder.decisions.splice(0));

  test('the global guards run deny-by-default first, then roles', () => {
    const guards = (app as unknown as { config: ApplicationConfig }).config.getGlobalGuards();
    assert.deepEqual(
      guards.map((guard) => guard.constructor),
      [DenyByDefaultGuard, RolesGuard],
    );
  });

  test('@Roles: 403 without the role, recorded; 200 as soon as the role is granted; 403 once revoked', async () => {
    const wallet = Wallet.createRandom();
    const token = await signIn(request, wallet);

    const refused = await get('/probe/patients', token);
    assert.equal(refused.statusCode, 403);
    assert.deepEqual(refused.json(), {
      statusCode: 403,
      error: 'Forbidden',
      message: 'Forbidden: this route requires the provider role.',
    });
    assert.deepEqual(recorder.decisions, [
      {
        actor: wallet.address.toLowerCase(),
        resource: '/probe/patients',
        action: 'GET',
        outcome: 'denied',
        reason: 'this route requires the provider role',
        patient: null,
        purpose: null,
      },
    ]);

    directory.grant(wallet.address, 'provider');
    const allowed = await get('/probe/patients', token);
    assert.equal(allowed.statusCode, 200, allowed.body);
    assert.deepEqual(allowed.json(), { roles: ['provider'] });
    assert.deepEqual((await get('/auth/me', token)).json(), { address: wallet.address, roles: ['provider'] });

    directory.revoke(wallet.address, 'provider');
    assert.equal(
      (await get('/probe/patients', token)).statusCode,
      403,
      'a removed provider loses access at once',
    );
    assert.deepEqual((await get('/auth/me', token)).json().roles, []);
    assert.equal(recorder.decisions.length, 2);
  });

  test('@Roles with several roles: any one of them is enough, and the 403 names them all', async () => {
    const wallet = Wallet.createRandom();
    const token = await signIn(request, wallet);
    directory.grant(wallet.address, 'provider');
    const refused = await get('/probe/audit', token);
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().message, 'Forbidden: this route requires one of the roles auditor, admin.');
    directory.grant(wallet.address, 'admin');
    assert.equal((await get('/probe/audit', token)).statusCode, 200);
  });

  test('an anonymous call to a @Roles route is a 401 (not a 403), recorded as anonymous', async () => {
    assertRefused(await get('/probe/patients'), /no credentials/);
    assert.deepEqual(recorder.decisions, [
      {
        actor: 'anonymous',
        resource: '/probe/patients',
        action: 'GET',
        outcome: 'denied',
        reason: 'authentication required: no credentials were presented',
        patient: null,
        purpose: null,
      },
    ]);
  });

  test('@Roles on a @Public() route still requires signing in and the role', async () => {
    assertRefused(await get('/probe/public-but-admin'), /no credentials/);
    const wallet = Wallet.createRandom();
    const token = await signIn(request, wallet);
    assert.equal((await get('/probe/public-but-admin', token)).statusCode, 403);
    directory.grant(wallet.address, 'admin');
    assert.equal((await get('/probe/public-but-admin', token)).statusCode, 200);
  });

  test('every authenticated request gets its current roles on request.principal', async () => {
    const wallet = Wallet.createRandom();
    directory.grant(wallet.address, 'auditor');
    const token = await signIn(request, wallet);
    assert.deepEqual((await get('/probe/anyone', token)).json(), {
      address: wallet.address,
      roles: ['auditor'],
    });
    assert.deepEqual(recorder.decisions, []);
  });

  test('401s of the deny-by-default guard are recorded too', async () => {
    assertRefused(await get('/probe/anyone', 'forged-token'), /malformed token/);
    assert.equal(recorder.decisions.length, 1);
    assert.equal(recorder.decisions[0]?.actor, 'anonymous');
    assert.equal(recorder.decisions[0]?.resource, '/probe/anyone');
    assert.match(recorder.decisions[0]?.reason ?? '', /^authentication required: malformed token/);
  });
});

describe('with the default PUBLIC_URL (npm start)', () => {
  test('the domain carries the port, and signing in works', async () => {
    const booted = await boot({ PUBLIC_URL: '' });
    try {
      const nonce = (await booted.request({ method: 'POST', url: '/auth/nonce' })).json<NonceResponse>();
      assert.equal(nonce.domain, `127.0.0.1:${booted.config.PORT}`);
      assert.equal(nonce.uri, `http://127.0.0.1:${booted.config.PORT}`);
      const wallet = Wallet.createRandom();
      const token = await signIn(booted.request, wallet);
      assert.equal(
        (
          await booted.request({
            method: 'GET',
            url: '/auth/me',
            headers: { authorization: `Bearer ${token}` },
          })
        ).statusCode,
        200,
      );
    } finally {
      await booted.close();
    }
  });
});
