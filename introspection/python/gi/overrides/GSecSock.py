# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyGObject overrides for GSecSock: only what makes Python natural."""

import functools

from gi.repository import GObject

from ..module import get_introspection_module
from ..overrides import override

GSecSock = get_introspection_module('GSecSock')

__all__ = []


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


SecureSocket = override(SecureSocket)
__all__.append('SecureSocket')
