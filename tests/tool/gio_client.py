# SPDX-License-Identifier: LGPL-2.1-or-later
"""A TLS client on GIO's own TLS (GTlsClientConnection, from
glib-networking), for the interoperability matrix: connects COUNT times to
localhost:PORT, sends a line, reads the echo, closes; prints one JSON object
per connection. The second connection resumes the first's session with
g_tls_client_connection_copy_session_state().

    gio_client.py PORT CA [--cert FILE --key FILE] [--alpn NAME] [--count N]

Run by /usr/bin/python3 (PyGObject). Exit status 0 if every connection
succeeded, 1 otherwise, 77 if GIO has no TLS backend.
"""

import argparse
import json
import sys

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

VERSIONS = {
    'TLS_1_0': 'TLSv1.0', 'TLS_1_1': 'TLSv1.1', 'TLS_1_2': 'TLSv1.2', 'TLS_1_3': 'TLSv1.3',
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('port', type=int)
    parser.add_argument('ca')
    parser.add_argument('--cert')
    parser.add_argument('--key')
    parser.add_argument('--alpn')
    parser.add_argument('--count', type=int, default=1)
    args = parser.parse_args()

    if not Gio.TlsBackend.get_default().supports_tls():
        print(json.dumps({'ok': False, 'error': 'GIO has no TLS backend (glib-networking)'}))
        return 77

    database = Gio.TlsFileDatabase.new(args.ca)
    certificate = Gio.TlsCertificate.new_from_files(args.cert, args.key) if args.cert else None
    previous = None
    status = 0
    for _ in range(args.count):
        result = {'ok': False}
        try:
            client = Gio.SocketClient.new()
            client.set_timeout(20)
            base = client.connect_to_host('localhost', args.port, None)
            tls = Gio.TlsClientConnection.new(base, Gio.NetworkAddress.new('localhost', args.port))
            tls.set_database(database)
            if certificate is not None:
                tls.set_certificate(certificate)
            if args.alpn:
                tls.set_advertised_protocols([args.alpn])
            if previous is not None:
                tls.copy_session_state(previous)
            tls.handshake(None)
            result['protocol'] = VERSIONS.get(tls.get_protocol_version().value_nick.upper().replace('-', '_'))
            result['cipher'] = tls.get_ciphersuite_name()
            result['alpn'] = tls.get_negotiated_protocol()
            tls.get_output_stream().write_all(b'ping\n', None)
            data = tls.get_input_stream().read_bytes(100, None).get_data()
            result['echo'] = data.decode('utf-8', 'replace')
            tls.close(None)
            result['ok'] = True
            previous = tls
        except GLib.Error as error:
            result['error'] = error.message
            status = 1
        print(json.dumps(result), flush=True)
    return status


if __name__ == '__main__':
    sys.exit(main())
