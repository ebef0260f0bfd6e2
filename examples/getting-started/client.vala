/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* client HOST PORT [CA_FILE]: a verified TLS client. */
int main (string[] args) {
    /* Messages in the user's language and character set. */
    Intl.setlocale (LocaleCategory.ALL, "");
    if (args.length < 3) {
        printerr ("usage: %s HOST PORT [CA_FILE]\n", args[0]);
        return 2;
    }
    string host = args[1];

    /* A client context verifies the server's chain and host name. */
    var ctx = new GSecSock.SecureSocketContext (GSecSock.Mode.CLIENT);
    try {
        if (args.length > 3) {
            /* Trust this CA only, instead of the system's. */
            ctx.use_system_trust = false;
            ctx.add_trust_anchor_file (args[3]);
        }

        /* Resolve, connect, handshake, verify: all or nothing. */
        var port = (uint16) int.parse (args[2]);
        var sock = GSecSock.SecureSocket.connect (ctx, host, port);
        print ("connected to %s with %s\n", host, sock.cipher_name);

        /* A secure socket is a GIOStream: use its streams as usual. */
        size_t written;
        sock.output_stream.write_all ("hello\n".data, out written);
        var lines = new DataInputStream (sock.input_stream);
        print ("server said: %s\n", lines.read_line_utf8 ());

        /* Closing sends a TLS close_notify. */
        sock.close ();
    } catch (Error e) {
        printerr ("client: %s\n", e.message);
        return 1;
    }
    return 0;
}
