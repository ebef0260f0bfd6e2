/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GSecSockSecureSocketContext: defaults, properties, and loading
 * certificates, keys and trust anchors (with their error paths). */
#define _GNU_SOURCE /* setsid() */
#include "test-utils.h"

#include <string.h>
#include <unistd.h>

static void
test_defaults_client (void)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);

  g_assert_cmpint (gsecsock_secure_socket_context_get_mode (ctx), ==, GSECSOCK_MODE_CLIENT);
  g_assert_true (gsecsock_secure_socket_context_get_use_system_trust (ctx));
  g_assert_true (gsecsock_secure_socket_context_get_verify_peer (ctx));
  g_assert_cmpint (gsecsock_secure_socket_context_get_min_protocol_version (ctx), ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  g_assert_cmpint (gsecsock_secure_socket_context_get_max_protocol_version (ctx), ==, GSECSOCK_PROTOCOL_VERSION_UNKNOWN);
  g_assert_null (gsecsock_secure_socket_context_get_alpn_protocols (ctx));
  g_assert_null (gsecsock_secure_socket_context_get_keylog_file (ctx));
  g_assert_false (gsecsock_secure_socket_context_get_use_sslkeylogfile (ctx));
}

static void
test_defaults_server (void)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  /* The mode-dependent default must hold for g_object_new() (bindings) too. */
  g_autoptr(GSecSockSecureSocketContext) ctx2 = g_object_new (GSECSOCK_TYPE_SECURE_SOCKET_CONTEXT,
                                                             "mode", GSECSOCK_MODE_SERVER,
                                                             NULL);

  g_assert_cmpint (gsecsock_secure_socket_context_get_mode (ctx), ==, GSECSOCK_MODE_SERVER);
  g_assert_false (gsecsock_secure_socket_context_get_verify_peer (ctx));
  g_assert_true (gsecsock_secure_socket_context_get_use_system_trust (ctx));
  g_assert_cmpint (gsecsock_secure_socket_context_get_min_protocol_version (ctx), ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  g_assert_cmpint (gsecsock_secure_socket_context_get_max_protocol_version (ctx), ==, GSECSOCK_PROTOCOL_VERSION_UNKNOWN);

  g_assert_cmpint (gsecsock_secure_socket_context_get_mode (ctx2), ==, GSECSOCK_MODE_SERVER);
  g_assert_false (gsecsock_secure_socket_context_get_verify_peer (ctx2));
}

static void
test_properties_gobject (void)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = g_object_new (GSECSOCK_TYPE_SECURE_SOCKET_CONTEXT,
                                                            "mode", GSECSOCK_MODE_CLIENT,
                                                            "use-system-trust", FALSE,
                                                            "verify-peer", FALSE,
                                                            "min-protocol-version", GSECSOCK_PROTOCOL_VERSION_TLS_1_3,
                                                            "max-protocol-version", GSECSOCK_PROTOCOL_VERSION_TLS_1_3,
                                                            NULL);
  const char *alpn[] = { "h2", "http/1.1", NULL };
  g_auto(GStrv) got_alpn = NULL;
  g_autofree char *keylog = NULL;
  GParamSpec *pspec;
  int mode, min, max;
  gboolean system_trust, verify, sslkeylogfile;

  g_object_set (ctx,
                "alpn-protocols", alpn,
                "keylog-file", "/nonexistent/keys.log",
                "use-sslkeylogfile", TRUE,
                NULL);
  g_object_get (ctx,
                "mode", &mode,
                "use-system-trust", &system_trust,
                "verify-peer", &verify,
                "min-protocol-version", &min,
                "max-protocol-version", &max,
                "alpn-protocols", &got_alpn,
                "keylog-file", &keylog,
                "use-sslkeylogfile", &sslkeylogfile,
                NULL);
  g_assert_cmpint (mode, ==, GSECSOCK_MODE_CLIENT);
  g_assert_false (system_trust);
  g_assert_false (verify);
  g_assert_cmpint (min, ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  g_assert_cmpint (max, ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  g_assert_cmpstrv (got_alpn, alpn);
  g_assert_cmpstr (keylog, ==, "/nonexistent/keys.log");
  g_assert_true (sslkeylogfile);

  /* The C getters agree with the properties. */
  g_assert_cmpstrv (gsecsock_secure_socket_context_get_alpn_protocols (ctx), alpn);
  g_assert_cmpstr (gsecsock_secure_socket_context_get_keylog_file (ctx), ==, "/nonexistent/keys.log");

  /* mode is construct-only; the others are read-write, with static strings
   * and explicit notification. */
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (ctx), "mode");
  g_assert_nonnull (pspec);
  g_assert_true (pspec->flags & G_PARAM_CONSTRUCT_ONLY);
  for (const char * const *name = (const char * const[]) { "use-system-trust", "verify-peer",
                                                           "min-protocol-version", "max-protocol-version",
                                                           "alpn-protocols", "keylog-file",
                                                           "use-sslkeylogfile", NULL };
       *name != NULL; name++)
    {
      pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (ctx), *name);
      g_assert_nonnull (pspec);
      g_assert_true ((pspec->flags & G_PARAM_READWRITE) == G_PARAM_READWRITE);
      g_assert_true (pspec->flags & G_PARAM_EXPLICIT_NOTIFY);
    }
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  GHashTable *counts = user_data;
  const char *name = g_intern_string (pspec->name);

  g_hash_table_insert (counts, (gpointer) name,
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, name)) + 1));
}

static guint
notify_count (GHashTable *counts,
              const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (counts, g_intern_string (name)));
}

static void
test_properties_notify (void)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  g_autoptr(GHashTable) counts = g_hash_table_new (NULL, NULL);
  const char *alpn[] = { "h2", NULL };
  const char *alpn_same[] = { "h2", NULL };

  g_signal_connect (ctx, "notify", G_CALLBACK (count_notify_cb), counts);

  gsecsock_secure_socket_context_set_use_system_trust (ctx, TRUE); /* default: no change */
  gsecsock_secure_socket_context_set_use_system_trust (ctx, FALSE);
  gsecsock_secure_socket_context_set_use_system_trust (ctx, FALSE);
  g_assert_cmpuint (notify_count (counts, "use-system-trust"), ==, 1);

  gsecsock_secure_socket_context_set_verify_peer (ctx, TRUE);
  gsecsock_secure_socket_context_set_verify_peer (ctx, FALSE);
  g_object_set (ctx, "verify-peer", FALSE, NULL);
  g_assert_cmpuint (notify_count (counts, "verify-peer"), ==, 1);

  gsecsock_secure_socket_context_set_min_protocol_version (ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  gsecsock_secure_socket_context_set_min_protocol_version (ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  g_assert_cmpuint (notify_count (counts, "min-protocol-version"), ==, 1);

  gsecsock_secure_socket_context_set_max_protocol_version (ctx, GSECSOCK_PROTOCOL_VERSION_UNKNOWN);
  gsecsock_secure_socket_context_set_max_protocol_version (ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  gsecsock_secure_socket_context_set_max_protocol_version (ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  g_assert_cmpuint (notify_count (counts, "max-protocol-version"), ==, 1);

  gsecsock_secure_socket_context_set_alpn_protocols (ctx, NULL);
  gsecsock_secure_socket_context_set_alpn_protocols (ctx, alpn);
  /* Equal contents in a different array: no change. */
  gsecsock_secure_socket_context_set_alpn_protocols (ctx, alpn_same);
  g_assert_cmpuint (notify_count (counts, "alpn-protocols"), ==, 1);

  gsecsock_secure_socket_context_set_keylog_file (ctx, NULL);
  gsecsock_secure_socket_context_set_keylog_file (ctx, "/tmp/a.log");
  gsecsock_secure_socket_context_set_keylog_file (ctx, "/tmp/a.log");
  gsecsock_secure_socket_context_set_keylog_file (ctx, NULL);
  g_assert_cmpuint (notify_count (counts, "keylog-file"), ==, 2);

  gsecsock_secure_socket_context_set_use_sslkeylogfile (ctx, FALSE);
  gsecsock_secure_socket_context_set_use_sslkeylogfile (ctx, TRUE);
  g_assert_cmpuint (notify_count (counts, "use-sslkeylogfile"), ==, 1);

  g_assert_cmpuint (notify_count (counts, "mode"), ==, 0);
}

static void
test_alpn_copied (void)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  char *protocols[] = { g_strdup ("h2"), g_strdup ("http/1.1"), NULL };
  const char * const expected[] = { "h2", "http/1.1", NULL };

  gsecsock_secure_socket_context_set_alpn_protocols (ctx, (const char * const *) protocols);
  /* The context keeps its own copy. */
  g_free (protocols[0]);
  protocols[0] = g_strdup ("XX");
  g_free (protocols[1]);
  protocols[1] = NULL;
  g_assert_cmpstrv (gsecsock_secure_socket_context_get_alpn_protocols (ctx), expected);
  g_free (protocols[0]);

  gsecsock_secure_socket_context_set_alpn_protocols (ctx, NULL);
  g_assert_null (gsecsock_secure_socket_context_get_alpn_protocols (ctx));
}

static void
test_certificate_load_ok (void)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GSecSockSecureSocketContext) ctx2 = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  g_autoptr(GError) error = NULL;

  g_assert_true (gsecsock_secure_socket_context_load_certificate_file (ctx, test_pki_path ("server-chain.pem"),
                                                                      test_pki_path ("server.key"), &error));
  g_assert_no_error (error);
  /* A leaf without its chain is loadable too, and a client certificate
   * goes into a client context. */
  g_assert_true (gsecsock_secure_socket_context_load_certificate_file (ctx, test_pki_path ("server.pem"),
                                                                      test_pki_path ("server.key"), &error));
  g_assert_no_error (error);
  g_assert_true (gsecsock_secure_socket_context_load_certificate_file (ctx2, test_pki_path ("client-chain.pem"),
                                                                      test_pki_path ("client.key"), &error));
  g_assert_no_error (error);
}

static void
test_certificate_load_combined (void)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GError) error = NULL;
  g_autofree char *chain = NULL;
  g_autofree char *key = NULL;
  g_autofree char *combined = NULL;
  g_autofree char *path = NULL;

  g_assert_true (g_file_get_contents (test_pki_path ("server-chain.pem"), &chain, NULL, &error));
  g_assert_true (g_file_get_contents (test_pki_path ("server.key"), &key, NULL, &error));
  g_assert_no_error (error);

  /* key_path NULL: the key is in the certificate file, here after it. */
  combined = g_strconcat (chain, key, NULL);
  path = test_write_tmp_file ("combined.pem", combined, -1);
  g_assert_true (gsecsock_secure_socket_context_load_certificate_file (ctx, path, NULL, &error));
  g_assert_no_error (error);

  /* And with the key first. */
  g_free (combined);
  g_free (path);
  combined = g_strconcat (key, chain, NULL);
  path = test_write_tmp_file ("combined-key-first.pem", combined, -1);
  g_assert_true (gsecsock_secure_socket_context_load_certificate_file (ctx, path, NULL, &error));
  g_assert_no_error (error);
}

static void
assert_load_fails (const char *cert_path,
                   const char *key_path,
                   int         code,
                   const char *path_in_message)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GError) error = NULL;

  g_assert_false (gsecsock_secure_socket_context_load_certificate_file (ctx, cert_path, key_path, &error));
  g_assert_error (error, GSECSOCK_ERROR, code);
  /* The message names the file that was wrong. */
  test_assert_message_contains (error, path_in_message);
  g_test_message ("error: %s", error->message);

  /* A failed load leaves no half-configured certificate behind: a server
   * socket still cannot be made. */
  {
    g_autoptr(GSocketConnection) client = NULL;
    g_autoptr(GSocketConnection) server = NULL;
    g_autoptr(GSecSockSecureSocket) sock = NULL;
    g_autoptr(GError) error2 = NULL;

    test_socket_pair ("127.0.0.1", &client, &server);
    sock = gsecsock_secure_socket_new (ctx, G_IO_STREAM (server), NULL, &error2);
    g_assert_null (sock);
    g_assert_error (error2, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  }
}

static void
test_certificate_missing_cert (void)
{
  g_autofree char *missing = test_tmp_path ("does-not-exist.pem");

  assert_load_fails (missing, test_pki_path ("server.key"), GSECSOCK_ERROR_BAD_CERTIFICATE_FILE, missing);
}

static void
test_certificate_garbage_cert (void)
{
  g_autofree char *garbage = test_write_tmp_file ("garbage.pem", "this is not a certificate\n", -1);
  g_autofree char *truncated = NULL;
  g_autofree char *pem = NULL;

  assert_load_fails (garbage, test_pki_path ("server.key"), GSECSOCK_ERROR_BAD_CERTIFICATE_FILE, garbage);

  /* A PEM block cut in the middle. */
  g_assert_true (g_file_get_contents (test_pki_path ("server.pem"), &pem, NULL, NULL));
  truncated = test_write_tmp_file ("truncated.pem", pem, strlen (pem) / 2);
  assert_load_fails (truncated, test_pki_path ("server.key"), GSECSOCK_ERROR_BAD_CERTIFICATE_FILE, truncated);

  /* A key where the certificate should be. */
  assert_load_fails (test_pki_path ("server.key"), test_pki_path ("server.key"),
                     GSECSOCK_ERROR_BAD_CERTIFICATE_FILE, test_pki_path ("server.key"));
}

static void
test_certificate_missing_key (void)
{
  g_autofree char *missing = test_tmp_path ("does-not-exist.key");

  assert_load_fails (test_pki_path ("server.pem"), missing, GSECSOCK_ERROR_BAD_KEY_FILE, missing);
}

static void
test_certificate_garbage_key (void)
{
  g_autofree char *garbage = test_write_tmp_file ("garbage.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", -1);

  assert_load_fails (test_pki_path ("server.pem"), garbage, GSECSOCK_ERROR_BAD_KEY_FILE, garbage);
  /* A certificate where the key should be. */
  assert_load_fails (test_pki_path ("server.pem"), test_pki_path ("ca.pem"),
                     GSECSOCK_ERROR_BAD_KEY_FILE, test_pki_path ("ca.pem"));
}

static void
test_certificate_no_key_in_cert_file (void)
{
  /* key_path NULL but the certificate file holds no key. */
  assert_load_fails (test_pki_path ("server-chain.pem"), NULL, GSECSOCK_ERROR_BAD_KEY_FILE,
                     test_pki_path ("server-chain.pem"));
}

static void
test_certificate_encrypted_key (void)
{
  if (g_test_subprocess ())
    {
      /* No controlling terminal: if OpenSSL's default passphrase callback
       * were used it would fall back to prompting on stderr, which the
       * parent checks. stdin is /dev/null, so nothing can hang. */
      (void) setsid ();
      /* With no password-requested handler, an encrypted key (PKCS#8 or
       * traditional PEM) fails with BAD_PASSWORD; test-password covers the
       * signal itself. */
      assert_load_fails (test_pki_path ("server.pem"), test_pki_path ("encrypted.key"),
                         GSECSOCK_ERROR_BAD_PASSWORD, test_pki_path ("encrypted.key"));
      assert_load_fails (test_pki_path ("server.pem"), test_pki_path ("encrypted-traditional.key"),
                         GSECSOCK_ERROR_BAD_PASSWORD, test_pki_path ("encrypted-traditional.key"));
      {
        g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
        g_autoptr(GError) error = NULL;

        g_assert_false (gsecsock_secure_socket_context_load_certificate_file (ctx, test_pki_path ("server.pem"),
                                                                             test_pki_path ("encrypted.key"), &error));
        g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD);
        test_assert_message_contains (error, "encrypted");
        test_assert_message_contains (error, "password-requested");
        g_clear_error (&error);

        /* Nor does a PKCS#12 file with a password prompt. */
        g_assert_false (gsecsock_secure_socket_context_load_pkcs12_file (ctx, test_pki_path ("server.p12"), &error));
        g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD);
      }
      return;
    }

  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr_unmatched ("*pass phrase*");
  g_test_trap_assert_stdout_unmatched ("*pass phrase*");
  g_test_trap_assert_stderr_unmatched ("*assword*");
}

static void
test_certificate_key_mismatch (void)
{
  assert_load_fails (test_pki_path ("server.pem"), test_pki_path ("client.key"),
                     GSECSOCK_ERROR_KEY_MISMATCH, test_pki_path ("client.key"));
  assert_load_fails (test_pki_path ("server-chain.pem"), test_pki_path ("intermediate.key"),
                     GSECSOCK_ERROR_KEY_MISMATCH, test_pki_path ("intermediate.key"));
}

static void
test_certificate_failed_load_keeps_previous (void)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = test_make_server_context ("server-chain.pem", "server.key");
  g_autoptr(GSecSockSecureSocketContext) client_ctx = test_make_client_context ();
  g_autoptr(GError) error = NULL;
  TestTlsPair pair;

  /* A failing load must not break the certificate already configured. */
  g_assert_false (gsecsock_secure_socket_context_load_certificate_file (ctx, test_pki_path ("server.pem"),
                                                                       test_pki_path ("client.key"), &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_KEY_MISMATCH);

  test_tls_pair_init (&pair, client_ctx, ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&pair));
  test_tls_pair_clear (&pair);
}

typedef struct {
  const char *name;
  const char *contents; /* NULL: missing file; "@file": a PKI file */
} TrustCase;

static const TrustCase trust_cases[] = {
  { "missing", NULL },
  { "garbage", "garbage\n\x01\x02\x03" },
  { "empty", "" },
  { "no-certificates", "@server.key" },
};

static void
test_trust_anchor_file_bad (gconstpointer data)
{
  const TrustCase *tc = data;
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (tc->contents == NULL)
    path = test_tmp_path ("missing-bundle.pem");
  else if (tc->contents[0] == '@')
    path = g_strdup (test_pki_path (tc->contents + 1));
  else
    path = test_write_tmp_file ("bundle.pem", tc->contents, -1);

  g_assert_false (gsecsock_secure_socket_context_add_trust_anchor_file (ctx, path, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  test_assert_message_contains (error, path);
}

static void
test_trust_anchor_file_ok (void)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  g_autoptr(GError) error = NULL;

  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (ctx, test_pki_path ("bundle.pem"), &error));
  g_assert_no_error (error);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (ctx, test_pki_path ("ca.pem"), &error));
  g_assert_no_error (error);
  /* Adding anchors does not change the system-trust setting. */
  g_assert_true (gsecsock_secure_socket_context_get_use_system_trust (ctx));
}

/* The registered types are what bindings see: names and nicks are API. */
static void
test_types_registered (void)
{
  g_autoptr(GEnumClass) mode = g_type_class_ref (GSECSOCK_TYPE_MODE);
  g_autoptr(GEnumClass) version = g_type_class_ref (GSECSOCK_TYPE_PROTOCOL_VERSION);
  g_autoptr(GFlagsClass) flags = g_type_class_ref (GSECSOCK_TYPE_CERTIFICATE_FLAGS);
  g_autoptr(GEnumClass) errors = g_type_class_ref (GSECSOCK_TYPE_ERROR);

  g_assert_cmpstr (g_type_name (GSECSOCK_TYPE_SECURE_SOCKET_CONTEXT), ==, "GSecSockSecureSocketContext");
  g_assert_cmpstr (g_type_name (GSECSOCK_TYPE_SECURE_SOCKET), ==, "GSecSockSecureSocket");
  g_assert_cmpstr (g_type_name (GSECSOCK_TYPE_CERTIFICATE), ==, "GSecSockCertificate");
  g_assert_true (g_type_is_a (GSECSOCK_TYPE_SECURE_SOCKET, G_TYPE_IO_STREAM));
  g_assert_true (G_TYPE_IS_FINAL (GSECSOCK_TYPE_SECURE_SOCKET));
  g_assert_true (G_TYPE_IS_FINAL (GSECSOCK_TYPE_SECURE_SOCKET_CONTEXT));
  g_assert_true (G_TYPE_IS_FINAL (GSECSOCK_TYPE_CERTIFICATE));

  g_assert_cmpstr (g_type_name (GSECSOCK_TYPE_MODE), ==, "GSecSockMode");
  g_assert_cmpstr (g_enum_get_value (mode, GSECSOCK_MODE_SERVER)->value_nick, ==, "server");
  g_assert_cmpstr (g_enum_get_value (version, GSECSOCK_PROTOCOL_VERSION_TLS_1_3)->value_nick, ==, "tls-1-3");
  g_assert_cmpint (g_enum_get_value_by_nick (version, "tls-1-2")->value, ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  g_assert_cmpstr (g_flags_get_first_value (flags, GSECSOCK_CERTIFICATE_EXPIRED)->value_nick, ==, "expired");
  g_assert_cmpuint (flags->mask, ==, (GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN << 1) - 1);
  g_assert_cmpstr (g_flags_get_first_value (flags, GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN)->value_nick, ==,
                   "revocation-unknown");
  g_assert_cmpstr (g_enum_get_value (errors, GSECSOCK_ERROR_NOT_TLS)->value_nick, ==, "not-tls");

  g_assert_cmpstr (g_quark_to_string (GSECSOCK_ERROR), ==, "gsecsock-error-quark");
  g_assert_cmpuint (gsecsock_error_quark (), ==, GSECSOCK_ERROR);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

  g_test_add_func ("/context/defaults/client", test_defaults_client);
  g_test_add_func ("/context/defaults/server", test_defaults_server);
  g_test_add_func ("/context/properties/gobject", test_properties_gobject);
  g_test_add_func ("/context/properties/notify", test_properties_notify);
  g_test_add_func ("/context/alpn/copied", test_alpn_copied);
  g_test_add_func ("/context/certificate/ok", test_certificate_load_ok);
  g_test_add_func ("/context/certificate/combined-file", test_certificate_load_combined);
  g_test_add_func ("/context/certificate/missing-cert", test_certificate_missing_cert);
  g_test_add_func ("/context/certificate/garbage-cert", test_certificate_garbage_cert);
  g_test_add_func ("/context/certificate/missing-key", test_certificate_missing_key);
  g_test_add_func ("/context/certificate/garbage-key", test_certificate_garbage_key);
  g_test_add_func ("/context/certificate/no-key-in-cert-file", test_certificate_no_key_in_cert_file);
  g_test_add_func ("/context/certificate/encrypted-key", test_certificate_encrypted_key);
  g_test_add_func ("/context/certificate/key-mismatch", test_certificate_key_mismatch);
  g_test_add_func ("/context/certificate/failed-load-keeps-previous", test_certificate_failed_load_keeps_previous);
  for (gsize i = 0; i < G_N_ELEMENTS (trust_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/context/trust-anchor-file/%s", trust_cases[i].name);
      g_test_add_data_func (path, &trust_cases[i], test_trust_anchor_file_bad);
    }
  g_test_add_func ("/context/trust-anchor-file/ok", test_trust_anchor_file_ok);
  g_test_add_func ("/context/types/registered", test_types_registered);

  return g_test_run ();
}
