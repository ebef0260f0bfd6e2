/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The decision signals from Vala: verify-certificate (per depth, pinning,
 * deferred from a GLib.Timeout, timeout), handshake-info (alerts),
 * client-certificate-requested (choice by issuer, deferred), and the
 * context-level handlers with their precedence. No error can escape a Vala
 * handler (an unhandled one is a valac warning, and the generated handler
 * logs a critical and returns FALSE), so unlike Python and GJS there is no
 * "exception in a handler" case. */

using GSecSock;

/* One handshake-info event. */
class Event {
    public HandshakeInfoFlags flags;
    public int code;
    public string description;

    public Event (HandshakeInfoFlags flags, int code, string description) {
        this.flags = flags;
        this.code = code;
        this.description = description;
    }

    public bool is_alert (HandshakeInfoFlags direction) {
        return (flags & HandshakeInfoFlags.ALERT) != 0 && (flags & direction) != 0;
    }
}

GenericArray<Event> record_events (SecureSocket sock) {
    var events = new GenericArray<Event> ();
    sock.handshake_info.connect ((flags, code, description) => {
        events.add (new Event (flags, code, description));
    });
    return events;
}

/* Emitted once per certificate, root end first, with no problem to report
 * on a valid chain. */
async void test_verify_per_depth () throws GLib.Error {
    var pair = new Pair (client_context (), server_context ());
    uint[] depths = {};
    string[] subjects = {};
    pair.client.verify_certificate.connect ((sock, certificate, depth, errors) => {
        assert_true (sock == pair.client);
        assert_true (errors == CertificateFlags.NO_FLAGS);
        depths += depth;
        subjects += certificate.subject;
        return true;
    });
    yield pair.handshake_ok ();
    assert_cmpuint (depths.length, CompareOperator.EQ, 3);
    assert_cmpuint (depths[0], CompareOperator.EQ, 2);
    assert_cmpuint (depths[1], CompareOperator.EQ, 1);
    assert_cmpuint (depths[2], CompareOperator.EQ, 0);
    assert_cmpstr (subjects[0], CompareOperator.EQ, "CN=gsecsock Test Root CA");
    assert_cmpstr (subjects[1], CompareOperator.EQ, "CN=gsecsock Test Intermediate CA");
    assert_cmpstr (subjects[2], CompareOperator.EQ, "CN=localhost");
    pair.close ();
}

/* Accepts the self-signed server only if its SHA-256 fingerprint is @pin.
 * Returns the client's handshake error (null for success). */
async GLib.Error? pinned_handshake (string pin, out CertificateFlags seen) throws GLib.Error {
    var pair = new Pair (client_context (), server_context ("selfsigned.pem", "selfsigned.key"));
    CertificateFlags problems = CertificateFlags.NO_FLAGS;
    int calls = 0;
    pair.client.verify_certificate.connect ((certificate, depth, errors) => {
        calls++;
        problems = errors;
        if (depth == 0 && errors == (CertificateFlags.SELF_SIGNED | CertificateFlags.UNKNOWN_CA)) {
            return certificate.fingerprint_sha256 == pin;
        }
        return errors == CertificateFlags.NO_FLAGS;
    });
    yield pair.handshake ();
    assert_cmpint (calls, CompareOperator.EQ, 1);
    seen = problems;
    pair.close ();
    return pair.client_error != null ? ((!) pair.client_error).copy () : null;
}

async void test_verify_pin_fingerprint () throws GLib.Error {
    CertificateFlags seen;
    var selfsigned = new Certificate.from_file (pki_path ("selfsigned.pem"));
    var error = yield pinned_handshake (selfsigned.fingerprint_sha256, out seen);
    assert_no_gerror (error, "pinned handshake");
    assert_true (seen == (CertificateFlags.SELF_SIGNED | CertificateFlags.UNKNOWN_CA));

    var other = new Certificate.from_file (pki_path ("server.pem"));
    error = yield pinned_handshake (other.fingerprint_sha256, out seen);
    assert_error (error, GSecSock.Error.quark (), GSecSock.Error.CERTIFICATE_REJECTED);
}

/* The handler defers; a GLib.Timeout answers 50 ms later, while the main
 * loop keeps running. */
async void test_deferred_accept () throws GLib.Error {
    var pair = new Pair (client_context (), server_context ());
    Decision[] decisions = {};
    int64 deferred_at = 0;
    pair.client.verify_certificate.connect ((sock, certificate, depth, errors) => {
        if (depth != 0) {
            return true;
        }
        var decision = (!) sock.defer_decision ();
        decisions += decision;
        deferred_at = get_monotonic_time ();
        Timeout.add (50, () => {
            assert_false (sock.handshake_complete);
            decision.accept ();
            return Source.REMOVE;
        });
        return false;   /* ignored: deferred */
    });
    yield pair.handshake_ok ();
    assert_true (get_monotonic_time () - deferred_at >= 50 * 1000);
    assert_cmpuint (decisions.length, CompareOperator.EQ, 1);
    assert_true (decisions[0].answered);
    assert_true (decisions[0].kind == DecisionKind.VERIFY_CERTIFICATE);
    assert_cmpuint (decisions[0].depth, CompareOperator.EQ, 0);
    assert_cmpstr (((!) decisions[0].certificate).subject, CompareOperator.EQ, "CN=localhost");
    assert_true (pair.client.handshake_complete);
    pair.close ();
}

async void test_deferred_reject () throws GLib.Error {
    var pair = new Pair (client_context (), server_context ());
    pair.client.verify_certificate.connect ((sock, certificate, depth, errors) => {
        var decision = (!) sock.defer_decision ();
        Timeout.add (20, () => {
            decision.reject ();
            return Source.REMOVE;
        });
        return true;    /* ignored: deferred */
    });
    yield pair.handshake ();
    assert_error (pair.client_error, GSecSock.Error.quark (), GSecSock.Error.CERTIFICATE_REJECTED);
    assert_true (pair.server_error != null);
    pair.close ();
}

/* A decision nobody answers: handshake-timeout ends the wait. */
async void test_deferred_timeout () throws GLib.Error {
    var pair = new Pair (client_context (), server_context ());
    Decision[] kept = {};
    pair.client.handshake_timeout = 1;
    pair.client.verify_certificate.connect ((sock, certificate, depth, errors) => {
        kept += (!) sock.defer_decision ();     /* kept alive, never answered */
        return true;
    });
    var started = get_monotonic_time ();
    yield pair.handshake ();
    assert_error (pair.client_error, IOError.quark (), IOError.TIMED_OUT);
    assert_true (get_monotonic_time () - started >= 900 * 1000);
    assert_cmpuint (kept.length, CompareOperator.EQ, 1);
    assert_false (kept[0].answered);
    pair.close ();
}

/* The client rejects the server's certificate: it sends a fatal
 * bad_certificate alert, which the server receives. */
async void test_handshake_info_alert () throws GLib.Error {
    var pair = new Pair (client_context (), server_context ());
    var client_events = record_events (pair.client);
    var server_events = record_events (pair.server);
    pair.client.verify_certificate.connect (() => false);
    yield pair.handshake ();
    assert_error (pair.client_error, GSecSock.Error.quark (), GSecSock.Error.CERTIFICATE_REJECTED);
    assert_true (pair.server_error != null);
    assert_true ("bad certificate" in ((!) pair.server_error).message);

    Event[] sent = {};
    client_events.foreach ((e) => {
        if (e.is_alert (HandshakeInfoFlags.WRITE)) {
            sent += e;
        }
    });
    assert_cmpuint (sent.length, CompareOperator.EQ, 1);
    assert_cmpint (sent[0].code, CompareOperator.EQ, 42);
    assert_cmpstr (sent[0].description, CompareOperator.EQ, "fatal bad_certificate");
    assert_true (sent[0].flags == (HandshakeInfoFlags.CONNECT | HandshakeInfoFlags.ALERT |
                                   HandshakeInfoFlags.WRITE | HandshakeInfoFlags.FATAL));

    Event[] received = {};
    server_events.foreach ((e) => {
        if (e.is_alert (HandshakeInfoFlags.READ)) {
            received += e;
        }
    });
    assert_cmpuint (received.length, CompareOperator.EQ, 1);
    assert_cmpstr (received[0].description, CompareOperator.EQ, "fatal bad_certificate");
    assert_true ((received[0].flags & HandshakeInfoFlags.ACCEPT) != 0);

    bool started = false;
    bool client_hello = false;
    client_events.foreach ((e) => {
        started |= (e.flags & HandshakeInfoFlags.START) != 0;
        client_hello |= (e.flags & HandshakeInfoFlags.STATE) != 0 && "client hello" in e.description;
    });
    assert_true (started);
    assert_true (client_hello);
    pair.close ();
}

/* The server asks for a certificate; the handler picks, of two, the one
 * whose issuer the server named. */
async void test_client_certificate_by_issuer () throws GLib.Error {
    Certificate[] candidates = {
        identity ("client-other-chain.pem", "client-other.key"),
        identity ("client-chain.pem", "client.key"),
    };
    /* The server trusts (and names) the test root and intermediate, not
     * the CA that issued the other certificate. */
    var pair = new Pair (client_context (), server_context_asking ("bundle.pem"));
    string[] asked = {};
    int calls = 0;
    pair.client.client_certificate_requested.connect ((sock, issuers) => {
        calls++;
        asked = issuers;
        foreach (var candidate in candidates) {
            if (candidate.issuer in issuers) {
                sock.set_client_certificate (candidate);
                break;
            }
        }
        return true;
    });
    yield pair.handshake_ok ();
    assert_cmpint (calls, CompareOperator.EQ, 1);
    assert_true ("CN=gsecsock Test Root CA" in asked);
    assert_false ("CN=gsecsock Untrusted CA" in asked);
    assert_true (((!) pair.server.peer_certificate).equal (candidates[1]));
    assert_true (((!) pair.client.get_client_certificate ()).equal (candidates[1]));
    pair.close ();
}

/* The choice of a client certificate, deferred and made from a timeout. */
async void test_client_certificate_deferred () throws GLib.Error {
    var chosen = identity ("client-chain.pem", "client.key");
    var pair = new Pair (client_context (), server_context_asking ());
    pair.client.client_certificate_requested.connect ((sock, issuers) => {
        var decision = (!) sock.defer_decision ();
        assert_true (decision.kind == DecisionKind.CLIENT_CERTIFICATE);
        assert_true ("CN=gsecsock Test Root CA" in (!) decision.acceptable_issuers);
        Timeout.add (30, () => {
            decision.select_certificate (chosen);
            return Source.REMOVE;
        });
        return true;
    });
    yield pair.handshake_ok ();
    assert_true (((!) pair.server.peer_certificate).equal (chosen));
    pair.close ();
}

/* The server verifies the client's chain in its own handler. */
async void test_server_verifies_client () throws GLib.Error {
    var client_ctx = client_context ();
    client_ctx.load_certificate_file (pki_path ("client-chain.pem"), pki_path ("client.key"));
    var pair = new Pair (client_ctx, server_context_asking ("ca.pem"));
    string[] seen = {};
    pair.server.verify_certificate.connect ((certificate, depth, errors) => {
        seen += "%u %s".printf (depth, certificate.subject);
        return depth != 0;      /* refuses the client's own certificate */
    });
    yield pair.handshake ();
    assert_error (pair.server_error, GSecSock.Error.quark (), GSecSock.Error.CERTIFICATE_REJECTED);
    assert_cmpuint (seen.length, CompareOperator.EQ, 3);
    assert_cmpstr (seen[2], CompareOperator.EQ, "0 CN=gsecsock test client");
    pair.close ();
}

/* Context-level handlers: one handler for every socket of the context,
 * with the socket as first argument; a socket's own handler takes
 * precedence. */
async void test_context_verify_precedence () throws GLib.Error {
    var ctx = client_context ();
    SecureSocket[] asked = {};
    ctx.verify_certificate.connect ((sock, certificate, depth, errors) => {
        asked += sock;
        return false;       /* the context's policy: reject */
    });

    var first = new Pair (ctx, server_context ());
    yield first.handshake ();
    assert_error (first.client_error, GSecSock.Error.quark (), GSecSock.Error.CERTIFICATE_REJECTED);
    assert_cmpuint (asked.length, CompareOperator.EQ, 1);   /* rejected at the first emission */
    assert_true (asked[0] == first.client);
    first.close ();

    /* This socket's own handler answers; the context's is not consulted. */
    var second = new Pair (ctx, server_context ());
    int own = 0;
    second.client.verify_certificate.connect (() => {
        own++;
        return true;
    });
    yield second.handshake_ok ();
    assert_cmpint (own, CompareOperator.EQ, 3);
    assert_cmpuint (asked.length, CompareOperator.EQ, 1);
    second.close ();
}

async void test_context_handshake_info () throws GLib.Error {
    var ctx = client_context ();
    var sockets = new GenericSet<SecureSocket> (direct_hash, direct_equal);
    int done = 0;
    ctx.handshake_info.connect ((sock, flags, code, description) => {
        sockets.add (sock);
        if ((flags & HandshakeInfoFlags.DONE) != 0) {
            done++;
        }
    });
    var pairs = new Pair[] { new Pair (ctx, server_context ()), new Pair (ctx, server_context ()) };
    foreach (var pair in pairs) {
        yield pair.handshake_ok ();
    }
    assert_cmpuint (sockets.length, CompareOperator.EQ, 2);
    assert_true (sockets.contains (pairs[0].client));
    assert_true (sockets.contains (pairs[1].client));
    assert_cmpint (done, CompareOperator.EQ, 2);
    foreach (var pair in pairs) {
        pair.close ();
    }
}

async void test_context_client_certificate () throws GLib.Error {
    var chosen = identity ("client-chain.pem", "client.key");
    var ctx = client_context ();
    SecureSocket[] asked = {};
    ctx.client_certificate_requested.connect ((sock, issuers) => {
        asked += sock;
        sock.set_client_certificate (chosen);
        return true;
    });
    var pair = new Pair (ctx, server_context_asking ());
    yield pair.handshake_ok ();
    assert_cmpuint (asked.length, CompareOperator.EQ, 1);
    assert_true (asked[0] == pair.client);
    assert_true (((!) pair.server.peer_certificate).equal (chosen));
    pair.close ();
}

int main (string[] args) {
    Test.init (ref args);
    Test.add_func ("/vala/verify-certificate/per-depth-order",
                   () => run_async ((cb) => test_verify_per_depth.begin (cb), (r) => test_verify_per_depth.end (r)));
    Test.add_func ("/vala/verify-certificate/pin-fingerprint",
                   () => run_async ((cb) => test_verify_pin_fingerprint.begin (cb),
                                    (r) => test_verify_pin_fingerprint.end (r)));
    Test.add_func ("/vala/verify-certificate/deferred-accept-from-timeout",
                   () => run_async ((cb) => test_deferred_accept.begin (cb), (r) => test_deferred_accept.end (r)));
    Test.add_func ("/vala/verify-certificate/deferred-reject",
                   () => run_async ((cb) => test_deferred_reject.begin (cb), (r) => test_deferred_reject.end (r)));
    Test.add_func ("/vala/verify-certificate/deferred-timeout",
                   () => run_async ((cb) => test_deferred_timeout.begin (cb), (r) => test_deferred_timeout.end (r)));
    Test.add_func ("/vala/verify-certificate/server-side",
                   () => run_async ((cb) => test_server_verifies_client.begin (cb),
                                    (r) => test_server_verifies_client.end (r)));
    Test.add_func ("/vala/handshake-info/alert-when-client-rejects",
                   () => run_async ((cb) => test_handshake_info_alert.begin (cb),
                                    (r) => test_handshake_info_alert.end (r)));
    Test.add_func ("/vala/client-certificate-requested/by-issuer",
                   () => run_async ((cb) => test_client_certificate_by_issuer.begin (cb),
                                    (r) => test_client_certificate_by_issuer.end (r)));
    Test.add_func ("/vala/client-certificate-requested/deferred-select",
                   () => run_async ((cb) => test_client_certificate_deferred.begin (cb),
                                    (r) => test_client_certificate_deferred.end (r)));
    Test.add_func ("/vala/context/verify-certificate-precedence",
                   () => run_async ((cb) => test_context_verify_precedence.begin (cb),
                                    (r) => test_context_verify_precedence.end (r)));
    Test.add_func ("/vala/context/handshake-info",
                   () => run_async ((cb) => test_context_handshake_info.begin (cb),
                                    (r) => test_context_handshake_info.end (r)));
    Test.add_func ("/vala/context/client-certificate-requested",
                   () => run_async ((cb) => test_context_client_certificate.begin (cb),
                                    (r) => test_context_client_certificate.end (r)));
    return Test.run ();
}
