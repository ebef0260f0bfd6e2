# SPDX-License-Identifier: LGPL-2.1-or-later
"""The main window: the address to connect to, and what the connection
showed — the certificate chain, what the handshake negotiated, and the
handshake's own trace."""

from gettext import gettext as _

from gi.repository import Adw, Gdk, Gio, GLib, GObject, Gtk

from . import explain
from .connection import DIRECT_TLS, ConnectionAttempt, Delegate, parse_address
from .dialogs import ClientCertificateDialog, PasswordDialog, UntrustedCertificateDialog
from .starttls import PROTOCOLS

# The security choices, in the order of the drop-down.
SECURITY_CHOICES = [
    (DIRECT_TLS, _('TLS'), 443),
    ('smtp', _('SMTP with STARTTLS'), PROTOCOLS['smtp'][1]),
    ('imap', _('IMAP with STARTTLS'), PROTOCOLS['imap'][1]),
]

VERDICTS = {
    # verdict: (icon, style class, words)
    'verified': ('emblem-ok-symbolic', 'success', _('Verified')),
    'resumed': ('emblem-ok-symbolic', 'success', _('Verified when the session was first made')),
    'accepted': ('dialog-warning-symbolic', 'warning', _('Accepted by you despite problems')),
    'remembered': ('dialog-warning-symbolic', 'warning',
                   _('Accepted by a decision you remembered')),
    'rejected': ('dialog-error-symbolic', 'error', _('Refused')),
}


def _escape(text):
    return GLib.markup_escape_text(text or '')


def _property_row(title, value='', selectable=False):
    row = Adw.ActionRow(title=_escape(title))
    label = Gtk.Label(label=value, xalign=1, wrap=True, selectable=selectable,
                      hexpand=True, justify=Gtk.Justification.RIGHT)
    label.add_css_class('dim-label')
    row.add_suffix(label)
    row.value_label = label
    return row


class _FingerprintRow(Gtk.ListBoxRow):
    """A fingerprint on its own line, in a font where every digit counts."""

    def __init__(self, fingerprint):
        super().__init__(activatable=False)
        box = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=12, margin_top=8,
                      margin_bottom=8, margin_start=12, margin_end=12)
        text = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=3, hexpand=True)
        title = Gtk.Label(label=_('SHA-256 fingerprint'), xalign=0)
        self.fingerprint_label = Gtk.Label(label=explain.format_fingerprint(fingerprint),
                                           xalign=0, wrap=True, wrap_mode=2, selectable=True)
        self.fingerprint_label.add_css_class('monospace')
        self.fingerprint_label.add_css_class('caption')
        self.fingerprint_label.add_css_class('dim-label')
        text.append(title)
        text.append(self.fingerprint_label)
        copy = Gtk.Button(icon_name='edit-copy-symbolic', valign=Gtk.Align.CENTER,
                          tooltip_text=_('Copy the fingerprint'))
        copy.add_css_class('flat')
        copy.connect('clicked', lambda _button: self.get_clipboard().set(
            self.fingerprint_label.get_text()))
        box.append(text)
        box.append(copy)
        self.set_child(box)


class ChainRow(Adw.ExpanderRow):
    """One certificate of the chain: who it is, who vouches for it, when it
    is valid, its fingerprint and what verification found."""

    def __init__(self, entry, peer_name):
        certificate = entry.certificate
        icon_name, style, words = VERDICTS[entry.verdict]
        position = _('The server’s certificate') if entry.depth == 0 else \
            _('Authority, level {depth}').format(depth=entry.depth)
        super().__init__(title=_escape(explain.common_name(certificate.get_subject())),
                         subtitle=_escape(_('{position} · issued by {issuer}').format(
                             position=position,
                             issuer=explain.common_name(certificate.get_issuer()))))
        self.entry = entry
        icon = Gtk.Image(icon_name=icon_name, tooltip_text=words)
        icon.add_css_class(style)
        self.add_prefix(icon)
        self.verdict_icon = icon_name

        verdict = words
        if entry.errors:
            verdict = f'{words}: {explain.short_verdict(entry.errors)}'
        self.add_row(_property_row(_('Verification'), verdict))
        for sentence in explain.problem_sentences(certificate, entry.errors, entry.depth,
                                                  peer_name):
            problem = Adw.ActionRow(title=_escape(sentence))
            warning = Gtk.Image(icon_name='dialog-warning-symbolic')
            warning.add_css_class(style)
            problem.add_prefix(warning)
            self.add_row(problem)
        # What people compare with what they were told: near the top.
        self.fingerprint_row = _FingerprintRow(certificate.get_fingerprint_sha256())
        self.add_row(self.fingerprint_row)
        details = [
            (_('Valid'), _('{start} to {end}').format(
                start=explain.format_date(certificate.get_not_valid_before()),
                end=explain.format_date(certificate.get_not_valid_after()))),
            (_('Names'), ', '.join(explain.certificate_names(certificate))),
            (_('Subject'), certificate.get_subject()),
            (_('Issuer'), certificate.get_issuer()),
            (_('Serial number'), certificate.get_serial_number()),
        ]
        for title, value in details:
            self.add_row(_property_row(title, value, selectable=True))


class InspectorWindow(Adw.ApplicationWindow, Delegate):
    """The application's window. Test hooks: dialog_presented is emitted
    with every question dialog, inspection-finished when an attempt ends."""

    __gsignals__ = {
        'dialog-presented': (GObject.SignalFlags.RUN_LAST, None, (Adw.MessageDialog,)),
        'inspection-finished': (GObject.SignalFlags.RUN_LAST, None, ()),
    }

    def __init__(self, application, context, pins, identities):
        super().__init__(application=application, default_width=720, default_height=880,
                         title=_('Connection Inspector'))
        self.context = context
        self.pins = pins
        self.identities = identities
        self.attempt = None
        self.inspection = None
        self.dialogs = []
        self._build()
        self._install_actions()
        self._update_busy()

    # ---- building the window ------------------------------------------------

    def _build(self):
        header = Adw.HeaderBar()
        self.title = Adw.WindowTitle(title=_('Connection Inspector'))
        header.set_title_widget(self.title)
        menu = Gio.Menu()
        menu.append(_('_Forget Remembered Decisions'), 'win.forget-decisions')
        menu.append(_('_Keyboard Shortcuts'), 'win.show-help-overlay')
        menu.append(_('_About Connection Inspector'), 'app.about')
        header.pack_end(Gtk.MenuButton(icon_name='open-menu-symbolic', menu_model=menu,
                                       primary=True, tooltip_text=_('Main Menu')))

        page = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=24, margin_top=24,
                       margin_bottom=24, margin_start=12, margin_end=12)

        server = Adw.PreferencesGroup(title=_('Server'))
        self.address_row = Adw.EntryRow(title=_('Host name or address, and port'))
        self.address_row.connect('entry-activated', lambda _row: self.activate_action('win.connect'))
        self.address_row.connect('changed', lambda _row: self._clear_address_error())
        server.add(self.address_row)
        self.security_row = Adw.ComboRow(title=_('Security'),
                                         model=Gtk.StringList.new([label for _key, label, _port
                                                                   in SECURITY_CHOICES]))
        self.security_row.set_subtitle(_('How the connection becomes encrypted'))
        server.add(self.security_row)
        page.append(server)

        actions = Gtk.Box(spacing=12, halign=Gtk.Align.CENTER)
        self.connect_button = Gtk.Button(label=_('_Connect'), use_underline=True,
                                         action_name='win.connect')
        self.connect_button.add_css_class('pill')
        self.connect_button.add_css_class('suggested-action')
        self.cancel_button = Gtk.Button(label=_('C_ancel'), use_underline=True,
                                        action_name='win.cancel')
        self.cancel_button.add_css_class('pill')
        actions.append(self.connect_button)
        actions.append(self.cancel_button)
        page.append(actions)

        status = Gtk.Box(spacing=8, halign=Gtk.Align.CENTER)
        self.spinner = Gtk.Spinner()
        self.status_label = Gtk.Label(wrap=True, justify=Gtk.Justification.CENTER)
        self.status_label.add_css_class('dim-label')
        status.append(self.spinner)
        status.append(self.status_label)
        page.append(status)

        self.results = Gtk.Stack(transition_type=Gtk.StackTransitionType.CROSSFADE, vhomogeneous=False)
        self.placeholder = Adw.StatusPage(
            icon_name='org.gsecsock.ConnectionInspector',
            title=_('Inspect a TLS Server'),
            description=_('Type the address of a server and press Connect to see its '
                          'certificates, and what the TLS handshake agreed on.'))
        self.placeholder.add_css_class('compact')
        self.results.add_named(self.placeholder, 'empty')
        self.result_box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=24)
        self.results.add_named(self.result_box, 'results')
        page.append(self.results)

        clamp = Adw.Clamp(maximum_size=680, child=page)
        self.page = page
        self.scrolled = scrolled = Gtk.ScrolledWindow(hscrollbar_policy=Gtk.PolicyType.NEVER, vexpand=True,
                                      child=clamp)
        self.toasts = Adw.ToastOverlay(child=scrolled)
        content = Gtk.Box(orientation=Gtk.Orientation.VERTICAL)
        content.append(header)
        content.append(self.toasts)
        self.set_content(content)

        # The result groups, rebuilt for each inspection.
        self.error_group = None
        self.connection_group = None
        self.chain_group = None
        self.log_group = None
        self.log_view = None
        self.chain_rows = []

    def _install_actions(self):
        for name, callback in [('connect', self._on_connect), ('cancel', self._on_cancel),
                               ('focus-address', lambda *_a: self.address_row.grab_focus()),
                               ('forget-decisions', self._on_forget_decisions)]:
            action = Gio.SimpleAction.new(name, None)
            action.connect('activate', callback)
            self.add_action(action)

    # ---- actions ------------------------------------------------------------

    def set_address(self, text, security=DIRECT_TLS):
        self.address_row.set_text(text)
        for index, (key, _label, _port) in enumerate(SECURITY_CHOICES):
            if key == security:
                self.security_row.set_selected(index)

    def _on_connect(self, _action, _parameter):
        if self.attempt is not None and not self.attempt.finished:
            return
        security, _label, default_port = SECURITY_CHOICES[self.security_row.get_selected()]
        try:
            host, port = parse_address(self.address_row.get_text(), default_port)
        except GLib.Error as error:
            self._show_address_error(error.message)
            return
        context = self.context['tls' if security == DIRECT_TLS else 'starttls']
        self.attempt = ConnectionAttempt(context, host, port, security, self.pins,
                                         self.identities, self)
        self.inspection = self.attempt.inspection
        self._show_results(self.inspection)
        self.attempt.start()
        self._update_busy()

    def _on_cancel(self, _action, _parameter):
        if self.attempt is not None:
            self.attempt.cancel()

    def _on_forget_decisions(self, _action, _parameter):
        count = len(self.pins)
        self.pins.clear()
        self.toasts.add_toast(Adw.Toast(title=_('Forgot {count} remembered decisions').format(
            count=count) if count != 1 else _('Forgot 1 remembered decision')))

    def _show_address_error(self, message):
        self.address_row.add_css_class('error')
        self.status_label.set_label(message)
        self.status_label.remove_css_class('dim-label')
        self.status_label.add_css_class('error')

    def _clear_address_error(self):
        self.address_row.remove_css_class('error')
        self.status_label.remove_css_class('error')
        self.status_label.add_css_class('dim-label')

    # ---- state --------------------------------------------------------------

    def _busy(self):
        return self.attempt is not None and not self.attempt.finished

    def _update_busy(self):
        busy = self._busy()
        self.lookup_action('connect').set_enabled(not busy)
        self.lookup_action('cancel').set_enabled(busy)
        self.cancel_button.set_visible(busy)
        self.spinner.set_visible(busy)
        self.spinner.set_spinning(busy)
        self.address_row.set_sensitive(not busy)
        self.security_row.set_sensitive(not busy)
        inspection = self.inspection
        if inspection is None:
            self.status_label.set_label('')
            return
        self._clear_address_error()
        via = '' if inspection.starttls == DIRECT_TLS else \
            _(' with {protocol} STARTTLS').format(protocol=PROTOCOLS[inspection.starttls][0])
        text = {
            'connecting': _('Connecting to {address}{via}…'),
            'waiting': _('The handshake with {address} waits for your answer…'),
            'connected': _('Inspected {address}{via}: {protocol}, connection closed'),
            'failed': _('Could not connect to {address}{via}'),
            'cancelled': _('Connecting to {address} was cancelled'),
        }[inspection.state]
        self.status_label.set_label(text.format(address=inspection.address, via=via,
                                                protocol=inspection.protocol))
        self.title.set_subtitle(inspection.address)

    # ---- Delegate: what the connection asks of the window -------------------

    def inspection_changed(self, inspection):
        if inspection is not self.inspection:
            return
        self._update_busy()
        if self.log_view is not None and inspection.log:
            buffer = self.log_view.get_buffer()
            shown = buffer.get_line_count() - 1
            for line in inspection.log[shown:]:
                buffer.insert(buffer.get_end_iter(), line + '\n')
            self.log_group.log_row.set_subtitle(
                _('{count} events').format(count=len(inspection.log)))

    def inspection_finished(self, inspection):
        if inspection is not self.inspection:
            return
        for dialog in list(self.dialogs):
            dialog.dismiss()
        self._show_results(inspection)
        self._update_busy()
        self.emit('inspection-finished')

    def _present_dialog(self, dialog):
        self.dialogs.append(dialog)
        dialog.connect('response', lambda d, _r: self.dialogs.remove(d) if d in self.dialogs else None)
        dialog.present()
        self.emit('dialog-presented', dialog)

    def ask_verify(self, question, answer):
        self._present_dialog(UntrustedCertificateDialog(self, question, answer))

    def ask_client_certificate(self, question, answer):
        location = self.identities.directory or _('(no certificate directory)')
        if self.identities.error:
            self.toasts.add_toast(Adw.Toast(title=_escape(self.identities.error), timeout=10))
        self._present_dialog(ClientCertificateDialog(self, question, answer, location))

    def ask_password(self, description, retrying, reply):
        self._present_dialog(PasswordDialog(self, description, retrying, reply))

    # ---- results --------------------------------------------------------------

    def _show_results(self, inspection):
        for group in (self.error_group, self.connection_group, self.chain_group, self.log_group):
            if group is not None:
                self.result_box.remove(group)
        self.error_group = self.connection_group = self.chain_group = None
        self.chain_rows = []
        self.results.set_visible_child_name('results')

        if inspection.state in ('failed', 'cancelled'):
            self.error_group = Adw.PreferencesGroup()
            row = Adw.ActionRow(title=_escape(_('Could not connect') if inspection.state == 'failed'
                                              else _('Cancelled')),
                                subtitle=_escape(inspection.error))
            icon = Gtk.Image(icon_name='dialog-error-symbolic')
            icon.add_css_class('error')
            row.add_prefix(icon)
            self.error_group.add(row)
            self.error_row = row
            self.result_box.append(self.error_group)

        if inspection.chain:
            self.chain_group = Adw.PreferencesGroup(
                title=_('Certificate Chain'),
                description=_('From the server’s own certificate to the authority that vouches '
                              'for it'))
            for entry in inspection.chain:
                row = ChainRow(entry, inspection.host)
                # The server's own certificate is what people look at first.
                row.set_expanded(entry.depth == 0)
                self.chain_rows.append(row)
                self.chain_group.add(row)
            self.result_box.append(self.chain_group)

        if inspection.state == 'connected':
            self.connection_group = Adw.PreferencesGroup(title=_('Connection'))
            via = _('TLS from the start') if inspection.starttls == DIRECT_TLS else \
                _('{protocol} upgraded with STARTTLS').format(
                    protocol=PROTOCOLS[inspection.starttls][0])
            if inspection.client_certificate is not None:
                client = explain.common_name(inspection.client_certificate.get_subject())
            elif inspection.client_certificate_requested:
                client = _('Asked for; none sent')
            else:
                client = _('Not asked for')
            if not inspection.certificate_errors:
                verification = _('Trusted')
            else:
                verification = _('Untrusted ({problems}), accepted').format(
                    problems=explain.short_verdict(inspection.certificate_errors))
            rows = [
                (_('Server'), f'{inspection.address} · {via}'),
                (_('Protocol'), inspection.protocol),
                (_('Cipher'), inspection.cipher),
                (_('Application protocol (ALPN)'), inspection.alpn or _('None negotiated')),
                (_('Session reused'), _('Yes') if inspection.session_reused else _('No')),
                (_('Server certificate'), verification),
                (_('Client certificate'), client),
            ]
            self.property_rows = {}
            for title, value in rows:
                row = _property_row(title, value, selectable=True)
                self.property_rows[title] = row
                self.connection_group.add(row)
            self.result_box.append(self.connection_group)

        # The trace is shown live, from the first line; rebuilt afterwards in
        # the same place so it stays last.
        self.log_group = Adw.PreferencesGroup(title=_('Handshake'))
        log_row = Adw.ExpanderRow(title=_('Handshake log'),
                                  subtitle=_('{count} events').format(count=len(inspection.log)))
        self.log_view = Gtk.TextView(editable=False, cursor_visible=False, monospace=True,
                                     wrap_mode=Gtk.WrapMode.WORD_CHAR, top_margin=8,
                                     bottom_margin=8, left_margin=12, right_margin=12)
        self.log_view.add_css_class('inspector-log')
        self.log_view.get_buffer().set_text(''.join(line + '\n' for line in inspection.log))
        log_row.add_row(Gtk.ListBoxRow(child=self.log_view, activatable=False))
        self.log_group.add(log_row)
        self.log_group.log_row = log_row
        self.result_box.append(self.log_group)

    # ---- for the test hook ------------------------------------------------------

    def scroll_to_group(self, name):
        """Scrolls so that a result group ('chain', 'connection', 'log')
        is at the top."""
        group = {'chain': self.chain_group, 'connection': self.connection_group,
                 'log': self.log_group}[name]
        if group is None:
            return False
        _x, y = group.translate_coordinates(self.page, 0, 0)
        self.scrolled.get_vadjustment().set_value(max(0, y - 12))
        return True

    def describe(self):
        """What the window shows, read back from its widgets, as plain data."""
        inspection = self.inspection
        state = {
            'status': self.status_label.get_label(),
            'spinner_spinning': self.spinner.get_spinning(),
            'inspection_state': inspection.state if inspection else None,
            'chain': [{
                'title': row.get_title(),
                'subtitle': row.get_subtitle(),
                'verdict_icon': row.verdict_icon,
                'verdict': row.entry.verdict,
                'fingerprint_sha256': row.fingerprint_row.fingerprint_label.get_text(),
            } for row in self.chain_rows],
            'properties': {title: row.value_label.get_label()
                           for title, row in getattr(self, 'property_rows', {}).items()}
            if self.connection_group is not None else {},
            'error': self.error_row.get_subtitle() if self.error_group is not None else None,
            'log': list(inspection.log) if inspection else [],
        }
        return state


def install_css():
    provider = Gtk.CssProvider()
    provider.load_from_data(b'textview.inspector-log { background: none; font-size: 0.85em; }')
    Gtk.StyleContext.add_provider_for_display(Gdk.Display.get_default(), provider,
                                              Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)
