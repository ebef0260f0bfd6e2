#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Python peer of gsecsock-bench-handshake-client: Python's ssl module
(same libssl) as a client, sequential connections to 127.0.0.1:PORT for a
given time, from one SSLContext, each verified (chain and host name) against
the test CA, AES-128-GCM.

  (default)    connect, handshake, close: in TLS 1.3 the session tickets
               are never read, so every handshake is a full one.
  --www PATH   after the handshake, GET PATH and read the answer to its
               end; the next connection resumes the session read last
               (SSLContext.wrap_socket(session=...)).

Prints one JSON line: connections, resumed, seconds, handshakes/s and the
client's CPU milliseconds per handshake.

    /usr/bin/python3 bench/python-ssl-handshake.py --pki _build/tests/pki --port 4433
"""
import argparse
import json
import os
import socket
import tempfile
import time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--pki", required=True, help="test PKI directory (tests/make-test-pki.sh)")
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--tls12", action="store_true", help="TLS 1.2 instead of TLS 1.3")
parser.add_argument("--www", metavar="PATH", help="GET PATH after each handshake, then resume")
parser.add_argument("--time", type=float, default=3.0, help="seconds to run (default 3)")
args = parser.parse_args()

# Python's ssl module cannot choose TLS 1.3 cipher suites: a configuration
# file does, read when ssl is imported.
with tempfile.NamedTemporaryFile("w", suffix=".cnf", delete=False) as conf:
    conf.write("openssl_conf = conf\n[conf]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n"
               "[sys]\nCiphersuites = TLS_AES_128_GCM_SHA256\n")
os.environ["OPENSSL_CONF"] = conf.name
import ssl  # noqa: E402
os.unlink(conf.name)

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(os.path.join(args.pki, "ca.pem"))
ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
version = ssl.TLSVersion.TLSv1_2 if args.tls12 else ssl.TLSVersion.TLSv1_3
ctx.minimum_version = ctx.maximum_version = version
request = f"GET {args.www} HTTP/1.0\r\n\r\n".encode() if args.www else None

address = ("127.0.0.1", args.port)
session = None
n = resumed = read = 0
start = time.monotonic()
deadline = start + args.time
cpu_start = time.process_time()
while time.monotonic() < deadline:
    raw = socket.create_connection(address)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    tls = ctx.wrap_socket(raw, server_hostname="127.0.0.1", session=session)
    if tls.session_reused:
        resumed += 1
    if request:
        tls.sendall(request)
        while True:
            try:
                data = tls.recv(16384)
            except ssl.SSLEOFError:
                break
            if not data:
                break
            read += len(data)
        session = tls.session
    tls.close()
    n += 1
seconds = time.monotonic() - start
cpu = time.process_time() - cpu_start
print(json.dumps({"impl": "python-ssl", "connections": n, "resumed": resumed, "bytes_read": read,
                  "seconds": round(seconds, 4), "handshakes_per_s": round(n / seconds, 1),
                  "client_cpu_ms_per_handshake": round(cpu * 1000 / max(n, 1), 4)}))
