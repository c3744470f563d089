const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNIT: Record<string, number> = {
  '': 1,
  B: 1,
  k: 1024,
  K: 1024,
  KiB: 1024,
  KB: 1000,
  M: 1024 ** 2,
  MiB: 1024 ** 2,
  MB: 1000 ** 2,
  G: 1024 ** 3,
  GiB: 1024 ** 3,
  GB: 1000 ** 3,
};

/**
 * Milliseconds from a config duration: a number (already ms) or `500ms`, `10s`, `1.5m`, `1h`.
 * Returns undefined for anything else (the schema rejects those before this runs).
 */
export function parseDuration(value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_UNIT_MS[m[2]!]!);
}

/** Bytes from a config size: a number or `64KiB`, `8MiB`, `1GB` (KiB = 1024, KB = 1000, K = 1024). */
export function parseSize(value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|k|K|KB|KiB|M|MB|MiB|G|GB|GiB)?\s*$/.exec(value);
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * SIZE_UNIT[m[2] ?? '']!);
}
