# SPDX-License-Identifier: LGPL-2.1-or-later
"""The user's client certificates: a directory read as a
GSecSock.CertificateStore (certificates and keys in PEM, DER or PKCS#12,
paired by public key), filtered by the authorities a server accepts, and
unlocked with a password when their key is encrypted.

Passwords: GSecSock.SecureSocketContext::password-requested is emitted
synchronously by the loading function, and cannot be postponed like the
handshake's decisions. Rather than run a nested main loop inside it (which
would block the handshake's own callbacks in odd ways), a lookup is first
tried without a password; if the key turns out to be encrypted, the user is
asked with an ordinary asynchronous dialog, and the lookup is tried again
with the answer. The handshake waits meanwhile, its decision postponed."""

import os
from gettext import gettext as _

from gi.repository import GLib, GSecSock

from .explain import split_dn

# How far up a chain of authorities found in the store a certificate is
# followed to an issuer the server accepts.
_MAX_CHAIN = 10


def _normalized_dn(dn):
    return tuple((attribute.upper(), value) for attribute, value in split_dn(dn))


class Identities:
    """The certificates of one directory. error says why there are none,
    when the directory could not be read."""

    def __init__(self, directory):
        self.directory = directory
        self.store = None
        self.error = None
        if directory is None:
            return
        try:
            self.store = GSecSock.CertificateStore.new_for_directory(directory)
        except GLib.Error as error:
            self.error = error.message

    def certificates(self):
        """Every certificate of the store that could be a client's identity
        (authorities left out)."""
        if self.store is None:
            return []
        return [certificate for certificate in self.store.list_certificates()
                if not certificate.get_is_ca()]

    def matching(self, acceptable_issuers):
        """The certificates issued, directly or through authorities of the
        store, by one of acceptable_issuers (distinguished names); all of
        them when the server named no authority."""
        candidates = self.certificates()
        if not acceptable_issuers:
            return candidates
        accepted = {_normalized_dn(dn) for dn in acceptable_issuers}
        authorities = {}
        if self.store is not None:
            for certificate in self.store.list_certificates():
                authorities.setdefault(_normalized_dn(certificate.get_subject()), certificate)

        def issued_by_accepted(certificate):
            for _i in range(_MAX_CHAIN):
                issuer = _normalized_dn(certificate.get_issuer())
                if issuer in accepted:
                    return True
                parent = authorities.get(issuer)
                if parent is None or parent.equal(certificate):
                    return False
                certificate = parent
            return False
        return [certificate for certificate in candidates if issued_by_accepted(certificate)]

    def unlock(self, certificate, ask_password, finished):
        """Loads certificate's private key. When it is encrypted,
        ask_password(description, retrying, reply) is called, and must call
        reply(password) or reply(None) to give up, from the main loop,
        whenever the user answers. Then finished(certificate_with_key, None)
        or finished(None, error_message)."""
        password_context = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT)
        state = {'password': None, 'description': None}

        def on_password_requested(context, description, attempt):
            state['description'] = description
            # Only one try per password typed: a wrong one is asked again
            # by the dialog, not by repeating the same string.
            return state['password'] if attempt == 1 else None

        password_context.connect('password-requested', on_password_requested)
        fingerprint = certificate.get_fingerprint_sha256()

        def attempt(retrying):
            try:
                unlocked = self.store.lookup(fingerprint, GSecSock.Lookup.FINGERPRINT_SHA256,
                                             password_context)
            except GLib.Error as error:
                if (error.matches(GSecSock.error_quark(), GSecSock.Error.BAD_PASSWORD)
                        and state['description'] is not None):
                    ask_password(state['description'], retrying, on_reply)
                    return
                finished(None, error.message)
                return
            finished(unlocked, None)

        def on_reply(password):
            if password is None:
                finished(None, _('No password was given for {file}').format(
                    file=state['description']))
                return
            state['password'] = password
            attempt(retrying=True)

        attempt(retrying=False)

    @staticmethod
    def default_directory():
        """Where the certificates are looked for when no directory is
        given: $XDG_DATA_HOME/gsecsock-inspector/certificates."""
        return os.path.join(GLib.get_user_data_dir(), 'gsecsock-inspector', 'certificates')
