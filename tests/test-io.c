/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Data over established secure sockets: bulk echo (threads and one main
 * loop), full duplex, pollable streams, splice, GDataInputStream, closing,
 * truncation and cancellation. */
#include "test-utils.h"

#include <string.h>

#define ECHO_SIZE (16 * 1024 * 1024)
#define DUPLEX_SIZE (4 * 1024 * 1024)

typedef struct {
  TestEnv env;
  TestTlsPair pair;
  GIOStream *client;  /* borrowed from pair */
  GIOStream *server;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_env_setup (&f->env, "server-chain.pem", "server.key");
  if (data != NULL)
    {
      gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx, GPOINTER_TO_UINT (data));
    }
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  f->client = G_IO_STREAM (f->pair.client);
  f->server = G_IO_STREAM (f->pair.server);
}

/* Contexts only: the test makes its own connection. */
static void
fixture_setup_plain (Fixture       *f,
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

static GInputStream *
in_of (GIOStream *stream)
{
  return g_io_stream_get_input_stream (stream);
}

static GOutputStream *
out_of (GIOStream *stream)
{
  return g_io_stream_get_output_stream (stream);
}

/* Synchronous echo: a server thread echoes, a client writer thread sends
 * while the test thread reads. */
typedef struct {
  GIOStream *stream;
  GChecksum *checksum;
  gsize total;
  GError *error;
} EchoThread;

static gpointer
echo_server_thread (gpointer data)
{
  EchoThread *s = data;
  g_autofree guint8 *buf = g_malloc (65536);

  s->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  for (;;)
    {
      gssize n = g_input_stream_read (in_of (s->stream), buf, 65536, NULL, &s->error);

      if (n <= 0)
        break;
      g_checksum_update (s->checksum, buf, n);
      s->total += n;
      if (!g_output_stream_write_all (out_of (s->stream), buf, n, NULL, NULL, &s->error))
        break;
    }
  g_io_stream_close (s->stream, NULL, NULL);
  return NULL;
}

typedef struct {
  GIOStream *stream;
  GBytes *data;
  GError *error;
} WriterThread;

static gpointer
writer_thread (gpointer data)
{
  WriterThread *w = data;
  const guint8 *p = g_bytes_get_data (w->data, NULL);
  gsize len = g_bytes_get_size (w->data);

  /* Uneven pieces, so record boundaries do not line up with writes. */
  for (gsize off = 0; off < len;)
    {
      gsize chunk = MIN (len - off, 100000 + off % 77777);

      if (!g_output_stream_write_all (out_of (w->stream), p + off, chunk, NULL, NULL, &w->error))
        break;
      off += chunk;
    }
  return NULL;
}

static void
test_echo_sync (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GBytes) payload = test_make_random_bytes (ECHO_SIZE, 1);
  g_autofree char *expected = test_checksum (g_bytes_get_data (payload, NULL), ECHO_SIZE);
  g_autofree guint8 *received = g_malloc (ECHO_SIZE);
  g_autofree char *got = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("16 MiB synchronous echo");
  EchoThread server = { f->server, NULL, 0, NULL };
  WriterThread writer = { f->client, payload, NULL };
  GThread *server_thread, *client_writer;
  gsize n = 0;

  server_thread = g_thread_new ("echo-server", echo_server_thread, &server);
  client_writer = g_thread_new ("client-writer", writer_thread, &writer);
  /* Reading while the writer thread writes: the socket is used by two
   * threads at once, one per direction. */
  g_assert_true (g_input_stream_read_all (in_of (f->client), received, ECHO_SIZE, &n, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, ECHO_SIZE);
  g_thread_join (client_writer);
  g_assert_no_error (writer.error);

  got = test_checksum (received, ECHO_SIZE);
  g_assert_cmpstr (got, ==, expected);
  g_assert_true (memcmp (received, g_bytes_get_data (payload, NULL), ECHO_SIZE) == 0);

  g_assert_true (g_io_stream_close (f->client, NULL, &error));
  g_assert_no_error (error);
  g_thread_join (server_thread);
  g_assert_no_error (server.error);
  g_assert_cmpuint (server.total, ==, ECHO_SIZE);
  g_assert_cmpstr (g_checksum_get_string (server.checksum), ==, expected);
  g_checksum_free (server.checksum);
}

/* The same, asynchronously, everything on one main context. */
typedef struct {
  GIOStream *stream;
  guint8 buf[65536];
  gsize total;
  GChecksum *checksum;
  gboolean done;
  GError *error;
} EchoAsync;

static void echo_async_read (EchoAsync *s);

static void
echo_async_close_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  EchoAsync *s = user_data;

  /* The peer is already gone; whether our close_notify got out is not
   * what this test is about. */
  g_io_stream_close_finish (G_IO_STREAM (source), result, NULL);
  s->done = TRUE;
}

static void
echo_async_write_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  EchoAsync *s = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &s->error))
    {
      s->done = TRUE;
      return;
    }
  echo_async_read (s);
}

static void
echo_async_read_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  EchoAsync *s = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &s->error);

  if (n < 0)
    {
      s->done = TRUE;
      return;
    }
  if (n == 0)
    {
      g_io_stream_close_async (s->stream, G_PRIORITY_DEFAULT, NULL, echo_async_close_cb, s);
      return;
    }
  g_checksum_update (s->checksum, s->buf, n);
  s->total += n;
  g_output_stream_write_all_async (out_of (s->stream), s->buf, n, G_PRIORITY_DEFAULT, NULL,
                                   echo_async_write_cb, s);
}

static void
echo_async_read (EchoAsync *s)
{
  g_input_stream_read_async (in_of (s->stream), s->buf, sizeof s->buf, G_PRIORITY_DEFAULT, NULL,
                             echo_async_read_cb, s);
}

typedef struct {
  GIOStream *stream;
  const guint8 *data;
  guint8 *received;
  gsize len;
  gsize written;
  gsize read;
  gboolean write_done;
  gboolean read_done;
  gboolean closed;
  GError *error;
} ClientAsync;

static void client_async_write (ClientAsync *c);
static void client_async_read (ClientAsync *c);

static void
client_async_write_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  ClientAsync *c = user_data;
  gsize n = 0;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, &n, &c->error))
    {
      c->write_done = TRUE;
      return;
    }
  c->written += n;
  if (c->written < c->len)
    client_async_write (c);
  else
    c->write_done = TRUE;
}

static void
client_async_write (ClientAsync *c)
{
  gsize chunk = MIN (c->len - c->written, 100000 + c->written % 77777);

  g_output_stream_write_all_async (out_of (c->stream), c->data + c->written, chunk,
                                   G_PRIORITY_DEFAULT, NULL, client_async_write_cb, c);
}

static void
client_async_read_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  ClientAsync *c = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &c->error);

  if (n <= 0)
    {
      if (n == 0)
        g_set_error (&c->error, G_IO_ERROR, G_IO_ERROR_FAILED, "unexpected EOF after %" G_GSIZE_FORMAT " bytes", c->read);
      c->read_done = TRUE;
      return;
    }
  c->read += n;
  if (c->read < c->len)
    client_async_read (c);
  else
    c->read_done = TRUE;
}

static void
client_async_read (ClientAsync *c)
{
  g_input_stream_read_async (in_of (c->stream), c->received + c->read, MIN (c->len - c->read, 65536),
                             G_PRIORITY_DEFAULT, NULL, client_async_read_cb, c);
}

static void
client_async_close_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  ClientAsync *c = user_data;

  g_assert_true (g_io_stream_close_finish (G_IO_STREAM (source), result, &c->error));
  c->closed = TRUE;
}

static void
test_echo_async (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GBytes) payload = test_make_random_bytes (ECHO_SIZE, 2);
  g_autofree char *expected = test_checksum (g_bytes_get_data (payload, NULL), ECHO_SIZE);
  g_autofree guint8 *received = g_malloc (ECHO_SIZE);
  g_autofree char *got = NULL;
  EchoAsync *server = g_new0 (EchoAsync, 1);
  ClientAsync client = { f->client, g_bytes_get_data (payload, NULL), received, ECHO_SIZE, 0, 0, FALSE, FALSE, FALSE, NULL };

  server->stream = f->server;
  server->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  echo_async_read (server);
  /* A read and a write pending at once on the client. */
  client_async_write (&client);
  client_async_read (&client);
  test_wait_until (f->env.context, client.write_done && client.read_done);
  g_assert_no_error (client.error);
  g_assert_no_error (server->error);
  g_assert_cmpuint (client.read, ==, ECHO_SIZE);

  got = test_checksum (received, ECHO_SIZE);
  g_assert_cmpstr (got, ==, expected);

  g_io_stream_close_async (f->client, G_PRIORITY_DEFAULT, NULL, client_async_close_cb, &client);
  test_wait_until (f->env.context, client.closed && server->done);
  g_assert_no_error (client.error);
  g_assert_no_error (server->error);
  g_assert_cmpuint (server->total, ==, ECHO_SIZE);
  g_assert_cmpstr (g_checksum_get_string (server->checksum), ==, expected);
  g_checksum_free (server->checksum);
  g_free (server);
}

/* Both ends write and read at the same time, each with a writer and a
 * reader thread: four threads on two sockets. */
typedef struct {
  GIOStream *stream;
  gsize len;
  char *checksum;
  GError *error;
} ReaderThread;

static gpointer
reader_thread (gpointer data)
{
  ReaderThread *r = data;
  g_autofree guint8 *buf = g_malloc (r->len);
  gsize n = 0;

  if (g_input_stream_read_all (in_of (r->stream), buf, r->len, &n, NULL, &r->error))
    {
      if (n == r->len)
        r->checksum = test_checksum (buf, n);
      else
        g_set_error (&r->error, G_IO_ERROR, G_IO_ERROR_FAILED, "short read: %" G_GSIZE_FORMAT, n);
    }
  return NULL;
}

static void
test_full_duplex (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GBytes) c2s = test_make_random_bytes (DUPLEX_SIZE, 3);
  g_autoptr(GBytes) s2c = test_make_random_bytes (DUPLEX_SIZE, 4);
  g_autofree char *c2s_sum = test_checksum (g_bytes_get_data (c2s, NULL), DUPLEX_SIZE);
  g_autofree char *s2c_sum = test_checksum (g_bytes_get_data (s2c, NULL), DUPLEX_SIZE);
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("full duplex transfer");
  WriterThread cw = { f->client, c2s, NULL }, sw = { f->server, s2c, NULL };
  ReaderThread cr = { f->client, DUPLEX_SIZE, NULL, NULL }, sr = { f->server, DUPLEX_SIZE, NULL, NULL };
  GThread *threads[4];

  /* Neither side reads before it has written everything unless reads and
   * writes really are independent: a lock held across a blocking write
   * would deadlock here. */
  threads[0] = g_thread_new ("client-writer", writer_thread, &cw);
  threads[1] = g_thread_new ("server-writer", writer_thread, &sw);
  threads[2] = g_thread_new ("client-reader", reader_thread, &cr);
  threads[3] = g_thread_new ("server-reader", reader_thread, &sr);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  g_assert_no_error (cw.error);
  g_assert_no_error (sw.error);
  g_assert_no_error (cr.error);
  g_assert_no_error (sr.error);
  g_assert_cmpstr (sr.checksum, ==, c2s_sum);
  g_assert_cmpstr (cr.checksum, ==, s2c_sum);
  g_free (sr.checksum);
  g_free (cr.checksum);
}

/* Pollable streams. */
typedef struct {
  char buf[64];
  gssize n;
  guint dispatches;
} PollState;

static gboolean
readable_cb (GObject  *stream,
             gpointer  user_data)
{
  PollState *s = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;

  s->dispatches++;
  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (stream), s->buf, sizeof s->buf - 1,
                                                NULL, &error);
  if (n < 0)
    {
      /* A spurious wakeup (e.g. only a handshake record arrived) is allowed. */
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      return G_SOURCE_CONTINUE;
    }
  s->n = n;
  return G_SOURCE_REMOVE;
}

static void
test_pollable_input (Fixture       *f,
                     gconstpointer  data)
{
  GPollableInputStream *in = G_POLLABLE_INPUT_STREAM (in_of (f->client));
  g_autoptr(GError) error = NULL;
  g_autoptr(GSource) source = NULL;
  PollState s = { { 0 }, -1, 0 };
  char buf[16];

  g_assert_true (g_pollable_input_stream_can_poll (in));
  /* Nothing was sent: no data, and no blocking either. */
  g_assert_cmpint (g_pollable_input_stream_read_nonblocking (in, buf, sizeof buf, NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  g_clear_error (&error);

  source = g_pollable_input_stream_create_source (in, NULL);
  g_source_set_callback (source, (GSourceFunc) (void (*) (void)) readable_cb, &s, NULL);
  g_source_attach (source, f->env.context);
  /* Let the source settle: with no data it must not keep firing. */
  test_run_context_for (f->env.context, 50);
  g_assert_cmpint (s.n, ==, -1);
  g_assert_cmpuint (s.dispatches, <, 5);

  test_write_all (f->server, "hello, poll", 11);
  test_wait_until (f->env.context, s.n >= 0);
  g_assert_cmpint (s.n, ==, 11);
  g_assert_cmpstr (s.buf, ==, "hello, poll");
  g_assert_cmpuint (s.dispatches, <, 20);

  /* Drained again. */
  g_assert_cmpint (g_pollable_input_stream_read_nonblocking (in, buf, sizeof buf, NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
}

static void
test_pollable_output (Fixture       *f,
                      gconstpointer  data)
{
  GPollableOutputStream *out = G_POLLABLE_OUTPUT_STREAM (out_of (f->client));
  g_autoptr(GError) error = NULL;
  char buf[5] = { 0 };
  gssize n;

  g_assert_true (g_pollable_output_stream_can_poll (out));
  g_assert_true (g_pollable_output_stream_is_writable (out));
  n = g_pollable_output_stream_write_nonblocking (out, "data", 4, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 4);
  test_read_exact (f->server, buf, 4);
  g_assert_cmpstr (buf, ==, "data");
}

static gboolean
set_writable_cb (GObject  *stream,
                 gpointer  user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
read_all_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  gsize *n = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_input_stream_read_all_finish (G_INPUT_STREAM (source), result, n, &error));
  g_assert_no_error (error);
}

static void
test_pollable_output_full (Fixture       *f,
                           gconstpointer  data)
{
  GPollableOutputStream *out = G_POLLABLE_OUTPUT_STREAM (out_of (f->client));
  g_autoptr(GBytes) chunk = test_make_random_bytes (65536, 5);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSource) source = NULL;
  g_autofree guint8 *sink = NULL;
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  gsize total = 0, drained = 0;
  gboolean writable = FALSE;

  /* The peer does not read: eventually a nonblocking write must say
   * WOULD_BLOCK rather than block or buffer without bound. */
  for (;;)
    {
      gssize n = g_pollable_output_stream_write_nonblocking (out, g_bytes_get_data (chunk, NULL), 65536, NULL, &error);

      if (n < 0)
        break;
      g_assert_cmpint (n, >, 0);
      g_assert_cmpint (n, <=, 65536);
      /* Each call starts again at the beginning of the chunk. */
      g_byte_array_append (expected, g_bytes_get_data (chunk, NULL), n);
      total += n;
      g_assert_cmpuint (total, <, 256 * 1024 * 1024);
    }
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  g_assert_cmpuint (total, >, 0);

  /* Everything accepted reaches the peer once it reads, and the output
   * becomes writable again. */
  source = g_pollable_output_stream_create_source (out, NULL);
  g_source_set_callback (source, (GSourceFunc) (void (*) (void)) set_writable_cb, &writable, NULL);
  g_source_attach (source, f->env.context);
  sink = g_malloc (total);
  g_input_stream_read_all_async (in_of (f->server), sink, total, G_PRIORITY_DEFAULT, NULL, read_all_cb, &drained);
  test_wait_until (f->env.context, writable && drained == total);
  g_assert_cmpmem (sink, total, expected->data, expected->len);
  g_assert_true (g_pollable_output_stream_is_writable (out));
}

/* Splicing a secure socket with a plain TCP connection: a TLS terminator. */
static void
splice_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  TestOp *op = user_data;

  op->ok = g_io_stream_splice_finish (result, &op->error);
  op->done = TRUE;
}

static void
test_splice (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GSocketConnection) plain_a = NULL;
  g_autoptr(GSocketConnection) plain_b = NULL;
  g_autoptr(GError) error = NULL;
  TestOp op = { 0 };
  char buf[32] = { 0 };
  gsize n = 0;
  gssize r;

  test_socket_pair ("127.0.0.1", &plain_a, &plain_b);
  g_io_stream_splice_async (f->server, G_IO_STREAM (plain_a),
                            G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                            G_PRIORITY_DEFAULT, NULL, splice_cb, &op);

  /* TLS client → plain end. */
  test_write_all (f->client, "through the tunnel", 18);
  g_input_stream_read_all_async (in_of (G_IO_STREAM (plain_b)), buf, 18, G_PRIORITY_DEFAULT, NULL, read_all_cb, &n);
  test_wait_until (f->env.context, n == 18);
  g_assert_cmpstr (buf, ==, "through the tunnel");

  /* Plain end → TLS client. */
  memset (buf, 0, sizeof buf);
  n = 0;
  test_write_all (G_IO_STREAM (plain_b), "and back", 8);
  g_input_stream_read_all_async (in_of (f->client), buf, 8, G_PRIORITY_DEFAULT, NULL, read_all_cb, &n);
  test_wait_until (f->env.context, n == 8);
  g_assert_cmpstr (buf, ==, "and back");

  /* Closing the plain end ends the splice, which closes the secure socket
   * properly: the TLS client sees a clean EOF. */
  g_assert_true (g_io_stream_close (G_IO_STREAM (plain_b), NULL, &error));
  g_assert_no_error (error);
  test_wait_until (f->env.context, op.done);
  g_assert_no_error (op.error);
  g_assert_true (op.ok);
  g_assert_true (g_io_stream_is_closed (f->server));
  r = g_input_stream_read (in_of (f->client), buf, sizeof buf, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r, ==, 0);
}

/* GDataInputStream on top of a secure socket. */
static void
read_line_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  char **line = user_data;
  g_autoptr(GError) error = NULL;

  *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (*line);
}

static void
test_data_input_stream (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GDataInputStream) lines = g_data_input_stream_new (in_of (f->client));
  g_autoptr(GError) error = NULL;
  g_autofree char *line1 = NULL;
  g_autofree char *line2 = NULL;
  g_autofree char *line3 = NULL;
  char *end;

  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (lines), FALSE);
  g_data_input_stream_set_newline_type (lines, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  test_write_all (f->server, "EHLO client.example\r\nMAIL FROM:<a@example.org>\nlast line", 56);
  g_assert_true (g_io_stream_close (f->server, NULL, &error));
  g_assert_no_error (error);

  line1 = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (line1, ==, "EHLO client.example");

  g_data_input_stream_read_line_async (lines, G_PRIORITY_DEFAULT, NULL, read_line_cb, &line2);
  test_wait_until (f->env.context, line2 != NULL);
  g_assert_cmpstr (line2, ==, "MAIL FROM:<a@example.org>");

  line3 = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (line3, ==, "last line");

  /* The server's close_notify: a clean end of the stream. */
  end = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (end);
}

/* Partial reads out of one large record, and writes larger than a record. */
static gpointer
write_payload_thread (gpointer data)
{
  WriterThread *w = data;

  if (g_output_stream_write_all (out_of (w->stream), g_bytes_get_data (w->data, NULL),
                                 g_bytes_get_size (w->data), NULL, NULL, &w->error))
    g_io_stream_close (w->stream, NULL, &w->error);
  return NULL;
}

static void
test_small_reads (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GBytes) payload = test_make_random_bytes (100000, 6);
  g_autoptr(GByteArray) got = g_byte_array_new ();
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("small reads");
  g_autoptr(GError) error = NULL;
  WriterThread w = { f->server, payload, NULL };
  GThread *thread;
  guint8 buf[7];
  gssize n;

  thread = g_thread_new ("writer", write_payload_thread, &w);
  /* 7 bytes at a time: decrypted data of a 16 KiB record is buffered and
   * handed out piecewise, nothing lost or repeated. */
  while ((n = g_input_stream_read (in_of (f->client), buf, sizeof buf, NULL, &error)) > 0)
    g_byte_array_append (got, buf, n);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 0);
  g_thread_join (thread);
  g_assert_no_error (w.error);
  g_assert_cmpmem (got->data, got->len, g_bytes_get_data (payload, NULL), g_bytes_get_size (payload));
}

/* Closing. */
static void
test_close_clean_eof (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  char buf[16];

  test_write_all (f->server, "bye", 3);
  g_assert_true (g_io_stream_close (f->server, NULL, &error));
  g_assert_no_error (error);
  /* Closing the secure socket closes the base stream too. */
  g_assert_true (g_io_stream_is_closed (f->server));
  g_assert_true (g_io_stream_is_closed (G_IO_STREAM (f->pair.server_conn)));

  test_read_exact (f->client, buf, 3);
  g_assert_cmpmem (buf, 3, "bye", 3);
  /* close_notify: end of stream, not an error — and it stays that way. */
  g_assert_cmpint (g_input_stream_read (in_of (f->client), buf, sizeof buf, NULL, &error), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpint (g_input_stream_read (in_of (f->client), buf, sizeof buf, NULL, &error), ==, 0);
  g_assert_no_error (error);
}

static void
test_close_async (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  TestOp op = { 0 };
  char buf[16];

  g_io_stream_close_async (f->client, G_PRIORITY_DEFAULT, NULL, test_close_cb, &op);
  g_assert_false (op.done);
  test_wait_until (f->env.context, op.done);
  g_assert_no_error (op.error);
  g_assert_true (op.ok);
  g_assert_true (g_io_stream_is_closed (f->client));
  g_assert_true (g_io_stream_is_closed (G_IO_STREAM (f->pair.client_conn)));

  g_assert_cmpint (g_input_stream_read (in_of (f->server), buf, sizeof buf, NULL, &error), ==, 0);
  g_assert_no_error (error);
}

static void
test_close_then_use (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  char buf[16];

  g_assert_true (g_io_stream_close (f->client, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpint (g_input_stream_read (in_of (f->client), buf, sizeof buf, NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_cmpint (g_output_stream_write (out_of (f->client), "x", 1, NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&error);

  /* Closing twice is harmless. */
  g_assert_true (g_io_stream_close (f->client, NULL, &error));
  g_assert_no_error (error);
}

static void
test_close_on_unref (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  char buf[16];

  /* Like every GIOStream, dropping the last reference closes it properly:
   * the peer gets a close_notify, not a truncation. */
  f->client = NULL;
  g_clear_object (&f->pair.client);
  g_assert_true (g_io_stream_is_closed (G_IO_STREAM (f->pair.client_conn)));
  g_assert_cmpint (g_input_stream_read (in_of (f->server), buf, sizeof buf, NULL, &error), ==, 0);
  g_assert_no_error (error);
}

static void
test_write_after_peer_reset (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GBytes) chunk = test_make_random_bytes (16384, 8);
  g_autoptr(GError) error = NULL;
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("write to a reset connection");
  guint i;

  /* Unread data on the server side makes its close an RST. */
  test_write_all (f->client, "unread", 6);
  g_assert_true (g_io_stream_close (G_IO_STREAM (f->pair.server_conn), NULL, &error));
  g_assert_no_error (error);

  /* Writing on must fail with a transport error — and not kill the
   * process with SIGPIPE. */
  for (i = 0; i < 1000; i++)
    if (g_output_stream_write (out_of (f->client), g_bytes_get_data (chunk, NULL), 16384, NULL, &error) < 0)
      break;
  g_assert_nonnull (error);
  g_test_message ("after %u writes: %s", i, error->message);
  g_assert_true (error->domain == G_IO_ERROR);
  g_assert_true (error->code == G_IO_ERROR_BROKEN_PIPE || error->code == G_IO_ERROR_CONNECTION_CLOSED ||
                 error->code == G_IO_ERROR_FAILED);
}

/* A record that arrives in two halves, with a gap between them: while only
 * part of it is buffered, nothing can be read, and an asynchronous reader
 * must wait for the transport instead of being woken over and over. */
#define SPLIT_SIZE 8000
#define SPLIT_GAP_MS 300
#define SPLIT_MAX_WAKEUPS 50

typedef struct {
  GPollableInputStream *in;
  GMainContext *context;
  gboolean use_read_async;
  guint8 buf[SPLIT_SIZE];
  gsize got;
  guint calls;                  /* read attempts (pollable: source dispatches) */
  GError *error;
} SplitReader;

static void split_reader_next (SplitReader *r);

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
split_reader_pollable_cb (GObject  *stream,
                          gpointer  user_data)
{
  SplitReader *r = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;

  r->calls++;
  n = g_pollable_input_stream_read_nonblocking (r->in, r->buf + r->got, SPLIT_SIZE - r->got, NULL, &error);
  if (n > 0)
    r->got += n;
  else if (n == 0)
    r->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "unexpected EOF");
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    r->error = g_steal_pointer (&error);
  /* A fresh source for every wait, as GIO's own read_async does: each
   * source is made from the state the last read left. */
  split_reader_next (r);
  return G_SOURCE_REMOVE;
}

static void
split_reader_async_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  SplitReader *r = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &r->error);

  if (n > 0)
    r->got += n;
  else if (n == 0)
    r->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "unexpected EOF");
  split_reader_next (r);
}

static void
split_reader_next (SplitReader *r)
{
  if (r->got == SPLIT_SIZE || r->error != NULL)
    return;
  if (r->use_read_async)
    {
      r->calls++;
      g_input_stream_read_async (G_INPUT_STREAM (r->in), r->buf + r->got, SPLIT_SIZE - r->got,
                                 G_PRIORITY_DEFAULT, NULL, split_reader_async_cb, r);
    }
  else
    {
      g_autoptr(GSource) source = g_pollable_input_stream_create_source (r->in, NULL);

      g_source_set_callback (source, (GSourceFunc) (void (*) (void)) split_reader_pollable_cb, r, NULL);
      g_source_attach (source, r->context);
    }
}

static void
test_split_record (Fixture       *f,
                   gconstpointer  data)
{
  gboolean use_read_async = GPOINTER_TO_INT (data);
  g_autoptr(GBytes) payload = test_make_random_bytes (SPLIT_SIZE, 31);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSource) gap = NULL;
  SplitReader *r = g_new0 (SplitReader, 1);
  TestTlsPair pair = { 0 };
  TestProxy *proxy;
  gboolean gap_over = FALSE;
  guint iterations = 0, calls_before;
  char buf[5] = { 0 };

  /* The fixture's connection is not used: this one goes through a proxy. */
  proxy = test_proxy_new (&pair.client_conn, &pair.server_conn);
  pair.client = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (pair.client_conn), "localhost", &error);
  g_assert_no_error (error);
  pair.server = gsecsock_secure_socket_new (f->env.server_ctx, G_IO_STREAM (pair.server_conn), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (test_tls_pair_handshake_async (&pair));
  /* A round trip: whatever the server sent after its handshake (TLS 1.3
   * tickets) has gone through the proxy before the split. */
  test_write_all (G_IO_STREAM (pair.client), "ping", 4);
  test_read_exact (G_IO_STREAM (pair.server), buf, 4);
  test_write_all (G_IO_STREAM (pair.server), "pong", 4);
  test_read_exact (G_IO_STREAM (pair.client), buf, 4);
  g_assert_cmpstr (buf, ==, "pong");

  r->in = G_POLLABLE_INPUT_STREAM (in_of (G_IO_STREAM (pair.client)));
  r->context = f->env.context;
  r->use_read_async = use_read_async;
  split_reader_next (r);

  test_proxy_split_next (proxy, f->env.context);
  test_write_all (G_IO_STREAM (pair.server), g_bytes_get_data (payload, NULL), SPLIT_SIZE);
  test_wait_until (f->env.context, test_proxy_half_sent (proxy));

  /* The gap: half a record is there (or on its way), the rest is held. */
  calls_before = r->calls;
  gap = g_timeout_source_new (SPLIT_GAP_MS);
  g_source_set_callback (gap, set_flag_cb, &gap_over, NULL);
  g_source_attach (gap, f->env.context);
  while (!gap_over)
    {
      g_main_context_iteration (f->env.context, TRUE);
      iterations++;
    }
  g_test_message ("during the %d ms gap: %u main loop iterations, %u reads",
                  SPLIT_GAP_MS, iterations, r->calls - calls_before);
  g_assert_no_error (r->error);
  g_assert_cmpuint (r->got, ==, 0);
  g_assert_cmpuint (iterations, <, SPLIT_MAX_WAKEUPS);
  g_assert_cmpuint (r->calls - calls_before, <, SPLIT_MAX_WAKEUPS);

  test_proxy_release (proxy);
  test_wait_until (f->env.context, r->got == SPLIT_SIZE || r->error != NULL);
  g_assert_no_error (r->error);
  g_assert_cmpmem (r->buf, r->got, g_bytes_get_data (payload, NULL), SPLIT_SIZE);

  test_tls_pair_clear (&pair);
  test_proxy_free (proxy);
  g_free (r);
}

/* Partial writes. After WOULD_BLOCK the record made of the caller's first
 * bytes is encrypted and waiting: the caller must write the same bytes
 * again. Fills the transport (the peer does not read) until WOULD_BLOCK;
 * appends to @expected what was reported written. */
static void
fill_until_would_block (GPollableOutputStream *out,
                        GBytes                *chunk,
                        GByteArray            *expected)
{
  g_autoptr(GError) error = NULL;
  gsize len = g_bytes_get_size (chunk);

  for (;;)
    {
      gssize n = g_pollable_output_stream_write_nonblocking (out, g_bytes_get_data (chunk, NULL), len, NULL, &error);

      if (n < 0)
        break;
      g_assert_cmpint (n, >, 0);
      g_byte_array_append (expected, g_bytes_get_data (chunk, NULL), n);
      g_assert_cmpuint (expected->len, <, 256 * 1024 * 1024);
    }
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
}

/* A round trip first: the client has read everything the server sent
 * after the handshake (TLS 1.3 tickets), so that closing the client's TCP
 * connection later is a FIN, not a reset for unread data. */
static void
round_trip (Fixture *f)
{
  char buf[5] = { 0 };

  test_write_all (f->client, "ping", 4);
  test_read_exact (f->server, buf, 4);
  test_write_all (f->server, "pong", 4);
  test_read_exact (f->client, buf, 4);
  g_assert_cmpstr (buf, ==, "pong");
}

/* Reads asynchronously until EOF. */
typedef struct {
  GInputStream *in;
  GByteArray *data;
  guint8 buf[65536];
  gboolean done;
  GError *error;
} EofReader;

static void
eof_reader_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  EofReader *r = user_data;
  gssize n = g_input_stream_read_finish (r->in, result, &r->error);

  if (n <= 0)
    {
      r->done = TRUE;
      return;
    }
  g_byte_array_append (r->data, r->buf, n);
  g_input_stream_read_async (r->in, r->buf, sizeof r->buf, G_PRIORITY_DEFAULT, NULL, eof_reader_cb, r);
}

static void
test_write_retry_other_data (Fixture       *f,
                             gconstpointer  data)
{
  GPollableOutputStream *out = G_POLLABLE_OUTPUT_STREAM (out_of (f->client));
  g_autoptr(GBytes) a = test_make_random_bytes (65536, 41);
  g_autoptr(GBytes) b = test_make_random_bytes (65536, 42);
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  EofReader *reader = g_new0 (EofReader, 1);
  TestOp closed = { 0 };
  gsize written = 0;
  gssize n;

  g_assert_true (memcmp (g_bytes_get_data (a, NULL), g_bytes_get_data (b, NULL), 16) != 0);
  round_trip (f);
  fill_until_would_block (out, a, expected);

  /* Other data now would be sent as... the waiting record's: refused. */
  n = g_pollable_output_stream_write_nonblocking (out, g_bytes_get_data (b, NULL), 65536, NULL, &error);
  g_assert_cmpint (n, ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (g_io_stream_is_closed (f->client));

  /* The peer reads; the same data again goes through. */
  reader->in = in_of (f->server);
  reader->data = g_byte_array_new ();
  g_input_stream_read_async (reader->in, reader->buf, sizeof reader->buf, G_PRIORITY_DEFAULT, NULL,
                             eof_reader_cb, reader);
  for (;;)
    {
      g_autoptr(GSource) source = NULL;
      gboolean writable = FALSE;

      n = g_pollable_output_stream_write_nonblocking (out, g_bytes_get_data (a, NULL), 65536, NULL, &error);
      if (n > 0)
        break;
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      g_clear_error (&error);
      source = g_pollable_output_stream_create_source (out, NULL);
      g_source_set_callback (source, (GSourceFunc) (void (*) (void)) set_writable_cb, &writable, NULL);
      g_source_attach (source, f->env.context);
      test_wait_until (f->env.context, writable || reader->done);
      g_source_destroy (source);
      g_assert_false (reader->done);
    }
  g_byte_array_append (expected, g_bytes_get_data (a, NULL), n);

  /* More after it, and a clean close: the peer gets exactly what was
   * reported written, in order, then EOF. */
  g_output_stream_write_all_async (G_OUTPUT_STREAM (out), g_bytes_get_data (b, NULL), 65536,
                                   G_PRIORITY_DEFAULT, NULL, test_store_result_cb, &result);
  test_wait_for_result (&result);
  g_assert_true (g_output_stream_write_all_finish (G_OUTPUT_STREAM (out), result, &written, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (written, ==, 65536);
  g_byte_array_append (expected, g_bytes_get_data (b, NULL), written);

  g_io_stream_close_async (f->client, G_PRIORITY_DEFAULT, NULL, test_close_cb, &closed);
  test_wait_until (f->env.context, closed.done && reader->done);
  g_assert_no_error (closed.error);
  g_assert_true (closed.ok);
  g_assert_no_error (reader->error);
  g_assert_cmpmem (reader->data->data, reader->data->len, expected->data, expected->len);
  g_byte_array_unref (reader->data);
  g_free (reader);
}

static gboolean
read_to_eof_func (gpointer       user_data,
                  GCancellable  *cancellable,
                  GError       **error)
{
  EofReader *r = user_data;

  for (;;)
    {
      gssize n = g_input_stream_read (r->in, r->buf, sizeof r->buf, cancellable, error);

      if (n < 0)
        return FALSE;
      if (n == 0)
        return TRUE;
      g_byte_array_append (r->data, r->buf, n);
    }
}

static void
test_write_retry_close_flushes (Fixture       *f,
                                gconstpointer  data)
{
  GPollableOutputStream *out = G_POLLABLE_OUTPUT_STREAM (out_of (f->client));
  g_autoptr(GBytes) a = test_make_random_bytes (65536, 43);
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) reader_error = NULL;
  EofReader *reader = g_new0 (EofReader, 1);
  TestThreadOp *op;
  gboolean reader_ok = FALSE;

  round_trip (f);
  fill_until_would_block (out, a, expected);

  /* Closing sends the waiting record (its bytes were reported as not
   * written, but they are in it: dropping it would be worse), then
   * close_notify. */
  reader->in = in_of (f->server);
  reader->data = g_byte_array_new ();
  op = test_thread_op_start ("server-reader", read_to_eof_func, reader);
  {
    g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("closing with a record waiting");

    g_assert_true (g_io_stream_close (f->client, NULL, &error));
    g_assert_no_error (error);
  }
  g_assert_true (test_thread_op_join (op, TEST_GUARD_TIMEOUT_SECONDS, &reader_ok, &reader_error));
  g_assert_no_error (reader_error);
  g_assert_true (reader_ok);
  g_test_message ("reported written: %u, received: %u", expected->len, reader->data->len);
  g_assert_cmpuint (reader->data->len, >=, expected->len);
  g_assert_cmpmem (reader->data->data, expected->len, expected->data, expected->len);
  /* What follows is the start of the refused write (the waiting record). */
  g_assert_cmpuint (reader->data->len - expected->len, <=, 16384);
  g_assert_cmpmem (reader->data->data + expected->len, reader->data->len - expected->len,
                   g_bytes_get_data (a, NULL), reader->data->len - expected->len);
  g_byte_array_unref (reader->data);
  g_free (reader);
}

/* Truncation: the peer closes the TCP connection without close_notify. */
static void
test_truncation_error (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  char buf[16];

  g_assert_true (gsecsock_secure_socket_get_require_close_notify (f->pair.client));
  test_write_all (f->server, "partial", 7);
  g_assert_true (g_io_stream_close (G_IO_STREAM (f->pair.server_conn), NULL, &error));
  g_assert_no_error (error);

  test_read_exact (f->client, buf, 7);
  g_assert_cmpmem (buf, 7, "partial", 7);
  g_assert_cmpint (g_input_stream_read (in_of (f->client), buf, sizeof buf, NULL, &error), ==, -1);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_EOF);
  g_test_message ("truncation: %s", error->message);
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  TestOp *op = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &op->error);

  g_assert_false (op->done);
  op->ok = n >= 0;
  /* Smuggle the count through: tests here only need 0 vs. not 0. */
  if (n > 0)
    g_set_error (&op->error, G_IO_ERROR, G_IO_ERROR_FAILED, "read %" G_GSSIZE_FORMAT " bytes, expected EOF", n);
  op->done = TRUE;
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_truncation_allowed (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  TestOp op = { 0 };
  char buf[16];
  gboolean require = TRUE;
  guint notified = 0;

  g_signal_connect (f->pair.client, "notify::require-close-notify", G_CALLBACK (count_notify_cb), &notified);
  gsecsock_secure_socket_set_require_close_notify (f->pair.client, FALSE);
  gsecsock_secure_socket_set_require_close_notify (f->pair.client, FALSE);
  g_assert_cmpuint (notified, ==, 1);
  g_object_get (f->pair.client, "require-close-notify", &require, NULL);
  g_assert_false (require);

  test_write_all (f->server, "partial", 7);
  g_assert_true (g_io_stream_close (G_IO_STREAM (f->pair.server_conn), NULL, &error));
  g_assert_no_error (error);

  test_read_exact (f->client, buf, 7);
  /* Asynchronously this time. */
  g_input_stream_read_async (in_of (f->client), buf, sizeof buf, G_PRIORITY_DEFAULT, NULL, read_cb, &op);
  test_wait_until (f->env.context, op.done);
  g_assert_no_error (op.error);
  g_assert_true (op.ok);
}

/* Cancellation of reads. */
static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel_read_async (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TestOp op = { 0 };
  char buf[16] = { 0 };

  g_input_stream_read_async (in_of (f->client), buf, sizeof buf, G_PRIORITY_DEFAULT, cancellable, read_cb, &op);
  /* Cancelled from the main loop, once the read is under way. */
  {
    GSource *idle = g_idle_source_new ();

    g_source_set_callback (idle, cancel_cb, cancellable, NULL);
    g_source_attach (idle, f->env.context);
    g_source_unref (idle);
  }
  test_wait_until (f->env.context, op.done);
  g_assert_error (op.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* Nothing was lost: the socket still works afterwards. */
  test_write_all (f->server, "after", 5);
  test_read_exact (f->client, buf, 5);
  g_assert_cmpmem (buf, 5, "after", 5);
  test_op_clear (&op);
  /* And the cancelled callback does not come back. */
  test_run_context_for (f->env.context, 50);
}

typedef struct {
  GIOStream *stream;
  GCancellable *cancellable;
  GMutex mutex;
  GCond cond;
  gboolean started;
  gssize n;
  GError *error;
} BlockedRead;

static gpointer
blocked_read_thread (gpointer data)
{
  BlockedRead *b = data;
  char buf[16];

  g_mutex_lock (&b->mutex);
  b->started = TRUE;
  g_cond_signal (&b->cond);
  g_mutex_unlock (&b->mutex);
  b->n = g_input_stream_read (in_of (b->stream), buf, sizeof buf, b->cancellable, &b->error);
  return NULL;
}

static void
test_cancel_read_sync (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("cancelled blocking read");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  BlockedRead b = { f->client, cancellable };
  GThread *thread;

  g_mutex_init (&b.mutex);
  g_cond_init (&b.cond);
  thread = g_thread_new ("blocked-reader", blocked_read_thread, &b);
  g_mutex_lock (&b.mutex);
  while (!b.started)
    g_cond_wait (&b.cond, &b.mutex);
  g_mutex_unlock (&b.mutex);
  /* Whether the read is already blocked or about to be, it must end. */
  g_cancellable_cancel (cancellable);
  g_thread_join (thread);
  g_assert_cmpint (b.n, ==, -1);
  g_assert_error (b.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&b.error);
  g_mutex_clear (&b.mutex);
  g_cond_clear (&b.cond);
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
#define ADD_TLS12(path, func) \
  g_test_add (path, Fixture, GUINT_TO_POINTER (GSECSOCK_PROTOCOL_VERSION_TLS_1_2), fixture_setup, func, fixture_teardown)

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

  ADD ("/io/echo/sync-16MiB", test_echo_sync);
  ADD ("/io/echo/async-16MiB", test_echo_async);
  ADD_TLS12 ("/io/echo/async-16MiB-tls12", test_echo_async);
  ADD ("/io/full-duplex/threads", test_full_duplex);
  ADD ("/io/pollable/input", test_pollable_input);
  ADD ("/io/pollable/output", test_pollable_output);
  ADD ("/io/pollable/output-full", test_pollable_output_full);
  ADD ("/io/splice", test_splice);
  ADD ("/io/data-input-stream", test_data_input_stream);
  ADD ("/io/small-reads", test_small_reads);
  ADD ("/io/close/clean-eof", test_close_clean_eof);
  ADD_TLS12 ("/io/close/clean-eof-tls12", test_close_clean_eof);
  ADD ("/io/close/async", test_close_async);
  ADD ("/io/close/then-use", test_close_then_use);
  ADD ("/io/close/on-unref", test_close_on_unref);
  ADD ("/io/write-after-peer-reset", test_write_after_peer_reset);
  g_test_add ("/io/pollable/split-record-no-spin", Fixture, GINT_TO_POINTER (FALSE),
              fixture_setup_plain, test_split_record, fixture_teardown);
  g_test_add ("/io/read-async/split-record-no-spin", Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup_plain, test_split_record, fixture_teardown);
  ADD ("/io/write-retry/other-data-refused", test_write_retry_other_data);
  ADD_TLS12 ("/io/write-retry/other-data-refused-tls12", test_write_retry_other_data);
  ADD ("/io/write-retry/close-flushes", test_write_retry_close_flushes);
  ADD_TLS12 ("/io/write-retry/close-flushes-tls12", test_write_retry_close_flushes);
  ADD ("/io/truncation/error", test_truncation_error);
  ADD_TLS12 ("/io/truncation/error-tls12", test_truncation_error);
  ADD ("/io/truncation/allowed", test_truncation_allowed);
  ADD ("/io/cancel/read-async", test_cancel_read_async);
  ADD ("/io/cancel/read-sync", test_cancel_read_sync);

  return g_test_run ();
}
