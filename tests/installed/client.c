/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A program written the way a user of an *installed* gsecsock writes one:
 * it lives outside the source tree, includes only <gsecsock/gsecsock.h> and
 * is built with nothing but `pkg-config --cflags --libs gsecsock-1.0`.
 * tests/installed/run.sh builds it against a freshly installed prefix and
 * runs it against `openssl s_server -rev`, which sends every line back
 * reversed.
 *
 * Usage: client HOST PORT CA_FILE ALPN
 *
 * It connects (blocking API, as a command-line tool would), trusting only
 * CA_FILE, checks that the server was verified and that ALPN agreed on
 * ALPN, sends a line, checks the reversed reply, and closes with a
 * close_notify. Exit status 0 on success, 1 with a message on any failure.
 */

#include <locale.h>
#include <string.h>

#include <gsecsock/gsecsock.h>

#define MESSAGE "hello from an installed gsecsock"

static int
fail (const char *what,
      GError     *error)
{
  g_printerr ("installed client: %s: %s\n", what,
              error != NULL ? error->message : "unexpected result");
  g_clear_error (&error);
  return 1;
}

static const char *
version_name (GSecSockProtocolVersion version)
{
  switch (version)
    {
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_2:
      return "TLS 1.2";
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_3:
      return "TLS 1.3";
    case GSECSOCK_PROTOCOL_VERSION_UNKNOWN:
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_0:
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_1:
    default:
      return NULL;
    }
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GSecSockSecureSocketContext) context = NULL;
  g_autoptr(GSecSockSecureSocket) socket = NULL;
  g_autoptr(GString) reply = g_string_new (NULL);
  g_autofree char *reversed = g_strreverse (g_strdup (MESSAGE));
  g_autofree char *expected = NULL;
  const char *alpn[2] = { NULL, NULL };
  const char *negotiated;
  GSecSockCertificateFlags errors;
  GListModel *chain;
  GError *error = NULL;
  char *end = NULL;
  guint64 port;

  setlocale (LC_ALL, "");

  if (argc != 5)
    {
      g_printerr ("Usage: %s HOST PORT CA_FILE ALPN\n", argv[0]);
      return 2;
    }
  port = g_ascii_strtoull (argv[2], &end, 10);
  if (end == argv[2] || *end != '\0' || port == 0 || port > G_MAXUINT16)
    {
      g_printerr ("installed client: '%s' is not a port number\n", argv[2]);
      return 2;
    }
  alpn[0] = argv[4];

  context = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  gsecsock_secure_socket_context_set_use_system_trust (context, FALSE);
  if (!gsecsock_secure_socket_context_add_trust_anchor_file (context, argv[3], &error))
    return fail ("loading the trust anchor", error);
  gsecsock_secure_socket_context_set_alpn_protocols (context, alpn);

  /* Resolves HOST, connects to each address in turn until one answers,
   * and performs the handshake, verifying the server against CA_FILE and
   * HOST. */
  socket = gsecsock_secure_socket_connect (context, argv[1], (guint16) port, NULL, &error);
  if (socket == NULL)
    return fail ("connecting", error);

  errors = gsecsock_secure_socket_get_certificate_errors (socket);
  chain = gsecsock_secure_socket_get_peer_certificate_chain (socket);
  negotiated = gsecsock_secure_socket_get_alpn_protocol (socket);

  g_print ("installed client: connected to %s:%u, %s, %s, ALPN %s, %u peer certificates\n",
           argv[1], (guint) port,
           version_name (gsecsock_secure_socket_get_protocol_version (socket))
             ? version_name (gsecsock_secure_socket_get_protocol_version (socket)) : "?",
           gsecsock_secure_socket_get_cipher_name (socket),
           negotiated != NULL ? negotiated : "(none)",
           chain != NULL ? g_list_model_get_n_items (chain) : 0);

  if (errors != GSECSOCK_CERTIFICATE_NO_FLAGS)
    {
      g_autofree char *flags = g_flags_to_string (GSECSOCK_TYPE_CERTIFICATE_FLAGS, errors);

      g_printerr ("installed client: server not verified: %s\n", flags);
      return 1;
    }
  if (version_name (gsecsock_secure_socket_get_protocol_version (socket)) == NULL)
    return fail ("protocol version is not TLS 1.2 or 1.3", NULL);
  if (g_strcmp0 (negotiated, argv[4]) != 0)
    return fail ("ALPN was not negotiated", NULL);
  if (chain == NULL || g_list_model_get_n_items (chain) < 2)
    return fail ("expected the server to send its leaf and the intermediate CA", NULL);

  if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (socket)),
                                  MESSAGE "\n", strlen (MESSAGE "\n"), NULL, NULL, &error))
    return fail ("writing", error);

  /* s_server -rev answers with the line reversed, then a newline. */
  while (strchr (reply->str, '\n') == NULL)
    {
      char buffer[256];
      gssize n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (socket)),
                                      buffer, sizeof buffer, NULL, &error);

      if (n < 0)
        return fail ("reading", error);
      if (n == 0)
        return fail ("the server closed the connection before replying", NULL);
      g_string_append_len (reply, buffer, n);
    }

  expected = g_strconcat (reversed, "\n", NULL);
  if (strcmp (reply->str, expected) != 0)
    {
      g_printerr ("installed client: expected reply '%s', got '%s'\n", expected, reply->str);
      return 1;
    }
  g_print ("installed client: sent '%s', got '%.*s' back\n",
           MESSAGE, (int) reply->len - 1, reply->str);

  /* Sends close_notify, then closes the TCP connection. */
  if (!g_io_stream_close (G_IO_STREAM (socket), NULL, &error))
    return fail ("closing", error);

  g_print ("installed client: OK\n");
  return 0;
}
