/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GSecSockSecureServer: listening, incoming / handshake-failed, limits,
 * address reuse, the client-certificate policy (client-auth), SNI virtual
 * hosting, and curl / openssl s_client against the server. */
#define _GNU_SOURCE
#include "test-utils.h"

#include <string.h>

typedef struct {
  TestEnv env;
  GSecSockSecureServer *server;
  GPtrArray *incoming;        /* GSecSockSecureSocket, in order */
  GPtrArray *failed;          /* GSecSockSecureSocket, in order */
  GPtrArray *errors;          /* GError, one per failed */
  guint accepted;
  guint max_n_handshakes;     /* the most seen running at once */
  gboolean close_incoming;    /* close each incoming socket at once */
  gboolean serve_http;        /* answer one HTTP request on each */
  GSubprocess *proc;
} Fixture;


/* lookup_sni_context() returns a new reference. */
static void
assert_sni_lookup (GSecSockSecureSocketContext *ctx,
                   const char                  *name,
                   GSecSockSecureSocketContext *expected)
{
  g_autoptr(GSecSockSecureSocketContext) found =
    gsecsock_secure_socket_context_lookup_sni_context (ctx, name);

  g_assert_true (found == expected);
}

static gboolean
on_accepted_count (GSecSockSecureServer *server,
                   GSecSockSecureSocket *sock,
                   gpointer              user_data)
{
  Fixture *f = user_data;

  g_assert_true (GSECSOCK_IS_SECURE_SOCKET (sock));
  g_assert_false (gsecsock_secure_socket_get_handshake_complete (sock));
  f->accepted++;
  return FALSE;
}

static void serve_http (Fixture *f, GSecSockSecureSocket *sock);

static void
on_incoming (GSecSockSecureServer *server,
             GSecSockSecureSocket *sock,
             gpointer              user_data)
{
  Fixture *f = user_data;

  g_assert_true (gsecsock_secure_socket_get_handshake_complete (sock));
  g_ptr_array_add (f->incoming, g_object_ref (sock));
  if (f->close_incoming)
    {
      g_autoptr(GError) error = NULL;

      /* The server side closes first: its end of the TCP connection is the
       * one that lingers in TIME_WAIT. */
      g_assert_true (g_io_stream_close (G_IO_STREAM (sock), NULL, &error));
      g_assert_no_error (error);
    }
  if (f->serve_http)
    serve_http (f, sock);
}

static void
on_handshake_failed (GSecSockSecureServer *server,
                     GSecSockSecureSocket *sock,
                     GError               *error,
                     gpointer              user_data)
{
  Fixture *f = user_data;

  g_assert_nonnull (error);
  g_test_message ("handshake-failed: %s", error->message);
  g_ptr_array_add (f->failed, g_object_ref (sock));
  g_ptr_array_add (f->errors, g_error_copy (error));
}

static void
on_n_handshakes (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  Fixture *f = user_data;

  f->max_n_handshakes = MAX (f->max_n_handshakes,
                             gsecsock_secure_server_get_n_handshakes (GSECSOCK_SECURE_SERVER (object)));
}

static GSecSockSecureServer *
make_server (Fixture                     *f,
             GSecSockSecureSocketContext *ctx)
{
  g_autoptr(GError) error = NULL;
  GSecSockSecureServer *server = gsecsock_secure_server_new (ctx, &error);

  g_assert_no_error (error);
  g_assert_true (GSECSOCK_IS_SECURE_SERVER (server));
  g_signal_connect (server, "accepted", G_CALLBACK (on_accepted_count), f);
  g_signal_connect (server, "incoming", G_CALLBACK (on_incoming), f);
  g_signal_connect (server, "handshake-failed", G_CALLBACK (on_handshake_failed), f);
  g_signal_connect (server, "notify::n-handshakes", G_CALLBACK (on_n_handshakes), f);
  return server;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_env_setup (&f->env, "server-chain.pem", "server.key");
  f->incoming = g_ptr_array_new_with_free_func (g_object_unref);
  f->failed = g_ptr_array_new_with_free_func (g_object_unref);
  f->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  f->server = make_server (f, f->env.server_ctx);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  GWeakRef weak;

  if (f->proc != NULL)
    {
      g_subprocess_force_exit (f->proc);
      g_subprocess_wait (f->proc, NULL, NULL);
      g_clear_object (&f->proc);
    }

  /* A stopped server lets go of itself: nothing may keep it alive. */
  g_weak_ref_init (&weak, f->server);
  gsecsock_secure_server_stop (f->server);
  g_clear_object (&f->server);
  for (guint i = 0; i < f->incoming->len; i++)
    g_io_stream_close (g_ptr_array_index (f->incoming, i), NULL, NULL);
  g_clear_pointer (&f->incoming, g_ptr_array_unref);
  g_clear_pointer (&f->failed, g_ptr_array_unref);
  g_clear_pointer (&f->errors, g_ptr_array_unref);
  {
    GObject *alive = NULL;
    TestGuard *guard = test_guard_new (f->env.context);

    while ((alive = g_weak_ref_get (&weak)) != NULL)
      {
        g_object_unref (alive);
        if (test_guard_expired (guard))
          g_error ("the server is still alive after stop() and its last unref");
        g_main_context_iteration (f->env.context, TRUE);
      }
    test_guard_free (guard);
  }
  g_weak_ref_clear (&weak);
  /* Let the closes the server started finish. */
  test_run_context_for (f->env.context, 20);
  test_env_teardown (&f->env);
}

/* A TLS client of the server at @address:@port, its handshake run in the
 * test's main context (where the server runs too). Returns the socket;
 * the handshake's outcome is in *@op. */
static GSecSockSecureSocket *
tls_connect (Fixture                     *f,
             GSecSockSecureSocketContext *client_ctx,
             const char                  *address,
             guint16                      port,
             const char                  *peer_name,
             TestOp                      *op)
{
  g_autoptr(GSocketConnection) connection = test_tcp_connect (address, port);
  g_autoptr(GError) error = NULL;
  GSecSockSecureSocket *sock;

  sock = gsecsock_secure_socket_new (client_ctx, G_IO_STREAM (connection), peer_name, &error);
  g_assert_no_error (error);
  test_op_clear (op);
  gsecsock_secure_socket_handshake_async (sock, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, op);
  test_wait_until (f->env.context, op->done);
  return sock;
}

static guint16
listen_loopback (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  guint16 port = gsecsock_secure_server_listen (f->server, "127.0.0.1", 0, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (port, >, 0);
  return port;
}

/* ---- Construction and listening --------------------------------------- */

static void
test_new_needs_server_context (void)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockSecureServer) server = gsecsock_secure_server_new (ctx, &error);

  g_assert_null (server);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "server context");
}

static void
test_listen_needs_certificate (void)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockSecureServer) server = gsecsock_secure_server_new (ctx, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (gsecsock_secure_server_listen (server, "127.0.0.1", 0, &error), ==, 0);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "no certificate");
  g_assert_false (gsecsock_secure_server_get_listening (server));
}

static void
test_listen_bad_address (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (gsecsock_secure_server_listen (f->server, "bad host/name", 0, &error), ==, 0);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "neither an IP address nor a host name");
  g_assert_false (gsecsock_secure_server_get_listening (f->server));
}

/* A host name: every address it resolves to (from /etc/hosts here). */
static void
test_listen_host_name (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockSecureSocket) client4 = NULL;
  GList *addresses;
  gboolean has_ipv6 = FALSE;
  TestOp op = { 0 };
  guint16 port;

  port = gsecsock_secure_server_listen (f->server, "localhost", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (port, >, 0);
  client4 = tls_connect (f, f->env.client_ctx, "127.0.0.1", port, "localhost", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 1);

  addresses = g_resolver_lookup_by_name (resolver, "localhost", NULL, &error);
  g_assert_no_error (error);
  for (GList *l = addresses; l != NULL; l = l->next)
    has_ipv6 |= g_inet_address_get_family (l->data) == G_SOCKET_FAMILY_IPV6;
  g_resolver_free_addresses (addresses);
  if (has_ipv6 && test_ipv6_loopback_available ())
    {
      g_autoptr(GSecSockSecureSocket) client6 = NULL;

      client6 = tls_connect (f, f->env.client_ctx, "::1", port, "localhost", &op);
      g_assert_no_error (op.error);
      test_wait_until (f->env.context, f->incoming->len == 2);
    }
  else
    g_test_message ("localhost has no IPv6 address here: IPv4 only checked");
  test_op_clear (&op);
}

static void
test_defaults (Fixture       *f,
               gconstpointer  data)
{
  guint port;
  gboolean listening;

  g_assert_true (gsecsock_secure_server_get_context (f->server) == f->env.server_ctx);
  g_assert_true (gsecsock_secure_server_get_reuse_address (f->server));
  g_assert_cmpuint (gsecsock_secure_server_get_max_handshakes (f->server), ==, 64);
  g_assert_cmpuint (gsecsock_secure_server_get_handshake_timeout (f->server), ==, 30);
  g_assert_cmpuint (gsecsock_secure_server_get_n_handshakes (f->server), ==, 0);
  g_assert_cmpuint (gsecsock_secure_server_get_port (f->server), ==, 0);
  g_assert_false (gsecsock_secure_server_get_listening (f->server));

  port = listen_loopback (f);
  g_object_get (f->server, "port", &port, "listening", &listening, NULL);
  g_assert_cmpuint (port, ==, gsecsock_secure_server_get_port (f->server));
  g_assert_true (listening);
}

/* A client is served: incoming, after the handshake, with a usable socket. */
static void
test_incoming (Fixture       *f,
               gconstpointer  data)
{
  guint16 port = listen_loopback (f);
  g_autoptr(GSecSockSecureSocket) client = NULL;
  GSecSockSecureSocket *served;
  TestOp op = { 0 };
  char buffer[6] = "";

  client = tls_connect (f, f->env.client_ctx, "127.0.0.1", port, "127.0.0.1", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 1);
  g_assert_cmpuint (f->accepted, ==, 1);
  g_assert_cmpuint (f->failed->len, ==, 0);
  served = g_ptr_array_index (f->incoming, 0);
  g_assert_true (gsecsock_secure_socket_get_context (served) == f->env.server_ctx);
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (served), ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  g_assert_cmpuint (gsecsock_secure_socket_get_handshake_timeout (served), ==, 30);
  /* An IP address is never sent as SNI. */
  g_assert_null (gsecsock_secure_socket_get_server_name (served));
  g_assert_null (gsecsock_secure_socket_get_server_name (client));

  test_write_all (G_IO_STREAM (served), "hello", 5);
  test_read_exact (G_IO_STREAM (client), buffer, 5);
  g_assert_cmpstr (buffer, ==, "hello");
  g_assert_cmpuint (gsecsock_secure_server_get_n_handshakes (f->server), ==, 0);
  test_op_clear (&op);
}

/* NULL: every address, IPv4 and IPv6, on one port. */
static void
test_listen_all_addresses (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockSecureSocket) client4 = NULL;
  g_autoptr(GSecSockSecureSocket) client6 = NULL;
  TestOp op = { 0 };
  guint16 port;

  port = gsecsock_secure_server_listen (f->server, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (port, >, 0);

  client4 = tls_connect (f, f->env.client_ctx, "127.0.0.1", port, "127.0.0.1", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 1);

  if (!test_ipv6_loopback_available ())
    {
      g_test_message ("no IPv6 loopback here: IPv4 only checked");
      return;
    }
  client6 = tls_connect (f, f->env.client_ctx, "::1", port, "::1", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 2);
  test_op_clear (&op);
}

static void
test_listen_ipv6 (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockSecureSocket) client = NULL;
  TestOp op = { 0 };
  guint16 port;

  if (!test_ipv6_loopback_available ())
    {
      g_test_skip ("no IPv6 loopback");
      return;
    }
  port = gsecsock_secure_server_listen (f->server, "::1", 0, &error);
  g_assert_no_error (error);
  client = tls_connect (f, f->env.client_ctx, "::1", port, "::1", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 1);
  test_op_clear (&op);
}

/* ---- Bad clients -------------------------------------------------------- */

static void
test_not_tls_client (Fixture       *f,
                     gconstpointer  data)
{
  guint16 port = listen_loopback (f);
  g_autoptr(GSocketConnection) plain = test_tcp_connect ("127.0.0.1", port);
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GError) error = NULL;
  const char request[] = "GET / HTTP/1.0\r\n\r\n";
  GError *failure;
  TestOp op = { 0 };

  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (plain)),
                                            request, strlen (request), NULL, NULL, &error));
  g_assert_no_error (error);
  test_wait_until (f->env.context, f->failed->len == 1);
  failure = g_ptr_array_index (f->errors, 0);
  g_assert_error (failure, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_TLS);
  test_assert_message_contains (failure, "GET / HTTP");
  g_assert_cmpuint (f->incoming->len, ==, 0);

  /* The server goes on. */
  client = tls_connect (f, f->env.client_ctx, "127.0.0.1", port, "127.0.0.1", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 1);
  g_assert_cmpuint (f->failed->len, ==, 1);
  test_op_clear (&op);
}

/* A client that rejects the server (it trusts another CA) and one that
 * gives up half-way: reported, and the server goes on. */
static void
test_client_gives_up (Fixture       *f,
                      gconstpointer  data)
{
  guint16 port = listen_loopback (f);
  g_autoptr(GSecSockSecureSocketContext) distrustful = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  g_autoptr(GSecSockSecureSocket) rejecting = NULL;
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GError) error = NULL;
  TestOp op = { 0 };

  gsecsock_secure_socket_context_set_use_system_trust (distrustful, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (distrustful, test_pki_path ("untrusted-ca.pem"), &error));
  g_assert_no_error (error);
  rejecting = tls_connect (f, distrustful, "127.0.0.1", port, "127.0.0.1", &op);
  g_assert_error (op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  test_wait_until (f->env.context, f->failed->len == 1);
  g_assert_true (g_error_matches (g_ptr_array_index (f->errors, 0), GSECSOCK_ERROR, GSECSOCK_ERROR_HANDSHAKE_FAILED) ||
                 g_error_matches (g_ptr_array_index (f->errors, 0), GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED));

  {
    /* Connects, sends half a ClientHello's worth of nothing, and closes. */
    g_autoptr(GSocketConnection) quitter = test_tcp_connect ("127.0.0.1", port);
    const guint8 partial[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 };

    g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (quitter)),
                                              partial, sizeof partial, NULL, NULL, &error));
    g_assert_no_error (error);
    g_assert_true (g_io_stream_close (G_IO_STREAM (quitter), NULL, &error));
    test_wait_until (f->env.context, f->failed->len == 2);
  }

  client = tls_connect (f, f->env.client_ctx, "127.0.0.1", port, "127.0.0.1", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 1);
  test_op_clear (&op);
}

/* ---- Limits ---------------------------------------------------------------- */

typedef struct {
  Fixture *f;
  guint16 real_port;         /* the local port of the genuine client */
} FloodData;

static gboolean
on_accepted_flood (GSecSockSecureServer *server,
                   GSecSockSecureSocket *sock,
                   gpointer              user_data)
{
  FloodData *flood = user_data;
  GSocketConnection *connection = G_SOCKET_CONNECTION (gsecsock_secure_socket_get_base_stream (sock));
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);

  /* The genuine client gets more time than the 1 s of the idle ones: under
   * valgrind a real handshake may take longer than that. */
  if (remote != NULL &&
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote)) == flood->real_port)
    gsecsock_secure_socket_set_handshake_timeout (sock, TEST_GUARD_TIMEOUT_SECONDS);
  return FALSE;
}

/* 20 connections that send nothing, 5 handshake slots, 1 s each: the
 * genuine client that comes after them is served once they have timed out,
 * and no more than 5 handshakes ever run at once. */
static void
test_idle_flood (Fixture       *f,
                 gconstpointer  data)
{
  enum { N_IDLE = 20, MAX_HANDSHAKES = 5 };
  g_autoptr(GPtrArray) idle = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GError) error = NULL;
  FloodData flood = { f, 0 };
  TestOp op = { 0 };
  gint64 start;
  guint16 port;

  gsecsock_secure_server_set_max_handshakes (f->server, MAX_HANDSHAKES);
  gsecsock_secure_server_set_handshake_timeout (f->server, 1);
  g_signal_connect (f->server, "accepted", G_CALLBACK (on_accepted_flood), &flood);
  port = listen_loopback (f);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < N_IDLE; i++)
    g_ptr_array_add (idle, test_tcp_connect ("127.0.0.1", port));

  connection = test_tcp_connect ("127.0.0.1", port);
  local = g_socket_connection_get_local_address (connection, &error);
  g_assert_no_error (error);
  flood.real_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  client = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (connection), "127.0.0.1", &error);
  g_assert_no_error (error);
  gsecsock_secure_socket_handshake_async (client, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &op);

  test_wait_until (f->env.context, op.done && f->incoming->len == 1);
  g_assert_no_error (op.error);
  g_test_message ("the genuine client was served after %.1f s",
                  (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
  /* In four rounds of 1 s at least: it was queued behind the idle ones,
   * and let in when the first of the last five timed out. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, (N_IDLE / MAX_HANDSHAKES) * G_USEC_PER_SEC);
  g_assert_cmpuint (f->failed->len, >=, N_IDLE - MAX_HANDSHAKES + 1);

  /* Every idle connection was accepted, timed out and reported. */
  test_wait_until (f->env.context, f->failed->len == N_IDLE);
  for (guint i = 0; i < f->errors->len; i++)
    g_assert_error ((GError *) g_ptr_array_index (f->errors, i), G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpuint (f->accepted, ==, N_IDLE + 1);
  g_assert_cmpuint (f->max_n_handshakes, ==, MAX_HANDSHAKES);
  test_op_clear (&op);
}

/* Added connections wait in the server for a slot, in order. */
static void
test_add_connection_waits (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GSocketConnection) client_conn1 = NULL, server_conn1 = NULL;
  g_autoptr(GSocketConnection) client_conn2 = NULL, server_conn2 = NULL;
  g_autoptr(GSecSockSecureSocket) client1 = NULL, client2 = NULL;
  g_autoptr(GError) error = NULL;
  TestOp op1 = { 0 }, op2 = { 0 };

  gsecsock_secure_server_set_max_handshakes (f->server, 1);
  test_socket_pair ("127.0.0.1", &client_conn1, &server_conn1);
  test_socket_pair ("127.0.0.1", &client_conn2, &server_conn2);

  g_assert_true (gsecsock_secure_server_add_connection (f->server, G_IO_STREAM (server_conn1), &error));
  g_assert_no_error (error);
  g_assert_true (gsecsock_secure_server_add_connection (f->server, G_IO_STREAM (server_conn2), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->accepted, ==, 2);
  g_assert_cmpuint (gsecsock_secure_server_get_n_handshakes (f->server), ==, 1);

  client1 = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (client_conn1), "127.0.0.1", &error);
  g_assert_no_error (error);
  client2 = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (client_conn2), "127.0.0.1", &error);
  g_assert_no_error (error);
  gsecsock_secure_socket_handshake_async (client2, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &op2);
  gsecsock_secure_socket_handshake_async (client1, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &op1);
  test_wait_until (f->env.context, op1.done && op2.done && f->incoming->len == 2);
  g_assert_no_error (op1.error);
  g_assert_no_error (op2.error);
  g_assert_cmpuint (f->max_n_handshakes, ==, 1);
  /* The first added was served first. */
  g_assert_true (gsecsock_secure_socket_get_base_stream (g_ptr_array_index (f->incoming, 0)) ==
                 G_IO_STREAM (server_conn1));
  test_op_clear (&op1);
  test_op_clear (&op2);
}

/* ---- accepted: per-connection decisions ----------------------------------- */

static gboolean
on_accepted_refuse_first (GSecSockSecureServer *server,
                          GSecSockSecureSocket *sock,
                          gpointer              user_data)
{
  guint *seen = user_data;

  if ((*seen)++ > 0)
    return FALSE;
  g_io_stream_close (G_IO_STREAM (sock), NULL, NULL);
  return TRUE;
}

static void
test_accepted_takes_over (Fixture       *f,
                          gconstpointer  data)
{
  guint seen = 0;
  guint16 port;
  g_autoptr(GSecSockSecureSocket) refused = NULL;
  g_autoptr(GSecSockSecureSocket) client = NULL;
  TestOp op = { 0 };

  g_signal_connect (f->server, "accepted", G_CALLBACK (on_accepted_refuse_first), &seen);
  port = listen_loopback (f);

  refused = tls_connect (f, f->env.client_ctx, "127.0.0.1", port, "127.0.0.1", &op);
  g_assert_nonnull (op.error);
  g_assert_cmpuint (f->failed->len, ==, 0);
  g_assert_cmpuint (gsecsock_secure_server_get_n_handshakes (f->server), ==, 0);

  client = tls_connect (f, f->env.client_ctx, "127.0.0.1", port, "127.0.0.1", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 1);
  g_assert_cmpuint (f->failed->len, ==, 0);
  g_assert_cmpuint (seen, ==, 2);
  test_op_clear (&op);
}

/* ---- stop ---------------------------------------------------------------- */

static void
test_stop (Fixture       *f,
           gconstpointer  data)
{
  guint16 port = listen_loopback (f);
  g_autoptr(GSocketConnection) idle = test_tcp_connect ("127.0.0.1", port);
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GSocketConnection) refused = NULL;
  g_autoptr(GError) error = NULL;
  char byte;

  /* The idle connection's handshake is running. */
  test_wait_until (f->env.context, gsecsock_secure_server_get_n_handshakes (f->server) == 1);
  gsecsock_secure_server_stop (f->server);
  g_assert_false (gsecsock_secure_server_get_listening (f->server));
  g_assert_cmpuint (gsecsock_secure_server_get_port (f->server), ==, 0);

  /* It is abandoned without a signal, and closed. */
  test_wait_until (f->env.context, gsecsock_secure_server_get_n_handshakes (f->server) == 0);
  {
    GSocket *idle_socket = g_socket_connection_get_socket (idle);
    TestGuard *guard = test_guard_new (f->env.context);

    while (g_socket_condition_check (idle_socket, G_IO_IN | G_IO_HUP | G_IO_ERR) == 0)
      {
        if (test_guard_expired (guard))
          g_error ("the abandoned connection was not closed");
        test_run_context_for (f->env.context, 10);
      }
    test_guard_free (guard);
  }
  g_assert_cmpuint (f->failed->len, ==, 0);
  g_assert_cmpint (g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (idle)), &byte, 1, NULL, &error), <=, 0);
  g_clear_error (&error);

  /* The port is closed. */
  refused = g_socket_client_connect_to_host (socket_client, "127.0.0.1", port, NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_clear_error (&error);

  /* And it can listen again. */
  port = listen_loopback (f);
  {
    g_autoptr(GSecSockSecureSocket) client = NULL;
    TestOp op = { 0 };

    client = tls_connect (f, f->env.client_ctx, "127.0.0.1", port, "127.0.0.1", &op);
    g_assert_no_error (op.error);
    test_wait_until (f->env.context, f->incoming->len == 1);
    test_op_clear (&op);
  }
}

/* stop() while a handshake holds the only slot, then listen again at
 * once: the abandoned handshake frees its slot for the new run. */
static void
test_stop_relisten_at_once (Fixture       *f,
                            gconstpointer  data)
{
  guint16 port = listen_loopback (f);
  g_autoptr(GSocketConnection) idle = test_tcp_connect ("127.0.0.1", port);
  g_autoptr(GSecSockSecureSocket) client = NULL;
  TestOp op = { 0 };

  gsecsock_secure_server_set_max_handshakes (f->server, 1);
  test_wait_until (f->env.context, gsecsock_secure_server_get_n_handshakes (f->server) == 1);
  gsecsock_secure_server_stop (f->server);
  port = listen_loopback (f);

  client = tls_connect (f, f->env.client_ctx, "127.0.0.1", port, "127.0.0.1", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 1);
  test_op_clear (&op);
}

/* A second listen() while an accept is pending: its port is served too. */
static void
test_listen_second_port (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocket) client = NULL;
  TestOp op = { 0 };
  guint16 first = listen_loopback (f);
  guint16 second = listen_loopback (f);

  g_assert_cmpuint (first, !=, second);
  client = tls_connect (f, f->env.client_ctx, "127.0.0.1", second, "127.0.0.1", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 1);
  test_op_clear (&op);
}

static gpointer
listen_in_thread (gpointer data)
{
  GSecSockSecureServer *server = data;
  g_autoptr(GMainContext) context = g_main_context_new ();
  GError *error = NULL;

  g_main_context_push_thread_default (context);
  gsecsock_secure_server_listen (server, "127.0.0.1", 0, &error);
  g_main_context_pop_thread_default (context);
  return error;
}

/* The server stays in the main context it started in. */
static void
test_other_main_context (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  listen_loopback (f);
  error = g_thread_join (g_thread_new ("other-context", listen_in_thread, f->server));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "main context");
}

/* ---- Address reuse ----------------------------------------------------- */

/* A port another socket listens on is refused, reuse-address or not. */
static void
test_port_in_use (Fixture       *f,
                  gconstpointer  data)
{
  guint16 port = listen_loopback (f);

  for (guint reuse = 0; reuse <= 1; reuse++)
    {
      g_autoptr(GSecSockSecureServer) other = gsecsock_secure_server_new (f->env.server_ctx, NULL);
      g_autoptr(GError) error = NULL;

      gsecsock_secure_server_set_reuse_address (other, reuse);
      g_assert_cmpuint (gsecsock_secure_server_listen (other, "127.0.0.1", port, &error), ==, 0);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
      test_assert_message_contains (error, "already in use");
      g_test_message ("reuse-address %u: %s", reuse, error->message);
      g_assert_false (gsecsock_secure_server_get_listening (other));
    }
}

/* After a server stopped while its last connection is still closing
 * (TIME_WAIT on the server's side, which closed first), its port can be
 * listened on again with reuse-address, and not without. */
static void
test_reuse_after_time_wait (Fixture       *f,
                            gconstpointer  data)
{
  guint16 port = listen_loopback (f);
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GSecSockSecureServer) strict = NULL;
  g_autoptr(GSecSockSecureServer) relaxed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *rest = NULL;
  TestOp op = { 0 };

  f->close_incoming = TRUE;
  client = tls_connect (f, f->env.client_ctx, "127.0.0.1", port, "127.0.0.1", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 1);
  /* The server closed (close_notify, FIN); the client sees it and closes
   * the TCP connection too, without sending anything (data reaching the
   * server's closed socket would be answered with a reset, which skips
   * TIME_WAIT). */
  rest = test_read_to_eof (G_IO_STREAM (client), 16, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rest, ==, "");
  g_assert_true (g_io_stream_close (gsecsock_secure_socket_get_base_stream (client), NULL, &error));
  g_assert_no_error (error);
  gsecsock_secure_server_stop (f->server);

  strict = gsecsock_secure_server_new (f->env.server_ctx, NULL);
  g_object_set (strict, "reuse-address", FALSE, NULL);
  g_assert_cmpuint (gsecsock_secure_server_listen (strict, "127.0.0.1", port, &error), ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  test_assert_message_contains (error, "TIME_WAIT");
  g_clear_error (&error);

  relaxed = gsecsock_secure_server_new (f->env.server_ctx, NULL);
  g_assert_cmpuint (gsecsock_secure_server_listen (relaxed, "127.0.0.1", port, &error), ==, port);
  g_assert_no_error (error);
  gsecsock_secure_server_stop (relaxed);
  test_op_clear (&op);
}

/* ---- Client-certificate policy ------------------------------------------ */

static guint n_notified;

static void
count_notify (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  n_notified++;
}

static void
test_client_auth_property (void)
{
  g_autoptr(GSecSockSecureSocketContext) server = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GSecSockSecureSocketContext) client = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  GSecSockClientAuth value;

  g_assert_cmpint (gsecsock_secure_socket_context_get_client_auth (server), ==, GSECSOCK_CLIENT_AUTH_NONE);
  g_assert_false (gsecsock_secure_socket_context_get_verify_peer (server));
  g_signal_connect (server, "notify::client-auth", G_CALLBACK (count_notify), NULL);
  g_signal_connect (server, "notify::verify-peer", G_CALLBACK (count_notify), NULL);

  /* verify-peer TRUE on a server is REQUIRE... */
  n_notified = 0;
  gsecsock_secure_socket_context_set_verify_peer (server, TRUE);
  g_assert_cmpint (gsecsock_secure_socket_context_get_client_auth (server), ==, GSECSOCK_CLIENT_AUTH_REQUIRE);
  g_assert_cmpuint (n_notified, ==, 2);

  /* ... REQUEST reads as verify-peer FALSE ... */
  n_notified = 0;
  g_object_set (server, "client-auth", GSECSOCK_CLIENT_AUTH_REQUEST, NULL);
  g_assert_false (gsecsock_secure_socket_context_get_verify_peer (server));
  g_assert_cmpuint (n_notified, ==, 2);

  /* ... and turning verify-peer off leaves REQUEST alone ... */
  n_notified = 0;
  gsecsock_secure_socket_context_set_verify_peer (server, FALSE);
  g_object_get (server, "client-auth", &value, NULL);
  g_assert_cmpint (value, ==, GSECSOCK_CLIENT_AUTH_REQUEST);
  g_assert_cmpuint (n_notified, ==, 0);
  gsecsock_secure_socket_context_set_client_auth (server, GSECSOCK_CLIENT_AUTH_REQUEST);
  g_assert_cmpuint (n_notified, ==, 0);

  /* ... while turning it off from REQUIRE is NONE. */
  gsecsock_secure_socket_context_set_client_auth (server, GSECSOCK_CLIENT_AUTH_REQUIRE);
  g_assert_true (gsecsock_secure_socket_context_get_verify_peer (server));
  gsecsock_secure_socket_context_set_verify_peer (server, FALSE);
  g_assert_cmpint (gsecsock_secure_socket_context_get_client_auth (server), ==, GSECSOCK_CLIENT_AUTH_NONE);

  /* Server only. */
  g_assert_cmpint (gsecsock_secure_socket_context_get_client_auth (client), ==, GSECSOCK_CLIENT_AUTH_NONE);
  g_test_expect_message ("GSecSock", G_LOG_LEVEL_CRITICAL, "*client-auth applies to server contexts only*");
  gsecsock_secure_socket_context_set_client_auth (client, GSECSOCK_CLIENT_AUTH_REQUEST);
  g_test_assert_expected_messages ();
  g_assert_cmpint (gsecsock_secure_socket_context_get_client_auth (client), ==, GSECSOCK_CLIENT_AUTH_NONE);
  g_assert_true (gsecsock_secure_socket_context_get_verify_peer (client));
}

static void
trust_test_ca (GSecSockSecureSocketContext *ctx)
{
  g_autoptr(GError) error = NULL;

  gsecsock_secure_socket_context_set_use_system_trust (ctx, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (ctx, test_pki_path ("ca.pem"), &error));
  g_assert_no_error (error);
}

static guint n_server_verify;

static gboolean
on_server_verify_accept_all (void)
{
  return TRUE;
}

static gboolean
on_server_verify (GSecSockSecureSocketContext *ctx,
                  GSecSockSecureSocket        *sock,
                  GSecSockCertificate         *certificate,
                  guint                        depth,
                  GSecSockCertificateFlags     errors,
                  gpointer                     user_data)
{
  n_server_verify++;
  return errors == 0;
}

/* REQUEST: a client without a certificate is let in; one with a good
 * certificate is verified (verify-certificate runs) and identified; one
 * with a certificate nobody trusts is refused. */
static void
test_client_auth_request (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) with_cert =
    test_make_client_context_with_certificate ("client-chain.pem", "client.key");
  g_autoptr(GSecSockSecureSocketContext) with_untrusted =
    test_make_client_context_with_certificate ("client-other-chain.pem", "client-other.key");
  g_autoptr(GSecSockSecureSocket) anonymous = NULL;
  g_autoptr(GSecSockSecureSocket) identified = NULL;
  g_autoptr(GSecSockSecureSocket) untrusted = NULL;
  g_autofree char *subject = NULL;
  GSecSockCertificate *peer;
  TestOp op = { 0 };
  guint16 port;

  gsecsock_secure_socket_context_set_client_auth (f->env.server_ctx, GSECSOCK_CLIENT_AUTH_REQUEST);
  trust_test_ca (f->env.server_ctx);
  n_server_verify = 0;
  g_signal_connect (f->env.server_ctx, "verify-certificate", G_CALLBACK (on_server_verify), NULL);
  port = listen_loopback (f);

  anonymous = tls_connect (f, f->env.client_ctx, "127.0.0.1", port, "127.0.0.1", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 1);
  g_assert_null (gsecsock_secure_socket_get_peer_certificate (g_ptr_array_index (f->incoming, 0)));
  g_assert_cmpuint (n_server_verify, ==, 0);

  identified = tls_connect (f, with_cert, "127.0.0.1", port, "127.0.0.1", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 2);
  peer = gsecsock_secure_socket_get_peer_certificate (g_ptr_array_index (f->incoming, 1));
  g_assert_nonnull (peer);
  subject = gsecsock_certificate_get_subject (peer);
  g_assert_nonnull (strstr (subject, "gsecsock test client"));
  g_assert_cmpuint (n_server_verify, ==, 3);   /* root, intermediate, leaf */

  untrusted = tls_connect (f, with_untrusted, "127.0.0.1", port, "127.0.0.1", &op);
  test_wait_until (f->env.context, f->failed->len == 1);
  g_assert_error ((GError *) g_ptr_array_index (f->errors, 0), GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_assert_true (gsecsock_secure_socket_get_certificate_errors (g_ptr_array_index (f->failed, 0)) &
                 GSECSOCK_CERTIFICATE_UNKNOWN_CA);
  g_assert_cmpuint (f->incoming->len, ==, 2);
  test_op_clear (&op);
}

/* REQUIRE: no certificate, no entry. */
static void
test_client_auth_require (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) with_cert =
    test_make_client_context_with_certificate ("client-chain.pem", "client.key");
  g_autoptr(GSecSockSecureSocket) anonymous = NULL;
  g_autoptr(GSecSockSecureSocket) identified = NULL;
  TestOp op = { 0 };
  guint16 port;

  gsecsock_secure_socket_context_set_client_auth (f->env.server_ctx, GSECSOCK_CLIENT_AUTH_REQUIRE);
  trust_test_ca (f->env.server_ctx);
  port = listen_loopback (f);

  anonymous = tls_connect (f, f->env.client_ctx, "127.0.0.1", port, "127.0.0.1", &op);
  test_wait_until (f->env.context, f->failed->len == 1);
  g_assert_error ((GError *) g_ptr_array_index (f->errors, 0), GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  test_assert_message_contains (g_ptr_array_index (f->errors, 0), "requires one");

  identified = tls_connect (f, with_cert, "127.0.0.1", port, "127.0.0.1", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 1);
  g_assert_nonnull (gsecsock_secure_socket_get_peer_certificate (g_ptr_array_index (f->incoming, 0)));
  test_op_clear (&op);
}

/* One connection that lets the client take its TLS 1.3 session ticket;
 * returns whether the handshake succeeded (the server's socket is the last
 * of f->incoming). */
static gboolean
connect_and_exchange (Fixture                     *f,
                      GSecSockSecureSocketContext *client_ctx,
                      guint16                      port)
{
  g_autoptr(GSecSockSecureSocket) client = NULL;
  guint n_incoming = f->incoming->len;
  guint n_failed = f->failed->len;
  gboolean ok;
  TestOp op = { 0 };
  char buf[4];

  client = tls_connect (f, client_ctx, "127.0.0.1", port, "127.0.0.1", &op);
  test_wait_until (f->env.context, f->incoming->len + f->failed->len > n_incoming + n_failed);
  ok = f->incoming->len > n_incoming;
  if (ok)
    {
      test_write_all (g_ptr_array_index (f->incoming, f->incoming->len - 1), "ping", 4);
      test_read_exact (G_IO_STREAM (client), buf, 4);
    }
  test_op_clear (&op);
  return ok;
}

/* A session is never resumed past what the server asks for now: not after
 * client-auth became REQUIRE, not when the certificate it was made with
 * had problems that a handler let through. */
static void
test_client_auth_no_stale_resumption (Fixture       *f,
                                      gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) with_untrusted =
    test_make_client_context_with_certificate ("client-other-chain.pem", "client-other.key");
  GSecSockSecureSocket *last;
  guint16 port;

  gsecsock_secure_socket_context_set_client_auth (f->env.server_ctx, GSECSOCK_CLIENT_AUTH_REQUEST);
  trust_test_ca (f->env.server_ctx);
  port = listen_loopback (f);

  /* Without a certificate: resumable while REQUEST holds. */
  g_assert_true (connect_and_exchange (f, f->env.client_ctx, port));
  g_assert_true (connect_and_exchange (f, f->env.client_ctx, port));
  g_assert_true (gsecsock_secure_socket_get_session_reused (g_ptr_array_index (f->incoming, 1)));
  gsecsock_secure_socket_context_set_client_auth (f->env.server_ctx, GSECSOCK_CLIENT_AUTH_REQUIRE);
  g_assert_false (connect_and_exchange (f, f->env.client_ctx, port));
  g_assert_cmpuint (f->failed->len, ==, 1);

  /* A certificate let through by a handler: never resumed, never trusted. */
  gsecsock_secure_socket_context_set_client_auth (f->env.server_ctx, GSECSOCK_CLIENT_AUTH_REQUEST);
  g_signal_connect (f->env.server_ctx, "verify-certificate", G_CALLBACK (on_server_verify_accept_all), NULL);
  g_assert_true (connect_and_exchange (f, with_untrusted, port));
  g_assert_true (connect_and_exchange (f, with_untrusted, port));
  last = g_ptr_array_index (f->incoming, f->incoming->len - 1);
  g_assert_false (gsecsock_secure_socket_get_session_reused (last));
  g_assert_cmpint (gsecsock_secure_socket_get_certificate_status (last), ==,
                   GSECSOCK_CERTIFICATE_STATUS_UNTRUSTED_SIGNERS);
}

/* ---- SNI virtual hosting ------------------------------------------------ */

static GSecSockSecureSocketContext *
add_virtual_hosts (GSecSockSecureSocketContext *main_ctx,
                   GSecSockSecureSocketContext **beta_out)
{
  g_autoptr(GError) error = NULL;
  GSecSockSecureSocketContext *alpha = test_make_server_context ("alpha-chain.pem", "alpha.key");
  GSecSockSecureSocketContext *beta = test_make_server_context ("beta-chain.pem", "beta.key");

  g_assert_true (gsecsock_secure_socket_context_add_sni_context (main_ctx, "alpha.test", alpha, &error));
  g_assert_no_error (error);
  g_assert_true (gsecsock_secure_socket_context_add_sni_context (main_ctx, "BETA.test.", beta, &error));
  g_assert_no_error (error);
  g_assert_true (gsecsock_secure_socket_context_add_sni_context (main_ctx, "*.beta.test", beta, &error));
  g_assert_no_error (error);
  *beta_out = beta;
  return alpha;
}

static char *
peer_common_name (GSecSockSecureSocket *sock)
{
  GSecSockCertificate *peer = gsecsock_secure_socket_get_peer_certificate (sock);

  g_assert_nonnull (peer);
  return gsecsock_certificate_get_subject (peer);
}

/* Connects with SNI @name (verified against it when @verify) and returns
 * the subject of the certificate the server presented. */
static char *
sni_connect (Fixture    *f,
             guint16     port,
             const char *name,
             gboolean    verify,
             char      **server_side_name)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = test_make_client_context ();
  g_autoptr(GSecSockSecureSocket) client = NULL;
  GSecSockSecureSocket *served;
  guint before = f->incoming->len;
  TestOp op = { 0 };
  char *subject;

  gsecsock_secure_socket_context_set_verify_peer (ctx, verify);
  client = tls_connect (f, ctx, "127.0.0.1", port, name, &op);
  g_assert_no_error (op.error);
  g_assert_cmpstr (gsecsock_secure_socket_get_server_name (client), ==, name);
  test_wait_until (f->env.context, f->incoming->len == before + 1);
  served = g_ptr_array_index (f->incoming, before);
  *server_side_name = g_strdup (gsecsock_secure_socket_get_server_name (served));
  subject = peer_common_name (client);
  test_op_clear (&op);
  return subject;
}

static void
test_sni_two_names (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) alpha = NULL;
  g_autoptr(GSecSockSecureSocketContext) beta = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *name = NULL;
  guint16 port;

  alpha = add_virtual_hosts (f->env.server_ctx, &beta);
  port = listen_loopback (f);

  subject = sni_connect (f, port, "alpha.test", TRUE, &name);
  g_assert_cmpstr (subject, ==, "CN=alpha.test");
  g_assert_cmpstr (name, ==, "alpha.test");
  g_clear_pointer (&subject, g_free);
  g_clear_pointer (&name, g_free);

  subject = sni_connect (f, port, "beta.test", TRUE, &name);
  g_assert_cmpstr (subject, ==, "CN=beta.test");
  g_assert_cmpstr (name, ==, "beta.test");
  g_clear_pointer (&subject, g_free);
  g_clear_pointer (&name, g_free);

  /* The main context's certificate for other names... */
  subject = sni_connect (f, port, "localhost", TRUE, &name);
  g_assert_cmpstr (subject, ==, "CN=localhost");
  g_assert_cmpstr (name, ==, "localhost");
  g_clear_pointer (&subject, g_free);
  g_clear_pointer (&name, g_free);

  subject = sni_connect (f, port, "gamma.test", FALSE, &name);
  g_assert_cmpstr (subject, ==, "CN=localhost");
  g_assert_cmpstr (name, ==, "gamma.test");
  g_clear_pointer (&subject, g_free);
  g_clear_pointer (&name, g_free);

  /* ... and for clients that send no name. */
  {
    g_autoptr(GSecSockSecureSocket) client = NULL;
    TestOp op = { 0 };

    client = tls_connect (f, f->env.client_ctx, "127.0.0.1", port, "127.0.0.1", &op);
    g_assert_no_error (op.error);
    test_wait_until (f->env.context, f->incoming->len == 5);
    subject = peer_common_name (client);
    g_assert_cmpstr (subject, ==, "CN=localhost");
    g_assert_null (gsecsock_secure_socket_get_server_name (g_ptr_array_index (f->incoming, 4)));
    test_op_clear (&op);
  }
  /* The sockets' context stays the main one. */
  g_assert_true (gsecsock_secure_socket_get_context (g_ptr_array_index (f->incoming, 0)) == f->env.server_ctx);
}

static void
test_sni_wildcard (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) alpha = NULL;
  g_autoptr(GSecSockSecureSocketContext) beta = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *name = NULL;
  guint16 port;

  alpha = add_virtual_hosts (f->env.server_ctx, &beta);
  assert_sni_lookup (f->env.server_ctx, "www.Beta.Test", beta);
  assert_sni_lookup (f->env.server_ctx, "ALPHA.TEST", alpha);
  assert_sni_lookup (f->env.server_ctx, "a.b.beta.test", NULL);
  assert_sni_lookup (f->env.server_ctx, "x.alpha.test", NULL);
  port = listen_loopback (f);

  subject = sni_connect (f, port, "www.beta.test", TRUE, &name);
  g_assert_cmpstr (subject, ==, "CN=beta.test");
  g_assert_cmpstr (name, ==, "www.beta.test");
  g_clear_pointer (&subject, g_free);
  g_clear_pointer (&name, g_free);

  /* One label only. */
  subject = sni_connect (f, port, "a.b.beta.test", FALSE, &name);
  g_assert_cmpstr (subject, ==, "CN=localhost");
  g_clear_pointer (&subject, g_free);
  g_clear_pointer (&name, g_free);

  /* Removed: the main certificate again. */
  g_assert_true (gsecsock_secure_socket_context_remove_sni_context (f->env.server_ctx, "alpha.test"));
  g_assert_false (gsecsock_secure_socket_context_remove_sni_context (f->env.server_ctx, "alpha.test"));
  subject = sni_connect (f, port, "alpha.test", FALSE, &name);
  g_assert_cmpstr (subject, ==, "CN=localhost");
}

static void
test_sni_misuse (void)
{
  g_autoptr(GSecSockSecureSocketContext) main_ctx = test_make_server_context ("server-chain.pem", "server.key");
  g_autoptr(GSecSockSecureSocketContext) alpha = test_make_server_context ("alpha-chain.pem", "alpha.key");
  g_autoptr(GSecSockSecureSocketContext) bare = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GSecSockSecureSocketContext) client = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  const char *bad_names[] = { "", "bad name", "*.", "*", "a.*.test", "x*.test", "-a.test",
                              "a..test", "127.0.0.1", "::1", "*.127.0.0.1", NULL };
  g_autoptr(GError) error = NULL;

  g_assert_false (gsecsock_secure_socket_context_add_sni_context (client, "alpha.test", alpha, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  g_clear_error (&error);
  g_assert_false (gsecsock_secure_socket_context_add_sni_context (main_ctx, "alpha.test", client, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  g_clear_error (&error);
  g_assert_false (gsecsock_secure_socket_context_add_sni_context (main_ctx, "alpha.test", bare, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "no certificate");
  g_clear_error (&error);
  g_assert_false (gsecsock_secure_socket_context_add_sni_context (main_ctx, "alpha.test", main_ctx, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  g_clear_error (&error);
  for (guint i = 0; bad_names[i] != NULL; i++)
    {
      g_assert_false (gsecsock_secure_socket_context_add_sni_context (main_ctx, bad_names[i], alpha, &error));
      g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
      g_test_message ("“%s”: %s", bad_names[i], error->message);
      g_clear_error (&error);
    }
  assert_sni_lookup (main_ctx, "alpha.test", NULL);

  /* International names are kept in their ASCII form. */
  g_assert_true (gsecsock_secure_socket_context_add_sni_context (main_ctx, "bücher.test", alpha, &error));
  g_assert_no_error (error);
  assert_sni_lookup (main_ctx, "xn--bcher-kva.test", alpha);

  /* No nesting (and so no cycles). */
  g_assert_false (gsecsock_secure_socket_context_add_sni_context (alpha, "x.test", main_ctx, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "per-name contexts of its own");
}

/* The per-name context supplies the certificate; the client-certificate
 * policy and the trust it is verified with stay the main context's. */
static void
test_sni_keeps_client_auth (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) alpha = NULL;
  g_autoptr(GSecSockSecureSocketContext) beta = NULL;
  g_autoptr(GSecSockSecureSocketContext) with_cert =
    test_make_client_context_with_certificate ("client-chain.pem", "client.key");
  g_autoptr(GSecSockSecureSocket) anonymous = NULL;
  g_autoptr(GSecSockSecureSocket) identified = NULL;
  g_autofree char *subject = NULL;
  TestOp op = { 0 };
  guint16 port;

  alpha = add_virtual_hosts (f->env.server_ctx, &beta);
  gsecsock_secure_socket_context_set_client_auth (f->env.server_ctx, GSECSOCK_CLIENT_AUTH_REQUIRE);
  trust_test_ca (f->env.server_ctx);      /* alpha trusts nothing of the test PKI */
  gsecsock_secure_socket_context_set_use_system_trust (alpha, FALSE);
  port = listen_loopback (f);

  anonymous = tls_connect (f, f->env.client_ctx, "127.0.0.1", port, "alpha.test", &op);
  test_wait_until (f->env.context, f->failed->len == 1);
  g_assert_error ((GError *) g_ptr_array_index (f->errors, 0), GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_assert_cmpstr (gsecsock_secure_socket_get_server_name (g_ptr_array_index (f->failed, 0)), ==, "alpha.test");

  identified = tls_connect (f, with_cert, "127.0.0.1", port, "alpha.test", &op);
  g_assert_no_error (op.error);
  test_wait_until (f->env.context, f->incoming->len == 1 || f->failed->len == 2);
  g_assert_cmpuint (f->failed->len, ==, 1);
  subject = peer_common_name (identified);
  g_assert_cmpstr (subject, ==, "CN=alpha.test");
  g_assert_nonnull (gsecsock_secure_socket_get_peer_certificate (g_ptr_array_index (f->incoming, 0)));
  test_op_clear (&op);
}

/* ---- curl and openssl s_client against the server ---------------------- */

/* One HTTP exchange: read the request head, answer, close. */
typedef struct {
  GSecSockSecureSocket *sock;
  GString *request;
  char buffer[1024];
  char *response;
} HttpSession;

static void
http_session_free (HttpSession *session)
{
  g_clear_object (&session->sock);
  g_string_free (session->request, TRUE);
  g_free (session->response);
  g_free (session);
}

static void
http_closed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_io_stream_close_finish (G_IO_STREAM (source), result, NULL);
  http_session_free (user_data);
}

static void
http_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HttpSession *session = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    g_test_message ("HTTP response not sent: %s", error->message);
  g_io_stream_close_async (G_IO_STREAM (session->sock), G_PRIORITY_DEFAULT, NULL, http_closed, session);
}

static void http_read_more (HttpSession *session);

static void
http_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HttpSession *session = user_data;
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  const char *name;
  g_autofree char *body = NULL;

  if (n <= 0)
    {
      g_test_message ("HTTP request not read: %s", error ? error->message : "end of stream");
      g_io_stream_close_async (G_IO_STREAM (session->sock), G_PRIORITY_DEFAULT, NULL, http_closed, session);
      return;
    }
  g_string_append_len (session->request, session->buffer, n);
  if (strstr (session->request->str, "\r\n\r\n") == NULL)
    {
      http_read_more (session);
      return;
    }

  name = gsecsock_secure_socket_get_server_name (session->sock);
  body = g_strdup_printf ("hello from gsecsock: %s\n", name ? name : "(no SNI)");
  session->response = g_strdup_printf ("HTTP/1.0 200 OK\r\n"
                                       "Content-Type: text/plain\r\n"
                                       "Content-Length: %zu\r\n"
                                       "Connection: close\r\n"
                                       "\r\n%s", strlen (body), body);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (session->sock)),
                                   session->response, strlen (session->response),
                                   G_PRIORITY_DEFAULT, NULL, http_written, session);
}

static void
http_read_more (HttpSession *session)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (session->sock)),
                             session->buffer, sizeof session->buffer, G_PRIORITY_DEFAULT, NULL,
                             http_read, session);
}

static void
serve_http (Fixture *f, GSecSockSecureSocket *sock)
{
  HttpSession *session = g_new0 (HttpSession, 1);

  session->sock = g_object_ref (sock);
  session->request = g_string_new (NULL);
  http_read_more (session);
}


typedef struct {
  gboolean done;
  char *out;
  char *err;
  GError *error;
} Communicate;

static void
communicate_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Communicate *c = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &c->out, &c->err, &c->error);
  c->done = TRUE;
}

/* Runs @argv with @input while the server runs; returns its stdout, after
 * checking it succeeded. */
static char *
run_tool (Fixture     *f,
          const char **argv,
          const char  *input)
{
  g_autoptr(GSubprocessLauncher) launcher =
    test_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GError) error = NULL;
  g_autofree char *cmdline = g_strjoinv (" ", (char **) argv);
  Communicate c = { 0 };
  char *out;

  g_test_message ("running: %s", cmdline);
  /* No proxy between curl and the server. */
  g_subprocess_launcher_unsetenv (launcher, "http_proxy");
  g_subprocess_launcher_unsetenv (launcher, "https_proxy");
  g_subprocess_launcher_unsetenv (launcher, "HTTPS_PROXY");
  g_subprocess_launcher_unsetenv (launcher, "all_proxy");
  g_subprocess_launcher_unsetenv (launcher, "ALL_PROXY");
  f->proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (f->proc, input, NULL, communicate_cb, &c);
  test_wait_until (f->env.context, c.done);
  g_assert_no_error (c.error);
  g_test_message ("stdout:\n%s\nstderr:\n%s", c.out, c.err);
  g_assert_true (g_subprocess_get_if_exited (f->proc));
  if (g_subprocess_get_exit_status (f->proc) != 0)
    g_error ("%s failed (%d):\n%s", argv[0], g_subprocess_get_exit_status (f->proc), c.err);
  g_clear_object (&f->proc);
  g_free (c.err);
  out = c.out;
  return out;
}


static char *
curl_get (Fixture    *f,
          guint16     port,
          const char *host)
{
  g_autofree char *url = g_strdup_printf ("https://%s:%u/", host, port);
  g_autofree char *resolve = g_strdup_printf ("%s:%u:127.0.0.1", host, port);
  g_autofree char *curl = g_find_program_in_path ("curl");
  const char *argv[] = { curl, "--silent", "--show-error", "--fail", "--noproxy", "*",
                         "--max-time", "30", "--cacert", test_pki_path ("ca.pem"),
                         "--resolve", resolve, url, NULL };

  return run_tool (f, argv, NULL);
}

static void
test_curl (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *curl = g_find_program_in_path ("curl");
  g_autofree char *out = NULL;
  guint16 port;

  if (curl == NULL)
    {
      g_test_skip ("curl is not installed (tools/quickstart.sh installs it)");
      return;
    }
  f->serve_http = TRUE;
  port = listen_loopback (f);
  out = curl_get (f, port, "localhost");
  g_assert_cmpstr (out, ==, "hello from gsecsock: localhost\n");
  g_assert_cmpuint (f->incoming->len, ==, 1);
  g_assert_cmpuint (f->failed->len, ==, 0);
}

static void
test_curl_sni (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *curl = g_find_program_in_path ("curl");
  g_autoptr(GSecSockSecureSocketContext) alpha = NULL;
  g_autoptr(GSecSockSecureSocketContext) beta = NULL;
  g_autofree char *out = NULL;
  guint16 port;

  if (curl == NULL)
    {
      g_test_skip ("curl is not installed (tools/quickstart.sh installs it)");
      return;
    }
  alpha = add_virtual_hosts (f->env.server_ctx, &beta);
  f->serve_http = TRUE;
  port = listen_loopback (f);

  /* curl checks that the certificate matches the name it asked for. */
  out = curl_get (f, port, "alpha.test");
  g_assert_cmpstr (out, ==, "hello from gsecsock: alpha.test\n");
  g_clear_pointer (&out, g_free);
  out = curl_get (f, port, "beta.test");
  g_assert_cmpstr (out, ==, "hello from gsecsock: beta.test\n");
  g_clear_pointer (&out, g_free);
  out = curl_get (f, port, "www.beta.test");
  g_assert_cmpstr (out, ==, "hello from gsecsock: www.beta.test\n");
  g_assert_cmpuint (f->failed->len, ==, 0);
}

static char *
s_client_get (Fixture    *f,
              guint16     port,
              const char *name)
{
  g_autofree char *connect = g_strdup_printf ("127.0.0.1:%u", port);
  const char *argv[] = { test_openssl_program (), "s_client", "-connect", connect,
                         "-servername", name, "-verify_hostname", name,
                         "-CAfile", test_pki_path ("ca.pem"), "-verify_return_error",
                         "-quiet", NULL };

  /* -quiet implies -ign_eof: s_client stays until the server closes. */
  return run_tool (f, argv, "GET / HTTP/1.0\r\n\r\n");
}

static void
test_s_client (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) alpha = NULL;
  g_autoptr(GSecSockSecureSocketContext) beta = NULL;
  g_autofree char *out = NULL;
  guint16 port;

  alpha = add_virtual_hosts (f->env.server_ctx, &beta);
  f->serve_http = TRUE;
  port = listen_loopback (f);

  /* s_client fails (-verify_return_error) unless the certificate is valid
   * for the name it asked for. */
  out = s_client_get (f, port, "localhost");
  g_assert_nonnull (strstr (out, "hello from gsecsock: localhost\n"));
  g_clear_pointer (&out, g_free);
  out = s_client_get (f, port, "alpha.test");
  g_assert_nonnull (strstr (out, "hello from gsecsock: alpha.test\n"));
  g_clear_pointer (&out, g_free);
  out = s_client_get (f, port, "beta.test");
  g_assert_nonnull (strstr (out, "hello from gsecsock: beta.test\n"));
  g_assert_cmpuint (f->incoming->len, ==, 3);
  g_assert_cmpuint (f->failed->len, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add ((path), Fixture, NULL, fixture_setup, (func), fixture_teardown)

  g_test_add_func ("/server/new/needs-server-context", test_new_needs_server_context);
  g_test_add_func ("/server/listen/needs-certificate", test_listen_needs_certificate);
  ADD ("/server/listen/bad-address", test_listen_bad_address);
  ADD ("/server/defaults", test_defaults);
  ADD ("/server/incoming", test_incoming);
  ADD ("/server/listen/all-addresses", test_listen_all_addresses);
  ADD ("/server/listen/ipv6", test_listen_ipv6);
  ADD ("/server/listen/host-name", test_listen_host_name);
  ADD ("/server/bad-client/not-tls", test_not_tls_client);
  ADD ("/server/bad-client/gives-up", test_client_gives_up);
  ADD ("/server/limits/idle-flood", test_idle_flood);
  ADD ("/server/limits/add-connection-waits", test_add_connection_waits);
  ADD ("/server/accepted/takes-over", test_accepted_takes_over);
  ADD ("/server/stop", test_stop);
  ADD ("/server/stop/relisten-at-once", test_stop_relisten_at_once);
  ADD ("/server/listen/second-port", test_listen_second_port);
  ADD ("/server/other-main-context", test_other_main_context);
  ADD ("/server/reuse-address/port-in-use", test_port_in_use);
  ADD ("/server/reuse-address/time-wait", test_reuse_after_time_wait);
  g_test_add_func ("/server/client-auth/property", test_client_auth_property);
  ADD ("/server/client-auth/request", test_client_auth_request);
  ADD ("/server/client-auth/require", test_client_auth_require);
  ADD ("/server/client-auth/no-stale-resumption", test_client_auth_no_stale_resumption);
  ADD ("/server/sni/two-names", test_sni_two_names);
  ADD ("/server/sni/wildcard", test_sni_wildcard);
  g_test_add_func ("/server/sni/misuse", test_sni_misuse);
  ADD ("/server/sni/keeps-client-auth", test_sni_keeps_client_auth);
  ADD ("/server/interop/curl", test_curl);
  ADD ("/server/interop/curl-sni", test_curl_sni);
  ADD ("/server/interop/s-client-sni", test_s_client);

  return g_test_run ();
}
