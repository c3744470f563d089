/** The script a pipeline worker thread runs, and the node flags it needs. */
export interface WorkerEntry {
  url: URL;
  /** `execArgv` for the Worker; undefined = inherit the process's. */
  execArgv: string[] | undefined;
}

/**
 * The compiled `pipeline-worker.js` next to this module. When this module itself runs from
 * TypeScript source (vitest transforms it; plain node cannot load `.ts`), the worker runs
 * `pipeline-worker.ts` through the small transpiling loader in `ts-source-register.mjs`,
 * so tests exercise the same source they import and need no build.
 */
export function pipelineWorkerEntry(): WorkerEntry {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    return { url: new URL('./pipeline-worker.ts', here), execArgv: ['--import', new URL('./ts-source-register.mjs', here).href] };
  }
  return { url: new URL('./pipeline-worker.js', here), execArgv: undefined };
}
