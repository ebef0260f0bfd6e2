#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The peer for gsecsock-bench-throughput: Python's ssl module (same libssl),
1 GiB (or --size MiB) through one loopback TLS connection, client and server
threads in one process, blocking sockets. Prints MiB/s.

    /usr/bin/python3 bench/python-ssl-throughput.py --pki _build/tests/pki
"""
import argparse
import socket
import ssl
import threading
import time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--pki", required=True, help="test PKI directory (tests/make-test-pki.sh)")
parser.add_argument("--size", type=int, default=1024, help="MiB to send (default 1024)")
args = parser.parse_args()
size = args.size << 20

server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_ctx.load_cert_chain(f"{args.pki}/server-chain.pem", f"{args.pki}/server.key")
client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
client_ctx.load_verify_locations(f"{args.pki}/ca.pem")

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
received = 0


def serve():
    global received
    conn, _ = listener.accept()
    with server_ctx.wrap_socket(conn, server_side=True) as tls:
        buf = bytearray(256 * 1024)
        while received < size:
            n = tls.recv_into(buf)
            if not n:
                break
            received += n


thread = threading.Thread(target=serve)
thread.start()
with client_ctx.wrap_socket(socket.create_connection(listener.getsockname()),
                            server_hostname="localhost") as tls:
    chunk = bytes(65536)
    start = time.monotonic()
    for _ in range(size // len(chunk)):
        tls.sendall(chunk)
    thread.join()
    seconds = time.monotonic() - start
    if received != size:
        raise SystemExit(f"server received {received} of {size} bytes")
    print(f"python ssl {tls.version()} {tls.cipher()[0]}, {size >> 20} MiB in {seconds:.2f} s: "
          f"{(size >> 20) / seconds:.0f} MiB/s")
