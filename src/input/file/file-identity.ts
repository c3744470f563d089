import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';

/**
 * What identifies a file across renames and restarts: device and inode, plus a hash of its
 * first bytes, because inode numbers are reused (logrotate deletes `kern.log.4` and the next
 * `create` may get its inode).
 */
export interface FileIdentity {
  /** `st_dev` of the file. */
  dev: number;
  /** `st_ino` of the file. */
  ino: number;
  /** Hex SHA-256 of the first `fingerprintLength` bytes ('' for an empty file). */
  fingerprint: string;
  /** How many bytes the fingerprint covers: the file's length when it is shorter than the configured size. */
  fingerprintLength: number;
}

/** A file's checkpoint: its identity and where reading resumes. */
export interface FileCheckpoint extends FileIdentity {
  /** The path the file had when it was last read. */
  path: string;
  /** Byte offset after the last acknowledged line. */
  offset: number;
}

/** The checkpoint of a `file` input: one entry per file being read. */
export interface FileInputCheckpoint {
  /** Format version of this JSON. */
  version: 1;
  files: FileCheckpoint[];
}

/** Hex SHA-256 of the first `length` bytes of the open file `fd` (fewer when it is shorter). */
export function fingerprintOf(fd: number, length: number): { fingerprint: string; fingerprintLength: number } {
  if (length <= 0) return { fingerprint: '', fingerprintLength: 0 };
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, got);
    if (n === 0) break;
    got += n;
  }
  if (got === 0) return { fingerprint: '', fingerprintLength: 0 };
  return { fingerprint: createHash('sha256').update(buf.subarray(0, got)).digest('hex'), fingerprintLength: got };
}

/** True when the open file `fd` still starts with the bytes `identity` fingerprinted. */
export function sameStart(fd: number, identity: Pick<FileIdentity, 'fingerprint' | 'fingerprintLength'>): boolean {
  if (identity.fingerprintLength === 0) return true;
  const now = fingerprintOf(fd, identity.fingerprintLength);
  return now.fingerprintLength === identity.fingerprintLength && now.fingerprint === identity.fingerprint;
}

/** What happened to a file being read, from a fresh look at it and at its path. */
export type FileChange =
  /** Nothing but (maybe) growth: keep reading. */
  | 'same'
  /** Same file, now shorter than what was read or no longer starting with the same bytes: copytruncate. */
  | 'truncated'
  /** The path now names another file (or none): renamed (rotated) or deleted. Read the open file to its end. */
  | 'moved';

/** Facts `classifyChange` decides on. */
export interface ChangeFacts {
  /** Identity of the file being read. */
  open: Pick<FileIdentity, 'dev' | 'ino'>;
  /** Size of the open file now (fstat). */
  size: number;
  /** Bytes of the open file already read. */
  readOffset: number;
  /** The open file still starts with its fingerprinted bytes. */
  startMatches: boolean;
  /** `stat` of the path now, or undefined when it does not exist. */
  atPath: { dev: number; ino: number } | undefined;
}

/**
 * Rotation detection. Rename-and-create (and deletion) shows as a path that names another inode
 * (or nothing); copytruncate as the same inode with a size below what was read, or, when the
 * writer has already written past that offset again, with different first bytes.
 */
export function classifyChange(f: ChangeFacts): FileChange {
  if (f.atPath === undefined || f.atPath.dev !== f.open.dev || f.atPath.ino !== f.open.ino) {
    // A truncation of a file that is also being moved away: the move is what matters.
    return 'moved';
  }
  if (f.size < f.readOffset || !f.startMatches) return 'truncated';
  return 'same';
}
