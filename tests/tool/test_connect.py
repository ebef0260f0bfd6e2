# SPDX-License-Identifier: LGPL-2.1-or-later
"""gsecsock connect against openssl s_server, Python servers and
gsecsock serve: verification and its report, the interactive question,
pins, names, negotiation, client certificates, data and failures."""

import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tooltest as t  # noqa: E402


def fingerprint(name):
    out = subprocess.run([t.OPENSSL, 'x509', '-in', t.pki(name), '-noout', '-fingerprint', '-sha256'],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split('=', 1)[1]   # "AB:CD:…", as openssl prints it


class RawServer:
    """A TCP server whose single connection is handled by handler(conn)."""

    def __init__(self, handler):
        self.listener = socket.socket()
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.handler = handler
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.listener.settimeout(20)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            try:
                self.handler(conn)
            except OSError:
                pass

    def close(self):
        self.thread.join(20)
        self.listener.close()


class Verification(unittest.TestCase):
    def test_trusted_chain_report(self):
        server = t.SServer(*t.s_server_args())
        try:
            r = t.run('connect', '--ca', t.pki('ca.pem'), f'localhost:{server.port}')
        finally:
            server.stop()
        self.assertEqual(r.returncode, t.EXIT_OK, r.stdout + r.stderr)
        out = r.stdout
        self.assertIn(f'Connected to localhost:{server.port} (127.0.0.1:{server.port})', out)
        self.assertIn('[0] CN=localhost', out)
        self.assertIn('[1] CN=gsecsock Test Intermediate CA', out)
        self.assertIn('[2] CN=gsecsock Test Root CA', out)
        self.assertIn('from the trust store (not sent by the peer)', out)
        self.assertIn('names     DNS:localhost, IP:127.0.0.1, IP:::1', out)
        self.assertRegex(out, r'SHA-256   ([0-9a-f]{2}:){31}[0-9a-f]{2}')
        self.assertEqual(out.count('verified  ok'), 3)
        self.assertIn('Protocol     TLSv1.3', out)
        self.assertIn('Session      new (full handshake)', out)
        self.assertIn('SNI          localhost', out)
        self.assertIn('Verdict      OK: TLSv1.3, the certificate is trusted for “localhost”', out)
        self.assertNotIn('\033[', out)   # piped: no colour

    def test_trusted_chain_json(self):
        server = t.SServer(*t.s_server_args())
        try:
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), f'localhost:{server.port}')
        finally:
            server.stop()
        self.assertEqual(r.returncode, 0)
        self.assertEqual(doc['exit_code'], 0)
        self.assertTrue(doc['success'])
        self.assertEqual(doc['protocol'], 'TLSv1.3')
        self.assertTrue(doc['cipher'].startswith('TLS_'))
        self.assertEqual(doc['certificate_status'], 'trusted')
        self.assertEqual(doc['certificate_errors'], [])
        self.assertEqual([c['depth'] for c in doc['chain']], [0, 1, 2])
        self.assertEqual([c['from_peer'] for c in doc['chain']], [True, True, False])
        leaf = doc['chain'][0]
        self.assertEqual(leaf['subject'], 'CN=localhost')
        self.assertEqual(leaf['dns_names'], ['localhost'])
        self.assertEqual(leaf['ip_addresses'], ['127.0.0.1', '::1'])
        self.assertEqual(leaf['sha256'], fingerprint('server.pem').lower())
        self.assertTrue(leaf['verified'] and leaf['accepted'])
        self.assertEqual(leaf['status'], 'trusted')
        self.assertRegex(leaf['not_after'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')

    def check_rejected(self, cert, chain, expected_errors, *args, host='localhost'):
        server = t.SServer(*t.s_server_args(cert, chain))
        try:
            r, doc = t.run_json('connect', *args, f'{host}:{server.port}')
        finally:
            server.stop()
        self.assertEqual(r.returncode, t.EXIT_VERIFICATION, doc['verdict'])
        self.assertEqual(doc['phase'], 'handshake')
        self.assertEqual(doc['error']['name'], 'certificate-rejected')
        for error in expected_errors:
            self.assertIn(error, doc['certificate_errors'])
        self.assertTrue(doc['verdict'].startswith('FAILED'))
        self.assertIsNotNone(doc['alert_sent'])
        return doc

    def test_untrusted(self):
        doc = self.check_rejected('server', 'intermediate', ['unknown-ca'])
        self.assertIn('issued by an unknown authority', doc['verdict'])

    def test_expired(self):
        doc = self.check_rejected('expired', 'intermediate', ['expired'], '--ca', t.pki('ca.pem'))
        self.assertEqual(doc['chain'][0]['errors'], ['expired'])
        self.assertIn('expired', doc['alert_sent'])

    def test_not_yet_valid(self):
        self.check_rejected('notyet', 'intermediate', ['not-activated'], '--ca', t.pki('ca.pem'))

    def test_wrong_host(self):
        doc = self.check_rejected('wronghost', 'intermediate', ['bad-identity'], '--ca', t.pki('ca.pem'))
        self.assertIn('not valid for “localhost”', doc['verdict'])

    def test_revoked_with_crl(self):
        self.check_rejected('revoked', 'intermediate', ['revoked'], '--ca', t.pki('ca.pem'),
                            '--crl', t.pki('intermediate.crl.pem'))

    def test_no_verify_accepts_and_says_so(self):
        server = t.SServer(*t.s_server_args('expired'))
        try:
            r, doc = t.run_json('connect', '--no-verify', '--ca', t.pki('ca.pem'), f'localhost:{server.port}')
        finally:
            server.stop()
        self.assertEqual(r.returncode, t.EXIT_OK)
        self.assertEqual(doc['accepted_by'], 'no-verify')
        self.assertEqual(doc['certificate_status'], 'expired')
        self.assertTrue(doc['verdict'].startswith('INSECURE'))
        self.assertEqual(doc['chain'][0]['accepted_by'], 'no-verify')

    def test_yes_and_no(self):
        server = t.SServer(*t.s_server_args('selfsigned', None))
        try:
            r, doc = t.run_json('connect', '--yes', f'localhost:{server.port}')
            self.assertEqual(r.returncode, t.EXIT_OK, doc['verdict'])
            self.assertEqual(doc['accepted_by'], 'yes')
            self.assertEqual(sorted(doc['certificate_errors']), ['self-signed', 'unknown-ca'])
            r, doc = t.run_json('connect', '--no', f'localhost:{server.port}')
            self.assertEqual(r.returncode, t.EXIT_VERIFICATION)
        finally:
            server.stop()

    def test_pin(self):
        selfsigned = t.SServer(*t.s_server_args('selfsigned', None))
        trusted = t.SServer(*t.s_server_args())
        try:
            # As openssl prints it: upper case, with colons.
            r, doc = t.run_json('connect', '--pin', 'sha256:' + fingerprint('selfsigned.pem'),
                                f'localhost:{selfsigned.port}')
            self.assertEqual(r.returncode, t.EXIT_OK, doc['verdict'])
            self.assertEqual(doc['accepted_by'], 'pin')
            self.assertIn('pinned', doc['verdict'])
            # Without colons, and a second pin that does not match.
            r, doc = t.run_json('connect', '--pin', 'ab' * 32,
                                '--pin', fingerprint('selfsigned.pem').replace(':', '').lower(),
                                f'localhost:{selfsigned.port}')
            self.assertEqual(r.returncode, t.EXIT_OK, doc['verdict'])
            # A trusted certificate that is not the pinned one is refused.
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--pin', fingerprint('selfsigned.pem'),
                                f'localhost:{trusted.port}')
            self.assertEqual(r.returncode, t.EXIT_VERIFICATION)
            self.assertIn('--pin', doc['verdict'])
        finally:
            selfsigned.stop()
            trusted.stop()

    def test_ip_address_and_verify_host(self):
        server = t.SServer(*t.s_server_args())
        try:
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), f'127.0.0.1:{server.port}')
            self.assertEqual(r.returncode, 0, doc['verdict'])
            self.assertIsNone(doc['sni'])                 # an IP address is not sent as SNI
            self.assertEqual(doc['verify_name'], '127.0.0.1')
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--verify-host', 'localhost',
                                f'127.0.0.1:{server.port}')
            self.assertEqual(r.returncode, 0, doc['verdict'])
            self.assertEqual(doc['sni'], 'localhost')
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--verify-host', 'other.example',
                                f'127.0.0.1:{server.port}')
            self.assertEqual(r.returncode, t.EXIT_VERIFICATION)
            self.assertIn('bad-identity', doc['certificate_errors'])
        finally:
            server.stop()

    def test_no_sni_still_checks_the_name(self):
        good = t.SServer(*t.s_server_args())
        wrong = t.SServer(*t.s_server_args('wronghost'))
        try:
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--no-sni', f'localhost:{good.port}')
            self.assertEqual(r.returncode, 0, doc['verdict'])
            self.assertIsNone(doc['sni'])
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--no-sni', f'localhost:{wrong.port}')
            self.assertEqual(r.returncode, t.EXIT_VERIFICATION)
            self.assertEqual(doc['chain'][0]['errors'], ['bad-identity'])
        finally:
            good.stop()
            wrong.stop()

    def test_sni_chooses_the_certificate(self):
        server = t.SServer(*t.s_server_args(), '-servername', 'alpha.test',
                           '-cert2', t.pki('alpha.pem'), '-key2', t.pki('alpha.key'))
        try:
            # The intermediate is trusted too: -cert2 sends no chain.
            r, doc = t.run_json('connect', '--ca', t.pki('bundle.pem'), '--sni', 'alpha.test',
                                f'127.0.0.1:{server.port}')
            self.assertEqual(r.returncode, 0, doc['verdict'])
            self.assertEqual(doc['sni'], 'alpha.test')
            self.assertEqual(doc['chain'][0]['subject'], 'CN=alpha.test')
            # SNI for one name, verification for another.
            r, doc = t.run_json('connect', '--ca', t.pki('bundle.pem'), '--sni', 'alpha.test',
                                '--verify-host', 'localhost', f'127.0.0.1:{server.port}')
            self.assertEqual(r.returncode, t.EXIT_VERIFICATION)
            self.assertEqual(doc['chain'][0]['errors'], ['bad-identity'])
            self.assertIn('not valid for “localhost”', doc['verdict'])
        finally:
            server.stop()

    def test_interactive_question(self):
        server = t.SServer(*t.s_server_args('selfsigned', None))
        try:
            out, code = t.run_in_pty([t.TOOL, 'connect', '--color=never', f'localhost:{server.port}'],
                                     [(b'[y/N]', b'yes\n'), (b'Verdict', b'\x04')])
            self.assertEqual(code, t.EXIT_OK, out)
            self.assertIn('is not trusted: issued by an unknown authority, self-signed', out)
            self.assertIn('--pin sha256:' + fingerprint('selfsigned.pem').lower(), out)
            self.assertIn('accepted (by you)', out)
            self.assertIn('INSECURE', out)
            out, code = t.run_in_pty([t.TOOL, 'connect', f'localhost:{server.port}'],
                                     [(b'[y/N]', b'n\n')])
            self.assertEqual(code, t.EXIT_VERIFICATION, out)
            self.assertIn('you rejected the certificate', out)
            self.assertIn('\033[', out)   # a terminal: colour
            # --no answers for the user, even on a terminal.
            out, code = t.run_in_pty([t.TOOL, 'connect', '--no', f'localhost:{server.port}'], [])
            self.assertEqual(code, t.EXIT_VERIFICATION, out)
            self.assertNotIn('[y/N]', out)
        finally:
            server.stop()


class Negotiation(unittest.TestCase):
    def test_alpn(self):
        server = t.SServer(*t.s_server_args(), '-alpn', 'h2')
        try:
            r = t.run('connect', '--ca', t.pki('ca.pem'), '--alpn', 'h2,http/1.1', f'localhost:{server.port}')
            self.assertEqual(r.returncode, 0)
            self.assertIn('ALPN         h2\n', r.stdout)
            # s_server refuses a client with no protocol in common.
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--alpn', 'imap', f'localhost:{server.port}')
            self.assertEqual(r.returncode, t.EXIT_HANDSHAKE, doc['verdict'])
            self.assertIn('no_application_protocol', doc['alert_received'])
            self.assertIn('ALPN', doc['verdict'])
        finally:
            server.stop()
        # A server that takes no ALPN at all.
        server = t.SServer(*t.s_server_args())
        try:
            r = t.run('connect', '--ca', t.pki('ca.pem'), '--alpn', 'imap', f'localhost:{server.port}')
            self.assertEqual(r.returncode, 0)
            self.assertIn('ALPN         none agreed (offered imap)', r.stdout)
        finally:
            server.stop()

    def test_versions(self):
        server = t.SServer(*t.s_server_args(), '-tls1_2')
        try:
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), f'localhost:{server.port}')
            self.assertEqual(doc['protocol'], 'TLSv1.2')
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--min-version', '1.3', f'localhost:{server.port}')
            self.assertEqual(r.returncode, t.EXIT_HANDSHAKE, doc['verdict'])
            self.assertEqual(doc['phase'], 'handshake')
            self.assertEqual(doc['error']['name'], 'protocol-version')
        finally:
            server.stop()
        server = t.SServer(*t.s_server_args())
        try:
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--max-version', 'tls1.2', f'localhost:{server.port}')
            self.assertEqual(doc['protocol'], 'TLSv1.2')
        finally:
            server.stop()

    def check_resume(self, *version):
        server = t.SServer(*t.s_server_args(), *version)
        try:
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--resume', f'localhost:{server.port}')
        finally:
            server.stop()
        self.assertEqual(r.returncode, 0, doc['verdict'])
        self.assertFalse(doc['session_reused'])
        self.assertTrue(doc['resumption']['success'])
        self.assertTrue(doc['resumption']['session_reused'], doc['resumption'])

    def test_resume_tls13(self):
        self.check_resume()

    def test_resume_tls12(self):
        self.check_resume('-tls1_2')

    def test_resume_human(self):
        server = t.SServer(*t.s_server_args())
        try:
            r = t.run('connect', '--ca', t.pki('ca.pem'), '--resume', f'localhost:{server.port}')
        finally:
            server.stop()
        self.assertEqual(r.returncode, 0)
        self.assertIn('Reconnected, to test session resumption:', r.stdout)
        self.assertIn('Session      resumed', r.stdout)
        self.assertIn('session resumed (its certificate was verified when it was made)', r.stdout)

    def test_client_certificate(self):
        for version in ('-tls1_3', '-tls1_2'):
            with self.subTest(version=version):
                server = t.SServer(*t.s_server_args(), '-Verify', '1', '-CAfile', t.pki('ca.pem'), version)
                try:
                    r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--cert', t.pki('client-chain.pem'),
                                        '--key', t.pki('client.key'), f'localhost:{server.port}')
                    self.assertEqual(r.returncode, 0, doc['verdict'])
                    self.assertTrue(doc['client_certificate_requested'])
                    self.assertEqual(doc['client_certificate_sent'], 'CN=gsecsock test client')
                    self.assertTrue(any('Root CA' in issuer for issuer in doc['acceptable_issuers']))
                finally:
                    server.stop()

    def test_missing_client_certificate(self):
        for version, phase in (('-tls1_3', 'data'), ('-tls1_2', 'handshake')):
            with self.subTest(version=version):
                server = t.SServer(*t.s_server_args(), '-Verify', '1', '-CAfile', t.pki('ca.pem'), version)
                try:
                    r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), f'localhost:{server.port}')
                finally:
                    server.stop()
                # TLS 1.3: the server's refusal arrives after our side of the
                # handshake; the tool waits for it.
                self.assertEqual(r.returncode, t.EXIT_HANDSHAKE, doc['verdict'])
                self.assertEqual(doc['phase'], phase)
                self.assertTrue(doc['client_certificate_requested'])
                self.assertIsNone(doc['client_certificate_sent'])
                self.assertIsNotNone(doc['alert_received'])

    def test_encrypted_key(self):
        server = t.SServer(*t.s_server_args(), '-verify', '1', '-CAfile', t.pki('ca.pem'))
        with tempfile.NamedTemporaryFile('w') as good, tempfile.NamedTemporaryFile('w') as bad:
            good.write('secret\n')
            good.flush()
            bad.write('wrong\n')
            bad.flush()
            try:
                r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--cert', t.pki('server.pem'),
                                    '--key', t.pki('encrypted.key'), '--password-file', good.name,
                                    f'localhost:{server.port}')
                self.assertEqual(r.returncode, 0, doc['verdict'] + r.stderr)
                self.assertEqual(doc['client_certificate_sent'], 'CN=localhost')
                r = t.run('connect', '--ca', t.pki('ca.pem'), '--cert', t.pki('server.pem'),
                          '--key', t.pki('encrypted.key'), '--password-file', bad.name, f'localhost:{server.port}')
                self.assertEqual(r.returncode, t.EXIT_FILE, r.stderr)
            finally:
                server.stop()

    def test_password_asked_on_the_terminal(self):
        server = t.SServer(*t.s_server_args(), '-verify', '1', '-CAfile', t.pki('ca.pem'))
        try:
            out, code = t.run_in_pty([t.TOOL, 'connect', '--ca', t.pki('ca.pem'), '--cert', t.pki('client.p12'),
                                      f'localhost:{server.port}'],
                                     [(b'Password for', b'secret\n'), (b'Verdict', b'\x04')])
        finally:
            server.stop()
        self.assertEqual(code, 0, out)
        self.assertIn('client.p12', out)
        self.assertNotIn('secret', out)   # no echo
        self.assertIn('requested; sent CN=gsecsock test client', out)

    def test_trace(self):
        server = t.SServer(*t.s_server_args())
        try:
            r = t.run('connect', '--ca', t.pki('ca.pem'), '--trace', f'localhost:{server.port}')
            r2, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--trace', f'localhost:{server.port}')
        finally:
            server.stop()
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r'\[ *\+\d+\.\d{6}\] start +handshake started')
        self.assertIn('SSLv3/TLS write client hello', r.stdout)
        self.assertRegex(r.stdout, r'\] done ')
        kinds = [event['kind'] for event in doc['trace']]
        self.assertEqual(kinds[0], 'start')
        self.assertIn('state', kinds)
        self.assertIn('done', kinds)
        times = [event['time'] for event in doc['trace']]
        self.assertEqual(times, sorted(times))

    def test_trace_shows_alerts(self):
        server = t.SServer(*t.s_server_args('expired'))
        try:
            r = t.run('connect', '--ca', t.pki('ca.pem'), '--trace', f'localhost:{server.port}')
        finally:
            server.stop()
        self.assertEqual(r.returncode, t.EXIT_VERIFICATION)
        self.assertRegex(r.stdout, r'alert sent \(fatal\) +fatal certificate.expired \(45\)')

    def test_keylog(self):
        server = t.SServer(*t.s_server_args())
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, 'keys.log')
            try:
                r = t.run('connect', '--ca', t.pki('ca.pem'), '--keylog', path, f'localhost:{server.port}')
            finally:
                server.stop()
            self.assertEqual(r.returncode, 0)
            with open(path) as f:
                self.assertIn('CLIENT_HANDSHAKE_TRAFFIC_SECRET', f.read())


class Data(unittest.TestCase):
    def test_echo(self):
        server = t.Serve('--cert', t.pki('server-chain.pem'), '--key', t.pki('server.key'))
        try:
            r = t.run('connect', '-q', '--ca', t.pki('ca.pem'), '--wait', '1', f'localhost:{server.port}',
                      input='hello\nworld\n')
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, 'hello\nworld\n')
            self.assertEqual(r.stderr, '')
            r = t.run('connect', '-q', '--crlf', '--ca', t.pki('ca.pem'), '--wait', '1', f'localhost:{server.port}',
                      input=b'a\nb\r\n', binary=True)
            self.assertEqual(r.stdout, b'a\r\nb\r\n')
        finally:
            server.stop()

    def test_report_then_data(self):
        server = t.Serve('--cert', t.pki('server-chain.pem'), '--key', t.pki('server.key'), '--http')
        try:
            r = t.run('connect', '--ca', t.pki('ca.pem'), f'localhost:{server.port}',
                      input='GET /x HTTP/1.0\r\n\r\n')
        finally:
            server.stop()
        self.assertEqual(r.returncode, 0, r.stderr)
        report, _, data = r.stdout.partition('HTTP/1.1 200 OK')
        self.assertIn('Verdict      OK', report)
        self.assertIn('<tr><th>Request</th><td>GET /x HTTP/1.0</td></tr>', data)

    def test_truncation_is_reported(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(t.pki('server-chain.pem'), t.pki('server.key'))

        def handler(conn):
            tls = context.wrap_socket(conn, server_side=True)
            tls.recv(100)
            tls.sendall(b'partial answer')
            time.sleep(0.2)
            # Closed without close_notify.
            os.close(tls.detach())

        server = RawServer(handler)
        try:
            r = t.run('connect', '-q', '--ca', t.pki('ca.pem'), f'localhost:{server.port}', input='hi\n')
        finally:
            server.close()
        self.assertEqual(r.returncode, t.EXIT_FAILURE, r.stderr)
        self.assertEqual(r.stdout, 'partial answer')
        self.assertIn('close_notify', r.stderr)

    def test_not_tls(self):
        def handler(conn):
            conn.recv(1000)
            conn.sendall(b'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')
            time.sleep(0.5)

        server = RawServer(handler)
        try:
            r, doc = t.run_json('connect', f'localhost:{server.port}')
        finally:
            server.close()
        self.assertEqual(r.returncode, t.EXIT_HANDSHAKE, doc['verdict'])
        self.assertEqual(doc['error']['name'], 'not-tls')

    def test_handshake_timeout(self):
        def handler(conn):
            time.sleep(4)

        server = RawServer(handler)
        try:
            start = time.monotonic()
            r, doc = t.run_json('connect', '--timeout', '1', f'localhost:{server.port}')
            elapsed = time.monotonic() - start
        finally:
            server.close()
        self.assertEqual(r.returncode, t.EXIT_HANDSHAKE, doc['verdict'])
        self.assertEqual(doc['error']['name'], 'timed-out')
        self.assertLess(elapsed, 3.5)

    def test_interrupted(self):
        def handler(conn):
            time.sleep(4)

        server = RawServer(handler)
        try:
            proc = subprocess.Popen([t.TOOL, 'connect', f'localhost:{server.port}'], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=t.tool_env())
            time.sleep(0.7)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=10)
        finally:
            server.close()
        self.assertEqual(proc.returncode, t.EXIT_INTERRUPTED, out + err)

    def test_colour(self):
        server = t.SServer(*t.s_server_args())
        try:
            r = t.run('connect', '--color=always', '--ca', t.pki('ca.pem'), f'localhost:{server.port}')
            self.assertIn('\033[1;32m', r.stdout)
            env = t.tool_env()
            env['NO_COLOR'] = '1'
            r = t.run('connect', '--ca', t.pki('ca.pem'), f'localhost:{server.port}', env=env)
            self.assertNotIn('\033[', r.stdout)
        finally:
            server.stop()


if __name__ == '__main__':
    sys.exit(t.main())
