/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Client-side handshake rate of gsecsock, driven the way `openssl s_time`
 * drives its connections: one after the other, with the blocking API, for
 * a given time, every connection verified (chain and host name) against
 * the test CA, from one client context.
 *
 *   (default)    connect, handshake, close. In TLS 1.3 the server's
 *                session tickets arrive after the handshake and are never
 *                read, so every handshake is a full one (as s_time -new).
 *   --www PATH   after the handshake, send "GET PATH HTTP/1.0" and read
 *                the answer to its end, as s_time -www: the tickets are
 *                read, the context keeps them, and the next connection
 *                resumes (as s_time -reuse; TLS 1.3 tickets are used
 *                once, so each connection uses a fresh one).
 *
 * Prints one JSON line: connections, resumed, seconds, handshakes/s and
 * the client's CPU milliseconds per handshake.
 *
 *   gsecsock-bench-handshake-client --pki DIR --port PORT [--tls12]
 *                                   [--www PATH] [--time S] [--count N]
 */

#include <gsecsock/gsecsock.h>
#include <string.h>

#include "bench-common.h"

static char *pki_dir;
static int port;
static gboolean tls12;
static char *www_path;
static double time_s = 3;
static int count_limit;

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "pki", 0, 0, G_OPTION_ARG_FILENAME, &pki_dir, "Test PKI directory (tests/make-test-pki.sh)", "DIR" },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "Server port on 127.0.0.1", "PORT" },
    { "tls12", 0, 0, G_OPTION_ARG_NONE, &tls12, "TLS 1.2 (ECDHE-ECDSA-AES128-GCM-SHA256) instead of TLS 1.3", NULL },
    { "www", 0, 0, G_OPTION_ARG_STRING, &www_path, "GET this path after each handshake and read the answer", "PATH" },
    { "time", 0, 0, G_OPTION_ARG_DOUBLE, &time_s, "Seconds to run (default 3)", "S" },
    { "count", 0, 0, G_OPTION_ARG_INT, &count_limit, "Stop after N connections", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("- gsecsock client handshake rate");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockSecureSocketContext) context = NULL;
  g_autofree char *ca = NULL, *request = NULL;
  guint64 n = 0, resumed = 0, bytes = 0;
  gint64 start, deadline, end;
  double cpu_start, seconds, cpu;
  char buffer[16384];

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || pki_dir == NULL || port <= 0)
    {
      g_printerr ("%s\nUsage: %s --pki DIR --port PORT [--tls12] [--www PATH] [--time S] [--count N]\n",
                  error ? error->message : "Missing or bad option", argv[0]);
      return 2;
    }

  ca = g_build_filename (pki_dir, "ca.pem", NULL);
  context = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  gsecsock_secure_socket_context_set_use_system_trust (context, FALSE);
  if (!gsecsock_secure_socket_context_add_trust_anchor_file (context, ca, &error) ||
      !gsecsock_secure_socket_context_set_ciphersuites (context, "TLS_AES_128_GCM_SHA256", &error) ||
      !gsecsock_secure_socket_context_set_cipher_list (context, "ECDHE-ECDSA-AES128-GCM-SHA256", &error))
    g_error ("%s", error->message);
  gsecsock_secure_socket_context_set_min_protocol_version (context, tls12 ? GSECSOCK_PROTOCOL_VERSION_TLS_1_2
                                                                          : GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  gsecsock_secure_socket_context_set_max_protocol_version (context, tls12 ? GSECSOCK_PROTOCOL_VERSION_TLS_1_2
                                                                          : GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  if (www_path != NULL)
    request = g_strdup_printf ("GET %s HTTP/1.0\r\n\r\n", www_path);

  start = g_get_monotonic_time ();
  deadline = start + (gint64) (time_s * G_USEC_PER_SEC);
  cpu_start = bench_cpu_seconds ();
  while (g_get_monotonic_time () < deadline && (count_limit == 0 || n < (guint64) count_limit))
    {
      g_autoptr(GSecSockSecureSocket) sock = NULL;

      sock = gsecsock_secure_socket_connect (context, "127.0.0.1", port, NULL, &error);
      if (sock == NULL)
        g_error ("Connection %" G_GUINT64_FORMAT ": %s", n + 1, error->message);
      if (gsecsock_secure_socket_get_session_reused (sock))
        resumed++;
      if (request != NULL)
        {
          GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (sock));
          gssize got;

          if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (sock)),
                                          request, strlen (request), NULL, NULL, &error))
            g_error ("%s", error->message);
          while ((got = g_input_stream_read (in, buffer, sizeof buffer, NULL, &error)) > 0)
            bytes += got;
          if (got < 0)
            g_error ("Reading the answer: %s", error->message);
        }
      /* A full handshake's client leaves the TLS 1.3 tickets unread: the
       * server may see a reset, and our close may fail. Not our concern. */
      g_io_stream_close (G_IO_STREAM (sock), NULL, NULL);
      n++;
    }
  end = g_get_monotonic_time ();
  seconds = (end - start) / 1e6;
  cpu = bench_cpu_seconds () - cpu_start;

  g_print ("{\"impl\":\"gsecsock\",\"connections\":%" G_GUINT64_FORMAT ",\"resumed\":%" G_GUINT64_FORMAT
           ",\"bytes_read\":%" G_GUINT64_FORMAT ",\"seconds\":%.4f,\"handshakes_per_s\":%.1f,"
           "\"client_cpu_ms_per_handshake\":%.4f}\n",
           n, resumed, bytes, seconds, n / seconds, n ? cpu * 1000 / n : 0.0);
  return 0;
}
