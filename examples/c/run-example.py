#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs one of the client, server or STARTTLS examples (of any language)
against a local peer and checks what it did; meson runs it as a test of the
'examples' suite. Not an example itself. Standard library only.

    run-example.py client|server|starttls PKI_DIR PROGRAM [ARG...]

PROGRAM [ARG...] is how to start the example (for Python, the interpreter
and the script). client runs it against `openssl s_server`, server runs
`openssl s_client` against it, starttls runs it alone (it is both sides).
"""

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile

TIMEOUT = 30
OPENSSL = os.environ.get('OPENSSL') or shutil.which('openssl')


def fail(message, *outputs):
    print(f'FAIL: {message}', file=sys.stderr)
    for output in outputs:
        print(output, file=sys.stderr)
    sys.exit(1)


def run(argv, expect_status=0, stdin=None):
    """Runs argv to its end; returns its stdout and stderr."""
    print('$', ' '.join(argv))
    result = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=TIMEOUT)
    print(result.stdout, end='')
    print(result.stderr, end='', file=sys.stderr)
    if expect_status is not None and result.returncode != expect_status:
        fail(f'exit status {result.returncode}, expected {expect_status}')
    return result.stdout, result.stderr


def expect(text, *wanted):
    for line in wanted:
        if line not in text:
            fail(f'missing from the output: {line!r}')


class Background:
    """A process whose output is read line by line until a pattern shows."""

    def __init__(self, argv):
        print('$', ' '.join(argv), '&')
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.output = ''
        # Never leave a server behind, whatever happens.
        atexit.register(lambda: self.proc.poll() is not None or self.proc.kill())

    def wait_for(self, pattern):
        # The caller's test timeout is the guard: s_server and the example
        # servers print this line at once.
        for line in self.proc.stdout:
            self.output += line
            match = re.search(pattern, line)
            if match:
                return match
        fail(f'{self.proc.args[0]} exited without printing /{pattern}/', self.output)

    def finish(self):
        """Waits for the exit; returns (status, all output)."""
        try:
            rest, _ = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rest, _ = self.proc.communicate()
        self.output += rest
        print(self.output, end='')
        return self.proc.returncode, self.output


def s_server(pki, *args):
    server = Background([OPENSSL, 's_server', '-accept', '127.0.0.1:0', '-naccept', '1', '-rev',
                         *args])
    return server, int(server.wait_for(r'^ACCEPT \S+:(\d+)$').group(1))


def check_client(pki, program):
    path = lambda name: os.path.join(pki, name)  # noqa: E731

    # A server the CA vouches for.
    server, port = s_server(pki, '-cert', path('server.pem'), '-cert_chain', path('intermediate.pem'),
                            '-key', path('server.key'))
    out, _ = run(program + ['localhost', str(port), path('ca.pem')])
    server.finish()
    expect(out,
           'verify depth 2: CN=gsecsock Test Root CA: ok\n',
           'verify depth 0: CN=localhost: ok\n',
           'chain[0]: CN=localhost, issued by CN=gsecsock Test Intermediate CA, valid until ',
           'chain[1]: CN=gsecsock Test Intermediate CA, issued by CN=gsecsock Test Root CA',
           'server said: olleh\n')

    # A self-signed server: rejected, unless its fingerprint is pinned.
    fingerprint = subprocess.run([OPENSSL, 'x509', '-noout', '-fingerprint', '-sha256',
                                  '-in', path('selfsigned.pem')], check=True, capture_output=True,
                                 text=True, timeout=TIMEOUT).stdout.strip().split('=', 1)[1]
    for pin, status in ((None, 1), (fingerprint, 0)):
        server, port = s_server(pki, '-cert', path('selfsigned.pem'), '-key', path('selfsigned.key'))
        out, err = run(program + ['localhost', str(port), path('ca.pem')] + ([pin] if pin else []),
                       expect_status=status)
        server.finish()
        expect(out, 'verify depth 0: CN=localhost: unknown-ca, self-signed\n')
        if pin:
            expect(out, 'chain[0]: CN=localhost, issued by CN=localhost', 'server said: olleh\n')
        else:
            expect(err, 'self-signed')


def make_stranger(pki, directory):
    """A client certificate the test CA vouches for, whose name is on no
    allow list: only an application's decision can refuse it."""
    path = lambda name: os.path.join(directory, name)  # noqa: E731
    with open(path('ext.cnf'), 'w') as ext:
        ext.write('basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n')
    for argv in (['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                  '-subj', '/CN=gsecsock stranger', '-keyout', path('stranger.key'), '-out', path('csr')],
                 ['x509', '-req', '-in', path('csr'), '-CA', os.path.join(pki, 'intermediate.pem'),
                  '-CAkey', os.path.join(pki, 'intermediate.key'), '-set_serial', '4242', '-days', '1',
                  '-extfile', path('ext.cnf'), '-out', path('stranger.pem')]):
        subprocess.run([OPENSSL, *argv], check=True, capture_output=True, timeout=TIMEOUT)
    with open(path('stranger-chain.pem'), 'w') as chain:
        for name in (path('stranger.pem'), os.path.join(pki, 'intermediate.pem')):
            with open(name) as part:
                chain.write(part.read())
    return path('stranger')


def check_server(pki, program):
    with tempfile.TemporaryDirectory() as directory:
        cases = [
            (os.path.join(pki, 'client'), 0,
             ['client certificate, depth 0: CN=gsecsock test client: accepted',
              'client CN=gsecsock test client connected']),
            # A valid chain, but not on the allow list.
            (make_stranger(pki, directory), 1,
             ['client certificate, depth 1: CN=gsecsock Test Intermediate CA: accepted',
              'client certificate, depth 0: CN=gsecsock stranger: rejected']),
            # Issued by a CA the server does not trust.
            (os.path.join(pki, 'client-other'), 1,
             ['client certificate, depth 1: CN=gsecsock Untrusted CA: rejected']),
        ]
        for client, status, wanted in cases:
            server = Background(program + [pki])
            port = server.wait_for(r'listening on 127\.0\.0\.1:(\d+)').group(1)
            # s_client sends the intermediate of the chain file too; -quiet
            # keeps it until the server closes.
            out, _ = run([OPENSSL, 's_client', '-connect', f'127.0.0.1:{port}', '-servername', 'localhost',
                          '-CAfile', os.path.join(pki, 'ca.pem'), '-verify_return_error',
                          '-cert', f'{client}.pem', '-cert_chain', f'{client}-chain.pem',
                          '-key', f'{client}.key', '-quiet'],
                         expect_status=None, stdin='hi\n')
            server_status, server_out = server.finish()
            if server_status != status:
                fail(f'the server exited with {server_status}, expected {status}')
            expect(server_out, *wanted)
            if status == 0:
                expect(out, 'hello CN=gsecsock test client, you said: hi\n')


def check_starttls(pki, program):
    out, _ = run(program + [pki])
    expect(out,
           'server: got STARTTLS\n',
           'client: got GO\n',
           'client: TLS established with localhost, cipher ',
           'server: got hello over TLS\n',
           'client: server said: you said: hello\n')


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ('client', 'server', 'starttls'):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    kind, pki, program = sys.argv[1], sys.argv[2], sys.argv[3:]
    {'client': check_client, 'server': check_server, 'starttls': check_starttls}[kind](pki, program)
    print(f'ok: the {kind} example works')


if __name__ == '__main__':
    main()
