/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error paths: API misuse, peers that do not speak TLS, peers that vanish,
 * and cancellation of handshakes and connects. */
#include "test-utils.h"

#include <string.h>

typedef struct {
  TestEnv env;
  GSocketConnection *client_conn;
  GSocketConnection *server_conn;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_env_setup (&f->env, "server-chain.pem", "server.key");
  test_socket_pair ("127.0.0.1", &f->client_conn, &f->server_conn);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->client_conn);
  g_clear_object (&f->server_conn);
  test_env_teardown (&f->env);
}

/* Misuse, caught when the socket is made. */
static void
test_misuse_not_pollable (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GInputStream) mem_in = g_memory_input_stream_new ();
  g_autoptr(GOutputStream) mem_out = g_memory_output_stream_new_resizable ();
  g_autoptr(GInputStream) in = g_buffered_input_stream_new (mem_in);
  g_autoptr(GOutputStream) out = g_buffered_output_stream_new (mem_out);
  g_autoptr(GIOStream) stream = g_simple_io_stream_new (in, out);
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (G_IS_POLLABLE_INPUT_STREAM (in));
  g_assert_false (G_IS_POLLABLE_OUTPUT_STREAM (out));
  sock = gsecsock_secure_socket_new (f->env.client_ctx, stream, "localhost", &error);
  g_assert_null (sock);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "pollable");
}

static void
test_misuse_server_peer_name (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;

  sock = gsecsock_secure_socket_new (f->env.server_ctx, G_IO_STREAM (f->server_conn), "localhost", &error);
  g_assert_null (sock);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  g_test_message ("%s", error->message);
}

static void
test_misuse_server_no_certificate (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;

  sock = gsecsock_secure_socket_new (ctx, G_IO_STREAM (f->server_conn), NULL, &error);
  g_assert_null (sock);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "certificate");
}

static void
test_misuse_client_no_peer_name (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;

  /* Verification without a name to verify against would accept any
   * certificate from the CA: refuse it. */
  sock = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (f->client_conn), NULL, &error);
  g_assert_null (sock);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "peer");
}

static void
test_no_verify_no_peer_name (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GSecSockSecureSocket) server = NULL;
  g_autoptr(GError) error = NULL;
  TestOp c = { 0 }, s = { 0 };

  /* Without verification a peer name is optional. */
  gsecsock_secure_socket_context_set_verify_peer (f->env.client_ctx, FALSE);
  client = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (f->client_conn), NULL, &error);
  g_assert_no_error (error);
  server = gsecsock_secure_socket_new (f->env.server_ctx, G_IO_STREAM (f->server_conn), NULL, &error);
  g_assert_no_error (error);
  g_assert_null (gsecsock_secure_socket_get_peer_name (client));

  gsecsock_secure_socket_handshake_async (server, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &s);
  gsecsock_secure_socket_handshake_async (client, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &c);
  test_wait_until (f->env.context, c.done && s.done);
  g_assert_no_error (c.error);
  g_assert_no_error (s.error);
  g_assert_nonnull (gsecsock_secure_socket_get_peer_certificate (client));
  /* The chain is fine; there just was no identity to check. */
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (client) & ~GSECSOCK_CERTIFICATE_BAD_IDENTITY, ==, 0);
}

/* Peers that do not speak TLS. */
static void
assert_client_gets_not_tls (Fixture    *f,
                            const char *banner,
                            gboolean    sync)
{
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;
  TestOp op = { 0 };

  test_write_all (G_IO_STREAM (f->server_conn), banner, strlen (banner));
  sock = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (f->client_conn), "localhost", &error);
  g_assert_no_error (error);
  if (sync)
    {
      g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("handshake with a plaintext server");

      op.ok = gsecsock_secure_socket_handshake (sock, NULL, &op.error);
    }
  else
    {
      gsecsock_secure_socket_handshake_async (sock, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &op);
      test_wait_until (f->env.context, op.done);
    }
  g_assert_false (op.ok);
  g_assert_error (op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_TLS);
  g_test_message ("%s", op.error->message);
  g_assert_false (gsecsock_secure_socket_get_handshake_complete (sock));
  test_op_clear (&op);
}

static void
test_not_tls_smtp (Fixture       *f,
                   gconstpointer  data)
{
  assert_client_gets_not_tls (f, "220 smtp.example ESMTP ready\r\n", FALSE);
}

static void
test_not_tls_smtp_sync (Fixture       *f,
                        gconstpointer  data)
{
  assert_client_gets_not_tls (f, "220 smtp.example ESMTP ready\r\n", TRUE);
}

static void
test_not_tls_http_response (Fixture       *f,
                            gconstpointer  data)
{
  assert_client_gets_not_tls (f, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", FALSE);
}

static void
assert_server_gets_not_tls (Fixture    *f,
                            const char *request)
{
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;
  TestOp op = { 0 };

  test_write_all (G_IO_STREAM (f->client_conn), request, strlen (request));
  sock = gsecsock_secure_socket_new (f->env.server_ctx, G_IO_STREAM (f->server_conn), NULL, &error);
  g_assert_no_error (error);
  gsecsock_secure_socket_handshake_async (sock, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &op);
  test_wait_until (f->env.context, op.done);
  g_assert_false (op.ok);
  g_assert_error (op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_TLS);
  g_test_message ("%s", op.error->message);
  test_op_clear (&op);
}

static void
test_not_tls_http_request (Fixture       *f,
                           gconstpointer  data)
{
  assert_server_gets_not_tls (f, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

static void
test_not_tls_smtp_client (Fixture       *f,
                          gconstpointer  data)
{
  assert_server_gets_not_tls (f, "EHLO client.example\r\n");
}

/* A peer that reads the ClientHello and hangs up. */
typedef struct {
  GSocketConnection *conn;
  gboolean close_after;
  GCancellable *cancel_after; /* cancelled once the ClientHello is in */
  GMutex mutex;
  GCond cond;
  gboolean release;           /* set by the test: the thread may return */
  gsize hello_len;
} HelloReader;

/* Reads one whole TLS record (the ClientHello), so that closing afterwards
 * sends a FIN and not an RST for unread data. */
static gsize
read_client_hello (GSocketConnection *conn)
{
  guint8 header[5];
  g_autofree guint8 *body = NULL;
  gsize len;

  test_read_exact (G_IO_STREAM (conn), header, sizeof header);
  g_assert_cmpuint (header[0], ==, 22); /* handshake record */
  len = (header[3] << 8) | header[4];
  body = g_malloc (len);
  test_read_exact (G_IO_STREAM (conn), body, len);
  g_assert_cmpuint (body[0], ==, 1); /* client_hello */
  return len;
}

static gpointer
hello_reader_thread (gpointer data)
{
  HelloReader *h = data;

  h->hello_len = read_client_hello (h->conn);
  if (h->cancel_after != NULL)
    g_cancellable_cancel (h->cancel_after);
  if (h->close_after)
    g_io_stream_close (G_IO_STREAM (h->conn), NULL, NULL);
  /* Keep the connection as it is until the test is done with it. */
  g_mutex_lock (&h->mutex);
  while (!h->release)
    g_cond_wait (&h->cond, &h->mutex);
  g_mutex_unlock (&h->mutex);
  return NULL;
}

static void
hello_reader_release (HelloReader *h,
                      GThread     *thread)
{
  g_mutex_lock (&h->mutex);
  h->release = TRUE;
  g_cond_signal (&h->cond);
  g_mutex_unlock (&h->mutex);
  g_thread_join (thread);
}

static void
test_peer_closes_during_handshake (Fixture       *f,
                                   gconstpointer  data)
{
  HelloReader h = { f->server_conn, TRUE, NULL };
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;
  TestOp op = { 0 };
  GThread *thread;

  g_mutex_init (&h.mutex);
  g_cond_init (&h.cond);
  thread = g_thread_new ("hello-reader", hello_reader_thread, &h);
  sock = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (f->client_conn), "localhost", &error);
  g_assert_no_error (error);
  gsecsock_secure_socket_handshake_async (sock, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &op);
  test_wait_until (f->env.context, op.done);
  hello_reader_release (&h, thread);

  g_assert_false (op.ok);
  g_test_message ("%s", op.error->message);
  /* A TLS-level failure: the connection ended in the middle of the
   * handshake, without any alert. */
  g_assert_true (op.error->domain == GSECSOCK_ERROR);
  g_assert_true (op.error->code == GSECSOCK_ERROR_EOF || op.error->code == GSECSOCK_ERROR_HANDSHAKE_FAILED);
  test_op_clear (&op);
  g_mutex_clear (&h.mutex);
  g_cond_clear (&h.cond);
}

static void
test_garbage_after_handshake (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GSecSockSecureSocket) server = NULL;
  g_autoptr(GError) error = NULL;
  TestOp c = { 0 }, s = { 0 };
  char buf[64];
  gssize n;
  /* An application-data record whose "ciphertext" cannot authenticate. */
  static const guint8 forged[] = { 23, 3, 3, 0, 24,
                                   'n', 'o', 't', ' ', 'e', 'n', 'c', 'r', 'y', 'p', 't', 'e',
                                   'd', ' ', 'a', 't', ' ', 'a', 'l', 'l', '!', '!', '!', '!' };

  client = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (f->client_conn), "localhost", &error);
  server = gsecsock_secure_socket_new (f->env.server_ctx, G_IO_STREAM (f->server_conn), NULL, &error);
  g_assert_no_error (error);
  gsecsock_secure_socket_handshake_async (server, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &s);
  gsecsock_secure_socket_handshake_async (client, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &c);
  test_wait_until (f->env.context, c.done && s.done);
  g_assert_no_error (c.error);
  g_assert_no_error (s.error);

  /* Someone on the path injects bytes into the TCP stream. */
  test_write_all (G_IO_STREAM (f->server_conn), forged, sizeof forged);
  n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (client)), buf, sizeof buf, NULL, &error);
  g_assert_cmpint (n, ==, -1);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL);
  /* The connection is unusable from now on, and says so again. */
  g_clear_error (&error);
  n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (client)), buf, sizeof buf, NULL, &error);
  g_assert_cmpint (n, ==, -1);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL);
}

/* Cancellation. A silent server: the TCP connection is up, the handshake
 * never gets an answer. */
static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

typedef enum {
  CANCEL_BEFORE,
  CANCEL_AFTER_ITERATION,
  CANCEL_FROM_TIMEOUT,
} CancelWhen;

static void
test_cancel_async (Fixture       *f,
                   gconstpointer  data)
{
  CancelWhen when = GPOINTER_TO_UINT (data);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;
  TestOp op = { 0 };

  sock = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (f->client_conn), "localhost", &error);
  g_assert_no_error (error);

  if (when == CANCEL_BEFORE)
    g_cancellable_cancel (cancellable);
  gsecsock_secure_socket_handshake_async (sock, G_PRIORITY_DEFAULT, cancellable, test_handshake_cb, &op);
  /* Never from inside the _async call, even when already cancelled. */
  g_assert_false (op.done);

  if (when == CANCEL_AFTER_ITERATION)
    {
      g_main_context_iteration (f->env.context, FALSE);
      g_assert_false (op.done);
      g_cancellable_cancel (cancellable);
    }
  else if (when == CANCEL_FROM_TIMEOUT)
    {
      GSource *timeout = g_timeout_source_new (20);

      g_source_set_callback (timeout, cancel_cb, cancellable, NULL);
      g_source_attach (timeout, f->env.context);
      g_source_unref (timeout);
    }

  test_wait_until (f->env.context, op.done);
  g_assert_false (op.ok);
  g_assert_error (op.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (gsecsock_secure_socket_get_handshake_complete (sock));
  /* Nothing left behind fires later (test_handshake_cb would abort). */
  test_run_context_for (f->env.context, 100);
  test_op_clear (&op);

  /* The peer eventually answering does not wake anything up either. */
  g_assert_true (g_io_stream_close (G_IO_STREAM (f->server_conn), NULL, NULL));
  test_run_context_for (f->env.context, 50);
}

typedef struct {
  GSecSockSecureSocket *sock;
  GCancellable *cancellable;
  TestOp op;
} SyncHandshake;

static gpointer
sync_handshake_thread (gpointer data)
{
  SyncHandshake *s = data;

  s->op.ok = gsecsock_secure_socket_handshake (s->sock, s->cancellable, &s->op.error);
  s->op.done = TRUE;
  return NULL;
}

static void
test_cancel_sync (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("cancelled synchronous handshake");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  SyncHandshake s = { NULL, cancellable, { 0 } };
  GThread *thread;

  s.sock = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (f->client_conn), "localhost", &error);
  g_assert_no_error (error);
  thread = g_thread_new ("handshake", sync_handshake_thread, &s);
  /* Once the ClientHello is here, the client is blocked waiting for the
   * ServerHello that never comes. */
  read_client_hello (f->server_conn);
  g_cancellable_cancel (cancellable);
  g_thread_join (thread);

  g_assert_false (s.op.ok);
  g_assert_error (s.op.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  test_op_clear (&s.op);
  g_object_unref (s.sock);
}

static gpointer
silent_server_func (GSocketConnection *connection,
                    gpointer           user_data)
{
  HelloReader *h = user_data;

  h->conn = connection;
  return hello_reader_thread (h);
}

static void
test_cancel_connect (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;
  HelloReader h = { NULL, FALSE, cancellable };
  TestServer *server;

  g_mutex_init (&h.mutex);
  g_cond_init (&h.cond);
  /* The server thread accepts, reads the ClientHello, then cancels: the
   * connect is cancelled in the middle of its handshake. */
  server = test_server_new ("127.0.0.1", silent_server_func, &h);
  gsecsock_secure_socket_connect_async (f->env.client_ctx, "127.0.0.1", test_server_get_port (server),
                                        cancellable, test_store_result_cb, &result);
  test_wait_for_result (&result);
  sock = gsecsock_secure_socket_connect_finish (result, &error);
  g_assert_null (sock);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (h.hello_len, >, 0);

  g_mutex_lock (&h.mutex);
  h.release = TRUE;
  g_cond_signal (&h.cond);
  g_mutex_unlock (&h.mutex);
  test_server_join (server);
  g_mutex_clear (&h.mutex);
  g_cond_clear (&h.cond);
  test_run_context_for (f->env.context, 50);
}

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_setup, func, fixture_teardown)

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

  ADD ("/errors/misuse/not-pollable", test_misuse_not_pollable, NULL);
  ADD ("/errors/misuse/server-with-peer-name", test_misuse_server_peer_name, NULL);
  ADD ("/errors/misuse/server-without-certificate", test_misuse_server_no_certificate, NULL);
  ADD ("/errors/misuse/client-without-peer-name", test_misuse_client_no_peer_name, NULL);
  ADD ("/errors/misuse/no-verify-without-peer-name-ok", test_no_verify_no_peer_name, NULL);
  ADD ("/errors/not-tls/smtp-banner", test_not_tls_smtp, NULL);
  ADD ("/errors/not-tls/smtp-banner-sync", test_not_tls_smtp_sync, NULL);
  ADD ("/errors/not-tls/http-response", test_not_tls_http_response, NULL);
  ADD ("/errors/not-tls/http-request", test_not_tls_http_request, NULL);
  ADD ("/errors/not-tls/smtp-client", test_not_tls_smtp_client, NULL);
  ADD ("/errors/peer-closes-during-handshake", test_peer_closes_during_handshake, NULL);
  ADD ("/errors/garbage-after-handshake", test_garbage_after_handshake, NULL);
  ADD ("/errors/cancel/async-before", test_cancel_async, GUINT_TO_POINTER (CANCEL_BEFORE));
  ADD ("/errors/cancel/async-after-iteration", test_cancel_async, GUINT_TO_POINTER (CANCEL_AFTER_ITERATION));
  ADD ("/errors/cancel/async-from-timeout", test_cancel_async, GUINT_TO_POINTER (CANCEL_FROM_TIMEOUT));
  ADD ("/errors/cancel/sync-from-thread", test_cancel_sync, NULL);
  ADD ("/errors/cancel/connect-async", test_cancel_connect, NULL);

  return g_test_run ();
}
