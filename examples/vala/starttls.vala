/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* STARTTLS: a connection that starts in plain text and is upgraded to TLS
 * in place, as SMTP, IMAP or XMPP do. Both ends run here, in one main loop,
 * over a loopback TCP connection:
 *
 *   client: STARTTLS        server: OK
 *   ... both wrap the same, already open connection in a SecureSocket ...
 *   client: (TLS) ping      server: (TLS) pong
 *
 *   starttls CERT-CHAIN KEY CA */

/* One line of text. The DataInputStream must not close the connection when
 * it goes away, and must not read past the line in the plain-text part
 * (the TLS handshake follows): safe here, because each side waits for an
 * answer before it sends more. */
async string read_line (IOStream stream) throws Error {
    var lines = new DataInputStream (stream.input_stream);
    lines.close_base_stream = false;
    return (yield lines.read_line_utf8_async ()) ?? "";
}

async void send_line (IOStream stream, string line) throws Error {
    size_t written;
    yield stream.output_stream.write_all_async ((line + "\n").data, Priority.DEFAULT, null, out written);
}

async void server (SocketListener listener, GSecSock.SecureSocketContext ctx) throws Error {
    var conn = yield listener.accept_async ();
    if ((yield read_line (conn)) != "STARTTLS") {
        throw new IOError.INVALID_DATA ("expected STARTTLS");
    }
    yield send_line (conn, "OK");

    var tls = new GSecSock.SecureSocket (ctx, conn, null);
    yield tls.handshake_async ();
    print ("server got: %s\n", yield read_line (tls));
    yield send_line (tls, "pong");
    yield tls.close_async ();
}

async void client (uint16 port, GSecSock.SecureSocketContext ctx) throws Error {
    var conn = yield new SocketClient ().connect_to_host_async ("localhost", port);
    yield send_line (conn, "STARTTLS");
    if ((yield read_line (conn)) != "OK") {
        throw new IOError.INVALID_DATA ("the server refused STARTTLS");
    }

    /* The name the server's certificate must match. */
    var tls = new GSecSock.SecureSocket (ctx, conn, "localhost");
    yield tls.handshake_async ();
    print ("client: TLS with %s, server %s\n", tls.cipher_name, ((!) tls.peer_certificate).subject);
    yield send_line (tls, "ping");
    print ("client got: %s\n", yield read_line (tls));
    yield tls.close_async ();
}

async int run (string cert, string key, string ca) {
    try {
        var server_ctx = new GSecSock.SecureSocketContext (GSecSock.Mode.SERVER);
        server_ctx.load_certificate_file (cert, key);
        var client_ctx = new GSecSock.SecureSocketContext (GSecSock.Mode.CLIENT);
        client_ctx.use_system_trust = false;
        client_ctx.add_trust_anchor_file (ca);

        var listener = new SocketListener ();
        uint16 port = listener.add_any_inet_port (null);
        /* Both ends at once; resumed when both are done. */
        Error? failure = null;
        int running = 2;
        server.begin (listener, server_ctx, (obj, res) => {
            try {
                server.end (res);
            } catch (Error e) {
                failure = e.copy ();
            }
            if (--running == 0) {
                run.callback ();
            }
        });
        client.begin (port, client_ctx, (obj, res) => {
            try {
                client.end (res);
            } catch (Error e) {
                failure = e.copy ();
            }
            if (--running == 0) {
                run.callback ();
            }
        });
        yield;
        if (failure != null) {
            throw (!) failure;
        }
        return 0;
    } catch (Error e) {
        printerr ("failed: %s\n", e.message);
        return 1;
    }
}

int main (string[] args) {
    if (args.length != 4) {
        printerr ("usage: %s CERT-CHAIN KEY CA\n", args[0]);
        return 2;
    }
    var loop = new MainLoop ();
    int status = 1;
    run.begin (args[1], args[2], args[3], (obj, res) => {
        status = run.end (res);
        loop.quit ();
    });
    loop.run ();
    return status;
}
