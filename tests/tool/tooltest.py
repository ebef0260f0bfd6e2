# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for the tests of the gsecsock command-line tool.

The tests run the built tool (GSECSOCK_TOOL) against real local peers:
openssl s_server and s_client, Python ssl servers, fake STARTTLS servers,
and the tool itself. The test PKI is tests/make-test-pki.sh's
(GSECSOCK_TEST_PKI_DIR). Each test module is a unittest module run by
main(), which reports in TAP for meson.
"""

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import unittest

TOOL = os.environ.get('GSECSOCK_TOOL', 'gsecsock')
PKI = os.environ.get('GSECSOCK_TEST_PKI_DIR', '')
OPENSSL = os.environ.get('OPENSSL', 'openssl')

# Exit codes, as documented in gsecsock(1).
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_HANDSHAKE = 4
EXIT_VERIFICATION = 5
EXIT_FILE = 6
EXIT_INTERRUPTED = 130


def pki(name):
    return os.path.join(PKI, name)


def tool_env():
    env = dict(os.environ)
    env.pop('NO_COLOR', None)
    env['LC_ALL'] = 'C.UTF-8'
    return env


def run(*args, input=None, timeout=30, env=None, binary=False):
    """Runs the tool; returns a CompletedProcess with text stdout/stderr
    (bytes with binary=True: no newline translation)."""
    if input is None:
        input = b'' if binary else ''
    return subprocess.run([TOOL, *args], input=input, capture_output=True, text=not binary,
                          timeout=timeout, env=env or tool_env())


def run_json(*args, **kwargs):
    result = run(*args, '--json', **kwargs)
    try:
        document = json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f'not JSON (exit {result.returncode}):\n{result.stdout}\n{result.stderr}')
    return result, document


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Process:
    """A background process whose output is collected by a thread."""

    def __init__(self, argv, env=None, stdin=subprocess.PIPE):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env or tool_env())
        self.lines = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode('utf-8', 'replace').rstrip('\n')
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)   # end of output
            self.cond.notify_all()

    def wait_for(self, predicate, timeout=15):
        """Waits for an output line for which predicate(line) is true."""
        deadline = time.monotonic() + timeout
        index = 0
        with self.cond:
            while True:
                while index < len(self.lines):
                    line = self.lines[index]
                    index += 1
                    if line is None:
                        raise AssertionError(f'{self.argv[0]} ended; output:\n{self.output()}')
                    if predicate(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f'timed out waiting; output of {self.argv}:\n{self.output()}')
                self.cond.wait(remaining)

    def output(self):
        return '\n'.join(line for line in self.lines if line is not None)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.thread.join(5)
        return self.proc.returncode


class Serve(Process):
    """gsecsock serve --json on a port the system picks."""

    def __init__(self, *args):
        super().__init__([TOOL, 'serve', '--json', '--port', '0', '--address', '127.0.0.1', *args])
        self.listening = json.loads(self.wait_for(lambda l: '"listening"' in l or 'gsecsock serve:' in l))
        self.port = self.listening['port']

    def events(self, kind=None):
        result = []
        for line in list(self.lines):
            if line and line.startswith('{'):
                event = json.loads(line)
                if kind is None or event['event'] == kind:
                    result.append(event)
        return result

    def wait_event(self, kind, count=1, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events(kind)
            if len(events) >= count:
                return events[count - 1]
            time.sleep(0.02)
        raise AssertionError(f'no {kind} event #{count}; output:\n{self.output()}')


class SServer(Process):
    """openssl s_server on 127.0.0.1, port picked by the system."""

    def __init__(self, *args):
        super().__init__([OPENSSL, 's_server', '-accept', '127.0.0.1:0', *args])
        line = self.wait_for(lambda l: l.startswith('ACCEPT'))
        self.port = int(re.match(r'ACCEPT \S+:(\d+)', line).group(1))

    def stop(self, sig=signal.SIGTERM, timeout=10):
        return super().stop(sig, timeout)


def s_server_args(cert='server', chain='intermediate'):
    args = ['-cert', pki(cert + '.pem'), '-key', pki(cert + '.key')]
    if chain:
        args += ['-cert_chain', pki(chain + '.pem')]
    return args


def run_in_pty(argv, answers, timeout=20):
    """Runs argv in a pseudo-terminal (stdin and stdout are terminals, and
    it is the controlling terminal). answers: list of (prompt bytes, reply
    bytes) sent when the prompt appears, in order. Returns (output, exit)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.environ.update(tool_env())
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    output = b''
    pending = list(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    break
                if not data:
                    break
                output += data
            if pending and pending[0][0] in output:
                prompt, reply = pending.pop(0)
                output = output.replace(prompt, prompt + b'<answered>', 1)
                os.write(fd, reply)
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return output.decode('utf-8', 'replace'), os.waitstatus_to_exitcode(status)


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.number = 0
        self.failed = 0

    def _report(self, test, ok, extra=''):
        self.number += 1
        name = test.id().split('.', 1)[-1]
        print(f'{"ok" if ok else "not ok"} {self.number} - {name}{extra}', flush=True)

    def addSuccess(self, test):
        self._report(test, True)

    def addSkip(self, test, reason):
        self._report(test, True, f' # SKIP {reason}')

    def _fail(self, test, err):
        self.failed += 1
        self._report(test, False)
        for line in ''.join(traceback.format_exception(*err)).splitlines():
            print(f'# {line}', flush=True)

    def addFailure(self, test, err):
        self._fail(test, err)

    def addError(self, test, err):
        self._fail(test, err)

    def startTest(self, test):
        super().startTest(test)
        self._subtest_failures = []
        self._reported_before = self.number

    def addSubTest(self, test, subtest, err):
        if err is not None:
            self._subtest_failures.append((subtest, err))

    def stopTest(self, test):
        super().stopTest(test)
        if self._subtest_failures and self.number == self._reported_before:
            self.failed += 1
            self._report(test, False)
            for subtest, err in self._subtest_failures:
                print(f'# {subtest.id()}', flush=True)
                for line in ''.join(traceback.format_exception(*err)).splitlines():
                    print(f'# {line}', flush=True)


def main(module_name='__main__'):
    if not os.path.exists(TOOL) and os.sep in TOOL:
        print(f'1..0 # SKIP {TOOL} not built')
        return 0
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[module_name])
    print(f'1..{suite.countTestCases()}', flush=True)
    result = TapResult()
    suite.run(result)
    return 1 if result.failed else 0
