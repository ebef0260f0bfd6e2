#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""run-client.py PKI_DIR PROGRAM [ARG...]

Runs one of the getting-started clients (any language) against
`openssl s_server -rev` with a certificate from the test CA, which must
work, then against a server whose certificate expired, which must fail
with the library's message. A test of the 'examples' suite; not an
example itself.
"""

import os
import re
import subprocess
import sys

OPENSSL = os.environ.get('OPENSSL', 'openssl')


def serve(pki, cert, chain, key):
    server = subprocess.Popen([OPENSSL, 's_server', '-accept', '127.0.0.1:0', '-naccept', '1', '-rev',
                               '-cert', os.path.join(pki, cert), '-cert_chain', os.path.join(pki, chain),
                               '-key', os.path.join(pki, key)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    for line in server.stdout:
        match = re.match(r'^ACCEPT \S+:(\d+)$', line)
        if match:
            return server, match.group(1)
    sys.exit('openssl s_server did not start')


def main(pki, program):
    failures = []
    for cert, key, status, wanted in (
            ('server.pem', 'server.key', 0, ['connected to localhost with ', 'server said: olleh']),
            ('expired.pem', 'expired.key', 1, ['client: The certificate of “localhost” expired on '])):
        server, port = serve(pki, cert, 'intermediate.pem', key)
        try:
            result = subprocess.run(program + ['localhost', port, os.path.join(pki, 'ca.pem')],
                                    capture_output=True, text=True, timeout=30,
                                    env=dict(os.environ, LC_ALL='C.UTF-8'))
        finally:
            server.kill()
            server.communicate()
        output = result.stdout + result.stderr
        print(f'$ {" ".join(program)} localhost {port} ca.pem   # server: {cert}')
        print(output, end='')
        if result.returncode != status:
            failures.append(f'{cert}: exit status {result.returncode}, expected {status}')
        failures += [f'{cert}: missing from the output: {line!r}' for line in wanted if line not in output]
    for failure in failures:
        print('FAIL: ' + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit(__doc__.splitlines()[0])
    sys.exit(main(sys.argv[1], sys.argv[2:]))
