/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Protocol selection (min/max and the protocols flags, SSL 2.0/3.0 and TLS
 * 1.0/1.1 refused with reasons, the security level), cipher lists, TLS 1.3
 * cipher suites and key exchange groups: validated when set, and effective
 * in real handshakes (over loopback, and against `openssl s_server`). */
#define _GNU_SOURCE
#include "test-utils.h"

#include <string.h>

typedef struct {
  TestEnv env;
  TestTlsPair pair;
  GSubprocess *proc;
  GString *proc_output;
  gboolean output_done;
  GDataInputStream *proc_lines;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_env_setup (&f->env, "server-chain.pem", "server.key");
  f->proc_output = g_string_new (NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  test_tls_pair_clear (&f->pair);
  if (f->proc != NULL)
    {
      g_subprocess_force_exit (f->proc);
      g_subprocess_wait (f->proc, NULL, NULL);
      g_clear_object (&f->proc);
    }
  g_clear_object (&f->proc_lines);
  g_string_free (f->proc_output, TRUE);
  test_env_teardown (&f->env);
}

/* Counts notify:: emissions. */
static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* A handshake over loopback between the fixture's contexts (or others). */
static gboolean
handshake (Fixture                     *f,
           GSecSockSecureSocketContext *client_ctx,
           GSecSockSecureSocketContext *server_ctx)
{
  test_tls_pair_clear (&f->pair);
  test_tls_pair_init (&f->pair, client_ctx ? client_ctx : f->env.client_ctx,
                      server_ctx ? server_ctx : f->env.server_ctx, "127.0.0.1", "localhost");
  return test_tls_pair_handshake_async (&f->pair);
}

static void
assert_data_flows (Fixture *f)
{
  char buf[5] = { 0 };

  test_write_all (G_IO_STREAM (f->pair.client), "ping", 4);
  test_read_exact (G_IO_STREAM (f->pair.server), buf, 4);
  g_assert_cmpstr (buf, ==, "ping");
}

/* ---- Protocol versions -------------------------------------------------- */

static void
test_protocols_default (Fixture       *f,
                        gconstpointer  data)
{
  GSecSockSecureSocketContext *ctx = f->env.client_ctx;
  guint protocols = 0;
  int level = 0;

  g_assert_cmpint (gsecsock_secure_socket_context_get_min_protocol_version (ctx), ==,
                   GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  g_assert_cmpint (gsecsock_secure_socket_context_get_max_protocol_version (ctx), ==,
                   GSECSOCK_PROTOCOL_VERSION_UNKNOWN);
  g_assert_cmphex (gsecsock_secure_socket_context_get_protocols (ctx), ==,
                   GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3);
  g_object_get (ctx, "protocols", &protocols, "security-level", &level, NULL);
  g_assert_cmphex (protocols, ==, GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3);
  g_assert_cmpint (level, ==, -1);
  g_assert_cmpint (gsecsock_secure_socket_context_get_check_revocation (ctx), ==,
                   GSECSOCK_REVOCATION_CHECK_NONE);
  g_assert_null (gsecsock_secure_socket_context_get_cipher_list (ctx));
  g_assert_null (gsecsock_secure_socket_context_get_ciphersuites (ctx));
  g_assert_null (gsecsock_secure_socket_context_get_groups (ctx));
}

/* The flags are another view of min/max: setting one updates the others,
 * with notifications. */
static void
test_protocols_flags_map_to_range (Fixture       *f,
                                   gconstpointer  data)
{
  GSecSockSecureSocketContext *ctx = f->env.client_ctx;
  g_autoptr(GError) error = NULL;
  guint n_protocols = 0, n_min = 0, n_max = 0;

  g_signal_connect (ctx, "notify::protocols", G_CALLBACK (count_notify_cb), &n_protocols);
  g_signal_connect (ctx, "notify::min-protocol-version", G_CALLBACK (count_notify_cb), &n_min);
  g_signal_connect (ctx, "notify::max-protocol-version", G_CALLBACK (count_notify_cb), &n_max);

  g_assert_true (gsecsock_secure_socket_context_set_protocols (ctx, GSECSOCK_PROTOCOLS_TLS_1_3, &error));
  g_assert_no_error (error);
  g_assert_cmpint (gsecsock_secure_socket_context_get_min_protocol_version (ctx), ==,
                   GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  g_assert_cmpint (gsecsock_secure_socket_context_get_max_protocol_version (ctx), ==,
                   GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  g_assert_cmphex (gsecsock_secure_socket_context_get_protocols (ctx), ==, GSECSOCK_PROTOCOLS_TLS_1_3);
  g_assert_cmpuint (n_protocols, ==, 1);
  g_assert_cmpuint (n_min, ==, 1);
  g_assert_cmpuint (n_max, ==, 1);

  /* The same again: nothing changes, nothing is notified. */
  g_assert_true (gsecsock_secure_socket_context_set_protocols (ctx, GSECSOCK_PROTOCOLS_TLS_1_3, &error));
  g_assert_cmpuint (n_protocols, ==, 1);

  /* Through the property. */
  g_object_set (ctx, "protocols", GSECSOCK_PROTOCOLS_TLS_1_2, NULL);
  g_assert_cmpint (gsecsock_secure_socket_context_get_min_protocol_version (ctx), ==,
                   GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  g_assert_cmpint (gsecsock_secure_socket_context_get_max_protocol_version (ctx), ==,
                   GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  g_assert_cmpuint (n_protocols, ==, 2);

  /* And the other way: min/max notify protocols. */
  gsecsock_secure_socket_context_set_max_protocol_version (ctx, GSECSOCK_PROTOCOL_VERSION_UNKNOWN);
  g_assert_cmphex (gsecsock_secure_socket_context_get_protocols (ctx), ==,
                   GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3);
  g_assert_cmpuint (n_protocols, ==, 3);
}

static void
test_protocols_ssl_refused (Fixture       *f,
                            gconstpointer  data)
{
  GSecSockSecureSocketContext *ctx = f->env.client_ctx;
  g_autoptr(GError) error = NULL;

  g_assert_false (gsecsock_secure_socket_context_set_protocols (ctx, GSECSOCK_PROTOCOLS_SSL_3_0, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION);
  g_test_message ("%s", error->message);
  test_assert_message_contains (error, "SSL 3.0 is not supported");
  test_assert_message_contains (error, "POODLE");
  g_clear_error (&error);

  /* Even alongside acceptable versions: nothing silently dropped. */
  g_assert_false (gsecsock_secure_socket_context_set_protocols (ctx,
                                                                GSECSOCK_PROTOCOLS_SSL_3_0 |
                                                                GSECSOCK_PROTOCOLS_TLS_1_2 |
                                                                GSECSOCK_PROTOCOLS_TLS_1_3,
                                                                &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION);
  test_assert_message_contains (error, "SSL 3.0");
  g_clear_error (&error);

  g_assert_false (gsecsock_secure_socket_context_set_protocols (ctx,
                                                                GSECSOCK_PROTOCOLS_SSL_2_0 |
                                                                GSECSOCK_PROTOCOLS_TLS_1_2,
                                                                &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION);
  g_test_message ("%s", error->message);
  test_assert_message_contains (error, "SSL 2.0 is not supported");
  g_clear_error (&error);

  /* Unchanged. */
  g_assert_cmphex (gsecsock_secure_socket_context_get_protocols (ctx), ==,
                   GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3);
  /* And never reported as available. */
  g_assert_false (gsecsock_get_supported_protocols () &
                  (GSECSOCK_PROTOCOLS_SSL_2_0 | GSECSOCK_PROTOCOLS_SSL_3_0));
}

static void
test_protocols_bad_sets (Fixture       *f,
                         gconstpointer  data)
{
  GSecSockSecureSocketContext *ctx = f->env.client_ctx;
  g_autoptr(GError) error = NULL;

  g_assert_false (gsecsock_secure_socket_context_set_protocols (ctx, GSECSOCK_PROTOCOLS_NONE, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION);
  test_assert_message_contains (error, "No protocol version");
  g_clear_error (&error);

  /* OpenSSL supports a range, not a list. */
  g_assert_false (gsecsock_secure_socket_context_set_protocols (ctx,
                                                                GSECSOCK_PROTOCOLS_TLS_1_0 |
                                                                GSECSOCK_PROTOCOLS_TLS_1_2,
                                                                &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION);
  g_test_message ("%s", error->message);
  test_assert_message_contains (error, "but not TLS 1.1");
  g_clear_error (&error);

  g_assert_false (gsecsock_secure_socket_context_set_protocols (ctx, 1 << 12, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION);
  test_assert_message_contains (error, "Unknown protocol flags");
  g_clear_error (&error);

  /* A bad value through the property is a programming error, and changes
   * nothing. */
  g_test_expect_message ("GSecSock", G_LOG_LEVEL_CRITICAL, "*SSL 3.0 is not supported*");
  g_object_set (ctx, "protocols", GSECSOCK_PROTOCOLS_SSL_3_0 | GSECSOCK_PROTOCOLS_TLS_1_2, NULL);
  g_test_assert_expected_messages ();

  g_assert_cmphex (gsecsock_secure_socket_context_get_protocols (ctx), ==,
                   GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3);
}

/* TLS 1.0 and 1.1 need security level 0, which gsecsock never chooses by
 * itself: asking for them at another level says why and changes nothing. */
static void
test_protocols_legacy_needs_level_0 (Fixture       *f,
                                     gconstpointer  data)
{
  GSecSockSecureSocketContext *ctx = f->env.client_ctx;
  g_autoptr(GError) error = NULL;
  guint n_level = 0;

  g_assert_true (gsecsock_get_supported_protocols () & GSECSOCK_PROTOCOLS_TLS_1_0);

  g_assert_false (gsecsock_secure_socket_context_set_protocols (ctx,
                                                                GSECSOCK_PROTOCOLS_TLS_1_0 |
                                                                GSECSOCK_PROTOCOLS_TLS_1_1 |
                                                                GSECSOCK_PROTOCOLS_TLS_1_2,
                                                                &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION);
  g_test_message ("%s", error->message);
  test_assert_message_contains (error, "TLS 1.0 cannot be enabled at OpenSSL security level");
  test_assert_message_contains (error, "security-level to 0");
  g_clear_error (&error);
  g_assert_cmphex (gsecsock_secure_socket_context_get_protocols (ctx), ==,
                   GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3);

  /* The min/max setters cannot return an error: a critical, no change. */
  g_test_expect_message ("GSecSock", G_LOG_LEVEL_CRITICAL, "*TLS 1.1 cannot be enabled*");
  gsecsock_secure_socket_context_set_min_protocol_version (ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_1);
  g_test_assert_expected_messages ();
  g_assert_cmpint (gsecsock_secure_socket_context_get_min_protocol_version (ctx), ==,
                   GSECSOCK_PROTOCOL_VERSION_TLS_1_2);

  /* The explicit opt-in: level 0 first, then the old versions. */
  g_signal_connect (ctx, "notify::security-level", G_CALLBACK (count_notify_cb), &n_level);
  g_assert_true (gsecsock_secure_socket_context_set_security_level (ctx, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_level, ==, 1);
  g_assert_true (gsecsock_secure_socket_context_set_protocols (ctx,
                                                               GSECSOCK_PROTOCOLS_TLS_1_0 |
                                                               GSECSOCK_PROTOCOLS_TLS_1_1 |
                                                               GSECSOCK_PROTOCOLS_TLS_1_2,
                                                               &error));
  g_assert_no_error (error);
  g_assert_cmpint (gsecsock_secure_socket_context_get_min_protocol_version (ctx), ==,
                   GSECSOCK_PROTOCOL_VERSION_TLS_1_0);

  /* Raising the level back while TLS 1.0 is allowed is refused too. */
  g_assert_false (gsecsock_secure_socket_context_set_security_level (ctx, 1, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING);
  g_test_message ("%s", error->message);
  test_assert_message_contains (error, "Raise min-protocol-version to TLS 1.2 first");
  g_clear_error (&error);
  g_assert_false (gsecsock_secure_socket_context_set_security_level (ctx, -1, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING);
  g_clear_error (&error);
  g_assert_cmpint (gsecsock_secure_socket_context_get_security_level (ctx), ==, 0);

  g_assert_true (gsecsock_secure_socket_context_set_protocols (ctx, GSECSOCK_PROTOCOLS_TLS_1_2, &error));
  g_assert_true (gsecsock_secure_socket_context_set_security_level (ctx, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_level, ==, 2);
}

/* TLS 1.0 does work once both sides opted in explicitly. */
static void
test_protocols_tls10_handshake (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GSecSockSecureSocketContext *contexts[] = { f->env.client_ctx, f->env.server_ctx };

  for (guint i = 0; i < G_N_ELEMENTS (contexts); i++)
    {
      g_object_set (contexts[i], "security-level", 0, NULL);
      g_assert_true (gsecsock_secure_socket_context_set_protocols (contexts[i], GSECSOCK_PROTOCOLS_TLS_1_0, &error));
      g_assert_no_error (error);
    }
  g_assert_true (handshake (f, NULL, NULL));
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==,
                   GSECSOCK_PROTOCOL_VERSION_TLS_1_0);
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_TRUSTED);
  assert_data_flows (f);
}

static void
test_protocols_handshake (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  /* Both allow 1.2 and 1.3: 1.3. */
  g_assert_true (handshake (f, NULL, NULL));
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==,
                   GSECSOCK_PROTOCOL_VERSION_TLS_1_3);

  /* The server only 1.2: 1.2. */
  g_assert_true (gsecsock_secure_socket_context_set_protocols (f->env.server_ctx, GSECSOCK_PROTOCOLS_TLS_1_2, &error));
  g_assert_true (handshake (f, NULL, NULL));
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==,
                   GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  assert_data_flows (f);

  /* The client only 1.3: no version in common, and no fallback. */
  g_assert_true (gsecsock_secure_socket_context_set_protocols (f->env.client_ctx, GSECSOCK_PROTOCOLS_TLS_1_3, &error));
  g_assert_false (handshake (f, NULL, NULL));
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION);
  g_test_message ("client: %s", f->pair.client_op.error->message);
  g_assert_nonnull (f->pair.server_op.error);
  g_test_message ("server: %s", f->pair.server_op.error->message);
}

static void
test_security_level_property (Fixture       *f,
                              gconstpointer  data)
{
  GSecSockSecureSocketContext *ctx = f->env.client_ctx;
  g_autoptr(GError) error = NULL;
  int level = -2;

  g_assert_true (gsecsock_secure_socket_context_set_security_level (ctx, 3, &error));
  g_assert_no_error (error);
  g_object_get (ctx, "security-level", &level, NULL);
  g_assert_cmpint (level, ==, 3);
  /* Level 3 (128 bits) still accepts the test PKI's P-256 keys. */
  g_assert_true (handshake (f, NULL, NULL));

  /* Level 5 (256 bits) refuses them: verification reports it. */
  g_assert_true (gsecsock_secure_socket_context_set_security_level (ctx, 5, &error));
  g_assert_false (handshake (f, NULL, NULL));
  g_test_message ("client: %s", f->pair.client_op.error->message);
  g_assert_nonnull (f->pair.client_op.error);
}

/* ---- Cipher lists ------------------------------------------------------- */

static void
test_cipher_list_negotiated (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint n_notify = 0;
  g_autofree char *value = NULL;

  g_signal_connect (f->env.client_ctx, "notify::cipher-list", G_CALLBACK (count_notify_cb), &n_notify);
  g_assert_true (gsecsock_secure_socket_context_set_protocols (f->env.client_ctx, GSECSOCK_PROTOCOLS_TLS_1_2, &error));
  g_assert_true (gsecsock_secure_socket_context_set_cipher_list (f->env.client_ctx,
                                                                 "ECDHE-ECDSA-CHACHA20-POLY1305", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_notify, ==, 1);
  g_object_get (f->env.client_ctx, "cipher-list", &value, NULL);
  g_assert_cmpstr (value, ==, "ECDHE-ECDSA-CHACHA20-POLY1305");

  g_assert_true (handshake (f, NULL, NULL));
  g_assert_cmpstr (gsecsock_secure_socket_get_cipher_name (f->pair.client), ==, "ECDHE-ECDSA-CHACHA20-POLY1305");
  g_assert_cmpstr (gsecsock_secure_socket_get_cipher_name (f->pair.server), ==, "ECDHE-ECDSA-CHACHA20-POLY1305");
  assert_data_flows (f);

  /* Another, through the property, on the server: it decides. */
  g_object_set (f->env.server_ctx, "cipher-list", "ECDHE+AESGCM:!AES256", NULL);
  gsecsock_secure_socket_context_set_cipher_list (f->env.client_ctx, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (gsecsock_secure_socket_context_get_cipher_list (f->env.client_ctx));
  g_assert_true (handshake (f, NULL, NULL));
  g_assert_cmpstr (gsecsock_secure_socket_get_cipher_name (f->pair.client), ==, "ECDHE-ECDSA-AES128-GCM-SHA256");

  /* No cipher in common: the handshake fails. */
  g_assert_true (gsecsock_secure_socket_context_set_cipher_list (f->env.client_ctx,
                                                                 "ECDHE-ECDSA-CHACHA20-POLY1305", &error));
  g_assert_false (handshake (f, NULL, NULL));
  g_assert_nonnull (f->pair.client_op.error);
  g_test_message ("client: %s", f->pair.client_op.error->message);
  g_test_message ("server: %s", f->pair.server_op.error->message);

  /* Back to the default list: it works again. */
  g_assert_true (gsecsock_secure_socket_context_set_cipher_list (f->env.server_ctx, NULL, &error));
  g_assert_true (handshake (f, NULL, NULL));
}

/* A server allows only AEAD ciphers with forward secrecy for TLS 1.2 unless
 * told otherwise: a client that offers nothing else than CBC is refused. */
static void
test_cipher_list_server_default (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *name;

  g_assert_null (gsecsock_secure_socket_context_get_cipher_list (f->env.server_ctx));
  g_assert_true (gsecsock_secure_socket_context_set_protocols (f->env.client_ctx, GSECSOCK_PROTOCOLS_TLS_1_2, &error));
  g_assert_no_error (error);

  /* The client's default list has CBC ciphers first in places; the server
   * picks an AEAD one. */
  g_assert_true (handshake (f, NULL, NULL));
  name = gsecsock_secure_socket_get_cipher_name (f->pair.server);
  g_test_message ("negotiated by default: %s", name);
  g_assert_true (g_str_has_prefix (name, "ECDHE-"));
  g_assert_true (strstr (name, "-GCM-") != NULL || strstr (name, "CHACHA20") != NULL);

  for (guint i = 0; i < 4; i++)
    {
      static const char * const cbc[] = {
        "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",
        "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384",
      };

      g_assert_true (gsecsock_secure_socket_context_set_cipher_list (f->env.client_ctx, cbc[i], &error));
      g_assert_no_error (error);
      g_assert_false (handshake (f, NULL, NULL));
      g_assert_error (f->pair.server_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_HANDSHAKE_FAILED);
    }

  /* Explicitly allowed, CBC works; back to the default, it is refused. */
  g_assert_true (gsecsock_secure_socket_context_set_cipher_list (f->env.server_ctx, "HIGH:!aNULL", &error));
  g_assert_true (handshake (f, NULL, NULL));
  g_assert_cmpstr (gsecsock_secure_socket_get_cipher_name (f->pair.server), ==, "ECDHE-ECDSA-AES256-SHA384");
  g_assert_true (gsecsock_secure_socket_context_set_cipher_list (f->env.server_ctx, NULL, &error));
  g_assert_null (gsecsock_secure_socket_context_get_cipher_list (f->env.server_ctx));
  g_assert_false (handshake (f, NULL, NULL));

  /* TLS 1.1 has no AEAD cipher: a server that allows it gets OpenSSL's
   * list, for TLS 1.2 too; back to TLS 1.2 and up, AEAD only again. */
  g_object_set (f->env.server_ctx, "security-level", 0, NULL);
  g_assert_true (gsecsock_secure_socket_context_set_protocols (f->env.server_ctx,
                                                               GSECSOCK_PROTOCOLS_TLS_1_1 |
                                                               GSECSOCK_PROTOCOLS_TLS_1_2 |
                                                               GSECSOCK_PROTOCOLS_TLS_1_3, &error));
  g_assert_no_error (error);
  g_assert_true (handshake (f, NULL, NULL));
  g_assert_true (gsecsock_secure_socket_context_set_protocols (f->env.server_ctx,
                                                               GSECSOCK_PROTOCOLS_TLS_1_2 |
                                                               GSECSOCK_PROTOCOLS_TLS_1_3, &error));
  g_assert_false (handshake (f, NULL, NULL));
  g_assert_null (gsecsock_secure_socket_context_get_cipher_list (f->env.server_ctx));
}

typedef struct {
  const char *list;
  const char *message[3];
} BadList;

static void
test_cipher_list_rejects (Fixture       *f,
                          gconstpointer  data)
{
  static const BadList cases[] = {
    { "ECDHE-ECDSA-AES128-GCM-SHA256:NOPE-CIPHER", { "“NOPE-CIPHER”", "matches no cipher", NULL } },
    /* A typo in an exclusion would silently keep what it meant to remove. */
    { "HIGH:!aNUL", { "“aNUL”", NULL } },
    { "HIGH,-MD55", { "“MD55”", NULL } },
    { "TLS_AES_128_GCM_SHA256", { "TLS 1.3 cipher suite", "ciphersuites", NULL } },
    { "DEFAULT:@SECLEVEL=0", { "@SECLEVEL=0", "security-level", NULL } },
    { "HIGH:@FOO", { "@FOO", NULL } },
    { "!ALL", { "leaves no cipher", NULL } },
    { "", { "empty", NULL } },
    { " : ", { "empty", NULL } },
  };
  GSecSockSecureSocketContext *ctx = f->env.client_ctx;
  g_autoptr(GError) error = NULL;
  guint n_notify = 0;

  g_assert_true (gsecsock_secure_socket_context_set_cipher_list (ctx, "HIGH:!aNULL", &error));
  g_assert_no_error (error);
  g_signal_connect (ctx, "notify::cipher-list", G_CALLBACK (count_notify_cb), &n_notify);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_false (gsecsock_secure_socket_context_set_cipher_list (ctx, cases[i].list, &error));
      g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING);
      g_test_message ("“%s”: %s", cases[i].list, error->message);
      for (guint j = 0; cases[i].message[j] != NULL; j++)
        test_assert_message_contains (error, cases[i].message[j]);
      g_clear_error (&error);
      /* The property keeps its value. */
      g_assert_cmpstr (gsecsock_secure_socket_context_get_cipher_list (ctx), ==, "HIGH:!aNULL");
    }
  g_assert_cmpuint (n_notify, ==, 0);

  /* Through the property: a programming error, nothing changes. */
  g_test_expect_message ("GSecSock", G_LOG_LEVEL_CRITICAL, "*NOPE-CIPHER*");
  g_object_set (ctx, "cipher-list", "NOPE-CIPHER", NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpstr (gsecsock_secure_socket_context_get_cipher_list (ctx), ==, "HIGH:!aNULL");
  g_assert_cmpuint (n_notify, ==, 0);

  /* Every kind of element OpenSSL accepts is accepted. */
  g_assert_true (gsecsock_secure_socket_context_set_cipher_list (ctx,
                                                                 "ECDHE+AESGCM:ECDHE+CHACHA20 "
                                                                 "-SHA1;!aNULL,+AES256:@STRENGTH",
                                                                 &error));
  g_assert_no_error (error);
  g_assert_true (handshake (f, NULL, NULL));
}

static void
test_ciphersuites_negotiated (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (gsecsock_secure_socket_context_set_ciphersuites (f->env.client_ctx,
                                                                  "TLS_CHACHA20_POLY1305_SHA256", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (gsecsock_secure_socket_context_get_ciphersuites (f->env.client_ctx), ==,
                   "TLS_CHACHA20_POLY1305_SHA256");
  g_assert_true (handshake (f, NULL, NULL));
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==,
                   GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  g_assert_cmpstr (gsecsock_secure_socket_get_cipher_name (f->pair.client), ==, "TLS_CHACHA20_POLY1305_SHA256");
  assert_data_flows (f);

  /* The server restricts: its choice. */
  g_object_set (f->env.server_ctx, "ciphersuites", "TLS_AES_128_GCM_SHA256", NULL);
  g_assert_true (gsecsock_secure_socket_context_set_ciphersuites (f->env.client_ctx, NULL, &error));
  g_assert_true (handshake (f, NULL, NULL));
  g_assert_cmpstr (gsecsock_secure_socket_get_cipher_name (f->pair.server), ==, "TLS_AES_128_GCM_SHA256");

  /* The cipher list does not touch TLS 1.3. */
  g_assert_true (gsecsock_secure_socket_context_set_cipher_list (f->env.client_ctx,
                                                                 "ECDHE-ECDSA-CHACHA20-POLY1305", &error));
  g_assert_true (handshake (f, NULL, NULL));
  g_assert_cmpstr (gsecsock_secure_socket_get_cipher_name (f->pair.client), ==, "TLS_AES_128_GCM_SHA256");
}

static void
test_ciphersuites_rejects (Fixture       *f,
                           gconstpointer  data)
{
  static const BadList cases[] = {
    { "TLS_AES_128_GCM_SHA256:TLS_FOO_SHA256", { "“TLS_FOO_SHA256”", "not a TLS 1.3 cipher suite", NULL } },
    { "tls_aes_128_gcm_sha256", { "“tls_aes_128_gcm_sha256”", NULL } },
    { "ECDHE-ECDSA-AES128-GCM-SHA256", { "not a TLS 1.3 cipher suite", "cipher-list", NULL } },
    { "", { "empty", "max-protocol-version", NULL } },
    { ":", { "empty", NULL } },
  };
  GSecSockSecureSocketContext *ctx = f->env.client_ctx;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_false (gsecsock_secure_socket_context_set_ciphersuites (ctx, cases[i].list, &error));
      g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING);
      g_test_message ("“%s”: %s", cases[i].list, error->message);
      for (guint j = 0; cases[i].message[j] != NULL; j++)
        test_assert_message_contains (error, cases[i].message[j]);
      g_clear_error (&error);
      g_assert_null (gsecsock_secure_socket_context_get_ciphersuites (ctx));
    }
  /* TLS 1.3 still works with the default suites. */
  g_assert_true (handshake (f, NULL, NULL));
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==,
                   GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
}

/* ---- Key exchange groups ------------------------------------------------ */

static void
test_groups_loopback (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (gsecsock_secure_socket_context_set_groups (f->env.server_ctx, "x25519", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (gsecsock_secure_socket_context_get_groups (f->env.server_ctx), ==, "x25519");

  /* No group in common. */
  g_object_set (f->env.client_ctx, "groups", "P-384", NULL);
  g_assert_false (handshake (f, NULL, NULL));
  g_assert_nonnull (f->pair.client_op.error);
  g_test_message ("client: %s", f->pair.client_op.error->message);
  g_test_message ("server: %s", f->pair.server_op.error->message);

  /* One in common, second in the client's order: a HelloRetryRequest. */
  g_assert_true (gsecsock_secure_socket_context_set_groups (f->env.client_ctx, "P-384:x25519", &error));
  g_assert_true (handshake (f, NULL, NULL));
  assert_data_flows (f);

  /* The default again. */
  g_assert_true (gsecsock_secure_socket_context_set_groups (f->env.server_ctx, NULL, &error));
  g_assert_null (gsecsock_secure_socket_context_get_groups (f->env.server_ctx));
  g_assert_true (gsecsock_secure_socket_context_set_groups (f->env.client_ctx, "P-384", &error));
  g_assert_true (handshake (f, NULL, NULL));
}

static void
test_groups_rejects (Fixture       *f,
                     gconstpointer  data)
{
  static const BadList cases[] = {
    { "x25519:P-255", { "“P-255”", "not a key exchange group", NULL } },
    { "curve25519", { "“curve25519”", NULL } },
    /* Each name is known, but OpenSSL refuses the list: it must not be
     * accepted, to be ignored by every socket. */
    { "P-256:prime256v1", { "more than once", NULL } },
    { "", { "empty", NULL } },
  };
  GSecSockSecureSocketContext *ctx = f->env.client_ctx;
  g_autoptr(GError) error = NULL;

  g_assert_true (gsecsock_secure_socket_context_set_groups (ctx, "x25519:P-256:ffdhe2048", &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_false (gsecsock_secure_socket_context_set_groups (ctx, cases[i].list, &error));
      g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING);
      g_test_message ("“%s”: %s", cases[i].list, error->message);
      for (guint j = 0; cases[i].message[j] != NULL; j++)
        test_assert_message_contains (error, cases[i].message[j]);
      g_clear_error (&error);
      g_assert_cmpstr (gsecsock_secure_socket_context_get_groups (ctx), ==, "x25519:P-256:ffdhe2048");
    }
}

/* Excluding what this OpenSSL does not have is right, and common in
 * configurations copied from elsewhere. */
static void
test_cipher_list_legacy_exclusions (Fixture       *f,
                                    gconstpointer  data)
{
  static const char * const lists[] = {
    "HIGH:!aNULL:!MD5:!RC4",
    "DEFAULT:!3DES:!DES:!IDEA:!SEED",
    "HIGH:!EXPORT:!LOW:!MEDIUM:-kECDH",
  };
  GSecSockSecureSocketContext *ctx = f->env.client_ctx;

  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (gsecsock_secure_socket_context_set_cipher_list (ctx, lists[i], &error));
      g_assert_no_error (error);
    }
}

/* ---- Against openssl s_server ------------------------------------------- */


static void read_line_cb (GObject *source, GAsyncResult *result, gpointer user_data);

static void
read_next_line (Fixture *f)
{
  g_data_input_stream_read_line_async (f->proc_lines, G_PRIORITY_DEFAULT, NULL, read_line_cb, f);
}

static void
read_line_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Fixture *f = user_data;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, NULL, NULL);

  if (line == NULL)
    {
      f->output_done = TRUE;
      return;
    }
  g_string_append_printf (f->proc_output, "%s\n", line);
  read_next_line (f);
}

/* `openssl s_server` on 127.0.0.1 (a port of the kernel's choice) for one
 * connection, offering only the key exchange group @group. Returns the
 * port. */
static guint16
start_s_server (Fixture    *f,
                const char *group)
{
  g_autoptr(GSubprocessLauncher) launcher =
    test_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr(GRegex) accept_re = g_regex_new ("^ACCEPT (\\S+):([0-9]+)$", G_REGEX_MULTILINE, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *port = NULL;

  f->proc = g_subprocess_launcher_spawn (launcher, &error,
                                         test_openssl_program (),
                                         "s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-rev",
                                         "-cert", test_pki_path ("server.pem"),
                                         "-cert_chain", test_pki_path ("intermediate.pem"),
                                         "-key", test_pki_path ("server.key"),
                                         "-groups", group, NULL);
  g_assert_no_error (error);
  f->proc_lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->proc));
  read_next_line (f);
  test_wait_until (f->env.context,
                   g_regex_match (accept_re, f->proc_output->str, 0, NULL) || f->output_done);
  if (!g_regex_match (accept_re, f->proc_output->str, 0, &match))
    g_error ("s_server did not start:\n%s", f->proc_output->str);
  port = g_match_info_fetch (match, 2);
  return (guint16) g_ascii_strtoull (port, NULL, 10);
}

static gboolean
handshake_with_port (Fixture *f,
                     guint16  port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;

  test_tls_pair_clear (&f->pair);
  f->pair.client_conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  f->pair.client = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (f->pair.client_conn),
                                               "localhost", &error);
  g_assert_no_error (error);
  gsecsock_secure_socket_handshake_async (f->pair.client, G_PRIORITY_DEFAULT, NULL,
                                          test_handshake_cb, &f->pair.client_op);
  test_wait_until (f->env.context, f->pair.client_op.done);
  return f->pair.client_op.ok;
}

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static void
wait_s_server_exit (Fixture *f)
{
  gboolean exited = FALSE;

  g_subprocess_wait_async (f->proc, NULL, wait_cb, &exited);
  test_wait_until (f->env.context, exited && f->output_done);
  g_test_message ("s_server output:\n%s", f->proc_output->str);
}

/* The groups the client offers are those configured: s_server (X448 only)
 * lists them, and accepts because X448 is among them. */
static void
test_groups_s_server (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *answer = NULL;
  guint16 port;

  g_assert_true (gsecsock_secure_socket_context_set_groups (f->env.client_ctx, "x25519:x448", &error));
  port = start_s_server (f, "X448");
  g_assert_true (handshake_with_port (f, port));
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==,
                   GSECSOCK_PROTOCOL_VERSION_TLS_1_3);

  /* s_server -rev answers each line reversed. */
  test_write_all (G_IO_STREAM (f->pair.client), "groups\n", 7);
  answer = g_malloc0 (8);
  test_read_exact (G_IO_STREAM (f->pair.client), answer, 7);
  g_assert_cmpstr (answer, ==, "spuorg\n");
  g_assert_true (g_io_stream_close (G_IO_STREAM (f->pair.client), NULL, &error));
  g_assert_no_error (error);
  wait_s_server_exit (f);
  g_assert_nonnull (strstr (f->proc_output->str, "Supported groups: x25519:x448"));
}

static void
test_groups_s_server_no_common (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint16 port;

  g_assert_true (gsecsock_secure_socket_context_set_groups (f->env.client_ctx, "x25519:P-256", &error));
  port = start_s_server (f, "X448");
  g_assert_false (handshake_with_port (f, port));
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_HANDSHAKE_FAILED);
  g_test_message ("client: %s", f->pair.client_op.error->message);
  wait_s_server_exit (f);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/config/protocols/default", test_protocols_default);
  ADD ("/config/protocols/flags-map-to-range", test_protocols_flags_map_to_range);
  ADD ("/config/protocols/ssl-refused", test_protocols_ssl_refused);
  ADD ("/config/protocols/bad-sets", test_protocols_bad_sets);
  ADD ("/config/protocols/legacy-needs-level-0", test_protocols_legacy_needs_level_0);
  ADD ("/config/protocols/tls10-handshake", test_protocols_tls10_handshake);
  ADD ("/config/protocols/handshake", test_protocols_handshake);
  ADD ("/config/security-level", test_security_level_property);
  ADD ("/config/cipher-list/negotiated", test_cipher_list_negotiated);
  ADD ("/config/cipher-list/server-default", test_cipher_list_server_default);
  ADD ("/config/cipher-list/rejects", test_cipher_list_rejects);
  ADD ("/config/cipher-list/legacy-exclusions", test_cipher_list_legacy_exclusions);
  ADD ("/config/ciphersuites/negotiated", test_ciphersuites_negotiated);
  ADD ("/config/ciphersuites/rejects", test_ciphersuites_rejects);
  ADD ("/config/groups/loopback", test_groups_loopback);
  ADD ("/config/groups/rejects", test_groups_rejects);
  ADD ("/config/groups/s-server", test_groups_s_server);
  ADD ("/config/groups/s-server-no-common", test_groups_s_server_no_common);

  return g_test_run ();
}
