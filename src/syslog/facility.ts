/** Syslog facility codes (RFC 5424 table 1) -> the keywords syslog daemons use (`kern`, `user`, ...). */

const FACILITY_NAMES: readonly string[] = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news',
  'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'security', 'console', 'solaris-cron',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
];

/**
 * Keyword for a syslog facility 0..23 (`kern`, `user`, ..., `local7`), e.g. for ECS
 * `log.syslog.facility.name`. Returns '' for anything outside 0..23.
 */
export function facilityNameOf(facility: number): string {
  return facility >= 0 && facility <= 23 && (facility | 0) === facility ? FACILITY_NAMES[facility]! : '';
}
