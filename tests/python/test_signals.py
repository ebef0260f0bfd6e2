# SPDX-License-Identifier: LGPL-2.1-or-later
"""The decision signals from Python: verify-certificate (per depth, pinning,
deferred), handshake-info (alerts), client-certificate-requested (choice by
issuer), and exceptions raised in handlers."""

import unittest

from testutils import GLib, GSecSock, pki_path
from gi.repository import Gio

GUARD_SECONDS = 30
Flags = GSecSock.CertificateFlags


def client_context():
    ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT)
    ctx.set_use_system_trust(False)
    ctx.add_trust_anchor_file(pki_path('ca.pem'))
    return ctx


def server_context(chain='server-chain.pem', key='server.key'):
    ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER)
    ctx.load_certificate_file(pki_path(chain), pki_path(key))
    return ctx


class Pair:
    """A client and a server socket over a loopback TCP connection."""

    def __init__(self, client_ctx, server_ctx, peer_name='localhost'):
        listener = Gio.SocketListener()
        port = listener.add_any_inet_port(None)
        self.client_conn = Gio.SocketClient().connect_to_host('127.0.0.1', port, None)
        self.server_conn, _ = listener.accept(None)
        listener.close()
        self.client = GSecSock.SecureSocket.new(client_ctx, self.client_conn, peer_name)
        self.server = GSecSock.SecureSocket.new(server_ctx, self.server_conn, None)
        self.results = {}

    def handshake(self):
        """Both handshakes, asynchronously, in a GLib main loop. Returns the
        errors (None for success) of client and server."""
        loop = GLib.MainLoop()

        def done(sock, result, name):
            try:
                sock.handshake_finish(result)
                self.results[name] = None
            except GLib.Error as error:
                self.results[name] = error
            if len(self.results) == 2:
                loop.quit()

        def guard():
            loop.quit()
            return GLib.SOURCE_REMOVE

        self.client.handshake_async(GLib.PRIORITY_DEFAULT, None, done, 'client')
        self.server.handshake_async(GLib.PRIORITY_DEFAULT, None, done, 'server')
        guard_id = GLib.timeout_add_seconds(GUARD_SECONDS, guard)
        loop.run()
        if len(self.results) != 2:
            raise AssertionError('the handshakes did not finish in time')
        GLib.source_remove(guard_id)
        return self.results['client'], self.results['server']

    def close(self):
        for sock in (self.client, self.server):
            try:
                sock.close(None)
            except GLib.Error:
                pass


class VerifyCertificateTest(unittest.TestCase):

    def test_per_depth_order(self):
        pair = Pair(client_context(), server_context())
        seen = []

        def on_verify(sock, certificate, depth, errors):
            seen.append((depth, certificate.get_subject(), errors))
            return True

        pair.client.connect('verify-certificate', on_verify)
        client_error, server_error = pair.handshake()
        self.assertIsNone(client_error)
        self.assertIsNone(server_error)
        self.assertEqual([d for d, _, _ in seen], [2, 1, 0])
        self.assertEqual(seen[0][1], 'CN=gsecsock Test Root CA')
        self.assertEqual(seen[2][1], 'CN=localhost')
        self.assertTrue(all(errors == 0 for _, _, errors in seen))
        pair.close()

    def pinned_handshake(self, pin):
        pair = Pair(client_context(), server_context('selfsigned.pem', 'selfsigned.key'))
        seen = []

        def on_verify(sock, certificate, depth, errors):
            seen.append(errors)
            if depth == 0 and errors == (Flags.SELF_SIGNED | Flags.UNKNOWN_CA):
                return certificate.get_fingerprint_sha256() == pin
            return errors == 0

        pair.client.connect('verify-certificate', on_verify)
        result = pair.handshake()
        pair.close()
        return result, seen

    def test_pin_self_signed_by_fingerprint(self):
        expected = GSecSock.Certificate.new_from_file(pki_path('selfsigned.pem'))
        (client_error, server_error), seen = self.pinned_handshake(
            expected.get_fingerprint_sha256())
        self.assertIsNone(client_error)
        self.assertEqual(seen, [Flags.SELF_SIGNED | Flags.UNKNOWN_CA])

        other = GSecSock.Certificate.new_from_file(pki_path('server.pem'))
        (client_error, server_error), _ = self.pinned_handshake(other.get_fingerprint_sha256())
        self.assertTrue(client_error.matches(GSecSock.error_quark(),
                                             GSecSock.Error.CERTIFICATE_REJECTED))
        self.assertIsNotNone(server_error)

    def test_deferred_accept_after_timeout(self):
        pair = Pair(client_context(), server_context())
        decisions = []

        def on_verify(sock, certificate, depth, errors):
            if depth != 0:
                return True
            decision = sock.defer_decision()
            decisions.append(decision)

            def answer():
                decision.accept()
                return GLib.SOURCE_REMOVE

            GLib.timeout_add(50, answer)
            return False    # ignored: deferred

        pair.client.connect('verify-certificate', on_verify)
        client_error, server_error = pair.handshake()
        self.assertIsNone(client_error)
        self.assertIsNone(server_error)
        self.assertEqual(len(decisions), 1)
        self.assertTrue(decisions[0].props.answered)
        self.assertEqual(decisions[0].props.kind, GSecSock.DecisionKind.VERIFY_CERTIFICATE)
        self.assertTrue(pair.client.props.handshake_complete)
        pair.close()

    def test_deferred_reject(self):
        pair = Pair(client_context(), server_context())

        def on_verify(sock, certificate, depth, errors):
            decision = sock.defer_decision()
            GLib.timeout_add(20, lambda: decision.reject() or GLib.SOURCE_REMOVE)
            return True     # ignored: deferred

        pair.client.connect('verify-certificate', on_verify)
        client_error, server_error = pair.handshake()
        self.assertTrue(client_error.matches(GSecSock.error_quark(),
                                             GSecSock.Error.CERTIFICATE_REJECTED))
        pair.close()

    def test_exception_in_handler_rejects(self):
        pair = Pair(client_context(), server_context())

        def on_verify(sock, certificate, depth, errors):
            raise RuntimeError('handler bug')

        pair.client.connect('verify-certificate', on_verify)
        client_error, _ = pair.handshake()
        self.assertTrue(client_error.matches(GSecSock.error_quark(),
                                             GSecSock.Error.CERTIFICATE_REJECTED))
        pair.close()

    def test_context_handler(self):
        ctx = client_context()
        sockets = []

        def on_verify(context, sock, certificate, depth, errors):
            sockets.append(sock)
            return errors == 0

        ctx.connect('verify-certificate', on_verify)
        pair = Pair(ctx, server_context())
        client_error, _ = pair.handshake()
        self.assertIsNone(client_error)
        self.assertEqual(len(sockets), 3)
        self.assertTrue(all(s is pair.client for s in sockets))
        pair.close()


class HandshakeInfoTest(unittest.TestCase):

    def test_alerts_when_the_client_rejects(self):
        pair = Pair(client_context(), server_context())
        client_events = []
        server_events = []

        pair.client.connect('verify-certificate', lambda *args: False)
        pair.client.connect('handshake-info',
                            lambda sock, where, value, text: client_events.append((where, value, text)))
        pair.server.connect('handshake-info',
                            lambda sock, where, value, text: server_events.append((where, value, text)))
        client_error, server_error = pair.handshake()
        self.assertIsNotNone(client_error)
        self.assertIn('bad certificate', server_error.message)

        Info = GSecSock.HandshakeInfoFlags
        sent = [e for e in client_events if e[0] & Info.ALERT and e[0] & Info.WRITE]
        received = [e for e in server_events if e[0] & Info.ALERT and e[0] & Info.READ]
        self.assertEqual([(v, t) for _, v, t in sent], [(42, 'fatal bad_certificate')])
        self.assertEqual([(v, t) for _, v, t in received], [(42, 'fatal bad_certificate')])
        self.assertTrue(sent[0][0] & Info.FATAL)
        self.assertTrue(any(e[0] & Info.START for e in client_events))
        self.assertTrue(any('client hello' in e[2] for e in client_events if e[0] & Info.STATE))
        pair.close()

    def test_alert_the_server_sends_when_it_rejects(self):
        server_ctx = server_context()
        server_ctx.set_verify_peer(True)
        server_ctx.set_use_system_trust(False)
        server_ctx.add_trust_anchor_file(pki_path('ca.pem'))
        client_ctx = client_context()
        client_ctx.load_certificate_file(pki_path('client-chain.pem'), pki_path('client.key'))
        pair = Pair(client_ctx, server_ctx)
        client_events = []

        pair.server.connect('verify-certificate', lambda sock, cert, depth, errors: depth != 0)
        pair.client.connect('handshake-info',
                            lambda sock, where, value, text: client_events.append((where, text)))
        client_error, server_error = pair.handshake()
        self.assertTrue(server_error.matches(GSecSock.error_quark(),
                                             GSecSock.Error.CERTIFICATE_REJECTED))
        if client_error is None:
            # TLS 1.3: the client's handshake ends before the server has
            # checked its certificate; the alert comes with the next read.
            with self.assertRaises(GLib.Error):
                pair.client.get_input_stream().read_bytes(16, None)
        Info = GSecSock.HandshakeInfoFlags
        self.assertIn((Info.CONNECT | Info.ALERT | Info.READ | Info.FATAL, 'fatal bad_certificate'),
                      client_events)
        pair.close()


class ClientCertificateTest(unittest.TestCase):

    def test_chosen_from_two_by_acceptable_issuers(self):
        server_ctx = server_context()
        server_ctx.set_verify_peer(True)
        server_ctx.set_use_system_trust(False)
        server_ctx.add_trust_anchor_file(pki_path('bundle.pem'))
        candidates = [
            GSecSock.Certificate.new_from_files(pki_path('client-other-chain.pem'),
                                                pki_path('client-other.key')),
            GSecSock.Certificate.new_from_files(pki_path('client-chain.pem'),
                                                pki_path('client.key')),
        ]
        pair = Pair(client_context(), server_ctx)
        asked = []

        def on_request(sock, issuers):
            asked.append(list(issuers))
            for candidate in candidates:
                if candidate.get_issuer() in issuers:
                    sock.set_client_certificate(candidate)
                    break
            return True

        pair.client.connect('client-certificate-requested', on_request)
        client_error, server_error = pair.handshake()
        self.assertIsNone(client_error)
        self.assertIsNone(server_error)
        self.assertEqual(len(asked), 1)
        self.assertIn('CN=gsecsock Test Root CA', asked[0])
        peer = pair.server.get_peer_certificate()
        self.assertTrue(peer.equal(candidates[1]))
        pair.close()

    def test_context_handler(self):
        server_ctx = server_context()
        server_ctx.set_verify_peer(True)
        server_ctx.set_use_system_trust(False)
        server_ctx.add_trust_anchor_file(pki_path('bundle.pem'))
        identity = GSecSock.Certificate.new_from_files(pki_path('client-chain.pem'),
                                                       pki_path('client.key'))
        client_ctx = client_context()
        asked = []

        def on_request(context, sock, issuers):
            asked.append(sock)
            sock.set_client_certificate(identity)
            return True

        client_ctx.connect('client-certificate-requested', on_request)
        pair = Pair(client_ctx, server_ctx)
        client_error, server_error = pair.handshake()
        self.assertIsNone(client_error)
        self.assertIsNone(server_error)
        self.assertEqual(asked, [pair.client])
        self.assertTrue(pair.server.get_peer_certificate().equal(identity))
        pair.close()


class ContextHandshakeInfoTest(unittest.TestCase):

    def test_context_handler_gets_every_socket(self):
        client_ctx = client_context()
        sockets = set()
        client_ctx.connect('handshake-info',
                           lambda ctx, sock, where, value, text: sockets.add(sock))
        pairs = [Pair(client_ctx, server_context()) for _ in range(2)]
        for pair in pairs:
            client_error, _ = pair.handshake()
            self.assertIsNone(client_error)
        self.assertEqual(sockets, {pair.client for pair in pairs})
        for pair in pairs:
            pair.close()


if __name__ == '__main__':
    unittest.main(verbosity=2)
