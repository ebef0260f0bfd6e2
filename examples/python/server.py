#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""server.py PKI_DIR [PORT]

A TLS server on 127.0.0.1 that requires a client certificate and decides in
a verify-certificate handler which clients it lets in: the chain must verify
against PKI_DIR/ca.pem and the client's own certificate must be on an allow
list. Serves one client (greets it by name), then exits. With no PORT, or
0, the kernel picks one; the port is printed."""

import os
import sys

import gi

gi.require_version('GSecSock', '1.0')
from gi.repository import GLib, Gio, GSecSock  # noqa: E402

ALLOWED_CLIENTS = {'CN=gsecsock test client'}


def on_verify_certificate(context, sock, certificate, depth, errors):
    """Emitted for each certificate of the client's chain, root end first."""
    subject = certificate.props.subject
    accept = errors == 0 and (depth > 0 or subject in ALLOWED_CLIENTS)
    print(f'client certificate, depth {depth}: {subject}: {"accepted" if accept else "rejected"}')
    return accept


def main(pki_dir, port=0):
    context = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER)
    context.load_certificate_file(os.path.join(pki_dir, 'server-chain.pem'),
                                  os.path.join(pki_dir, 'server.key'))
    # On a server, verify-peer asks every client for a certificate and
    # requires one.
    context.set_verify_peer(True)
    context.set_use_system_trust(False)
    context.add_trust_anchor_file(os.path.join(pki_dir, 'ca.pem'))
    context.connect('verify-certificate', on_verify_certificate)

    listener = Gio.SocketListener()
    loopback = Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV4)
    address = Gio.InetSocketAddress.new(loopback, int(port))
    _, bound = listener.add_address(address, Gio.SocketType.STREAM, Gio.SocketProtocol.TCP, None)
    print(f'listening on 127.0.0.1:{bound.get_port()}', flush=True)

    connection, _ = listener.accept(None)
    # A server socket has no peer name: that is for clients to check.
    with GSecSock.SecureSocket.new(context, connection, None) as sock:
        sock.handshake(None)
        client = sock.get_peer_certificate().props.subject
        print(f'client {client} connected')
        line, _ = Gio.DataInputStream.new(sock.get_input_stream()).read_line_utf8(None)
        sock.write_all(f'hello {client}, you said: {line}\n'.encode())


if __name__ == '__main__':
    if not 2 <= len(sys.argv) <= 3:
        sys.exit(__doc__.splitlines()[0])
    try:
        main(*sys.argv[1:])
    except GLib.Error as error:
        sys.exit(f'server: {error.message}')
