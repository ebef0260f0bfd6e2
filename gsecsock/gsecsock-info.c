/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-info.h"

#include <openssl/async.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

/* What the OpenSSL library in use can do, and the one-word form of a
 * verification's outcome. */

/**
 * gsecsock_is_supported:
 *
 * Whether TLS connections can be made here: the OpenSSL library loaded at
 * run time is version 3.0 or later, can create TLS client and server
 * contexts with at least one cipher, speaks TLS 1.2 or 1.3, and has a
 * working random number generator. A broken OpenSSL configuration (for
 * example a provider that fails to load) makes it %FALSE.
 *
 * The answer is computed once and cached. When it is %FALSE, creating
 * contexts and sockets may still succeed, but handshakes will fail.
 *
 * Returns: %TRUE if gsecsock can make TLS connections
 *
 * Since: 0.1
 */
gboolean
gsecsock_is_supported (void)
{
  static gsize result = 0;

  if (g_once_init_enter (&result))
    {
      gboolean ok = OpenSSL_version_num () >= 0x30000000UL &&
                    RAND_status () == 1 &&
                    (gsecsock_get_supported_protocols () &
                     (GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3)) != 0;

      for (int server = 0; ok && server < 2; server++)
        {
          SSL_CTX *ctx = SSL_CTX_new (server ? TLS_server_method () : TLS_client_method ());

          ok = ctx != NULL && sk_SSL_CIPHER_num (SSL_CTX_get_ciphers (ctx)) > 0;
          SSL_CTX_free (ctx);
        }
      ERR_clear_error ();
      g_once_init_leave (&result, ok ? 2 : 1);
    }
  return result == 2;
}

/**
 * gsecsock_get_version:
 *
 * The version of gsecsock itself, for example `"0.1.0"`.
 *
 * Returns: (transfer none): gsecsock's version
 *
 * Since: 0.1
 */
const char *
gsecsock_get_version (void)
{
  return PACKAGE_VERSION;
}

/**
 * gsecsock_get_openssl_version:
 *
 * The version of the OpenSSL library loaded at run time, as OpenSSL
 * describes it (`OpenSSL_version (OPENSSL_VERSION)`), for example
 * `"OpenSSL 3.0.15 3 Sep 2024"`. It may be newer than the version gsecsock
 * was built against.
 *
 * Returns: (transfer none): the OpenSSL version, for logs and "about"
 *   dialogs
 *
 * Since: 0.1
 */
const char *
gsecsock_get_openssl_version (void)
{
  return OpenSSL_version (OPENSSL_VERSION);
}

/**
 * gsecsock_get_openssl_version_number:
 *
 * The version of the OpenSSL library loaded at run time as a number, in
 * OpenSSL's `0xMNN00PP0` form (`OpenSSL_version_num()`): for example
 * `0x30000100` for 3.0.16. Compare it with `>=`.
 *
 * Returns: the OpenSSL version number
 *
 * Since: 0.1
 */
guint32
gsecsock_get_openssl_version_number (void)
{
  return (guint32) OpenSSL_version_num ();
}

/**
 * gsecsock_get_supported_protocols:
 *
 * The protocol versions the OpenSSL in use was built with. SSL 2.0 and
 * 3.0 are never among them. TLS 1.0 and 1.1, when present, still need
 * [property@GSecSock.SecureSocketContext:security-level] 0 to be enabled.
 *
 * Returns: the versions that can be enabled with
 *   [method@GSecSock.SecureSocketContext.set_protocols]
 *
 * Since: 0.1
 */
GSecSockProtocols
gsecsock_get_supported_protocols (void)
{
  GSecSockProtocols protocols = GSECSOCK_PROTOCOLS_NONE;

#ifndef OPENSSL_NO_TLS1
  protocols |= GSECSOCK_PROTOCOLS_TLS_1_0;
#endif
#ifndef OPENSSL_NO_TLS1_1
  protocols |= GSECSOCK_PROTOCOLS_TLS_1_1;
#endif
#ifndef OPENSSL_NO_TLS1_2
  protocols |= GSECSOCK_PROTOCOLS_TLS_1_2;
#endif
#ifndef OPENSSL_NO_TLS1_3
  protocols |= GSECSOCK_PROTOCOLS_TLS_1_3;
#endif
  return protocols;
}

/**
 * gsecsock_get_features:
 *
 * The optional capabilities of the OpenSSL in use: whether handshakes can
 * pause for a postponed decision (ASYNC jobs), whether it runs in FIPS
 * mode, whether it was built with OCSP.
 *
 * Returns: the features available
 *
 * Since: 0.1
 */
GSecSockFeatures
gsecsock_get_features (void)
{
  GSecSockFeatures features = GSECSOCK_FEATURES_NONE;

  if (ASYNC_is_capable ())
    features |= GSECSOCK_FEATURES_ASYNC;
  if (EVP_default_properties_is_fips_enabled (NULL))
    features |= GSECSOCK_FEATURES_FIPS;
#ifndef OPENSSL_NO_OCSP
  features |= GSECSOCK_FEATURES_OCSP;
#endif
  return features;
}

/**
 * gsecsock_certificate_status_from_flags:
 * @flags: the problems verification found
 *
 * The one-word status for a set of verification problems, as
 * [property@GSecSock.SecureSocket:certificate-status] gives it for the
 * whole chain: %GSECSOCK_CERTIFICATE_STATUS_TRUSTED for no problem,
 * otherwise the status of the first problem in this order of precedence:
 * revoked, untrusted-signers, invalid, expired, not-yet-valid,
 * principal-mismatch, revocation-unknown.
 *
 * It is also handy in a
 * [signal@GSecSock.SecureSocket::verify-certificate] handler, for the
 * problems of one certificate.
 *
 * Returns: the status that sums @flags up
 *
 * Since: 0.1
 */
GSecSockCertificateStatus
gsecsock_certificate_status_from_flags (GSecSockCertificateFlags flags)
{
  if (flags & GSECSOCK_CERTIFICATE_REVOKED)
    return GSECSOCK_CERTIFICATE_STATUS_REVOKED;
  if (flags & (GSECSOCK_CERTIFICATE_UNKNOWN_CA | GSECSOCK_CERTIFICATE_SELF_SIGNED |
               GSECSOCK_CERTIFICATE_INCOMPLETE_CHAIN))
    return GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS;
  if (flags & (GSECSOCK_CERTIFICATE_GENERIC_ERROR | GSECSOCK_CERTIFICATE_INSECURE))
    return GSECSOCK_CERTIFICATE_STATUS_INVALID;
  if (flags & GSECSOCK_CERTIFICATE_EXPIRED)
    return GSECSOCK_CERTIFICATE_STATUS_EXPIRED;
  if (flags & GSECSOCK_CERTIFICATE_NOT_ACTIVATED)
    return GSECSOCK_CERTIFICATE_STATUS_NOT_YET_VALID;
  if (flags & GSECSOCK_CERTIFICATE_BAD_IDENTITY)
    return GSECSOCK_CERTIFICATE_STATUS_PRINCIPAL_MISMATCH;
  if (flags & GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN)
    return GSECSOCK_CERTIFICATE_STATUS_REVOCATION_UNKNOWN;
  if (flags != 0)
    return GSECSOCK_CERTIFICATE_STATUS_INVALID;   /* a flag added later */
  return GSECSOCK_CERTIFICATE_STATUS_TRUSTED;
}

/**
 * gsecsock_certificate_status_to_string:
 * @status: a certificate status
 *
 * The status as one word (the nick of its #GSecSockCertificateStatus
 * value): `"trusted"`, `"expired"`, `"not-yet-valid"`,
 * `"principal-mismatch"`, `"untrusted-signers"`, `"revoked"`, `"invalid"`,
 * `"revocation-unknown"` or `"unknown"`.
 *
 * Returns: (transfer none): the status's name
 *
 * Since: 0.1
 */
const char *
gsecsock_certificate_status_to_string (GSecSockCertificateStatus status)
{
  switch (status)
    {
    case GSECSOCK_CERTIFICATE_STATUS_TRUSTED: return "trusted";
    case GSECSOCK_CERTIFICATE_STATUS_REVOKED: return "revoked";
    case GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS: return "untrusted-signers";
    case GSECSOCK_CERTIFICATE_STATUS_INVALID: return "invalid";
    case GSECSOCK_CERTIFICATE_STATUS_EXPIRED: return "expired";
    case GSECSOCK_CERTIFICATE_STATUS_NOT_YET_VALID: return "not-yet-valid";
    case GSECSOCK_CERTIFICATE_STATUS_PRINCIPAL_MISMATCH: return "principal-mismatch";
    case GSECSOCK_CERTIFICATE_STATUS_REVOCATION_UNKNOWN: return "revocation-unknown";
    case GSECSOCK_CERTIFICATE_STATUS_UNKNOWN:
    default: return "unknown";
    }
}
