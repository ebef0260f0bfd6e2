/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SecureSocketContext::password-requested from Vala: encrypted PEM keys and
 * PKCS#12 files, a wrong password then the right one, cancelling, and
 * identities loaded with their key. */

using GSecSock;

const string PASSWORD = "secret";

/* A password-requested handler answering from a list, one answer per
 * attempt (null cancels), that records every emission. */
class PasswordLog {
    public string?[] answers;
    public string[] descriptions = {};
    public uint[] attempts = {};

    public PasswordLog (string?[] answers) {
        this.answers = answers;
    }

    public void attach (SecureSocketContext ctx) {
        ctx.password_requested.connect ((description, attempt) => {
            descriptions += description;
            attempts += attempt;
            return attempt <= answers.length ? answers[attempt - 1] : null;
        });
    }
}

SecureSocketContext server_context_with (PasswordLog log) {
    var ctx = new SecureSocketContext (Mode.SERVER);
    log.attach (ctx);
    return ctx;
}

void test_pem_wrong_then_right () {
    foreach (var key in new string[] { "encrypted.key", "encrypted-traditional.key" }) {
        var log = new PasswordLog ({ "wrong", PASSWORD });
        var ctx = server_context_with (log);
        try {
            assert_true (ctx.load_certificate_file (pki_path ("server-chain.pem"), pki_path (key)));
        } catch (GLib.Error e) {
            error ("%s: %s", key, e.message);
        }
        assert_cmpuint (log.attempts.length, CompareOperator.EQ, 2);
        assert_cmpuint (log.attempts[0], CompareOperator.EQ, 1);
        assert_cmpuint (log.attempts[1], CompareOperator.EQ, 2);
        foreach (var description in log.descriptions) {
            assert_true ("private key" in description);
            assert_true (pki_path (key) in description);
        }
    }
}

void test_cancel () {
    var log = new PasswordLog ({ null });
    var ctx = server_context_with (log);
    try {
        ctx.load_certificate_file (pki_path ("server.pem"), pki_path ("encrypted.key"));
        assert_not_reached ();
    } catch (GSecSock.Error.BAD_PASSWORD e) {
        assert_true ("cancelled" in e.message);
    } catch (GLib.Error e) {
        error ("wrong error: %s", e.message);
    }
    assert_cmpuint (log.attempts.length, CompareOperator.EQ, 1);
}

void test_pkcs12_three_wrong () {
    var log = new PasswordLog ({ "a", "b", "c", PASSWORD });
    var ctx = server_context_with (log);
    try {
        ctx.load_pkcs12_file (pki_path ("server.p12"));
        assert_not_reached ();
    } catch (GSecSock.Error.BAD_PASSWORD e) {
        assert_nonnull (e.message);
    } catch (GLib.Error e) {
        error ("wrong error: %s", e.message);
    }
    assert_cmpuint (log.attempts.length, CompareOperator.EQ, 3);
    assert_cmpuint (log.attempts[2], CompareOperator.EQ, 3);
}

void test_pkcs12_wrong_then_right () {
    var log = new PasswordLog ({ "wrong", PASSWORD });
    var ctx = server_context_with (log);
    try {
        assert_true (ctx.load_pkcs12_file (pki_path ("server.p12")));
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    assert_cmpuint (log.attempts.length, CompareOperator.EQ, 2);
    assert_true ("PKCS#12" in log.descriptions[0]);
    assert_true (pki_path ("server.p12") in log.descriptions[0]);
}

/* An identity (certificate with its key) from a PKCS#12 file, then used as
 * the context's certificate; a certificate without its key cannot be. */
void test_load_identity () {
    var log = new PasswordLog ({ PASSWORD });
    var ctx = new SecureSocketContext (Mode.CLIENT);
    log.attach (ctx);
    try {
        var id = ctx.load_identity (pki_path ("client.p12"), null);
        assert_true (id.has_private_key);
        assert_cmpstr (id.subject, CompareOperator.EQ, "CN=gsecsock test client");
        assert_cmpuint (log.attempts.length, CompareOperator.EQ, 1);
        assert_true (ctx.set_certificate (id));

        var plain = new Certificate.from_file (pki_path ("client.pem"));
        assert_false (plain.has_private_key);
        assert_true (plain.equal (id));
        ctx.set_certificate (plain);
        assert_not_reached ();
    } catch (GSecSock.Error.MISUSE e) {
        assert_nonnull (e.message);
    } catch (GLib.Error e) {
        error ("wrong error: %s", e.message);
    }
}

int main (string[] args) {
    Test.init (ref args);
    Test.add_func ("/vala/password-requested/pem-wrong-then-right", test_pem_wrong_then_right);
    Test.add_func ("/vala/password-requested/cancel", test_cancel);
    Test.add_func ("/vala/password-requested/pkcs12-three-wrong", test_pkcs12_three_wrong);
    Test.add_func ("/vala/password-requested/pkcs12-wrong-then-right", test_pkcs12_wrong_then_right);
    Test.add_func ("/vala/password-requested/load-identity", test_load_identity);
    return Test.run ();
}
