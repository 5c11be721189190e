// docker-compose.yml starts the production-like stack. Docker does not run on
// the project's machines, so this suite checks the file against the API's
// configuration schema: the api service gets every setting production
// requires, the stack waits for healthy stores, and nothing listens publicly.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Wallet } from 'ethers';
import { parse } from 'yaml';
import {
  CONFIG_VARIABLES,
  PRODUCTION_REQUIRED_VARIABLES,
  SECRET_VARIABLES,
  type ConfigVariableName,
} from '../../apps/api/src/config/config.schema';
import { loadConfig } from '../../apps/api/src/config/load-config';

const ROOT = path.resolve(__dirname, '../..');

interface Service {
  image?: string;
  build?: { context?: string; dockerfile?: string } | string;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  ports?: (string | { published?: string | number; host_ip?: string })[];
}

const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const services = compose.services;
const api = services.api!;

function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const at = entry.indexOf('=');
        return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/**
 * What the api container would see: ${VAR:-default} becomes its default,
 * ${VAR:?message} (a value the operator must give) becomes `given[VAR]`.
 */
function interpolate(value: string, given: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}/g,
    (_, name: string, op?: string, rest?: string) => {
      if (op?.endsWith('?')) {
        assert.ok(name in given, `the test has no value for required ${name}`);
        return given[name]!;
      }
      return op?.endsWith('-') ? (rest ?? '') : '';
    },
  );
}

const apiEnv = environmentOf(api);
const operatorValues: Record<string, string> = {
  CONTRACT_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  RELAYER_PRIVATE_KEY: Wallet.createRandom().privateKey,
  AUTH_TOKEN_SECRET: 'compose-test-secret-'.padEnd(48, 'x'),
};

describe('docker-compose.yml: the api service', () => {
  test('runs in production mode', () => {
    assert.equal(apiEnv.NODE_ENV, 'production');
  });

  test('sets every variable the configuration requires in production', () => {
    for (const name of PRODUCTION_REQUIRED_VARIABLES) {
      assert.ok(name in apiEnv, `api.environment lacks ${name}`);
      assert.notEqual(
        interpolate(apiEnv[name]!, operatorValues).trim(),
        '',
        `api.environment.${name} is empty`,
      );
    }
  });

  test('takes secrets from the operator and refuses to start without them (${VAR:?...})', () => {
    for (const name of PRODUCTION_REQUIRED_VARIABLES.filter((n) => SECRET_VARIABLES.has(n))) {
      const value = apiEnv[name]!;
      if (['EVENTSTORE_URL', 'MONGODB_URI', 'CHAIN_RPC_URL'].includes(name)) continue; // in-stack services, no credentials
      assert.match(
        value,
        new RegExp(`^\\$\\{${name}:\\?.+\\}$`),
        `${name} must be \${${name}:?message}, not a literal`,
      );
    }
  });

  test('sets only variables the API reads (no typos)', () => {
    const known = new Set<string>(CONFIG_VARIABLES.map((v) => v.name));
    const unknown = Object.keys(apiEnv).filter((name) => !known.has(name));
    assert.deepEqual(unknown, []);
  });

  test('its environment is a valid production configuration once the operator gives the secrets', () => {
    const env = Object.fromEntries(
      Object.entries(apiEnv).map(([k, v]) => [k, interpolate(v, operatorValues)]),
    );
    const config = loadConfig(env);
    assert.equal(config.NODE_ENV, 'production');
    assert.equal(config.HOST, '0.0.0.0', 'must listen on the container network');
    assert.ok(config.EVENTSTORE_URL && config.MONGODB_URI, 'uses the production adapters');
  });

  test('waits for every store it connects to to be healthy', () => {
    const hosts = (['EVENTSTORE_URL', 'MONGODB_URI', 'CHAIN_RPC_URL'] satisfies ConfigVariableName[]).map(
      (name) => new URL(apiEnv[name]!).hostname,
    );
    assert.deepEqual(hosts.sort(), ['chain', 'eventstore', 'mongo']);
    const dependsOn = api.depends_on;
    assert.ok(dependsOn && !Array.isArray(dependsOn), 'depends_on must use the long form with conditions');
    for (const host of hosts) {
      assert.ok(services[host], `no service named ${host}`);
      assert.equal(dependsOn[host]?.condition, 'service_healthy', `api must wait for ${host} to be healthy`);
    }
  });

  test('is built from apps/api/Dockerfile, which runs the built API', () => {
    const build = api.build;
    assert.ok(build && typeof build === 'object', 'api.build must name the Dockerfile');
    assert.equal(build.dockerfile, 'apps/api/Dockerfile');
    const dockerfile = readFileSync(path.join(ROOT, build.context ?? '.', build.dockerfile), 'utf8');
    assert.match(dockerfile, /^FROM node:20|^ARG NODE_IMAGE=node:20/m);
    assert.match(dockerfile, /npm run build:api/);
    assert.match(dockerfile, /dist\/apps\/api\/src\/main\.js/);
    assert.match(dockerfile, /^USER node$/m, 'the API must not run as root');
  });
});

describe('docker-compose.yml: the stack', () => {
  test('has the event store, MongoDB, the chain node and the API', () => {
    assert.match(services.eventstore?.image ?? '', /kurrentdb|eventstore/);
    assert.match(services.mongo?.image ?? '', /^mongo:/);
    assert.match(services.chain?.image ?? '', /foundry/);
    assert.ok(services.api);
  });

  test('every service has a healthcheck', () => {
    for (const [name, service] of Object.entries(services)) {
      assert.ok(service.healthcheck?.test && !service.healthcheck.disable, `${name} has no healthcheck`);
    }
  });

  test('MongoDB is a replica set (the read-model adapter needs transactions and change streams)', () => {
    const command = [services.mongo!.command].flat().join(' ');
    assert.match(command, /--replSet rs0/);
    assert.match([services.mongo!.healthcheck!.test].flat().join(' '), /rs\.initiate/);
    assert.match(apiEnv.MONGODB_URI!, /replicaSet=rs0/);
  });

  test('the chain keeps its state across restarts', () => {
    const command = [services.chain!.command].flat().join(' ');
    assert.match(command, /anvil .*--host 0\.0\.0\.0/);
    assert.match(command, /--state \/data\/state\.json/);
    assert.equal(new URL(apiEnv.CHAIN_RPC_URL!).port, '8545');
    assert.match(command, new RegExp(`--chain-id ${apiEnv.CHAIN_ID}\\b`), 'CHAIN_ID must match the node');
  });

  test('published ports listen on 127.0.0.1 only', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        const hostIp =
          typeof port === 'string' ? port.split(':').length === 3 && port.split(':')[0] : port.host_ip;
        assert.equal(hostIp, '127.0.0.1', `${name} publishes ${JSON.stringify(port)} on every interface`);
      }
    }
  });
});
