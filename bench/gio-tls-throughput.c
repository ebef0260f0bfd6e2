/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The GIO peer of gsecsock-bench-throughput: GIO's own TLS
 * (GTlsConnection, from Debian's glib-networking, GnuTLS backend), used
 * the way GIO's documentation shows: the server wraps each accepted
 * GSocketConnection with g_tls_server_connection_new() and a
 * GTlsCertificate, the client with g_tls_client_connection_new() with the
 * server's identity and a GTlsDatabase of the test CA; then blocking
 * streams. Client and server are two threads of this process; the client
 * sends SIZE bytes, then the server sends SIZE bytes back on the same
 * connection, and each receiver checks the stamps of bench-common.h.
 *
 * GIO has no API for cipher suites: the benchmark runner sets
 * G_TLS_GNUTLS_PRIORITY (glib-networking's override) to AES-128-GCM and
 * the protocol version. --check only prints the TLS backend GIO loaded.
 *
 *   gio-tls-throughput --pki DIR [--size MIB] [--chunk KIB] [--json] [--check]
 */

#include <gio/gio.h>
#include <string.h>

#include "bench-common.h"

#define READ_BUFFER (256 * 1024)

static char *pki_dir;
static int size_mib = 1024;
static int chunk_kib = 64;
static gboolean json;
static gboolean check;

typedef struct {
  GIOStream *tls;
  guint64 size;
  gsize chunk;
  guint8 *send_buffer;
  guint8 *read_buffer;
  gint64 phase1_end;
  GError *error;
  gboolean bad_data;
  GSocketListener *listener;
  GTlsCertificate *certificate;
} End;

static gboolean
do_send (End *end)
{
  GOutputStream *out = g_io_stream_get_output_stream (end->tls);

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
do_receive (End *end)
{
  GInputStream *in = g_io_stream_get_input_stream (end->tls);
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
server_thread (gpointer data)
{
  End *end = data;
  g_autoptr(GSocketConnection) connection = NULL;

  connection = g_socket_listener_accept (end->listener, NULL, NULL, &end->error);
  if (connection == NULL)
    return NULL;
  end->tls = g_tls_server_connection_new (G_IO_STREAM (connection), end->certificate, &end->error);
  if (end->tls == NULL ||
      !g_tls_connection_handshake (G_TLS_CONNECTION (end->tls), NULL, &end->error))
    return NULL;
  if (!do_receive (end))
    return NULL;
  end->phase1_end = g_get_monotonic_time ();
  do_send (end);
  return NULL;
}

static const char *
protocol_name (GTlsConnection *tls)
{
  switch (g_tls_connection_get_protocol_version (tls))
    {
    case G_TLS_PROTOCOL_VERSION_TLS_1_2: return "TLSv1.2";
    case G_TLS_PROTOCOL_VERSION_TLS_1_3: return "TLSv1.3";
    default: return "other";
    }
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "pki", 0, 0, G_OPTION_ARG_FILENAME, &pki_dir, "Test PKI directory (tests/make-test-pki.sh)", "DIR" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size_mib, "MiB to send each way (default 1024)", "MIB" },
    { "chunk", 0, 0, G_OPTION_ARG_INT, &chunk_kib, "Bytes per write, KiB (default 64)", "KIB" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    { "check", 0, 0, G_OPTION_ARG_NONE, &check, "Print the TLS backend GIO loaded and exit (1 when it has no TLS)", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("- GIO TLS bulk throughput, each way");
  g_autoptr(GError) error = NULL;
  g_autofree char *chain = NULL, *key = NULL, *ca = NULL;
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GSocketClient) socket_client = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  GTlsBackend *backend;
  End server = { 0 }, client = { 0 };
  GThread *thread;
  guint16 port;
  gint64 start, end_time;
  double cpu_start, cpu_end, seconds, mib;
  char *cipher;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) ||
      (!check && pki_dir == NULL) || size_mib <= 0 || chunk_kib <= 0)
    {
      g_printerr ("%s\nUsage: %s --pki DIR [--size MIB] [--chunk KIB] [--json] [--check]\n",
                  error ? error->message : "Missing or bad option", argv[0]);
      return 2;
    }

  backend = g_tls_backend_get_default ();
  if (check)
    {
      g_print ("%s\n", G_OBJECT_TYPE_NAME (backend));
      return g_tls_backend_supports_tls (backend) ? 0 : 1;
    }
  if (!g_tls_backend_supports_tls (backend))
    g_error ("GIO has no TLS backend (%s): install glib-networking, or check GIO_EXTRA_MODULES",
             G_OBJECT_TYPE_NAME (backend));

  /* GTlsFileDatabase wants absolute paths. */
  pki_dir = g_canonicalize_filename (pki_dir, NULL);
  chain = g_build_filename (pki_dir, "server-chain.pem", NULL);
  key = g_build_filename (pki_dir, "server.key", NULL);
  ca = g_build_filename (pki_dir, "ca.pem", NULL);
  server.certificate = g_tls_certificate_new_from_files (chain, key, &error);
  if (server.certificate == NULL)
    g_error ("%s", error->message);
  database = g_tls_file_database_new (ca, &error);
  if (database == NULL)
    g_error ("%s", error->message);

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
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  }
  thread = g_thread_new ("server", server_thread, &server);

  socket_client = g_socket_client_new ();
  connection = g_socket_client_connect_to_host (socket_client, "127.0.0.1", port, NULL, &error);
  if (connection == NULL)
    g_error ("%s", error->message);
  identity = g_network_address_new ("localhost", port);
  client.tls = g_tls_client_connection_new (G_IO_STREAM (connection), identity, &error);
  if (client.tls == NULL)
    g_error ("%s", error->message);
  g_tls_connection_set_database (G_TLS_CONNECTION (client.tls), database);
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (client.tls), NULL, &error))
    g_error ("%s", error->message);

  start = g_get_monotonic_time ();
  cpu_start = bench_cpu_seconds ();
  if (do_send (&client))
    do_receive (&client);
  g_thread_join (thread);
  end_time = g_get_monotonic_time ();
  cpu_end = bench_cpu_seconds ();

  if (server.error || client.error || server.bad_data || client.bad_data)
    g_error ("Failed: server %s, client %s",
             server.bad_data ? "bad data" : server.error ? server.error->message : "ok",
             client.bad_data ? "bad data" : client.error ? client.error->message : "ok");

  seconds = (end_time - start) / 1e6;
  mib = 2.0 * server.size / (1024.0 * 1024.0);
  cipher = g_tls_connection_get_ciphersuite_name (G_TLS_CONNECTION (client.tls));
  if (json)
    g_print ("{\"impl\":\"gio-sync\",\"backend\":\"%s\",\"protocol\":\"%s\",\"cipher\":\"%s\","
             "\"bytes_each_way\":%" G_GUINT64_FORMAT ",\"seconds\":%.4f,"
             "\"seconds_up\":%.4f,\"seconds_down\":%.4f,\"mib_s\":%.1f,\"cpu_s\":%.4f,"
             "\"cpu_s_per_gib\":%.4f}\n",
             G_OBJECT_TYPE_NAME (backend), protocol_name (G_TLS_CONNECTION (client.tls)),
             cipher ? cipher : "?", server.size, seconds, (server.phase1_end - start) / 1e6,
             (end_time - server.phase1_end) / 1e6, mib / seconds, cpu_end - cpu_start,
             (cpu_end - cpu_start) / (mib / 1024.0));
  else
    g_print ("GIO (%s) %s %s, %.0f MiB each way in %.2f s: %.0f MiB/s, %.2f CPU s per GiB (both ends)\n",
             G_OBJECT_TYPE_NAME (backend), protocol_name (G_TLS_CONNECTION (client.tls)),
             cipher ? cipher : "?", mib / 2, seconds, mib / seconds,
             (cpu_end - cpu_start) / (mib / 1024.0));
  g_free (cipher);

  g_io_stream_close (client.tls, NULL, NULL);
  if (server.tls != NULL)
    g_io_stream_close (server.tls, NULL, NULL);
  g_clear_object (&client.tls);
  g_clear_object (&server.tls);
  g_object_unref (server.listener);
  g_object_unref (server.certificate);
  return 0;
}
