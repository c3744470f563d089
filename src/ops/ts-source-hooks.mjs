// Development only: module hooks that map `./x.js` imports of a .ts file to `./x.ts` and
// transpile .ts with the project's TypeScript (types stripped, no type check). Output is
// cached on disk by path, size and mtime, so later worker starts skip loading TypeScript.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const cacheDir = path.join(tmpdir(), 'iptables-otel-ts-worker-cache');
let ts;

export async function resolve(specifier, context, next) {
  const parent = context.parentURL;
  if (parent !== undefined && parent.endsWith('.ts') && specifier.startsWith('.') && specifier.endsWith('.js')) {
    const url = new URL(`${specifier.slice(0, -3)}.ts`, parent);
    if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const file = fileURLToPath(url);
    const st = statSync(file);
    const key = createHash('sha256').update(`${file}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 32);
    const cached = path.join(cacheDir, `${key}.js`);
    if (existsSync(cached)) return { format: 'module', source: readFileSync(cached, 'utf8'), shortCircuit: true };
    ts ??= (await import('typescript')).default;
    const out = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
        inlineSourceMap: true,
      },
    });
    try {
      mkdirSync(cacheDir, { recursive: true });
      const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
      writeFileSync(tmp, out.outputText);
      renameSync(tmp, cached);
    } catch {
      // A cache that cannot be written only costs time.
    }
    return { format: 'module', source: out.outputText, shortCircuit: true };
  }
  return next(url, context);
}
