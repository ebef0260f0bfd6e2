/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__GSECSOCK_H_INSIDE__) && !defined(GSECSOCK_COMPILATION)
#error "Only <gsecsock/gsecsock.h> can be included directly."
#endif

#include <glib.h>
#include <gsecsock/gsecsock-version.h>

G_BEGIN_DECLS

/**
 * GSECSOCK_ERROR:
 *
 * The error domain of gsecsock's TLS errors. Errors of the underlying
 * transport (a refused connection, a reset, a timeout) stay in `G_IO_ERROR`.
 *
 * Since: 0.1
 */
#define GSECSOCK_ERROR (gsecsock_error_quark ())

/**
 * GSecSockError:
 * @GSECSOCK_ERROR_HANDSHAKE_FAILED: the handshake failed for a reason not
 *   covered by a more specific code (for example an alert from the peer).
 * @GSECSOCK_ERROR_CERTIFICATE_REJECTED: the peer's certificate was rejected
 *   by verification; the message says why and
 *   [property@GSecSock.SecureSocket:certificate-errors] has every problem.
 * @GSECSOCK_ERROR_NOT_TLS: the peer does not speak TLS (for example it sent
 *   plain text or HTTP).
 * @GSECSOCK_ERROR_EOF: the peer closed the connection without a TLS
 *   close_notify: the data may have been truncated.
 * @GSECSOCK_ERROR_PROTOCOL_VERSION: the two sides have no TLS version in
 *   common, or the peer asked for a version outside the allowed range; or
 *   a version was asked for that cannot be enabled (SSL 2.0 or 3.0, a
 *   version this OpenSSL lacks, TLS 1.0 or 1.1 above security level 0).
 * @GSECSOCK_ERROR_BAD_CERTIFICATE_FILE: a certificate file could not be read
 *   or holds no valid certificate.
 * @GSECSOCK_ERROR_BAD_KEY_FILE: a private key file could not be read or holds
 *   no valid key.
 * @GSECSOCK_ERROR_KEY_MISMATCH: the private key does not belong to the
 *   certificate.
 * @GSECSOCK_ERROR_CLOSED: the socket was already closed.
 * @GSECSOCK_ERROR_MISUSE: the API was used in a way that cannot work (for
 *   example a server socket with a peer name, or a base stream that is not
 *   pollable); the message says what to change.
 * @GSECSOCK_ERROR_ALPN: no application protocol in common with the peer.
 * @GSECSOCK_ERROR_PROTOCOL: the peer broke the TLS protocol after the
 *   handshake (a corrupt, forged or unexpected record, or a fatal alert).
 * @GSECSOCK_ERROR_BAD_PASSWORD: an encrypted private key could not be
 *   decrypted: no password was given (the
 *   [signal@GSecSock.SecureSocketContext::password-requested] handler
 *   returned %NULL, or there was none), or every password tried was wrong.
 * @GSECSOCK_ERROR_NOT_FOUND: no certificate of a
 *   [class@GSecSock.CertificateStore] matches what was looked up, or the
 *   one that matches has no private key in the store; the message names
 *   the store and what was looked up.
 * @GSECSOCK_ERROR_AMBIGUOUS: several certificates of a
 *   [class@GSecSock.CertificateStore] match the name looked up; the message
 *   lists them (subject, issuer, SHA-256 fingerprint, file) so that one can
 *   be chosen by its fingerprint.
 * @GSECSOCK_ERROR_INVALID_SETTING: a configuration value was refused when
 *   set: an unknown cipher, cipher suite or key exchange group name, or a
 *   security level that conflicts with the allowed versions. The message
 *   names the value; the setting keeps its previous value.
 * @GSECSOCK_ERROR_BAD_CRL_FILE: a certificate revocation list file could not
 *   be read or holds no valid CRL.
 *
 * Error codes in the %GSECSOCK_ERROR domain.
 *
 * Since: 0.1
 */
typedef enum /*< underscore_name=gsecsock_error >*/ {
  GSECSOCK_ERROR_HANDSHAKE_FAILED,
  GSECSOCK_ERROR_CERTIFICATE_REJECTED,
  GSECSOCK_ERROR_NOT_TLS,
  GSECSOCK_ERROR_EOF,
  GSECSOCK_ERROR_PROTOCOL_VERSION,
  GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
  GSECSOCK_ERROR_BAD_KEY_FILE,
  GSECSOCK_ERROR_KEY_MISMATCH,
  GSECSOCK_ERROR_CLOSED,
  GSECSOCK_ERROR_MISUSE,
  GSECSOCK_ERROR_ALPN,
  GSECSOCK_ERROR_PROTOCOL,
  GSECSOCK_ERROR_BAD_PASSWORD,
  GSECSOCK_ERROR_NOT_FOUND,
  GSECSOCK_ERROR_AMBIGUOUS,
  GSECSOCK_ERROR_INVALID_SETTING,
  GSECSOCK_ERROR_BAD_CRL_FILE,
} GSecSockError;

GSECSOCK_AVAILABLE_IN_ALL
GQuark gsecsock_error_quark (void);

G_END_DECLS
