#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs Connection Inspector on a virtual X server (Xvfb) against local TLS servers and plays
scripts through its test hook (GSECSOCK_INSPECTOR_AUTOMATE, see
gsecsock_inspector/automation.py): the app types the address, presses
Connect and answers its dialogs through the same signals as a click, then
reports what its window shows. Screenshots land in $INSPECTOR_SCREENSHOT_DIR.

Run by `meson test --suite inspector`. Exits 77 (skipped) when Xvfb or
the GTK 4 / libadwaita typelibs are missing — except under CI (CI=true),
where they are installed and a skip would hide a broken test: there it
fails instead."""

import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'tests', 'python'))

SKIP = 77
# One step of an app run may take this long (the app fails by itself after
# that); a whole run, this long.
STEP_TIMEOUT = 20
RUN_TIMEOUT = 90


def missing_requirements():
    if shutil.which('Xvfb') is None:
        return 'Xvfb is not installed (Debian: xvfb)'
    check = subprocess.run(
        [sys.executable, '-c', "import gi; gi.require_version('Gtk', '4.0'); "
         "gi.require_version('Adw', '1'); from gi.repository import Gtk, Adw"],
        capture_output=True, text=True)
    if check.returncode != 0:
        return ('the GTK 4 and libadwaita typelibs are missing (Debian: gir1.2-gtk-4.0, '
                f'gir1.2-adw-1): {check.stderr.strip().splitlines()[-1:]}')
    return None


if __name__ == '__main__':
    missing = missing_requirements()
    if missing:
        if os.environ.get('CI') == 'true':
            sys.exit(f'test_inspector: cannot run under CI: {missing}')
        print(f'SKIP: {missing}')
        sys.exit(SKIP)

from testutils import GUARD_SECONDS, OpensslServer, _die_with_parent, pki_path  # noqa: E402


def openssl_fingerprint(pem_file):
    """The SHA-256 fingerprint as openssl computes it, independently of
    gsecsock: 'AB:CD:…'."""
    openssl = os.environ.get('OPENSSL') or shutil.which('openssl')
    output = subprocess.run([openssl, 'x509', '-noout', '-fingerprint', '-sha256', '-in', pem_file],
                            check=True, capture_output=True, text=True).stdout
    return output.strip().split('=', 1)[1]


def png_size(path):
    with open(path, 'rb') as png:
        header = png.read(24)
    if header[:8] != b'\x89PNG\r\n\x1a\n' or header[12:16] != b'IHDR':
        raise AssertionError(f'{path} is not a PNG file')
    return struct.unpack('>II', header[16:24])


class StartTlsServer:
    """A plain-text SMTP or IMAP server on 127.0.0.1 that upgrades one
    connection to TLS with Python's ssl module (not gsecsock), presenting
    the test PKI's server chain."""

    def __init__(self, protocol):
        self.protocol = protocol
        self.listener = socket.create_server(('127.0.0.1', 0))
        self.listener.settimeout(GUARD_SECONDS)
        self.port = self.listener.getsockname()[1]
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(pki_path('server-chain.pem'), pki_path('server.key'))
        self.transcript = []
        self.error = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            connection, _address = self.listener.accept()
            connection.settimeout(GUARD_SECONDS)
            with connection:
                lines = connection.makefile('rb')

                def send(line):
                    connection.sendall(line.encode() + b'\r\n')

                def receive():
                    line = lines.readline().decode().rstrip('\r\n')
                    self.transcript.append(line)
                    return line

                if self.protocol == 'smtp':
                    send('220 test.invalid ESMTP ready')
                    if not receive().startswith('EHLO '):
                        raise AssertionError(f'expected EHLO: {self.transcript}')
                    send('250-test.invalid')
                    send('250-PIPELINING')
                    send('250 STARTTLS')
                    if receive() != 'STARTTLS':
                        raise AssertionError(f'expected STARTTLS: {self.transcript}')
                    send('220 2.0.0 Ready to start TLS')
                else:
                    send('* OK [CAPABILITY IMAP4rev1 STARTTLS] test.invalid ready')
                    tag, _space, command = receive().partition(' ')
                    if command != 'STARTTLS':
                        raise AssertionError(f'expected STARTTLS: {self.transcript}')
                    send('* CAPABILITY IMAP4rev1')
                    send(f'{tag} OK Begin TLS negotiation now')
                with self.context.wrap_socket(connection, server_side=True) as tls:
                    self.tls_version = tls.version()
                    # The inspector closes once it has looked.
                    tls.recv(1)
        except BaseException as error:   # reported by join()
            self.error = error
        finally:
            self.listener.close()

    def join(self):
        self.thread.join(GUARD_SECONDS)
        if self.thread.is_alive():
            raise AssertionError('the STARTTLS server did not finish')
        return self.error


class VirtualDisplay:
    """An Xvfb server on a display number it picks itself (-displayfd, so
    tests running at the same time never collide), without authorization
    (only local clients can reach it), killed with this process. (xvfb-run
    -a guesses a free number and, run concurrently, can leave its Xvfb
    behind.)"""

    def __init__(self):
        read_end, write_end = os.pipe()
        self.process = subprocess.Popen(
            ['Xvfb', '-displayfd', str(write_end), '-screen', '0', '1280x1024x24',
             '-nolisten', 'tcp', '-noreset'],
            pass_fds=[write_end], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        os.close(write_end)
        with os.fdopen(read_end) as display_number:
            number = display_number.readline().strip()
        if not number.isdigit():
            self.stop()
            raise RuntimeError(f'Xvfb did not start: {self.process.stderr.read().decode()}')
        self.display = f':{number}'

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(GUARD_SECONDS)
        self.process.stderr.close()


class InspectorTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.launcher = os.environ['INSPECTOR_LAUNCHER']
        cls.screenshot_dir = os.environ['INSPECTOR_SCREENSHOT_DIR']
        os.makedirs(cls.screenshot_dir, exist_ok=True)
        cls.x_server = VirtualDisplay()

    @classmethod
    def tearDownClass(cls):
        cls.x_server.stop()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='inspector-test-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def start_openssl(self, *args, connections=1):
        # testutils' server takes one connection; a later -naccept wins.
        server = OpensslServer('-rev', *args, '-naccept', str(connections))
        self.addCleanup(server.stop)
        return server

    def run_app(self, steps, *app_args):
        """Plays steps in the app; returns its report."""
        report_path = os.path.join(self.tmp, 'report.json')
        script_path = os.path.join(self.tmp, 'script.json')
        with open(script_path, 'w', encoding='utf-8') as script:
            json.dump({'report': report_path, 'screenshot_dir': self.screenshot_dir,
                       'timeout': STEP_TIMEOUT, 'steps': steps}, script)
        # A GNOME session's font (Debian: fonts-cantarell), as its settings
        # daemon would tell GTK; the app itself sets no font.
        gtk_settings = os.path.join(self.tmp, 'config', 'gtk-4.0')
        os.makedirs(gtk_settings)
        with open(os.path.join(gtk_settings, 'settings.ini'), 'w', encoding='utf-8') as settings:
            settings.write('[Settings]\ngtk-font-name=Cantarell 11\n')
        env = dict(os.environ)
        env.update({
            'GSECSOCK_INSPECTOR_AUTOMATE': script_path,
            'DISPLAY': self.x_server.display,
            # Predictable pictures and text: software rendering, English
            # dates in UTC, and nothing from the user's own settings.
            'GSK_RENDERER': 'cairo',
            'GDK_BACKEND': 'x11',
            'GTK_A11Y': 'none',
            'NO_AT_BRIDGE': '1',
            'LANG': 'C.UTF-8', 'LC_ALL': 'C.UTF-8', 'LANGUAGE': '',
            'TZ': 'UTC',
            'XDG_DATA_HOME': os.path.join(self.tmp, 'data'),
            'XDG_CONFIG_HOME': os.path.join(self.tmp, 'config'),
            'XDG_CACHE_HOME': os.path.join(self.tmp, 'cache'),
            'GSETTINGS_BACKEND': 'memory',
            'GIO_USE_PROXY_RESOLVER': 'dummy',
        })
        for variable in ('DBUS_SESSION_BUS_ADDRESS', 'WAYLAND_DISPLAY', 'XAUTHORITY'):
            env.pop(variable, None)
        process = subprocess.run([self.launcher, '--no-system-trust', *app_args], env=env,
                                 capture_output=True, text=True, timeout=RUN_TIMEOUT)
        self.app_output = process.stdout + process.stderr
        if not os.path.exists(report_path):
            self.fail(f'the app wrote no report (exit status {process.returncode}):\n'
                      f'{self.app_output}')
        with open(report_path, encoding='utf-8') as report_file:
            report = json.load(report_file)
        if not report['ok']:
            self.fail(f'the app could not play the script: {report["failure"]}\n'
                      f'report: {json.dumps(report, indent=1)}\noutput:\n{self.app_output}')
        self.assertEqual(process.returncode, 0, self.app_output)
        # GTK or the app complaining is a failure too.
        for marker in ('CRITICAL', 'Traceback', 'WARNING **'):
            self.assertNotIn(marker, self.app_output)
        return report

    def assert_screenshot(self, name):
        path = os.path.join(self.screenshot_dir, name)
        width, height = png_size(path)
        self.assertGreaterEqual(width, 600, path)
        self.assertGreaterEqual(height, 600, path)

    def assert_waited_without_blocking(self, dialog):
        """While the dialog waited, the window kept drawing its spinner."""
        self.assertTrue(dialog['spinner_spinning'], dialog)
        self.assertGreaterEqual(dialog['frames_while_waiting'], 5, dialog)
        self.assertIn('waits for your answer', dialog['status_while_waiting'])

    # ---- untrusted certificates ---------------------------------------------------

    def test_self_signed_connect_anyway(self):
        server = self.start_openssl('-cert', pki_path('selfsigned.pem'),
                                    '-key', pki_path('selfsigned.key'))
        address = f'localhost:{server.port}'
        report = self.run_app([
            {'do': 'connect', 'address': address},
            {'do': 'answer', 'dialog': 'verify', 'response': 'connect',
             'screenshot': 'untrusted-dialog.png'},
            {'do': 'wait-finished'},
            {'do': 'screenshot', 'name': 'connected-anyway.png'},
            {'do': 'screenshot', 'name': 'connected-anyway-details.png', 'scroll_to': 'connection'},
        ])
        [dialog] = report['dialogs']
        self.assertEqual(dialog['kind'], 'verify')
        self.assertIn(address, dialog['body'])
        self.assertIn('is self-signed', dialog['body'])
        self.assert_waited_without_blocking(dialog)

        [shown] = report['inspections']
        self.assertEqual(shown['inspection_state'], 'connected', shown)
        self.assertEqual(len(shown['chain']), 1, shown['chain'])
        leaf = shown['chain'][0]
        self.assertEqual(leaf['fingerprint_sha256'], openssl_fingerprint(pki_path('selfsigned.pem')))
        self.assertEqual(leaf['verdict'], 'accepted')
        self.assertEqual(leaf['verdict_icon'], 'dialog-warning-symbolic')
        self.assertEqual(shown['properties']['Protocol'], 'TLS 1.3')
        self.assertTrue(shown['properties']['Cipher'])
        self.assertIn('accepted', shown['properties']['Server certificate'])
        self.assertFalse(shown['spinner_spinning'])
        self.assertTrue(any('handshake done' in line for line in shown['log']), shown['log'])
        self.assert_screenshot('untrusted-dialog.png')
        self.assert_screenshot('connected-anyway.png')
        self.assert_screenshot('connected-anyway-details.png')

    def test_expired_cancel(self):
        server = self.start_openssl('-cert', pki_path('expired.pem'), '-key', pki_path('expired.key'),
                                    '-cert_chain', pki_path('intermediate.pem'))
        report = self.run_app([
            {'do': 'connect', 'address': f'localhost:{server.port}'},
            {'do': 'answer', 'dialog': 'verify', 'response': 'cancel'},
            {'do': 'wait-finished'},
            {'do': 'screenshot', 'name': 'refused.png'},
        ], '--ca-file', pki_path('ca.pem'))
        [dialog] = report['dialogs']
        # The PKI's expired certificate ends on 2021-01-01 (UTC).
        self.assertIn('expired on 1 January 2021', dialog['body'])
        [shown] = report['inspections']
        self.assertEqual(shown['inspection_state'], 'failed', shown)
        self.assertTrue(shown['error'], shown)
        self.assertIn('Could not connect', shown['status'])
        self.assertEqual(shown['properties'], {})
        # What was refused is still shown.
        leaf = shown['chain'][0]
        self.assertEqual(leaf['fingerprint_sha256'], openssl_fingerprint(pki_path('expired.pem')))
        self.assertEqual(leaf['verdict'], 'rejected')
        self.assert_screenshot('refused.png')
        # Refusing sent the alert that matches the problem.
        self.assertIn('alert certificate expired', server.wait())

    def test_remembered_decision(self):
        server = self.start_openssl('-cert', pki_path('wronghost.pem'),
                                    '-key', pki_path('wronghost.key'),
                                    '-cert_chain', pki_path('intermediate.pem'), connections=2)
        address = f'localhost:{server.port}'
        report = self.run_app([
            {'do': 'connect', 'address': address},
            {'do': 'answer', 'dialog': 'verify', 'response': 'connect', 'remember': True},
            {'do': 'wait-finished'},
            # No dialog may appear this time: the automation fails on one.
            {'do': 'connect', 'address': address},
            {'do': 'wait-finished'},
        ], '--ca-file', pki_path('ca.pem'))
        [dialog] = report['dialogs']
        self.assertIn('was issued for “wrong.example”, not for “localhost”', dialog['body'])
        first, second = report['inspections']
        self.assertEqual(first['inspection_state'], 'connected', first)
        self.assertEqual(second['inspection_state'], 'connected', second)
        self.assertEqual(first['chain'][0]['verdict'], 'accepted')
        self.assertEqual(second['chain'][0]['verdict'], 'remembered')
        self.assertEqual(second['chain'][0]['fingerprint_sha256'],
                         openssl_fingerprint(pki_path('wronghost.pem')))
        # The authority above it verified.
        self.assertEqual(second['chain'][1]['verdict'], 'verified')
        # A session whose certificate was accepted despite problems is not
        # resumed: the second handshake was verified (and decided) again.
        self.assertEqual(second['properties']['Session reused'], 'No')
        self.assertTrue(any('remembered decision' in line for line in second['log']))

    def test_cancel_while_the_server_is_silent(self):
        # A server that accepts the connection and never answers the
        # ClientHello: the handshake hangs until the user cancels.
        listener = socket.create_server(('127.0.0.1', 0))
        self.addCleanup(listener.close)
        report = self.run_app([
            {'do': 'connect', 'address': f'127.0.0.1:{listener.getsockname()[1]}'},
            {'do': 'cancel', 'after': 0.5},
            {'do': 'wait-finished'},
        ])
        [shown] = report['inspections']
        self.assertEqual(shown['inspection_state'], 'cancelled', shown)
        self.assertIn('was cancelled', shown['status'])
        self.assertEqual(shown['chain'], [])
        self.assertFalse(shown['spinner_spinning'])

    # ---- client certificates ----------------------------------------------------------

    def make_certificate_directory(self):
        """The user's certificates: the test client's, with its key
        encrypted ("secret"), one from an authority the server does not
        accept, and the intermediate authority that links the first to the
        root the server names."""
        directory = os.path.join(self.tmp, 'certificates')
        os.makedirs(directory)
        shutil.copy(pki_path('client.pem'), os.path.join(directory, 'client.pem'))
        openssl = os.environ.get('OPENSSL') or shutil.which('openssl')
        subprocess.run([openssl, 'pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in',
                        pki_path('client.key'), '-passout', 'pass:secret',
                        '-out', os.path.join(directory, 'client.key')],
                       check=True, capture_output=True, stdin=subprocess.DEVNULL)
        shutil.copy(pki_path('client-other.pem'), os.path.join(directory, 'other.pem'))
        shutil.copy(pki_path('client-other.key'), os.path.join(directory, 'other.key'))
        shutil.copy(pki_path('intermediate.pem'), os.path.join(directory, 'intermediate.pem'))
        return directory

    def test_client_certificate(self):
        directory = self.make_certificate_directory()
        server = self.start_openssl('-cert', pki_path('server.pem'), '-key', pki_path('server.key'),
                                    '-cert_chain', pki_path('intermediate.pem'),
                                    '-Verify', '2', '-CAfile', pki_path('ca.pem'))
        report = self.run_app([
            {'do': 'connect', 'address': f'localhost:{server.port}'},
            {'do': 'answer', 'dialog': 'client-certificate', 'select': 'CN=gsecsock test client',
             'response': 'send', 'screenshot': 'client-certificate-dialog.png'},
            {'do': 'answer', 'dialog': 'password', 'password': 'not the password',
             'response': 'unlock'},
            {'do': 'answer', 'dialog': 'password', 'password': 'secret', 'response': 'unlock',
             'screenshot': 'password-dialog.png'},
            {'do': 'wait-finished'},
            {'do': 'screenshot', 'name': 'client-certificate-sent.png', 'scroll_to': 'connection'},
        ], '--ca-file', pki_path('ca.pem'), '--certificates', directory)
        chooser, password, retry = report['dialogs']
        self.assertEqual(chooser['kind'], 'client-certificate')
        self.assertEqual(chooser['acceptable_issuers'], ['CN=gsecsock Test Root CA'])
        # Only the certificate that chains to the root the server named.
        self.assertEqual(chooser['candidates'], ['CN=gsecsock test client'])
        self.assert_waited_without_blocking(chooser)
        self.assertEqual(password['heading'], 'Password Needed')
        self.assertEqual(retry['heading'], 'Wrong Password')
        [shown] = report['inspections']
        self.assertEqual(shown['inspection_state'], 'connected', shown)
        self.assertEqual(shown['properties']['Client certificate'], 'gsecsock test client')
        self.assertTrue(all(entry['verdict'] == 'verified' for entry in shown['chain']))
        # The server saw and verified it.
        output = server.wait()
        self.assertIn('gsecsock test client', output)
        self.assert_screenshot('client-certificate-dialog.png')
        self.assert_screenshot('client-certificate-sent.png')

    # ---- STARTTLS -------------------------------------------------------------------------

    def check_starttls(self, protocol, label):
        server = StartTlsServer(protocol)
        report = self.run_app([
            {'do': 'connect', 'address': f'localhost:{server.port}', 'security': protocol},
            {'do': 'wait-finished'},
            {'do': 'screenshot', 'name': f'starttls-{protocol}.png'},
        ], '--ca-file', pki_path('ca.pem'))
        self.assertIsNone(server.join())
        self.assertEqual(report['dialogs'], [])
        [shown] = report['inspections']
        self.assertEqual(shown['inspection_state'], 'connected', shown)
        self.assertIn(f'{label} upgraded with STARTTLS', shown['properties']['Server'])
        self.assertEqual(shown['properties']['Server certificate'], 'Trusted')
        self.assertEqual([entry['verdict'] for entry in shown['chain']], ['verified', 'verified'])
        self.assertEqual(shown['chain'][0]['fingerprint_sha256'],
                         openssl_fingerprint(pki_path('server.pem')))
        self.assertTrue(any('STARTTLS' in line and 'C: ' in line for line in shown['log']),
                        shown['log'])
        self.assertEqual(server.tls_version, 'TLSv1.3')

    def test_starttls_smtp(self):
        self.check_starttls('smtp', 'SMTP')

    def test_starttls_imap(self):
        self.check_starttls('imap', 'IMAP')


if __name__ == '__main__':
    unittest.main(verbosity=2)
