// SPDX-License-Identifier: LGPL-2.1-or-later
//
// What the GJS tests share: a small TAP test runner driving a GLib main loop,
// assertions, the test PKI's location, contexts, a loopback client/server
// pair and `openssl s_server`. Run the tests through
// `meson test --suite javascript`, which points GI_TYPELIB_PATH and
// LD_LIBRARY_PATH at the uninstalled library and GSECSOCK_TEST_PKI_DIR at
// the generated test PKI.

import GLib from 'gi://GLib?version=2.0';
import Gio from 'gi://Gio?version=2.0';
import GSecSock from 'gi://GSecSock?version=1.0';
import System from 'system';

export {GLib, Gio, GSecSock};

// Every asynchronous call the tests make, as promises.
Gio._promisify(GSecSock.SecureSocket.prototype, 'handshake_async');
Gio._promisify(GSecSock.SecureSocket, 'connect_async', 'connect_finish');
Gio._promisify(Gio.SocketListener.prototype, 'accept_async');
Gio._promisify(Gio.SocketClient.prototype, 'connect_to_host_async');
Gio._promisify(Gio.InputStream.prototype, 'read_bytes_async');
Gio._promisify(Gio.OutputStream.prototype, 'write_all_async');
Gio._promisify(Gio.IOStream.prototype, 'close_async');
Gio._promisify(Gio.DataInputStream.prototype, 'read_line_async', 'read_line_finish_utf8');
Gio._promisify(Gio.Subprocess.prototype, 'wait_async');
Gio._promisify(Gio.Subprocess.prototype, 'communicate_utf8_async');

// A test that has not finished after this long fails (and the file goes
// on with the next one); meson's own timeout is the last resort.
const TEST_TIMEOUT_SECONDS = 20;

const tests = [];

/** Registers a test: `fn` may be async; it fails by throwing. */
export function test(name, fn) {
    tests.push({name, fn});
}

class AssertionError extends Error {
    constructor(message) {
        super(message);
        this.name = 'AssertionError';
    }
}

function show(value) {
    if (value instanceof GLib.Error)
        return `GLib.Error(${GLib.quark_to_string(value.domain)} ${value.code}: ${value.message})`;
    try {
        return JSON.stringify(value);
    } catch {
        return String(value);
    }
}

export function assert(condition, message = 'assertion failed') {
    if (!condition)
        throw new AssertionError(message);
}

/** Structural equality (through JSON) of plain values, arrays and objects. */
export function assertEqual(actual, expected, what = 'value') {
    if (show(actual) !== show(expected))
        throw new AssertionError(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

export function assertNull(value, what = 'value') {
    if (value !== null && value !== undefined)
        throw new AssertionError(`${what}: expected null, got ${show(value)}`);
}

export function assertIncludes(haystack, needle, what = 'value') {
    if (!haystack.includes(needle))
        throw new AssertionError(`${what}: ${show(haystack)} does not include ${show(needle)}`);
}

/** Asserts that `error` is a GLib.Error of `domain` (an error enum such as
 * GSecSock.Error or Gio.IOErrorEnum) with `code`. */
export function assertError(error, domain, code, what = 'error') {
    if (!(error instanceof GLib.Error))
        throw new AssertionError(`${what}: expected a GLib.Error with code ${code}, got ${show(error)}`);
    if (!error.matches(domain, code))
        throw new AssertionError(`${what}: expected code ${code}, got ${show(error)}`);
}

/** Runs `fn` (sync or async) and returns what it threw; fails if it did not throw. */
export async function assertThrows(fn, what = 'call') {
    try {
        await fn();
    } catch (error) {
        return error;
    }
    throw new AssertionError(`${what} did not throw`);
}

/** A promise that resolves to null when `promise` resolves, or to the
 * error it rejected with. */
export function settle(promise) {
    return promise.then(() => null, error => error);
}

/** Resolves after `ms` milliseconds of main loop. */
export function sleep(ms) {
    return new Promise(resolve => {
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            resolve();
            return GLib.SOURCE_REMOVE;
        });
    });
}

function withTimeout(promise, seconds, what) {
    let id = 0;
    const timeout = new Promise((resolve, reject) => {
        id = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, seconds, () => {
            id = 0;
            reject(new AssertionError(`${what} did not finish within ${seconds} s`));
            return GLib.SOURCE_REMOVE;
        });
    });
    return Promise.race([promise, timeout]).finally(() => {
        if (id)
            GLib.source_remove(id);
    });
}

/** Runs the registered tests one after the other in a GLib main loop,
 * prints TAP and exits: 0 when all passed, 1 otherwise. */
export function run() {
    const loop = new GLib.MainLoop(null, false);
    let failed = 0;

    (async () => {
        print(`1..${tests.length}`);
        for (const [i, {name, fn}] of tests.entries()) {
            try {
                await withTimeout(Promise.resolve().then(fn), TEST_TIMEOUT_SECONDS, name);
                print(`ok ${i + 1} - ${name}`);
            } catch (error) {
                failed++;
                print(`not ok ${i + 1} - ${name}`);
                const text = error instanceof GLib.Error ? show(error) : `${error}\n${error?.stack ?? ''}`;
                for (const line of text.trimEnd().split('\n'))
                    print(`# ${line}`);
                printerr(`FAIL: ${name}: ${text}`);
            }
        }
    })().catch(error => {
        failed++;
        printerr(`test runner error: ${error}\n${error?.stack}`);
    }).finally(() => loop.quit());

    loop.run();
    if (failed)
        printerr(`${failed} of ${tests.length} tests failed`);
    System.exit(failed ? 1 : 0);
}

// --- the test PKI, contexts, sockets --------------------------------------

/** The path of a file of the test PKI (see tests/make-test-pki.sh). */
export function pkiPath(name) {
    const dir = GLib.getenv('GSECSOCK_TEST_PKI_DIR');
    if (!dir)
        throw new Error('GSECSOCK_TEST_PKI_DIR is not set: run the tests through "meson test"');
    const path = GLib.build_filenamev([dir, name]);
    if (!GLib.file_test(path, GLib.FileTest.EXISTS))
        throw new Error(`Test PKI file ${path} is missing: was tests/make-test-pki.sh run?`);
    return path;
}

/** A client context trusting only the test root CA. */
export function clientContext() {
    const ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT);
    ctx.set_use_system_trust(false);
    ctx.add_trust_anchor_file(pkiPath('ca.pem'));
    return ctx;
}

export function serverContext(chain = 'server-chain.pem', key = 'server.key') {
    const ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER);
    ctx.load_certificate_file(pkiPath(chain), pkiPath(key));
    return ctx;
}

/** A server context that asks for client certificates and trusts `trust`. */
export function verifyingServerContext(trust = 'bundle.pem') {
    const ctx = serverContext();
    ctx.set_verify_peer(true);
    ctx.set_use_system_trust(false);
    ctx.add_trust_anchor_file(pkiPath(trust));
    return ctx;
}

/** A gsecsock client and server over a loopback TCP connection. */
export class Pair {
    constructor(clientCtx, serverCtx, peerName = 'localhost') {
        const listener = new Gio.SocketListener();
        const port = listener.add_any_inet_port(null);
        // The kernel completes the TCP handshake from the listen backlog,
        // so a blocking connect followed by a blocking accept is fine.
        this.clientConn = new Gio.SocketClient().connect_to_host('127.0.0.1', port, null);
        [this.serverConn] = listener.accept(null);
        listener.close();
        this.client = GSecSock.SecureSocket.new(clientCtx, this.clientConn, peerName);
        this.server = GSecSock.SecureSocket.new(serverCtx, this.serverConn, null);
    }

    /** Both handshakes at once, asynchronously. Resolves to the errors
     * (null for success) of client and server. */
    handshake() {
        return Promise.all([
            settle(this.client.handshake_async(GLib.PRIORITY_DEFAULT, null)),
            settle(this.server.handshake_async(GLib.PRIORITY_DEFAULT, null)),
        ]);
    }

    close() {
        for (const sock of [this.client, this.server]) {
            try {
                sock.close(null);
            } catch {
                // already failed or closed: nothing to release
            }
        }
    }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes `text` to a GIOStream, asynchronously. */
export async function writeText(stream, text) {
    await stream.get_output_stream().write_all_async(encoder.encode(text), GLib.PRIORITY_DEFAULT, null);
}

/** Reads from a GIOStream until `count` bytes (or the end of the stream)
 * have arrived; returns them as text. */
export async function readText(stream, count) {
    const chunks = [];
    let received = 0;
    while (received < count) {
        const bytes = await stream.get_input_stream().read_bytes_async(count - received, GLib.PRIORITY_DEFAULT, null);
        if (bytes.get_size() === 0)
            break;
        chunks.push(bytes.toArray());
        received += bytes.get_size();
    }
    const all = new Uint8Array(received);
    let offset = 0;
    for (const chunk of chunks) {
        all.set(chunk, offset);
        offset += chunk.length;
    }
    return decoder.decode(all);
}

/** `openssl s_server` on 127.0.0.1, on a port the kernel chooses, for
 * `connections` connections; `start()` resolves to the port once it
 * accepts. */
export class SServer {
    constructor(args, connections = 1) {
        const openssl = GLib.getenv('OPENSSL') || 'openssl';
        this.proc = Gio.Subprocess.new(
            [openssl, 's_server', '-accept', '127.0.0.1:0', '-naccept', String(connections), ...args],
            Gio.SubprocessFlags.STDIN_PIPE | Gio.SubprocessFlags.STDOUT_PIPE |
            Gio.SubprocessFlags.STDERR_MERGE);
        this.lines = new Gio.DataInputStream({base_stream: this.proc.get_stdout_pipe()});
        this.output = [];
    }

    async start() {
        for (;;) {
            const [line] = await this.lines.read_line_async(GLib.PRIORITY_DEFAULT, null);
            if (line === null)
                throw new Error(`s_server did not start:\n${this.output.join('\n')}`);
            this.output.push(line);
            const match = /^ACCEPT \S+:(\d+)$/.exec(line);
            if (match) {
                this.port = Number(match[1]);
                // Keep collecting its output.
                this._drained = this._drain();
                return this.port;
            }
        }
    }

    async _drain() {
        try {
            for (;;) {
                const [line] = await this.lines.read_line_async(GLib.PRIORITY_DEFAULT, null);
                if (line === null)
                    return;
                this.output.push(line);
            }
        } catch {
            // the pipe went away with the process
        }
    }

    /** Resolves once s_server has exited and all its output is read. */
    async finished() {
        await this.proc.wait_async(null);
        await this._drained;
        return this.output.join('\n');
    }

    stop() {
        this.proc.force_exit();
    }
}
