#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# client.py HOST PORT [CA_FILE]: a verified TLS client.
import sys

import gi
gi.require_version('GSecSock', '1.0')
from gi.repository import GLib, Gio, GSecSock  # noqa: E402

if len(sys.argv) < 3:
    sys.exit(f'usage: {sys.argv[0]} HOST PORT [CA_FILE]')
host, port = sys.argv[1], int(sys.argv[2])

# A client context verifies the server's chain and host name.
ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT)
try:
    if len(sys.argv) > 3:
        # Trust this CA only, instead of the system's.
        ctx.set_use_system_trust(False)
        ctx.add_trust_anchor_file(sys.argv[3])

    # Resolve, connect, handshake, verify: all or nothing.
    sock = GSecSock.SecureSocket.connect(ctx, host, port, None)
    print(f'connected to {host} with {sock.get_cipher_name()}')

    # A secure socket is a GIOStream: use its streams as usual.
    sock.get_output_stream().write_all(b'hello\n', None)
    lines = Gio.DataInputStream.new(sock.get_input_stream())
    answer, _ = lines.read_line_utf8(None)
    print(f'server said: {answer}')

    # Closing sends a TLS close_notify.
    sock.close(None)
except GLib.Error as error:
    sys.exit(f'client: {error.message}')
