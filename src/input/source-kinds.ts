import { kmsgInputKind } from './kmsg/kmsg-input-kind.js';
import { journaldInputKind } from './journald/journald-input-kind.js';
import { fileInputKind } from './file/file-input-kind.js';
import type { SourceInputKind } from './source-input.js';

/**
 * The kinds of source input (local, durable sources with checkpoints), by config key and URL
 * scheme. Config loading, the `--input` flag and the service dispatch through this list.
 */
export const SOURCE_INPUT_KINDS: readonly SourceInputKind[] = [
  kmsgInputKind as unknown as SourceInputKind,
  journaldInputKind as unknown as SourceInputKind,
  fileInputKind as unknown as SourceInputKind,
];

/** The kind registered for `type`, or undefined. */
export function sourceInputKind(type: string): SourceInputKind | undefined {
  return SOURCE_INPUT_KINDS.find((k) => k.type === type);
}
