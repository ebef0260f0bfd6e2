#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""test-french.py: the library's and the tool's messages in French.

Compiles the fr_FR.UTF-8 locale into a temporary directory with localedef
(LOCPATH), so the test never depends on the system's locale setup, starts
`gsecsock serve` with the test PKI's expired certificate, and connects to
it under that locale with `gsecsock connect` and with a C program using
the library (expired-client.c). Both must print the French message; under
C.UTF-8 the same runs must print the English one. The uninstalled
catalogs are found through GSECSOCK_LOCALEDIR (the build tree's po/).

Environment: GSECSOCK_TOOL, GSECSOCK_EXPIRED_CLIENT, GSECSOCK_TEST_PKI_DIR,
GSECSOCK_LOCALEDIR. Output is TAP; exit 77 (skip) only without localedef.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

TOOL = os.environ['GSECSOCK_TOOL']
CLIENT = os.environ['GSECSOCK_EXPIRED_CLIENT']
PKI = os.environ['GSECSOCK_TEST_PKI_DIR']
LOCALEDIR = os.environ['GSECSOCK_LOCALEDIR']
NBSP, NNBSP = '\u00a0', '\u202f'

results = []


def check(ok, description, details=''):
    results.append((ok, description, details))


def environment(locale, locpath=None):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith('LC_') and key not in ('LANG', 'LANGUAGE', 'LOCPATH')}
    env.update(LANG=locale, LC_ALL=locale, GSECSOCK_LOCALEDIR=LOCALEDIR, NO_COLOR='1')
    if locpath:
        env['LOCPATH'] = locpath
    return env


def make_locale(directory):
    localedef = shutil.which('localedef')
    if localedef is None:
        print('1..0 # SKIP localedef is not installed (Debian: libc-bin, with the locales package)')
        sys.exit(77)
    result = subprocess.run([localedef, '-i', 'fr_FR', '-f', 'UTF-8', os.path.join(directory, 'fr_FR.UTF-8')],
                            capture_output=True, text=True)
    # localedef exits 1 for mere warnings; the compiled locale is what counts.
    if not os.path.isfile(os.path.join(directory, 'fr_FR.UTF-8', 'LC_MESSAGES', 'SYS_LC_MESSAGES')):
        print('1..0')
        print(f'Bail out! localedef could not compile fr_FR.UTF-8 (install the locales package): '
              f'{result.stderr.strip()}')
        sys.exit(1)


def start_server():
    server = subprocess.Popen([TOOL, 'serve', '--cert', os.path.join(PKI, 'expired-chain.pem'),
                               '--key', os.path.join(PKI, 'expired.key'),
                               '--address', '127.0.0.1', '--port', '0', '--timeout', '10'],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=environment('C.UTF-8'))
    for line in server.stdout:
        match = re.search(r'Listening on 127\.0\.0\.1:(\d+)', line)
        if match:
            return server, int(match.group(1))
    server.kill()
    raise RuntimeError('gsecsock serve did not start: ' + server.communicate()[0])


def run(argv, env):
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=60, env=env)
    return result.returncode, result.stdout + result.stderr


def main():
    with tempfile.TemporaryDirectory(prefix='gsecsock-locale-') as locpath:
        make_locale(locpath)
        french = environment('fr_FR.UTF-8', locpath)
        english = environment('C.UTF-8')
        server, port = start_server()
        try:
            ca = os.path.join(PKI, 'ca.pem')
            connect = [TOOL, 'connect', '--ca', ca, '--no-system-trust', '--no-data', f'localhost:{port}']

            status, output = run(connect, french)
            verdict = f'ÉCHEC{NBSP}: le certificat n’est pas de confiance pour «{NBSP}localhost{NBSP}»{NBSP}: expiré'
            check(status == 5 and verdict in output,
                  'gsecsock connect to an expired certificate, in French', output)
            check(f'Chaîne de certificats (telle que vérifiée, celui du serveur en premier){NBSP}:' in output
                  and 'émetteur' in output,
                  'the report of gsecsock connect is French too', output)

            status, output = run(connect, english)
            check(status == 5 and 'FAILED: the certificate is not trusted for “localhost”: expired' in output,
                  'the same under C.UTF-8, in English', output)

            client = [CLIENT, 'localhost', str(port), ca]
            status, output = run(client, french)
            check(status == 1 and re.search(r'Le certificat présenté par «\u00a0localhost\u00a0» a expiré le '
                                            r'2021-01-01 00:00 UTC', output),
                  'a program using the library gets the French error message', output)

            status, output = run(client, english)
            check(status == 1 and 'The certificate of “localhost” expired on 2021-01-01 00:00 UTC' in output,
                  'the same program under C.UTF-8 gets the English one', output)

            status, output = run([TOOL, '--help'], french)
            check(status == 0 and f'Utilisation{NBSP}:' in output and 'Commandes' in output,
                  'gsecsock --help in French', output)
        finally:
            server.terminate()
            server.communicate(timeout=30)

    print(f'1..{len(results)}')
    for number, (ok, description, details) in enumerate(results, start=1):
        print(f'{"ok" if ok else "not ok"} {number} - {description}')
        if not ok:
            print('# ' + details.strip().replace('\n', '\n# '))
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == '__main__':
    sys.exit(main())
