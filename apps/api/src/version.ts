import { readFileSync } from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

/**
 * The product version: the "version" of the root package.json (name
 * "custos"), found by walking up from this file, so it works from the sources
 * (apps/api/src) and from the build (dist/apps/api/src) alike.
 */
export function appVersion(): string {
  if (cached !== undefined) return cached;
  let dir = __dirname;
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'custos' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // no package.json here; keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) return (cached = '0.0.0-unknown');
    dir = parent;
  }
}
