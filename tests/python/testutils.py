# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Python tests share. Run them through `meson test --suite python`,
which points GI_TYPELIB_PATH and LD_LIBRARY_PATH at the uninstalled library
and GSECSOCK_TEST_PKI_DIR at the generated test PKI."""

import ctypes
import faulthandler
import os
import re
import shutil
import signal
import subprocess
import threading
import unittest

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('GSecSock', '1.0')

from gi.repository import GLib, Gio, GSecSock  # noqa: E402

__all__ = ['GLib', 'Gio', 'GSecSock', 'pki_path', 'GUARD_SECONDS', 'GuardedTestCase',
           'client_context', 'server_context', 'run_loop', 'Pair', 'ThreadedServer',
           'OpensslServer']

# How long any single wait may take before the test fails: a guard against
# hangs, never a means of synchronisation.
GUARD_SECONDS = 20


def pki_path(name):
    """The path of a file of the test PKI (see tests/make-test-pki.sh)."""
    directory = os.environ.get('GSECSOCK_TEST_PKI_DIR')
    if not directory:
        raise RuntimeError('GSECSOCK_TEST_PKI_DIR is not set: run the tests through "meson test"')
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        raise RuntimeError(f'Test PKI file {path} is missing: was tests/make-test-pki.sh run?')
    return path


class GuardedTestCase(unittest.TestCase):
    """A test case that can never hang: a test still running after
    2 * GUARD_SECONDS prints every thread's traceback and ends the process
    with a failure, even when it is stuck in a blocking C call."""

    def setUp(self):
        super().setUp()
        faulthandler.dump_traceback_later(2 * GUARD_SECONDS, exit=True)
        self.addCleanup(faulthandler.cancel_dump_traceback_later)


def client_context(ca='ca.pem'):
    """A client context that trusts only the test root CA."""
    ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT)
    ctx.set_use_system_trust(False)
    ctx.add_trust_anchor_file(pki_path(ca))
    return ctx


def server_context(chain='server-chain.pem', key='server.key'):
    """A server context presenting chain (leaf first) with key."""
    ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER)
    ctx.load_certificate_file(pki_path(chain), pki_path(key))
    return ctx


def run_loop(loop, done, what='the main loop'):
    """Runs loop until done() holds (checked whenever the loop is quit);
    fails with an AssertionError after GUARD_SECONDS."""
    expired = []

    def guard():
        expired.append(True)
        loop.quit()
        return GLib.SOURCE_REMOVE

    guard_id = GLib.timeout_add_seconds(GUARD_SECONDS, guard)
    while not done() and not expired:
        loop.run()
    if expired:
        raise AssertionError(f'{what} did not finish within {GUARD_SECONDS} s')
    GLib.source_remove(guard_id)


class Pair:
    """A client and a server socket over a loopback TCP connection."""

    def __init__(self, client_ctx, server_ctx, peer_name='localhost'):
        listener = Gio.SocketListener()
        port = listener.add_any_inet_port(None)
        self.client_conn = Gio.SocketClient().connect_to_host('127.0.0.1', port, None)
        self.server_conn, _ = listener.accept(None)
        listener.close()
        self.client = GSecSock.SecureSocket.new(client_ctx, self.client_conn, peer_name)
        self.server = GSecSock.SecureSocket.new(server_ctx, self.server_conn, None)

    def handshake(self):
        """Both handshakes, asynchronously, in a GLib main loop. Returns the
        errors (None for success) of client and server."""
        loop = GLib.MainLoop()
        results = {}

        def done(sock, result, name):
            try:
                sock.handshake_finish(result)
                results[name] = None
            except GLib.Error as error:
                results[name] = error
            loop.quit()

        self.client.handshake_async(GLib.PRIORITY_DEFAULT, None, done, 'client')
        self.server.handshake_async(GLib.PRIORITY_DEFAULT, None, done, 'server')
        run_loop(loop, lambda: len(results) == 2, 'the handshakes')
        return results['client'], results['server']

    def close(self):
        for sock in (self.client, self.server):
            try:
                sock.close(None)
            except GLib.Error:
                pass


class ThreadedServer:
    """A gsecsock server in a thread, with the blocking API: it accepts one
    connection on a free port, wraps it in a SecureSocket, handshakes, and
    calls serve(sock, cancellable). join() returns what went wrong (an
    exception, or None). Pass self.cancellable to every blocking call:
    close() cancels it, so the thread can never stay blocked."""

    def __init__(self, serve, ctx=None):
        self.ctx = ctx if ctx is not None else server_context()
        self.serve = serve
        self.cancellable = Gio.Cancellable()
        self.listener = Gio.SocketListener()
        self.port = self.listener.add_any_inet_port(None)
        self.sock = None
        self.error = None
        self.thread = threading.Thread(target=self._run, name='gsecsock-server', daemon=True)
        self.thread.start()

    def _run(self):
        try:
            conn, _ = self.listener.accept(self.cancellable)
            self.listener.close()
            self.sock = GSecSock.SecureSocket.new(self.ctx, conn, None)
            self.sock.handshake(self.cancellable)
            self.serve(self.sock, self.cancellable)
        except BaseException as error:  # reported by join()
            self.error = error

    def join(self):
        self.thread.join(GUARD_SECONDS)
        if self.thread.is_alive():
            self.close()
            raise AssertionError(f'the server thread did not finish within {GUARD_SECONDS} s')
        return self.error

    def close(self):
        self.cancellable.cancel()
        self.thread.join(GUARD_SECONDS)
        self.listener.close()
        if self.sock is not None and not self.thread.is_alive():
            try:
                self.sock.close(None)
            except GLib.Error:
                pass


def _die_with_parent():
    # Runs in the child between fork and exec: an openssl left behind by a
    # test process that died would keep its port forever.
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class OpensslServer:
    """`openssl s_server` on 127.0.0.1 (port chosen by the kernel) for one
    connection, with args appended. Its output is collected as it comes:
    wait_for() waits for a line, output() is all of it."""

    def __init__(self, *args):
        openssl = os.environ.get('OPENSSL') or shutil.which('openssl')
        self.proc = subprocess.Popen(
            [openssl, 's_server', '-accept', '127.0.0.1:0', '-naccept', '1', *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, preexec_fn=_die_with_parent)
        self._lines = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()
        self.port = int(self.wait_for(r'^ACCEPT \S+:(\d+)$').group(1))

    def _collect(self):
        for line in self.proc.stdout:
            with self._changed:
                self._lines.append(line.rstrip('\n'))
                self._changed.notify_all()
        with self._changed:
            self._lines.append(None)   # end of output
            self._changed.notify_all()

    def output(self):
        with self._changed:
            return '\n'.join(line for line in self._lines if line is not None)

    def wait_for(self, pattern):
        """The match of the first output line matching pattern."""
        regex = re.compile(pattern)

        def find():
            for line in self._lines:
                if line is None:
                    return True
                match = regex.search(line)
                if match:
                    return match
            return None

        with self._changed:
            found = self._changed.wait_for(find, GUARD_SECONDS)
        if not isinstance(found, re.Match):
            raise AssertionError(f'openssl s_server never printed /{pattern}/:\n{self.output()}')
        return found

    def wait(self):
        """Waits for s_server to exit (it does after its one connection) and
        returns its output."""
        self.proc.wait(GUARD_SECONDS)
        self._reader.join(GUARD_SECONDS)
        return self.output()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._reader.join(GUARD_SECONDS)
        self.proc.stdout.close()

