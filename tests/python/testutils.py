# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Python tests share. Run them through `meson test --suite python`,
which points GI_TYPELIB_PATH and LD_LIBRARY_PATH at the uninstalled library
and GSECSOCK_TEST_PKI_DIR at the generated test PKI."""

import os

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('GSecSock', '1.0')

from gi.repository import GLib, GSecSock  # noqa: E402

__all__ = ['GLib', 'GSecSock', 'pki_path']


def pki_path(name):
    """The path of a file of the test PKI (see tests/make-test-pki.sh)."""
    directory = os.environ.get('GSECSOCK_TEST_PKI_DIR')
    if not directory:
        raise RuntimeError('GSECSOCK_TEST_PKI_DIR is not set: run the tests through "meson test"')
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        raise RuntimeError(f'Test PKI file {path} is missing: was tests/make-test-pki.sh run?')
    return path
