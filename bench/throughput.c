/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Bulk throughput of one gsecsock connection over loopback TCP: a client
 * thread writes SIZE bytes through the blocking API while a server thread
 * reads them and checks their checksum. Prints MiB/s and CPU seconds per
 * GiB. Not a test: timings depend on the machine and its load.
 *
 *   gsecsock-bench-throughput --pki DIR [--size MIB] [--tls12] [--chunk KIB]
 */

#include <gsecsock/gsecsock.h>
#include <string.h>
#include <sys/resource.h>

static char *pki_dir;
static int size_mib = 1024;
static int chunk_kib = 64;
static gboolean tls12;

/* A cheap running checksum (SHA-256 would cost more than the TLS itself):
 * catches lost, duplicated or reordered bytes across chunk boundaries. */
typedef struct {
  guint64 sum;
  guint64 position;
} Check;

static void
check_update (Check *check, const guint8 *data, gsize len)
{
  guint64 sum = 0, position = check->position;
  gsize i = 0;

  /* Position-weighted, a 64-bit word at a time once aligned on the stream
   * position: a byte moved, lost or doubled changes the sum. */
  for (; i < len && (position + i) % 8 != 0; i++)
    sum += (guint64) data[i] * (((position + i) & 0xffff) + 1);
  for (; i + 8 <= len; i += 8)
    {
      guint64 word;
      memcpy (&word, data + i, 8);
      sum += word * ((((position + i) >> 3) & 0xffff) + 1);
    }
  for (; i < len; i++)
    sum += (guint64) data[i] * (((position + i) & 0xffff) + 1);
  check->sum += sum;
  check->position += len;
}

typedef struct {
  GSecSockSecureSocketContext *context;
  GSocketListener *listener;
  guint64 expected;
  guint64 checksum;
  gboolean finished;
  GError *error;
} Server;

static gpointer
server_thread (gpointer data)
{
  Server *server = data;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  Check check = { 0 };
  g_autofree guint8 *buffer = g_malloc (256 * 1024);
  guint64 total = 0;
  GInputStream *in;

  connection = g_socket_listener_accept (server->listener, NULL, NULL, &server->error);
  if (connection == NULL)
    return NULL;
  sock = gsecsock_secure_socket_new (server->context, G_IO_STREAM (connection), NULL, &server->error);
  if (sock == NULL)
    return NULL;
  in = g_io_stream_get_input_stream (G_IO_STREAM (sock));
  while (total < server->expected)
    {
      gssize n = g_input_stream_read (in, buffer, 256 * 1024, NULL, &server->error);
      if (n <= 0)
        break;
      check_update (&check, buffer, n);
      total += n;
    }
  server->checksum = check.sum;
  server->finished = total == server->expected;
  g_io_stream_close (G_IO_STREAM (sock), NULL, NULL);
  return NULL;
}

static double
cpu_seconds (void)
{
  struct rusage usage;
  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "pki", 0, 0, G_OPTION_ARG_FILENAME, &pki_dir, "Test PKI directory (tests/make-test-pki.sh)", "DIR" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size_mib, "MiB to send (default 1024)", "MIB" },
    { "chunk", 0, 0, G_OPTION_ARG_INT, &chunk_kib, "Bytes per write, KiB (default 64)", "KIB" },
    { "tls12", 0, 0, G_OPTION_ARG_NONE, &tls12, "Use TLS 1.2 (ECDHE-ECDSA-AES128-GCM-SHA256)", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("- gsecsock bulk throughput");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockSecureSocketContext) client_ctx = NULL;
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  Check check = { 0 };
  g_autofree char *chain = NULL, *key = NULL, *ca = NULL;
  g_autofree guint8 *buffer = NULL;
  Server server = { 0 };
  GThread *thread;
  GOutputStream *out;
  guint16 port;
  gint64 start, end;
  double cpu_start, cpu_end, seconds, mib;
  gsize chunk;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || pki_dir == NULL ||
      size_mib <= 0 || chunk_kib <= 0)
    {
      g_printerr ("%s\nUsage: %s --pki DIR [--size MIB] [--chunk KIB] [--tls12]\n",
                  error ? error->message : "Missing or bad option", argv[0]);
      return 2;
    }

  chain = g_build_filename (pki_dir, "server-chain.pem", NULL);
  key = g_build_filename (pki_dir, "server.key", NULL);
  ca = g_build_filename (pki_dir, "ca.pem", NULL);

  server.context = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  if (!gsecsock_secure_socket_context_load_certificate_file (server.context, chain, key, &error))
    g_error ("%s", error->message);
  client_ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  gsecsock_secure_socket_context_set_use_system_trust (client_ctx, FALSE);
  if (!gsecsock_secure_socket_context_add_trust_anchor_file (client_ctx, ca, &error))
    g_error ("%s", error->message);
  if (tls12)
    gsecsock_secure_socket_context_set_max_protocol_version (client_ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);

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
  server.expected = (guint64) size_mib * 1024 * 1024;
  thread = g_thread_new ("server", server_thread, &server);

  sock = gsecsock_secure_socket_connect (client_ctx, "127.0.0.1", port, NULL, &error);
  if (sock == NULL)
    g_error ("%s", error->message);

  chunk = (gsize) chunk_kib * 1024;
  buffer = g_malloc (chunk);
  for (gsize i = 0; i < chunk; i++)
    buffer[i] = (guint8) g_random_int ();
  out = g_io_stream_get_output_stream (G_IO_STREAM (sock));

  start = g_get_monotonic_time ();
  cpu_start = cpu_seconds ();
  for (guint64 sent = 0; sent < server.expected; )
    {
      gsize n = MIN (chunk, server.expected - sent);
      /* Vary the data a little so the checksum proves nothing was lost. */
      buffer[0] = (guint8) (sent >> 16);
      check_update (&check, buffer, n);
      if (!g_output_stream_write_all (out, buffer, n, NULL, NULL, &error))
        g_error ("%s", error->message);
      sent += n;
    }
  g_thread_join (thread);
  end = g_get_monotonic_time ();
  cpu_end = cpu_seconds ();

  if (!server.finished)
    g_error ("Server failed: %s", server.error ? server.error->message : "short data");
  if (server.checksum != check.sum)
    g_error ("Data corrupted: checksums differ");

  seconds = (end - start) / 1e6;
  mib = server.expected / (1024.0 * 1024.0);
  g_print ("%s %s, %.0f MiB in %.2f s: %.0f MiB/s, %.2f CPU s per GiB (both ends and checksums)\n",
           gsecsock_secure_socket_get_protocol_version (sock) == GSECSOCK_PROTOCOL_VERSION_TLS_1_3 ? "TLS 1.3" : "TLS 1.2",
           gsecsock_secure_socket_get_cipher_name (sock),
           mib, seconds, mib / seconds, (cpu_end - cpu_start) / (mib / 1024.0));

  g_io_stream_close (G_IO_STREAM (sock), NULL, NULL);
  g_object_unref (server.listener);
  g_object_unref (server.context);
  return 0;
}
