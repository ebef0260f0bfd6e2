// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A TLS client: decides in a verify-certificate handler whether to trust
// the server, prints the server's chain, sends a line and prints the answer.
//
//   gjs -m client.js HOST PORT [CA-FILE] [--pin=SHA256-FINGERPRINT]
//
// Without CA-FILE the system's trusted authorities are used. With --pin, a
// server whose certificate does not verify (a self-signed one, say) is
// accepted when its certificate has that SHA-256 fingerprint.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GSecSock from 'gi://GSecSock?version=1.0';
import System from 'system';

Gio._promisify(GSecSock.SecureSocket, 'connect_async', 'connect_finish');
Gio._promisify(Gio.OutputStream.prototype, 'write_all_async');
Gio._promisify(Gio.DataInputStream.prototype, 'read_line_async', 'read_line_finish_utf8');
Gio._promisify(Gio.IOStream.prototype, 'close_async');

const pin = ARGV.find(arg => arg.startsWith('--pin='))?.slice('--pin='.length).toLowerCase();
const [host, port, caFile] = ARGV.filter(arg => !arg.startsWith('--'));
if (!host || !port) {
    printerr('usage: gjs -m client.js HOST PORT [CA-FILE] [--pin=SHA256-FINGERPRINT]');
    System.exit(2);
}

const ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT);
if (caFile) {
    ctx.set_use_system_trust(false);
    ctx.add_trust_anchor_file(caFile);
}

// Called for each certificate of the server's chain, root end first (depth
// 0 is the server's own). `errors` holds every problem found; returning
// false ends the handshake at once.
ctx.connect('verify-certificate', (_ctx, _sock, certificate, depth, errors) => {
    const flags = GSecSock.CertificateFlags;
    const problems = Object.keys(flags).filter(name => flags[name] && errors & flags[name]);
    print(`verify depth ${depth}: ${certificate.get_subject()}: ${problems.join(', ') || 'ok'}`);
    if (errors === 0)
        return true;
    return depth === 0 && certificate.get_fingerprint_sha256().toLowerCase() === pin;
});

try {
    const sock = await GSecSock.SecureSocket.connect_async(ctx, host, Number(port), null);
    print(`connected to ${sock.peer_name}, ${sock.cipher_name}; the server's chain:`);
    for (const certificate of sock.get_peer_certificate_chain()) {
        print(`  ${certificate.get_subject()}`);
        print(`    issued by ${certificate.get_issuer()}, valid until ${
            certificate.get_not_valid_after().format_iso8601()}`);
        print(`    SHA-256 ${certificate.get_fingerprint_sha256()}`);
    }

    await sock.get_output_stream().write_all_async(new TextEncoder().encode('Hello from GJS\n'),
        GLib.PRIORITY_DEFAULT, null);
    // Closing the line reader must not close the socket under it.
    const lines = new Gio.DataInputStream({base_stream: sock.get_input_stream(), close_base_stream: false});
    const [answer] = await lines.read_line_async(GLib.PRIORITY_DEFAULT, null);
    print(`the server answered: ${answer}`);
    await sock.close_async(GLib.PRIORITY_DEFAULT, null);
} catch (error) {
    printerr(`client: ${error.message}`);
    System.exit(1);
}
