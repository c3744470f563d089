/**
 * `node dist/bench/profile-summary.js FILE.cpuprofile [RECORDS]`: print self time
 * per pipeline stage and the top functions of a `node --cpu-prof` profile
 * (µs per record when RECORDS is given).
 */
import { formatProfileSummary, summariseProfile } from './e2e/cpu-profile-summary.js';

const [file, records, top] = process.argv.slice(2);
if (!file) {
  console.error('usage: node dist/bench/profile-summary.js FILE.cpuprofile [RECORDS] [TOP_N]');
  process.exitCode = 2;
} else {
  console.log(formatProfileSummary(summariseProfile(file, Number(top ?? 30)), Number(records ?? 0)));
}
