#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Connections from Python: bytes echoed both ways with a gsecsock server and
with `openssl s_server`, the asynchronous API with callbacks, what a socket
tells after its handshake, errors as GLib.Error with a GSecSock.Error code,
the PyGObject override (context manager, read_all/write_all, the static
connect), and how a connection ends (close_notify, EOF)."""

import random
import threading
import unittest

from testutils import (GUARD_SECONDS, GLib, Gio, GSecSock, GuardedTestCase, OpensslServer, Pair,
                       ThreadedServer, client_context, pki_path, run_loop, server_context)

Error = GSecSock.Error
Flags = GSecSock.CertificateFlags


def connect(port, ctx=None, peer_name='localhost'):
    """A client socket to 127.0.0.1:port, handshaken (blocking)."""
    conn = Gio.SocketClient().connect_to_host('127.0.0.1', port, None)
    sock = GSecSock.SecureSocket.new(ctx or client_context(), conn, peer_name)
    sock.handshake(None)
    return sock


def line_reader(sock):
    """A Gio.DataInputStream over the socket's input that leaves the socket
    open when it goes away."""
    lines = Gio.DataInputStream.new(sock.get_input_stream())
    lines.set_close_base_stream(False)
    return lines


def assert_gsecsock_error(test, error, code):
    test.assertIsInstance(error, GLib.Error)
    test.assertTrue(error.matches(GSecSock.error_quark(), code),
                    f'expected {code}, got {error.domain} {error.code}: {error.message}')
    test.assertEqual(error.domain, 'gsecsock-error-quark')
    test.assertEqual(error.code, code)
    test.assertIs(Error(error.code), code)


class EchoTest(GuardedTestCase):
    """A gsecsock server in a thread (blocking API), a client in the test."""

    def test_lines_both_ways(self):
        received = []

        def serve(sock, cancellable):
            sock.write_all(b'hello from gsecsock\n', cancellable)
            lines = line_reader(sock)
            while True:
                line, _ = lines.read_line_utf8(cancellable)
                if line is None or line == 'bye':
                    break
                received.append(line)
                sock.write_all(f'echo: {line}\n'.encode(), cancellable)
            sock.close(cancellable)

        server = ThreadedServer(serve)
        self.addCleanup(server.close)
        with connect(server.port) as sock:
            lines = line_reader(sock)
            self.assertEqual(lines.read_line_utf8(None), ('hello from gsecsock', 19))
            for text in ('first line', 'h\u00e9llo \u2713', ''):
                sock.get_output_stream().write_all(f'{text}\n'.encode(), None)
                self.assertEqual(lines.read_line_utf8(None)[0], f'echo: {text}')
            sock.write_all(b'bye\n')
            # The server closed with a close_notify: a clean end of stream.
            self.assertEqual(lines.read_line_utf8(None), (None, 0))
        self.assertIsNone(server.join())
        self.assertEqual(received, ['first line', 'h\u00e9llo \u2713', ''])

    def test_binary_full_duplex(self):
        """1 MiB both ways at once: one thread writes with Gio's write_all,
        the test reads with read_bytes; half-close ends each direction."""
        data = random.Random(4).randbytes(1024 * 1024)
        written = []

        def serve(sock, cancellable):
            input_stream, output_stream = sock.get_input_stream(), sock.get_output_stream()
            while True:
                chunk = input_stream.read_bytes(32 * 1024, cancellable)
                if chunk.get_size() == 0:
                    break
                output_stream.write_bytes(chunk, cancellable)
            sock.close(cancellable)

        server = ThreadedServer(serve)
        self.addCleanup(server.close)
        sock = connect(server.port)

        def writer():
            written.append(sock.get_output_stream().write_all(data, None))
            # Half-close: sends close_notify, the input side stays open.
            sock.get_output_stream().close(None)

        writer_thread = threading.Thread(target=writer)
        writer_thread.start()
        echoed = bytearray()
        while True:
            chunk = sock.get_input_stream().read_bytes(64 * 1024, None).get_data()
            if not chunk:
                break
            echoed += chunk
        writer_thread.join(10)
        self.assertEqual(written, [(True, len(data))])
        self.assertEqual(len(echoed), len(data))
        self.assertTrue(echoed == data)
        sock.close(None)
        self.assertIsNone(server.join())


class OpensslServerTest(GuardedTestCase):

    def start(self, *args):
        server = OpensslServer('-rev', '-cert', pki_path('server.pem'),
                               '-cert_chain', pki_path('intermediate.pem'),
                               '-key', pki_path('server.key'), *args)
        self.addCleanup(server.stop)
        return server

    def test_echo_tls13(self):
        server = self.start()
        ctx = client_context()
        depths = []
        ctx.connect('verify-certificate',
                    lambda ctx, sock, cert, depth, errors: depths.append(depth) or errors == 0)
        # The static connect: resolve, connect, handshake. "127.0.0.1" is
        # checked against the certificate's IP address.
        sock = GSecSock.SecureSocket.connect(ctx, '127.0.0.1', server.port, None)
        self.assertEqual(depths, [2, 1, 0])
        self.assertEqual(sock.props.protocol_version, GSecSock.ProtocolVersion.TLS_1_3)
        self.assertTrue(sock.get_peer_certificate().equal(
            GSecSock.Certificate.new_from_file(pki_path('server.pem'))))
        lines = line_reader(sock)
        sock.write_all(b'hello openssl\n')
        self.assertEqual(lines.read_line_utf8(None)[0], 'lssnepo olleh')
        sock.write_all(b'CLOSE\n')   # s_server -rev: close, with close_notify
        self.assertEqual(lines.read_line_utf8(None), (None, 0))
        sock.close(None)
        self.assertIn('CONNECTION CLOSED', server.wait())

    def test_tls12_with_alpn(self):
        server = self.start('-tls1_2', '-alpn', 'http/1.1')
        ctx = client_context()
        ctx.set_alpn_protocols(['h2', 'http/1.1'])
        with connect(server.port, ctx) as sock:
            self.assertEqual(sock.props.protocol_version, GSecSock.ProtocolVersion.TLS_1_2)
            self.assertTrue(sock.props.cipher_name.startswith('ECDHE-ECDSA-'),
                            sock.props.cipher_name)
            self.assertEqual(sock.get_alpn_protocol(), 'http/1.1')
            sock.write_all(b'abc\n')
            self.assertEqual(sock.read_all(4), b'cba\n')
        output = server.wait()
        self.assertIn(sock.props.cipher_name, output)


class AsyncTest(GuardedTestCase):

    def test_connect_async_with_callback(self):
        def serve(sock, cancellable):
            line, _ = line_reader(sock).read_line_utf8(cancellable)
            sock.write_all(f'you said: {line}\n'.encode(), cancellable)
            sock.close(cancellable)

        server = ThreadedServer(serve)
        self.addCleanup(server.close)
        loop = GLib.MainLoop()
        ctx = client_context()
        calls = []
        state = {}

        def on_read(stream, result, sock):
            state['reply'] = stream.read_line_finish_utf8(result)[0]
            loop.quit()

        def on_written(stream, result, sock):
            stream.write_all_finish(result)
            lines = line_reader(sock)
            lines.read_line_async(GLib.PRIORITY_DEFAULT, None, on_read, sock)
            state['lines'] = lines

        def on_connected(source, result, user_data):
            calls.append((source, user_data, threading.current_thread()))
            sock = GSecSock.SecureSocket.connect_finish(result)
            state['sock'] = sock
            sock.get_output_stream().write_all_async(b'async hello\n', GLib.PRIORITY_DEFAULT,
                                                     None, on_written, sock)

        GSecSock.SecureSocket.connect_async(ctx, 'localhost', server.port, None,
                                            on_connected, 'user data')
        run_loop(loop, lambda: 'reply' in state, 'connect_async and the exchange')
        # The source object of connect_async is the context; the callback
        # runs in the thread whose main context started it.
        self.assertEqual(calls, [(ctx, 'user data', threading.main_thread())])
        sock = state['sock']
        self.assertIsInstance(sock, GSecSock.SecureSocket)
        self.assertTrue(sock.props.handshake_complete)
        self.assertEqual(sock.get_peer_name(), 'localhost')
        self.assertEqual(state['reply'], 'you said: async hello')
        sock.close(None)
        self.assertIsNone(server.join())

    def test_connect_async_refused(self):
        listener = Gio.SocketListener()
        port = listener.add_any_inet_port(None)
        listener.close()   # nobody listens there any more
        loop = GLib.MainLoop()
        errors = []

        def on_connected(source, result):
            try:
                GSecSock.SecureSocket.connect_finish(result)
            except GLib.Error as error:
                errors.append(error)
            loop.quit()

        GSecSock.SecureSocket.connect_async(client_context(), '127.0.0.1', port, None,
                                            on_connected)
        run_loop(loop, lambda: errors, 'connect_async')
        self.assertTrue(errors[0].matches(Gio.io_error_quark(), Gio.IOErrorEnum.CONNECTION_REFUSED),
                        errors[0].message)

    def test_handshake_async_with_callback(self):
        pair = Pair(client_context(), server_context())
        self.addCleanup(pair.close)
        loop = GLib.MainLoop()
        calls = []

        def done(sock, result, user_data):
            calls.append((sock, user_data, threading.current_thread()))
            self.assertTrue(sock.handshake_finish(result))
            loop.quit()

        self.assertFalse(pair.client.props.handshake_complete)
        pair.client.handshake_async(GLib.PRIORITY_DEFAULT, None, done, 'client')
        pair.server.handshake_async(GLib.PRIORITY_HIGH, None, done, 'server')
        run_loop(loop, lambda: len(calls) == 2, 'the handshakes')
        self.assertCountEqual(calls, [(pair.client, 'client', threading.main_thread()),
                                      (pair.server, 'server', threading.main_thread())])
        self.assertTrue(pair.client.props.handshake_complete)

        # Once complete, another handshake returns the first result.
        pair.client.handshake_async(GLib.PRIORITY_DEFAULT, None, done, 'again')
        run_loop(loop, lambda: len(calls) == 3, 'the second handshake call')
        self.assertEqual(calls[2][1], 'again')

    def test_handshake_async_cancelled(self):
        pair = Pair(client_context(), server_context())
        self.addCleanup(pair.close)
        loop = GLib.MainLoop()
        cancellable = Gio.Cancellable()
        errors = []

        def done(sock, result):
            try:
                sock.handshake_finish(result)
                errors.append(None)
            except GLib.Error as error:
                errors.append(error)
            loop.quit()

        # The server never answers: only the cancellation can end this.
        pair.client.handshake_async(GLib.PRIORITY_DEFAULT, cancellable, done)
        GLib.timeout_add(50, lambda: cancellable.cancel() or GLib.SOURCE_REMOVE)
        run_loop(loop, lambda: errors, 'the cancelled handshake')
        self.assertTrue(errors[0].matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED),
                        errors[0])


class PropertiesTest(GuardedTestCase):

    def test_before_the_handshake(self):
        pair = Pair(client_context(), server_context())
        self.addCleanup(pair.close)
        client = pair.client
        self.assertFalse(client.props.handshake_complete)
        self.assertIsNone(client.get_peer_certificate())
        self.assertIsNone(client.props.alpn_protocol)
        self.assertEqual(client.props.protocol_version, GSecSock.ProtocolVersion.UNKNOWN)
        self.assertEqual(client.props.peer_name, 'localhost')
        self.assertIsNone(pair.server.props.peer_name)
        self.assertIs(client.get_base_stream(), pair.client_conn)
        self.assertTrue(client.props.require_close_notify)

    def test_after_the_handshake(self):
        client_ctx = client_context()
        client_ctx.set_alpn_protocols(['h2', 'http/1.1'])
        server_ctx = server_context()
        server_ctx.set_alpn_protocols(['http/1.1', 'spdy/3'])
        pair = Pair(client_ctx, server_ctx)
        self.addCleanup(pair.close)
        notified = []
        pair.client.connect('notify::handshake-complete',
                            lambda sock, pspec: notified.append(pspec.name))
        self.assertEqual(pair.handshake(), (None, None))
        client = pair.client

        self.assertEqual(notified, ['handshake-complete'])
        self.assertEqual(client.props.protocol_version, GSecSock.ProtocolVersion.TLS_1_3)
        self.assertEqual(pair.server.get_protocol_version(), GSecSock.ProtocolVersion.TLS_1_3)
        self.assertIn(client.props.cipher_name,
                      ('TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256',
                       'TLS_CHACHA20_POLY1305_SHA256'))
        self.assertEqual(client.props.cipher_name, pair.server.props.cipher_name)
        self.assertEqual(client.props.certificate_errors, Flags.NO_FLAGS)
        self.assertFalse(client.props.session_reused)
        self.assertEqual(client.props.alpn_protocol, 'http/1.1')
        self.assertEqual(pair.server.get_alpn_protocol(), 'http/1.1')

        chain = client.props.peer_certificate_chain
        self.assertIsInstance(chain, Gio.ListModel)
        self.assertEqual(chain.get_item_type(), GSecSock.Certificate.__gtype__)
        self.assertEqual(chain.get_n_items(), 2)
        self.assertEqual([cert.get_subject() for cert in chain],
                         ['CN=localhost', 'CN=gsecsock Test Intermediate CA'])
        self.assertEqual(chain[1].props.issuer, 'CN=gsecsock Test Root CA')
        self.assertTrue(chain[1].props.is_ca)
        self.assertTrue(chain.get_item(0).equal(client.get_peer_certificate()))
        self.assertIn('localhost', chain[0].props.dns_names)
        self.assertIn('127.0.0.1', chain[0].props.ip_addresses)
        # The server asked for no client certificate.
        self.assertIsNone(pair.server.get_peer_certificate())
        self.assertEqual(len(pair.server.get_peer_certificate_chain()), 0)

    def test_client_certificate_on_the_server(self):
        server_ctx = server_context()
        server_ctx.set_verify_peer(True)
        server_ctx.set_use_system_trust(False)
        server_ctx.add_trust_anchor_file(pki_path('ca.pem'))
        client_ctx = client_context()
        client_ctx.load_certificate_file(pki_path('client-chain.pem'), pki_path('client.key'))
        pair = Pair(client_ctx, server_ctx)
        self.addCleanup(pair.close)
        self.assertEqual(pair.handshake(), (None, None))
        self.assertEqual([cert.props.subject for cert in pair.server.props.peer_certificate_chain],
                         ['CN=gsecsock test client', 'CN=gsecsock Test Intermediate CA'])


class ErrorTest(GuardedTestCase):

    def test_wrong_host_name(self):
        pair = Pair(client_context(), server_context(), peer_name='wrong.example')
        self.addCleanup(pair.close)
        client_error, server_error = pair.handshake()
        assert_gsecsock_error(self, client_error, Error.CERTIFICATE_REJECTED)
        self.assertIn('wrong.example', client_error.message)
        self.assertEqual(pair.client.props.certificate_errors, Flags.BAD_IDENTITY)
        # The server learns it from the client's alert.
        assert_gsecsock_error(self, server_error, Error.HANDSHAKE_FAILED)
        self.assertIn('bad certificate', server_error.message)

    def test_wrong_host_name_blocking_connect(self):
        server = ThreadedServer(lambda sock, cancellable: None,
                                server_context('wronghost-chain.pem', 'wronghost.key'))
        self.addCleanup(server.close)
        with self.assertRaises(GLib.Error) as caught:
            GSecSock.SecureSocket.connect(client_context(), 'localhost', server.port, None)
        assert_gsecsock_error(self, caught.exception, Error.CERTIFICATE_REJECTED)
        self.assertIsInstance(server.join(), GLib.Error)

    def test_not_tls(self):
        listener = Gio.SocketListener()
        port = listener.add_any_inet_port(None)

        def plain_server():
            conn, _ = listener.accept(None)
            listener.close()
            conn.get_output_stream().write_all(b'HTTP/1.1 400 Bad Request\r\n\r\n', None)
            # Read (the ClientHello) until the client hangs up.
            while conn.get_input_stream().read_bytes(4096, None).get_size() > 0:
                pass
            conn.close(None)

        thread = threading.Thread(target=plain_server, daemon=True)
        thread.start()
        conn = Gio.SocketClient().connect_to_host('127.0.0.1', port, None)
        sock = GSecSock.SecureSocket.new(client_context(), conn, 'localhost')
        with self.assertRaises(GLib.Error) as caught:
            sock.handshake(None)
        assert_gsecsock_error(self, caught.exception, Error.NOT_TLS)
        self.assertIn('HTTP/1.1 400 Bad Request', caught.exception.message)
        sock.close(None)
        thread.join(GUARD_SECONDS)
        self.assertFalse(thread.is_alive())

    def test_untrusted_server(self):
        pair = Pair(client_context(), server_context('selfsigned.pem', 'selfsigned.key'))
        self.addCleanup(pair.close)
        client_error, _ = pair.handshake()
        assert_gsecsock_error(self, client_error, Error.CERTIFICATE_REJECTED)
        self.assertEqual(pair.client.props.certificate_errors, Flags.UNKNOWN_CA | Flags.SELF_SIGNED)


class OverrideTest(GuardedTestCase):

    def test_context_manager_sends_close_notify(self):
        pair = Pair(client_context(), server_context())
        self.addCleanup(pair.close)
        self.assertEqual(pair.handshake(), (None, None))
        with pair.client as sock:
            self.assertIs(sock, pair.client)
            sock.write_all(b'last words')
            self.assertFalse(sock.is_closed())
        self.assertTrue(pair.client.is_closed())
        self.assertTrue(pair.client_conn.is_closed())
        # A clean end: close_notify arrived, so no GSecSock.Error.EOF.
        self.assertEqual(pair.server.read_all(), b'last words')

    def test_context_manager_on_exception(self):
        pair = Pair(client_context(), server_context())
        self.addCleanup(pair.close)
        self.assertEqual(pair.handshake(), (None, None))
        with self.assertRaises(KeyError):
            with pair.client:
                raise KeyError('from the block')
        self.assertTrue(pair.client.is_closed())
        self.assertEqual(pair.server.read_all(), b'')

    def test_read_all_write_all(self):
        pair = Pair(client_context(), server_context())
        self.addCleanup(pair.close)
        self.assertEqual(pair.handshake(), (None, None))
        data = bytes(range(256)) * 300   # several TLS records
        self.assertIsNone(pair.client.write_all(memoryview(data)))
        pair.client.write_all(bytearray(b'tail'))
        self.assertEqual(pair.server.read_all(0), b'')
        self.assertEqual(pair.server.read_all(len(data)), data)
        pair.client.get_output_stream().close(None)
        # Fewer than asked for: the stream ended.
        self.assertEqual(pair.server.read_all(100), b'tail')
        self.assertEqual(pair.server.read_all(), b'')

    def test_connect_from_the_class_and_from_a_socket(self):
        received = []
        server = ThreadedServer(
            lambda sock, cancellable: received.append(sock.read_all(-1, cancellable)))
        self.addCleanup(server.close)
        # From the class: gsecsock_secure_socket_connect().
        sock = GSecSock.SecureSocket.connect(client_context(), 'localhost', server.port, None)
        self.assertIsInstance(sock, GSecSock.SecureSocket)
        self.assertTrue(sock.props.handshake_complete)
        # From a socket: GObject's signal connect.
        notified = []
        handler_id = sock.connect('notify::require-close-notify',
                                  lambda s, pspec: notified.append(s))
        self.assertIsInstance(handler_id, int)
        sock.set_require_close_notify(False)
        self.assertEqual(notified, [sock])
        sock.disconnect(handler_id)
        sock.close(None)
        self.assertIsNone(server.join())
        self.assertEqual(received, [b''])


class EndOfStreamTest(GuardedTestCase):

    def handshaken_pair(self):
        pair = Pair(client_context(), server_context())
        self.addCleanup(pair.close)
        self.assertEqual(pair.handshake(), (None, None))
        return pair

    def test_close_notify_is_a_clean_end(self):
        pair = self.handshaken_pair()
        pair.server.write_all(b'complete')
        pair.server.close(None)
        stream = pair.client.get_input_stream()
        self.assertEqual(stream.read_bytes(100, None).get_data(), b'complete')
        self.assertEqual(stream.read_bytes(100, None).get_size(), 0)
        self.assertEqual(stream.read_bytes(100, None).get_size(), 0)

    def test_cut_without_close_notify(self):
        pair = self.handshaken_pair()
        pair.server.write_all(b'partial')
        pair.server_conn.close(None)   # the TCP connection, under TLS
        self.assertEqual(pair.client.read_all(7), b'partial')
        with self.assertRaises(GLib.Error) as caught:
            pair.client.read_all()
        assert_gsecsock_error(self, caught.exception, Error.EOF)

    def test_cut_accepted_without_require_close_notify(self):
        pair = self.handshaken_pair()
        pair.client.props.require_close_notify = False
        pair.server.write_all(b'partial')
        pair.server_conn.close(None)
        self.assertEqual(pair.client.read_all(), b'partial')

    def test_half_close(self):
        pair = self.handshaken_pair()
        pair.client.write_all(b'question')
        pair.client.get_output_stream().close(None)
        self.assertEqual(pair.server.read_all(), b'question')
        # The client's input side is still open.
        pair.server.write_all(b'answer')
        pair.server.close(None)
        self.assertEqual(pair.client.read_all(), b'answer')

    def test_io_after_close(self):
        pair = self.handshaken_pair()
        pair.client.close(None)
        with self.assertRaises(GLib.Error) as caught:
            pair.client.write_all(b'too late')
        self.assertTrue(caught.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CLOSED),
                        caught.exception.message)


if __name__ == '__main__':
    unittest.main(verbosity=2)
