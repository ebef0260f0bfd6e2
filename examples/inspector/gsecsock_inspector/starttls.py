# SPDX-License-Identifier: LGPL-2.1-or-later
"""The plain-text start of protocols that upgrade a connection to TLS
(STARTTLS), asynchronously in the main loop, the way tools/gsecsock/starttls.c
does it with blocking calls.

Everything is read through one Gio.DataInputStream, which the caller then
gives to GSecSock.SecureSocket.new_with_input_buffer(): whatever it read ahead
belongs to TLS and must not be lost (see docs/transports.md).

Each protocol is written as a generator that yields asynchronous operations;
_run() drives it from their callbacks. That keeps the conversation readable
from top to bottom without blocking the main loop or using threads."""

from gettext import gettext as _

from gi.repository import GLib, Gio

PROTOCOLS = {
    # name: (label, default port)
    'smtp': ('SMTP', 587),
    'imap': ('IMAP', 143),
}

# A server that sends more than this many lines in one reply is not an
# SMTP server worth talking to.
_MAX_REPLY_LINES = 200

# What this client calls itself in SMTP's EHLO: the host name would tell
# the server more than it needs to know.
_EHLO_NAME = 'inspector.invalid'


class StartTlsError(Exception):
    """The server did not agree to start TLS, or spoke another protocol."""


def _read_line(lines, cancellable):
    def start(done):
        def on_line(stream, result):
            try:
                line, _length = stream.read_line_finish_utf8(result)
            except GLib.Error as error:
                done(error=error)
                return
            done(value=line)
        lines.read_line_async(GLib.PRIORITY_DEFAULT, cancellable, on_line)
    return start


def _write(connection, data, cancellable):
    # write_bytes_async keeps the data alive until the write is done, which
    # a Python buffer given to write_all_async would not be.
    def start(done):
        remaining = GLib.Bytes.new(data)

        def on_written(stream, result):
            nonlocal remaining
            try:
                written = stream.write_bytes_finish(result)
            except GLib.Error as error:
                done(error=error)
                return
            if written < remaining.get_size():
                remaining = GLib.Bytes.new(remaining.get_data()[written:])
                stream.write_bytes_async(remaining, GLib.PRIORITY_DEFAULT, cancellable, on_written)
            else:
                done()
        connection.get_output_stream().write_bytes_async(remaining, GLib.PRIORITY_DEFAULT,
                                                         cancellable, on_written)
    return start


def _run(generator, finished):
    """Drives generator: each value it yields is an operation start(done);
    done(value=…) or done(error=…) resumes it. finished(result, error) is
    called once with what it returns or raises."""
    def resume(value=None, error=None):
        try:
            operation = generator.throw(error) if error is not None else generator.send(value)
        except StopIteration as stop:
            finished(stop.value, None)
            return
        except (GLib.Error, StartTlsError) as raised:
            finished(None, raised)
            return
        operation(resume)
    resume()


class _Conversation:
    def __init__(self, connection, protocol, cancellable, log):
        self.connection = connection
        self.protocol = PROTOCOLS[protocol][0]
        self.cancellable = cancellable
        self.log = log
        self.lines = Gio.DataInputStream.new(connection.get_input_stream())
        # The connection belongs to the TLS socket afterwards.
        self.lines.set_close_base_stream(False)

    def read_line(self):
        line = yield _read_line(self.lines, self.cancellable)
        if line is None:
            raise StartTlsError(_('{protocol}: the server closed the connection').format(
                protocol=self.protocol))
        line = line.rstrip('\r')
        self.log(f'S: {line}')
        return line

    def send(self, line):
        self.log(f'C: {line}')
        yield _write(self.connection, f'{line}\r\n'.encode(), self.cancellable)

    def refused(self, answer):
        return StartTlsError(_('{protocol}: the server refused to start TLS: {answer}').format(
            protocol=self.protocol, answer=answer))

    def read_reply(self):
        """An SMTP reply, "250-first" … "250 last": (code, lines)."""
        lines = []
        while len(lines) < _MAX_REPLY_LINES:
            line = yield from self.read_line()
            if len(line) < 3 or not line[:3].isdigit() or line[3:4] not in ('', ' ', '-'):
                raise StartTlsError(_('{protocol}: unexpected answer from the server: {line}').format(
                    protocol=self.protocol, line=line))
            lines.append(line)
            if line[3:4] != '-':
                return int(line[:3]), lines
        raise StartTlsError(_('{protocol}: the server’s reply is too long').format(
            protocol=self.protocol))

    def smtp(self):
        code, lines = yield from self.read_reply()
        if code != 220:
            raise self.refused(lines[-1])
        yield from self.send(f'EHLO {_EHLO_NAME}')
        code, lines = yield from self.read_reply()
        if code != 250:
            raise self.refused(lines[-1])
        if not any(line[4:].upper().startswith('STARTTLS') for line in lines):
            self.log(_('(STARTTLS not announced: trying anyway)'))
        yield from self.send('STARTTLS')
        code, lines = yield from self.read_reply()
        if code != 220:
            raise self.refused(lines[-1])
        return self.lines

    def imap(self):
        greeting = yield from self.read_line()
        if not (greeting.startswith('* OK') or greeting.startswith('* PREAUTH')):
            raise self.refused(greeting)
        yield from self.send('a1 STARTTLS')
        # Untagged lines ("* CAPABILITY …") may come before the answer.
        for _i in range(_MAX_REPLY_LINES):
            line = yield from self.read_line()
            if line.startswith('a1 '):
                if line[3:].upper().startswith('OK'):
                    return self.lines
                raise self.refused(line)
        raise StartTlsError(_('{protocol}: no answer to STARTTLS').format(protocol=self.protocol))


def negotiate(connection, protocol, cancellable, log, finished):
    """Talks protocol ('smtp' or 'imap') on connection (a Gio.IOStream) up to
    the point where TLS starts, logging the conversation with log(line).
    Then finished(lines, None), lines being the Gio.DataInputStream to give
    to SecureSocket.new_with_input_buffer(); or finished(None, error)."""
    conversation = _Conversation(connection, protocol, cancellable, log)
    _run(getattr(conversation, protocol)(), finished)
