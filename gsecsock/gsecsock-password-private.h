/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/evp.h>

#include "gsecsock-certificate.h"
#include "gsecsock-secure-socket-context.h"

G_BEGIN_DECLS

/* Loading private keys and identities (a certificate with its key and
 * chain), asking for passwords with the context's password-requested
 * signal. Everything runs synchronously in the calling thread.
 *
 * @ctx may be NULL: then nothing can be asked, and an encrypted key fails
 * with GSECSOCK_ERROR_BAD_PASSWORD (a message pointing to
 * gsecsock_secure_socket_context_load_identity()). */

typedef enum {
  GSECSOCK_IDENTITY_ANY,     /* PEM or DER certificate(s) + key, or PKCS#12 */
  GSECSOCK_IDENTITY_PKCS12,  /* PKCS#12 only: anything else is BAD_CERTIFICATE_FILE */
} GSecSockIdentityFormat;

/* The first private key of the PEM data @data (or of the file @path if
 * @data is NULL; @path names it in messages and prompts). An unencrypted
 * key loads without asking; an encrypted one (traditional "Proc-Type:
 * 4,ENCRYPTED" or PKCS#8 "ENCRYPTED PRIVATE KEY") emits password-requested
 * up to three times. Errors: GSECSOCK_ERROR_BAD_KEY_FILE (unreadable, no
 * key) or GSECSOCK_ERROR_BAD_PASSWORD. Returns a new reference. */
EVP_PKEY            *gsecsock_load_private_key (GSecSockSecureSocketContext  *ctx,
                                                const char                   *path,
                                                GBytes                       *data,
                                                GError                      **error);

/* A certificate carrying its private key and chain, from @path: PEM (the
 * certificate, its chain, and the key unless @key_path is given), DER (the
 * key then in @key_path) or PKCS#12 (detected by content; @key_path must be
 * NULL). Errors: GSECSOCK_ERROR_BAD_CERTIFICATE_FILE, _BAD_KEY_FILE,
 * _KEY_MISMATCH, _BAD_PASSWORD or _MISUSE (a key file with PKCS#12). */
GSecSockCertificate *gsecsock_load_identity    (GSecSockSecureSocketContext  *ctx,
                                                const char                   *path,
                                                const char                   *key_path,
                                                GSecSockIdentityFormat        format,
                                                GError                      **error);

/* Asking for a password to open something other than a key file (an
 * OSSL_STORE URI, for the certificate store): emits password-requested for
 * @description with the attempt number, and calls @try_password with each
 * answer (wiped from memory afterwards). RIGHT ends with TRUE; WRONG asks
 * again, up to three times in all, then fails with
 * GSECSOCK_ERROR_BAD_PASSWORD; FAILED (with @error set by @try_password)
 * ends with FALSE at once. No handler, a handler that returns NULL, or a
 * NULL @ctx: GSECSOCK_ERROR_BAD_PASSWORD. */
typedef enum {
  GSECSOCK_PASSWORD_RIGHT,
  GSECSOCK_PASSWORD_WRONG,
  GSECSOCK_PASSWORD_FAILED,
} GSecSockPasswordResult;

typedef GSecSockPasswordResult (*GSecSockPasswordTryFunc) (const char  *password,
                                                           gpointer     user_data,
                                                           GError     **error);

gboolean             gsecsock_password_try     (GSecSockSecureSocketContext  *ctx,
                                                const char                   *description,
                                                GSecSockPasswordTryFunc       try_password,
                                                gpointer                      user_data,
                                                GError                      **error);

G_END_DECLS
