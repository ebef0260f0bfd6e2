# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyGObject overrides for GSecSock: only what makes Python natural.

Errors need nothing here: PyGObject already raises every GError as a
GLib.Error, whose ``code`` is a GSecSock.Error value and which
``error.matches(GSecSock.error_quark(), GSecSock.Error.NOT_TLS)`` tests.
"""

import functools

from gi.repository import GLib, GObject

from ..module import get_introspection_module
from ..overrides import override

GSecSock = get_introspection_module('GSecSock')

__all__ = []

# read_all() asks for this much at a time when it reads to the end of the
# stream: one TLS record holds at most 16 KiB.
_READ_CHUNK = 64 * 1024


class _ClassOrInstanceConnect:
    """``SecureSocket.connect`` is two things. From the class it is
    gsecsock_secure_socket_connect(), which resolves, connects and
    handshakes::

        sock = GSecSock.SecureSocket.connect(context, 'example.org', 443, None)

    From a socket it is GObject's signal connect, as on any object (without
    this, the static function would shadow it)::

        sock.connect('verify-certificate', on_verify)
    """

    def __init__(self, static_connect):
        self._static_connect = static_connect

    def __get__(self, instance, owner):
        if instance is None:
            return self._static_connect
        return functools.partial(GObject.Object.connect, instance)


class SecureSocket(GSecSock.SecureSocket):
    connect = _ClassOrInstanceConnect(GSecSock.SecureSocket.connect)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        """Closes the socket, which sends the TLS close_notify and closes the
        base stream. An error while closing is raised, unless the block is
        already leaving with an exception: that one is the one that matters.
        """
        try:
            self.close(None)
        except GLib.Error:
            if exc_type is None:
                raise
        return False

    def write_all(self, data, cancellable=None):
        """Writes all of ``data`` (any bytes-like object), blocking until it
        has been sent; raises GLib.Error on failure."""
        self.get_output_stream().write_all(bytes(data), cancellable)

    def read_all(self, count=-1, cancellable=None):
        """Reads ``count`` bytes, or up to the end of the stream when
        ``count`` is negative, blocking until then; returns them as
        ``bytes``. The result is shorter than ``count`` only when the stream
        ended first. A connection cut without a TLS close_notify raises
        GLib.Error (GSecSock.Error.EOF) rather than returning short data.

        Gio.InputStream.read_all() cannot be called from Python (its buffer
        is caller-allocated), hence this helper.
        """
        stream = self.get_input_stream()
        chunks = []
        remaining = count
        while remaining != 0:
            size = _READ_CHUNK if remaining < 0 else min(remaining, _READ_CHUNK)
            chunk = stream.read_bytes(size, cancellable).get_data()
            if not chunk:
                break
            chunks.append(chunk)
            if remaining > 0:
                remaining -= len(chunk)
        return b''.join(chunks)


SecureSocket = override(SecureSocket)
__all__.append('SecureSocket')
