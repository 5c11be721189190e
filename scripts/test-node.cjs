#!/usr/bin/env node
// Runs every `*.spec.ts` outside the Angular app and the contract suite with
// Node's own test runner; TypeScript (with decorator metadata, for NestJS) is
// compiled on the fly by @swc-node/register. Node 20's `--test` takes no globs,
// so the files are listed here. Extra arguments are passed to `node --test`.
const { spawnSync } = require('node:child_process');
const { readdirSync } = require('node:fs');
const path = require('node:path');

const ROOTS = ['apps/api', 'libs', 'test', 'bench'];
const SKIP = new Set(['node_modules', 'dist', 'contracts', 'typechain', 'web-angular']);

function specs(dir) {
  let found = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP.has(entry.name)) found = found.concat(specs(full));
    } else if (entry.name.endsWith('.spec.ts')) {
      found.push(full);
    }
  }
  return found;
}

const files = ROOTS.flatMap(specs).sort();
if (files.length === 0) {
  console.error('test-node: no *.spec.ts files found');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['-r', '@swc-node/register', '--test', '--test-concurrency=1', ...process.argv.slice(2), ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
