/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gsecsock-certificate.h"

G_BEGIN_DECLS

/* Takes a new reference on @x509 (X509_up_ref); the caller keeps its own. */
GSecSockCertificate *gsecsock_certificate_new_from_x509 (X509 *x509);

/* A certificate that carries its private key, and the certificates to send
 * after it (its issuers, leaf's issuer first; NULL or empty for none). Takes
 * new references on all of them; the caller keeps its own. @key must belong
 * to @leaf (the caller checks). */
GSecSockCertificate *gsecsock_certificate_new_with_key  (X509           *leaf,
                                                         EVP_PKEY       *key,
                                                         STACK_OF(X509) *chain);

/* Borrowed: valid as long as @self lives. */
X509                *gsecsock_certificate_get_x509      (GSecSockCertificate *self);

/* Borrowed, NULL if @self carries no private key. */
EVP_PKEY            *gsecsock_certificate_get_private_key (GSecSockCertificate *self);

/* The extra certificates to send after @self (its issuers, in order), as
 * given to gsecsock_certificate_new_with_key(). Borrowed (do not modify),
 * NULL if there are none. Ready for SSL_CTX_use_cert_and_key() and
 * SSL_use_cert_and_key(), which take their own references. */
STACK_OF(X509)      *gsecsock_certificate_get_chain      (GSecSockCertificate *self);

/* Every certificate (or only the first) of @contents, the data of the file
 * @path (named in error messages): PEM blocks, or a single DER certificate.
 * Returns an array of X509 references; on error
 * GSECSOCK_ERROR_BAD_CERTIFICATE_FILE. */
GPtrArray           *gsecsock_certificate_parse_file_contents (const char  *path,
                                                               const char  *contents,
                                                               gsize        length,
                                                               gboolean     first_only,
                                                               GError     **error);

/* Whether @data holds a PEM block ("-----BEGIN "). */
gboolean             gsecsock_certificate_looks_like_pem (const char *data,
                                                          gsize       length);

G_END_DECLS
