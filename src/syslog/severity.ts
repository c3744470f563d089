/**
 * Syslog severity (0..7) -> OpenTelemetry SeverityNumber / SeverityText, per the OTel logs
 * data model, appendix B (the same table the Collector's syslog parser uses).
 */

// Indexed by syslog severity: emerg, alert, crit, err, warning, notice, info, debug.
const SEVERITY_NUMBERS: readonly number[] = [21, 19, 18, 17, 13, 10, 9, 5];
const SEVERITY_TEXTS: readonly string[] = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

/**
 * OTel SeverityNumber for a syslog severity 0..7 (emerg 21 FATAL, alert 19 ERROR3, crit 18 ERROR2,
 * err 17 ERROR, warning 13 WARN, notice 10 INFO2, info 9 INFO, debug 5 DEBUG).
 * Returns 0 (UNSPECIFIED) for anything outside 0..7.
 */
export function severityNumberOf(sev: number): number {
  return sev >= 0 && sev <= 7 && (sev | 0) === sev ? SEVERITY_NUMBERS[sev]! : 0;
}

/**
 * OTel SeverityText for a syslog severity 0..7: `emerg`, `alert`, `crit`, `err`, `warning`,
 * `notice`, `info`, `debug`. Returns '' for anything outside 0..7.
 */
export function severityTextOf(sev: number): string {
  return sev >= 0 && sev <= 7 && (sev | 0) === sev ? SEVERITY_TEXTS[sev]! : '';
}
