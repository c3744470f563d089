#!/usr/bin/env node
import { runCli } from './cli.js';
import { processIo } from './cli-io.js';

runCli(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
    // Normally every handle is closed by now; this only ends a process that a stray socket would keep alive.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`iptables-otel: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
