#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""GSecSockSecureSocketContext::password-requested from Python: encrypted PEM
keys and PKCS#12 files, wrong passwords, cancelling, and certificates that
carry their private key."""

import unittest

from testutils import GLib, GSecSock, pki_path

PASSWORD = 'secret'


class PasswordLog:
    """A password-requested handler answering from a list, one answer per
    attempt (None cancels), that records every emission."""

    def __init__(self, *answers):
        self.answers = answers
        self.calls = []

    def __call__(self, ctx, description, attempt):
        self.calls.append((description, attempt))
        if attempt <= len(self.answers):
            return self.answers[attempt - 1]
        return None

    @property
    def attempts(self):
        return [attempt for _, attempt in self.calls]


def server_context(log=None):
    ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER)
    if log is not None:
        ctx.connect('password-requested', log)
    return ctx


class PasswordRequestedTest(unittest.TestCase):

    def assert_gsecsock_error(self, error, code):
        self.assertTrue(error.matches(GSecSock.error_quark(), code),
                        f'{error.domain} {error.code}: {error.message}')
        self.assertEqual(error.code, int(code))

    def test_wrong_then_right(self):
        for key in ('encrypted.key', 'encrypted-traditional.key'):
            with self.subTest(key=key):
                log = PasswordLog('wrong', PASSWORD)
                ctx = server_context(log)
                self.assertTrue(ctx.load_certificate_file(pki_path('server-chain.pem'), pki_path(key)))
                self.assertEqual(log.attempts, [1, 2])
                for description, _ in log.calls:
                    self.assertIn('private key', description)
                    self.assertIn(pki_path(key), description)

    def test_cancel(self):
        log = PasswordLog(None)
        ctx = server_context(log)
        with self.assertRaises(GLib.Error) as caught:
            ctx.load_certificate_file(pki_path('server.pem'), pki_path('encrypted.key'))
        self.assert_gsecsock_error(caught.exception, GSecSock.Error.BAD_PASSWORD)
        self.assertIn('cancelled', caught.exception.message)
        self.assertEqual(log.attempts, [1])

    def test_three_wrong(self):
        log = PasswordLog('a', 'b', 'c', PASSWORD)
        ctx = server_context(log)
        with self.assertRaises(GLib.Error) as caught:
            ctx.load_pkcs12_file(pki_path('server.p12'))
        self.assert_gsecsock_error(caught.exception, GSecSock.Error.BAD_PASSWORD)
        self.assertEqual(log.attempts, [1, 2, 3])

    def test_no_handler(self):
        ctx = server_context()
        with self.assertRaises(GLib.Error) as caught:
            ctx.load_certificate_file(pki_path('server.pem'), pki_path('encrypted.key'))
        self.assert_gsecsock_error(caught.exception, GSecSock.Error.BAD_PASSWORD)
        self.assertIn('password-requested', caught.exception.message)

    def test_pkcs12(self):
        log = PasswordLog('wrong', PASSWORD)
        ctx = server_context(log)
        self.assertTrue(ctx.load_pkcs12_file(pki_path('server.p12')))
        self.assertEqual(log.attempts, [1, 2])
        self.assertIn('PKCS#12', log.calls[0][0])
        self.assertIn(pki_path('server.p12'), log.calls[0][0])

    def test_pkcs12_without_password_never_asks(self):
        log = PasswordLog(PASSWORD)
        ctx = server_context(log)
        self.assertTrue(ctx.load_pkcs12_file(pki_path('server-nopass.p12')))
        self.assertEqual(log.calls, [])

    def test_load_identity(self):
        log = PasswordLog(PASSWORD)
        ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT)
        ctx.connect('password-requested', log)
        identity = ctx.load_identity(pki_path('client.p12'), None)
        self.assertTrue(identity.get_has_private_key())
        self.assertTrue(identity.props.has_private_key)
        self.assertEqual(identity.props.subject, 'CN=gsecsock test client')
        self.assertEqual(log.attempts, [1])
        self.assertTrue(ctx.set_certificate(identity))

        plain = GSecSock.Certificate.new_from_file(pki_path('client.pem'))
        self.assertFalse(plain.props.has_private_key)
        self.assertTrue(plain.equal(identity))
        with self.assertRaises(GLib.Error) as caught:
            ctx.set_certificate(plain)
        self.assert_gsecsock_error(caught.exception, GSecSock.Error.MISUSE)

    def test_new_from_files(self):
        cert = GSecSock.Certificate.new_from_files(pki_path('server-chain.pem'), pki_path('server.key'))
        self.assertTrue(cert.props.has_private_key)
        with self.assertRaises(GLib.Error) as caught:
            GSecSock.Certificate.new_from_files(pki_path('server.pem'), pki_path('encrypted.key'))
        self.assert_gsecsock_error(caught.exception, GSecSock.Error.BAD_PASSWORD)


if __name__ == '__main__':
    unittest.main(verbosity=2)
