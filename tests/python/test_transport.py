# SPDX-License-Identifier: LGPL-2.1-or-later
"""Securing what is not a fresh TCP connection, from Python: an SMTP-like
STARTTLS upgrade (with verification for another name, and without), and
the memory transport whose bytes the application moves itself."""

import unittest

from testutils import (GLib, Gio, GSecSock, GuardedTestCase, client_context, pki_path,
                       run_loop, server_context)


def tcp_pair():
    listener = Gio.SocketListener()
    port = listener.add_any_inet_port(None)
    client = Gio.SocketClient().connect_to_host('127.0.0.1', port, None)
    server, _ = listener.accept(None)
    listener.close()
    return client, server


def lines(conn):
    reader = Gio.DataInputStream.new(conn.get_input_stream())
    reader.set_newline_type(Gio.DataStreamNewlineType.CR_LF)
    return reader


def handshake_both(client, server):
    loop = GLib.MainLoop()
    results = {}

    def done(sock, result, name):
        try:
            sock.handshake_finish(result)
            results[name] = None
        except GLib.Error as error:
            results[name] = error
        loop.quit()

    client.handshake_async(GLib.PRIORITY_DEFAULT, None, done, 'client')
    server.handshake_async(GLib.PRIORITY_DEFAULT, None, done, 'server')
    run_loop(loop, lambda: len(results) == 2, 'the handshakes')
    return results['client'], results['server']


class StartTlsTest(GuardedTestCase):

    def upgrade(self, client_ctx, peer_name):
        client_conn, server_conn = tcp_pair()
        client_lines, server_lines = lines(client_conn), lines(server_conn)

        server_conn.get_output_stream().write_all(b'220 mail.example ESMTP\r\n', None)
        self.assertEqual(client_lines.read_line_utf8(None)[0], '220 mail.example ESMTP')
        client_conn.get_output_stream().write_all(b'STARTTLS\r\n', None)
        self.assertEqual(server_lines.read_line_utf8(None)[0], 'STARTTLS')
        server_conn.get_output_stream().write_all(b'220 2.0.0 go ahead\r\n', None)
        self.assertEqual(client_lines.read_line_utf8(None)[0], '220 2.0.0 go ahead')

        client = GSecSock.SecureSocket.new_with_input_buffer(client_ctx, client_conn,
                                                             client_lines, peer_name)
        server = GSecSock.SecureSocket.new_with_input_buffer(server_context(), server_conn,
                                                             server_lines, None)
        return client, server

    def test_verified_for_another_name(self):
        # Connected to 127.0.0.1, verified as "localhost" (as through a proxy).
        client, server = self.upgrade(client_context(), 'localhost')
        client_error, server_error = handshake_both(client, server)
        self.assertIsNone(client_error)
        self.assertIsNone(server_error)
        with client, server:
            client.write_all(b'EHLO me\r\n')
            self.assertEqual(server.read_all(9), b'EHLO me\r\n')

    def test_wrong_name_rejected(self):
        client, server = self.upgrade(client_context(), 'mail.example')
        client_error, _ = handshake_both(client, server)
        self.assertTrue(client_error.matches(GSecSock.error_quark(),
                                             GSecSock.Error.CERTIFICATE_REJECTED))
        self.assertIn('mail.example', client_error.message)

    def test_without_verification(self):
        ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT)
        ctx.set_verify_peer(False)
        client, server = self.upgrade(ctx, None)
        client_error, server_error = handshake_both(client, server)
        self.assertIsNone(client_error)
        self.assertIsNone(server_error)
        # Verification still ran and reported (the root is not trusted here).
        self.assertNotEqual(client.props.certificate_errors, 0)
        for sock in (client, server):
            try:
                sock.close(None)
            except GLib.Error:
                pass   # the peer may already have reset the connection


class MemoryTransportTest(GuardedTestCase):

    def test_two_sockets_joined_by_python(self):
        a, b = GSecSock.MemoryTransport.new(), GSecSock.MemoryTransport.new()
        moved = []

        def shuttle(source, target):
            data = source.take_outgoing().get_data()
            moved.append(len(data))
            target.receive(data)

        a.connect('outgoing-ready', shuttle, b)
        b.connect('outgoing-ready', shuttle, a)
        client = GSecSock.SecureSocket.new(client_context(), a, 'localhost')
        server = GSecSock.SecureSocket.new(server_context(), b, None)
        client_error, server_error = handshake_both(client, server)
        self.assertIsNone(client_error)
        self.assertIsNone(server_error)
        self.assertGreater(sum(moved), 0)

        loop = GLib.MainLoop()
        got = []

        def on_read(stream, result):
            got.append(stream.read_bytes_finish(result).get_data())
            loop.quit()

        server.get_input_stream().read_bytes_async(64, GLib.PRIORITY_DEFAULT, None, on_read)
        client.get_output_stream().write_all_async(b'over python', GLib.PRIORITY_DEFAULT, None,
                                                   lambda s, r: s.write_all_finish(r))
        run_loop(loop, lambda: got, 'the read')
        self.assertEqual(got, [b'over python'])
        self.assertEqual(a.get_outgoing_size(), 0)

    def test_eof_without_close_notify_is_truncation(self):
        a, b = GSecSock.MemoryTransport.new(), GSecSock.MemoryTransport.new()
        a.connect('outgoing-ready', lambda t: b.receive(t.take_outgoing().get_data()))
        b.connect('outgoing-ready', lambda t: a.receive(t.take_outgoing().get_data()))
        client = GSecSock.SecureSocket.new(client_context(), a, 'localhost')
        server = GSecSock.SecureSocket.new(server_context(), b, None)
        self.assertEqual(handshake_both(client, server), (None, None))

        loop = GLib.MainLoop()
        outcome = []

        def on_read(stream, result):
            try:
                stream.read_bytes_finish(result)
                outcome.append(None)
            except GLib.Error as error:
                outcome.append(error)
            loop.quit()

        client.get_input_stream().read_bytes_async(64, GLib.PRIORITY_DEFAULT, None, on_read)
        a.receive_eof()
        run_loop(loop, lambda: outcome, 'the read')
        self.assertTrue(outcome[0].matches(GSecSock.error_quark(), GSecSock.Error.EOF))


if __name__ == '__main__':
    unittest.main(verbosity=2)
