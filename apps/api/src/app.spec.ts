// Boots the real AppModule on Fastify (no listening socket: requests are
// injected) and checks what a caller sees: health, deny by default, validation
// at the edge, and the web app with its SPA fallback.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Body, Controller, Get, Module, NotFoundException, Param, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsInt, IsString, Max, Min } from 'class-validator';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { AppModule } from './app.module';
import { createApp } from './bootstrap';
import { loadConfig } from './config/load-config';
import { startChainStub } from './testing/chain-stub';
import { Public } from './security/public.decorator';

const SECRET_RECORD = { patient: '0xpatient', diagnosis: 'canary-diagnosis' };

// Probe routes standing in for the routes later issues add.
class GreetingDto {
  @IsString()
  name!: string;

  @IsInt()
  @Min(1)
  @Max(10)
  times!: number;
}

@Controller('probe')
class ProbeController {
  @Get('records')
  records() {
    return SECRET_RECORD; // not public: must never be reached anonymously
  }

  @Public()
  @Post('greetings')
  greet(@Body() body: GreetingDto) {
    return { greeting: `hello ${body.name}`.repeat(body.times), typeOfTimes: typeof body.times };
  }

  @Public()
  @Get('things/:id')
  thing(@Param('id') id: string) {
    throw new NotFoundException(`No thing ${id}`);
  }
}

@Public()
@Controller('public-probe')
class PublicProbeController {
  @Get()
  hello() {
    return { hello: 'world' };
  }
}

let chain: Awaited<ReturnType<typeof startChainStub>> | undefined;
const dataDirs: string[] = [];
after(async () => {
  await chain?.close();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

async function boot(env: Record<string, string> = {}) {
  chain ??= await startChainStub();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-app-'));
  dataDirs.push(dataDir);
  const config = loadConfig({
    WEB_DIST_DIR: path.join(tmpdir(), 'custos-no-web-build'),
    CUSTOS_DATA_DIR: dataDir,
    CHAIN_RPC_URL: chain.url,
    ...env,
  });
  @Module({ imports: [AppModule.forRoot(config)], controllers: [ProbeController, PublicProbeController] })
  class ProbeRootModule {}
  const app = await createApp(config, { logger: false, rootModule: ProbeRootModule });
  await app.init();
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  await fastify.ready();
  const request = (options: InjectOptions) => fastify.inject(options);
  return { app, request };
}

describe('the API, booted from AppModule on Fastify', () => {
  let app: NestFastifyApplication;
  let request: Awaited<ReturnType<typeof boot>>['request'];
  before(async () => ({ app, request } = await boot()));
  after(() => app.close());

  test('GET /health answers 200 with status ok, the version and the uptime, without signing in', async () => {
    const res = await request({ method: 'GET', url: '/health' });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.status, 'ok');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof body.uptimeSeconds, 'number');
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  test('a route that is not marked public is refused with 401 and no data', async () => {
    const res = await request({ method: 'GET', url: '/probe/records' });
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), {
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Authentication required: no credentials were presented.',
    });
    assert.doesNotMatch(res.body, /canary-diagnosis/);
  });

  test('a forged token cannot open a protected route', async () => {
    const res = await request({
      method: 'GET',
      url: '/probe/records',
      headers: { authorization: 'Bearer forged-token' },
    });
    assert.equal(res.statusCode, 401);
    assert.match(res.json().message, /malformed token/);
    assert.doesNotMatch(res.body, /canary-diagnosis/);
  });

  test('an unknown route is denied like a protected one (401), so anonymous callers cannot map the API', async () => {
    for (const [method, url] of [
      ['GET', '/patients/me/consents'],
      ['POST', '/consents/grants'],
      ['DELETE', '/anything'],
      ['GET', '/'],
    ] as const) {
      const res = await request({ method, url, headers: { accept: 'application/json' } });
      assert.equal(res.statusCode, 401, `${method} ${url}`);
      assert.equal(res.json().error, 'Unauthorized');
    }
  });

  test('a public controller is reachable; marking the class is enough', async () => {
    const res = await request({ method: 'GET', url: '/public-probe' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { hello: 'world' });
  });

  test('a valid body passes validation and is converted to the declared types', async () => {
    const res = await request({
      method: 'POST',
      url: '/probe/greetings',
      payload: { name: 'Ada', times: 2 },
    });
    assert.equal(res.statusCode, 201);
    assert.deepEqual(res.json(), { greeting: 'hello Adahello Ada', typeOfTimes: 'number' });
  });

  test('a body with an unexpected field is refused with 400 naming the field', async () => {
    const res = await request({
      method: 'POST',
      url: '/probe/greetings',
      payload: { name: 'Ada', times: 1, isAdmin: true },
    });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().message, ['property isAdmin should not exist']);
  });

  test('a body with a wrong or missing field is refused with 400 naming the field', async () => {
    const res = await request({ method: 'POST', url: '/probe/greetings', payload: { times: 'many' } });
    assert.equal(res.statusCode, 400);
    const messages: string[] = res.json().message;
    assert.ok(
      messages.some((m) => m.startsWith('name ')),
      messages.join('; '),
    );
    assert.ok(
      messages.some((m) => m.startsWith('times ')),
      messages.join('; '),
    );
  });

  test('malformed JSON is a 400, not a crash', async () => {
    const res = await request({
      method: 'POST',
      url: '/probe/greetings',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    assert.equal(res.statusCode, 400);
  });

  test('a missing resource on a real route stays a 404 with its own message', async () => {
    const res = await request({ method: 'GET', url: '/probe/things/42' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().message, 'No thing 42');
  });
});

describe('request size limit', () => {
  test('a body larger than MAX_BODY_BYTES is refused with 413 before it reaches a handler', async () => {
    const { app, request } = await boot({ MAX_BODY_BYTES: '2048' });
    try {
      const res = await request({
        method: 'POST',
        url: '/probe/greetings',
        payload: { name: 'x'.repeat(4096), times: 1 },
      });
      assert.equal(res.statusCode, 413);
    } finally {
      await app.close();
    }
  });
});

describe('the web app', () => {
  let dir: string;
  let app: NestFastifyApplication;
  let request: Awaited<ReturnType<typeof boot>>['request'];
  const INDEX = '<!doctype html><html><body><app-root></app-root></body></html>';

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'custos-web-'));
    writeFileSync(path.join(dir, 'index.html'), INDEX);
    writeFileSync(path.join(dir, 'main-ABCD2345.js'), 'console.log("app")');
    ({ app, request } = await boot({ WEB_DIST_DIR: dir }));
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('is served at /', async () => {
    const res = await request({ method: 'GET', url: '/', headers: { accept: 'text/html' } });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.equal(res.body, INDEX);
  });

  test('its hashed bundles are served and cached for long', async () => {
    const res = await request({ method: 'GET', url: '/main-ABCD2345.js' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, 'console.log("app")');
    assert.match(String(res.headers['cache-control']), /immutable/);
  });

  test('a client-side route reloaded in the browser gets index.html (SPA fallback)', async () => {
    const res = await request({
      method: 'GET',
      url: '/patient/consents?tab=active',
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, INDEX);
    assert.equal(res.headers['cache-control'], 'no-cache');
  });

  test('an API call to an unknown route still gets 401 JSON, not the app', async () => {
    for (const options of [
      { method: 'GET', url: '/patients/me/consents', headers: { accept: 'application/json' } },
      { method: 'POST', url: '/patients/me/consents', headers: { accept: 'text/html' } },
      { method: 'GET', url: '/missing-chunk.js', headers: { accept: 'text/html' } },
    ] as const) {
      const res = await request(options);
      assert.equal(res.statusCode, 401, `${options.method} ${options.url}`);
      assert.equal(res.json().error, 'Unauthorized');
    }
  });

  test('API routes keep precedence over the web app', async () => {
    const health = await request({ method: 'GET', url: '/health', headers: { accept: 'text/html' } });
    assert.equal(health.json().status, 'ok');
    const records = await request({ method: 'GET', url: '/probe/records', headers: { accept: 'text/html' } });
    assert.equal(records.statusCode, 401);
  });

  test('files outside the build folder cannot be reached', async () => {
    const res = await request({ method: 'GET', url: '/../../package.json' });
    assert.notEqual(res.statusCode, 200);
    assert.doesNotMatch(res.body, /"name"/);
  });
});
