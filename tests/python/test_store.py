#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""GSecSock.CertificateStore from Python: a directory store and an
OSSL_STORE file: URI; lookups by name and by fingerprint in the forms people
write them; ambiguous names, nothing found, malformed fingerprints; encrypted
keys asking through password-requested; and a server whose certificate comes
from the store by fingerprint (the store is tests/pki/store, see
make-test-pki.sh)."""

import unittest

from testutils import GLib, GSecSock, GuardedTestCase, Pair, client_context, pki_path

PASSWORD = 'secret'
Lookup = GSecSock.Lookup


def reference(name):
    """The certificate store-NAME.pem, the store's NAME."""
    return GSecSock.Certificate.new_from_file(pki_path(f'store-{name}.pem'))


def written_forms(fingerprint):
    """A fingerprint as gsecsock prints it ("aa:bb:…") in the forms people
    copy it: upper case with colons, spaces (Windows' certificate manager,
    with the invisible mark its copy brings), bare, mixed case."""
    digits = fingerprint.split(':')
    return [
        fingerprint,
        fingerprint.upper(),
        ' '.join(digits),
        ' '.join(digits).upper(),
        '\u200e' + ' '.join(digits),
        ''.join(digits),
        ''.join(digits).upper(),
        ''.join(d.upper() if i % 2 else d for i, d in enumerate(digits)),
    ]


class PasswordLog:
    """A password-requested handler answering from a list (None cancels)."""

    def __init__(self, *answers):
        self.answers = answers
        self.calls = []

    def __call__(self, ctx, description, attempt):
        self.calls.append((description, attempt))
        return self.answers[attempt - 1] if attempt <= len(self.answers) else None


def password_context(log):
    ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER)
    ctx.connect('password-requested', log)
    return ctx


class StoreTest(GuardedTestCase):

    def setUp(self):
        super().setUp()
        self.store = GSecSock.CertificateStore.new_for_directory(pki_path('store'))

    def assert_error(self, caught, code, *fragments):
        error = caught.exception
        self.assertTrue(error.matches(GSecSock.error_quark(), code),
                        f'{error.domain} {error.code}: {error.message}')
        for fragment in fragments:
            self.assertIn(fragment, error.message)

    def assert_finds(self, identifier, how, name, ctx=None, store=None):
        certificate = (store or self.store).lookup(identifier, how, ctx)
        self.assertTrue(certificate.props.has_private_key)
        self.assertTrue(certificate.equal(reference(name)), f'{identifier!r} found {certificate.props.subject}')
        return certificate

    def test_list(self):
        self.assertEqual(self.store.props.location, pki_path('store'))
        certificates = list(self.store.list_certificates())
        subjects = sorted(c.props.subject for c in certificates)
        self.assertEqual(subjects, ['CN=dup.store.test', 'CN=dup.store.test', 'CN=ftp.store.test',
                                    'CN=gsecsock Test Intermediate CA', 'CN=nokey.store.test',
                                    'CN=secure.store.test', 'CN=web.store.test'])
        self.assertFalse(any(c.props.has_private_key for c in certificates))

    def test_by_name(self):
        self.assert_finds('web.store.test', Lookup.NAME, 'web')
        self.assert_finds('Web.Store.TEST', Lookup.ANY, 'web')
        self.assert_finds('localhost', Lookup.NAME, 'web')       # SAN DNS
        self.assert_finds('127.0.0.1', Lookup.NAME, 'web')       # SAN IP
        self.assert_finds('[::1]', Lookup.ANY, 'web')
        self.assert_finds('ftp.store.test', Lookup.NAME, 'ftp')  # DER certificate and key

    def test_by_fingerprint(self):
        for name in ('web', 'ftp', 'dup-a'):
            cert = reference(name)
            for how, fingerprint in ((Lookup.FINGERPRINT_SHA1, cert.props.fingerprint_sha1),
                                     (Lookup.FINGERPRINT_SHA256, cert.props.fingerprint_sha256)):
                for written in written_forms(fingerprint):
                    with self.subTest(name=name, written=written):
                        self.assert_finds(written, how, name)
                        self.assert_finds(written, Lookup.ANY, name)

    def test_ambiguous(self):
        with self.assertRaises(GLib.Error) as caught:
            self.store.lookup('dup.store.test', Lookup.NAME, None)
        self.assert_error(caught, GSecSock.Error.AMBIGUOUS, 'dup.store.test', pki_path('store'),
                          'dup-a.pem', 'dup-b.pem', reference('dup-a').props.fingerprint_sha256,
                          reference('dup-b').props.fingerprint_sha256, 'CN=gsecsock Test Intermediate CA')

    def test_not_found(self):
        with self.assertRaises(GLib.Error) as caught:
            self.store.lookup('nowhere.store.test', Lookup.NAME, None)
        self.assert_error(caught, GSecSock.Error.NOT_FOUND, pki_path('store'), '“nowhere.store.test”',
                          'mail.p12', 'notes.txt')

        with self.assertRaises(GLib.Error) as caught:
            self.store.lookup('nokey.store.test', Lookup.NAME, None)
        self.assert_error(caught, GSecSock.Error.NOT_FOUND, 'no private key', 'nokey.pem')

    def test_bad_fingerprint(self):
        with self.assertRaises(GLib.Error) as caught:
            self.store.lookup('9d a4 84 fc f6 62 92 90 9a 62 d4 ca 65 fb 08 7e 06 45 of 24',
                              Lookup.FINGERPRINT_SHA1, None)
        self.assert_error(caught, GSecSock.Error.MISUSE, '“o”', 'hexadecimal', '40')

        with self.assertRaises(GLib.Error) as caught:
            self.store.lookup('9d a4 84', Lookup.FINGERPRINT_SHA256, None)
        self.assert_error(caught, GSecSock.Error.MISUSE, '6 hexadecimal digits instead of 64')

    def test_encrypted_key(self):
        log = PasswordLog('wrong', PASSWORD)
        ctx = password_context(log)
        with self.assertRaises(GLib.Error) as caught:
            self.store.lookup('secure.store.test', Lookup.NAME, None)
        self.assert_error(caught, GSecSock.Error.BAD_PASSWORD, 'secure.key', 'password-requested')

        self.assert_finds('secure.store.test', Lookup.NAME, 'secure', ctx)
        self.assertEqual([attempt for _, attempt in log.calls], [1, 2])
        self.assertIn(pki_path('store/secure.key'), log.calls[0][0])

    def test_pkcs12(self):
        log = PasswordLog(PASSWORD)
        ctx = password_context(log)
        self.assert_finds('Store Mail', Lookup.NAME, 'mail', ctx)   # PKCS#12 friendly name
        self.assertEqual(len(log.calls), 1)
        self.assertIn('PKCS#12', log.calls[0][0])

        log = PasswordLog(None)
        ctx = password_context(log)
        with self.assertRaises(GLib.Error) as caught:
            self.store.lookup('mail.store.test', Lookup.NAME, ctx)
        self.assert_error(caught, GSecSock.Error.BAD_PASSWORD, 'cancelled')

    def test_ossl_store_uri(self):
        uri = 'file:' + pki_path('store')
        store = GSecSock.CertificateStore.new_for_uri(uri)
        self.assertEqual(store.get_location(), uri)
        self.assert_finds(reference('web').props.fingerprint_sha256.upper(), Lookup.ANY, 'web', store=store)

        log = PasswordLog(PASSWORD)
        self.assert_finds('secure.store.test', Lookup.NAME, 'secure', password_context(log), store=store)
        self.assertEqual(len(log.calls), 1)
        self.assertIn('secure.key', log.calls[0][0])

        with self.assertRaises(GLib.Error) as caught:
            GSecSock.CertificateStore.new_for_uri('file:/nonexistent/gsecsock-store')
        self.assert_error(caught, GSecSock.Error.BAD_CERTIFICATE_FILE, '/nonexistent/gsecsock-store')

    def test_handshake_with_certificate_from_store(self):
        """A server presenting the certificate chosen by its SHA-1
        fingerprint with spaces, as WinDev's SocketCreateSSL takes it."""
        server_ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER)
        web = reference('web')
        thumbprint = ' '.join(web.props.fingerprint_sha1.split(':'))
        server_ctx.use_certificate_from_store(self.store, thumbprint, Lookup.FINGERPRINT_SHA1)

        pair = Pair(client_context(), server_ctx, 'localhost')
        try:
            client_error, server_error = pair.handshake()
            self.assertIsNone(client_error)
            self.assertIsNone(server_error)
            self.assertTrue(pair.client.get_peer_certificate().equal(web))
            # The intermediate, from the store, was sent after the leaf.
            chain = list(pair.client.get_peer_certificate_chain())
            self.assertEqual(len(chain), 2)
            self.assertEqual(chain[1].props.subject, 'CN=gsecsock Test Intermediate CA')
        finally:
            pair.close()


if __name__ == '__main__':
    unittest.main(verbosity=2)
