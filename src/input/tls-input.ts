import type net from 'node:net';
import tls from 'node:tls';
import { CertificateReloader, loadCertificates, type CertificateMaterial } from './certificate-reloader.js';
import type { TlsInputConfig } from './input-config.js';
import type { InputDeps } from './input-deps.js';
import { formatListenUrl } from './listen-url.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { canonicalPeerAddress } from './receive-context.js';
import { StreamInput } from './stream-input.js';

/**
 * TLS syslog listener (RFC 5425). Framing is auto-detected like TCP (RFC 5425
 * senders use octet counting; some rsyslog gtls setups send LF). Optional mTLS.
 * Certificates are reloaded without restart when the files change.
 */
export class TlsInput extends StreamInput {
  private readonly tlsConfig: TlsInputConfig;
  private reloader: CertificateReloader | undefined;
  private readonly handshakeLog = new RateLimitedLog((m, f) => this.log.warn(m, f));

  constructor(config: TlsInputConfig, deps: InputDeps) {
    super('tls', config.name ?? formatListenUrl('tls', config.host, config.port), config, deps);
    this.tlsConfig = config;
  }

  protected override createServer(): net.Server {
    const c = this.tlsConfig;
    const files = { certFile: c.certFile, keyFile: c.keyFile, ...(c.caFile !== undefined ? { caFile: c.caFile } : {}) };
    const material = loadCertificates(files);
    const server = tls.createServer({
      ...this.secureOptions(material),
      requestCert: c.requireClientCert,
      // We verify ourselves in 'secureConnection': with rejectUnauthorized, Node destroys a
      // client whose certificate fails verification without any event carrying the reason.
      rejectUnauthorized: false,
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      if (c.requireClientCert && !socket.authorized) this.rejectClient(socket);
      else this.accept(socket);
    });
    server.on('tlsClientError', (err, socket) => {
      this.deps.metrics.connectionsClosed.inc({ input: this.name, reason: 'tls_handshake' });
      this.handshakeLog.write('TLS handshake failed', {
        input: this.name,
        peer: canonicalPeerAddress(socket.remoteAddress),
        peerPort: socket.remotePort,
        error: err.message,
      });
    });
    if (c.watchCertificates) {
      this.reloader = new CertificateReloader(files, material, (m) => server.setSecureContext(this.secureOptions(m)), this.log, { input: this.name });
      this.reloader.start();
    }
    return server;
  }

  /** Close a client whose certificate failed verification (mTLS); counted and logged with the reason. */
  private rejectClient(socket: tls.TLSSocket): void {
    // Without a certificate OpenSSL reports an issuer error; say what actually happened.
    const none = Object.keys(socket.getPeerCertificate()).length === 0;
    const reason = none ? 'no client certificate' : String(socket.authorizationError ?? 'unverified');
    this.deps.metrics.connectionsClosed.inc({ input: this.name, reason: 'tls_handshake' });
    this.handshakeLog.write('TLS client certificate rejected', {
      input: this.name,
      peer: canonicalPeerAddress(socket.remoteAddress),
      peerPort: socket.remotePort,
      error: reason,
    });
    socket.on('error', () => {});
    socket.destroy();
  }

  /** Re-read the certificate files now (e.g. on SIGHUP); true when new material was applied. */
  reloadCertificates(): boolean {
    return this.reloader?.reload() ?? false;
  }

  /** Stop watching the certificate files, then close like TCP. */
  override async stop(): Promise<void> {
    this.reloader?.stop();
    this.reloader = undefined;
    await super.stop();
  }

  private secureOptions(m: CertificateMaterial): tls.SecureContextOptions {
    return { cert: m.cert, key: m.key, ...(m.ca !== undefined ? { ca: m.ca } : {}) };
  }
}

/** Create a TLS listener (not yet bound: call `start()`). Certificate files are read at `start()`. */
export function createTlsInput(config: TlsInputConfig, deps: InputDeps): TlsInput {
  return new TlsInput(config, deps);
}
