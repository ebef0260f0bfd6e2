/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The GIO peer of `gsecsock-bench-server --hold`: GIO's own TLS
 * (GTlsServerConnection from glib-networking) in one GMainContext, the way
 * GIO's documentation shows: a GSocketService whose ::incoming handler
 * wraps the connection with g_tls_server_connection_new() and runs
 * g_tls_connection_handshake_async(). Connections whose handshake
 * succeeded are kept, idle, watched with a pollable source until the peer
 * closes them. The listen backlog is 128, as GSecSockSecureServer's.
 *
 * Same standard input/output protocol as gsecsock-bench-server:
 * {"ready":true,"port":N} first, then `stats`, `close`, `quit`.
 *
 *   gio-tls-server --pki DIR [--port N]
 */

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <stdio.h>
#include <string.h>

#include "bench-common.h"

#define BACKLOG 128

static char *pki_dir;
static int port;
static gboolean no_database;

static GMainLoop *loop;
static GTlsCertificate *certificate;
static GHashTable *held;              /* Conn set */
static guint64 n_incoming, n_failed, n_closed_by_peer, n_handshaking;

typedef struct {
  GIOStream *tls;
  GSource *watch;
} Conn;

static void
conn_free (Conn *conn)
{
  if (conn->watch != NULL)
    {
      g_source_destroy (conn->watch);
      g_source_unref (conn->watch);
    }
  g_io_stream_close_async (conn->tls, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_object_unref (conn->tls);
  g_free (conn);
}

static gboolean
readable (GObject *stream, gpointer user_data)
{
  Conn *conn = user_data;
  g_autoptr(GError) error = NULL;
  char buffer[256];
  gssize n;

  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (stream), buffer,
                                                sizeof buffer, NULL, &error);
  if (n > 0 || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  n_closed_by_peer++;
  g_source_unref (conn->watch);
  conn->watch = NULL;
  g_hash_table_remove (held, conn);
  return G_SOURCE_REMOVE;
}

static void
handshake_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GIOStream *tls = G_IO_STREAM (source);    /* our reference, from on_incoming */
  Conn *conn;
  GInputStream *in;

  n_handshaking--;
  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (tls), result, NULL))
    {
      n_failed++;
      g_io_stream_close_async (tls, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
      g_object_unref (tls);
      return;
    }
  n_incoming++;
  conn = g_new0 (Conn, 1);
  conn->tls = tls;
  in = g_io_stream_get_input_stream (tls);
  conn->watch = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (in), NULL);
  g_source_set_callback (conn->watch, G_SOURCE_FUNC (readable), conn, NULL);
  g_source_attach (conn->watch, NULL);
  g_hash_table_add (held, conn);
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection,
             GObject *source_object, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  GIOStream *tls;

  tls = g_tls_server_connection_new (G_IO_STREAM (connection), certificate, &error);
  if (tls == NULL)
    {
      n_failed++;
      return TRUE;
    }
  if (no_database)
    g_tls_connection_set_database (G_TLS_CONNECTION (tls), NULL);
  n_handshaking++;
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT, NULL,
                                    handshake_done, NULL);
  return TRUE;
}

static void
print_stats (void)
{
  g_autoptr(GString) json = g_string_new ("{");

  bench_append_process_stats (json);
  g_string_append_printf (json, ",\"incoming\":%" G_GUINT64_FORMAT ",\"failed\":%" G_GUINT64_FORMAT
                          ",\"closed_by_peer\":%" G_GUINT64_FORMAT ",\"held\":%u,\"handshaking\":%"
                          G_GUINT64_FORMAT "}\n",
                          n_incoming, n_failed, n_closed_by_peer, g_hash_table_size (held),
                          n_handshaking);
  fputs (json->str, stdout);
  fflush (stdout);
}

static void
command_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree char *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
                                                                result, NULL, NULL);

  if (line == NULL || strcmp (line, "quit") == 0)
    {
      g_main_loop_quit (loop);
      return;
    }
  if (strcmp (line, "close") == 0)
    g_hash_table_remove_all (held);
  print_stats ();
  g_data_input_stream_read_line_async (G_DATA_INPUT_STREAM (source), G_PRIORITY_HIGH, NULL,
                                       command_read, NULL);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "pki", 0, 0, G_OPTION_ARG_FILENAME, &pki_dir, "Test PKI directory (tests/make-test-pki.sh)", "DIR" },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "TCP port on 127.0.0.1 (default: any)", "PORT" },
    { "no-database", 0, 0, G_OPTION_ARG_NONE, &no_database, "Set no GTlsDatabase on server connections (the default is the system's)", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("- GIO TLS benchmark server");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketService) service = NULL;
  g_autoptr(GInputStream) stdin_stream = NULL;
  g_autoptr(GDataInputStream) commands = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL, effective = NULL;
  g_autofree char *chain = NULL, *key = NULL;
  guint threads_at_start;
  GTlsBackend *backend;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || pki_dir == NULL)
    {
      g_printerr ("%s\nUsage: %s --pki DIR [--port N]\n",
                  error ? error->message : "Missing or bad option", argv[0]);
      return 2;
    }
  bench_raise_nofile ();
  threads_at_start = bench_thread_count ();

  backend = g_tls_backend_get_default ();
  if (!g_tls_backend_supports_tls (backend))
    g_error ("GIO has no TLS backend (%s): install glib-networking, or check GIO_EXTRA_MODULES",
             G_OBJECT_TYPE_NAME (backend));

  /* GTlsFileDatabase wants absolute paths. */
  pki_dir = g_canonicalize_filename (pki_dir, NULL);
  chain = g_build_filename (pki_dir, "server-chain.pem", NULL);
  key = g_build_filename (pki_dir, "server.key", NULL);
  certificate = g_tls_certificate_new_from_files (chain, key, &error);
  if (certificate == NULL)
    g_error ("%s", error->message);

  held = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) conn_free, NULL);
  loop = g_main_loop_new (NULL, FALSE);

  service = g_socket_service_new ();
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (service), BACKLOG);
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, port);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error))
    g_error ("%s", error->message);
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), NULL);
  g_socket_service_start (service);

  stdin_stream = g_unix_input_stream_new (0, FALSE);
  commands = g_data_input_stream_new (stdin_stream);
  g_data_input_stream_read_line_async (commands, G_PRIORITY_HIGH, NULL, command_read, NULL);

  g_print ("{\"ready\":true,\"port\":%u,\"threads_at_start\":%u,\"backend\":\"%s\"}\n",
           g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)), threads_at_start,
           G_OBJECT_TYPE_NAME (backend));
  fflush (stdout);

  g_main_loop_run (loop);

  g_socket_service_stop (service);
  g_hash_table_destroy (held);
  g_object_unref (certificate);
  g_main_loop_unref (loop);
  return 0;
}
