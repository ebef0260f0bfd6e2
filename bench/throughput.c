/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Bulk throughput of one gsecsock connection over loopback TCP, each way:
 * the client sends SIZE bytes to the server, then the server sends SIZE
 * bytes back, through the same connection. Client and server are two
 * threads of this process; with --api sync they use the blocking stream
 * API, with --api async each runs its own GMainContext and uses
 * read_async/write_all_async. The receiver checks a stamp every 4 KiB of
 * the stream (bench-common.h), so bytes lost, doubled or reordered are
 * caught without a checksum's CPU cost.
 *
 * Prints MiB/s (both directions' bytes over the whole time) and the CPU
 * seconds both ends spent per GiB moved. Not a test: timings depend on the
 * machine and its load.
 *
 *   gsecsock-bench-throughput --pki DIR [--size MIB] [--tls12] [--api sync|async]
 *                             [--chunk KIB] [--json]
 */

#include <gsecsock/gsecsock.h>
#include <string.h>

#include "bench-common.h"

#define READ_BUFFER (256 * 1024)

static char *pki_dir;
static int size_mib = 1024;
static int chunk_kib = 64;
static gboolean tls12;
static char *api = NULL;
static gboolean json;

typedef struct {
  gboolean server;
  GSecSockSecureSocketContext *context;
  GSocketListener *listener;     /* server */
  guint16 port;                  /* client */
  guint64 size;
  gsize chunk;
  GSecSockSecureSocket *sock;
  guint8 *send_buffer;
  guint8 *read_buffer;
  guint64 done;                  /* of the current phase */
  gint64 phase1_end;             /* server: when all of the upload was read */
  GMainLoop *loop;
  GError *error;
  gboolean bad_data;
  GAsyncQueue *ready;            /* the server tells when it listens/accepted */
} End;

static void
setup_contexts (GSecSockSecureSocketContext **server_ctx,
                GSecSockSecureSocketContext **client_ctx)
{
  g_autofree char *chain = g_build_filename (pki_dir, "server-chain.pem", NULL);
  g_autofree char *key = g_build_filename (pki_dir, "server.key", NULL);
  g_autofree char *ca = g_build_filename (pki_dir, "ca.pem", NULL);
  g_autoptr(GError) error = NULL;

  *server_ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  if (!gsecsock_secure_socket_context_load_certificate_file (*server_ctx, chain, key, &error))
    g_error ("%s", error->message);
  *client_ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  gsecsock_secure_socket_context_set_use_system_trust (*client_ctx, FALSE);
  if (!gsecsock_secure_socket_context_add_trust_anchor_file (*client_ctx, ca, &error))
    g_error ("%s", error->message);

  /* AES-128-GCM both ways, as every peer of the benchmark uses. */
  for (int i = 0; i < 2; i++)
    {
      GSecSockSecureSocketContext *ctx = i == 0 ? *server_ctx : *client_ctx;
      if (!gsecsock_secure_socket_context_set_ciphersuites (ctx, "TLS_AES_128_GCM_SHA256", &error) ||
          !gsecsock_secure_socket_context_set_cipher_list (ctx, "ECDHE-ECDSA-AES128-GCM-SHA256", &error))
        g_error ("%s", error->message);
    }
  if (tls12)
    {
      gsecsock_secure_socket_context_set_min_protocol_version (*client_ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
      gsecsock_secure_socket_context_set_max_protocol_version (*client_ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
    }
  else
    gsecsock_secure_socket_context_set_min_protocol_version (*client_ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
}

/* ---- Blocking API --------------------------------------------------- */

static gboolean
sync_send (End *end)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (end->sock));

  for (guint64 sent = 0; sent < end->size; )
    {
      gsize n = MIN (end->chunk, end->size - sent);
      bench_stamp (end->send_buffer, n, sent);
      if (!g_output_stream_write_all (out, end->send_buffer, n, NULL, NULL, &end->error))
        return FALSE;
      sent += n;
    }
  return TRUE;
}

static gboolean
sync_receive (End *end)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (end->sock));
  guint64 total = 0;

  while (total < end->size)
    {
      gssize n = g_input_stream_read (in, end->read_buffer, MIN (READ_BUFFER, end->size - total),
                                      NULL, &end->error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          g_set_error (&end->error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "short data");
          return FALSE;
        }
      if (!bench_check_stamps (end->read_buffer, n, total))
        {
          end->bad_data = TRUE;
          return FALSE;
        }
      total += n;
    }
  return TRUE;
}

static gpointer
sync_server_thread (gpointer data)
{
  End *end = data;
  g_autoptr(GSocketConnection) connection = NULL;

  connection = g_socket_listener_accept (end->listener, NULL, NULL, &end->error);
  if (connection == NULL)
    return NULL;
  end->sock = gsecsock_secure_socket_new (end->context, G_IO_STREAM (connection), NULL, &end->error);
  if (end->sock == NULL || !gsecsock_secure_socket_handshake (end->sock, NULL, &end->error))
    return NULL;
  if (!sync_receive (end))
    return NULL;
  end->phase1_end = g_get_monotonic_time ();
  sync_send (end);
  return NULL;
}

/* ---- Asynchronous API: each end runs its own main context ----------- */

static void async_send_next (End *end);
static void async_receive_next (End *end);

static void
async_phase_done (End *end)
{
  if (end->server && end->phase1_end == 0)
    {
      end->phase1_end = g_get_monotonic_time ();
      end->done = 0;
      async_send_next (end);
    }
  else if (!end->server && end->done == end->size && end->read_buffer == NULL)
    {
      /* Client: upload written; now the download. */
      end->read_buffer = g_malloc (READ_BUFFER);
      end->done = 0;
      async_receive_next (end);
    }
  else
    g_main_loop_quit (end->loop);
}

static void
write_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  End *end = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &end->error))
    {
      g_main_loop_quit (end->loop);
      return;
    }
  async_send_next (end);
}

static void
async_send_next (End *end)
{
  gsize n = MIN (end->chunk, end->size - end->done);

  if (n == 0)
    {
      async_phase_done (end);
      return;
    }
  bench_stamp (end->send_buffer, n, end->done);
  end->done += n;
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (end->sock)),
                                   end->send_buffer, n, G_PRIORITY_DEFAULT, NULL,
                                   write_done, end);
}

static void
read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  End *end = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &end->error);

  if (n <= 0)
    {
      if (n == 0)
        g_set_error (&end->error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "short data");
      g_main_loop_quit (end->loop);
      return;
    }
  if (!bench_check_stamps (end->read_buffer, n, end->done))
    {
      end->bad_data = TRUE;
      g_main_loop_quit (end->loop);
      return;
    }
  end->done += n;
  async_receive_next (end);
}

static void
async_receive_next (End *end)
{
  if (end->done == end->size)
    {
      async_phase_done (end);
      return;
    }
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (end->sock)),
                             end->read_buffer, MIN (READ_BUFFER, end->size - end->done),
                             G_PRIORITY_DEFAULT, NULL, read_done, end);
}

static void
async_handshake_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  End *end = user_data;

  if (!gsecsock_secure_socket_handshake_finish (end->sock, result, &end->error))
    {
      g_main_loop_quit (end->loop);
      return;
    }
  end->done = 0;
  async_receive_next (end);
}

static gpointer
async_server_thread (gpointer data)
{
  End *end = data;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSocketConnection) connection = NULL;

  g_main_context_push_thread_default (context);
  end->loop = g_main_loop_new (context, FALSE);
  connection = g_socket_listener_accept (end->listener, NULL, NULL, &end->error);
  if (connection != NULL)
    end->sock = gsecsock_secure_socket_new (end->context, G_IO_STREAM (connection), NULL, &end->error);
  if (end->sock != NULL)
    {
      gsecsock_secure_socket_handshake_async (end->sock, G_PRIORITY_DEFAULT, NULL,
                                              async_handshake_done, end);
      g_main_loop_run (end->loop);
    }
  g_main_context_pop_thread_default (context);
  return NULL;
}

/* The client: the upload, then the download. */
static void
async_client_run (End *end)
{
  g_autoptr(GMainContext) context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  end->loop = g_main_loop_new (context, FALSE);
  end->done = 0;
  g_clear_pointer (&end->read_buffer, g_free);   /* allocated for the download */
  async_send_next (end);
  g_main_loop_run (end->loop);
  g_main_context_pop_thread_default (context);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "pki", 0, 0, G_OPTION_ARG_FILENAME, &pki_dir, "Test PKI directory (tests/make-test-pki.sh)", "DIR" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size_mib, "MiB to send each way (default 1024)", "MIB" },
    { "chunk", 0, 0, G_OPTION_ARG_INT, &chunk_kib, "Bytes per write, KiB (default 64)", "KIB" },
    { "tls12", 0, 0, G_OPTION_ARG_NONE, &tls12, "TLS 1.2 (ECDHE-ECDSA-AES128-GCM-SHA256) instead of TLS 1.3 (TLS_AES_128_GCM_SHA256)", NULL },
    { "api", 0, 0, G_OPTION_ARG_STRING, &api, "sync (blocking streams, default) or async (read_async/write_all_async)", "API" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("- gsecsock bulk throughput, each way");
  g_autoptr(GError) error = NULL;
  GSecSockSecureSocketContext *server_ctx, *client_ctx;
  End server = { .server = TRUE }, client = { .server = FALSE };
  gboolean async;
  GThread *thread;
  gint64 start, end_time;
  double cpu_start, cpu_end, seconds, mib;
  const char *version;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || pki_dir == NULL ||
      size_mib <= 0 || chunk_kib <= 0 ||
      (api != NULL && strcmp (api, "sync") != 0 && strcmp (api, "async") != 0))
    {
      g_printerr ("%s\nUsage: %s --pki DIR [--size MIB] [--chunk KIB] [--tls12] [--api sync|async] [--json]\n",
                  error ? error->message : "Missing or bad option", argv[0]);
      return 2;
    }
  async = api != NULL && strcmp (api, "async") == 0;

  setup_contexts (&server_ctx, &client_ctx);
  server.context = server_ctx;
  client.context = client_ctx;
  server.size = client.size = (guint64) size_mib * 1024 * 1024;
  server.chunk = client.chunk = (gsize) chunk_kib * 1024;
  for (int i = 0; i < 2; i++)
    {
      End *e = i == 0 ? &server : &client;
      e->send_buffer = g_malloc (e->chunk);
      for (gsize j = 0; j < e->chunk; j++)
        e->send_buffer[j] = (guint8) g_random_int ();
      e->read_buffer = g_malloc (READ_BUFFER);
    }

  server.listener = g_socket_listener_new ();
  {
    g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
    g_autoptr(GSocketAddress) effective = NULL;
    if (!g_socket_listener_add_address (server.listener, address, G_SOCKET_TYPE_STREAM,
                                        G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error))
      g_error ("%s", error->message);
    client.port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  }
  thread = g_thread_new ("server", async ? async_server_thread : sync_server_thread, &server);

  /* The handshake is not timed: connect() returns after it. */
  client.sock = gsecsock_secure_socket_connect (client_ctx, "127.0.0.1", client.port, NULL, &error);
  if (client.sock == NULL)
    g_error ("%s", error->message);

  start = g_get_monotonic_time ();
  cpu_start = bench_cpu_seconds ();
  if (async)
    async_client_run (&client);
  else if (sync_send (&client))
    sync_receive (&client);
  g_thread_join (thread);
  end_time = g_get_monotonic_time ();
  cpu_end = bench_cpu_seconds ();

  if (server.error || client.error || server.bad_data || client.bad_data)
    g_error ("Failed: server %s, client %s",
             server.bad_data ? "bad data" : server.error ? server.error->message : "ok",
             client.bad_data ? "bad data" : client.error ? client.error->message : "ok");

  seconds = (end_time - start) / 1e6;
  mib = 2.0 * server.size / (1024.0 * 1024.0);
  version = gsecsock_secure_socket_get_protocol_version (client.sock) == GSECSOCK_PROTOCOL_VERSION_TLS_1_3
              ? "TLSv1.3" : "TLSv1.2";
  if (json)
    g_print ("{\"impl\":\"gsecsock-%s\",\"protocol\":\"%s\",\"cipher\":\"%s\","
             "\"bytes_each_way\":%" G_GUINT64_FORMAT ",\"seconds\":%.4f,"
             "\"seconds_up\":%.4f,\"seconds_down\":%.4f,\"mib_s\":%.1f,\"cpu_s\":%.4f,"
             "\"cpu_s_per_gib\":%.4f}\n",
             async ? "async" : "sync", version,
             gsecsock_secure_socket_get_cipher_name (client.sock),
             server.size, seconds, (server.phase1_end - start) / 1e6,
             (end_time - server.phase1_end) / 1e6, mib / seconds, cpu_end - cpu_start,
             (cpu_end - cpu_start) / (mib / 1024.0));
  else
    g_print ("gsecsock %s %s %s, %.0f MiB each way in %.2f s: %.0f MiB/s, %.2f CPU s per GiB (both ends)\n",
             async ? "async" : "sync", version, gsecsock_secure_socket_get_cipher_name (client.sock),
             mib / 2, seconds, mib / seconds, (cpu_end - cpu_start) / (mib / 1024.0));

  g_io_stream_close (G_IO_STREAM (client.sock), NULL, NULL);
  if (server.sock != NULL)
    g_io_stream_close (G_IO_STREAM (server.sock), NULL, NULL);
  g_clear_object (&client.sock);
  g_clear_object (&server.sock);
  g_object_unref (server.listener);
  g_object_unref (server_ctx);
  g_object_unref (client_ctx);
  return 0;
}
