import { describe, expect, it } from 'vitest';
import { severityNumberOf, severityTextOf } from '../../../src/syslog/severity.js';
import { facilityNameOf } from '../../../src/syslog/facility.js';

describe('severity (OTel logs data model, appendix B)', () => {
  it.each([
    [0, 21, 'emerg'],
    [1, 19, 'alert'],
    [2, 18, 'crit'],
    [3, 17, 'err'],
    [4, 13, 'warning'],
    [5, 10, 'notice'],
    [6, 9, 'info'],
    [7, 5, 'debug'],
  ])('%i -> %i %s', (sev, number, text) => {
    expect(severityNumberOf(sev)).toBe(number);
    expect(severityTextOf(sev)).toBe(text);
  });

  it.each([-1, 8, 1.5, Number.NaN])('%s is unspecified', (sev) => {
    expect(severityNumberOf(sev)).toBe(0);
    expect(severityTextOf(sev)).toBe('');
  });
});

describe('facility names', () => {
  it('names kern, user, local7 and nothing outside 0..23', () => {
    expect(facilityNameOf(0)).toBe('kern');
    expect(facilityNameOf(1)).toBe('user');
    expect(facilityNameOf(20)).toBe('local4');
    expect(facilityNameOf(23)).toBe('local7');
    expect(facilityNameOf(24)).toBe('');
  });
});
