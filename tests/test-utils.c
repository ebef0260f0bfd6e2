/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-utils.h"

#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#if defined(__SANITIZE_ADDRESS__)
#define TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_UNDER_ASAN 1
#endif
#endif

#ifdef TEST_UNDER_ASAN
/* G_TEST_OPTION_ISOLATE_DIRS gives every test case fresh XDG directories
 * through g_set_user_dirs(), which leaks the previous test case's strings on
 * purpose (callers may still point at them) and says so to LeakSanitizer
 * only when GLib itself is built with it. Debian's GLib is not, and has no
 * frame pointers: LSan's fast unwinder cannot see g_set_user_dirs() in those
 * allocations, so no suppression can match them, and its slow unwinder makes
 * the suite ten times slower (tests/sanitize/run.sh). So under ASan a test
 * program gets one set of fresh directories for all its test cases, given
 * in the environment before GLib reads it (nothing to leak), and removed at
 * exit; test_tmp_path() gives each test case a directory of its own in it. */
static char *process_dirs_root;
static pid_t process_dirs_owner;   /* a forked child must not remove them */

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);

  if (dir != NULL)
    {
      const char *name;

      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
              !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static void
remove_process_dirs (void)
{
  if (getpid () != process_dirs_owner)
    return;
  remove_tree (process_dirs_root);
  g_clear_pointer (&process_dirs_root, g_free);
}

static void
isolate_process_dirs (void)
{
  /* GLib reads these once, on first use: set before anything asks. */
  static const char *const variables[][2] = {
    { "HOME", "home" },
    { "XDG_CACHE_HOME", "cache" },
    { "XDG_CONFIG_HOME", "config" },
    { "XDG_DATA_HOME", "data" },
    { "XDG_STATE_HOME", "state" },
    { "XDG_RUNTIME_DIR", "runtime" },
    { "XDG_CONFIG_DIRS", "system-config" },
    { "XDG_DATA_DIRS", "system-data" },
  };
  g_autoptr(GError) error = NULL;

  process_dirs_root = g_dir_make_tmp ("gsecsock-test-XXXXXX", &error);
  if (process_dirs_root == NULL)
    g_error ("Cannot make the test's temporary directory: %s", error->message);
  process_dirs_owner = getpid ();
  atexit (remove_process_dirs);
  for (gsize i = 0; i < G_N_ELEMENTS (variables); i++)
    {
      g_autofree char *path = g_build_filename (process_dirs_root, variables[i][1], NULL);

      if (g_mkdir (path, 0700) != 0)
        g_error ("Cannot make %s: %s", path, g_strerror (errno));
      g_setenv (variables[i][0], path, TRUE);
    }
}
#endif

void
test_init (int    *argc,
           char ***argv)
{
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
#ifdef TEST_UNDER_ASAN
  isolate_process_dirs ();
  g_test_init (argc, argv, NULL);
#else
  g_test_init (argc, argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
#endif
}

const char *
test_pki_path (const char *name)
{
  const char *dir = g_getenv ("GSECSOCK_TEST_PKI_DIR");
  g_autofree char *path = NULL;

  if (dir == NULL)
    g_error ("GSECSOCK_TEST_PKI_DIR is not set: run the tests through 'meson test'");
  path = g_build_filename (dir, name, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    g_error ("Test PKI file %s is missing: was tests/make-test-pki.sh run?", path);
  return g_intern_string (path);
}

GSecSockCertificate *
test_load_certificate (const char *name)
{
  g_autoptr(GError) error = NULL;
  GSecSockCertificate *cert;

  cert = gsecsock_certificate_new_from_file (test_pki_path (name), &error);
  g_assert_no_error (error);
  g_assert_nonnull (cert);
  return cert;
}

GSecSockSecureSocketContext *
test_make_client_context (void)
{
  g_autoptr(GSecSockSecureSocketContext) context = NULL;
  g_autoptr(GError) error = NULL;

  context = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  gsecsock_secure_socket_context_set_use_system_trust (context, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (context, test_pki_path ("ca.pem"), &error));
  g_assert_no_error (error);
  return g_steal_pointer (&context);
}

GSecSockSecureSocketContext *
test_make_server_context (const char *chain_name,
                          const char *key_name)
{
  g_autoptr(GSecSockSecureSocketContext) context = NULL;
  g_autoptr(GError) error = NULL;

  context = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_assert_true (gsecsock_secure_socket_context_load_certificate_file (context,
                                                                      test_pki_path (chain_name),
                                                                      key_name ? test_pki_path (key_name) : NULL,
                                                                      &error));
  g_assert_no_error (error);
  return g_steal_pointer (&context);
}

GSecSockSecureSocketContext *
test_make_client_context_with_certificate (const char *chain_name,
                                           const char *key_name)
{
  g_autoptr(GSecSockSecureSocketContext) context = test_make_client_context ();
  g_autoptr(GError) error = NULL;

  g_assert_true (gsecsock_secure_socket_context_load_certificate_file (context,
                                                                      test_pki_path (chain_name),
                                                                      key_name ? test_pki_path (key_name) : NULL,
                                                                      &error));
  g_assert_no_error (error);
  return g_steal_pointer (&context);
}

static GSocket *
bind_socket (const char  *address,
             gboolean     listen,
             GError     **error)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
  g_autoptr(GSocketAddress) sockaddr = NULL;
  g_autoptr(GSocket) socket = NULL;

  g_assert_nonnull (inet);
  sockaddr = g_inet_socket_address_new (inet, 0);
  socket = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  if (!g_socket_bind (socket, sockaddr, TRUE, error))
    return NULL;
  if (listen && !g_socket_listen (socket, error))
    return NULL;
  return g_steal_pointer (&socket);
}

static guint16
socket_port (GSocket *socket)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (socket, &error);

  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
}

gboolean
test_ipv6_loopback_available (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = bind_socket ("::1", TRUE, &error);

  return socket != NULL;
}

guint16
test_find_free_port (const char *address)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = bind_socket (address, FALSE, &error);

  g_assert_no_error (error);
  return socket_port (socket);
}

void
test_socket_pair (const char          *address,
                  GSocketConnection  **client,
                  GSocketConnection  **server)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) listener = NULL;
  g_autoptr(GSocket) client_socket = NULL;
  g_autoptr(GSocket) server_socket = NULL;
  g_autoptr(GSocketAddress) local = NULL;

  listener = bind_socket (address, TRUE, &error);
  g_assert_no_error (error);
  local = g_socket_get_local_address (listener, &error);
  g_assert_no_error (error);

  client_socket = g_socket_new (g_socket_get_family (listener), G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  /* A loopback connect completes through the listen backlog, before accept. */
  g_assert_true (g_socket_connect (client_socket, local, NULL, &error));
  g_assert_no_error (error);
  server_socket = g_socket_accept (listener, NULL, &error);
  g_assert_no_error (error);

  *client = g_socket_connection_factory_create_connection (client_socket);
  *server = g_socket_connection_factory_create_connection (server_socket);
}

guint
test_count_threads (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, &error);
  guint n = 0;

  g_assert_no_error (error);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

struct _TestGuard {
  GSource *source;
  gboolean expired;
};

static gboolean
guard_expired_cb (gpointer user_data)
{
  TestGuard *guard = user_data;

  guard->expired = TRUE;
  guard->source = NULL;
  return G_SOURCE_REMOVE;
}

TestGuard *
test_guard_new (GMainContext *context)
{
  return test_guard_new_seconds (context, TEST_GUARD_TIMEOUT_SECONDS);
}

TestGuard *
test_guard_new_seconds (GMainContext *context,
                        guint         seconds)
{
  TestGuard *guard = g_new0 (TestGuard, 1);

  guard->source = g_timeout_source_new_seconds (seconds);
  g_source_set_callback (guard->source, guard_expired_cb, guard, NULL);
  g_source_set_name (guard->source, "test guard timeout");
  g_source_attach (guard->source, context);
  g_source_unref (guard->source);
  return guard;
}

gboolean
test_guard_expired (TestGuard *guard)
{
  return guard->expired;
}

void
test_guard_free (TestGuard *guard)
{
  if (guard->source != NULL)
    g_source_destroy (guard->source);
  g_free (guard);
}

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

void
test_run_context_for (GMainContext *context,
                      guint         ms)
{
  gboolean done = FALSE;
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, set_flag_cb, &done, NULL);
  g_source_attach (source, context);
  while (!done)
    g_main_context_iteration (context, TRUE);
  g_source_unref (source);
}

void
test_store_result_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (*out);
  *out = g_object_ref (result);
}

void
test_wait_for_result (GAsyncResult **result)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();

  test_wait_until (context, *result != NULL);
}

struct _TestWatchdog {
  GMutex mutex;
  GCond cond;
  gboolean stopped;
  char *what;
  GThread *thread;
};

static gpointer
watchdog_thread (gpointer data)
{
  TestWatchdog *watchdog = data;
  gint64 deadline = g_get_monotonic_time () + TEST_GUARD_TIMEOUT_SECONDS * G_TIME_SPAN_SECOND;

  g_mutex_lock (&watchdog->mutex);
  while (!watchdog->stopped)
    {
      if (!g_cond_wait_until (&watchdog->cond, &watchdog->mutex, deadline) && !watchdog->stopped)
        g_error ("Timed out after %d s: %s", TEST_GUARD_TIMEOUT_SECONDS, watchdog->what);
    }
  g_mutex_unlock (&watchdog->mutex);
  return NULL;
}

TestWatchdog *
test_watchdog_start (const char *what)
{
  TestWatchdog *watchdog = g_new0 (TestWatchdog, 1);

  g_mutex_init (&watchdog->mutex);
  g_cond_init (&watchdog->cond);
  watchdog->what = g_strdup (what);
  watchdog->thread = g_thread_new ("test-watchdog", watchdog_thread, watchdog);
  return watchdog;
}

void
test_watchdog_stop (TestWatchdog *watchdog)
{
  g_mutex_lock (&watchdog->mutex);
  watchdog->stopped = TRUE;
  g_cond_signal (&watchdog->cond);
  g_mutex_unlock (&watchdog->mutex);
  g_thread_join (watchdog->thread);
  g_mutex_clear (&watchdog->mutex);
  g_cond_clear (&watchdog->cond);
  g_free (watchdog->what);
  g_free (watchdog);
}

void
test_op_clear (TestOp *op)
{
  g_clear_error (&op->error);
  op->done = FALSE;
  op->ok = FALSE;
}

void
test_tls_pair_init (TestTlsPair                 *pair,
                    GSecSockSecureSocketContext *client_context,
                    GSecSockSecureSocketContext *server_context,
                    const char                  *address,
                    const char                  *peer_name)
{
  g_autoptr(GError) error = NULL;

  memset (pair, 0, sizeof *pair);
  test_socket_pair (address, &pair->client_conn, &pair->server_conn);
  pair->client = gsecsock_secure_socket_new (client_context, G_IO_STREAM (pair->client_conn),
                                             peer_name, &error);
  g_assert_no_error (error);
  g_assert_true (GSECSOCK_IS_SECURE_SOCKET (pair->client));
  pair->server = gsecsock_secure_socket_new (server_context, G_IO_STREAM (pair->server_conn),
                                             NULL, &error);
  g_assert_no_error (error);
  g_assert_true (GSECSOCK_IS_SECURE_SOCKET (pair->server));
}

void
test_tls_pair_clear (TestTlsPair *pair)
{
  g_clear_object (&pair->client);
  g_clear_object (&pair->server);
  g_clear_object (&pair->client_conn);
  g_clear_object (&pair->server_conn);
  test_op_clear (&pair->client_op);
  test_op_clear (&pair->server_op);
}

void
test_handshake_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  TestOp *op = user_data;

  /* A callback must run exactly once. */
  g_assert_false (op->done);
  op->ok = gsecsock_secure_socket_handshake_finish (GSECSOCK_SECURE_SOCKET (source), result, &op->error);
  g_assert_true (op->ok == (op->error == NULL));
  op->done = TRUE;
}

gboolean
test_tls_pair_handshake_async (TestTlsPair *pair)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();

  test_op_clear (&pair->client_op);
  test_op_clear (&pair->server_op);
  gsecsock_secure_socket_handshake_async (pair->server, G_PRIORITY_DEFAULT, NULL,
                                          test_handshake_cb, &pair->server_op);
  gsecsock_secure_socket_handshake_async (pair->client, G_PRIORITY_DEFAULT, NULL,
                                          test_handshake_cb, &pair->client_op);
  /* GIO convention: callbacks never run from inside the _async call. */
  g_assert_false (pair->client_op.done);
  g_assert_false (pair->server_op.done);
  test_wait_until (context, pair->client_op.done && pair->server_op.done);
  return pair->client_op.ok && pair->server_op.ok;
}

static gpointer
server_handshake_thread (gpointer data)
{
  TestTlsPair *pair = data;

  pair->server_op.ok = gsecsock_secure_socket_handshake (pair->server, NULL, &pair->server_op.error);
  pair->server_op.done = TRUE;
  return NULL;
}

gboolean
test_tls_pair_handshake_sync (TestTlsPair *pair)
{
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("synchronous handshake");
  GThread *thread;

  test_op_clear (&pair->client_op);
  test_op_clear (&pair->server_op);
  thread = g_thread_new ("server-handshake", server_handshake_thread, pair);
  pair->client_op.ok = gsecsock_secure_socket_handshake (pair->client, NULL, &pair->client_op.error);
  pair->client_op.done = TRUE;
  g_thread_join (thread);
  g_assert_true (pair->client_op.ok == (pair->client_op.error == NULL));
  g_assert_true (pair->server_op.ok == (pair->server_op.error == NULL));
  return pair->client_op.ok && pair->server_op.ok;
}

void
test_write_all (GIOStream  *stream,
                const void *data,
                gsize       len)
{
  g_autoptr(GError) error = NULL;
  gsize written = 0;

  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (stream),
                                            data, len, &written, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (written, ==, len);
}

void
test_read_exact (GIOStream *stream,
                 void      *buffer,
                 gsize      len)
{
  g_autoptr(GError) error = NULL;
  gsize got = 0;

  g_assert_true (g_input_stream_read_all (g_io_stream_get_input_stream (stream),
                                          buffer, len, &got, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (got, ==, len);
}

char *
test_read_to_eof (GIOStream  *stream,
                  gsize       max,
                  GError    **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  GInputStream *in = g_io_stream_get_input_stream (stream);
  guint8 buffer[4096];

  while (bytes->len < max)
    {
      gssize n = g_input_stream_read (in, buffer, MIN (sizeof buffer, max - bytes->len), NULL, error);

      if (n < 0)
        return NULL;
      if (n == 0)
        break;
      g_byte_array_append (bytes, buffer, n);
    }
  g_byte_array_append (bytes, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&bytes), FALSE);
}

struct _TestServer {
  GSocket *listener;
  GThread *thread;
  TestServerFunc func;
  gpointer user_data;
  guint16 port;
};

static gpointer
test_server_thread (gpointer data)
{
  TestServer *server = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) connection = NULL;

  socket = g_socket_accept (server->listener, NULL, &error);
  g_assert_no_error (error);
  connection = g_socket_connection_factory_create_connection (socket);
  return server->func (connection, server->user_data);
}

TestServer *
test_server_new (const char     *address,
                 TestServerFunc  func,
                 gpointer        user_data)
{
  g_autoptr(GError) error = NULL;
  TestServer *server = g_new0 (TestServer, 1);

  server->listener = bind_socket (address, TRUE, &error);
  g_assert_no_error (error);
  server->port = socket_port (server->listener);
  server->func = func;
  server->user_data = user_data;
  server->thread = g_thread_new ("test-server", test_server_thread, server);
  return server;
}

guint16
test_server_get_port (TestServer *server)
{
  return server->port;
}

gpointer
test_server_join (TestServer *server)
{
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("test server thread to finish");
  gpointer ret;

  ret = g_thread_join (server->thread);
  g_object_unref (server->listener);
  g_free (server);
  return ret;
}

struct _TestThreadOp {
  GMutex mutex;
  GCond cond;
  gboolean done;
  gboolean ok;
  GError *error;
  GCancellable *cancellable;
  TestBlockingFunc func;
  gpointer user_data;
  GThread *thread;
};

static gpointer
thread_op_run (gpointer data)
{
  TestThreadOp *op = data;
  GError *error = NULL;
  gboolean ok = op->func (op->user_data, op->cancellable, &error);

  g_mutex_lock (&op->mutex);
  op->ok = ok;
  op->error = error;
  op->done = TRUE;
  g_cond_signal (&op->cond);
  g_mutex_unlock (&op->mutex);
  return NULL;
}

TestThreadOp *
test_thread_op_start (const char       *name,
                      TestBlockingFunc  func,
                      gpointer          user_data)
{
  TestThreadOp *op = g_new0 (TestThreadOp, 1);

  g_mutex_init (&op->mutex);
  g_cond_init (&op->cond);
  op->cancellable = g_cancellable_new ();
  op->func = func;
  op->user_data = user_data;
  op->thread = g_thread_new (name, thread_op_run, op);
  return op;
}

gboolean
test_thread_op_join (TestThreadOp  *op,
                     guint          guard_seconds,
                     gboolean      *ok,
                     GError       **error)
{
  gint64 deadline = g_get_monotonic_time () + guard_seconds * G_TIME_SPAN_SECOND;
  gboolean in_time;

  g_mutex_lock (&op->mutex);
  while (!op->done && g_cond_wait_until (&op->cond, &op->mutex, deadline))
    ;
  in_time = op->done;
  g_mutex_unlock (&op->mutex);

  if (!in_time)
    {
      g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("a hung blocking call to honour its cancellation");

      g_cancellable_cancel (op->cancellable);
      g_thread_join (op->thread);
    }
  else
    g_thread_join (op->thread);

  if (ok != NULL)
    *ok = op->ok;
  if (op->error != NULL)
    g_propagate_error (error, op->error);
  g_object_unref (op->cancellable);
  g_mutex_clear (&op->mutex);
  g_cond_clear (&op->cond);
  g_free (op);
  return in_time;
}

typedef struct {
  TestProxy *proxy;
  GSocketConnection *from;
  GSocketConnection *to;
  gboolean downstream;      /* server to client: the direction that splits */
  GThread *thread;
} ProxyRelay;

struct _TestProxy {
  GMutex mutex;
  GCond cond;
  GCancellable *cancellable;
  GSocketConnection *client_side;   /* the proxy's ends */
  GSocketConnection *server_side;
  ProxyRelay up;
  ProxyRelay down;
  gboolean split_armed;
  gboolean released;
  gint half_sent;                   /* atomic */
  GMainContext *notify;
};

static gpointer
proxy_relay_thread (gpointer data)
{
  ProxyRelay *relay = data;
  TestProxy *proxy = relay->proxy;
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (relay->from));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (relay->to));
  g_autofree guint8 *buf = g_malloc (65536);

  for (;;)
    {
      gssize n = g_input_stream_read (in, buf, 65536, proxy->cancellable, NULL);
      gboolean split;

      if (n <= 0)
        break;
      g_mutex_lock (&proxy->mutex);
      split = relay->downstream && proxy->split_armed && n >= 2;
      if (split)
        proxy->split_armed = FALSE;
      g_mutex_unlock (&proxy->mutex);

      if (split)
        {
          gboolean go;

          if (!g_output_stream_write_all (out, buf, n / 2, NULL, proxy->cancellable, NULL))
            break;
          g_atomic_int_set (&proxy->half_sent, TRUE);
          g_main_context_wakeup (proxy->notify);

          g_mutex_lock (&proxy->mutex);
          while (!proxy->released && !g_cancellable_is_cancelled (proxy->cancellable))
            g_cond_wait (&proxy->cond, &proxy->mutex);
          go = proxy->released;
          g_mutex_unlock (&proxy->mutex);
          if (!go ||
              !g_output_stream_write_all (out, buf + n / 2, n - n / 2, NULL, proxy->cancellable, NULL))
            break;
        }
      else if (!g_output_stream_write_all (out, buf, n, NULL, proxy->cancellable, NULL))
        break;
    }
  /* Pass the end of the stream on. */
  g_socket_shutdown (g_socket_connection_get_socket (relay->to), FALSE, TRUE, NULL);
  return NULL;
}

TestProxy *
test_proxy_new (GSocketConnection **client_conn,
                GSocketConnection **server_conn)
{
  TestProxy *proxy = g_new0 (TestProxy, 1);

  g_mutex_init (&proxy->mutex);
  g_cond_init (&proxy->cond);
  proxy->cancellable = g_cancellable_new ();
  test_socket_pair ("127.0.0.1", client_conn, &proxy->client_side);
  test_socket_pair ("127.0.0.1", &proxy->server_side, server_conn);
  proxy->up = (ProxyRelay) { proxy, proxy->client_side, proxy->server_side, FALSE, NULL };
  proxy->down = (ProxyRelay) { proxy, proxy->server_side, proxy->client_side, TRUE, NULL };
  proxy->up.thread = g_thread_new ("proxy-up", proxy_relay_thread, &proxy->up);
  proxy->down.thread = g_thread_new ("proxy-down", proxy_relay_thread, &proxy->down);
  return proxy;
}

void
test_proxy_split_next (TestProxy    *proxy,
                       GMainContext *context)
{
  g_mutex_lock (&proxy->mutex);
  g_assert_false (proxy->split_armed);
  g_clear_pointer (&proxy->notify, g_main_context_unref);
  proxy->notify = g_main_context_ref (context);
  proxy->split_armed = TRUE;
  proxy->released = FALSE;
  g_atomic_int_set (&proxy->half_sent, FALSE);
  g_mutex_unlock (&proxy->mutex);
}

gboolean
test_proxy_half_sent (TestProxy *proxy)
{
  return g_atomic_int_get (&proxy->half_sent);
}

void
test_proxy_release (TestProxy *proxy)
{
  g_mutex_lock (&proxy->mutex);
  proxy->released = TRUE;
  g_cond_broadcast (&proxy->cond);
  g_mutex_unlock (&proxy->mutex);
}

void
test_proxy_free (TestProxy *proxy)
{
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("the test proxy's threads to stop");

  g_mutex_lock (&proxy->mutex);
  g_cancellable_cancel (proxy->cancellable);
  g_cond_broadcast (&proxy->cond);
  g_mutex_unlock (&proxy->mutex);
  g_thread_join (proxy->up.thread);
  g_thread_join (proxy->down.thread);
  g_object_unref (proxy->client_side);
  g_object_unref (proxy->server_side);
  g_object_unref (proxy->cancellable);
  g_clear_pointer (&proxy->notify, g_main_context_unref);
  g_mutex_clear (&proxy->mutex);
  g_cond_clear (&proxy->cond);
  g_free (proxy);
}

GBytes *
test_make_random_bytes (gsize   len,
                        guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint8 *data = g_malloc (len);

  for (gsize i = 0; i < len; i += 4)
    {
      guint32 v = g_rand_int (rand);
      memcpy (data + i, &v, MIN (4, len - i));
    }
  return g_bytes_new_take (data, len);
}

char *
test_checksum (const void *data,
               gsize       len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
}

char *
test_tmp_path (const char *name)
{
#ifdef TEST_UNDER_ASAN
  /* Each test case still starts from an empty directory (test_init). */
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "test-cases",
                                           g_test_get_path (), NULL);
#else
  const char *dir = g_get_user_cache_dir ();
#endif

  /* Refuse to write into a real home directory. */
  g_assert_true (g_str_has_prefix (dir, g_get_tmp_dir ()));
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return g_build_filename (dir, name, NULL);
}

char *
test_write_tmp_file (const char *name,
                     const char *contents,
                     gssize      len)
{
  g_autoptr(GError) error = NULL;
  char *path = test_tmp_path (name);

  g_assert_true (g_file_set_contents (path, contents, len, &error));
  g_assert_no_error (error);
  return path;
}

gboolean
test_error_message_contains (const GError *error,
                             const char   *needle)
{
  g_autofree char *haystack = g_utf8_casefold (error->message, -1);
  g_autofree char *folded = g_utf8_casefold (needle, -1);

  return strstr (haystack, folded) != NULL;
}

void
test_env_setup (TestEnv    *env,
                const char *server_chain,
                const char *server_key)
{
  env->context = g_main_context_new ();
  g_main_context_push_thread_default (env->context);
  env->client_ctx = test_make_client_context ();
  env->server_ctx = server_chain ? test_make_server_context (server_chain, server_key) : NULL;
}

void
test_env_teardown (TestEnv *env)
{
  g_clear_object (&env->client_ctx);
  g_clear_object (&env->server_ctx);
  g_main_context_pop_thread_default (env->context);
  g_clear_pointer (&env->context, g_main_context_unref);
}

void
test_close_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  TestOp *op = user_data;

  g_assert_false (op->done);
  op->ok = g_io_stream_close_finish (G_IO_STREAM (source), result, &op->error);
  op->done = TRUE;
}

static void
die_with_parent (gpointer user_data)
{
#ifdef __linux__
  prctl (PR_SET_PDEATHSIG, SIGKILL);
#endif
}

GSubprocessLauncher *
test_subprocess_launcher_new (GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  return launcher;
}

const char *
test_openssl_program (void)
{
  const char *openssl = g_getenv ("OPENSSL");

  return openssl != NULL && *openssl != '\0' ? openssl : "openssl";
}

GSocketConnection *
test_tcp_connect (const char *address,
                  guint16     port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
  g_autoptr(GSocketAddress) socket_address = g_inet_socket_address_new (inet, port);
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;

  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (socket_address), NULL, &error);
  g_assert_no_error (error);
  return connection;
}
