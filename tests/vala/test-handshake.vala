/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Handshakes and I/O from Vala, through gsecsock-1.0.vapi: a loopback pair,
 * connect_async and handshake_async with `yield`, `openssl s_server`,
 * errors as a Vala errordomain, and the Certificate API. */

using GSecSock;

/* A gsecsock client and server over loopback: bytes go to the server and
 * come back. */
async void test_loopback_echo () throws GLib.Error {
    var pair = new Pair (client_context (), server_context ());
    yield pair.handshake_ok ();

    assert_true (pair.client.handshake_complete);
    assert_true (pair.client.protocol_version >= ProtocolVersion.TLS_1_2);
    assert_true (pair.client.certificate_errors == CertificateFlags.NO_FLAGS);
    assert_nonnull (pair.client.cipher_name);
    assert_cmpstr (pair.client.cipher_name, CompareOperator.EQ, pair.server.cipher_name);
    var server_cert = new Certificate.from_file (pki_path ("server.pem"));
    assert_true (((!) pair.client.peer_certificate).equal (server_cert));
    /* The server sent its certificate and the intermediate. */
    assert_cmpuint (((!) pair.client.peer_certificate_chain).get_n_items (), CompareOperator.EQ, 2);
    assert_null (pair.server.peer_certificate);

    uint8[] message = "hello from Vala\n".data;
    bool echoed = false;
    echo.begin (pair.server, message.length, (obj, res) => {
        try {
            echo.end (res);
        } catch (GLib.Error e) {
            error ("server echo: %s", e.message);
        }
        echoed = true;
    });
    yield write_all (pair.client, message);
    var answer = yield read_exactly (pair.client.input_stream, message.length);
    assert_cmpstr (text (answer), CompareOperator.EQ, "hello from Vala\n");
    assert_true (echoed);

    /* A close sends close_notify: the server reads a clean end of stream. */
    yield pair.client.close_async ();
    var rest = yield pair.server.input_stream.read_bytes_async (16);
    assert_cmpuint ((uint) rest.get_size (), CompareOperator.EQ, 0);
    yield pair.server.close_async ();
}

async void serve_one_echo (SocketListener listener, SecureSocketContext ctx, size_t count) throws GLib.Error {
    var conn = yield listener.accept_async ();
    var sock = new SecureSocket (ctx, conn, null);
    yield sock.handshake_async ();
    yield echo (sock, count);
    yield sock.close_async ();
}

/* connect_async resolves, connects and handshakes; the server side is an
 * async method too; both use `yield`. */
async void test_connect_async () throws GLib.Error {
    var listener = new SocketListener ();
    uint16 port = listener.add_any_inet_port (null);
    uint8[] message = "connected asynchronously".data;
    bool served = false;
    serve_one_echo.begin (listener, server_context (), message.length, (obj, res) => {
        try {
            serve_one_echo.end (res);
        } catch (GLib.Error e) {
            error ("server: %s", e.message);
        }
        served = true;
    });

    var sock = yield SecureSocket.connect_async (client_context (), "localhost", port);
    assert_cmpstr (sock.peer_name, CompareOperator.EQ, "localhost");
    assert_true (sock.handshake_complete);
    /* A second handshake returns the first result at once. */
    assert_true (yield sock.handshake_async ());

    yield write_all (sock, message);
    var answer = yield read_exactly (sock.input_stream, message.length);
    assert_cmpstr (text (answer), CompareOperator.EQ, "connected asynchronously");
    yield sock.close_async ();
    while (!served) {
        yield delay (10);
    }
    listener.close ();
}

/* Against `openssl s_server -rev`: it answers each line reversed. */
async void test_openssl_s_server () throws GLib.Error {
    var server = new SServer ({
        "-cert", pki_path ("server.pem"),
        "-cert_chain", pki_path ("intermediate.pem"),
        "-key", pki_path ("server.key"),
    });
    try {
        /* The host, 127.0.0.1, is checked against the certificate's IP SAN. */
        var sock = yield SecureSocket.connect_async (client_context (), "127.0.0.1", server.port);
        assert_true (sock.certificate_errors == CertificateFlags.NO_FLAGS);
        assert_cmpstr (((!) sock.peer_certificate).subject, CompareOperator.EQ, "CN=localhost");

        var lines = new DataInputStream (sock.input_stream);
        lines.close_base_stream = false;
        yield write_all (sock, "hello interop from Vala\n".data);
        size_t length;
        var answer = yield lines.read_line_utf8_async (Priority.DEFAULT, null, out length);
        assert_cmpstr (answer, CompareOperator.EQ, "alaV morf poretni olleh");

        /* CLOSE makes s_server end the connection with a close_notify. */
        yield write_all (sock, "CLOSE\n".data);
        var rest = yield lines.read_line_utf8_async (Priority.DEFAULT, null, out length);
        assert_null (rest);
        yield sock.close_async ();
        server.wait_exit ();
        assert_true ("CONNECTION CLOSED" in server.output.str);
    } finally {
        server.kill ();
    }
}

/* The blocking API (SecureSocket.connect, blocking reads and writes) is
 * fine here: s_server is another process. With ALPN. */
void test_openssl_s_server_sync () {
    try {
        var server = new SServer ({
            "-cert", pki_path ("server.pem"),
            "-cert_chain", pki_path ("intermediate.pem"),
            "-key", pki_path ("server.key"),
            "-alpn", "http/1.1",
        });
        var ctx = client_context ();
        ctx.alpn_protocols = { "h2", "http/1.1" };
        assert_cmpuint (((!) ctx.get_alpn_protocols ()).length, CompareOperator.EQ, 2);
        var sock = SecureSocket.connect (ctx, "127.0.0.1", server.port);
        assert_cmpstr (sock.alpn_protocol, CompareOperator.EQ, "http/1.1");
        assert_true (sock.protocol_version == ProtocolVersion.TLS_1_3);

        size_t written;
        sock.output_stream.write_all ("blocking\nCLOSE\n".data, out written);
        var lines = new DataInputStream (sock.input_stream);
        lines.close_base_stream = false;
        assert_cmpstr (lines.read_line_utf8 (), CompareOperator.EQ, "gnikcolb");
        assert_null (lines.read_line_utf8 ());
        sock.close ();
        server.wait_exit ();
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

/* Without a handler, an untrusted certificate fails the handshake; the
 * error is a GSecSock.Error a Vala program catches by code. */
async void test_rejected_is_errordomain () throws GLib.Error {
    var pair = new Pair (client_context (), server_context ("selfsigned.pem", "selfsigned.key"));
    /* The server's side fails too (the client's alert); not checked here. */
    pair.server.handshake_async.begin ();
    try {
        yield pair.client.handshake_async ();
        assert_not_reached ();
    } catch (GSecSock.Error.CERTIFICATE_REJECTED e) {
        assert_true (e is GSecSock.Error);
        assert_true (e.matches (GSecSock.Error.quark (), GSecSock.Error.CERTIFICATE_REJECTED));
    }
    assert_true (pair.client.certificate_errors == (CertificateFlags.SELF_SIGNED | CertificateFlags.UNKNOWN_CA));
    pair.close ();
}

/* Loading errors are GSecSock.Error codes too, caught by code. */
void test_loading_errors () {
    try {
        new Certificate.from_file (pki_path ("server.key"));
        assert_not_reached ();
    } catch (GSecSock.Error.BAD_CERTIFICATE_FILE e) {
        assert_true ("server.key" in e.message);
    } catch (GLib.Error e) {
        error ("wrong error: %s", e.message);
    }
    try {
        new Certificate.from_files (pki_path ("client.pem"), pki_path ("server.key"));
        assert_not_reached ();
    } catch (GSecSock.Error.KEY_MISMATCH e) {
        assert_nonnull (e.message);
    } catch (GLib.Error e) {
        error ("wrong error: %s", e.message);
    }
}

/* The Certificate API: properties, PEM and DER round trips, chain files. */
void test_certificate_api () {
    try {
        var cert = new Certificate.from_file (pki_path ("server.pem"));
        assert_cmpstr (cert.subject, CompareOperator.EQ, "CN=localhost");
        assert_cmpstr (cert.issuer, CompareOperator.EQ, "CN=gsecsock Test Intermediate CA");
        assert_true ("localhost" in cert.dns_names);
        assert_true ("127.0.0.1" in cert.get_ip_addresses ());
        assert_false (cert.is_ca);
        assert_false (cert.has_private_key);
        /* "AB:CD:…": 32 bytes in hex, separated by colons. */
        assert_cmpuint (cert.fingerprint_sha256.length, CompareOperator.EQ, 32 * 3 - 1);
        var now = new DateTime.now_utc ();
        assert_true (((!) cert.not_valid_before).compare (now) < 0);
        assert_true (((!) cert.not_valid_after).compare (now) > 0);

        assert_true (new Certificate.from_pem (cert.get_pem ()).equal (cert));
        assert_true (new Certificate.from_der (cert.get_der ()).equal (cert));
        uint8[] der;
        FileUtils.get_data (pki_path ("server.der"), out der);
        assert_true (new Certificate.from_der (new Bytes (der)).equal (cert));

        var chain = Certificate.list_new_from_file (pki_path ("server-chain.pem"));
        assert_cmpuint (chain.length (), CompareOperator.EQ, 2);
        assert_true (chain.nth_data (0).equal (cert));
        assert_true (chain.nth_data (1).is_ca);

        var with_key = identity ("server-chain.pem", "server.key");
        assert_true (with_key.has_private_key);
        assert_true (with_key.equal (cert));
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

int main (string[] args) {
    Test.init (ref args);
    Test.add_func ("/vala/handshake/loopback-echo",
                   () => run_async ((cb) => test_loopback_echo.begin (cb), (r) => test_loopback_echo.end (r)));
    Test.add_func ("/vala/handshake/connect-async-yield",
                   () => run_async ((cb) => test_connect_async.begin (cb), (r) => test_connect_async.end (r)));
    Test.add_func ("/vala/interop/openssl-s-server",
                   () => run_async ((cb) => test_openssl_s_server.begin (cb), (r) => test_openssl_s_server.end (r)));
    Test.add_func ("/vala/interop/openssl-s-server-blocking-alpn", test_openssl_s_server_sync);
    Test.add_func ("/vala/errors/rejected-is-errordomain",
                   () => run_async ((cb) => test_rejected_is_errordomain.begin (cb),
                                    (r) => test_rejected_is_errordomain.end (r)));
    Test.add_func ("/vala/errors/certificate-files", test_loading_errors);
    Test.add_func ("/vala/certificate/api", test_certificate_api);
    return Test.run ();
}
