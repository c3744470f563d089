import { ConfigError, formatConfigIssue } from '../../src/config/load-config.js';

/** The formatted issues (`file:line: key: message`) of the ConfigError that `fn` throws; fails if it throws none. */
export function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map(formatConfigIssue);
    throw err;
  }
  throw new Error('expected a ConfigError');
}
