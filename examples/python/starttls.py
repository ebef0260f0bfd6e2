#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""starttls.py PKI_DIR

Upgrades a plain TCP connection to TLS in the middle of a conversation, as
SMTP, IMAP or XMPP do: the client says "STARTTLS", the server answers "GO",
and from then on both sides talk TLS over the same connection. Both sides
are in this program: the server in a thread, the client in the main thread,
both with the blocking API. PKI_DIR holds server-chain.pem, server.key and
ca.pem."""

import os
import sys
import threading

import gi

gi.require_version('GSecSock', '1.0')
from gi.repository import GLib, Gio, GSecSock  # noqa: E402


def write_line(stream, line):
    stream.get_output_stream().write_all(f'{line}\n'.encode(), None)


def read_line(stream):
    lines = Gio.DataInputStream.new(stream.get_input_stream())
    # The reader buffers: it may take more than one line from the stream and
    # drop the rest when it goes. That is safe here, because neither side
    # sends anything before it has the answer to its last line.
    lines.set_close_base_stream(False)
    line, _ = lines.read_line_utf8(None)
    if line is None:
        raise RuntimeError('the connection closed before a full line')
    return line


def serve(listener, context, errors):
    try:
        connection, _ = listener.accept(None)
        request = read_line(connection)
        print(f'server: got {request}')
        if request != 'STARTTLS':
            raise RuntimeError(f'expected STARTTLS, got {request}')
        write_line(connection, 'GO')

        # The same connection, now under TLS.
        with GSecSock.SecureSocket.new(context, connection, None) as sock:
            sock.handshake(None)
            line = read_line(sock)
            print(f'server: got {line} over TLS')
            write_line(sock, f'you said: {line}')
    except Exception as error:
        errors.append(error)


def main(pki_dir):
    server_context = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER)
    server_context.load_certificate_file(os.path.join(pki_dir, 'server-chain.pem'),
                                         os.path.join(pki_dir, 'server.key'))
    client_context = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT)
    client_context.set_use_system_trust(False)
    client_context.add_trust_anchor_file(os.path.join(pki_dir, 'ca.pem'))

    listener = Gio.SocketListener()
    port = listener.add_any_inet_port(None)
    server_errors = []
    server = threading.Thread(target=serve, args=(listener, server_context, server_errors),
                              daemon=True)
    server.start()

    # The client: a plain conversation first.
    connection = Gio.SocketClient().connect_to_host('127.0.0.1', port, None)
    write_line(connection, 'STARTTLS')
    print(f'client: got {read_line(connection)}')

    # Then TLS over the same connection; the server's certificate must be
    # valid for the name the client meant to reach.
    with GSecSock.SecureSocket.new(client_context, connection, 'localhost') as sock:
        sock.handshake(None)
        print(f'client: TLS established with {sock.props.peer_name}, '
              f'cipher {sock.props.cipher_name}')
        write_line(sock, 'hello')
        print(f'client: server said: {read_line(sock)}')

    server.join()
    if server_errors:
        raise server_errors[0]


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__.splitlines()[0])
    try:
        main(sys.argv[1])
    except (GLib.Error, RuntimeError) as error:
        sys.exit(f'starttls: {error}')
