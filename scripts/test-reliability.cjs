#!/usr/bin/env node
// `npm run test:reliability`: every `test/reliability/*.reliability.ts` (crash, chain outage,
// concurrency, hostile input, soak, ...) with Node's own test runner, one file at a time: each runs the
// real API as a process of its own, with a real chain, and measures it, so they must not share the
// machine with each other. Node 20's `--test` takes no globs, so the files are listed here.
//
// The suites run the built API (dist/, as `npm start` does) when it is up to date, so it is built
// first when any of its sources is newer (set RELIABILITY_NO_BUILD=1 to skip: the suites then run the
// TypeScript entry through @swc-node/register, slower to start). The soak runs SOAK_MINUTES (default
// 1 here; `npm run soak` runs 10).
//
//   node scripts/test-reliability.cjs [suite ...] [--node-test-option ...]
//
// A suite is named by its file name without `.reliability.ts` (`soak`, `crash`); none: all of them.
// Arguments starting with `-` are passed to `node --test`.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const SUFFIX = '.reliability.ts';
const root = path.resolve(__dirname, '..');
const dir = path.join(root, 'test/reliability');
const args = process.argv.slice(2);
const nodeOptions = args.filter((arg) => arg.startsWith('-'));
const named = args.filter((arg) => !arg.startsWith('-'));
const suites = readdirSync(dir)
  .filter((name) => name.endsWith(SUFFIX))
  .map((name) => name.slice(0, -SUFFIX.length))
  .sort();
const unknown = named.filter((name) => !suites.includes(name));
if (unknown.length > 0) {
  console.error(`test-reliability: no suite ${unknown.join(', ')}; there are: ${suites.join(', ')}`);
  process.exit(2);
}
const files = suites
  .filter((name) => named.length === 0 || named.includes(name))
  .map((name) => path.join('test/reliability', name + SUFFIX));
if (files.length === 0) {
  console.error('test-reliability: no test/reliability/*.reliability.ts files found');
  process.exit(1);
}

/** Newest modification time of a file, or of any file under a folder (0 when it does not exist). */
function newest(target) {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(target, { withFileTypes: true })) {
    if (entry.name !== 'node_modules') latest = Math.max(latest, newest(path.join(target, entry.name)));
  }
  return latest;
}

const built = path.join(root, 'dist/apps/api/src/main.js');
const sources = ['apps/api/src', 'libs', 'tsconfig.base.json'].map((s) => newest(path.join(root, s)));
if (process.env.RELIABILITY_NO_BUILD !== '1' && Math.max(...sources) > newest(built)) {
  console.log('test-reliability: npm run build:api (the build is older than the sources)');
  const build = spawnSync('npm', ['run', '--silent', 'build:api'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const result = spawnSync(
  process.execPath,
  ['-r', '@swc-node/register', '--test', '--test-concurrency=1', ...nodeOptions, ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
