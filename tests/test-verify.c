/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Certificate verification: every GSecSockCertificateFlags problem the
 * test PKI can produce, on the client and (client certificates) on the
 * server, with the errors and alerts both ends see. */
#include "test-utils.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

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

typedef struct {
  const char *chain;
  const char *key;
  const char *peer_name;
  gboolean no_verify;            /* client verify-peer FALSE */
  GSecSockCertificateFlags flags;
  const char *client_message[3]; /* substrings of the client's error */
  const char *server_alert;      /* substring of the server's error; NULL: not checked */
} VerifyCase;

static const VerifyCase case_ok_dns = {
  "server-chain.pem", "server.key", "localhost", FALSE, GSECSOCK_CERTIFICATE_NO_FLAGS, { NULL }, NULL,
};
static const VerifyCase case_ok_ip = {
  "server-chain.pem", "server.key", "127.0.0.1", FALSE, GSECSOCK_CERTIFICATE_NO_FLAGS, { NULL }, NULL,
};
static const VerifyCase case_expired = {
  "expired-chain.pem", "expired.key", "localhost", FALSE, GSECSOCK_CERTIFICATE_EXPIRED,
  { "expired", "localhost", NULL }, "certificate expired",
};
static const VerifyCase case_not_activated = {
  "notyet-chain.pem", "notyet.key", "localhost", FALSE, GSECSOCK_CERTIFICATE_NOT_ACTIVATED,
  { "localhost", NULL }, "bad certificate",
};
static const VerifyCase case_wrong_host = {
  "wronghost-chain.pem", "wronghost.key", "localhost", FALSE, GSECSOCK_CERTIFICATE_BAD_IDENTITY,
  { "localhost", NULL }, "bad certificate",
};
static const VerifyCase case_wrong_peer_name = {
  "server-chain.pem", "server.key", "wrong.example", FALSE, GSECSOCK_CERTIFICATE_BAD_IDENTITY,
  { "wrong.example", NULL }, "bad certificate",
};
static const VerifyCase case_wrong_ip = {
  "server-chain.pem", "server.key", "127.0.0.2", FALSE, GSECSOCK_CERTIFICATE_BAD_IDENTITY,
  { "127.0.0.2", NULL }, "bad certificate",
};
static const VerifyCase case_self_signed = {
  "selfsigned.pem", "selfsigned.key", "localhost", FALSE,
  GSECSOCK_CERTIFICATE_SELF_SIGNED | GSECSOCK_CERTIFICATE_UNKNOWN_CA,
  { "localhost", NULL }, "unknown CA",
};
static const VerifyCase case_untrusted = {
  "untrusted-chain.pem", "untrusted.key", "localhost", FALSE, GSECSOCK_CERTIFICATE_UNKNOWN_CA,
  { "localhost", NULL }, "unknown CA",
};
static const VerifyCase case_incomplete = {
  "server.pem", "server.key", "localhost", FALSE,
  GSECSOCK_CERTIFICATE_INCOMPLETE_CHAIN | GSECSOCK_CERTIFICATE_UNKNOWN_CA,
  { "localhost", NULL }, "unknown CA",
};
/* Verification collects every problem, not only the first. */
static const VerifyCase case_expired_wrong_host = {
  "expired-chain.pem", "expired.key", "wrong.example", FALSE,
  GSECSOCK_CERTIFICATE_EXPIRED | GSECSOCK_CERTIFICATE_BAD_IDENTITY,
  { "wrong.example", NULL }, NULL,
};
/* A client certificate presented by a server: not valid for TLS server
 * authentication, and not for "localhost" either. */
static const VerifyCase case_wrong_purpose = {
  "client-chain.pem", "client.key", "localhost", FALSE,
  GSECSOCK_CERTIFICATE_GENERIC_ERROR | GSECSOCK_CERTIFICATE_BAD_IDENTITY,
  { "localhost", NULL }, NULL,
};
/* verify-peer FALSE: the handshake goes on, the problems are still
 * reported. */
static const VerifyCase case_no_verify_self_signed = {
  "selfsigned.pem", "selfsigned.key", "localhost", TRUE,
  GSECSOCK_CERTIFICATE_SELF_SIGNED | GSECSOCK_CERTIFICATE_UNKNOWN_CA, { NULL }, NULL,
};
static const VerifyCase case_no_verify_expired_wrong_host = {
  "expired-chain.pem", "expired.key", "wrong.example", TRUE,
  GSECSOCK_CERTIFICATE_EXPIRED | GSECSOCK_CERTIFICATE_BAD_IDENTITY, { NULL }, NULL,
};

static void
assert_verify_outcome (Fixture          *f,
                       const VerifyCase *tc)
{
  gboolean should_succeed = tc->flags == GSECSOCK_CERTIFICATE_NO_FLAGS || tc->no_verify;
  guint prop_errors = 0;

  g_assert_true (f->pair.client_op.done && f->pair.server_op.done);
  g_object_get (f->pair.client, "certificate-errors", &prop_errors, NULL);

  if (should_succeed)
    {
      g_autoptr(GSecSockCertificate) leaf = test_load_certificate (tc->chain);

      g_assert_no_error (f->pair.client_op.error);
      g_assert_no_error (f->pair.server_op.error);
      g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, tc->flags);
      g_assert_cmphex (prop_errors, ==, tc->flags);
      g_assert_true (gsecsock_secure_socket_get_handshake_complete (f->pair.client));
      g_assert_true (gsecsock_certificate_equal (gsecsock_secure_socket_get_peer_certificate (f->pair.client), leaf));

      /* And data flows. */
      {
        char buf[3] = { 0 };

        test_write_all (G_IO_STREAM (f->pair.client), "hi", 2);
        test_read_exact (G_IO_STREAM (f->pair.server), buf, 2);
        g_assert_cmpstr (buf, ==, "hi");
      }
      return;
    }

  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_test_message ("client error: %s", f->pair.client_op.error->message);
  for (guint i = 0; tc->client_message[i] != NULL; i++)
    test_assert_message_contains (f->pair.client_op.error, tc->client_message[i]);
  /* The full set of problems stays readable after the failure. */
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, tc->flags);
  g_assert_cmphex (prop_errors, ==, tc->flags);
  g_assert_false (gsecsock_secure_socket_get_handshake_complete (f->pair.client));

  /* The server learns of the rejection through the client's alert. */
  g_assert_error (f->pair.server_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_HANDSHAKE_FAILED);
  g_test_message ("server error: %s", f->pair.server_op.error->message);
  if (tc->server_alert != NULL)
    test_assert_message_contains (f->pair.server_op.error, tc->server_alert);
  g_assert_false (gsecsock_secure_socket_get_handshake_complete (f->pair.server));
}

static void
run_case (Fixture          *f,
          const VerifyCase *tc,
          gboolean          sync)
{
  f->env.server_ctx = test_make_server_context (tc->chain, tc->key);
  if (tc->no_verify)
    gsecsock_secure_socket_context_set_verify_peer (f->env.client_ctx, FALSE);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", tc->peer_name);
  if (sync)
    test_tls_pair_handshake_sync (&f->pair);
  else
    test_tls_pair_handshake_async (&f->pair);
  assert_verify_outcome (f, tc);
}

static void
test_case_async (Fixture       *f,
                 gconstpointer  data)
{
  run_case (f, data, FALSE);
}

static void
test_case_sync (Fixture       *f,
                gconstpointer  data)
{
  run_case (f, data, TRUE);
}

static void
test_case_tls12 (Fixture       *f,
                 gconstpointer  data)
{
  gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  run_case (f, data, FALSE);
  if (f->pair.client_op.ok)
    g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
}

/* A connection that may be resumed later: data both ways (so a TLS 1.3
 * client gets its session ticket), then a clean close on both ends. */
static void
exchange_and_close (TestTlsPair *pair)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *rest = NULL;
  char buf[3] = { 0 };

  test_write_all (G_IO_STREAM (pair->client), "hi", 2);
  test_read_exact (G_IO_STREAM (pair->server), buf, 2);
  g_assert_cmpstr (buf, ==, "hi");
  test_write_all (G_IO_STREAM (pair->server), "ho", 2);
  test_read_exact (G_IO_STREAM (pair->client), buf, 2);
  g_assert_cmpstr (buf, ==, "ho");
  g_assert_true (g_io_stream_close (G_IO_STREAM (pair->client), NULL, &error));
  g_assert_no_error (error);
  rest = test_read_to_eof (G_IO_STREAM (pair->server), 1024, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rest, ==, "");
  g_assert_true (g_io_stream_close (G_IO_STREAM (pair->server), NULL, &error));
  g_assert_no_error (error);
}

/* A session made without verification (verify-peer FALSE) must not let a
 * later, verifying connection skip verification by resuming it. */
static void
test_no_verify_session_not_resumed (Fixture       *f,
                                    gconstpointer  data)
{
  GSecSockProtocolVersion version = GPOINTER_TO_UINT (data);
  GSecSockCertificateFlags flags = GSECSOCK_CERTIFICATE_SELF_SIGNED | GSECSOCK_CERTIFICATE_UNKNOWN_CA;

  f->env.server_ctx = test_make_server_context ("selfsigned.pem", "selfsigned.key");
  gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx, version);
  gsecsock_secure_socket_context_set_verify_peer (f->env.client_ctx, FALSE);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==, version);
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, flags);
  exchange_and_close (&f->pair);
  test_tls_pair_clear (&f->pair);

  /* Same context, same peer name, now verifying: a full handshake, which
   * rejects the certificate. */
  gsecsock_secure_socket_context_set_verify_peer (f->env.client_ctx, TRUE);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  g_assert_false (gsecsock_secure_socket_get_session_reused (f->pair.client));
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, flags);
  g_assert_false (gsecsock_secure_socket_get_handshake_complete (f->pair.client));
  g_assert_nonnull (f->pair.server_op.error);
}

/* With verify-peer FALSE the application judges the certificate itself
 * from certificate-errors: every connection must report the problems, not
 * only the first one (a resumed session would skip verification). */
static void
test_no_verify_errors_every_time (Fixture       *f,
                                  gconstpointer  data)
{
  GSecSockProtocolVersion version = GPOINTER_TO_UINT (data);
  GSecSockCertificateFlags flags = GSECSOCK_CERTIFICATE_SELF_SIGNED | GSECSOCK_CERTIFICATE_UNKNOWN_CA;
  g_autoptr(GSecSockCertificate) leaf = test_load_certificate ("selfsigned.pem");

  f->env.server_ctx = test_make_server_context ("selfsigned.pem", "selfsigned.key");
  gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx, version);
  gsecsock_secure_socket_context_set_verify_peer (f->env.client_ctx, FALSE);
  for (guint i = 0; i < 3; i++)
    {
      test_tls_pair_clear (&f->pair);
      test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
      g_assert_true (test_tls_pair_handshake_async (&f->pair));
      g_test_message ("connection %u: session reused: %d", i,
                      gsecsock_secure_socket_get_session_reused (f->pair.client));
      g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, flags);
      g_assert_true (gsecsock_certificate_equal (gsecsock_secure_socket_get_peer_certificate (f->pair.client), leaf));
      exchange_and_close (&f->pair);
    }
}

static void
test_ipv6_literal (Fixture       *f,
                   gconstpointer  data)
{
  if (!test_ipv6_loopback_available ())
    {
      g_test_skip ("IPv6 loopback (::1) is not available");
      return;
    }
  f->env.server_ctx = test_make_server_context ("server-chain.pem", "server.key");
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "::1", "::1");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, 0);

  /* ::2 is not in the certificate's IP SANs. */
  test_tls_pair_clear (&f->pair);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "::1", "::2");
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, GSECSOCK_CERTIFICATE_BAD_IDENTITY);
}

static void
test_trust_bundle_completes_chain (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  g_autoptr(GError) error = NULL;

  /* The server forgets its intermediate, but the client trusts a bundle
   * that has it: the chain is complete from the client's point of view. */
  gsecsock_secure_socket_context_set_use_system_trust (ctx, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (ctx, test_pki_path ("bundle.pem"), &error));
  g_assert_no_error (error);
  f->env.server_ctx = test_make_server_context ("server.pem", "server.key");
  test_tls_pair_init (&f->pair, ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, 0);
}

static void
test_trust_anchor_object (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  g_autoptr(GSecSockCertificate) ca = test_load_certificate ("ca.pem");

  gsecsock_secure_socket_context_set_use_system_trust (ctx, FALSE);
  gsecsock_secure_socket_context_add_trust_anchor (ctx, ca);
  f->env.server_ctx = test_make_server_context ("server-chain.pem", "server.key");
  test_tls_pair_init (&f->pair, ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, 0);
}

static void
test_trust_none (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);

  /* No trust at all: nothing verifies, and it says so. */
  gsecsock_secure_socket_context_set_use_system_trust (ctx, FALSE);
  f->env.server_ctx = test_make_server_context ("server-chain.pem", "server.key");
  test_tls_pair_init (&f->pair, ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_test_message ("client error: %s", f->pair.client_op.error->message);
  /* The peer sent its intermediate; what is unknown is the root above it.
   * Not an incomplete chain, and the message must name the root. */
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, GSECSOCK_CERTIFICATE_UNKNOWN_CA);
  test_assert_message_contains (f->pair.client_op.error, "gsecsock Test Root CA");
}

static void
test_trust_system_only (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);

  /* The test CA is not in the system store: the (complete, as usual
   * without the root) chain ends in an unknown CA. */
  f->env.server_ctx = test_make_server_context ("server-chain.pem", "server.key");
  test_tls_pair_init (&f->pair, ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_test_message ("client error: %s", f->pair.client_op.error->message);
  /* The peer sent its intermediate; what is unknown is the root above it.
   * Not an incomplete chain, and the message must name the root. */
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, GSECSOCK_CERTIFICATE_UNKNOWN_CA);
  test_assert_message_contains (f->pair.client_op.error, "gsecsock Test Root CA");
}

static void
test_trust_system_and_anchor (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  g_autoptr(GError) error = NULL;

  /* Extra anchors add to the system store. */
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (ctx, test_pki_path ("ca.pem"), &error));
  g_assert_no_error (error);
  g_assert_true (gsecsock_secure_socket_context_get_use_system_trust (ctx));
  f->env.server_ctx = test_make_server_context ("server-chain.pem", "server.key");
  test_tls_pair_init (&f->pair, ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, 0);
}

static gboolean
handshake_with (Fixture *f, GSecSockSecureSocketContext *client_ctx, const char *chain, const char *key)
{
  gboolean ok;

  test_tls_pair_clear (&f->pair);
  g_clear_object (&f->env.server_ctx);
  f->env.server_ctx = test_make_server_context (chain, key);
  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  ok = test_tls_pair_handshake_async (&f->pair);
  if (!ok)
    g_test_message ("client error: %s", f->pair.client_op.error->message);
  return ok;
}

/* The system's authorities are parsed once per process and shared: by a
 * context that trusts nothing else as they are, by one with extra anchors
 * as a copy those anchors are added to. Run in a subprocess whose "system"
 * store (SSL_CERT_FILE, read by OpenSSL when the store is first loaded) is
 * the test CA, so that system trust can succeed. */
static void
test_trust_system_shared (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) system_only = NULL;
  g_autoptr(GSecSockSecureSocketContext) with_anchor = NULL;
  g_autoptr(GSecSockSecureSocketContext) system_again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *bundle_path = NULL;
  g_autofree char *ca = NULL, *crls = NULL, *bundle = NULL;
  int fd;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  /* The "system" bundle: the test CA and the test PKI's revocation lists. */
  bundle_path = g_build_filename (g_get_tmp_dir (), "gsecsock-test-system-bundle-XXXXXX.pem", NULL);
  fd = g_mkstemp (bundle_path);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  g_assert_true (g_file_get_contents (test_pki_path ("ca.pem"), &ca, NULL, NULL));
  g_assert_true (g_file_get_contents (test_pki_path ("crl-bundle.pem"), &crls, NULL, NULL));
  bundle = g_strconcat (ca, crls, NULL);
  g_assert_true (g_file_set_contents (bundle_path, bundle, -1, &error));
  g_assert_no_error (error);
  g_assert_true (g_setenv ("SSL_CERT_FILE", bundle_path, TRUE));
  g_assert_true (g_setenv ("SSL_CERT_DIR", "/nonexistent", TRUE));

  system_only = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  g_assert_true (handshake_with (f, system_only, "server-chain.pem", "server.key"));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, 0);

  /* Extra anchors come on top of the system's. */
  with_anchor = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (with_anchor, test_pki_path ("untrusted-ca.pem"), &error));
  g_assert_no_error (error);
  g_assert_true (handshake_with (f, with_anchor, "server-chain.pem", "server.key"));
  g_assert_true (handshake_with (f, with_anchor, "untrusted-chain.pem", "untrusted.key"));

  /* The system bundle's revocation lists come along too, shared or copied. */
  gsecsock_secure_socket_context_set_check_revocation (system_only, GSECSOCK_REVOCATION_CHECK_CHAIN);
  gsecsock_secure_socket_context_set_check_revocation (with_anchor, GSECSOCK_REVOCATION_CHECK_CHAIN);
  g_assert_true (handshake_with (f, system_only, "server-chain.pem", "server.key"));
  g_assert_true (handshake_with (f, with_anchor, "server-chain.pem", "server.key"));
  g_assert_false (handshake_with (f, with_anchor, "revoked-chain.pem", "revoked.key"));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), &, GSECSOCK_CERTIFICATE_REVOKED);

  /* ... and never leak into the shared store. */
  system_again = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  g_assert_false (handshake_with (f, system_again, "untrusted-chain.pem", "untrusted.key"));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, GSECSOCK_CERTIFICATE_UNKNOWN_CA);
  g_assert_true (handshake_with (f, system_again, "server-chain.pem", "server.key"));

  /* Turning system trust off takes effect for the next socket. */
  gsecsock_secure_socket_context_set_use_system_trust (system_again, FALSE);
  g_assert_false (handshake_with (f, system_again, "server-chain.pem", "server.key"));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, GSECSOCK_CERTIFICATE_UNKNOWN_CA);
  g_unlink (bundle_path);
}

/* Client certificates: a server with verify-peer TRUE. */
static GSecSockSecureSocketContext *
make_verifying_server (void)
{
  GSecSockSecureSocketContext *ctx = test_make_server_context ("server-chain.pem", "server.key");
  g_autoptr(GError) error = NULL;

  gsecsock_secure_socket_context_set_verify_peer (ctx, TRUE);
  gsecsock_secure_socket_context_set_use_system_trust (ctx, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (ctx, test_pki_path ("ca.pem"), &error));
  g_assert_no_error (error);
  return ctx;
}

static void
test_client_cert_ok (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx = test_make_client_context_with_certificate ("client-chain.pem", "client.key");
  g_autoptr(GSecSockCertificate) client_cert = test_load_certificate ("client.pem");
  g_autoptr(GSecSockCertificate) intermediate = test_load_certificate ("intermediate.pem");
  g_autoptr(GSecSockCertificate) second = NULL;
  GListModel *chain;

  f->env.server_ctx = make_verifying_server ();
  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_true (gsecsock_certificate_equal (gsecsock_secure_socket_get_peer_certificate (f->pair.server), client_cert));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.server), ==, 0);
  chain = gsecsock_secure_socket_get_peer_certificate_chain (f->pair.server);
  g_assert_nonnull (chain);
  g_assert_cmpuint (g_list_model_get_n_items (chain), ==, 2);
  second = g_list_model_get_item (chain, 1);
  g_assert_true (gsecsock_certificate_equal (second, intermediate));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, 0);
}

/* Runs the handshake and, if the client's side of it succeeded (in TLS 1.3
 * the client finishes before the server has judged its certificate), one
 * read: the server's alert must surface as an error there. Checks the
 * error's code for where it happened. */
static GError *
client_error_after_rejection (Fixture *f)
{
  GError *error = NULL;
  char buf[16];

  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  if (f->pair.client_op.error != NULL)
    {
      error = g_error_copy (f->pair.client_op.error);
      g_assert_true (error->domain == GSECSOCK_ERROR);
      g_assert_true (error->code == GSECSOCK_ERROR_HANDSHAKE_FAILED ||
                     error->code == GSECSOCK_ERROR_CERTIFICATE_REJECTED);
      return error;
    }
  g_assert_cmpint (g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (f->pair.client)),
                                        buf, sizeof buf, NULL, &error), ==, -1);
  g_assert_nonnull (error);
  g_test_message ("client error (on read after the handshake): %s", error->message);
  /* A fatal alert after the client's handshake ended: reported as what it
   * is about (the certificate), or as a protocol failure. */
  g_assert_true (error->domain == GSECSOCK_ERROR);
  g_assert_true (error->code == GSECSOCK_ERROR_PROTOCOL ||
                 error->code == GSECSOCK_ERROR_HANDSHAKE_FAILED ||
                 error->code == GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  return error;
}

static void
test_client_cert_missing (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) client_error = NULL;

  f->env.server_ctx = make_verifying_server ();
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  client_error = client_error_after_rejection (f);

  g_assert_error (f->pair.server_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  test_assert_message_contains (f->pair.server_op.error, "certificate");
  g_test_message ("server error: %s", f->pair.server_op.error->message);
  g_assert_null (gsecsock_secure_socket_get_peer_certificate (f->pair.server));

  g_test_message ("client error: %s", client_error->message);
  /* The alert is certificate_required (116, RFC 8446) in TLS 1.3. */
  test_assert_message_contains (client_error, "certificate");
}

static void
test_client_cert_untrusted (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx = test_make_client_context ();
  g_autoptr(GError) client_error = NULL;
  g_autoptr(GError) error = NULL;

  /* The server trusts only the untrusted CA; the client presents a good
   * certificate from the test CA, which this server does not know. */
  f->env.server_ctx = test_make_server_context ("server-chain.pem", "server.key");
  gsecsock_secure_socket_context_set_verify_peer (f->env.server_ctx, TRUE);
  gsecsock_secure_socket_context_set_use_system_trust (f->env.server_ctx, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (f->env.server_ctx, test_pki_path ("untrusted-ca.pem"), &error));
  g_assert_no_error (error);
  g_assert_true (gsecsock_secure_socket_context_load_certificate_file (client_ctx, test_pki_path ("client-chain.pem"),
                                                                      test_pki_path ("client.key"), &error));
  g_assert_no_error (error);

  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  client_error = client_error_after_rejection (f);

  g_assert_error (f->pair.server_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.server), ==, GSECSOCK_CERTIFICATE_UNKNOWN_CA);
  g_test_message ("server error: %s", f->pair.server_op.error->message);
  g_test_message ("client error: %s", client_error->message);
  g_assert_true (client_error->domain == GSECSOCK_ERROR);
  test_assert_message_contains (client_error, "unknown CA");
}

static void
test_client_cert_wrong_purpose (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx = test_make_client_context_with_certificate ("server-chain.pem", "server.key");
  g_autoptr(GError) client_error = NULL;

  /* A server certificate (serverAuth only) used as a client certificate. */
  f->env.server_ctx = make_verifying_server ();
  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  client_error = client_error_after_rejection (f);

  g_assert_error (f->pair.server_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.server), ==, GSECSOCK_CERTIFICATE_GENERIC_ERROR);
  g_assert_true (client_error->domain == GSECSOCK_ERROR);
}

static void
test_client_cert_optional_not_requested (Fixture       *f,
                                         gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx = test_make_client_context_with_certificate ("client-chain.pem", "client.key");

  /* A server that does not ask for a certificate never sees one. */
  f->env.server_ctx = test_make_server_context ("server-chain.pem", "server.key");
  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_null (gsecsock_secure_socket_get_peer_certificate (f->pair.server));
}

/* A server does not load the system's authorities while it does not ask for
 * client certificates; once it asks, they must be there, even though its
 * first sockets were made without them. The system store is OpenSSL's
 * SSL_CERT_FILE, set to the test CA in a child process. */
static void
test_client_cert_system_trust_after_first_socket (Fixture       *f,
                                                  gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx = NULL;
  g_autoptr(GSecSockSecureSocketContext) no_system_ctx = NULL;
  g_autofree char *no_cert_dir = NULL;
  TestTlsPair second = { 0 };
  TestTlsPair control = { 0 };

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      return;
    }

  no_cert_dir = test_tmp_path ("no-system-certificates");
  g_setenv ("SSL_CERT_FILE", test_pki_path ("ca.pem"), TRUE);
  g_setenv ("SSL_CERT_DIR", no_cert_dir, TRUE);

  client_ctx = test_make_client_context_with_certificate ("client-chain.pem", "client.key");
  f->env.server_ctx = test_make_server_context ("server-chain.pem", "server.key");
  g_assert_true (gsecsock_secure_socket_context_get_use_system_trust (f->env.server_ctx));
  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_null (gsecsock_secure_socket_get_peer_certificate (f->pair.server));

  gsecsock_secure_socket_context_set_client_auth (f->env.server_ctx, GSECSOCK_CLIENT_AUTH_REQUIRE);
  test_tls_pair_init (&second, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&second));
  g_assert_nonnull (gsecsock_secure_socket_get_peer_certificate (second.server));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (second.server), ==, 0);
  test_tls_pair_clear (&second);

  /* The control: without the system's authorities, the same client is
   * refused, so what accepted it above was SSL_CERT_FILE. */
  no_system_ctx = test_make_server_context ("server-chain.pem", "server.key");
  gsecsock_secure_socket_context_set_use_system_trust (no_system_ctx, FALSE);
  gsecsock_secure_socket_context_set_client_auth (no_system_ctx, GSECSOCK_CLIENT_AUTH_REQUIRE);
  test_tls_pair_init (&control, client_ctx, no_system_ctx, "127.0.0.1", "localhost");
  test_tls_pair_handshake_async (&control);
  g_assert_error (control.server_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  test_tls_pair_clear (&control);
}

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_setup, func, fixture_teardown)

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

  ADD ("/verify/ok/dns-name", test_case_async, &case_ok_dns);
  ADD ("/verify/ok/ip-address", test_case_async, &case_ok_ip);
  ADD ("/verify/ok/ipv6-address", test_ipv6_literal, NULL);
  ADD ("/verify/ok/sync", test_case_sync, &case_ok_dns);
  ADD ("/verify/expired", test_case_async, &case_expired);
  ADD ("/verify/expired/sync", test_case_sync, &case_expired);
  ADD ("/verify/expired/tls12", test_case_tls12, &case_expired);
  ADD ("/verify/not-activated", test_case_async, &case_not_activated);
  ADD ("/verify/bad-identity/wrong-host-certificate", test_case_async, &case_wrong_host);
  ADD ("/verify/bad-identity/wrong-peer-name", test_case_async, &case_wrong_peer_name);
  ADD ("/verify/bad-identity/wrong-ip-address", test_case_async, &case_wrong_ip);
  ADD ("/verify/self-signed", test_case_async, &case_self_signed);
  ADD ("/verify/self-signed/tls12", test_case_tls12, &case_self_signed);
  ADD ("/verify/unknown-ca", test_case_async, &case_untrusted);
  ADD ("/verify/incomplete-chain", test_case_async, &case_incomplete);
  ADD ("/verify/several-problems", test_case_async, &case_expired_wrong_host);
  ADD ("/verify/wrong-purpose", test_case_async, &case_wrong_purpose);
  ADD ("/verify/no-verify/self-signed", test_case_async, &case_no_verify_self_signed);
  ADD ("/verify/no-verify/expired-wrong-host", test_case_async, &case_no_verify_expired_wrong_host);
  ADD ("/verify/no-verify/session-not-resumed-when-verifying/tls13", test_no_verify_session_not_resumed,
       GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_3));
  ADD ("/verify/no-verify/session-not-resumed-when-verifying/tls12", test_no_verify_session_not_resumed,
       GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_2));
  ADD ("/verify/no-verify/errors-reported-every-connection/tls13", test_no_verify_errors_every_time,
       GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_3));
  ADD ("/verify/no-verify/errors-reported-every-connection/tls12", test_no_verify_errors_every_time,
       GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_2));
  ADD ("/verify/trust/bundle-completes-chain", test_trust_bundle_completes_chain, NULL);
  ADD ("/verify/trust/anchor-object", test_trust_anchor_object, NULL);
  ADD ("/verify/trust/none", test_trust_none, NULL);
  ADD ("/verify/trust/system-only", test_trust_system_only, NULL);
  ADD ("/verify/trust/system-and-anchor", test_trust_system_and_anchor, NULL);
  ADD ("/verify/trust/system-shared", test_trust_system_shared, NULL);
  ADD ("/verify/client-certificate/ok", test_client_cert_ok, NULL);
  ADD ("/verify/client-certificate/missing", test_client_cert_missing, NULL);
  ADD ("/verify/client-certificate/unknown-ca", test_client_cert_untrusted, NULL);
  ADD ("/verify/client-certificate/wrong-purpose", test_client_cert_wrong_purpose, NULL);
  ADD ("/verify/client-certificate/not-requested", test_client_cert_optional_not_requested, NULL);
  ADD ("/verify/client-certificate/system-trust-after-first-socket",
       test_client_cert_system_trust_after_first_socket, NULL);

  return g_test_run ();
}
