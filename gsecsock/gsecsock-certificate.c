/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-certificate.h"

#include <limits.h>
#include <string.h>

#include "gsecsock-i18n-private.h"
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "gsecsock-certificate-private.h"
#include "gsecsock-error.h"
#include "gsecsock-password-private.h"

/**
 * GSecSockCertificate:
 *
 * An X.509 certificate.
 *
 * A `GSecSockCertificate` is immutable: once created, none of its properties
 * change, and it can be shared freely between threads.
 *
 * Certificates are created from files with
 * [ctor@GSecSock.Certificate.new_from_file] (PEM or DER, detected
 * automatically) or [func@GSecSock.Certificate.list_new_from_file] (every
 * certificate of a PEM bundle), or from memory with
 * [ctor@GSecSock.Certificate.new_from_pem] and
 * [ctor@GSecSock.Certificate.new_from_der]. A
 * [class@GSecSock.SecureSocket] also hands out the certificates its peer
 * presented.
 *
 * A certificate may also carry its private key, which makes it an identity
 * that can be presented to a peer: see
 * [ctor@GSecSock.Certificate.new_from_files],
 * [method@GSecSock.SecureSocketContext.load_identity] and
 * [property@GSecSock.Certificate:has-private-key]. Such a certificate also
 * keeps the intermediate certificates that were loaded with it, which are
 * sent after it. Neither the key nor these certificates take part in
 * [method@GSecSock.Certificate.equal].
 *
 * Only these constructors make a usable certificate: an instance created
 * with g_object_new() holds no certificate, and its methods refuse to work on
 * it.
 *
 * The properties describe the certificate for display and for pinning (see
 * [property@GSecSock.Certificate:fingerprint-sha256]); they do not say
 * whether it is trustworthy, which only verification against trusted
 * authorities decides.
 *
 * Since: 0.1
 */

struct _GSecSockCertificate
{
  GObject parent_instance;

  X509 *x509;
  EVP_PKEY *private_key;        /* NULL unless loaded with its key */
  STACK_OF(X509) *chain;        /* issuers to send after x509, or NULL */

  /* Computed once at creation: the object is immutable, these are asked for
   * often (pinning, equality), and doing it up front keeps every getter
   * free of locking. */
  GBytes *der;
  char *fingerprint_sha256;
  char *fingerprint_sha1;
};

G_DEFINE_FINAL_TYPE (GSecSockCertificate, gsecsock_certificate, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SUBJECT,
  PROP_ISSUER,
  PROP_SERIAL_NUMBER,
  PROP_NOT_VALID_BEFORE,
  PROP_NOT_VALID_AFTER,
  PROP_FINGERPRINT_SHA256,
  PROP_FINGERPRINT_SHA1,
  PROP_DNS_NAMES,
  PROP_IP_ADDRESSES,
  PROP_IS_CA,
  PROP_HAS_PRIVATE_KEY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Outcome of parsing certificate data; the callers turn it into a GError
 * that names where the data came from. */
typedef enum {
  PARSE_FOUND,
  PARSE_NOTHING,
  PARSE_INVALID,
} ParseResult;

/* ------------------------------------------------------------------------ */
/* OpenSSL helpers                                                          */

/* About OpenSSL's (per-thread) error queue: the constructors parse
 * untrusted input and report its errors, so they start from an empty queue
 * and always leave it empty. Everything else may run in the middle of a TLS
 * operation (a verify callback wraps the peer's certificates), so it only
 * drops the errors it added itself (ERR_set_mark/ERR_pop_to_mark) and keeps
 * the ones that were already queued. */

static BIO *
new_mem_bio (void)
{
  BIO *bio = BIO_new (BIO_s_mem ());

  /* Like g_malloc(): running out of memory here is not recoverable. */
  if (bio == NULL)
    g_error ("%s: out of memory", G_STRFUNC);
  return bio;
}

/* The reason of the oldest error in OpenSSL's queue (the root cause; later
 * entries only say where it propagated), and empties the queue so the error
 * cannot resurface in an unrelated later operation. */
static char *
take_openssl_reason (void)
{
  unsigned long err = ERR_peek_error ();
  const char *reason = err != 0 ? ERR_reason_error_string (err) : NULL;
  char *result;

  if (err != 0 && ERR_GET_LIB (err) == ERR_LIB_ASN1 &&
      (ERR_GET_REASON (err) == ASN1_R_TOO_LONG ||
       ERR_GET_REASON (err) == ASN1_R_HEADER_TOO_LONG ||
       ERR_GET_REASON (err) == ASN1_R_NOT_ENOUGH_DATA))
    result = g_strdup_printf (_("the data is truncated (%s)"), reason);
  else if (reason != NULL)
    result = g_strdup (reason);
  else
    result = g_strdup (_("unknown error"));

  ERR_clear_error ();
  return result;
}

/* Certificates are never encrypted: a PEM block that says it is must not make
 * OpenSSL's default callback prompt for a passphrase on the terminal. */
static int
no_passphrase_cb (char *buf,
                  int   size,
                  int   rwflag,
                  void *user_data)
{
  return -1;
}

static const char *
find_bytes (const char *haystack,
            gsize       haystack_len,
            const char *needle)
{
  gsize needle_len = strlen (needle);

  if (needle_len > haystack_len)
    return NULL;
  for (gsize i = 0; i <= haystack_len - needle_len; i++)
    if (memcmp (haystack + i, needle, needle_len) == 0)
      return haystack + i;
  return NULL;
}

static gboolean
looks_like_pem (const char *data,
                gsize       length)
{
  return find_bytes (data, length, "-----BEGIN ") != NULL;
}

/* Label of the first PEM block ("PRIVATE KEY", …), to tell the user what a
 * file holds instead of a certificate. */
static char *
first_pem_label (const char *data,
                 gsize       length)
{
  const char *begin = find_bytes (data, length, "-----BEGIN ");
  const char *label, *end;

  if (begin == NULL)
    return NULL;
  label = begin + strlen ("-----BEGIN ");
  end = find_bytes (label, length - (gsize) (label - data), "-----");
  if (end == NULL || end - label > 64 || memchr (label, '\n', (gsize) (end - label)) != NULL)
    return NULL;
  return g_utf8_make_valid (label, end - label);
}

/* Every CERTIFICATE block of @data, in order (only the first if
 * @first_only), appended to @certs as X509 references. Other PEM blocks
 * (keys, parameters) are skipped. */
static ParseResult
parse_pem (const char  *data,
           gsize        length,
           gboolean     first_only,
           GPtrArray   *certs,
           char       **reason)
{
  BIO *bio;
  ParseResult result = PARSE_NOTHING;

  if (length > INT_MAX)
    {
      *reason = g_strdup (_("the data is too large"));
      return PARSE_INVALID;
    }

  ERR_clear_error ();
  bio = BIO_new_mem_buf (data, (int) length);
  if (bio == NULL)
    g_error ("%s: out of memory", G_STRFUNC);

  for (;;)
    {
      X509 *x509 = PEM_read_bio_X509 (bio, NULL, no_passphrase_cb, NULL);
      unsigned long err;

      if (x509 != NULL)
        {
          g_ptr_array_add (certs, x509);
          result = PARSE_FOUND;
          if (first_only)
            break;
          continue;
        }

      /* "No start line" is how OpenSSL says there is no further
       * CERTIFICATE block: the normal end of the data. */
      err = ERR_peek_last_error ();
      if (ERR_GET_LIB (err) == ERR_LIB_PEM &&
          ERR_GET_REASON (err) == PEM_R_NO_START_LINE)
        break;

      *reason = take_openssl_reason ();
      result = PARSE_INVALID;
      break;
    }

  BIO_free (bio);
  ERR_clear_error ();
  return result;
}

static ParseResult
parse_der (const guint8  *data,
           gsize          length,
           X509         **out,
           char         **reason)
{
  const unsigned char *p = data;
  X509 *x509;
  gsize trailing;

  if (length == 0)
    return PARSE_NOTHING;
  if (length > LONG_MAX)
    {
      *reason = g_strdup (_("the data is too large"));
      return PARSE_INVALID;
    }

  ERR_clear_error ();
  x509 = d2i_X509 (NULL, &p, (long) length);
  if (x509 == NULL)
    {
      *reason = take_openssl_reason ();
      return PARSE_INVALID;
    }

  /* A certificate followed by junk is more likely a corrupted or
   * mis-concatenated file than something to silently accept. */
  trailing = length - (gsize) (p - data);
  if (trailing > 0)
    {
      X509_free (x509);
      /* %lu, not G_GSIZE_FORMAT: xgettext cannot see through the macro. */
      *reason = g_strdup_printf (gsecsock_ngettext ("%lu unexpected byte follows the certificate",
                                                    "%lu unexpected bytes follow the certificate",
                                                    trailing),
                                 (gulong) trailing);
      return PARSE_INVALID;
    }

  *out = x509;
  return PARSE_FOUND;
}

/* DER certificates start with a SEQUENCE tag; anything else is not worth
 * handing to the DER parser, whose error would only confuse. */
static gboolean
looks_like_der (const char *data,
                gsize       length)
{
  return length > 0 && (guint8) data[0] == 0x30;
}

/* All certificates of the contents of the file @path (or only the
 * first): PEM if it has a PEM block, DER otherwise. */
GPtrArray *
gsecsock_certificate_parse_file_contents (const char  *path,
                                          const char  *contents,
                                          gsize        length,
                                          gboolean     first_only,
                                          GError     **error)
{
  g_autoptr(GPtrArray) certs = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_free);
  g_autofree char *reason = NULL;

  if (length == 0)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                   _("“%s” holds no PEM or DER certificate: the file is empty"), path);
      return NULL;
    }

  if (looks_like_pem (contents, length))
    {
      switch (parse_pem (contents, length, first_only, certs, &reason))
        {
        case PARSE_FOUND:
          return g_steal_pointer (&certs);

        case PARSE_INVALID:
          if (certs->len == 0)
            g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                         _("“%s” holds an invalid PEM certificate: %s"), path, reason);
          else
            g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                         _("Certificate %u of “%s” is invalid: %s"),
                         certs->len + 1, path, reason);
          return NULL;

        case PARSE_NOTHING:
        default:
          /* Binary DER may contain "-----BEGIN " by chance: still try it. */
          if (!looks_like_der (contents, length))
            {
              g_autofree char *label = first_pem_label (contents, length);

              if (label != NULL)
                g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                             _("“%s” holds no PEM or DER certificate (it holds a PEM “%s” block instead)"),
                             path, label);
              else
                g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                             _("“%s” holds no PEM or DER certificate"), path);
              return NULL;
            }
          break;
        }
    }

  if (looks_like_der (contents, length))
    {
      X509 *x509 = NULL;

      if (parse_der ((const guint8 *) contents, length, &x509, &reason) == PARSE_FOUND)
        {
          g_ptr_array_add (certs, x509);
          return g_steal_pointer (&certs);
        }

      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                   _("“%s” holds no PEM certificate and is not a valid DER certificate: %s"),
                   path, reason);
      return NULL;
    }

  g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
               _("“%s” holds no PEM or DER certificate"), path);
  return NULL;
}

static GPtrArray *
load_file (const char  *path,
           gboolean     first_only,
           GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      /* g_file_get_contents() names the file and the cause already; map
       * GFileError to GIOError, the domain of a GIO-based library. */
      g_set_error (error, G_IO_ERROR,
                   g_io_error_from_file_error ((GFileError) local_error->code),
                   _("Could not read certificate file: %s"), local_error->message);
      return NULL;
    }
  return gsecsock_certificate_parse_file_contents (path, contents, length, first_only, error);
}

/* ------------------------------------------------------------------------ */
/* Formatting                                                               */

static char *
hex_colon (const guint8 *data,
           gsize         length)
{
  static const char digits[] = "0123456789abcdef";
  char *result = g_malloc (length > 0 ? length * 3 : 1);
  char *p = result;

  for (gsize i = 0; i < length; i++)
    {
      if (i > 0)
        *p++ = ':';
      *p++ = digits[data[i] >> 4];
      *p++ = digits[data[i] & 0xf];
    }
  *p = '\0';
  return result;
}

static char *
fingerprint (GBytes        *der,
             GChecksumType  type)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (type);
  guint8 digest[64];
  gsize digest_len = sizeof digest;

  /* GLib's own hashes: unlike OpenSSL's, they cannot be disabled by the
   * provider configuration (SHA-1 in a FIPS setup), so a fingerprint is
   * always available. The fingerprint is the hash of the DER encoding,
   * exactly what `openssl x509 -fingerprint` prints. */
  g_checksum_update (checksum, g_bytes_get_data (der, NULL), g_bytes_get_size (der));
  g_checksum_get_digest (checksum, digest, &digest_len);
  return hex_colon (digest, digest_len);
}

/* RFC 2253 form ("CN=localhost,O=Example"), most specific RDN first, but
 * with non-ASCII text kept as UTF-8 rather than escaped byte by byte: these
 * strings are meant for people. */
static char *
name_to_string (const X509_NAME *name)
{
  BIO *bio;
  char *data = NULL;
  long length;
  char *result;

  if (name == NULL)
    return g_strdup ("");

  bio = new_mem_bio ();
  ERR_set_mark ();
  if (X509_NAME_print_ex (bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
    {
      ERR_pop_to_mark ();
      BIO_free (bio);
      return g_strdup ("");
    }
  ERR_pop_to_mark ();
  length = BIO_get_mem_data (bio, &data);
  result = g_utf8_make_valid (data != NULL ? data : "", data != NULL ? length : 0);
  BIO_free (bio);
  return result;
}

static GDateTime *
asn1_time_to_date_time (const ASN1_TIME *time)
{
  struct tm tm = { 0 };

  /* ASN1_TIME_to_tm() takes NULL to mean "now": never let it. */
  if (time == NULL)
    return NULL;
  ERR_set_mark ();
  if (!ASN1_TIME_to_tm (time, &tm))
    {
      ERR_pop_to_mark ();
      return NULL;
    }
  ERR_pop_to_mark ();
  return g_date_time_new_utc (tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                              tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static GStrv
get_alt_names (GSecSockCertificate *self,
               int                  type)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  GENERAL_NAMES *names;
  int n;

  ERR_set_mark ();
  names = X509_get_ext_d2i (self->x509, NID_subject_alt_name, NULL, NULL);
  /* A malformed extension leaves a decoding error behind. */
  ERR_pop_to_mark ();
  n = names != NULL ? sk_GENERAL_NAME_num (names) : 0;

  for (int i = 0; i < n; i++)
    {
      const GENERAL_NAME *name = sk_GENERAL_NAME_value (names, i);
      const char *data;
      int length;

      if (name->type != type)
        continue;

      if (type == GEN_DNS)
        {
          data = (const char *) ASN1_STRING_get0_data (name->d.dNSName);
          length = ASN1_STRING_length (name->d.dNSName);
          /* A name with an embedded NUL ("good.example\0.evil.example") is
           * an attack on C string handling, and not a valid DNS name: it
           * is left out rather than shown truncated. */
          if (length <= 0 || memchr (data, '\0', (gsize) length) != NULL ||
              !g_utf8_validate (data, length, NULL))
            continue;
          {
            g_autofree char *dns_name = g_strndup (data, (gsize) length);
            g_strv_builder_add (builder, dns_name);
          }
        }
      else if (type == GEN_IPADD)
        {
          g_autoptr(GInetAddress) address = NULL;
          g_autofree char *text = NULL;

          data = (const char *) ASN1_STRING_get0_data (name->d.iPAddress);
          length = ASN1_STRING_length (name->d.iPAddress);
          if (length == 4)
            address = g_inet_address_new_from_bytes ((const guint8 *) data, G_SOCKET_FAMILY_IPV4);
          else if (length == 16)
            address = g_inet_address_new_from_bytes ((const guint8 *) data, G_SOCKET_FAMILY_IPV6);
          else
            continue; /* not an address (name constraints use 8/32 bytes) */
          text = g_inet_address_to_string (address);
          g_strv_builder_add (builder, text);
        }
    }

  GENERAL_NAMES_free (names);
  return g_strv_builder_end (builder);
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                  */

static void
gsecsock_certificate_finalize (GObject *object)
{
  GSecSockCertificate *self = GSECSOCK_CERTIFICATE (object);

  X509_free (self->x509);
  EVP_PKEY_free (self->private_key);
  if (self->chain != NULL)
    sk_X509_pop_free (self->chain, X509_free);
  g_clear_pointer (&self->der, g_bytes_unref);
  g_free (self->fingerprint_sha256);
  g_free (self->fingerprint_sha1);

  G_OBJECT_CLASS (gsecsock_certificate_parent_class)->finalize (object);
}

static void
gsecsock_certificate_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  GSecSockCertificate *self = GSECSOCK_CERTIFICATE (object);

  /* An instance made by g_object_new() alone holds nothing: report the
   * defaults rather than a critical per property (bindings may list them). */
  if (self->x509 == NULL)
    {
      if (prop_id == 0 || prop_id >= N_PROPS)
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }

  switch (prop_id)
    {
    case PROP_SUBJECT:
      g_value_take_string (value, gsecsock_certificate_get_subject (self));
      break;
    case PROP_ISSUER:
      g_value_take_string (value, gsecsock_certificate_get_issuer (self));
      break;
    case PROP_SERIAL_NUMBER:
      g_value_take_string (value, gsecsock_certificate_get_serial_number (self));
      break;
    case PROP_NOT_VALID_BEFORE:
      g_value_take_boxed (value, gsecsock_certificate_get_not_valid_before (self));
      break;
    case PROP_NOT_VALID_AFTER:
      g_value_take_boxed (value, gsecsock_certificate_get_not_valid_after (self));
      break;
    case PROP_FINGERPRINT_SHA256:
      g_value_set_string (value, self->fingerprint_sha256);
      break;
    case PROP_FINGERPRINT_SHA1:
      g_value_set_string (value, self->fingerprint_sha1);
      break;
    case PROP_DNS_NAMES:
      g_value_take_boxed (value, gsecsock_certificate_get_dns_names (self));
      break;
    case PROP_IP_ADDRESSES:
      g_value_take_boxed (value, gsecsock_certificate_get_ip_addresses (self));
      break;
    case PROP_IS_CA:
      g_value_set_boolean (value, gsecsock_certificate_get_is_ca (self));
      break;
    case PROP_HAS_PRIVATE_KEY:
      g_value_set_boolean (value, self->private_key != NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gsecsock_certificate_class_init (GSecSockCertificateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gsecsock_certificate_finalize;
  object_class->get_property = gsecsock_certificate_get_property;

  /**
   * GSecSockCertificate:subject: (getter get_subject)
   *
   * The distinguished name of the certificate's subject, on one line in the
   * form of RFC 2253 (most specific part first, for example
   * `CN=www.example.com,O=Example Ltd,C=GB`), with non-ASCII text as UTF-8.
   * Empty if the certificate has an empty subject.
   *
   * Since: 0.1
   */
  properties[PROP_SUBJECT] =
    g_param_spec_string ("subject", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockCertificate:issuer: (getter get_issuer)
   *
   * The distinguished name of the authority that issued the certificate, in
   * the form of [property@GSecSock.Certificate:subject]. For a self-signed
   * certificate it equals the subject.
   *
   * Since: 0.1
   */
  properties[PROP_ISSUER] =
    g_param_spec_string ("issuer", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockCertificate:serial-number: (getter get_serial_number)
   *
   * The serial number the issuer gave the certificate, as uppercase
   * hexadecimal digits without separators, two per byte (for example
   * `0A1B2C`), as `openssl x509 -noout -serial` prints it. A (malformed)
   * negative serial number starts with `-`.
   *
   * Since: 0.1
   */
  properties[PROP_SERIAL_NUMBER] =
    g_param_spec_string ("serial-number", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockCertificate:not-valid-before: (getter get_not_valid_before)
   *
   * The time (in UTC) from which the certificate is valid, or %NULL if the
   * certificate's date cannot be read.
   *
   * Since: 0.1
   */
  properties[PROP_NOT_VALID_BEFORE] =
    g_param_spec_boxed ("not-valid-before", NULL, NULL,
                        G_TYPE_DATE_TIME,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockCertificate:not-valid-after: (getter get_not_valid_after)
   *
   * The time (in UTC) after which the certificate has expired, or %NULL if
   * the certificate's date cannot be read.
   *
   * Since: 0.1
   */
  properties[PROP_NOT_VALID_AFTER] =
    g_param_spec_boxed ("not-valid-after", NULL, NULL,
                        G_TYPE_DATE_TIME,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockCertificate:fingerprint-sha256: (getter get_fingerprint_sha256)
   *
   * The SHA-256 hash of the certificate's DER encoding, as lowercase
   * hexadecimal bytes separated by colons (`5e:0a:…`, 95 characters).
   *
   * This identifies the certificate uniquely, and is what to compare when
   * pinning a certificate. It matches `openssl x509 -noout -fingerprint
   * -sha256` (which prints uppercase).
   *
   * Since: 0.1
   */
  properties[PROP_FINGERPRINT_SHA256] =
    g_param_spec_string ("fingerprint-sha256", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockCertificate:fingerprint-sha1: (getter get_fingerprint_sha1)
   *
   * The SHA-1 hash of the certificate's DER encoding, as lowercase
   * hexadecimal bytes separated by colons (59 characters).
   *
   * Only for display and for matching older tools' output: SHA-1 is broken,
   * so use [property@GSecSock.Certificate:fingerprint-sha256] to pin a
   * certificate.
   *
   * Since: 0.1
   */
  properties[PROP_FINGERPRINT_SHA1] =
    g_param_spec_string ("fingerprint-sha1", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockCertificate:dns-names: (getter get_dns_names)
   *
   * The DNS names of the certificate's subjectAltName extension, in the
   * certificate's order (wildcards such as `*.example.com` as written). Empty
   * if it has none. The subject's common name is not included.
   *
   * Since: 0.1
   */
  properties[PROP_DNS_NAMES] =
    g_param_spec_boxed ("dns-names", NULL, NULL,
                        G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockCertificate:ip-addresses: (getter get_ip_addresses)
   *
   * The IP addresses of the certificate's subjectAltName extension, in the
   * certificate's order, as text in the canonical form of
   * g_inet_address_to_string() (`127.0.0.1`, `::1`). Empty if it has none.
   *
   * Since: 0.1
   */
  properties[PROP_IP_ADDRESSES] =
    g_param_spec_boxed ("ip-addresses", NULL, NULL,
                        G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockCertificate:is-ca: (getter get_is_ca)
   *
   * Whether the certificate may act as a certificate authority, that is sign
   * other certificates: its basicConstraints extension says `CA:TRUE` (or,
   * for legacy certificates without that extension, OpenSSL's rules for
   * X.509 v1 roots and keyCertSign usage say so).
   *
   * Since: 0.1
   */
  properties[PROP_IS_CA] =
    g_param_spec_boolean ("is-ca", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockCertificate:has-private-key: (getter get_has_private_key)
   *
   * Whether the certificate carries its private key, so that it can be
   * presented to a peer (see
   * [method@GSecSock.SecureSocketContext.set_certificate]). Certificates
   * loaded with [ctor@GSecSock.Certificate.new_from_files] or
   * [method@GSecSock.SecureSocketContext.load_identity] do; the others,
   * including the peer's certificates, do not. The key itself is never
   * exposed.
   *
   * Since: 0.1
   */
  properties[PROP_HAS_PRIVATE_KEY] =
    g_param_spec_boolean ("has-private-key", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
gsecsock_certificate_init (GSecSockCertificate *self)
{
}

/* ------------------------------------------------------------------------ */
/* Private API                                                              */

GSecSockCertificate *
gsecsock_certificate_new_from_x509 (X509 *x509)
{
  GSecSockCertificate *self;
  unsigned char *der = NULL;
  int der_len;

  g_return_val_if_fail (x509 != NULL, NULL);

  /* A certificate that was parsed keeps its original encoding, so this
   * returns exactly the bytes it came from. */
  ERR_set_mark ();
  der_len = i2d_X509 (x509, &der);
  ERR_pop_to_mark ();
  if (der_len <= 0)
    {
      g_critical ("%s: the certificate cannot be DER-encoded", G_STRFUNC);
      return NULL;
    }

  self = g_object_new (GSECSOCK_TYPE_CERTIFICATE, NULL);
  X509_up_ref (x509);
  self->x509 = x509;
  self->der = g_bytes_new (der, (gsize) der_len);
  OPENSSL_free (der);
  self->fingerprint_sha256 = fingerprint (self->der, G_CHECKSUM_SHA256);
  self->fingerprint_sha1 = fingerprint (self->der, G_CHECKSUM_SHA1);

  return self;
}

GSecSockCertificate *
gsecsock_certificate_new_with_key (X509           *leaf,
                                   EVP_PKEY       *key,
                                   STACK_OF(X509) *chain)
{
  GSecSockCertificate *self;

  g_return_val_if_fail (leaf != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  self = gsecsock_certificate_new_from_x509 (leaf);
  if (self == NULL)
    return NULL;

  EVP_PKEY_up_ref (key);
  self->private_key = key;
  if (chain != NULL && sk_X509_num (chain) > 0)
    {
      self->chain = X509_chain_up_ref (chain);
      if (self->chain == NULL)
        g_error ("%s: out of memory", G_STRFUNC);
    }
  return self;
}

X509 *
gsecsock_certificate_get_x509 (GSecSockCertificate *self)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), NULL);
  g_return_val_if_fail (self->x509 != NULL, NULL);

  return self->x509;
}

EVP_PKEY *
gsecsock_certificate_get_private_key (GSecSockCertificate *self)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), NULL);

  return self->private_key;
}

STACK_OF(X509) *
gsecsock_certificate_get_chain (GSecSockCertificate *self)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), NULL);

  return self->chain;
}

gboolean
gsecsock_certificate_looks_like_pem (const char *data,
                                     gsize       length)
{
  return looks_like_pem (data, length);
}

/* Wraps @x509, consuming the caller's reference. */
static GSecSockCertificate *
certificate_take_x509 (X509 *x509)
{
  GSecSockCertificate *self = gsecsock_certificate_new_from_x509 (x509);

  X509_free (x509);
  return self;
}

/* ------------------------------------------------------------------------ */
/* Constructors                                                             */

/**
 * gsecsock_certificate_new_from_file: (constructor)
 * @path: (type filename): the file to read
 * @error: return location for a #GError
 *
 * Reads a certificate from a file.
 *
 * The file may be PEM (`-----BEGIN CERTIFICATE-----`) or DER (binary); the
 * format is detected from the content. Of a PEM file holding several
 * certificates, the first is returned: to read them all (for example a chain
 * or a bundle of authorities), use
 * [func@GSecSock.Certificate.list_new_from_file]. Other PEM blocks, such as
 * a private key in the same file, are skipped.
 *
 * If the file cannot be read, the error is in the `G_IO_ERROR` domain (for
 * example %G_IO_ERROR_NOT_FOUND). If it holds no valid certificate, it is
 * %GSECSOCK_ERROR_BAD_CERTIFICATE_FILE, with a message naming the file and
 * what is wrong with it.
 *
 * Returns: (transfer full): the certificate, or %NULL on error
 *
 * Since: 0.1
 */
GSecSockCertificate *
gsecsock_certificate_new_from_file (const char  *path,
                                    GError     **error)
{
  g_autoptr(GPtrArray) certs = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  certs = load_file (path, TRUE, error);
  if (certs == NULL)
    return NULL;
  return gsecsock_certificate_new_from_x509 (g_ptr_array_index (certs, 0));
}

/**
 * gsecsock_certificate_new_from_pem: (constructor)
 * @data: PEM-encoded certificate data
 * @length: the length of @data, or -1 if NUL-terminated
 * @error: return location for a #GError
 *
 * Creates a certificate from PEM data (text with a
 * `-----BEGIN CERTIFICATE-----` block).
 *
 * If @data holds several certificates, the first is returned. Other PEM
 * blocks, such as a private key, are skipped.
 *
 * If @data holds no valid certificate, the error is
 * %GSECSOCK_ERROR_BAD_CERTIFICATE_FILE.
 *
 * Returns: (transfer full): the certificate, or %NULL on error
 *
 * Since: 0.1
 */
GSecSockCertificate *
gsecsock_certificate_new_from_pem (const char  *data,
                                   gssize       length,
                                   GError     **error)
{
  g_autoptr(GPtrArray) certs = NULL;
  g_autofree char *reason = NULL;
  gsize len;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (length >= -1, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  len = length < 0 ? strlen (data) : (gsize) length;
  if (len == 0)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                           _("The PEM data is empty: it holds no certificate"));
      return NULL;
    }

  certs = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_free);
  switch (parse_pem (data, len, TRUE, certs, &reason))
    {
    case PARSE_FOUND:
      return gsecsock_certificate_new_from_x509 (g_ptr_array_index (certs, 0));

    case PARSE_INVALID:
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                   _("The PEM data holds an invalid certificate: %s"), reason);
      return NULL;

    case PARSE_NOTHING:
    default:
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                           _("The PEM data holds no “-----BEGIN CERTIFICATE-----” block"));
      return NULL;
    }
}

/**
 * gsecsock_certificate_new_from_der: (constructor)
 * @der: the certificate's DER encoding
 * @error: return location for a #GError
 *
 * Creates a certificate from its DER (binary ASN.1) encoding, for example
 * the value of [method@GSecSock.Certificate.get_der].
 *
 * @der must hold exactly one certificate: trailing bytes are an error. If it
 * holds no valid certificate, the error is
 * %GSECSOCK_ERROR_BAD_CERTIFICATE_FILE.
 *
 * Returns: (transfer full): the certificate, or %NULL on error
 *
 * Since: 0.1
 */
GSecSockCertificate *
gsecsock_certificate_new_from_der (GBytes  *der,
                                   GError **error)
{
  g_autofree char *reason = NULL;
  X509 *x509 = NULL;
  const guint8 *data;
  gsize length;

  g_return_val_if_fail (der != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = g_bytes_get_data (der, &length);
  switch (parse_der (data, length, &x509, &reason))
    {
    case PARSE_FOUND:
      return certificate_take_x509 (x509);

    case PARSE_INVALID:
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                   _("The data is not a valid DER certificate: %s"), reason);
      return NULL;

    case PARSE_NOTHING:
    default:
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                           _("The DER data is empty: it holds no certificate"));
      return NULL;
    }
}

/**
 * gsecsock_certificate_list_new_from_file:
 * @path: (type filename): the file to read
 * @error: return location for a #GError
 *
 * Reads every certificate of a file, such as a chain (leaf first, then its
 * intermediates) or a bundle of certificate authorities.
 *
 * The file is normally PEM, with one `-----BEGIN CERTIFICATE-----` block per
 * certificate; other PEM blocks are skipped. A DER file, which holds a
 * single certificate, gives a list of one.
 *
 * It is an error (%GSECSOCK_ERROR_BAD_CERTIFICATE_FILE) if the file holds
 * no certificate, or if any of its certificates is invalid: a bundle is never
 * silently cut short. If the file cannot be read, the error is in the
 * `G_IO_ERROR` domain.
 *
 * Returns: (element-type GSecSockCertificate) (transfer full): the
 *   certificates in the order of the file, or %NULL on error
 *
 * Since: 0.1
 */
GList *
gsecsock_certificate_list_new_from_file (const char  *path,
                                         GError     **error)
{
  g_autoptr(GPtrArray) certs = NULL;
  GList *list = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  certs = load_file (path, FALSE, error);
  if (certs == NULL)
    return NULL;

  for (guint i = certs->len; i > 0; i--)
    list = g_list_prepend (list, gsecsock_certificate_new_from_x509 (g_ptr_array_index (certs, i - 1)));
  return list;
}

/**
 * gsecsock_certificate_new_from_files: (constructor)
 * @cert_path: (type filename): a PEM file with the certificate, optionally
 *   followed by the intermediate certificates of its chain (and the private
 *   key, if @key_path is %NULL)
 * @key_path: (type filename) (nullable): a PEM file with the certificate's
 *   private key, or %NULL if the key is in @cert_path
 * @error: return location for a #GError
 *
 * Reads a certificate together with its private key, making an identity
 * that can be presented to a peer, for example with
 * [method@GSecSock.SecureSocketContext.set_certificate] or as a client
 * certificate. The intermediate certificates that follow the first one in
 * @cert_path are kept with it, to be sent after it.
 *
 * The key may be PEM in any of OpenSSL's forms (PKCS#8, or the traditional
 * RSA, EC and DSA forms), but must not be encrypted: there is no way to ask
 * for a password here. To load an encrypted key, or a PKCS#12 file that
 * needs a password, use
 * [method@GSecSock.SecureSocketContext.load_identity], which asks for it
 * with [signal@GSecSock.SecureSocketContext::password-requested]. (A
 * PKCS#12 file without a password is accepted as @cert_path, with
 * @key_path %NULL.)
 *
 * Errors, all in the %GSECSOCK_ERROR domain and naming the file at fault:
 * %GSECSOCK_ERROR_BAD_CERTIFICATE_FILE if @cert_path cannot be read or
 * holds no valid certificate, %GSECSOCK_ERROR_BAD_KEY_FILE if the key file
 * cannot be read or holds no private key, %GSECSOCK_ERROR_BAD_PASSWORD if
 * the key is encrypted, and %GSECSOCK_ERROR_KEY_MISMATCH if the key does
 * not belong to the certificate.
 *
 * Returns: (transfer full): the certificate, carrying its private key, or
 *   %NULL on error
 *
 * Since: 0.1
 */
GSecSockCertificate *
gsecsock_certificate_new_from_files (const char  *cert_path,
                                     const char  *key_path,
                                     GError     **error)
{
  g_return_val_if_fail (cert_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return gsecsock_load_identity (NULL, cert_path, key_path, GSECSOCK_IDENTITY_ANY, error);
}

/* ------------------------------------------------------------------------ */
/* Accessors                                                                */

/**
 * gsecsock_certificate_get_subject: (get-property subject)
 * @self: a certificate
 *
 * Gets the distinguished name of the certificate's subject, in the RFC 2253
 * form described at [property@GSecSock.Certificate:subject].
 *
 * Returns: (transfer full): the subject
 *
 * Since: 0.1
 */
char *
gsecsock_certificate_get_subject (GSecSockCertificate *self)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), NULL);
  g_return_val_if_fail (self->x509 != NULL, NULL);

  return name_to_string (X509_get_subject_name (self->x509));
}

/**
 * gsecsock_certificate_get_issuer: (get-property issuer)
 * @self: a certificate
 *
 * Gets the distinguished name of the certificate's issuer, in the RFC 2253
 * form described at [property@GSecSock.Certificate:subject].
 *
 * Returns: (transfer full): the issuer
 *
 * Since: 0.1
 */
char *
gsecsock_certificate_get_issuer (GSecSockCertificate *self)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), NULL);
  g_return_val_if_fail (self->x509 != NULL, NULL);

  return name_to_string (X509_get_issuer_name (self->x509));
}

/**
 * gsecsock_certificate_get_serial_number: (get-property serial-number)
 * @self: a certificate
 *
 * Gets the certificate's serial number as uppercase hexadecimal, as
 * described at [property@GSecSock.Certificate:serial-number].
 *
 * Returns: (transfer full): the serial number
 *
 * Since: 0.1
 */
char *
gsecsock_certificate_get_serial_number (GSecSockCertificate *self)
{
  static const char digits[] = "0123456789ABCDEF";
  const ASN1_INTEGER *serial;
  const unsigned char *data;
  GString *result;
  int length;

  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), NULL);
  g_return_val_if_fail (self->x509 != NULL, NULL);

  /* The INTEGER's content is the magnitude, big-endian; the sign is in its
   * type. Printed byte by byte like i2a_ASN1_INTEGER(), so leading zero
   * bytes of the encoding stay visible and the text matches OpenSSL's. */
  serial = X509_get0_serialNumber (self->x509);
  data = ASN1_STRING_get0_data (serial);
  length = ASN1_STRING_length (serial);

  result = g_string_sized_new (length * 2 + 2);
  if (ASN1_STRING_type (serial) == V_ASN1_NEG_INTEGER)
    g_string_append_c (result, '-');
  if (length <= 0)
    g_string_append (result, "00");
  for (int i = 0; i < length; i++)
    {
      g_string_append_c (result, digits[data[i] >> 4]);
      g_string_append_c (result, digits[data[i] & 0xf]);
    }
  return g_string_free (result, FALSE);
}

/**
 * gsecsock_certificate_get_not_valid_before: (get-property not-valid-before)
 * @self: a certificate
 *
 * Gets the time from which the certificate is valid.
 *
 * Returns: (transfer full) (nullable): the start of the validity period, in
 *   UTC, or %NULL if the certificate's date cannot be read
 *
 * Since: 0.1
 */
GDateTime *
gsecsock_certificate_get_not_valid_before (GSecSockCertificate *self)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), NULL);
  g_return_val_if_fail (self->x509 != NULL, NULL);

  return asn1_time_to_date_time (X509_get0_notBefore (self->x509));
}

/**
 * gsecsock_certificate_get_not_valid_after: (get-property not-valid-after)
 * @self: a certificate
 *
 * Gets the time after which the certificate has expired.
 *
 * Returns: (transfer full) (nullable): the end of the validity period, in
 *   UTC, or %NULL if the certificate's date cannot be read
 *
 * Since: 0.1
 */
GDateTime *
gsecsock_certificate_get_not_valid_after (GSecSockCertificate *self)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), NULL);
  g_return_val_if_fail (self->x509 != NULL, NULL);

  return asn1_time_to_date_time (X509_get0_notAfter (self->x509));
}

/**
 * gsecsock_certificate_get_fingerprint_sha256: (get-property fingerprint-sha256)
 * @self: a certificate
 *
 * Gets the SHA-256 fingerprint of the certificate, as lowercase hexadecimal
 * bytes separated by colons; see
 * [property@GSecSock.Certificate:fingerprint-sha256].
 *
 * Returns: (transfer none): the fingerprint, valid as long as @self
 *
 * Since: 0.1
 */
const char *
gsecsock_certificate_get_fingerprint_sha256 (GSecSockCertificate *self)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), NULL);
  g_return_val_if_fail (self->x509 != NULL, NULL);

  return self->fingerprint_sha256;
}

/**
 * gsecsock_certificate_get_fingerprint_sha1: (get-property fingerprint-sha1)
 * @self: a certificate
 *
 * Gets the SHA-1 fingerprint of the certificate, as lowercase hexadecimal
 * bytes separated by colons; see
 * [property@GSecSock.Certificate:fingerprint-sha1]. Prefer
 * [method@GSecSock.Certificate.get_fingerprint_sha256].
 *
 * Returns: (transfer none): the fingerprint, valid as long as @self
 *
 * Since: 0.1
 */
const char *
gsecsock_certificate_get_fingerprint_sha1 (GSecSockCertificate *self)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), NULL);
  g_return_val_if_fail (self->x509 != NULL, NULL);

  return self->fingerprint_sha1;
}

/**
 * gsecsock_certificate_get_dns_names: (get-property dns-names)
 * @self: a certificate
 *
 * Gets the DNS names of the certificate's subjectAltName extension; see
 * [property@GSecSock.Certificate:dns-names].
 *
 * Returns: (transfer full) (array zero-terminated=1): the DNS names,
 *   possibly none (an empty array, never %NULL)
 *
 * Since: 0.1
 */
GStrv
gsecsock_certificate_get_dns_names (GSecSockCertificate *self)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), NULL);
  g_return_val_if_fail (self->x509 != NULL, NULL);

  return get_alt_names (self, GEN_DNS);
}

/**
 * gsecsock_certificate_get_ip_addresses: (get-property ip-addresses)
 * @self: a certificate
 *
 * Gets the IP addresses of the certificate's subjectAltName extension, as
 * text; see [property@GSecSock.Certificate:ip-addresses].
 *
 * Returns: (transfer full) (array zero-terminated=1): the IP addresses,
 *   possibly none (an empty array, never %NULL)
 *
 * Since: 0.1
 */
GStrv
gsecsock_certificate_get_ip_addresses (GSecSockCertificate *self)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), NULL);
  g_return_val_if_fail (self->x509 != NULL, NULL);

  return get_alt_names (self, GEN_IPADD);
}

/**
 * gsecsock_certificate_get_is_ca: (get-property is-ca)
 * @self: a certificate
 *
 * Gets whether the certificate may act as a certificate authority; see
 * [property@GSecSock.Certificate:is-ca].
 *
 * Returns: %TRUE if the certificate is a certificate authority
 *
 * Since: 0.1
 */
gboolean
gsecsock_certificate_get_is_ca (GSecSockCertificate *self)
{
  gboolean is_ca;

  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), FALSE);
  g_return_val_if_fail (self->x509 != NULL, FALSE);

  ERR_set_mark ();
  is_ca = X509_check_ca (self->x509) != 0;
  /* Caching the extensions may have queued an error for a malformed one. */
  ERR_pop_to_mark ();
  return is_ca;
}

/**
 * gsecsock_certificate_get_has_private_key: (get-property has-private-key)
 * @self: a certificate
 *
 * Gets whether the certificate carries its private key; see
 * [property@GSecSock.Certificate:has-private-key].
 *
 * Returns: %TRUE if @self carries its private key
 *
 * Since: 0.1
 */
gboolean
gsecsock_certificate_get_has_private_key (GSecSockCertificate *self)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), FALSE);

  return self->private_key != NULL;
}

/**
 * gsecsock_certificate_get_der:
 * @self: a certificate
 *
 * Gets the certificate's DER (binary ASN.1) encoding: for a certificate
 * read from a file or received from a peer, exactly the bytes it was made
 * from.
 *
 * Returns: (transfer full): the DER encoding
 *
 * Since: 0.1
 */
GBytes *
gsecsock_certificate_get_der (GSecSockCertificate *self)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), NULL);
  g_return_val_if_fail (self->x509 != NULL, NULL);

  return g_bytes_ref (self->der);
}

/**
 * gsecsock_certificate_get_pem:
 * @self: a certificate
 *
 * Gets the certificate in PEM form: a `-----BEGIN CERTIFICATE-----` line,
 * the base64 of the DER encoding in lines of 64 characters, and an
 * `-----END CERTIFICATE-----` line, each ending with a newline — the same
 * text `openssl x509` writes.
 *
 * Returns: (transfer full): the PEM text
 *
 * Since: 0.1
 */
char *
gsecsock_certificate_get_pem (GSecSockCertificate *self)
{
  g_autofree char *base64 = NULL;
  GString *pem;
  gsize length;

  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), NULL);
  g_return_val_if_fail (self->x509 != NULL, NULL);

  base64 = g_base64_encode (g_bytes_get_data (self->der, NULL), g_bytes_get_size (self->der));
  length = strlen (base64);

  pem = g_string_sized_new (length + length / 64 + 64);
  g_string_append (pem, "-----BEGIN CERTIFICATE-----\n");
  for (gsize i = 0; i < length; i += 64)
    {
      g_string_append_len (pem, base64 + i, MIN (64, length - i));
      g_string_append_c (pem, '\n');
    }
  g_string_append (pem, "-----END CERTIFICATE-----\n");
  return g_string_free (pem, FALSE);
}

/**
 * gsecsock_certificate_equal:
 * @self: a certificate
 * @other: another certificate
 *
 * Checks whether two certificates are the same certificate, that is have
 * the same DER encoding. (Two certificates with the same subject and key,
 * for example a renewed one, are different certificates.)
 *
 * Returns: %TRUE if @self and @other are the same certificate
 *
 * Since: 0.1
 */
gboolean
gsecsock_certificate_equal (GSecSockCertificate *self,
                            GSecSockCertificate *other)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (self), FALSE);
  g_return_val_if_fail (self->x509 != NULL, FALSE);
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (other), FALSE);
  g_return_val_if_fail (other->x509 != NULL, FALSE);

  if (self == other)
    return TRUE;
  return g_bytes_equal (self->der, other->der);
}
