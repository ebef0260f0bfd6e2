/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault injection: peers that cut connections short or reset them, slow
 * and silent clients, bytes that are not TLS, oversized records and the
 * largest ClientHellos, legacy versions and renegotiation from an OpenSSL
 * client of our own, broken certificate files, misbehaving signal handlers
 * and use after close or error. Every case must end in one precise GError
 * within a bounded time, and lose or duplicate no data.
 * docs/testing.md maps each case of issue 8 to the test covering it. */
#define _GNU_SOURCE
#include "test-utils.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* Every failure provoked here must be reported within this time (a hang is
 * a failure, well before the 60 s guard of test_wait_until()). Generous
 * enough for valgrind on a loaded machine. */
#define FAULT_BOUND_SECONDS 15

typedef struct {
  GError *error;
  gint64 when;                /* monotonic time of the report */
  GSocketConnection *base;    /* the failed socket's base stream */
} Failure;

static void
failure_free (gpointer data)
{
  Failure *failure = data;

  g_clear_error (&failure->error);
  g_clear_object (&failure->base);
  g_free (failure);
}

typedef struct {
  TestEnv env;
  GSecSockSecureServer *server;  /* for the tests that start one */
  GPtrArray *incoming;           /* GSecSockSecureSocket, in order */
  GPtrArray *failures;           /* Failure, in order */
  gboolean close_incoming;       /* the server closes each socket it serves */
  gint64 start;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_env_setup (&f->env, "server-chain.pem", "server.key");
  f->incoming = g_ptr_array_new_with_free_func (g_object_unref);
  f->failures = g_ptr_array_new_with_free_func (failure_free);
  f->start = g_get_monotonic_time ();
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->server != NULL)
    {
      gsecsock_secure_server_stop (f->server);
      g_clear_object (&f->server);
    }
  g_clear_pointer (&f->incoming, g_ptr_array_unref);
  g_clear_pointer (&f->failures, g_ptr_array_unref);
  test_env_teardown (&f->env);
}

static double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

#define assert_within_bound(start) \
  G_STMT_START { \
    double _s = seconds_since (start); \
    g_test_message ("reported after %.2f s", _s); \
    g_assert_cmpfloat (_s, <, FAULT_BOUND_SECONDS); \
  } G_STMT_END

/* ---- A GSecSockSecureServer on loopback ------------------------------- */

static void
on_incoming (GSecSockSecureServer *server,
             GSecSockSecureSocket *sock,
             gpointer              user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->incoming, g_object_ref (sock));
  if (f->close_incoming)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (g_io_stream_close (G_IO_STREAM (sock), NULL, &error));
      g_assert_no_error (error);
    }
}

static void
on_handshake_failed (GSecSockSecureServer *server,
                     GSecSockSecureSocket *sock,
                     GError               *error,
                     gpointer              user_data)
{
  Fixture *f = user_data;
  Failure *failure = g_new0 (Failure, 1);

  g_test_message ("handshake-failed: %s", error->message);
  failure->error = g_error_copy (error);
  failure->when = g_get_monotonic_time ();
  failure->base = g_object_ref (G_SOCKET_CONNECTION (gsecsock_secure_socket_get_base_stream (sock)));
  g_ptr_array_add (f->failures, failure);
}

static guint16
start_server (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  guint16 port;

  f->server = gsecsock_secure_server_new (f->env.server_ctx, &error);
  g_assert_no_error (error);
  g_signal_connect (f->server, "incoming", G_CALLBACK (on_incoming), f);
  g_signal_connect (f->server, "handshake-failed", G_CALLBACK (on_handshake_failed), f);
  port = gsecsock_secure_server_listen (f->server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (port, >, 0);
  return port;
}

static Failure *
nth_failure (Fixture *f,
             guint    i)
{
  g_assert_cmpuint (i, <, f->failures->len);
  return g_ptr_array_index (f->failures, i);
}

static guint16
local_port (GSocketConnection *connection)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address (connection, &error);

  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
}

static guint16
remote_port (GSocketConnection *connection)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, &error);

  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote));
}

/* Closes @connection with a TCP reset (RST) rather than a FIN, as a peer
 * that crashes or a middlebox that kills the connection does. */
static void
reset_connection (GSocketConnection *connection)
{
  GSocket *socket = g_socket_connection_get_socket (connection);
  struct linger linger = { .l_onoff = 1, .l_linger = 0 };
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER, &linger, sizeof linger), ==, 0);
  g_assert_true (g_io_stream_close (G_IO_STREAM (connection), NULL, &error));
  g_assert_no_error (error);
}

static void
write_raw (GSocketConnection *connection,
           const void        *data,
           gsize              len)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                            data, len, NULL, NULL, &error));
  g_assert_no_error (error);
}

/* Waits until the server has closed @connection: a read gives the end of
 * the stream or a reset, within the bound. */
static void
assert_closed_by_server (Fixture           *f,
                         GSocketConnection *connection)
{
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_autoptr(GError) error = NULL;
  char buffer[4096];
  gssize n;

  g_socket_set_timeout (socket, FAULT_BOUND_SECONDS);
  do
    n = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);
  while (n > 0);
  if (n < 0)
    {
      g_test_message ("the raw client's read: %s", error->message);
      g_assert_false (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
    }
}

/* A genuine client, made while something else goes on: connects and starts
 * its handshake in the test's main context. */
static GSecSockSecureSocket *
start_genuine_client (Fixture *f,
                      guint16  port,
                      TestOp  *op)
{
  g_autoptr(GSocketConnection) connection = test_tcp_connect ("127.0.0.1", port);
  g_autoptr(GError) error = NULL;
  GSecSockSecureSocket *sock;

  sock = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (connection), "127.0.0.1", &error);
  g_assert_no_error (error);
  gsecsock_secure_socket_handshake_async (sock, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, op);
  return sock;
}

/* The server is not hurt: a genuine client is served after the fault. */
static void
assert_server_goes_on (Fixture *f,
                       guint16  port)
{
  g_autoptr(GSecSockSecureSocket) client = NULL;
  guint served = f->incoming->len;
  TestOp op = { 0 };

  client = start_genuine_client (f, port, &op);
  test_wait_until (f->env.context, op.done && f->incoming->len == served + 1);
  g_assert_no_error (op.error);
  test_op_clear (&op);
}

/* ---- Two secure sockets over memory transports ------------------------- */

/* The test moves the ciphertext itself, so it can cut it anywhere. */
typedef struct {
  GSecSockMemoryTransport *client_transport;
  GSecSockMemoryTransport *server_transport;
  GSecSockSecureSocket *client;
  GSecSockSecureSocket *server;
  gboolean shuttle;           /* move bytes as soon as they are written */
} MemPair;

static void
shuttle_cb (GSecSockMemoryTransport *from,
            gpointer                 user_data)
{
  MemPair *p = user_data;
  GSecSockMemoryTransport *to = from == p->client_transport ? p->server_transport : p->client_transport;
  g_autoptr(GBytes) bytes = NULL;

  if (!p->shuttle)
    return;
  bytes = gsecsock_memory_transport_take_outgoing (from);
  if (g_bytes_get_size (bytes) > 0)
    gsecsock_memory_transport_receive (to, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static void
mem_pair_init (MemPair                     *p,
               Fixture                     *f,
               GSecSockSecureSocketContext *client_ctx)
{
  g_autoptr(GError) error = NULL;
  TestOp c = { 0 }, s = { 0 };

  memset (p, 0, sizeof *p);
  p->client_transport = gsecsock_memory_transport_new ();
  p->server_transport = gsecsock_memory_transport_new ();
  p->shuttle = TRUE;
  g_signal_connect (p->client_transport, "outgoing-ready", G_CALLBACK (shuttle_cb), p);
  g_signal_connect (p->server_transport, "outgoing-ready", G_CALLBACK (shuttle_cb), p);
  p->client = gsecsock_secure_socket_new (client_ctx, G_IO_STREAM (p->client_transport), "localhost", &error);
  g_assert_no_error (error);
  p->server = gsecsock_secure_socket_new (f->env.server_ctx, G_IO_STREAM (p->server_transport), NULL, &error);
  g_assert_no_error (error);

  gsecsock_secure_socket_handshake_async (p->client, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &c);
  gsecsock_secure_socket_handshake_async (p->server, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &s);
  test_wait_until (f->env.context, c.done && s.done);
  g_assert_no_error (c.error);
  g_assert_no_error (s.error);
  /* TLS 1.3 session tickets follow the handshake: let them through. */
  test_run_context_for (f->env.context, 20);
  g_assert_cmpuint (gsecsock_memory_transport_get_outgoing_size (p->client_transport), ==, 0);
  g_assert_cmpuint (gsecsock_memory_transport_get_outgoing_size (p->server_transport), ==, 0);
}

static void
mem_pair_clear (MemPair *p)
{
  g_signal_handlers_disconnect_by_data (p->client_transport, p);
  g_signal_handlers_disconnect_by_data (p->server_transport, p);
  g_clear_object (&p->client);
  g_clear_object (&p->server);
  g_clear_object (&p->client_transport);
  g_clear_object (&p->server_transport);
}

/* Writes @len bytes on the server's side and returns the ciphertext that
 * came out: exactly the records carrying them. */
static GBytes *
server_records (Fixture    *f,
                MemPair    *p,
                const void *data,
                gsize       len)
{
  g_autoptr(GError) error = NULL;
  gsize written = 0;

  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (p->server)),
                                            data, len, &written, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (written, ==, len);
  return gsecsock_memory_transport_take_outgoing (p->server_transport);
}

/* Reads everything the client can get, asynchronously, until an error or
 * the end of the stream. */
typedef struct {
  GByteArray *data;
  GError *error;
  gboolean eof;
  gboolean done;
  guint8 buffer[8192];
} Drain;

static void
drain_read_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Drain *d = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &d->error);

  if (n > 0)
    {
      g_byte_array_append (d->data, d->buffer, n);
      g_input_stream_read_async (G_INPUT_STREAM (source), d->buffer, sizeof d->buffer,
                                 G_PRIORITY_DEFAULT, NULL, drain_read_cb, d);
      return;
    }
  d->eof = n == 0;
  d->done = TRUE;
}

static void
drain_start (Drain                *d,
             GSecSockSecureSocket *sock)
{
  memset (d, 0, sizeof *d);
  d->data = g_byte_array_new ();
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (sock)), d->buffer, sizeof d->buffer,
                             G_PRIORITY_DEFAULT, NULL, drain_read_cb, d);
}

static void
drain_clear (Drain *d)
{
  g_clear_pointer (&d->data, g_byte_array_unref);
  g_clear_error (&d->error);
}

/* ---- Truncation: the peer closes without close_notify -------------------- */

typedef enum {
  CUT_BETWEEN_RECORDS,        /* after a whole record */
  CUT_IN_HEADER,              /* three bytes into a record's header */
  CUT_IN_BODY,                /* half-way through a record */
  CUT_BEFORE_LAST_BYTE,       /* all of a record but its last byte */
} Cut;

typedef struct {
  Cut cut;
  GSecSockProtocolVersion max_version;
} TruncationCase;

static void
test_truncation (Fixture       *f,
                 gconstpointer  data)
{
  const TruncationCase *tc = data;
  g_autoptr(GBytes) payload = test_make_random_bytes (10000, 81);
  g_autoptr(GBytes) first = NULL;
  g_autoptr(GBytes) second = NULL;
  gsize second_len, cut_at = 0;
  MemPair p;
  Drain d;
  gint64 start;

  if (tc->max_version != GSECSOCK_PROTOCOL_VERSION_UNKNOWN)
    gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx, tc->max_version);
  mem_pair_init (&p, f, f->env.client_ctx);
  p.shuttle = FALSE;

  /* Two application-data records: one that arrives whole, one that is cut. */
  first = server_records (f, &p, "complete", 8);
  second = server_records (f, &p, g_bytes_get_data (payload, NULL), g_bytes_get_size (payload));
  second_len = g_bytes_get_size (second);
  g_assert_cmpuint (second_len, >, g_bytes_get_size (payload));
  switch (tc->cut)
    {
    case CUT_BETWEEN_RECORDS: cut_at = second_len; break;
    case CUT_IN_HEADER: cut_at = 3; break;
    case CUT_IN_BODY: cut_at = second_len / 2; break;
    case CUT_BEFORE_LAST_BYTE: cut_at = second_len - 1; break;
    default: g_assert_not_reached ();
    }

  drain_start (&d, p.client);
  gsecsock_memory_transport_receive (p.client_transport, g_bytes_get_data (first, NULL), g_bytes_get_size (first));
  gsecsock_memory_transport_receive (p.client_transport, g_bytes_get_data (second, NULL), cut_at);
  test_wait_until (f->env.context, d.data->len >= 8);
  /* The cut record is held back, whole or not at all: nothing of it yet. */
  test_run_context_for (f->env.context, 20);
  if (tc->cut != CUT_BETWEEN_RECORDS)
    g_assert_cmpuint (d.data->len, ==, 8);
  g_assert_false (d.done);

  start = g_get_monotonic_time ();
  gsecsock_memory_transport_receive_eof (p.client_transport);
  test_wait_until (f->env.context, d.done);
  assert_within_bound (start);
  g_assert_false (d.eof);
  g_assert_error (d.error, GSECSOCK_ERROR, GSECSOCK_ERROR_EOF);
  test_assert_message_contains (d.error, "close_notify");
  g_test_message ("%s", d.error->message);

  /* Exactly what was sent in whole records: nothing lost, nothing made up. */
  if (tc->cut == CUT_BETWEEN_RECORDS)
    {
      g_assert_cmpuint (d.data->len, ==, 8 + g_bytes_get_size (payload));
      g_assert_cmpmem (d.data->data + 8, d.data->len - 8, g_bytes_get_data (payload, NULL), g_bytes_get_size (payload));
    }
  else
    g_assert_cmpuint (d.data->len, ==, 8);
  g_assert_cmpmem (d.data->data, 8, "complete", 8);

  /* And it stays an error: a later read does not turn it into a clean end. */
  {
    g_autoptr(GError) error = NULL;
    char buf[16];

    g_assert_cmpint (g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (p.client)),
                                          buf, sizeof buf, NULL, &error), ==, -1);
    g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_EOF);
  }
  drain_clear (&d);
  mem_pair_clear (&p);
}

/* The same over TCP, from a peer that writes half a record and closes. */
static void
test_truncation_tcp_mid_record (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GBytes) payload = test_make_random_bytes (12000, 82);
  g_autoptr(GBytes) records = NULL;
  g_autoptr(GSocketConnection) client_conn = NULL;
  g_autoptr(GSocketConnection) server_conn = NULL;
  g_autoptr(GError) error = NULL;
  MemPair p;
  Drain d;
  gint64 start;

  /* A server over a memory transport makes the records; the raw end of a
   * TCP connection delivers them, cut. The client gets its handshake over
   * TCP from the same server, relayed. */
  mem_pair_init (&p, f, f->env.client_ctx);
  p.shuttle = FALSE;
  records = server_records (f, &p, g_bytes_get_data (payload, NULL), g_bytes_get_size (payload));

  /* A fresh TLS client over TCP cannot decrypt those records, so this
   * client is the memory pair's own: its transport is fed from TCP. */
  test_socket_pair ("127.0.0.1", &client_conn, &server_conn);
  write_raw (server_conn, g_bytes_get_data (records, NULL), g_bytes_get_size (records) / 2);
  g_assert_true (g_io_stream_close (G_IO_STREAM (server_conn), NULL, &error));
  g_assert_no_error (error);

  drain_start (&d, p.client);
  start = g_get_monotonic_time ();
  {
    /* The relay: TCP to the client's memory transport, EOF included. */
    GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (client_conn));
    guint8 buf[4096];
    gssize n;

    while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, &error)) > 0)
      gsecsock_memory_transport_receive (p.client_transport, buf, n);
    g_assert_no_error (error);
    gsecsock_memory_transport_receive_eof (p.client_transport);
  }
  test_wait_until (f->env.context, d.done);
  assert_within_bound (start);
  g_assert_error (d.error, GSECSOCK_ERROR, GSECSOCK_ERROR_EOF);
  g_assert_cmpuint (d.data->len, ==, 0);
  drain_clear (&d);
  mem_pair_clear (&p);
}

/* ---- Resets ------------------------------------------------------------- */

/* The server resets the connection once the ClientHello is in. */
static void
test_reset_mid_handshake_client (Fixture       *f,
                                 gconstpointer  data)
{
  TestTlsPair pair;
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GError) error = NULL;
  TestOp op = { 0 };
  gint64 start;

  test_socket_pair ("127.0.0.1", &pair.client_conn, &pair.server_conn);
  client = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (pair.client_conn), "localhost", &error);
  g_assert_no_error (error);
  gsecsock_secure_socket_handshake_async (client, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &op);
  test_wait_until (f->env.context,
                   g_socket_get_available_bytes (g_socket_connection_get_socket (pair.server_conn)) >= 5);
  start = g_get_monotonic_time ();
  reset_connection (pair.server_conn);
  test_wait_until (f->env.context, op.done);
  assert_within_bound (start);
  g_assert_false (op.ok);
  g_assert_error (op.error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_test_message ("%s", op.error->message);
  g_assert_false (gsecsock_secure_socket_get_handshake_complete (client));
  test_op_clear (&op);
  g_clear_object (&pair.client_conn);
  g_clear_object (&pair.server_conn);
}

/* A client sends part of its ClientHello and resets: the server reports it
 * and goes on. */
static void
test_reset_mid_handshake_server (Fixture       *f,
                                 gconstpointer  data)
{
  guint16 port = start_server (f);
  g_autoptr(GSocketConnection) raw = test_tcp_connect ("127.0.0.1", port);
  const guint8 partial[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03 };
  gint64 start;

  write_raw (raw, partial, sizeof partial);
  test_run_context_for (f->env.context, 50);
  g_assert_cmpuint (f->failures->len, ==, 0);
  start = g_get_monotonic_time ();
  reset_connection (raw);
  test_wait_until (f->env.context, f->failures->len == 1);
  assert_within_bound (start);
  g_assert_error (nth_failure (f, 0)->error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_assert_cmpuint (gsecsock_secure_server_get_n_handshakes (f->server), ==, 0);
  assert_server_goes_on (f, port);
}

/* Data flows from server to client; the server's host resets the
 * connection in the middle. The client has a prefix of the data, then a
 * transport error: never corrupt or repeated bytes, never a clean end. */
static void
test_reset_mid_transfer (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GBytes) payload = test_make_random_bytes (16 * 1024 * 1024, 83);
  g_autoptr(GCancellable) cancel_write = g_cancellable_new ();
  g_autoptr(GAsyncResult) write_result = NULL;
  g_autoptr(GError) error = NULL;
  TestTlsPair pair;
  Drain d;
  gint64 start;

  test_tls_pair_init (&pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&pair));
  drain_start (&d, pair.client);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (pair.server)),
                                   g_bytes_get_data (payload, NULL), g_bytes_get_size (payload),
                                   G_PRIORITY_DEFAULT, cancel_write, test_store_result_cb, &write_result);
  test_wait_until (f->env.context, d.data->len >= 256 * 1024);

  /* Stop the writer (so nothing uses the connection any more), then reset.
   * 16 MiB cannot all be in the kernel's buffers: it was still writing. */
  g_cancellable_cancel (cancel_write);
  test_wait_for_result (&write_result);
  g_assert_false (g_output_stream_write_all_finish (g_io_stream_get_output_stream (G_IO_STREAM (pair.server)),
                                                    write_result, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  start = g_get_monotonic_time ();
  reset_connection (pair.server_conn);
  test_wait_until (f->env.context, d.done);
  assert_within_bound (start);

  g_test_message ("the client got %u bytes, then: %s", d.data->len, d.error ? d.error->message : "end");
  g_assert_false (d.eof);
  g_assert_error (d.error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_assert_cmpuint (d.data->len, <, g_bytes_get_size (payload));
  g_assert_cmpmem (d.data->data, d.data->len, g_bytes_get_data (payload, NULL), d.data->len);
  drain_clear (&d);
  test_tls_pair_clear (&pair);
}

/* ---- Slow and silent clients (slowloris) -------------------------------- */

#define SLOW_TIMEOUT_SECONDS 4
#define GENUINE_CLIENTS 3

/* A real ClientHello, to be sent one byte at a time. */
static GBytes *
make_client_hello (Fixture *f)
{
  g_autoptr(GSecSockMemoryTransport) transport = gsecsock_memory_transport_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;
  GBytes *hello;
  TestOp op = { 0 };

  sock = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (transport), "127.0.0.1", &error);
  g_assert_no_error (error);
  gsecsock_secure_socket_handshake_async (sock, G_PRIORITY_DEFAULT, cancellable, test_handshake_cb, &op);
  test_wait_until (f->env.context, gsecsock_memory_transport_get_outgoing_size (transport) > 0);
  hello = gsecsock_memory_transport_take_outgoing (transport);
  g_cancellable_cancel (cancellable);
  test_wait_until (f->env.context, op.done);
  test_op_clear (&op);
  return hello;
}

typedef struct {
  Fixture *f;
  guint16 slow_port;          /* the slow client's local port */
  gint64 slow_accepted;       /* when the server accepted it */
  GSocket *socket;            /* the slow client's socket */
  GBytes *hello;
  gsize sent;
  gboolean stopped;
} Slowloris;

static gboolean
on_accepted_slowloris (GSecSockSecureServer *server,
                       GSecSockSecureSocket *sock,
                       gpointer              user_data)
{
  Slowloris *s = user_data;
  GSocketConnection *connection = G_SOCKET_CONNECTION (gsecsock_secure_socket_get_base_stream (sock));
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);

  if (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote)) == s->slow_port)
    s->slow_accepted = g_get_monotonic_time ();
  else
    /* Genuine clients get all the time a slow machine may need. */
    gsecsock_secure_socket_set_handshake_timeout (sock, TEST_GUARD_TIMEOUT_SECONDS);
  return FALSE;
}

/* One byte a second, until the server hangs up. */
static gboolean
trickle_cb (gpointer user_data)
{
  Slowloris *s = user_data;
  g_autoptr(GError) error = NULL;
  const guint8 *hello = g_bytes_get_data (s->hello, NULL);

  if (s->stopped || s->sent == g_bytes_get_size (s->hello))
    return G_SOURCE_REMOVE;
  if (g_socket_send (s->socket, (const char *) hello + s->sent, 1, NULL, &error) != 1)
    {
      g_test_message ("the slow client stops sending: %s", error->message);
      s->stopped = TRUE;
      return G_SOURCE_REMOVE;
    }
  s->sent++;
  return G_SOURCE_CONTINUE;
}

static void
test_slowloris (Fixture       *f,
                gconstpointer  data)
{
  gboolean trickle = GPOINTER_TO_INT (data);
  Slowloris s = { f };
  g_autoptr(GSocketConnection) raw = NULL;
  GSecSockSecureSocket *genuine[GENUINE_CLIENTS];
  TestOp ops[GENUINE_CLIENTS] = { { 0 } };
  GSource *source = NULL;
  guint16 port;
  double waited;

  s.hello = make_client_hello (f);
  port = start_server (f);
  gsecsock_secure_server_set_handshake_timeout (f->server, SLOW_TIMEOUT_SECONDS);
  g_signal_connect (f->server, "accepted", G_CALLBACK (on_accepted_slowloris), &s);

  raw = test_tcp_connect ("127.0.0.1", port);
  s.socket = g_socket_connection_get_socket (raw);
  s.slow_port = local_port (raw);
  test_wait_until (f->env.context, s.slow_accepted != 0);
  if (trickle)
    {
      trickle_cb (&s);
      source = g_timeout_source_new_seconds (1);
      g_source_set_callback (source, trickle_cb, &s, NULL);
      g_source_attach (source, f->env.context);
    }

  /* Others are served meanwhile, without waiting for the slow one. */
  for (guint i = 0; i < GENUINE_CLIENTS; i++)
    genuine[i] = start_genuine_client (f, port, &ops[i]);
  for (guint i = 0; i < GENUINE_CLIENTS; i++)
    {
      test_wait_until (f->env.context, ops[i].done);
      g_assert_no_error (ops[i].error);
    }
  test_wait_until (f->env.context, f->incoming->len == GENUINE_CLIENTS || f->failures->len > 0);
  g_assert_cmpuint (f->failures->len, ==, 0);
  g_assert_cmpuint (f->incoming->len, ==, GENUINE_CLIENTS);
  g_assert_cmpuint (gsecsock_secure_server_get_n_handshakes (f->server), ==, 1);
  g_test_message ("%u genuine clients served %.2f s after the slow one came",
                  GENUINE_CLIENTS, seconds_since (s.slow_accepted));

  /* The slow one is dropped when its time is up: not before, not much later,
   * and however many bytes it keeps sending. */
  test_wait_until (f->env.context, f->failures->len == 1);
  waited = (nth_failure (f, 0)->when - s.slow_accepted) / (double) G_USEC_PER_SEC;
  g_test_message ("the slow client was dropped after %.2f s (%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes sent)",
                  waited, s.sent, g_bytes_get_size (s.hello));
  g_assert_cmpfloat (waited, >=, SLOW_TIMEOUT_SECONDS - 0.1);
  g_assert_cmpfloat (waited, <, SLOW_TIMEOUT_SECONDS + FAULT_BOUND_SECONDS);
  g_assert_error (nth_failure (f, 0)->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpuint (remote_port (nth_failure (f, 0)->base), ==, s.slow_port);
  if (trickle)
    {
      g_assert_cmpuint (s.sent, >=, SLOW_TIMEOUT_SECONDS - 1);
      g_assert_cmpuint (s.sent, <, g_bytes_get_size (s.hello));
    }
  g_assert_cmpuint (gsecsock_secure_server_get_n_handshakes (f->server), ==, 0);

  s.stopped = TRUE;
  if (source != NULL)
    {
      g_source_destroy (source);
      g_source_unref (source);
    }
  assert_closed_by_server (f, raw);
  for (guint i = 0; i < GENUINE_CLIENTS; i++)
    {
      test_op_clear (&ops[i]);
      g_object_unref (genuine[i]);
    }
  g_bytes_unref (s.hello);
}

/* ---- Bytes that are not TLS, and records too large ---------------------- */

typedef struct {
  const char *text;           /* sent as is, or: */
  guint32 random_seed;        /* random bytes, or: */
  guint record_length;        /* a handshake record header claiming this length, then as many bytes */
  int code;                   /* the expected GSECSOCK_ERROR code */
  const char *message_part;
} GarbageCase;

static GBytes *
garbage_bytes (const GarbageCase *gc)
{
  if (gc->text != NULL)
    return g_bytes_new_static (gc->text, strlen (gc->text));
  if (gc->random_seed != 0)
    return test_make_random_bytes (4096, gc->random_seed);
  {
    gsize len = 5 + gc->record_length;
    guint8 *bytes = g_malloc0 (len);

    bytes[0] = 22;            /* handshake */
    bytes[1] = 3;
    bytes[2] = 1;
    bytes[3] = gc->record_length >> 8;
    bytes[4] = gc->record_length & 0xff;
    bytes[5] = 1;             /* client_hello */
    return g_bytes_new_take (bytes, len);
  }
}

/* The server gets garbage from a client: handshake-failed with the exact
 * error, the connection closed, and the server goes on. */
static void
test_garbage_to_server (Fixture       *f,
                        gconstpointer  data)
{
  const GarbageCase *gc = data;
  g_autoptr(GBytes) bytes = garbage_bytes (gc);
  guint16 port = start_server (f);
  g_autoptr(GSocketConnection) raw = test_tcp_connect ("127.0.0.1", port);
  GError *error;
  gint64 start = g_get_monotonic_time ();

  write_raw (raw, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  test_wait_until (f->env.context, f->failures->len == 1);
  assert_within_bound (start);
  error = nth_failure (f, 0)->error;
  g_test_message ("%s", error->message);
  g_assert_error (error, GSECSOCK_ERROR, gc->code);
  if (gc->message_part != NULL)
    test_assert_message_contains (error, gc->message_part);
  assert_closed_by_server (f, raw);
  g_assert_cmpuint (f->incoming->len, ==, 0);
  assert_server_goes_on (f, port);
}

/* A client gets an SSH server's banner. */
static void
test_garbage_to_client (Fixture       *f,
                        gconstpointer  data)
{
  const GarbageCase *gc = data;
  g_autoptr(GBytes) bytes = garbage_bytes (gc);
  g_autoptr(GSocketConnection) client_conn = NULL;
  g_autoptr(GSocketConnection) server_conn = NULL;
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GError) error = NULL;
  TestOp op = { 0 };
  gint64 start = g_get_monotonic_time ();

  test_socket_pair ("127.0.0.1", &client_conn, &server_conn);
  write_raw (server_conn, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  client = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (client_conn), "localhost", &error);
  g_assert_no_error (error);
  gsecsock_secure_socket_handshake_async (client, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &op);
  test_wait_until (f->env.context, op.done);
  assert_within_bound (start);
  g_test_message ("%s", op.error->message);
  g_assert_error (op.error, GSECSOCK_ERROR, gc->code);
  if (gc->message_part != NULL)
    test_assert_message_contains (op.error, gc->message_part);
  test_op_clear (&op);
}

static const GarbageCase ssh_banner = {
  "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", 0, 0, GSECSOCK_ERROR_NOT_TLS, "SSH-2.0-OpenSSH"
};
static const GarbageCase http_request = {
  "GET /index.html HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/7.88.1\r\n\r\n", 0, 0,
  GSECSOCK_ERROR_NOT_TLS, "GET /index.html"
};
static const GarbageCase random_bytes_1 = { NULL, 1, 0, GSECSOCK_ERROR_NOT_TLS, NULL };
static const GarbageCase random_bytes_2 = { NULL, 2, 0, GSECSOCK_ERROR_NOT_TLS, NULL };
static const GarbageCase random_bytes_3 = { NULL, 3, 0, GSECSOCK_ERROR_NOT_TLS, NULL };
static const GarbageCase random_bytes_4 = { NULL, 4, 0, GSECSOCK_ERROR_NOT_TLS, NULL };
/* 2^14 + 1: one byte more than any plaintext record may hold. */
static const GarbageCase record_over_plain_limit = { NULL, 0, 16385, GSECSOCK_ERROR_HANDSHAKE_FAILED, "longer than the protocol allows" };
/* 2^14 + 256 + 1: more than TLS 1.3 allows even for a ciphertext. */
static const GarbageCase record_over_tls13_limit = { NULL, 0, 16641, GSECSOCK_ERROR_HANDSHAKE_FAILED, "longer than the protocol allows" };
/* The largest length a header can claim: still TLS, not "not TLS"
 * (OpenSSL's reason for it is the one plain text gets too). */
static const GarbageCase record_max_length = { NULL, 0, 65535, GSECSOCK_ERROR_HANDSHAKE_FAILED, "longer than the protocol allows" };

/* After the handshake, someone on the path injects an application-data
 * record longer than TLS allows: the reader fails with a protocol error
 * and the connection stays failed. */
static void
test_oversized_record_after_handshake (Fixture       *f,
                                       gconstpointer  data)
{
  GSecSockProtocolVersion version = GPOINTER_TO_UINT (data);
  /* TLS 1.3 allows 2^14 + 256 bytes of ciphertext, TLS 1.2 2^14 + 2048. */
  guint length = version == GSECSOCK_PROTOCOL_VERSION_TLS_1_3 ? 16384 + 256 + 1 : 16384 + 2048 + 1;
  g_autofree guint8 *record = g_malloc0 (5 + length);
  g_autoptr(GError) error = NULL;
  TestTlsPair pair;
  char buf[64];
  gint64 start;

  gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx, version);
  test_tls_pair_init (&pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&pair));
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (pair.client), ==, version);
  test_write_all (G_IO_STREAM (pair.server), "before", 6);

  record[0] = 23;             /* application_data */
  record[1] = 3;
  record[2] = 3;
  record[3] = length >> 8;
  record[4] = length & 0xff;
  write_raw (pair.server_conn, record, 5 + length);

  start = g_get_monotonic_time ();
  test_read_exact (G_IO_STREAM (pair.client), buf, 6);
  g_assert_cmpmem (buf, 6, "before", 6);
  g_assert_cmpint (g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (pair.client)),
                                        buf, sizeof buf, NULL, &error), ==, -1);
  assert_within_bound (start);
  g_test_message ("%s", error->message);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL);
  test_assert_message_contains (error, "longer than the protocol allows");
  g_clear_error (&error);
  /* Reads and writes after the error fail the same way. */
  g_assert_cmpint (g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (pair.client)),
                                        buf, sizeof buf, NULL, &error), ==, -1);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_cmpint (g_output_stream_write (g_io_stream_get_output_stream (G_IO_STREAM (pair.client)),
                                          "after", 5, NULL, &error), ==, -1);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL);
  test_tls_pair_clear (&pair);
}

/* ---- A client of our own, made with OpenSSL ------------------------------ */

/* What gsecsock's own client never does (offer TLS 1.0, renegotiate, send
 * a ClientHello of any size) is done by a plain OpenSSL client, in a thread
 * over a blocking socket. */
typedef struct {
  /* What to do */
  guint16 port;
  int max_version;            /* 0: OpenSSL's default */
  gboolean legacy;            /* security level 0, so TLS 1.0 and 1.1 can be offered */
  GByteArray *alpn;           /* protocol list in wire format, or NULL */
  gboolean renegotiate;       /* after the handshake (TLS 1.2) */
  /* What happened */
  gboolean handshake_ok;
  unsigned long handshake_error;
  int renegotiate_ret;
  unsigned long renegotiate_error;
  gsize received;             /* application data bytes read afterwards */
  int done;                   /* atomic */
  GMainContext *context;      /* woken when done */
} RawClient;

static SSL_CTX *
raw_client_ctx_new (RawClient *rc)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());

  g_assert_nonnull (ctx);
  SSL_CTX_set_verify (ctx, SSL_VERIFY_NONE, NULL);
  if (rc->legacy)
    {
      SSL_CTX_set_security_level (ctx, 0);
      g_assert_cmpint (SSL_CTX_set_cipher_list (ctx, "DEFAULT@SECLEVEL=0"), ==, 1);
      g_assert_cmpint (SSL_CTX_set_min_proto_version (ctx, TLS1_VERSION), ==, 1);
    }
  if (rc->max_version != 0)
    g_assert_cmpint (SSL_CTX_set_max_proto_version (ctx, rc->max_version), ==, 1);
  return ctx;
}

static SSL *
raw_client_ssl_new (RawClient *rc,
                    SSL_CTX   *ctx)
{
  SSL *ssl = SSL_new (ctx);

  g_assert_nonnull (ssl);
  /* SSL_set_alpn_protos() returns 0 on success. */
  if (rc->alpn != NULL)
    g_assert_cmpint (SSL_set_alpn_protos (ssl, rc->alpn->data, rc->alpn->len), ==, 0);
  return ssl;
}

static unsigned long
take_openssl_error (const char *what)
{
  unsigned long code = ERR_peek_error ();
  char text[256] = "";

  if (code != 0)
    ERR_error_string_n (code, text, sizeof text);
  g_test_message ("OpenSSL client: %s: %s", what, code ? text : "no error queued");
  ERR_clear_error ();
  return code;
}

static gpointer
raw_client_thread (gpointer data)
{
  RawClient *rc = data;
  SSL_CTX *ctx = raw_client_ctx_new (rc);
  SSL *ssl = raw_client_ssl_new (rc, ctx);
  struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons (rc->port) };
  /* A server that neither answers nor hangs up must not hang the test. */
  struct timeval timeout = { .tv_sec = FAULT_BOUND_SECONDS };
  char buffer[4096];
  int fd, n;

  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout), ==, 0);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &address, sizeof address), ==, 0);
  SSL_set_fd (ssl, fd);

  rc->handshake_ok = SSL_connect (ssl) == 1;
  if (!rc->handshake_ok)
    rc->handshake_error = take_openssl_error ("handshake");
  else if (rc->renegotiate)
    {
      g_assert_cmpint (SSL_write (ssl, "before", 6), ==, 6);
      g_assert_cmpint (SSL_renegotiate (ssl), ==, 1);
      rc->renegotiate_ret = SSL_do_handshake (ssl);
      if (rc->renegotiate_ret != 1)
        rc->renegotiate_error = take_openssl_error ("renegotiation");
    }
  else
    {
      g_assert_cmpint (SSL_write (ssl, "hello", 5), ==, 5);
      SSL_shutdown (ssl);
    }
  /* Whatever the server still says, until it hangs up. */
  if (rc->handshake_ok)
    {
      while ((n = SSL_read (ssl, buffer, sizeof buffer)) > 0)
        rc->received += n;
      /* A read timeout means the server neither answered nor hung up. */
      g_assert_false (SSL_get_error (ssl, n) == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK));
      ERR_clear_error ();
    }

  SSL_free (ssl);
  SSL_CTX_free (ctx);
  close (fd);
  g_atomic_int_set (&rc->done, 1);
  g_main_context_wakeup (rc->context);
  return NULL;
}

/* Runs the client against the server while the test's main context (where
 * the server runs) keeps going. */
static void
raw_client_run (Fixture   *f,
                RawClient *rc)
{
  GThread *thread;

  rc->context = f->env.context;
  thread = g_thread_new ("openssl-client", raw_client_thread, rc);

  test_wait_until (f->env.context, g_atomic_int_get (&rc->done));
  g_thread_join (thread);
}

/* The handshake messages of @rc's ClientHello: its length (header included)
 * and how many records carry it, from a dry run over memory BIOs; 0 if
 * OpenSSL refuses to make it. */
static gsize
client_hello_length (RawClient *rc,
                     guint     *n_records)
{
  SSL_CTX *ctx = raw_client_ctx_new (rc);
  SSL *ssl = raw_client_ssl_new (rc, ctx);
  BIO *rbio = BIO_new (BIO_s_mem ());
  BIO *wbio = BIO_new (BIO_s_mem ());
  g_autoptr(GByteArray) body = g_byte_array_new ();
  const guint8 *out;
  long out_len;
  gsize hello_len;

  SSL_set_bio (ssl, rbio, wbio);
  g_assert_cmpint (SSL_connect (ssl), ==, -1);
  if (SSL_get_error (ssl, -1) != SSL_ERROR_WANT_READ)
    {
      /* Too large for OpenSSL to make. */
      ERR_clear_error ();
      SSL_free (ssl);
      SSL_CTX_free (ctx);
      return 0;
    }
  out_len = BIO_get_mem_data (wbio, (char **) &out);
  *n_records = 0;
  for (long i = 0; i + 5 <= out_len;)
    {
      gsize len = (out[i + 3] << 8) | out[i + 4];

      g_assert_cmpuint (out[i], ==, 22);
      g_assert_cmpuint (len, <=, 16384);
      g_assert_cmpint (i + 5 + (long) len, <=, out_len);
      g_byte_array_append (body, out + i + 5, len);
      i += 5 + len;
      (*n_records)++;
    }
  g_assert_cmpuint (body->len, >=, 4);
  g_assert_cmpuint (body->data[0], ==, 1);
  hello_len = 4 + ((body->data[1] << 16) | (body->data[2] << 8) | body->data[3]);
  g_assert_cmpuint (hello_len, ==, body->len);
  SSL_free (ssl);
  SSL_CTX_free (ctx);
  return hello_len;
}

/* An ALPN protocol list of exactly @len bytes in wire format: names of up
 * to 255 bytes, none of which any server here knows. */
static GByteArray *
make_alpn_list (gsize len)
{
  GByteArray *list = g_byte_array_sized_new (len);
  guint i = 0;

  g_assert_cmpuint (len, >=, 2);
  while (list->len < len)
    {
      gsize left = len - list->len;
      /* Never leave a remainder too small for an entry (2 bytes). */
      gsize name_len = left > 256 ? (left - 256 < 2 ? 253 : 255) : left - 1;
      g_autofree char *name = g_strdup_printf ("x-fault-%05u-", i++);
      guint8 byte = name_len;

      g_byte_array_append (list, &byte, 1);
      for (gsize j = 0; j < name_len; j++)
        g_byte_array_append (list, (const guint8 *) &name[j % strlen (name)], 1);
    }
  g_assert_cmpuint (list->len, ==, len);
  return list;
}

typedef struct {
  gsize hello_len;            /* 0: the largest ALPN list there can be */
  gboolean server_alpn;       /* the server wants "h2", which is not offered */
} HelloCase;

/* A ClientHello of the size asked for (one full record: 2^14 bytes), or the
 * largest one ALPN can make (64 KiB, over five records). A server must take
 * either: refusing large hellos breaks post-quantum key shares and
 * big-ticket resumption. */
static void
test_client_hello_size (Fixture       *f,
                        gconstpointer  data)
{
  const HelloCase *hc = data;
  RawClient rc = { 0 };
  guint16 port;
  gsize base_len, len;
  guint n_records;
  gint64 start;

  /* Grow the ALPN list until the hello is exactly the size wanted. */
  rc.alpn = make_alpn_list (2);
  base_len = client_hello_length (&rc, &n_records);
  g_assert_cmpuint (base_len, >, 0);
  g_byte_array_unref (rc.alpn);
  if (hc->hello_len != 0)
    rc.alpn = make_alpn_list (2 + hc->hello_len - base_len);
  else
    {
      /* All the extensions share one 16-bit length: the largest list that
       * fits beside the others. */
      gsize fits = 2, too_big = 65534;

      while (too_big - fits > 1)
        {
          gsize middle = (fits + too_big) / 2;

          rc.alpn = make_alpn_list (middle);
          if (client_hello_length (&rc, &n_records) > 0)
            fits = middle;
          else
            too_big = middle;
          g_byte_array_unref (rc.alpn);
        }
      rc.alpn = make_alpn_list (fits);
    }
  len = client_hello_length (&rc, &n_records);
  g_test_message ("ClientHello: %" G_GSIZE_FORMAT " bytes in %u records", len, n_records);
  if (hc->hello_len != 0)
    {
      g_assert_cmpuint (len, ==, hc->hello_len);
      g_assert_cmpuint (n_records, ==, 1);
    }
  else
    {
      g_assert_cmpuint (len, >, 65535);
      g_assert_cmpuint (n_records, ==, 5);
    }

  if (hc->server_alpn)
    {
      const char *protocols[] = { "h2", NULL };

      gsecsock_secure_socket_context_set_alpn_protocols (f->env.server_ctx, protocols);
    }
  port = start_server (f);
  f->close_incoming = TRUE;
  rc.port = port;
  start = g_get_monotonic_time ();
  raw_client_run (f, &rc);
  if (hc->server_alpn)
    {
      test_wait_until (f->env.context, f->failures->len == 1);
      assert_within_bound (start);
      g_assert_false (rc.handshake_ok);
      g_assert_error (nth_failure (f, 0)->error, GSECSOCK_ERROR, GSECSOCK_ERROR_ALPN);
      g_assert_cmpint (ERR_GET_REASON (rc.handshake_error), ==, SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL);
    }
  else
    {
      g_assert_true (rc.handshake_ok);
      test_wait_until (f->env.context, f->incoming->len == 1);
      g_assert_cmpuint (f->failures->len, ==, 0);
      /* No protocol chosen: the server knows none of them. */
      g_assert_null (gsecsock_secure_socket_get_alpn_protocol (g_ptr_array_index (f->incoming, 0)));
    }
  g_byte_array_unref (rc.alpn);
  assert_server_goes_on (f, port);
}

static const HelloCase hello_one_full_record = { 16384, FALSE };
static const HelloCase hello_largest_alpn = { 0, FALSE };
static const HelloCase hello_largest_alpn_mismatch = { 0, TRUE };

/* TLS 1.0 or 1.1 offered to a server whose minimum is 1.2 (the default). */
static void
test_legacy_version_offered (Fixture       *f,
                             gconstpointer  data)
{
  RawClient rc = { 0 };
  gint64 start;

  rc.port = start_server (f);
  rc.legacy = TRUE;
  rc.max_version = GPOINTER_TO_INT (data);
  start = g_get_monotonic_time ();
  raw_client_run (f, &rc);
  test_wait_until (f->env.context, f->failures->len == 1);
  assert_within_bound (start);
  g_assert_false (rc.handshake_ok);
  g_assert_cmpint (ERR_GET_REASON (rc.handshake_error), ==, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
  g_assert_error (nth_failure (f, 0)->error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION);
  test_assert_message_contains (nth_failure (f, 0)->error, "TLS version");
  assert_server_goes_on (f, rc.port);
}

/* The server keeps reading what comes after the handshake. */
static void
on_incoming_drain (GSecSockSecureServer *server,
                   GSecSockSecureSocket *sock,
                   gpointer              user_data)
{
  Drain *d = user_data;

  drain_start (d, sock);
}

/* A TLS 1.2 client asks for a renegotiation: refused (renegotiation is off
 * by default), with no second handshake; the server's reader gets a precise
 * error once the client gives up, the data before it intact. */
static void
test_renegotiation_refused (Fixture       *f,
                            gconstpointer  data)
{
  RawClient rc = { 0 };
  Drain d = { 0 };
  GSecSockSecureSocket *served;
  gint64 start;

  rc.port = start_server (f);
  rc.max_version = TLS1_2_VERSION;
  rc.renegotiate = TRUE;
  g_signal_connect (f->server, "incoming", G_CALLBACK (on_incoming_drain), &d);
  start = g_get_monotonic_time ();
  raw_client_run (f, &rc);
  g_assert_true (rc.handshake_ok);
  test_wait_until (f->env.context, d.done);
  assert_within_bound (start);

  /* OpenSSL's client treats the server's no_renegotiation alert as fatal. */
  g_assert_cmpint (rc.renegotiate_ret, !=, 1);
  g_assert_cmpint (ERR_GET_REASON (rc.renegotiate_error), ==, SSL_R_NO_RENEGOTIATION);
  g_assert_cmpuint (d.data->len, ==, 6);
  g_assert_cmpmem (d.data->data, 6, "before", 6);
  g_test_message ("server: %s", d.error ? d.error->message : "end of stream");
  g_assert_error (d.error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL);
  served = g_ptr_array_index (f->incoming, 0);
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (served), ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  g_signal_handlers_disconnect_by_func (f->server, on_incoming_drain, &d);
  drain_clear (&d);
  assert_server_goes_on (f, rc.port);
}

/* ---- SNI that matches nothing ------------------------------------------- */

/* The server serves alpha.test by SNI; a verifying client asks for a name
 * the server has no certificate for. It gets the default certificate,
 * which is not valid for that name: rejected, precisely. */
static void
test_sni_matches_nothing (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) alpha = test_make_server_context ("alpha-chain.pem", "alpha.key");
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  TestOp op = { 0 };
  guint16 port;
  gint64 start;

  g_assert_true (gsecsock_secure_socket_context_add_sni_context (f->env.server_ctx, "alpha.test", alpha, &error));
  g_assert_no_error (error);
  port = start_server (f);

  connection = test_tcp_connect ("127.0.0.1", port);
  client = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (connection), "nothing.test", &error);
  g_assert_no_error (error);
  start = g_get_monotonic_time ();
  gsecsock_secure_socket_handshake_async (client, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &op);
  test_wait_until (f->env.context, op.done && f->failures->len == 1);
  assert_within_bound (start);
  g_test_message ("client: %s", op.error->message);
  g_assert_error (op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (client), ==, GSECSOCK_CERTIFICATE_BAD_IDENTITY);
  g_assert_cmpstr (gsecsock_secure_socket_get_server_name (client), ==, "nothing.test");
  /* The server hears of it through the client's alert. */
  g_assert_error (nth_failure (f, 0)->error, GSECSOCK_ERROR, GSECSOCK_ERROR_HANDSHAKE_FAILED);
  test_assert_message_contains (nth_failure (f, 0)->error, "certificate");
  test_op_clear (&op);
  assert_server_goes_on (f, port);
}

/* ---- Certificate and key files ----------------------------------------- */

typedef enum {
  FILE_MISSING,
  FILE_EMPTY,
  FILE_TRUNCATED,             /* the first half of the real file */
  FILE_BINARY_GARBAGE,        /* random bytes */
} BadFile;

typedef struct {
  gboolean bad_key;           /* the key file is the bad one, else the certificate */
  BadFile how;
} FileCase;

static char *
make_bad_file (const char *name,
               const char *good_path,
               BadFile     how)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  switch (how)
    {
    case FILE_MISSING:
      return test_tmp_path (name);
    case FILE_EMPTY:
      return test_write_tmp_file (name, "", 0);
    case FILE_TRUNCATED:
      g_assert_true (g_file_get_contents (good_path, &contents, &len, NULL));
      return test_write_tmp_file (name, contents, len / 2);
    case FILE_BINARY_GARBAGE:
      {
        g_autoptr(GBytes) garbage = test_make_random_bytes (2048, 84);

        return test_write_tmp_file (name, g_bytes_get_data (garbage, NULL), g_bytes_get_size (garbage));
      }
    default:
      g_assert_not_reached ();
    }
}

/* Each broken file gives its own error, naming the file; the context keeps
 * the certificate it had and still serves with it. */
static void
test_bad_file (Fixture       *f,
               gconstpointer  data)
{
  const FileCase *fc = data;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autoptr(GError) error = NULL;
  TestTlsPair pair;
  const char *bad;
  int expected;

  if (fc->bad_key)
    {
      cert = g_strdup (test_pki_path ("server-chain.pem"));
      key = make_bad_file ("bad.key", test_pki_path ("server.key"), fc->how);
      bad = key;
    }
  else
    {
      cert = make_bad_file ("bad.pem", test_pki_path ("server-chain.pem"), fc->how);
      key = g_strdup (test_pki_path ("server.key"));
      bad = cert;
    }
  g_assert_false (gsecsock_secure_socket_context_load_certificate_file (f->env.server_ctx, cert, key, &error));
  g_test_message ("%s", error->message);
  expected = fc->bad_key ? GSECSOCK_ERROR_BAD_KEY_FILE : GSECSOCK_ERROR_BAD_CERTIFICATE_FILE;
  g_assert_error (error, GSECSOCK_ERROR, expected);
  test_assert_message_contains (error, bad);

  /* The same file as a lone certificate (GSecSockCertificate). */
  if (!fc->bad_key)
    {
      g_autoptr(GSecSockCertificate) certificate = NULL;

      g_clear_error (&error);
      certificate = gsecsock_certificate_new_from_file (cert, &error);
      g_assert_null (certificate);
      /* A file that cannot be read is a G_IO_ERROR there, as documented. */
      if (fc->how == FILE_MISSING)
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
      else
        g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
      test_assert_message_contains (error, bad);
    }

  test_tls_pair_init (&pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&pair));
  test_tls_pair_clear (&pair);
}

static const FileCase cert_missing = { FALSE, FILE_MISSING };
static const FileCase cert_empty = { FALSE, FILE_EMPTY };
static const FileCase cert_truncated = { FALSE, FILE_TRUNCATED };
static const FileCase cert_garbage = { FALSE, FILE_BINARY_GARBAGE };
static const FileCase key_missing = { TRUE, FILE_MISSING };
static const FileCase key_empty = { TRUE, FILE_EMPTY };
static const FileCase key_truncated = { TRUE, FILE_TRUNCATED };
static const FileCase key_garbage = { TRUE, FILE_BINARY_GARBAGE };

static char *
concatenate_pki_files (const char *name,
                       const char * const *parts)
{
  g_autoptr(GString) all = g_string_new (NULL);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_autofree char *contents = NULL;

      g_assert_true (g_file_get_contents (test_pki_path (parts[i]), &contents, NULL, NULL));
      g_string_append (all, contents);
    }
  return test_write_tmp_file (name, all->str, all->len);
}

/* A chain file with the intermediate before the leaf: the first
 * certificate is taken for the server's, the key does not match it, and the
 * message says the order is wrong (the key matches the second). */
static void
test_chain_intermediate_first (Fixture       *f,
                               gconstpointer  data)
{
  const char * const parts[] = { "intermediate.pem", "server.pem", NULL };
  g_autofree char *chain = concatenate_pki_files ("reversed-chain.pem", parts);
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GError) error = NULL;

  g_assert_false (gsecsock_secure_socket_context_load_certificate_file (ctx, chain, test_pki_path ("server.key"), &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_KEY_MISMATCH);
  test_assert_message_contains (error, "wrong order");
  test_assert_message_contains (error, "certificate 2 of");
}

/* The leaf first, then the root before the intermediate: clients build
 * the path themselves, so the chain still verifies. */
static void
test_chain_extra_out_of_order (Fixture       *f,
                               gconstpointer  data)
{
  const char * const parts[] = { "server.pem", "ca.pem", "intermediate.pem", NULL };
  g_autofree char *chain = concatenate_pki_files ("scrambled-chain.pem", parts);
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GError) error = NULL;
  TestTlsPair pair;

  g_assert_true (gsecsock_secure_socket_context_load_certificate_file (ctx, chain, test_pki_path ("server.key"), &error));
  g_assert_no_error (error);
  test_tls_pair_init (&pair, f->env.client_ctx, ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&pair));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (pair.client), ==, 0);
  test_tls_pair_clear (&pair);
}

/* ---- Signal handlers that misbehave ------------------------------------ */

typedef enum {
  HANDLER_CLOSES,
  HANDLER_CANCELS,
  HANDLER_UNREFS,
} HandlerFault;

typedef struct {
  HandlerFault fault;
  GCancellable *cancellable;
  guint calls;
} Misbehaver;

static void
misbehave (Misbehaver           *m,
           GSecSockSecureSocket *sock)
{
  if (m->calls++ > 0)
    return;
  switch (m->fault)
    {
    case HANDLER_CLOSES:
      {
        g_autoptr(GError) error = NULL;

        /* Closing in the middle of the handshake is allowed; it ends it. */
        g_assert_true (g_io_stream_close (G_IO_STREAM (sock), NULL, &error));
        g_assert_no_error (error);
      }
      break;
    case HANDLER_CANCELS:
      g_cancellable_cancel (m->cancellable);
      break;
    case HANDLER_UNREFS:
      g_object_unref (sock);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
on_handshake_info_misbehave (GSecSockSecureSocket       *sock,
                             GSecSockHandshakeInfoFlags  where,
                             int                         value,
                             const char                 *description,
                             gpointer                    user_data)
{
  misbehave (user_data, sock);
}

static gboolean
on_client_certificate_requested_misbehave (GSecSockSecureSocket *sock,
                                           GStrv                 issuers,
                                           gpointer              user_data)
{
  misbehave (user_data, sock);
  return FALSE;
}

typedef struct {
  const char *signal;
  HandlerFault fault;
} HandlerCase;

/* A client's handler closes the socket, cancels the handshake or drops the
 * last reference, from handshake-info (the first event) or
 * client-certificate-requested. */
static void
test_handler_misbehaves (Fixture       *f,
                         gconstpointer  data)
{
  const HandlerCase *hc = data;
  Misbehaver m = { hc->fault, g_cancellable_new (), 0 };
  TestTlsPair pair;
  GWeakRef weak;
  gint64 start;

  if (g_str_equal (hc->signal, "client-certificate-requested"))
    gsecsock_secure_socket_context_set_client_auth (f->env.server_ctx, GSECSOCK_CLIENT_AUTH_REQUEST);
  test_tls_pair_init (&pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  if (g_str_equal (hc->signal, "handshake-info"))
    g_signal_connect (pair.client, "handshake-info", G_CALLBACK (on_handshake_info_misbehave), &m);
  else
    g_signal_connect (pair.client, hc->signal, G_CALLBACK (on_client_certificate_requested_misbehave), &m);
  g_weak_ref_init (&weak, pair.client);

  start = g_get_monotonic_time ();
  gsecsock_secure_socket_handshake_async (pair.server, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &pair.server_op);
  gsecsock_secure_socket_handshake_async (pair.client, G_PRIORITY_DEFAULT, m.cancellable,
                                          test_handshake_cb, &pair.client_op);
  if (hc->fault == HANDLER_UNREFS)
    {
      /* The handler took the test's reference: the running handshake keeps
       * the socket alive until it ends, then lets it go. */
      pair.client = NULL;
      test_wait_until (f->env.context, pair.client_op.done && pair.server_op.done);
      g_assert_no_error (pair.client_op.error);
      g_assert_no_error (pair.server_op.error);
      test_run_context_for (f->env.context, 10);
      g_assert_null (g_weak_ref_get (&weak));
    }
  else
    {
      test_wait_until (f->env.context, pair.client_op.done);
      assert_within_bound (start);
      g_test_message ("%s", pair.client_op.error->message);
      if (hc->fault == HANDLER_CLOSES)
        g_assert_error (pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CLOSED);
      else
        g_assert_error (pair.client_op.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_false (gsecsock_secure_socket_get_handshake_complete (pair.client));
      /* The server sees the client go away: its handshake ends too (it
       * may have completed, when the client's paused handshake was run to
       * its end, without a certificate, on close). Then a read ends. */
      g_io_stream_close (G_IO_STREAM (pair.client), NULL, NULL);
      g_io_stream_close (G_IO_STREAM (pair.client_conn), NULL, NULL);
      test_wait_until (f->env.context, pair.server_op.done);
      assert_within_bound (start);
      if (pair.server_op.ok)
        {
          g_autoptr(GError) error = NULL;
          char buf[8];

          g_assert_cmpint (g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (pair.server)),
                                                buf, sizeof buf, NULL, &error), <=, 0);
          g_test_message ("server: handshake done, then %s", error ? error->message : "a clean end");
        }
      else
        g_test_message ("server: %s", pair.server_op.error->message);
    }
  g_assert_cmpuint (m.calls, >=, 1);
  g_weak_ref_clear (&weak);
  g_clear_object (&m.cancellable);
  test_tls_pair_clear (&pair);
}

static const HandlerCase info_closes = { "handshake-info", HANDLER_CLOSES };
static const HandlerCase info_cancels = { "handshake-info", HANDLER_CANCELS };
static const HandlerCase info_unrefs = { "handshake-info", HANDLER_UNREFS };
static const HandlerCase client_cert_closes = { "client-certificate-requested", HANDLER_CLOSES };
static const HandlerCase client_cert_cancels = { "client-certificate-requested", HANDLER_CANCELS };
static const HandlerCase client_cert_unrefs = { "client-certificate-requested", HANDLER_UNREFS };

/* The server's own signals: accepted closes the socket yet lets the server
 * go on (instead of returning TRUE), incoming and handshake-failed close
 * and drop what they get. The server reports, frees its slots, serves on. */
static gboolean
on_accepted_close_first (GSecSockSecureServer *server,
                         GSecSockSecureSocket *sock,
                         gpointer              user_data)
{
  guint *seen = user_data;

  if ((*seen)++ == 0)
    g_io_stream_close (G_IO_STREAM (sock), NULL, NULL);
  return FALSE;
}

static void
on_incoming_close_and_drop (GSecSockSecureServer *server,
                            GSecSockSecureSocket *sock,
                            gpointer              user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_io_stream_close (G_IO_STREAM (sock), NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_io_stream_close (G_IO_STREAM (sock), NULL, &error));
  g_assert_no_error (error);
}

static void
on_handshake_failed_close (GSecSockSecureServer *server,
                           GSecSockSecureSocket *sock,
                           GError               *error,
                           gpointer              user_data)
{
  g_io_stream_close (G_IO_STREAM (sock), NULL, NULL);
  g_io_stream_close (G_IO_STREAM (sock), NULL, NULL);
}

static void
test_server_handlers_misbehave (Fixture       *f,
                                gconstpointer  data)
{
  guint seen = 0;
  guint16 port;
  g_autoptr(GSecSockSecureSocket) refused = NULL;
  g_autoptr(GSecSockSecureSocket) served = NULL;
  g_autoptr(GError) error = NULL;
  TestOp op1 = { 0 }, op2 = { 0 };
  char buf[8];

  port = start_server (f);
  g_signal_connect (f->server, "accepted", G_CALLBACK (on_accepted_close_first), &seen);
  g_signal_connect (f->server, "handshake-failed", G_CALLBACK (on_handshake_failed_close), NULL);
  g_signal_connect (f->server, "incoming", G_CALLBACK (on_incoming_close_and_drop), NULL);

  /* Closed in accepted: the handshake fails on a closed socket, at once. */
  refused = start_genuine_client (f, port, &op1);
  test_wait_until (f->env.context, op1.done && f->failures->len == 1);
  g_assert_error (nth_failure (f, 0)->error, GSECSOCK_ERROR, GSECSOCK_ERROR_CLOSED);
  g_assert_nonnull (op1.error);
  g_test_message ("client: %s", op1.error->message);
  g_assert_cmpuint (gsecsock_secure_server_get_n_handshakes (f->server), ==, 0);

  /* Served, then closed twice by incoming: the client gets a clean end. */
  served = start_genuine_client (f, port, &op2);
  test_wait_until (f->env.context, op2.done && f->incoming->len == 1);
  g_assert_no_error (op2.error);
  g_assert_cmpint (g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (served)),
                                        buf, sizeof buf, NULL, &error), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpuint (f->failures->len, ==, 1);
  g_assert_cmpuint (seen, ==, 2);
  test_op_clear (&op1);
  test_op_clear (&op2);
}

/* ---- Use after close, after error; cancelling what is done --------------- */

static void
test_close_twice_async (Fixture       *f,
                        gconstpointer  data)
{
  TestTlsPair pair;
  TestOp first = { 0 }, second = { 0 }, third = { 0 };

  test_tls_pair_init (&pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&pair));

  /* A second close while the first runs is refused as GIO refuses it; a
   * close after the first is done succeeds and does nothing. */
  g_io_stream_close_async (G_IO_STREAM (pair.client), G_PRIORITY_DEFAULT, NULL, test_close_cb, &first);
  g_io_stream_close_async (G_IO_STREAM (pair.client), G_PRIORITY_DEFAULT, NULL, test_close_cb, &second);
  test_wait_until (f->env.context, first.done && second.done);
  g_assert_no_error (first.error);
  g_assert_error (second.error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_io_stream_close_async (G_IO_STREAM (pair.client), G_PRIORITY_DEFAULT, NULL, test_close_cb, &third);
  test_wait_until (f->env.context, third.done);
  g_assert_no_error (third.error);
  g_assert_true (third.ok);
  test_op_clear (&first);
  test_op_clear (&second);
  test_op_clear (&third);
  test_tls_pair_clear (&pair);
}

static void
test_use_after_close (Fixture       *f,
                      gconstpointer  data)
{
  TestTlsPair pair;
  g_autoptr(GError) error = NULL;
  char buf[8];

  test_tls_pair_init (&pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&pair));
  g_assert_true (g_io_stream_close (G_IO_STREAM (pair.client), NULL, &error));
  g_assert_no_error (error);

  /* Asynchronous reads and writes, and the handshake, after close. */
  {
    GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (pair.client));
    GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (pair.client));
    g_autoptr(GAsyncResult) write_result = NULL;
    g_autoptr(GAsyncResult) read_result = NULL;

    g_output_stream_write_all_async (out, "x", 1, G_PRIORITY_DEFAULT, NULL, test_store_result_cb, &write_result);
    test_wait_for_result (&write_result);
    g_assert_false (g_output_stream_write_all_finish (out, write_result, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
    g_clear_error (&error);

    g_input_stream_read_async (in, buf, sizeof buf, G_PRIORITY_DEFAULT, NULL, test_store_result_cb, &read_result);
    test_wait_for_result (&read_result);
    g_assert_cmpint (g_input_stream_read_finish (in, read_result, &error), ==, -1);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
    g_clear_error (&error);
  }
  g_assert_false (gsecsock_secure_socket_handshake (pair.client, NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_CLOSED);
  test_tls_pair_clear (&pair);
}

/* After a failed handshake, everything fails with that same error. */
static void
test_use_after_handshake_error (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GSocketConnection) client_conn = NULL;
  g_autoptr(GSocketConnection) server_conn = NULL;
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GError) error = NULL;
  const char banner[] = "SSH-2.0-OpenSSH_9.2p1\r\n";
  char buf[8];

  test_socket_pair ("127.0.0.1", &client_conn, &server_conn);
  write_raw (server_conn, banner, strlen (banner));
  client = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (client_conn), "localhost", &error);
  g_assert_no_error (error);
  g_assert_false (gsecsock_secure_socket_handshake (client, NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_TLS);
  g_clear_error (&error);

  g_assert_false (gsecsock_secure_socket_handshake (client, NULL, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_TLS);
  g_clear_error (&error);
  g_assert_cmpint (g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (client)),
                                        buf, sizeof buf, NULL, &error), ==, -1);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_TLS);
  g_clear_error (&error);
  g_assert_cmpint (g_output_stream_write (g_io_stream_get_output_stream (G_IO_STREAM (client)),
                                          "x", 1, NULL, &error), ==, -1);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_TLS);
  g_clear_error (&error);
  /* Closing a failed socket works, twice. */
  g_assert_true (g_io_stream_close (G_IO_STREAM (client), NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_io_stream_close (G_IO_STREAM (client), NULL, &error));
  g_assert_no_error (error);
}

/* Cancelling once an operation has completed changes nothing: no second
 * callback, the socket keeps working. */
static void
test_cancel_after_completion (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  TestTlsPair pair;
  char buf[8];

  test_tls_pair_init (&pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  gsecsock_secure_socket_handshake_async (pair.server, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &pair.server_op);
  gsecsock_secure_socket_handshake_async (pair.client, G_PRIORITY_DEFAULT, cancellable, test_handshake_cb, &pair.client_op);
  test_wait_until (f->env.context, pair.client_op.done && pair.server_op.done);
  g_assert_no_error (pair.client_op.error);
  g_cancellable_cancel (cancellable);
  test_run_context_for (f->env.context, 20);   /* test_handshake_cb aborts if called again */
  g_assert_true (gsecsock_secure_socket_get_handshake_complete (pair.client));
  g_assert_true (gsecsock_secure_socket_handshake (pair.client, NULL, &error));
  g_assert_no_error (error);

  /* A read that completed, then its cancellable cancelled. */
  g_cancellable_reset (cancellable);
  test_write_all (G_IO_STREAM (pair.server), "ping", 4);
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (pair.client)), buf, sizeof buf,
                             G_PRIORITY_DEFAULT, cancellable, test_store_result_cb, &result);
  test_wait_for_result (&result);
  g_assert_cmpint (g_input_stream_read_finish (g_io_stream_get_input_stream (G_IO_STREAM (pair.client)),
                                               result, &error), ==, 4);
  g_assert_no_error (error);
  g_cancellable_cancel (cancellable);
  test_run_context_for (f->env.context, 20);

  /* The connection is intact both ways. */
  test_write_all (G_IO_STREAM (pair.client), "pong", 4);
  test_read_exact (G_IO_STREAM (pair.server), buf, 4);
  g_assert_cmpmem (buf, 4, "pong", 4);
  test_write_all (G_IO_STREAM (pair.server), "more", 4);
  test_read_exact (G_IO_STREAM (pair.client), buf, 4);
  g_assert_cmpmem (buf, 4, "more", 4);
  test_tls_pair_clear (&pair);
}

static const TruncationCase cut_between = { CUT_BETWEEN_RECORDS, GSECSOCK_PROTOCOL_VERSION_UNKNOWN };
static const TruncationCase cut_header = { CUT_IN_HEADER, GSECSOCK_PROTOCOL_VERSION_UNKNOWN };
static const TruncationCase cut_body = { CUT_IN_BODY, GSECSOCK_PROTOCOL_VERSION_UNKNOWN };
static const TruncationCase cut_last_byte = { CUT_BEFORE_LAST_BYTE, GSECSOCK_PROTOCOL_VERSION_UNKNOWN };
static const TruncationCase cut_between_tls12 = { CUT_BETWEEN_RECORDS, GSECSOCK_PROTOCOL_VERSION_TLS_1_2 };
static const TruncationCase cut_body_tls12 = { CUT_IN_BODY, GSECSOCK_PROTOCOL_VERSION_TLS_1_2 };

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

#define ADD(path, data, func) \
  g_test_add ("/faults/" path, Fixture, data, fixture_setup, func, fixture_teardown)

  ADD ("truncation/between-records", &cut_between, test_truncation);
  ADD ("truncation/mid-header", &cut_header, test_truncation);
  ADD ("truncation/mid-record", &cut_body, test_truncation);
  ADD ("truncation/last-byte-missing", &cut_last_byte, test_truncation);
  ADD ("truncation/between-records-tls12", &cut_between_tls12, test_truncation);
  ADD ("truncation/mid-record-tls12", &cut_body_tls12, test_truncation);
  ADD ("truncation/mid-record-tcp", NULL, test_truncation_tcp_mid_record);
  ADD ("reset/mid-handshake-client", NULL, test_reset_mid_handshake_client);
  ADD ("reset/mid-handshake-server", NULL, test_reset_mid_handshake_server);
  ADD ("reset/mid-transfer", NULL, test_reset_mid_transfer);
  ADD ("slowloris/one-byte-per-second", GINT_TO_POINTER (TRUE), test_slowloris);
  ADD ("slowloris/silent", GINT_TO_POINTER (FALSE), test_slowloris);
  ADD ("garbage/ssh-banner-to-server", &ssh_banner, test_garbage_to_server);
  ADD ("garbage/ssh-banner-to-client", &ssh_banner, test_garbage_to_client);
  ADD ("garbage/http-request", &http_request, test_garbage_to_server);
  ADD ("garbage/random-1", &random_bytes_1, test_garbage_to_server);
  ADD ("garbage/random-2", &random_bytes_2, test_garbage_to_server);
  ADD ("garbage/random-3", &random_bytes_3, test_garbage_to_server);
  ADD ("garbage/random-4", &random_bytes_4, test_garbage_to_server);
  ADD ("garbage/random-to-client", &random_bytes_1, test_garbage_to_client);
  ADD ("oversized-record/handshake-plaintext-limit", &record_over_plain_limit, test_garbage_to_server);
  ADD ("oversized-record/handshake-tls13-limit", &record_over_tls13_limit, test_garbage_to_server);
  ADD ("oversized-record/handshake-max-length", &record_max_length, test_garbage_to_server);
  ADD ("oversized-record/to-client", &record_over_tls13_limit, test_garbage_to_client);
  ADD ("oversized-record/after-handshake-tls13", GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_3),
       test_oversized_record_after_handshake);
  ADD ("oversized-record/after-handshake-tls12", GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_2),
       test_oversized_record_after_handshake);
  ADD ("client-hello/one-full-record", &hello_one_full_record, test_client_hello_size);
  ADD ("client-hello/largest-alpn", &hello_largest_alpn, test_client_hello_size);
  ADD ("client-hello/largest-alpn-mismatch", &hello_largest_alpn_mismatch, test_client_hello_size);
  ADD ("version/tls10-offered", GINT_TO_POINTER (TLS1_VERSION), test_legacy_version_offered);
  ADD ("version/tls11-offered", GINT_TO_POINTER (TLS1_1_VERSION), test_legacy_version_offered);
  ADD ("renegotiation/client-initiated-refused", NULL, test_renegotiation_refused);
  ADD ("sni/matches-nothing", NULL, test_sni_matches_nothing);
  ADD ("files/certificate-missing", &cert_missing, test_bad_file);
  ADD ("files/certificate-empty", &cert_empty, test_bad_file);
  ADD ("files/certificate-truncated", &cert_truncated, test_bad_file);
  ADD ("files/certificate-binary-garbage", &cert_garbage, test_bad_file);
  ADD ("files/key-missing", &key_missing, test_bad_file);
  ADD ("files/key-empty", &key_empty, test_bad_file);
  ADD ("files/key-truncated", &key_truncated, test_bad_file);
  ADD ("files/key-binary-garbage", &key_garbage, test_bad_file);
  ADD ("files/chain-intermediate-first", NULL, test_chain_intermediate_first);
  ADD ("files/chain-root-before-intermediate", NULL, test_chain_extra_out_of_order);
  ADD ("handlers/handshake-info-closes", &info_closes, test_handler_misbehaves);
  ADD ("handlers/handshake-info-cancels", &info_cancels, test_handler_misbehaves);
  ADD ("handlers/handshake-info-unrefs", &info_unrefs, test_handler_misbehaves);
  ADD ("handlers/client-certificate-requested-closes", &client_cert_closes, test_handler_misbehaves);
  ADD ("handlers/client-certificate-requested-cancels", &client_cert_cancels, test_handler_misbehaves);
  ADD ("handlers/client-certificate-requested-unrefs", &client_cert_unrefs, test_handler_misbehaves);
  ADD ("handlers/server-signals", NULL, test_server_handlers_misbehave);
  ADD ("misuse/close-twice-async", NULL, test_close_twice_async);
  ADD ("misuse/use-after-close", NULL, test_use_after_close);
  ADD ("misuse/use-after-handshake-error", NULL, test_use_after_handshake_error);
  ADD ("misuse/cancel-after-completion", NULL, test_cancel_after_completion);

  return g_test_run ();
}
