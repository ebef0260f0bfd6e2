# SPDX-License-Identifier: LGPL-2.1-or-later
"""The interoperability matrix of the gsecsock tool (meson suite `interop`).

    gsecsock serve   <-  openssl s_client, gnutls-cli, curl, Python ssl, GIO TLS
    gsecsock connect ->  openssl s_server, gnutls-serv, Python ssl

For each pair and each of TLS 1.2 and 1.3 (both sides limited to it): a
handshake without and with a client certificate, ALPN, session resumption,
and a bad certificate rejected on both sides with the right error: the
server's refused by the client ("bad server cert"), and the client's
refused by the server ("bad client cert"). Each check is one row, a TAP
subtest; rows run in parallel. The matrix is printed as a Markdown
table at the end (as TAP comments) and written to GSECSOCK_INTEROP_TABLE
if set. A row is skipped only when its peer program is not installed
(CI installs them all: see tools/quickstart.sh). Any failure makes the
exit status non-zero.

Run by meson with GSECSOCK_TOOL, GSECSOCK_TEST_PKI_DIR and OPENSSL set;
`interop.py -k curl` runs the rows whose name contains "curl".
"""

import concurrent.futures
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tooltest as t  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
GNUTLS_CLI = shutil.which('gnutls-cli')
GNUTLS_SERV = shutil.which('gnutls-serv')
CURL = shutil.which('curl')
SYSTEM_PYTHON = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else None
ALPN = 'x-gsecsock'
VERSIONS = ['1.2', '1.3']
FEATURES = ['handshake', 'client cert', 'ALPN', 'resumption', 'bad server cert', 'bad client cert']
NOTES = {
    1: 'OpenSSL sends the alert refusing a TLS 1.3 server certificate in plain text (it has no handshake '
       'write key yet); GnuTLS expects it encrypted and reports "Decryption has failed" — openssl s_client '
       'does exactly the same against gnutls-serv. With TLS 1.2 gnutls-serv reports the alert.',
    2: 'glib-networking sends no alert when it refuses a certificate: it closes the connection, and the '
       'server reports that (the client says "Unacceptable TLS certificate").',
    3: 'GIO cannot choose a TLS version: the server is limited to it.',
    4: 'curl offers http/1.1 alone by ALPN (h2 needs an HTTP/2 server); the check is that http/1.1 is agreed.',
}


class Skip(Exception):
    pass


def gio_available():
    if SYSTEM_PYTHON is None:
        return 'no /usr/bin/python3'
    probe = ("import gi; gi.require_version('Gio', '2.0'); from gi.repository import Gio; "
             "import sys; sys.exit(0 if Gio.TlsBackend.get_default().supports_tls() else 1)")
    r = subprocess.run([SYSTEM_PYTHON, '-c', probe], capture_output=True)
    return None if r.returncode == 0 else 'PyGObject or glib-networking is not installed'


def ca():
    return t.pki('ca.pem')


def run_peer(argv, data=b'ping\n', hold=0.4, timeout=20):
    """Runs a client program: writes data, keeps stdin open for hold
    seconds (so that it reads the answer and TLS 1.3 tickets), closes it."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        if data:
            proc.stdin.write(data)
            proc.stdin.flush()
        time.sleep(hold)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    proc.stdin = None   # closed: communicate() must not flush it
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f'{argv[0]} timed out:\n{out.decode("utf-8", "replace")}')
    return proc.returncode, out.decode('utf-8', 'replace')


def check(condition, message):
    if not condition:
        raise AssertionError(message)


# ---------------------------------------------------------------------------
# Clients of `gsecsock serve`
#
# Each returns a list of connection results: dicts with ok, alpn, resumed
# (None when the client cannot tell), protocol (None when it does not say)
# and text (its output, for failures).

def client_openssl(port, version=None, cert=None, key=None, alpn=None, count=1, http=False):
    results = []
    with tempfile.TemporaryDirectory() as directory:
        session = os.path.join(directory, 'session.pem')
        for i in range(count):
            argv = [t.OPENSSL, 's_client', '-connect', f'127.0.0.1:{port}', '-servername', 'localhost',
                    '-CAfile', ca(), '-verify_return_error', '-verify_hostname', 'localhost']
            if version:
                argv.append('-tls1_2' if version == '1.2' else '-tls1_3')
            if cert:
                # s_client sends only the first certificate of -cert: the
                # rest of the chain goes in -cert_chain.
                with open(cert) as f:
                    blocks = re.findall(r'-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?', f.read(), re.S)
                leaf, rest = os.path.join(directory, 'leaf.pem'), os.path.join(directory, 'rest.pem')
                with open(leaf, 'w') as f:
                    f.write(blocks[0])
                argv += ['-cert', leaf, '-key', key]
                if len(blocks) > 1:
                    with open(rest, 'w') as f:
                        f.write(''.join(blocks[1:]))
                    argv += ['-cert_chain', rest]
            if alpn:
                argv += ['-alpn', alpn]
            if count > 1:
                argv += ['-sess_out', session] if i == 0 else ['-sess_in', session]
            code, out = run_peer(argv)
            protocol = re.search(r'Protocol *: *(TLSv1\.\d)', out) or re.search(r'(?:New|Reused), (TLSv1\.\d)', out)
            selected = re.search(r'ALPN protocol: (\S+)', out)
            results.append({
                'ok': code == 0 and 'Verify return code: 0 (ok)' in out and 'ping' in out,
                'protocol': protocol.group(1) if protocol else None,
                'alpn': selected.group(1) if selected else None,
                'resumed': 'Reused,' in out,
                'text': out,
            })
    return results


def client_gnutls(port, version=None, cert=None, key=None, alpn=None, count=1, http=False):
    argv = [GNUTLS_CLI, '-p', str(port), '--x509cafile', ca(), 'localhost']
    if version:
        argv.append(f'--priority=NORMAL:-VERS-ALL:+VERS-TLS{version}')
    if cert:
        argv += ['--x509certfile', cert, '--x509keyfile', key]
    if alpn:
        argv.append(f'--alpn={alpn}')
    if count > 1:
        argv.append('--resume')
    code, out = run_peer(argv, hold=1.0 if count > 1 else 0.4)
    protocol = re.search(r'- Description: \((TLS1\.\d)\)', out)
    selected = re.search(r'- Application protocol: (\S+)', out)
    result = {
        'ok': code == 0 and 'Handshake was completed' in out,
        'protocol': protocol.group(1).replace('TLS', 'TLSv') if protocol else None,
        'alpn': selected.group(1) if selected else None,
        'resumed': None,
        'text': out,
    }
    results = [result]
    if count > 1:
        results.append(dict(result, resumed='This is a resumed session' in out))
    return results


def client_curl(port, version=None, cert=None, key=None, alpn=None, count=1, http=True):
    argv = [CURL, '-sS', '--cacert', ca(), '-w', '\\n[curl: %{http_code}]\\n']
    if version == '1.2':
        argv += ['--tlsv1.2', '--tls-max', '1.2']
    elif version == '1.3':
        argv += ['--tlsv1.3']
    if cert:
        argv += ['--cert', cert, '--key', key]
    if alpn:
        argv += ['--http1.1']   # curl offers http/1.1 alone
    argv += [f'https://localhost:{port}/{i}' for i in range(count)]
    code, out = run_peer(argv, data=None, hold=0)
    results = []
    for i in range(count):
        protocol = re.findall(r'<tr><th>Protocol</th><td>(TLSv1\.\d)</td></tr>', out)
        results.append({
            'ok': code == 0 and out.count('[curl: 200]') == count,
            'protocol': protocol[i] if len(protocol) > i else None,
            'alpn': None,
            'resumed': None,
            'text': out,
        })
    return results


def client_python(port, version=None, cert=None, key=None, alpn=None, count=1, http=False):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(ca())
    if version == '1.2':
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    elif version == '1.3':
        context.minimum_version = ssl.TLSVersion.TLSv1_3
    if cert:
        context.load_cert_chain(cert, key)
    if alpn:
        context.set_alpn_protocols([alpn])
    results = []
    session = None
    for _ in range(count):
        result = {'ok': False, 'protocol': None, 'alpn': None, 'resumed': None, 'text': ''}
        try:
            raw = socket.create_connection(('127.0.0.1', port), timeout=20)
            with context.wrap_socket(raw, server_hostname='localhost', session=session) as tls:
                result['protocol'] = tls.version()
                result['alpn'] = tls.selected_alpn_protocol()
                result['resumed'] = tls.session_reused
                tls.sendall(b'ping\n')
                echo = tls.recv(100)
                session = tls.session
                tls.unwrap()
                result['ok'] = echo == b'ping\n'
        except (ssl.SSLError, OSError) as e:
            result['text'] = f'{type(e).__name__}: {e}'
        results.append(result)
    return results


def client_gio(port, version=None, cert=None, key=None, alpn=None, count=1, http=False):
    argv = [SYSTEM_PYTHON, os.path.join(HERE, 'gio_client.py'), str(port), ca(), '--count', str(count)]
    if cert:
        argv += ['--cert', cert, '--key', key]
    if alpn:
        argv += ['--alpn', alpn]
    code, out = run_peer(argv, data=None, hold=0)
    results = []
    for line in out.splitlines():
        if line.startswith('{'):
            r = json.loads(line)
            results.append({'ok': r['ok'], 'protocol': r.get('protocol'), 'alpn': r.get('alpn'),
                            'resumed': None, 'text': r.get('error') or out})
    if not results:
        results.append({'ok': False, 'protocol': None, 'alpn': None, 'resumed': None, 'text': out})
    return results


# name: (client function, what it needs, GIO sets no version, the server must)
CLIENTS = {
    'openssl s_client': (client_openssl, lambda: None),
    'gnutls-cli': (client_gnutls, lambda: None if GNUTLS_CLI else 'gnutls-cli is not installed (gnutls-bin)'),
    'curl': (client_curl, lambda: None if CURL else 'curl is not installed'),
    'Python ssl': (client_python, lambda: None),
    'GIO TLS (glib-networking)': (client_gio, gio_available),
}


def serve_row(peer, feature, version):
    """Returns (note, footnotes)."""
    client, _ = CLIENTS[peer]
    gio = peer.startswith('GIO')
    http = peer == 'curl'
    mode = ['--http'] if http else []
    limit = ['--min-version', version, '--max-version', version]
    chain = ['--cert', t.pki('server-chain.pem'), '--key', t.pki('server.key')]
    client_cert = dict(cert=t.pki('client-chain.pem'), key=t.pki('client.key'))
    # GIO cannot choose a version: the server does (for every peer, in fact).
    client_version = None if gio else version
    notes = [3] if gio else []

    def established(results, event):
        check(results[0]['ok'], results[0]['text'])
        check(event['protocol'] == f'TLSv{version}', f'server saw {event["protocol"]}')
        if results[0]['protocol'] is not None:
            check(results[0]['protocol'] == f'TLSv{version}', f'client saw {results[0]["protocol"]}')

    if feature == 'handshake':
        server = t.Serve(*chain, *mode, *limit)
        try:
            results = client(server.port, version=client_version, http=http)
            event = server.wait_event('connection')
        finally:
            server.stop()
        established(results, event)
        return f'{event["protocol"]} {event["cipher"]}', notes

    if feature == 'client cert':
        server = t.Serve(*chain, *mode, *limit, '--client-auth', 'require', '--ca', ca(), '--no-system-trust')
        try:
            results = client(server.port, version=client_version, http=http, **client_cert)
            event = server.wait_event('connection')
        finally:
            server.stop()
        established(results, event)
        check(event['client_certificate'] and event['client_certificate']['subject'] == 'CN=gsecsock test client',
              f'server saw {event["client_certificate"]}')
        return 'client certificate verified by the server', notes

    if feature == 'ALPN':
        server = t.Serve(*chain, *mode, *limit, '--alpn', f'{ALPN},http/1.1')
        expected = 'http/1.1' if peer == 'curl' else ALPN
        try:
            results = client(server.port, version=client_version, alpn=ALPN, http=http)
            event = server.wait_event('connection')
        finally:
            server.stop()
        established(results, event)
        check(event['alpn'] == expected, f'server agreed on {event["alpn"]}')
        if results[0]['alpn'] is not None:
            check(results[0]['alpn'] == expected, f'client agreed on {results[0]["alpn"]}')
        return f'agreed on {expected}', notes + ([4] if peer == 'curl' else [])

    if feature == 'resumption':
        server = t.Serve(*chain, *mode, *limit)
        try:
            results = client(server.port, version=client_version, count=2, http=http)
            second = server.wait_event('connection', 2)
        finally:
            server.stop()
        check(all(r['ok'] for r in results), '\n'.join(r['text'] for r in results))
        check(second['protocol'] == f'TLSv{version}', f'server saw {second["protocol"]}')
        check(second['session_reused'], 'the second connection was not resumed (server side)')
        if results[-1]['resumed'] is not None:
            check(results[-1]['resumed'], 'the client did not resume')
        return f'second connection resumed ({second["protocol"]})', notes

    if feature == 'bad server cert':
        # A chain from an authority the client does not trust.
        server = t.Serve('--cert', t.pki('untrusted-chain.pem'), '--key', t.pki('untrusted.key'), *mode, *limit)
        try:
            results = client(server.port, version=client_version, http=http)
            failed = server.wait_event('handshake-failed')
        finally:
            server.stop()
        check(not results[0]['ok'], 'the client accepted an untrusted certificate')
        message = failed['error']['message']
        if gio:
            check(re.search(r'unacceptable', results[0]['text'], re.I), results[0]['text'])
            check(re.search(r'reset|closed|EOF', message, re.I), f'server: {message}')
            return f'client refused (“{results[0]["text"]}”, no alert sent); server: {message}', notes + [2]
        check(re.search(r'unknown.?ca|bad.?certificate|certificate.?unknown', message, re.I),
              f'the server did not report the client\'s alert: {message}')
        return f'client refused; server: {message}', notes

    if feature == 'bad client cert':
        server = t.Serve(*chain, *mode, *limit, '--client-auth', 'require', '--ca', ca(), '--no-system-trust')
        try:
            results = client(server.port, version=client_version, http=http, cert=t.pki('client-other-chain.pem'),
                             key=t.pki('client-other.key'))
            failed = server.wait_event('handshake-failed')
        finally:
            server.stop()
        check(not results[0]['ok'], 'the handshake succeeded with an untrusted client certificate')
        check(failed['error']['name'] == 'certificate-rejected', f'server error: {failed["error"]}')
        check(failed['client_certificate']['subject'] == 'CN=gsecsock other client', 'wrong certificate')
        text = results[0]['text']
        check(re.search(r'unknown.?ca|alert|certificate', text, re.I), f'the client saw no alert: {text}')
        return 'server refused (certificate-rejected); client got the alert', notes

    raise AssertionError(f'no such feature {feature}')


# ---------------------------------------------------------------------------
# Servers for `gsecsock connect`

class GnutlsServ(t.Process):
    def __init__(self, *args):
        for _ in range(5):
            self.port = t.free_port()
            super().__init__([GNUTLS_SERV, '--echo', '-p', str(self.port), *args])
            try:
                self.wait_for(lambda l: 'listening' in l.lower() or 'error' in l.lower(), timeout=10)
            except AssertionError:
                self.stop()
                continue
            if 'listening' in self.output().lower():
                time.sleep(0.1)
                return
            self.stop()
        raise AssertionError(f'gnutls-serv did not start:\n{self.output()}')


class PythonServer:
    """A Python ssl echo server, for count connections."""

    def __init__(self, context, count=1):
        self.context = context
        self.listener = socket.socket()
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(5)
        self.listener.settimeout(20)
        self.port = self.listener.getsockname()[1]
        self.results = []
        self.count = count
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for _ in range(self.count):
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            result = {'ok': False}
            try:
                raw.settimeout(20)
                with self.context.wrap_socket(raw, server_side=True) as tls:
                    result.update(ok=True, protocol=tls.version(), alpn=tls.selected_alpn_protocol(),
                                  resumed=tls.session_reused, client_certificate=tls.getpeercert())
                    try:
                        data = tls.recv(100)
                        if data:
                            tls.sendall(data)
                            tls.recv(100)
                        tls.unwrap()
                    except (ssl.SSLError, OSError):
                        pass
            except (ssl.SSLError, OSError) as e:
                result['error'] = f'{type(e).__name__}: {e}'
            self.results.append(result)

    def output(self):
        return '\n'.join(json.dumps(r, default=str) for r in self.results)

    def stop(self):
        self.thread.join(20)
        self.listener.close()


def server_openssl(feature, cert='server', version=None, require_client=False, alpn=None, count=1):
    args = t.s_server_args(cert)
    if version:
        args.append('-tls1_2' if version == '1.2' else '-tls1_3')
    if require_client:
        args += ['-Verify', '1', '-CAfile', ca(), '-verify_return_error']
    if alpn:
        args += ['-alpn', alpn]
    return t.SServer(*args)


def server_gnutls(feature, cert='server', version=None, require_client=False, alpn=None, count=1):
    args = ['--x509certfile', t.pki(f'{cert}-chain.pem'), '--x509keyfile', t.pki(f'{cert}.key')]
    if version:
        args.append(f'--priority=NORMAL:-VERS-ALL:+VERS-TLS{version}')
    if require_client:
        args += ['--x509cafile', ca(), '--require-client-cert', '--verify-client-cert']
    if alpn:
        args.append(f'--alpn={alpn}')
    return GnutlsServ(*args)


def server_python(feature, cert='server', version=None, require_client=False, alpn=None, count=1):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(t.pki(f'{cert}-chain.pem'), t.pki(f'{cert}.key'))
    if version == '1.2':
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    elif version == '1.3':
        context.minimum_version = ssl.TLSVersion.TLSv1_3
    if require_client:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(ca())
    if alpn:
        context.set_alpn_protocols([alpn])
    return PythonServer(context, count)


SERVERS = {
    'openssl s_server': (server_openssl, lambda: None),
    'gnutls-serv': (server_gnutls, lambda: None if GNUTLS_SERV else 'gnutls-serv is not installed (gnutls-bin)'),
    'Python ssl': (server_python, lambda: None),
}


def connect(port, version, *args):
    r, doc = t.run_json('connect', '--ca', ca(), '--min-version', version, '--max-version', version,
                        *args, f'localhost:{port}')
    return r, doc


def connect_row(peer, feature, version):
    """Returns (note, footnotes)."""
    make_server, _ = SERVERS[peer]
    client_cert = ['--cert', t.pki('client-chain.pem'), '--key', t.pki('client.key')]

    def established(r, doc):
        check(r.returncode == 0, doc['verdict'])
        check(doc['protocol'] == f'TLSv{version}', f'negotiated {doc["protocol"]}')

    if feature == 'handshake':
        server = make_server(feature, version=version)
        try:
            r, doc = connect(server.port, version)
        finally:
            server.stop()
        established(r, doc)
        return f'{doc["protocol"]} {doc["cipher"]}', []

    if feature == 'client cert':
        server = make_server(feature, version=version, require_client=True)
        try:
            r, doc = connect(server.port, version, *client_cert)
        finally:
            server.stop()
        established(r, doc)
        check(doc['client_certificate_requested'], 'no certificate was asked for')
        check(doc['client_certificate_sent'] == 'CN=gsecsock test client', 'no certificate sent')
        return 'client certificate accepted by the server', []

    if feature == 'ALPN':
        server = make_server(feature, version=version, alpn=ALPN)
        try:
            r, doc = connect(server.port, version, '--alpn', f'{ALPN},http/1.1')
        finally:
            server.stop()
        established(r, doc)
        check(doc['alpn'] == ALPN, f'agreed on {doc["alpn"]}')
        return f'agreed on {ALPN}', []

    if feature == 'resumption':
        server = make_server(feature, version=version, count=2)
        try:
            r, doc = connect(server.port, version, '--resume')
        finally:
            server.stop()
        established(r, doc)
        check(doc['resumption'] and doc['resumption']['session_reused'], f'not resumed: {doc["resumption"]}')
        return f'resumed ({doc["resumption"]["protocol"]})', []

    if feature == 'bad server cert':
        server = make_server(feature, version=version, cert='untrusted')
        try:
            r, doc = connect(server.port, version)
            time.sleep(0.2)
        finally:
            server.stop()
        check(r.returncode == t.EXIT_VERIFICATION, f'exit {r.returncode}: {doc["verdict"]}')
        check('unknown-ca' in doc['certificate_errors'], f'errors: {doc["certificate_errors"]}')
        check(doc['alert_sent'] and 'unknown' in doc['alert_sent'].lower(), f'alert sent: {doc["alert_sent"]}')
        output = server.output()
        if peer == 'gnutls-serv' and version == '1.3':
            check('Decryption has failed' in output or 'alert' in output.lower(), f'server:\n{output}')
            return f'connect refused (exit 5, {doc["alert_sent"]}); gnutls-serv: "Decryption has failed"', [1]
        check(re.search(r'unknown.?ca|alert', output, re.I), f'the server did not see the alert:\n{output}')
        return f'connect refused (exit 5, {doc["alert_sent"]}); server saw the alert', []

    if feature == 'bad client cert':
        server = make_server(feature, version=version, require_client=True)
        try:
            r, doc = connect(server.port, version, '--cert', t.pki('client-other-chain.pem'),
                             '--key', t.pki('client-other.key'))
            time.sleep(0.2)
        finally:
            server.stop()
        check(r.returncode == t.EXIT_HANDSHAKE, f'exit {r.returncode}: {doc["verdict"]}')
        check(doc['alert_received'], 'no alert received')
        output = server.output()
        check(re.search(r'verif|unknown|certificate', output, re.I), f'the server did not say why:\n{output}')
        return f'server refused; connect: exit 4, alert “{doc["alert_received"]}”', []

    raise AssertionError(f'no such feature {feature}')


# ---------------------------------------------------------------------------

def rows():
    result = []
    for side, peers, function in (('serve', CLIENTS, serve_row), ('connect', SERVERS, connect_row)):
        for peer, (_, available) in peers.items():
            for version in VERSIONS:
                for feature in FEATURES:
                    result.append((side, peer, version, feature, available, function))
    return result


def run_row(row):
    side, peer, version, feature, available, function = row
    reason = available()
    if reason:
        return 'skip', reason, []
    start = time.monotonic()
    try:
        note, footnotes = function(peer, feature, version)
        return 'pass', f'{note} ({time.monotonic() - start:.1f} s)', footnotes
    except Exception:  # noqa: BLE001 — reported as the row's failure
        return 'FAIL', traceback.format_exc(), []


def main():
    selected = rows()
    if len(sys.argv) > 2 and sys.argv[1] == '-k':
        selected = [r for r in selected if sys.argv[2].lower() in f'{r[0]} {r[1]} TLS {r[2]} {r[3]}'.lower()]
    if not os.path.exists(t.TOOL):
        print(f'1..0 # SKIP {t.TOOL} not built')
        return 0

    start = time.monotonic()
    print(f'1..{len(selected)}', flush=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(run_row, selected))

    failed = 0
    cells = {}
    used_notes = set()
    for number, (row, (status, note, footnotes)) in enumerate(zip(selected, outcomes), 1):
        side, peer, version, feature = row[:4]
        name = f'gsecsock {side} {"<-" if side == "serve" else "->"} {peer}, TLS {version}: {feature}'
        marks = ''.join('¹²³⁴⁵'[n - 1] for n in footnotes)
        used_notes.update(footnotes)
        if status == 'pass':
            print(f'ok {number} - {name} # {note}')
        elif status == 'skip':
            print(f'ok {number} - {name} # SKIP {note}')
        else:
            failed += 1
            print(f'not ok {number} - {name}')
            for line in note.splitlines():
                print(f'# {line}')
        cells[(side, peer, version, feature)] = status + marks

    table = ['| gsecsock | peer | TLS | ' + ' | '.join(FEATURES) + ' |',
             '| --- | --- | --- | ' + ' | '.join('---' for _ in FEATURES) + ' |']
    for side, peers in (('serve', CLIENTS), ('connect', SERVERS)):
        for peer in peers:
            for version in VERSIONS:
                if not any((side, peer, version, f) in cells for f in FEATURES):
                    continue
                table.append(f'| {side} | {peer} | {version} | ' +
                             ' | '.join(cells.get((side, peer, version, f), '—') for f in FEATURES) + ' |')
    table.append('')
    for n in sorted(used_notes):
        table.append(f'{"¹²³⁴⁵"[n - 1]} {NOTES[n]}')
    print('#')
    print(f'# Interoperability matrix: {len(selected)} checks, {failed} failed '
          f'({time.monotonic() - start:.0f} s)')
    for line in table:
        print(f'# {line}')
    path = os.environ.get('GSECSOCK_INTEROP_TABLE')
    if path:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write('\n'.join(table) + '\n')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
