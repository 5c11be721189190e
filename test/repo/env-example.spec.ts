// .env.example is the settings reference users copy: it must list exactly the
// variables the API's configuration schema reads, each with a comment, and the
// values it shows must be the embedded defaults.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseEnv } from 'node:util';
import { CONFIG_VARIABLES } from '../../apps/api/src/config/config.schema';
import { loadConfig } from '../../apps/api/src/config/load-config';

const ROOT = path.resolve(__dirname, '../..');
const text = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
const lines = text.split('\n');
const assignments = lines
  .map((line, index) => ({ line, index, match: /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line) }))
  .filter((entry) => entry.match !== null);
const documented = assignments.map((entry) => entry.match![1]!);
const schemaNames = CONFIG_VARIABLES.map((v) => v.name as string);

test('every variable the configuration schema reads is in .env.example', () => {
  const missing = schemaNames.filter((name) => !documented.includes(name));
  assert.deepEqual(missing, [], `add to .env.example: ${missing.join(', ')}`);
});

test('.env.example documents no variable the API does not read', () => {
  const unknown = documented.filter((name) => !schemaNames.includes(name));
  assert.deepEqual(unknown, [], `not read by the config schema: ${unknown.join(', ')}`);
});

test('each variable appears once, with a comment line right above it', () => {
  assert.equal(new Set(documented).size, documented.length, 'a variable is listed twice');
  for (const { index, match } of assignments) {
    const comment = lines[index - 1] ?? '';
    assert.match(comment, /^# \S.{10,}/, `${match![1]} needs a one-line comment above it`);
  }
});

test('the comment says which variables production requires and which are secrets', () => {
  for (const variable of CONFIG_VARIABLES) {
    const entry = assignments.find((a) => a.match![1] === variable.name)!;
    const comment = lines[entry.index - 1] ?? '';
    assert.equal(comment.includes('[required in production]'), variable.requiredInProduction, variable.name);
    assert.equal(comment.includes('[secret]'), variable.secret, variable.name);
  }
});

test('copying .env.example to .env changes nothing: its values are the embedded defaults', () => {
  assert.deepEqual(loadConfig(parseEnv(text)), loadConfig({}));
});

test('.env.example holds no secret value', () => {
  const values = parseEnv(text);
  for (const variable of CONFIG_VARIABLES.filter((v) => v.secret)) {
    const value = values[variable.name] ?? '';
    const harmless = value === '' || value === variable.default;
    assert.ok(harmless, `${variable.name} must be empty (or its public default) in .env.example`);
  }
});
