/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The cost of a new client configuration that trusts the system's
 * certificate authorities, up to a connection object ready to handshake:
 * what an application pays when it makes a context per connection.
 *
 *   gsecsock-bench-context-cost --count N [--peer gsecsock|gio] [--json]
 *
 * gsecsock: gsecsock_secure_socket_context_new() + a socket over a memory
 * transport (the trust store is set up when the first socket is made).
 * gio: g_tls_client_connection_new() over an in-memory stream, with the
 * backend's default database (glib-networking). Prints the wall and CPU
 * milliseconds per configuration, first one included. Not a test. */

#include <gsecsock/gsecsock.h>
#include <stdlib.h>
#include <sys/resource.h>

static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static void
one_gsecsock (void)
{
  g_autoptr(GSecSockSecureSocketContext) context = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  g_autoptr(GSecSockMemoryTransport) transport = gsecsock_memory_transport_new ();
  g_autoptr(GSecSockSecureSocket) socket = NULL;
  g_autoptr(GError) error = NULL;

  socket = gsecsock_secure_socket_new (context, G_IO_STREAM (transport), "example.org", &error);
  if (socket == NULL)
    g_error ("%s", error->message);
}

static void
one_gio (void)
{
  g_autoptr(GInputStream) in = g_memory_input_stream_new ();
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GIOStream) base = g_simple_io_stream_new (in, out);
  g_autoptr(GSocketConnectable) identity = g_network_address_new ("example.org", 443);
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GError) error = NULL;

  tls = g_tls_client_connection_new (base, identity, &error);
  if (tls == NULL)
    g_error ("%s", error->message);
}

int
main (int argc, char **argv)
{
  int count = 50;
  char *peer = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "count", 0, 0, G_OPTION_ARG_INT, &count, "Configurations to make", "N" },
    { "peer", 0, 0, G_OPTION_ARG_STRING, &peer, "gsecsock (default) or gio", "PEER" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON line", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) options = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  gboolean gio;
  gint64 start;
  double cpu_start, wall_ms, cpu_ms;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || count < 1)
    {
      g_printerr ("%s\n", error ? error->message : "--count must be at least 1");
      return 2;
    }
  gio = g_strcmp0 (peer, "gio") == 0;
  if (peer != NULL && !gio && g_strcmp0 (peer, "gsecsock") != 0)
    {
      g_printerr ("Unknown peer “%s”: use gsecsock or gio\n", peer);
      return 2;
    }

  start = g_get_monotonic_time ();
  cpu_start = cpu_seconds ();
  for (int i = 0; i < count; i++)
    {
      if (gio)
        one_gio ();
      else
        one_gsecsock ();
    }
  wall_ms = (g_get_monotonic_time () - start) / 1000.0 / count;
  cpu_ms = (cpu_seconds () - cpu_start) * 1000 / count;

  if (json)
    g_print ("{\"peer\":\"%s\",\"count\":%d,\"wall_ms_each\":%.3f,\"cpu_ms_each\":%.3f}\n",
             gio ? "gio" : "gsecsock", count, wall_ms, cpu_ms);
  else
    g_print ("%s: %d configurations, %.3f ms each (%.3f ms CPU)\n",
             gio ? "gio" : "gsecsock", count, wall_ms, cpu_ms);
  return 0;
}
