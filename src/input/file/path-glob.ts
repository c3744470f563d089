import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** True when `segment` holds a wildcard (`*`, `?` or `[`). */
function isPattern(segment: string): boolean {
  return /[*?[]/.test(segment);
}

/**
 * A path segment pattern as a regular expression: `*` any run of characters but `/`, `?` one
 * character, `[abc]` / `[a-z]` / `[!a]` a class. A leading `.` must be matched literally (as in
 * the shell), so `*` does not pick up hidden files.
 */
export function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = close;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${segment.startsWith('.') ? '' : '(?!\\.)'}${re}$`);
}

/**
 * The regular files matching `pattern` (an absolute path whose segments may hold wildcards),
 * sorted. A pattern without wildcards yields itself when it exists as a file. Directories that
 * cannot be read yield nothing (the input retries at its next scan).
 */
export function expandPathGlob(pattern: string): string[] {
  const segments = pattern.split('/').filter((s) => s !== '');
  let bases = ['/'];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    const next: string[] = [];
    for (const base of bases) {
      if (!isPattern(seg)) {
        next.push(path.join(base, seg));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      const re = segmentRegExp(seg);
      for (const name of names) if (re.test(name)) next.push(path.join(base, name));
    }
    bases = last ? next : next.filter(isDirectory);
  }
  return bases.filter(isFile).sort();
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The directory to watch for a pattern: its longest leading part without wildcards. */
export function watchDirectoryOf(pattern: string): string {
  const segments = pattern.split('/').filter((s) => s !== '');
  const fixed: string[] = [];
  for (const seg of segments.slice(0, -1)) {
    if (isPattern(seg)) break;
    fixed.push(seg);
  }
  return '/' + fixed.join('/');
}
