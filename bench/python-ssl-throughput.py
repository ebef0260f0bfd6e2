#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Python peer of gsecsock-bench-throughput: Python's ssl module (same
libssl), SIZE MiB each way through one loopback TLS connection (the client
sends, then the server sends back), client and server threads in one
process, blocking sockets, 64 KiB writes, 256 KiB reads. AES-128-GCM: TLS
1.3 by default, TLS 1.2 (ECDHE-ECDSA-AES128-GCM-SHA256) with --tls12.
Prints MiB/s and CPU seconds per GiB moved (both ends).

Python's ssl module cannot choose TLS 1.3 cipher suites; this script points
OPENSSL_CONF at a small configuration that does, before importing ssl.
Only the byte count is checked (checking content costs Python more than
the TLS itself).

    /usr/bin/python3 bench/python-ssl-throughput.py --pki _build/tests/pki
"""
import argparse
import json
import os
import socket
import tempfile
import threading
import time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--pki", required=True, help="test PKI directory (tests/make-test-pki.sh)")
parser.add_argument("--size", type=int, default=1024, help="MiB to send each way (default 1024)")
parser.add_argument("--tls12", action="store_true", help="TLS 1.2 instead of TLS 1.3")
parser.add_argument("--json", action="store_true", help="print one JSON object")
args = parser.parse_args()
size = args.size << 20

with tempfile.NamedTemporaryFile("w", suffix=".cnf", delete=False) as conf:
    conf.write("openssl_conf = conf\n[conf]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n"
               "[sys]\nCiphersuites = TLS_AES_128_GCM_SHA256\n")
os.environ["OPENSSL_CONF"] = conf.name
import ssl  # noqa: E402  (after OPENSSL_CONF)
os.unlink(conf.name)

server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_ctx.load_cert_chain(f"{args.pki}/server-chain.pem", f"{args.pki}/server.key")
client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
client_ctx.load_verify_locations(f"{args.pki}/ca.pem")
client_ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
if args.tls12:
    client_ctx.maximum_version = ssl.TLSVersion.TLSv1_2
else:
    client_ctx.minimum_version = ssl.TLSVersion.TLSv1_3

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
state = {"received": 0, "phase1_end": None, "error": None}
chunk = bytes(65536)


def receive(tls, buf):
    total = 0
    while total < size:
        n = tls.recv_into(buf, min(len(buf), size - total))
        if not n:
            break
        total += n
    return total


def send(tls):
    for _ in range(size // len(chunk)):
        tls.sendall(chunk)


def serve():
    try:
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            buf = bytearray(256 * 1024)
            state["received"] = receive(tls, buf)
            state["phase1_end"] = time.monotonic()
            send(tls)
            tls.recv(1)    # the client's close
    except Exception as e:  # noqa: BLE001
        state["error"] = e


thread = threading.Thread(target=serve)
thread.start()
with client_ctx.wrap_socket(socket.create_connection(listener.getsockname()),
                            server_hostname="localhost") as tls:
    buf = bytearray(256 * 1024)
    start = time.monotonic()
    cpu_start = time.process_time()
    send(tls)
    down = receive(tls, buf)
    end = time.monotonic()
    cpu = time.process_time() - cpu_start
    version, cipher = tls.version(), tls.cipher()[0]
thread.join()
if state["error"] or state["received"] != size or down != size:
    raise SystemExit(f"failed: {state['error']}, server received {state['received']}, "
                     f"client received {down} of {size} bytes each")
seconds = end - start
mib = 2 * size / (1 << 20)
if args.json:
    print(json.dumps({"impl": "python-ssl", "protocol": version, "cipher": cipher,
                      "bytes_each_way": size, "seconds": round(seconds, 4),
                      "seconds_up": round(state["phase1_end"] - start, 4),
                      "seconds_down": round(end - state["phase1_end"], 4),
                      "mib_s": round(mib / seconds, 1), "cpu_s": round(cpu, 4),
                      "cpu_s_per_gib": round(cpu / (mib / 1024), 4)}))
else:
    print(f"python ssl {version} {cipher}, {size >> 20} MiB each way in {seconds:.2f} s: "
          f"{mib / seconds:.0f} MiB/s, {cpu / (mib / 1024):.2f} CPU s per GiB (both ends)")
