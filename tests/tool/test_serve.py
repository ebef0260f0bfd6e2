# SPDX-License-Identifier: LGPL-2.1-or-later
"""gsecsock serve: --generate and curl, echo and HTTP, client
certificates, stores, negotiation, logging, shutdown."""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tooltest as t  # noqa: E402

CURL = shutil.which('curl')


def fingerprint(name):
    out = subprocess.run([t.OPENSSL, 'x509', '-in', t.pki(name), '-noout', '-fingerprint', '-sha256'],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split('=', 1)[1]


def server_args():
    return ('--cert', t.pki('server-chain.pem'), '--key', t.pki('server.key'))


class Generate(unittest.TestCase):
    @unittest.skipUnless(CURL, 'curl is not installed')
    def test_http_generate_answers_curl(self):
        """The demo of the issue: serve --http --generate answers curl --cacert."""
        server = t.Serve('--http', '--generate')
        try:
            ca = server.listening['ca_file']
            self.assertTrue(os.path.exists(ca))
            r = subprocess.run([CURL, '-sS', '--cacert', ca, f'https://localhost:{server.port}/hello'],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn('<h1>gsecsock serve</h1>', r.stdout)
            self.assertIn('<tr><th>Protocol</th><td>TLSv1.3</td></tr>', r.stdout)
            self.assertIn('<tr><th>Request</th><td>GET /hello HTTP/1.1</td></tr>', r.stdout)
            self.assertIn('<tr><th>SNI</th><td>localhost</td></tr>', r.stdout)
            # Not trusted without the CA.
            r = subprocess.run([CURL, '-sS', f'https://localhost:{server.port}/'],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 60, r.stderr)   # CURLE_PEER_FAILED_VERIFICATION
            failed = server.wait_event('handshake-failed')
            self.assertIn('alert', failed['error']['message'].lower())
        finally:
            self.assertEqual(server.stop(), 0)
        summary = server.events('summary')[0]
        self.assertEqual(summary['connections'], 1)
        self.assertEqual(summary['handshakes_failed'], 1)
        self.assertFalse(os.path.exists(ca), 'the throw-away files are removed')

    def test_human_output_says_where_the_ca_is(self):
        server = t.Process([t.TOOL, 'serve', '--http', '--generate', '--port', '0', '--address', '127.0.0.1'])
        try:
            line = server.wait_for(lambda l: l.startswith('Try: curl --cacert '))
            ca, url = line.split()[3:5]
            self.assertTrue(ca.endswith('/ca.pem') and os.path.exists(ca), line)
            self.assertIn('Listening on 127.0.0.1:', server.output())
            self.assertIn('Certificate: CN=localhost,O=gsecsock serve --generate', server.output())
            if CURL:
                # Exactly what it says to try.
                r = subprocess.run([CURL, '-sS', '--cacert', ca, url], capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn('<h1>gsecsock serve</h1>', r.stdout)
                server.wait_for(lambda l: l.startswith('#1 closed'))
        finally:
            self.assertEqual(server.stop(signal.SIGINT), 0)
        self.assertIn(f'Served {1 if CURL else 0} connection', server.output())

    def test_generate_dir_is_kept_and_valid(self):
        with tempfile.TemporaryDirectory() as directory:
            pki = os.path.join(directory, 'pki')
            server = t.Serve('--generate', '--generate-dir', pki)
            try:
                r, doc = t.run_json('connect', '--ca', os.path.join(pki, 'ca.pem'), f'localhost:{server.port}')
                self.assertEqual(r.returncode, 0, doc['verdict'])
                self.assertEqual(doc['chain'][0]['dns_names'], ['localhost'])
                self.assertEqual(doc['chain'][0]['ip_addresses'], ['127.0.0.1', '::1'])
            finally:
                server.stop()
            for name in ('ca.pem', 'localhost.pem', 'localhost.key', 'client.pem', 'client.key'):
                self.assertTrue(os.path.exists(os.path.join(pki, name)), name)
            self.assertEqual(os.stat(os.path.join(pki, 'localhost.key')).st_mode & 0o077, 0)
            r = t.run('inspect', '--ca', os.path.join(pki, 'ca.pem'), '--host', '::1',
                      os.path.join(pki, 'localhost.pem'))
            self.assertEqual(r.returncode, 0, r.stdout)


class Modes(unittest.TestCase):
    def test_echo_and_events(self):
        server = t.Serve(*server_args())
        try:
            r = t.run('connect', '-q', '--ca', t.pki('ca.pem'), '--wait', '1', f'localhost:{server.port}',
                      input='ping\n')
            self.assertEqual(r.stdout, 'ping\n')
            connection = server.wait_event('connection')
            closed = server.wait_event('closed')
        finally:
            server.stop()
        self.assertEqual(connection['id'], 1)
        self.assertTrue(connection['peer'].startswith('127.0.0.1:'))
        self.assertEqual(connection['protocol'], 'TLSv1.3')
        self.assertEqual(connection['sni'], 'localhost')
        self.assertFalse(connection['session_reused'])
        self.assertIsNone(connection['client_certificate'])
        self.assertEqual(closed['bytes_received'], 5)
        self.assertEqual(closed['bytes_sent'], 5)
        self.assertIsNone(closed['error'])

    def test_http_with_openssl_s_client(self):
        server = t.Serve(*server_args(), '--http')
        try:
            r = subprocess.run([t.OPENSSL, 's_client', '-connect', f'127.0.0.1:{server.port}', '-quiet',
                                '-verify_return_error', '-CAfile', t.pki('ca.pem'), '-verify_hostname', 'localhost'],
                               input=b'HEAD / HTTP/1.0\r\n\r\n', capture_output=True, timeout=30)
        finally:
            server.stop()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(b'HTTP/1.1 200 OK\r\n'))
        self.assertNotIn(b'<html>', r.stdout)   # HEAD: no body

    def test_bad_http_request(self):
        server = t.Serve(*server_args(), '--http')
        try:
            r = t.run('connect', '-q', '--ca', t.pki('ca.pem'), f'localhost:{server.port}', input='hello\n\n')
        finally:
            server.stop()
        self.assertTrue(r.stdout.startswith('HTTP/1.1 400 Bad Request'), r.stdout)

    def test_not_tls_client(self):
        server = t.Serve(*server_args())
        try:
            with socket.create_connection(('127.0.0.1', server.port)) as plain:
                plain.sendall(b'GET / HTTP/1.0\r\n\r\n')
                plain.settimeout(10)
                try:
                    plain.recv(100)
                except OSError:
                    pass
            failed = server.wait_event('handshake-failed')
        finally:
            server.stop()
        self.assertEqual(failed['error']['name'], 'not-tls')

    def test_max_connections(self):
        server = t.Serve(*server_args(), '--max-connections', '2')
        for _ in range(2):
            t.run('connect', '--ca', t.pki('ca.pem'), f'localhost:{server.port}')
        server.proc.wait(10)
        self.assertEqual(server.stop(), 0)
        self.assertEqual(server.events('summary')[0]['connections'], 2)

    def test_shutdown_closes_connections_cleanly(self):
        server = t.Serve(*server_args())
        context = ssl.create_default_context(cafile=t.pki('ca.pem'))
        try:
            with socket.create_connection(('127.0.0.1', server.port)) as raw:
                with context.wrap_socket(raw, server_hostname='localhost') as tls:
                    tls.sendall(b'x')
                    self.assertEqual(tls.recv(10), b'x')
                    server.proc.send_signal(signal.SIGTERM)
                    tls.settimeout(10)
                    self.assertEqual(tls.recv(10), b'')   # close_notify, not a reset
            self.assertEqual(server.proc.wait(10), 0)
        finally:
            server.stop()
        summary = server.events('summary')[0]
        self.assertEqual(summary['connections'], 1)
        self.assertEqual(summary['bytes_received'], 1)


class ClientCertificates(unittest.TestCase):
    def test_require(self):
        server = t.Serve('--generate', '--client-auth', 'require')
        pki = server.listening
        try:
            r, doc = t.run_json('connect', '--ca', pki['ca_file'], '--cert', pki['client_cert_file'],
                                '--key', pki['client_key_file'], f'localhost:{server.port}')
            self.assertEqual(r.returncode, 0, doc['verdict'])
            event = server.wait_event('connection')
            self.assertEqual(event['client_certificate']['subject'],
                             'CN=gsecsock throw-away client,O=gsecsock serve --generate')
            self.assertEqual(event['client_certificate']['status'], 'trusted')
            # Without a certificate: refused, on both sides.
            r, doc = t.run_json('connect', '--ca', pki['ca_file'], f'localhost:{server.port}')
            self.assertEqual(r.returncode, t.EXIT_HANDSHAKE, doc['verdict'])
            self.assertIsNotNone(doc['alert_received'])
            failed = server.wait_event('handshake-failed')
            self.assertEqual(failed['error']['name'], 'certificate-rejected')
        finally:
            server.stop()

    def test_request(self):
        server = t.Serve(*server_args(), '--client-auth', 'request', '--ca', t.pki('ca.pem'), '--no-system-trust')
        try:
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), f'localhost:{server.port}')
            self.assertEqual(r.returncode, 0, doc['verdict'])
            self.assertIsNone(server.wait_event('connection')['client_certificate'])
            # A certificate from an authority the server does not trust.
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--cert', t.pki('client-other-chain.pem'),
                                '--key', t.pki('client-other.key'), f'localhost:{server.port}')
            self.assertEqual(r.returncode, t.EXIT_HANDSHAKE, doc['verdict'])
            failed = server.wait_event('handshake-failed')
            self.assertEqual(failed['error']['name'], 'certificate-rejected')
            self.assertEqual(failed['client_certificate']['subject'], 'CN=gsecsock other client')
        finally:
            server.stop()

    @unittest.skipUnless(CURL, 'curl is not installed')
    def test_http_page_shows_the_client_certificate(self):
        server = t.Serve('--generate', '--client-auth', 'request', '--http')
        pki = server.listening
        try:
            r = subprocess.run([CURL, '-sS', '--cacert', pki['ca_file'], '--cert', pki['client_cert_file'],
                                '--key', pki['client_key_file'], f'https://localhost:{server.port}/'],
                               capture_output=True, text=True, timeout=30)
        finally:
            server.stop()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('<tr><th>Client certificate</th><td>CN=gsecsock throw-away client', r.stdout)
        self.assertIn('<tr><th>Client certificate status</th><td>trusted</td></tr>', r.stdout)


class Stores(unittest.TestCase):
    def check_store(self, *args, name='web.store.test'):
        server = t.Serve('--store', t.pki('store'), *args)
        try:
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--verify-host', name,
                                f'127.0.0.1:{server.port}')
        finally:
            server.stop()
        self.assertEqual(r.returncode, 0, doc['verdict'])
        self.assertEqual(doc['chain'][0]['subject'], 'CN=' + name)
        self.assertEqual(server.listening['certificate'], 'CN=' + name)

    def test_by_name(self):
        self.check_store('--name', 'web.store.test')

    def test_by_fingerprint(self):
        self.check_store('--fingerprint', fingerprint('store-web.pem'))

    def test_encrypted_key(self):
        with tempfile.NamedTemporaryFile('w') as password:
            password.write('secret\n')
            password.flush()
            self.check_store('--name', 'secure.store.test', '--password-file', password.name,
                             name='secure.store.test')

    def test_ambiguous_and_missing(self):
        r = t.run('serve', '--port', '0', '--store', t.pki('store'), '--name', 'dup.store.test')
        self.assertEqual(r.returncode, t.EXIT_FILE)
        self.assertIn('ambiguous', r.stderr)
        r = t.run('serve', '--port', '0', '--store', t.pki('store'), '--name', 'nothing.store.test')
        self.assertEqual(r.returncode, t.EXIT_FILE)


class Negotiation(unittest.TestCase):
    def test_alpn(self):
        server = t.Serve(*server_args(), '--alpn', 'h2,http/1.1')
        try:
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--alpn', 'http/1.1', f'localhost:{server.port}')
            self.assertEqual(doc['alpn'], 'http/1.1')
            self.assertEqual(server.wait_event('connection')['alpn'], 'http/1.1')
        finally:
            server.stop()

    def test_versions(self):
        server = t.Serve(*server_args(), '--min-version', '1.3')
        try:
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--max-version', '1.2', f'localhost:{server.port}')
            self.assertEqual(r.returncode, t.EXIT_HANDSHAKE, doc['verdict'])
            failed = server.wait_event('handshake-failed')
            self.assertEqual(failed['error']['name'], 'protocol-version')
        finally:
            server.stop()
        server = t.Serve(*server_args(), '--max-version', '1.2')
        try:
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), f'localhost:{server.port}')
            self.assertEqual(doc['protocol'], 'TLSv1.2')
        finally:
            server.stop()

    def test_resumption(self):
        server = t.Serve(*server_args())
        try:
            r, doc = t.run_json('connect', '--ca', t.pki('ca.pem'), '--resume', f'localhost:{server.port}')
            self.assertTrue(doc['resumption']['session_reused'], doc)
            self.assertTrue(server.wait_event('connection', 2)['session_reused'])
        finally:
            server.stop()

    def test_trace(self):
        server = t.Serve(*server_args(), '--trace')
        try:
            t.run('connect', '--ca', t.pki('ca.pem'), f'localhost:{server.port}')
            server.wait_event('closed')
        finally:
            server.stop()
        trace = server.events('trace')
        self.assertTrue(trace)
        self.assertTrue(all(event['id'] == 1 for event in trace))
        kinds = [event['trace']['kind'] for event in trace]
        self.assertEqual(kinds[0], 'start')
        self.assertIn('done', kinds)

    def test_trace_human(self):
        server = t.Process([t.TOOL, 'serve', *server_args(), '--trace', '--port', '0', '--address', '127.0.0.1'])
        try:
            line = server.wait_for(lambda l: l.startswith('Listening on'))
            port = int(line.split(':')[1].split()[0])
            t.run('connect', '--ca', t.pki('ca.pem'), f'localhost:{port}')
            server.wait_for(lambda l: l.startswith('#1 closed'))
        finally:
            server.stop()
        self.assertRegex(server.output(), r'#1 \[ *\+\d+\.\d{6}\] start +handshake started')
        self.assertRegex(server.output(), r'#1 127\.0\.0\.1:\d+  TLSv1\.3 TLS_')


if __name__ == '__main__':
    sys.exit(t.main())
