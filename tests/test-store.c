/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GSecSockCertificateStore: a directory of PEM, DER and PKCS#12 files and
 * OSSL_STORE "file:" URIs; lookups by name (CN, SAN DNS and IP, PKCS#12
 * friendly name) and by SHA-1 or SHA-256 fingerprint in every written form;
 * ambiguous names, nothing found, malformed fingerprints, certificates
 * without their key; encrypted keys and PKCS#12 files asking through
 * password-requested; keys paired by file name; reload; and a handshake
 * with a server whose certificate came from the store by fingerprint.
 *
 * The store is tests/pki/store (see make-test-pki.sh); the store-*.pem
 * files beside it are its certificates, to compare with. */
#include "test-utils.h"

#include <string.h>

#include <glib/gstdio.h>

#define PASSWORD "secret"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static GSecSockCertificateStore *
open_store (void)
{
  g_autoptr(GError) error = NULL;
  GSecSockCertificateStore *store =
    gsecsock_certificate_store_new_for_directory (test_pki_path ("store"), &error);

  g_assert_no_error (error);
  g_assert_true (GSECSOCK_IS_CERTIFICATE_STORE (store));
  return store;
}

static GSecSockCertificateStore *
open_store_uri (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = g_strconcat ("file:", test_pki_path (name), NULL);
  GSecSockCertificateStore *store = gsecsock_certificate_store_new_for_uri (uri, &error);

  g_assert_no_error (error);
  g_assert_true (GSECSOCK_IS_CERTIFICATE_STORE (store));
  g_assert_cmpstr (gsecsock_certificate_store_get_location (store), ==, uri);
  return store;
}

/* The reference copy of a store certificate: store-@name.pem. */
static GSecSockCertificate *
reference (const char *name)
{
  g_autofree char *file = g_strdup_printf ("store-%s.pem", name);
  return test_load_certificate (file);
}

/* @certificate is the store's @name, with its private key. */
static void
assert_identity (GSecSockCertificate *certificate,
                 const char          *name)
{
  g_autoptr(GSecSockCertificate) expected = reference (name);

  g_assert_nonnull (certificate);
  g_assert_true (gsecsock_certificate_get_has_private_key (certificate));
  g_assert_true (gsecsock_certificate_equal (certificate, expected));
}

static GSecSockCertificate *
lookup_ok (GSecSockCertificateStore    *store,
           const char                  *identifier,
           GSecSockLookup               how,
           GSecSockSecureSocketContext *ctx,
           const char                  *name)
{
  g_autoptr(GError) error = NULL;
  GSecSockCertificate *certificate = gsecsock_certificate_store_lookup (store, identifier, how, ctx, &error);

  if (error != NULL)
    g_error ("looking up “%s” (how %d): %s", identifier, how, error->message);
  assert_identity (certificate, name);
  return certificate;
}

static void
assert_lookup_finds (GSecSockCertificateStore *store,
                     const char               *identifier,
                     GSecSockLookup            how,
                     const char               *name)
{
  g_autoptr(GSecSockCertificate) certificate = lookup_ok (store, identifier, how, NULL, name);
}

/* "aa:bb:…" written as @form asks: the forms people copy fingerprints in. */
typedef enum {
  FORM_COLONS_LOWER,   /* as gsecsock and `openssl x509 -fingerprint` (upper) print it */
  FORM_COLONS_UPPER,
  FORM_SPACES,         /* as Windows' certificate manager shows it */
  FORM_SPACES_UPPER,
  FORM_BARE,
  FORM_BARE_UPPER,
  FORM_MIXED_CASE,
  FORM_WINDOWS_COPY,   /* with the invisible mark that copying from certmgr adds */
  FORM_PADDED,         /* surrounded by spaces */
  N_FORMS
} FingerprintForm;

static char *
write_fingerprint (const char      *colons,
                   FingerprintForm  form)
{
  GString *text = g_string_new (NULL);

  if (form == FORM_WINDOWS_COPY)
    g_string_append (text, "\u200e");
  if (form == FORM_PADDED)
    g_string_append (text, "  ");
  for (gsize i = 0; colons[i] != '\0'; i++)
    {
      char c = colons[i];

      if (c == ':')
        {
          if (form == FORM_SPACES || form == FORM_SPACES_UPPER || form == FORM_WINDOWS_COPY ||
              form == FORM_PADDED)
            g_string_append_c (text, ' ');
          else if (form == FORM_COLONS_LOWER || form == FORM_COLONS_UPPER)
            g_string_append_c (text, ':');
          continue;
        }
      if (form == FORM_COLONS_UPPER || form == FORM_SPACES_UPPER || form == FORM_BARE_UPPER ||
          (form == FORM_MIXED_CASE && i % 2 == 0))
        c = g_ascii_toupper (c);
      g_string_append_c (text, c);
    }
  if (form == FORM_PADDED)
    g_string_append (text, " \t");
  return g_string_free (text, FALSE);
}

/* ------------------------------------------------------------------------ */
/* A password-requested handler that records its emissions                  */

typedef struct {
  const char * const *answers;   /* answers[attempt - 1]; NULL or past the end: cancel */
  guint n_answers;
  guint calls;
  guint attempts[16];
  GPtrArray *descriptions;
  GSecSockCertificateStore *reload_store;   /* reload it from the handler */
  GError *reload_error;
} PasswordLog;

static char *
on_password_requested (GSecSockSecureSocketContext *ctx,
                       const char                  *description,
                       guint                        attempt,
                       gpointer                     user_data)
{
  PasswordLog *log = user_data;

  g_assert_cmpuint (log->calls, <, G_N_ELEMENTS (log->attempts));
  log->attempts[log->calls++] = attempt;
  g_test_message ("password-requested: %s (attempt %u)", description, attempt);
  if (log->descriptions == NULL)
    log->descriptions = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (log->descriptions, g_strdup (description));

  if (log->reload_store != NULL)
    g_assert_false (gsecsock_certificate_store_reload (log->reload_store, &log->reload_error));

  if (attempt >= 1 && attempt <= log->n_answers)
    return g_strdup (log->answers[attempt - 1]);
  return NULL;
}

static GSecSockSecureSocketContext *
password_context (PasswordLog *log)
{
  GSecSockSecureSocketContext *ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);

  g_signal_connect (ctx, "password-requested", G_CALLBACK (on_password_requested), log);
  return ctx;
}

static void
password_log_clear (PasswordLog *log)
{
  g_clear_pointer (&log->descriptions, g_ptr_array_unref);
  g_clear_error (&log->reload_error);
}

static void
assert_asked (const PasswordLog *log,
              guint              n,
              const char        *file)
{
  g_assert_cmpuint (log->calls, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpuint (log->attempts[i], ==, i + 1);
      g_assert_nonnull (strstr (log->descriptions->pdata[i], file));
    }
}

static const char * const right_first[] = { PASSWORD };
static const char * const wrong_then_right[] = { "wrong", PASSWORD };
static const char * const cancel[] = { NULL };

/* ------------------------------------------------------------------------ */
/* Reading a directory                                                      */

static gboolean
list_contains (GListModel *list,
               const char *name)
{
  g_autoptr(GSecSockCertificate) expected = reference (name);

  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr(GSecSockCertificate) certificate = g_list_model_get_item (list, i);
      if (gsecsock_certificate_equal (certificate, expected))
        return TRUE;
    }
  return FALSE;
}

static void
test_directory_list (void)
{
  g_autoptr(GSecSockCertificateStore) store = open_store ();
  g_autoptr(GListModel) list = gsecsock_certificate_store_list_certificates (store);
  g_autofree char *location = NULL;
  static const char * const readable[] = { "web", "ftp", "dup-a", "dup-b", "secure", "nokey" };

  g_assert_cmpstr (gsecsock_certificate_store_get_location (store), ==, test_pki_path ("store"));
  g_object_get (store, "location", &location, NULL);
  g_assert_cmpstr (location, ==, test_pki_path ("store"));

  g_assert_true (g_list_model_get_item_type (list) == GSECSOCK_TYPE_CERTIFICATE);
  /* The six leaves that can be read without a password, and the
   * intermediate; not the one in the encrypted PKCS#12 file. */
  g_assert_cmpuint (g_list_model_get_n_items (list), ==, 7);
  for (gsize i = 0; i < G_N_ELEMENTS (readable); i++)
    g_assert_true (list_contains (list, readable[i]));
  g_assert_false (list_contains (list, "mail"));
  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr(GSecSockCertificate) certificate = g_list_model_get_item (list, i);
      g_assert_false (gsecsock_certificate_get_has_private_key (certificate));
    }
}

static void
test_directory_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename (test_pki_path ("store"), "no-such-directory", NULL);

  g_assert_null (gsecsock_certificate_store_new_for_directory (missing, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  test_assert_message_contains (error, "no-such-directory");
  g_clear_error (&error);

  g_assert_null (gsecsock_certificate_store_new_for_directory (test_pki_path ("store/web.pem"), &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  test_assert_message_contains (error, "not a directory");
  test_assert_message_contains (error, "file:");
}

/* ------------------------------------------------------------------------ */
/* Lookups by name                                                          */

static void
test_lookup_name (void)
{
  g_autoptr(GSecSockCertificateStore) store = open_store ();

  /* The common name (the certificate and its key are in separate files),
   * in any case, with or without a final dot. */
  assert_lookup_finds (store, "web.store.test", GSECSOCK_LOOKUP_NAME, "web");
  assert_lookup_finds (store, "WEB.Store.Test", GSECSOCK_LOOKUP_NAME, "web");
  assert_lookup_finds (store, "web.store.test.", GSECSOCK_LOOKUP_NAME, "web");
  assert_lookup_finds (store, "  web.store.test ", GSECSOCK_LOOKUP_ANY, "web");
}

static void
test_lookup_san (void)
{
  g_autoptr(GSecSockCertificateStore) store = open_store ();

  /* DNS names of the subject alternative names. */
  assert_lookup_finds (store, "localhost", GSECSOCK_LOOKUP_NAME, "web");
  assert_lookup_finds (store, "LocalHost", GSECSOCK_LOOKUP_ANY, "web");
  assert_lookup_finds (store, "dup-a.store.test", GSECSOCK_LOOKUP_NAME, "dup-a");
  assert_lookup_finds (store, "dup-b.store.test", GSECSOCK_LOOKUP_NAME, "dup-b");
  /* IP addresses, in any of their written forms. */
  assert_lookup_finds (store, "127.0.0.1", GSECSOCK_LOOKUP_NAME, "web");
  assert_lookup_finds (store, "::1", GSECSOCK_LOOKUP_ANY, "web");
  assert_lookup_finds (store, "[::1]", GSECSOCK_LOOKUP_NAME, "web");
  assert_lookup_finds (store, "0:0:0:0:0:0:0:1", GSECSOCK_LOOKUP_NAME, "web");
}

static void
test_lookup_der (void)
{
  g_autoptr(GSecSockCertificateStore) store = open_store ();

  /* ftp.der and ftp-key.der: paired by their public key. */
  assert_lookup_finds (store, "ftp.store.test", GSECSOCK_LOOKUP_NAME, "ftp");
}

/* ------------------------------------------------------------------------ */
/* Lookups by fingerprint                                                   */

static void
test_lookup_fingerprint (gconstpointer data)
{
  GSecSockLookup how = GPOINTER_TO_INT (data);
  g_autoptr(GSecSockCertificateStore) store = open_store ();
  static const char * const names[] = { "web", "ftp", "dup-a", "dup-b" };

  for (gsize n = 0; n < G_N_ELEMENTS (names); n++)
    {
      g_autoptr(GSecSockCertificate) expected = reference (names[n]);
      const char *colons = how == GSECSOCK_LOOKUP_FINGERPRINT_SHA1
                             ? gsecsock_certificate_get_fingerprint_sha1 (expected)
                             : gsecsock_certificate_get_fingerprint_sha256 (expected);

      for (FingerprintForm form = 0; form < N_FORMS; form++)
        {
          g_autofree char *written = write_fingerprint (colons, form);

          g_test_message ("%s as “%s”", names[n], written);
          assert_lookup_finds (store, written, how, names[n]);
          /* ANY recognizes a fingerprint by its length. */
          assert_lookup_finds (store, written, GSECSOCK_LOOKUP_ANY, names[n]);
        }
    }
}

static void
test_lookup_bad_fingerprint (void)
{
  g_autoptr(GSecSockCertificateStore) store = open_store ();
  g_autoptr(GSecSockCertificate) web = reference ("web");
  g_autoptr(GError) error = NULL;
  g_autofree char *sha1 = write_fingerprint (gsecsock_certificate_get_fingerprint_sha1 (web), FORM_SPACES);
  g_autofree char *sha256 = write_fingerprint (gsecsock_certificate_get_fingerprint_sha256 (web), FORM_BARE);
  g_autofree char *short_sha1 = g_strndup (sha1, strlen (sha1) - 3);

  /* A letter that is no hexadecimal digit (as in a well-known example
   * with "of" for "0f"): the message shows it and the expected form. */
  g_assert_null (gsecsock_certificate_store_lookup (store,
                   "9d a4 84 fc f6 62 92 90 9a 62 d4 ca 65 fb 08 7e 06 45 of 24",
                   GSECSOCK_LOOKUP_FINGERPRINT_SHA1, NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "“o”");
  test_assert_message_contains (error, "not a hexadecimal digit");
  test_assert_message_contains (error, "40 hexadecimal digits");
  test_assert_message_contains (error, "9d a4 84 fc");
  g_clear_error (&error);

  /* One digit pair short. */
  g_assert_null (gsecsock_certificate_store_lookup (store, short_sha1, GSECSOCK_LOOKUP_FINGERPRINT_SHA1,
                                                    NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "38 hexadecimal digits instead of 40");
  g_clear_error (&error);

  /* The right digits for the other hash: the message says so. */
  g_assert_null (gsecsock_certificate_store_lookup (store, sha1, GSECSOCK_LOOKUP_FINGERPRINT_SHA256,
                                                    NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "GSECSOCK_LOOKUP_FINGERPRINT_SHA1");
  test_assert_message_contains (error, "64 hexadecimal digits");
  g_clear_error (&error);
  g_assert_null (gsecsock_certificate_store_lookup (store, sha256, GSECSOCK_LOOKUP_FINGERPRINT_SHA1,
                                                    NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "GSECSOCK_LOOKUP_FINGERPRINT_SHA256");
  g_clear_error (&error);

  /* A valid fingerprint of no certificate of the store. */
  g_assert_null (gsecsock_certificate_store_lookup (store, "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33",
                                                    GSECSOCK_LOOKUP_ANY, NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_FOUND);
  test_assert_message_contains (error, "SHA-1 fingerprint");
  g_clear_error (&error);

  /* An empty name. */
  g_assert_null (gsecsock_certificate_store_lookup (store, "  ", GSECSOCK_LOOKUP_NAME, NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "empty");
}

/* ------------------------------------------------------------------------ */
/* Ambiguous, not found, no key                                             */

static void
test_lookup_ambiguous (void)
{
  g_autoptr(GSecSockCertificateStore) store = open_store ();
  g_autoptr(GSecSockCertificate) dup_a = reference ("dup-a");
  g_autoptr(GSecSockCertificate) dup_b = reference ("dup-b");
  g_autoptr(GError) error = NULL;

  g_assert_null (gsecsock_certificate_store_lookup (store, "dup.store.test", GSECSOCK_LOOKUP_NAME, NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_AMBIGUOUS);
  g_test_message ("%s", error->message);
  /* Every candidate, with what tells them apart. */
  test_assert_message_contains (error, "dup.store.test");
  test_assert_message_contains (error, test_pki_path ("store"));
  test_assert_message_contains (error, "2 certificates");
  test_assert_message_contains (error, gsecsock_certificate_get_fingerprint_sha256 (dup_a));
  test_assert_message_contains (error, gsecsock_certificate_get_fingerprint_sha256 (dup_b));
  test_assert_message_contains (error, "dup-a.pem");
  test_assert_message_contains (error, "dup-b.pem");
  test_assert_message_contains (error, "CN=gsecsock Test Intermediate CA");
  test_assert_message_contains (error, "fingerprint");
  g_clear_error (&error);

  /* ANY reads it as a name too; a fingerprint settles it. */
  g_assert_null (gsecsock_certificate_store_lookup (store, "DUP.store.test", GSECSOCK_LOOKUP_ANY, NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_AMBIGUOUS);
  assert_lookup_finds (store, gsecsock_certificate_get_fingerprint_sha256 (dup_b),
                       GSECSOCK_LOOKUP_FINGERPRINT_SHA256, "dup-b");
}

static void
test_lookup_not_found (void)
{
  g_autoptr(GSecSockCertificateStore) store = open_store ();
  g_autoptr(GError) error = NULL;

  g_assert_null (gsecsock_certificate_store_lookup (store, "nowhere.store.test", GSECSOCK_LOOKUP_NAME,
                                                    NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
  /* The store, what was looked up, how, and what could not be searched. */
  test_assert_message_contains (error, test_pki_path ("store"));
  test_assert_message_contains (error, "the name “nowhere.store.test”");
  test_assert_message_contains (error, "mail.p12");
  test_assert_message_contains (error, "password-requested");
  test_assert_message_contains (error, "notes.txt");
  g_clear_error (&error);

  g_assert_null (gsecsock_certificate_store_lookup (store, "aa bb cc dd ee ff 00 11 22 33 44 55 66 77 88 99 "
                                                    "aa bb cc dd ee ff 00 11 22 33 44 55 66 77 88 99",
                                                    GSECSOCK_LOOKUP_FINGERPRINT_SHA256, NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_FOUND);
  test_assert_message_contains (error, "SHA-256 fingerprint “aa bb cc");
}

static void
test_lookup_no_key (void)
{
  g_autoptr(GSecSockCertificateStore) store = open_store ();
  g_autoptr(GSecSockCertificate) nokey = reference ("nokey");
  g_autoptr(GError) error = NULL;

  g_assert_null (gsecsock_certificate_store_lookup (store, "nokey.store.test", GSECSOCK_LOOKUP_NAME,
                                                    NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
  test_assert_message_contains (error, "no private key");
  test_assert_message_contains (error, "nokey.pem");
  test_assert_message_contains (error, gsecsock_certificate_get_fingerprint_sha256 (nokey));
  g_clear_error (&error);

  /* The same by fingerprint, and for the intermediate (a CA certificate
   * in the store for chains, whose key is not there). */
  g_assert_null (gsecsock_certificate_store_lookup (store, gsecsock_certificate_get_fingerprint_sha1 (nokey),
                                                    GSECSOCK_LOOKUP_ANY, NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_FOUND);
  test_assert_message_contains (error, "no private key");
  g_clear_error (&error);
  g_assert_null (gsecsock_certificate_store_lookup (store, "gsecsock Test Intermediate CA", GSECSOCK_LOOKUP_NAME,
                                                    NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_FOUND);
  test_assert_message_contains (error, "no private key");
}

/* ------------------------------------------------------------------------ */
/* Passwords                                                                */

static void
test_password_encrypted_key (void)
{
  g_autoptr(GSecSockCertificateStore) store = open_store ();
  g_autoptr(GError) error = NULL;
  PasswordLog log = { wrong_then_right, 2 };
  g_autoptr(GSecSockSecureSocketContext) ctx = password_context (&log);
  g_autoptr(GSecSockSecureSocketContext) silent = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GSecSockCertificate) first = NULL;
  g_autoptr(GSecSockCertificate) second = NULL;

  /* Without a context, or with one that cannot ask: a clear error. */
  g_assert_null (gsecsock_certificate_store_lookup (store, "secure.store.test", GSECSOCK_LOOKUP_NAME,
                                                    NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD);
  test_assert_message_contains (error, "encrypted");
  test_assert_message_contains (error, "secure.key");
  test_assert_message_contains (error, "password-requested");
  g_clear_error (&error);
  g_assert_null (gsecsock_certificate_store_lookup (store, "secure.store.test", GSECSOCK_LOOKUP_NAME,
                                                    silent, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD);
  g_clear_error (&error);

  /* Asked through password-requested, naming the key file; a wrong
   * password asks again. */
  first = lookup_ok (store, "secure.store.test", GSECSOCK_LOOKUP_NAME, ctx, "secure");
  assert_asked (&log, 2, test_pki_path ("store/secure.key"));
  g_assert_nonnull (strstr (log.descriptions->pdata[0], "private key"));

  /* The store keeps no decrypted key: the next lookup asks again. */
  log.calls = 0;
  g_ptr_array_set_size (log.descriptions, 0);
  log.answers = right_first;
  log.n_answers = 1;
  second = lookup_ok (store, "secure.store.test", GSECSOCK_LOOKUP_NAME, ctx, "secure");
  assert_asked (&log, 1, test_pki_path ("store/secure.key"));

  /* Keys that need no password never ask. */
  log.calls = 0;
  assert_lookup_finds (store, "web.store.test", GSECSOCK_LOOKUP_NAME, "web");
  g_object_unref (lookup_ok (store, "ftp.store.test", GSECSOCK_LOOKUP_NAME, ctx, "ftp"));
  g_assert_cmpuint (log.calls, ==, 0);

  password_log_clear (&log);
}

static void
test_password_pkcs12 (void)
{
  g_autoptr(GSecSockCertificateStore) store = open_store ();
  g_autoptr(GSecSockCertificate) mail = reference ("mail");
  g_autoptr(GListModel) before = gsecsock_certificate_store_list_certificates (store);
  g_autoptr(GListModel) after = NULL;
  PasswordLog log = { right_first, 1 };
  g_autoptr(GSecSockSecureSocketContext) ctx = password_context (&log);
  g_autoptr(GError) error = NULL;

  /* Its certificate is hidden until the file is opened: by name... */
  g_object_unref (lookup_ok (store, "mail.store.test", GSECSOCK_LOOKUP_NAME, ctx, "mail"));
  assert_asked (&log, 1, test_pki_path ("store/mail.p12"));
  g_assert_nonnull (strstr (log.descriptions->pdata[0], "PKCS#12"));

  /* ...then it is listed (its key is not kept: asked again)... */
  after = gsecsock_certificate_store_list_certificates (store);
  g_assert_cmpuint (g_list_model_get_n_items (after), ==, g_list_model_get_n_items (before) + 1);
  g_assert_true (list_contains (after, "mail"));

  /* ...by its friendly name, and by fingerprint. */
  log.calls = 0;
  g_ptr_array_set_size (log.descriptions, 0);
  g_object_unref (lookup_ok (store, "store MAIL", GSECSOCK_LOOKUP_NAME, ctx, "mail"));
  assert_asked (&log, 1, test_pki_path ("store/mail.p12"));
  log.calls = 0;
  g_ptr_array_set_size (log.descriptions, 0);
  g_object_unref (lookup_ok (store, gsecsock_certificate_get_fingerprint_sha1 (mail),
                             GSECSOCK_LOOKUP_FINGERPRINT_SHA1, ctx, "mail"));
  assert_asked (&log, 1, test_pki_path ("store/mail.p12"));

  /* A certificate found without opening it never asks for it; nor does
   * the intermediate, which the PKCS#12 file holds too (without its key). */
  log.calls = 0;
  g_object_unref (lookup_ok (store, "web.store.test", GSECSOCK_LOOKUP_NAME, ctx, "web"));
  g_assert_null (gsecsock_certificate_store_lookup (store, "gsecsock Test Intermediate CA",
                                                    GSECSOCK_LOOKUP_NAME, ctx, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_FOUND);
  test_assert_message_contains (error, "no private key");
  g_assert_cmpuint (log.calls, ==, 0);

  password_log_clear (&log);
}

static void
test_password_cancel (void)
{
  g_autoptr(GSecSockCertificateStore) store = open_store ();
  g_autoptr(GError) error = NULL;
  PasswordLog log = { cancel, 1 };
  g_autoptr(GSecSockSecureSocketContext) ctx = password_context (&log);

  g_assert_null (gsecsock_certificate_store_lookup (store, "secure.store.test", GSECSOCK_LOOKUP_NAME,
                                                    ctx, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD);
  test_assert_message_contains (error, "cancelled");
  test_assert_message_contains (error, "secure.store.test");
  assert_asked (&log, 1, "secure.key");
  g_clear_error (&error);

  /* Wrong three times. */
  log.calls = 0;
  g_ptr_array_set_size (log.descriptions, 0);
  log.answers = (const char * const[]) { "a", "b", "c", PASSWORD };
  log.n_answers = 4;
  g_assert_null (gsecsock_certificate_store_lookup (store, "mail.store.test", GSECSOCK_LOOKUP_NAME,
                                                    ctx, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD);
  test_assert_message_contains (error, "wrong 3 times");
  assert_asked (&log, 3, "mail.p12");

  password_log_clear (&log);
}

/* A handler that calls back into the store cannot pull the files from
 * under the lookup. */
static void
test_password_reload_from_handler (void)
{
  g_autoptr(GSecSockCertificateStore) store = open_store ();
  PasswordLog log = { right_first, 1 };
  g_autoptr(GSecSockSecureSocketContext) ctx = password_context (&log);

  log.reload_store = store;
  g_object_unref (lookup_ok (store, "secure.store.test", GSECSOCK_LOOKUP_NAME, ctx, "secure"));
  g_assert_error (log.reload_error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  log.reload_store = NULL;
  g_assert_true (gsecsock_certificate_store_reload (store, NULL));
  password_log_clear (&log);
}

/* ------------------------------------------------------------------------ */
/* Keys paired by file name; reload                                         */

static void
copy_file (const char *from,
           const char *to)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length;

  g_assert_true (g_file_get_contents (from, &contents, &length, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (to, contents, length, &error));
  g_assert_no_error (error);
}

static char *
make_tmp_store (const char *name)
{
  char *dir = test_tmp_path (name);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return dir;
}

static void
copy_into (const char *dir,
           const char *pki_name,
           const char *file_name)
{
  g_autofree char *to = g_build_filename (dir, file_name, NULL);
  copy_file (test_pki_path (pki_name), to);
}

static void
test_key_pairing_by_name (void)
{
  g_autofree char *dir = make_tmp_store ("pairing");
  g_autoptr(GSecSockCertificateStore) store = NULL;
  g_autoptr(GError) error = NULL;
  PasswordLog log = { right_first, 1 };
  g_autoptr(GSecSockSecureSocketContext) ctx = password_context (&log);

  /* srv-cert.pem with its encrypted key in srv-key.pem; an unrelated
   * encrypted key (server.key's) in other.key; nokey's certificate in
   * lonely.pem, with no key of its own. */
  copy_into (dir, "store-secure.pem", "srv-cert.pem");
  copy_into (dir, "store/secure.key", "srv-key.pem");
  copy_into (dir, "encrypted.key", "other.key");
  copy_into (dir, "store-nokey.pem", "lonely.pem");
  store = gsecsock_certificate_store_new_for_directory (dir, &error);
  g_assert_no_error (error);

  /* Only the key whose file name goes with the certificate's is tried. */
  g_object_unref (lookup_ok (store, "secure.store.test", GSECSOCK_LOOKUP_NAME, ctx, "secure"));
  assert_asked (&log, 1, "srv-key.pem");

  /* No encrypted key goes with lonely.pem: none is decrypted to look. */
  log.calls = 0;
  g_assert_null (gsecsock_certificate_store_lookup (store, "nokey.store.test", GSECSOCK_LOOKUP_NAME,
                                                    ctx, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_FOUND);
  test_assert_message_contains (error, "no private key");
  g_assert_cmpuint (log.calls, ==, 0);

  password_log_clear (&log);
}

static void
test_reload (void)
{
  g_autofree char *dir = make_tmp_store ("reload");
  g_autoptr(GSecSockCertificateStore) store = NULL;
  g_autoptr(GError) error = NULL;

  copy_into (dir, "store/web.pem", "web.pem");
  copy_into (dir, "store/web.key", "web.key");
  store = gsecsock_certificate_store_new_for_directory (dir, &error);
  g_assert_no_error (error);
  assert_lookup_finds (store, "web.store.test", GSECSOCK_LOOKUP_NAME, "web");

  g_assert_null (gsecsock_certificate_store_lookup (store, "ftp.store.test", GSECSOCK_LOOKUP_ANY, NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A renewed certificate: found after reload(), not before. */
  copy_into (dir, "store/ftp.der", "ftp.der");
  copy_into (dir, "store/ftp-key.der", "ftp-key.der");
  g_assert_null (gsecsock_certificate_store_lookup (store, "ftp.store.test", GSECSOCK_LOOKUP_ANY, NULL, &error));
  g_clear_error (&error);
  g_assert_true (gsecsock_certificate_store_reload (store, &error));
  g_assert_no_error (error);
  assert_lookup_finds (store, "ftp.store.test", GSECSOCK_LOOKUP_ANY, "ftp");

  /* The directory gone: an error, and the store as it was. */
  {
    g_autofree char *ftp = g_build_filename (dir, "ftp.der", NULL);
    g_autofree char *ftp_key = g_build_filename (dir, "ftp-key.der", NULL);
    g_autofree char *web = g_build_filename (dir, "web.pem", NULL);
    g_autofree char *web_key = g_build_filename (dir, "web.key", NULL);

    g_assert_cmpint (g_unlink (ftp), ==, 0);
    g_assert_cmpint (g_unlink (ftp_key), ==, 0);
    g_assert_cmpint (g_unlink (web), ==, 0);
    g_assert_cmpint (g_unlink (web_key), ==, 0);
    g_assert_cmpint (g_rmdir (dir), ==, 0);
  }
  g_assert_false (gsecsock_certificate_store_reload (store, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  assert_lookup_finds (store, "ftp.store.test", GSECSOCK_LOOKUP_ANY, "ftp");
}

/* ------------------------------------------------------------------------ */
/* OSSL_STORE URIs                                                          */

static void
test_uri_directory (void)
{
  g_autoptr(GSecSockCertificateStore) store = open_store_uri ("store");
  g_autoptr(GSecSockCertificate) web = reference ("web");
  g_autoptr(GListModel) list = gsecsock_certificate_store_list_certificates (store);
  g_autofree char *sha256 = write_fingerprint (gsecsock_certificate_get_fingerprint_sha256 (web),
                                               FORM_SPACES_UPPER);
  PasswordLog log = { wrong_then_right, 2 };
  g_autoptr(GSecSockSecureSocketContext) ctx = password_context (&log);
  g_autoptr(GError) error = NULL;

  /* OpenSSL reads every file of the directory: PEM, DER, keys apart. */
  g_assert_cmpuint (g_list_model_get_n_items (list), ==, 7);
  assert_lookup_finds (store, sha256, GSECSOCK_LOOKUP_FINGERPRINT_SHA256, "web");
  assert_lookup_finds (store, "ftp.store.test", GSECSOCK_LOOKUP_NAME, "ftp");
  assert_lookup_finds (store, "dup-a.store.test", GSECSOCK_LOOKUP_NAME, "dup-a");
  g_assert_null (gsecsock_certificate_store_lookup (store, "dup.store.test", GSECSOCK_LOOKUP_NAME, NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_AMBIGUOUS);
  g_clear_error (&error);

  /* Encrypted: asked through password-requested, with the file's URI. */
  g_assert_null (gsecsock_certificate_store_lookup (store, "secure.store.test", GSECSOCK_LOOKUP_NAME,
                                                    NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD);
  g_clear_error (&error);
  g_object_unref (lookup_ok (store, "secure.store.test", GSECSOCK_LOOKUP_NAME, ctx, "secure"));
  assert_asked (&log, 2, "file:");
  g_assert_nonnull (strstr (log.descriptions->pdata[0], "secure.key"));

  /* The PKCS#12 file, opened when nothing readable matches. */
  log.calls = 0;
  g_ptr_array_set_size (log.descriptions, 0);
  g_object_unref (lookup_ok (store, "mail.store.test", GSECSOCK_LOOKUP_NAME, ctx, "mail"));
  assert_asked (&log, 2, "mail.p12");

  /* A name found nowhere: what is encrypted is opened to look (the URI
   * does not say what each file holds); then the store knows which file
   * holds which key, and asks only for that one. */
  g_clear_object (&store);
  store = open_store_uri ("store");
  log.answers = right_first;
  log.n_answers = 1;
  log.calls = 0;
  g_ptr_array_set_size (log.descriptions, 0);
  g_assert_null (gsecsock_certificate_store_lookup (store, "nowhere.store.test", GSECSOCK_LOOKUP_NAME,
                                                    ctx, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_FOUND);
  g_assert_cmpuint (log.calls, ==, 2);
  g_assert_nonnull (strstr (log.descriptions->pdata[0], "mail.p12"));
  g_assert_nonnull (strstr (log.descriptions->pdata[1], "secure.key"));
  log.calls = 0;
  g_ptr_array_set_size (log.descriptions, 0);
  g_object_unref (lookup_ok (store, "secure.store.test", GSECSOCK_LOOKUP_NAME, ctx, "secure"));
  assert_asked (&log, 1, "secure.key");
  log.calls = 0;
  g_object_unref (lookup_ok (store, "web.store.test", GSECSOCK_LOOKUP_NAME, ctx, "web"));
  g_assert_cmpuint (log.calls, ==, 0);

  password_log_clear (&log);
}

static void
test_uri_file (void)
{
  g_autoptr(GSecSockCertificateStore) pem = open_store_uri ("store/dup-a.pem");
  g_autoptr(GSecSockCertificateStore) p12 = open_store_uri ("server-nopass.p12");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockCertificate) server = NULL;
  g_autoptr(GSecSockCertificate) expected = test_load_certificate ("server.pem");

  /* One file with its certificate and key: the name is not ambiguous
   * there. */
  assert_lookup_finds (pem, "dup.store.test", GSECSOCK_LOOKUP_NAME, "dup-a");

  /* A PKCS#12 file without a password, and the URI of nothing. */
  server = gsecsock_certificate_store_lookup (p12, "localhost", GSECSOCK_LOOKUP_NAME, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (gsecsock_certificate_equal (server, expected));
  g_assert_true (gsecsock_certificate_get_has_private_key (server));

  g_assert_null (gsecsock_certificate_store_new_for_uri ("file:/nonexistent/gsecsock/store", &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  test_assert_message_contains (error, "file:/nonexistent/gsecsock/store");
}

/* ------------------------------------------------------------------------ */
/* A server whose certificate comes from the store                          */

typedef struct {
  TestEnv env;
  TestTlsPair pair;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_env_setup (&f->env, NULL, NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  test_tls_pair_clear (&f->pair);
  test_env_teardown (&f->env);
}

static void
test_handshake_by_fingerprint (Fixture       *f,
                               gconstpointer  data)
{
  gboolean use_uri = GPOINTER_TO_INT (data);
  g_autoptr(GSecSockCertificateStore) store = use_uri ? open_store_uri ("store") : open_store ();
  g_autoptr(GSecSockSecureSocketContext) server_ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GSecSockCertificate) web = reference ("web");
  g_autoptr(GSecSockCertificate) intermediate = test_load_certificate ("intermediate.pem");
  GSecSockCertificate *peer;           /* borrowed from the socket */
  GListModel *chain;
  g_autoptr(GSecSockCertificate) peer_issuer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sha1 = write_fingerprint (gsecsock_certificate_get_fingerprint_sha1 (web),
                                             FORM_SPACES);

  /* Nothing is installed when the lookup fails. */
  g_assert_false (gsecsock_secure_socket_context_use_certificate_from_store (server_ctx, store, "dup.store.test",
                                                                             GSECSOCK_LOOKUP_NAME, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_AMBIGUOUS);
  g_clear_error (&error);

  /* As a WinDev server does it: the certificate's hash, with spaces. */
  g_assert_true (gsecsock_secure_socket_context_use_certificate_from_store (server_ctx, store, sha1,
                                                                            GSECSOCK_LOOKUP_FINGERPRINT_SHA1,
                                                                            &error));
  g_assert_no_error (error);

  /* The client trusts only the root: the server must send the
   * intermediate, which the store supplied as the chain. */
  test_tls_pair_init (&f->pair, f->env.client_ctx, server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_no_error (f->pair.client_op.error);
  g_assert_no_error (f->pair.server_op.error);

  peer = gsecsock_secure_socket_get_peer_certificate (f->pair.client);
  g_assert_true (gsecsock_certificate_equal (peer, web));
  chain = gsecsock_secure_socket_get_peer_certificate_chain (f->pair.client);
  g_assert_cmpuint (g_list_model_get_n_items (chain), ==, 2);
  peer_issuer = g_list_model_get_item (chain, 1);
  g_assert_true (gsecsock_certificate_equal (peer_issuer, intermediate));

  /* Data goes through. */
  test_write_all (G_IO_STREAM (f->pair.client), "ping", 4);
  {
    char buffer[4];
    test_read_exact (G_IO_STREAM (f->pair.server), buffer, sizeof buffer);
    g_assert_cmpmem (buffer, sizeof buffer, "ping", 4);
  }
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

  g_test_add_func ("/store/directory/list", test_directory_list);
  g_test_add_func ("/store/directory/errors", test_directory_errors);
  g_test_add_func ("/store/lookup/name", test_lookup_name);
  g_test_add_func ("/store/lookup/san", test_lookup_san);
  g_test_add_func ("/store/lookup/der", test_lookup_der);
  g_test_add_data_func ("/store/lookup/sha1", GINT_TO_POINTER (GSECSOCK_LOOKUP_FINGERPRINT_SHA1),
                        test_lookup_fingerprint);
  g_test_add_data_func ("/store/lookup/sha256", GINT_TO_POINTER (GSECSOCK_LOOKUP_FINGERPRINT_SHA256),
                        test_lookup_fingerprint);
  g_test_add_func ("/store/lookup/bad-fingerprint", test_lookup_bad_fingerprint);
  g_test_add_func ("/store/lookup/ambiguous", test_lookup_ambiguous);
  g_test_add_func ("/store/lookup/not-found", test_lookup_not_found);
  g_test_add_func ("/store/lookup/no-key", test_lookup_no_key);
  g_test_add_func ("/store/password/encrypted-key", test_password_encrypted_key);
  g_test_add_func ("/store/password/pkcs12", test_password_pkcs12);
  g_test_add_func ("/store/password/cancel-and-wrong", test_password_cancel);
  g_test_add_func ("/store/password/reload-from-handler", test_password_reload_from_handler);
  g_test_add_func ("/store/keys/paired-by-file-name", test_key_pairing_by_name);
  g_test_add_func ("/store/reload", test_reload);
  g_test_add_func ("/store/uri/directory", test_uri_directory);
  g_test_add_func ("/store/uri/file", test_uri_file);
  g_test_add ("/store/handshake/by-fingerprint", Fixture, GINT_TO_POINTER (FALSE),
              fixture_setup, test_handshake_by_fingerprint, fixture_teardown);
  g_test_add ("/store/handshake/by-fingerprint-uri", Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup, test_handshake_by_fingerprint, fixture_teardown);

  return g_test_run ();
}
