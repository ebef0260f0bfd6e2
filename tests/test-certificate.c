/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of GSecSockCertificate against the PKI of tests/make-test-pki.sh,
 * cross-checked where possible with what the openssl CLI says about the
 * same files. */
#include <dlfcn.h>
#include <string.h>

#include <glib/gstdio.h>

#include "test-utils.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static GSecSockCertificate *
load (const char *name)
{
  g_autoptr(GError) error = NULL;
  GSecSockCertificate *cert;

  cert = gsecsock_certificate_new_from_file (test_pki_path (name), &error);
  g_assert_no_error (error);
  g_assert_true (GSECSOCK_IS_CERTIFICATE (cert));
  return cert;
}

static char *
read_pki_file (const char *name,
               gsize      *length)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (test_pki_path (name), &contents, length, &error);
  g_assert_no_error (error);
  return contents;
}

/* Runs `$OPENSSL x509 -in FILE -noout ARGS…` and returns the value after the
 * '=' of its single output line ("subject=CN=localhost" → "CN=localhost"). */
static char *
openssl_x509_field (const char *name,
                    ...)
{
  const char *openssl = g_getenv ("OPENSSL");
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *arg;
  const char *eq;
  int status = 0;
  va_list args;

  g_ptr_array_add (argv, (char *) (openssl != NULL ? openssl : "openssl"));
  g_ptr_array_add (argv, (char *) "x509");
  g_ptr_array_add (argv, (char *) "-in");
  g_ptr_array_add (argv, (char *) test_pki_path (name));
  g_ptr_array_add (argv, (char *) "-noout");
  va_start (args, name);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH,
                NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("openssl failed: %s\n%s", error->message, err);

  g_strchomp (out);
  g_assert_null (strchr (out, '\n'));
  eq = strchr (out, '=');
  g_assert_nonnull (eq);
  return g_strdup (eq + 1);
}

static GDateTime *
openssl_x509_date (const char *name,
                   const char *which)
{
  g_autofree char *text = openssl_x509_field (name, "-dateopt", "iso_8601", which, NULL);
  char *space = strchr (text, ' ');
  GDateTime *date;

  /* "2026-11-21 05:04:01Z" → ISO 8601 proper */
  g_assert_nonnull (space);
  *space = 'T';
  date = g_date_time_new_from_iso8601 (text, NULL);
  g_assert_nonnull (date);
  return date;
}

static void
assert_date (GDateTime *date,
             int        year,
             int        month,
             int        day)
{
  g_assert_nonnull (date);
  g_assert_cmpint (g_date_time_get_utc_offset (date), ==, 0);
  g_assert_cmpint (g_date_time_get_year (date), ==, year);
  g_assert_cmpint (g_date_time_get_month (date), ==, month);
  g_assert_cmpint (g_date_time_get_day_of_month (date), ==, day);
  g_assert_cmpint (g_date_time_get_hour (date), ==, 0);
  g_assert_cmpint (g_date_time_get_minute (date), ==, 0);
  g_assert_cmpint (g_date_time_get_second (date), ==, 0);
}

/* OpenSSL's error queue is per thread and shared with every TLS operation:
 * a failed load must leave it empty. The test is not linked with libcrypto
 * itself, so the function is looked up in the already loaded library. */
static gpointer libcrypto_symbol (const char *name);

static void
assert_openssl_error_queue_empty (void)
{
  unsigned long (*peek_error) (void);

  *(gpointer *) &peek_error = libcrypto_symbol ("ERR_peek_error");
  g_assert_cmpuint (peek_error (), ==, 0);
}

static gpointer
libcrypto_symbol (const char *name)
{
  gpointer symbol = dlsym (RTLD_DEFAULT, name);

  g_assert_nonnull (symbol);
  return symbol;
}

typedef struct {
  char *dir;
} TmpFixture;

static void
tmp_setup (TmpFixture    *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("gsecsock-test-certificate-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
tmp_teardown (TmpFixture    *fixture,
              gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (fixture->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fixture->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (fixture->dir);
  g_free (fixture->dir);
}

static const char *
tmp_write (TmpFixture *fixture,
           const char *name,
           const void *data,
           gssize      length)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (fixture->dir, name, NULL);

  g_file_set_contents (path, data, length, &error);
  g_assert_no_error (error);
  return g_intern_string (path);
}

/* Loading @path fails, with new_from_file() and list_new_from_file() alike,
 * with a bad-certificate error whose message names the file and contains
 * @fragment. */
static void
assert_bad_certificate_file (const char *path,
                             const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockCertificate) cert = NULL;
  GList *list;

  cert = gsecsock_certificate_new_from_file (path, &error);
  g_assert_null (cert);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  if (fragment != NULL)
    g_assert_nonnull (strstr (error->message, fragment));
  assert_openssl_error_queue_empty ();
  g_clear_error (&error);

  list = gsecsock_certificate_list_new_from_file (path, &error);
  g_assert_null (list);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  g_assert_nonnull (strstr (error->message, path));
  if (fragment != NULL)
    g_assert_nonnull (strstr (error->message, fragment));
  assert_openssl_error_queue_empty ();
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */

static const char * const all_certs[] = {
  "ca.pem", "intermediate.pem", "server.pem", "client.pem", "expired.pem",
  "notyet.pem", "wronghost.pem", "selfsigned.pem", "untrusted-ca.pem",
  "untrusted.pem",
};

static void
test_subject_issuer (void)
{
  static const struct {
    const char *file;
    const char *subject;
    const char *issuer;
  } expected[] = {
    { "ca.pem", "CN=gsecsock Test Root CA", "CN=gsecsock Test Root CA" },
    { "intermediate.pem", "CN=gsecsock Test Intermediate CA", "CN=gsecsock Test Root CA" },
    { "server.pem", "CN=localhost", "CN=gsecsock Test Intermediate CA" },
    { "client.pem", "CN=gsecsock test client", "CN=gsecsock Test Intermediate CA" },
    { "wronghost.pem", "CN=wrong.example", "CN=gsecsock Test Intermediate CA" },
    { "selfsigned.pem", "CN=localhost", "CN=localhost" },
    { "untrusted.pem", "CN=localhost", "CN=gsecsock Untrusted CA" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(GSecSockCertificate) cert = load (expected[i].file);
      g_autofree char *subject = gsecsock_certificate_get_subject (cert);
      g_autofree char *issuer = gsecsock_certificate_get_issuer (cert);

      g_assert_cmpstr (subject, ==, expected[i].subject);
      g_assert_cmpstr (issuer, ==, expected[i].issuer);
    }

  /* And for every certificate, what the CLI prints in the same form. */
  for (gsize i = 0; i < G_N_ELEMENTS (all_certs); i++)
    {
      g_autoptr(GSecSockCertificate) cert = load (all_certs[i]);
      g_autofree char *subject = gsecsock_certificate_get_subject (cert);
      g_autofree char *issuer = gsecsock_certificate_get_issuer (cert);
      g_autofree char *cli_subject = openssl_x509_field (all_certs[i], "-nameopt", "RFC2253", "-subject", NULL);
      g_autofree char *cli_issuer = openssl_x509_field (all_certs[i], "-nameopt", "RFC2253", "-issuer", NULL);

      g_assert_cmpstr (subject, ==, cli_subject);
      g_assert_cmpstr (issuer, ==, cli_issuer);
    }
}

static void
test_serial_number (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (all_certs); i++)
    {
      g_autoptr(GSecSockCertificate) cert = load (all_certs[i]);
      g_autofree char *serial = gsecsock_certificate_get_serial_number (cert);
      g_autofree char *cli_serial = openssl_x509_field (all_certs[i], "-serial", NULL);

      g_assert_cmpstr (serial, ==, cli_serial);
      g_assert_cmpuint (strlen (serial) % 2, ==, 0);
      g_assert_cmpuint (strspn (serial, "0123456789ABCDEF"), ==, strlen (serial));
      /* The script gives every certificate a random serial number. */
      g_assert_true (g_hash_table_add (seen, g_steal_pointer (&serial)));
    }
}

static void
test_fingerprints (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (all_certs); i++)
    {
      g_autoptr(GSecSockCertificate) cert = load (all_certs[i]);
      const char *sha256 = gsecsock_certificate_get_fingerprint_sha256 (cert);
      const char *sha1 = gsecsock_certificate_get_fingerprint_sha1 (cert);
      g_autofree char *cli_sha256 = openssl_x509_field (all_certs[i], "-fingerprint", "-sha256", NULL);
      g_autofree char *cli_sha1 = openssl_x509_field (all_certs[i], "-fingerprint", "-sha1", NULL);
      g_autofree char *cli_sha256_lower = g_ascii_strdown (cli_sha256, -1);
      g_autofree char *cli_sha1_lower = g_ascii_strdown (cli_sha1, -1);

      g_assert_cmpstr (sha256, ==, cli_sha256_lower);
      g_assert_cmpstr (sha1, ==, cli_sha1_lower);
      g_assert_cmpuint (strlen (sha256), ==, 32 * 3 - 1);
      g_assert_cmpuint (strlen (sha1), ==, 20 * 3 - 1);

      /* Computed once: the same string every time. */
      g_assert_true (gsecsock_certificate_get_fingerprint_sha256 (cert) == sha256);
      g_assert_true (gsecsock_certificate_get_fingerprint_sha1 (cert) == sha1);
    }

  /* And they tell certificates apart. */
  {
    g_autoptr(GSecSockCertificate) server = load ("server.pem");
    g_autoptr(GSecSockCertificate) untrusted = load ("untrusted.pem");

    g_assert_cmpstr (gsecsock_certificate_get_fingerprint_sha256 (server), !=,
                     gsecsock_certificate_get_fingerprint_sha256 (untrusted));
  }
}

static void
test_dates (void)
{
  g_autoptr(GSecSockCertificate) expired = load ("expired.pem");
  g_autoptr(GSecSockCertificate) notyet = load ("notyet.pem");
  g_autoptr(GSecSockCertificate) server = load ("server.pem");
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) before = NULL;
  g_autoptr(GDateTime) after = NULL;
  g_autoptr(GDateTime) cli_before = NULL;
  g_autoptr(GDateTime) cli_after = NULL;

  before = gsecsock_certificate_get_not_valid_before (expired);
  after = gsecsock_certificate_get_not_valid_after (expired);
  assert_date (before, 2020, 1, 1);
  assert_date (after, 2021, 1, 1);
  g_clear_pointer (&before, g_date_time_unref);
  g_clear_pointer (&after, g_date_time_unref);

  before = gsecsock_certificate_get_not_valid_before (notyet);
  after = gsecsock_certificate_get_not_valid_after (notyet);
  assert_date (before, 2040, 1, 1);
  assert_date (after, 2045, 1, 1);
  g_assert_cmpint (g_date_time_compare (before, now), >, 0);
  g_clear_pointer (&before, g_date_time_unref);
  g_clear_pointer (&after, g_date_time_unref);

  /* The server certificate is valid now, to the second what the CLI says. */
  before = gsecsock_certificate_get_not_valid_before (server);
  after = gsecsock_certificate_get_not_valid_after (server);
  cli_before = openssl_x509_date ("server.pem", "-startdate");
  cli_after = openssl_x509_date ("server.pem", "-enddate");
  g_assert_true (g_date_time_equal (before, cli_before));
  g_assert_true (g_date_time_equal (after, cli_after));
  g_assert_cmpint (g_date_time_get_utc_offset (before), ==, 0);
  g_assert_cmpint (g_date_time_compare (before, now), <=, 0);
  g_assert_cmpint (g_date_time_compare (now, after), <, 0);
}

static void
test_subject_alt_names (void)
{
  static const char * const server_dns[] = { "localhost", NULL };
  static const char * const server_ips[] = { "127.0.0.1", "::1", NULL };
  static const char * const wronghost_dns[] = { "wrong.example", NULL };
  static const char * const none[] = { NULL };
  static const struct {
    const char *file;
    const char * const *dns;
    const char * const *ips;
  } expected[] = {
    { "server.pem", server_dns, server_ips },
    { "expired.pem", server_dns, server_ips },
    { "selfsigned.pem", server_dns, server_ips },
    { "wronghost.pem", wronghost_dns, none },
    { "client.pem", none, none },
    { "ca.pem", none, none },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(GSecSockCertificate) cert = load (expected[i].file);
      g_auto(GStrv) dns = gsecsock_certificate_get_dns_names (cert);
      g_auto(GStrv) ips = gsecsock_certificate_get_ip_addresses (cert);

      /* Never NULL, so callers can iterate without checking. */
      g_assert_nonnull (dns);
      g_assert_nonnull (ips);
      g_assert_cmpstrv (dns, expected[i].dns);
      g_assert_cmpstrv (ips, expected[i].ips);
    }
}

static void
test_is_ca (void)
{
  static const struct {
    const char *file;
    gboolean is_ca;
  } expected[] = {
    { "ca.pem", TRUE },
    { "intermediate.pem", TRUE },
    { "untrusted-ca.pem", TRUE },
    { "server.pem", FALSE },
    { "client.pem", FALSE },
    { "expired.pem", FALSE },
    { "selfsigned.pem", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(GSecSockCertificate) cert = load (expected[i].file);

      g_assert_cmpint (gsecsock_certificate_get_is_ca (cert), ==, expected[i].is_ca);
    }
}

static void
test_der (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockCertificate) from_pem = load ("server.pem");
  g_autoptr(GSecSockCertificate) from_der_file = load ("server.der");
  g_autoptr(GSecSockCertificate) from_der = NULL;
  g_autoptr(GBytes) der = NULL;
  g_autoptr(GBytes) der_again = NULL;
  g_autoptr(GBytes) file_bytes = NULL;
  g_autofree char *file = NULL;
  gsize file_len = 0;

  /* The DER file is detected as such and is the same certificate. */
  g_assert_true (gsecsock_certificate_equal (from_pem, from_der_file));

  /* get_der() gives exactly the bytes openssl wrote. */
  file = read_pki_file ("server.der", &file_len);
  file_bytes = g_bytes_new (file, file_len);
  der = gsecsock_certificate_get_der (from_pem);
  g_assert_true (g_bytes_equal (der, file_bytes));

  from_der = gsecsock_certificate_new_from_der (der, &error);
  g_assert_no_error (error);
  g_assert_true (gsecsock_certificate_equal (from_der, from_pem));
  g_assert_cmpstr (gsecsock_certificate_get_fingerprint_sha256 (from_der), ==,
                   gsecsock_certificate_get_fingerprint_sha256 (from_pem));
  der_again = gsecsock_certificate_get_der (from_der);
  g_assert_true (g_bytes_equal (der, der_again));
}

static void
test_pem (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockCertificate) cert = load ("server.pem");
  g_autoptr(GSecSockCertificate) again = NULL;
  g_autoptr(GSecSockCertificate) with_key = NULL;
  g_autoptr(GSecSockCertificate) crlf_cert = NULL;
  g_autoptr(GString) crlf = NULL;
  g_autofree char *file = NULL;
  g_autofree char *pem = NULL;
  g_autofree char *key = NULL;
  g_autofree char *key_then_cert = NULL;
  g_autofree char *unterminated = NULL;
  gsize file_len = 0;

  /* get_pem() writes what `openssl x509` wrote, byte for byte. */
  file = read_pki_file ("server.pem", &file_len);
  pem = gsecsock_certificate_get_pem (cert);
  g_assert_cmpstr (pem, ==, file);

  again = gsecsock_certificate_new_from_pem (pem, -1, &error);
  g_assert_no_error (error);
  g_assert_true (gsecsock_certificate_equal (again, cert));
  g_clear_object (&again);

  /* An explicit length: the data need not be NUL-terminated. */
  unterminated = g_malloc (file_len);
  memcpy (unterminated, file, file_len);
  again = gsecsock_certificate_new_from_pem (unterminated, (gssize) file_len, &error);
  g_assert_no_error (error);
  g_assert_true (gsecsock_certificate_equal (again, cert));

  /* A key block before the certificate is skipped. */
  key = read_pki_file ("server.key", NULL);
  key_then_cert = g_strconcat (key, file, NULL);
  with_key = gsecsock_certificate_new_from_pem (key_then_cert, -1, &error);
  g_assert_no_error (error);
  g_assert_true (gsecsock_certificate_equal (with_key, cert));

  /* CRLF line ends (a file edited on Windows) are fine. */
  crlf = g_string_new (file);
  g_string_replace (crlf, "\n", "\r\n", 0);
  crlf_cert = gsecsock_certificate_new_from_pem (crlf->str, crlf->len, &error);
  g_assert_no_error (error);
  g_assert_true (gsecsock_certificate_equal (crlf_cert, cert));
}

static void
assert_list_matches (GList              *list,
                     const char * const *files)
{
  guint n = g_strv_length ((GStrv) files);

  g_assert_cmpuint (g_list_length (list), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GSecSockCertificate) expected = load (files[i]);
      GSecSockCertificate *cert = g_list_nth_data (list, i);

      g_assert_true (GSECSOCK_IS_CERTIFICATE (cert));
      g_assert_true (gsecsock_certificate_equal (cert, expected));
    }
}

static void
test_list (void)
{
  static const char * const bundle[] = { "ca.pem", "intermediate.pem", NULL };
  static const char * const server_chain[] = { "server.pem", "intermediate.pem", NULL };
  static const char * const untrusted_chain[] = { "untrusted.pem", "untrusted-ca.pem", NULL };
  static const char * const single[] = { "server.pem", NULL };
  static const struct {
    const char *file;
    const char * const *expected;
  } cases[] = {
    { "bundle.pem", bundle },
    { "server-chain.pem", server_chain },
    { "untrusted-chain.pem", untrusted_chain },
    { "server.pem", single },
    { "server.der", single },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      GList *list = gsecsock_certificate_list_new_from_file (test_pki_path (cases[i].file), &error);

      g_assert_no_error (error);
      assert_list_matches (list, cases[i].expected);
      g_list_free_full (list, g_object_unref);
    }

  /* new_from_file() on a bundle takes its first certificate. */
  {
    g_autoptr(GSecSockCertificate) first = load ("bundle.pem");
    g_autoptr(GSecSockCertificate) ca = load ("ca.pem");

    g_assert_true (gsecsock_certificate_equal (first, ca));
  }
}

static void
test_equal (void)
{
  g_autoptr(GSecSockCertificate) server = load ("server.pem");
  g_autoptr(GSecSockCertificate) server2 = load ("server.pem");
  g_autoptr(GSecSockCertificate) client = load ("client.pem");
  g_autoptr(GSecSockCertificate) untrusted = load ("untrusted.pem");

  g_assert_true (server != server2);
  g_assert_true (gsecsock_certificate_equal (server, server));
  g_assert_true (gsecsock_certificate_equal (server, server2));
  g_assert_true (gsecsock_certificate_equal (server2, server));
  g_assert_false (gsecsock_certificate_equal (server, client));
  /* Same subject and SAN, different certificate. */
  g_assert_false (gsecsock_certificate_equal (server, untrusted));
}

static void
test_properties (void)
{
  g_autoptr(GSecSockCertificate) cert = load ("server.pem");
  g_autofree char *subject = NULL, *issuer = NULL, *serial = NULL;
  g_autofree char *sha256 = NULL, *sha1 = NULL;
  g_autofree char *get_subject = gsecsock_certificate_get_subject (cert);
  g_autofree char *get_issuer = gsecsock_certificate_get_issuer (cert);
  g_autofree char *get_serial = gsecsock_certificate_get_serial_number (cert);
  g_autoptr(GDateTime) before = NULL, after = NULL;
  g_autoptr(GDateTime) get_before = gsecsock_certificate_get_not_valid_before (cert);
  g_autoptr(GDateTime) get_after = gsecsock_certificate_get_not_valid_after (cert);
  g_auto(GStrv) dns = NULL, ips = NULL;
  g_auto(GStrv) get_dns = gsecsock_certificate_get_dns_names (cert);
  g_auto(GStrv) get_ips = gsecsock_certificate_get_ip_addresses (cert);
  gboolean is_ca = TRUE;
  static const char * const names[] = {
    "subject", "issuer", "serial-number", "not-valid-before", "not-valid-after",
    "fingerprint-sha256", "fingerprint-sha1", "dns-names", "ip-addresses", "is-ca",
  };

  g_object_get (cert,
                "subject", &subject,
                "issuer", &issuer,
                "serial-number", &serial,
                "not-valid-before", &before,
                "not-valid-after", &after,
                "fingerprint-sha256", &sha256,
                "fingerprint-sha1", &sha1,
                "dns-names", &dns,
                "ip-addresses", &ips,
                "is-ca", &is_ca,
                NULL);

  g_assert_cmpstr (subject, ==, get_subject);
  g_assert_cmpstr (issuer, ==, get_issuer);
  g_assert_cmpstr (serial, ==, get_serial);
  g_assert_true (g_date_time_equal (before, get_before));
  g_assert_true (g_date_time_equal (after, get_after));
  g_assert_cmpstr (sha256, ==, gsecsock_certificate_get_fingerprint_sha256 (cert));
  g_assert_cmpstr (sha1, ==, gsecsock_certificate_get_fingerprint_sha1 (cert));
  g_assert_cmpstrv (dns, get_dns);
  g_assert_cmpstrv (ips, get_ips);
  g_assert_false (is_ca);

  /* The object is immutable: every property is read-only. */
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (cert), names[i]);

      g_assert_nonnull (pspec);
      g_assert_true (pspec->flags & G_PARAM_READABLE);
      g_assert_false (pspec->flags & G_PARAM_WRITABLE);
    }
}

static void
test_empty_instance (void)
{
  g_autoptr(GSecSockCertificate) cert = g_object_new (GSECSOCK_TYPE_CERTIFICATE, NULL);
  g_autofree char *subject = NULL;
  g_autofree char *via_getter = NULL;

  /* Reading properties of an instance made without a constructor is
   * harmless (bindings may list them)… */
  g_object_get (cert, "subject", &subject, NULL);
  g_assert_null (subject);

  /* …but the methods refuse it loudly. */
  g_test_expect_message ("GSecSock", G_LOG_LEVEL_CRITICAL, "*x509 != NULL*");
  via_getter = gsecsock_certificate_get_subject (cert);
  g_test_assert_expected_messages ();
  g_assert_null (via_getter);
}

static void
test_error_missing (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockCertificate) cert = NULL;
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "gsecsock-no-such-dir", "missing.pem", NULL);
  GList *list;

  cert = gsecsock_certificate_new_from_file (path, &error);
  g_assert_null (cert);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);

  list = gsecsock_certificate_list_new_from_file (path, &error);
  g_assert_null (list);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);

  /* A directory is not a certificate file either. */
  {
    g_autofree char *dir = g_path_get_dirname (test_pki_path ("server.pem"));

    g_clear_object (&cert);
    cert = gsecsock_certificate_new_from_file (dir, &error);
    g_assert_null (cert);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY);
  }
}

static void
test_error_garbage (TmpFixture    *fixture,
                    gconstpointer  data)
{
  static const char text[] = "This is not a certificate.\nNot even close.\n";
  static const guint8 binary[] = { 0x00, 0xff, 0x13, 0x37, 0x42, 0x80 };

  assert_bad_certificate_file (tmp_write (fixture, "text.pem", text, -1),
                               "holds no PEM or DER certificate");
  assert_bad_certificate_file (tmp_write (fixture, "binary.der", binary, sizeof binary),
                               "holds no PEM or DER certificate");
  /* Starts like DER (a SEQUENCE), but is not a certificate. */
  assert_bad_certificate_file (tmp_write (fixture, "sequence.der", "\x30\x03\x02\x01\x05", 5),
                               "not a valid DER certificate");
}

static void
test_error_empty_pem (TmpFixture    *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockCertificate) cert = NULL;

  /* An empty file. */
  assert_bad_certificate_file (tmp_write (fixture, "empty.pem", "", 0), "empty");

  /* PEM, but no certificate in it: the message says what is there. */
  assert_bad_certificate_file (test_pki_path ("server.key"), "PRIVATE KEY");
  assert_bad_certificate_file (test_pki_path ("encrypted.key"), "ENCRYPTED PRIVATE KEY");

  /* The same through new_from_pem(). */
  cert = gsecsock_certificate_new_from_pem ("", -1, &error);
  g_assert_null (cert);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  g_clear_error (&error);

  cert = gsecsock_certificate_new_from_pem ("-----BEGIN NOTHING-----\n-----END NOTHING-----\n", -1, &error);
  g_assert_null (cert);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  g_clear_error (&error);

  /* Only the first @length bytes count, even if a certificate follows. */
  {
    g_autofree char *pem = read_pki_file ("server.pem", NULL);
    g_autofree char *text = g_strconcat ("junk\n", pem, NULL);

    cert = gsecsock_certificate_new_from_pem (text, 5, &error);
    g_assert_null (cert);
    g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
    g_clear_error (&error);
  }

  assert_openssl_error_queue_empty ();
}

static void
test_error_truncated_der (TmpFixture    *fixture,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockCertificate) cert = NULL;
  g_autoptr(GBytes) truncated = NULL;
  g_autoptr(GBytes) trailing = NULL;
  g_autoptr(GBytes) empty = NULL;
  g_autofree char *der = NULL;
  g_autofree char *longer = NULL;
  gsize der_len = 0;

  der = read_pki_file ("server.der", &der_len);
  g_assert_cmpuint (der_len, >, 100);

  assert_bad_certificate_file (tmp_write (fixture, "half.der", der, der_len / 2), "truncated");
  assert_bad_certificate_file (tmp_write (fixture, "minus-one.der", der, der_len - 1), "truncated");

  truncated = g_bytes_new (der, der_len / 2);
  cert = gsecsock_certificate_new_from_der (truncated, &error);
  g_assert_null (cert);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  g_assert_nonnull (strstr (error->message, "truncated"));
  g_clear_error (&error);
  assert_openssl_error_queue_empty ();

  /* One certificate and nothing else: trailing bytes mean corruption. */
  longer = g_malloc (der_len + 1);
  memcpy (longer, der, der_len);
  longer[der_len] = '\n';
  trailing = g_bytes_new (longer, der_len + 1);
  cert = gsecsock_certificate_new_from_der (trailing, &error);
  g_assert_null (cert);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  g_assert_nonnull (strstr (error->message, "1 unexpected byte"));
  g_clear_error (&error);
  assert_bad_certificate_file (tmp_write (fixture, "trailing.der", longer, der_len + 1),
                               "unexpected byte");

  empty = g_bytes_new (NULL, 0);
  cert = gsecsock_certificate_new_from_der (empty, &error);
  g_assert_null (cert);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
}

static void
test_error_corrupt_pem (TmpFixture    *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockCertificate) cert = NULL;
  g_autofree char *ca = read_pki_file ("ca.pem", NULL);
  g_autofree char *intermediate = read_pki_file ("intermediate.pem", NULL);
  g_autofree char *corrupt = g_strdup (intermediate);
  g_autofree char *bundle = NULL;
  const char *path;
  char *body;
  GList *list;

  /* Damage the base64 body of a certificate block. */
  body = strchr (corrupt, '\n') + 1;
  memcpy (body, "!!!!", 4);

  assert_bad_certificate_file (tmp_write (fixture, "corrupt.pem", corrupt, -1),
                               "invalid PEM certificate");

  cert = gsecsock_certificate_new_from_pem (corrupt, -1, &error);
  g_assert_null (cert);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  g_clear_error (&error);
  assert_openssl_error_queue_empty ();

  /* A bundle with a bad second certificate is refused as a whole, and the
   * message says which one is bad; new_from_file() only needs the first. */
  bundle = g_strconcat (ca, corrupt, NULL);
  path = tmp_write (fixture, "bundle.pem", bundle, -1);
  list = gsecsock_certificate_list_new_from_file (path, &error);
  g_assert_null (list);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "Certificate 2"));
  g_clear_error (&error);
  assert_openssl_error_queue_empty ();

  cert = gsecsock_certificate_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cert);
  assert_openssl_error_queue_empty ();
}

/* The getters may run in the middle of a TLS operation (a verify callback
 * wraps the peer's chain): they must leave errors that OpenSSL had already
 * queued where they are, and add none of their own. */
static void
test_error_queue_preserved (void)
{
  g_autoptr(GSecSockCertificate) cert = load ("server.pem");
  g_autoptr(GSecSockCertificate) copy = NULL;
  g_autoptr(GBytes) der = NULL;
  g_autoptr(GDateTime) before = NULL;
  g_auto(GStrv) dns = NULL;
  g_auto(GStrv) ips = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *serial = NULL;
  void (*err_new) (void);
  void (*err_set_error) (int lib, int reason, const char *fmt, ...);
  unsigned long (*peek_error) (void);
  unsigned long (*peek_last_error) (void);
  void (*clear_error) (void);
  unsigned long queued;

  *(gpointer *) &err_new = libcrypto_symbol ("ERR_new");
  *(gpointer *) &err_set_error = libcrypto_symbol ("ERR_set_error");
  *(gpointer *) &peek_error = libcrypto_symbol ("ERR_peek_error");
  *(gpointer *) &peek_last_error = libcrypto_symbol ("ERR_peek_last_error");
  *(gpointer *) &clear_error = libcrypto_symbol ("ERR_clear_error");

  clear_error ();
  err_new ();
  err_set_error (2 /* ERR_LIB_SYS */, 5 /* EIO */, NULL);
  queued = peek_error ();
  g_assert_cmpuint (queued, !=, 0);

  subject = gsecsock_certificate_get_subject (cert);
  serial = gsecsock_certificate_get_serial_number (cert);
  before = gsecsock_certificate_get_not_valid_before (cert);
  dns = gsecsock_certificate_get_dns_names (cert);
  ips = gsecsock_certificate_get_ip_addresses (cert);
  g_assert_false (gsecsock_certificate_get_is_ca (cert));
  der = gsecsock_certificate_get_der (cert);
  g_free (gsecsock_certificate_get_pem (cert));

  g_assert_cmpuint (peek_error (), ==, queued);
  g_assert_cmpuint (peek_last_error (), ==, queued);
  clear_error ();

  /* The constructors, which report errors of their own, start afresh and
   * leave the queue empty, whether they succeed or fail. */
  copy = gsecsock_certificate_new_from_der (der, NULL);
  g_assert_nonnull (copy);
  assert_openssl_error_queue_empty ();
}

/* Certificates are immutable and shared between threads (a peer's chain is
 * read from the main thread while a worker verifies): concurrent readers
 * must all see the same values. */
static gpointer
read_everything (gpointer data)
{
  GSecSockCertificate *cert = data;
  const char *expected = gsecsock_certificate_get_fingerprint_sha256 (cert);

  for (int i = 0; i < 200; i++)
    {
      g_autofree char *subject = gsecsock_certificate_get_subject (cert);
      g_auto(GStrv) ips = gsecsock_certificate_get_ip_addresses (cert);
      g_autoptr(GDateTime) after = gsecsock_certificate_get_not_valid_after (cert);

      if (g_strcmp0 (subject, "CN=localhost") != 0 || g_strv_length (ips) != 2 ||
          after == NULL || gsecsock_certificate_get_is_ca (cert) ||
          g_strcmp0 (gsecsock_certificate_get_fingerprint_sha256 (cert), expected) != 0)
        return GINT_TO_POINTER (FALSE);
    }
  return GINT_TO_POINTER (TRUE);
}

static void
test_threads (void)
{
  g_autoptr(GSecSockCertificate) cert = load ("server.pem");
  GThread *threads[4];

  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("reader", read_everything, cert);
  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_true (GPOINTER_TO_INT (g_thread_join (threads[i])));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/certificate/subject-issuer", test_subject_issuer);
  g_test_add_func ("/certificate/serial-number", test_serial_number);
  g_test_add_func ("/certificate/fingerprints", test_fingerprints);
  g_test_add_func ("/certificate/dates", test_dates);
  g_test_add_func ("/certificate/subject-alt-names", test_subject_alt_names);
  g_test_add_func ("/certificate/is-ca", test_is_ca);
  g_test_add_func ("/certificate/der", test_der);
  g_test_add_func ("/certificate/pem", test_pem);
  g_test_add_func ("/certificate/list", test_list);
  g_test_add_func ("/certificate/equal", test_equal);
  g_test_add_func ("/certificate/properties", test_properties);
  g_test_add_func ("/certificate/empty-instance", test_empty_instance);
  g_test_add_func ("/certificate/threads", test_threads);
  g_test_add_func ("/certificate/error-queue-preserved", test_error_queue_preserved);
  g_test_add_func ("/certificate/error/missing", test_error_missing);
  g_test_add ("/certificate/error/garbage", TmpFixture, NULL,
              tmp_setup, test_error_garbage, tmp_teardown);
  g_test_add ("/certificate/error/empty-pem", TmpFixture, NULL,
              tmp_setup, test_error_empty_pem, tmp_teardown);
  g_test_add ("/certificate/error/truncated-der", TmpFixture, NULL,
              tmp_setup, test_error_truncated_der, tmp_teardown);
  g_test_add ("/certificate/error/corrupt-pem", TmpFixture, NULL,
              tmp_setup, test_error_corrupt_pem, tmp_teardown);

  return g_test_run ();
}
