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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
 */
typedef enum /*< underscore_name=gsecsock_protocol_version >*/ {
  GSECSOCK_PROTOCOL_VERSION_UNKNOWN = 0,
  GSECSOCK_PROTOCOL_VERSION_TLS_1_0 = 10,
  GSECSOCK_PROTOCOL_VERSION_TLS_1_1 = 11,
  GSECSOCK_PROTOCOL_VERSION_TLS_1_2 = 12,
  GSECSOCK_PROTOCOL_VERSION_TLS_1_3 = 13,
} GSecSockProtocolVersion;

/**
 * GSecSockProtocols:
 * @GSECSOCK_PROTOCOLS_NONE: no version.
 * @GSECSOCK_PROTOCOLS_SSL_2_0: SSL 2.0. Never supported: asking for it
 *   fails with %GSECSOCK_ERROR_PROTOCOL_VERSION (it is broken and RFC 6176
 *   forbids it). It exists so that a request for it is refused explicitly.
 * @GSECSOCK_PROTOCOLS_SSL_3_0: SSL 3.0. Never supported: asking for it
 *   fails with %GSECSOCK_ERROR_PROTOCOL_VERSION (POODLE; RFC 7568 forbids
 *   it). It exists so that a request for it is refused explicitly.
 * @GSECSOCK_PROTOCOLS_TLS_1_0: TLS 1.0. Insecure; allowed only at
 *   [property@GSecSock.SecureSocketContext:security-level] 0.
 * @GSECSOCK_PROTOCOLS_TLS_1_1: TLS 1.1. Insecure; allowed only at
 *   [property@GSecSock.SecureSocketContext:security-level] 0.
 * @GSECSOCK_PROTOCOLS_TLS_1_2: TLS 1.2.
 * @GSECSOCK_PROTOCOLS_TLS_1_3: TLS 1.3.
 *
 * A set of protocol versions, for
 * [property@GSecSock.SecureSocketContext:protocols]: the same choice as
 * [property@GSecSock.SecureSocketContext:min-protocol-version] and
 * [property@GSecSock.SecureSocketContext:max-protocol-version], written as
 * flags (for example `GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3`).
 * The set must be contiguous, since OpenSSL only supports a range of
 * versions. [func@GSecSock.get_supported_protocols] says which versions the
 * OpenSSL in use was built with.
 *
 * Since: 0.1
 */
typedef enum /*< flags,underscore_name=gsecsock_protocols >*/ {
  GSECSOCK_PROTOCOLS_NONE    = 0,
  GSECSOCK_PROTOCOLS_SSL_2_0 = 1 << 0,
  GSECSOCK_PROTOCOLS_SSL_3_0 = 1 << 1,
  GSECSOCK_PROTOCOLS_TLS_1_0 = 1 << 2,
  GSECSOCK_PROTOCOLS_TLS_1_1 = 1 << 3,
  GSECSOCK_PROTOCOLS_TLS_1_2 = 1 << 4,
  GSECSOCK_PROTOCOLS_TLS_1_3 = 1 << 5,
} GSecSockProtocols;

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
 * @GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN: revocation checking is required
 *   (see [property@GSecSock.SecureSocketContext:check-revocation]) but the
 *   certificate's revocation status could not be established: there is no
 *   CRL from its issuer, or that CRL has expired, is not valid yet or is not
 *   validly signed.
 *
 * The problems found while verifying a certificate. Several flags may be set
 * at once: verification collects every problem rather than stopping at the
 * first.
 *
 * Since: 0.1
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
  GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN = 1 << 9,
} GSecSockCertificateFlags;

/**
 * GSecSockCertificateStatus:
 * @GSECSOCK_CERTIFICATE_STATUS_UNKNOWN: the peer's certificate has not been
 *   verified: no handshake yet, a handshake that failed before, or a server
 *   that did not ask for a client certificate.
 * @GSECSOCK_CERTIFICATE_STATUS_TRUSTED: verification found no problem.
 * @GSECSOCK_CERTIFICATE_STATUS_REVOKED: a certificate of the chain has been
 *   revoked (%GSECSOCK_CERTIFICATE_REVOKED).
 * @GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS: the chain does not lead to
 *   a trusted authority (%GSECSOCK_CERTIFICATE_UNKNOWN_CA,
 *   %GSECSOCK_CERTIFICATE_SELF_SIGNED or
 *   %GSECSOCK_CERTIFICATE_INCOMPLETE_CHAIN).
 * @GSECSOCK_CERTIFICATE_STATUS_INVALID: a certificate is broken or
 *   unacceptable in itself: a bad signature, a malformed certificate, a use
 *   it is not allowed for, a weak key or algorithm
 *   (%GSECSOCK_CERTIFICATE_GENERIC_ERROR, %GSECSOCK_CERTIFICATE_INSECURE).
 * @GSECSOCK_CERTIFICATE_STATUS_EXPIRED: a certificate of the chain has
 *   expired (%GSECSOCK_CERTIFICATE_EXPIRED).
 * @GSECSOCK_CERTIFICATE_STATUS_NOT_YET_VALID: a certificate of the chain is
 *   not valid yet (%GSECSOCK_CERTIFICATE_NOT_ACTIVATED).
 * @GSECSOCK_CERTIFICATE_STATUS_PRINCIPAL_MISMATCH: the certificate is not
 *   valid for the name connected to (%GSECSOCK_CERTIFICATE_BAD_IDENTITY).
 * @GSECSOCK_CERTIFICATE_STATUS_REVOCATION_UNKNOWN: revocation checking was
 *   required but could not be done (%GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN).
 *
 * The outcome of verifying a peer's certificate in one word, for
 * [property@GSecSock.SecureSocket:certificate-status]; each value's nick
 * (`"trusted"`, `"expired"`, `"not-yet-valid"`, `"principal-mismatch"`,
 * `"untrusted-signers"`, `"revoked"`, `"invalid"`,
 * `"revocation-unknown"`, `"unknown"`) is its name in words, see
 * [func@GSecSock.CertificateStatus.to_string].
 *
 * When verification found several problems
 * ([property@GSecSock.SecureSocket:certificate-errors] has several flags),
 * the status names the first of them in this order of precedence: revoked,
 * untrusted-signers, invalid, expired, not-yet-valid, principal-mismatch,
 * revocation-unknown. Problems that make the certificate worthless for
 * anybody come before those of its validity period, then its name, and last
 * a revocation status that could not be established. See
 * [func@GSecSock.CertificateStatus.from_flags].
 *
 * Since: 0.1
 */
typedef enum /*< underscore_name=gsecsock_certificate_status >*/ {
  GSECSOCK_CERTIFICATE_STATUS_UNKNOWN,
  GSECSOCK_CERTIFICATE_STATUS_TRUSTED,
  GSECSOCK_CERTIFICATE_STATUS_REVOKED,
  GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS,
  GSECSOCK_CERTIFICATE_STATUS_INVALID,
  GSECSOCK_CERTIFICATE_STATUS_EXPIRED,
  GSECSOCK_CERTIFICATE_STATUS_NOT_YET_VALID,
  GSECSOCK_CERTIFICATE_STATUS_PRINCIPAL_MISMATCH,
  GSECSOCK_CERTIFICATE_STATUS_REVOCATION_UNKNOWN,
} GSecSockCertificateStatus;

/**
 * GSecSockRevocationCheck:
 * @GSECSOCK_REVOCATION_CHECK_NONE: revocation is not checked (the default).
 * @GSECSOCK_REVOCATION_CHECK_LEAF: the peer's own certificate must be
 *   checked against a CRL from its issuer.
 * @GSECSOCK_REVOCATION_CHECK_CHAIN: every certificate of the peer's chain
 *   must be checked against a CRL from its issuer, the root included
 *   (OpenSSL checks a root against its own CRL): the CRLs of every
 *   authority of the chain are needed.
 *
 * Which certificates of the peer's chain must be checked for revocation,
 * for [property@GSecSock.SecureSocketContext:check-revocation]. A
 * certificate that must be checked and has no usable CRL fails
 * verification with %GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN: checking
 * fails closed.
 *
 * Since: 0.1
 */
typedef enum /*< underscore_name=gsecsock_revocation_check >*/ {
  GSECSOCK_REVOCATION_CHECK_NONE,
  GSECSOCK_REVOCATION_CHECK_LEAF,
  GSECSOCK_REVOCATION_CHECK_CHAIN,
} GSecSockRevocationCheck;

/**
 * GSecSockFeatures:
 * @GSECSOCK_FEATURES_NONE: no optional feature.
 * @GSECSOCK_FEATURES_ASYNC: OpenSSL can pause a handshake inside its
 *   callbacks (ASYNC jobs), so a decision handler may postpone its answer
 *   ([method@GSecSock.SecureSocket.defer_decision]) without blocking.
 * @GSECSOCK_FEATURES_FIPS: OpenSSL runs in FIPS mode: only FIPS-approved
 *   algorithms are fetched by default.
 * @GSECSOCK_FEATURES_OCSP: OpenSSL was built with OCSP support.
 *
 * Optional capabilities of the OpenSSL gsecsock runs on, as
 * [func@GSecSock.get_features] reports them.
 *
 * Since: 0.1
 */
typedef enum /*< flags,underscore_name=gsecsock_features >*/ {
  GSECSOCK_FEATURES_NONE  = 0,
  GSECSOCK_FEATURES_ASYNC = 1 << 0,
  GSECSOCK_FEATURES_FIPS  = 1 << 1,
  GSECSOCK_FEATURES_OCSP  = 1 << 2,
} GSecSockFeatures;

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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
 */
typedef enum /*< underscore_name=gsecsock_decision_kind >*/ {
  GSECSOCK_DECISION_VERIFY_CERTIFICATE,
  GSECSOCK_DECISION_CLIENT_CERTIFICATE,
} GSecSockDecisionKind;

/**
 * GSecSockLookup:
 * @GSECSOCK_LOOKUP_ANY: guess from the identifier's form: 40 hexadecimal
 *   digits are a SHA-1 fingerprint, 64 a SHA-256 fingerprint (in either
 *   case with or without spaces or colons between them); anything else is a
 *   name.
 * @GSECSOCK_LOOKUP_NAME: a name of the certificate: its subject's common
 *   name (CN), one of the DNS names or IP addresses of its subject
 *   alternative names, or the friendly name it has in a PKCS#12 file.
 *   Compared without regard to case (and a DNS name's final dot); a
 *   wildcard name such as `*.example.com` matches only when written the
 *   same way.
 * @GSECSOCK_LOOKUP_FINGERPRINT_SHA1: the SHA-1 hash of the certificate, as
 *   40 hexadecimal digits in any case, grouped or not by spaces or colons:
 *   `"9d a4 84 fc …"`, `"9D:A4:84:FC:…"` and `"9da484fc…"` are the same.
 *   This is the "thumbprint" that Windows' certificate manager shows.
 * @GSECSOCK_LOOKUP_FINGERPRINT_SHA256: the SHA-256 hash of the certificate,
 *   as 64 hexadecimal digits written in any of the same forms (what
 *   `openssl x509 -noout -fingerprint -sha256` prints).
 *
 * How [method@GSecSock.CertificateStore.lookup] and
 * [method@GSecSock.SecureSocketContext.use_certificate_from_store] read the
 * identifier of the certificate to find.
 *
 * Since: 0.1
 */
typedef enum /*< underscore_name=gsecsock_lookup >*/ {
  GSECSOCK_LOOKUP_ANY,
  GSECSOCK_LOOKUP_NAME,
  GSECSOCK_LOOKUP_FINGERPRINT_SHA1,
  GSECSOCK_LOOKUP_FINGERPRINT_SHA256,
} GSecSockLookup;

/**
 * GSecSockClientAuth:
 * @GSECSOCK_CLIENT_AUTH_NONE: the server does not ask for a client
 *   certificate (the default).
 * @GSECSOCK_CLIENT_AUTH_REQUEST: the server asks for a certificate but
 *   accepts clients that send none. A certificate that is sent is verified
 *   against the context's trust, and
 *   [signal@GSecSock.SecureSocket::verify-certificate] is emitted for it as
 *   for a required one: one that fails verification (and that no handler
 *   accepts) fails the handshake.
 * @GSECSOCK_CLIENT_AUTH_REQUIRE: the server asks for a certificate and fails
 *   the handshake if the client sends none, or one that does not pass
 *   verification. The same as
 *   [property@GSecSock.SecureSocketContext:verify-peer] %TRUE on a server.
 *
 * Whether a server asks its clients for a certificate, and what it does
 * when a client sends none: the
 * [property@GSecSock.SecureSocketContext:client-auth] of a server context.
 *
 * Since: 0.1
 */
typedef enum /*< underscore_name=gsecsock_client_auth >*/ {
  GSECSOCK_CLIENT_AUTH_NONE,
  GSECSOCK_CLIENT_AUTH_REQUEST,
  GSECSOCK_CLIENT_AUTH_REQUIRE,
} GSecSockClientAuth;

G_END_DECLS
