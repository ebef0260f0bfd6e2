/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Load and endurance: N concurrent clients each echo M bytes of random data
 * through a GSecSockSecureServer, everything on one GMainContext, with
 * SHA-256 checked on both ends; and a soak mode that keeps clients
 * reconnecting for a while and watches that the process's memory (RSS) and
 * open file descriptors stay flat.
 *
 *   test-load [--clients N] [--bytes M] [--soak SECONDS] [GTest options]
 *
 * Defaults (CI size): 200 clients, 256 KiB each; GSECSOCK_LOAD_CLIENTS and
 * GSECSOCK_LOAD_BYTES override them (to scale down under sanitizers).
 * Full size: --clients 1000 --bytes 1048576. See docs/testing.md.
 *
 * The protocol: the client sends an 8-byte big-endian length L, L bytes,
 * then the SHA-256 of those bytes. The server echoes the L bytes, checks
 * the digest against its own, sends its own digest and closes. The client
 * checks that it got exactly L bytes back with the same digest, and that
 * the server's digest is the one it sent. */
#include "test-utils.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#define CHUNK (16 * 1024)
#define DIGEST_LEN 32
#define HEADER_LEN 8

/* Soak: sampled every SAMPLE_SECONDS; after the warm-up, RSS may exceed its
 * warm-up value by RSS_TOLERANCE_FIXED + RSS_TOLERANCE_PERCENT %, and open
 * file descriptors their warm-up maximum by FD_TOLERANCE; once every client
 * is gone, the descriptors are back to what they were before the first. */
#define SAMPLE_SECONDS 2
#define RSS_TOLERANCE_FIXED (16 * 1024 * 1024)
#define RSS_TOLERANCE_PERCENT 10
#define FD_TOLERANCE 16
#define SOAK_CLIENTS 50
#define SOAK_BYTES (64 * 1024)
#define LOAD_HANDSHAKE_TIMEOUT 300

static guint opt_clients = 200;
static guint64 opt_bytes = 256 * 1024;
static guint opt_soak_seconds = 0;

typedef struct {
  GMainContext *context;
  GSecSockSecureSocketContext *client_ctx;
  GSecSockSecureServer *server;
  guint16 port;
  GSocketClient *socket_client;
  GSocketAddress *address;    /* the server's */
  guint64 bytes;              /* per client */
  guint next_id;
  gboolean launching;         /* soak: start a new client when one ends */
  guint running;              /* clients in flight */
  guint clients_ok;
  guint clients_failed;
  guint servers_ok;           /* server connections that checked out */
  guint servers_failed;
  guint handshakes_failed;    /* on the server */
  guint64 bytes_echoed;       /* by the server, in total */
  GPtrArray *errors;          /* the first few messages */
} Load;

static void
load_error (Load       *load,
            const char *format,
            ...) G_GNUC_PRINTF (2, 3);

static void
load_error (Load       *load,
            const char *format,
            ...)
{
  va_list args;
  char *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (load->errors->len < 20)
    g_ptr_array_add (load->errors, message);
  else
    g_free (message);
}

/* Per-client pseudo-random data: xorshift64*, cheap and reproducible. */
static void
fill_random (guint64 *state,
             guint8  *buffer,
             gsize    len)
{
  for (gsize i = 0; i < len; i += 8)
    {
      guint64 x = *state;

      x ^= x >> 12;
      x ^= x << 25;
      x ^= x >> 27;
      *state = x;
      x *= G_GUINT64_CONSTANT (2685821657736338717);
      memcpy (buffer + i, &x, MIN (8, len - i));
    }
}

static void
checksum_digest (GChecksum *checksum,
                 guint8     digest[DIGEST_LEN])
{
  gsize len = DIGEST_LEN;

  g_checksum_get_digest (checksum, digest, &len);
  g_assert_cmpuint (len, ==, DIGEST_LEN);
}

/* ---- The echo server ---------------------------------------------------- */

typedef enum { AT_HEADER, AT_DATA, AT_TRAILER, AT_END } Stage;

typedef struct {
  Load *load;
  GSecSockSecureSocket *sock;
  Stage stage;
  guint8 header[HEADER_LEN];
  guint8 trailer[DIGEST_LEN];
  gsize got;                  /* of the current stage */
  guint64 length;             /* L */
  GChecksum *checksum;
  guint8 buffer[CHUNK];
  guint8 digest[DIGEST_LEN];
} ServerConn;

static void server_read (ServerConn *c);

static void
server_conn_free (ServerConn *c)
{
  g_checksum_free (c->checksum);
  g_object_unref (c->sock);
  g_free (c);
}

static void
server_fail (ServerConn   *c,
             const char   *what,
             const GError *error)
{
  c->load->servers_failed++;
  load_error (c->load, "server: %s: %s", what, error ? error->message : "(no error)");
  g_io_stream_close_async (G_IO_STREAM (c->sock), G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  server_conn_free (c);
}

static void
server_closed_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ServerConn *c = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_io_stream_close_finish (G_IO_STREAM (source), result, &error))
    {
      server_fail (c, "close", error);
      return;
    }
  c->load->servers_ok++;
  server_conn_free (c);
}

static void
server_digest_sent_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  ServerConn *c = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      server_fail (c, "sending the digest", error);
      return;
    }
  g_io_stream_close_async (G_IO_STREAM (c->sock), G_PRIORITY_DEFAULT, NULL, server_closed_cb, c);
}

/* After the echo of what was read: on to the next read, or the end. */
static void
server_next (ServerConn *c)
{
  if (c->stage != AT_END)
    {
      server_read (c);
      return;
    }
  checksum_digest (c->checksum, c->digest);
  if (memcmp (c->digest, c->trailer, DIGEST_LEN) != 0)
    {
      server_fail (c, "the data received does not match the client's SHA-256", NULL);
      return;
    }
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (c->sock)),
                                   c->digest, DIGEST_LEN, G_PRIORITY_DEFAULT, NULL,
                                   server_digest_sent_cb, c);
}

static void
server_echoed_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ServerConn *c = user_data;
  g_autoptr(GError) error = NULL;
  gsize written = 0;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, &written, &error))
    {
      server_fail (c, "echoing", error);
      return;
    }
  c->load->bytes_echoed += written;
  server_next (c);
}

static void
server_read_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  ServerConn *c = user_data;
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  gsize pos = 0, echo_start = 0, echo_len = 0;

  if (n < 0)
    {
      server_fail (c, "reading", error);
      return;
    }
  if (n == 0)
    {
      server_fail (c, "the client ended before its trailer", NULL);
      return;
    }

  while (pos < (gsize) n)
    {
      gsize take;

      switch (c->stage)
        {
        case AT_HEADER:
          take = MIN ((gsize) n - pos, HEADER_LEN - c->got);
          memcpy (c->header + c->got, c->buffer + pos, take);
          c->got += take;
          if (c->got == HEADER_LEN)
            {
              c->length = GUINT64_FROM_BE (*(guint64 *) c->header);
              c->stage = c->length > 0 ? AT_DATA : AT_TRAILER;
              c->got = 0;
            }
          break;
        case AT_DATA:
          take = MIN ((guint64) n - pos, c->length - c->got);
          echo_start = pos;
          echo_len = take;
          g_checksum_update (c->checksum, c->buffer + pos, take);
          c->got += take;
          if (c->got == c->length)
            {
              c->stage = AT_TRAILER;
              c->got = 0;
            }
          break;
        case AT_TRAILER:
          take = MIN ((gsize) n - pos, DIGEST_LEN - c->got);
          memcpy (c->trailer + c->got, c->buffer + pos, take);
          c->got += take;
          if (c->got == DIGEST_LEN)
            c->stage = AT_END;
          break;
        case AT_END:
        default:
          server_fail (c, "bytes after the trailer", NULL);
          return;
        }
      pos += take;
    }

  if (echo_len > 0)
    g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (c->sock)),
                                     c->buffer + echo_start, echo_len, G_PRIORITY_DEFAULT, NULL,
                                     server_echoed_cb, c);
  else
    server_next (c);
}

static void
server_read (ServerConn *c)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (c->sock)), c->buffer, sizeof c->buffer,
                             G_PRIORITY_DEFAULT, NULL, server_read_cb, c);
}

static void
on_incoming (GSecSockSecureServer *server,
             GSecSockSecureSocket *sock,
             gpointer              user_data)
{
  ServerConn *c = g_new0 (ServerConn, 1);

  c->load = user_data;
  c->sock = g_object_ref (sock);
  c->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  server_read (c);
}

static void
on_handshake_failed (GSecSockSecureServer *server,
                     GSecSockSecureSocket *sock,
                     GError               *error,
                     gpointer              user_data)
{
  Load *load = user_data;

  load->handshakes_failed++;
  load_error (load, "server handshake: %s", error->message);
}

/* ---- The clients ------------------------------------------------------ */

typedef struct {
  Load *load;
  guint id;
  GSecSockSecureSocket *sock;
  guint64 random_state;
  guint64 sent;               /* data bytes written */
  guint64 received;           /* data bytes read back */
  GChecksum *sent_checksum;
  GChecksum *received_checksum;
  guint8 sent_digest[DIGEST_LEN];
  guint8 server_digest[DIGEST_LEN];
  gsize server_digest_got;
  gboolean digest_queued;
  gboolean writer_done;       /* everything written, or a write failed */
  gboolean reader_done;       /* the server's clean end of stream */
  gboolean failed;
  guint8 out[CHUNK];
  guint8 in[CHUNK];
} ClientConn;

static void client_start (Load *load);
static void client_write_next (ClientConn *c);

static void
client_finish (ClientConn *c)
{
  Load *load = c->load;

  if (c->failed)
    load->clients_failed++;
  else
    load->clients_ok++;
  g_checksum_free (c->sent_checksum);
  g_checksum_free (c->received_checksum);
  g_clear_object (&c->sock);
  g_free (c);
  load->running--;
  g_main_context_wakeup (load->context);
  if (load->launching)
    client_start (load);
}

static void
client_closed_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ClientConn *c = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_io_stream_close_finish (G_IO_STREAM (source), result, &error) && !c->failed)
    {
      c->failed = TRUE;
      load_error (c->load, "client %u: close: %s", c->id, error->message);
    }
  client_finish (c);
}

/* Both directions are done (or one failed): check and close. A failure
 * waits for the other direction, so nothing is freed under it. */
static void
client_maybe_done (ClientConn *c)
{
  guint8 received_digest[DIGEST_LEN];

  if (!c->writer_done || !c->reader_done)
    return;
  if (!c->failed)
    {
      checksum_digest (c->received_checksum, received_digest);
      if (c->received != c->load->bytes)
        load_error (c->load, "client %u: %" G_GUINT64_FORMAT " bytes echoed of %" G_GUINT64_FORMAT,
                    c->id, c->received, c->load->bytes), c->failed = TRUE;
      else if (memcmp (received_digest, c->sent_digest, DIGEST_LEN) != 0)
        load_error (c->load, "client %u: the echo's SHA-256 differs from the data's", c->id), c->failed = TRUE;
      else if (c->server_digest_got != DIGEST_LEN || memcmp (c->server_digest, c->sent_digest, DIGEST_LEN) != 0)
        load_error (c->load, "client %u: the server's SHA-256 differs from the data's", c->id), c->failed = TRUE;
    }
  if (c->sock == NULL)
    {
      client_finish (c);
      return;
    }
  g_io_stream_close_async (G_IO_STREAM (c->sock), G_PRIORITY_DEFAULT, NULL, client_closed_cb, c);
}

static void
client_read_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  ClientConn *c = user_data;
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  gsize pos = 0;

  if (n <= 0)
    {
      if (n < 0)
        {
          c->failed = TRUE;
          load_error (c->load, "client %u: read: %s", c->id, error->message);
        }
      c->reader_done = TRUE;
      client_maybe_done (c);
      return;
    }
  if (c->received < c->load->bytes)
    {
      gsize take = MIN ((guint64) n, c->load->bytes - c->received);

      g_checksum_update (c->received_checksum, c->in, take);
      c->received += take;
      pos = take;
    }
  if (pos < (gsize) n)
    {
      gsize take = MIN ((gsize) n - pos, DIGEST_LEN - c->server_digest_got);

      memcpy (c->server_digest + c->server_digest_got, c->in + pos, take);
      c->server_digest_got += take;
      pos += take;
    }
  if (pos < (gsize) n)
    {
      /* More than was sent: duplicated data. */
      c->failed = TRUE;
      load_error (c->load, "client %u: %" G_GSSIZE_FORMAT " bytes more than were sent", c->id, n - (gssize) pos);
    }
  g_input_stream_read_async (G_INPUT_STREAM (source), c->in, sizeof c->in, G_PRIORITY_DEFAULT, NULL,
                             client_read_cb, c);
}

static void
client_written_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ClientConn *c = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      c->failed = TRUE;
      c->writer_done = TRUE;
      load_error (c->load, "client %u: write: %s", c->id, error->message);
      client_maybe_done (c);
      return;
    }
  client_write_next (c);
}

/* The header, the data a chunk at a time, then the digest. */
static void
client_write_next (ClientConn *c)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (c->sock));
  guint64 left = c->load->bytes - c->sent;

  if (left > 0)
    {
      gsize len = MIN (left, CHUNK);

      fill_random (&c->random_state, c->out, len);
      g_checksum_update (c->sent_checksum, c->out, len);
      c->sent += len;
      g_output_stream_write_all_async (out, c->out, len, G_PRIORITY_DEFAULT, NULL, client_written_cb, c);
    }
  else if (!c->digest_queued)
    {
      c->digest_queued = TRUE;
      checksum_digest (c->sent_checksum, c->sent_digest);
      g_output_stream_write_all_async (out, c->sent_digest, DIGEST_LEN, G_PRIORITY_DEFAULT, NULL,
                                       client_written_cb, c);
    }
  else
    {
      c->writer_done = TRUE;
      client_maybe_done (c);
    }
}

static void
client_handshake_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  ClientConn *c = user_data;
  g_autoptr(GError) error = NULL;
  guint64 header;

  if (!gsecsock_secure_socket_handshake_finish (c->sock, result, &error))
    {
      c->failed = TRUE;
      load_error (c->load, "client %u: handshake: %s", c->id, error->message);
      c->writer_done = c->reader_done = TRUE;
      client_maybe_done (c);
      return;
    }
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (c->sock)), c->in, sizeof c->in,
                             G_PRIORITY_DEFAULT, NULL, client_read_cb, c);
  header = GUINT64_TO_BE (c->load->bytes);
  memcpy (c->out, &header, HEADER_LEN);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (c->sock)), c->out, HEADER_LEN,
                                   G_PRIORITY_DEFAULT, NULL, client_written_cb, c);
}

static void
client_connected_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  ClientConn *c = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection = NULL;

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  if (connection != NULL)
    c->sock = gsecsock_secure_socket_new (c->load->client_ctx, G_IO_STREAM (connection), "127.0.0.1", &error);
  if (c->sock == NULL)
    {
      c->failed = TRUE;
      load_error (c->load, "client %u: connect: %s", c->id, error->message);
      c->writer_done = c->reader_done = TRUE;
      client_maybe_done (c);
      return;
    }
  /* Every handshake of the burst shares one thread with the server's: the
   * last ones take long, and this measures losses, not latency. */
  gsecsock_secure_socket_set_handshake_timeout (c->sock, LOAD_HANDSHAKE_TIMEOUT);
  gsecsock_secure_socket_handshake_async (c->sock, G_PRIORITY_DEFAULT, NULL, client_handshake_cb, c);
}

static void
client_start (Load *load)
{
  ClientConn *c = g_new0 (ClientConn, 1);

  c->load = load;
  c->id = load->next_id++;
  c->random_state = G_GUINT64_CONSTANT (0x9E3779B97F4A7C15) * (c->id + 1);
  c->sent_checksum = g_checksum_new (G_CHECKSUM_SHA256);
  c->received_checksum = g_checksum_new (G_CHECKSUM_SHA256);
  load->running++;
  g_socket_client_connect_async (load->socket_client, G_SOCKET_CONNECTABLE (load->address), NULL,
                                 client_connected_cb, c);
}

/* ---- Set-up and measurements -------------------------------------------- */

static void
raise_fd_limit (void)
{
  struct rlimit limit;

  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &limit), ==, 0);
  if (limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &limit), ==, 0);
    }
  g_test_message ("file descriptor limit: %lu", (unsigned long) limit.rlim_cur);
}

static guint64
rss_bytes (void)
{
  g_autofree char *statm = NULL;
  unsigned long size = 0, resident = 0;

  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL));
  g_assert_cmpint (sscanf (statm, "%lu %lu", &size, &resident), ==, 2);
  return (guint64) resident * sysconf (_SC_PAGESIZE);
}

static guint
count_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n - 1;   /* the directory's own */
}

static void
load_setup (Load    *load,
            guint64  bytes,
            guint    max_handshakes)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx = test_make_server_context ("server-chain.pem", "server.key");
  g_autoptr(GError) error = NULL;

  memset (load, 0, sizeof *load);
  load->context = g_main_context_ref_thread_default ();
  load->bytes = bytes;
  load->errors = g_ptr_array_new_with_free_func (g_free);
  load->client_ctx = test_make_client_context ();
  load->server = gsecsock_secure_server_new (server_ctx, &error);
  g_assert_no_error (error);
  gsecsock_secure_server_set_max_handshakes (load->server, max_handshakes);
  /* Hundreds of handshakes on one thread take a while: none may time out. */
  gsecsock_secure_server_set_handshake_timeout (load->server, LOAD_HANDSHAKE_TIMEOUT);
  g_signal_connect (load->server, "incoming", G_CALLBACK (on_incoming), load);
  g_signal_connect (load->server, "handshake-failed", G_CALLBACK (on_handshake_failed), load);
  load->port = gsecsock_secure_server_listen (load->server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  {
    g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

    load->address = g_inet_socket_address_new (loopback, load->port);
  }
  load->socket_client = g_socket_client_new ();
}

static void
load_teardown (Load *load)
{
  for (guint i = 0; i < load->errors->len; i++)
    g_printerr ("test-load: %s\n", (char *) g_ptr_array_index (load->errors, i));
  gsecsock_secure_server_stop (load->server);
  g_clear_object (&load->server);
  g_clear_object (&load->client_ctx);
  g_clear_object (&load->socket_client);
  g_clear_object (&load->address);
  g_ptr_array_unref (load->errors);
  /* Let the server's closing sources run out. */
  while (g_main_context_iteration (load->context, FALSE))
    ;
  g_main_context_unref (load->context);
}

/* Until every client has ended and the server has ended its side of each
 * connection that reached it. */
static void
wait_all_done (Load *load)
{
  TestGuard *guard;

  while (load->running > 0)
    g_main_context_iteration (load->context, TRUE);
  guard = test_guard_new (load->context);
  while (load->servers_ok + load->servers_failed < load->clients_ok && !test_guard_expired (guard))
    g_main_context_iteration (load->context, TRUE);
  test_guard_free (guard);
}

static void
assert_no_failure (Load *load)
{
  for (guint i = 0; i < load->errors->len; i++)
    g_printerr ("test-load: %s\n", (char *) g_ptr_array_index (load->errors, i));
  g_ptr_array_set_size (load->errors, 0);
  g_assert_cmpuint (load->clients_failed, ==, 0);
  g_assert_cmpuint (load->servers_failed, ==, 0);
  g_assert_cmpuint (load->handshakes_failed, ==, 0);
  g_assert_cmpuint (load->servers_ok, ==, load->clients_ok);
  g_assert_cmpuint (load->bytes_echoed, ==, (guint64) load->clients_ok * load->bytes);
}

static void
test_echo (void)
{
  Load load;
  gint64 start;
  double seconds;

  raise_fd_limit ();
  load_setup (&load, opt_bytes, opt_clients);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < opt_clients; i++)
    client_start (&load);
  wait_all_done (&load);
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;

  g_test_message ("%u clients x %" G_GUINT64_FORMAT " bytes: %u ok, %u failed, in %.2f s "
                  "(%.1f MiB/s echoed, each way)", opt_clients, opt_bytes, load.clients_ok,
                  load.clients_failed, seconds, load.bytes_echoed / seconds / (1024 * 1024));
  g_print ("# load: %u clients x %" G_GUINT64_FORMAT " bytes: %u ok, %u failed, %" G_GUINT64_FORMAT
           " bytes echoed in %.2f s; peak RSS now %.1f MiB\n", opt_clients, opt_bytes, load.clients_ok,
           load.clients_failed, load.bytes_echoed, seconds, rss_bytes () / (1024.0 * 1024.0));
  assert_no_failure (&load);
  g_assert_cmpuint (load.clients_ok, ==, opt_clients);
  load_teardown (&load);
}

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_soak (void)
{
  Load load;
  gint64 start, end, warm_up_end;
  guint64 rss_baseline = 0, rss_max = 0, rss_limit = 0;
  guint fds_before, fds_warm_max = 0, fds_max = 0, fds_after;
  guint warm_up_seconds = MAX (4, opt_soak_seconds / 5);

  raise_fd_limit ();
  load_setup (&load, SOAK_BYTES, SOAK_CLIENTS);
  fds_before = count_fds ();
  start = g_get_monotonic_time ();
  end = start + (gint64) opt_soak_seconds * G_USEC_PER_SEC;
  warm_up_end = start + (gint64) warm_up_seconds * G_USEC_PER_SEC;
  load.launching = TRUE;
  for (guint i = 0; i < SOAK_CLIENTS; i++)
    client_start (&load);

  g_print ("# soak: %u clients reconnecting, %u bytes each, for %u s (warm-up %u s); "
           "fds before: %u\n", SOAK_CLIENTS, SOAK_BYTES, opt_soak_seconds, warm_up_seconds, fds_before);
  while (g_get_monotonic_time () < end)
    {
      gboolean sample = FALSE;
      GSource *timer = g_timeout_source_new_seconds (SAMPLE_SECONDS);
      guint64 rss;
      guint fds;

      g_source_set_callback (timer, set_flag_cb, &sample, NULL);
      g_source_attach (timer, load.context);
      while (!sample)
        g_main_context_iteration (load.context, TRUE);
      g_source_destroy (timer);
      g_source_unref (timer);

      rss = rss_bytes ();
      fds = count_fds ();
      g_print ("# soak: t=%5.1f s  connections done %6u  failed %u  RSS %7.1f MiB  fds %4u\n",
               (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC, load.clients_ok,
               load.clients_failed + load.servers_failed + load.handshakes_failed,
               rss / (1024.0 * 1024.0), fds);
      if (g_get_monotonic_time () < warm_up_end)
        {
          rss_baseline = rss;
          fds_warm_max = MAX (fds_warm_max, fds);
          continue;
        }
      if (rss_limit == 0)
        rss_limit = rss_baseline + RSS_TOLERANCE_FIXED + rss_baseline * RSS_TOLERANCE_PERCENT / 100;
      rss_max = MAX (rss_max, rss);
      fds_max = MAX (fds_max, fds);
      /* Fail early, with the numbers, rather than at the end. */
      if (rss > rss_limit)
        g_error ("RSS grew to %.1f MiB, beyond the limit of %.1f MiB (warm-up: %.1f MiB)",
                 rss / (1024.0 * 1024.0), rss_limit / (1024.0 * 1024.0), rss_baseline / (1024.0 * 1024.0));
      if (fds > fds_warm_max + FD_TOLERANCE)
        g_error ("%u file descriptors open, more than the %u of the warm-up (+%u)", fds, fds_warm_max, FD_TOLERANCE);
    }

  /* Stop launching; let the last ones finish. */
  load.launching = FALSE;
  wait_all_done (&load);
  test_run_context_for (load.context, 100);
  fds_after = count_fds ();
  g_print ("# soak: %u connections, %u failed; RSS warm-up %.1f MiB, max after %.1f MiB (limit %.1f); "
           "fds warm-up max %u, max after %u; fds before %u, after %u\n",
           load.clients_ok, load.clients_failed, rss_baseline / (1024.0 * 1024.0),
           rss_max / (1024.0 * 1024.0), rss_limit / (1024.0 * 1024.0), fds_warm_max, fds_max,
           fds_before, fds_after);
  assert_no_failure (&load);
  g_assert_cmpuint (rss_limit, >, 0);   /* there was a measurement after the warm-up */
  g_assert_cmpuint (fds_after, ==, fds_before);
  load_teardown (&load);
}

static guint64
parse_number (const char *text,
              const char *what)
{
  guint64 value = 0;
  g_autoptr(GError) error = NULL;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT32, &value, &error))
    {
      g_printerr ("test-load: %s: %s\n", what, error->message);
      exit (2);
    }
  return value;
}

int
main (int argc, char **argv)
{
  const char *env;
  int kept = 1;

  if ((env = g_getenv ("GSECSOCK_LOAD_CLIENTS")) != NULL)
    opt_clients = parse_number (env, "GSECSOCK_LOAD_CLIENTS");
  if ((env = g_getenv ("GSECSOCK_LOAD_BYTES")) != NULL)
    opt_bytes = parse_number (env, "GSECSOCK_LOAD_BYTES");
  /* Our options first; GTest's are left for test_init(). */
  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--clients") && i + 1 < argc)
        opt_clients = parse_number (argv[++i], "--clients");
      else if (g_str_equal (argv[i], "--bytes") && i + 1 < argc)
        opt_bytes = parse_number (argv[++i], "--bytes");
      else if (g_str_equal (argv[i], "--soak") && i + 1 < argc)
        opt_soak_seconds = parse_number (argv[++i], "--soak");
      else
        argv[kept++] = argv[i];
    }
  argv[kept] = NULL;
  argc = kept;

  test_init (&argc, &argv);
  if (opt_soak_seconds > 0)
    g_test_add_func ("/load/soak", test_soak);
  else
    g_test_add_func ("/load/echo", test_echo);
  return g_test_run ();
}
