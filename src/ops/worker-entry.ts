/** The script a worker thread runs, and the node flags it needs. */
export interface WorkerEntry {
  url: URL;
  /** `execArgv` for the Worker; undefined = inherit the process's. */
  execArgv: string[] | undefined;
}

/**
 * The compiled worker script `NAME.js` next to the module at `here` (its `import.meta.url`).
 * When that module itself runs from TypeScript source (vitest transforms it; plain node cannot
 * load `.ts`), the worker runs `NAME.ts` through the small transpiling loader in
 * `ts-source-register.mjs`, so tests exercise the same source they import and need no build.
 */
export function workerEntry(here: string, name: string): WorkerEntry {
  if (here.endsWith('.ts')) {
    return { url: new URL(`./${name}.ts`, here), execArgv: ['--import', new URL('./ts-source-register.mjs', import.meta.url).href] };
  }
  return { url: new URL(`./${name}.js`, here), execArgv: undefined };
}
