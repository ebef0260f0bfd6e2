# SPDX-License-Identifier: LGPL-2.1-or-later
"""Certificates and their problems in plain words, for people rather than
for TLS experts: "It expired on 1 January 2021", not "X509_V_ERR_CERT_HAS_EXPIRED".

Nothing here touches GTK, so it can be used (and tested) without a display."""

from gettext import gettext as _

import gi

gi.require_version('GSecSock', '1.0')
from gi.repository import GSecSock  # noqa: E402

Flags = GSecSock.CertificateFlags

# Every flag this module explains, in the order the sentences are given:
# who vouches for the certificate first, then its dates, its name, the rest.
EXPLAINED_FLAGS = (
    Flags.SELF_SIGNED, Flags.UNKNOWN_CA, Flags.INCOMPLETE_CHAIN, Flags.REVOKED,
    Flags.EXPIRED, Flags.NOT_ACTIVATED, Flags.BAD_IDENTITY, Flags.INSECURE,
    Flags.GENERIC_ERROR, Flags.REVOCATION_UNKNOWN,
)


def split_dn(dn):
    """The (attribute, value) pairs of an RFC 2253 distinguished name such as
    'CN=Example CA,O=Example\\, Inc.', escapes resolved."""
    pairs, current, escaped = [], [], False
    for char in dn or '':
        if escaped:
            current.append(char)
            escaped = False
        elif char == '\\':
            escaped = True
        elif char in ',+':
            pairs.append(''.join(current))
            current = []
        else:
            current.append(char)
    if current:
        pairs.append(''.join(current))
    result = []
    for pair in pairs:
        attribute, _sep, value = pair.partition('=')
        result.append((attribute.strip(), value.strip()))
    return result


def common_name(dn):
    """The most telling name in a distinguished name: its CN, else its O,
    else the whole name."""
    pairs = dict(split_dn(dn))
    return pairs.get('CN') or pairs.get('O') or dn or _('(no name)')


def format_date(date_time):
    """A date as people write it, in the local time zone: '1 January 2021'."""
    return date_time.to_local().format('%-d %B %Y')


def certificate_names(certificate):
    """The host names and addresses a certificate is valid for."""
    names = list(certificate.get_dns_names() or []) + list(certificate.get_ip_addresses() or [])
    if not names:
        # Without subject alternative names, only the common name is left.
        names = [common_name(certificate.get_subject())]
    return names


def quote_list(names):
    """'“a”', '“a” and “b”', '“a”, “b” and “c”'."""
    quoted = [f'“{name}”' for name in names]
    if len(quoted) == 1:
        return quoted[0]
    # Translators: joins the last two items of a list of names.
    return _('{first} and {last}').format(first=', '.join(quoted[:-1]), last=quoted[-1])


def problem_sentences(certificate, errors, depth, peer_name):
    """One sentence for each problem of errors (GSecSock.CertificateFlags) found
    with certificate, the depth-th of the peer's chain (0: the server's own),
    for a connection to peer_name."""
    if depth == 0:
        # Translators: the subject of the sentences below, for the server's own certificate.
        what = _('The certificate')
    else:
        # Translators: the subject of the sentences below, for a certificate of the chain.
        what = _('The certificate of the authority “{name}”').format(
            name=common_name(certificate.get_subject()))
    issuer = common_name(certificate.get_issuer())
    sentences = []
    for flag in EXPLAINED_FLAGS:
        if not errors & flag:
            continue
        if flag == Flags.SELF_SIGNED:
            sentences.append(_('{what} is self-signed: it vouches for itself, and no authority '
                               'this computer trusts vouches for it.').format(what=what))
        elif flag == Flags.UNKNOWN_CA:
            if errors & Flags.SELF_SIGNED:
                continue   # said above, in better words
            sentences.append(_('{what} was issued by “{issuer}”, an authority this computer '
                               'does not trust.').format(what=what, issuer=issuer))
        elif flag == Flags.INCOMPLETE_CHAIN:
            sentences.append(_('{what} was issued by “{issuer}”, but the server did not send '
                               'that authority’s certificate, so it cannot be traced to an '
                               'authority this computer trusts.').format(what=what, issuer=issuer))
        elif flag == Flags.REVOKED:
            sentences.append(_('{what} has been revoked by “{issuer}”, which issued it: it must '
                               'not be used any more.').format(what=what, issuer=issuer))
        elif flag == Flags.EXPIRED:
            sentences.append(_('{what} expired on {date}.').format(
                what=what, date=format_date(certificate.get_not_valid_after())))
        elif flag == Flags.NOT_ACTIVATED:
            sentences.append(_('{what} is not valid before {date}: it is too early to use it '
                               '(or this computer’s clock is wrong).').format(
                what=what, date=format_date(certificate.get_not_valid_before())))
        elif flag == Flags.BAD_IDENTITY:
            sentences.append(_('{what} was issued for {names}, not for “{host}”.').format(
                what=what, names=quote_list(certificate_names(certificate)), host=peer_name))
        elif flag == Flags.INSECURE:
            sentences.append(_('{what} relies on a key or a signature algorithm too weak to be '
                               'safe.').format(what=what))
        elif flag == Flags.GENERIC_ERROR:
            sentences.append(_('{what} is invalid: badly signed, malformed, or not meant for '
                               'this use.').format(what=what))
        elif flag == Flags.REVOCATION_UNKNOWN:
            sentences.append(_('{what} could not be checked for revocation: no up-to-date list '
                               'of revoked certificates from “{issuer}” is available.').format(
                what=what, issuer=issuer))
    if errors and not sentences:
        # A flag newer than this program: say so rather than nothing.
        sentences.append(_('{what} has a problem this program cannot describe ({flags}).').format(
            what=what, flags=flag_names(errors)))
    return sentences


def flag_names(errors):
    """The problems as the library names them: 'self-signed, unknown-ca'."""
    return ', '.join(nick for nick in errors.value_nicks if nick != 'no-flags')


def short_verdict(errors):
    """A few words for a certificate's verification result, for a list row."""
    if not errors:
        return _('Verified')
    words = {
        Flags.SELF_SIGNED: _('self-signed'),
        Flags.UNKNOWN_CA: _('unknown issuer'),
        Flags.INCOMPLETE_CHAIN: _('incomplete chain'),
        Flags.REVOKED: _('revoked'),
        Flags.EXPIRED: _('expired'),
        Flags.NOT_ACTIVATED: _('not yet valid'),
        Flags.BAD_IDENTITY: _('issued for another name'),
        Flags.INSECURE: _('weak cryptography'),
        Flags.GENERIC_ERROR: _('invalid'),
        Flags.REVOCATION_UNKNOWN: _('revocation unknown'),
    }
    listed = [words[flag] for flag in EXPLAINED_FLAGS if errors & flag]
    if errors & Flags.SELF_SIGNED and Flags.UNKNOWN_CA & errors:
        listed.remove(words[Flags.UNKNOWN_CA])
    return ', '.join(listed) or flag_names(errors)


def protocol_name(version):
    """'TLS 1.3' for GSecSock.ProtocolVersion.TLS_1_3."""
    names = {
        GSecSock.ProtocolVersion.TLS_1_0: 'TLS 1.0',
        GSecSock.ProtocolVersion.TLS_1_1: 'TLS 1.1',
        GSecSock.ProtocolVersion.TLS_1_2: 'TLS 1.2',
        GSecSock.ProtocolVersion.TLS_1_3: 'TLS 1.3',
    }
    return names.get(version, _('Unknown'))


def format_fingerprint(fingerprint):
    """Fingerprints as openssl and most tools print them: upper case."""
    return (fingerprint or '').upper()
