import { ConfigError, loadConfig, type ConfigOverrides } from '../config/load-config.js';
import { createLogger } from '../ops/logger.js';
import { startService, type Service } from '../service.js';
import { packageVersion } from './version.js';
import type { CliIo } from './cli-io.js';

/**
 * `iptables-otel run`: loads the configuration, starts the service and runs until SIGTERM or
 * SIGINT (drain, flush, exit 0; a second signal exits at once with 130). SIGHUP reloads the
 * config file; a bad file is logged and the running configuration stays. Resolves with the
 * exit code: 0 after a clean stop (what was not delivered stays in the spool), 1 when the
 * service cannot start, 2 for configuration errors, 3 when records were lost at the stop
 * (spool off, outputs did not take them by the deadline).
 */
export async function runCommand(configFile: string | undefined, overrides: ConfigOverrides, io: CliIo): Promise<number> {
  let config;
  try {
    config = loadConfig({ ...(configFile !== undefined ? { file: configFile } : {}), overrides, env: io.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`iptables-otel: configuration error:\n${err.message}\n`);
    return 2;
  }
  const logger = createLogger({ level: config.logging.level, destination: io.stderr });
  logger.info('starting iptables-otel', { version: packageVersion(), node: process.version, pid: process.pid, config: configFile ?? '(none: defaults)' });

  let service: Service;
  try {
    service = await startService(config, { logger });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'EADDRINUSE' ? ' (another process uses that address)' : e.code === 'EACCES' ? ' (ports below 1024 need CAP_NET_BIND_SERVICE)' : '';
    logger.error(`could not start: ${e.message}${hint}`, { err });
    return 1;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onStop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn('second signal: exiting without waiting for the queue to drain', { signal });
        process.exit(130);
      }
      stopping = true;
      logger.info('received signal; shutting down', { signal });
      service.stop().then(
        // Records lost (the spool was off and the outputs did not take them in time): say so in the exit code.
        (r) => finish(r.undelivered > 0 ? 3 : 0),
        (err: unknown) => {
          logger.error('shutdown failed', { err });
          finish(1);
        },
      );
    };
    const onHup = (): void => {
      if (stopping) return;
      if (configFile === undefined) {
        logger.warn('SIGHUP: there is no config file to reload (started without --config)');
        return;
      }
      logger.info('SIGHUP: reloading the configuration', { config: configFile });
      let next;
      try {
        next = loadConfig({ file: configFile, overrides, env: io.env });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        logger.error('the new configuration is invalid; keeping the running one', { errors: err.message.split('\n') });
        return;
      }
      service.reload(next).catch((err: unknown) => logger.error('reload failed part-way; restart the service to apply the new configuration', { err }));
    };
    const finish = (code: number): void => {
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      process.off('SIGHUP', onHup);
      resolve(code);
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    process.on('SIGHUP', onHup);
  });
}
