/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A TLS server that asks its client for a certificate and decides in a
 * handler whether to accept it. It serves one client, greets it by name,
 * and exits.
 *
 *   server CERT-CHAIN KEY CLIENT-CA [PORT]
 *
 * CLIENT-CA is the CA whose client certificates are accepted; PORT 0 (the
 * default) lets the system pick one, printed on start. */

/* The clients allowed in, by the subject of their certificate. */
const string[] ALLOWED = { "CN=gsecsock test client" };

async int serve (GSecSock.SecureSocketContext ctx, SocketListener listener) {
    try {
        var conn = yield listener.accept_async ();
        var sock = new GSecSock.SecureSocket (ctx, conn, null);
        yield sock.handshake_async ();

        var client = (!) sock.peer_certificate;
        var greeting = "Hello, %s\n".printf (client.subject);
        size_t written;
        yield sock.output_stream.write_all_async (greeting.data, Priority.DEFAULT, null, out written);
        yield sock.close_async ();
        return 0;
    } catch (Error e) {
        printerr ("failed: %s\n", e.message);
        return 1;
    }
}

int main (string[] args) {
    if (args.length < 4) {
        printerr ("usage: %s CERT-CHAIN KEY CLIENT-CA [PORT]\n", args[0]);
        return 2;
    }
    var ctx = new GSecSock.SecureSocketContext (GSecSock.Mode.SERVER);
    var listener = new SocketListener ();
    uint16 port = args.length > 4 ? (uint16) int.parse (args[4]) : 0;
    try {
        ctx.load_certificate_file (args[1], args[2]);
        /* Ask for a client certificate and verify it against CLIENT-CA only. */
        ctx.verify_peer = true;
        ctx.use_system_trust = false;
        ctx.add_trust_anchor_file (args[3]);
        if (port == 0) {
            port = listener.add_any_inet_port (null);
        } else {
            listener.add_inet_port (port, null);
        }
    } catch (Error e) {
        printerr ("%s\n", e.message);
        return 1;
    }

    /* Called for each certificate of the client's chain, root first: the
     * chain must verify, and the client's own (depth 0) be allowed. */
    ctx.verify_certificate.connect ((sock, certificate, depth, errors) => {
        bool accept = errors == GSecSock.CertificateFlags.NO_FLAGS && (depth > 0 || certificate.subject in ALLOWED);
        print ("client certificate %u: %s: %s\n", depth, certificate.subject, accept ? "accepted" : "refused");
        return accept;
    });

    print ("listening on port %u\n", port);
    stdout.flush ();
    var loop = new MainLoop ();
    int status = 1;
    serve.begin (ctx, listener, (obj, res) => {
        status = serve.end (res);
        loop.quit ();
    });
    loop.run ();
    return status;
}
