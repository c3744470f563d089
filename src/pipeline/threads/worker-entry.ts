import { workerEntry, type WorkerEntry } from '../../ops/worker-entry.js';

export type { WorkerEntry };

/** The pipeline worker's script (`pipeline-worker.js`, or its `.ts` source under vitest). */
export function pipelineWorkerEntry(): WorkerEntry {
  return workerEntry(import.meta.url, 'pipeline-worker');
}
