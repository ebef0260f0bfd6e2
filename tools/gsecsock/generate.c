/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gsecsock serve --generate: a throw-away certificate authority, a
 * certificate for localhost and a client certificate, so that a demo needs
 * no files.
 *
 * gsecsock's API reads certificates but does not make them, so this file
 * (and only this one) uses OpenSSL's libcrypto directly.
 */

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gsecsock-tool.h"

#define VALIDITY_DAYS 30

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free)

static gboolean
openssl_failed (GError    **error,
                const char *what)
{
  unsigned long code = ERR_get_error ();
  char reason[256] = "";

  if (code != 0)
    ERR_error_string_n (code, reason, sizeof reason);
  ERR_clear_error ();
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
               _("Cannot generate the throw-away certificates (%s): %s"), what,
               *reason ? reason : _("unknown OpenSSL error"));
  return FALSE;
}

static gboolean
add_extension (X509       *certificate,
               X509       *issuer,
               int         nid,
               const char *value)
{
  X509V3_CTX ctx;
  X509_EXTENSION *extension;
  gboolean ok;

  X509V3_set_ctx_nodb (&ctx);
  X509V3_set_ctx (&ctx, issuer, certificate, NULL, NULL, 0);
  extension = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  if (extension == NULL)
    return FALSE;
  ok = X509_add_ext (certificate, extension, -1) == 1;
  X509_EXTENSION_free (extension);
  return ok;
}

static gboolean
set_random_serial (X509 *certificate)
{
  guint8 bytes[16];
  BIGNUM *number;
  gboolean ok;

  if (RAND_bytes (bytes, sizeof bytes) != 1)
    return FALSE;
  bytes[0] &= 0x7f;   /* positive */
  number = BN_bin2bn (bytes, sizeof bytes, NULL);
  if (number == NULL)
    return FALSE;
  ok = BN_to_ASN1_INTEGER (number, X509_get_serialNumber (certificate)) != NULL;
  BN_free (number);
  return ok;
}

/* A certificate for @key named @common_name, signed by @issuer_key (as
 * @issuer, or self-signed when @issuer is NULL). */
static X509 *
make_certificate (EVP_PKEY    *key,
                  const char  *common_name,
                  X509        *issuer,
                  EVP_PKEY    *issuer_key,
                  const char * const *extensions,   /* nid, value pairs as text: "basicConstraints", … */
                  GError     **error)
{
  g_autoptr(X509) certificate = X509_new ();
  X509_NAME *name;

  if (certificate == NULL ||
      X509_set_version (certificate, X509_VERSION_3) != 1 ||
      !set_random_serial (certificate) ||
      /* An hour back, for clocks a little behind. */
      X509_gmtime_adj (X509_getm_notBefore (certificate), -3600) == NULL ||
      X509_gmtime_adj (X509_getm_notAfter (certificate), (long) VALIDITY_DAYS * 24 * 3600) == NULL ||
      X509_set_pubkey (certificate, key) != 1)
    {
      openssl_failed (error, common_name);
      return NULL;
    }

  name = X509_get_subject_name (certificate);
  if (X509_NAME_add_entry_by_txt (name, "O", MBSTRING_UTF8, (const unsigned char *) "gsecsock serve --generate",
                                  -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) common_name, -1, -1, 0) != 1 ||
      X509_set_issuer_name (certificate, issuer ? X509_get_subject_name (issuer) : name) != 1)
    {
      openssl_failed (error, common_name);
      return NULL;
    }

  for (guint i = 0; extensions[i] != NULL; i += 2)
    if (!add_extension (certificate, issuer ? issuer : certificate, OBJ_txt2nid (extensions[i]), extensions[i + 1]))
      {
        openssl_failed (error, extensions[i]);
        return NULL;
      }

  if (X509_sign (certificate, issuer_key, EVP_sha256 ()) <= 0)
    {
      openssl_failed (error, common_name);
      return NULL;
    }
  return g_steal_pointer (&certificate);
}

static gboolean
write_pem (const char  *path,
           X509        *certificate,
           EVP_PKEY    *key,
           GError     **error)
{
  g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long length;

  if (bio == NULL ||
      (certificate != NULL && PEM_write_bio_X509 (bio, certificate) != 1) ||
      (key != NULL && PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL) != 1))
    return openssl_failed (error, path);
  length = BIO_get_mem_data (bio, &data);
  /* Keys readable by the owner only. */
  if (!g_file_set_contents_full (path, data, length, G_FILE_SET_CONTENTS_CONSISTENT,
                                 key != NULL ? 0600 : 0644, error))
    return FALSE;
  return TRUE;
}

gboolean
tool_generate_pki (const char        *directory,
                   ToolGeneratedPki  *pki,
                   GError           **error)
{
  static const char * const ca_extensions[] = {
    "basicConstraints", "critical,CA:TRUE,pathlen:0",
    "keyUsage", "critical,keyCertSign,cRLSign",
    "subjectKeyIdentifier", "hash",
    NULL,
  };
  static const char * const server_extensions[] = {
    "basicConstraints", "critical,CA:FALSE",
    "keyUsage", "critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage", "serverAuth",
    "subjectAltName", "DNS:localhost,IP:127.0.0.1,IP:::1",
    "subjectKeyIdentifier", "hash",
    "authorityKeyIdentifier", "keyid:always",
    NULL,
  };
  static const char * const client_extensions[] = {
    "basicConstraints", "critical,CA:FALSE",
    "keyUsage", "critical,digitalSignature",
    "extendedKeyUsage", "clientAuth",
    "subjectKeyIdentifier", "hash",
    "authorityKeyIdentifier", "keyid:always",
    NULL,
  };
  g_autoptr(EVP_PKEY) ca_key = NULL;
  g_autoptr(EVP_PKEY) server_key = NULL;
  g_autoptr(EVP_PKEY) client_key = NULL;
  g_autoptr(X509) ca = NULL;
  g_autoptr(X509) server = NULL;
  g_autoptr(X509) client = NULL;

  memset (pki, 0, sizeof *pki);
  if (g_mkdir_with_parents (directory, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create the directory “%s”: %s"), directory, g_strerror (saved));
      return FALSE;
    }

  ca_key = EVP_EC_gen ("P-256");
  server_key = EVP_EC_gen ("P-256");
  client_key = EVP_EC_gen ("P-256");
  if (ca_key == NULL || server_key == NULL || client_key == NULL)
    return openssl_failed (error, "P-256");

  ca = make_certificate (ca_key, "gsecsock throw-away CA", NULL, ca_key, ca_extensions, error);
  if (ca == NULL)
    return FALSE;
  server = make_certificate (server_key, "localhost", ca, ca_key, server_extensions, error);
  if (server == NULL)
    return FALSE;
  client = make_certificate (client_key, "gsecsock throw-away client", ca, ca_key, client_extensions, error);
  if (client == NULL)
    return FALSE;

  pki->directory = g_strdup (directory);
  pki->ca_file = g_build_filename (directory, "ca.pem", NULL);
  pki->ca_key_file = g_build_filename (directory, "ca.key", NULL);
  pki->cert_file = g_build_filename (directory, "localhost.pem", NULL);
  pki->key_file = g_build_filename (directory, "localhost.key", NULL);
  pki->client_cert_file = g_build_filename (directory, "client.pem", NULL);
  pki->client_key_file = g_build_filename (directory, "client.key", NULL);

  if (!write_pem (pki->ca_file, ca, NULL, error) ||
      !write_pem (pki->ca_key_file, NULL, ca_key, error) ||
      !write_pem (pki->cert_file, server, NULL, error) ||
      !write_pem (pki->key_file, NULL, server_key, error) ||
      !write_pem (pki->client_cert_file, client, NULL, error) ||
      !write_pem (pki->client_key_file, NULL, client_key, error))
    {
      tool_generated_pki_remove (pki);
      tool_generated_pki_clear (pki);
      return FALSE;
    }
  return TRUE;
}

void
tool_generated_pki_clear (ToolGeneratedPki *pki)
{
  g_free (pki->directory);
  g_free (pki->ca_file);
  g_free (pki->ca_key_file);
  g_free (pki->cert_file);
  g_free (pki->key_file);
  g_free (pki->client_cert_file);
  g_free (pki->client_key_file);
  memset (pki, 0, sizeof *pki);
}

void
tool_generated_pki_remove (ToolGeneratedPki *pki)
{
  const char *files[] = {
    pki->ca_file, pki->ca_key_file, pki->cert_file, pki->key_file,
    pki->client_cert_file, pki->client_key_file,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    if (files[i] != NULL)
      g_unlink (files[i]);
  if (pki->directory != NULL)
    g_rmdir (pki->directory);   /* only if it is empty now */
}
