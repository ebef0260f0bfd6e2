/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__GSECSOCK_H_INSIDE__) && !defined(GSECSOCK_COMPILATION)
#error "Only <gsecsock/gsecsock.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

/**
 * GSecSockMode:
 * @GSECSOCK_MODE_CLIENT: sockets made from the context start the handshake
 *   and verify the server they connect to.
 * @GSECSOCK_MODE_SERVER: sockets made from the context answer a client's
 *   handshake and present the context's certificate.
 *
 * Which side of a TLS connection the sockets of a
 * [class@GSecSock.SecureSocketContext] play.
 */
typedef enum /*< underscore_name=gsecsock_mode >*/ {
  GSECSOCK_MODE_CLIENT,
  GSECSOCK_MODE_SERVER,
} GSecSockMode;

/**
 * GSecSockProtocolVersion:
 * @GSECSOCK_PROTOCOL_VERSION_UNKNOWN: no version: the handshake has not
 *   completed, or (for the maximum) no upper bound.
 * @GSECSOCK_PROTOCOL_VERSION_TLS_1_0: TLS 1.0 (RFC 2246). Insecure; only
 *   allowed when explicitly configured.
 * @GSECSOCK_PROTOCOL_VERSION_TLS_1_1: TLS 1.1 (RFC 4346). Insecure; only
 *   allowed when explicitly configured.
 * @GSECSOCK_PROTOCOL_VERSION_TLS_1_2: TLS 1.2 (RFC 5246), the default minimum.
 * @GSECSOCK_PROTOCOL_VERSION_TLS_1_3: TLS 1.3 (RFC 8446).
 *
 * A version of the TLS protocol. The values are ordered, so versions can be
 * compared with `<` and `>`.
 */
typedef enum /*< underscore_name=gsecsock_protocol_version >*/ {
  GSECSOCK_PROTOCOL_VERSION_UNKNOWN = 0,
  GSECSOCK_PROTOCOL_VERSION_TLS_1_0 = 10,
  GSECSOCK_PROTOCOL_VERSION_TLS_1_1 = 11,
  GSECSOCK_PROTOCOL_VERSION_TLS_1_2 = 12,
  GSECSOCK_PROTOCOL_VERSION_TLS_1_3 = 13,
} GSecSockProtocolVersion;

/**
 * GSecSockCertificateFlags:
 * @GSECSOCK_CERTIFICATE_NO_FLAGS: no problem was found.
 * @GSECSOCK_CERTIFICATE_UNKNOWN_CA: the chain does not end in a trusted
 *   certificate authority.
 * @GSECSOCK_CERTIFICATE_BAD_IDENTITY: the certificate does not match the
 *   expected host name or IP address.
 * @GSECSOCK_CERTIFICATE_NOT_ACTIVATED: the certificate is not valid yet.
 * @GSECSOCK_CERTIFICATE_EXPIRED: the certificate has expired.
 * @GSECSOCK_CERTIFICATE_REVOKED: the certificate has been revoked.
 * @GSECSOCK_CERTIFICATE_INSECURE: the certificate uses a key that is too
 *   small or a signature algorithm that is considered broken.
 * @GSECSOCK_CERTIFICATE_INCOMPLETE_CHAIN: the peer did not send the
 *   intermediate certificates needed to reach a root: the issuer of a
 *   certificate could not be found.
 * @GSECSOCK_CERTIFICATE_SELF_SIGNED: the certificate is self-signed and not
 *   trusted itself.
 * @GSECSOCK_CERTIFICATE_GENERIC_ERROR: another problem (a bad signature, a
 *   malformed certificate, a certificate not allowed for this purpose, a
 *   violated name constraint, …).
 *
 * The problems found while verifying a certificate. Several flags may be set
 * at once: verification collects every problem rather than stopping at the
 * first.
 */
typedef enum /*< flags,underscore_name=gsecsock_certificate_flags >*/ {
  GSECSOCK_CERTIFICATE_NO_FLAGS         = 0,
  GSECSOCK_CERTIFICATE_UNKNOWN_CA       = 1 << 0,
  GSECSOCK_CERTIFICATE_BAD_IDENTITY     = 1 << 1,
  GSECSOCK_CERTIFICATE_NOT_ACTIVATED    = 1 << 2,
  GSECSOCK_CERTIFICATE_EXPIRED          = 1 << 3,
  GSECSOCK_CERTIFICATE_REVOKED          = 1 << 4,
  GSECSOCK_CERTIFICATE_INSECURE         = 1 << 5,
  GSECSOCK_CERTIFICATE_INCOMPLETE_CHAIN = 1 << 6,
  GSECSOCK_CERTIFICATE_SELF_SIGNED      = 1 << 7,
  GSECSOCK_CERTIFICATE_GENERIC_ERROR    = 1 << 8,
} GSecSockCertificateFlags;

/**
 * GSecSockHandshakeInfoFlags:
 * @GSECSOCK_HANDSHAKE_INFO_NONE: no flag.
 * @GSECSOCK_HANDSHAKE_INFO_CONNECT: the event comes from a client socket.
 * @GSECSOCK_HANDSHAKE_INFO_ACCEPT: the event comes from a server socket.
 * @GSECSOCK_HANDSHAKE_INFO_STATE: the handshake moved to a new state; the
 *   description is the state's name (OpenSSL's `SSL_state_string_long()`,
 *   for example "SSLv3/TLS write client hello").
 * @GSECSOCK_HANDSHAKE_INFO_EXIT: a handshake step returned, because it
 *   finished, failed or must wait for the peer; the value is OpenSSL's
 *   return value (1 done, 0 or less otherwise).
 * @GSECSOCK_HANDSHAKE_INFO_READ: with @GSECSOCK_HANDSHAKE_INFO_ALERT: the
 *   alert was received from the peer.
 * @GSECSOCK_HANDSHAKE_INFO_WRITE: with @GSECSOCK_HANDSHAKE_INFO_ALERT: the
 *   alert was sent to the peer.
 * @GSECSOCK_HANDSHAKE_INFO_ALERT: a TLS alert; the value is the alert's
 *   description code (for example 0 for close_notify, 42 for
 *   bad_certificate) and the description says its level and name, for
 *   example "warning close_notify" or "fatal bad certificate".
 * @GSECSOCK_HANDSHAKE_INFO_FATAL: with @GSECSOCK_HANDSHAKE_INFO_ALERT: the
 *   alert is fatal (the connection ends).
 * @GSECSOCK_HANDSHAKE_INFO_START: a handshake started.
 * @GSECSOCK_HANDSHAKE_INFO_DONE: a handshake completed.
 *
 * What a [signal@GSecSock.SecureSocket::handshake-info] event reports: one
 * of %GSECSOCK_HANDSHAKE_INFO_STATE, %GSECSOCK_HANDSHAKE_INFO_EXIT,
 * %GSECSOCK_HANDSHAKE_INFO_ALERT, %GSECSOCK_HANDSHAKE_INFO_START or
 * %GSECSOCK_HANDSHAKE_INFO_DONE, with the side
 * (%GSECSOCK_HANDSHAKE_INFO_CONNECT or %GSECSOCK_HANDSHAKE_INFO_ACCEPT) and,
 * for alerts, the direction and whether it is fatal.
 */
typedef enum /*< flags,underscore_name=gsecsock_handshake_info_flags >*/ {
  GSECSOCK_HANDSHAKE_INFO_NONE    = 0,
  GSECSOCK_HANDSHAKE_INFO_CONNECT = 1 << 0,
  GSECSOCK_HANDSHAKE_INFO_ACCEPT  = 1 << 1,
  GSECSOCK_HANDSHAKE_INFO_STATE   = 1 << 2,
  GSECSOCK_HANDSHAKE_INFO_EXIT    = 1 << 3,
  GSECSOCK_HANDSHAKE_INFO_READ    = 1 << 4,
  GSECSOCK_HANDSHAKE_INFO_WRITE   = 1 << 5,
  GSECSOCK_HANDSHAKE_INFO_ALERT   = 1 << 6,
  GSECSOCK_HANDSHAKE_INFO_FATAL   = 1 << 7,
  GSECSOCK_HANDSHAKE_INFO_START   = 1 << 8,
  GSECSOCK_HANDSHAKE_INFO_DONE    = 1 << 9,
} GSecSockHandshakeInfoFlags;

/**
 * GSecSockDecisionKind:
 * @GSECSOCK_DECISION_VERIFY_CERTIFICATE: whether to accept a certificate of
 *   the peer's chain ([signal@GSecSock.SecureSocket::verify-certificate]).
 * @GSECSOCK_DECISION_CLIENT_CERTIFICATE: which certificate, if any, to send
 *   to a server that asked for one
 *   ([signal@GSecSock.SecureSocket::client-certificate-requested]).
 *
 * The question a [class@GSecSock.Decision] answers.
 */
typedef enum /*< underscore_name=gsecsock_decision_kind >*/ {
  GSECSOCK_DECISION_VERIFY_CERTIFICATE,
  GSECSOCK_DECISION_CLIENT_CERTIFICATE,
} GSecSockDecisionKind;

G_END_DECLS
