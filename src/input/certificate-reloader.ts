import { readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import type { InputLogger } from './input-deps.js';

/** Where the TLS material lives. */
export interface CertificateFiles {
  certFile: string;
  keyFile: string;
  caFile?: string;
}

/** The PEM contents, as passed to `tls.createSecureContext()`. */
export interface CertificateMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

/**
 * Read the files and check that they make a usable context (parsable PEM, key
 * matching the certificate). Throws with the file and OpenSSL's reason otherwise.
 */
export function loadCertificates(files: CertificateFiles): CertificateMaterial {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read TLS ${what} ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  const material: CertificateMaterial = { cert: read(files.certFile, 'certificate'), key: read(files.keyFile, 'key') };
  if (files.caFile !== undefined) material.ca = read(files.caFile, 'CA file');
  try {
    tls.createSecureContext(material);
  } catch (err) {
    throw new Error(`invalid TLS material (${files.certFile}, ${files.keyFile}${files.caFile ? `, ${files.caFile}` : ''}): ${(err as Error).message}`, {
      cause: err,
    });
  }
  return material;
}

function sameMaterial(a: CertificateMaterial, b: CertificateMaterial): boolean {
  const eq = (x?: Buffer, y?: Buffer): boolean => (x === undefined ? y === undefined : y !== undefined && x.equals(y));
  return eq(a.cert, b.cert) && eq(a.key, b.key) && eq(a.ca, b.ca);
}

/**
 * Watches the certificate, key and CA files and hands new, valid material to
 * `apply` (the TLS server's `setSecureContext`). Watches the directories, not the
 * files: renames (certbot, Kubernetes secret symlink swaps) replace the inode a
 * file watch would follow. Changes are debounced, since cert and key are rarely
 * written at the same instant; broken or half-written material keeps the old one.
 */
export class CertificateReloader {
  private current: CertificateMaterial;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly files: CertificateFiles,
    initial: CertificateMaterial,
    private readonly apply: (material: CertificateMaterial) => void,
    private readonly log: InputLogger,
    private readonly context: Record<string, unknown> = {},
    private readonly debounceMs = 200,
  ) {
    this.current = initial;
  }

  /** Start watching the directories of the files. */
  start(): void {
    const dirs = new Set([this.files.certFile, this.files.keyFile, this.files.caFile].filter((f): f is string => f !== undefined).map((f) => path.dirname(path.resolve(f))));
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, () => this.schedule());
        w.on('error', (err) => this.log.warn('certificate watch error', { ...this.context, dir, error: err.message }));
        this.watchers.push(w);
      } catch (err) {
        this.log.warn('cannot watch certificate directory; reload needs a restart', { ...this.context, dir, error: (err as Error).message });
      }
    }
  }

  /** Stop watching. */
  stop(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Re-read the files now (also usable from a SIGHUP handler). Returns `true` when
   * new material was applied, `false` when unchanged or invalid (then logged).
   */
  reload(): boolean {
    let next: CertificateMaterial;
    try {
      next = loadCertificates(this.files);
    } catch (err) {
      this.log.error('TLS certificate reload failed; keeping the previous certificate', { ...this.context, error: (err as Error).message });
      return false;
    }
    if (sameMaterial(next, this.current)) return false;
    try {
      this.apply(next);
    } catch (err) {
      this.log.error('TLS certificate reload failed; keeping the previous certificate', { ...this.context, error: (err as Error).message });
      return false;
    }
    this.current = next;
    this.log.info('TLS certificate reloaded', { ...this.context, certFile: this.files.certFile });
    return true;
  }

  private schedule(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reload();
    }, this.debounceMs);
    this.timer.unref();
  }
}
