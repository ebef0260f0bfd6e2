/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-certificate-store.h"

#include <limits.h>
#include <string.h>

#include "gsecsock-i18n-private.h"
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/store.h>
#include <openssl/ui.h>
#include <openssl/x509v3.h>

#include "gsecsock-certificate-private.h"
#include "gsecsock-error.h"
#include "gsecsock-password-private.h"
#include "gsecsock-secure-socket-context-private.h"

/**
 * GSecSockCertificateStore:
 *
 * A collection of certificates and private keys to choose an identity
 * from, by name or by fingerprint, the way a server picks its certificate
 * from a system certificate store.
 *
 * A store reads either a directory of files
 * ([ctor@GSecSock.CertificateStore.new_for_directory]) or an OpenSSL 3
 * `OSSL_STORE` URI ([ctor@GSecSock.CertificateStore.new_for_uri]: `file:`
 * URIs, and whatever scheme an OpenSSL provider adds, such as `pkcs11:`).
 * [method@GSecSock.CertificateStore.lookup] finds a certificate by the
 * names written in it or by its SHA-1 or SHA-256 fingerprint, and returns
 * it with its private key and the intermediate certificates to send after
 * it, ready for [method@GSecSock.SecureSocketContext.set_certificate];
 * [method@GSecSock.SecureSocketContext.use_certificate_from_store] does
 * both in one call.
 *
 * ## Directories
 *
 * Every regular file directly in the directory (not in subdirectories;
 * names starting with a dot are left out) is read, whatever its name:
 *
 * - PEM files, with any number of certificates and private keys (PKCS#8 or
 *   traditional, unencrypted or encrypted);
 * - DER files holding one certificate or one private key (PKCS#8, possibly
 *   encrypted);
 * - PKCS#12 files (`.p12`, `.pfx`), with or without a password.
 *
 * Files that hold none of these (and files over 4 MiB) are skipped; the
 * error of a lookup that finds nothing names them.
 *
 * A certificate's private key may be in the same file or in any other file
 * of the store: keys are matched to certificates by their public key. An
 * encrypted key cannot be matched before it is decrypted, so it is
 * considered only for the certificates of the same file, or of a file with
 * the same name apart from the extension and a final word `key`, `cert`,
 * `crt`, `certificate`, `chain`, `fullchain`, `privkey` or `private`
 * (`web.pem` and `web.key`; `web-cert.pem` and `web-key.pem`; `cert.pem`
 * and `privkey.pem`).
 *
 * ## Passwords
 *
 * Nothing is decrypted when the store is read. When a lookup needs an
 * encrypted key, or must open a PKCS#12 file with a password to see its
 * certificates, it asks with
 * [signal@GSecSock.SecureSocketContext::password-requested] of the context
 * it is given, synchronously, in the calling thread, up to three times per
 * file. The store never keeps a decrypted private key: each lookup that
 * needs one asks again. (It does remember the certificates of a PKCS#12
 * file once opened, which are public.) Without a context, or with one that
 * has no handler, encrypted files are not opened: a lookup fails with
 * %GSECSOCK_ERROR_BAD_PASSWORD if the certificate it found needs one, and
 * with %GSECSOCK_ERROR_NOT_FOUND naming the files it could not search if it
 * found none.
 *
 * Encrypted PKCS#12 files are opened only when no certificate that can be
 * read without a password matches, one file at a time until one matches
 * (with an `OSSL_STORE` URI, this applies to everything encrypted, since
 * what it holds cannot be told). Once something is opened, the store
 * remembers which certificates it holds and which have their key there,
 * so that later lookups open only what they need.
 *
 * ## OSSL_STORE URIs
 *
 * The objects at the URI are loaded with `OSSL_STORE_open_ex()`; a `file:`
 * URI may name a file (PEM, DER or PKCS#12) or a directory, whose files
 * are then loaded as above. A password is asked for the same way, with a
 * description naming the URI, and is used for everything encrypted at that
 * URI. OpenSSL's own prompt on the terminal is never used.
 *
 * ## Threads
 *
 * A store may be used from several threads: lookups are serialized. The
 * store reads its files when it is created and when
 * [method@GSecSock.CertificateStore.reload] is called, not at each lookup.
 *
 * Since: 0.1
 */

/* How big a file of a directory store may be: certificate bundles are a
 * few hundred KiB; anything bigger is not a certificate. */
#define MAX_FILE_SIZE (4 * 1024 * 1024)

/* Bounds on what an OSSL_STORE may make the loops below do. */
#define MAX_URI_OBJECTS 100000
#define MAX_URI_FAILURES 1000

/* The longest chain built for a certificate (not counting it). */
#define MAX_CHAIN_LENGTH 10

/* How many skipped or encrypted files an error message names. */
#define MAX_NAMED_FILES 5

typedef enum {
  LOCKED_PEM_KEY,   /* an encrypted private key (directory store); @pem holds it */
  LOCKED_PKCS12,    /* a PKCS#12 file with a password (directory store) */
  LOCKED_URI,       /* something encrypted at an OSSL_STORE URI */
} LockedKind;

/* Something of the store that needs a password. */
typedef struct {
  LockedKind kind;
  char *source;     /* file or URI */
  char *stem;       /* see stem_of() */
  GBytes *pem;      /* LOCKED_PEM_KEY: the key as a PEM block */
  gboolean opened;  /* PKCS12, URI: its certificates are in the entries */
} Locked;

/* A certificate of the store, without its key. */
typedef struct {
  X509 *x509;
  GSecSockCertificate *certificate;
  char *source;
  char *stem;
  char *sha1;       /* lowercase hexadecimal, no separators */
  char *sha256;
  GPtrArray *names; /* casefolded CNs, DNS names, friendly name */
  GPtrArray *addresses;  /* GInetAddress of its IP SANs */
  Locked *container;     /* the PKCS#12 file or URI it came from, if encrypted */
} Entry;

typedef struct {
  GPtrArray *entries;      /* Entry, in the order found */
  GHashTable *by_sha256;   /* Entry::sha256 → Entry (borrowed) */
  GPtrArray *keys;         /* EVP_PKEY, the unencrypted keys */
  GPtrArray *locked;       /* Locked */
  GPtrArray *skipped;      /* char *: "file (reason)" */
} Index;

struct _GSecSockCertificateStore
{
  GObject parent_instance;

  GRecMutex lock;
  char *location;
  gboolean is_uri;
  guint busy;   /* lookups in progress, for reload() called from a handler */
  Index *index;
};

G_DEFINE_FINAL_TYPE (GSecSockCertificateStore, gsecsock_certificate_store, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_LOCATION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ------------------------------------------------------------------------ */
/* Index                                                                    */

static void
locked_free (gpointer data)
{
  Locked *locked = data;

  g_free (locked->source);
  g_free (locked->stem);
  g_clear_pointer (&locked->pem, g_bytes_unref);
  g_free (locked);
}

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  X509_free (entry->x509);
  g_clear_object (&entry->certificate);
  g_free (entry->source);
  g_free (entry->stem);
  g_free (entry->sha1);
  g_free (entry->sha256);
  g_ptr_array_unref (entry->names);
  g_ptr_array_unref (entry->addresses);
  g_free (entry);
}

static void
key_free (gpointer data)
{
  EVP_PKEY_free (data);
}

static Index *
index_new (void)
{
  Index *index = g_new0 (Index, 1);

  index->entries = g_ptr_array_new_with_free_func (entry_free);
  index->by_sha256 = g_hash_table_new (g_str_hash, g_str_equal);
  index->keys = g_ptr_array_new_with_free_func (key_free);
  index->locked = g_ptr_array_new_with_free_func (locked_free);
  index->skipped = g_ptr_array_new_with_free_func (g_free);
  return index;
}

static void
index_free (Index *index)
{
  if (index == NULL)
    return;
  g_hash_table_unref (index->by_sha256);
  g_ptr_array_unref (index->entries);
  g_ptr_array_unref (index->keys);
  g_ptr_array_unref (index->locked);
  g_ptr_array_unref (index->skipped);
  g_free (index);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Index, index_free)

/* What pairs an encrypted key with a certificate in another file: the base
 * name, lowercase, without its extensions and without a suffix saying
 * which half of the pair the file holds. "web.pem", "web.key",
 * "web-cert.pem" and "web_key.pem" all give "web"; "cert.pem",
 * "privkey.pem" and "fullchain.pem" (certbot's names) all give "";
 * "turkey.pem" gives "turkey". */
static char *
stem_of (const char *source)
{
  static const char * const extensions[] = {
    ".pem", ".crt", ".cer", ".cert", ".der", ".key", ".p12", ".pfx", ".p8", ".pk8",
  };
  static const char * const suffixes[] = {
    "certificate", "fullchain", "privkey", "private", "chain", "cert", "crt", "key",
  };
  const char *slash = strrchr (source, '/');
  g_autofree char *base = g_ascii_strdown (slash != NULL ? slash + 1 : source, -1);
  gsize length = strlen (base);
  gboolean stripped = TRUE;

  while (stripped)
    {
      stripped = FALSE;
      for (gsize i = 0; i < G_N_ELEMENTS (extensions); i++)
        if (g_str_has_suffix (base, extensions[i]) && length > strlen (extensions[i]))
          {
            length -= strlen (extensions[i]);
            base[length] = '\0';
            stripped = TRUE;
          }
    }
  /* A suffix that is the whole name, or a word of its own ("web-key",
   * not "turkey"). */
  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      gsize suffix_length = strlen (suffixes[i]);

      if (g_str_has_suffix (base, suffixes[i]) &&
          (length == suffix_length || strchr ("-_. ", base[length - suffix_length - 1]) != NULL))
        {
          length -= suffix_length;
          base[length] = '\0';
          break;
        }
    }
  while (length > 0 && strchr ("-_. ", base[length - 1]) != NULL)
    base[--length] = '\0';
  return g_steal_pointer (&base);
}

/* Casefolded, without a DNS name's final dot: how names are compared. */
static char *
fold_name (const char *name,
           gssize      length)
{
  g_autofree char *folded = g_utf8_casefold (name, length);
  gsize folded_length = strlen (folded);

  if (folded_length > 1 && folded[folded_length - 1] == '.')
    folded[folded_length - 1] = '\0';
  return g_steal_pointer (&folded);
}

static char *
strip_colons (const char *fingerprint)
{
  GString *result = g_string_sized_new (64);

  for (const char *p = fingerprint; *p != '\0'; p++)
    if (*p != ':')
      g_string_append_c (result, *p);
  return g_string_free (result, FALSE);
}

static void
add_common_names (Entry *entry)
{
  const X509_NAME *subject = X509_get_subject_name (entry->x509);
  int i = -1;

  if (subject == NULL)
    return;
  while ((i = X509_NAME_get_index_by_NID (subject, NID_commonName, i)) >= 0)
    {
      const ASN1_STRING *data = X509_NAME_ENTRY_get_data (X509_NAME_get_entry (subject, i));
      unsigned char *utf8 = NULL;
      int length;

      ERR_set_mark ();
      length = data != NULL ? ASN1_STRING_to_UTF8 (&utf8, data) : -1;
      ERR_pop_to_mark ();
      if (length > 0 && memchr (utf8, '\0', (gsize) length) == NULL &&
          g_utf8_validate ((const char *) utf8, length, NULL))
        g_ptr_array_add (entry->names, fold_name ((const char *) utf8, length));
      OPENSSL_free (utf8);
    }
}

/* A new entry for @x509 (a new reference is taken), or NULL if the
 * certificate cannot be encoded. */
static Entry *
entry_new (X509       *x509,
           const char *source,
           Locked     *container)
{
  g_autoptr(GSecSockCertificate) certificate = gsecsock_certificate_new_from_x509 (x509);
  g_auto(GStrv) dns_names = NULL;
  g_auto(GStrv) addresses = NULL;
  const unsigned char *alias;
  int alias_length = 0;
  Entry *entry;

  if (certificate == NULL)
    return NULL;

  entry = g_new0 (Entry, 1);
  X509_up_ref (x509);
  entry->x509 = x509;
  entry->certificate = g_steal_pointer (&certificate);
  entry->source = g_strdup (source);
  entry->stem = stem_of (source);
  entry->sha1 = strip_colons (gsecsock_certificate_get_fingerprint_sha1 (entry->certificate));
  entry->sha256 = strip_colons (gsecsock_certificate_get_fingerprint_sha256 (entry->certificate));
  entry->names = g_ptr_array_new_with_free_func (g_free);
  entry->addresses = g_ptr_array_new_with_free_func (g_object_unref);
  entry->container = container;

  add_common_names (entry);
  dns_names = gsecsock_certificate_get_dns_names (entry->certificate);
  for (guint i = 0; dns_names[i] != NULL; i++)
    g_ptr_array_add (entry->names, fold_name (dns_names[i], -1));
  addresses = gsecsock_certificate_get_ip_addresses (entry->certificate);
  for (guint i = 0; addresses[i] != NULL; i++)
    {
      GInetAddress *address = g_inet_address_new_from_string (addresses[i]);
      if (address != NULL)
        g_ptr_array_add (entry->addresses, address);
    }
  /* The friendly name of a PKCS#12 bag, which OpenSSL keeps as the alias. */
  alias = X509_alias_get0 (x509, &alias_length);
  if (alias != NULL && alias_length > 0 && memchr (alias, '\0', (gsize) alias_length) == NULL &&
      g_utf8_validate ((const char *) alias, alias_length, NULL))
    g_ptr_array_add (entry->names, fold_name ((const char *) alias, alias_length));

  return entry;
}

/* Adds @x509 found in @source; the same certificate found again (in
 * another file, or when an encrypted file is opened again) is one entry. */
static void
index_add_certificate (Index      *index,
                       X509       *x509,
                       const char *source,
                       Locked     *container)
{
  Entry *entry = entry_new (x509, source, container);
  Entry *existing;

  if (entry == NULL)
    return;
  existing = g_hash_table_lookup (index->by_sha256, entry->sha256);
  if (existing != NULL)
    {
      if (existing->container == NULL)
        existing->container = container;
      /* A friendly name seen only in a PKCS#12 copy still finds it. */
      for (guint i = 0; i < entry->names->len; i++)
        if (!g_ptr_array_find_with_equal_func (existing->names, entry->names->pdata[i],
                                               g_str_equal, NULL))
          g_ptr_array_add (existing->names, g_strdup (entry->names->pdata[i]));
      entry_free (entry);
      return;
    }
  g_ptr_array_add (index->entries, entry);
  g_hash_table_insert (index->by_sha256, entry->sha256, entry);
}

static Locked *
index_add_locked (Index      *index,
                  LockedKind  kind,
                  const char *source,
                  GBytes     *pem)
{
  Locked *locked = g_new0 (Locked, 1);

  locked->kind = kind;
  locked->source = g_strdup (source);
  locked->stem = stem_of (source);
  locked->pem = pem != NULL ? g_bytes_ref (pem) : NULL;
  g_ptr_array_add (index->locked, locked);
  return locked;
}

static void
index_add_skipped (Index      *index,
                   const char *source,
                   const char *reason)
{
  g_ptr_array_add (index->skipped, g_strdup_printf ("“%s” (%s)", source, reason));
}

/* ------------------------------------------------------------------------ */
/* Reading a directory                                                      */

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

/* @data (@length bytes) copied into a GBytes that wipes itself. */
static GBytes *
secret_bytes_new (const void *data,
                  gsize       length)
{
  Secret *secret = g_new0 (Secret, 1);

  secret->data = g_memdup2 (data, length);
  secret->length = length;
  return g_bytes_new_with_free_func (secret->data, length, secret_free, secret);
}

/* A PEM block, written back as PEM text in a GBytes that wipes itself. */
static GBytes *
pem_block (const char          *name,
           const char          *header,
           const unsigned char *data,
           long                 length)
{
  BIO *bio = BIO_new (BIO_s_secmem ());   /* wiped when it grows or goes */
  char *text = NULL;
  long text_length;
  GBytes *result = NULL;

  if (bio == NULL)
    g_error ("%s: out of memory", G_STRFUNC);
  if (PEM_write_bio (bio, name, header, data, length) > 0)
    {
      text_length = BIO_get_mem_data (bio, &text);
      if (text_length > 0)
        result = secret_bytes_new (text, (gsize) text_length);
      OPENSSL_cleanse (text, text_length > 0 ? (gsize) text_length : 0);
    }
  BIO_free (bio);
  return result;
}

typedef struct {
  gboolean asked;
} RefusePassword;

/* Never OpenSSL's default callback, which would prompt on the terminal:
 * nothing is decrypted while the store is read. */
static int
refuse_password (char *buf,
                 int   size,
                 int   rwflag,
                 void *user_data)
{
  RefusePassword *refuse = user_data;

  refuse->asked = TRUE;
  return -1;
}

/* A PEM private key block: unencrypted, it joins the keys; encrypted, it
 * is remembered for a lookup to decrypt. */
static gboolean
scan_pem_key (Index               *index,
              const char          *path,
              const char          *name,
              const char          *header,
              const unsigned char *data,
              long                 length)
{
  g_autoptr(GBytes) pem = pem_block (name, header, data, length);
  RefusePassword refuse = { FALSE };
  const char *text;
  gsize text_length;
  EVP_PKEY *key;
  BIO *bio;

  if (pem == NULL)
    return FALSE;
  text = g_bytes_get_data (pem, &text_length);
  bio = BIO_new_mem_buf (text, (int) text_length);
  if (bio == NULL)
    g_error ("%s: out of memory", G_STRFUNC);
  key = PEM_read_bio_PrivateKey (bio, NULL, refuse_password, &refuse);
  BIO_free (bio);
  ERR_clear_error ();

  if (key != NULL)
    {
      g_ptr_array_add (index->keys, key);
      return TRUE;
    }
  if (refuse.asked)
    {
      index_add_locked (index, LOCKED_PEM_KEY, path, pem);
      return TRUE;
    }
  return FALSE;
}

/* Every certificate and private key of the PEM file @path. Returns how
 * many were found. */
static guint
scan_pem (Index      *index,
          const char *path,
          const char *contents,
          gsize       length)
{
  BIO *bio = BIO_new_mem_buf (contents, (int) length);
  guint found = 0;

  if (bio == NULL)
    g_error ("%s: out of memory", G_STRFUNC);

  for (;;)
    {
      char *name = NULL, *header = NULL;
      unsigned char *data = NULL;
      long data_length = 0;

      if (PEM_read_bio (bio, &name, &header, &data, &data_length) <= 0)
        break;

      if (strcmp (name, "CERTIFICATE") == 0 || strcmp (name, "X509 CERTIFICATE") == 0 ||
          strcmp (name, "TRUSTED CERTIFICATE") == 0)
        {
          const unsigned char *p = data;
          X509 *x509 = strcmp (name, "TRUSTED CERTIFICATE") == 0
                         ? d2i_X509_AUX (NULL, &p, data_length)
                         : d2i_X509 (NULL, &p, data_length);
          if (x509 != NULL)
            {
              index_add_certificate (index, x509, path, NULL);
              X509_free (x509);
              found++;
            }
        }
      else if (g_str_has_suffix (name, "PRIVATE KEY"))
        {
          if (scan_pem_key (index, path, name, header, data, data_length))
            found++;
        }
      /* Anything else (CRLs, public keys, parameters) is not for us. */

      OPENSSL_free (name);
      OPENSSL_free (header);
      OPENSSL_clear_free (data, data_length > 0 ? (size_t) data_length : 0);
    }

  BIO_free (bio);
  ERR_clear_error ();
  return found;
}

/* A binary file: one DER certificate, a PKCS#12 file, or one DER private
 * key. Returns FALSE with @reason if it is none of them. */
static gboolean
scan_der (Index       *index,
          const char  *path,
          const char  *contents,
          gsize        length,
          char       **reason)
{
  const unsigned char *p;
  X509 *x509;
  PKCS12 *p12;
  EVP_PKEY *key;
  X509_SIG *encrypted;

  if (length > LONG_MAX)
    {
      *reason = g_strdup (_("too large"));
      return FALSE;
    }

  p = (const unsigned char *) contents;
  x509 = d2i_X509 (NULL, &p, (long) length);
  if (x509 != NULL)
    {
      index_add_certificate (index, x509, path, NULL);
      X509_free (x509);
      ERR_clear_error ();
      return TRUE;
    }

  p = (const unsigned char *) contents;
  p12 = d2i_PKCS12 (NULL, &p, (long) length);
  if (p12 != NULL)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GSecSockCertificate) identity = NULL;

      PKCS12_free (p12);
      ERR_clear_error ();
      /* Without a context nothing is asked: a file with a password fails
       * with BAD_PASSWORD, and waits for a lookup to open it. */
      identity = gsecsock_load_identity (NULL, path, NULL, GSECSOCK_IDENTITY_PKCS12, &local_error);
      if (identity != NULL)
        {
          STACK_OF(X509) *chain = gsecsock_certificate_get_chain (identity);

          index_add_certificate (index, gsecsock_certificate_get_x509 (identity), path, NULL);
          for (int i = 0; chain != NULL && i < sk_X509_num (chain); i++)
            index_add_certificate (index, sk_X509_value (chain, i), path, NULL);
          key = gsecsock_certificate_get_private_key (identity);
          EVP_PKEY_up_ref (key);
          g_ptr_array_add (index->keys, key);
          return TRUE;
        }
      if (g_error_matches (local_error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD))
        {
          index_add_locked (index, LOCKED_PKCS12, path, NULL);
          return TRUE;
        }
      *reason = g_strdup (local_error->message);
      return FALSE;
    }

  p = (const unsigned char *) contents;
  key = d2i_AutoPrivateKey (NULL, &p, (long) length);
  if (key != NULL)
    {
      g_ptr_array_add (index->keys, key);
      ERR_clear_error ();
      return TRUE;
    }

  /* An encrypted PKCS#8 key in DER: kept as its PEM form, which
   * gsecsock_load_private_key() decrypts. */
  p = (const unsigned char *) contents;
  encrypted = d2i_X509_SIG (NULL, &p, (long) length);
  if (encrypted != NULL)
    {
      g_autoptr(GBytes) pem = NULL;

      X509_SIG_free (encrypted);
      pem = pem_block ("ENCRYPTED PRIVATE KEY", "", (const unsigned char *) contents, (long) length);
      ERR_clear_error ();
      if (pem != NULL)
        {
          index_add_locked (index, LOCKED_PEM_KEY, path, pem);
          return TRUE;
        }
    }

  ERR_clear_error ();
  *reason = g_strdup (_("neither a certificate, a private key nor a PKCS#12 file"));
  return FALSE;
}

static void
scan_file (Index      *index,
           const char *path)
{
  g_autoptr(GError) local_error = NULL;
  char *contents = NULL;
  gsize length = 0;
  GStatBuf st;

  if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
    return;   /* a subdirectory, a socket, a dangling link: not ours */
  if (st.st_size > MAX_FILE_SIZE)
    {
      index_add_skipped (index, path, _("larger than 4 MiB"));
      return;
    }
  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      index_add_skipped (index, path, local_error->message);
      return;
    }

  if (length == 0)
    index_add_skipped (index, path, _("empty"));
  else if (length > INT_MAX)
    index_add_skipped (index, path, _("larger than 4 MiB"));
  else if (gsecsock_certificate_looks_like_pem (contents, length))
    {
      if (scan_pem (index, path, contents, length) == 0)
        index_add_skipped (index, path, _("no certificate or private key in its PEM blocks"));
    }
  else
    {
      g_autofree char *reason = NULL;

      if (!scan_der (index, path, contents, length, &reason))
        index_add_skipped (index, path, reason);
    }

  /* Key files hold keys in clear, or what it takes to attack a password. */
  OPENSSL_cleanse (contents, length);
  g_free (contents);
}

static gint
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static Index *
scan_directory (const char  *path,
                GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(Index) index = NULL;
  const char *name;

  dir = g_dir_open (path, 0, &local_error);
  if (dir == NULL)
    {
      if (g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (path, G_FILE_TEST_IS_DIR))
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                     _("The certificate store “%s” is not a directory: for a single file, use "
                       "gsecsock_certificate_store_new_for_uri() with a “file:” URI"),
                     path);
      else
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                     _("Cannot open the certificate store: %s"), local_error->message);
      return NULL;
    }

  /* In name order, so that lists and messages do not depend on the file
   * system. */
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_strings);

  index = index_new ();
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *file = g_build_filename (path, names->pdata[i], NULL);
      scan_file (index, file);
    }
  return g_steal_pointer (&index);
}

/* ------------------------------------------------------------------------ */
/* Reading an OSSL_STORE URI                                                */

typedef struct {
  const char *password;   /* NULL: refuse */
  gboolean asked;
} UiData;

/* OpenSSL asks for a password through a UI method: this one answers with
 * the password being tried, or refuses, and never prints anything. */
static int
ui_read (UI        *ui,
         UI_STRING *uis)
{
  UiData *data = UI_get0_user_data (ui);

  switch (UI_get_string_type (uis))
    {
    case UIT_PROMPT:
    case UIT_VERIFY:
      data->asked = TRUE;
      if (data->password == NULL)
        return 0;
      return UI_set_result (ui, uis, data->password) >= 0 ? 1 : 0;
    default:
      return 1;
    }
}

typedef struct {
  X509 *x509;
  char *source;
} FoundCertificate;

static void
found_certificate_free (gpointer data)
{
  FoundCertificate *found = data;

  X509_free (found->x509);
  g_free (found->source);
  g_free (found);
}

/* What loading a URI gave. */
typedef struct {
  GPtrArray *certificates;   /* FoundCertificate */
  GPtrArray *keys;           /* EVP_PKEY */
  GPtrArray *locked;         /* char *: URIs where a password was needed */
  GPtrArray *skipped;        /* char *: "URI (reason)" */
} UriLoad;

static void
uri_load_init (UriLoad *load)
{
  load->certificates = g_ptr_array_new_with_free_func (found_certificate_free);
  load->keys = g_ptr_array_new_with_free_func (key_free);
  load->locked = g_ptr_array_new_with_free_func (g_free);
  load->skipped = g_ptr_array_new_with_free_func (g_free);
}

static void
uri_load_clear (UriLoad *load)
{
  g_clear_pointer (&load->certificates, g_ptr_array_unref);
  g_clear_pointer (&load->keys, g_ptr_array_unref);
  g_clear_pointer (&load->locked, g_ptr_array_unref);
  g_clear_pointer (&load->skipped, g_ptr_array_unref);
}

/* The reason of the first error in OpenSSL's queue, and empties it. */
static char *
take_openssl_reason (void)
{
  unsigned long code = ERR_peek_error ();
  const char *reason = code != 0 ? ERR_reason_error_string (code) : NULL;
  char *result = g_strdup (reason != NULL ? reason : _("unknown error"));

  ERR_clear_error ();
  return result;
}

/* Loads every object at @uri, with @password for what is encrypted (NULL:
 * nothing is decrypted, and what needed a password is listed in
 * @load->locked). The names a directory lists are loaded in turn if
 * @follow_names. FALSE with @error only if @uri cannot be opened. */
static gboolean
load_uri (const char  *uri,
          const char  *password,
          gboolean     follow_names,
          UriLoad     *load,
          GError     **error)
{
  UI_METHOD *method;
  UiData ui_data = { password, FALSE };
  OSSL_STORE_CTX *store;
  guint objects = 0, failures = 0;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  method = UI_create_method ("gsecsock");
  if (method == NULL || UI_method_set_reader (method, ui_read) < 0)
    g_error ("%s: out of memory", G_STRFUNC);

  ERR_clear_error ();
  store = OSSL_STORE_open_ex (uri, NULL, NULL, method, &ui_data, NULL, NULL, NULL);
  if (store == NULL)
    {
      g_autofree char *reason = take_openssl_reason ();

      UI_destroy_method (method);
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                   _("Cannot open the certificate store “%s”: %s"), uri, reason);
      return FALSE;
    }

  while (!OSSL_STORE_eof (store) && objects < MAX_URI_OBJECTS && failures < MAX_URI_FAILURES)
    {
      OSSL_STORE_INFO *info = OSSL_STORE_load (store);

      if (info == NULL)
        {
          /* The end (OpenSSL 3.0 may flag an error there too), or
           * something that could not be decoded or decrypted: then go on
           * with the rest, as `openssl storeutl` does. */
          ERR_clear_error ();
          if (OSSL_STORE_eof (store))
            break;
          failures++;
          continue;
        }
      objects++;

      switch (OSSL_STORE_INFO_get_type (info))
        {
        case OSSL_STORE_INFO_NAME:
          if (follow_names)
            g_ptr_array_add (names, g_strdup (OSSL_STORE_INFO_get0_NAME (info)));
          break;
        case OSSL_STORE_INFO_CERT:
          {
            FoundCertificate *found = g_new0 (FoundCertificate, 1);

            found->x509 = OSSL_STORE_INFO_get1_CERT (info);
            found->source = g_strdup (uri);
            if (found->x509 != NULL)
              g_ptr_array_add (load->certificates, found);
            else
              found_certificate_free (found);
          }
          break;
        case OSSL_STORE_INFO_PKEY:
          {
            EVP_PKEY *key = OSSL_STORE_INFO_get1_PKEY (info);
            if (key != NULL)
              g_ptr_array_add (load->keys, key);
          }
          break;
        default:
          break;   /* parameters, public keys, CRLs */
        }
      OSSL_STORE_INFO_free (info);
    }
  OSSL_STORE_close (store);
  UI_destroy_method (method);
  ERR_clear_error ();

  /* A failure after a password was asked for: encrypted, and either no
   * password or the wrong one. */
  if (ui_data.asked && failures > 0)
    g_ptr_array_add (load->locked, g_strdup (uri));
  else if (objects == 0)
    g_ptr_array_add (load->skipped,
                     g_strdup_printf ("“%s” (%s)", uri,
                                      _("neither a certificate, a private key nor a PKCS#12 file")));

  /* A directory lists its files in no particular order. */
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr(GError) local_error = NULL;

      if (!load_uri (names->pdata[i], password, FALSE, load, &local_error))
        g_ptr_array_add (load->skipped, g_strdup (local_error->message));
    }
  return TRUE;
}

static Index *
scan_uri (const char  *uri,
          GError     **error)
{
  g_autoptr(Index) index = index_new ();
  UriLoad load;

  uri_load_init (&load);
  if (!load_uri (uri, NULL, TRUE, &load, error))
    {
      uri_load_clear (&load);
      return NULL;
    }

  for (guint i = 0; i < load.certificates->len; i++)
    {
      FoundCertificate *found = load.certificates->pdata[i];
      index_add_certificate (index, found->x509, found->source, NULL);
    }
  g_ptr_array_extend_and_steal (index->keys, g_steal_pointer (&load.keys));
  for (guint i = 0; i < load.locked->len; i++)
    index_add_locked (index, LOCKED_URI, load.locked->pdata[i], NULL);
  g_ptr_array_extend_and_steal (index->skipped, g_steal_pointer (&load.skipped));
  uri_load_clear (&load);
  return g_steal_pointer (&index);
}

typedef struct {
  const char *uri;
  UriLoad load;
  gboolean loaded;
} UriUnlock;

static GSecSockPasswordResult
try_uri_password (const char  *password,
                  gpointer     user_data,
                  GError     **error)
{
  UriUnlock *unlock = user_data;

  uri_load_clear (&unlock->load);
  uri_load_init (&unlock->load);
  if (!load_uri (unlock->uri, password, TRUE, &unlock->load, error))
    return GSECSOCK_PASSWORD_FAILED;
  if (unlock->load.locked->len > 0)
    return GSECSOCK_PASSWORD_WRONG;
  unlock->loaded = TRUE;
  return GSECSOCK_PASSWORD_RIGHT;
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                  */

typedef struct {
  GSecSockLookup how;      /* never ANY */
  const char *identifier;  /* as given, for messages */
  char *value;             /* fingerprint: lowercase hexadecimal; name: folded */
  GInetAddress *address;   /* a name that is an IP address */
} Query;

static void
query_clear (Query *query)
{
  g_clear_pointer (&query->value, g_free);
  g_clear_object (&query->address);
}

/* Characters allowed around and between the digits of a fingerprint:
 * spaces and colons, and the invisible marks that copying a thumbprint
 * from Windows' certificate manager brings along. */
static gboolean
is_fingerprint_separator (gunichar c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' ||
         c == 0x00A0 /* no-break space */ || c == 0x200E /* left-to-right mark */ ||
         c == 0x200F /* right-to-left mark */ || c == 0xFEFF /* byte order mark */;
}

/* The hexadecimal digits of @identifier, lowercase; NULL if it has a
 * character that is neither a digit nor a separator (*@bad: its offset). */
static char *
fingerprint_digits (const char  *identifier,
                    const char **bad)
{
  GString *digits = g_string_sized_new (64);

  for (const char *p = identifier; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 128 && g_ascii_isxdigit ((char) c))
        g_string_append_c (digits, g_ascii_tolower ((char) c));
      else if (!is_fingerprint_separator (c))
        {
          *bad = p;
          g_string_free (digits, TRUE);
          return NULL;
        }
    }
  return g_string_free (digits, FALSE);
}

static const char *
fingerprint_kind_name (GSecSockLookup how)
{
  return how == GSECSOCK_LOOKUP_FINGERPRINT_SHA1 ? "SHA-1" : "SHA-256";
}

static gboolean
parse_query (const char      *identifier,
             GSecSockLookup   how,
             Query           *query,
             GError         **error)
{
  g_autofree char *digits = NULL;
  const char *bad = NULL;

  memset (query, 0, sizeof *query);
  query->identifier = identifier;

  if (!g_utf8_validate (identifier, -1, NULL))
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                   _("The certificate identifier is not valid UTF-8"));
      return FALSE;
    }

  digits = fingerprint_digits (identifier, &bad);

  if (how == GSECSOCK_LOOKUP_ANY)
    {
      if (digits != NULL && strlen (digits) == 40)
        how = GSECSOCK_LOOKUP_FINGERPRINT_SHA1;
      else if (digits != NULL && strlen (digits) == 64)
        how = GSECSOCK_LOOKUP_FINGERPRINT_SHA256;
      else
        how = GSECSOCK_LOOKUP_NAME;
    }
  query->how = how;

  if (how == GSECSOCK_LOOKUP_FINGERPRINT_SHA1 || how == GSECSOCK_LOOKUP_FINGERPRINT_SHA256)
    {
      gsize expected = how == GSECSOCK_LOOKUP_FINGERPRINT_SHA1 ? 40 : 64;
      const char *kind = fingerprint_kind_name (how);
      g_autofree char *form = g_strdup_printf (
        _("Write it as %u hexadecimal digits (0–9 and a–f, in either case), grouped or not "
          "by spaces or colons: “9d a4 84 fc …”, “9D:A4:84:FC:…” or “9da484fc…”"),
        (guint) expected);

      if (digits == NULL)
        {
          g_autofree char *character = g_strndup (bad, g_utf8_next_char (bad) - bad);

          g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                       _("“%s” is not a %s fingerprint: “%s” (character %ld) is not a "
                         "hexadecimal digit. %s"),
                       identifier, kind, character,
                       g_utf8_pointer_to_offset (identifier, bad) + 1, form);
          return FALSE;
        }
      if (strlen (digits) != expected)
        {
          const char *hint = "";

          if (how == GSECSOCK_LOOKUP_FINGERPRINT_SHA256 && strlen (digits) == 40)
            hint = _(" (it has the length of a SHA-1 fingerprint: look it up with "
                     "GSECSOCK_LOOKUP_FINGERPRINT_SHA1)");
          else if (how == GSECSOCK_LOOKUP_FINGERPRINT_SHA1 && strlen (digits) == 64)
            hint = _(" (it has the length of a SHA-256 fingerprint: look it up with "
                     "GSECSOCK_LOOKUP_FINGERPRINT_SHA256)");
          g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                       _("“%s” is not a %s fingerprint: it has %u hexadecimal digits instead "
                         "of %u%s. %s"),
                       identifier, kind, (guint) strlen (digits), (guint) expected, hint, form);
          return FALSE;
        }
      query->value = g_steal_pointer (&digits);
      return TRUE;
    }

  /* A name. */
  {
    g_autofree char *name = g_strstrip (g_strdup (identifier));
    gsize length = strlen (name);

    if (length == 0)
      {
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                     _("The name of the certificate to look up is empty"));
        return FALSE;
      }
    /* "[::1]", as in URLs. */
    if (length > 2 && name[0] == '[' && name[length - 1] == ']')
      {
        g_autofree char *inner = g_strndup (name + 1, length - 2);
        query->address = g_inet_address_new_from_string (inner);
      }
    if (query->address == NULL)
      query->address = g_inet_address_new_from_string (name);
    query->value = fold_name (name, -1);
  }
  return TRUE;
}

static gboolean
entry_matches (const Entry *entry,
               const Query *query)
{
  switch (query->how)
    {
    case GSECSOCK_LOOKUP_FINGERPRINT_SHA1:
      return strcmp (entry->sha1, query->value) == 0;
    case GSECSOCK_LOOKUP_FINGERPRINT_SHA256:
      return strcmp (entry->sha256, query->value) == 0;
    case GSECSOCK_LOOKUP_NAME:
    case GSECSOCK_LOOKUP_ANY:
    default:
      for (guint i = 0; i < entry->names->len; i++)
        if (strcmp (entry->names->pdata[i], query->value) == 0)
          return TRUE;
      for (guint i = 0; query->address != NULL && i < entry->addresses->len; i++)
        if (g_inet_address_equal (entry->addresses->pdata[i], query->address))
          return TRUE;
      return FALSE;
    }
}

/* ------------------------------------------------------------------------ */
/* Keys                                                                     */

static gboolean
key_belongs_to (EVP_PKEY *key,
                X509     *x509)
{
  EVP_PKEY *public_key = X509_get0_pubkey (x509);
  gboolean result;

  if (public_key == NULL)
    return FALSE;
  ERR_set_mark ();
  result = EVP_PKEY_eq (public_key, key) == 1;
  ERR_pop_to_mark ();
  return result;
}

/* The key of @entry among the unencrypted keys and those decrypted by this
 * lookup (@session). Borrowed. */
static EVP_PKEY *
find_key (Index     *index,
          GPtrArray *session,
          Entry     *entry)
{
  for (guint i = 0; i < index->keys->len; i++)
    if (key_belongs_to (index->keys->pdata[i], entry->x509))
      return index->keys->pdata[i];
  for (guint i = 0; i < session->len; i++)
    if (key_belongs_to (session->pdata[i], entry->x509))
      return session->pdata[i];
  return NULL;
}

/* The encrypted things that may hold @entry's key, most likely first: the
 * file it came from (if encrypted), the same file, a file of the same
 * stem. */
static GPtrArray *
key_candidates (Index *index,
                Entry *entry)
{
  GPtrArray *candidates = g_ptr_array_new ();

  if (entry->container != NULL)
    g_ptr_array_add (candidates, entry->container);
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < index->locked->len; i++)
      {
        Locked *locked = index->locked->pdata[i];
        gboolean same = pass == 0 ? strcmp (locked->source, entry->source) == 0
                                  : strcmp (locked->stem, entry->stem) == 0;

        /* An encrypted PKCS#12 file holds its own certificate, whose key
         * is no one else's; once something is opened, which certificates
         * it has the key of is known (@entry->container). */
        if (locked->kind == LOCKED_PKCS12 || locked->opened || !same ||
            g_ptr_array_find (candidates, locked, NULL))
          continue;
        g_ptr_array_add (candidates, locked);
      }
  return candidates;
}

/* Whether @entry has a key in the store, or may have one once something is
 * decrypted. */
static gboolean
entry_usable (Index *index,
              Entry *entry)
{
  g_autoptr(GPtrArray) candidates = NULL;
  g_autoptr(GPtrArray) none = g_ptr_array_new ();

  if (find_key (index, none, entry) != NULL)
    return TRUE;
  candidates = key_candidates (index, entry);
  return candidates->len > 0;
}

/* Decrypts @locked, asking @ctx for the password: its keys go to @session,
 * its certificates (if it is a PKCS#12 file or a URI) to the entries. */
static gboolean
decrypt_locked (Index                        *index,
                Locked                       *locked,
                GSecSockSecureSocketContext  *ctx,
                GPtrArray                    *session,
                GError                      **error)
{
  switch (locked->kind)
    {
    case LOCKED_PEM_KEY:
      {
        EVP_PKEY *key = gsecsock_load_private_key (ctx, locked->source, locked->pem, error);

        if (key == NULL)
          return FALSE;
        g_ptr_array_add (session, key);
        return TRUE;
      }

    case LOCKED_PKCS12:
      {
        g_autoptr(GSecSockCertificate) identity = NULL;
        STACK_OF(X509) *chain;
        EVP_PKEY *key;

        identity = gsecsock_load_identity (ctx, locked->source, NULL, GSECSOCK_IDENTITY_PKCS12, error);
        if (identity == NULL)
          return FALSE;
        index_add_certificate (index, gsecsock_certificate_get_x509 (identity), locked->source, NULL);
        chain = gsecsock_certificate_get_chain (identity);
        for (int i = 0; chain != NULL && i < sk_X509_num (chain); i++)
          index_add_certificate (index, sk_X509_value (chain, i), locked->source, NULL);
        key = gsecsock_certificate_get_private_key (identity);
        EVP_PKEY_up_ref (key);
        g_ptr_array_add (session, key);
        return TRUE;
      }

    case LOCKED_URI:
    default:
      {
        g_autofree char *description = g_strdup_printf (_("the encrypted contents of “%s”"),
                                                         locked->source);
        UriUnlock unlock = { locked->source, { NULL, NULL, NULL, NULL }, FALSE };
        gboolean ok;

        ok = gsecsock_password_try (ctx, description, try_uri_password, &unlock, error);
        if (ok)
          {
            for (guint i = 0; i < unlock.load.certificates->len; i++)
              {
                FoundCertificate *found = unlock.load.certificates->pdata[i];
                index_add_certificate (index, found->x509, found->source, NULL);
              }
            g_ptr_array_extend_and_steal (session, g_steal_pointer (&unlock.load.keys));
          }
        uri_load_clear (&unlock.load);
        return ok;
      }
    }
}

/* decrypt_locked(), then remembers which certificates have their key in
 * @locked (public knowledge, unlike the keys, which are not kept): a later
 * lookup of one of them opens @locked, and no other lookup does. */
static gboolean
open_locked (Index                        *index,
             Locked                       *locked,
             GSecSockSecureSocketContext  *ctx,
             GPtrArray                    *session,
             GError                      **error)
{
  guint first_key = session->len;

  if (!decrypt_locked (index, locked, ctx, session, error))
    return FALSE;

  for (guint i = 0; i < index->entries->len; i++)
    {
      Entry *entry = index->entries->pdata[i];

      for (guint k = first_key; entry->container == NULL && k < session->len; k++)
        if (key_belongs_to (session->pdata[k], entry->x509))
          entry->container = locked;
    }
  locked->opened = TRUE;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */

/* "“a”, “b” and 3 more". */
static char *
name_files (GPtrArray *files)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < files->len && i < MAX_NAMED_FILES; i++)
    {
      if (i > 0)
        g_string_append (text, ", ");
      g_string_append (text, files->pdata[i]);
    }
  if (files->len > MAX_NAMED_FILES)
    g_string_append_printf (text, _(" and %u more"), files->len - MAX_NAMED_FILES);
  return g_string_free (text, FALSE);
}

static void
describe_entry (GString *text,
                Entry   *entry)
{
  g_autofree char *subject = gsecsock_certificate_get_subject (entry->certificate);
  g_autofree char *issuer = gsecsock_certificate_get_issuer (entry->certificate);
  g_autoptr(GDateTime) expires = gsecsock_certificate_get_not_valid_after (entry->certificate);
  g_autofree char *date = expires != NULL ? g_date_time_format (expires, "%Y-%m-%d") : NULL;

  g_string_append_printf (text, _("“%s” issued by “%s”, SHA-256 %s, valid until %s, in “%s”"),
                          subject, issuer,
                          gsecsock_certificate_get_fingerprint_sha256 (entry->certificate),
                          date != NULL ? date : "?", entry->source);
}

static const char *
what_was_looked_up (const Query *query)
{
  switch (query->how)
    {
    case GSECSOCK_LOOKUP_FINGERPRINT_SHA1:
      return _("the SHA-1 fingerprint");
    case GSECSOCK_LOOKUP_FINGERPRINT_SHA256:
      return _("the SHA-256 fingerprint");
    case GSECSOCK_LOOKUP_NAME:
    case GSECSOCK_LOOKUP_ANY:
    default:
      return _("the name");
    }
}

static void
set_not_found_error (GSecSockCertificateStore  *self,
                     Index                     *index,
                     const Query               *query,
                     gboolean                   can_ask,
                     GError                   **error)
{
  GString *text = g_string_new (NULL);
  g_autoptr(GPtrArray) unopened = g_ptr_array_new_with_free_func (g_free);

  g_string_append_printf (text, _("No certificate in the store “%s” has %s “%s”"),
                          self->location, what_was_looked_up (query), query->identifier);
  if (query->how == GSECSOCK_LOOKUP_NAME)
    g_string_append (text, _(" (compared with each certificate’s common name, the DNS names "
                             "and IP addresses of its subject alternative names, and its "
                             "PKCS#12 friendly name)"));
  if (index->entries->len == 0)
    g_string_append (text, _("; the store holds no certificate that can be read"));

  for (guint i = 0; i < index->locked->len; i++)
    {
      Locked *locked = index->locked->pdata[i];
      if (locked->kind != LOCKED_PEM_KEY && !locked->opened)
        g_ptr_array_add (unopened, g_strdup_printf ("“%s”", locked->source));
    }
  if (unopened->len > 0 && !can_ask)
    {
      g_autofree char *files = name_files (unopened);
      g_string_append_printf (text, _("; these encrypted files were not searched: %s (give a "
                                      "context whose password-requested signal supplies their "
                                      "password)"),
                              files);
    }
  if (index->skipped->len > 0)
    {
      g_autofree char *files = name_files (index->skipped);
      g_string_append_printf (text, _("; skipped: %s"), files);
    }

  g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_FOUND, text->str);
  g_string_free (text, TRUE);
}

static void
set_ambiguous_error (GSecSockCertificateStore  *self,
                     const Query               *query,
                     GPtrArray                 *matches,
                     GError                   **error)
{
  GString *text = g_string_new (NULL);

  g_string_append_printf (text,
                          _("The name “%s” is ambiguous: %u certificates of the store “%s” "
                            "have it. Look the one to use up by its SHA-256 fingerprint:"),
                          query->identifier, matches->len, self->location);
  for (guint i = 0; i < matches->len; i++)
    {
      g_string_append (text, "\n- ");
      describe_entry (text, matches->pdata[i]);
    }
  g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_AMBIGUOUS, text->str);
  g_string_free (text, TRUE);
}

static void
set_no_key_error (GSecSockCertificateStore  *self,
                  GPtrArray                 *matches,
                  GError                   **error)
{
  GString *text = g_string_new (NULL);

  if (matches->len == 1)
    {
      g_string_append (text, _("The certificate "));
      describe_entry (text, matches->pdata[0]);
      g_string_append_printf (text, _(" has no private key in the store “%s”: add the key to "
                                      "the store, in the certificate’s file or in a file of "
                                      "its own"),
                              self->location);
    }
  else
    {
      g_string_append_printf (text, _("None of the %u matching certificates has a private key "
                                      "in the store “%s”:"),
                              matches->len, self->location);
      for (guint i = 0; i < matches->len; i++)
        {
          g_string_append (text, "\n- ");
          describe_entry (text, matches->pdata[i]);
        }
    }
  g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_FOUND, text->str);
  g_string_free (text, TRUE);
}

/* ------------------------------------------------------------------------ */
/* Lookup                                                                   */

static GPtrArray *
find_matches (Index       *index,
              const Query *query,
              gboolean     usable_only)
{
  GPtrArray *matches = g_ptr_array_new ();

  for (guint i = 0; i < index->entries->len; i++)
    {
      Entry *entry = index->entries->pdata[i];
      if (entry_matches (entry, query) && (!usable_only || entry_usable (index, entry)))
        g_ptr_array_add (matches, entry);
    }
  return matches;
}

/* @entry's issuers found in the store, leaf's issuer first, up to (not
 * including) a self-signed root. */
static STACK_OF(X509) *
build_chain (Index *index,
             Entry *entry)
{
  STACK_OF(X509) *chain = sk_X509_new_null ();
  X509 *current = entry->x509;

  if (chain == NULL)
    g_error ("%s: out of memory", G_STRFUNC);

  ERR_set_mark ();
  while (sk_X509_num (chain) < MAX_CHAIN_LENGTH && X509_check_issued (current, current) != X509_V_OK)
    {
      X509 *issuer = NULL;

      for (guint i = 0; i < index->entries->len; i++)
        {
          Entry *candidate = index->entries->pdata[i];

          if (candidate->x509 != current && X509_cmp (candidate->x509, current) != 0 &&
              X509_check_issued (candidate->x509, current) == X509_V_OK)
            {
              issuer = candidate->x509;
              break;
            }
        }
      if (issuer == NULL || X509_check_issued (issuer, issuer) == X509_V_OK)
        break;
      sk_X509_push (chain, issuer);   /* borrowed: the caller takes references */
      current = issuer;
    }
  ERR_pop_to_mark ();
  return chain;
}

static gboolean
can_ask_passwords (GSecSockSecureSocketContext *ctx)
{
  return ctx != NULL &&
         g_signal_has_handler_pending (ctx, gsecsock_secure_socket_context_signal (CONTEXT_SIGNAL_PASSWORD_REQUESTED),
                                       0, FALSE);
}

static GSecSockCertificate *
lookup_locked (GSecSockCertificateStore     *self,
               const Query                  *query,
               GSecSockSecureSocketContext  *ctx,
               GError                      **error)
{
  Index *index = self->index;
  g_autoptr(GPtrArray) session = g_ptr_array_new_with_free_func (key_free);
  g_autoptr(GPtrArray) usable = NULL;
  STACK_OF(X509) *chain;
  gboolean can_ask = can_ask_passwords (ctx);
  GSecSockCertificate *result;
  EVP_PKEY *key;
  Entry *entry;

  usable = find_matches (index, query, TRUE);

  /* Encrypted PKCS#12 files (and URIs) hide their certificates: open them
   * one at a time, only when nothing that can be read matches. */
  for (guint i = 0; usable->len == 0 && can_ask && i < index->locked->len; i++)
    {
      Locked *locked = index->locked->pdata[i];

      if (locked->kind == LOCKED_PEM_KEY || locked->opened)
        continue;
      if (!open_locked (index, locked, ctx, session, error))
        {
          g_prefix_error (error, _("While looking for %s “%s” in the store “%s”: "),
                          what_was_looked_up (query), query->identifier, self->location);
          return NULL;
        }
      g_ptr_array_unref (usable);
      usable = find_matches (index, query, TRUE);
    }

  if (usable->len == 0)
    {
      g_autoptr(GPtrArray) matches = find_matches (index, query, FALSE);

      if (matches->len > 0)
        set_no_key_error (self, matches, error);
      else
        set_not_found_error (self, index, query, can_ask, error);
      return NULL;
    }
  if (usable->len > 1)
    {
      set_ambiguous_error (self, query, usable, error);
      return NULL;
    }

  entry = usable->pdata[0];
  key = find_key (index, session, entry);
  if (key == NULL)
    {
      g_autoptr(GPtrArray) candidates = key_candidates (index, entry);
      g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);

      for (guint i = 0; i < candidates->len; i++)
        g_ptr_array_add (files, g_strdup_printf ("“%s”",
                                                 ((Locked *) candidates->pdata[i])->source));

      if (!can_ask)
        {
          g_autofree char *names = name_files (files);
          g_autofree char *subject = gsecsock_certificate_get_subject (entry->certificate);

          g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD,
                       _("The private key of the certificate “%s” in the store “%s” is "
                         "encrypted (in %s): look it up with a context whose "
                         "password-requested signal supplies the password"),
                       subject, self->location, names);
          return NULL;
        }

      for (guint i = 0; key == NULL && i < candidates->len; i++)
        {
          if (!open_locked (index, candidates->pdata[i], ctx, session, error))
            {
              g_prefix_error (error, _("While looking for %s “%s” in the store “%s”: "),
                              what_was_looked_up (query), query->identifier, self->location);
              return NULL;
            }
          key = find_key (index, session, entry);
        }
      if (key == NULL)
        {
          g_autofree char *names = name_files (files);
          GString *text = g_string_new (_("The certificate "));

          describe_entry (text, entry);
          g_string_append_printf (text, _(" has no private key in the store “%s”: the "
                                          "encrypted keys in %s belong to other certificates"),
                                  self->location, names);
          g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_FOUND, text->str);
          g_string_free (text, TRUE);
          return NULL;
        }
    }

  chain = build_chain (index, entry);
  result = gsecsock_certificate_new_with_key (entry->x509, key, chain);
  sk_X509_free (chain);   /* borrowed certificates: new_with_key took references */
  if (result == NULL)
    g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                 _("The certificate in “%s” cannot be encoded"), entry->source);
  return result;
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                  */

static void
gsecsock_certificate_store_finalize (GObject *object)
{
  GSecSockCertificateStore *self = GSECSOCK_CERTIFICATE_STORE (object);

  g_clear_pointer (&self->index, index_free);
  g_free (self->location);
  g_rec_mutex_clear (&self->lock);

  G_OBJECT_CLASS (gsecsock_certificate_store_parent_class)->finalize (object);
}

static void
gsecsock_certificate_store_get_property (GObject    *object,
                                         guint       prop_id,
                                         GValue     *value,
                                         GParamSpec *pspec)
{
  GSecSockCertificateStore *self = GSECSOCK_CERTIFICATE_STORE (object);

  switch (prop_id)
    {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gsecsock_certificate_store_class_init (GSecSockCertificateStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gsecsock_certificate_store_finalize;
  object_class->get_property = gsecsock_certificate_store_get_property;

  /**
   * GSecSockCertificateStore:location: (getter get_location)
   *
   * The directory or the URI the store reads, as given when it was
   * created. Error messages name the store by it.
   *
   * Since: 0.1
   */
  properties[PROP_LOCATION] =
    g_param_spec_string ("location", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
gsecsock_certificate_store_init (GSecSockCertificateStore *self)
{
  g_rec_mutex_init (&self->lock);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */

/**
 * gsecsock_certificate_store_new_for_directory:
 * @path: (type filename): a directory of certificate, private key and
 *   PKCS#12 files
 * @error: return location for a #GError
 *
 * Creates a store of the certificates and keys in the files of @path (see
 * [class@GSecSock.CertificateStore] for what is read and how keys are
 * paired with certificates). The files are read now, without asking for
 * any password; call [method@GSecSock.CertificateStore.reload] after
 * changing them.
 *
 * Returns: (transfer full): the store; %NULL with @error set to
 *   %GSECSOCK_ERROR_BAD_CERTIFICATE_FILE if @path is not a directory that
 *   can be read
 *
 * Since: 0.1
 */
GSecSockCertificateStore *
gsecsock_certificate_store_new_for_directory (const char  *path,
                                              GError     **error)
{
  GSecSockCertificateStore *self;
  Index *index;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  index = scan_directory (path, error);
  if (index == NULL)
    return NULL;

  self = g_object_new (GSECSOCK_TYPE_CERTIFICATE_STORE, NULL);
  self->location = g_strdup (path);
  self->is_uri = FALSE;
  self->index = index;
  return self;
}

/**
 * gsecsock_certificate_store_new_for_uri:
 * @uri: an OpenSSL 3 `OSSL_STORE` URI: `file:` followed by the absolute
 *   path of a file or a directory (`file:///etc/myapp/identity.p12`), or a
 *   URI of a scheme an OpenSSL provider handles
 * @error: return location for a #GError
 *
 * Creates a store of the certificates and private keys at @uri, loaded
 * with OpenSSL's `OSSL_STORE_open_ex()`. A `file:` URI of a directory
 * loads each of its files. What is encrypted is loaded by a lookup that
 * needs it, asking for the password with
 * [signal@GSecSock.SecureSocketContext::password-requested]; nothing is
 * asked now.
 *
 * Returns: (transfer full): the store; %NULL with @error set to
 *   %GSECSOCK_ERROR_BAD_CERTIFICATE_FILE if OpenSSL cannot open @uri (the
 *   message says why)
 *
 * Since: 0.1
 */
GSecSockCertificateStore *
gsecsock_certificate_store_new_for_uri (const char  *uri,
                                        GError     **error)
{
  GSecSockCertificateStore *self;
  Index *index;

  g_return_val_if_fail (uri != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  index = scan_uri (uri, error);
  if (index == NULL)
    return NULL;

  self = g_object_new (GSECSOCK_TYPE_CERTIFICATE_STORE, NULL);
  self->location = g_strdup (uri);
  self->is_uri = TRUE;
  self->index = index;
  return self;
}

/**
 * gsecsock_certificate_store_get_location: (get-property location)
 * @self: a store
 *
 * Gets the directory or URI @self reads.
 *
 * Returns: (transfer none): the location, as given when @self was created
 *
 * Since: 0.1
 */
const char *
gsecsock_certificate_store_get_location (GSecSockCertificateStore *self)
{
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE_STORE (self), NULL);

  return self->location;
}

/**
 * gsecsock_certificate_store_list_certificates:
 * @self: a store
 *
 * Lists the certificates of the store that can be read without a
 * password, and those of encrypted PKCS#12 files that a lookup has opened:
 * each certificate once, in the order of the files' names. The
 * certificates do not carry their private keys: to get one with its key,
 * look it up by its fingerprint with
 * [method@GSecSock.CertificateStore.lookup].
 *
 * Returns: (transfer full): a list model of [class@GSecSock.Certificate],
 *   a snapshot that later changes to the store do not affect
 *
 * Since: 0.1
 */
GListModel *
gsecsock_certificate_store_list_certificates (GSecSockCertificateStore *self)
{
  GListStore *list;

  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE_STORE (self), NULL);

  list = g_list_store_new (GSECSOCK_TYPE_CERTIFICATE);
  g_rec_mutex_lock (&self->lock);
  for (guint i = 0; i < self->index->entries->len; i++)
    g_list_store_append (list, ((Entry *) self->index->entries->pdata[i])->certificate);
  g_rec_mutex_unlock (&self->lock);
  return G_LIST_MODEL (list);
}

/**
 * gsecsock_certificate_store_lookup:
 * @self: a store
 * @identifier: the certificate's name or fingerprint, as @how says
 * @how: how to read @identifier
 * @for_passwords: (nullable): the context whose
 *   [signal@GSecSock.SecureSocketContext::password-requested] asks for the
 *   passwords of encrypted keys and PKCS#12 files, or %NULL to open none
 * @error: return location for a #GError
 *
 * Finds the certificate of @self that @identifier designates, with its
 * private key.
 *
 * A fingerprint is written as hexadecimal digits, in either case, grouped
 * or not by spaces or colons: `"9d a4 84 fc f6 62 92 90 9a 62 d4 ca 65 fb
 * 08 7e 06 45 de 24"`, `"9D:A4:84:FC:…"` and `"9da484fc…"` designate the
 * same certificate. A name is compared with each certificate's common
 * name, the DNS names and IP addresses of its subject alternative names,
 * and the friendly name it has in a PKCS#12 file (see
 * [enum@GSecSock.Lookup]). Certificates whose private key is not in the
 * store are considered only when no certificate with a key matches.
 *
 * The result carries its private key and, as its chain, its issuers found
 * in the store up to (not including) a self-signed root, ready for
 * [method@GSecSock.SecureSocketContext.set_certificate].
 *
 * If the key is encrypted, or if the certificate can only be in an
 * encrypted PKCS#12 file, the password is asked for with @for_passwords'
 * [signal@GSecSock.SecureSocketContext::password-requested], synchronously,
 * up to three times per file (see [class@GSecSock.CertificateStore]).
 *
 * Returns: (transfer full): the certificate, carrying its private key;
 *   %NULL with @error set to %GSECSOCK_ERROR_NOT_FOUND (nothing matches, or
 *   the certificate that matches has no private key in the store; the
 *   message names the store, what was looked up, and the files that were
 *   skipped or could not be opened), %GSECSOCK_ERROR_AMBIGUOUS (several
 *   certificates have the name; the message lists their subject, issuer,
 *   fingerprint and file), %GSECSOCK_ERROR_MISUSE (@identifier is empty,
 *   or a malformed fingerprint: the message says the expected form) or
 *   %GSECSOCK_ERROR_BAD_PASSWORD (no password, or a wrong one three times)
 *
 * Since: 0.1
 */
GSecSockCertificate *
gsecsock_certificate_store_lookup (GSecSockCertificateStore     *self,
                                   const char                   *identifier,
                                   GSecSockLookup                how,
                                   GSecSockSecureSocketContext  *for_passwords,
                                   GError                      **error)
{
  GSecSockCertificate *result;
  Query query;

  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE_STORE (self), NULL);
  g_return_val_if_fail (identifier != NULL, NULL);
  g_return_val_if_fail (how >= GSECSOCK_LOOKUP_ANY && how <= GSECSOCK_LOOKUP_FINGERPRINT_SHA256, NULL);
  g_return_val_if_fail (for_passwords == NULL || GSECSOCK_IS_SECURE_SOCKET_CONTEXT (for_passwords), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!parse_query (identifier, how, &query, error))
    return NULL;

  g_rec_mutex_lock (&self->lock);
  self->busy++;
  result = lookup_locked (self, &query, for_passwords, error);
  self->busy--;
  g_rec_mutex_unlock (&self->lock);

  query_clear (&query);
  return result;
}

/**
 * gsecsock_certificate_store_reload:
 * @self: a store
 * @error: return location for a #GError
 *
 * Reads the store's directory or URI again, after its files changed (a
 * renewed certificate, for example). Contexts keep the certificate they
 * were given: set it again with
 * [method@GSecSock.SecureSocketContext.use_certificate_from_store] to use
 * the new one. On error @self is unchanged.
 *
 * Returns: %TRUE on success; %FALSE with @error set to
 *   %GSECSOCK_ERROR_BAD_CERTIFICATE_FILE if the directory or URI cannot be
 *   read any more, or %GSECSOCK_ERROR_MISUSE if called from a handler of a
 *   lookup in progress
 *
 * Since: 0.1
 */
gboolean
gsecsock_certificate_store_reload (GSecSockCertificateStore  *self,
                                   GError                   **error)
{
  Index *index;
  gboolean ok = FALSE;

  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE_STORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_rec_mutex_lock (&self->lock);
  if (self->busy > 0)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                   _("The certificate store “%s” cannot be reloaded while a lookup in it is "
                     "in progress (from a password-requested handler)"),
                   self->location);
      goto out;
    }
  index = self->is_uri ? scan_uri (self->location, error) : scan_directory (self->location, error);
  if (index != NULL)
    {
      index_free (self->index);
      self->index = index;
      ok = TRUE;
    }
out:
  g_rec_mutex_unlock (&self->lock);
  return ok;
}
