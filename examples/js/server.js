// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A TLS server that asks every client for a certificate and decides in a
// verify-certificate handler who may connect: a client whose chain
// verifies against CA-FILE and whose subject is one of ALLOWED-SUBJECT.
// It greets each client it accepts by name, answers one line, and runs
// until interrupted.
//
//   gjs -m server.js CERT-CHAIN KEY CA-FILE PORT ALLOWED-SUBJECT...
//
// PORT 0 lets the system choose; the port is printed.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GSecSock from 'gi://GSecSock?version=1.0';
import System from 'system';

Gio._promisify(Gio.SocketListener.prototype, 'accept_async');
Gio._promisify(GSecSock.SecureSocket.prototype, 'handshake_async');
Gio._promisify(Gio.OutputStream.prototype, 'write_all_async');
Gio._promisify(Gio.DataInputStream.prototype, 'read_line_async', 'read_line_finish_utf8');
Gio._promisify(Gio.IOStream.prototype, 'close_async');

const [certFile, keyFile, caFile, port, ...allowed] = ARGV;
if (!port || allowed.length === 0) {
    printerr('usage: gjs -m server.js CERT-CHAIN KEY CA-FILE PORT ALLOWED-SUBJECT...');
    System.exit(2);
}

const ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER);
ctx.load_certificate_file(certFile, keyFile);
ctx.set_verify_peer(true); // ask for a client certificate, and require one
ctx.set_use_system_trust(false);
ctx.add_trust_anchor_file(caFile);

// One handler on the context serves every connection. It runs for each
// certificate of the client's chain, root end first; depth 0 is the
// client's own certificate.
ctx.connect('verify-certificate', (_ctx, _sock, certificate, depth, errors) => {
    if (errors !== 0) {
        const flags = GSecSock.CertificateFlags;
        const problems = Object.keys(flags).filter(name => flags[name] && errors & flags[name]);
        print(`rejected ${certificate.get_subject()}: ${problems.join(', ')}`);
        return false;
    }
    if (depth > 0)
        return true;
    const ok = allowed.includes(certificate.get_subject());
    print(`${ok ? 'accepted' : 'rejected'} ${certificate.get_subject()}`);
    return ok;
});

async function serve(conn) {
    const sock = GSecSock.SecureSocket.new(ctx, conn, null);
    try {
        await sock.handshake_async(GLib.PRIORITY_DEFAULT, null);
        const name = sock.get_peer_certificate().get_subject();
        // Closing the line reader must not close the socket under it.
        const lines = new Gio.DataInputStream({base_stream: sock.get_input_stream(), close_base_stream: false});
        const [line] = await lines.read_line_async(GLib.PRIORITY_DEFAULT, null);
        await sock.get_output_stream().write_all_async(
            new TextEncoder().encode(`Hello ${name}, you said: ${line}\n`), GLib.PRIORITY_DEFAULT, null);
        await sock.close_async(GLib.PRIORITY_DEFAULT, null);
    } catch (error) {
        print(`connection failed: ${error.message}`);
        sock.close(null);
    }
}

const listener = new Gio.SocketListener();
if (Number(port) === 0)
    print(`listening on port ${listener.add_any_inet_port(null)}`);
else
    listener.add_inet_port(Number(port), null);

for (;;) {
    const [conn] = await listener.accept_async(null);
    serve(conn); // not awaited: clients are served side by side
}
