/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What an application can learn before and after connecting (AIR's
 * SecureSocket): whether TLS is supported and on what OpenSSL, the
 * server's certificate and a one-word status after a failed connection;
 * trust anchors from DER bytes; untrusted intermediates added for chain
 * building only. */
#include "test-utils.h"

#include <string.h>

typedef struct {
  TestEnv env;
  TestTlsPair pair;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_env_setup (&f->env, "server-chain.pem", "server.key");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  test_tls_pair_clear (&f->pair);
  test_env_teardown (&f->env);
}

static gboolean
handshake (Fixture                     *f,
           GSecSockSecureSocketContext *client_ctx,
           GSecSockSecureSocketContext *server_ctx,
           const char                  *peer_name)
{
  test_tls_pair_clear (&f->pair);
  test_tls_pair_init (&f->pair, client_ctx ? client_ctx : f->env.client_ctx,
                      server_ctx ? server_ctx : f->env.server_ctx, "127.0.0.1",
                      peer_name ? peer_name : "localhost");
  return test_tls_pair_handshake_async (&f->pair);
}

/* A client context that trusts nothing at all (no system store, no
 * anchors). */
static GSecSockSecureSocketContext *
make_bare_client_context (void)
{
  GSecSockSecureSocketContext *ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);

  gsecsock_secure_socket_context_set_use_system_trust (ctx, FALSE);
  return ctx;
}

static const char *
status_nick (GSecSockCertificateStatus status)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (GSECSOCK_TYPE_CERTIFICATE_STATUS);
  GEnumValue *value = g_enum_get_value (klass, status);

  g_assert_nonnull (value);
  return g_intern_string (value->value_nick);
}

/* ---- Support and version information ----------------------------------- */

static void
test_info (void)
{
  const char *version = gsecsock_get_openssl_version ();
  guint32 number = gsecsock_get_openssl_version_number ();
  GSecSockProtocols protocols = gsecsock_get_supported_protocols ();
  GSecSockFeatures features = gsecsock_get_features ();
  g_autofree char *prefix = NULL;

  g_assert_true (gsecsock_is_supported ());
  g_assert_true (gsecsock_is_supported ());   /* cached */

  g_test_message ("gsecsock %s on %s (0x%08x), protocols 0x%x, features 0x%x",
                  gsecsock_get_version (), version, number, protocols, features);
  g_assert_nonnull (gsecsock_get_version ());
  g_assert_cmpstr (gsecsock_get_version (), !=, "");
  g_assert_true (g_str_has_prefix (version, "OpenSSL 3."));
  g_assert_cmphex (number, >=, 0x30000000);
  /* The string and the number agree: "OpenSSL M.N." and 0xMNN..... */
  prefix = g_strdup_printf ("OpenSSL %u.%u.", number >> 28, (number >> 20) & 0xff);
  g_assert_true (g_str_has_prefix (version, prefix));

  g_assert_cmphex (protocols & (GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3), ==,
                   GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3);
  g_assert_cmphex (protocols & (GSECSOCK_PROTOCOLS_SSL_2_0 | GSECSOCK_PROTOCOLS_SSL_3_0), ==, 0);
  /* Deferred decisions (issue 3) rely on ASYNC jobs: Linux has them. */
  g_assert_true (features & GSECSOCK_FEATURES_ASYNC);
}

/* ---- Certificate status ------------------------------------------------- */

static void
test_status_from_flags (void)
{
  static const struct {
    GSecSockCertificateFlags flags;
    GSecSockCertificateStatus status;
  } cases[] = {
    { 0, GSECSOCK_CERTIFICATE_STATUS_TRUSTED },
    { GSECSOCK_CERTIFICATE_EXPIRED, GSECSOCK_CERTIFICATE_STATUS_EXPIRED },
    { GSECSOCK_CERTIFICATE_NOT_ACTIVATED, GSECSOCK_CERTIFICATE_STATUS_NOT_YET_VALID },
    { GSECSOCK_CERTIFICATE_BAD_IDENTITY, GSECSOCK_CERTIFICATE_STATUS_PRINCIPAL_MISMATCH },
    { GSECSOCK_CERTIFICATE_UNKNOWN_CA, GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS },
    { GSECSOCK_CERTIFICATE_SELF_SIGNED | GSECSOCK_CERTIFICATE_UNKNOWN_CA,
      GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS },
    { GSECSOCK_CERTIFICATE_INCOMPLETE_CHAIN | GSECSOCK_CERTIFICATE_UNKNOWN_CA,
      GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS },
    { GSECSOCK_CERTIFICATE_REVOKED, GSECSOCK_CERTIFICATE_STATUS_REVOKED },
    { GSECSOCK_CERTIFICATE_INSECURE, GSECSOCK_CERTIFICATE_STATUS_INVALID },
    { GSECSOCK_CERTIFICATE_GENERIC_ERROR, GSECSOCK_CERTIFICATE_STATUS_INVALID },
    { GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN, GSECSOCK_CERTIFICATE_STATUS_REVOCATION_UNKNOWN },
    /* Precedence: revoked > untrusted-signers > invalid > expired >
     * not-yet-valid > principal-mismatch > revocation-unknown. */
    { GSECSOCK_CERTIFICATE_REVOKED | GSECSOCK_CERTIFICATE_UNKNOWN_CA | GSECSOCK_CERTIFICATE_EXPIRED,
      GSECSOCK_CERTIFICATE_STATUS_REVOKED },
    { GSECSOCK_CERTIFICATE_UNKNOWN_CA | GSECSOCK_CERTIFICATE_GENERIC_ERROR | GSECSOCK_CERTIFICATE_EXPIRED,
      GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS },
    { GSECSOCK_CERTIFICATE_GENERIC_ERROR | GSECSOCK_CERTIFICATE_BAD_IDENTITY,
      GSECSOCK_CERTIFICATE_STATUS_INVALID },
    { GSECSOCK_CERTIFICATE_EXPIRED | GSECSOCK_CERTIFICATE_BAD_IDENTITY,
      GSECSOCK_CERTIFICATE_STATUS_EXPIRED },
    { GSECSOCK_CERTIFICATE_EXPIRED | GSECSOCK_CERTIFICATE_NOT_ACTIVATED,
      GSECSOCK_CERTIFICATE_STATUS_EXPIRED },
    { GSECSOCK_CERTIFICATE_NOT_ACTIVATED | GSECSOCK_CERTIFICATE_BAD_IDENTITY,
      GSECSOCK_CERTIFICATE_STATUS_NOT_YET_VALID },
    { GSECSOCK_CERTIFICATE_BAD_IDENTITY | GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN,
      GSECSOCK_CERTIFICATE_STATUS_PRINCIPAL_MISMATCH },
  };
  static const char *nicks[] = {
    "unknown", "trusted", "revoked", "untrusted-signers", "invalid", "expired",
    "not-yet-valid", "principal-mismatch", "revocation-unknown",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (gsecsock_certificate_status_from_flags (cases[i].flags), ==, cases[i].status);

  /* to_string() gives the enum's nicks. */
  for (GSecSockCertificateStatus s = GSECSOCK_CERTIFICATE_STATUS_UNKNOWN;
       s <= GSECSOCK_CERTIFICATE_STATUS_REVOCATION_UNKNOWN; s++)
    {
      g_assert_cmpstr (gsecsock_certificate_status_to_string (s), ==, nicks[s]);
      g_assert_cmpstr (gsecsock_certificate_status_to_string (s), ==, status_nick (s));
    }
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_status_trusted (Fixture       *f,
                     gconstpointer  data)
{
  guint status = 99, n_notify = 0;

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_UNKNOWN);
  g_signal_connect (f->pair.client, "notify::certificate-status", G_CALLBACK (count_notify_cb), &n_notify);
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpuint (n_notify, ==, 1);
  g_object_get (f->pair.client, "certificate-status", &status, NULL);
  g_assert_cmpint (status, ==, GSECSOCK_CERTIFICATE_STATUS_TRUSTED);
  /* A server that did not ask for a client certificate knows nothing. */
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.server), ==,
                   GSECSOCK_CERTIFICATE_STATUS_UNKNOWN);
}

typedef struct {
  const char *chain;
  const char *key;
  const char *peer_name;
  GSecSockCertificateStatus status;
  const char *leaf;              /* the peer certificate expected */
} StatusCase;

static const StatusCase case_expired = {
  "expired-chain.pem", "expired.key", "localhost", GSECSOCK_CERTIFICATE_STATUS_EXPIRED, "expired.pem",
};
static const StatusCase case_not_yet_valid = {
  "notyet-chain.pem", "notyet.key", "localhost", GSECSOCK_CERTIFICATE_STATUS_NOT_YET_VALID, "notyet.pem",
};
static const StatusCase case_principal_mismatch = {
  "wronghost-chain.pem", "wronghost.key", "localhost", GSECSOCK_CERTIFICATE_STATUS_PRINCIPAL_MISMATCH,
  "wronghost.pem",
};
static const StatusCase case_untrusted_signers = {
  "untrusted-chain.pem", "untrusted.key", "localhost", GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS,
  "untrusted.pem",
};
static const StatusCase case_self_signed = {
  "selfsigned.pem", "selfsigned.key", "localhost", GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS,
  "selfsigned.pem",
};
/* A client certificate used by a server: wrong purpose (invalid) and
 * wrong name: invalid wins. */
static const StatusCase case_invalid = {
  "client-chain.pem", "client.key", "localhost", GSECSOCK_CERTIFICATE_STATUS_INVALID, "client.pem",
};
/* Expired and for another name: expired wins. */
static const StatusCase case_expired_wrong_name = {
  "expired-chain.pem", "expired.key", "wrong.example", GSECSOCK_CERTIFICATE_STATUS_EXPIRED, "expired.pem",
};

/* After a failed connection the application still has the server's
 * certificate and the status in one word. */
static void
test_status_after_failure (Fixture       *f,
                           gconstpointer  data)
{
  const StatusCase *tc = data;
  g_autoptr(GSecSockSecureSocketContext) server_ctx = test_make_server_context (tc->chain, tc->key);
  g_autoptr(GSecSockCertificate) expected_leaf = test_load_certificate (tc->leaf);
  GSecSockCertificateStatus status;
  guint n_notify = 0;

  test_tls_pair_init (&f->pair, f->env.client_ctx, server_ctx, "127.0.0.1", tc->peer_name);
  g_signal_connect (f->pair.client, "notify::certificate-status", G_CALLBACK (count_notify_cb), &n_notify);
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);

  status = gsecsock_secure_socket_get_certificate_status (f->pair.client);
  g_test_message ("%s: %s (errors 0x%x): %s", tc->chain, gsecsock_certificate_status_to_string (status),
                  gsecsock_secure_socket_get_certificate_errors (f->pair.client),
                  f->pair.client_op.error->message);
  g_assert_cmpint (status, ==, tc->status);
  g_assert_cmpint (status, ==,
                   gsecsock_certificate_status_from_flags (gsecsock_secure_socket_get_certificate_errors (f->pair.client)));
  g_assert_cmpuint (n_notify, ==, 1);
  g_assert_true (gsecsock_certificate_equal (gsecsock_secure_socket_get_peer_certificate (f->pair.client),
                                             expected_leaf));
}

/* With verification off the handshake succeeds, and the status still
 * says what verification found. */
static void
test_status_verify_off (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx = test_make_server_context ("selfsigned.pem", "selfsigned.key");

  gsecsock_secure_socket_context_set_verify_peer (f->env.client_ctx, FALSE);
  g_assert_true (handshake (f, NULL, server_ctx, NULL));
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS);
}

/* A handler that accepts a certificate does not change its status. */
static gboolean
accept_all_cb (GSecSockSecureSocket     *sock,
               GSecSockCertificate      *certificate,
               guint                     depth,
               GSecSockCertificateFlags  errors,
               gpointer                  user_data)
{
  return TRUE;
}

static void
test_status_handler_accepts (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx = test_make_server_context ("expired-chain.pem", "expired.key");

  test_tls_pair_init (&f->pair, f->env.client_ctx, server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (accept_all_cb), NULL);
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_EXPIRED);
}

/* ---- Trust anchors from DER --------------------------------------------- */

static void
test_trust_anchor_der (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx = make_bare_client_context ();
  g_autoptr(GSecSockCertificate) ca = test_load_certificate ("ca.pem");
  g_autoptr(GBytes) der = gsecsock_certificate_get_der (ca);
  g_autoptr(GBytes) garbage = g_bytes_new_static ("not a certificate", 17);
  g_autoptr(GBytes) truncated = g_bytes_new_from_bytes (der, 0, g_bytes_get_size (der) - 10);
  g_autoptr(GError) error = NULL;

  /* Nothing trusted yet. */
  g_assert_false (handshake (f, client_ctx, NULL, NULL));
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS);

  g_assert_false (gsecsock_secure_socket_context_add_trust_anchor_der (client_ctx, garbage, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (gsecsock_secure_socket_context_add_trust_anchor_der (client_ctx, truncated, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  g_clear_error (&error);

  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_der (client_ctx, der, &error));
  g_assert_no_error (error);
  g_assert_true (handshake (f, client_ctx, NULL, NULL));
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_TRUSTED);
}

/* ---- Chain-building certificates ---------------------------------------- */

/* A server that sends only its own certificate (no intermediate). */
static GSecSockSecureSocketContext *
make_leaf_only_server (void)
{
  return test_make_server_context ("server.pem", "server.key");
}

static void
test_chain_certificate_builds_chain (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx = make_leaf_only_server ();
  g_autoptr(GSecSockCertificate) intermediate = test_load_certificate ("intermediate.pem");
  GListModel *chain;

  /* Without it, the chain cannot be built. */
  g_assert_false (handshake (f, NULL, server_ctx, NULL));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_INCOMPLETE_CHAIN | GSECSOCK_CERTIFICATE_UNKNOWN_CA);
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS);

  /* With it (twice: added once), the chain verifies. */
  gsecsock_secure_socket_context_add_chain_certificate (f->env.client_ctx, intermediate);
  gsecsock_secure_socket_context_add_chain_certificate (f->env.client_ctx, intermediate);
  g_assert_true (handshake (f, NULL, server_ctx, NULL));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, 0);
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_TRUSTED);
  /* The peer's chain is what the peer sent: the leaf alone. */
  chain = gsecsock_secure_socket_get_peer_certificate_chain (f->pair.client);
  g_assert_cmpuint (g_list_model_get_n_items (chain), ==, 1);

  /* Servers that send the intermediate themselves still verify. */
  g_assert_true (handshake (f, NULL, NULL, NULL));
  chain = gsecsock_secure_socket_get_peer_certificate_chain (f->pair.client);
  g_assert_cmpuint (g_list_model_get_n_items (chain), ==, 2);
}

/* Each certificate of the built chain is offered to verify-certificate,
 * including the chain certificate. */
static gboolean
record_depth_cb (GSecSockSecureSocket     *sock,
                 GSecSockCertificate      *certificate,
                 guint                     depth,
                 GSecSockCertificateFlags  errors,
                 gpointer                  user_data)
{
  GPtrArray *subjects = user_data;

  g_ptr_array_add (subjects, gsecsock_certificate_get_subject (certificate));
  return errors == 0;
}

static void
test_chain_certificate_verified_per_depth (Fixture       *f,
                                           gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx = make_leaf_only_server ();
  g_autoptr(GSecSockCertificate) intermediate = test_load_certificate ("intermediate.pem");
  g_autoptr(GPtrArray) subjects = g_ptr_array_new_with_free_func (g_free);

  gsecsock_secure_socket_context_add_chain_certificate (f->env.client_ctx, intermediate);
  test_tls_pair_init (&f->pair, f->env.client_ctx, server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (record_depth_cb), subjects);
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpuint (subjects->len, ==, 3);
  g_assert_nonnull (strstr (g_ptr_array_index (subjects, 0), "Root CA"));
  g_assert_nonnull (strstr (g_ptr_array_index (subjects, 1), "Intermediate CA"));
  g_assert_nonnull (strstr (g_ptr_array_index (subjects, 2), "localhost"));
}

/* A chain certificate is never a trust anchor, even a root. */
static void
test_chain_certificate_never_anchor (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx = make_bare_client_context ();
  g_autoptr(GSecSockSecureSocketContext) self_signed_server = test_make_server_context ("selfsigned.pem", "selfsigned.key");
  g_autoptr(GSecSockCertificate) ca = test_load_certificate ("ca.pem");
  g_autoptr(GSecSockCertificate) intermediate = test_load_certificate ("intermediate.pem");
  g_autoptr(GSecSockCertificate) self_signed = test_load_certificate ("selfsigned.pem");

  gsecsock_secure_socket_context_add_chain_certificate (client_ctx, ca);
  gsecsock_secure_socket_context_add_chain_certificate (client_ctx, intermediate);
  gsecsock_secure_socket_context_add_chain_certificate (client_ctx, self_signed);

  g_assert_false (handshake (f, client_ctx, NULL, NULL));
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_test_message ("%s", f->pair.client_op.error->message);
  g_assert_true (gsecsock_secure_socket_get_certificate_errors (f->pair.client) & GSECSOCK_CERTIFICATE_UNKNOWN_CA);
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS);

  g_assert_false (handshake (f, client_ctx, self_signed_server, NULL));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_SELF_SIGNED | GSECSOCK_CERTIFICATE_UNKNOWN_CA);

  /* Only a trust anchor makes it trusted. */
  gsecsock_secure_socket_context_add_trust_anchor (client_ctx, ca);
  g_assert_true (handshake (f, client_ctx, NULL, NULL));
}

/* Sockets keep the chain certificates they were created with. */
static void
test_chain_certificate_later_sockets (Fixture       *f,
                                      gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx = make_leaf_only_server ();
  g_autoptr(GSecSockCertificate) intermediate = test_load_certificate ("intermediate.pem");

  test_tls_pair_init (&f->pair, f->env.client_ctx, server_ctx, "127.0.0.1", "localhost");
  gsecsock_secure_socket_context_add_chain_certificate (f->env.client_ctx, intermediate);
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  g_assert_true (handshake (f, NULL, server_ctx, NULL));
}

/* A server builds a client's chain with its chain certificates too. */
static void
test_chain_certificate_server_side (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx = test_make_client_context_with_certificate ("client.pem", "client.key");
  g_autoptr(GSecSockCertificate) intermediate = test_load_certificate ("intermediate.pem");
  g_autoptr(GError) error = NULL;

  gsecsock_secure_socket_context_set_use_system_trust (f->env.server_ctx, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (f->env.server_ctx, test_pki_path ("ca.pem"), &error));
  gsecsock_secure_socket_context_set_verify_peer (f->env.server_ctx, TRUE);

  g_assert_false (handshake (f, client_ctx, NULL, NULL));
  g_assert_error (f->pair.server_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.server), ==,
                   GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS);

  gsecsock_secure_socket_context_add_chain_certificate (f->env.server_ctx, intermediate);
  g_assert_true (handshake (f, client_ctx, NULL, NULL));
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.server), ==,
                   GSECSOCK_CERTIFICATE_STATUS_TRUSTED);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_setup, func, fixture_teardown)

  g_test_add_func ("/status/info", test_info);
  g_test_add_func ("/status/from-flags", test_status_from_flags);
  ADD ("/status/trusted", test_status_trusted, NULL);
  ADD ("/status/after-failure/expired", test_status_after_failure, &case_expired);
  ADD ("/status/after-failure/not-yet-valid", test_status_after_failure, &case_not_yet_valid);
  ADD ("/status/after-failure/principal-mismatch", test_status_after_failure, &case_principal_mismatch);
  ADD ("/status/after-failure/untrusted-signers", test_status_after_failure, &case_untrusted_signers);
  ADD ("/status/after-failure/self-signed", test_status_after_failure, &case_self_signed);
  ADD ("/status/after-failure/invalid", test_status_after_failure, &case_invalid);
  ADD ("/status/after-failure/expired-wrong-name", test_status_after_failure, &case_expired_wrong_name);
  ADD ("/status/verify-off", test_status_verify_off, NULL);
  ADD ("/status/handler-accepts", test_status_handler_accepts, NULL);
  ADD ("/status/trust-anchor-der", test_trust_anchor_der, NULL);
  ADD ("/status/chain-certificate/builds-chain", test_chain_certificate_builds_chain, NULL);
  ADD ("/status/chain-certificate/verified-per-depth", test_chain_certificate_verified_per_depth, NULL);
  ADD ("/status/chain-certificate/never-anchor", test_chain_certificate_never_anchor, NULL);
  ADD ("/status/chain-certificate/later-sockets", test_chain_certificate_later_sockets, NULL);
  ADD ("/status/chain-certificate/server-side", test_chain_certificate_server_side, NULL);

  return g_test_run ();
}
