#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Python handlers that raise, or return what they should not. PyGObject
reports the exception (sys.excepthook; it prints the traceback by default)
and the emission returns the type's zero value: FALSE or NULL. So a raising
verify-certificate handler rejects, a raising password-requested handler
cancels the load, a raising client-certificate-requested handler lets the
default apply, and a raising handshake-info handler changes nothing. The
process always survives."""

import sys
import unittest

from testutils import (GLib, Gio, GSecSock, GuardedTestCase, Pair, client_context,
                       pki_path, run_loop, server_context)

Error = GSecSock.Error


def raising(*args):
    raise RuntimeError('bug in a handler')


class HandlerErrorTest(GuardedTestCase):

    def setUp(self):
        super().setUp()
        # What PyGObject reports, as (type name, message): keeping the
        # exceptions themselves would keep their frames alive.
        self.reported = []
        saved_hook = sys.excepthook
        sys.excepthook = lambda kind, value, tb: self.reported.append((kind.__name__, str(value)))
        self.addCleanup(setattr, sys, 'excepthook', saved_hook)
        # PyErr_Print() keeps the last exception in sys.last_*, frames and
        # their local variables included.
        self.addCleanup(self.forget_last_exception)

    @staticmethod
    def forget_last_exception():
        for name in ('last_type', 'last_value', 'last_traceback', 'last_exc'):
            if hasattr(sys, name):
                delattr(sys, name)

    def pair(self, client_ctx=None, server_ctx=None):
        pair = Pair(client_ctx or client_context(), server_ctx or server_context())
        self.addCleanup(pair.close)
        return pair

    def assert_error(self, error, code):
        self.assertIsNotNone(error)
        self.assertTrue(error.matches(GSecSock.error_quark(), code),
                        f'expected {code}, got {error.domain} {error.code}: {error.message}')

    def client_certificate_server(self):
        ctx = server_context()
        ctx.set_verify_peer(True)
        ctx.set_use_system_trust(False)
        ctx.add_trust_anchor_file(pki_path('ca.pem'))
        return ctx

    def test_verify_certificate_raising_rejects(self):
        pair = self.pair()

        def on_verify(sock, certificate, depth, errors):
            if depth == 0:
                raise ValueError(f'cannot decide about {certificate.get_subject()}')
            return True

        pair.client.connect('verify-certificate', on_verify)
        client_error, server_error = pair.handshake()
        self.assert_error(client_error, Error.CERTIFICATE_REJECTED)
        self.assertIn('verify-certificate handler', client_error.message)
        self.assertIn('bad certificate', server_error.message)
        self.assertEqual(self.reported, [('ValueError', 'cannot decide about CN=localhost')])

        # Nothing is left broken: the next connection works.
        pair = self.pair()
        pair.client.connect('verify-certificate', lambda sock, cert, depth, errors: errors == 0)
        self.assertEqual(pair.handshake(), (None, None))

    def test_verify_certificate_returning_none_rejects(self):
        # A handler that forgets its return statement rejects: None is FALSE.
        pair = self.pair()
        seen = []
        pair.client.connect('verify-certificate', lambda *args: seen.append(args[2]))
        client_error, _ = pair.handshake()
        self.assert_error(client_error, Error.CERTIFICATE_REJECTED)
        self.assertEqual(seen, [2])   # rejected at the first emission, the root
        self.assertEqual(self.reported, [])

    def test_server_context_verify_certificate_raising_rejects(self):
        server_ctx = self.client_certificate_server()
        server_ctx.connect('verify-certificate', raising)
        client_ctx = client_context()
        client_ctx.load_certificate_file(pki_path('client-chain.pem'), pki_path('client.key'))
        pair = self.pair(client_ctx, server_ctx)
        _, server_error = pair.handshake()
        self.assert_error(server_error, Error.CERTIFICATE_REJECTED)
        self.assertIn('of the client', server_error.message)
        self.assertEqual(self.reported, [('RuntimeError', 'bug in a handler')])

    def test_password_requested_raising_cancels(self):
        ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER)
        calls = []

        def on_password(ctx, description, attempt):
            calls.append(attempt)
            raise KeyError('no keyring')

        ctx.connect('password-requested', on_password)
        with self.assertRaises(GLib.Error) as caught:
            ctx.load_certificate_file(pki_path('server.pem'), pki_path('encrypted.key'))
        self.assert_error(caught.exception, Error.BAD_PASSWORD)
        self.assertIn('cancelled', caught.exception.message)
        self.assertEqual(calls, [1])   # a cancel is not a wrong password: no retry
        self.assertEqual(self.reported, [('KeyError', "'no keyring'")])

    def test_password_requested_needs_str(self):
        # PyGObject turns whatever the handler returns into a string with
        # str(): b'secret' becomes "b'secret'", a wrong password.
        ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER)
        ctx.connect('password-requested', lambda ctx, description, attempt: b'secret')
        with self.assertRaises(GLib.Error) as caught:
            ctx.load_certificate_file(pki_path('server.pem'), pki_path('encrypted.key'))
        self.assert_error(caught.exception, Error.BAD_PASSWORD)
        self.assertIn('wrong 3 times', caught.exception.message)

        ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER)
        ctx.connect('password-requested', lambda ctx, description, attempt: b'secret'.decode())
        self.assertTrue(ctx.load_certificate_file(pki_path('server.pem'),
                                                  pki_path('encrypted.key')))

    def test_client_certificate_requested_raising_applies_the_default(self):
        # The default is the context's own certificate, when it has one...
        client_ctx = client_context()
        client_ctx.load_certificate_file(pki_path('client-chain.pem'), pki_path('client.key'))
        pair = self.pair(client_ctx, self.client_certificate_server())
        pair.client.connect('client-certificate-requested', raising)
        self.assertEqual(pair.handshake(), (None, None))
        self.assertEqual(pair.server.get_peer_certificate().props.subject,
                         'CN=gsecsock test client')
        self.assertEqual(len(self.reported), 1)

        # ...and no certificate when it has none: the server decides.
        pair = self.pair(client_context(), self.client_certificate_server())
        pair.client.connect('client-certificate-requested', raising)
        _, server_error = pair.handshake()
        self.assert_error(server_error, Error.CERTIFICATE_REJECTED)
        self.assertIn('no certificate', server_error.message)
        self.assertEqual(len(self.reported), 2)

    def test_handshake_info_raising_changes_nothing(self):
        pair = self.pair()
        events = []
        pair.client.connect('handshake-info', lambda sock, where, value, text: events.append(where))
        pair.client.connect('handshake-info', raising)
        self.assertEqual(pair.handshake(), (None, None))
        self.assertGreater(len(events), 5)
        # Every emission ran both handlers.
        self.assertEqual(len(self.reported), len(events))

    def test_raising_after_deferring_then_answering(self):
        # The return value of a deferring handler is ignored, and so is an
        # exception: the answer given later decides.
        pair = self.pair()

        def on_verify(sock, certificate, depth, errors):
            decision = sock.defer_decision()
            GLib.timeout_add(10, lambda: decision.accept() or GLib.SOURCE_REMOVE)
            raise RuntimeError('after deferring')

        pair.client.connect('verify-certificate', on_verify)
        self.assertEqual(pair.handshake(), (None, None))
        self.assertEqual(self.reported, [('RuntimeError', 'after deferring')] * 3)

    def test_raising_after_deferring_without_answering(self):
        # A decision dropped without an answer is a rejection, but here it is
        # not dropped: sys.last_traceback holds the handler's frame, and the
        # frame the decision. The handshake waits for handshake-timeout.
        pair = self.pair()
        pair.client.props.handshake_timeout = 1

        def on_verify(sock, certificate, depth, errors):
            decision = sock.defer_decision()
            raise RuntimeError(f'never answered the {decision.props.kind.value_nick} decision')

        pair.client.connect('verify-certificate', on_verify)
        client_error, _ = pair.handshake()
        self.assertTrue(client_error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT),
                        client_error.message)
        self.assertEqual(len(self.reported), 1)

        # Once the last exception is forgotten, the decision goes, and that
        # rejects at once.
        def on_verify_then_forget(sock, certificate, depth, errors):
            GLib.idle_add(lambda: self.forget_last_exception() or GLib.SOURCE_REMOVE)
            on_verify(sock, certificate, depth, errors)

        pair = self.pair()
        pair.client.props.handshake_timeout = 10
        pair.client.connect('verify-certificate', on_verify_then_forget)
        client_error, _ = pair.handshake()
        self.assert_error(client_error, Error.CERTIFICATE_REJECTED)

    def test_async_callback_raising(self):
        pair = self.pair()
        loop = GLib.MainLoop()
        finished = []

        def done(sock, result, name):
            sock.handshake_finish(result)
            finished.append(name)
            loop.quit()
            raise RuntimeError(f'{name} callback')

        pair.client.handshake_async(GLib.PRIORITY_DEFAULT, None, done, 'client')
        pair.server.handshake_async(GLib.PRIORITY_DEFAULT, None, done, 'server')
        run_loop(loop, lambda: len(finished) == 2, 'the handshakes')
        self.assertCountEqual(self.reported, [('RuntimeError', 'client callback'),
                                              ('RuntimeError', 'server callback')])
        # The connection is fine.
        pair.client.write_all(b'ping')
        self.assertEqual(pair.server.read_all(4), b'ping')


if __name__ == '__main__':
    unittest.main(verbosity=2)
