// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Exceptions thrown in JavaScript signal handlers. GJS catches them, reports
// them as "JS ERROR" (a g_critical of the Gjs log domain) and returns the
// signal's zero value, FALSE or NULL, to gsecsock; the process goes on:
//   verify-certificate            -> FALSE: the certificate is rejected
//                                    (GSECSOCK_ERROR_CERTIFICATE_REJECTED)
//   client-certificate-requested  -> FALSE: the default applies
//   password-requested            -> NULL: the load is cancelled
//                                    (GSECSOCK_ERROR_BAD_PASSWORD)
//   handshake-info                -> nothing: the handshake is unaffected
// Because the report is a critical, this file runs without
// G_DEBUG=fatal-criticals (see meson.build); the last test shows why.

import {
    GLib, Gio, GSecSock, Pair, assert, assertEqual, assertError, assertIncludes, assertNull, assertThrows,
    clientContext, pkiPath, run, serverContext, test, verifyingServerContext,
} from './testutils.js';

class HandlerBug extends Error {}

test('verify-certificate handler throws: rejected, and the next handshake works', async () => {
    const pair = new Pair(clientContext(), serverContext());
    let calls = 0;
    pair.client.connect('verify-certificate', () => {
        calls++;
        throw new HandlerBug('verify handler bug');
    });
    const [clientError, serverError] = await pair.handshake();
    assertError(clientError, GSecSock.Error, GSecSock.Error.CERTIFICATE_REJECTED, 'client');
    assertIncludes(serverError.message, 'bad certificate', 'the server got a bad_certificate alert');
    assertEqual(calls, 1, 'the first (root) certificate was rejected');
    pair.close();

    const pair2 = new Pair(clientContext(), serverContext());
    pair2.client.connect('verify-certificate', (sock, cert, depth, errors) => errors === 0);
    const [clientError2, serverError2] = await pair2.handshake();
    assertNull(clientError2, 'client, after the exception');
    assertNull(serverError2, 'server, after the exception');
    pair2.close();
});

test('context verify-certificate handler throws: rejected', async () => {
    const ctx = clientContext();
    ctx.connect('verify-certificate', () => {
        throw new HandlerBug('context verify handler bug');
    });
    const pair = new Pair(ctx, serverContext());
    const [clientError] = await pair.handshake();
    assertError(clientError, GSecSock.Error, GSecSock.Error.CERTIFICATE_REJECTED, 'client');
    pair.close();
});

test('verify-certificate handler defers, then throws: the decision still counts', async () => {
    const pair = new Pair(clientContext(), serverContext());
    pair.client.connect('verify-certificate', (sock, cert, depth) => {
        if (depth !== 0)
            return true;
        const decision = sock.defer_decision();
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 20, () => {
            decision.accept();
            return GLib.SOURCE_REMOVE;
        });
        throw new HandlerBug('thrown after deferring');
    });
    const [clientError, serverError] = await pair.handshake();
    assertNull(clientError, 'client: the deferred accept answered');
    assertNull(serverError, 'server');
    pair.close();
});

test('password-requested handler throws: the load is cancelled', async () => {
    const ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER);
    let calls = 0;
    ctx.connect('password-requested', () => {
        calls++;
        throw new HandlerBug('password handler bug');
    });
    const error = await assertThrows(
        () => ctx.load_certificate_file(pkiPath('server-chain.pem'), pkiPath('encrypted.key')), 'load');
    assertError(error, GSecSock.Error, GSecSock.Error.BAD_PASSWORD);
    assertIncludes(error.message, 'cancelled', 'message');
    assertEqual(calls, 1, 'asked once');
});

test('client-certificate-requested handler throws: the default certificate is sent', async () => {
    const ctx = clientContext();
    ctx.load_certificate_file(pkiPath('client-chain.pem'), pkiPath('client.key'));
    const pair = new Pair(ctx, verifyingServerContext());
    let calls = 0;
    pair.client.connect('client-certificate-requested', () => {
        calls++;
        throw new HandlerBug('client certificate handler bug');
    });
    const [clientError, serverError] = await pair.handshake();
    assertNull(clientError, 'client');
    assertNull(serverError, 'server');
    assertEqual(calls, 1, 'asked once');
    const expected = GSecSock.Certificate.new_from_file(pkiPath('client.pem'));
    assert(pair.server.get_peer_certificate()?.equal(expected), "the context's certificate was sent");
    pair.close();
});

test('handshake-info handler throws: the handshake is unaffected', async () => {
    const pair = new Pair(clientContext(), serverContext());
    let calls = 0;
    pair.client.connect('handshake-info', () => {
        if (calls++ === 0)
            throw new HandlerBug('info handler bug');
    });
    const [clientError, serverError] = await pair.handshake();
    assertNull(clientError, 'client');
    assertNull(serverError, 'server');
    assert(calls > 3, `the later events are still emitted (${calls})`);
    pair.close();
});

async function runChild(gDebug) {
    const launcher = new Gio.SubprocessLauncher({
        flags: Gio.SubprocessFlags.STDOUT_PIPE | Gio.SubprocessFlags.STDERR_PIPE,
    });
    launcher.setenv('G_DEBUG', gDebug, true);
    const [thisFile] = GLib.filename_from_uri(import.meta.url);
    const script = GLib.build_filenamev([GLib.path_get_dirname(thisFile), 'child_throwing_handler.js']);
    // No core file when fatal-criticals makes it abort.
    const proc = launcher.spawnv(['/bin/sh', '-c', 'ulimit -c 0; exec "$0" -m "$1"',
        GLib.getenv('GJS') || 'gjs', script]);
    const [stdout, stderr] = await proc.communicate_utf8_async(null, null);
    return {proc, stdout, stderr};
}

test('what GJS does with the exception: a JS ERROR critical, fatal only with fatal-criticals', async () => {
    const child = await runChild('gc-friendly');
    assert(child.proc.get_if_exited() && child.proc.get_exit_status() === 0,
        `the process survives (status ${child.proc.get_status()}):\n${child.stderr}`);
    assertIncludes(child.stdout, 'rejected: ', 'outcome');
    assertIncludes(child.stdout, "was rejected by the application's verify-certificate handler", 'outcome');
    assertIncludes(child.stderr, 'Gjs-CRITICAL', 'reported as a critical');
    assertIncludes(child.stderr, 'JS ERROR: Error: handler bug', 'the exception and its message');

    const fatal = await runChild('fatal-criticals');
    assert(fatal.proc.get_if_signaled(), 'G_DEBUG=fatal-criticals turns the report into a crash');
    assertEqual(fatal.stdout, '', 'it dies before the handshake ends');
});

run();
