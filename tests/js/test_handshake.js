// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Handshakes and data from GJS: a loopback pair of gsecsock sockets, the
// asynchronous API through Gio._promisify and async/await, and
// `openssl s_server`, with bytes echoed and checked.

import GObject from 'gi://GObject?version=2.0';
import {
    GLib, Gio, GSecSock, Pair, SServer, assert, assertEqual, assertError, assertNull, assertIncludes,
    clientContext, pkiPath, readText, run, serverContext, test, writeText,
} from './testutils.js';

test('loopback handshake with a gsecsock server, bytes echoed', async () => {
    const pair = new Pair(clientContext(), serverContext());
    try {
        const [clientError, serverError] = await pair.handshake();
        assertNull(clientError, 'client handshake');
        assertNull(serverError, 'server handshake');

        const {client, server} = pair;
        assert(client.handshake_complete && server.handshake_complete, 'handshake-complete');
        assertEqual(client.protocol_version, GSecSock.ProtocolVersion.TLS_1_3, 'protocol version');
        assert(client.cipher_name.length > 0, 'cipher name');
        assertEqual(client.certificate_errors, 0, 'certificate errors');
        assertEqual(client.get_peer_certificate().get_subject(), 'CN=localhost', 'peer subject');
        assertEqual(client.get_peer_certificate_chain().get_n_items(), 2, 'peer chain length');
        assertNull(server.get_peer_certificate(), 'client certificate');

        // Multi-byte UTF-8 too; the server echoes what it reads.
        const message = 'héllo, gsecsock 🔐\n';
        const size = new TextEncoder().encode(message).length;
        const [, echoed] = await Promise.all([
            writeText(client, message),
            readText(server, size).then(async text => {
                await writeText(server, text);
                return text;
            }),
        ]);
        assertEqual(echoed, message, 'what the server read');
        assertEqual(await readText(client, size), message, 'what the client read back');

        // A clean close: the server sees the end of the stream, not an error.
        await client.close_async(GLib.PRIORITY_DEFAULT, null);
        assertEqual(await readText(server, 1), '', 'after the close_notify');
    } finally {
        pair.close();
    }
});

test('connect_async and handshake_async through Gio._promisify', async () => {
    const listener = new Gio.SocketListener();
    const port = listener.add_any_inet_port(null);
    const serverCtx = serverContext();

    const serve = (async () => {
        const [conn] = await listener.accept_async(null);
        const sock = GSecSock.SecureSocket.new(serverCtx, conn, null);
        await sock.handshake_async(GLib.PRIORITY_DEFAULT, null);
        const line = await readText(sock, 'ping\n'.length);
        await writeText(sock, `pong: ${line}`);
        return sock;
    })();

    // The static function, promisified on the constructor; `await` gives
    // the socket, or throws the GLib.Error.
    const client = await GSecSock.SecureSocket.connect_async(clientContext(), 'localhost', port, null);
    assert(client instanceof GSecSock.SecureSocket, 'connect_async resolves to a SecureSocket');
    assert(client.handshake_complete, 'connect_async handshakes');
    assertEqual(client.peer_name, 'localhost', 'peer name');
    await writeText(client, 'ping\n');
    assertEqual(await readText(client, 'pong: ping\n'.length), 'pong: ping\n', 'reply');
    const server = await serve;
    listener.close();
    client.close(null);
    server.close(null);
});

test('connect_async rejects with the GLib.Error of a failed verification', async () => {
    const listener = new Gio.SocketListener();
    const port = listener.add_any_inet_port(null);
    const serverCtx = serverContext('untrusted-chain.pem', 'untrusted.key');
    const serve = (async () => {
        const [conn] = await listener.accept_async(null);
        const sock = GSecSock.SecureSocket.new(serverCtx, conn, null);
        try {
            await sock.handshake_async(GLib.PRIORITY_DEFAULT, null);
        } catch (error) {
            return error;
        }
        return null;
    })();

    let clientError = null;
    try {
        await GSecSock.SecureSocket.connect_async(clientContext(), 'localhost', port, null);
    } catch (error) {
        clientError = error;
    }
    assertError(clientError, GSecSock.Error, GSecSock.Error.CERTIFICATE_REJECTED, 'client');
    assertEqual(clientError.domain, GSecSock.Error.quark(), 'error domain');
    assertIncludes(clientError.message, 'localhost', 'error message');
    assert(await serve instanceof GLib.Error, 'the server saw the failure too');
    listener.close();
});

test('openssl s_server: handshake_async over a Gio.SocketConnection, line reversed', async () => {
    const sServer = new SServer(['-cert', pkiPath('server.pem'), '-key', pkiPath('server.key'),
        '-cert_chain', pkiPath('intermediate.pem'), '-rev']);
    try {
        const port = await sServer.start();
        const conn = await new Gio.SocketClient().connect_to_host_async('127.0.0.1', port, null);
        const sock = GSecSock.SecureSocket.new(clientContext(), conn, 'localhost');
        await sock.handshake_async(GLib.PRIORITY_DEFAULT, null);

        const expected = GSecSock.Certificate.new_from_file(pkiPath('server.pem'));
        assert(sock.get_peer_certificate().equal(expected), 'peer certificate is server.pem');
        assertEqual(sock.get_peer_certificate_chain().get_n_items(), 2, 'peer chain length');

        await writeText(sock, 'hello interop\n');
        assertEqual(await readText(sock, 'poretni olleh\n'.length), 'poretni olleh\n', 'reversed line');
        // s_server -rev closes (with a close_notify) when it reads CLOSE.
        await writeText(sock, 'CLOSE\n');
        assertEqual(await readText(sock, 64), '', 'end of stream after CLOSE');
        await sock.close_async(GLib.PRIORITY_DEFAULT, null);
        assertIncludes(await sServer.finished(), 'CONNECTION CLOSED', 's_server output');
    } finally {
        sServer.stop();
    }
});

test('openssl s_server: the blocking connect() and handshake()', async () => {
    const sServer = new SServer(['-cert', pkiPath('server.pem'), '-key', pkiPath('server.key'),
        '-cert_chain', pkiPath('intermediate.pem'), '-rev'], 2);
    try {
        const port = await sServer.start();
        // A blocking call in the main thread is fine here: the server is
        // another process. "127.0.0.1" is checked against the IP SAN.
        const sock = GSecSock.SecureSocket.connect(clientContext(), '127.0.0.1', port, null);
        assert(sock.handshake_complete, 'connect() handshakes');
        assertEqual(sock.certificate_errors, 0, 'certificate errors');

        const output = sock.get_output_stream();
        const input = new Gio.DataInputStream({base_stream: sock.get_input_stream(), close_base_stream: false});
        output.write_all(new TextEncoder().encode('abc def\n'), null);
        const [line] = input.read_line_utf8(null);
        assertEqual(line, 'fed cba', 'reversed line');
        output.write_all(new TextEncoder().encode('CLOSE\n'), null);
        assertNull(input.read_line_utf8(null)[0], 'end of stream');
        sock.close(null);

        // Over a connection of our own, with the blocking handshake().
        const conn = new Gio.SocketClient().connect_to_host('127.0.0.1', port, null);
        const sock2 = GSecSock.SecureSocket.new(clientContext(), conn, 'localhost');
        assert(sock2.handshake(null) === true, 'handshake() returns true');
        assertEqual(sock2.get_peer_certificate().get_subject(), 'CN=localhost', 'peer');
        sock2.close(null);
    } finally {
        sServer.stop();
    }
});

// GSecSock.SecureSocket has a static function `connect`
// (gsecsock_secure_socket_connect). GJS puts static functions on the
// constructor, so an instance's `connect` is still GObject's signal connect.
test('sock.connect() is the GObject signal connect, not the static connect', async () => {
    assertEqual(typeof GSecSock.SecureSocket.connect, 'function', 'the static exists');
    assert(GSecSock.SecureSocket.connect !== GObject.Object.prototype.connect, 'the static is distinct');
    assert(GSecSock.SecureSocket.prototype.connect === GObject.Object.prototype.connect,
        'instances inherit GObject.Object.prototype.connect');

    const pair = new Pair(clientContext(), serverContext());
    const first = [];
    const second = [];
    const id = pair.client.connect('verify-certificate', (sock, cert, depth) => {
        first.push(depth);
        return true;
    });
    assert(Number.isInteger(id) && id > 0, `connect() returns a handler id, got ${id}`);
    pair.client.disconnect(id);
    pair.client.connect('verify-certificate', (sock, cert, depth, errors) => {
        second.push(depth);
        return errors === 0;
    });
    const notified = [];
    pair.client.connect('notify::handshake-complete', sock => notified.push(sock.handshake_complete));
    const [clientError, serverError] = await pair.handshake();
    assertNull(clientError, 'client handshake');
    assertNull(serverError, 'server handshake');
    assertEqual(first, [], 'disconnected handler');
    assertEqual(second, [2, 1, 0], 'connected handler');
    assertEqual(notified, [true], 'notify::handshake-complete');
    pair.close();
});

run();
