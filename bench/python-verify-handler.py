#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Cost of a Python verify-certificate handler per handshake.

Sequential full handshakes (no resumption) between a gsecsock client and a
gsecsock server in one process, one GLib main loop, over loopback TCP:
alternating rounds without any handler and with a Python handler that is
emitted for each of the 3 certificates of the chain. Prints handshakes/s
(median of the rounds) for both, and the ratio.

Run from the source tree after `ninja -C _build`:

    meson devenv -C _build /usr/bin/python3 ../bench/python-verify-handler.py \\
        --pki tests/pki

(or set GI_TYPELIB_PATH, LD_LIBRARY_PATH and PYTHONPATH=introspection/python
yourself).
"""

import argparse
import json
import os
import statistics
import time

import gi

gi.require_version('GSecSock', '1.0')
from gi.repository import Gio, GLib, GSecSock  # noqa: E402


def run_round(make_client_ctx, server_ctx, count, handler):
    listener = Gio.SocketListener()
    port = listener.add_any_inet_port(None)
    loop = GLib.MainLoop()
    state = {'left': count, 'done': 0, 'emissions': 0}

    def on_verify(sock, certificate, depth, errors):
        state['emissions'] += 1
        return errors == 0

    def one():
        client_conn = Gio.SocketClient().connect_to_host('127.0.0.1', port, None)
        server_conn, _ = listener.accept(None)
        # A fresh client context per connection: the context caches
        # sessions by peer name, and this measures full handshakes.
        client = GSecSock.SecureSocket.new(make_client_ctx(), client_conn, 'localhost')
        server = GSecSock.SecureSocket.new(server_ctx, server_conn, None)
        if handler:
            client.connect('verify-certificate', on_verify)
        finished = []

        def done(sock, result):
            sock.handshake_finish(result)
            finished.append(sock)
            if len(finished) == 2:
                for end in (client, server):
                    try:
                        # The client leaves the server's session tickets
                        # unread, so its close may reset the connection.
                        end.close(None)
                    except GLib.Error:
                        pass
                state['done'] += 1
                state['left'] -= 1
                if state['left'] == 0:
                    loop.quit()
                else:
                    GLib.idle_add(lambda: one() and False)

        client.handshake_async(GLib.PRIORITY_DEFAULT, None, done)
        server.handshake_async(GLib.PRIORITY_DEFAULT, None, done)

    start = time.perf_counter()
    one()
    loop.run()
    elapsed = time.perf_counter() - start
    listener.close()
    if handler:
        assert state['emissions'] == 3 * count, state
    return count / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pki', required=True, help='the test PKI directory (_build/tests/pki)')
    parser.add_argument('--count', type=int, default=300, help='handshakes per round')
    parser.add_argument('--rounds', type=int, default=7)
    parser.add_argument('--json', action='store_true', help='print one JSON object')
    args = parser.parse_args()

    def pki(name):
        return os.path.join(args.pki, name)

    def make_client_ctx():
        ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT)
        ctx.set_use_system_trust(False)
        ctx.add_trust_anchor_file(pki('ca.pem'))
        return ctx

    server_ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.SERVER)
    server_ctx.load_certificate_file(pki('server-chain.pem'), pki('server.key'))

    run_round(make_client_ctx, server_ctx, 20, False)   # warm-up
    without, with_handler = [], []
    for _ in range(args.rounds):
        without.append(run_round(make_client_ctx, server_ctx, args.count, False))
        with_handler.append(run_round(make_client_ctx, server_ctx, args.count, True))

    a, b = statistics.median(without), statistics.median(with_handler)
    if args.json:
        print(json.dumps({'rounds': args.rounds, 'count': args.count,
                          'no_handler_per_s': round(a, 1), 'handler_per_s': round(b, 1),
                          'ratio': round(b / a, 4),
                          'cost_ms_per_handshake': round(1000 / b - 1000 / a, 4),
                          'emissions_per_handshake': 3}))
        return
    print(f'sequential full handshakes, client and server in one process, {args.rounds} rounds '
          f'of {args.count}')
    print(f'  no handler:                 {a:7.1f} handshakes/s  ({1000 / a:.2f} ms each)')
    print(f'  Python verify handler (x3): {b:7.1f} handshakes/s  ({1000 / b:.2f} ms each)')
    print(f'  ratio with/without: {b / a:.3f}  (cost per handshake: {1000 / b - 1000 / a:+.3f} ms)')


if __name__ == '__main__':
    main()
