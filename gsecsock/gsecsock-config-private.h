/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <openssl/ssl.h>

#include "gsecsock-enums.h"

G_BEGIN_DECLS

/* Protocol versions, cipher and group lists, revocation lists and chain
 * certificates: the validation and OpenSSL plumbing behind the context's
 * configuration properties (gsecsock-config.c). */

/* The OpenSSL security level a context starts with (the system's
 * configuration: 2 on Debian 12), and the level in effect for @level
 * (-1: that default). */
int      gsecsock_config_default_security_level (void);
int      gsecsock_config_effective_security_level (int level);

/* Whether the versions from @min to @max (UNKNOWN: no bound) can be
 * enabled at security level @effective_level: this OpenSSL has them and
 * TLS 1.0 / 1.1 only at level 0. GSECSOCK_ERROR_PROTOCOL_VERSION saying why
 * not. */
gboolean gsecsock_config_check_versions (GSecSockProtocolVersion   min,
                                         GSecSockProtocolVersion   max,
                                         int                       effective_level,
                                         GError                  **error);

/* @protocols as a range; GSECSOCK_ERROR_PROTOCOL_VERSION for SSL 2.0/3.0,
 * an empty or non-contiguous set. Does not check the security level. */
gboolean gsecsock_config_protocols_to_range (GSecSockProtocols         protocols,
                                             GSecSockProtocolVersion  *min,
                                             GSecSockProtocolVersion  *max,
                                             GError                  **error);
GSecSockProtocols gsecsock_config_protocols_from_range (GSecSockProtocolVersion min,
                                                        GSecSockProtocolVersion max);

/* Validation of each name of a list; GSECSOCK_ERROR_INVALID_SETTING naming
 * the first bad one. */
gboolean gsecsock_config_check_cipher_list  (const char  *list,
                                             GError     **error);
gboolean gsecsock_config_check_ciphersuites (const char  *list,
                                             GError     **error);
gboolean gsecsock_config_check_groups       (const char  *list,
                                             GError     **error);

/* The TLS 1.2 ciphers a server context allows by default: AEAD ciphers
 * with forward secrecy only. OpenSSL's default list adds CBC ciphers with
 * HMAC-SHA1 or -SHA2, which scanners rightly flag (LUCKY13, "obsolete CBC
 * ciphers": tests/scanners/) and which no client able to do TLS 1.2 with
 * ECDHE needs. Client contexts keep OpenSSL's list: they must reach
 * servers they do not choose. So do servers that allow TLS 1.0 or 1.1,
 * which have no AEAD cipher. */
#define GSECSOCK_CONFIG_SERVER_CIPHER_LIST "ECDHE+AESGCM:ECDHE+CHACHA20"

/* What a fresh SSL_CTX of this mode starts with (OpenSSL's defaults as the
 * system configuration amends them): TLS <= 1.2 ciphers or TLS 1.3 suites,
 * ':'-separated. */
char    *gsecsock_config_default_ciphers (gboolean server,
                                          gboolean tls13);

/* Every CRL in @path (PEM, one or more; or DER): an array of X509_CRL
 * references. GSECSOCK_ERROR_BAD_CRL_FILE naming the file. */
GPtrArray *gsecsock_config_load_crls (const char  *path,
                                      GError     **error);

/* X509_V_FLAG_CRL_CHECK[_ALL] for @check. */
unsigned long gsecsock_config_revocation_flags (GSecSockRevocationCheck check);

/* The chain certificates (X509*, untrusted: for building the chain only)
 * in use for @ssl's verification: @chain (may be NULL or empty) is
 * referenced by @ssl until it is freed. */
void       gsecsock_config_attach_chain (SSL       *ssl,
                                         GPtrArray *chain);
GPtrArray *gsecsock_config_get_chain    (const SSL *ssl);

G_END_DECLS
