# SPDX-License-Identifier: LGPL-2.1-or-later
"""The application: command line, actions and keyboard shortcuts, the TLS
context every inspection shares, and the test hook."""

import os
import sys
from gettext import gettext as _

import gi

gi.require_version('Gtk', '4.0')
gi.require_version('Adw', '1')
gi.require_version('GSecSock', '1.0')
from gi.repository import Adw, Gio, GLib, Gtk, GSecSock  # noqa: E402

from .connection import SessionPins  # noqa: E402
from .identities import Identities  # noqa: E402
from .window import SECURITY_CHOICES, InspectorWindow, install_css  # noqa: E402

APPLICATION_ID = 'org.gsecsock.ConnectionInspector'

# The environment variable that names an automation script (see
# automation.py): the test suite's hook, never used otherwise.
AUTOMATION_VARIABLE = 'GSECSOCK_INSPECTOR_AUTOMATE'

_SHORTCUTS_UI = '''<?xml version="1.0" encoding="UTF-8"?>
<interface>
  <object class="GtkShortcutsWindow" id="help_overlay">
    <property name="modal">True</property>
    <child>
      <object class="GtkShortcutsSection">
        <property name="section-name">shortcuts</property>
        <child>
          <object class="GtkShortcutsGroup">
            <property name="title">{connection}</property>
            {connection_shortcuts}
          </object>
        </child>
        <child>
          <object class="GtkShortcutsGroup">
            <property name="title">{general}</property>
            {general_shortcuts}
          </object>
        </child>
      </object>
    </child>
  </object>
</interface>
'''

_SHORTCUT_UI = '''<child>
  <object class="GtkShortcutsShortcut">
    <property name="title">{title}</property>
    <property name="accelerator">{accelerator}</property>
  </object>
</child>'''

# action: (accelerators, description), in the order of the shortcuts window.
CONNECTION_SHORTCUTS = [
    ('win.focus-address', ['<Control>l'], _('Type an address')),
    ('win.connect', ['<Control>Return'], _('Connect')),
    ('win.cancel', ['<Control>period'], _('Cancel connecting')),
]
GENERAL_SHORTCUTS = [
    ('win.show-help-overlay', ['<Control>question'], _('Keyboard shortcuts')),
    ('window.close', ['<Control>w'], _('Close the window')),
    ('app.quit', ['<Control>q'], _('Quit')),
]


def _shortcuts_ui(groups):
    def escape(text):
        return GLib.markup_escape_text(text)

    def shortcuts(entries):
        return '\n'.join(_SHORTCUT_UI.format(title=escape(title), accelerator=escape(' '.join(accels)))
                         for _action, accels, title in entries)
    return _SHORTCUTS_UI.format(connection=escape(_('Connection')),
                                connection_shortcuts=shortcuts(groups[0]),
                                general=escape(_('General')),
                                general_shortcuts=shortcuts(groups[1]))


def _filenames(value):
    """File names from an unpacked GVariant: bytestrings ('ay', NUL-terminated)
    arrive as lists of integers."""
    def decode(path):
        return os.fsdecode(bytes(path).rstrip(b'\0'))
    if value and isinstance(value[0], list):
        return [decode(path) for path in value]
    return decode(value)


class InspectorApplication(Adw.Application):

    def __init__(self, version):
        automated = bool(os.environ.get(AUTOMATION_VARIABLE))
        flags = Gio.ApplicationFlags.HANDLES_COMMAND_LINE
        if automated:
            # A test run must never hand its command line to a copy of the
            # program the user is running.
            flags |= Gio.ApplicationFlags.NON_UNIQUE
        super().__init__(application_id=APPLICATION_ID, flags=flags)
        self.version = version
        self.automated = automated
        self.pins = SessionPins()
        self.context = None
        self.identities = None
        self.automation = None
        self.automation_failed = False
        GLib.set_application_name(_('Connection Inspector'))

        self.add_main_option('certificates', ord('c'), GLib.OptionFlags.NONE, GLib.OptionArg.FILENAME,
                             _('Offer the client certificates of DIR (default: {directory})').format(
                                 directory=Identities.default_directory()), _('DIR'))
        self.add_main_option('ca-file', 0, GLib.OptionFlags.NONE, GLib.OptionArg.FILENAME_ARRAY,
                             _('Also trust the certificate authorities of FILE (PEM); repeatable'),
                             _('FILE'))
        self.add_main_option('no-system-trust', 0, GLib.OptionFlags.NONE, GLib.OptionArg.NONE,
                             _('Do not trust the system’s certificate authorities'), None)
        self.add_main_option('alpn', 0, GLib.OptionFlags.NONE, GLib.OptionArg.STRING,
                             _('Application protocols to offer, comma-separated '
                               '(default: h2,http/1.1)'), _('LIST'))
        self.add_main_option('starttls', 0, GLib.OptionFlags.NONE, GLib.OptionArg.STRING,
                             _('Fill in the STARTTLS protocol: smtp or imap'), _('PROTOCOL'))
        self.add_main_option('version', 0, GLib.OptionFlags.NONE, GLib.OptionArg.NONE,
                             _('Print the version and exit'), None)
        self.set_option_context_parameter_string(_('[HOST[:PORT]]'))
        self.set_option_context_summary(_('Connect to a TLS server and show its certificates and '
                                          'what the handshake negotiated.'))

    # ---- command line ---------------------------------------------------------

    def do_handle_local_options(self, options):
        if options.contains('version'):
            print(f'gsecsock-inspector {self.version} (gsecsock {GSecSock.get_version()}, '
                  f'{GSecSock.get_openssl_version()})')
            return 0
        return -1

    def do_command_line(self, command_line):
        options = {name: _filenames(value) if name in ('certificates', 'ca-file') else value
                   for name, value in command_line.get_options_dict().end().unpack().items()}
        arguments = command_line.get_arguments()[1:]
        starttls = options.get('starttls')
        if starttls is not None and starttls not in [key for key, _l, _p in SECURITY_CHOICES]:
            command_line.printerr(_('Unknown STARTTLS protocol “{name}”: use smtp or imap\n').format(
                name=starttls))
            return 2
        if len(arguments) > 1:
            command_line.printerr(_('Give at most one server address; got: {arguments}\n').format(
                arguments=' '.join(arguments)))
            return 2
        if self.context is None:
            try:
                self._configure(options)
            except GLib.Error as error:
                command_line.printerr(f'{error.message}\n')
                return 1
        window = self._window()
        if arguments or starttls:
            window.set_address(arguments[0] if arguments else window.address_row.get_text(),
                               starttls or 'tls')
        window.present()
        if self.automated and self.automation is None:
            from .automation import Automation
            self.automation = Automation(self, window, os.environ[AUTOMATION_VARIABLE])
            self.automation.start()
        return 0

    def _configure(self, options):
        def make_context(alpn):
            context = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT)
            context.set_use_system_trust(not options.get('no-system-trust', False))
            for path in options.get('ca-file') or []:
                context.add_trust_anchor_file(path)
            context.set_alpn_protocols(alpn)
            return context

        alpn = options.get('alpn', 'h2,http/1.1')
        # Contexts last as long as the program, so that reconnecting
        # resumes the session (shown as "Session reused"). ALPN names
        # protocols spoken over TLS from the start: a mail server upgraded
        # with STARTTLS gets none.
        self.context = {
            'tls': make_context([name.strip() for name in alpn.split(',') if name.strip()]),
            'starttls': make_context([]),
        }
        self.identities = Identities(options.get('certificates') or Identities.default_directory())
        if options.get('certificates') is None and self.identities.error is not None \
                and not os.path.isdir(self.identities.directory):
            # The default directory need not exist: no certificates then.
            self.identities.error = None

    # ---- startup ----------------------------------------------------------------

    def do_startup(self):
        Adw.Application.do_startup(self)
        install_css()
        for name, callback in [('about', self._on_about), ('quit', lambda *_a: self.quit())]:
            action = Gio.SimpleAction.new(name, None)
            action.connect('activate', callback)
            self.add_action(action)
        for action, accels, _title in CONNECTION_SHORTCUTS + GENERAL_SHORTCUTS:
            self.set_accels_for_action(action, accels)

    def _window(self):
        window = self.get_active_window()
        if window is None:
            window = InspectorWindow(self, self.context, self.pins, self.identities)
            builder = Gtk.Builder.new_from_string(
                _shortcuts_ui([CONNECTION_SHORTCUTS, GENERAL_SHORTCUTS]), -1)
            window.set_help_overlay(builder.get_object('help_overlay'))
        return window

    def _on_about(self, _action, _parameter):
        about = Adw.AboutWindow(
            transient_for=self.get_active_window(),
            application_name=_('Connection Inspector'),
            application_icon=APPLICATION_ID,
            developer_name=_('The gsecsock developers'),
            version=self.version,
            comments=_('Shows the certificates of a TLS server and what the handshake agreed on. '
                       'An example of gsecsock in a GNOME application.'),
            license_type=Gtk.License.LGPL_2_1,
            debug_info=f'gsecsock {GSecSock.get_version()}\n{GSecSock.get_openssl_version()}\n'
                       f'GTK {Gtk.get_major_version()}.{Gtk.get_minor_version()}.'
                       f'{Gtk.get_micro_version()}\n'
                       f'libadwaita {Adw.get_major_version()}.{Adw.get_minor_version()}.'
                       f'{Adw.get_micro_version()}\n')
        about.present()


def main(version, icon_dir=None):
    """Runs the application; icon_dir is where its icon is when it is not
    installed."""
    if icon_dir:
        def add_icons(_app):
            from gi.repository import Gdk
            Gtk.IconTheme.get_for_display(Gdk.Display.get_default()).add_search_path(icon_dir)
        application = InspectorApplication(version)
        application.connect('startup', add_icons)
    else:
        application = InspectorApplication(version)
    status = application.run(sys.argv)
    return 1 if status == 0 and application.automation_failed else status
