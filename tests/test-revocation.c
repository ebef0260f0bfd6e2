/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Revocation with CRLs: check-revocation (none, leaf, chain), CRL files in
 * PEM and DER, a revoked leaf and a revoked intermediate, and failing
 * closed when a CRL is missing or expired. The test PKI has the CRLs
 * (tests/make-test-pki.sh). */
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
handshake_with (Fixture    *f,
                const char *chain,
                const char *key)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx = NULL;

  if (chain != NULL)
    server_ctx = test_make_server_context (chain, key);
  test_tls_pair_clear (&f->pair);
  test_tls_pair_init (&f->pair, f->env.client_ctx, server_ctx ? server_ctx : f->env.server_ctx,
                      "127.0.0.1", "localhost");
  return test_tls_pair_handshake_async (&f->pair);
}

static void
add_crl (Fixture    *f,
         const char *name)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (gsecsock_secure_socket_context_add_crl_file (f->env.client_ctx, test_pki_path (name), &error));
  g_assert_no_error (error);
}

static void
assert_rejected (Fixture                   *f,
                 GSecSockCertificateFlags   flags,
                 GSecSockCertificateStatus  status,
                 const char                *message1,
                 const char                *message2)
{
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_test_message ("client: %s", f->pair.client_op.error->message);
  if (f->pair.server_op.error != NULL)
    g_test_message ("server: %s", f->pair.server_op.error->message);
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, flags);
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==, status);
  g_assert_nonnull (gsecsock_secure_socket_get_peer_certificate (f->pair.client));
  if (message1 != NULL)
    test_assert_message_contains (f->pair.client_op.error, message1);
  if (message2 != NULL)
    test_assert_message_contains (f->pair.client_op.error, message2);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_default_none (Fixture       *f,
                   gconstpointer  data)
{
  /* CRLs alone check nothing: check-revocation is off by default. */
  add_crl (f, "crl-bundle.pem");
  g_assert_cmpint (gsecsock_secure_socket_context_get_check_revocation (f->env.client_ctx), ==,
                   GSECSOCK_REVOCATION_CHECK_NONE);
  g_assert_true (handshake_with (f, "revoked-chain.pem", "revoked.key"));
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_TRUSTED);
}

static void
test_leaf_revoked (Fixture       *f,
                   gconstpointer  data)
{
  guint n_notify = 0;

  add_crl (f, "intermediate.crl.pem");
  g_signal_connect (f->env.client_ctx, "notify::check-revocation", G_CALLBACK (count_notify_cb), &n_notify);
  g_object_set (f->env.client_ctx, "check-revocation", GSECSOCK_REVOCATION_CHECK_LEAF, NULL);
  g_object_set (f->env.client_ctx, "check-revocation", GSECSOCK_REVOCATION_CHECK_LEAF, NULL);
  g_assert_cmpuint (n_notify, ==, 1);

  g_assert_false (handshake_with (f, "revoked-chain.pem", "revoked.key"));
  assert_rejected (f, GSECSOCK_CERTIFICATE_REVOKED, GSECSOCK_CERTIFICATE_STATUS_REVOKED,
                   "has been revoked", "gsecsock Test Intermediate CA");
  /* The server was told why: certificate_revoked. */
  g_assert_nonnull (f->pair.server_op.error);
  test_assert_message_contains (f->pair.server_op.error, "revoked");

  /* A certificate that is not listed passes. */
  g_assert_true (handshake_with (f, NULL, NULL));
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_TRUSTED);
}

static void
test_leaf_revoked_der (Fixture       *f,
                       gconstpointer  data)
{
  add_crl (f, "intermediate.crl.der");
  gsecsock_secure_socket_context_set_check_revocation (f->env.client_ctx, GSECSOCK_REVOCATION_CHECK_LEAF);
  g_assert_false (handshake_with (f, "revoked-chain.pem", "revoked.key"));
  assert_rejected (f, GSECSOCK_CERTIFICATE_REVOKED, GSECSOCK_CERTIFICATE_STATUS_REVOKED, "revoked", NULL);
}

/* Checking required, no CRL: fail closed, naming the issuer. */
static void
test_leaf_missing_crl (Fixture       *f,
                       gconstpointer  data)
{
  gsecsock_secure_socket_context_set_check_revocation (f->env.client_ctx, GSECSOCK_REVOCATION_CHECK_LEAF);
  g_assert_false (handshake_with (f, NULL, NULL));
  assert_rejected (f, GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN, GSECSOCK_CERTIFICATE_STATUS_REVOCATION_UNKNOWN,
                   "no CRL for issuer “CN=gsecsock Test Intermediate CA”",
                   "gsecsock_secure_socket_context_add_crl_file");
}

static void
test_leaf_expired_crl (Fixture       *f,
                       gconstpointer  data)
{
  add_crl (f, "intermediate-expired.crl.pem");
  gsecsock_secure_socket_context_set_check_revocation (f->env.client_ctx, GSECSOCK_REVOCATION_CHECK_LEAF);
  g_assert_false (handshake_with (f, NULL, NULL));
  assert_rejected (f, GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN, GSECSOCK_CERTIFICATE_STATUS_REVOCATION_UNKNOWN,
                   "has expired", "gsecsock Test Intermediate CA");

  /* A current CRL beside it is used. */
  add_crl (f, "intermediate.crl.pem");
  g_assert_true (handshake_with (f, NULL, NULL));
}

/* The whole chain: the intermediate and the root need the root's CRL. */
static void
test_chain_missing_root_crl (Fixture       *f,
                             gconstpointer  data)
{
  add_crl (f, "intermediate.crl.pem");
  gsecsock_secure_socket_context_set_check_revocation (f->env.client_ctx, GSECSOCK_REVOCATION_CHECK_CHAIN);
  g_assert_false (handshake_with (f, NULL, NULL));
  assert_rejected (f, GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN, GSECSOCK_CERTIFICATE_STATUS_REVOCATION_UNKNOWN,
                   "no CRL for issuer “CN=gsecsock Test Root CA”", NULL);
  /* Both the intermediate and the root (which OpenSSL checks against its
   * own CRL) lack one. */
  g_assert_cmphex (g_list_model_get_n_items (gsecsock_secure_socket_get_peer_certificate_chain (f->pair.client)), ==, 2);

  /* Checking only the leaf is satisfied. */
  gsecsock_secure_socket_context_set_check_revocation (f->env.client_ctx, GSECSOCK_REVOCATION_CHECK_LEAF);
  g_assert_true (handshake_with (f, NULL, NULL));

  /* Both CRLs, from one file: the whole chain passes. */
  gsecsock_secure_socket_context_set_check_revocation (f->env.client_ctx, GSECSOCK_REVOCATION_CHECK_CHAIN);
  add_crl (f, "crl-bundle.pem");
  g_assert_true (handshake_with (f, NULL, NULL));
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_TRUSTED);
}

/* A revoked intermediate: only checking the chain finds it. */
static void
test_chain_revoked_intermediate (Fixture       *f,
                                 gconstpointer  data)
{
  add_crl (f, "ca.crl.pem");
  add_crl (f, "revoked-intermediate.crl.pem");

  gsecsock_secure_socket_context_set_check_revocation (f->env.client_ctx, GSECSOCK_REVOCATION_CHECK_LEAF);
  g_assert_true (handshake_with (f, "under-revoked-chain.pem", "under-revoked.key"));

  gsecsock_secure_socket_context_set_check_revocation (f->env.client_ctx, GSECSOCK_REVOCATION_CHECK_CHAIN);
  g_assert_false (handshake_with (f, "under-revoked-chain.pem", "under-revoked.key"));
  assert_rejected (f, GSECSOCK_CERTIFICATE_REVOKED, GSECSOCK_CERTIFICATE_STATUS_REVOKED,
                   "“CN=gsecsock Revoked Intermediate CA” in the chain of “localhost” has been revoked",
                   NULL);
}

/* Revocation checking is part of verification: a handler may accept a
 * status that could not be established (soft-fail, chosen explicitly). */
static gboolean
accept_unknown_revocation_cb (GSecSockSecureSocketContext *ctx,
                              GSecSockSecureSocket        *sock,
                              GSecSockCertificate         *certificate,
                              guint                        depth,
                              GSecSockCertificateFlags     errors,
                              gpointer                     user_data)
{
  return (errors & ~GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN) == 0;
}

static void
test_handler_soft_fail (Fixture       *f,
                        gconstpointer  data)
{
  gsecsock_secure_socket_context_set_check_revocation (f->env.client_ctx, GSECSOCK_REVOCATION_CHECK_LEAF);
  g_signal_connect (f->env.client_ctx, "verify-certificate", G_CALLBACK (accept_unknown_revocation_cb), NULL);

  g_assert_true (handshake_with (f, NULL, NULL));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN);
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_REVOCATION_UNKNOWN);

  /* A revoked one is still refused by the same handler. */
  add_crl (f, "intermediate.crl.pem");
  g_assert_false (handshake_with (f, "revoked-chain.pem", "revoked.key"));
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_REVOKED);
}

static void
test_clear_crls (Fixture       *f,
                 gconstpointer  data)
{
  add_crl (f, "intermediate.crl.pem");
  gsecsock_secure_socket_context_set_check_revocation (f->env.client_ctx, GSECSOCK_REVOCATION_CHECK_LEAF);
  g_assert_true (handshake_with (f, NULL, NULL));

  gsecsock_secure_socket_context_clear_crls (f->env.client_ctx);
  g_assert_false (handshake_with (f, NULL, NULL));
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_REVOCATION_UNKNOWN);

  add_crl (f, "intermediate.crl.der");
  g_assert_true (handshake_with (f, NULL, NULL));
}

static void
test_bad_files (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *garbage = test_write_tmp_file ("garbage.crl", "\x30\x03\x01\x02\x03", 5);
  g_autofree char *missing = test_tmp_path ("missing.crl");

  g_assert_false (gsecsock_secure_socket_context_add_crl_file (f->env.client_ctx, missing, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CRL_FILE);
  g_test_message ("%s", error->message);
  test_assert_message_contains (error, "missing.crl");
  g_clear_error (&error);

  /* A certificate is not a CRL. */
  g_assert_false (gsecsock_secure_socket_context_add_crl_file (f->env.client_ctx,
                                                               test_pki_path ("server.pem"), &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CRL_FILE);
  g_test_message ("%s", error->message);
  test_assert_message_contains (error, "holds no certificate revocation list");
  g_clear_error (&error);

  g_assert_false (gsecsock_secure_socket_context_add_crl_file (f->env.client_ctx, garbage, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CRL_FILE);
  g_clear_error (&error);
}

/* Resuming a session skips verification: turning checking on must make
 * the next connection verify again, and find the revocation. */
static void
connect_exchange_close (Fixture                     *f,
                        GSecSockSecureSocketContext *server_ctx,
                        gboolean                     expect_ok,
                        gboolean                     expect_reused)
{
  g_autoptr(GError) error = NULL;
  char buf[5] = { 0 };

  test_tls_pair_clear (&f->pair);
  test_tls_pair_init (&f->pair, f->env.client_ctx, server_ctx, "127.0.0.1", "localhost");
  g_assert_cmpint (test_tls_pair_handshake_async (&f->pair), ==, expect_ok);
  if (!expect_ok)
    return;
  g_assert_cmpint (gsecsock_secure_socket_get_session_reused (f->pair.client), ==, expect_reused);
  /* Reading lets the client take the TLS 1.3 session ticket. */
  test_write_all (G_IO_STREAM (f->pair.server), "ping", 4);
  test_read_exact (G_IO_STREAM (f->pair.client), buf, 4);
  g_assert_true (g_io_stream_close (G_IO_STREAM (f->pair.client), NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_io_stream_close (G_IO_STREAM (f->pair.server), NULL, &error));
  g_assert_no_error (error);
}

static void
test_resumption (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx = test_make_server_context ("revoked-chain.pem", "revoked.key");

  connect_exchange_close (f, server_ctx, TRUE, FALSE);
  connect_exchange_close (f, server_ctx, TRUE, TRUE);

  add_crl (f, "intermediate.crl.pem");
  gsecsock_secure_socket_context_set_check_revocation (f->env.client_ctx, GSECSOCK_REVOCATION_CHECK_LEAF);
  connect_exchange_close (f, server_ctx, FALSE, FALSE);
  g_assert_false (gsecsock_secure_socket_get_session_reused (f->pair.client));
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.client), ==,
                   GSECSOCK_CERTIFICATE_STATUS_REVOKED);
}

/* A server checks its clients' certificates the same way. */
static void
test_server_side (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx = test_make_client_context_with_certificate ("client-chain.pem", "client.key");
  g_autoptr(GError) error = NULL;

  gsecsock_secure_socket_context_set_use_system_trust (f->env.server_ctx, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (f->env.server_ctx, test_pki_path ("ca.pem"), &error));
  gsecsock_secure_socket_context_set_verify_peer (f->env.server_ctx, TRUE);
  gsecsock_secure_socket_context_set_check_revocation (f->env.server_ctx, GSECSOCK_REVOCATION_CHECK_CHAIN);

  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  g_assert_error (f->pair.server_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_test_message ("server: %s", f->pair.server_op.error->message);
  test_assert_message_contains (f->pair.server_op.error, "no CRL for issuer");
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.server), ==,
                   GSECSOCK_CERTIFICATE_STATUS_REVOCATION_UNKNOWN);

  g_assert_true (gsecsock_secure_socket_context_add_crl_file (f->env.server_ctx, test_pki_path ("crl-bundle.pem"), &error));
  test_tls_pair_clear (&f->pair);
  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (f->pair.server), ==,
                   GSECSOCK_CERTIFICATE_STATUS_TRUSTED);
}

/* A server's sessions are not resumed past a revocation check turned on
 * since: without a CRL, the client is refused (fail closed). */
static void
test_server_side_resumption (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx = test_make_client_context_with_certificate ("client-chain.pem", "client.key");
  g_autoptr(GError) error = NULL;
  char buf[4];

  gsecsock_secure_socket_context_set_use_system_trust (f->env.server_ctx, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (f->env.server_ctx, test_pki_path ("ca.pem"), &error));
  gsecsock_secure_socket_context_set_verify_peer (f->env.server_ctx, TRUE);

  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  test_write_all (G_IO_STREAM (f->pair.server), "ping", 4);   /* the client takes its ticket */
  test_read_exact (G_IO_STREAM (f->pair.client), buf, 4);

  gsecsock_secure_socket_context_set_check_revocation (f->env.server_ctx, GSECSOCK_REVOCATION_CHECK_CHAIN);
  test_tls_pair_clear (&f->pair);
  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  g_assert_error (f->pair.server_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_assert_false (gsecsock_secure_socket_get_session_reused (f->pair.server));
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/revocation/default-none", test_default_none);
  ADD ("/revocation/leaf/revoked", test_leaf_revoked);
  ADD ("/revocation/leaf/revoked-der", test_leaf_revoked_der);
  ADD ("/revocation/leaf/missing-crl", test_leaf_missing_crl);
  ADD ("/revocation/leaf/expired-crl", test_leaf_expired_crl);
  ADD ("/revocation/chain/missing-root-crl", test_chain_missing_root_crl);
  ADD ("/revocation/chain/revoked-intermediate", test_chain_revoked_intermediate);
  ADD ("/revocation/handler-soft-fail", test_handler_soft_fail);
  ADD ("/revocation/clear-crls", test_clear_crls);
  ADD ("/revocation/bad-files", test_bad_files);
  ADD ("/revocation/resumption", test_resumption);
  ADD ("/revocation/server-side", test_server_side);
  ADD ("/revocation/server-side-resumption", test_server_side_resumption);

  return g_test_run ();
}
