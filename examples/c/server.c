/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * server PKI_DIR [PORT]
 *
 * A TLS server on 127.0.0.1 that requires a client certificate and decides
 * in a verify-certificate handler which clients it lets in: the chain must
 * verify against PKI_DIR/ca.pem and the client's own certificate must be on
 * an allow list. Serves one client (greets it by name), then exits. With
 * no PORT, or 0, the kernel picks one; the port is printed.
 */

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <gsecsock/gsecsock.h>

static const char * const allowed_clients[] = { "CN=gsecsock test client", NULL };

/* Emitted for each certificate of the client's chain, root end first. */
static gboolean
on_verify_certificate (GSecSockSecureSocketContext *context,
                       GSecSockSecureSocket        *socket,
                       GSecSockCertificate         *certificate,
                       guint                        depth,
                       GSecSockCertificateFlags     errors,
                       gpointer                     user_data)
{
  g_autofree char *subject = gsecsock_certificate_get_subject (certificate);
  gboolean accept = errors == 0 && (depth > 0 || g_strv_contains (allowed_clients, subject));

  g_print ("client certificate, depth %u: %s: %s\n", depth, subject, accept ? "accepted" : "rejected");
  return accept;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GSecSockSecureSocketContext) context = NULL;
  g_autoptr(GSocketListener) listener = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSecSockSecureSocket) socket = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *chain = NULL;
  g_autofree char *key = NULL;
  g_autofree char *ca = NULL;
  g_autofree char *client = NULL;
  g_autofree char *line = NULL;
  g_autofree char *reply = NULL;
  guint64 port = 0;

  setlocale (LC_ALL, "");
  if (argc < 2 || argc > 3)
    {
      g_printerr ("usage: %s PKI_DIR [PORT]\n", argv[0]);
      return 2;
    }
  if (argc == 3 && !g_ascii_string_to_unsigned (argv[2], 10, 0, G_MAXUINT16, &port, &error))
    goto failed;
  chain = g_build_filename (argv[1], "server-chain.pem", NULL);
  key = g_build_filename (argv[1], "server.key", NULL);
  ca = g_build_filename (argv[1], "ca.pem", NULL);

  context = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  if (!gsecsock_secure_socket_context_load_certificate_file (context, chain, key, &error))
    goto failed;
  /* On a server, verify-peer asks every client for a certificate and
   * requires one. */
  gsecsock_secure_socket_context_set_verify_peer (context, TRUE);
  gsecsock_secure_socket_context_set_use_system_trust (context, FALSE);
  if (!gsecsock_secure_socket_context_add_trust_anchor_file (context, ca, &error))
    goto failed;
  g_signal_connect (context, "verify-certificate", G_CALLBACK (on_verify_certificate), NULL);

  listener = g_socket_listener_new ();
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, (guint16) port);
  if (!g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                      NULL, &bound, &error))
    goto failed;
  g_print ("listening on 127.0.0.1:%u\n", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  fflush (stdout);

  connection = g_socket_listener_accept (listener, NULL, NULL, &error);
  if (connection == NULL)
    goto failed;
  /* A server socket has no peer name: that is for clients to check. */
  socket = gsecsock_secure_socket_new (context, G_IO_STREAM (connection), NULL, &error);
  if (socket == NULL || !gsecsock_secure_socket_handshake (socket, NULL, &error))
    goto failed;

  client = gsecsock_certificate_get_subject (gsecsock_secure_socket_get_peer_certificate (socket));
  g_print ("client %s connected\n", client);
  lines = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (socket)));
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  if (line == NULL && error != NULL)
    goto failed;
  reply = g_strdup_printf ("hello %s, you said: %s\n", client, line != NULL ? line : "nothing");
  if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (socket)),
                                  reply, strlen (reply), NULL, NULL, &error) ||
      !g_io_stream_close (G_IO_STREAM (socket), NULL, &error))
    goto failed;
  return 0;

failed:
  g_printerr ("server: %s\n", error->message);
  return 1;
}
