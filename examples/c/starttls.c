/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * starttls PKI_DIR
 *
 * Upgrades a plain TCP connection to TLS in the middle of a conversation,
 * as SMTP, IMAP or XMPP do: the client says "STARTTLS", the server answers
 * "GO", and from then on both sides talk TLS over the same connection. Both
 * sides are in this program: the server in a thread, the client in main(),
 * both with the blocking API. PKI_DIR holds server-chain.pem, server.key
 * and ca.pem.
 */

#include <locale.h>
#include <string.h>

#include <gsecsock/gsecsock.h>

static gboolean
write_line (GIOStream   *stream,
            const char  *line,
            GError     **error)
{
  g_autofree char *data = g_strconcat (line, "\n", NULL);

  return g_output_stream_write_all (g_io_stream_get_output_stream (stream), data, strlen (data),
                                    NULL, NULL, error);
}

static char *
read_line (GIOStream  *stream,
           GError    **error)
{
  g_autoptr(GDataInputStream) lines = g_data_input_stream_new (g_io_stream_get_input_stream (stream));
  char *line;

  /* The reader buffers: it may take more than one line from the stream and
   * drop the rest when it goes. That is safe here, because neither side
   * sends anything before it has the answer to its last line. */
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (lines), FALSE);
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, error);
  if (line == NULL && error != NULL && *error == NULL)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "Connection closed");
  return line;
}

typedef struct {
  GSocketListener             *listener;
  GSecSockSecureSocketContext *context;
} Server;

/* The server thread: returns NULL, or the GError that stopped it. */
static gpointer
serve (gpointer data)
{
  Server *server = data;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSecSockSecureSocket) socket = NULL;
  g_autofree char *request = NULL;
  g_autofree char *line = NULL;
  g_autofree char *reply = NULL;
  GError *error = NULL;

  connection = g_socket_listener_accept (server->listener, NULL, NULL, &error);
  if (connection == NULL)
    return error;
  request = read_line (G_IO_STREAM (connection), &error);
  if (request == NULL)
    return error;
  g_print ("server: got %s\n", request);
  if (strcmp (request, "STARTTLS") != 0)
    return g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Expected STARTTLS, got %s", request);
  if (!write_line (G_IO_STREAM (connection), "GO", &error))
    return error;

  /* The same connection, now under TLS. */
  socket = gsecsock_secure_socket_new (server->context, G_IO_STREAM (connection), NULL, &error);
  if (socket == NULL || !gsecsock_secure_socket_handshake (socket, NULL, &error))
    return error;
  line = read_line (G_IO_STREAM (socket), &error);
  if (line == NULL)
    return error;
  g_print ("server: got %s over TLS\n", line);
  reply = g_strdup_printf ("you said: %s", line);
  if (!write_line (G_IO_STREAM (socket), reply, &error))
    return error;
  g_io_stream_close (G_IO_STREAM (socket), NULL, &error);
  return error;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GSecSockSecureSocketContext) server_context = NULL;
  g_autoptr(GSecSockSecureSocketContext) client_context = NULL;
  g_autoptr(GSocketListener) listener = NULL;
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSecSockSecureSocket) socket = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *chain = NULL;
  g_autofree char *key = NULL;
  g_autofree char *ca = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *reply = NULL;
  GThread *thread;
  GError *server_error;
  Server server;
  guint16 port;

  setlocale (LC_ALL, "");
  if (argc != 2)
    {
      g_printerr ("usage: %s PKI_DIR\n", argv[0]);
      return 2;
    }
  chain = g_build_filename (argv[1], "server-chain.pem", NULL);
  key = g_build_filename (argv[1], "server.key", NULL);
  ca = g_build_filename (argv[1], "ca.pem", NULL);

  server_context = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  if (!gsecsock_secure_socket_context_load_certificate_file (server_context, chain, key, &error))
    goto failed;
  client_context = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  gsecsock_secure_socket_context_set_use_system_trust (client_context, FALSE);
  if (!gsecsock_secure_socket_context_add_trust_anchor_file (client_context, ca, &error))
    goto failed;

  listener = g_socket_listener_new ();
  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  if (port == 0)
    goto failed;
  server = (Server) { listener, server_context };
  thread = g_thread_new ("server", serve, &server);

  /* The client: a plain conversation first. */
  client = g_socket_client_new ();
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  if (connection == NULL || !write_line (G_IO_STREAM (connection), "STARTTLS", &error))
    goto failed;
  answer = read_line (G_IO_STREAM (connection), &error);
  if (answer == NULL)
    goto failed;
  g_print ("client: got %s\n", answer);

  /* Then TLS over the same connection; the server's certificate must be
   * valid for the name the client meant to reach. */
  socket = gsecsock_secure_socket_new (client_context, G_IO_STREAM (connection), "localhost", &error);
  if (socket == NULL || !gsecsock_secure_socket_handshake (socket, NULL, &error))
    goto failed;
  g_print ("client: TLS established with %s, cipher %s\n",
           gsecsock_secure_socket_get_peer_name (socket),
           gsecsock_secure_socket_get_cipher_name (socket));
  if (!write_line (G_IO_STREAM (socket), "hello", &error))
    goto failed;
  reply = read_line (G_IO_STREAM (socket), &error);
  if (reply == NULL || !g_io_stream_close (G_IO_STREAM (socket), NULL, &error))
    goto failed;
  g_print ("client: server said: %s\n", reply);

  server_error = g_thread_join (thread);
  if (server_error != NULL)
    {
      g_printerr ("server: %s\n", server_error->message);
      g_error_free (server_error);
      return 1;
    }
  return 0;

failed:
  /* Ends the server thread too, wherever it is. */
  g_printerr ("client: %s\n", error->message);
  return 1;
}
