/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* client HOST PORT [CA_FILE]: a verified TLS client. */
#include <locale.h>

#include <gsecsock/gsecsock.h>

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockSecureSocketContext) ctx = NULL;
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autofree char *answer = NULL;
  GOutputStream *output;
  guint16 port;

  /* Messages in the user's language and character set. */
  setlocale (LC_ALL, "");
  if (argc < 3)
    {
      g_printerr ("usage: %s HOST PORT [CA_FILE]\n", argv[0]);
      return 2;
    }

  /* A client context verifies the server's chain and host name. */
  ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  if (argc > 3)
    {
      /* Trust this CA only, instead of the system's. */
      gsecsock_secure_socket_context_set_use_system_trust (ctx, FALSE);
      if (!gsecsock_secure_socket_context_add_trust_anchor_file (ctx, argv[3],
                                                                 &error))
        goto failed;
    }

  /* Resolve, connect, handshake, verify: all or nothing. */
  port = (guint16) g_ascii_strtoull (argv[2], NULL, 10);
  sock = gsecsock_secure_socket_connect (ctx, argv[1], port, NULL, &error);
  if (sock == NULL)
    goto failed;
  g_print ("connected to %s with %s\n", argv[1],
           gsecsock_secure_socket_get_cipher_name (sock));

  /* A secure socket is a GIOStream: use its streams as usual. */
  output = g_io_stream_get_output_stream (G_IO_STREAM (sock));
  if (!g_output_stream_write_all (output, "hello\n", 6, NULL, NULL, &error))
    goto failed;
  lines = g_data_input_stream_new (
    g_io_stream_get_input_stream (G_IO_STREAM (sock)));
  answer = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  if (error != NULL)
    goto failed;
  g_print ("server said: %s\n", answer);

  /* Closing sends a TLS close_notify. */
  if (!g_io_stream_close (G_IO_STREAM (sock), NULL, &error))
    goto failed;
  return 0;

failed:
  g_printerr ("client: %s\n", error->message);
  return 1;
}
