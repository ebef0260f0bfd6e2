// SPDX-License-Identifier: LGPL-2.1-or-later
//
// STARTTLS: a connection that starts in plain text and is upgraded to TLS
// in place, here on the server side of an SMTP-like dialogue:
//
//   S: 220 greeting            C: EHLO name
//   S: 250 STARTTLS            C: STARTTLS
//   S: 220 go ahead            ... TLS handshake on the same TCP connection
//   C: a line                  S: 250 the line, then close
//
// Try it with `openssl s_client -starttls smtp -crlf -connect localhost:PORT`.
// A client upgrades the same way, with a client context and the server's
// name as the peer name of GSecSock.SecureSocket.new().
//
//   gjs -m starttls.js CERT-CHAIN KEY PORT
//
// PORT 0 lets the system choose; the port is printed. Runs until
// interrupted.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GSecSock from 'gi://GSecSock?version=1.0';
import System from 'system';

Gio._promisify(Gio.SocketListener.prototype, 'accept_async');
Gio._promisify(GSecSock.SecureSocket.prototype, 'handshake_async');
Gio._promisify(Gio.OutputStream.prototype, 'write_all_async');
Gio._promisify(Gio.DataInputStream.prototype, 'read_line_async', 'read_line_finish_utf8');
Gio._promisify(Gio.IOStream.prototype, 'close_async');

const [certFile, keyFile, port] = ARGV;
if (!port) {
    printerr('usage: gjs -m starttls.js CERT-CHAIN KEY PORT');
    System.exit(2);
}

const ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER);
ctx.load_certificate_file(certFile, keyFile);

const send = (stream, text) => stream.get_output_stream().write_all_async(
    new TextEncoder().encode(text), GLib.PRIORITY_DEFAULT, null);

// A line reader over a stream that must stay open when the reader goes.
const lineReader = stream => new Gio.DataInputStream({
    base_stream: stream.get_input_stream(),
    close_base_stream: false,
    newline_type: Gio.DataStreamNewlineType.CR_LF,
});

async function serve(conn) {
    // The plain-text part, on the TCP connection itself.
    const plain = lineReader(conn);
    await send(conn, '220 gsecsock example ESMTP\r\n');
    const [hello] = await plain.read_line_async(GLib.PRIORITY_DEFAULT, null);
    print(`plain: ${hello}`);
    await send(conn, '250-gsecsock example\r\n250 STARTTLS\r\n');
    const [command] = await plain.read_line_async(GLib.PRIORITY_DEFAULT, null);
    print(`plain: ${command}`);
    if (command?.toUpperCase() !== 'STARTTLS') {
        await send(conn, '530 STARTTLS first\r\n');
        return conn.close(null);
    }
    // `plain` reads ahead into its buffer, but no TLS bytes can be lost
    // there: the client starts its handshake only after this answer.
    await send(conn, '220 go ahead\r\n');

    // The upgrade: the same connection, now under TLS.
    const sock = GSecSock.SecureSocket.new(ctx, conn, null);
    await sock.handshake_async(GLib.PRIORITY_DEFAULT, null);
    print(`upgraded to TLS: ${sock.cipher_name}`);
    const [line] = await lineReader(sock).read_line_async(GLib.PRIORITY_DEFAULT, null);
    print(`encrypted: ${line}`);
    await send(sock, `250 over TLS, you said: ${line}\r\n`);
    return sock.close_async(GLib.PRIORITY_DEFAULT, null);
}

const listener = new Gio.SocketListener();
if (Number(port) === 0)
    print(`listening on port ${listener.add_any_inet_port(null)}`);
else
    listener.add_inet_port(Number(port), null);

for (;;) {
    const [conn] = await listener.accept_async(null);
    serve(conn).catch(error => {
        print(`connection failed: ${error.message}`);
        conn.close(null);
    });
}
