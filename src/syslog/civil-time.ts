/**
 * Proleptic Gregorian calendar arithmetic on plain numbers, so the hot path never builds a
 * Date or parses a date string (Howard Hinnant's days_from_civil / civil_from_days).
 */

/** Days since 1970-01-01 for a calendar date (month 1..12; day may overflow into the next month). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Calendar year of a day count since 1970-01-01. */
export function yearOfEpochDay(days: number): number {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const y = yoe + era * 400;
  return mp >= 10 ? y + 1 : y;
}

/** Seconds since the epoch for a wall-clock time read as if it were UTC. */
export function civilToEpochSeconds(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number {
  return daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}
