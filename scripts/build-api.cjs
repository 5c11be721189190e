#!/usr/bin/env node
// Builds the API for `node dist/apps/api/src/main.js`: compiles apps/api/src and
// libs/*/src with @swc/core (no type check: `npm run typecheck` does that) into
// dist/, keeping the source layout, as CommonJS with legacy decorators and
// decorator metadata (NestJS dependency injection needs both), class names kept
// and source maps. The import aliases of tsconfig.base.json (@custos/domain,
// @custos/chain) are rewritten to relative paths. JSON files next to the
// sources are copied. Specs are left out.
'use strict';
const {
  readdirSync,
  readFileSync,
  rmSync,
  mkdirSync,
  writeFileSync,
  copyFileSync,
  existsSync,
} = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'dist');
const SKIP_DIRS = new Set(['node_modules', 'dist']);

function sourceRoots() {
  const roots = [path.join(ROOT, 'apps/api/src')];
  const libs = path.join(ROOT, 'libs');
  if (existsSync(libs)) {
    for (const entry of readdirSync(libs, { withFileTypes: true })) {
      const src = path.join(libs, entry.name, 'src');
      if (entry.isDirectory() && existsSync(src)) roots.push(src);
    }
  }
  return roots;
}

function walk(dir, files = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) walk(full, files);
    } else if (/\.(spec|test)\.ts$/.test(entry.name) || entry.name.endsWith('.d.ts')) {
      continue;
    } else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) {
      files.push(full);
    }
  }
  return files;
}

/** tsconfig.base.json's paths, so a new alias needs no change here. */
function aliasPaths() {
  // tsconfig allows comments and trailing commas; ours has neither, but be lenient with comments.
  const text = readFileSync(path.join(ROOT, 'tsconfig.base.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '');
  return JSON.parse(text).compilerOptions.paths ?? {};
}

function swcOptions(file, paths) {
  return {
    filename: file,
    root: ROOT,
    sourceMaps: true,
    sourceFileName: path.relative(path.dirname(outputPath(file)), file),
    swcrc: false,
    configFile: false,
    module: { type: 'commonjs', strictMode: true },
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
      baseUrl: ROOT,
      paths,
    },
  };
}

function outputPath(file) {
  const rel = path.relative(ROOT, file);
  return path.join(OUT, rel.replace(/\.ts$/, '.js'));
}

async function main() {
  const started = process.hrtime.bigint();
  const roots = sourceRoots();
  if (!existsSync(roots[0])) throw new Error(`build-api: ${path.relative(ROOT, roots[0])} does not exist`);
  const files = roots.flatMap((root) => walk(root));
  const paths = aliasPaths();

  // Only what this script owns: dist/web-angular belongs to the web build.
  rmSync(path.join(OUT, 'apps/api'), { recursive: true, force: true });
  rmSync(path.join(OUT, 'libs'), { recursive: true, force: true });

  let compiled = 0;
  await Promise.all(
    files.map(async (file) => {
      const out = outputPath(file);
      mkdirSync(path.dirname(out), { recursive: true });
      if (file.endsWith('.json')) {
        copyFileSync(file, out.replace(/\.js$/, ''));
        return;
      }
      const { code, map } = await swc.transformFile(file, swcOptions(file, paths));
      writeFileSync(out, `${code}\n//# sourceMappingURL=${path.basename(out)}.map\n`);
      if (map) writeFileSync(`${out}.map`, map);
      compiled += 1;
    }),
  );

  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(
    `build-api: compiled ${compiled} files from ${roots.map((r) => path.relative(ROOT, r)).join(', ')} ` +
      `into dist/ in ${ms.toFixed(0)} ms; run: node dist/apps/api/src/main.js`,
  );
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
