import { afterAll, beforeAll, describe, it } from 'vitest';
import { assertRequirement, hasCommand, requirement, shouldRun } from '../../helpers/requirements.js';
import { feedUnixSocket, hasLogger, hasRsyslog, startRsyslog, type Daemon } from '../../helpers/peers.js';
import { makeTlsCerts, type TlsCerts } from '../../helpers/tls-certs.js';
import { expectAll, lines, listen, runId, type Listener } from './sender-harness.js';

const req = requirement(hasRsyslog() && hasLogger() && hasCommand('openssl'), 'rsyslog (with rsyslog-openssl), logger and openssl are needed');

/**
 * One rsyslogd forwards the same messages with omfwd to four of our listeners:
 * UDP (traditional template), TCP LF (traditional), TCP octet-counted
 * (RSYSLOG_SyslogProtocol23Format) and TLS with the ossl driver (x509/name, octet-counted).
 */
describe.skipIf(!shouldRun(req))('rsyslog omfwd as sender', () => {
  let udp: Listener;
  let tcpLf: Listener;
  let tcpOctet: Listener;
  let tlsL: Listener;
  let certs: TlsCerts | undefined;
  let daemon: Daemon | undefined;
  const run = runId();

  beforeAll(async () => {
    assertRequirement(req);
    certs = makeTlsCerts();
    udp = await listen({ type: 'udp' });
    tcpLf = await listen({ type: 'tcp' });
    tcpOctet = await listen({ type: 'tcp' });
    tlsL = await listen({ type: 'tls', certFile: certs.certFile, keyFile: certs.keyFile, watchCertificates: false });
    daemon = await startRsyslog(
      [
        `global(DefaultNetstreamDriverCAFile="${certs.caFile}")`,
        `action(type="omfwd" target="127.0.0.1" port="${udp.port}" protocol="udp")`,
        `action(type="omfwd" target="127.0.0.1" port="${tcpLf.port}" protocol="tcp")`,
        `action(type="omfwd" target="127.0.0.1" port="${tcpOctet.port}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")`,
        `action(type="omfwd" target="127.0.0.1" port="${tlsL.port}" protocol="tcp" StreamDriver="ossl" StreamDriverMode="1" StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="localhost" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")`,
      ].join('\n'),
    );
    await feedUnixSocket(daemon, lines(run), 'kernel');
  });

  afterAll(async () => {
    await daemon?.stop();
    for (const l of [udp, tcpLf, tcpOctet, tlsL]) await l?.input.stop();
    certs?.cleanup();
  });

  const traditional = /^<13>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ kernel: iptables-dropped: /;
  const protocol23 = /^<13>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d \S+ kernel - - - {1,2}iptables-dropped: .*\n$/;

  it('UDP, RSYSLOG_TraditionalForwardFormat', async () => {
    await expectAll(udp, run, traditional, 'udp');
  });

  it('TCP, LF framing', async () => {
    await expectAll(tcpLf, run, traditional, 'tcp');
  });

  it('TCP, octet-counted RSYSLOG_SyslogProtocol23Format', async () => {
    await expectAll(tcpOctet, run, protocol23, 'tcp');
  });

  it('TLS, ossl driver, x509/name, octet-counted', async () => {
    await expectAll(tlsL, run, protocol23, 'tls');
  });
});
