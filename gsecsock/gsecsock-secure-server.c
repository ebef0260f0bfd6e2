/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-secure-server.h"

#include "gsecsock-i18n-private.h"
#include <string.h>

#include "gsecsock-error.h"
#include "gsecsock-secure-socket-context-private.h"

/**
 * GSecSockSecureServer:
 *
 * A TLS server: it listens on TCP ports, accepts connections, performs the
 * TLS handshake of each one with a server-mode
 * [class@GSecSock.SecureSocketContext], and hands the application every
 * [class@GSecSock.SecureSocket] whose handshake succeeded, with
 * [signal@GSecSock.SecureServer::incoming].
 *
 * ```c
 * static void
 * on_incoming (GSecSockSecureServer *server, GSecSockSecureSocket *sock, gpointer user_data)
 * {
 *   serve (g_object_ref (sock));   // keep a reference, or the connection is closed
 * }
 *
 * g_autoptr(GSecSockSecureServer) server = gsecsock_secure_server_new (server_ctx, &error);
 * g_signal_connect (server, "incoming", G_CALLBACK (on_incoming), NULL);
 * guint16 port = gsecsock_secure_server_listen (server, NULL, 8443, &error);
 * ```
 *
 * ```python
 * server = GSecSock.SecureServer.new(ctx)
 * server.connect('incoming', lambda server, sock: clients.append(sock))
 * server.connect('handshake-failed', lambda server, sock, error: log.info(error.message))
 * port = server.listen('127.0.0.1', 0)
 * ```
 *
 * ## Handshakes, limits and bad clients
 *
 * Every handshake is driven with [method@GSecSock.SecureSocket.handshake_async]
 * in the server's main context: no thread is used, however many clients
 * connect. A client whose handshake fails (it does not speak TLS, it sends
 * a certificate that is refused, it gives up, it is too slow) is reported
 * with [signal@GSecSock.SecureServer::handshake-failed] and closed; it never
 * stops the server.
 *
 * At most [property@GSecSock.SecureServer:max-handshakes] handshakes run at
 * once. When that many are running, the server stops accepting: further
 * connections wait in the kernel's accept queue (the TCP connection is
 * established, the client's first TLS message waits in the kernel), and
 * are accepted, in order, as running handshakes end. Each handshake must
 * complete within [property@GSecSock.SecureServer:handshake-timeout]
 * seconds, counted from its acceptance, or it fails with
 * %G_IO_ERROR_TIMED_OUT: so connections that send nothing hold a slot for
 * that long at most, and a flood of them cannot keep genuine clients out
 * for good. Once its handshake has succeeded, a connection no longer
 * counts.
 *
 * ## Threading
 *
 * The server runs in the thread-default [struct@GLib.MainContext] of the
 * thread that starts it (with its first
 * [method@GSecSock.SecureServer.listen] or
 * [method@GSecSock.SecureServer.add_connection]): connections are accepted,
 * handshakes run and every signal is emitted there. Use the server from
 * that thread only.
 *
 * While it listens, the server holds a reference to itself (as a
 * [class@Gio.SocketService] does): it keeps serving even if the
 * application drops its own reference, until
 * [method@GSecSock.SecureServer.stop].
 *
 * ## Why not a GSocketService subclass
 *
 * A [class@Gio.SocketService] subclass could not have an `incoming` signal
 * of its own (the name is its parent's, with a plain
 * [class@Gio.SocketConnection] argument), and would expose the ways of
 * adding ports that bypass
 * [property@GSecSock.SecureServer:reuse-address]. So the server is a
 * plain object that owns its [class@Gio.SocketListener], and plugs into
 * GIO the other way round: a connection accepted by any other means (an
 * existing [class@Gio.SocketService], a socket passed by systemd, a
 * STARTTLS upgrade) is handed to it with
 * [method@GSecSock.SecureServer.add_connection].
 *
 * Since: 0.1
 */

/* Listening sockets' backlog: the connections that wait while every
 * handshake slot is taken wait there. 128 made a burst of 1,000 clients
 * overflow it (the kernel drops the rest, and clients retry after 1 s and
 * 3 s): p99 2.9 s against 0.8 s with 1024 (bench/run.py --only
 * concurrency). The kernel caps it at net.core.somaxconn. */
#define LISTEN_BACKLOG 1024
#define DEFAULT_MAX_HANDSHAKES 64
#define DEFAULT_HANDSHAKE_TIMEOUT 30
/* After this many accept failures in a row (the process is out of file
 * descriptors, say), wait before trying again rather than spin. */
#define ACCEPT_FAILURES_BEFORE_DELAY 8
#define ACCEPT_RETRY_DELAY_MS 100

struct _GSecSockSecureServer
{
  GObject parent_instance;

  GSecSockSecureSocketContext *context;
  GMainContext *main_context;     /* where the server runs, once started */
  GSocketListener *listener;      /* NULL before listen() and after stop() */
  GCancellable *cancellable;      /* the accepts and handshakes of this run */
  gboolean accepting;             /* an accept of @listener is pending */
  GCancellable *accept_cancellable; /* that accept's: listen() restarts it */
  guint accept_failures;          /* in a row */
  GSource *retry_source;          /* accepting again after failures */

  guint16 port;
  gboolean reuse_address;
  guint max_handshakes;
  guint handshake_timeout;

  GHashTable *handshaking;        /* set of GSecSockSecureSocket (a reference each) */
  GQueue waiting;                 /* added connections' sockets waiting for a slot */
};

G_DEFINE_FINAL_TYPE (GSecSockSecureServer, gsecsock_secure_server, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_PORT,
  PROP_LISTENING,
  PROP_REUSE_ADDRESS,
  PROP_MAX_HANDSHAKES,
  PROP_HANDSHAKE_TIMEOUT,
  PROP_N_HANDSHAKES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_ACCEPTED,
  SIGNAL_INCOMING,
  SIGNAL_HANDSHAKE_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void maybe_accept (GSecSockSecureServer *self);

/* ---- Main context --------------------------------------------------- */

/* The server runs where it was started; FALSE with @error when called from
 * another main context. */
static gboolean
ensure_main_context (GSecSockSecureServer  *self,
                     GError               **error)
{
  g_autoptr(GMainContext) current = g_main_context_ref_thread_default ();

  if (self->main_context == NULL)
    {
      self->main_context = g_steal_pointer (&current);
      return TRUE;
    }
  if (self->main_context != current)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                           _("This server runs in the main context of the thread that started "
                             "it (its first listen() or add_connection()): call it from that "
                             "thread, with that main context as its thread-default one"));
      return FALSE;
    }
  return TRUE;
}

/* Asynchronous GIO calls attach to the thread-default main context: make
 * it the server's while they are made (it may not be, when the loop runs a
 * context without pushing it). Returns whether to pop it afterwards. */
static gboolean
push_main_context (GSecSockSecureServer *self)
{
  g_autoptr(GMainContext) current = g_main_context_ref_thread_default ();

  if (current == self->main_context)
    return FALSE;
  g_main_context_push_thread_default (self->main_context);
  return TRUE;
}

static void
pop_main_context (GSecSockSecureServer *self,
                  gboolean              pushed)
{
  if (pushed)
    g_main_context_pop_thread_default (self->main_context);
}

/* ---- Handshakes ----------------------------------------------------- */

typedef struct {
  GSecSockSecureServer *server;
  GCancellable *run;      /* the server's cancellable when it started */
} HandshakeData;

static void
handshake_data_free (HandshakeData *data)
{
  g_clear_object (&data->server);
  g_clear_object (&data->run);
  g_free (data);
}

static gboolean
slots_full (GSecSockSecureServer *self)
{
  return self->max_handshakes > 0 &&
         g_hash_table_size (self->handshaking) >= self->max_handshakes;
}

static void
close_quietly (GSecSockSecureSocket *sock)
{
  /* The task keeps the socket alive until it is closed; nothing to wait
   * for. A failed handshake sends nothing more. */
  g_io_stream_close_async (G_IO_STREAM (sock), G_PRIORITY_DEFAULT, NULL, NULL, NULL);
}

/* After a failed handshake: the alert is on its way, but the client's last
 * flight may still be unread, and closing a TCP socket with unread data
 * sends a reset that can overtake the alert. So stop sending, read and
 * drop what comes until the client closes (at most a short while), then
 * close. */
#define LINGER_MS 2000

typedef struct {
  GSecSockSecureSocket *sock;
  GInputStream *input;
  GCancellable *cancellable;
  GSource *timeout;
  char buffer[4096];
} Linger;

static void
linger_finish (Linger *linger)
{
  g_source_destroy (linger->timeout);
  g_source_unref (linger->timeout);
  close_quietly (linger->sock);
  g_object_unref (linger->sock);
  g_object_unref (linger->cancellable);
  g_free (linger);
}

static void
linger_read_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Linger *linger = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n > 0)
    {
      g_input_stream_read_async (linger->input, linger->buffer, sizeof linger->buffer,
                                 G_PRIORITY_DEFAULT, linger->cancellable, linger_read_cb, linger);
      return;
    }
  linger_finish (linger);
}

static gboolean
linger_timeout (gpointer user_data)
{
  Linger *linger = user_data;

  g_cancellable_cancel (linger->cancellable);   /* the read ends, then the close */
  return G_SOURCE_REMOVE;
}

static void
close_after_failure (GSecSockSecureSocket *sock)
{
  GIOStream *base = gsecsock_secure_socket_get_base_stream (sock);
  Linger *linger;

  if (!G_IS_SOCKET_CONNECTION (base) ||
      !g_socket_shutdown (g_socket_connection_get_socket (G_SOCKET_CONNECTION (base)),
                          FALSE, TRUE, NULL))
    {
      close_quietly (sock);
      return;
    }
  linger = g_new0 (Linger, 1);
  linger->sock = g_object_ref (sock);
  linger->input = g_io_stream_get_input_stream (base);
  linger->cancellable = g_cancellable_new ();
  /* In the server's main context, like the read. */
  linger->timeout = g_timeout_source_new (LINGER_MS);
  g_source_set_callback (linger->timeout, linger_timeout, linger, NULL);
  g_source_attach (linger->timeout, g_main_context_get_thread_default ());
  g_input_stream_read_async (linger->input, linger->buffer, sizeof linger->buffer,
                             G_PRIORITY_DEFAULT, linger->cancellable, linger_read_cb, linger);
}

static void start_waiting (GSecSockSecureServer *self);

static void
handshake_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GSecSockSecureSocket *sock = GSECSOCK_SECURE_SOCKET (source);
  HandshakeData *data = user_data;
  GSecSockSecureServer *self = data->server;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = gsecsock_secure_socket_handshake_finish (sock, result, &error);
  g_hash_table_remove (self->handshaking, sock);   /* the task holds @sock */
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_HANDSHAKES]);

  if (g_cancellable_is_cancelled (data->run))
    {
      /* Stopped meanwhile: abandoned, without a word. */
      close_quietly (sock);
    }
  else if (ok)
    {
      if (g_signal_has_handler_pending (self, signals[SIGNAL_INCOMING], 0, FALSE))
        g_signal_emit (self, signals[SIGNAL_INCOMING], 0, sock);
      else
        close_quietly (sock);     /* nobody wants it: close_notify, and done */
    }
  else
    {
      g_debug ("TLS handshake of an incoming connection failed: %s", error->message);
      g_signal_emit (self, signals[SIGNAL_HANDSHAKE_FAILED], 0, sock, error);
      close_after_failure (sock);
    }

  /* A slot is free, whichever run it belonged to: a handshake abandoned by
   * stop() still counted until now, and may have kept a later run from
   * accepting. Both calls do nothing when the server is not serving. */
  start_waiting (self);
  maybe_accept (self);
  handshake_data_free (data);
}

static void
begin_handshake (GSecSockSecureServer *self,
                 GSecSockSecureSocket *sock)
{
  HandshakeData *data = g_new0 (HandshakeData, 1);
  gboolean pushed;

  data->server = g_object_ref (self);
  data->run = g_object_ref (self->cancellable);
  g_hash_table_add (self->handshaking, g_object_ref (sock));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_HANDSHAKES]);

  pushed = push_main_context (self);
  gsecsock_secure_socket_handshake_async (sock, G_PRIORITY_DEFAULT, data->run,
                                          handshake_done, data);
  pop_main_context (self, pushed);
}

/* Sockets of added connections, waiting for a free slot. */
static void
start_waiting (GSecSockSecureServer *self)
{
  while (!g_queue_is_empty (&self->waiting) && !slots_full (self))
    {
      g_autoptr(GSecSockSecureSocket) sock = g_queue_pop_head (&self->waiting);
      begin_handshake (self, sock);
    }
}

/* A new connection: a socket over it, ::accepted, then its handshake (now,
 * or when a slot frees for an added connection). */
static gboolean
take_connection (GSecSockSecureServer  *self,
                 GIOStream             *connection,
                 GError               **error)
{
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GCancellable) run = g_object_ref (self->cancellable);
  gboolean handled = FALSE;

  sock = gsecsock_secure_socket_new (self->context, connection, NULL, error);
  if (sock == NULL)
    return FALSE;
  gsecsock_secure_socket_set_handshake_timeout (sock, self->handshake_timeout);

  g_signal_emit (self, signals[SIGNAL_ACCEPTED], 0, sock, &handled);
  if (handled)
    return TRUE;                  /* the application's now */
  if (run != self->cancellable)
    {
      close_quietly (sock);       /* stopped by the handler */
      return TRUE;
    }

  if (slots_full (self) || !g_queue_is_empty (&self->waiting))
    g_queue_push_tail (&self->waiting, g_steal_pointer (&sock));
  else
    begin_handshake (self, sock);
  return TRUE;
}

/* ---- Accepting ------------------------------------------------------ */

static gboolean
retry_accept (gpointer user_data)
{
  GSecSockSecureServer *self = user_data;

  g_clear_pointer (&self->retry_source, g_source_unref);
  maybe_accept (self);
  return G_SOURCE_REMOVE;
}

typedef struct {
  GSecSockSecureServer *server;   /* the accept's reference */
  GCancellable *cancellable;
} AcceptData;

static void
accept_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  AcceptData *data = user_data;
  g_autoptr(GSecSockSecureServer) self = data->server;
  g_autoptr(GCancellable) cancellable = data->cancellable;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  g_free (data);
  connection = g_socket_listener_accept_finish (G_SOCKET_LISTENER (source), result, NULL, &error);
  if (G_SOCKET_LISTENER (source) != self->listener)
    return;                       /* an accept of a stopped run */
  if (cancellable != self->accept_cancellable)
    {
      /* Replaced by listen() (to watch new sockets too); a connection it
       * got all the same is served. */
      if (connection != NULL && !take_connection (self, G_IO_STREAM (connection), NULL))
        g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return;
    }
  self->accepting = FALSE;
  g_clear_object (&self->accept_cancellable);

  if (connection == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* A client that reset before being accepted, or a process out of
       * file descriptors: the server goes on. */
      g_debug ("Accepting a connection failed: %s", error->message);
      if (++self->accept_failures >= ACCEPT_FAILURES_BEFORE_DELAY && self->retry_source == NULL)
        {
          self->retry_source = g_timeout_source_new (ACCEPT_RETRY_DELAY_MS);
          g_source_set_static_name (self->retry_source, "GSecSockSecureServer retry accept");
          /* The server keeps itself alive while it listens: the retry
           * holds the reference the accept held. */
          g_source_set_callback (self->retry_source, retry_accept, g_object_ref (self),
                                 g_object_unref);
          g_source_attach (self->retry_source, self->main_context);
          return;
        }
      maybe_accept (self);
      return;
    }

  self->accept_failures = 0;
  {
    g_autoptr(GError) local_error = NULL;

    if (!take_connection (self, G_IO_STREAM (connection), &local_error))
      {
        g_warning ("Cannot serve an incoming connection: %s", local_error->message);
        g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      }
  }
  maybe_accept (self);
}

/* Accepts the next connection when listening and a handshake slot is free. */
static void
maybe_accept (GSecSockSecureServer *self)
{
  AcceptData *data;
  gboolean pushed;

  if (self->listener == NULL || self->accepting || self->retry_source != NULL ||
      slots_full (self) || !g_queue_is_empty (&self->waiting))
    return;

  data = g_new0 (AcceptData, 1);
  data->server = g_object_ref (self);
  data->cancellable = g_cancellable_new ();
  self->accepting = TRUE;
  self->accept_cancellable = g_object_ref (data->cancellable);
  pushed = push_main_context (self);
  g_socket_listener_accept_async (self->listener, data->cancellable, accept_done, data);
  pop_main_context (self, pushed);
}

/* ---- Listening ------------------------------------------------------ */

static void
set_address_in_use_error (GSecSockSecureServer  *self,
                          GInetAddress          *address,
                          guint16                port,
                          GError               **error)
{
  g_autofree char *where = g_inet_address_to_string (address);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
               _("Cannot listen on %s port %u: the address is already in use (another "
                 "socket is listening on it%s)"),
               where, port,
               self->reuse_address ? "" :
               _(", or, with reuse-address off, connections of an earlier server on this "
                 "port are still closing (TIME_WAIT)"));
}

/* A listening socket on @address:@port (0: any free port). */
static GSocket *
bind_socket (GSecSockSecureServer  *self,
             GInetAddress          *address,
             guint16                port,
             GError               **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GError) local_error = NULL;

  socket = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  socket_address = g_inet_socket_address_new (address, port);
  /* GLib sets SO_REUSEADDR to exactly @reuse_address. Linux never lets
   * two TCP sockets listen on one port without SO_REUSEPORT (not used):
   * SO_REUSEADDR only lets a port be bound while connections of an earlier
   * server on it are still closing. */
  if (!g_socket_bind (socket, socket_address, self->reuse_address, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        set_address_in_use_error (self, address, port, error);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_listen (socket, error))
    return NULL;
  return g_steal_pointer (&socket);
}

static guint16
socket_port (GSocket *socket)
{
  g_autoptr(GSocketAddress) address = g_socket_get_local_address (socket, NULL);

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return 0;
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
}

/* Every address: one dual-stack IPv6 socket where the system has them,
 * else an IPv6 and an IPv4 socket on the same port, or IPv4 alone on a
 * system without IPv6. */
static gboolean
bind_any (GSecSockSecureServer  *self,
          guint16                port,
          GPtrArray             *sockets,
          GError               **error)
{
  for (guint attempt = 0; ; attempt++)
    {
      g_autoptr(GInetAddress) any6 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
      g_autoptr(GInetAddress) any4 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocket) v6 = NULL;
      g_autoptr(GSocket) v4 = NULL;
      g_autoptr(GError) v6_error = NULL;
      g_autoptr(GError) local_error = NULL;
      guint16 chosen = port;

      v6 = bind_socket (self, any6, port, &v6_error);
      if (v6 != NULL)
        {
          if (g_socket_speaks_ipv4 (v6))
            {
              g_ptr_array_add (sockets, g_steal_pointer (&v6));
              return TRUE;
            }
          chosen = socket_port (v6);
        }
      else if (g_error_matches (v6_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        {
          g_propagate_error (error, g_steal_pointer (&v6_error));
          return FALSE;
        }

      v4 = bind_socket (self, any4, chosen, &local_error);
      if (v4 == NULL)
        {
          /* The port the kernel picked for IPv6 may be taken for IPv4. */
          if (port == 0 && v6 != NULL && attempt < 8 &&
              g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
            continue;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (v6 != NULL)
        g_ptr_array_add (sockets, g_steal_pointer (&v6));
      g_ptr_array_add (sockets, g_steal_pointer (&v4));
      return TRUE;
    }
}

/* Whether @name can be a host name to resolve: no spaces, slashes or
 * other characters that never appear in one (IDN names are fine). */
static gboolean
looks_like_host_name (const char *name)
{
  if (*name == '\0' || strlen (name) > 253)
    return FALSE;
  for (const char *c = name; *c != '\0'; c++)
    if ((guchar) *c < 0x80 && !g_ascii_isalnum (*c) && *c != '.' && *c != '-' && *c != '_')
      return FALSE;
  return TRUE;
}

/* Every address @name resolves to (synchronously), on one port: the first
 * one's, which the system picks when @port is 0. An address that cannot be
 * bound for another reason than being in use (not an address of this
 * machine, or IPv6 missing) is skipped, as long as one can. */
static gboolean
bind_host_name (GSecSockSecureServer  *self,
                const char            *name,
                guint16                port,
                GPtrArray             *sockets,
                GError               **error)
{
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) first_error = NULL;
  g_autoptr(GError) local_error = NULL;
  GList *addresses;

  addresses = g_resolver_lookup_by_name (resolver, name, NULL, &local_error);
  if (addresses == NULL)
    {
      g_set_error (error, local_error->domain, local_error->code,
                   _("Cannot listen on “%s”: %s"), name, local_error->message);
      return FALSE;
    }

  for (GList *l = addresses; l != NULL; l = l->next)
    {
      char *text = g_inet_address_to_string (l->data);
      g_autoptr(GError) bind_error = NULL;
      GSocket *socket;

      if (!g_hash_table_add (seen, text))
        continue;               /* listed twice (/etc/hosts) */
      socket = bind_socket (self, l->data, port, &bind_error);
      if (socket == NULL)
        {
          if (g_error_matches (bind_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
            {
              g_resolver_free_addresses (addresses);
              g_propagate_error (error, g_steal_pointer (&bind_error));
              return FALSE;
            }
          g_debug ("Not listening on %s (%s): %s", text, name, bind_error->message);
          if (first_error == NULL)
            first_error = g_steal_pointer (&bind_error);
          continue;
        }
      g_ptr_array_add (sockets, socket);
      if (port == 0)
        port = socket_port (socket);
    }
  g_resolver_free_addresses (addresses);

  if (sockets->len == 0)
    {
      g_set_error (error, first_error->domain, first_error->code,
                   _("Cannot listen on “%s”: %s"), name, first_error->message);
      return FALSE;
    }
  return TRUE;
}

/**
 * gsecsock_secure_server_listen:
 * @self: a server
 * @address: (nullable): the address to listen on: an IP address, IPv4 or
 *   IPv6 ("127.0.0.1", "::1", "192.0.2.7"…), or a host name of this
 *   machine (resolved now, every address it names listened on: "localhost"
 *   is 127.0.0.1 and ::1); or %NULL for every address of the machine, IPv4
 *   and IPv6
 * @port: the TCP port, or 0 to let the system pick a free one
 * @error: return location for a #GError
 *
 * Listens on @address and @port and starts serving the connections that
 * arrive there. It may be called several times, for several addresses or
 * ports; [property@GSecSock.SecureServer:port] is the last one.
 *
 * With [property@GSecSock.SecureServer:reuse-address] on (the default) the
 * port can be listened on again at once after a server on it stopped, even
 * while its last connections are closing; off, it must be entirely free.
 * In both cases a port another socket is listening on is refused: the
 * server never shares a port.
 *
 * The first call (or [method@GSecSock.SecureServer.add_connection])
 * starts the server in the calling thread's thread-default main context.
 *
 * Returns: the port listened on (the one picked, for @port 0); 0 with
 *   @error set to %G_IO_ERROR_ADDRESS_IN_USE if the port is taken, another
 *   %G_IO_ERROR if the system refuses, a %G_RESOLVER_ERROR if the host
 *   name does not resolve, or %GSECSOCK_ERROR_MISUSE if @address is
 *   neither an IP address nor a host name, the context has no certificate,
 *   or the call comes from another main context than the server's
 *
 * Since: 0.1
 */
guint16
gsecsock_secure_server_listen (GSecSockSecureServer  *self,
                               const char            *address,
                               guint16                port,
                               GError               **error)
{
  g_autoptr(GPtrArray) sockets = g_ptr_array_new_with_free_func (g_object_unref);
  SSL *ssl;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SERVER (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (address != NULL && !g_hostname_is_ip_address (address) && !looks_like_host_name (address))
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                   _("“%s” is neither an IP address nor a host name: listen on an address "
                     "of this machine such as “127.0.0.1”, “::1” or “localhost”, or pass "
                     "NULL for all of them"), address);
      return 0;
    }
  /* Refuse now what would make every connection fail later. */
  ssl = gsecsock_secure_socket_context_create_ssl (self->context, error);
  if (ssl == NULL)
    return 0;
  SSL_free (ssl);
  if (!ensure_main_context (self, error))
    return 0;

  if (address == NULL)
    {
      if (!bind_any (self, port, sockets, error))
        return 0;
    }
  else if (g_hostname_is_ip_address (address))
    {
      g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
      GSocket *socket = bind_socket (self, inet, port, error);

      if (socket == NULL)
        return 0;
      g_ptr_array_add (sockets, socket);
    }
  else if (!bind_host_name (self, address, port, sockets, error))
    return 0;

  if (self->listener == NULL)
    self->listener = g_socket_listener_new ();
  for (guint i = 0; i < sockets->len; i++)
    if (!g_socket_listener_add_socket (self->listener, g_ptr_array_index (sockets, i), NULL, error))
      return 0;
  /* A pending accept watches only the sockets it started with: start
   * another, which watches these too. */
  if (self->accepting)
    {
      g_cancellable_cancel (self->accept_cancellable);
      g_clear_object (&self->accept_cancellable);
      self->accepting = FALSE;
    }

  self->port = socket_port (g_ptr_array_index (sockets, 0));
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LISTENING]);
  g_object_thaw_notify (G_OBJECT (self));

  maybe_accept (self);
  return self->port;
}

/**
 * gsecsock_secure_server_add_connection:
 * @self: a server
 * @connection: a connection accepted elsewhere (a #GSocketConnection, or
 *   any stream whose input and output are pollable)
 * @error: return location for a #GError
 *
 * Serves a connection accepted by other means than
 * [method@GSecSock.SecureServer.listen]: by an existing
 * [class@Gio.SocketService], from a socket passed by a service manager, or
 * a plain connection upgraded to TLS. It goes through
 * [signal@GSecSock.SecureServer::accepted], then its handshake (at once, or
 * when [property@GSecSock.SecureServer:max-handshakes] allows), then
 * [signal@GSecSock.SecureServer::incoming] or
 * [signal@GSecSock.SecureServer::handshake-failed], as a connection the
 * server accepted itself.
 *
 * Returns: %TRUE if the server took the connection; %FALSE with @error set
 *   to %GSECSOCK_ERROR_MISUSE if no secure socket can be made over it (see
 *   [ctor@GSecSock.SecureSocket.new]) or the call comes from another main
 *   context than the server's
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_server_add_connection (GSecSockSecureServer  *self,
                                       GIOStream             *connection,
                                       GError               **error)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SERVER (self), FALSE);
  g_return_val_if_fail (G_IS_IO_STREAM (connection), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ensure_main_context (self, error))
    return FALSE;
  return take_connection (self, connection, error);
}

/**
 * gsecsock_secure_server_stop:
 * @self: a server
 *
 * Stops serving: closes the listening sockets (their ports are free
 * again), abandons the handshakes in progress (those connections are
 * closed, without a signal) and the added connections still waiting for
 * theirs. Sockets already handed out with
 * [signal@GSecSock.SecureServer::incoming] are the application's and stay
 * open. The server may listen again afterwards, in the same main context.
 *
 * Since: 0.1
 */
void
gsecsock_secure_server_stop (GSecSockSecureServer *self)
{
  gboolean was_listening;
  GSecSockSecureSocket *sock;

  g_return_if_fail (GSECSOCK_IS_SECURE_SERVER (self));

  was_listening = self->listener != NULL;
  if (self->listener != NULL)
    {
      g_socket_listener_close (self->listener);
      g_clear_object (&self->listener);
    }
  self->accepting = FALSE;
  if (self->accept_cancellable != NULL)
    {
      g_cancellable_cancel (self->accept_cancellable);
      g_clear_object (&self->accept_cancellable);
    }
  self->accept_failures = 0;
  if (self->retry_source != NULL)
    {
      g_source_destroy (self->retry_source);
      g_clear_pointer (&self->retry_source, g_source_unref);
    }
  /* Pending accepts and handshakes see their run cancelled. */
  g_cancellable_cancel (self->cancellable);
  g_object_unref (self->cancellable);
  self->cancellable = g_cancellable_new ();

  while ((sock = g_queue_pop_head (&self->waiting)) != NULL)
    {
      close_quietly (sock);
      g_object_unref (sock);
    }

  if (was_listening)
    {
      self->port = 0;
      g_object_freeze_notify (G_OBJECT (self));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LISTENING]);
      g_object_thaw_notify (G_OBJECT (self));
    }
}

/* ---- GObject -------------------------------------------------------- */

static void
gsecsock_secure_server_constructed (GObject *object)
{
  GSecSockSecureServer *self = GSECSOCK_SECURE_SERVER (object);

  G_OBJECT_CLASS (gsecsock_secure_server_parent_class)->constructed (object);

  if (self->context == NULL ||
      gsecsock_secure_socket_context_get_mode (self->context) != GSECSOCK_MODE_SERVER)
    g_critical ("A GSecSockSecureServer needs a server context "
                "(gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER)): "
                "use gsecsock_secure_server_new()");
}

static void
gsecsock_secure_server_dispose (GObject *object)
{
  GSecSockSecureServer *self = GSECSOCK_SECURE_SERVER (object);

  gsecsock_secure_server_stop (self);

  G_OBJECT_CLASS (gsecsock_secure_server_parent_class)->dispose (object);
}

static void
gsecsock_secure_server_finalize (GObject *object)
{
  GSecSockSecureServer *self = GSECSOCK_SECURE_SERVER (object);

  g_clear_pointer (&self->handshaking, g_hash_table_unref);
  g_queue_clear_full (&self->waiting, g_object_unref);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->context);
  g_clear_pointer (&self->main_context, g_main_context_unref);

  G_OBJECT_CLASS (gsecsock_secure_server_parent_class)->finalize (object);
}

static void
gsecsock_secure_server_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  GSecSockSecureServer *self = GSECSOCK_SECURE_SERVER (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_object (value, self->context);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_LISTENING:
      g_value_set_boolean (value, self->listener != NULL);
      break;
    case PROP_REUSE_ADDRESS:
      g_value_set_boolean (value, self->reuse_address);
      break;
    case PROP_MAX_HANDSHAKES:
      g_value_set_uint (value, self->max_handshakes);
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      g_value_set_uint (value, self->handshake_timeout);
      break;
    case PROP_N_HANDSHAKES:
      g_value_set_uint (value, gsecsock_secure_server_get_n_handshakes (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gsecsock_secure_server_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  GSecSockSecureServer *self = GSECSOCK_SECURE_SERVER (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_object (value);
      break;
    case PROP_REUSE_ADDRESS:
      gsecsock_secure_server_set_reuse_address (self, g_value_get_boolean (value));
      break;
    case PROP_MAX_HANDSHAKES:
      gsecsock_secure_server_set_max_handshakes (self, g_value_get_uint (value));
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      gsecsock_secure_server_set_handshake_timeout (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gsecsock_secure_server_class_init (GSecSockSecureServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = gsecsock_secure_server_constructed;
  object_class->dispose = gsecsock_secure_server_dispose;
  object_class->finalize = gsecsock_secure_server_finalize;
  object_class->get_property = gsecsock_secure_server_get_property;
  object_class->set_property = gsecsock_secure_server_set_property;

  /**
   * GSecSockSecureServer:context:
   *
   * The server context the sockets are made from: their certificate (or
   * certificates, by name, see
   * [method@GSecSock.SecureSocketContext.add_sni_context]), their
   * client-certificate policy
   * ([property@GSecSock.SecureSocketContext:client-auth]), versions and
   * ALPN protocols. Its context-level signals
   * ([signal@GSecSock.SecureSocketContext::verify-certificate],
   * [signal@GSecSock.SecureSocketContext::handshake-info]) serve every
   * connection of the server.
   *
   * Since: 0.1
   */
  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL, GSECSOCK_TYPE_SECURE_SOCKET_CONTEXT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * GSecSockSecureServer:port:
   *
   * The TCP port of the last successful
   * [method@GSecSock.SecureServer.listen] (the one the system picked when
   * asked for port 0); 0 when the server is not listening.
   *
   * Since: 0.1
   */
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureServer:listening:
   *
   * Whether the server listens on at least one port: from the first
   * successful [method@GSecSock.SecureServer.listen] until
   * [method@GSecSock.SecureServer.stop].
   *
   * Since: 0.1
   */
  properties[PROP_LISTENING] =
    g_param_spec_boolean ("listening", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureServer:reuse-address:
   *
   * Whether ports are bound with `SO_REUSEADDR`; on by default. It applies
   * to the following [method@GSecSock.SecureServer.listen] calls.
   *
   * On (the default), a server can listen again on its port at once after
   * a restart, although connections of the previous run are still closing
   * (in TCP's TIME_WAIT state, a minute on Linux). Off, the port must be
   * entirely free: listening fails with %G_IO_ERROR_ADDRESS_IN_USE while
   * such connections linger.
   *
   * Either way, a port another socket is listening on is refused with
   * %G_IO_ERROR_ADDRESS_IN_USE: on Linux, `SO_REUSEADDR` never lets two
   * TCP sockets listen on one port (that would take `SO_REUSEPORT`, which
   * gsecsock does not use), so the server never shares its port.
   *
   * Since: 0.1
   */
  properties[PROP_REUSE_ADDRESS] =
    g_param_spec_boolean ("reuse-address", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureServer:max-handshakes:
   *
   * The most handshakes run at once; 0 for no limit. The default is 64.
   *
   * When that many handshakes are running, the server accepts no more
   * connections: they wait in the kernel's accept queue (up to 128 per
   * listening socket; beyond that, the system drops new connection
   * attempts, which clients retry) until a handshake ends, by success,
   * failure or [property@GSecSock.SecureServer:handshake-timeout].
   * Connections given with [method@GSecSock.SecureServer.add_connection]
   * wait in the server, in order, likewise.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_HANDSHAKES] =
    g_param_spec_uint ("max-handshakes", NULL, NULL, 0, G_MAXUINT, DEFAULT_MAX_HANDSHAKES,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureServer:handshake-timeout:
   *
   * How many seconds each connection has, from its acceptance, to complete
   * its handshake; 0 for no limit. The default is 30.
   *
   * It is set as [property@GSecSock.SecureSocket:handshake-timeout] on
   * every socket before [signal@GSecSock.SecureServer::accepted], whose
   * handler may change it for one connection. A connection that runs out
   * of time fails with %G_IO_ERROR_TIMED_OUT
   * ([signal@GSecSock.SecureServer::handshake-failed]) and frees its slot.
   *
   * Since: 0.1
   */
  properties[PROP_HANDSHAKE_TIMEOUT] =
    g_param_spec_uint ("handshake-timeout", NULL, NULL, 0, G_MAXUINT, DEFAULT_HANDSHAKE_TIMEOUT,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureServer:n-handshakes:
   *
   * How many handshakes are running now (at most
   * [property@GSecSock.SecureServer:max-handshakes]).
   *
   * Since: 0.1
   */
  properties[PROP_N_HANDSHAKES] =
    g_param_spec_uint ("n-handshakes", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * GSecSockSecureServer::accepted:
   * @self: the server
   * @socket: the secure socket over the new connection, before its
   *   handshake
   *
   * Emitted for every new connection, before its handshake, in the
   * server's main context: the moment for per-connection decisions. A
   * handler may connect per-socket signals (such as
   * [signal@GSecSock.SecureSocket::verify-certificate]), change
   * [property@GSecSock.SecureSocket:handshake-timeout], or look at the
   * client's address through [method@GSecSock.SecureSocket.get_base_stream].
   *
   * Returning %TRUE takes the connection over: the server forgets it (no
   * handshake, no further signal, no slot counted) and the handler must
   * keep a reference and handshake or close it itself; to refuse a client,
   * close @socket and return %TRUE. Returning %FALSE (or having no handler)
   * lets the server run the handshake.
   *
   * ```c
   * static gboolean
   * on_accepted (GSecSockSecureServer *server, GSecSockSecureSocket *sock, gpointer user_data)
   * {
   *   if (!address_allowed (gsecsock_secure_socket_get_base_stream (sock)))
   *     {
   *       g_io_stream_close (G_IO_STREAM (sock), NULL, NULL);
   *       return TRUE;
   *     }
   *   return FALSE;
   * }
   * ```
   *
   * ```python
   * server.connect('accepted', lambda server, sock: False)
   * ```
   *
   * Returns: %TRUE if the handler took the connection over, %FALSE to let
   *   the server handshake it
   *
   * Since: 0.1
   */
  signals[SIGNAL_ACCEPTED] =
    g_signal_new ("accepted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, g_signal_accumulator_true_handled, NULL, NULL,
                  G_TYPE_BOOLEAN, 1, GSECSOCK_TYPE_SECURE_SOCKET);

  /**
   * GSecSockSecureServer::incoming:
   * @self: the server
   * @socket: a secure socket whose handshake succeeded
   *
   * Emitted, in the server's main context, for every connection whose TLS
   * handshake succeeded: @socket is ready to read and write, and tells what
   * was negotiated (the protocol version, the client's certificate if one
   * was asked for, [property@GSecSock.SecureSocket:server-name], …).
   *
   * The server drops its reference after the emission: a handler must keep
   * one to go on with the connection. With no handler at all, the
   * connection is closed at once.
   *
   * ```c
   * static void
   * on_incoming (GSecSockSecureServer *server, GSecSockSecureSocket *sock, gpointer user_data)
   * {
   *   start_session (g_object_ref (sock));
   * }
   * ```
   *
   * ```python
   * server.connect('incoming', lambda server, sock: sessions.add(Session(sock)))
   * ```
   *
   * Since: 0.1
   */
  signals[SIGNAL_INCOMING] =
    g_signal_new ("incoming", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, GSECSOCK_TYPE_SECURE_SOCKET);

  /**
   * GSecSockSecureServer::handshake-failed:
   * @self: the server
   * @socket: the socket whose handshake failed
   * @error: why: a %GSECSOCK_ERROR (%GSECSOCK_ERROR_NOT_TLS,
   *   %GSECSOCK_ERROR_CERTIFICATE_REJECTED, %GSECSOCK_ERROR_PROTOCOL_VERSION,
   *   …) or a %G_IO_ERROR (%G_IO_ERROR_TIMED_OUT after
   *   [property@GSecSock.SecureServer:handshake-timeout], a reset, …)
   *
   * Emitted, in the server's main context, when the handshake of a
   * connection fails. The server goes on serving others; @socket is closed
   * after the emission (what it learnt, such as
   * [property@GSecSock.SecureSocket:certificate-errors], can still be read
   * in the handler). Not emitted for handshakes abandoned by
   * [method@GSecSock.SecureServer.stop].
   *
   * ```python
   * server.connect('handshake-failed',
   *                lambda server, sock, error: log.info('TLS failed: %s', error.message))
   * ```
   *
   * Since: 0.1
   */
  signals[SIGNAL_HANDSHAKE_FAILED] =
    g_signal_new ("handshake-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, GSECSOCK_TYPE_SECURE_SOCKET, G_TYPE_ERROR);
}

static void
gsecsock_secure_server_init (GSecSockSecureServer *self)
{
  self->reuse_address = TRUE;
  self->max_handshakes = DEFAULT_MAX_HANDSHAKES;
  self->handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT;
  self->cancellable = g_cancellable_new ();
  self->handshaking = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  g_queue_init (&self->waiting);
}

/**
 * gsecsock_secure_server_new:
 * @context: a server context (%GSECSOCK_MODE_SERVER) with a certificate
 * @error: return location for a #GError
 *
 * Creates a TLS server for @context. It does nothing until
 * [method@GSecSock.SecureServer.listen] or
 * [method@GSecSock.SecureServer.add_connection].
 *
 * Returns: (transfer full): a new server, or %NULL with @error set to
 *   %GSECSOCK_ERROR_MISUSE if @context is a client context
 *
 * Since: 0.1
 */
GSecSockSecureServer *
gsecsock_secure_server_new (GSecSockSecureSocketContext  *context,
                            GError                      **error)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (context), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (gsecsock_secure_socket_context_get_mode (context) != GSECSOCK_MODE_SERVER)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                           _("A TLS server needs a server context: create it with "
                             "gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER) and "
                             "load its certificate"));
      return NULL;
    }
  return g_object_new (GSECSOCK_TYPE_SECURE_SERVER, "context", context, NULL);
}

/**
 * gsecsock_secure_server_get_context:
 * @self: a server
 *
 * Gets [property@GSecSock.SecureServer:context].
 *
 * Returns: (transfer none): the server context
 *
 * Since: 0.1
 */
GSecSockSecureSocketContext *
gsecsock_secure_server_get_context (GSecSockSecureServer *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SERVER (self), NULL);
  return self->context;
}

/**
 * gsecsock_secure_server_get_port:
 * @self: a server
 *
 * Gets [property@GSecSock.SecureServer:port].
 *
 * Returns: the port of the last successful listen, or 0
 *
 * Since: 0.1
 */
guint16
gsecsock_secure_server_get_port (GSecSockSecureServer *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SERVER (self), 0);
  return self->port;
}

/**
 * gsecsock_secure_server_get_listening:
 * @self: a server
 *
 * Gets [property@GSecSock.SecureServer:listening].
 *
 * Returns: whether the server listens on at least one port
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_server_get_listening (GSecSockSecureServer *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SERVER (self), FALSE);
  return self->listener != NULL;
}

/**
 * gsecsock_secure_server_get_reuse_address:
 * @self: a server
 *
 * Gets [property@GSecSock.SecureServer:reuse-address].
 *
 * Returns: whether ports are bound with `SO_REUSEADDR`
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_server_get_reuse_address (GSecSockSecureServer *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SERVER (self), TRUE);
  return self->reuse_address;
}

/**
 * gsecsock_secure_server_set_reuse_address:
 * @self: a server
 * @reuse_address: whether to bind ports with `SO_REUSEADDR`
 *
 * Sets [property@GSecSock.SecureServer:reuse-address], for the following
 * [method@GSecSock.SecureServer.listen] calls.
 *
 * Since: 0.1
 */
void
gsecsock_secure_server_set_reuse_address (GSecSockSecureServer *self,
                                          gboolean              reuse_address)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SERVER (self));

  reuse_address = !!reuse_address;
  if (self->reuse_address == reuse_address)
    return;
  self->reuse_address = reuse_address;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REUSE_ADDRESS]);
}

/**
 * gsecsock_secure_server_get_max_handshakes:
 * @self: a server
 *
 * Gets [property@GSecSock.SecureServer:max-handshakes].
 *
 * Returns: the most handshakes run at once, or 0 for no limit
 *
 * Since: 0.1
 */
guint
gsecsock_secure_server_get_max_handshakes (GSecSockSecureServer *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SERVER (self), 0);
  return self->max_handshakes;
}

/**
 * gsecsock_secure_server_set_max_handshakes:
 * @self: a server
 * @max_handshakes: the most handshakes to run at once, or 0 for no limit
 *
 * Sets [property@GSecSock.SecureServer:max-handshakes]. Raising it lets
 * waiting connections in at once; lowering it below the number running
 * stops nothing, but no new handshake starts until fewer run.
 *
 * Since: 0.1
 */
void
gsecsock_secure_server_set_max_handshakes (GSecSockSecureServer *self,
                                           guint                 max_handshakes)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SERVER (self));

  if (self->max_handshakes == max_handshakes)
    return;
  self->max_handshakes = max_handshakes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_HANDSHAKES]);
  if (self->main_context != NULL)
    {
      start_waiting (self);
      maybe_accept (self);
    }
}

/**
 * gsecsock_secure_server_get_handshake_timeout:
 * @self: a server
 *
 * Gets [property@GSecSock.SecureServer:handshake-timeout].
 *
 * Returns: the seconds each connection has to complete its handshake, or
 *   0 for no limit
 *
 * Since: 0.1
 */
guint
gsecsock_secure_server_get_handshake_timeout (GSecSockSecureServer *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SERVER (self), 0);
  return self->handshake_timeout;
}

/**
 * gsecsock_secure_server_set_handshake_timeout:
 * @self: a server
 * @seconds: the seconds each new connection has to complete its
 *   handshake, or 0 for no limit
 *
 * Sets [property@GSecSock.SecureServer:handshake-timeout], for connections
 * accepted afterwards.
 *
 * Since: 0.1
 */
void
gsecsock_secure_server_set_handshake_timeout (GSecSockSecureServer *self,
                                              guint                 seconds)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SERVER (self));

  if (self->handshake_timeout == seconds)
    return;
  self->handshake_timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HANDSHAKE_TIMEOUT]);
}

/**
 * gsecsock_secure_server_get_n_handshakes:
 * @self: a server
 *
 * Gets [property@GSecSock.SecureServer:n-handshakes].
 *
 * Returns: how many handshakes are running now
 *
 * Since: 0.1
 */
guint
gsecsock_secure_server_get_n_handshakes (GSecSockSecureServer *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SERVER (self), 0);
  return g_hash_table_size (self->handshaking);
}
