/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gsecsock/gsecsock.h>

G_BEGIN_DECLS

/* How long any single wait in a test may take before the test fails. It is
 * a guard against hangs only, never a means of synchronisation, so it is
 * generous: a loaded 2-core CI machine must never hit it. */
#define TEST_GUARD_TIMEOUT_SECONDS 60

/* g_test_init() with isolated XDG directories (fresh for each test case;
 * under AddressSanitizer, fresh for the program: see test-utils.c), and an
 * environment that
 * does not depend on the machine: no proxies (GSocketClient would ask the
 * desktop's proxy settings, whose schemas the isolation hides). */
void test_init (int    *argc,
                char ***argv);

/* Path of a file of the test PKI ($GSECSOCK_TEST_PKI_DIR/@name); aborts the
 * test with a clear message if the PKI was not generated. Interned string. */
const char *test_pki_path (const char *name);

/* Loads a certificate of the test PKI, failing the test on error. */
GSecSockCertificate *test_load_certificate (const char *name);

/* A client context that trusts only the test root CA (ca.pem): system trust
 * off, so the suite does not depend on the machine's CA store. */
GSecSockSecureSocketContext *test_make_client_context (void);

/* A server context presenting @chain_name (PKI file name, leaf first) with
 * the key in @key_name (NULL: the key is in @chain_name). */
GSecSockSecureSocketContext *test_make_server_context (const char *chain_name,
                                                       const char *key_name);

/* A client context presenting a client certificate as well. */
GSecSockSecureSocketContext *test_make_client_context_with_certificate (const char *chain_name,
                                                                        const char *key_name);

/* A launcher for child processes (openssl, curl, ...) that die with the
 * test process if it aborts on a failed assertion (Linux), so that no
 * peer is left running. */
GSubprocessLauncher *test_subprocess_launcher_new (GSubprocessFlags flags);

/* The openssl program to run: $OPENSSL, or "openssl". */
const char *test_openssl_program (void);

/* Whether ::1 can be bound and connected to (containers without IPv6). */
gboolean test_ipv6_loopback_available (void);

/* A free TCP port on @address right now (bound to port 0 and released): for
 * external programs that need a port number. Callers must cope with the
 * (rare) race of someone else taking it. */
guint16 test_find_free_port (const char *address);

/* A plain TCP connection to @address:@port, made synchronously; the test
 * fails if it cannot be made. */
GSocketConnection *test_tcp_connect (const char *address,
                                     guint16     port);

/* Two ends of a TCP connection over loopback (@address is "127.0.0.1" or
 * "::1"), made synchronously without a main loop. */
void test_socket_pair (const char          *address,
                       GSocketConnection  **client,
                       GSocketConnection  **server);

/* Number of threads of this process (/proc/self/task). */
guint test_count_threads (void);

/* Iterates @context until @cond holds; fails the test if it did not within
 * TEST_GUARD_TIMEOUT_SECONDS. */
#define test_wait_until(context, cond) \
  G_STMT_START { \
    TestGuard *_test_guard = test_guard_new ((context)); \
    while (!(cond)) \
      { \
        if (test_guard_expired (_test_guard)) \
          g_error ("%s:%d: timed out after %d s waiting for: %s", \
                   __FILE__, __LINE__, TEST_GUARD_TIMEOUT_SECONDS, #cond); \
        g_main_context_iteration ((context), TRUE); \
      } \
    test_guard_free (_test_guard); \
  } G_STMT_END

typedef struct _TestGuard TestGuard;
TestGuard *test_guard_new     (GMainContext *context);
/* The same with a guard of @seconds, for tests that must fail (not abort)
 * when something does not happen: check test_guard_expired() in the loop. */
TestGuard *test_guard_new_seconds (GMainContext *context,
                                   guint         seconds);
gboolean   test_guard_expired (TestGuard    *guard);
void       test_guard_free    (TestGuard    *guard);

/* Runs @context for @ms milliseconds (a timeout source, not a sleep): lets
 * anything that is (wrongly) still pending show itself. */
void test_run_context_for (GMainContext *context,
                           guint         ms);

/* GAsyncReadyCallback that stores a reference to the result in
 * *(GAsyncResult **) @user_data. */
void test_store_result_cb (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data);

/* Waits (iterating the thread-default main context) until
 * test_store_result_cb has filled *@result. */
void test_wait_for_result (GAsyncResult **result);

/* A per-test watchdog for blocking (synchronous) code: aborts the process
 * with a message naming @what if not stopped within
 * TEST_GUARD_TIMEOUT_SECONDS. */
typedef struct _TestWatchdog TestWatchdog;
TestWatchdog *test_watchdog_start (const char   *what);
void          test_watchdog_stop  (TestWatchdog *watchdog);

/* Outcome of one asynchronous or threaded operation. */
typedef struct {
  gboolean done;
  gboolean ok;
  GError *error;
} TestOp;

void test_op_clear (TestOp *op);

/* GAsyncReadyCallbacks that store the outcome of a handshake or a close in
 * the TestOp given as user data (and assert they run once). */
void test_handshake_cb (GObject *source, GAsyncResult *result, gpointer user_data);
void test_close_cb     (GObject *source, GAsyncResult *result, gpointer user_data);

/* A client and a server secure socket over a loopback TCP connection. */
typedef struct {
  GSocketConnection *client_conn;
  GSocketConnection *server_conn;
  GSecSockSecureSocket *client;
  GSecSockSecureSocket *server;
  TestOp client_op;
  TestOp server_op;
} TestTlsPair;

/* Creates both sockets (failing the test if either cannot be created).
 * @address: "127.0.0.1" or "::1"; @peer_name: the client's peer name. */
void test_tls_pair_init  (TestTlsPair                 *pair,
                          GSecSockSecureSocketContext *client_context,
                          GSecSockSecureSocketContext *server_context,
                          const char                  *address,
                          const char                  *peer_name);
void test_tls_pair_clear (TestTlsPair                 *pair);

/* Runs both handshakes with handshake_async on the thread-default main
 * context until both have finished; results in pair->client_op and
 * pair->server_op. Returns whether both succeeded. */
gboolean test_tls_pair_handshake_async (TestTlsPair *pair);

/* Runs the server handshake in a thread and the client one in the calling
 * thread, both with the blocking API. */
gboolean test_tls_pair_handshake_sync (TestTlsPair *pair);

/* Blocking helpers that fail the test on error. */
void  test_write_all  (GIOStream  *stream,
                       const void *data,
                       gsize       len);
void  test_read_exact (GIOStream  *stream,
                       void       *buffer,
                       gsize       len);
/* Reads until EOF or @max bytes; returns a NUL-terminated string. */
char *test_read_to_eof (GIOStream *stream,
                        gsize      max,
                        GError   **error);

/* A thread that accepts ONE TCP connection on @address:0 and runs @func on
 * it in that thread. */
typedef gpointer (*TestServerFunc) (GSocketConnection *connection,
                                    gpointer           user_data);
typedef struct _TestServer TestServer;

TestServer *test_server_new      (const char     *address,
                                  TestServerFunc  func,
                                  gpointer        user_data);
guint16     test_server_get_port (TestServer     *server);
/* Waits for @func to return (if a connection was accepted; otherwise stops
 * accepting) and frees the server. Returns what @func returned. */
gpointer    test_server_join     (TestServer     *server);

/* A blocking call run in a thread of its own, for tests of hangs: it must
 * honour @cancellable. */
typedef gboolean (*TestBlockingFunc) (gpointer       user_data,
                                      GCancellable  *cancellable,
                                      GError       **error);
typedef struct _TestThreadOp TestThreadOp;

TestThreadOp *test_thread_op_start (const char       *name,
                                    TestBlockingFunc  func,
                                    gpointer          user_data);
/* Waits at most @guard_seconds for the call to return; if it has not, cancels
 * it and waits for that (a watchdog aborts if even that hangs). Frees @op.
 * Returns whether the call returned by itself in time; its result goes to
 * *@ok and @error. */
gboolean      test_thread_op_join  (TestThreadOp  *op,
                                    guint          guard_seconds,
                                    gboolean      *ok,
                                    GError       **error);

/* A plain TCP relay over loopback, for delivering TLS records the way a
 * test wants: *@client_conn (give it to the TLS client) is connected through
 * the proxy to *@server_conn (for the TLS server). Two threads copy the
 * bytes, one per direction; EOF is passed on. */
typedef struct _TestProxy TestProxy;

TestProxy *test_proxy_new          (GSocketConnection **client_conn,
                                    GSocketConnection **server_conn);
/* Holds the next bytes going from server to client half-way: the first half
 * of the next chunk the proxy reads is forwarded, then the proxy wakes
 * @context and waits for test_proxy_release() before sending the rest. */
void       test_proxy_split_next   (TestProxy         *proxy,
                                    GMainContext      *context);
/* Whether the first half of the split chunk was sent (to the kernel). */
gboolean   test_proxy_half_sent    (TestProxy         *proxy);
void       test_proxy_release      (TestProxy         *proxy);
/* Stops both threads (cancelling what they wait for) and frees @proxy. */
void       test_proxy_free         (TestProxy         *proxy);

/* Deterministic pseudo-random data and a checksum (SHA-256, hex). */
GBytes *test_make_random_bytes (gsize   len,
                                guint32 seed);
char   *test_checksum          (const void *data,
                                gsize       len);

/* A path for a scratch file @name in the per-test directory that
 * G_TEST_OPTION_ISOLATE_DIRS provides (and removes after the test). */
char *test_tmp_path (const char *name);
/* Writes @contents (@len bytes, -1: NUL-terminated) to test_tmp_path (@name). */
char *test_write_tmp_file (const char *name,
                           const char *contents,
                           gssize      len);

/* Whether a GError message contains @needle, case-insensitively. */
gboolean test_error_message_contains (const GError *error,
                                      const char   *needle);

#define test_assert_message_contains(error, needle) \
  G_STMT_START { \
    const GError *_e = (error); \
    g_assert_nonnull (_e); \
    if (!test_error_message_contains (_e, (needle))) \
      g_error ("%s:%d: error message \"%s\" does not contain \"%s\"", \
               __FILE__, __LINE__, _e->message, (needle)); \
  } G_STMT_END

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestWatchdog, test_watchdog_stop)


/* What every TLS test fixture starts from: a main context of its own,
 * pushed as the thread-default one (so nothing a test leaves pending runs in
 * the next test), a client context that trusts only the test CA, and, when
 * @server_chain is not NULL, a server context presenting that certificate. */
typedef struct {
  GMainContext *context;
  GSecSockSecureSocketContext *client_ctx;
  GSecSockSecureSocketContext *server_ctx;
} TestEnv;

void test_env_setup    (TestEnv    *env,
                        const char *server_chain,
                        const char *server_key);
void test_env_teardown (TestEnv    *env);

G_END_DECLS
