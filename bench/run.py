#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""gsecsock's benchmark suite: gsecsock and its peers (OpenSSL's own tools,
Python's ssl on the same libssl, GIO's TLS through glib-networking, a bare
OpenSSL C loop), measured in the same run on loopback, in alternating rounds,
reported as medians and as ratios gsecsock/peer.

    /usr/bin/python3 bench/run.py [--quick] [--build DIR]

It configures (if needed) and builds what it needs in DIR (default
_build-bench, `meson setup DIR -Dwerror=true`), runs every benchmark,
prints a Markdown table of the results and the goals of issue 7 with their
ratios, and writes bench/results/latest.json, latest.md and, when
matplotlib is there, latest.png. Every result carries the machine it ran
on. Not a test: it fails only when a program fails, never on a figure.

  1 bulk        1 GiB each way through one connection (64 MiB with --quick)
  2 server      server handshakes/s and CPU ms/handshake, s_time as client
  3 client      client handshakes/s against openssl s_server; Python handler
  4 memory      KiB per idle established connection, N = 1,000 and 10,000
  5 concurrency 1,000 clients at once: latency percentiles, threads created
  6 contexts    a new client configuration trusting the system's CAs, each

See bench/README.md for what each one measures exactly.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(SRC, 'bench')

AES128_TLS13 = 'TLS_AES_128_GCM_SHA256'
AES128_TLS12 = 'ECDHE-ECDSA-AES128-GCM-SHA256'
GNUTLS_PRIORITY = {
    'tls13': 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM',
    'tls12': 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:-KX-ALL:+ECDHE-ECDSA',
}
PROTOCOLS = {'tls13': 'TLS 1.3', 'tls12': 'TLS 1.2'}

PROGRAMS = ['gsecsock-bench-throughput', 'gsecsock-bench-server', 'gsecsock-bench-handshake-client',
            'gsecsock-bench-context-cost', 'gio-tls-throughput', 'gio-tls-server', 'openssl-idle', 'tls-clients']


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---- Build and machine -------------------------------------------------

def build(builddir):
    if not os.path.exists(os.path.join(builddir, 'build.ninja')):
        log(f'== meson setup {builddir} -Dwerror=true')
        subprocess.run(['meson', 'setup', builddir, '-Dwerror=true'], cwd=SRC, check=True,
                       stdout=subprocess.DEVNULL)
    targets = [f'bench/{p}' for p in PROGRAMS] + ['tests/pki.stamp']
    with open(os.path.join(builddir, 'build.ninja')) as f:
        if 'build gsecsock/GSecSock-1.0.typelib:' in f.read():
            targets.append('gsecsock/GSecSock-1.0.typelib')
    log(f'== ninja -C {builddir} (bench programs, test PKI, typelib)')
    subprocess.run(['ninja', '-C', builddir] + targets, check=True, stdout=subprocess.DEVNULL)


def output_of(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ''


def machine_info():
    cpu = ''
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    import ssl
    git = output_of('git', '-C', SRC, 'rev-parse', '--short', 'HEAD')
    if git and output_of('git', '-C', SRC, 'status', '--porcelain', '--', 'gsecsock'):
        git += ' (gsecsock/ modified)'
    return {
        'cpu_model': cpu,
        'cores': os.cpu_count(),
        'memory_gib': round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30, 1),
        'kernel': platform.release(),
        'openssl': output_of('openssl', 'version'),
        'python': platform.python_version(),
        'python_ssl': ssl.OPENSSL_VERSION,
        'glib': output_of('pkg-config', '--modversion', 'glib-2.0'),
        'glib_networking': output_of('dpkg-query', '-W', '-f=${Version}', 'glib-networking'),
        'gnutls': output_of('dpkg-query', '-W', '-f=${Version}', 'libgnutls30'),
        'gsecsock_commit': git,
        'load_average_at_start': list(os.getloadavg()),
    }


# ---- Processes ---------------------------------------------------------

def run_json(cmd, env=None, timeout=600):
    """Runs a program that prints one JSON object as its last line, and
    returns that object (plus 'wall_s')."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise RuntimeError(f'{" ".join(cmd)} timed out after {timeout} s')
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} failed ({proc.returncode}): {err.strip()[-2000:]}')
    lines = [line for line in out.splitlines() if line.startswith('{')]
    result = json.loads(lines[-1])
    result['wall_s'] = time.monotonic() - start
    return result


def timed_run(cmd, env=None, cwd=None, timeout=600):
    """Runs a command; returns (stdout, wall seconds, child CPU seconds, exit code)."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.DEVNULL, env=env, cwd=cwd)
        cpu, _ = wait_rusage([proc], timeout)
        wall = time.monotonic() - start
        out.seek(0)
        text = out.read().decode(errors='replace')
    return text, wall, cpu, proc.returncode


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_listening(port, timeout=10):
    """Until something listens on 127.0.0.1:PORT (/proc/net/tcp)."""
    needle = f'0100007F:{port:04X} 00000000:0000 0A'
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open('/proc/net/tcp') as f:
            if needle in f.read():
                return
        time.sleep(0.01)
    raise RuntimeError(f'nothing listens on port {port}')


def proc_cpu(pid):
    """User + system CPU seconds of a running process (/proc/PID/stat)."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def proc_threads(pid):
    try:
        return len(os.listdir(f'/proc/{pid}/task'))
    except OSError:
        return 0


class Server:
    """A benchmark server speaking the stdin/stdout protocol of
    gsecsock-bench-server: a JSON line when ready, then one JSON line per
    command (stats, close, quit)."""

    def __init__(self, cmd, env=None):
        self.cmd = cmd
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, env=env)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f'{" ".join(cmd)} did not start: {self.errors()}')
        self.ready = json.loads(line)
        self.port = self.ready['port']

    def errors(self):
        self.err.seek(0)
        return self.err.read().decode(errors='replace')[-2000:]

    def command(self, what='stats'):
        self.proc.stdin.write(what + '\n')
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f'{self.cmd[0]} died: {self.errors()}')
        return json.loads(line)

    def wait_for(self, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            stats = self.command()
            if predicate(stats) or time.monotonic() > deadline:
                return stats
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('quit\n')
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.err.close()


class Holder:
    """tls-clients --hold: opens N connections and holds them."""

    def __init__(self, builddir, port, n, concurrency, timeout=300):
        self.proc = subprocess.Popen(
            [prog(builddir, 'tls-clients'), '--port', str(port), '--connections', str(n),
             '--concurrency', str(concurrency), '--hold', '--timeout', str(timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def result(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError('tls-clients failed')
        return json.loads(line)

    def release(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def prog(builddir, name):
    return os.path.join(builddir, 'bench', name)


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def rotate(items, r):
    r %= len(items)
    return items[r:] + items[:r]


# ---- 1. Bulk throughput ------------------------------------------------

def wait_rusage(procs, timeout):
    """Waits for processes (killing them after @timeout seconds); returns
    the sum of their CPU seconds (wait4) and whether all exited 0."""
    timers = [threading.Timer(timeout, p.kill) for p in procs]
    for t in timers:
        t.start()
    cpu, ok = 0.0, True
    try:
        for p in procs:
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            ok = ok and p.returncode == 0
            cpu += usage.ru_utime + usage.ru_stime
    finally:
        for t in timers:
            t.cancel()
    return cpu, ok


def openssl_bulk(pki, size, proto, direction, datadir):
    """One direction through OpenSSL's own tools, one connection each:
    up, `head -c SIZE /dev/zero | s_client` to `s_server` (its output to
    /dev/null); down, `s_server -WWW` sending a SIZE-byte file to
    `s_client` (output to /dev/null). Returns (wall seconds, CPU seconds
    of s_client and s_server)."""
    port = free_port()
    suite = ['-tls1_3', '-ciphersuites', AES128_TLS13] if proto == 'tls13' else \
        ['-tls1_2', '-cipher', AES128_TLS12]
    server_cmd = ['openssl', 's_server', '-accept', f'127.0.0.1:{port}', '-naccept', '1', '-quiet',
                  '-cert', f'{pki}/server.pem', '-key', f'{pki}/server.key',
                  '-cert_chain', f'{pki}/intermediate.pem',
                  '-ciphersuites', AES128_TLS13, '-cipher', AES128_TLS12]
    client_cmd = ['openssl', 's_client', '-connect', f'127.0.0.1:{port}',
                  '-CAfile', f'{pki}/ca.pem', '-quiet'] + suite
    feed = None
    # Standard inputs are pipes kept open: their end would end the connection.
    if direction == 'up':
        server = subprocess.Popen(server_cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    else:
        server = subprocess.Popen(server_cmd + ['-WWW'], cwd=datadir, stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port)
    start = time.monotonic()
    if direction == 'up':
        feed = subprocess.Popen(['head', '-c', str(size), '/dev/zero'], stdout=subprocess.PIPE)
        client = subprocess.Popen(client_cmd + ['-no_ign_eof'], stdin=feed.stdout,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        feed.stdout.close()
    else:
        client = subprocess.Popen(client_cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        client.stdin.write(b'GET /bulk.bin HTTP/1.0\r\n\r\n')
        client.stdin.flush()
    cpu, ok = wait_rusage([client, server], timeout=max(60, size / 2**20))
    wall = time.monotonic() - start
    for p in (client, server):
        if p.stdin:
            p.stdin.close()
    if feed:
        feed.kill()
        feed.wait()
    if not ok:
        raise RuntimeError(f'openssl s_client/s_server {direction} failed or timed out '
                           f'(exit {client.returncode}, {server.returncode})')
    return wall, cpu


def bench_bulk(ctx):
    size_mib = ctx.bulk_mib
    size = size_mib << 20
    pki, b = ctx.pki, ctx.builddir
    impls = ['gsecsock-sync', 'gsecsock-async', 'python-ssl', 'openssl-tools']
    if ctx.gio_ok:
        impls.append('gio-sync')
    runs = {(i, p): [] for i in impls for p in PROTOCOLS}

    def one(impl, proto):
        tls12 = ['--tls12'] if proto == 'tls12' else []
        if impl.startswith('gsecsock'):
            return run_json([prog(b, 'gsecsock-bench-throughput'), '--pki', pki, '--size', str(size_mib),
                             '--api', impl.split('-')[1], '--json'] + tls12)
        if impl == 'python-ssl':
            return run_json([sys.executable, os.path.join(BENCH, 'python-ssl-throughput.py'),
                             '--pki', pki, '--size', str(size_mib), '--json'] + tls12)
        if impl == 'gio-sync':
            env = dict(ctx.gio_env, G_TLS_GNUTLS_PRIORITY=GNUTLS_PRIORITY[proto])
            return run_json([prog(b, 'gio-tls-throughput'), '--pki', pki, '--size', str(size_mib),
                             '--json'], env=env)
        up_wall, up_cpu = openssl_bulk(pki, size, proto, 'up', datadir)
        down_wall, down_cpu = openssl_bulk(pki, size, proto, 'down', datadir)
        seconds = up_wall + down_wall
        return {'impl': impl, 'seconds': seconds, 'mib_s': 2 * size_mib / seconds,
                'cpu_s_per_gib': (up_cpu + down_cpu) / (2 * size_mib / 1024),
                'note': 'one connection per direction; stdin/stdout pipes'}

    # s_server -WWW sends this (sparse) file for the download direction.
    datadir = tempfile.mkdtemp(prefix='gsecsock-bench-bulk-')
    with open(os.path.join(datadir, 'bulk.bin'), 'wb') as f:
        f.truncate(size)
    configs = [(i, p) for p in PROTOCOLS for i in impls]
    try:
        rounds = [(r, impl, proto) for r in range(ctx.rounds) for impl, proto in rotate(configs, r)]
        for r, impl, proto in rounds:
            res = one(impl, proto)
            runs[(impl, proto)].append(res)
            log(f'   bulk {PROTOCOLS[proto]} {impl:15} round {r + 1}: {res["mib_s"]:7.1f} MiB/s '
                f'{res["cpu_s_per_gib"]:.2f} CPU s/GiB')
    finally:
        shutil.rmtree(datadir, ignore_errors=True)
    out = {'size_mib_each_way': size_mib, 'rounds': ctx.rounds, 'results': []}
    for (impl, proto), rs in runs.items():
        out['results'].append({
            'impl': impl, 'protocol': proto,
            'cipher': rs[0].get('cipher', AES128_TLS13 if proto == 'tls13' else AES128_TLS12),
            'mib_s': med(r['mib_s'] for r in rs),
            'cpu_s_per_gib': med(r['cpu_s_per_gib'] for r in rs),
            'rounds': [round(r['mib_s'], 1) for r in rs],
        })
    if not ctx.gio_ok:
        out['skipped'] = {'gio-sync': ctx.gio_reason}
    return out


# ---- 2 and 3. Handshakes -----------------------------------------------

SERVER_MODES = {
    'tls13-full': ['-new', '-tls1_3', '-ciphersuites', AES128_TLS13],
    'tls13-resumed': ['-reuse', '-tls1_3', '-ciphersuites', AES128_TLS13],
    'tls12-resumed': ['-reuse', '-tls1_2', '-cipher', AES128_TLS12],
}


def s_time(port, mode, seconds, www=True, verify_ca=None):
    cmd = ['openssl', 's_time', '-connect', f'127.0.0.1:{port}', '-time', str(seconds)]
    cmd += SERVER_MODES[mode]
    if www:
        cmd += ['-www', '/hello.txt']
    if verify_ca:
        cmd += ['-verify', '3', '-CAfile', verify_ca]
    out, wall, cpu, rc = timed_run(cmd)
    counts = re.findall(r'(\d+) connections in [\d.]+s;', out)
    if rc != 0 or not counts:
        raise RuntimeError(f's_time failed ({rc}): {out[-500:]}')
    n = int(counts[-1]) + (1 if '-reuse' in cmd else 0)    # -reuse: its first connection
    tail = out.rsplit('Now timing with session id reuse', 1)[-1]
    marks = re.findall(r'[*rt.]', ''.join(l for l in tail.splitlines() if re.fullmatch(r'[*rt.23]+', l)))
    return {'connections': n, 'seconds': wall, 'handshakes_per_s': n / wall,
            'resumed': sum(1 for m in marks if m == 'r'), 'client_cpu_s': cpu}


def start_openssl_server(pki, wwwdir):
    port = free_port()
    proc = subprocess.Popen(
        ['openssl', 's_server', '-accept', f'127.0.0.1:{port}', '-WWW', '-quiet',
         '-cert', f'{pki}/server.pem', '-key', f'{pki}/server.key',
         '-cert_chain', f'{pki}/intermediate.pem',
         '-ciphersuites', AES128_TLS13, '-cipher', AES128_TLS12],
        cwd=wwwdir, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port)
    return proc, port


def bench_handshakes(ctx):
    pki, b = ctx.pki, ctx.builddir
    wwwdir = tempfile.mkdtemp(prefix='gsecsock-bench-www-')
    with open(os.path.join(wwwdir, 'hello.txt'), 'w') as f:
        f.write('Hello from the gsecsock benchmark.\n')
    gs = Server([prog(b, 'gsecsock-bench-server'), '--pki', pki, '--www',
                 os.path.join(wwwdir, 'hello.txt')])
    ossl, ossl_port = start_openssl_server(pki, wwwdir)
    servers = {'gsecsock': (gs.proc.pid, gs.port), 'openssl-s_server': (ossl.pid, ossl_port)}
    try:
        # 2. Server side: s_time against both servers.
        for port in (gs.port, ossl_port):                # warm-up
            s_time(port, 'tls13-full', 1)
        runs = {(s, m): [] for s in servers for m in SERVER_MODES}
        configs = [(s, m) for m in SERVER_MODES for s in servers]
        for r in range(ctx.hs_rounds):
            for name, mode in rotate(configs, r):
                pid, port = servers[name]
                cpu0 = proc_cpu(pid)
                res = s_time(port, mode, ctx.hs_seconds)
                res['server_cpu_ms_per_handshake'] = (proc_cpu(pid) - cpu0) * 1000 / res['connections']
                runs[(name, mode)].append(res)
                log(f'   server {mode:13} {name:16} round {r + 1}: {res["handshakes_per_s"]:7.1f}/s '
                    f'{res["server_cpu_ms_per_handshake"]:.3f} server CPU ms '
                    f'({res["resumed"]} of {res["connections"]} resumed)')
        server_side = {'client': 'openssl s_time -www /hello.txt', 'seconds_per_run': ctx.hs_seconds,
                       'rounds': ctx.hs_rounds, 'results': []}
        for (name, mode), rs in runs.items():
            server_side['results'].append({
                'server': name, 'mode': mode,
                'handshakes_per_s': med(r['handshakes_per_s'] for r in rs),
                'server_cpu_ms_per_handshake': med(r['server_cpu_ms_per_handshake'] for r in rs),
                'resumed_fraction': med(r['resumed'] / r['connections'] for r in rs),
                'rounds': [round(r['handshakes_per_s'], 1) for r in rs],
            })

        # 3. Client side: three clients against openssl s_server.
        ca = f'{pki}/ca.pem'
        client_modes = {'tls13-full': ([], None), 'tls13-resumed': ([], '/hello.txt'),
                        'tls12-resumed': (['--tls12'], '/hello.txt')}
        clients = ['gsecsock', 'python-ssl', 'openssl-s_time']

        def client_run(client, mode):
            extra, www = client_modes[mode]
            if client == 'openssl-s_time':
                res = s_time(ossl_port, mode, ctx.hs_seconds, www=www is not None,
                             verify_ca=ca)
                res['client_cpu_ms_per_handshake'] = res['client_cpu_s'] * 1000 / res['connections']
                return res
            www_args = ['--www', www] if www else []
            if client == 'gsecsock':
                cmd = [prog(b, 'gsecsock-bench-handshake-client')]
            else:
                cmd = [sys.executable, os.path.join(BENCH, 'python-ssl-handshake.py')]
            return run_json(cmd + ['--pki', pki, '--port', str(ossl_port),
                                   '--time', str(ctx.hs_seconds)] + extra + www_args)

        runs = {(c, m): [] for c in clients for m in client_modes}
        configs = [(c, m) for m in client_modes for c in clients]
        for r in range(ctx.hs_rounds):
            for client, mode in rotate(configs, r):
                res = client_run(client, mode)
                runs[(client, mode)].append(res)
                log(f'   client {mode:13} {client:16} round {r + 1}: {res["handshakes_per_s"]:7.1f}/s '
                    f'{res["client_cpu_ms_per_handshake"]:.3f} client CPU ms '
                    f'({res["resumed"]} of {res["connections"]} resumed)')
        client_side = {'server': 'openssl s_server -WWW', 'verification': 'chain (all); host name '
                       '(gsecsock, Python; s_time has none)', 'rounds': ctx.hs_rounds, 'results': []}
        for (client, mode), rs in runs.items():
            client_side['results'].append({
                'client': client, 'mode': mode,
                'handshakes_per_s': med(r['handshakes_per_s'] for r in rs),
                'client_cpu_ms_per_handshake': med(r['client_cpu_ms_per_handshake'] for r in rs),
                'resumed_fraction': med(r['resumed'] / max(r['connections'], 1) for r in rs),
                'rounds': [round(r['handshakes_per_s'], 1) for r in rs],
            })
    finally:
        gs.stop()
        ossl.stdin.close()
        ossl.terminate()
        ossl.wait()
        shutil.rmtree(wwwdir, ignore_errors=True)

    # The Python verify-certificate handler.
    handler = None
    typelib = os.path.join(b, 'gsecsock', 'GSecSock-1.0.typelib')
    if os.path.exists(typelib):
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(b, 'gsecsock'),
                   GI_TYPELIB_PATH=os.path.join(b, 'gsecsock'),
                   PYTHONPATH=os.path.join(SRC, 'introspection', 'python'))
        handler = run_json([sys.executable, os.path.join(BENCH, 'python-verify-handler.py'),
                            '--pki', pki, '--json', '--count', str(ctx.handler_count),
                            '--rounds', str(ctx.handler_rounds)], env=env)
        handler.pop('wall_s', None)
        log(f'   Python verify handler: {handler["no_handler_per_s"]}/s without, '
            f'{handler["handler_per_s"]}/s with ({handler["cost_ms_per_handshake"]:+.3f} ms)')
    else:
        handler = {'skipped': 'no typelib (introspection disabled)'}
    return server_side, client_side, handler


# ---- 4. Memory ---------------------------------------------------------

def server_cmd(ctx, kind):
    b, pki = ctx.builddir, ctx.pki
    if kind == 'gsecsock':
        return [prog(b, 'gsecsock-bench-server'), '--pki', pki, '--hold'], None
    if kind == 'gsecsock-unlimited':
        return [prog(b, 'gsecsock-bench-server'), '--pki', pki, '--hold',
                '--max-handshakes', '0'], None
    if kind == 'gio':
        return [prog(b, 'gio-tls-server'), '--pki', pki], \
            dict(ctx.gio_env, G_TLS_GNUTLS_PRIORITY=GNUTLS_PRIORITY['tls13'])
    if kind == 'openssl':
        return [prog(b, 'openssl-idle'), '--pki', pki], None
    if kind == 'openssl-release-buffers':
        return [prog(b, 'openssl-idle'), '--pki', pki, '--release-buffers'], None
    if kind == 'gsecsock-backlog-1024':
        # Its own listener (backlog 1024) feeding add_connection(); no
        # handshake limit: what the library does once the kernel's accept
        # queue no longer drops SYNs.
        return [prog(b, 'gsecsock-bench-server'), '--pki', pki, '--hold', '--backlog', '1024',
                '--max-handshakes', '0'], None
    if kind == 'openssl-backlog-1024':
        return [prog(b, 'openssl-idle'), '--pki', pki, '--backlog', '1024'], None
    raise ValueError(kind)


def memory_run(ctx, kind, n):
    cmd, env = server_cmd(ctx, kind)
    server = Server(cmd, env)
    try:
        ready_threads = server.command()['threads']
        # Warm-up: whatever a first connection allocates once for good.
        warm = Holder(ctx.builddir, server.port, 20, 20)
        warm.result()
        server.wait_for(lambda s: s['held'] >= 20, 30)
        warm.release()
        server.wait_for(lambda s: s['held'] == 0, 30)
        base = server.command()
        holder = Holder(ctx.builddir, server.port, n, ctx.memory_concurrency)
        clients = holder.result()
        after = server.wait_for(lambda s: s['held'] >= clients['established']
                                and s['handshaking'] == 0, 60)
        holder.release()
        server.wait_for(lambda s: s['held'] == 0, 60)
    finally:
        server.stop()
    held = after['held']
    return {
        'server': kind, 'connections': n, 'held': held, 'failed': clients['failed'],
        'rss_kib_per_connection': (after['rss_kib'] - base['rss_kib']) / max(held, 1),
        'heap_kib_per_connection': (after['heap_bytes'] - base['heap_bytes']) / 1024 / max(held, 1),
        'threads': {'ready': ready_threads, 'before': base['threads'], 'after': after['threads']},
        'server_cpu_ms_per_handshake': (after['cpu_s'] - base['cpu_s']) * 1000 / max(held, 1),
        'seconds': clients['seconds'],
    }


def bench_memory(ctx):
    out = {'concurrency_while_opening': ctx.memory_concurrency, 'results': [], 'skipped': {}}
    kinds = ['gsecsock', 'openssl', 'openssl-release-buffers'] + (['gio'] if ctx.gio_ok else [])
    if not ctx.gio_ok:
        out['skipped']['gio'] = ctx.gio_reason
    for n in ctx.memory_ns:
        for kind in kinds:
            run_n = n
            if kind == 'gio' and n > ctx.gio_memory_max:
                out['skipped'][f'gio N={n:,}'] = (
                    f'GIO (glib-networking) keeps ~4 MiB per server connection here and handshakes '
                    f'at ~50-100/s: {n:,} connections would take ~{n * 4 // 1024} GiB and minutes; '
                    f'measured at N={ctx.gio_memory_max:,}')
                if n != min(ctx.memory_ns):
                    continue
                run_n = ctx.gio_memory_max
            if kind == 'openssl-release-buffers' and n > min(ctx.memory_ns):
                continue
            res = memory_run(ctx, kind, run_n)
            out['results'].append(res)
            log(f'   memory {kind:24} N={run_n:6}: {res["rss_kib_per_connection"]:6.1f} KiB RSS, '
                f'{res["heap_kib_per_connection"]:6.1f} KiB heap per connection, threads '
                f'{res["threads"]["before"]}->{res["threads"]["after"]}, {res["seconds"]:.1f} s')
    return out


# ---- 5. Concurrency ----------------------------------------------------

def concurrency_run(ctx, kind, n):
    cmd, env = server_cmd(ctx, kind)
    server = Server(cmd, env)
    try:
        ready_threads = server.command()['threads']
        warm = Holder(ctx.builddir, server.port, 8, 8)
        warm.result()
        server.wait_for(lambda s: s['held'] >= 8, 30)
        warm.release()
        before = server.wait_for(lambda s: s['held'] == 0, 30)
        max_threads = [before['threads']]
        done = threading.Event()

        def watch():
            while not done.is_set():
                max_threads[0] = max(max_threads[0], proc_threads(server.proc.pid))
                time.sleep(0.01)
        watcher = threading.Thread(target=watch)
        watcher.start()
        holder = Holder(ctx.builddir, server.port, n, n, timeout=120)
        clients = holder.result()
        after = server.wait_for(lambda s: s['held'] >= clients['established']
                                and s['handshaking'] == 0, 30)
        done.set()
        watcher.join()
        holder.release()
        server.wait_for(lambda s: s['held'] == 0, 60)
    finally:
        server.stop()
    return {
        'server': kind, 'clients': n, 'established': clients['established'],
        'failed': clients['failed'], 'first_error': clients['first_error'],
        'seconds': clients['seconds'], 'latency_ms': clients['latency_ms'],
        'threads_ready': ready_threads, 'threads_before': before['threads'],
        'threads_after': after['threads'], 'threads_max_during': max_threads[0],
        'server_cpu_ms_per_handshake': (after['cpu_s'] - before['cpu_s']) * 1000 / max(clients['established'], 1),
    }


def bench_concurrency(ctx):
    n = 1000
    kinds = ['gsecsock', 'gsecsock-unlimited', 'openssl', 'gsecsock-backlog-1024', 'openssl-backlog-1024']
    runs = {k: [] for k in kinds}
    for r in range(ctx.conc_rounds):
        for kind in rotate(kinds, r):
            res = concurrency_run(ctx, kind, n)
            runs[kind].append(res)
            lat = res['latency_ms']
            log(f'   concurrency {kind:20} round {r + 1}: p50 {lat["p50"]:.0f} ms, p99 {lat["p99"]:.0f} ms, '
                f'max {lat["max"]:.0f} ms, {res["failed"]} failed, threads '
                f'{res["threads_before"]}->{res["threads_after"]} (max {res["threads_max_during"]})')
    out = {'clients': n, 'rounds': ctx.conc_rounds, 'results': []}
    for kind, rs in runs.items():
        out['results'].append({
            'server': kind,
            'p50_ms': med(r['latency_ms']['p50'] for r in rs),
            'p99_ms': med(r['latency_ms']['p99'] for r in rs),
            'max_ms': med(r['latency_ms']['max'] for r in rs),
            'seconds': med(r['seconds'] for r in rs),
            'failed': max(r['failed'] for r in rs),
            'server_cpu_ms_per_handshake': med(r['server_cpu_ms_per_handshake'] for r in rs),
            'threads_ready': max(r['threads_ready'] for r in rs),
            'threads_before': max(r['threads_before'] for r in rs),
            'threads_after': max(r['threads_after'] for r in rs),
            'threads_max_during': max(r['threads_max_during'] for r in rs),
            'threads_per_handshake': max(r['threads_max_during'] - r['threads_before'] for r in rs) / n,
        })
    if ctx.gio_ok:
        # GIO's handshakes are ~10x slower and run in a thread pool: 1,000
        # at once take minutes and reset; 100 at once show the threads.
        rs = [concurrency_run(ctx, 'gio', 100)]
        res = rs[0]
        out['results'].append({
            'server': 'gio (100 clients)',
            'p50_ms': res['latency_ms']['p50'], 'p99_ms': res['latency_ms']['p99'],
            'max_ms': res['latency_ms']['max'], 'seconds': res['seconds'], 'failed': res['failed'],
            'server_cpu_ms_per_handshake': res['server_cpu_ms_per_handshake'],
            'threads_ready': res['threads_ready'],
            'threads_before': res['threads_before'], 'threads_after': res['threads_after'],
            'threads_max_during': res['threads_max_during'],
            'threads_per_handshake': (res['threads_max_during'] - res['threads_before']) / 100,
        })
        log(f'   concurrency gio (100 clients): p50 {res["latency_ms"]["p50"]:.0f} ms, threads '
            f'{res["threads_before"]}->{res["threads_after"]} (max {res["threads_max_during"]})')
    return out


# ---- Report ------------------------------------------------------------

# ---- 6. Contexts ------------------------------------------------------

PYTHON_CONTEXT_COST = '''
import json, ssl, sys, time
n = int(sys.argv[1])
wall, cpu = time.monotonic(), time.process_time()
for _ in range(n):
    ctx = ssl.create_default_context()
    ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname='example.org')
print(json.dumps({'peer': 'python-ssl', 'count': n,
                  'wall_ms_each': (time.monotonic() - wall) * 1000 / n,
                  'cpu_ms_each': (time.process_time() - cpu) * 1000 / n}))
'''


def bench_contexts(ctx):
    """What an application pays for a new client configuration that trusts
    the system's CAs (a context per connection), each run a fresh process."""
    n = ctx.context_count
    peers = {
        'gsecsock': ([prog(ctx.builddir, 'gsecsock-bench-context-cost'), '--count', str(n), '--json'], None),
        'python-ssl': ([sys.executable, '-c', PYTHON_CONTEXT_COST, str(n)], None),
    }
    if ctx.gio_ok:
        peers['gio'] = ([prog(ctx.builddir, 'gsecsock-bench-context-cost'), '--count', str(n),
                         '--peer', 'gio', '--json'], ctx.gio_env)
    runs = {p: [] for p in peers}
    for r in range(ctx.rounds):
        for peer in rotate(list(peers), r):
            cmd, env = peers[peer]
            res = run_json(cmd, env=env)
            runs[peer].append(res)
            log(f'   contexts {peer:12} round {r + 1}: {res["wall_ms_each"]:8.3f} ms, '
                f'{res["cpu_ms_each"]:8.3f} ms CPU each')
    return {'count': n, 'rounds': ctx.rounds, 'results': [
        {'peer': p, 'cpu_ms_each': med(x['cpu_ms_each'] for x in rs),
         'wall_ms_each': med(x['wall_ms_each'] for x in rs)} for p, rs in runs.items()]}


def ratio(a, b):
    """The ratio of two results: the median of the ratios of their rounds
    (measured side by side, so a load that comes and goes hits both), or of
    two plain numbers."""
    if isinstance(a, dict) and isinstance(b, dict):
        pairs = [x / y for x, y in zip(a.get('rounds', []), b.get('rounds', [])) if x and y]
        return statistics.median(pairs) if pairs else None
    return a / b if a and b else None


def fmt(v, digits=1):
    if v is None:
        return '–'
    return f'{v:,.{digits}f}'


def fmt_ratio(v):
    return '–' if v is None else f'{v:.2f}×'


def find(results, **keys):
    for r in results:
        if all(r.get(k) == v for k, v in keys.items()):
            return r
    return {}


def markdown(res):
    m = res['machine']
    lines = [f'# gsecsock benchmarks — {res["date"]}{" (quick)" if res["quick"] else ""}', '',
             f'Machine: {m["cpu_model"]}, {m["cores"]} cores, {m["memory_gib"]} GiB; kernel '
             f'{m["kernel"]}; {m["openssl"]}; GLib {m["glib"]}, glib-networking '
             f'{m["glib_networking"]}, GnuTLS {m["gnutls"]}; Python {m["python"]}; gsecsock '
             f'{m["gsecsock_commit"]}. Load average at start {m["load_average_at_start"][0]:.2f}, '
             f'at end {m.get("load_average_at_end", [0])[0]:.2f} (a shared machine: ratios from '
             f'one run matter, single figures vary).', '',
             f'Total time: {res["seconds"]:.0f} s.', '']

    if 'bulk' in res:
        bulk = res['bulk']
        lines += [f'## 1. Bulk throughput ({bulk["size_mib_each_way"]} MiB each way, one connection, '
                  f'median of {bulk["rounds"]} rounds)', '',
                  '| protocol | implementation | MiB/s | CPU s/GiB | gsecsock sync / this |',
                  '|---|---|---:|---:|---:|']
        for proto in PROTOCOLS:
            ref = find(bulk['results'], impl='gsecsock-sync', protocol=proto)
            for r in bulk['results']:
                if r['protocol'] == proto:
                    lines.append(f'| {PROTOCOLS[proto]} | {r["impl"]} | {fmt(r["mib_s"])} | '
                                 f'{fmt(r["cpu_s_per_gib"], 2)} | {fmt_ratio(ratio(ref, r))} |')
        for k, v in bulk.get('skipped', {}).items():
            lines.append(f'\nSkipped {k}: {v}')
        lines.append('')

    if 'server_handshakes' in res:
        sh = res['server_handshakes']
        lines += [f'## 2. Server handshakes (`{sh["client"]}`, {sh["seconds_per_run"]} s runs, '
                  f'median of {sh["rounds"]} rounds)', '',
                  '| mode | server | handshakes/s | server CPU ms/handshake | resumed | gsecsock / s_server |',
                  '|---|---|---:|---:|---:|---:|']
        for mode in SERVER_MODES:
            ref = find(sh['results'], server='openssl-s_server', mode=mode)
            for r in sh['results']:
                if r['mode'] == mode:
                    rr = ratio(r, ref) if r['server'] == 'gsecsock' else None
                    lines.append(f'| {mode} | {r["server"]} | {fmt(r["handshakes_per_s"])} | '
                                 f'{fmt(r["server_cpu_ms_per_handshake"], 3)} | '
                                 f'{r["resumed_fraction"] * 100:.0f} % | {fmt_ratio(rr)} |')
        lines.append('')

    if 'client_handshakes' in res:
        ch = res['client_handshakes']
        lines += [f'## 3. Client handshakes (against `{ch["server"]}`, median of {ch["rounds"]} rounds)',
                  '', '| mode | client | handshakes/s | client CPU ms/handshake | resumed | gsecsock / this |',
                  '|---|---|---:|---:|---:|---:|']
        for mode in SERVER_MODES:
            ref = find(ch['results'], client='gsecsock', mode=mode)
            for r in ch['results']:
                if r['mode'] == mode:
                    lines.append(f'| {mode} | {r["client"]} | {fmt(r["handshakes_per_s"])} | '
                                 f'{fmt(r["client_cpu_ms_per_handshake"], 3)} | '
                                 f'{r["resumed_fraction"] * 100:.0f} % | '
                                 f'{fmt_ratio(ratio(ref, r))} |')
        h = res.get('python_handler', {})
        if 'ratio' in h:
            lines += ['', f'Python `verify-certificate` handler (emitted 3× per handshake; gsecsock '
                      f'client and server in one process, median of {h["rounds"]} rounds of '
                      f'{h["count"]}): {fmt(h["no_handler_per_s"])} handshakes/s without, '
                      f'{fmt(h["handler_per_s"])} with: ratio {h["ratio"]:.3f}, '
                      f'{h["cost_ms_per_handshake"]:+.3f} ms per handshake.']
        lines.append('')

    if 'memory' in res:
        mem = res['memory']
        lines += [f'## 4. Memory per idle established connection (clients in another process, '
                  f'{mem["concurrency_while_opening"]} handshaking at a time)', '',
                  '| server | N | RSS KiB/conn | heap KiB/conn | threads: ready, after warm-up, with N | '
                  'server CPU ms/handshake |', '|---|---:|---:|---:|---|---:|']
        for r in mem['results']:
            t = r['threads']
            lines.append(f'| {r["server"]} | {r["connections"]:,} | {fmt(r["rss_kib_per_connection"])} | '
                         f'{fmt(r["heap_kib_per_connection"])} | {t["ready"]}, {t["before"]}, {t["after"]} | '
                         f'{fmt(r["server_cpu_ms_per_handshake"], 3)} |')
        for k, v in mem.get('skipped', {}).items():
            lines.append(f'\nSkipped {k}: {v}')
        lines.append('')

    if 'concurrency' in res:
        cc = res['concurrency']
        lines += [f'## 5. Concurrency ({cc["clients"]} clients connecting at once, one server thread, '
                  f'median of {cc["rounds"]} rounds)', '',
                  '| server | p50 ms | p99 ms | max ms | all done s | failed | threads: ready, after '
                  'warm-up, max during, after | server CPU ms/handshake |',
                  '|---|---:|---:|---:|---:|---:|---|---:|']
        for r in cc['results']:
            lines.append(f'| {r["server"]} | {fmt(r["p50_ms"], 0)} | {fmt(r["p99_ms"], 0)} | '
                         f'{fmt(r["max_ms"], 0)} | {fmt(r["seconds"], 2)} | {r["failed"]} | '
                         f'{r["threads_ready"]}, {r["threads_before"]}, {r["threads_max_during"]}, '
                         f'{r["threads_after"]} | '
                         f'{fmt(r["server_cpu_ms_per_handshake"], 3)} |')
        lines.append('')

    if 'contexts' in res:
        cx = res['contexts']
        ref = find(cx['results'], peer='gsecsock')
        lines += [f'## 6. A new client configuration trusting the system\'s CAs ({cx["count"]} per '
                  f'process, first included, median of {cx["rounds"]} rounds)', '',
                  '| peer | CPU ms each | wall ms each | this / gsecsock (CPU) |', '|---|---:|---:|---:|']
        for r in cx['results']:
            times = r['cpu_ms_each'] / ref['cpu_ms_each'] if ref and ref['cpu_ms_each'] else None
            lines.append(f'| {r["peer"]} | {fmt(r["cpu_ms_each"], 3)} | {fmt(r["wall_ms_each"], 3)} | '
                         f'{fmt_ratio(times)} |')
        lines.append('')

    for failure in res.get('failures', []):
        lines += [f'**Failed:** {failure}', '']
    lines += ['## Goals (issue 7)', '', '| goal | measured | met |', '|---|---|---|']
    for g in res['goals']:
        lines.append(f'| {g["goal"]} | {g["measured"]} | {g["met"]} |')
    lines.append('')
    return '\n'.join(lines)


def goals(res):
    out = []

    def add(goal, value, target, text=None, lower_is_better=False):
        if value is None and not section:
            return
        if value is None:
            out.append({'goal': goal, 'measured': 'not measured', 'met': '–'})
            return
        met = value <= target if lower_is_better else value >= target
        out.append({'goal': goal, 'measured': text or f'{value:.2f}×', 'value': value,
                    'met': 'yes' if met else 'no'})

    section = 'bulk' in res
    bulk = res.get('bulk', {}).get('results', [])
    for proto in PROTOCOLS:
        for api in ('sync', 'async'):
            g = find(bulk, impl=f'gsecsock-{api}', protocol=proto)
            add(f'bulk {PROTOCOLS[proto]} {api} ≥ 1.0× Python ssl',
                ratio(g, find(bulk, impl='python-ssl', protocol=proto)), 1.0)
            add(f'bulk {PROTOCOLS[proto]} {api} ≥ 2× GIO',
                ratio(g, find(bulk, impl='gio-sync', protocol=proto)), 2.0)
    section = 'server_handshakes' in res
    sh = res.get('server_handshakes', {}).get('results', [])
    for mode in SERVER_MODES:
        add(f'server handshakes/s {mode} ≥ 1.0× openssl s_server',
            ratio(find(sh, server='gsecsock', mode=mode), find(sh, server='openssl-s_server', mode=mode)),
            1.0)
    mem = res.get('memory', {}).get('results', [])
    for r in mem:
        if r['server'] == 'gsecsock':
            v = max(r['rss_kib_per_connection'], r['heap_kib_per_connection'])
            add(f'≤ 16 KiB per idle connection (N={r["connections"]:,})', v, 16,
                f'{r["rss_kib_per_connection"]:.1f} KiB RSS, {r["heap_kib_per_connection"]:.1f} KiB heap',
                lower_is_better=True)
    cc = res.get('concurrency', {}).get('results', [])
    for r in cc:
        if r['server'].startswith('gsecsock'):
            grown = r['threads_max_during'] - r['threads_before']
            add(f'0 threads per handshake ({r["server"]})', grown, 0,
                f'{grown} threads created for {res["concurrency"]["clients"]} handshakes',
                lower_is_better=True)
    h = res.get('python_handler', {})
    if 'ratio' in h:
        out.append({'goal': 'Python verify handler overhead reported',
                    'measured': f'{h["cost_ms_per_handshake"]:+.3f} ms per handshake '
                                f'(ratio {h["ratio"]:.3f})', 'met': 'yes'})
    return out


def plot(res, path):
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    if 'bulk' in res:
        ax = axes[0]
        impls = sorted({r['impl'] for r in res['bulk']['results']})
        width = 0.38
        for i, proto in enumerate(PROTOCOLS):
            vals = [find(res['bulk']['results'], impl=im, protocol=proto).get('mib_s') or 0 for im in impls]
            ax.bar([x + i * width for x in range(len(impls))], vals, width, label=PROTOCOLS[proto])
        ax.set_xticks([x + width / 2 for x in range(len(impls))], impls, rotation=30, ha='right')
        ax.set_ylabel('MiB/s (both directions)')
        ax.set_title('Bulk throughput')
        ax.legend()
    for ax, key, who, title in ((axes[1], 'server_handshakes', 'server', 'Server handshakes/s (s_time)'),
                                (axes[2], 'client_handshakes', 'client', 'Client handshakes/s (vs s_server)')):
        if key not in res:
            continue
        rs = res[key]['results']
        names = sorted({r[who] for r in rs})
        width = 0.8 / len(names)
        for i, name in enumerate(names):
            vals = [find(rs, **{who: name, 'mode': m}).get('handshakes_per_s') or 0 for m in SERVER_MODES]
            ax.bar([x + i * width for x in range(len(SERVER_MODES))], vals, width, label=name)
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(SERVER_MODES))], list(SERVER_MODES))
        ax.set_title(title)
        ax.legend()
    fig.suptitle(f'gsecsock benchmarks {res["date"]} — {res["machine"]["cpu_model"]}, '
                 f'{res["machine"]["cores"]} cores')
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return True


# ---- Main --------------------------------------------------------------

class Ctx:
    pass


def check_gio(ctx):
    """GIO's TLS needs glib-networking's GnuTLS module: point
    GIO_EXTRA_MODULES at the module directory (so a stale giomodule.cache
    does not matter) and ask the program which backend GIO loaded."""
    moddir = output_of('pkg-config', '--variable=giomoduledir', 'gio-2.0')
    env = dict(os.environ)
    if moddir and os.path.isdir(moddir):
        env['GIO_EXTRA_MODULES'] = moddir
        if not os.path.exists(os.path.join(moddir, 'libgiognutls.so')):
            return False, f'no libgiognutls.so in {moddir}: install glib-networking', env
    try:
        out = subprocess.run([prog(ctx.builddir, 'gio-tls-throughput'), '--check'], env=env,
                             capture_output=True, text=True, timeout=30)
    except OSError as e:
        return False, str(e), env
    if out.returncode != 0 or 'Gnutls' not in out.stdout:
        return False, f'GIO loaded no GnuTLS backend ({out.stdout.strip()} {out.stderr.strip()})', env
    return True, out.stdout.strip(), env


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog='\n'.join(__doc__.split('\n')[2:]))
    parser.add_argument('--quick', action='store_true', help='a 1-2 minute smoke run')
    parser.add_argument('--build', default=os.path.join(SRC, '_build-bench'),
                        help='build directory (default: _build-bench; configured if missing)')
    parser.add_argument('--no-build', action='store_true', help='do not run meson/ninja')
    parser.add_argument('--only', help='comma-separated: bulk,handshakes,memory,concurrency,contexts')
    parser.add_argument('--output', default=os.path.join(BENCH, 'results'),
                        help='where latest.json/.md/.png go (default bench/results)')
    args = parser.parse_args()

    t0 = time.monotonic()
    ctx = Ctx()
    ctx.builddir = os.path.abspath(args.build)
    if not args.no_build:
        build(ctx.builddir)
    ctx.pki = os.path.join(ctx.builddir, 'tests', 'pki')
    ctx.quick = args.quick
    ctx.rounds = 2 if args.quick else 3
    ctx.hs_rounds = 1 if args.quick else 3
    ctx.conc_rounds = 1 if args.quick else 3
    ctx.bulk_mib = 64 if args.quick else 1024
    ctx.hs_seconds = 2 if args.quick else 3     # s_time -time: whole seconds
    ctx.handler_count = 100 if args.quick else 300
    ctx.handler_rounds = 3 if args.quick else 7
    ctx.memory_ns = [1000] if args.quick else [1000, 10000]
    ctx.memory_concurrency = 32
    ctx.context_count = 20 if args.quick else 50
    ctx.gio_memory_max = 200 if args.quick else 1000
    ctx.gio_ok, ctx.gio_reason, ctx.gio_env = check_gio(ctx)
    log(f'== GIO TLS: {"ok, " if ctx.gio_ok else "skipped: "}{ctx.gio_reason}')

    only = set(args.only.split(',')) if args.only else {'bulk', 'handshakes', 'memory', 'concurrency',
                                                        'contexts'}
    res = {'date': datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
           'quick': args.quick, 'machine': machine_info()}
    failures = []

    def section(name, title, func):
        if name not in only:
            return
        log(f'== {title}')
        t = time.monotonic()
        try:
            func()
        except Exception as e:  # noqa: BLE001 -- report it, go on with the others
            log(f'   FAILED: {e}')
            failures.append(f'{title}: {e}')
        log(f'   ({time.monotonic() - t:.0f} s)')

    def handshakes():
        res['server_handshakes'], res['client_handshakes'], res['python_handler'] = \
            bench_handshakes(ctx)
    section('bulk', '1. bulk throughput', lambda: res.__setitem__('bulk', bench_bulk(ctx)))
    section('handshakes', '2. server handshakes, 3. client handshakes and the Python handler',
            handshakes)
    section('memory', '4. memory per idle connection',
            lambda: res.__setitem__('memory', bench_memory(ctx)))
    section('concurrency', '5. concurrency',
            lambda: res.__setitem__('concurrency', bench_concurrency(ctx)))
    section('contexts', '6. a new client configuration',
            lambda: res.__setitem__('contexts', bench_contexts(ctx)))
    if failures:
        res['failures'] = failures
    res['machine']['load_average_at_end'] = list(os.getloadavg())
    res['seconds'] = round(time.monotonic() - t0, 1)
    res['goals'] = goals(res)
    failures = res.get('failures', [])

    os.makedirs(args.output, exist_ok=True)
    md = markdown(res)
    with open(os.path.join(args.output, 'latest.json'), 'w') as f:
        json.dump(res, f, indent=1)
        f.write('\n')
    with open(os.path.join(args.output, 'latest.md'), 'w') as f:
        f.write(md)
    if plot(res, os.path.join(args.output, 'latest.png')):
        md += f'\nPlot: {os.path.join(args.output, "latest.png")}\n'
    print(md)
    log(f'== done in {res["seconds"]:.0f} s: {args.output}/latest.json, latest.md')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
