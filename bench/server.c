/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* gsecsock's server for the handshake, memory and concurrency benchmarks:
 * a GSecSockSecureServer in one GMainContext of one thread (the library
 * does every handshake there, without threads), and one of two ways to
 * treat the connections whose handshake succeeded:
 *
 *   --www FILE   like `openssl s_server -WWW`: read the HTTP request
 *                ("GET /... HTTP/1.0" and an empty line), answer
 *                "HTTP/1.0 200 ok", a content type and FILE's bytes, then
 *                close (close_notify). `openssl s_time -www` drives it.
 *   --hold       keep the connection, idle, watching it for input with a
 *                pollable source (the equivalent of an epoll registration)
 *                until the peer closes it.
 *
 * It prints one JSON line when it listens ({"ready":true,"port":N,...}),
 * then answers lines on its standard input, one JSON line each:
 *   stats   threads, RSS, heap, CPU seconds, connections
 *   close   closes every held connection
 *   quit    exits (so does the end of standard input)
 *
 * With --backlog N the program listens itself, with a listen backlog of N
 * (GSecSockSecureServer's own is 128), and hands each accepted connection
 * to the server with gsecsock_secure_server_add_connection().
 *
 *   gsecsock-bench-server --pki DIR (--www FILE | --hold) [--port N]
 *                         [--max-handshakes N] [--backlog N]
 */

#include <gsecsock/gsecsock.h>
#include <gio/gunixinputstream.h>
#include <stdio.h>
#include <string.h>

#include "bench-common.h"

static char *pki_dir;
static char *www_file;
static gboolean hold;
static int port;
static int max_handshakes = -1;
static int backlog;

static GMainLoop *loop;
static GBytes *response;
static GHashTable *held;           /* Conn set */
static guint64 n_incoming, n_failed, n_closed_by_peer, n_served;

typedef struct {
  GSecSockSecureSocket *sock;
  GSource *watch;                  /* --hold */
  gsize request_len;               /* --www */
  /* --www only: a held connection needs no buffer (and must not be charged
   * for one in the memory benchmark). */
  char request[];
} Conn;

#define REQUEST_MAX 2048

static void
conn_free (Conn *conn)
{
  if (conn->watch != NULL)
    {
      g_source_destroy (conn->watch);
      g_source_unref (conn->watch);
    }
  /* Not waited for: the task keeps the socket until it is closed. */
  g_io_stream_close_async (G_IO_STREAM (conn->sock), G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_object_unref (conn->sock);
  g_free (conn);
}

/* ---- --www ---------------------------------------------------------- */

static void www_read_more (Conn *conn);

static void
www_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Conn *conn = user_data;

  if (g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL))
    n_served++;
  conn_free (conn);
}

static void
www_read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Conn *conn = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0)
    {
      n_closed_by_peer++;
      conn_free (conn);
      return;
    }
  conn->request_len += n;
  if (g_strstr_len (conn->request, conn->request_len, "\r\n\r\n") == NULL)
    {
      if (conn->request_len >= REQUEST_MAX)
        conn_free (conn);        /* not a request we answer */
      else
        www_read_more (conn);
      return;
    }
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (conn->sock)),
                                   g_bytes_get_data (response, NULL), g_bytes_get_size (response),
                                   G_PRIORITY_DEFAULT, NULL, www_written, conn);
}

static void
www_read_more (Conn *conn)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (conn->sock)),
                             conn->request + conn->request_len,
                             REQUEST_MAX - conn->request_len,
                             G_PRIORITY_DEFAULT, NULL, www_read_done, conn);
}

/* ---- --hold --------------------------------------------------------- */

static gboolean
hold_readable (GObject *stream, gpointer user_data)
{
  Conn *conn = user_data;
  g_autoptr(GError) error = NULL;
  char buffer[256];
  gssize n;

  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (stream), buffer,
                                                sizeof buffer, NULL, &error);
  if (n > 0 || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;     /* idle connections send nothing; ignored */
  /* The peer closed (or reset) it. */
  n_closed_by_peer++;
  g_source_unref (conn->watch);
  conn->watch = NULL;
  g_hash_table_remove (held, conn);
  return G_SOURCE_REMOVE;
}

/* ---- The server ----------------------------------------------------- */

static void
on_incoming (GSecSockSecureServer *server, GSecSockSecureSocket *sock, gpointer user_data)
{
  Conn *conn = g_malloc0 (sizeof (Conn) + (hold ? 0 : REQUEST_MAX));

  n_incoming++;
  conn->sock = g_object_ref (sock);
  if (hold)
    {
      GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (sock));
      conn->watch = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (in), NULL);
      g_source_set_callback (conn->watch, G_SOURCE_FUNC (hold_readable), conn, NULL);
      g_source_attach (conn->watch, NULL);
      g_hash_table_add (held, conn);
    }
  else
    www_read_more (conn);
}

static void
on_handshake_failed (GSecSockSecureServer *server, GSecSockSecureSocket *sock,
                     GError *error, gpointer user_data)
{
  n_failed++;
}

static void
print_stats (GSecSockSecureServer *server)
{
  g_autoptr(GString) json = g_string_new ("{");

  bench_append_process_stats (json);
  g_string_append_printf (json, ",\"incoming\":%" G_GUINT64_FORMAT ",\"failed\":%" G_GUINT64_FORMAT
                          ",\"served\":%" G_GUINT64_FORMAT ",\"closed_by_peer\":%" G_GUINT64_FORMAT
                          ",\"held\":%u,\"handshaking\":%u}\n",
                          n_incoming, n_failed, n_served, n_closed_by_peer,
                          g_hash_table_size (held),
                          gsecsock_secure_server_get_n_handshakes (server));
  fputs (json->str, stdout);
  fflush (stdout);
}

/* --backlog: our own listener feeding the server. */
static void
accepted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GSecSockSecureServer *server = user_data;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = g_socket_listener_accept_finish (G_SOCKET_LISTENER (source), result, NULL, &error);
  if (connection == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (connection != NULL &&
      !gsecsock_secure_server_add_connection (server, G_IO_STREAM (connection), &error))
    g_warning ("add_connection: %s", error->message);
  g_socket_listener_accept_async (G_SOCKET_LISTENER (source), NULL, accepted, server);
}

static void
command_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GSecSockSecureServer *server = user_data;
  g_autofree char *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
                                                                result, NULL, NULL);

  if (line == NULL || strcmp (line, "quit") == 0)
    {
      g_main_loop_quit (loop);
      return;
    }
  if (strcmp (line, "close") == 0)
    g_hash_table_remove_all (held);
  print_stats (server);
  g_data_input_stream_read_line_async (G_DATA_INPUT_STREAM (source), G_PRIORITY_HIGH, NULL,
                                       command_read, server);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "pki", 0, 0, G_OPTION_ARG_FILENAME, &pki_dir, "Test PKI directory (tests/make-test-pki.sh)", "DIR" },
    { "www", 0, 0, G_OPTION_ARG_FILENAME, &www_file, "Answer GET requests with this file, as s_server -WWW", "FILE" },
    { "hold", 0, 0, G_OPTION_ARG_NONE, &hold, "Keep connections open and idle", NULL },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "TCP port on 127.0.0.1 (default: any)", "PORT" },
    { "max-handshakes", 0, 0, G_OPTION_ARG_INT, &max_handshakes, "The server's max-handshakes (0: no limit; default: the library's)", "N" },
    { "backlog", 0, 0, G_OPTION_ARG_INT, &backlog, "Listen ourselves with this backlog, and add_connection() each connection", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("- gsecsock benchmark server");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockSecureSocketContext) context = NULL;
  g_autoptr(GSecSockSecureServer) server = NULL;
  g_autoptr(GInputStream) stdin_stream = NULL;
  g_autoptr(GDataInputStream) commands = NULL;
  g_autoptr(GSocketListener) listener = NULL;
  g_autofree char *chain = NULL, *key = NULL;
  guint threads_at_start;
  guint16 bound;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || pki_dir == NULL ||
      (www_file == NULL) == !hold)
    {
      g_printerr ("%s\nUsage: %s --pki DIR (--www FILE | --hold) [--port N] [--max-handshakes N]\n",
                  error ? error->message : "Missing or bad option", argv[0]);
      return 2;
    }
  bench_raise_nofile ();
  threads_at_start = bench_thread_count ();

  if (www_file != NULL)
    {
      g_autofree char *body = NULL;
      gsize len;
      GString *text;

      if (!g_file_get_contents (www_file, &body, &len, &error))
        g_error ("%s", error->message);
      text = g_string_new (NULL);
      g_string_append_printf (text, "HTTP/1.0 200 ok\r\nContent-type: %s\r\n\r\n",
                              g_str_has_suffix (www_file, ".html") ? "text/html" : "text/plain");
      g_string_append_len (text, body, len);
      response = g_string_free_to_bytes (text);
    }

  chain = g_build_filename (pki_dir, "server-chain.pem", NULL);
  key = g_build_filename (pki_dir, "server.key", NULL);
  context = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  if (!gsecsock_secure_socket_context_load_certificate_file (context, chain, key, &error) ||
      !gsecsock_secure_socket_context_set_ciphersuites (context, "TLS_AES_128_GCM_SHA256", &error) ||
      !gsecsock_secure_socket_context_set_cipher_list (context, "ECDHE-ECDSA-AES128-GCM-SHA256", &error))
    g_error ("%s", error->message);

  held = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) conn_free, NULL);
  loop = g_main_loop_new (NULL, FALSE);
  server = gsecsock_secure_server_new (context, &error);
  if (server == NULL)
    g_error ("%s", error->message);
  if (max_handshakes >= 0)
    gsecsock_secure_server_set_max_handshakes (server, max_handshakes);
  g_signal_connect (server, "incoming", G_CALLBACK (on_incoming), NULL);
  g_signal_connect (server, "handshake-failed", G_CALLBACK (on_handshake_failed), NULL);
  if (backlog > 0)
    {
      g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
      g_autoptr(GSocketAddress) effective = NULL;

      listener = g_socket_listener_new ();
      g_socket_listener_set_backlog (listener, backlog);
      if (!g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                          G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error))
        g_error ("%s", error->message);
      bound = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
      g_socket_listener_accept_async (listener, NULL, accepted, server);
    }
  else
    {
      bound = gsecsock_secure_server_listen (server, "127.0.0.1", port, &error);
      if (bound == 0)
        g_error ("%s", error->message);
    }

  stdin_stream = g_unix_input_stream_new (0, FALSE);
  commands = g_data_input_stream_new (stdin_stream);
  g_data_input_stream_read_line_async (commands, G_PRIORITY_HIGH, NULL, command_read, server);

  g_print ("{\"ready\":true,\"port\":%u,\"threads_at_start\":%u,\"max_handshakes\":%u,"
           "\"backlog\":%d}\n",
           bound, threads_at_start, gsecsock_secure_server_get_max_handshakes (server),
           backlog > 0 ? backlog : 128);
  fflush (stdout);

  g_main_loop_run (loop);

  if (listener != NULL)
    g_socket_listener_close (listener);
  gsecsock_secure_server_stop (server);
  g_hash_table_destroy (held);
  g_clear_pointer (&response, g_bytes_unref);
  g_main_loop_unref (loop);
  return 0;
}
