# SPDX-License-Identifier: LGPL-2.1-or-later
"""The test hook: when GSECSOCK_INSPECTOR_AUTOMATE names a JSON script, the
application plays it — types an address, presses Connect, answers the
dialogs as they appear — through the same widgets and signals a person
uses (the Connect button, Adw.MessageDialog.response()), then writes what
the window shows to a JSON report and saves screenshots.

Script:
    {"report": "/path/report.json", "screenshot_dir": "/path", "timeout": 20,
     "steps": [
       {"do": "connect", "address": "localhost:4433", "security": "tls"},
       {"do": "answer", "dialog": "verify", "response": "connect", "remember": true,
        "screenshot": "untrusted.png"},
       {"do": "answer", "dialog": "client-certificate", "select": "CN=…", "response": "send"},
       {"do": "answer", "dialog": "password", "password": "secret", "response": "unlock"},
       {"do": "cancel", "after": 0.5},
       {"do": "wait-finished"},
       {"do": "screenshot", "name": "connected.png"},
       {"do": "screenshot", "name": "details.png", "scroll_to": "connection"}]}

A dialog that appears when no step expects it fails the run: that is how a
test knows a remembered decision was used. The report says whether the
script ran to the end ("ok") and, if not, why ("failure"); the program
then exits with status 1."""

import ctypes
import json
import os
import sys
import time

from gi.repository import GLib, Graphene, Gtk, Gdk

# How often the script checks whether what it waits for has happened.
_POLL_MS = 50
# How long the frame clock is watched while a dialog waits: the window must
# keep drawing (the spinner turns) while the handshake is paused.
_FRAMES_WINDOW_MS = 1000


class AutomationFailure(Exception):
    pass


class _Gtk:
    """The few GTK calls PyGObject 3.42 (Debian 12) cannot make: it has no
    wrapper for GskRenderNode, so a snapshot cannot become a texture from
    Python. These calls pass the node from C to C and never expose it."""

    def __init__(self):
        gtk = ctypes.CDLL('libgtk-4.so.1')
        gtk.gtk_snapshot_to_node.restype = ctypes.c_void_p
        gtk.gtk_snapshot_to_node.argtypes = [ctypes.c_void_p]
        gtk.gsk_renderer_render_texture.restype = ctypes.c_void_p
        gtk.gsk_renderer_render_texture.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                                    ctypes.c_void_p]
        gtk.gdk_texture_save_to_png.restype = ctypes.c_int
        gtk.gdk_texture_save_to_png.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        gtk.gsk_render_node_unref.argtypes = [ctypes.c_void_p]
        gtk.gsk_render_node_unref.restype = None
        gobject = ctypes.CDLL('libgobject-2.0.so.0')
        gobject.g_object_unref.argtypes = [ctypes.c_void_p]
        gobject.g_object_unref.restype = None
        capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
        capsule_pointer.restype = ctypes.c_void_p
        capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        self.gtk, self.gobject, self._capsule_pointer = gtk, gobject, capsule_pointer

    def pointer(self, wrapper):
        return self._capsule_pointer(wrapper.__gpointer__, None)

    def save_snapshot(self, snapshot, renderer, path):
        node = self.gtk.gtk_snapshot_to_node(self.pointer(snapshot))
        if not node:
            raise AutomationFailure(f'nothing to draw for {path}')
        try:
            texture = self.gtk.gsk_renderer_render_texture(self.pointer(renderer), node, None)
            try:
                if not self.gtk.gdk_texture_save_to_png(texture, os.fsencode(path)):
                    raise AutomationFailure(f'could not write {path}')
            finally:
                self.gobject.g_object_unref(texture)
        finally:
            self.gtk.gsk_render_node_unref(node)


def save_screenshot(window, path, dialog=None):
    """Saves window as a PNG; with dialog, the dialog is drawn centred over
    the dimmed window, the way GNOME shows an attached modal dialog."""
    width, height = window.get_width(), window.get_height()
    snapshot = Gtk.Snapshot()
    Gtk.WidgetPaintable.new(window).snapshot(snapshot, width, height)
    if dialog is not None:
        dim = Gdk.RGBA()
        dim.parse('rgba(0, 0, 0, 0.35)')
        snapshot.append_color(dim, Graphene.Rect().init(0, 0, width, height))
        dialog_width, dialog_height = dialog.get_width(), dialog.get_height()
        snapshot.save()
        snapshot.translate(Graphene.Point().init(max(0, (width - dialog_width) / 2),
                                                 max(0, (height - dialog_height) / 2)))
        Gtk.WidgetPaintable.new(dialog).snapshot(snapshot, dialog_width, dialog_height)
        snapshot.restore()
    _Gtk().save_snapshot(snapshot, window.get_renderer(), path)


class Automation:

    def __init__(self, application, window, script_path):
        self.application = application
        self.window = window
        with open(script_path, encoding='utf-8') as script:
            self.script = json.load(script)
        self.report_path = self.script['report']
        self.screenshot_dir = self.script.get('screenshot_dir') or os.path.dirname(self.report_path)
        self.timeout = float(self.script.get('timeout', 20))
        self.report = {'ok': False, 'failure': None, 'dialogs': [], 'inspections': [],
                       'screenshots': []}
        self.open_dialogs = []
        self.expected_dialog = None
        self.finished_count = 0
        self.done = False
        window.connect('dialog-presented', self._on_dialog_presented)
        window.connect('inspection-finished', self._on_inspection_finished)

    # ---- the runner ---------------------------------------------------------

    def start(self):
        self._steps = self._run_steps()
        self._waiting = None
        GLib.timeout_add(_POLL_MS, self._tick)

    def _run_steps(self):
        # Let the window map and draw before anything happens.
        yield ('until', lambda: self.window.get_mapped(), 'the window to appear')
        yield ('sleep', 0.3)
        steps = self.script['steps']
        for number, step in enumerate(steps, 1):
            self.step_name = f'step {number} ({step.get("do")})'
            # A question may appear before the step that answers it starts
            # (while connecting, or right after the previous answer: a
            # password after the choice of a certificate): expected, if the
            # next step answers it.
            following = steps[number] if number < len(steps) else {}
            self.next_expected_dialog = following.get('dialog') \
                if following.get('do') == 'answer' else None
            self.expected_dialog = self.next_expected_dialog
            yield from getattr(self, '_step_' + step['do'].replace('-', '_'))(step)
        yield ('sleep', 0.1)

    def _tick(self):
        if self.done:
            return GLib.SOURCE_REMOVE
        try:
            while True:
                if self._waiting is not None:
                    kind, argument, deadline, what = self._waiting
                    if kind == 'sleep' and time.monotonic() < argument:
                        return GLib.SOURCE_CONTINUE
                    if kind == 'until' and not argument():
                        if time.monotonic() > deadline:
                            raise AutomationFailure(f'{self.step_name}: timed out after '
                                                    f'{self.timeout:g} s waiting for {what}')
                        return GLib.SOURCE_CONTINUE
                    self._waiting = None
                request = next(self._steps)
                if request[0] == 'sleep':
                    self._waiting = ('sleep', time.monotonic() + request[1], None, None)
                else:
                    self._waiting = ('until', request[1], time.monotonic() + self.timeout,
                                     request[2])
        except StopIteration:
            self._end(None)
        except AutomationFailure as failure:
            self._end(str(failure))
        except Exception as error:   # a bug in the hook itself: report it too
            self._end(f'{type(error).__name__}: {error}')
        return GLib.SOURCE_REMOVE

    def _end(self, failure):
        if self.done:
            return
        self.done = True
        self.report['ok'] = failure is None
        self.report['failure'] = failure
        with open(self.report_path, 'w', encoding='utf-8') as report:
            json.dump(self.report, report, indent=2)
        if failure is not None:
            print(f'gsecsock-inspector automation failed: {failure}', file=sys.stderr)
        self.application.automation_failed = failure is not None
        for dialog in list(self.open_dialogs):
            dialog.close()
        self.application.quit()

    # ---- what happens in the window ---------------------------------------------

    def _on_dialog_presented(self, window, dialog):
        record = {'kind': dialog.kind, 'heading': dialog.get_heading(), 'body': dialog.get_body()}
        if dialog.kind == 'client-certificate':
            record['candidates'] = [row.certificate.get_subject() for row in dialog.rows]
            record['acceptable_issuers'] = list(dialog.question.acceptable_issuers)
        self.report['dialogs'].append(record)
        self.open_dialogs.append(dialog)
        dialog.connect('response', lambda d, _r: self.open_dialogs.remove(d)
                       if d in self.open_dialogs else None)
        if self.expected_dialog != dialog.kind:
            # Fail from the main loop, not from inside the signal emission.
            message = (f'{getattr(self, "step_name", "start")}: unexpected {dialog.kind} dialog: '
                       f'{dialog.get_heading()}')
            GLib.idle_add(lambda: self._end(message) and False)

    def _on_inspection_finished(self, window):
        self.finished_count += 1

    # ---- steps ----------------------------------------------------------------------

    def _step_connect(self, step):
        self.window.set_address(step['address'], step.get('security', 'tls'))
        self.connects_before = self.finished_count
        # What a click on Connect does.
        self.window.connect_button.activate()
        yield ('until', lambda: self.window.attempt is not None, 'the connection to start')

    def _step_answer(self, step):
        kind = step['dialog']
        self.expected_dialog = kind
        yield ('until', lambda: any(d.kind == kind for d in self.open_dialogs),
               f'a {kind} dialog')
        dialog = next(d for d in self.open_dialogs if d.kind == kind)
        record = self.report['dialogs'][-1]
        yield ('until', lambda: dialog.get_mapped(), f'the {kind} dialog to be shown')

        # The handshake is paused; the window must keep running meanwhile.
        frames = []
        tick = self.window.spinner.add_tick_callback(lambda *_a: frames.append(1) or True)
        yield ('sleep', _FRAMES_WINDOW_MS / 1000)
        self.window.spinner.remove_tick_callback(tick)
        record['frames_while_waiting'] = len(frames)
        record['spinner_spinning'] = self.window.spinner.get_spinning()
        record['status_while_waiting'] = self.window.status_label.get_label()

        if step.get('screenshot'):
            self._screenshot(step['screenshot'], dialog)
        if kind == 'verify':
            dialog.remember.set_active(bool(step.get('remember')))
        elif kind == 'client-certificate' and 'select' in step:
            rows = [row for row in dialog.rows if row.certificate.get_subject() == step['select']]
            if not rows:
                raise AutomationFailure(f'{self.step_name}: no certificate {step["select"]} '
                                        f'among {record.get("candidates")}')
            dialog.listbox.select_row(rows[0])   # what a click on the row does
        elif kind == 'password':
            dialog.entry.set_text(step.get('password', ''))
        self.expected_dialog = self.next_expected_dialog
        dialog.response(step['response'])
        yield ('sleep', 0.05)

    def _step_cancel(self, step):
        # Wait until the handshake is under way, then do what the Cancel
        # button does.
        yield ('until', lambda: self.window.attempt is not None
               and self.window.attempt.sock is not None, 'the handshake to start')
        yield ('sleep', float(step.get('after', 0.3)))
        self.window.cancel_button.activate()

    def _step_wait_finished(self, step):
        before = self.connects_before
        yield ('until', lambda: self.finished_count > before, 'the connection to end')
        # Let the result pane draw.
        yield ('sleep', 0.4)
        self.report['inspections'].append(self.window.describe())

    def _step_screenshot(self, step):
        if step.get('scroll_to'):
            if not self.window.scroll_to_group(step['scroll_to']):
                raise AutomationFailure(f'{self.step_name}: the window shows no '
                                        f'{step["scroll_to"]} group')
            yield ('sleep', 0.3)
        self._screenshot(step['name'], None)
        yield ('sleep', 0)

    def _step_sleep(self, step):
        yield ('sleep', float(step['seconds']))

    def _screenshot(self, name, dialog):
        os.makedirs(self.screenshot_dir, exist_ok=True)
        path = os.path.join(self.screenshot_dir, name)
        save_screenshot(self.window, path, dialog)
        self.report['screenshots'].append(path)
