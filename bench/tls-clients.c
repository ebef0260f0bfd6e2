/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The load client of the memory and concurrency benchmarks, the same for
 * every server measured: bare OpenSSL, one thread, one epoll loop. It
 * opens N TLS connections to 127.0.0.1:PORT with at most C handshaking at
 * once (C = N: all at once), full handshakes (no session reuse, no
 * certificate verification: the server is what is measured), and times
 * each from its connect() to the end of its handshake. When every
 * connection is established (or failed) it prints one JSON line
 * (established, failed, seconds, latency percentiles in ms) and, with
 * --hold, keeps them all open and idle until its standard input closes or
 * says anything.
 *
 *   tls-clients --port PORT [--connections N] [--concurrency C] [--tls12]
 *               [--hold] [--timeout S]
 */

#define _GNU_SOURCE 1

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench-common.h"

typedef struct {
  int fd;
  SSL *ssl;
  gint64 start;
  gboolean connected;
} Conn;

static int port;
static int n_connections = 1000;
static int concurrency = 1000;
static gboolean tls12;
static gboolean hold;
static int timeout_s = 120;

static int epfd;
static SSL_CTX *ctx;
static struct sockaddr_in server_addr;
static int started, established, failed, in_flight;
static double *latencies_ms;
static Conn **done_conns;
static int n_done_conns;
static GString *first_error;

static void
fail (Conn *conn, const char *what)
{
  if (first_error->len == 0)
    {
      unsigned long e = ERR_peek_error ();
      g_string_printf (first_error, "%s: %s", what,
                       e ? ERR_reason_error_string (e) : g_strerror (errno));
    }
  ERR_clear_error ();
  failed++;
  in_flight--;
  epoll_ctl (epfd, EPOLL_CTL_DEL, conn->fd, NULL);
  if (conn->ssl)
    SSL_free (conn->ssl);
  close (conn->fd);
  g_free (conn);
}

static void
start_one (void)
{
  Conn *conn = g_new0 (Conn, 1);
  struct epoll_event ev;
  int one = 1;

  started++;
  in_flight++;
  conn->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (conn->fd < 0)
    {
      failed++;
      in_flight--;
      if (first_error->len == 0)
        g_string_printf (first_error, "socket: %s", g_strerror (errno));
      g_free (conn);
      return;
    }
  setsockopt (conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  conn->start = g_get_monotonic_time ();
  ev.events = EPOLLOUT;
  ev.data.ptr = conn;
  epoll_ctl (epfd, EPOLL_CTL_ADD, conn->fd, &ev);
  if (connect (conn->fd, (struct sockaddr *) &server_addr, sizeof server_addr) != 0 &&
      errno != EINPROGRESS)
    fail (conn, "connect");
}

static void
step (Conn *conn)
{
  struct epoll_event ev;
  int r, err;

  if (!conn->connected)
    {
      int so_error = 0;
      socklen_t len = sizeof so_error;

      getsockopt (conn->fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (so_error != 0)
        {
          errno = so_error;
          fail (conn, "connect");
          return;
        }
      conn->connected = TRUE;
      conn->ssl = SSL_new (ctx);
      SSL_set_fd (conn->ssl, conn->fd);
      SSL_set_connect_state (conn->ssl);
    }

  r = SSL_do_handshake (conn->ssl);
  if (r == 1)
    {
      latencies_ms[established++] = (g_get_monotonic_time () - conn->start) / 1000.0;
      in_flight--;
      /* Held, idle: no longer watched (the server's session tickets wait
       * in the kernel, unread). */
      epoll_ctl (epfd, EPOLL_CTL_DEL, conn->fd, NULL);
      done_conns[n_done_conns++] = conn;
      return;
    }
  err = SSL_get_error (conn->ssl, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
    {
      ev.events = err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
      ev.data.ptr = conn;
      epoll_ctl (epfd, EPOLL_CTL_MOD, conn->fd, &ev);
      return;
    }
  fail (conn, "handshake");
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
percentile (double p)
{
  int i;

  if (established == 0)
    return 0;
  i = (int) (p / 100.0 * established + 0.5) - 1;
  return latencies_ms[CLAMP (i, 0, established - 1)];
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "Server port on 127.0.0.1", "PORT" },
    { "connections", 0, 0, G_OPTION_ARG_INT, &n_connections, "Connections to open (default 1000)", "N" },
    { "concurrency", 0, 0, G_OPTION_ARG_INT, &concurrency, "At most this many handshaking at once (default 1000)", "C" },
    { "tls12", 0, 0, G_OPTION_ARG_NONE, &tls12, "TLS 1.2 instead of TLS 1.3", NULL },
    { "hold", 0, 0, G_OPTION_ARG_NONE, &hold, "Keep the connections open until standard input says anything or closes", NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "Give up after S seconds (default 120)", "S" },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("- open N TLS connections");
  g_autoptr(GError) error = NULL;
  gint64 start, deadline;
  double seconds, cpu_start;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || port <= 0 ||
      n_connections <= 0 || concurrency <= 0)
    {
      g_printerr ("%s\nUsage: %s --port PORT [--connections N] [--concurrency C] [--tls12] [--hold]\n",
                  error ? error->message : "Missing or bad option", argv[0]);
      return 2;
    }
  if (bench_raise_nofile () < (guint64) n_connections + 16)
    g_printerr ("warning: the file descriptor limit is below %d\n", n_connections + 16);

  ctx = SSL_CTX_new (TLS_client_method ());
  SSL_CTX_set_verify (ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_ciphersuites (ctx, "TLS_AES_128_GCM_SHA256");
  SSL_CTX_set_cipher_list (ctx, "ECDHE-ECDSA-AES128-GCM-SHA256");
  SSL_CTX_set_session_cache_mode (ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_min_proto_version (ctx, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version (ctx, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);

  server_addr.sin_family = AF_INET;
  server_addr.sin_port = htons (port);
  server_addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  latencies_ms = g_new0 (double, n_connections);
  done_conns = g_new0 (Conn *, n_connections);
  first_error = g_string_new (NULL);
  epfd = epoll_create1 (EPOLL_CLOEXEC);

  start = g_get_monotonic_time ();
  deadline = start + (gint64) timeout_s * G_USEC_PER_SEC;
  cpu_start = bench_cpu_seconds ();
  while (started < n_connections && in_flight < concurrency)
    start_one ();
  while (established + failed < n_connections)
    {
      struct epoll_event events[512];
      int n = epoll_wait (epfd, events, G_N_ELEMENTS (events), 1000);

      for (int i = 0; i < n; i++)
        step (events[i].data.ptr);
      while (started < n_connections && in_flight < concurrency)
        start_one ();
      if (g_get_monotonic_time () > deadline)
        {
          if (first_error->len == 0)
            g_string_printf (first_error, "timed out after %d s", timeout_s);
          failed += n_connections - established - failed;
          break;
        }
    }
  seconds = (g_get_monotonic_time () - start) / 1e6;

  qsort (latencies_ms, established, sizeof (double), compare_doubles);
  {
    double sum = 0;
    for (int i = 0; i < established; i++)
      sum += latencies_ms[i];
    printf ("{\"connections\":%d,\"concurrency\":%d,\"established\":%d,\"failed\":%d,"
            "\"seconds\":%.4f,\"handshakes_per_s\":%.1f,\"client_cpu_s\":%.4f,"
            "\"latency_ms\":{\"mean\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
            "\"first_error\":\"%s\"}\n",
            n_connections, concurrency, established, failed, seconds,
            established / seconds, bench_cpu_seconds () - cpu_start,
            established ? sum / established : 0.0, percentile (50), percentile (90),
            percentile (99), established ? latencies_ms[established - 1] : 0.0,
            first_error->str);
    fflush (stdout);
  }

  if (hold)
    {
      char c;
      while (read (0, &c, 1) < 0 && errno == EINTR)
        ;
    }
  for (int i = 0; i < n_done_conns; i++)
    {
      SSL_free (done_conns[i]->ssl);
      close (done_conns[i]->fd);
      g_free (done_conns[i]);
    }
  SSL_CTX_free (ctx);
  return failed == 0 ? 0 : 1;
}
