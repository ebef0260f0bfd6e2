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

G_END_DECLS
