/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A TLS client that decides about the server's certificates itself, prints
 * the chain as it goes, then makes an HTTP request.
 *
 *   client HOST PORT [CA-FILE]
 *
 * With CA-FILE, only that CA is trusted (not the system's). */

async int run (string host, uint16 port, string? ca_file) {
    var ctx = new GSecSock.SecureSocketContext (GSecSock.Mode.CLIENT);
    try {
        if (ca_file != null) {
            ctx.use_system_trust = false;
            ctx.add_trust_anchor_file ((!) ca_file);
        }
    } catch (Error e) {
        printerr ("%s\n", e.message);
        return 1;
    }

    /* Called once per certificate of the chain, root first (depth 0 is the
     * server's own). Connected to the context because connect_async()
     * creates the socket. */
    ctx.verify_certificate.connect ((sock, certificate, depth, errors) => {
        print ("depth %u: %s\n  issuer: %s\n  SHA-256: %s\n", depth, certificate.subject,
               certificate.issuer, certificate.fingerprint_sha256);
        if (errors != GSecSock.CertificateFlags.NO_FLAGS) {
            /* An application could ask the user here: sock.defer_decision (). */
            print ("  rejected: %s\n", typeof (GSecSock.CertificateFlags).flags_to_string (errors));
            return false;
        }
        return true;
    });

    try {
        var sock = yield GSecSock.SecureSocket.connect_async (ctx, host, port);
        print ("connected: %s, %s\n", typeof (GSecSock.ProtocolVersion).enum_to_string (sock.protocol_version),
               sock.cipher_name);

        size_t written;
        yield sock.output_stream.write_all_async ("GET / HTTP/1.0\r\n\r\n".data, Priority.DEFAULT, null,
                                                  out written);
        var reply = new DataInputStream (sock.input_stream);
        print ("%s\n", yield reply.read_line_utf8_async ());
        yield sock.close_async ();
        return 0;
    } catch (Error e) {
        printerr ("failed: %s\n", e.message);
        return 1;
    }
}

int main (string[] args) {
    if (args.length < 3) {
        printerr ("usage: %s HOST PORT [CA-FILE]\n", args[0]);
        return 2;
    }
    var loop = new MainLoop ();
    int status = 1;
    run.begin (args[1], (uint16) int.parse (args[2]), args.length > 3 ? args[3] : null, (obj, res) => {
        status = run.end (res);
        loop.quit ();
    });
    loop.run ();
    return status;
}
