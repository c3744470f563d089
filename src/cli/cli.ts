import { HELP_TEXT, parseCliArgs, UsageError } from './cli-args.js';
import { checkConfigCommand } from './check-config-command.js';
import { elasticsearchCommand } from './elasticsearch-command.js';
import { runCommand } from './run-command.js';
import { packageVersion } from './version.js';
import type { CliIo } from './cli-io.js';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { runParseCommand } from './parse-command.js';
import { validateParseOptions } from '../mapping/parse-options.js';

/**
 * Runs the `iptables-otel` command line and resolves with the exit code
 * (0 ok, 1 runtime error / invalid config in check-config, 2 usage or configuration error;
 * setup/check elasticsearch add 4, 5, 6: see `ES_EXIT`).
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`iptables-otel: ${err.message}\nTry 'iptables-otel --help'.\n`);
    return 2;
  }
  switch (args.command) {
    case 'help':
      io.stdout.write(HELP_TEXT);
      return 0;
    case 'version':
      io.stdout.write(`iptables-otel ${packageVersion()}\n`);
      return 0;
    case 'check-config':
      return checkConfigCommand(args.configFile!, args.overrides, io);
    case 'parse': {
      let parser;
      try {
        parser = loadConfig({ ...(args.configFile !== undefined ? { file: args.configFile } : {}), env: io.env, checkFiles: false }).parser;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        io.stderr.write(`iptables-otel: configuration error:\n${err.message}\n`);
        return 2;
      }
      await runParseCommand(io.stdin, io.stdout, validateParseOptions(parser, 'parser'));
      return 0;
    }
    case 'setup-elasticsearch':
      return elasticsearchCommand('setup', args.configFile, args.elasticsearch ?? {}, io);
    case 'check-elasticsearch':
      return elasticsearchCommand('check', args.configFile, args.elasticsearch ?? {}, io);
    case 'run':
      return runCommand(args.configFile, args.overrides, io);
  }
}
