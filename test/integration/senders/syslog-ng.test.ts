import { afterAll, beforeAll, describe, it } from 'vitest';
import { assertRequirement, hasCommand, requirement, shouldRun } from '../../helpers/requirements.js';
import { feedUnixSocket, hasLogger, hasSyslogNg, startSyslogNg, type Daemon } from '../../helpers/peers.js';
import { makeTlsCerts, type TlsCerts } from '../../helpers/tls-certs.js';
import { expectAll, lines, listen, runId, type Listener } from './sender-harness.js';

const req = requirement(hasSyslogNg() && hasLogger() && hasCommand('openssl'), 'syslog-ng unpacked in /opt/syslog-ng, logger and openssl are needed');

/**
 * One syslog-ng forwards the same messages to four of our listeners: network()
 * over UDP and TCP (BSD format, LF), syslog() over TCP and TLS (RFC 5424, octet-counted).
 */
describe.skipIf(!shouldRun(req))('syslog-ng as sender', () => {
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
    daemon = await startSyslogNg(
      [
        `destination d_udp { network("127.0.0.1" port(${udp.port}) transport("udp")); };`,
        `destination d_tcp { network("127.0.0.1" port(${tcpLf.port}) transport("tcp")); };`,
        `destination d_octet { syslog("127.0.0.1" port(${tcpOctet.port}) transport("tcp")); };`,
        `destination d_tls { syslog("127.0.0.1" port(${tlsL.port}) transport("tls") tls(ca-file("${certs.caFile}") peer-verify(required-trusted))); };`,
        'log { source(s_in); destination(d_udp); destination(d_tcp); destination(d_octet); destination(d_tls); };',
      ].join('\n'),
    );
    await feedUnixSocket(daemon, lines(run), 'kernel');
  });

  afterAll(async () => {
    await daemon?.stop();
    for (const l of [udp, tcpLf, tcpOctet, tlsL]) await l?.input.stop();
    certs?.cleanup();
  });

  const bsd = /^<13>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ kernel: iptables-dropped: .*\n$/;
  const bsdTcp = /^<13>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ kernel: iptables-dropped: /;
  const rfc5424 = /^<13>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d \S+ kernel - - \[meta sequenceId="\d+"\] iptables-dropped: .*\n$/;

  it('network() UDP (BSD, LF inside the datagram)', async () => {
    await expectAll(udp, run, bsd, 'udp');
  });

  it('network() TCP (BSD, LF framing)', async () => {
    await expectAll(tcpLf, run, bsdTcp, 'tcp');
  });

  it('syslog() TCP (RFC 5424, octet-counted)', async () => {
    await expectAll(tcpOctet, run, rfc5424, 'tcp');
  });

  it('syslog() TLS (RFC 5424, octet-counted)', async () => {
    await expectAll(tlsL, run, rfc5424, 'tls');
  });
});
