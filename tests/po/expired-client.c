/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * expired-client HOST PORT CA_FILE
 *
 * Connects with the library's defaults, trusting only CA_FILE, and prints
 * the error message of the failed connection on standard output (exit 1),
 * or "connected" (exit 0). The program calls setlocale() and nothing else
 * about translations: the library binds its own text domain.
 */

#include <locale.h>

#include <gsecsock/gsecsock.h>

int
main (int    argc,
      char **argv)
{
  g_autoptr(GSecSockSecureSocketContext) context = NULL;
  g_autoptr(GSecSockSecureSocket) socket = NULL;
  g_autoptr(GError) error = NULL;
  guint64 port;

  setlocale (LC_ALL, "");
  if (argc != 4 || !g_ascii_string_to_unsigned (argv[2], 10, 1, G_MAXUINT16, &port, NULL))
    {
      g_printerr ("usage: %s HOST PORT CA_FILE\n", argv[0]);
      return 2;
    }

  context = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  gsecsock_secure_socket_context_set_use_system_trust (context, FALSE);
  if (!gsecsock_secure_socket_context_add_trust_anchor_file (context, argv[3], &error))
    {
      g_print ("%s\n", error->message);
      return 1;
    }
  socket = gsecsock_secure_socket_connect (context, argv[1], (guint16) port, NULL, &error);
  if (socket == NULL)
    {
      g_print ("%s\n", error->message);
      return 1;
    }
  g_print ("connected\n");
  return 0;
}
