import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Name and version of this package, for service.version, the scope and the User-Agent. */
export interface PackageInfo {
  name: string;
  version: string;
}

let cached: PackageInfo | undefined;

/**
 * Reads our package.json once. It is found by walking up from this module, because
 * the module sits at a different depth under src/ (tests) and dist/src/ (built).
 */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'iptables-otel') {
        cached = { name: pkg.name, version: pkg.version ?? '0.0.0' };
        return cached;
      }
    } catch {
      // No package.json at this level: keep walking up.
    }
    dir = path.dirname(dir);
  }
  cached = { name: 'iptables-otel', version: '0.0.0' };
  return cached;
}
