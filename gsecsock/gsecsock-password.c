/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-password-private.h"

#include <limits.h>
#include <string.h>

#include "gsecsock-i18n-private.h"
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "gsecsock-certificate-private.h"
#include "gsecsock-error.h"
#include "gsecsock-secure-socket-context-private.h"

/* How many times password-requested is emitted for one key before the
 * loading fails; the signal's documentation promises three. */
#define MAX_PASSWORD_ATTEMPTS 3

/* About OpenSSL's (per-thread) error queue: these functions are called by
 * the application to load files, never in the middle of a TLS operation, so
 * like the certificate constructors they start from an empty queue and
 * leave it empty. */

/* ------------------------------------------------------------------------ */
/* Secrets in memory                                                        */

static void
password_free (char *password)
{
  if (password == NULL)
    return;
  OPENSSL_cleanse (password, strlen (password));
  g_free (password);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PKCS12, PKCS12_free)

typedef struct {
  char *data;
  gsize length;
} Secret;

static void
secret_free (gpointer user_data)
{
  Secret *secret = user_data;

  OPENSSL_cleanse (secret->data, secret->length);
  g_free (secret->data);
  g_free (secret);
}

/* The contents of @path, wiped from memory when the last reference to the
 * GBytes goes: key files hold the key in clear or the means to attack its
 * password. On error, @error is g_file_get_contents()'s (naming the file). */
static GBytes *
read_secret_file (const char  *path,
                  GError     **error)
{
  Secret *secret = g_new0 (Secret, 1);

  if (!g_file_get_contents (path, &secret->data, &secret->length, error))
    {
      g_free (secret);
      return NULL;
    }
  return g_bytes_new_with_free_func (secret->data, secret->length, secret_free, secret);
}

/* The reason of the first error in OpenSSL's queue (the root cause), and
 * empties the queue. */
static char *
take_openssl_reason (void)
{
  unsigned long code = ERR_peek_error ();
  const char *reason = code != 0 ? ERR_reason_error_string (code) : NULL;
  char *result = g_strdup (reason != NULL ? reason : _("unknown error"));

  ERR_clear_error ();
  return result;
}

/* ------------------------------------------------------------------------ */
/* Asking for a password                                                    */

/* Emits password-requested for @description and returns the password
 * (free it with password_free()), or NULL with @error set to
 * GSECSOCK_ERROR_BAD_PASSWORD if there is none to be had. */
static char *
request_password (GSecSockSecureSocketContext  *ctx,
                  const char                   *description,
                  guint                         attempt,
                  GError                      **error)
{
  guint signal_id;
  GValue params[3] = { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT };
  GValue result = G_VALUE_INIT;
  char *password;

  if (ctx == NULL)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD,
                   _("Cannot load %s: it is encrypted, and "
                     "gsecsock_certificate_new_from_files() loads only unencrypted keys; "
                     "use gsecsock_secure_socket_context_load_identity(), which asks for the "
                     "password with the context’s password-requested signal"),
                   description);
      return NULL;
    }

  signal_id = gsecsock_secure_socket_context_signal (CONTEXT_SIGNAL_PASSWORD_REQUESTED);
  if (!g_signal_has_handler_pending (ctx, signal_id, 0, FALSE))
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD,
                   _("Cannot load %s: it is encrypted and no password was given; "
                     "connect a handler to the context’s password-requested signal "
                     "to supply it"),
                   description);
      return NULL;
    }

  /* g_signal_emitv() rather than g_signal_emit(): the varargs form copies
   * the returned string once more into memory that GLib frees without
   * wiping. Here the copies are the handler's (wiped by the signal's
   * accumulator), @result's (wiped below) and the one returned (wiped by
   * password_free()). */
  g_value_init (&params[0], GSECSOCK_TYPE_SECURE_SOCKET_CONTEXT);
  g_value_set_object (&params[0], ctx);
  g_value_init (&params[1], G_TYPE_STRING);
  g_value_set_static_string (&params[1], description);
  g_value_init (&params[2], G_TYPE_UINT);
  g_value_set_uint (&params[2], attempt);
  g_value_init (&result, G_TYPE_STRING);

  g_signal_emitv (params, signal_id, 0, &result);

  password = g_value_dup_string (&result);
  if (password != NULL)
    {
      char *original = (char *) g_value_get_string (&result);
      OPENSSL_cleanse (original, strlen (original));
    }
  g_value_unset (&result);
  for (gsize i = 0; i < G_N_ELEMENTS (params); i++)
    g_value_unset (&params[i]);

  if (password == NULL)
    g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD,
                 _("Loading %s was cancelled: no password was given"), description);
  return password;
}

static void
set_wrong_password_error (GError     **error,
                          const char  *description)
{
  g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD,
               gsecsock_ngettext ("Cannot decrypt %s: the password was wrong %d time",
                                  "Cannot decrypt %s: the password was wrong %d times",
                                  MAX_PASSWORD_ATTEMPTS),
               description, MAX_PASSWORD_ATTEMPTS);
}

/* ------------------------------------------------------------------------ */
/* Iteration counts                                                         */

/* The most iterations of a password-based key derivation (PBKDF2, or
 * PKCS#12's own) that a file may ask for. The count is the file's to
 * choose, and OpenSSL has no bound: 2^31 iterations would keep the loading
 * thread busy for hours, for each password tried. Two million is far above
 * what tools use (OpenSSL 2048, Windows 2000, Java 10000; OWASP's 2023
 * advice for PBKDF2 is 600000 with SHA-256, 1.3 million with SHA-1) and
 * takes about a second. */
#define MAX_KDF_ITERATIONS G_GINT64_CONSTANT (2000000)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PBEPARAM, PBEPARAM_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PBE2PARAM, PBE2PARAM_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PBKDF2PARAM, PBKDF2PARAM_free)

/* The count of an ASN.1 INTEGER iteration field; G_MAXINT64 for one that
 * does not fit (a negative one is refused by OpenSSL itself: 0). */
static gint64
iterations_of (const ASN1_INTEGER *iter)
{
  int64_t value = 0;

  if (iter == NULL)
    return 1;
  if (!ASN1_INTEGER_get_int64 (&value, iter))
    {
      ERR_clear_error ();
      return G_MAXINT64;
    }
  return MAX (value, 0);
}

/* The iterations the password-based encryption @alg derives its key
 * with: PKCS#5 v1 and PKCS#12 schemes, or PBES2 with PBKDF2. 0 for any
 * other (scrypt has its own memory bound in OpenSSL) or for parameters
 * that do not decode, which OpenSSL then refuses itself. */
static gint64
pbe_iterations (const X509_ALGOR *alg)
{
  const ASN1_OBJECT *oid = NULL;
  const void *value = NULL;
  int type = V_ASN1_UNDEF;
  ASN1_TYPE *parameter;

  if (alg == NULL)
    return 0;
  X509_ALGOR_get0 (&oid, &type, &value, alg);
  if (type != V_ASN1_SEQUENCE)
    return 0;
  parameter = alg->parameter;

  if (OBJ_obj2nid (oid) == NID_pbes2)
    {
      g_autoptr(PBE2PARAM) pbes2 = ASN1_TYPE_unpack_sequence (ASN1_ITEM_rptr (PBE2PARAM), parameter);
      g_autoptr(PBKDF2PARAM) pbkdf2 = NULL;

      if (pbes2 == NULL || pbes2->keyfunc == NULL ||
          OBJ_obj2nid (pbes2->keyfunc->algorithm) != NID_id_pbkdf2)
        {
          ERR_clear_error ();
          return 0;
        }
      pbkdf2 = ASN1_TYPE_unpack_sequence (ASN1_ITEM_rptr (PBKDF2PARAM), pbes2->keyfunc->parameter);
      if (pbkdf2 == NULL)
        {
          ERR_clear_error ();
          return 0;
        }
      return iterations_of (pbkdf2->iter);
    }
  else
    {
      g_autoptr(PBEPARAM) pbe = ASN1_TYPE_unpack_sequence (ASN1_ITEM_rptr (PBEPARAM), parameter);

      if (pbe == NULL)
        {
          ERR_clear_error ();
          return 0;
        }
      return iterations_of (pbe->iter);
    }
}

/* @what: "The PKCS#12 file “…”" or "The private key in “…”". */
static gboolean
check_iterations (gint64        iterations,
                  int           code,
                  const char   *what,
                  GError      **error)
{
  g_autofree char *asked = NULL;
  g_autofree char *limit = NULL;

  if (iterations <= MAX_KDF_ITERATIONS)
    return TRUE;
  /* Numbers as strings: a format macro would cut the message short for
   * xgettext. */
  asked = g_strdup_printf ("%" G_GINT64_FORMAT, iterations);
  limit = g_strdup_printf ("%" G_GINT64_FORMAT, MAX_KDF_ITERATIONS);
  g_set_error (error, GSECSOCK_ERROR, code,
               _("%s asks for %s iterations of the key derivation from its password, more "
                 "than the %s that gsecsock accepts: loading it would take too long. Export "
                 "it again with the usual count, for example with “-iter 2048”"),
               what, asked, limit);
  return FALSE;
}

/* The encrypted keys of @bags, and of the bags nested in them. */
static gboolean
check_bag_iterations (const STACK_OF(PKCS12_SAFEBAG)  *bags,
                      const char                      *what,
                      GError                         **error)
{
  for (int i = 0; i < sk_PKCS12_SAFEBAG_num (bags); i++)
    {
      const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value (bags, i);

      switch (PKCS12_SAFEBAG_get_nid (bag))
        {
        case NID_pkcs8ShroudedKeyBag:
          {
            const X509_ALGOR *alg = NULL;

            X509_SIG_get0 (PKCS12_SAFEBAG_get0_pkcs8 (bag), &alg, NULL);
            if (!check_iterations (pbe_iterations (alg), GSECSOCK_ERROR_BAD_CERTIFICATE_FILE, what, error))
              return FALSE;
          }
          break;
        case NID_safeContentsBag:
          if (!check_bag_iterations (PKCS12_SAFEBAG_get0_safes (bag), what, error))
            return FALSE;
          break;
        default:
          break;
        }
    }
  return TRUE;
}

/* Refuses @p12 if any key derivation that reading it takes asks for too
 * many iterations: its integrity check (MAC), its encrypted parts, and the
 * encrypted keys in them. Those inside encrypted parts can only be seen
 * with the password: pass the one the MAC accepted (NULL or "" for a file
 * without one), or NULL before it is known to check the rest. */
static gboolean
check_pkcs12_iterations (PKCS12      *p12,
                         const char  *what,
                         gboolean     have_password,
                         const char  *password,
                         GError     **error)
{
  STACK_OF(PKCS7) *safes;
  const ASN1_INTEGER *mac_iter = NULL;
  gboolean ok = TRUE;

  if (PKCS12_mac_present (p12))
    {
      PKCS12_get0_mac (NULL, NULL, NULL, &mac_iter, p12);
      if (!check_iterations (iterations_of (mac_iter), GSECSOCK_ERROR_BAD_CERTIFICATE_FILE, what, error))
        return FALSE;
    }

  safes = PKCS12_unpack_authsafes (p12);
  if (safes == NULL)
    {
      ERR_clear_error ();
      return TRUE;    /* PKCS12_parse() will say what is wrong */
    }
  for (int i = 0; ok && i < sk_PKCS7_num (safes); i++)
    {
      PKCS7 *safe = sk_PKCS7_value (safes, i);
      STACK_OF(PKCS12_SAFEBAG) *bags = NULL;

      switch (OBJ_obj2nid (safe->type))
        {
        case NID_pkcs7_data:
          bags = PKCS12_unpack_p7data (safe);
          break;
        case NID_pkcs7_encrypted:
          if (safe->d.encrypted == NULL || safe->d.encrypted->enc_data == NULL)
            break;
          ok = check_iterations (pbe_iterations (safe->d.encrypted->enc_data->algorithm),
                                 GSECSOCK_ERROR_BAD_CERTIFICATE_FILE, what, error);
          if (ok && have_password)
            bags = PKCS12_unpack_p7encdata (safe, password, -1);
          break;
        default:
          break;
        }
      if (ok && bags != NULL)
        ok = check_bag_iterations (bags, what, error);
      sk_PKCS12_SAFEBAG_pop_free (bags, PKCS12_SAFEBAG_free);
    }
  sk_PKCS7_pop_free (safes, PKCS7_free);
  ERR_clear_error ();
  return ok;
}

/* Refuses a PEM "ENCRYPTED PRIVATE KEY" (PKCS#8) of @data that asks for
 * too many iterations. The traditional form ("Proc-Type: 4,ENCRYPTED")
 * derives its key with one. */
static gboolean
check_pkcs8_iterations (const char  *data,
                        gsize        length,
                        const char  *what,
                        GError     **error)
{
  BIO *bio = BIO_new_mem_buf (data, (int) length);
  X509_SIG *encrypted;
  gboolean ok = TRUE;

  if (bio == NULL)
    g_error ("%s: out of memory", G_STRFUNC);
  encrypted = PEM_read_bio_PKCS8 (bio, NULL, NULL, NULL);
  if (encrypted != NULL)
    {
      const X509_ALGOR *alg = NULL;

      X509_SIG_get0 (encrypted, &alg, NULL);
      ok = check_iterations (pbe_iterations (alg), GSECSOCK_ERROR_BAD_KEY_FILE, what, error);
      X509_SIG_free (encrypted);
    }
  BIO_free (bio);
  ERR_clear_error ();
  return ok;
}

/* ------------------------------------------------------------------------ */
/* PEM private keys                                                         */

typedef struct {
  const char *password;   /* NULL: refuse */
  gboolean asked;
} PemPassword;

/* Never OpenSSL's default callback, which would prompt on the terminal.
 * OpenSSL may call this more than once per read (its decoders, then its
 * legacy reader): it gives the same answer each time. */
static int
give_pem_password (char *buf,
                 int   size,
                 int   rwflag,
                 void *user_data)
{
  PemPassword *pw = user_data;
  gsize length;

  pw->asked = TRUE;
  if (pw->password == NULL)
    return -1;
  length = strlen (pw->password);
  if (size < 0 || length > (gsize) size)
    return -1;
  memcpy (buf, pw->password, length);
  return (int) length;
}

/* Whether @data has a PEM block of a private key, in any of its forms
 * ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY", …). */
static gboolean
has_private_key_block (const char *data,
                       gsize       length)
{
  return g_strstr_len (data, (gssize) MIN (length, G_MAXSSIZE), "PRIVATE KEY-----") != NULL;
}

static EVP_PKEY *
read_pem_key (const char  *data,
              gsize        length,
              PemPassword *pw)
{
  BIO *bio;
  EVP_PKEY *key;

  bio = BIO_new_mem_buf (data, (int) length);
  if (bio == NULL)
    g_error ("%s: out of memory", G_STRFUNC);
  key = PEM_read_bio_PrivateKey (bio, NULL, give_pem_password, pw);
  BIO_free (bio);
  return key;
}

EVP_PKEY *
gsecsock_load_private_key (GSecSockSecureSocketContext  *ctx,
                           const char                   *path,
                           GBytes                       *data,
                           GError                      **error)
{
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *description = NULL;
  PemPassword pw = { NULL, FALSE };
  const char *bytes;
  gsize length;
  EVP_PKEY *key;

  g_return_val_if_fail (ctx == NULL || GSECSOCK_IS_SECURE_SOCKET_CONTEXT (ctx), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (data != NULL)
    contents = g_bytes_ref (data);
  else
    {
      contents = read_secret_file (path, &local_error);
      if (contents == NULL)
        {
          g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_KEY_FILE,
                       _("Cannot read the private key: %s"), local_error->message);
          return NULL;
        }
    }

  bytes = g_bytes_get_data (contents, &length);
  if (length > INT_MAX)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_KEY_FILE,
                   _("“%s” is too large to be a private key file"), path);
      return NULL;
    }
  if (length == 0)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_KEY_FILE,
                   _("“%s” holds no private key: the file is empty"), path);
      return NULL;
    }

  /* First without a password: an unencrypted key loads, and an encrypted
   * one shows itself by asking (which is refused). */
  ERR_clear_error ();
  key = read_pem_key (bytes, length, &pw);
  if (key != NULL)
    {
      ERR_clear_error ();
      return key;
    }
  if (!pw.asked)
    {
      g_autofree char *reason = take_openssl_reason ();

      if (has_private_key_block (bytes, length))
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_KEY_FILE,
                     _("“%s” holds an invalid PEM private key (%s)"), path, reason);
      else
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_KEY_FILE,
                     _("“%s” holds no PEM private key (no “-----BEGIN … PRIVATE KEY-----” block)"),
                     path);
      return NULL;
    }
  ERR_clear_error ();

  description = g_strdup_printf (_("the private key in “%s”"), path);
  {
    g_autofree char *what = g_strdup_printf (_("The private key in “%s”"), path);

    if (!check_pkcs8_iterations (bytes, length, what, error))
      return NULL;
  }
  for (guint attempt = 1; attempt <= MAX_PASSWORD_ATTEMPTS; attempt++)
    {
      char *password = request_password (ctx, description, attempt, error);

      if (password == NULL)
        return NULL;
      pw.password = password;
      key = read_pem_key (bytes, length, &pw);
      pw.password = NULL;
      password_free (password);
      /* Any failure now is taken for a wrong password: that is what a bad
       * decryption, or garbage decrypted by the wrong key, looks like. */
      ERR_clear_error ();
      if (key != NULL)
        return key;
    }

  set_wrong_password_error (error, description);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* PKCS#12                                                                  */

/* @certs (the certificates of a PKCS#12 file other than @leaf, in no
 * particular order) ordered the way a peer wants them after @leaf: its
 * issuer, that one's issuer, and so on; those outside that path follow. */
static STACK_OF(X509) *
order_chain (X509           *leaf,
             STACK_OF(X509) *certs)
{
  STACK_OF(X509) *ordered = sk_X509_new_null ();
  STACK_OF(X509) *rest = sk_X509_dup (certs);
  X509 *current = leaf;

  if (ordered == NULL || rest == NULL)
    g_error ("%s: out of memory", G_STRFUNC);

  ERR_set_mark ();
  while (sk_X509_num (rest) > 0)
    {
      int found = -1;

      for (int i = 0; i < sk_X509_num (rest); i++)
        if (X509_check_issued (sk_X509_value (rest, i), current) == X509_V_OK)
          {
            found = i;
            break;
          }
      /* A self-signed certificate issued itself: the path ends there. */
      if (found < 0 || X509_check_issued (current, current) == X509_V_OK)
        break;
      current = sk_X509_delete (rest, found);
      sk_X509_push (ordered, current);
    }
  ERR_pop_to_mark ();

  for (int i = 0; i < sk_X509_num (rest); i++)
    sk_X509_push (ordered, sk_X509_value (rest, i));
  sk_X509_free (rest);
  return ordered;
}

/* The key, certificate and other certificates of @p12, asking for its
 * password if it has one. */
static gboolean
parse_pkcs12 (GSecSockSecureSocketContext  *ctx,
              const char                   *path,
              PKCS12                       *p12,
              EVP_PKEY                    **key,
              X509                        **cert,
              STACK_OF(X509)              **others,
              GError                      **error)
{
  g_autofree char *description = NULL;
  g_autofree char *what = g_strdup_printf (_("The PKCS#12 file “%s”"), path);
  gboolean has_mac = PKCS12_mac_present (p12);

  if (!check_pkcs12_iterations (p12, what, FALSE, NULL, error))
    return FALSE;

  /* Without a password first: a file exported with an empty password (or
   * none) must load without asking. PKCS12_parse() tries both NULL and "". */
  if (!has_mac || PKCS12_verify_mac (p12, NULL, 0) || PKCS12_verify_mac (p12, "", 0))
    {
      ERR_clear_error ();
      if (!check_pkcs12_iterations (p12, what, TRUE, NULL, error) ||
          !check_pkcs12_iterations (p12, what, TRUE, "", error))
        return FALSE;
      if (PKCS12_parse (p12, "", key, cert, others))
        {
          ERR_clear_error ();
          return TRUE;
        }
      {
        g_autofree char *reason = take_openssl_reason ();

        if (has_mac)
          g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                       _("The contents of the PKCS#12 file “%s” cannot be read (%s)"),
                       path, reason);
        else
          g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                       _("The contents of the PKCS#12 file “%s” cannot be read (%s); a "
                         "PKCS#12 file that has a password must have an integrity check "
                         "(MAC): export it again without “-nomac”"),
                       path, reason);
        return FALSE;
      }
    }
  ERR_clear_error ();

  description = g_strdup_printf (_("the PKCS#12 file “%s”"), path);
  for (guint attempt = 1; attempt <= MAX_PASSWORD_ATTEMPTS; attempt++)
    {
      char *password = request_password (ctx, description, attempt, error);
      gboolean right, parsed = FALSE;

      if (password == NULL)
        return FALSE;
      /* The integrity check tells a wrong password from a right one. */
      right = PKCS12_verify_mac (p12, password, -1);
      if (right && !check_pkcs12_iterations (p12, what, TRUE, password, error))
        {
          password_free (password);
          return FALSE;
        }
      if (right)
        parsed = PKCS12_parse (p12, password, key, cert, others);
      password_free (password);

      if (right && parsed)
        {
          ERR_clear_error ();
          return TRUE;
        }
      if (right)
        {
          g_autofree char *reason = take_openssl_reason ();

          g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                       _("The contents of the PKCS#12 file “%s” cannot be read (%s)"),
                       path, reason);
          return FALSE;
        }
      ERR_clear_error ();
    }

  set_wrong_password_error (error, description);
  return FALSE;
}

static GSecSockCertificate *
identity_from_pkcs12 (GSecSockSecureSocketContext  *ctx,
                      const char                   *path,
                      PKCS12                       *p12,
                      GError                      **error)
{
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  STACK_OF(X509) *others = NULL;
  STACK_OF(X509) *chain = NULL;
  GSecSockCertificate *result = NULL;

  if (!parse_pkcs12 (ctx, path, p12, &key, &cert, &others, error))
    goto out;

  if (key == NULL)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_KEY_FILE,
                   _("The PKCS#12 file “%s” holds no private key"), path);
      goto out;
    }
  if (cert == NULL)
    {
      /* OpenSSL picks the certificate that matches the key. */
      if (others != NULL && sk_X509_num (others) > 0)
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_KEY_MISMATCH,
                     _("The private key in the PKCS#12 file “%s” belongs to none of its certificates"),
                     path);
      else
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                     _("The PKCS#12 file “%s” holds no certificate"), path);
      goto out;
    }

  if (others != NULL)
    chain = order_chain (cert, others);
  result = gsecsock_certificate_new_with_key (cert, key, chain);
  if (result == NULL)
    g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                 _("The certificate in the PKCS#12 file “%s” cannot be encoded"), path);

out:
  EVP_PKEY_free (key);
  X509_free (cert);
  if (others != NULL)
    sk_X509_pop_free (others, X509_free);
  if (chain != NULL)
    sk_X509_free (chain);   /* references held by @others */
  ERR_clear_error ();
  return result;
}

/* ------------------------------------------------------------------------ */
/* Identities                                                               */

static PKCS12 *
try_pkcs12 (const char *data,
            gsize       length,
            char      **reason)
{
  const unsigned char *p = (const unsigned char *) data;
  PKCS12 *p12;

  if (length == 0 || length > LONG_MAX)
    {
      *reason = g_strdup (length == 0 ? _("the file is empty") : _("the file is too large"));
      return NULL;
    }
  ERR_clear_error ();
  p12 = d2i_PKCS12 (NULL, &p, (long) length);
  if (p12 == NULL)
    *reason = take_openssl_reason ();
  return p12;
}

GSecSockCertificate *
gsecsock_load_identity (GSecSockSecureSocketContext  *ctx,
                        const char                   *path,
                        const char                   *key_path,
                        GSecSockIdentityFormat        format,
                        GError                      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(PKCS12) p12 = NULL;
  g_autoptr(GPtrArray) certs = NULL;
  g_autofree char *p12_reason = NULL;
  STACK_OF(X509) *chain = NULL;
  EVP_PKEY *key;
  GSecSockCertificate *result;
  const char *data;
  gsize length;
  gboolean is_pem;

  g_return_val_if_fail (ctx == NULL || GSECSOCK_IS_SECURE_SOCKET_CONTEXT (ctx), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  contents = read_secret_file (path, &local_error);
  if (contents == NULL)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                   _("Cannot read the certificate file: %s"), local_error->message);
      return NULL;
    }
  data = g_bytes_get_data (contents, &length);

  /* PKCS#12 is binary DER: a file with PEM blocks is never one. */
  is_pem = gsecsock_certificate_looks_like_pem (data, length);
  if (!is_pem)
    p12 = try_pkcs12 (data, length, &p12_reason);

  if (format == GSECSOCK_IDENTITY_PKCS12 && p12 == NULL)
    {
      if (is_pem)
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                     _("“%s” is not a PKCS#12 file but a PEM file: load it with "
                       "gsecsock_secure_socket_context_load_certificate_file()"),
                     path);
      else
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                     _("“%s” is not a valid PKCS#12 file (%s)"), path, p12_reason);
      return NULL;
    }

  if (p12 != NULL)
    {
      if (key_path != NULL)
        {
          g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                       _("“%s” is a PKCS#12 file, which holds its own private key: "
                         "give no separate key file (%s) with it"),
                       path, key_path);
          return NULL;
        }
      return identity_from_pkcs12 (ctx, path, p12, error);
    }

  certs = gsecsock_certificate_parse_file_contents (path, data, length, FALSE, &local_error);
  if (certs == NULL)
    {
      if (!is_pem && length > 0)
        {
          /* Binary, and neither DER nor PKCS#12: say both. */
          char *message = g_strdup_printf (_("%s; nor is it a valid PKCS#12 file (%s)"),
                                           local_error->message, p12_reason);
          g_free (local_error->message);
          local_error->message = message;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (key_path == NULL && !has_private_key_block (data, length))
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_KEY_FILE,
                   _("“%s” holds a certificate but no private key: give the key file too, "
                     "or append the key to the certificate file"),
                   path);
      return NULL;
    }
  if (key_path != NULL)
    key = gsecsock_load_private_key (ctx, key_path, NULL, error);
  else
    key = gsecsock_load_private_key (ctx, path, contents, error);
  if (key == NULL)
    return NULL;

  ERR_set_mark ();
  if (!X509_check_private_key (g_ptr_array_index (certs, 0), key))
    {
      guint owner = 0;

      /* A chain in the wrong order is a common mistake: say so. */
      for (guint i = 1; i < certs->len && owner == 0; i++)
        if (X509_check_private_key (g_ptr_array_index (certs, i), key))
          owner = i;
      ERR_pop_to_mark ();
      EVP_PKEY_free (key);
      if (owner != 0)
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_KEY_MISMATCH,
                     _("The private key in “%s” belongs to certificate %u of “%s”, not to the "
                       "first: the certificates are in the wrong order. List the certificate "
                       "of the key first, then the one that issued it, and so on"),
                     key_path != NULL ? key_path : path, owner + 1, path);
      else
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_KEY_MISMATCH,
                     _("The private key in “%s” does not belong to the certificate in “%s”"),
                     key_path != NULL ? key_path : path, path);
      return NULL;
    }
  ERR_pop_to_mark ();

  if (certs->len > 1)
    {
      chain = sk_X509_new_null ();
      if (chain == NULL)
        g_error ("%s: out of memory", G_STRFUNC);
      for (guint i = 1; i < certs->len; i++)
        sk_X509_push (chain, g_ptr_array_index (certs, i));
    }
  result = gsecsock_certificate_new_with_key (g_ptr_array_index (certs, 0), key, chain);
  sk_X509_free (chain);   /* references held by @certs */
  EVP_PKEY_free (key);
  if (result == NULL)
    g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                 _("The certificate in “%s” cannot be encoded"), path);
  return result;
}

/* ------------------------------------------------------------------------ */
/* Asking for other passwords                                               */

gboolean
gsecsock_password_try (GSecSockSecureSocketContext  *ctx,
                       const char                   *description,
                       GSecSockPasswordTryFunc       try_password,
                       gpointer                      user_data,
                       GError                      **error)
{
  g_return_val_if_fail (ctx == NULL || GSECSOCK_IS_SECURE_SOCKET_CONTEXT (ctx), FALSE);
  g_return_val_if_fail (description != NULL, FALSE);
  g_return_val_if_fail (try_password != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint attempt = 1; attempt <= MAX_PASSWORD_ATTEMPTS; attempt++)
    {
      char *password = request_password (ctx, description, attempt, error);
      GSecSockPasswordResult result;

      if (password == NULL)
        return FALSE;
      result = try_password (password, user_data, error);
      password_free (password);
      if (result == GSECSOCK_PASSWORD_RIGHT)
        return TRUE;
      if (result == GSECSOCK_PASSWORD_FAILED)
        return FALSE;
    }

  set_wrong_password_error (error, description);
  return FALSE;
}
