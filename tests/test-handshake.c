/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Handshakes that succeed: sync and async, TLS 1.2 and 1.3, connect(),
 * ALPN, key logging, session resumption, and the threading model. */
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

static void
assert_chain_is (GListModel  *chain,
                 const char **names)
{
  guint n = g_strv_length ((char **) names);

  g_assert_nonnull (chain);
  g_assert_true (g_list_model_get_item_type (chain) == GSECSOCK_TYPE_CERTIFICATE);
  g_assert_cmpuint (g_list_model_get_n_items (chain), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GSecSockCertificate) got = g_list_model_get_item (chain, i);
      g_autoptr(GSecSockCertificate) expected = test_load_certificate (names[i]);

      g_assert_true (gsecsock_certificate_equal (got, expected));
    }
}

/* Everything that must hold on both ends after a good handshake with the
 * default server (server-chain.pem) and no client certificate. */
static void
assert_established (TestTlsPair             *pair,
                    GSecSockProtocolVersion  version)
{
  g_autoptr(GSecSockCertificate) server_cert = test_load_certificate ("server.pem");
  GListModel *server_chain;
  const char *cipher;
  int prop_version = 0;
  gboolean prop_complete = FALSE;
  g_autofree char *prop_cipher = NULL;
  g_autoptr(GSecSockCertificate) prop_cert = NULL;

  g_assert_no_error (pair->client_op.error);
  g_assert_no_error (pair->server_op.error);

  g_assert_true (gsecsock_secure_socket_get_handshake_complete (pair->client));
  g_assert_true (gsecsock_secure_socket_get_handshake_complete (pair->server));
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (pair->client), ==, version);
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (pair->server), ==, version);

  cipher = gsecsock_secure_socket_get_cipher_name (pair->client);
  g_assert_nonnull (cipher);
  g_assert_cmpstr (cipher, ==, gsecsock_secure_socket_get_cipher_name (pair->server));
  if (version == GSECSOCK_PROTOCOL_VERSION_TLS_1_3)
    g_assert_true (g_str_has_prefix (cipher, "TLS_"));
  else
    g_assert_nonnull (strstr (cipher, "ECDHE-ECDSA-")); /* P-256 keys, forward secrecy */

  g_assert_cmpuint (gsecsock_secure_socket_get_certificate_errors (pair->client), ==, GSECSOCK_CERTIFICATE_NO_FLAGS);
  g_assert_true (gsecsock_certificate_equal (gsecsock_secure_socket_get_peer_certificate (pair->client), server_cert));
  assert_chain_is (gsecsock_secure_socket_get_peer_certificate_chain (pair->client),
                   (const char *[]) { "server.pem", "intermediate.pem", NULL });

  /* No client certificate was asked for. */
  g_assert_null (gsecsock_secure_socket_get_peer_certificate (pair->server));
  server_chain = gsecsock_secure_socket_get_peer_certificate_chain (pair->server);
  g_assert_true (server_chain == NULL || g_list_model_get_n_items (server_chain) == 0);

  /* The properties agree with the getters. */
  g_object_get (pair->client,
                "protocol-version", &prop_version,
                "handshake-complete", &prop_complete,
                "cipher-name", &prop_cipher,
                "peer-certificate", &prop_cert,
                NULL);
  g_assert_cmpint (prop_version, ==, version);
  g_assert_true (prop_complete);
  g_assert_cmpstr (prop_cipher, ==, cipher);
  g_assert_true (gsecsock_certificate_equal (prop_cert, server_cert));
}

/* A round trip of application data, with blocking calls. Small enough to
 * never block on a full TCP buffer, so it can run in one thread. */
static void
exchange_ping_pong (TestTlsPair *pair)
{
  char buf[5] = { 0 };

  test_write_all (G_IO_STREAM (pair->client), "ping", 4);
  test_read_exact (G_IO_STREAM (pair->server), buf, 4);
  g_assert_cmpstr (buf, ==, "ping");
  test_write_all (G_IO_STREAM (pair->server), "pong", 4);
  test_read_exact (G_IO_STREAM (pair->client), buf, 4);
  g_assert_cmpstr (buf, ==, "pong");
}

static void
test_sync_tls13 (Fixture       *f,
                 gconstpointer  data)
{
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_sync (&f->pair));
  assert_established (&f->pair, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  exchange_ping_pong (&f->pair);
}

static void
test_async_tls13 (Fixture       *f,
                  gconstpointer  data)
{
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  assert_established (&f->pair, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  exchange_ping_pong (&f->pair);
}

typedef enum {
  CAP_CLIENT = 1 << 0,
  CAP_SERVER = 1 << 1,
} CapSide;

static void
test_async_tls12 (Fixture       *f,
                  gconstpointer  data)
{
  CapSide sides = GPOINTER_TO_UINT (data);

  if (sides & CAP_CLIENT)
    gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  if (sides & CAP_SERVER)
    gsecsock_secure_socket_context_set_max_protocol_version (f->env.server_ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  assert_established (&f->pair, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  exchange_ping_pong (&f->pair);
}

static void
test_version_mismatch (Fixture       *f,
                       gconstpointer  data)
{
  gboolean client_is_old = GPOINTER_TO_UINT (data);

  if (client_is_old)
    {
      gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
      gsecsock_secure_socket_context_set_min_protocol_version (f->env.server_ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
    }
  else
    {
      gsecsock_secure_socket_context_set_min_protocol_version (f->env.client_ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
      gsecsock_secure_socket_context_set_max_protocol_version (f->env.server_ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
    }
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION);
  g_assert_error (f->pair.server_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION);
  g_test_message ("client: %s", f->pair.client_op.error->message);
  g_test_message ("server: %s", f->pair.server_op.error->message);
  g_assert_false (gsecsock_secure_socket_get_handshake_complete (f->pair.client));
  g_assert_false (gsecsock_secure_socket_get_handshake_complete (f->pair.server));
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==, GSECSOCK_PROTOCOL_VERSION_UNKNOWN);
}

static void
test_properties_before_handshake (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) prop_ctx = NULL;
  g_autoptr(GIOStream) prop_base = NULL;
  g_autofree char *prop_peer = NULL;
  gboolean complete = TRUE, reused = TRUE, require = FALSE;
  int version = -1;
  guint errors = 0xffff;

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (gsecsock_secure_socket_get_context (f->pair.client) == f->env.client_ctx);
  g_assert_true (gsecsock_secure_socket_get_base_stream (f->pair.client) == G_IO_STREAM (f->pair.client_conn));
  g_assert_cmpstr (gsecsock_secure_socket_get_peer_name (f->pair.client), ==, "localhost");
  g_assert_null (gsecsock_secure_socket_get_peer_name (f->pair.server));
  g_assert_true (gsecsock_secure_socket_get_require_close_notify (f->pair.client));

  g_object_get (f->pair.client,
                "context", &prop_ctx,
                "base-stream", &prop_base,
                "peer-name", &prop_peer,
                "handshake-complete", &complete,
                "session-reused", &reused,
                "protocol-version", &version,
                "certificate-errors", &errors,
                "require-close-notify", &require,
                NULL);
  g_assert_true (prop_ctx == f->env.client_ctx);
  g_assert_true (prop_base == G_IO_STREAM (f->pair.client_conn));
  g_assert_cmpstr (prop_peer, ==, "localhost");
  g_assert_false (complete);
  g_assert_false (reused);
  g_assert_true (require);
  g_assert_cmpint (version, ==, GSECSOCK_PROTOCOL_VERSION_UNKNOWN);
  g_assert_cmpuint (errors, ==, 0);

  g_assert_null (gsecsock_secure_socket_get_cipher_name (f->pair.client));
  g_assert_null (gsecsock_secure_socket_get_alpn_protocol (f->pair.client));
  g_assert_null (gsecsock_secure_socket_get_peer_certificate (f->pair.client));
  g_assert_false (gsecsock_secure_socket_get_handshake_complete (f->pair.client));

  /* The socket's streams are pollable (GIO's contract for network streams). */
  g_assert_true (G_IS_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (G_IO_STREAM (f->pair.client))));
  g_assert_true (G_IS_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (G_IO_STREAM (f->pair.client))));
}

static void
test_context_changes_apply_later (Fixture       *f,
                                  gconstpointer  data)
{
  TestTlsPair later;

  /* The first pair is made before the change, the second after. */
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  test_tls_pair_init (&later, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");

  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_true (test_tls_pair_handshake_async (&later));
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (later.client), ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  test_tls_pair_clear (&later);
}

/* Implicit handshake: the first read/write does it. */
static gpointer
implicit_server_thread (gpointer data)
{
  TestTlsPair *pair = data;
  char buf[5] = { 0 };

  test_read_exact (G_IO_STREAM (pair->server), buf, 4);
  g_assert_cmpstr (buf, ==, "ping");
  test_write_all (G_IO_STREAM (pair->server), "pong", 4);
  return NULL;
}

static void
test_implicit_sync (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("implicit handshake");
  char buf[5] = { 0 };
  GThread *thread;

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  thread = g_thread_new ("server", implicit_server_thread, &f->pair);
  test_write_all (G_IO_STREAM (f->pair.client), "ping", 4);
  test_read_exact (G_IO_STREAM (f->pair.client), buf, 4);
  g_assert_cmpstr (buf, ==, "pong");
  g_thread_join (thread);

  f->pair.client_op.done = f->pair.server_op.done = TRUE;
  assert_established (&f->pair, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
}

typedef struct {
  TestTlsPair *pair;
  char buf[5];
  gboolean read_done;
  gboolean write_done;
} ImplicitAsync;

static void
implicit_read_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ImplicitAsync *s = user_data;
  g_autoptr(GError) error = NULL;
  gsize n = 0;

  g_assert_true (g_input_stream_read_all_finish (G_INPUT_STREAM (source), result, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 4);
  s->read_done = TRUE;
}

static void
implicit_write_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ImplicitAsync *s = user_data;
  g_autoptr(GError) error = NULL;
  gsize n = 0;

  g_assert_true (g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 4);
  s->write_done = TRUE;
}

static void
test_implicit_async (Fixture       *f,
                     gconstpointer  data)
{
  ImplicitAsync s = { &f->pair, { 0 }, FALSE, FALSE };

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  /* The server's read and the client's write each drive their side's
   * handshake, on one main context. */
  g_input_stream_read_all_async (g_io_stream_get_input_stream (G_IO_STREAM (f->pair.server)),
                                 s.buf, 4, G_PRIORITY_DEFAULT, NULL, implicit_read_cb, &s);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (f->pair.client)),
                                   "ping", 4, G_PRIORITY_DEFAULT, NULL, implicit_write_cb, &s);
  test_wait_until (f->env.context, s.read_done && s.write_done);
  g_assert_cmpstr (s.buf, ==, "ping");
  g_assert_true (gsecsock_secure_socket_get_handshake_complete (f->pair.client));
  g_assert_true (gsecsock_secure_socket_get_handshake_complete (f->pair.server));
  assert_established (&f->pair, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
}

/* A thread server: TLS handshake, "ping" → "pong", then wait for the
 * client's clean close. */
typedef struct {
  GSecSockSecureSocketContext *ctx;
  GError *error;
  gboolean clean_eof;
} PingServer;

static gpointer
ping_server_func (GSocketConnection *connection,
                  gpointer           user_data)
{
  PingServer *s = user_data;
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autofree char *rest = NULL;
  char buf[5] = { 0 };

  sock = gsecsock_secure_socket_new (s->ctx, G_IO_STREAM (connection), NULL, &s->error);
  if (sock == NULL || !gsecsock_secure_socket_handshake (sock, NULL, &s->error))
    return NULL;
  test_read_exact (G_IO_STREAM (sock), buf, 4);
  g_assert_cmpstr (buf, ==, "ping");
  test_write_all (G_IO_STREAM (sock), "pong", 4);
  rest = test_read_to_eof (G_IO_STREAM (sock), 1024, &s->error);
  s->clean_eof = rest != NULL && rest[0] == '\0';
  g_io_stream_close (G_IO_STREAM (sock), NULL, NULL);
  return NULL;
}

static void
client_ping (GSecSockSecureSocket *sock)
{
  g_autoptr(GError) error = NULL;
  char buf[5] = { 0 };

  test_write_all (G_IO_STREAM (sock), "ping", 4);
  test_read_exact (G_IO_STREAM (sock), buf, 4);
  g_assert_cmpstr (buf, ==, "pong");
  g_assert_true (g_io_stream_close (G_IO_STREAM (sock), NULL, &error));
  g_assert_no_error (error);
}

static void
test_connect_sync (Fixture       *f,
                   gconstpointer  data)
{
  PingServer s = { f->env.server_ctx, NULL, FALSE };
  TestServer *server = test_server_new ("127.0.0.1", ping_server_func, &s);
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("connect");

  /* An IP literal as host: checked against the IP SAN. */
  sock = gsecsock_secure_socket_connect (f->env.client_ctx, "127.0.0.1", test_server_get_port (server), NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sock);
  g_assert_true (gsecsock_secure_socket_get_handshake_complete (sock));
  g_assert_cmpstr (gsecsock_secure_socket_get_peer_name (sock), ==, "127.0.0.1");
  g_assert_true (G_IS_SOCKET_CONNECTION (gsecsock_secure_socket_get_base_stream (sock)));
  g_assert_cmpuint (gsecsock_secure_socket_get_certificate_errors (sock), ==, 0);
  client_ping (sock);

  test_server_join (server);
  g_assert_no_error (s.error);
  g_assert_true (s.clean_eof);
}

static void
test_connect_async (Fixture       *f,
                    gconstpointer  data)
{
  PingServer s = { f->env.server_ctx, NULL, FALSE };
  TestServer *server = test_server_new ("127.0.0.1", ping_server_func, &s);
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockCertificate) server_cert = test_load_certificate ("server.pem");

  /* A DNS name as host: resolved, sent as SNI and checked. */
  gsecsock_secure_socket_connect_async (f->env.client_ctx, "localhost", test_server_get_port (server), NULL,
                                        test_store_result_cb, &result);
  test_wait_for_result (&result);
  sock = gsecsock_secure_socket_connect_finish (result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sock);
  g_assert_true (gsecsock_secure_socket_get_handshake_complete (sock));
  g_assert_cmpstr (gsecsock_secure_socket_get_peer_name (sock), ==, "localhost");
  g_assert_true (gsecsock_certificate_equal (gsecsock_secure_socket_get_peer_certificate (sock), server_cert));
  client_ping (sock);

  test_server_join (server);
  g_assert_no_error (s.error);
  g_assert_true (s.clean_eof);
}

static void
test_connect_refused (Fixture       *f,
                      gconstpointer  data)
{
  guint16 port = test_find_free_port ("127.0.0.1");
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GSecSockSecureSocket) sock2 = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  /* Transport errors stay in G_IO_ERROR. */
  sock = gsecsock_secure_socket_connect (f->env.client_ctx, "127.0.0.1", port, NULL, &error);
  g_assert_null (sock);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_clear_error (&error);

  gsecsock_secure_socket_connect_async (f->env.client_ctx, "127.0.0.1", port, NULL, test_store_result_cb, &result);
  test_wait_for_result (&result);
  sock2 = gsecsock_secure_socket_connect_finish (result, &error);
  g_assert_null (sock2);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

static void
test_ipv6 (Fixture       *f,
           gconstpointer  data)
{
  if (!test_ipv6_loopback_available ())
    {
      g_test_skip ("IPv6 loopback (::1) is not available");
      return;
    }
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "::1", "::1");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  assert_established (&f->pair, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  exchange_ping_pong (&f->pair);
}

/* ALPN */
typedef struct {
  const char *client[4];
  const char *server[4];
  const char *expected; /* NULL: none negotiated; "!": the handshake fails */
} AlpnCase;

static const AlpnCase alpn_match = { { "h2", "http/1.1", NULL }, { "http/1.1", "foo", NULL }, "http/1.1" };
/* The server decides, by its own order of preference. */
static const AlpnCase alpn_server_pref = { { "foo", "http/1.1", NULL }, { "http/1.1", "foo", NULL }, "http/1.1" };
static const AlpnCase alpn_mismatch = { { "h2", NULL }, { "http/1.1", "foo", NULL }, "!" };
static const AlpnCase alpn_client_only = { { "h2", "http/1.1", NULL }, { NULL }, NULL };
static const AlpnCase alpn_server_only = { { NULL }, { "http/1.1", NULL }, NULL };

static void
test_alpn (Fixture       *f,
           gconstpointer  data)
{
  const AlpnCase *tc = data;

  if (tc->client[0] != NULL)
    gsecsock_secure_socket_context_set_alpn_protocols (f->env.client_ctx, tc->client);
  if (tc->server[0] != NULL)
    gsecsock_secure_socket_context_set_alpn_protocols (f->env.server_ctx, tc->server);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");

  if (g_strcmp0 (tc->expected, "!") == 0)
    {
      g_assert_false (test_tls_pair_handshake_async (&f->pair));
      g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_ALPN);
      g_assert_error (f->pair.server_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_ALPN);
      g_test_message ("client: %s", f->pair.client_op.error->message);
      g_test_message ("server: %s", f->pair.server_op.error->message);
      return;
    }

  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpstr (gsecsock_secure_socket_get_alpn_protocol (f->pair.client), ==, tc->expected);
  g_assert_cmpstr (gsecsock_secure_socket_get_alpn_protocol (f->pair.server), ==, tc->expected);
  {
    g_autofree char *prop = NULL;

    g_object_get (f->pair.client, "alpn-protocol", &prop, NULL);
    g_assert_cmpstr (prop, ==, tc->expected);
  }
  exchange_ping_pong (&f->pair);
}

/* Key logging (NSS key log format). */
typedef struct {
  GHashTable *labels; /* label → GPtrArray of client randoms */
  guint n_lines;
} KeyLog;

static void
keylog_clear (KeyLog *log)
{
  g_clear_pointer (&log->labels, g_hash_table_unref);
}

static void
keylog_parse (KeyLog     *log,
              const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GRegex) regex = g_regex_new ("^([A-Z_0-9]+) ([0-9a-f]{64}) ([0-9a-f]+)$", 0, 0, NULL);

  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (contents, "\n"));
  log->labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  log->n_lines = 0;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(GMatchInfo) match = NULL;
      GPtrArray *randoms;
      char *label;

      if (lines[i][0] == '\0')
        continue;
      if (!g_regex_match (regex, lines[i], 0, &match))
        g_error ("Bad key log line: \"%s\"", lines[i]);
      log->n_lines++;
      label = g_match_info_fetch (match, 1);
      randoms = g_hash_table_lookup (log->labels, label);
      if (randoms == NULL)
        {
          randoms = g_ptr_array_new_with_free_func (g_free);
          g_hash_table_insert (log->labels, g_strdup (label), randoms);
        }
      g_ptr_array_add (randoms, g_match_info_fetch (match, 2));
      /* Secret lengths: 48-byte master secret for TLS 1.2, 48-byte
       * (SHA-384) or 32-byte (SHA-256) traffic secrets for TLS 1.3. */
      {
        g_autofree char *secret = g_match_info_fetch (match, 3);

        if (g_str_equal (label, "CLIENT_RANDOM"))
          g_assert_cmpuint (strlen (secret), ==, 96);
        else
          g_assert_true (strlen (secret) == 64 || strlen (secret) == 96);
      }
      g_free (label);
    }
}

static const char * const tls13_labels[] = {
  "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
  "SERVER_HANDSHAKE_TRAFFIC_SECRET",
  "CLIENT_TRAFFIC_SECRET_0",
  "SERVER_TRAFFIC_SECRET_0",
  "EXPORTER_SECRET",
  NULL
};

/* Asserts the log holds exactly @n_connections TLS 1.3 handshakes: each
 * label once per connection, the same client random across labels. */
static void
assert_tls13_keylog (KeyLog *log,
                     guint   n_connections)
{
  GPtrArray *first = g_hash_table_lookup (log->labels, tls13_labels[0]);

  g_assert_cmpuint (g_hash_table_size (log->labels), ==, g_strv_length ((char **) tls13_labels));
  g_assert_cmpuint (log->n_lines, ==, n_connections * g_strv_length ((char **) tls13_labels));
  g_assert_nonnull (first);
  g_assert_cmpuint (first->len, ==, n_connections);
  for (guint i = 0; tls13_labels[i] != NULL; i++)
    {
      GPtrArray *randoms = g_hash_table_lookup (log->labels, tls13_labels[i]);

      g_assert_nonnull (randoms);
      g_assert_cmpuint (randoms->len, ==, n_connections);
      for (guint c = 0; c < n_connections; c++)
        {
          gboolean found = FALSE;

          for (guint k = 0; k < first->len; k++)
            found |= g_str_equal (randoms->pdata[c], first->pdata[k]);
          g_assert_true (found);
        }
    }
  if (n_connections == 2)
    g_assert_cmpstr (first->pdata[0], !=, first->pdata[1]);
}

static void
test_keylog_tls13 (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *path = test_tmp_path ("keys.log");
  KeyLog log = { 0 };

  gsecsock_secure_socket_context_set_keylog_file (f->env.client_ctx, path);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  exchange_ping_pong (&f->pair);

  keylog_parse (&log, path);
  assert_tls13_keylog (&log, 1);
  keylog_clear (&log);

  /* A second connection appends to the same file. */
  test_tls_pair_clear (&f->pair);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  keylog_parse (&log, path);
  assert_tls13_keylog (&log, 2);
  keylog_clear (&log);
}

static void
test_keylog_tls12 (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *path = test_tmp_path ("keys12.log");
  KeyLog log = { 0 };
  GPtrArray *randoms;

  /* Logging works on the server side as well. */
  gsecsock_secure_socket_context_set_keylog_file (f->env.server_ctx, path);
  gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);

  keylog_parse (&log, path);
  g_assert_cmpuint (log.n_lines, ==, 1);
  randoms = g_hash_table_lookup (log.labels, "CLIENT_RANDOM");
  g_assert_nonnull (randoms);
  g_assert_cmpuint (randoms->len, ==, 1);
  keylog_clear (&log);
}

static void
test_keylog_sslkeylogfile (Fixture       *f,
                           gconstpointer  data)
{
  gboolean enabled = GPOINTER_TO_UINT (data);

  if (g_test_subprocess ())
    {
      g_autofree char *path = test_tmp_path ("env-keys.log");
      g_autoptr(GSecSockSecureSocketContext) client_ctx = NULL;
      KeyLog log = { 0 };

      /* Set before any context exists, as an application's user would. */
      g_setenv ("SSLKEYLOGFILE", path, TRUE);
      client_ctx = test_make_client_context ();
      gsecsock_secure_socket_context_set_use_sslkeylogfile (client_ctx, enabled);
      test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
      g_assert_true (test_tls_pair_handshake_async (&f->pair));
      if (enabled)
        {
          keylog_parse (&log, path);
          assert_tls13_keylog (&log, 1);
          keylog_clear (&log);
        }
      else
        {
          /* Never log secrets unless the application opted in. */
          g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
        }
      return;
    }

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Session resumption. */
static void
connect_exchange_close (Fixture                     *f,
                        GSecSockSecureSocketContext *client_ctx,
                        gboolean                     expect_reused)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *rest = NULL;

  test_tls_pair_clear (&f->pair);
  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpint (gsecsock_secure_socket_get_session_reused (f->pair.client), ==, expect_reused);
  g_assert_cmpint (gsecsock_secure_socket_get_session_reused (f->pair.server), ==, expect_reused);
  if (expect_reused)
    {
      /* A resumed session still authenticates the same server. */
      g_autoptr(GSecSockCertificate) server_cert = test_load_certificate ("server.pem");

      g_assert_cmpuint (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==, 0);
      g_assert_true (gsecsock_certificate_equal (gsecsock_secure_socket_get_peer_certificate (f->pair.client), server_cert));
    }
  /* Reading lets the client process the TLS 1.3 NewSessionTicket. */
  exchange_ping_pong (&f->pair);
  g_assert_true (g_io_stream_close (G_IO_STREAM (f->pair.client), NULL, &error));
  g_assert_no_error (error);
  rest = test_read_to_eof (G_IO_STREAM (f->pair.server), 1024, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rest, ==, "");
  g_assert_true (g_io_stream_close (G_IO_STREAM (f->pair.server), NULL, &error));
  g_assert_no_error (error);
}

static void
test_resumption (Fixture       *f,
                 gconstpointer  data)
{
  GSecSockProtocolVersion version = GPOINTER_TO_UINT (data);

  gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx, version);
  connect_exchange_close (f, f->env.client_ctx, FALSE);
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==, version);
  connect_exchange_close (f, f->env.client_ctx, TRUE);
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==, version);
  connect_exchange_close (f, f->env.client_ctx, TRUE);
}

/* A server farm: servers sharing a session ticket key resume each other's
 * sessions; another key, or a rotated one, means a full handshake. */
static void
test_resumption_shared_ticket_key (Fixture       *f,
                                   gconstpointer  data)
{
  GSecSockProtocolVersion version = GPOINTER_TO_UINT (data);
  g_autoptr(GSecSockSecureSocketContext) server_a = f->env.server_ctx;
  g_autoptr(GSecSockSecureSocketContext) server_b = test_make_server_context ("server-chain.pem", "server.key");
  g_autoptr(GSecSockSecureSocketContext) server_c = test_make_server_context ("server-chain.pem", "server.key");
  g_autoptr(GBytes) key = test_make_random_bytes (80, 42);
  g_autoptr(GBytes) other_key = test_make_random_bytes (80, 43);
  g_autoptr(GError) error = NULL;

  gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx, version);
  g_assert_true (gsecsock_secure_socket_context_set_session_ticket_keys (server_a, key, &error));
  g_assert_true (gsecsock_secure_socket_context_set_session_ticket_keys (server_b, key, &error));
  g_assert_true (gsecsock_secure_socket_context_set_session_ticket_keys (server_c, other_key, &error));
  g_assert_no_error (error);

  connect_exchange_close (f, f->env.client_ctx, FALSE);      /* full, on A */
  f->env.server_ctx = server_b;
  connect_exchange_close (f, f->env.client_ctx, TRUE);       /* resumed on B */
  f->env.server_ctx = server_c;
  connect_exchange_close (f, f->env.client_ctx, FALSE);      /* C cannot read B's ticket */
  f->env.server_ctx = server_a;
  connect_exchange_close (f, f->env.client_ctx, FALSE);      /* nor A read C's */

  /* Back to a key of A's own, then rotated: old tickets stop working. */
  g_assert_true (gsecsock_secure_socket_context_set_session_ticket_keys (server_a, NULL, &error));
  connect_exchange_close (f, f->env.client_ctx, FALSE);
  connect_exchange_close (f, f->env.client_ctx, TRUE);
  gsecsock_secure_socket_context_rotate_session_ticket_keys (server_a);
  connect_exchange_close (f, f->env.client_ctx, FALSE);

  /* The teardown unrefs f->env.server_ctx: it is A again, owned here. */
  f->env.server_ctx = NULL;
}

/* Servers sharing a ticket key but not their client authentication: one
 * that requires a client certificate never resumes a session that one
 * asking for none made (found by fuzz/, where the fixed random numbers
 * give every server context the same ticket key). */
static void
test_resumption_shared_ticket_key_client_auth (Fixture       *f,
                                               gconstpointer  data)
{
  GSecSockProtocolVersion version = GPOINTER_TO_UINT (data);
  g_autoptr(GSecSockSecureSocketContext) open_server = f->env.server_ctx;
  g_autoptr(GSecSockSecureSocketContext) strict_server = test_make_server_context ("server-chain.pem", "server.key");
  g_autoptr(GBytes) key = test_make_random_bytes (80, 44);
  g_autoptr(GError) error = NULL;

  gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx, version);
  g_assert_true (gsecsock_secure_socket_context_set_session_ticket_keys (open_server, key, &error));
  g_assert_true (gsecsock_secure_socket_context_set_session_ticket_keys (strict_server, key, &error));
  gsecsock_secure_socket_context_set_use_system_trust (strict_server, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (strict_server, test_pki_path ("ca.pem"), &error));
  g_assert_no_error (error);
  gsecsock_secure_socket_context_set_client_auth (strict_server, GSECSOCK_CLIENT_AUTH_REQUIRE);

  connect_exchange_close (f, f->env.client_ctx, FALSE);   /* full, no client certificate */
  connect_exchange_close (f, f->env.client_ctx, TRUE);    /* the client has a session */

  /* The client, which has no certificate, offers it to the strict server. */
  test_tls_pair_clear (&f->pair);
  test_tls_pair_init (&f->pair, f->env.client_ctx, strict_server, "127.0.0.1", "localhost");
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  g_assert_false (gsecsock_secure_socket_get_session_reused (f->pair.server));
  g_assert_false (f->pair.server_op.ok);
  g_assert_error (f->pair.server_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  test_assert_message_contains (f->pair.server_op.error, "no certificate");

  /* The teardown unrefs f->env.server_ctx: it is owned here. */
  f->env.server_ctx = NULL;
}

static void
test_ticket_key_errors (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GBytes) short_key = test_make_random_bytes (48, 1);
  g_autoptr(GBytes) key = test_make_random_bytes (80, 1);
  g_autoptr(GError) error = NULL;

  g_assert_false (gsecsock_secure_socket_context_set_session_ticket_keys (f->env.server_ctx, short_key, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING);
  test_assert_message_contains (error, "80 bytes");
  g_clear_error (&error);
  g_assert_false (gsecsock_secure_socket_context_set_session_ticket_keys (f->env.client_ctx, key, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
}

static void
test_resumption_other_context (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) other = test_make_client_context ();

  connect_exchange_close (f, f->env.client_ctx, FALSE);
  /* Sessions belong to their client context. */
  connect_exchange_close (f, other, FALSE);
}

static void
test_resumption_other_peer_name (Fixture       *f,
                                 gconstpointer  data)
{
  connect_exchange_close (f, f->env.client_ctx, FALSE);

  /* A session for "localhost" is not offered to "127.0.0.1": the cache is
   * keyed by the peer name. */
  test_tls_pair_clear (&f->pair);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "127.0.0.1");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_false (gsecsock_secure_socket_get_session_reused (f->pair.client));
  g_assert_false (gsecsock_secure_socket_get_session_reused (f->pair.server));
}

/* Resuming a session skips verification, so a change to what verification
 * depends on must make the next connection verify again. */
static void
test_resumption_trust_change (Fixture       *f,
                              gconstpointer  data)
{
  GSecSockProtocolVersion version = GPOINTER_TO_UINT (data);
  g_autoptr(GSecSockCertificate) anchor = test_load_certificate ("untrusted-ca.pem");

  gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx, version);
  connect_exchange_close (f, f->env.client_ctx, FALSE);
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (f->pair.client), ==, version);
  /* A session of a verified server is resumed as usual. */
  connect_exchange_close (f, f->env.client_ctx, TRUE);

  gsecsock_secure_socket_context_add_trust_anchor (f->env.client_ctx, anchor);
  connect_exchange_close (f, f->env.client_ctx, FALSE);
  connect_exchange_close (f, f->env.client_ctx, TRUE);

  gsecsock_secure_socket_context_set_use_system_trust (f->env.client_ctx, TRUE);
  connect_exchange_close (f, f->env.client_ctx, FALSE);
  connect_exchange_close (f, f->env.client_ctx, TRUE);
  gsecsock_secure_socket_context_set_use_system_trust (f->env.client_ctx, FALSE);
  connect_exchange_close (f, f->env.client_ctx, FALSE);
}

/* The architecture: async handshakes and I/O on one GMainContext run in the
 * caller's thread, no helper threads. */
typedef struct {
  gboolean done;
  gsize n;
} AsyncIo;

static void
write_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncIo *io = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, &io->n, &error));
  g_assert_no_error (error);
  io->done = TRUE;
}

static void
read_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  AsyncIo *io = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_input_stream_read_all_finish (G_INPUT_STREAM (source), result, &io->n, &error));
  g_assert_no_error (error);
  io->done = TRUE;
}

static void
test_no_threads (Fixture       *f,
                 gconstpointer  data)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GBytes) payload = test_make_random_bytes (256 * 1024, 7);
      guint8 *buffer = g_malloc (g_bytes_get_size (payload));
      AsyncIo w = { 0 }, r = { 0 };
      guint before, after;

      /* GTask's class initialisation starts GLib's shared thread pool
       * ("pool-spawner"), whoever uses GTask first: count after it. */
      g_type_ensure (G_TYPE_TASK);
      before = test_count_threads ();
      test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
      g_assert_true (test_tls_pair_handshake_async (&f->pair));
      g_assert_cmpuint (test_count_threads (), ==, before);

      g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (f->pair.client)),
                                       g_bytes_get_data (payload, NULL), g_bytes_get_size (payload),
                                       G_PRIORITY_DEFAULT, NULL, write_done_cb, &w);
      g_input_stream_read_all_async (g_io_stream_get_input_stream (G_IO_STREAM (f->pair.server)),
                                     buffer, g_bytes_get_size (payload),
                                     G_PRIORITY_DEFAULT, NULL, read_done_cb, &r);
      test_wait_until (f->env.context, w.done && r.done);
      g_assert_cmpmem (buffer, r.n, g_bytes_get_data (payload, NULL), g_bytes_get_size (payload));

      after = test_count_threads ();
      g_test_message ("threads before: %u, after: %u", before, after);
      g_assert_cmpuint (after, ==, before);
      g_free (buffer);
      return;
    }

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Several callers at once on one socket: one drives the handshake, the
 * others wait for it and then do their I/O. */
typedef struct {
  GSecSockSecureSocket *sock;
  TestOp op;
  char buf[5];
} Caller;

static gpointer
handshake_caller_thread (gpointer data)
{
  Caller *c = data;

  c->op.ok = gsecsock_secure_socket_handshake (c->sock, NULL, &c->op.error);
  c->op.done = TRUE;
  return NULL;
}

static gpointer
read_caller_thread (gpointer data)
{
  Caller *c = data;
  gsize n = 0;

  /* Implicitly waits for (or runs) the handshake. */
  c->op.ok = g_input_stream_read_all (g_io_stream_get_input_stream (G_IO_STREAM (c->sock)),
                                      c->buf, 4, &n, NULL, &c->op.error) && n == 4;
  c->op.done = TRUE;
  return NULL;
}

static gpointer
server_handshake_and_ping_thread (gpointer data)
{
  Caller *c = data;

  c->op.ok = gsecsock_secure_socket_handshake (c->sock, NULL, &c->op.error);
  if (c->op.ok)
    test_write_all (G_IO_STREAM (c->sock), "ping", 4);
  c->op.done = TRUE;
  return NULL;
}

static void
test_concurrent_sync_handshake_and_read (Fixture       *f,
                                         gconstpointer  data)
{
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("handshake and read from two threads");
  Caller handshaker = { 0 }, reader = { 0 }, server = { 0 };
  GThread *threads[3];

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  handshaker.sock = reader.sock = f->pair.client;
  server.sock = f->pair.server;
  threads[0] = g_thread_new ("client-reader", read_caller_thread, &reader);
  threads[1] = g_thread_new ("client-handshake", handshake_caller_thread, &handshaker);
  threads[2] = g_thread_new ("server", server_handshake_and_ping_thread, &server);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  g_assert_no_error (handshaker.op.error);
  g_assert_no_error (reader.op.error);
  g_assert_no_error (server.op.error);
  g_assert_true (handshaker.op.ok && reader.op.ok && server.op.ok);
  g_assert_cmpstr (reader.buf, ==, "ping");
  g_assert_true (gsecsock_secure_socket_get_handshake_complete (f->pair.client));
}

static gpointer
write_caller_thread (gpointer data)
{
  Caller *c = data;

  c->op.ok = g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (c->sock)),
                                        "ping", 4, NULL, NULL, &c->op.error);
  c->op.done = TRUE;
  return NULL;
}

static void
test_concurrent_async_handshake_and_blocking_write (Fixture       *f,
                                                    gconstpointer  data)
{
  Caller writer = { 0 };
  GThread *thread;
  char buf[5] = { 0 };
  gsize n = 0;
  g_autoptr(GAsyncResult) read_result = NULL;
  g_autoptr(GError) error = NULL;

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  /* The main loop drives both handshakes while another thread already
   * blocks in a write on the client: it must wait for the handshake the
   * main loop runs, then send. */
  gsecsock_secure_socket_handshake_async (f->pair.server, G_PRIORITY_DEFAULT, NULL, test_store_result_cb, &read_result);
  gsecsock_secure_socket_handshake_async (f->pair.client, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &f->pair.client_op);
  writer.sock = f->pair.client;
  thread = g_thread_new ("client-writer", write_caller_thread, &writer);

  test_wait_until (f->env.context, f->pair.client_op.done && read_result != NULL);
  g_assert_no_error (f->pair.client_op.error);
  g_assert_true (gsecsock_secure_socket_handshake_finish (f->pair.server, read_result, &error));
  g_assert_no_error (error);
  g_clear_object (&read_result);

  g_input_stream_read_all_async (g_io_stream_get_input_stream (G_IO_STREAM (f->pair.server)), buf, 4,
                                 G_PRIORITY_DEFAULT, NULL, test_store_result_cb, &read_result);
  test_wait_until (f->env.context, read_result != NULL);
  g_assert_true (g_input_stream_read_all_finish (g_io_stream_get_input_stream (G_IO_STREAM (f->pair.server)),
                                                 read_result, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 4);
  g_assert_cmpstr (buf, ==, "ping");
  g_thread_join (thread);
  g_assert_no_error (writer.op.error);
  g_assert_true (writer.op.ok);
}

/* One client and one server context shared by many threads, each with its
 * own connections: contexts (and their session caches) are thread-safe. */
#define N_WORKERS 4
#define N_ROUNDS 5

typedef struct {
  Fixture *f;
  guint id;
  guint reused;
  GError *error;
} Worker;

static gpointer
worker_server_thread (gpointer data)
{
  TestTlsPair *pair = data;
  char buf[16];

  if (gsecsock_secure_socket_handshake (pair->server, NULL, &pair->server_op.error))
    {
      test_read_exact (G_IO_STREAM (pair->server), buf, 8);
      test_write_all (G_IO_STREAM (pair->server), buf, 8);
      g_io_stream_close (G_IO_STREAM (pair->server), NULL, NULL);
    }
  return NULL;
}

static gpointer
worker_thread (gpointer data)
{
  Worker *w = data;

  for (guint round = 0; round < N_ROUNDS && w->error == NULL; round++)
    {
      g_autofree char *msg = g_strdup_printf ("w%02ur%03u", w->id, round);
      char buf[9] = { 0 };
      TestTlsPair pair;
      GThread *server;

      test_tls_pair_init (&pair, w->f->env.client_ctx, w->f->env.server_ctx, "127.0.0.1", "localhost");
      server = g_thread_new ("worker-server", worker_server_thread, &pair);
      if (gsecsock_secure_socket_handshake (pair.client, NULL, &w->error))
        {
          w->reused += gsecsock_secure_socket_get_session_reused (pair.client);
          test_write_all (G_IO_STREAM (pair.client), msg, 8);
          test_read_exact (G_IO_STREAM (pair.client), buf, 8);
          g_assert_cmpstr (buf, ==, msg);
          g_io_stream_close (G_IO_STREAM (pair.client), NULL, NULL);
        }
      g_thread_join (server);
      if (w->error == NULL && pair.server_op.error != NULL)
        w->error = g_error_copy (pair.server_op.error);
      test_tls_pair_clear (&pair);
    }
  return NULL;
}

static void
test_concurrent_many_threads (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("many connections in many threads");
  Worker workers[N_WORKERS];
  GThread *threads[N_WORKERS];
  guint reused = 0;

  for (guint i = 0; i < N_WORKERS; i++)
    {
      workers[i] = (Worker) { f, i, 0, NULL };
      threads[i] = g_thread_new ("worker", worker_thread, &workers[i]);
    }
  for (guint i = 0; i < N_WORKERS; i++)
    {
      g_thread_join (threads[i]);
      g_assert_no_error (workers[i].error);
      reused += workers[i].reused;
    }
  /* With one shared client context, later connections resume sessions. */
  g_test_message ("%u of %u connections resumed a session", reused, N_WORKERS * N_ROUNDS);
  g_assert_cmpuint (reused, >, 0);
}

/* Hangs: how long a test waits for something that must happen at once
 * before it fails (instead of hanging until meson's timeout). */
#define HANG_GUARD_SECONDS 20

static gboolean
blocking_handshake_func (gpointer       user_data,
                         GCancellable  *cancellable,
                         GError       **error)
{
  return gsecsock_secure_socket_handshake (user_data, cancellable, error);
}

/* A blocking handshake after a non-blocking caller started the handshake
 * and went away: the blocking caller must drive it (nobody else will). */
static void
test_blocking_after_nonblocking (Fixture       *f,
                                 gconstpointer  data)
{
  GPollableInputStream *in;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) server_error = NULL;
  TestThreadOp *server, *client;
  gboolean client_ok = FALSE, server_ok = FALSE, client_in_time, server_in_time;
  char buf[16];

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (G_IO_STREAM (f->pair.client)));
  /* Sends the ClientHello, then cannot go on without the server. */
  g_assert_cmpint (g_pollable_input_stream_read_nonblocking (in, buf, sizeof buf, NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  g_clear_error (&error);

  server = test_thread_op_start ("server-handshake", blocking_handshake_func, f->pair.server);
  client = test_thread_op_start ("client-handshake", blocking_handshake_func, f->pair.client);
  client_in_time = test_thread_op_join (client, HANG_GUARD_SECONDS, &client_ok, &error);
  /* If the client hung, the server waits for it: stop it at once. */
  server_in_time = test_thread_op_join (server, client_in_time ? HANG_GUARD_SECONDS : 0,
                                        &server_ok, &server_error);
  if (!client_in_time)
    g_test_message ("client: %s", error ? error->message : "no error");
  g_assert_true (client_in_time);
  g_assert_no_error (error);
  g_assert_true (client_ok);
  g_assert_true (server_in_time);
  g_assert_no_error (server_error);
  g_assert_true (server_ok);
  g_assert_true (gsecsock_secure_socket_get_handshake_complete (f->pair.client));

  /* And the connection works. */
  exchange_ping_pong (&f->pair);
}

static gboolean
handshake_and_greet_func (gpointer       user_data,
                          GCancellable  *cancellable,
                          GError       **error)
{
  GSecSockSecureSocket *server = user_data;

  return gsecsock_secure_socket_handshake (server, cancellable, error) &&
         g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (server)),
                                    "hello", 5, NULL, cancellable, error);
}

typedef struct {
  GString *data;
  guint dispatches;
  GError *error;
} PollRead;

static gboolean
poll_read_cb (GObject  *stream,
              gpointer  user_data)
{
  PollRead *r = user_data;
  g_autoptr(GError) error = NULL;
  char buf[64];
  gssize n;

  r->dispatches++;
  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (stream), buf, sizeof buf, NULL, &error);
  if (n > 0)
    g_string_append_len (r->data, buf, n);
  else if (n == 0 || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      r->error = n == 0 ? g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "unexpected EOF")
                        : g_steal_pointer (&error);
      return G_SOURCE_REMOVE;
    }
  return r->data->len >= 5 ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* An application that only waits for the client's input to be readable,
 * before any handshake, with a server that talks after the handshake: the
 * client must start the handshake (it talks first), so the source must
 * fire at once. */
static void
test_pollable_source_before_handshake (Fixture       *f,
                                       gconstpointer  data)
{
  g_autoptr(GSource) source = NULL;
  g_autoptr(GError) server_error = NULL;
  PollRead r = { g_string_new (NULL), 0, NULL };
  TestThreadOp *server;
  TestGuard *guard;
  gboolean server_ok = FALSE, in_time, server_in_time;

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  server = test_thread_op_start ("server-greeter", handshake_and_greet_func, f->pair.server);

  source = g_pollable_input_stream_create_source (
    G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (G_IO_STREAM (f->pair.client))), NULL);
  g_source_set_callback (source, (GSourceFunc) (void (*) (void)) poll_read_cb, &r, NULL);
  g_source_attach (source, f->env.context);

  guard = test_guard_new_seconds (f->env.context, HANG_GUARD_SECONDS);
  while (r.data->len < 5 && r.error == NULL && !test_guard_expired (guard))
    g_main_context_iteration (f->env.context, TRUE);
  in_time = !test_guard_expired (guard);
  test_guard_free (guard);
  g_source_destroy (source);

  server_in_time = test_thread_op_join (server, in_time ? HANG_GUARD_SECONDS : 0, &server_ok, &server_error);
  g_test_message ("greeting after %u dispatches", r.dispatches);
  /* The source stays attached (G_SOURCE_CONTINUE): it must fire when the
   * socket can make progress, not on every main-loop iteration. */
  g_assert_cmpuint (r.dispatches, <, 50);
  g_assert_true (in_time);
  g_assert_true (server_in_time);
  g_assert_no_error (r.error);
  g_assert_no_error (server_error);
  g_assert_true (server_ok);
  g_assert_cmpstr (r.data->str, ==, "hello");
  g_assert_true (gsecsock_secure_socket_get_handshake_complete (f->pair.client));
  g_string_free (r.data, TRUE);
}

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_setup, func, fixture_teardown)

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

  ADD ("/handshake/sync/tls13", test_sync_tls13, NULL);
  ADD ("/handshake/async/tls13", test_async_tls13, NULL);
  ADD ("/handshake/async/tls12", test_async_tls12, GUINT_TO_POINTER (CAP_CLIENT | CAP_SERVER));
  ADD ("/handshake/async/tls12-client-max", test_async_tls12, GUINT_TO_POINTER (CAP_CLIENT));
  ADD ("/handshake/async/tls12-server-max", test_async_tls12, GUINT_TO_POINTER (CAP_SERVER));
  ADD ("/handshake/version-mismatch/client-too-old", test_version_mismatch, GUINT_TO_POINTER (TRUE));
  ADD ("/handshake/version-mismatch/server-too-old", test_version_mismatch, GUINT_TO_POINTER (FALSE));
  ADD ("/handshake/properties/before-handshake", test_properties_before_handshake, NULL);
  ADD ("/handshake/context-changes-apply-later", test_context_changes_apply_later, NULL);
  ADD ("/handshake/implicit/sync", test_implicit_sync, NULL);
  ADD ("/handshake/implicit/async", test_implicit_async, NULL);
  ADD ("/handshake/connect/sync", test_connect_sync, NULL);
  ADD ("/handshake/connect/async", test_connect_async, NULL);
  ADD ("/handshake/connect/refused", test_connect_refused, NULL);
  ADD ("/handshake/ipv6", test_ipv6, NULL);
  ADD ("/handshake/alpn/match", test_alpn, &alpn_match);
  ADD ("/handshake/alpn/server-preference", test_alpn, &alpn_server_pref);
  ADD ("/handshake/alpn/mismatch", test_alpn, &alpn_mismatch);
  ADD ("/handshake/alpn/client-only", test_alpn, &alpn_client_only);
  ADD ("/handshake/alpn/server-only", test_alpn, &alpn_server_only);
  ADD ("/handshake/keylog/tls13", test_keylog_tls13, NULL);
  ADD ("/handshake/keylog/tls12-server", test_keylog_tls12, NULL);
  ADD ("/handshake/keylog/sslkeylogfile", test_keylog_sslkeylogfile, GUINT_TO_POINTER (TRUE));
  ADD ("/handshake/keylog/sslkeylogfile-not-enabled", test_keylog_sslkeylogfile, GUINT_TO_POINTER (FALSE));
  ADD ("/handshake/resumption/tls13", test_resumption, GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_3));
  ADD ("/handshake/resumption/tls12", test_resumption, GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_2));
  ADD ("/handshake/resumption/shared-ticket-key/tls13", test_resumption_shared_ticket_key,
       GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_3));
  ADD ("/handshake/resumption/shared-ticket-key/tls12", test_resumption_shared_ticket_key,
       GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_2));
  ADD ("/handshake/resumption/shared-ticket-key/client-auth/tls13", test_resumption_shared_ticket_key_client_auth,
       GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_3));
  ADD ("/handshake/resumption/shared-ticket-key/client-auth/tls12", test_resumption_shared_ticket_key_client_auth,
       GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_2));
  ADD ("/handshake/resumption/ticket-key-errors", test_ticket_key_errors, NULL);
  ADD ("/handshake/resumption/trust-change/tls13", test_resumption_trust_change, GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_3));
  ADD ("/handshake/resumption/trust-change/tls12", test_resumption_trust_change, GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_2));
  ADD ("/handshake/resumption/other-context", test_resumption_other_context, NULL);
  ADD ("/handshake/resumption/other-peer-name", test_resumption_other_peer_name, NULL);
  ADD ("/handshake/no-threads", test_no_threads, NULL);
  ADD ("/handshake/concurrent/sync-handshake-and-read", test_concurrent_sync_handshake_and_read, NULL);
  ADD ("/handshake/concurrent/async-handshake-and-blocking-write", test_concurrent_async_handshake_and_blocking_write, NULL);
  ADD ("/handshake/concurrent/many-threads-one-context", test_concurrent_many_threads, NULL);
  ADD ("/handshake/concurrent/blocking-after-nonblocking", test_blocking_after_nonblocking, NULL);
  ADD ("/handshake/implicit/pollable-source-before-handshake", test_pollable_source_before_handshake, NULL);

  return g_test_run ();
}
