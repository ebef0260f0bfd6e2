/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the Vala tests share: the test PKI's location, contexts, a guarded
 * wait on the main loop, running an async test method as a GLib test, a
 * loopback client/server pair, byte echo helpers and `openssl s_server`.
 * Run the tests through `meson test --suite vala`, which sets
 * GSECSOCK_TEST_PKI_DIR (and OPENSSL) and builds the test PKI first. */

using GSecSock;

/* Nothing a test waits for may take longer than this; the test then fails
 * instead of hanging until meson's timeout. */
public const uint GUARD_SECONDS = 20;

/* The path of a file of the test PKI (see tests/make-test-pki.sh). */
public string pki_path (string name) {
    unowned string? dir = Environment.get_variable ("GSECSOCK_TEST_PKI_DIR");
    if (dir == null || dir == "") {
        error ("GSECSOCK_TEST_PKI_DIR is not set: run the tests through \"meson test\"");
    }
    var path = Path.build_filename (dir, name);
    if (!FileUtils.test (path, FileTest.EXISTS)) {
        error ("test PKI file %s is missing: was tests/make-test-pki.sh run?", path);
    }
    return path;
}

/* A client context that trusts the test root CA, and nothing else. */
public SecureSocketContext client_context () throws GLib.Error {
    var ctx = new SecureSocketContext (Mode.CLIENT);
    ctx.use_system_trust = false;
    ctx.add_trust_anchor_file (pki_path ("ca.pem"));
    return ctx;
}

public SecureSocketContext server_context (string chain = "server-chain.pem",
                                           string key = "server.key") throws GLib.Error {
    var ctx = new SecureSocketContext (Mode.SERVER);
    ctx.load_certificate_file (pki_path (chain), pki_path (key));
    return ctx;
}

/* A server context that asks clients for a certificate and verifies it
 * against @anchors. */
public SecureSocketContext server_context_asking (string anchors = "bundle.pem") throws GLib.Error {
    var ctx = server_context ();
    ctx.verify_peer = true;
    ctx.use_system_trust = false;
    ctx.add_trust_anchor_file (pki_path (anchors));
    return ctx;
}

public Certificate identity (string chain, string key) throws GLib.Error {
    return new Certificate.from_files (pki_path (chain), pki_path (key));
}

public delegate bool Condition ();

/* Iterates the default main context until @condition holds; fails the test
 * after GUARD_SECONDS. */
public void wait_until (Condition condition, string what) {
    bool timed_out = false;
    uint guard = Timeout.add_seconds (GUARD_SECONDS, () => {
        timed_out = true;
        return Source.REMOVE;
    });
    var context = MainContext.default ();
    while (!condition () && !timed_out) {
        context.iteration (true);
    }
    if (timed_out) {
        error ("timed out after %u s waiting for %s", GUARD_SECONDS, what);
    }
    Source.remove (guard);
}

/* Vala has no async delegates: a test that is an async method is run as
 *   run_async ((cb) => test_x.begin (cb), (r) => test_x.end (r))
 * and fails on any error it throws. */
public delegate void Begin (AsyncReadyCallback callback);
public delegate void Finish (AsyncResult result) throws GLib.Error;

public void run_async (Begin begin, Finish finish) {
    AsyncResult? result = null;
    begin ((source, res) => {
        result = res;
    });
    wait_until (() => result != null, "the test's async method");
    try {
        finish ((!) result);
    } catch (GLib.Error e) {
        error ("unexpected error: %s (%s %d)", e.message, e.domain.to_string (), e.code);
    }
}

/* Resumes the caller after @ms milliseconds of main loop. */
public async void delay (uint ms) {
    Timeout.add (ms, delay.callback);
    yield;
}

public void assert_error (GLib.Error? error, Quark domain, int code) {
    if (error == null) {
        GLib.error ("expected error %s %d, got success", domain.to_string (), code);
    }
    if (error.domain != domain || error.code != code) {
        GLib.error ("expected error %s %d, got %s %d: %s", domain.to_string (), code,
                    error.domain.to_string (), error.code, error.message);
    }
}

public void assert_no_gerror (GLib.Error? error, string what) {
    if (error != null) {
        GLib.error ("%s failed: %s (%s %d)", what, error.message, error.domain.to_string (), error.code);
    }
}

/* Bytes (not NUL-terminated) as a string, for assert_cmpstr. */
public string text (Bytes bytes) {
    var builder = new StringBuilder.sized (bytes.get_size () + 1);
    builder.append_len ((string) bytes.get_data (), (ssize_t) bytes.get_size ());
    return builder.str;
}

/* Reads exactly @count bytes; a premature end of stream is an error. */
public async Bytes read_exactly (InputStream input, size_t count) throws GLib.Error {
    var buffer = new ByteArray ();
    while (buffer.len < count) {
        var chunk = yield input.read_bytes_async (count - buffer.len);
        if (chunk.get_size () == 0) {
            throw new IOError.FAILED ("end of stream after %u of %zu bytes", buffer.len, count);
        }
        buffer.append (chunk.get_data ());
    }
    return ByteArray.free_to_bytes ((owned) buffer);
}

public async void write_all (IOStream stream, uint8[] data) throws GLib.Error {
    size_t written;
    yield stream.output_stream.write_all_async (data, Priority.DEFAULT, null, out written);
}

/* Reads @count bytes from @stream and writes them back. */
public async void echo (IOStream stream, size_t count) throws GLib.Error {
    var data = yield read_exactly (stream.input_stream, count);
    yield write_all (stream, data.get_data ());
}

/* A client and a server socket over a loopback TCP connection. */
public class Pair : Object {
    public SecureSocket client;
    public SecureSocket server;
    public GLib.Error? client_error = null;
    public GLib.Error? server_error = null;

    public Pair (SecureSocketContext client_ctx, SecureSocketContext server_ctx,
                 string? peer_name = "localhost") throws GLib.Error {
        var listener = new SocketListener ();
        uint16 port = listener.add_any_inet_port (null);
        var client_conn = new SocketClient ().connect_to_host ("127.0.0.1", port);
        var server_conn = listener.accept ();
        listener.close ();
        client = new SecureSocket (client_ctx, client_conn, peer_name);
        server = new SecureSocket (server_ctx, server_conn, null);
    }

    static async GLib.Error? handshake_one (SecureSocket sock) {
        try {
            yield sock.handshake_async ();
        } catch (GLib.Error e) {
            return e.copy ();
        }
        return null;
    }

    /* Both handshakes at once; their errors (null for success) end up in
     * client_error and server_error. */
    public async void handshake () {
        int pending = 2;
        handshake_one.begin (client, (obj, res) => {
            client_error = handshake_one.end (res);
            if (--pending == 0) {
                Idle.add (handshake.callback);
            }
        });
        handshake_one.begin (server, (obj, res) => {
            server_error = handshake_one.end (res);
            if (--pending == 0) {
                Idle.add (handshake.callback);
            }
        });
        yield;
    }

    /* Handshakes that must both succeed. */
    public async void handshake_ok () {
        yield handshake ();
        assert_no_gerror (client_error, "client handshake");
        assert_no_gerror (server_error, "server handshake");
    }

    public void close () {
        foreach (var sock in new SecureSocket[] { client, server }) {
            try {
                sock.close ();
            } catch (GLib.Error e) {
                /* the peer may be gone already: nothing to check */
            }
        }
    }
}

/* `openssl s_server -rev` on 127.0.0.1, on a port the kernel picks, for one
 * connection. */
[CCode (cname = "prctl", cheader_filename = "sys/prctl.h")]
extern int linux_prctl (int option, ulong arg);
[CCode (cname = "PR_SET_PDEATHSIG", cheader_filename = "sys/prctl.h")]
extern const int PR_SET_PDEATHSIG;
[CCode (cname = "SIGKILL", cheader_filename = "signal.h")]
extern const int SIGKILL;

public class SServer : Object {
    public uint16 port;
    public StringBuilder output = new StringBuilder ();
    bool output_done = false;
    bool exited = false;
    Subprocess process;

    public SServer (string[] extra_args) throws GLib.Error {
        string[] argv = {
            Environment.get_variable ("OPENSSL") ?? "openssl", "s_server",
            "-accept", "127.0.0.1:0", "-naccept", "1", "-rev",
        };
        foreach (var arg in extra_args) {
            argv += arg;
        }
        var launcher = new SubprocessLauncher (SubprocessFlags.STDOUT_PIPE | SubprocessFlags.STDERR_MERGE);
        /* If the test dies on a failed assertion, openssl goes with it. */
        launcher.set_child_setup (() => linux_prctl (PR_SET_PDEATHSIG, SIGKILL));
        process = launcher.spawnv (argv);
        process.wait_async.begin (null, (obj, res) => {
            try {
                process.wait_async.end (res);
            } catch (GLib.Error e) {
                /* only cancellation can fail, and nothing cancels */
            }
            exited = true;
        });
        collect_output.begin (new DataInputStream (process.get_stdout_pipe ()));

        var accept = /^ACCEPT \S+:([0-9]+)$/m;
        MatchInfo match;
        wait_until (() => accept.match (output.str) || output_done, "s_server to listen");
        if (!accept.match (output.str, 0, out match)) {
            error ("s_server did not start:\n%s", output.str);
        }
        port = (uint16) uint64.parse (match.fetch (1));
    }

    async void collect_output (DataInputStream lines) {
        try {
            string? line;
            while ((line = yield lines.read_line_async ()) != null) {
                output.append_printf ("%s\n", line);
            }
        } catch (GLib.Error e) {
            output.append_printf ("(reading the output failed: %s)\n", e.message);
        }
        output_done = true;
    }

    /* Waits (guarded) until s_server has exited and its output is read. */
    public void wait_exit () {
        wait_until (() => exited && output_done, "s_server to exit");
        Test.message ("s_server output:\n%s", output.str);
    }

    public void kill () {
        if (!exited) {
            process.force_exit ();
            wait_exit ();
        }
    }
}
