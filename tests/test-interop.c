/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Interoperability with OpenSSL's own command-line client and server
 * (`$OPENSSL s_server` / `s_client`), spawned as subprocesses. */
#define _GNU_SOURCE
#include "test-utils.h"

#include <string.h>

typedef struct {
  TestEnv env;
  GSubprocess *proc;
  GString *proc_output;  /* everything the subprocess printed, for failures */
  gboolean output_done;
  GDataInputStream *proc_lines;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_env_setup (&f->env, "server-chain.pem", "server.key");
  f->proc_output = g_string_new (NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->proc != NULL)
    {
      /* Never leave an openssl process behind. */
      g_subprocess_force_exit (f->proc);
      g_subprocess_wait (f->proc, NULL, NULL);
      g_clear_object (&f->proc);
    }
  g_clear_object (&f->proc_lines);
  g_string_free (f->proc_output, TRUE);
  test_env_teardown (&f->env);
}



static GSubprocess *
spawn_openssl (GSubprocessFlags   flags,
               const char       **args)
{
  g_autoptr(GSubprocessLauncher) launcher = test_subprocess_launcher_new (flags);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *cmdline = NULL;
  GSubprocess *proc;

  g_ptr_array_add (argv, (gpointer) test_openssl_program ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  cmdline = g_strjoinv (" ", (char **) argv->pdata);
  g_test_message ("spawning: %s", cmdline);

  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  return proc;
}

/* s_server */
static void read_line_cb (GObject *source, GAsyncResult *result, gpointer user_data);

static void
read_next_line (Fixture *f)
{
  g_data_input_stream_read_line_async (f->proc_lines, G_PRIORITY_DEFAULT, NULL, read_line_cb, f);
}

static void
read_line_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Fixture *f = user_data;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL, NULL);

  if (line == NULL)
    {
      f->output_done = TRUE;
      return;
    }
  g_string_append_printf (f->proc_output, "%s\n", line);
  read_next_line (f);
}

/* Starts `openssl s_server` on 127.0.0.1, port chosen by the kernel, and
 * returns the port it printed in its "ACCEPT" line. Its output keeps being
 * collected into f->proc_output. */
/* Note: s_server takes only the first certificate of its -cert file; the
 * intermediate must be given with -cert_chain. */
static guint16
start_s_server (Fixture     *f,
                const char **extra_args)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(GRegex) accept_re = g_regex_new ("^ACCEPT (\\S+):([0-9]+)$", G_REGEX_MULTILINE, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *port = NULL;

  g_ptr_array_add (args, "s_server");
  g_ptr_array_add (args, "-accept");
  g_ptr_array_add (args, "127.0.0.1:0");
  g_ptr_array_add (args, "-naccept");
  g_ptr_array_add (args, "1");
  g_ptr_array_add (args, "-rev");
  for (guint i = 0; extra_args[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) extra_args[i]);
  g_ptr_array_add (args, NULL);

  f->proc = spawn_openssl (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                           (const char **) args->pdata);
  f->proc_lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->proc));
  read_next_line (f);
  test_wait_until (f->env.context,
                   g_regex_match (accept_re, f->proc_output->str, 0, NULL) || f->output_done);
  if (!g_regex_match (accept_re, f->proc_output->str, 0, &match))
    g_error ("s_server did not start:\n%s", f->proc_output->str);
  port = g_match_info_fetch (match, 2);
  return (guint16) g_ascii_strtoull (port, NULL, 10);
}

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  gboolean *done = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *done = TRUE;
}

/* Waits (guarded) for the openssl subprocess to exit and its output to be
 * read to the end. */
static void
wait_s_server_exit (Fixture *f)
{
  gboolean exited = FALSE;

  g_subprocess_wait_async (f->proc, NULL, wait_cb, &exited);
  test_wait_until (f->env.context, exited && f->output_done);
  g_test_message ("s_server output:\n%s", f->proc_output->str);
}

static GSecSockSecureSocket *
connect_plain_then_tls (GSecSockSecureSocketContext *ctx,
                        guint16                      port,
                        const char                  *peer_name,
                        GError                     **error)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GSecSockSecureSocket) sock = NULL;

  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, error);
  if (conn == NULL)
    return NULL;
  sock = gsecsock_secure_socket_new (ctx, G_IO_STREAM (conn), peer_name, error);
  if (sock == NULL || !gsecsock_secure_socket_handshake (sock, NULL, error))
    return NULL;
  return g_steal_pointer (&sock);
}

/* Sends @line to s_server -rev and checks the reversed answer, then asks it
 * to close; it closes with a close_notify. */
static void
rev_exchange_and_close (GSecSockSecureSocket *sock)
{
  g_autoptr(GDataInputStream) lines = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (sock)));
  g_autoptr(GError) error = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *rest = NULL;

  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (lines), FALSE);
  test_write_all (G_IO_STREAM (sock), "hello interop\n", 14);
  answer = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (answer, ==, "poretni olleh");

  test_write_all (G_IO_STREAM (sock), "CLOSE\n", 6);
  rest = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (rest);
  g_io_stream_close (G_IO_STREAM (sock), NULL, NULL);
}

static void
test_s_server_tls13 (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(TestWatchdog) watchdog = NULL;
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GSecSockCertificate) server_cert = test_load_certificate ("server.pem");
  g_autoptr(GError) error = NULL;
  guint16 port;

  port = start_s_server (f, (const char *[]) { "-cert", test_pki_path ("server.pem"),
                                               "-cert_chain", test_pki_path ("intermediate.pem"),
                                               "-key", test_pki_path ("server.key"), NULL });
  watchdog = test_watchdog_start ("talking to s_server");
  /* connect(): host "127.0.0.1" is the peer name, checked against the IP SAN. */
  sock = gsecsock_secure_socket_connect (f->env.client_ctx, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (sock), ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (sock), ==, 0);
  g_assert_true (gsecsock_certificate_equal (gsecsock_secure_socket_get_peer_certificate (sock), server_cert));
  g_assert_cmpuint (g_list_model_get_n_items (gsecsock_secure_socket_get_peer_certificate_chain (sock)), ==, 2);
  rev_exchange_and_close (sock);
  g_clear_pointer (&watchdog, test_watchdog_stop);
  wait_s_server_exit (f);
  g_assert_nonnull (strstr (f->proc_output->str, "CONNECTION CLOSED"));
}

static void
test_s_server_tls12 (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(TestWatchdog) watchdog = NULL;
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;
  const char *cipher;
  guint16 port;

  port = start_s_server (f, (const char *[]) { "-cert", test_pki_path ("server.pem"),
                                               "-cert_chain", test_pki_path ("intermediate.pem"),
                                               "-key", test_pki_path ("server.key"),
                                               "-tls1_2", NULL });
  watchdog = test_watchdog_start ("talking to s_server");
  sock = connect_plain_then_tls (f->env.client_ctx, port, "localhost", &error);
  g_assert_no_error (error);
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (sock), ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  cipher = gsecsock_secure_socket_get_cipher_name (sock);
  g_assert_nonnull (cipher);
  g_assert_true (g_str_has_prefix (cipher, "ECDHE-ECDSA-"));
  rev_exchange_and_close (sock);
  g_clear_pointer (&watchdog, test_watchdog_stop);
  wait_s_server_exit (f);
  g_assert_nonnull (strstr (f->proc_output->str, "TLSv1.2"));
  g_assert_nonnull (strstr (f->proc_output->str, cipher));
}

static void
test_s_server_alpn (Fixture       *f,
                    gconstpointer  data)
{
  const char *alpn[] = { "h2", "http/1.1", NULL };
  g_autoptr(TestWatchdog) watchdog = NULL;
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  port = start_s_server (f, (const char *[]) { "-cert", test_pki_path ("server.pem"),
                                               "-cert_chain", test_pki_path ("intermediate.pem"),
                                               "-key", test_pki_path ("server.key"),
                                               "-alpn", "http/1.1", NULL });
  gsecsock_secure_socket_context_set_alpn_protocols (f->env.client_ctx, alpn);
  watchdog = test_watchdog_start ("talking to s_server");
  sock = connect_plain_then_tls (f->env.client_ctx, port, "localhost", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (gsecsock_secure_socket_get_alpn_protocol (sock), ==, "http/1.1");
  rev_exchange_and_close (sock);
  g_clear_pointer (&watchdog, test_watchdog_stop);
  wait_s_server_exit (f);
}

static void
test_s_server_client_certificate (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = test_make_client_context_with_certificate ("client-chain.pem", "client.key");
  g_autoptr(TestWatchdog) watchdog = NULL;
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  /* -Verify: s_server requires a client certificate and fails without a
   * valid one. */
  port = start_s_server (f, (const char *[]) { "-cert", test_pki_path ("server.pem"),
                                               "-cert_chain", test_pki_path ("intermediate.pem"),
                                               "-key", test_pki_path ("server.key"),
                                               "-Verify", "2", "-CAfile", test_pki_path ("ca.pem"),
                                               "-verify_return_error", NULL });
  watchdog = test_watchdog_start ("talking to s_server");
  sock = connect_plain_then_tls (ctx, port, "localhost", &error);
  g_assert_no_error (error);
  rev_exchange_and_close (sock);
  g_clear_pointer (&watchdog, test_watchdog_stop);
  wait_s_server_exit (f);
  /* s_server prints the subject of the client certificate it accepted. */
  g_assert_nonnull (strstr (f->proc_output->str, "gsecsock test client"));
}

static void
test_s_server_rejected (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(TestWatchdog) watchdog = NULL;
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  port = start_s_server (f, (const char *[]) { "-cert", test_pki_path ("selfsigned.pem"),
                                               "-key", test_pki_path ("selfsigned.key"), NULL });
  watchdog = test_watchdog_start ("talking to s_server");
  sock = connect_plain_then_tls (f->env.client_ctx, port, "localhost", &error);
  g_assert_null (sock);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_clear_pointer (&watchdog, test_watchdog_stop);
  wait_s_server_exit (f);
  /* Our alert reached OpenSSL. */
  g_assert_nonnull (strstr (f->proc_output->str, "unknown ca"));
}

/* s_client against a gsecsock server. */
typedef struct {
  GSecSockSecureSocketContext *ctx;
  GError *error;
  char *line;
  GSecSockProtocolVersion version;
  char *alpn;
  gboolean reused;
  GSecSockCertificate *peer_cert;
} LineServer;

static void
line_server_clear (LineServer *s)
{
  g_clear_error (&s->error);
  g_clear_pointer (&s->line, g_free);
  g_clear_pointer (&s->alpn, g_free);
  g_clear_object (&s->peer_cert);
}

/* Handshake, read one line, answer "you said: <line>", close cleanly. */
static gpointer
line_server_func (GSocketConnection *connection,
                  gpointer           user_data)
{
  LineServer *s = user_data;
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autofree char *reply = NULL;

  sock = gsecsock_secure_socket_new (s->ctx, G_IO_STREAM (connection), NULL, &s->error);
  if (sock == NULL || !gsecsock_secure_socket_handshake (sock, NULL, &s->error))
    return NULL;
  s->version = gsecsock_secure_socket_get_protocol_version (sock);
  s->alpn = g_strdup (gsecsock_secure_socket_get_alpn_protocol (sock));
  s->reused = gsecsock_secure_socket_get_session_reused (sock);
  s->peer_cert = gsecsock_secure_socket_get_peer_certificate (sock);
  if (s->peer_cert != NULL)
    g_object_ref (s->peer_cert);

  lines = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (sock)));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (lines), FALSE);
  s->line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &s->error);
  if (s->line == NULL)
    return NULL;
  reply = g_strdup_printf ("you said: %s\n", s->line);
  if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (sock)), reply, strlen (reply),
                                  NULL, NULL, &s->error))
    return NULL;
  g_io_stream_close (G_IO_STREAM (sock), NULL, &s->error);
  return NULL;
}

typedef struct {
  gboolean done;
  char *out;
  char *err;
  GError *error;
} Communicate;

static void
communicate_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Communicate *c = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &c->out, &c->err, &c->error);
  c->done = TRUE;
}

/* Runs s_client against @port with @extra_args, feeding it @input; returns
 * its stdout and checks it exited successfully. */
static char *
run_s_client (Fixture     *f,
              guint16      port,
              const char **extra_args,
              const char  *input)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (NULL);
  g_autofree char *connect = g_strdup_printf ("127.0.0.1:%u", port);
  Communicate c = { 0 };

  g_ptr_array_add (args, "s_client");
  g_ptr_array_add (args, "-connect");
  g_ptr_array_add (args, connect);
  g_ptr_array_add (args, "-servername");
  g_ptr_array_add (args, "localhost");
  g_ptr_array_add (args, "-CAfile");
  g_ptr_array_add (args, (gpointer) test_pki_path ("ca.pem"));
  g_ptr_array_add (args, "-verify_return_error");
  g_ptr_array_add (args, "-verify_hostname");
  g_ptr_array_add (args, "localhost");
  g_ptr_array_add (args, "-quiet");
  for (guint i = 0; extra_args[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) extra_args[i]);
  g_ptr_array_add (args, NULL);

  f->proc = spawn_openssl (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                           G_SUBPROCESS_FLAGS_STDERR_PIPE,
                           (const char **) args->pdata);
  /* -quiet implies -ign_eof: s_client stays until the server closes. */
  g_subprocess_communicate_utf8_async (f->proc, input, NULL, communicate_cb, &c);
  test_wait_until (f->env.context, c.done);
  g_assert_no_error (c.error);
  g_test_message ("s_client stdout:\n%s\ns_client stderr:\n%s", c.out, c.err);
  g_assert_true (g_subprocess_get_if_exited (f->proc));
  if (g_subprocess_get_exit_status (f->proc) != 0)
    g_error ("s_client failed (%d):\n%s", g_subprocess_get_exit_status (f->proc), c.err);
  g_clear_object (&f->proc);
  g_free (c.err);
  return c.out;
}

static void
s_client_case (Fixture     *f,
               LineServer  *s,
               const char **extra_args)
{
  TestServer *server;
  g_autofree char *out = NULL;

  s->ctx = f->env.server_ctx;
  server = test_server_new ("127.0.0.1", line_server_func, s);
  out = run_s_client (f, test_server_get_port (server), extra_args, "hello from s_client\n");
  test_server_join (server);
  g_assert_no_error (s->error);
  g_assert_cmpstr (s->line, ==, "hello from s_client");
  g_assert_cmpstr (out, ==, "you said: hello from s_client\n");
}

static void
test_s_client_tls13 (Fixture       *f,
                     gconstpointer  data)
{
  LineServer s = { 0 };

  s_client_case (f, &s, (const char *[]) { NULL });
  g_assert_cmpint (s.version, ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);
  g_assert_null (s.peer_cert);
  line_server_clear (&s);
}

static void
test_s_client_tls12 (Fixture       *f,
                     gconstpointer  data)
{
  LineServer s = { 0 };

  s_client_case (f, &s, (const char *[]) { "-tls1_2", NULL });
  g_assert_cmpint (s.version, ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  line_server_clear (&s);
}

static void
test_s_client_alpn (Fixture       *f,
                    gconstpointer  data)
{
  const char *alpn[] = { "http/1.1", "h2", NULL };
  LineServer s = { 0 };

  /* The server's preference wins over s_client's order. */
  gsecsock_secure_socket_context_set_alpn_protocols (f->env.server_ctx, alpn);
  s_client_case (f, &s, (const char *[]) { "-alpn", "h2,http/1.1", NULL });
  g_assert_cmpstr (s.alpn, ==, "http/1.1");
  line_server_clear (&s);
}

static void
test_s_client_client_certificate (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(GSecSockCertificate) client_cert = test_load_certificate ("client.pem");
  g_autoptr(GError) error = NULL;
  LineServer s = { 0 };

  gsecsock_secure_socket_context_set_verify_peer (f->env.server_ctx, TRUE);
  gsecsock_secure_socket_context_set_use_system_trust (f->env.server_ctx, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (f->env.server_ctx, test_pki_path ("ca.pem"), &error));
  g_assert_no_error (error);
  s_client_case (f, &s, (const char *[]) { "-cert", test_pki_path ("client.pem"),
                                           "-cert_chain", test_pki_path ("intermediate.pem"),
                                           "-key", test_pki_path ("client.key"), NULL });
  g_assert_nonnull (s.peer_cert);
  g_assert_true (gsecsock_certificate_equal (s.peer_cert, client_cert));
  line_server_clear (&s);
}

static GPtrArray *
read_keylog_lines (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *sorted = g_ptr_array_new_with_free_func (g_free);

  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0' && lines[i][0] != '#')
      g_ptr_array_add (sorted, g_strdup (lines[i]));
  return sorted;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
assert_same_keylog (const char *ours,
                    const char *theirs,
                    guint       expected_lines)
{
  g_autoptr(GPtrArray) a = read_keylog_lines (ours);
  g_autoptr(GPtrArray) b = read_keylog_lines (theirs);

  g_ptr_array_sort (a, compare_strings);
  g_ptr_array_sort (b, compare_strings);
  g_assert_cmpuint (a->len, ==, expected_lines);
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    g_assert_cmpstr (a->pdata[i], ==, b->pdata[i]);
}

static void
test_s_client_keylog (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *ours = test_tmp_path ("server-keys.log");
  g_autofree char *theirs = test_tmp_path ("s_client-keys.log");
  LineServer s = { 0 };

  /* Both ends derive the same secrets: the server's log must equal what
   * OpenSSL's client logged, line for line. */
  gsecsock_secure_socket_context_set_keylog_file (f->env.server_ctx, ours);
  s_client_case (f, &s, (const char *[]) { "-keylogfile", theirs, NULL });
  assert_same_keylog (ours, theirs, 5);
  line_server_clear (&s);
}

static void
test_s_client_keylog_tls12 (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *ours = test_tmp_path ("server-keys.log");
  g_autofree char *theirs = test_tmp_path ("s_client-keys.log");
  LineServer s = { 0 };

  gsecsock_secure_socket_context_set_keylog_file (f->env.server_ctx, ours);
  s_client_case (f, &s, (const char *[]) { "-keylogfile", theirs, "-tls1_2", NULL });
  assert_same_keylog (ours, theirs, 1);
  line_server_clear (&s);
}

static void
test_s_client_resumption (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *session = test_tmp_path ("session.pem");
  LineServer first = { 0 }, second = { 0 };

  /* s_client saves the session (the TLS 1.3 ticket) and offers it on a
   * second connection: the gsecsock server resumes it. */
  s_client_case (f, &first, (const char *[]) { "-sess_out", session, NULL });
  g_assert_false (first.reused);
  g_assert_true (g_file_test (session, G_FILE_TEST_EXISTS));
  s_client_case (f, &second, (const char *[]) { "-sess_in", session, NULL });
  g_assert_true (second.reused);
  line_server_clear (&first);
  line_server_clear (&second);
}

static void
test_s_client_rejects_us (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) wrong = test_make_server_context ("wronghost-chain.pem", "wronghost.key");
  LineServer s = { wrong };
  TestServer *server;
  Communicate c = { 0 };
  g_autofree char *connect = NULL;

  /* s_client checks the hostname: our server's certificate is for
   * wrong.example, so s_client aborts and our handshake fails on its
   * alert. */
  server = test_server_new ("127.0.0.1", line_server_func, &s);
  connect = g_strdup_printf ("127.0.0.1:%u", test_server_get_port (server));
  f->proc = spawn_openssl (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                           G_SUBPROCESS_FLAGS_STDERR_PIPE,
                           (const char *[]) { "s_client", "-connect", connect, "-servername", "localhost",
                                              "-CAfile", test_pki_path ("ca.pem"), "-verify_return_error",
                                              "-verify_hostname", "localhost", "-quiet", NULL });
  g_subprocess_communicate_utf8_async (f->proc, "never sent\n", NULL, communicate_cb, &c);
  test_wait_until (f->env.context, c.done);
  test_server_join (server);
  g_assert_true (g_subprocess_get_if_exited (f->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (f->proc), !=, 0);
  g_assert_error (s.error, GSECSOCK_ERROR, GSECSOCK_ERROR_HANDSHAKE_FAILED);
  g_test_message ("server error: %s", s.error->message);
  g_assert_null (s.line);
  g_clear_error (&c.error);
  g_free (c.out);
  g_free (c.err);
  line_server_clear (&s);
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

  ADD ("/interop/s_server/tls13", test_s_server_tls13);
  ADD ("/interop/s_server/tls12", test_s_server_tls12);
  ADD ("/interop/s_server/alpn", test_s_server_alpn);
  ADD ("/interop/s_server/client-certificate", test_s_server_client_certificate);
  ADD ("/interop/s_server/rejected", test_s_server_rejected);
  ADD ("/interop/s_client/tls13", test_s_client_tls13);
  ADD ("/interop/s_client/tls12", test_s_client_tls12);
  ADD ("/interop/s_client/alpn", test_s_client_alpn);
  ADD ("/interop/s_client/client-certificate", test_s_client_client_certificate);
  ADD ("/interop/s_client/keylog", test_s_client_keylog);
  ADD ("/interop/s_client/keylog-tls12", test_s_client_keylog_tls12);
  ADD ("/interop/s_client/resumption", test_s_client_resumption);
  ADD ("/interop/s_client/rejects-us", test_s_client_rejects_us);

  return g_test_run ();
}
