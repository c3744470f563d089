// Development only (not compiled to dist): lets a worker thread started from TypeScript
// source (vitest) load .ts modules. See worker-entry.ts.
import { register } from 'node:module';

register('./ts-source-hooks.mjs', import.meta.url);
