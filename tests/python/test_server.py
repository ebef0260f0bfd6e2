#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""GSecSock.SecureServer from Python: a server in the GLib main loop serving
clients that run (with the blocking API) in threads; the incoming,
handshake-failed and accepted signals; the handshake timeout; the
client-certificate policy; SNI virtual hosting."""

import threading
import unittest

from testutils import (GUARD_SECONDS, GLib, Gio, GSecSock, GuardedTestCase, client_context,
                       pki_path, run_loop, server_context)

Error = GSecSock.Error


class Client:
    """Runs func() in a thread; the result (or the exception) is kept and
    the main loop woken when it returns."""

    def __init__(self, loop, func):
        self.loop = loop
        self.func = func
        self.done = False
        self.result = None
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.result = self.func()
        except BaseException as error:  # checked by the test
            self.error = error
        self.done = True
        GLib.idle_add(self._wake)

    def _wake(self):
        self.loop.quit()
        return GLib.SOURCE_REMOVE

    def join(self):
        self.thread.join(GUARD_SECONDS)
        if self.thread.is_alive():
            raise AssertionError('the client thread did not finish')


def tls_client(port, ctx=None, peer_name='127.0.0.1', greeting=True):
    """Connects, handshakes and, with greeting, reads the server's first
    line. Returns (socket, line)."""
    conn = Gio.SocketClient().connect_to_host('127.0.0.1', port, None)
    sock = GSecSock.SecureSocket.new(ctx or client_context(), conn, peer_name)
    sock.handshake(None)
    line = None
    if greeting:
        lines = Gio.DataInputStream.new(sock.get_input_stream())
        lines.set_close_base_stream(False)
        line = lines.read_line_utf8(None)[0]
    return sock, line


class ServerTest(GuardedTestCase):

    def setUp(self):
        super().setUp()
        self.loop = GLib.MainLoop()
        self.ctx = server_context()
        self.server = GSecSock.SecureServer.new(self.ctx)
        self.addCleanup(self.server.stop)
        self.incoming = []
        self.failed = []
        self.server.connect('incoming', self.on_incoming)
        self.server.connect('handshake-failed', self.on_handshake_failed)

    def on_incoming(self, server, sock):
        self.assertTrue(sock.props.handshake_complete)
        self.incoming.append(sock)   # our reference keeps it open
        sock.write_all(f'hello {sock.props.server_name or "stranger"}\n'.encode())
        self.loop.quit()

    def on_handshake_failed(self, server, sock, error):
        self.assertIsInstance(error, GLib.Error)
        self.failed.append((sock, error))
        self.loop.quit()

    def listen(self):
        port = self.server.listen('127.0.0.1', 0)
        self.assertGreater(port, 0)
        self.assertEqual(self.server.props.port, port)
        self.assertTrue(self.server.props.listening)
        return port

    def client(self, func):
        client = Client(self.loop, func)
        run_loop(self.loop, lambda: client.done, 'the client')
        client.join()
        return client

    def test_serves_a_client(self):
        port = self.listen()
        client = self.client(lambda: tls_client(port))
        self.assertIsNone(client.error)
        sock, line = client.result
        self.assertEqual(line, 'hello stranger')
        run_loop(self.loop, lambda: len(self.incoming) == 1, 'incoming')
        served = self.incoming[0]
        self.assertEqual(served.props.protocol_version, GSecSock.ProtocolVersion.TLS_1_3)
        self.assertIs(served.get_context(), self.ctx)
        self.assertEqual(self.server.props.n_handshakes, 0)
        self.assertEqual(self.failed, [])
        sock.close(None)

    def test_bad_client_then_good_one(self):
        port = self.listen()

        def plain():
            conn = Gio.SocketClient().connect_to_host('127.0.0.1', port, None)
            conn.get_output_stream().write_all(b'GET / HTTP/1.0\r\n\r\n', None)
            return conn

        plain_client = self.client(plain)
        self.assertIsNone(plain_client.error)
        run_loop(self.loop, lambda: len(self.failed) == 1, 'handshake-failed')
        _, error = self.failed[0]
        self.assertTrue(error.matches(GSecSock.error_quark(), Error.NOT_TLS), error.message)
        self.assertIn('GET / HTTP', error.message)

        client = self.client(lambda: tls_client(port))
        self.assertIsNone(client.error)
        self.assertEqual(client.result[1], 'hello stranger')
        run_loop(self.loop, lambda: len(self.incoming) == 1, 'incoming')
        self.assertEqual(len(self.failed), 1)
        plain_client.result.close(None)
        client.result[0].close(None)

    def test_idle_client_times_out(self):
        self.server.props.handshake_timeout = 1
        port = self.listen()
        idle = Gio.SocketClient().connect_to_host('127.0.0.1', port, None)
        run_loop(self.loop, lambda: len(self.failed) == 1, 'handshake-failed')
        _, error = self.failed[0]
        self.assertTrue(error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT), error.message)
        idle.close(None)

    def test_accepted_refuses(self):
        seen = []

        def on_accepted(server, sock):
            seen.append(sock)
            self.assertFalse(sock.props.handshake_complete)
            if len(seen) == 1:
                sock.close(None)   # refused
                return True
            return False

        self.server.connect('accepted', on_accepted)
        port = self.listen()
        refused = self.client(lambda: tls_client(port, greeting=False))
        self.assertIsInstance(refused.error, GLib.Error)
        accepted = self.client(lambda: tls_client(port))
        self.assertIsNone(accepted.error)
        run_loop(self.loop, lambda: len(self.incoming) == 1, 'incoming')
        self.assertEqual(len(seen), 2)
        self.assertEqual(self.failed, [])
        accepted.result[0].close(None)

    def test_client_context_refused(self):
        with self.assertRaises(GLib.Error) as caught:
            GSecSock.SecureServer.new(client_context())
        self.assertTrue(caught.exception.matches(GSecSock.error_quark(), Error.MISUSE))

    def test_client_certificate_requested(self):
        self.ctx.props.client_auth = GSecSock.ClientAuth.REQUEST
        self.assertFalse(self.ctx.props.verify_peer)
        self.ctx.set_use_system_trust(False)
        self.ctx.add_trust_anchor_file(pki_path('ca.pem'))
        port = self.listen()

        anonymous = self.client(lambda: tls_client(port))
        self.assertIsNone(anonymous.error)
        run_loop(self.loop, lambda: len(self.incoming) == 1, 'incoming')
        self.assertIsNone(self.incoming[0].props.peer_certificate)

        with_cert = client_context()
        with_cert.load_certificate_file(pki_path('client-chain.pem'), pki_path('client.key'))
        identified = self.client(lambda: tls_client(port, with_cert))
        self.assertIsNone(identified.error)
        run_loop(self.loop, lambda: len(self.incoming) == 2, 'incoming')
        self.assertIn('gsecsock test client', self.incoming[1].props.peer_certificate.get_subject())
        anonymous.result[0].close(None)
        identified.result[0].close(None)

    def test_sni_virtual_hosts(self):
        alpha = server_context('alpha-chain.pem', 'alpha.key')
        beta = server_context('beta-chain.pem', 'beta.key')
        self.ctx.add_sni_context('alpha.test', alpha)
        self.ctx.add_sni_context('*.beta.test', beta)
        port = self.listen()

        results = {}
        for name in ('alpha.test', 'www.beta.test', 'localhost'):
            client = self.client(lambda: tls_client(port, peer_name=name))
            self.assertIsNone(client.error)
            sock, line = client.result
            self.assertEqual(sock.props.server_name, name)
            results[name] = (sock.props.peer_certificate.get_subject(), line)
            sock.close(None)
        self.assertEqual(results, {
            'alpha.test': ('CN=alpha.test', 'hello alpha.test'),
            'www.beta.test': ('CN=beta.test', 'hello www.beta.test'),
            'localhost': ('CN=localhost', 'hello localhost'),
        })
        self.assertEqual([s.props.server_name for s in self.incoming],
                         ['alpha.test', 'www.beta.test', 'localhost'])


if __name__ == '__main__':
    unittest.main(verbosity=2)
