// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The rest of the public API from GJS, to show that every part of it can be
// called from JavaScript: certificates (constructors and accessors, GBytes,
// GStrv, GList, GDateTime), context settings (trust anchors, identities,
// ALPN, protocol versions, key log), session resumption, close_notify, and
// the errors as GLib.Error with GSecSock.Error codes.

import {
    GLib, Gio, GSecSock, Pair, assert, assertEqual, assertError, assertIncludes, assertNull, assertThrows,
    clientContext, pkiPath, readText, run, serverContext, test, writeText,
} from './testutils.js';

test('Certificate: constructors and accessors', () => {
    const cert = GSecSock.Certificate.new_from_file(pkiPath('server.pem'));
    assertEqual(cert.get_subject(), 'CN=localhost', 'subject');
    assertEqual(cert.subject, 'CN=localhost', 'subject property');
    assertEqual(cert.get_issuer(), 'CN=gsecsock Test Intermediate CA', 'issuer');
    assert(/^[0-9A-Fa-f:]+$/.test(cert.get_serial_number()), `serial number ${cert.get_serial_number()}`);
    assertEqual(cert.get_dns_names(), ['localhost'], 'DNS names');
    assertIncludes(cert.get_ip_addresses(), '127.0.0.1', 'IP addresses');
    assertEqual(cert.get_is_ca(), false, 'is CA');
    assertEqual(cert.get_has_private_key(), false, 'has private key');
    const before = cert.get_not_valid_before();
    const after = cert.get_not_valid_after();
    assert(before instanceof GLib.DateTime && after instanceof GLib.DateTime, 'validity as GLib.DateTime');
    const now = GLib.DateTime.new_now_utc();
    assert(before.compare(now) < 0 && after.compare(now) > 0, 'valid now');
    assertEqual(cert.get_fingerprint_sha256().split(':').length, 32, 'SHA-256 fingerprint');
    assertEqual(cert.get_fingerprint_sha1().split(':').length, 20, 'SHA-1 fingerprint');

    // PEM text, DER as GLib.Bytes, and back.
    const pem = cert.get_pem();
    assert(pem.startsWith('-----BEGIN CERTIFICATE-----'), 'PEM');
    assert(GSecSock.Certificate.new_from_pem(pem, -1).equal(cert), 'new_from_pem');
    const der = cert.get_der();
    assert(der instanceof GLib.Bytes, 'DER as GLib.Bytes');
    assert(GSecSock.Certificate.new_from_der(der).equal(cert), 'new_from_der (get_der)');
    const [, contents] = GLib.file_get_contents(pkiPath('server.der'));
    assert(GSecSock.Certificate.new_from_der(new GLib.Bytes(contents)).equal(cert), 'new_from_der (file)');

    // A GList of certificates becomes an array.
    const chain = GSecSock.Certificate.list_new_from_file(pkiPath('server-chain.pem'));
    assertEqual(chain.map(c => c.get_subject()), ['CN=localhost', 'CN=gsecsock Test Intermediate CA'], 'chain');
    assert(GSecSock.Certificate.new_from_file(pkiPath('ca.pem')).get_is_ca(), 'the root is a CA');

    const identity = GSecSock.Certificate.new_from_files(pkiPath('server-chain.pem'), pkiPath('server.key'));
    assert(identity.has_private_key && identity.equal(cert), 'new_from_files');
});

test('errors are GLib.Error with GSecSock.Error codes', async () => {
    let error = await assertThrows(() => GSecSock.Certificate.new_from_file('/nonexistent/cert.pem'));
    assertError(error, Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND);
    error = await assertThrows(() => GSecSock.Certificate.new_from_file(pkiPath('server.key')));
    assertError(error, GSecSock.Error, GSecSock.Error.BAD_CERTIFICATE_FILE);
    error = await assertThrows(() => GSecSock.Certificate.new_from_pem('not a certificate', -1));
    assertError(error, GSecSock.Error, GSecSock.Error.BAD_CERTIFICATE_FILE);
    const ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER);
    error = await assertThrows(() => ctx.load_certificate_file(pkiPath('server.pem'), pkiPath('client.key')));
    assertError(error, GSecSock.Error, GSecSock.Error.KEY_MISMATCH);
    assertEqual(GSecSock.Error.quark(), GLib.quark_from_string('gsecsock-error-quark'), 'the domain');
});

test('context: properties, trust anchors as objects, identities', async () => {
    const ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT);
    assertEqual(ctx.get_mode(), GSecSock.Mode.CLIENT, 'mode');
    assertEqual(ctx.mode, GSecSock.Mode.CLIENT, 'mode property');
    assert(ctx.get_use_system_trust() && ctx.get_verify_peer(), 'secure defaults');
    ctx.use_system_trust = false;
    assertEqual(ctx.get_use_system_trust(), false, 'property set');
    ctx.add_trust_anchor(GSecSock.Certificate.new_from_file(pkiPath('ca.pem')));
    assertNull(ctx.get_keylog_file(), 'no key log');
    assertEqual(ctx.get_use_sslkeylogfile(), false, 'SSLKEYLOGFILE ignored by default');
    ctx.set_use_sslkeylogfile(true);
    assertEqual(ctx.use_sslkeylogfile, true, 'use-sslkeylogfile');
    ctx.set_use_sslkeylogfile(false);
    assertNull(ctx.get_alpn_protocols(), 'no ALPN');

    // An identity loaded through a password and given to a server context.
    const server = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER);
    server.connect('password-requested', () => 'secret');
    const identity = server.load_identity(pkiPath('server-chain.pem'), pkiPath('encrypted.key'));
    assert(identity.has_private_key, 'identity has its key');
    const server2 = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER);
    assert(server2.set_certificate(identity), 'set_certificate');

    const pair = new Pair(ctx, server2);
    const [clientError, serverError] = await pair.handshake();
    assertNull(clientError, 'client, trusting a certificate object');
    assertNull(serverError, 'server, with the identity');
    assert(pair.client.get_context() === ctx, 'get_context');
    assert(pair.client.get_base_stream() === pair.clientConn, 'get_base_stream');
    assertEqual(pair.client.get_handshake_timeout(), 60, 'handshake-timeout default');
    pair.close();
});

test('ALPN, protocol versions and the key log', async () => {
    const keylog = GLib.build_filenamev([GLib.get_tmp_dir(), `gsecsock-js-keylog-${GLib.random_int()}.txt`]);
    const client = clientContext();
    client.set_alpn_protocols(['h2', 'http/1.1']);
    client.set_keylog_file(keylog);
    const server = serverContext();
    server.set_alpn_protocols(['http/1.1']);
    server.set_max_protocol_version(GSecSock.ProtocolVersion.TLS_1_2);
    assertEqual(client.get_alpn_protocols(), ['h2', 'http/1.1'], 'get_alpn_protocols');

    const pair = new Pair(client, server);
    try {
        const [clientError, serverError] = await pair.handshake();
        assertNull(clientError, 'client');
        assertNull(serverError, 'server');
        assertEqual(pair.client.alpn_protocol, 'http/1.1', 'client ALPN');
        assertEqual(pair.server.get_alpn_protocol(), 'http/1.1', 'server ALPN');
        assertEqual(pair.client.protocol_version, GSecSock.ProtocolVersion.TLS_1_2, 'TLS 1.2');
        const [, log] = GLib.file_get_contents(keylog);
        assertIncludes(new TextDecoder().decode(log), 'CLIENT_RANDOM ', 'key log');
    } finally {
        pair.close();
        GLib.unlink(keylog);
    }

    const strict = clientContext();
    strict.set_min_protocol_version(GSecSock.ProtocolVersion.TLS_1_3);
    const pair2 = new Pair(strict, server);
    const [clientError2] = await pair2.handshake();
    assertError(clientError2, GSecSock.Error, GSecSock.Error.PROTOCOL_VERSION, 'no common version');
    pair2.close();
});

test('session resumption across two connections', async () => {
    const client = clientContext();
    const server = serverContext();
    for (const expectReused of [false, true]) {
        const pair = new Pair(client, server);
        const [clientError, serverError] = await pair.handshake();
        assertNull(clientError, 'client');
        assertNull(serverError, 'server');
        assertEqual(pair.client.session_reused, expectReused, 'client session-reused');
        assertEqual(pair.server.get_session_reused(), expectReused, 'server session-reused');
        // A read lets the client take the TLS 1.3 session ticket.
        await Promise.all([writeText(pair.server, 'x'), readText(pair.client, 1)]);
        await pair.client.close_async(GLib.PRIORITY_DEFAULT, null);
        assertEqual(await readText(pair.server, 1), '', 'clean end');
        pair.close();
    }
});

test('close_notify: a cut connection is an error unless require-close-notify is off', async () => {
    for (const require of [true, false]) {
        const pair = new Pair(clientContext(), serverContext());
        const [clientError] = await pair.handshake();
        assertNull(clientError, 'client');
        assertEqual(pair.client.require_close_notify, true, 'the default');
        pair.client.set_require_close_notify(require);
        // The server's TCP connection closes without a TLS close_notify.
        pair.server.get_base_stream().close(null);
        let error = null;
        let text = null;
        try {
            text = await readText(pair.client, 1);
        } catch (e) {
            error = e;
        }
        if (require) {
            assertError(error, GSecSock.Error, GSecSock.Error.EOF, 'truncation');
        } else {
            assertNull(error, 'no error');
            assertEqual(text, '', 'end of stream');
        }
        pair.close();
    }
});

test('a Gio.Cancellable cancels a handshake waiting for a decision', async () => {
    const pair = new Pair(clientContext(), serverContext());
    const cancellable = new Gio.Cancellable();
    pair.client.connect('verify-certificate', sock => {
        sock.defer_decision(); // never answered
        GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
            cancellable.cancel();
            return GLib.SOURCE_REMOVE;
        });
        return true;
    });
    const [clientError] = await Promise.all([
        pair.client.handshake_async(GLib.PRIORITY_DEFAULT, cancellable).then(() => null, e => e),
        pair.server.handshake_async(GLib.PRIORITY_DEFAULT, null).catch(() => null),
    ]);
    assertError(clientError, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'client');
    pair.close();
});

run();
