# SPDX-License-Identifier: LGPL-2.1-or-later
"""gsecsock inspect: PEM, DER, PKCS#12, bundles and stores; the offline
check of a chain, with the same per-certificate verification as connect."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tooltest as t  # noqa: E402


class Show(unittest.TestCase):
    def test_pem_chain(self):
        r = t.run('inspect', t.pki('server-chain.pem'))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('server-chain.pem: PEM, 2 certificates', r.stdout)
        self.assertIn('#1 CN=localhost', r.stdout)
        self.assertIn('#2 CN=gsecsock Test Intermediate CA', r.stdout)
        self.assertIn('CA        yes: a certificate authority', r.stdout)
        self.assertNotIn('verified', r.stdout)

    def test_bundle(self):
        r, doc = t.run_json('inspect', t.pki('bundle.pem'))
        self.assertEqual(r.returncode, 0)
        self.assertEqual(doc['format'], 'PEM')
        self.assertEqual([c['subject'] for c in doc['certificates']],
                         ['CN=gsecsock Test Root CA', 'CN=gsecsock Test Intermediate CA'])
        self.assertTrue(all(c['is_ca'] for c in doc['certificates']))
        self.assertIsNone(doc['checks'])

    def test_der(self):
        r, doc = t.run_json('inspect', t.pki('server.der'))
        self.assertEqual(r.returncode, 0)
        self.assertEqual(doc['format'], 'DER')
        self.assertEqual(doc['certificates'][0]['subject'], 'CN=localhost')

    def test_pkcs12(self):
        with tempfile.NamedTemporaryFile('w') as password:
            password.write('secret\n')
            password.flush()
            r, doc = t.run_json('inspect', '--password-file', password.name, t.pki('server.p12'))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(doc['format'], 'PKCS#12')
        self.assertEqual([c['subject'] for c in doc['certificates']],
                         ['CN=localhost', 'CN=gsecsock Test Intermediate CA'])
        self.assertTrue(doc['certificates'][0]['has_private_key'])
        # Without a password (no terminal): a clear error.
        r = t.run('inspect', t.pki('server.p12'))
        self.assertEqual(r.returncode, t.EXIT_FILE)
        self.assertIn('password', r.stderr)
        # Without a password at all.
        r, doc = t.run_json('inspect', t.pki('server-nopass.p12'))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(doc['certificates']), 2)

    def test_pkcs12_password_on_the_terminal(self):
        out, code = t.run_in_pty([t.TOOL, 'inspect', t.pki('client.p12')], [(b'Password for', b'secret\n')])
        self.assertEqual(code, 0, out)
        self.assertIn('PKCS#12, 2 certificates', out)
        self.assertIn('CN=gsecsock test client', out)

    def test_store_directory(self):
        r, doc = t.run_json('inspect', t.pki('store'))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(doc['format'], 'certificate store (directory)')
        subjects = {c['subject'] for c in doc['certificates']}
        self.assertIn('CN=web.store.test', subjects)
        self.assertIn('CN=ftp.store.test', subjects)

    def test_store_uri(self):
        r, doc = t.run_json('inspect', 'file://' + t.pki('store/web.pem'))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(doc['format'], 'certificate store (OSSL_STORE URI)')
        self.assertEqual(doc['certificates'][0]['subject'], 'CN=web.store.test')


class Check(unittest.TestCase):
    def test_trusted_chain(self):
        r = t.run('inspect', '--ca', t.pki('ca.pem'), '--host', 'localhost', t.pki('server-chain.pem'))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn('Chain as verified for “localhost”', r.stdout)
        self.assertIn('[0] CN=localhost', r.stdout)
        self.assertIn('[2] CN=gsecsock Test Root CA', r.stdout)
        self.assertIn('from the trust store (not in the inspected file)', r.stdout)
        self.assertEqual(r.stdout.count('verified  ok'), 3)
        self.assertIn('Verdict      OK: the chain is trusted, and valid for “localhost”', r.stdout)

    def test_same_output_as_connect(self):
        """The certificate blocks are those of gsecsock connect."""
        server = t.SServer(*t.s_server_args())
        try:
            connected = t.run('connect', '--ca', t.pki('ca.pem'), f'localhost:{server.port}')
        finally:
            server.stop()
        inspected = t.run('inspect', '--ca', t.pki('ca.pem'), '--host', 'localhost', t.pki('server-chain.pem'))

        def blocks(text):
            lines = text.splitlines()
            start = next(i for i, line in enumerate(lines) if line.startswith('  [0]'))
            end = next(i for i, line in enumerate(lines) if i > start and not line.startswith('  '))
            return [line for line in lines[start:end] if 'note ' not in line]

        self.assertEqual(blocks(connected.stdout), blocks(inspected.stdout))

    def test_problems(self):
        cases = [
            ('expired-chain.pem', 'localhost', ['expired'], 'expired'),
            ('notyet-chain.pem', 'localhost', ['not-activated'], 'not-yet-valid'),
            ('wronghost-chain.pem', 'localhost', ['bad-identity'], 'principal-mismatch'),
            ('server-chain.pem', 'example.org', ['bad-identity'], 'principal-mismatch'),
            ('server.pem', 'localhost', ['unknown-ca', 'incomplete-chain'], 'untrusted-signers'),
            ('constrained-chain.pem', 'localhost', ['generic-error'], 'invalid'),
        ]
        for name, host, errors, status in cases:
            with self.subTest(name=name, host=host):
                r, doc = t.run_json('inspect', '--ca', t.pki('ca.pem'), '--ca', t.pki('constrained-ca.pem'),
                                    '--host', host, t.pki(name))
                self.assertEqual(r.returncode, t.EXIT_VERIFICATION, doc)
                check = doc['checks'][0]
                self.assertFalse(check['trusted'])
                for error in errors:
                    self.assertIn(error, check['errors'])
                self.assertEqual(check['status'], status)
                self.assertTrue(check['verdict'].startswith('FAILED'))
                self.assertIsNone(check['chain'][0]['accepted'])   # checked, not decided

    def test_untrusted_root(self):
        r, doc = t.run_json('inspect', '--no-system-trust', t.pki('untrusted-chain.pem'))
        self.assertEqual(r.returncode, t.EXIT_VERIFICATION)
        self.assertIn('unknown-ca', doc['checks'][0]['errors'])

    def test_revocation(self):
        r, doc = t.run_json('inspect', '--ca', t.pki('ca.pem'), '--crl', t.pki('intermediate.crl.pem'),
                            '--host', 'localhost', t.pki('revoked-chain.pem'))
        self.assertEqual(r.returncode, t.EXIT_VERIFICATION)
        self.assertEqual(doc['checks'][0]['status'], 'revoked')
        r, doc = t.run_json('inspect', '--ca', t.pki('ca.pem'), '--crl', t.pki('intermediate.crl.pem'),
                            '--host', 'localhost', t.pki('server-chain.pem'))
        self.assertEqual(r.returncode, 0, doc)

    def test_without_host_name(self):
        r, doc = t.run_json('inspect', '--ca', t.pki('ca.pem'), t.pki('server-chain.pem'))
        self.assertEqual(r.returncode, 0, doc)
        self.assertIn('no host name checked', doc['checks'][0]['verdict'])

    def test_extra_certificates_are_shown(self):
        with tempfile.NamedTemporaryFile('w', suffix='.pem') as f:
            for name in ('server.pem', 'intermediate.pem', 'client.pem'):
                with open(t.pki(name)) as part:
                    f.write(part.read())
            f.flush()
            r = t.run('inspect', '--ca', t.pki('ca.pem'), '--host', 'localhost', f.name)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn('[-] CN=gsecsock test client', r.stdout)
        self.assertIn('in the file, but not part of the verified chain', r.stdout)

    def test_pkcs12_chain(self):
        r, doc = t.run_json('inspect', '--ca', t.pki('ca.pem'), '--host', '127.0.0.1', t.pki('server-nopass.p12'))
        self.assertEqual(r.returncode, 0, doc)
        self.assertEqual([c['depth'] for c in doc['checks'][0]['chain']], [0, 1, 2])

    def test_store_checks_each_leaf(self):
        r, doc = t.run_json('inspect', '--ca', t.pki('ca.pem'), '--host', 'web.store.test', t.pki('store'))
        self.assertEqual(r.returncode, t.EXIT_VERIFICATION)   # the other leaves have other names
        verdicts = {c['chain'][0]['subject']: c['trusted'] for c in doc['checks']}
        self.assertTrue(verdicts['CN=web.store.test'])
        self.assertFalse(verdicts['CN=ftp.store.test'])


if __name__ == '__main__':
    sys.exit(t.main())
