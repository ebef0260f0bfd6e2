// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The four decision signals from GJS: password-requested (wrong then right,
// cancel), verify-certificate (per-depth order, a fingerprint pin, decisions
// deferred to the main loop), handshake-info (the alert sent when the client
// rejects), client-certificate-requested (a choice by issuer, immediate or
// deferred), and their context-level forms.

import {
    GLib, Gio, GSecSock, Pair, assert, assertEqual, assertError, assertIncludes, assertNull, assertThrows,
    clientContext, pkiPath, run, serverContext, sleep, test, verifyingServerContext,
} from './testutils.js';
import System from 'system';

const Flags = GSecSock.CertificateFlags;
const Info = GSecSock.HandshakeInfoFlags;

/** A password-requested handler answering from a list, one answer per
 * attempt (null cancels), that records every emission. */
function passwordLog(...answers) {
    const calls = [];
    const handler = (ctx, description, attempt) => {
        calls.push({description, attempt});
        return attempt <= answers.length ? answers[attempt - 1] : null;
    };
    return {calls, handler};
}

// --- password-requested ----------------------------------------------------

test('password-requested: wrong then right, PEM and PKCS#12', () => {
    for (const [load, file, what] of [
        [ctx => ctx.load_certificate_file(pkiPath('server-chain.pem'), pkiPath('encrypted.key')),
            'encrypted.key', 'private key'],
        [ctx => ctx.load_pkcs12_file(pkiPath('server.p12')), 'server.p12', 'PKCS#12'],
    ]) {
        const log = passwordLog('wrong', 'secret');
        const ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER);
        ctx.connect('password-requested', log.handler);
        assert(load(ctx) === true, `loading ${file}`);
        assertEqual(log.calls.map(c => c.attempt), [1, 2], `attempts for ${file}`);
        for (const {description} of log.calls) {
            assertIncludes(description, pkiPath(file), 'description names the file');
            assertIncludes(description, what, 'description says what it is');
        }
    }
});

test('password-requested: null cancels, three wrong answers fail', async () => {
    const cancel = passwordLog(null);
    const ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER);
    ctx.connect('password-requested', cancel.handler);
    const error = await assertThrows(
        () => ctx.load_certificate_file(pkiPath('server.pem'), pkiPath('encrypted.key')), 'cancelled load');
    assertError(error, GSecSock.Error, GSecSock.Error.BAD_PASSWORD);
    assertIncludes(error.message, 'cancelled', 'message');
    assertEqual(cancel.calls.map(c => c.attempt), [1], 'attempts');

    const wrong = passwordLog('a', 'b', 'c', 'secret');
    const ctx2 = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT);
    ctx2.connect('password-requested', wrong.handler);
    const error2 = await assertThrows(() => ctx2.load_identity(pkiPath('client.p12'), null), 'three wrong');
    assertError(error2, GSecSock.Error, GSecSock.Error.BAD_PASSWORD);
    assertEqual(wrong.calls.map(c => c.attempt), [1, 2, 3], 'attempts');
});

// --- verify-certificate ----------------------------------------------------

test('verify-certificate: once per depth, root end first', async () => {
    const pair = new Pair(clientContext(), serverContext());
    const seen = [];
    pair.client.connect('verify-certificate', (sock, certificate, depth, errors) => {
        assert(sock === pair.client, 'the socket is the first argument');
        seen.push([depth, certificate.get_subject(), errors]);
        return true;
    });
    const [clientError, serverError] = await pair.handshake();
    assertNull(clientError, 'client');
    assertNull(serverError, 'server');
    assertEqual(seen, [
        [2, 'CN=gsecsock Test Root CA', 0],
        [1, 'CN=gsecsock Test Intermediate CA', 0],
        [0, 'CN=localhost', 0],
    ], 'emissions');
    pair.close();
});

async function pinnedHandshake(pin) {
    const pair = new Pair(clientContext(), serverContext('selfsigned.pem', 'selfsigned.key'));
    const seen = [];
    pair.client.connect('verify-certificate', (sock, certificate, depth, errors) => {
        seen.push(errors);
        if (depth === 0 && errors === (Flags.SELF_SIGNED | Flags.UNKNOWN_CA) && sock.peer_name === 'localhost')
            return certificate.get_fingerprint_sha256() === pin;
        return errors === 0;
    });
    const errors = await pair.handshake();
    pair.close();
    return [errors, seen];
}

test('verify-certificate: a self-signed server accepted by its SHA-256 pin only', async () => {
    const selfSigned = GSecSock.Certificate.new_from_file(pkiPath('selfsigned.pem'));
    const [[clientError, serverError], seen] = await pinnedHandshake(selfSigned.get_fingerprint_sha256());
    assertNull(clientError, 'client, pin matches');
    assertNull(serverError, 'server, pin matches');
    assertEqual(seen, [Flags.SELF_SIGNED | Flags.UNKNOWN_CA], 'errors of the one certificate');

    const other = GSecSock.Certificate.new_from_file(pkiPath('server.pem'));
    const [[clientError2, serverError2]] = await pinnedHandshake(other.get_fingerprint_sha256());
    assertError(clientError2, GSecSock.Error, GSecSock.Error.CERTIFICATE_REJECTED, 'client, other pin');
    assert(serverError2 instanceof GLib.Error, 'the server fails too');
});

test('verify-certificate: deferred, accepted from a GLib timeout', async () => {
    const pair = new Pair(clientContext(), serverContext());
    const decisions = [];
    let answeredInHandler = null;
    pair.client.connect('verify-certificate', (sock, certificate, depth, errors) => {
        if (depth !== 0)
            return true;
        const decision = sock.defer_decision();
        decisions.push(decision);
        answeredInHandler = decision.answered;
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 50, () => {
            decision.accept();
            return GLib.SOURCE_REMOVE;
        });
        return false; // ignored: deferred
    });
    const started = GLib.get_monotonic_time();
    const [clientError, serverError] = await pair.handshake();
    assertNull(clientError, 'client');
    assertNull(serverError, 'server');
    assert(GLib.get_monotonic_time() - started >= 45000, 'the handshake waited for the answer');
    assertEqual(decisions.length, 1, 'one decision');
    const [decision] = decisions;
    assertEqual(answeredInHandler, false, 'not answered inside the handler');
    assert(decision.answered, 'answered');
    assertEqual(decision.kind, GSecSock.DecisionKind.VERIFY_CERTIFICATE, 'kind');
    assertEqual(decision.depth, 0, 'depth');
    assertEqual(decision.get_errors(), 0, 'errors');
    assertEqual(decision.get_certificate().get_subject(), 'CN=localhost', 'certificate');
    assert(pair.client.handshake_complete, 'handshake complete');
    pair.close();
});

test('verify-certificate: deferred, rejected from a GLib timeout', async () => {
    const pair = new Pair(clientContext(), serverContext());
    pair.client.connect('verify-certificate', sock => {
        const decision = sock.defer_decision();
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 20, () => {
            decision.reject();
            decision.accept(); // only the first answer counts
            return GLib.SOURCE_REMOVE;
        });
        return true; // ignored: deferred
    });
    const [clientError, serverError] = await pair.handshake();
    assertError(clientError, GSecSock.Error, GSecSock.Error.CERTIFICATE_REJECTED, 'client');
    assert(serverError instanceof GLib.Error, 'the server fails too');
    pair.close();
});

test('verify-certificate: three deferred sockets in one main loop, and a timeout', async () => {
    const pairs = [0, 1, 2].map(() => new Pair(clientContext(), serverContext()));
    const pending = [];
    for (const pair of pairs) {
        pair.client.connect('verify-certificate', (sock, certificate, depth) => {
            if (depth === 0)
                pending.push(sock.defer_decision());
            return true;
        });
    }
    // The third one is never answered: its handshake-timeout ends it.
    pairs[2].client.handshake_timeout = 1;
    const handshakes = pairs.map(pair => pair.handshake());

    // All three wait at the same time; answer in reverse order.
    while (pending.length < 3)
        await sleep(10);
    assert(pairs.every(pair => !pair.client.handshake_complete), 'all three are waiting');
    pending[1].reject();
    pending[0].accept();

    const [[error0], [error1], [error2]] = await Promise.all(handshakes);
    assertNull(error0, 'accepted');
    assertError(error1, GSecSock.Error, GSecSock.Error.CERTIFICATE_REJECTED, 'rejected');
    assertError(error2, Gio.IOErrorEnum, Gio.IOErrorEnum.TIMED_OUT, 'timed out');
    assert(!pending[2].answered, 'the timed-out decision was never answered');
    pairs.forEach(pair => pair.close());
});

// In GJS a decision is dropped when the garbage collector finalizes its
// wrapper, not when the handler returns: a forgotten decision rejects only
// then (or at handshake-timeout, when no collection comes first).
test('verify-certificate: a forgotten decision rejects once it is collected', async () => {
    const pair = new Pair(clientContext(), serverContext());
    pair.client.handshake_timeout = 10;
    let deferred = false;
    pair.client.connect('verify-certificate', sock => {
        sock.defer_decision(); // dropped on the floor
        deferred = true;
        return true;
    });
    const handshakes = pair.handshake();
    while (!deferred)
        await sleep(10);
    await sleep(50);
    assert(!pair.client.handshake_complete, 'still waiting before a collection');
    System.gc();
    const started = GLib.get_monotonic_time();
    const [clientError] = await handshakes;
    assertError(clientError, GSecSock.Error, GSecSock.Error.CERTIFICATE_REJECTED, 'client');
    assert(GLib.get_monotonic_time() - started < 5 * 1000000, 'rejected by the collection, not the timeout');
    pair.close();
});

// --- handshake-info --------------------------------------------------------

test('handshake-info: the alert the client sends when it rejects', async () => {
    const pair = new Pair(clientContext(), serverContext());
    const clientEvents = [];
    const serverEvents = [];
    pair.client.connect('verify-certificate', () => false);
    pair.client.connect('handshake-info', (sock, where, value, text) => clientEvents.push({where, value, text}));
    pair.server.connect('handshake-info', (sock, where, value, text) => serverEvents.push({where, value, text}));
    const [clientError, serverError] = await pair.handshake();
    assertError(clientError, GSecSock.Error, GSecSock.Error.CERTIFICATE_REJECTED, 'client');
    assertIncludes(serverError.message, 'bad certificate', 'server error');

    const sent = clientEvents.filter(e => e.where & Info.ALERT && e.where & Info.WRITE);
    const received = serverEvents.filter(e => e.where & Info.ALERT && e.where & Info.READ);
    assertEqual(sent.map(e => [e.value, e.text]), [[42, 'fatal bad_certificate']], 'alerts sent');
    assertEqual(received.map(e => [e.value, e.text]), [[42, 'fatal bad_certificate']], 'alerts received');
    assert(sent[0].where & Info.FATAL && sent[0].where & Info.CONNECT, 'flags of the alert sent');
    assert(clientEvents.some(e => e.where & Info.START), 'a handshake start');
    assert(clientEvents.some(e => e.where & Info.STATE && e.text.includes('client hello')), 'a client hello state');
    assert(serverEvents.some(e => e.where & Info.ACCEPT), 'server events are ACCEPT');
    pair.close();
});

// --- client-certificate-requested -----------------------------------------

function identities() {
    return [
        GSecSock.Certificate.new_from_files(pkiPath('client-other-chain.pem'), pkiPath('client-other.key')),
        GSecSock.Certificate.new_from_files(pkiPath('client-chain.pem'), pkiPath('client.key')),
    ];
}

test('client-certificate-requested: one of two identities, chosen by issuer', async () => {
    const candidates = identities();
    const pair = new Pair(clientContext(), verifyingServerContext());
    const asked = [];
    pair.client.connect('client-certificate-requested', (sock, issuers) => {
        asked.push(issuers);
        const chosen = candidates.find(candidate => issuers.includes(candidate.get_issuer()));
        if (chosen)
            sock.set_client_certificate(chosen);
        return true;
    });
    const [clientError, serverError] = await pair.handshake();
    assertNull(clientError, 'client');
    assertNull(serverError, 'server');
    assertEqual(asked.length, 1, 'emissions');
    assert(Array.isArray(asked[0]), 'issuers are a JS array of strings');
    assertIncludes(asked[0], 'CN=gsecsock Test Root CA', 'issuers');
    assertIncludes(asked[0], 'CN=gsecsock Test Intermediate CA', 'issuers');
    assert(!asked[0].includes(candidates[0].get_issuer()), 'the untrusted CA is not acceptable');
    assert(pair.server.get_peer_certificate().equal(candidates[1]), 'the server got the right one');
    assert(pair.client.get_client_certificate().equal(candidates[1]), 'get_client_certificate');
    pair.close();
});

test('client-certificate-requested: deferred, selected from a GLib timeout', async () => {
    const [, identity] = identities();
    const pair = new Pair(clientContext(), verifyingServerContext());
    let decision = null;
    pair.client.connect('client-certificate-requested', sock => {
        decision = sock.defer_decision();
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 30, () => {
            decision.select_certificate(identity);
            return GLib.SOURCE_REMOVE;
        });
        return true;
    });
    const [clientError, serverError] = await pair.handshake();
    assertNull(clientError, 'client');
    assertNull(serverError, 'server');
    assertEqual(decision.kind, GSecSock.DecisionKind.CLIENT_CERTIFICATE, 'kind');
    assertIncludes(decision.get_acceptable_issuers(), 'CN=gsecsock Test Intermediate CA', 'issuers');
    assert(pair.server.get_peer_certificate().equal(identity), 'the server got the selected one');
    pair.close();
});

// --- context-level handlers ------------------------------------------------

test('context verify-certificate: the socket comes first, a socket handler wins', async () => {
    const ctx = clientContext();
    const contextCalls = [];
    ctx.connect('verify-certificate', (context, sock, certificate, depth, errors) => {
        assert(context === ctx, 'the context is the emitter');
        contextCalls.push([sock, depth]);
        return errors === 0;
    });
    const pair = new Pair(ctx, serverContext());
    const [clientError] = await pair.handshake();
    assertNull(clientError, 'client, context handler');
    assertEqual(contextCalls.map(([, depth]) => depth), [2, 1, 0], 'context emissions');
    assert(contextCalls.every(([sock]) => sock === pair.client), 'the socket argument');
    pair.close();

    // A handler on the socket answers instead: here it rejects.
    contextCalls.length = 0;
    const pair2 = new Pair(ctx, serverContext());
    const socketCalls = [];
    pair2.client.connect('verify-certificate', (sock, certificate, depth) => {
        socketCalls.push(depth);
        return depth !== 0;
    });
    const [clientError2] = await pair2.handshake();
    assertError(clientError2, GSecSock.Error, GSecSock.Error.CERTIFICATE_REJECTED, 'socket handler rejects');
    assertEqual(socketCalls, [2, 1, 0], 'socket emissions');
    assertEqual(contextCalls, [], 'the context handler is not consulted');
    pair2.close();
});

test('context client-certificate-requested and handshake-info, for every socket', async () => {
    const [, identity] = identities();
    const ctx = clientContext();
    const asked = [];
    const traced = new Set();
    ctx.connect('client-certificate-requested', (context, sock, issuers) => {
        asked.push(sock);
        assert(issuers.length >= 2, 'issuers');
        sock.set_client_certificate(identity);
        return true;
    });
    ctx.connect('handshake-info', (context, sock, where) => {
        if (where & Info.DONE)
            traced.add(sock);
    });
    const pairs = [new Pair(ctx, verifyingServerContext()), new Pair(ctx, verifyingServerContext())];
    for (const pair of pairs) {
        const [clientError, serverError] = await pair.handshake();
        assertNull(clientError, 'client');
        assertNull(serverError, 'server');
        assert(pair.server.get_peer_certificate().equal(identity), 'client certificate sent');
    }
    assertEqual(asked.length, 2, 'one request per socket');
    assert(asked[0] === pairs[0].client && asked[1] === pairs[1].client, 'the sockets');
    assert(traced.has(pairs[0].client) && traced.has(pairs[1].client) && traced.size === 2,
        'handshake done traced for both sockets');
    pairs.forEach(pair => pair.close());
});

run();
