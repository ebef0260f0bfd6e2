// SPDX-License-Identifier: LGPL-2.1-or-later
// gjs -m client.js HOST PORT [CA_FILE]: a verified TLS client.
import Gio from 'gi://Gio';
import GSecSock from 'gi://GSecSock?version=1.0';
import System from 'system';

const [host, port, caFile] = ARGV;
if (!port) {
    printerr('usage: gjs -m client.js HOST PORT [CA_FILE]');
    System.exit(2);
}

// A client context verifies the server's chain and host name.
const ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT);
try {
    if (caFile) {
        // Trust this CA only, instead of the system's.
        ctx.set_use_system_trust(false);
        ctx.add_trust_anchor_file(caFile);
    }

    // Resolve, connect, handshake, verify: all or nothing.
    const sock = GSecSock.SecureSocket.connect(ctx, host, Number(port), null);
    print(`connected to ${host} with ${sock.get_cipher_name()}`);

    // A secure socket is a GIOStream: use its streams as usual.
    const hello = new TextEncoder().encode('hello\n');
    sock.get_output_stream().write_all(hello, null);
    const lines = Gio.DataInputStream.new(sock.get_input_stream());
    const [answer] = lines.read_line_utf8(null);
    print(`server said: ${answer}`);

    // Closing sends a TLS close_notify.
    sock.close(null);
} catch (error) {
    printerr(`client: ${error.message}`);
    System.exit(1);
}
