import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The package version, read from the package.json above this file (two levels up from
 * `src/cli/` when run from source, three from `dist/src/cli/`).
 */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'iptables-otel' && pkg.version) return (cached = pkg.version);
    } catch {
      // not here; keep walking up
    }
    dir = path.dirname(dir);
  }
  return (cached = 'unknown');
}
