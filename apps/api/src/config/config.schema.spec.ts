import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Wallet } from 'ethers';
import {
  CONFIG_VARIABLES,
  DEVELOPMENT_RELAYER_KEY,
  durationInWords,
  PRODUCTION_REQUIRED_VARIABLES,
  SECRET_VARIABLES,
} from './config.schema';
import { ConfigError, describeConfig, loadConfig } from './load-config';

/** A complete, valid production environment (throwaway values). */
function productionEnv() {
  return {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://custos.example',
    EVENTSTORE_URL: 'esdb://eventstore:2113?tls=false',
    MONGODB_URI: 'mongodb://app:mongo-password@mongo:27017/custos?replicaSet=rs0',
    CHAIN_RPC_URL: 'https://rpc.example/v2/provider-api-key',
    CHAIN_ID: '8453',
    CONTRACT_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    RELAYER_PRIVATE_KEY: Wallet.createRandom().privateKey,
    AUTH_TOKEN_SECRET: 'x'.repeat(48),
  };
}

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

describe('configuration defaults: npm start runs on one machine with no settings', () => {
  test('an empty environment gives the embedded setup', () => {
    const config = loadConfig({});
    assert.equal(config.NODE_ENV, 'development');
    assert.equal(config.HOST, '127.0.0.1', 'binds to loopback unless told otherwise');
    assert.equal(config.PORT, 3000);
    assert.equal(config.PUBLIC_URL, 'http://127.0.0.1:3000');
    assert.equal(config.CUSTOS_DATA_DIR, './data');
    assert.equal(config.EVENTSTORE_URL, undefined, 'SQLite event store');
    assert.equal(config.MONGODB_URI, undefined, 'SQLite read models');
    assert.equal(config.IPFS_API_URL, undefined, 'file blob store');
    assert.equal(config.CHAIN_RPC_URL, 'http://127.0.0.1:8545');
    assert.equal(config.CHAIN_ID, 31337);
    assert.equal(config.CHAIN_CONFIRMATIONS, 1);
    assert.equal(config.AUDIT_ANCHOR_INTERVAL, 60_000);
    assert.equal(config.RELAYER_PRIVATE_KEY, DEVELOPMENT_RELAYER_KEY);
    assert.equal(config.trtc, undefined, 'built-in WebRTC');
    assert.deepEqual(config.ICE_SERVERS, []);
    assert.deepEqual(config.CORS_ORIGIN, []);
    assert.equal(config.CUSTOS_DEMO, false);
    assert.equal(config.WEB_DIST_DIR, 'dist/web-angular/browser');
  });

  test("the development relayer key is anvil's account #0", () => {
    assert.equal(new Wallet(DEVELOPMENT_RELAYER_KEY).address, '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
  });

  test('PORT moves the default public URL along, so two instances can run side by side', () => {
    const config = loadConfig({ PORT: '3100', CUSTOS_DATA_DIR: './data-b' });
    assert.equal(config.PORT, 3100);
    assert.equal(config.PUBLIC_URL, 'http://127.0.0.1:3100');
    assert.equal(config.CUSTOS_DATA_DIR, './data-b');
  });

  test('an empty value means the default (VAR= in a .env file)', () => {
    assert.deepEqual(loadConfig({ PORT: '', CHAIN_RPC_URL: ' ', RELAYER_PRIVATE_KEY: '' }), loadConfig({}));
  });

  test('values are parsed into their types', () => {
    const config = loadConfig({
      AUDIT_ANCHOR_INTERVAL: '5m',
      AUTH_TOKEN_TTL: '900',
      CHAIN_POLL_INTERVAL: '250ms',
      TRUST_PROXY: 'yes',
      CORS_ORIGIN: 'http://localhost:4200, https://custos.example/',
      ICE_SERVERS:
        '[{"urls":["stun:stun.example.org:3478"]},{"urls":"turn:turn.example.org","username":"u","credential":"c"}]',
      TRTC_SDK_APP_ID: '1400000000',
      TRTC_SECRET_KEY: 'trtc-secret',
      CONTRACT_ADDRESS: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
    });
    assert.equal(config.AUDIT_ANCHOR_INTERVAL, 300_000);
    assert.equal(config.AUTH_TOKEN_TTL, 900_000, 'a bare number is seconds');
    assert.equal(config.CHAIN_POLL_INTERVAL, 250);
    assert.equal(config.TRUST_PROXY, true);
    assert.deepEqual(config.CORS_ORIGIN, ['http://localhost:4200', 'https://custos.example']);
    assert.equal(config.ICE_SERVERS.length, 2);
    assert.deepEqual(config.trtc, { sdkAppId: 1400000000, secretKey: 'trtc-secret' });
    assert.equal(config.CONTRACT_ADDRESS, '0x5FbDB2315678afecb367f032d93F642f64180aa3', 'checksummed');
  });

  test('the configuration cannot be changed once loaded', () => {
    const config = loadConfig({});
    assert.throws(() => {
      (config as { PORT: number }).PORT = 1;
    }, TypeError);
  });
});

describe('bad values stop the API with a message naming the variable', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'a port that is not a number',
      { PORT: 'abc' },
      /PORT must be a whole number between 0 and 65535 \(got "abc"\)/,
    ],
    ['a port out of range', { PORT: '70000' }, /PORT must be at most 65535/],
    [
      'an RPC URL that is not a URL',
      { CHAIN_RPC_URL: 'localhost:8545' },
      /CHAIN_RPC_URL must be a URL starting with http:\/\//,
    ],
    [
      'a MongoDB URI with the wrong scheme',
      { MONGODB_URI: 'http://mongo:27017' },
      /MONGODB_URI must be a URL starting with mongodb:\/\//,
    ],
    [
      'an event store URL with the wrong scheme',
      { EVENTSTORE_URL: 'http://es:2113' },
      /EVENTSTORE_URL must be a URL starting with esdb:\/\//,
    ],
    [
      'a contract address of the wrong length',
      { CONTRACT_ADDRESS: '0x1234' },
      /CONTRACT_ADDRESS must be a 0x-prefixed 20-byte hex address/,
    ],
    [
      'a contract address with a wrong checksum',
      { CONTRACT_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180AA3' },
      /CONTRACT_ADDRESS must be/,
    ],
    [
      'a relayer key that is not a key',
      { RELAYER_PRIVATE_KEY: '0xnot-a-key' },
      /RELAYER_PRIVATE_KEY must be a 0x-prefixed 32-byte hex private key/,
    ],
    ['an unknown mode', { NODE_ENV: 'prod' }, /NODE_ENV must be one of development, test, production/],
    [
      'a duration without a unit it knows',
      { AUDIT_ANCHOR_INTERVAL: '1 day' },
      /AUDIT_ANCHOR_INTERVAL must be a duration/,
    ],
    ['a yes/no setting that is neither', { TRUST_PROXY: 'maybe' }, /TRUST_PROXY must be true or false/],
    [
      'a CORS origin with a path',
      { CORS_ORIGIN: 'https://custos.example/app' },
      /CORS_ORIGIN must be a comma-separated list of origins/,
    ],
    ['ICE servers that are not JSON', { ICE_SERVERS: 'stun:stun.example.org' }, /ICE_SERVERS must be JSON/],
    [
      'a short token secret',
      { AUTH_TOKEN_SECRET: 'too-short' },
      /AUTH_TOKEN_SECRET must be at least 32 characters/,
    ],
    [
      'half of the TRTC settings',
      { TRTC_SDK_APP_ID: '1400000000' },
      /TRTC_SECRET_KEY must be set together with the other TRTC_\* setting/,
    ],
    [
      'a rate-limit window of zero (no limit at all)',
      { RATE_LIMIT_WINDOW: '0' },
      /RATE_LIMIT_WINDOW must be longer than 0/,
    ],
    ['a rate limit of zero', { RATE_LIMIT_RELAY: '0' }, /RATE_LIMIT_RELAY must be at least 1/],
    [
      'a record size over the protocol limit',
      { RECORD_MAX_BYTES: String(25 * 1024 * 1024 + 1) },
      /RECORD_MAX_BYTES must be at most 26214400/,
    ],
  ];
  for (const [what, env, message] of cases) {
    test(`${what} is refused`, () => {
      assert.match(configError(env).message, message);
    });
  }

  test('every problem is reported at once, not one per restart', () => {
    const error = configError({ PORT: 'abc', CHAIN_RPC_URL: 'nope', LOG_LEVEL: 'loud' });
    assert.deepEqual(error.problems.map((p) => p.variable).sort(), ['CHAIN_RPC_URL', 'LOG_LEVEL', 'PORT']);
    assert.match(error.message, /^Invalid configuration \(3 problems\):/);
  });

  test('a secret is never echoed in the error', () => {
    const error = configError({
      AUTH_TOKEN_SECRET: 'canary-secret-1234',
      TRTC_SDK_APP_ID: 'x',
      TRTC_SECRET_KEY: 'trtc-canary',
    });
    assert.match(error.message, /AUTH_TOKEN_SECRET/);
    assert.doesNotMatch(error.message, /canary-secret-1234|trtc-canary/);
    const rpc = configError({ CHAIN_RPC_URL: 'rpc.example/v2/provider-api-key' });
    assert.doesNotMatch(rpc.message, /provider-api-key/, 'RPC URLs carry API keys');
  });
});

test('durations in messages are said in the largest whole unit, singular for one', () => {
  const words = (value: string) =>
    durationInWords(loadConfig({ UPLOADS_UNCLAIMED_FOR: value }).UPLOADS_UNCLAIMED_FOR);
  assert.equal(words('1h'), '1 hour');
  assert.equal(words('24h'), '24 hours');
  assert.equal(words('90m'), '90 minutes');
  assert.equal(words('60m'), '1 hour');
  assert.equal(words('45'), '45 seconds');
  assert.equal(words('1500ms'), '1500 milliseconds');
});

describe('production mode requires explicit settings', () => {
  test('a complete production environment is accepted', () => {
    const config = loadConfig(productionEnv());
    assert.equal(config.NODE_ENV, 'production');
    assert.equal(config.CHAIN_ID, 8453);
  });

  test('the variables required in production are the stores, the chain, the keys and the public URL', () => {
    assert.deepEqual([...PRODUCTION_REQUIRED_VARIABLES].sort(), [
      'AUTH_TOKEN_SECRET',
      'CHAIN_ID',
      'CHAIN_RPC_URL',
      'CONTRACT_ADDRESS',
      'EVENTSTORE_URL',
      'MONGODB_URI',
      'PUBLIC_URL',
      'RELAYER_PRIVATE_KEY',
    ]);
  });

  for (const name of PRODUCTION_REQUIRED_VARIABLES) {
    test(`production without ${name} fails, naming it`, () => {
      const env: Record<string, string> = productionEnv();
      delete env[name];
      const error = configError(env);
      assert.deepEqual(
        error.problems.map((p) => p.variable),
        [name],
      );
      assert.match(error.message, new RegExp(`${name} is required when NODE_ENV=production`));
    });
  }

  test('production refuses the publicly known development relayer key, even when given explicitly', () => {
    const error = configError({ ...productionEnv(), RELAYER_PRIVATE_KEY: DEVELOPMENT_RELAYER_KEY });
    assert.match(error.message, /RELAYER_PRIVATE_KEY is a publicly known development key/);
    assert.doesNotMatch(error.message, new RegExp(DEVELOPMENT_RELAYER_KEY.slice(2)));
  });

  test('production refuses demo mode', () => {
    assert.match(
      configError({ ...productionEnv(), CUSTOS_DEMO: 'true' }).message,
      /CUSTOS_DEMO must be false/,
    );
  });
});

describe('the startup summary hides secrets', () => {
  test('secret values and URL credentials, paths and queries never appear', () => {
    const env = { ...productionEnv(), TRTC_SDK_APP_ID: '1400000000', TRTC_SECRET_KEY: 'trtc-canary' };
    const summary = JSON.stringify(describeConfig(loadConfig(env)));
    for (const secret of [
      env.RELAYER_PRIVATE_KEY,
      env.RELAYER_PRIVATE_KEY.slice(2),
      env.AUTH_TOKEN_SECRET,
      'trtc-canary',
      'mongo-password',
      'provider-api-key',
    ]) {
      assert.ok(!summary.includes(secret), `the summary leaks ${secret.slice(0, 12)}…`);
    }
    assert.match(summary, /"MONGODB_URI":"mongodb:\/\/mongo:27017"/);
    assert.match(summary, /"PORT":"3000"/);
  });

  test('every secret variable is marked, so the summary and the errors know to hide it', () => {
    for (const name of [
      'RELAYER_PRIVATE_KEY',
      'AUTH_TOKEN_SECRET',
      'TRTC_SECRET_KEY',
      'MONGODB_URI',
      'EVENTSTORE_URL',
    ]) {
      assert.ok(SECRET_VARIABLES.has(name as never), `${name} should be secret`);
    }
    assert.ok(CONFIG_VARIABLES.every((v) => v.description.length > 0 && !v.description.includes('\n')));
  });
});
