# SPDX-License-Identifier: LGPL-2.1-or-later
"""One inspection: connect, (optionally) STARTTLS, handshake, collect what
was negotiated, close. Everything is asynchronous in the main loop; the
questions the handshake asks (is this certificate acceptable, which client
certificate to send) are postponed with SecureSocket.defer_decision() and
handed to the user interface, which answers whenever the user does.

No GTK here: the window is a delegate with a few methods (see Delegate)."""

import time
from dataclasses import dataclass, field
from gettext import gettext as _

from gi.repository import GLib, Gio, GSecSock

from . import explain, starttls

Flags = GSecSock.CertificateFlags
Info = GSecSock.HandshakeInfoFlags

# The TLS handshake waits this long for the user's answers (the library's
# default, 60 s, is short for someone reading a dialog).
HANDSHAKE_TIMEOUT = 300
# Resolving and connecting over TCP, and each plain-text read or write.
CONNECT_TIMEOUT = 30

DIRECT_TLS = 'tls'


@dataclass
class Pin:
    """A decision the user asked to remember for this session: the server's
    certificate, by SHA-256 fingerprint, and the problems accepted with it."""
    fingerprint: str
    errors: int
    accept: bool


class SessionPins:
    """Remembered decisions, {(host, port): Pin}, for as long as the program
    runs. (gsecsock has no persistent trust-on-first-use store to keep them
    in; when it has one, it belongs here.)"""

    def __init__(self):
        self._pins = {}

    def remember(self, host, port, fingerprint, errors, accept):
        self._pins[(host.lower(), port)] = Pin(fingerprint.lower(), int(errors), accept)

    def lookup(self, host, port, fingerprint, errors):
        """The remembered decision for this certificate of this server, if
        it covers every problem found now; None otherwise."""
        pin = self._pins.get((host.lower(), port))
        if pin is None or pin.fingerprint != fingerprint.lower():
            return None
        if int(errors) & ~pin.errors:
            return None   # a new problem (it expired since): ask again
        return pin

    def clear(self):
        self._pins.clear()

    def __len__(self):
        return len(self._pins)


@dataclass
class ChainEntry:
    certificate: object
    depth: int
    errors: object = Flags.NO_FLAGS
    # 'verified', 'accepted' (by the user), 'remembered' (a remembered
    # decision), 'rejected', or 'resumed' (not verified again: the session
    # was resumed).
    verdict: str = 'verified'


@dataclass
class VerifyQuestion:
    """Should the handshake go on with a chain that has problems?"""
    host: str
    port: int
    certificate: object      # the server's own certificate
    errors: object           # every problem of the chain
    sentences: list          # the problems in plain words


@dataclass
class ClientCertificateQuestion:
    """The server asks for a certificate: which one, if any?"""
    host: str
    port: int
    acceptable_issuers: list
    candidates: list


@dataclass
class Inspection:
    """What one connection attempt found."""
    host: str
    port: int
    starttls: str
    state: str = 'connecting'     # connecting, waiting, connected, failed, cancelled
    error: str = None
    protocol: str = None
    cipher: str = None
    alpn: str = None
    session_reused: bool = False
    certificate_status: str = None
    certificate_errors: object = Flags.NO_FLAGS
    chain: list = field(default_factory=list)
    client_certificate_requested: bool = False
    client_certificate: object = None
    log: list = field(default_factory=list)

    @property
    def address(self):
        host = f'[{self.host}]' if ':' in self.host else self.host
        return f'{host}:{self.port}'


class Delegate:
    """What a ConnectionAttempt asks of the user interface."""

    def inspection_changed(self, inspection):
        """The state changed or a line was logged."""

    def ask_verify(self, question, answer):
        """answer(accept, remember), once, whenever the user decides."""

    def ask_client_certificate(self, question, answer):
        """answer(certificate_or_None), once."""

    def ask_password(self, description, retrying, reply):
        """reply(password_or_None), once."""

    def inspection_finished(self, inspection):
        """The attempt is over (inspection.state says how)."""


def parse_address(text, default_port):
    """(host, port) from 'host', 'host:port', '[v6]:port'; GLib.Error
    (G_IO_ERROR_INVALID_ARGUMENT) with a helpful message otherwise."""
    text = text.strip()
    if not text:
        raise GLib.Error(_('Type the address of a server, such as “example.org” or '
                           '“mail.example.org:587”'),
                         Gio.io_error_quark(), Gio.IOErrorEnum.INVALID_ARGUMENT)
    try:
        address = Gio.NetworkAddress.parse(text, default_port)
    except GLib.Error as error:
        raise GLib.Error(_('“{text}” is not a server address ({reason}): write a host name '
                           'or address, optionally followed by a colon and a port number, '
                           'such as “example.org:443”').format(text=text, reason=error.message),
                         Gio.io_error_quark(), Gio.IOErrorEnum.INVALID_ARGUMENT)
    if address.get_port() == 0:
        raise GLib.Error(_('Port 0 cannot be connected to: give the port the server listens on'),
                         Gio.io_error_quark(), Gio.IOErrorEnum.INVALID_ARGUMENT)
    return address.get_hostname(), address.get_port()


class ConnectionAttempt:
    """Connects to host:port (after a STARTTLS exchange when starttls is
    'smtp' or 'imap'), handshakes with context, reports to delegate, and
    closes the connection once everything has been collected."""

    def __init__(self, context, host, port, starttls_protocol, pins, identities, delegate):
        self.context = context
        self.pins = pins
        self.identities = identities
        self.delegate = delegate
        self.inspection = Inspection(host, port, starttls_protocol)
        self.cancellable = Gio.Cancellable()
        self.sock = None
        self.finished = False
        self._started = time.monotonic()
        self._entries = {}          # depth → ChainEntry, from verify-certificate
        self._chain_errors = Flags.NO_FLAGS
        self._user_answer = None    # 'accepted', 'remembered' or 'rejected'
        self._pending = None        # the GSecSock.Decision being asked, if any

    # ---- progress ---------------------------------------------------------

    def log(self, line):
        elapsed = time.monotonic() - self._started
        self.inspection.log.append(f'{elapsed:7.3f}  {line}')
        self.delegate.inspection_changed(self.inspection)

    def _set_state(self, state):
        self.inspection.state = state
        self.delegate.inspection_changed(self.inspection)

    def _finish(self, state, error=None):
        if self.finished:
            return
        self.finished = True
        self.inspection.state = state
        self.inspection.error = error
        if error:
            self.log(_('failed: {error}').format(error=error))
        self._collect_chain_after_failure()
        self.delegate.inspection_finished(self.inspection)

    # ---- the steps --------------------------------------------------------

    def start(self):
        client = Gio.SocketClient.new()
        client.set_timeout(CONNECT_TIMEOUT)
        address = Gio.NetworkAddress.new(self.inspection.host, self.inspection.port)
        self.log(_('connecting to {address}').format(address=self.inspection.address))
        client.connect_async(address, self.cancellable, self._on_connected)

    def cancel(self):
        """Stops the attempt: a question being asked is rejected, the
        handshake or connection is cancelled."""
        if self.finished:
            return
        self.cancellable.cancel()
        if self._pending is not None:
            decision, self._pending = self._pending, None
            decision.reject()

    def _on_connected(self, client, result):
        try:
            connection = client.connect_finish(result)
        except GLib.Error as error:
            self._fail(error)
            return
        remote = connection.get_remote_address()
        self.log(_('TCP connection established with {address}').format(
            address=remote.to_string() if remote is not None else self.inspection.address))
        if self.inspection.starttls == DIRECT_TLS:
            self._secure(connection, None)
            return

        def on_negotiated(lines, error):
            if error is not None:
                self._fail(error)
                return
            self._secure(connection, lines)
        starttls.negotiate(connection, self.inspection.starttls, self.cancellable,
                           self.log, on_negotiated)

    def _secure(self, connection, lines):
        try:
            if lines is None:
                sock = GSecSock.SecureSocket.new(self.context, connection, self.inspection.host)
            else:
                sock = GSecSock.SecureSocket.new_with_input_buffer(self.context, connection, lines,
                                                                   self.inspection.host)
        except GLib.Error as error:
            self._fail(error)
            return
        self.sock = sock
        sock.set_handshake_timeout(HANDSHAKE_TIMEOUT)
        sock.connect('handshake-info', self._on_handshake_info)
        sock.connect('verify-certificate', self._on_verify_certificate)
        sock.connect('client-certificate-requested', self._on_client_certificate_requested)
        sock.handshake_async(GLib.PRIORITY_DEFAULT, self.cancellable, self._on_handshake_done)

    def _on_handshake_done(self, sock, result):
        self._pending = None
        try:
            sock.handshake_finish(result)
        except GLib.Error as error:
            self._fail(error)
            self._close()
            return
        self._collect(sock)
        self.log(_('handshake complete: {protocol}, {cipher}').format(
            protocol=self.inspection.protocol, cipher=self.inspection.cipher))
        self._finish('connected')
        self._close()

    def _close(self):
        """Closes with a close_notify: the inspection is over."""
        sock = self.sock
        if sock is None or sock.is_closed():
            return

        def on_closed(source, result):
            try:
                source.close_finish(result)
                self.log(_('connection closed'))
            except GLib.Error as error:
                self.log(_('closing: {error}').format(error=error.message))
        sock.close_async(GLib.PRIORITY_DEFAULT, None, on_closed)

    def _fail(self, error):
        if error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED):
            self._finish('cancelled', _('Cancelled'))
        else:
            self._finish('failed', error.message if isinstance(error, GLib.Error) else str(error))

    # ---- what was negotiated ----------------------------------------------

    def _collect(self, sock):
        inspection = self.inspection
        inspection.protocol = explain.protocol_name(sock.props.protocol_version)
        inspection.cipher = sock.props.cipher_name
        inspection.alpn = sock.props.alpn_protocol
        inspection.session_reused = sock.props.session_reused
        inspection.certificate_errors = sock.props.certificate_errors
        inspection.certificate_status = GSecSock.certificate_status_to_string(
            sock.props.certificate_status)
        inspection.client_certificate = sock.get_client_certificate() \
            if inspection.client_certificate_requested else None
        inspection.chain = []
        for depth, certificate in enumerate(sock.props.peer_certificate_chain or []):
            entry = self._entries.get(depth)
            if entry is None or not entry.certificate.equal(certificate):
                # Not verified in this handshake: a resumed session.
                entry = ChainEntry(certificate, depth, Flags.NO_FLAGS,
                                   'resumed' if inspection.session_reused else 'verified')
            elif entry.errors:
                entry.verdict = self._user_answer or 'accepted'
            inspection.chain.append(entry)

    def _collect_chain_after_failure(self):
        """After a failure, the certificates seen are still worth showing."""
        if self.inspection.chain or not self._entries:
            return
        for depth in sorted(self._entries):
            entry = self._entries[depth]
            if entry.errors:
                entry.verdict = 'rejected'
            self.inspection.chain.append(entry)

    # ---- signal handlers --------------------------------------------------

    def _on_handshake_info(self, sock, where, value, description):
        if where & Info.ALERT:
            direction = _('received') if where & Info.READ else _('sent')
            self.log(_('alert {direction}: {description}').format(direction=direction,
                                                                   description=description))
        elif where & Info.START:
            self.log(_('handshake started'))
        elif where & Info.DONE:
            self.log(_('handshake done'))
        elif where & Info.STATE:
            self.log(description)
        # EXIT events (a step waiting for the peer) say nothing new.

    def _on_verify_certificate(self, sock, certificate, depth, errors):
        """Emitted root end first. Certificates above the server's own are
        let through here and judged with it at depth 0: one question for
        the whole chain, rather than one dialog per certificate. Rejecting
        at depth 0 still fails the handshake."""
        self._entries[depth] = ChainEntry(certificate, depth, errors)
        self._chain_errors |= errors
        self.log(_('verify depth {depth}: {subject}: {verdict}').format(
            depth=depth, subject=certificate.get_subject(), verdict=explain.flag_names(errors) or 'ok'))
        if depth > 0 or not self._chain_errors:
            return True

        host, port = self.inspection.host, self.inspection.port
        pin = self.pins.lookup(host, port, certificate.get_fingerprint_sha256(),
                               self._chain_errors)
        if pin is not None:
            self._user_answer = 'remembered' if pin.accept else 'rejected'
            self.log(_('remembered decision for this certificate: {answer}').format(
                answer=_('accept') if pin.accept else _('refuse')))
            return pin.accept

        sentences = []
        for entry_depth in sorted(self._entries):
            entry = self._entries[entry_depth]
            sentences += explain.problem_sentences(entry.certificate, entry.errors,
                                                   entry_depth, host)
        question = VerifyQuestion(host, port, certificate, self._chain_errors, sentences)
        decision = sock.defer_decision()
        self._pending = decision
        self.log(_('asking you whether to accept it'))
        self._set_state('waiting')
        try:
            self.delegate.ask_verify(question, self._verify_answer(decision, question))
        except BaseException:
            # A decision left unanswered would hold the handshake until its
            # timeout: refuse at once.
            self._pending = None
            decision.reject()
            raise
        return False   # ignored: deferred

    def _verify_answer(self, decision, question):
        def answer(accept, remember):
            if self._pending is not decision:
                return   # cancelled, timed out or answered already
            self._pending = None
            if remember:
                self.pins.remember(question.host, question.port,
                                   question.certificate.get_fingerprint_sha256(),
                                   question.errors, accept)
            self._user_answer = 'accepted' if accept else 'rejected'
            self.log(_('you chose to {answer}{remembered}').format(
                answer=_('connect anyway') if accept else _('cancel'),
                remembered=_(' (remembered for this session)') if remember else ''))
            self._set_state('connecting')
            if accept:
                decision.accept()
            else:
                decision.reject()
        return answer

    def _on_client_certificate_requested(self, sock, acceptable_issuers):
        issuers = list(acceptable_issuers or [])
        self.inspection.client_certificate_requested = True
        self.log(_('the server asks for a client certificate (accepted issuers: {issuers})').format(
            issuers='; '.join(issuers) or _('any')))
        question = ClientCertificateQuestion(self.inspection.host, self.inspection.port, issuers,
                                             self.identities.matching(issuers))
        decision = sock.defer_decision()
        self._pending = decision
        self._set_state('waiting')
        try:
            self.delegate.ask_client_certificate(question, self._client_certificate_answer(decision))
        except BaseException:
            self._pending = None
            decision.reject()
            raise
        return True   # ignored: deferred

    def _client_certificate_answer(self, decision):
        def answer(certificate):
            if self._pending is not decision:
                return
            if certificate is None:
                self._pending = None
                self.log(_('you chose to send no certificate'))
                self._set_state('connecting')
                decision.reject()   # no certificate: the server decides
                return
            self.log(_('loading the key of {subject}').format(subject=certificate.get_subject()))

            def on_unlocked(unlocked, error):
                if self._pending is not decision:
                    return
                self._pending = None
                self._set_state('connecting')
                if unlocked is None:
                    self.log(_('no certificate sent: {error}').format(error=error))
                    decision.reject()
                    return
                self.log(_('sending {subject}').format(subject=unlocked.get_subject()))
                decision.select_certificate(unlocked)
            self.identities.unlock(certificate, self._ask_password, on_unlocked)
        return answer

    def _ask_password(self, description, retrying, reply):
        if self.finished:
            reply(None)
            return
        self.delegate.ask_password(description, retrying, reply)
