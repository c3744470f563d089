import { fileURLToPath } from 'node:url';
import path from 'node:path';

/**
 * The repository root (this file is test/helpers/paths.ts). IPTABLES_OTEL_REPO_ROOT overrides it
 * for a compiled copy of the helpers (`npm run golden` runs them from .tmp/golden-build/).
 */
export const repoRoot = process.env.IPTABLES_OTEL_REPO_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * `../shared` beside the clone: Elastic's fixtures and the peer captures. They are
 * read from there and never copied into the repo (Elastic licence).
 */
export const sharedDir = process.env.IPTABLES_OTEL_SHARED ?? path.resolve(repoRoot, '..', 'shared');
export const fixturesDir = path.join(sharedDir, 'fixtures');
