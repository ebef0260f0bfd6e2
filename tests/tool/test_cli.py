# SPDX-License-Identifier: LGPL-2.1-or-later
"""gsecsock's command line: help, version, usage errors and the exit codes
of failures that need no TLS peer."""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tooltest import *  # noqa: E402,F401,F403
import tooltest as t  # noqa: E402


class Help(unittest.TestCase):
    def test_no_arguments_is_a_usage_error(self):
        r = t.run()
        self.assertEqual(r.returncode, t.EXIT_USAGE)
        self.assertIn('gsecsock COMMAND', r.stderr)

    def test_help_lists_commands_and_exit_codes(self):
        r = t.run('--help')
        self.assertEqual(r.returncode, 0)
        for word in ('connect', 'serve', 'inspect', 'Exit status', '130'):
            self.assertIn(word, r.stdout)

    def test_command_help(self):
        for command, parameter in (('connect', 'HOST[:PORT]'), ('serve', ''), ('inspect', 'FILE|DIR|URI')):
            r = t.run(command, '--help')
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f'gsecsock {command} [OPTION…] {parameter}'.rstrip(), r.stdout)
            self.assertIn('Exit status', r.stdout)
            self.assertIn('Examples', r.stdout)

    def test_help_command(self):
        r = t.run('help', 'inspect')
        self.assertEqual(r.returncode, 0)
        self.assertIn('gsecsock inspect', r.stdout)
        self.assertEqual(t.run('help', 'nope').returncode, t.EXIT_USAGE)

    def test_help_all_shows_groups(self):
        r = t.run('connect', '--help-all')
        self.assertEqual(r.returncode, 0)
        for option in ('--ca', '--cert', '--key', '--alpn', '--min-version', '--keylog', '--trace',
                       '--json', '--starttls', '--pin', '--resume', '--timeout'):
            self.assertIn(option, r.stdout)

    def test_version(self):
        r = t.run('--version')
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r'gsecsock \d+\.\d+')
        self.assertIn('OpenSSL', r.stdout)


class ManPage(unittest.TestCase):
    PAGE = os.environ.get('GSECSOCK_MAN_PAGE',
                          os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'docs', 'gsecsock.1'))

    @unittest.skipUnless(shutil.which('groff'), 'groff is not installed')
    def test_formats_without_warnings(self):
        r = subprocess.run(['groff', '-man', '-ww', '-z', '-rCHECKSTYLE=3', self.PAGE],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stderr, '')

    def test_documents_every_option(self):
        with open(self.PAGE) as f:
            page = f.read().replace('\\-', '-')
        for command in ('connect', 'serve', 'inspect'):
            options = re.findall(r'^\s+(?:-\w, )?--([\w-]+)', t.run(command, '--help-all').stdout, re.M)
            self.assertGreater(len(options), 10 if command != 'inspect' else 5)
            for option in options:
                if option.startswith('help'):
                    continue
                with self.subTest(command=command, option=option):
                    self.assertIn(f'--{option}', page)

    def test_documents_the_exit_codes(self):
        with open(self.PAGE) as f:
            page = f.read()
        for code in ('0', '1', '2', '3', '4', '5', '6', '130'):
            self.assertIn(f'.TP\n.B {code}\n', page)


class UsageErrors(unittest.TestCase):
    cases = [
        ('nope',),
        ('connect',),
        ('connect', 'a', 'b'),
        ('connect', '--bogus', 'localhost'),
        ('connect', 'localhost:0'),
        ('connect', 'localhost:99999'),
        ('connect', 'localhost:http'),
        ('connect', '--min-version', '9', 'localhost'),
        ('connect', '--min-version', '1.3', '--max-version', '1.2', 'localhost'),
        ('connect', '--yes', '--no', 'localhost'),
        ('connect', '--pin', 'sha256:1234', 'localhost'),
        ('connect', '--pin', 'sha256:' + 'ab' * 32, '--no-verify', 'localhost'),
        ('connect', '--starttls', 'gopher', 'localhost'),
        ('connect', '--sni', 'a.example', '--no-sni', 'localhost'),
        ('connect', '--sni', '192.0.2.1', 'localhost'),
        ('connect', '--color', 'purple', 'localhost'),
        ('connect', '--timeout', '0', 'localhost'),
        ('connect', '--key', '/dev/null', 'localhost'),
        ('connect', '--ciphers', 'NOT-A-CIPHER', 'localhost'),
        ('connect', '--check-revocation', 'sometimes', 'localhost'),
        ('serve',),
        ('serve', '--generate', '--cert', 'x.pem'),
        ('serve', '--generate', '--client-auth', 'maybe'),
        ('serve', '--generate', '--echo', '--http'),
        ('serve', '--generate', '--port', '70000'),
        ('serve', '--name', 'x'),
        ('serve', 'extra'),
        ('inspect',),
        ('inspect', 'a', 'b'),
    ]

    def test_usage_errors(self):
        for args in self.cases:
            with self.subTest(args=args):
                r = t.run(*args)
                self.assertEqual(r.returncode, t.EXIT_USAGE, f'{args}: {r.stdout}{r.stderr}')
                self.assertTrue(r.stderr.strip(), f'{args}: no message')


class Failures(unittest.TestCase):
    def test_connection_refused(self):
        port = t.free_port()   # nothing listens there
        r, doc = t.run_json('connect', f'127.0.0.1:{port}')
        self.assertEqual(r.returncode, t.EXIT_CONNECTION)
        self.assertEqual(doc['phase'], 'connect')
        self.assertEqual(doc['error']['name'], 'connection-refused')
        self.assertTrue(doc['verdict'].startswith('FAILED'))

    def test_connection_refused_human(self):
        port = t.free_port()
        r = t.run('connect', f'127.0.0.1:{port}')
        self.assertEqual(r.returncode, t.EXIT_CONNECTION)
        self.assertIn('could not connect', r.stdout)

    def test_unknown_host(self):
        r = t.run('connect', '--timeout', '10', 'no-such-host.invalid:443')
        self.assertEqual(r.returncode, t.EXIT_CONNECTION, r.stdout + r.stderr)

    def test_missing_files(self):
        for args in (('connect', '--ca', '/nonexistent/ca.pem', 'localhost'),
                     ('connect', '--cert', '/nonexistent/cert.pem', 'localhost'),
                     ('connect', '--crl', '/nonexistent/crl.pem', 'localhost'),
                     ('serve', '--cert', '/nonexistent/cert.pem'),
                     ('serve', '--store', '/nonexistent/store', '--name', 'x'),
                     ('inspect', '/nonexistent/file.pem')):
            with self.subTest(args=args):
                r = t.run(*args)
                self.assertEqual(r.returncode, t.EXIT_FILE, f'{args}: {r.stdout}{r.stderr}')
                self.assertIn('nonexistent', r.stderr)

    def test_not_a_certificate(self):
        with tempfile.NamedTemporaryFile('w', suffix='.pem') as f:
            f.write('hello, I am not a certificate\n')
            f.flush()
            r = t.run('inspect', f.name)
            self.assertEqual(r.returncode, t.EXIT_FILE)
            r = t.run('connect', '--ca', f.name, 'localhost')
            self.assertEqual(r.returncode, t.EXIT_FILE)

    def test_key_mismatch(self):
        r = t.run('serve', '--port', '0', '--cert', t.pki('server.pem'), '--key', t.pki('client.key'))
        self.assertEqual(r.returncode, t.EXIT_FILE)
        self.assertIn('key', r.stderr.lower())

    def test_listen_on_a_busy_port(self):
        with socket.socket() as busy:
            busy.bind(('127.0.0.1', 0))
            busy.listen()
            port = busy.getsockname()[1]
            r = t.run('serve', '--generate', '--address', '127.0.0.1', '--port', str(port))
            self.assertEqual(r.returncode, t.EXIT_CONNECTION, r.stdout + r.stderr)
            self.assertIn(str(port), r.stderr)


if __name__ == '__main__':
    sys.exit(t.main())
