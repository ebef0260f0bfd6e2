# SPDX-License-Identifier: LGPL-2.1-or-later
"""The questions the handshake asks the user, as Adw.MessageDialogs. Each
calls its callback exactly once, with the answer; closing the dialog any
other way (Escape, the window going away) counts as the safe answer."""

from gettext import gettext as _

from gi.repository import Adw, GLib, Gtk

from . import explain


def _escape(text):
    return GLib.markup_escape_text(text)


class _Dialog(Adw.MessageDialog):
    """A message dialog whose answer callback runs once, whatever closes it."""

    def __init__(self, parent, kind, **properties):
        super().__init__(transient_for=parent, modal=True, destroy_with_parent=True, **properties)
        self.kind = kind
        self._answered = False
        self.connect('response', self._on_response)

    def _on_response(self, dialog, response):
        if not self._answered:
            self._answered = True
            self.answered(response)
        # A click closes the dialog itself; response() called directly
        # (keyboard, automation) does not.
        if self.get_visible():
            self.close()

    def answered(self, response):
        raise NotImplementedError

    def dismiss(self):
        """Closes the dialog because its question no longer stands."""
        self.response(self.get_close_response())


class UntrustedCertificateDialog(_Dialog):
    """Connect to a server whose certificate could not be verified?"""

    def __init__(self, parent, question, answer):
        super().__init__(parent, 'verify',
                         heading=_('Connect to an Unverified Server?'),
                         body_use_markup=True)
        self.question = question
        self._answer = answer
        host = question.host if ':' not in question.host else f'[{question.host}]'
        lines = [_('The identity of <b>{server}</b> could not be verified.').format(
            server=_escape(f'{host}:{question.port}')), '']
        lines += [f'• {_escape(sentence)}' for sentence in question.sentences]
        lines += ['', _('Someone may be impersonating the server to read or change what you '
                        'send. Connect only if you know this certificate is the right one.')]
        self.set_body('\n'.join(lines))

        extra = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6)
        caption = Gtk.Label(label=_('SHA-256 fingerprint of the certificate'), xalign=0)
        caption.add_css_class('caption-heading')
        caption.add_css_class('dim-label')
        fingerprint = Gtk.Label(label=explain.format_fingerprint(
            question.certificate.get_fingerprint_sha256()), xalign=0, wrap=True,
            wrap_mode=2, selectable=True)  # 2: Pango.WrapMode.WORD_CHAR
        fingerprint.add_css_class('monospace')
        fingerprint.add_css_class('caption')
        self.remember = Gtk.CheckButton(label=_('_Remember this decision for this session'),
                                        use_underline=True, margin_top=6)
        extra.append(caption)
        extra.append(fingerprint)
        extra.append(self.remember)
        self.set_extra_child(extra)

        self.add_response('cancel', _('_Cancel'))
        self.add_response('connect', _('Connect _Anyway'))
        self.set_response_appearance('connect', Adw.ResponseAppearance.DESTRUCTIVE)
        # Refusing is what Enter and Escape do.
        self.set_default_response('cancel')
        self.set_close_response('cancel')

    def answered(self, response):
        self._answer(response == 'connect', self.remember.get_active())


class ClientCertificateDialog(_Dialog):
    """Which of the user's certificates to send to a server that asks."""

    def __init__(self, parent, question, answer, directory_label):
        super().__init__(parent, 'client-certificate',
                         heading=_('Identify Yourself?'),
                         body_use_markup=True)
        self.question = question
        self._answer = answer
        server = _escape(f'{question.host}:{question.port}')
        if question.acceptable_issuers:
            authorities = explain.quote_list([explain.common_name(dn)
                                              for dn in question.acceptable_issuers])
            accepted = _('It accepts certificates issued by {authorities}.').format(
                authorities=_escape(authorities))
        else:
            accepted = _('It does not say which authorities it accepts.')
        if question.candidates:
            choose = _('Choose the certificate to send, or continue without one.')
        else:
            choose = _('You have no such certificate in {directory}.').format(
                directory=_escape(directory_label))
        self.set_body('\n'.join([
            _('<b>{server}</b> asks for a certificate that proves who you are.').format(server=server),
            accepted, '', choose]))

        self.rows = []
        self.listbox = None
        if question.candidates:
            # Browse mode: exactly one row is always selected, whether there
            # is one certificate or several; a check mark shows which.
            self.listbox = Gtk.ListBox(selection_mode=Gtk.SelectionMode.BROWSE)
            self.listbox.add_css_class('boxed-list')
            for certificate in question.candidates:
                row = Adw.ActionRow(
                    title=_escape(explain.common_name(certificate.get_subject())),
                    subtitle=_escape(_('Issued by {issuer}, valid until {date}').format(
                        issuer=explain.common_name(certificate.get_issuer()),
                        date=explain.format_date(certificate.get_not_valid_after()))),
                    activatable=True)
                row.certificate = certificate
                row.check = Gtk.Image(icon_name='object-select-symbolic')
                row.add_suffix(row.check)
                self.listbox.append(row)
                self.rows.append(row)
            self.listbox.connect('row-selected', self._on_row_selected)
            self.listbox.select_row(self.rows[0])
            self.set_extra_child(self.listbox)

        self.add_response('none', _('Continue _Without'))
        self.add_response('send', _('_Send Certificate'))
        self.set_response_appearance('send', Adw.ResponseAppearance.SUGGESTED)
        self.set_response_enabled('send', bool(question.candidates))
        self.set_default_response('send' if question.candidates else 'none')
        self.set_close_response('none')

    def _on_row_selected(self, _listbox, selected):
        for row in self.rows:
            row.check.set_opacity(1 if row is selected else 0)

    def selected(self):
        row = self.listbox.get_selected_row() if self.listbox is not None else None
        return row.certificate if row is not None else None

    def answered(self, response):
        self._answer(self.selected() if response == 'send' else None)


class PasswordDialog(_Dialog):
    """The password of an encrypted private key."""

    def __init__(self, parent, description, retrying, reply):
        super().__init__(parent, 'password',
                         heading=_('Wrong Password') if retrying else _('Password Needed'),
                         body_use_markup=True)
        self._reply = reply
        # The description is the library's: "the private key in “FILE”".
        if retrying:
            body = _('That password did not unlock {what}. Try again.')
        else:
            body = _('Type the password that unlocks {what}.')
        body = body.format(what=_escape(description))
        self.set_body(body)
        self.entry = Gtk.PasswordEntry(show_peek_icon=True, activates_default=True)
        self.entry.set_property('placeholder-text', _('Password'))
        self.set_extra_child(self.entry)
        self.add_response('cancel', _('_Cancel'))
        self.add_response('unlock', _('_Unlock'))
        self.set_response_appearance('unlock', Adw.ResponseAppearance.SUGGESTED)
        self.set_default_response('unlock')
        self.set_close_response('cancel')
        self.connect('map', lambda *_args: self.entry.grab_focus())

    def answered(self, response):
        self._reply(self.entry.get_text() if response == 'unlock' else None)
