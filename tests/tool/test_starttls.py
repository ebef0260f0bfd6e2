# SPDX-License-Identifier: LGPL-2.1-or-later
"""gsecsock connect --starttls against fake servers of each protocol."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tooltest as t  # noqa: E402
from fake_starttls import FakeStartTls  # noqa: E402

# protocol: what the client must have said in plain text
PROTOCOLS = {
    'smtp': ['EHLO client.test', 'STARTTLS'],
    'imap': ['gs1 STARTTLS'],
    'pop3': ['STLS'],
    'ftp': ['AUTH TLS'],
    'xmpp': ["to='localhost'", "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"],
    'ldap': ['312e332e362e312e342e312e313436362e3230303337'],   # the StartTLS OID, in hex
    'postgres': ['0000000804d2162f'],
}


def fake(protocol, refuse=False):
    return FakeStartTls(protocol, t.pki('server-chain.pem'), t.pki('server.key'), refuse=refuse)


class StartTls(unittest.TestCase):
    def check_upgrade(self, protocol):
        server = fake(protocol)
        try:
            r, doc = t.run_json('connect', '--starttls', protocol, '--client-name', 'client.test',
                                '--ca', t.pki('ca.pem'), f'localhost:{server.port}')
        finally:
            server.close()
        self.assertIsNone(server.error, server.error)
        self.assertEqual(r.returncode, t.EXIT_OK, f'{doc["verdict"]}\n{r.stderr}')
        self.assertEqual(doc['starttls'], protocol)
        self.assertTrue(doc['success'])
        self.assertEqual(doc['certificate_status'], 'trusted')
        self.assertEqual(doc['chain'][0]['subject'], 'CN=localhost')
        self.assertEqual(doc['protocol'], server.tls_version)
        said = '\n'.join(server.received)
        for expected in PROTOCOLS[protocol]:
            self.assertIn(expected, said)
        self.assertTrue(any(line.startswith('C: ') for line in doc['starttls_transcript']))
        self.assertTrue(any(line.startswith('S: ') for line in doc['starttls_transcript']))

    def check_refusal(self, protocol):
        server = fake(protocol, refuse=True)
        try:
            r, doc = t.run_json('connect', '--starttls', protocol, '--ca', t.pki('ca.pem'),
                                f'localhost:{server.port}')
        finally:
            server.close()
        self.assertEqual(r.returncode, t.EXIT_CONNECTION, doc['verdict'])
        self.assertEqual(doc['phase'], 'starttls')
        self.assertIn('refused to start TLS', doc['error']['message'])

    def test_human_report_and_trace(self):
        server = fake('smtp')
        try:
            r = t.run('connect', '--starttls', 'smtp', '--trace', '--ca', t.pki('ca.pem'),
                      f'localhost:{server.port}')
        finally:
            server.close()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn('STARTTLS     smtp', r.stdout)
        self.assertIn('S: 220 fake.test ESMTP ready', r.stdout)
        self.assertIn('C: STARTTLS', r.stdout)
        self.assertIn('Verdict      OK', r.stdout)

    def test_data_after_upgrade(self):
        server = fake('imap')
        try:
            r = t.run('connect', '-q', '--starttls', 'imap', '--ca', t.pki('ca.pem'), '--wait', '2',
                      f'localhost:{server.port}', input='a2 NOOP\n')
        finally:
            server.close()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, 'echo: a2 NOOP\n')

    def test_certificate_checked_after_upgrade(self):
        server = fake('pop3')
        try:
            r, doc = t.run_json('connect', '--starttls', 'pop3', '--no-system-trust', f'localhost:{server.port}')
        finally:
            server.close()
        self.assertEqual(r.returncode, t.EXIT_VERIFICATION, doc['verdict'])
        self.assertIn('unknown-ca', doc['certificate_errors'])


for _protocol in PROTOCOLS:
    setattr(StartTls, f'test_{_protocol}', lambda self, p=_protocol: self.check_upgrade(p))
    setattr(StartTls, f'test_{_protocol}_refused', lambda self, p=_protocol: self.check_refusal(p))


if __name__ == '__main__':
    sys.exit(t.main())
