#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""client.py HOST PORT CA_FILE [SHA256_PIN]

Connects to HOST:PORT with TLS, trusting only the CA certificates in
CA_FILE, and decides in a verify-certificate handler: a certificate is
accepted when it has no problem, or when it is the server's own certificate
and its SHA-256 fingerprint is SHA256_PIN (for a self-signed server).
Prints the chain, sends "hello", prints the answer."""

import sys

import gi

gi.require_version('GSecSock', '1.0')
from gi.repository import GLib, Gio, GSecSock  # noqa: E402


def on_verify_certificate(context, sock, certificate, depth, errors, pin):
    """Emitted for each certificate of the server's chain, root end first."""
    # value_nicks always starts with the zero value, "no-flags".
    problems = ', '.join(nick for nick in errors.value_nicks if nick != 'no-flags') or 'ok'
    print(f'verify depth {depth}: {certificate.props.subject}: {problems}')
    if errors == 0:
        return True
    fingerprint = certificate.props.fingerprint_sha256
    return depth == 0 and pin is not None and pin.lower() == fingerprint.lower()


def main(host, port, ca_file, pin=None):
    context = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT)
    context.set_use_system_trust(False)
    context.add_trust_anchor_file(ca_file)
    # On the context, the handler serves every socket made from it.
    context.connect('verify-certificate', on_verify_certificate, pin)

    # Resolves HOST, connects, and handshakes: the handler runs in here.
    # Leaving the with block closes the socket, with a TLS close_notify.
    with GSecSock.SecureSocket.connect(context, host, int(port), None) as sock:
        for i, certificate in enumerate(sock.props.peer_certificate_chain):
            until = certificate.props.not_valid_after.format('%F')
            print(f'chain[{i}]: {certificate.props.subject}, issued by {certificate.props.issuer}, '
                  f'valid until {until}')

        sock.write_all(b'hello\n')
        answer, _ = Gio.DataInputStream.new(sock.get_input_stream()).read_line_utf8(None)
        print(f'server said: {answer}')


if __name__ == '__main__':
    if not 4 <= len(sys.argv) <= 5:
        sys.exit(__doc__.splitlines()[0])
    try:
        main(*sys.argv[1:])
    except GLib.Error as error:
        sys.exit(f'client: {error.message}')
