/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The bare OpenSSL peer of `gsecsock-bench-server --hold`: one thread, one
 * epoll loop, non-blocking sockets, SSL_accept driven by readiness, and
 * every connection whose handshake succeeded kept idle (registered for
 * input) until the peer closes it. OpenSSL's defaults (SSL_CTX_new), plus
 * AES-128-GCM; --release-buffers sets SSL_MODE_RELEASE_BUFFERS, which frees
 * the record buffers of a connection with nothing buffered. Listen backlog
 * 128 (--backlog), as GSecSockSecureServer's.
 *
 * Same standard input/output protocol as gsecsock-bench-server:
 * {"ready":true,"port":N} first, then `stats`, `close`, `quit`.
 *
 *   openssl-idle --pki DIR [--port N] [--release-buffers] [--backlog N]
 */

#define _GNU_SOURCE 1

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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

#define DEFAULT_BACKLOG 128

typedef struct {
  int fd;
  SSL *ssl;
  gboolean established;
  guint32 events;
} Conn;

static char *pki_dir;
static int port;
static gboolean release_buffers;
static int backlog = DEFAULT_BACKLOG;

static int epfd;
static SSL_CTX *ctx;
static GHashTable *conns;       /* every Conn (handshaking or established) */
static guint64 n_incoming, n_failed, n_closed_by_peer;
static guint n_established;

static void
conn_close (Conn *conn)
{
  if (conn->established)
    n_established--;
  epoll_ctl (epfd, EPOLL_CTL_DEL, conn->fd, NULL);
  SSL_free (conn->ssl);
  close (conn->fd);
  g_hash_table_remove (conns, conn);
  g_free (conn);
}

static void
want (Conn *conn, guint32 events)
{
  if (conn->events != events)
    {
      struct epoll_event ev = { .events = events, .data.ptr = conn };
      epoll_ctl (epfd, EPOLL_CTL_MOD, conn->fd, &ev);
      conn->events = events;
    }
}

static void
conn_step (Conn *conn)
{
  char buffer[256];
  int r, err;

  if (!conn->established)
    {
      r = SSL_do_handshake (conn->ssl);
      if (r == 1)
        {
          conn->established = TRUE;
          n_established++;
          n_incoming++;
          want (conn, EPOLLIN);
          return;
        }
      err = SSL_get_error (conn->ssl, r);
      if (err == SSL_ERROR_WANT_READ)
        want (conn, EPOLLIN);
      else if (err == SSL_ERROR_WANT_WRITE)
        want (conn, EPOLLOUT);
      else
        {
          n_failed++;
          ERR_clear_error ();
          conn_close (conn);
        }
      return;
    }

  /* Idle: the only thing expected is the peer closing. */
  r = SSL_read (conn->ssl, buffer, sizeof buffer);
  if (r > 0)
    return;
  err = SSL_get_error (conn->ssl, r);
  if (err == SSL_ERROR_WANT_READ)
    want (conn, EPOLLIN);
  else if (err == SSL_ERROR_WANT_WRITE)
    want (conn, EPOLLOUT);
  else
    {
      n_closed_by_peer++;
      ERR_clear_error ();
      conn_close (conn);
    }
}

static void
accept_all (int listen_fd)
{
  for (;;)
    {
      int fd = accept4 (listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      int one = 1;
      Conn *conn;
      struct epoll_event ev;

      if (fd < 0)
        {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
            n_failed++;
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          return;
        }
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      conn = g_new0 (Conn, 1);
      conn->fd = fd;
      conn->ssl = SSL_new (ctx);
      SSL_set_fd (conn->ssl, fd);
      SSL_set_accept_state (conn->ssl);
      conn->events = EPOLLIN;
      ev.events = EPOLLIN;
      ev.data.ptr = conn;
      epoll_ctl (epfd, EPOLL_CTL_ADD, fd, &ev);
      g_hash_table_add (conns, conn);
      conn_step (conn);
    }
}

static void
print_stats (void)
{
  g_autoptr(GString) json = g_string_new ("{");

  bench_append_process_stats (json);
  g_string_append_printf (json, ",\"incoming\":%" G_GUINT64_FORMAT ",\"failed\":%" G_GUINT64_FORMAT
                          ",\"closed_by_peer\":%" G_GUINT64_FORMAT ",\"held\":%u,\"handshaking\":%u}\n",
                          n_incoming, n_failed, n_closed_by_peer, n_established,
                          g_hash_table_size (conns) - n_established);
  fputs (json->str, stdout);
  fflush (stdout);
}

static void
close_established (void)
{
  GHashTableIter iter;
  gpointer key;
  GPtrArray *doomed = g_ptr_array_new ();

  g_hash_table_iter_init (&iter, conns);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (((Conn *) key)->established)
      g_ptr_array_add (doomed, key);
  for (guint i = 0; i < doomed->len; i++)
    conn_close (doomed->pdata[i]);
  g_ptr_array_free (doomed, TRUE);
}

/* Commands on standard input; FALSE to quit. */
static gboolean
read_commands (GString *pending)
{
  char buffer[512];
  ssize_t n = read (0, buffer, sizeof buffer);
  char *newline;

  if (n <= 0)
    return FALSE;
  g_string_append_len (pending, buffer, n);
  while ((newline = memchr (pending->str, '\n', pending->len)) != NULL)
    {
      g_autofree char *line = g_strndup (pending->str, newline - pending->str);
      g_string_erase (pending, 0, newline - pending->str + 1);
      if (strcmp (line, "quit") == 0)
        return FALSE;
      if (strcmp (line, "close") == 0)
        close_established ();
      print_stats ();
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "pki", 0, 0, G_OPTION_ARG_FILENAME, &pki_dir, "Test PKI directory (tests/make-test-pki.sh)", "DIR" },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "TCP port on 127.0.0.1 (default: any)", "PORT" },
    { "release-buffers", 0, 0, G_OPTION_ARG_NONE, &release_buffers, "Set SSL_MODE_RELEASE_BUFFERS", NULL },
    { "backlog", 0, 0, G_OPTION_ARG_INT, &backlog, "Listen backlog (default 128)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("- bare OpenSSL idle-connection server");
  g_autoptr(GError) error = NULL;
  g_autofree char *chain = NULL, *key = NULL;
  g_autoptr(GString) pending = g_string_new (NULL);
  struct sockaddr_in addr = { 0 };
  socklen_t addr_len = sizeof addr;
  int listen_fd, one = 1;
  struct epoll_event ev;
  guint threads_at_start;
  gboolean running = TRUE;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || pki_dir == NULL)
    {
      g_printerr ("%s\nUsage: %s --pki DIR [--port N] [--release-buffers]\n",
                  error ? error->message : "Missing or bad option", argv[0]);
      return 2;
    }
  bench_raise_nofile ();
  threads_at_start = bench_thread_count ();

  chain = g_build_filename (pki_dir, "server-chain.pem", NULL);
  key = g_build_filename (pki_dir, "server.key", NULL);
  ctx = SSL_CTX_new (TLS_server_method ());
  if (ctx == NULL ||
      SSL_CTX_use_certificate_chain_file (ctx, chain) != 1 ||
      SSL_CTX_use_PrivateKey_file (ctx, key, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_set_ciphersuites (ctx, "TLS_AES_128_GCM_SHA256") != 1 ||
      SSL_CTX_set_cipher_list (ctx, "ECDHE-ECDSA-AES128-GCM-SHA256") != 1)
    {
      ERR_print_errors_fp (stderr);
      return 1;
    }
  SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION);
  if (release_buffers)
    SSL_CTX_set_mode (ctx, SSL_MODE_RELEASE_BUFFERS);

  conns = g_hash_table_new (NULL, NULL);
  epfd = epoll_create1 (EPOLL_CLOEXEC);
  listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  setsockopt (listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  addr.sin_family = AF_INET;
  addr.sin_port = htons (port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (bind (listen_fd, (struct sockaddr *) &addr, sizeof addr) != 0 ||
      listen (listen_fd, backlog) != 0 ||
      getsockname (listen_fd, (struct sockaddr *) &addr, &addr_len) != 0)
    {
      perror ("listen");
      return 1;
    }
  ev.events = EPOLLIN;
  ev.data.ptr = NULL;                       /* the listener */
  epoll_ctl (epfd, EPOLL_CTL_ADD, listen_fd, &ev);
  ev.events = EPOLLIN;
  ev.data.ptr = &listen_fd;                 /* standard input */
  epoll_ctl (epfd, EPOLL_CTL_ADD, 0, &ev);

  printf ("{\"ready\":true,\"port\":%u,\"threads_at_start\":%u,\"release_buffers\":%s}\n",
          ntohs (addr.sin_port), threads_at_start, release_buffers ? "true" : "false");
  fflush (stdout);

  while (running)
    {
      struct epoll_event events[256];
      int n = epoll_wait (epfd, events, G_N_ELEMENTS (events), -1);

      if (n < 0 && errno == EINTR)
        continue;
      for (int i = 0; i < n && running; i++)
        {
          if (events[i].data.ptr == NULL)
            accept_all (listen_fd);
          else if (events[i].data.ptr == &listen_fd)
            {
              /* `close` may free connections of this batch: take the
               * others at the next wait (level-triggered). */
              running = read_commands (pending);
              break;
            }
          else
            conn_step (events[i].data.ptr);
        }
    }

  close_established ();
  SSL_CTX_free (ctx);
  return 0;
}
