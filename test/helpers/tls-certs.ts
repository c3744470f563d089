/**
 * Throwaway TLS material for tests, made with the `openssl` CLI in a temp dir:
 * a CA, a server certificate for `localhost` / 127.0.0.1 / ::1, and a client
 * certificate (for mTLS). Every call makes a new CA, so two sets never trust each other.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TlsCerts {
  dir: string;
  caFile: string;
  caKeyFile: string;
  certFile: string;
  keyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  /** Remove the directory. */
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

/** Sign a leaf certificate with the CA in `dir`; returns the cert and key paths. */
function leaf(dir: string, name: string, cn: string, ext: string): { cert: string; key: string } {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.pem`);
  const extFile = path.join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', `/CN=${cn}`, '-out', csr], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-sha256', '-extfile', extFile, '-out', cert], dir);
  return { cert, key };
}

/** Make a CA, a server cert (CN/SAN localhost, 127.0.0.1, ::1) and a client cert in a new temp dir (or `dir`). */
export function makeTlsCerts(dir?: string): TlsCerts {
  const d = dir ?? mkdtempSync(path.join(tmpdir(), 'iptables-otel-tls-'));
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=iptables-otel test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], d);
  const server = leaf(d, 'server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
  const client = leaf(d, 'client', 'test-client', 'extendedKeyUsage=clientAuth,serverAuth\nkeyUsage=digitalSignature,keyEncipherment\nsubjectAltName=DNS:test-client\n');
  return {
    dir: d,
    caFile: path.join(d, 'ca.pem'),
    caKeyFile: path.join(d, 'ca.key'),
    certFile: server.cert,
    keyFile: server.key,
    clientCertFile: client.cert,
    clientKeyFile: client.key,
    ca: readFileSync(path.join(d, 'ca.pem')),
    cert: readFileSync(server.cert),
    key: readFileSync(server.key),
    clientCert: readFileSync(client.cert),
    clientKey: readFileSync(client.key),
    cleanup: () => rmSync(d, { recursive: true, force: true }),
  };
}
