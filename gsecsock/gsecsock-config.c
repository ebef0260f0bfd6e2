/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-config-private.h"

#include "gsecsock-i18n-private.h"
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "gsecsock-certificate-private.h"
#include "gsecsock-error.h"
#include "gsecsock-info.h"

/* ---- Security level and protocol versions ---------------------------- */

int
gsecsock_config_default_security_level (void)
{
  static gsize level = 0;

  if (g_once_init_enter (&level))
    {
      /* A fresh SSL_CTX has the level the system's OpenSSL configuration
       * asks for (or OpenSSL's built-in default). */
      SSL_CTX *ctx = SSL_CTX_new (TLS_method ());
      int value = ctx != NULL ? SSL_CTX_get_security_level (ctx) : 1;

      SSL_CTX_free (ctx);
      ERR_clear_error ();
      g_once_init_leave (&level, (gsize) value + 1);
    }
  return (int) level - 1;
}

int
gsecsock_config_effective_security_level (int level)
{
  return level >= 0 ? level : gsecsock_config_default_security_level ();
}

static const char *
version_name (GSecSockProtocolVersion version)
{
  switch (version)
    {
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_0: return "TLS 1.0";
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_1: return "TLS 1.1";
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_2: return "TLS 1.2";
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_3: return "TLS 1.3";
    case GSECSOCK_PROTOCOL_VERSION_UNKNOWN:
    default: return _("an unknown version");
    }
}

static GSecSockProtocols
version_flag (GSecSockProtocolVersion version)
{
  switch (version)
    {
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_0: return GSECSOCK_PROTOCOLS_TLS_1_0;
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_1: return GSECSOCK_PROTOCOLS_TLS_1_1;
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_2: return GSECSOCK_PROTOCOLS_TLS_1_2;
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_3: return GSECSOCK_PROTOCOLS_TLS_1_3;
    case GSECSOCK_PROTOCOL_VERSION_UNKNOWN:
    default: return GSECSOCK_PROTOCOLS_NONE;
    }
}

/* Versions as bits: TLS 1.0 is bit 2 of GSecSockProtocols. */
#define FIRST_TLS_BIT 2
#define TLS_VERSION_BIT(version) (1u << (FIRST_TLS_BIT + (version) - GSECSOCK_PROTOCOL_VERSION_TLS_1_0))

gboolean
gsecsock_config_check_versions (GSecSockProtocolVersion   min,
                                GSecSockProtocolVersion   max,
                                int                       effective_level,
                                GError                  **error)
{
  GSecSockProtocols supported = gsecsock_get_supported_protocols ();

  if (min == GSECSOCK_PROTOCOL_VERSION_UNKNOWN)
    min = GSECSOCK_PROTOCOL_VERSION_TLS_1_2;

  if (!(supported & version_flag (min)) ||
      (max != GSECSOCK_PROTOCOL_VERSION_UNKNOWN && !(supported & version_flag (max))))
    {
      GSecSockProtocolVersion missing = !(supported & version_flag (min)) ? min : max;

      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION,
                   _("%s cannot be enabled: the OpenSSL in use (%s) was built without it"),
                   version_name (missing), OpenSSL_version (OPENSSL_VERSION));
      return FALSE;
    }

  if (min < GSECSOCK_PROTOCOL_VERSION_TLS_1_2 && effective_level > 0)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION,
                   _("%s cannot be enabled at OpenSSL security level %d: it needs SHA-1 "
                     "(or MD5) signatures, which OpenSSL 3 forbids at every level above 0. "
                     "Set the context's security-level to 0 first (knowingly accepting "
                     "weak keys and algorithms), or use TLS 1.2 or later"),
                   version_name (min), effective_level);
      return FALSE;
    }
  return TRUE;
}

gboolean
gsecsock_config_protocols_to_range (GSecSockProtocols         protocols,
                                    GSecSockProtocolVersion  *min,
                                    GSecSockProtocolVersion  *max,
                                    GError                  **error)
{
  const guint all = GSECSOCK_PROTOCOLS_SSL_2_0 | GSECSOCK_PROTOCOLS_SSL_3_0 |
                    GSECSOCK_PROTOCOLS_TLS_1_0 | GSECSOCK_PROTOCOLS_TLS_1_1 |
                    GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3;
  GSecSockProtocolVersion low = GSECSOCK_PROTOCOL_VERSION_UNKNOWN;
  GSecSockProtocolVersion high = GSECSOCK_PROTOCOL_VERSION_UNKNOWN;

  if (protocols & ~all)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION,
                   _("Unknown protocol flags 0x%x: use the GSecSockProtocols values"),
                   protocols & ~all);
      return FALSE;
    }
  if (protocols & GSECSOCK_PROTOCOLS_SSL_2_0)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION,
                           _("SSL 2.0 is not supported: it is broken beyond repair, RFC 6176 "
                             "forbids it and OpenSSL 3 does not implement it. Use TLS 1.2 or "
                             "later"));
      return FALSE;
    }
  if (protocols & GSECSOCK_PROTOCOLS_SSL_3_0)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION,
                           _("SSL 3.0 is not supported: the POODLE attack broke it, RFC 7568 "
                             "forbids it and OpenSSL 3 does not implement it. Use TLS 1.2 or "
                             "later"));
      return FALSE;
    }
  if (protocols == GSECSOCK_PROTOCOLS_NONE)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION,
                           _("No protocol version was given: allow at least one, for example "
                             "GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3"));
      return FALSE;
    }

  for (GSecSockProtocolVersion v = GSECSOCK_PROTOCOL_VERSION_TLS_1_0;
       v <= GSECSOCK_PROTOCOL_VERSION_TLS_1_3; v++)
    {
      if (protocols & TLS_VERSION_BIT (v))
        {
          if (low == GSECSOCK_PROTOCOL_VERSION_UNKNOWN)
            low = v;
          high = v;
        }
    }
  for (GSecSockProtocolVersion v = low; v <= high; v++)
    {
      if (!(protocols & TLS_VERSION_BIT (v)))
        {
          g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION,
                       _("%s and %s are allowed but not %s: OpenSSL only supports a range of "
                         "versions, from a minimum to a maximum. Allow %s too, or drop %s"),
                       version_name (low), version_name (high), version_name (v),
                       version_name (v), version_name (low));
          return FALSE;
        }
    }

  *min = low;
  *max = high;
  return TRUE;
}

GSecSockProtocols
gsecsock_config_protocols_from_range (GSecSockProtocolVersion min,
                                      GSecSockProtocolVersion max)
{
  GSecSockProtocols protocols = GSECSOCK_PROTOCOLS_NONE;

  if (min == GSECSOCK_PROTOCOL_VERSION_UNKNOWN)
    min = GSECSOCK_PROTOCOL_VERSION_TLS_1_2;
  if (max == GSECSOCK_PROTOCOL_VERSION_UNKNOWN)
    max = GSECSOCK_PROTOCOL_VERSION_TLS_1_3;
  for (GSecSockProtocolVersion v = min; v <= max; v++)
    protocols |= version_flag (v);
  return protocols;
}

/* ---- Cipher, cipher suite and group lists ----------------------------- */

/* The elements of @list split at any of @separators, empty ones dropped,
 * each stripped of white space. */
static GStrv
split_list (const char *list,
            const char *separators)
{
  g_auto(GStrv) parts = g_strsplit_set (list, separators, -1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (*parts[i] != '\0')
        g_strv_builder_add (builder, parts[i]);
    }
  return g_strv_builder_end (builder);
}

/* A scratch SSL_CTX to try names on. */
static SSL_CTX *
scratch_ctx (void)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_method ());

  if (ctx == NULL)
    g_error ("Cannot create an OpenSSL context: %s",
             ERR_reason_error_string (ERR_get_error ()));
  return ctx;
}

static gboolean
is_cipher_name (SSL_CTX *ctx, const char *name)
{
  gboolean ok = SSL_CTX_set_cipher_list (ctx, name) == 1;

  ERR_clear_error ();
  return ok;
}

static gboolean
is_ciphersuite_name (SSL_CTX *ctx, const char *name)
{
  gboolean ok = strchr (name, ':') == NULL && SSL_CTX_set_ciphersuites (ctx, name) == 1;

  ERR_clear_error ();
  return ok;
}

/* OpenSSL cipher-string keywords for algorithms that OpenSSL 3 builds
 * usually leave out (or define no cipher for): they match nothing here,
 * yet excluding them ("!RC4", "-3DES") is right and common. */
static gboolean
is_absent_algorithm_keyword (const char *name)
{
  static const char * const keywords[] = {
    "RC4", "RC2", "DES", "3DES", "IDEA", "SEED", "MD5", "EXP", "EXPORT", "EXPORT40",
    "EXPORT56", "LOW", "MEDIUM", "kECDH", "kECDHr", "kECDHe", "aDH", "kDHr", "kDHd",
    "GOST", "aGOST", "aGOST01", "aGOST12", "kGOST", "GOST89MAC", "GOST94", "FZA",
    "kFZA", "aFZA", "eFZA", "KRB5", "kKRB5", "aKRB5", "SSLv2", NULL
  };

  for (guint i = 0; keywords[i] != NULL; i++)
    if (strcmp (name, keywords[i]) == 0)
      return TRUE;
  return FALSE;
}

gboolean
gsecsock_config_check_cipher_list (const char  *list,
                                   GError     **error)
{
  /* OpenSSL's separators; "+" joins the words of one element. */
  g_auto(GStrv) elements = split_list (list, ":, ;");
  SSL_CTX *ctx = scratch_ctx ();
  gboolean ok = TRUE;

  if (elements[0] == NULL)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                   _("The cipher list “%s” is empty: give at least one cipher (for example "
                     "“HIGH”), or NULL for OpenSSL's default"), list);
      ok = FALSE;
    }

  for (guint i = 0; ok && elements[i] != NULL; i++)
    {
      const char *element = elements[i];
      const char *name = element;
      gboolean excluded = *name == '!' || *name == '-';

      if (*name == '!' || *name == '-' || *name == '+')
        name++;
      if (excluded && is_absent_algorithm_keyword (name))
        continue;

      if (g_ascii_strncasecmp (name, "@SECLEVEL", 9) == 0)
        {
          g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                       _("“%s” in the cipher list “%s” would change OpenSSL's security level "
                         "behind the context's back: remove it and set the context's "
                         "security-level instead"), element, list);
          ok = FALSE;
        }
      else if (*name == '@')
        {
          if (g_ascii_strcasecmp (name, "@STRENGTH") != 0)
            {
              g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                           _("“%s” in the cipher list “%s” is not a command OpenSSL knows "
                             "(only “@STRENGTH” is allowed)"), element, list);
              ok = FALSE;
            }
        }
      else if (*name == '\0' || !is_cipher_name (ctx, name))
        {
          if (*name != '\0' && is_ciphersuite_name (ctx, name))
            g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                         _("“%s” in the cipher list “%s” is a TLS 1.3 cipher suite: "
                           "configure it with the context's ciphersuites, not cipher-list "
                           "(which is for TLS 1.2 and earlier)"), name, list);
          else
            g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                         _("“%s” in the cipher list “%s” matches no cipher of this OpenSSL: "
                           "check the spelling (`openssl ciphers -v ALL` lists the names)"),
                         name, list);
          ok = FALSE;
        }
    }

  if (ok && SSL_CTX_set_cipher_list (ctx, list) != 1)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                   _("The cipher list “%s” leaves no cipher for TLS 1.2 and earlier"),
                   list);
      ok = FALSE;
    }

  ERR_clear_error ();
  SSL_CTX_free (ctx);
  return ok;
}

gboolean
gsecsock_config_check_ciphersuites (const char  *list,
                                    GError     **error)
{
  g_auto(GStrv) names = split_list (list, ":");
  SSL_CTX *ctx = scratch_ctx ();
  gboolean ok = TRUE;

  if (names[0] == NULL)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                   _("The TLS 1.3 cipher suite list “%s” is empty, which would disable TLS "
                     "1.3 without saying so: to do that, set max-protocol-version to TLS 1.2 "
                     "instead"), list);
      ok = FALSE;
    }

  for (guint i = 0; ok && names[i] != NULL; i++)
    {
      if (is_ciphersuite_name (ctx, names[i]))
        continue;
      if (is_cipher_name (ctx, names[i]))
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                     _("“%s” in the cipher suite list “%s” is not a TLS 1.3 cipher suite: "
                       "configure TLS 1.2 ciphers with the context's cipher-list"),
                     names[i], list);
      else
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                     _("“%s” in the cipher suite list “%s” is not a TLS 1.3 cipher suite this "
                       "OpenSSL knows (for example TLS_AES_128_GCM_SHA256, "
                       "TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256)"),
                     names[i], list);
      ok = FALSE;
    }

  ERR_clear_error ();
  SSL_CTX_free (ctx);
  return ok;
}

gboolean
gsecsock_config_check_groups (const char  *list,
                              GError     **error)
{
  g_auto(GStrv) names = split_list (list, ":");
  SSL_CTX *ctx = scratch_ctx ();
  gboolean ok = TRUE;

  if (names[0] == NULL)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                   _("The key exchange group list “%s” is empty: give at least one group "
                     "(for example “x25519:P-256”), or NULL for OpenSSL's default"), list);
      ok = FALSE;
    }

  for (guint i = 0; ok && names[i] != NULL; i++)
    {
      if (SSL_CTX_set1_groups_list (ctx, names[i]) == 1)
        continue;
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                   _("“%s” in the group list “%s” is not a key exchange group this OpenSSL "
                     "knows (for example x25519, x448, P-256, P-384, P-521, ffdhe2048)"),
                   names[i], list);
      ok = FALSE;
    }

  /* Each name is known, but OpenSSL also refuses a list that names a
   * group twice (under two names, say "P-256" and "prime256v1"): it would
   * fail only when applied to each socket, then silently fall back to the
   * default groups. */
  if (ok && SSL_CTX_set1_groups_list (ctx, list) != 1)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                   _("The group list “%s” names a group more than once (a group may have "
                     "two names, such as P-256 and prime256v1): give each once"), list);
      ok = FALSE;
    }

  ERR_clear_error ();
  SSL_CTX_free (ctx);
  return ok;
}

char *
gsecsock_config_default_ciphers (gboolean server,
                                 gboolean tls13)
{
  SSL_CTX *ctx = SSL_CTX_new (server ? TLS_server_method () : TLS_client_method ());
  g_autoptr(GString) result = g_string_new (NULL);
  STACK_OF(SSL_CIPHER) *ciphers;

  if (ctx == NULL)
    g_error ("Cannot create an OpenSSL context: %s",
             ERR_reason_error_string (ERR_get_error ()));
  ciphers = SSL_CTX_get_ciphers (ctx);
  for (int i = 0; i < sk_SSL_CIPHER_num (ciphers); i++)
    {
      const SSL_CIPHER *cipher = sk_SSL_CIPHER_value (ciphers, i);
      gboolean is_tls13 = g_strcmp0 (SSL_CIPHER_get_version (cipher), "TLSv1.3") == 0;

      if (is_tls13 != !!tls13)
        continue;
      if (result->len > 0)
        g_string_append_c (result, ':');
      g_string_append (result, SSL_CIPHER_get_name (cipher));
    }
  SSL_CTX_free (ctx);
  return g_string_free (g_steal_pointer (&result), FALSE);
}

/* ---- Revocation -------------------------------------------------------- */

GPtrArray *
gsecsock_config_load_crls (const char  *path,
                           GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GPtrArray) crls = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_CRL_free);
  gsize length = 0;
  BIO *bio;

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CRL_FILE,
                   _("Cannot read the certificate revocation list “%s”: %s"),
                   path, local_error->message);
      return NULL;
    }
  if (length > G_MAXINT)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CRL_FILE,
                   _("“%s” is too large to be a certificate revocation list"), path);
      return NULL;
    }

  bio = BIO_new_mem_buf (contents, (int) length);
  if (gsecsock_certificate_looks_like_pem (contents, length))
    {
      X509_CRL *crl;

      while ((crl = PEM_read_bio_X509_CRL (bio, NULL, NULL, NULL)) != NULL)
        g_ptr_array_add (crls, crl);
    }
  else
    {
      X509_CRL *crl = d2i_X509_CRL_bio (bio, NULL);

      if (crl != NULL)
        g_ptr_array_add (crls, crl);
    }
  BIO_free (bio);
  ERR_clear_error ();

  if (crls->len == 0)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CRL_FILE,
                   _("“%s” holds no certificate revocation list: expected PEM "
                     "(“-----BEGIN X509 CRL-----”) or DER"), path);
      return NULL;
    }
  return g_steal_pointer (&crls);
}

unsigned long
gsecsock_config_revocation_flags (GSecSockRevocationCheck check)
{
  switch (check)
    {
    case GSECSOCK_REVOCATION_CHECK_LEAF:
      return X509_V_FLAG_CRL_CHECK;
    case GSECSOCK_REVOCATION_CHECK_CHAIN:
      return X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
    case GSECSOCK_REVOCATION_CHECK_NONE:
    default:
      return 0;
    }
}

/* ---- Chain certificates ------------------------------------------------ */

static void
free_chain (void *parent, void *ptr, CRYPTO_EX_DATA *ad,
            int idx, long argl, void *argp)
{
  if (ptr != NULL)
    g_ptr_array_unref (ptr);
}

static int
chain_index (void)
{
  static gsize index = 0;

  if (g_once_init_enter (&index))
    {
      int i = SSL_get_ex_new_index (0, "gsecsock chain certificates", NULL, NULL, free_chain);
      g_once_init_leave (&index, (gsize) i + 1);
    }
  return (int) index - 1;
}

void
gsecsock_config_attach_chain (SSL       *ssl,
                              GPtrArray *chain)
{
  if (chain == NULL || chain->len == 0)
    return;
  SSL_set_ex_data (ssl, chain_index (), g_ptr_array_ref (chain));
}

GPtrArray *
gsecsock_config_get_chain (const SSL *ssl)
{
  return SSL_get_ex_data (ssl, chain_index ());
}
