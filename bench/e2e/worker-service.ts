/**
 * Stand-in for `iptables-otel --workers N` until the CLI has the flag: the same
 * command line as `iptables-otel run` plus `--workers N`, started through
 * runWorkers() (src/workers.ts). Only the benchmark uses it; SIGHUP reload is not
 * handled here (the real CLI keeps its own handler in each worker).
 */
import { parseCliArgs } from '../../src/cli/cli-args.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/ops/logger.js';
import { startService } from '../../src/service.js';
import { runWorkers } from '../../src/workers.js';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let count = 1;
  const i = argv.indexOf('--workers');
  if (i >= 0) {
    count = Number(argv[i + 1]);
    argv.splice(i, 2);
  }
  const args = parseCliArgs(argv);
  const config = loadConfig({ ...(args.configFile !== undefined ? { file: args.configFile } : {}), overrides: args.overrides });
  const logger = createLogger({ level: config.logging.level });
  // Without a handler SIGHUP would kill a worker; the benchmark never reloads.
  process.on('SIGHUP', () => {});
  const handle = await runWorkers({ count, start: () => startService(config, { logger }), logger });
  return handle.done;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`worker-service: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
