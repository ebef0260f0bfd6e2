/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Securing what is not a fresh TCP connection: a plain connection upgraded
 * after an SMTP-like STARTTLS exchange (read-ahead bytes, pending plain
 * writes, verification for another name), and the memory transport whose
 * bytes the application moves itself (between two sockets, and through a
 * hand-made relay to openssl s_server). */
#include "test-utils.h"

#include <string.h>

typedef struct {
  TestEnv env;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  test_env_setup (&f->env, "server-chain.pem", "server.key");
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  test_env_teardown (&f->env);
}

/* ---- STARTTLS ------------------------------------------------------------- */

static GDataInputStream *
line_reader (GSocketConnection *conn)
{
  GDataInputStream *lines = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (conn)));

  g_data_input_stream_set_newline_type (lines, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  return lines;
}

static char *
read_line (GDataInputStream *lines)
{
  g_autoptr(GError) error = NULL;
  char *line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (line);
  return line;
}

static void
write_plain (GSocketConnection *conn, const char *text)
{
  test_write_all (G_IO_STREAM (conn), text, strlen (text));
}

/* In the two pipelined modes the client sends its ClientHello right after
 * "STARTTLS" and the server answers nothing in plain text (as in protocols
 * whose upgrade is not acknowledged): the server's line reader has read the
 * start of the handshake ahead, and it must not be lost. */
typedef enum {
  UPGRADE_IN_ORDER,          /* the client waits for "220" before its ClientHello */
  UPGRADE_PIPELINED,         /* ClientHello right after "STARTTLS" */
  UPGRADE_PENDING_WRITE,     /* the same, "STARTTLS" still being written asynchronously */
} UpgradeMode;

typedef struct {
  UpgradeMode mode;
  const char *peer_name;     /* the name verified, not the address connected to */
  gboolean verify;
  gboolean expect_ok;
} UpgradeCase;

static const UpgradeCase upgrade_in_order = { UPGRADE_IN_ORDER, "localhost", TRUE, TRUE };
static const UpgradeCase upgrade_pipelined = { UPGRADE_PIPELINED, "localhost", TRUE, TRUE };
static const UpgradeCase upgrade_pending_write = { UPGRADE_PENDING_WRITE, "localhost", TRUE, TRUE };
static const UpgradeCase upgrade_no_verification = { UPGRADE_IN_ORDER, NULL, FALSE, TRUE };
static const UpgradeCase upgrade_other_name_fails = { UPGRADE_IN_ORDER, "mail.example", TRUE, FALSE };

static void
write_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

/* A plain greeting, STARTTLS, "220", then TLS on both sides over the same
 * TCP connection (127.0.0.1), verified for another name than the address. */
static void
test_starttls (Fixture *f, gconstpointer data)
{
  const UpgradeCase *c = data;
  g_autoptr(GSocketConnection) client_conn = NULL;
  g_autoptr(GSocketConnection) server_conn = NULL;
  g_autoptr(GDataInputStream) client_lines = NULL;
  g_autoptr(GDataInputStream) server_lines = NULL;
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GSecSockSecureSocket) server = NULL;
  g_autoptr(GSecSockSecureSocketContext) client_ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  TestOp client_op = { 0 }, server_op = { 0 };
  gboolean write_done = FALSE;
  char buffer[6];

  client_ctx = test_make_client_context ();
  if (!c->verify)
    gsecsock_secure_socket_context_set_verify_peer (client_ctx, FALSE);
  test_socket_pair ("127.0.0.1", &client_conn, &server_conn);
  client_lines = line_reader (client_conn);
  server_lines = line_reader (server_conn);

  write_plain (server_conn, "220 mail.example ESMTP ready\r\n");
  line = read_line (client_lines);
  g_assert_cmpstr (line, ==, "220 mail.example ESMTP ready");
  g_clear_pointer (&line, g_free);

  if (c->mode == UPGRADE_PENDING_WRITE)
    g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (client_conn)),
                                     "STARTTLS\r\n", 10, G_PRIORITY_DEFAULT, NULL,
                                     write_done_cb, &write_done);
  else
    write_plain (client_conn, "STARTTLS\r\n");

  if (c->mode != UPGRADE_IN_ORDER)
    {
      /* The client starts TLS at once: its ClientHello follows STARTTLS. */
      client = gsecsock_secure_socket_new_with_input_buffer (client_ctx, G_IO_STREAM (client_conn),
                                                             G_BUFFERED_INPUT_STREAM (client_lines),
                                                             c->peer_name, &error);
      g_assert_no_error (error);
      gsecsock_secure_socket_handshake_async (client, G_PRIORITY_DEFAULT, NULL,
                                              test_handshake_cb, &client_op);
      /* Give the ClientHello time to arrive with the command. */
      test_run_context_for (f->env.context, 50);
    }

  line = read_line (server_lines);
  g_assert_cmpstr (line, ==, "STARTTLS");
  if (c->mode != UPGRADE_IN_ORDER)
    g_assert_cmpuint (g_buffered_input_stream_get_available (G_BUFFERED_INPUT_STREAM (server_lines)), >, 0);
  if (c->mode == UPGRADE_IN_ORDER)
    write_plain (server_conn, "220 2.0.0 go ahead\r\n");
  server = gsecsock_secure_socket_new_with_input_buffer (f->env.server_ctx, G_IO_STREAM (server_conn),
                                                         G_BUFFERED_INPUT_STREAM (server_lines),
                                                         NULL, &error);
  g_assert_no_error (error);
  gsecsock_secure_socket_handshake_async (server, G_PRIORITY_DEFAULT, NULL,
                                          test_handshake_cb, &server_op);

  if (c->mode == UPGRADE_IN_ORDER)
    {
      g_clear_pointer (&line, g_free);
      line = read_line (client_lines);
      g_assert_cmpstr (line, ==, "220 2.0.0 go ahead");
      client = gsecsock_secure_socket_new_with_input_buffer (client_ctx, G_IO_STREAM (client_conn),
                                                             G_BUFFERED_INPUT_STREAM (client_lines),
                                                             c->peer_name, &error);
      g_assert_no_error (error);
      gsecsock_secure_socket_handshake_async (client, G_PRIORITY_DEFAULT, NULL,
                                              test_handshake_cb, &client_op);
    }

  test_wait_until (f->env.context, client_op.done && server_op.done);
  if (c->mode == UPGRADE_PENDING_WRITE)
    g_assert_true (write_done);
  if (!c->expect_ok)
    {
      g_assert_error (client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
      test_assert_message_contains (client_op.error, "mail.example");
      goto out;
    }
  g_assert_no_error (client_op.error);
  g_assert_no_error (server_op.error);

  /* TLS works both ways over the upgraded connection. */
  test_write_all (G_IO_STREAM (client), "EHLO\r\n", 6);
  test_read_exact (G_IO_STREAM (server), buffer, 6);
  g_assert_cmpmem (buffer, 6, "EHLO\r\n", 6);
  test_write_all (G_IO_STREAM (server), "250 OK", 6);
  test_read_exact (G_IO_STREAM (client), buffer, 6);
  g_assert_cmpmem (buffer, 6, "250 OK", 6);
  g_assert_cmpstr (gsecsock_secure_socket_get_peer_name (client), ==, c->peer_name);
  if (c->verify)
    g_assert_cmpuint (gsecsock_secure_socket_get_certificate_errors (client), ==, 0);

out:
  if (client != NULL)
    g_io_stream_close (G_IO_STREAM (client), NULL, NULL);
  if (server != NULL)
    g_io_stream_close (G_IO_STREAM (server), NULL, NULL);
  test_op_clear (&client_op);
  test_op_clear (&server_op);
}

/* The buffered stream must read from the connection being secured. */
static void
test_starttls_wrong_buffer (Fixture *f, gconstpointer data)
{
  g_autoptr(GSocketConnection) client_conn = NULL;
  g_autoptr(GSocketConnection) server_conn = NULL;
  g_autoptr(GDataInputStream) other = NULL;
  g_autoptr(GError) error = NULL;
  GSecSockSecureSocket *sock;

  test_socket_pair ("127.0.0.1", &client_conn, &server_conn);
  other = line_reader (server_conn);
  sock = gsecsock_secure_socket_new_with_input_buffer (f->env.client_ctx, G_IO_STREAM (client_conn),
                                                       G_BUFFERED_INPUT_STREAM (other),
                                                       "localhost", &error);
  g_assert_null (sock);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "does not read from the connection");
}

/* ---- Memory transport -------------------------------------------------- */

/* Moves bytes between two memory transports, as an application relaying
 * them over its own channel would. */
typedef struct {
  GSecSockMemoryTransport *a;
  GSecSockMemoryTransport *b;
  gsize moved;
  guint batches;
} Shuttle;

static void
shuttle_bytes (GSecSockMemoryTransport *from, gpointer user_data)
{
  Shuttle *s = user_data;
  GSecSockMemoryTransport *to = from == s->a ? s->b : s->a;
  g_autoptr(GBytes) bytes = gsecsock_memory_transport_take_outgoing (from);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  g_assert_cmpuint (len, >, 0);
  s->moved += len;
  s->batches++;
  gsecsock_memory_transport_receive (to, data, len);
}

typedef struct {
  GBytes *data;
  gsize received;
  GChecksum *checksum;
  gboolean done;
  GError *error;
  char buffer[65536];
} Reader;

static void
reader_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Reader *r = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &r->error);

  if (n <= 0)
    {
      r->done = TRUE;
      return;
    }
  g_checksum_update (r->checksum, (const guchar *) r->buffer, n);
  r->received += n;
  g_input_stream_read_async (G_INPUT_STREAM (source), r->buffer, sizeof r->buffer,
                             G_PRIORITY_DEFAULT, NULL, reader_cb, r);
}

static void
writer_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TestOp *op = user_data;

  op->ok = g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &op->error);
  op->done = TRUE;
}

static void
close_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TestOp *op = user_data;

  op->ok = g_io_stream_close_finish (G_IO_STREAM (source), result, &op->error);
  op->done = TRUE;
}

/* Two secure sockets over memory transports a and b, joined by application
 * code passing bytes, after their handshake. */
static void
handshake_memory_pair (Fixture *f, GSecSockMemoryTransport *a, GSecSockMemoryTransport *b,
                       Shuttle *shuttle, gboolean keep_shuttling,
                       GSecSockSecureSocket **client, GSecSockSecureSocket **server)
{
  g_autoptr(GError) error = NULL;
  TestOp client_op = { 0 }, server_op = { 0 };

  g_signal_connect (a, "outgoing-ready", G_CALLBACK (shuttle_bytes), shuttle);
  g_signal_connect (b, "outgoing-ready", G_CALLBACK (shuttle_bytes), shuttle);
  *client = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (a), "localhost", &error);
  g_assert_no_error (error);
  *server = gsecsock_secure_socket_new (f->env.server_ctx, G_IO_STREAM (b), NULL, &error);
  g_assert_no_error (error);
  gsecsock_secure_socket_handshake_async (*client, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &client_op);
  gsecsock_secure_socket_handshake_async (*server, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &server_op);
  test_wait_until (f->env.context, client_op.done && server_op.done);
  g_assert_no_error (client_op.error);
  g_assert_no_error (server_op.error);
  g_assert_cmpuint (gsecsock_secure_socket_get_certificate_errors (*client), ==, 0);
  g_assert_cmpuint (shuttle->moved, >, 0);
  test_op_clear (&client_op);
  test_op_clear (&server_op);
  if (keep_shuttling)
    return;
  /* From here on the test moves the client's bytes itself. */
  g_signal_handlers_disconnect_by_func (a, shuttle_bytes, shuttle);
  test_run_context_for (f->env.context, 10);    /* tickets and the like */
}

/* Two secure sockets joined only by application code passing bytes: a
 * handshake, 1 MiB each way at once, and a clean close (close_notify, then
 * the end of the transport). */
static void
test_memory_transport_pair (Fixture *f, gconstpointer data)
{
  g_autoptr(GSecSockMemoryTransport) a = gsecsock_memory_transport_new ();
  g_autoptr(GSecSockMemoryTransport) b = gsecsock_memory_transport_new ();
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GSecSockSecureSocket) server = NULL;
  g_autoptr(GBytes) payload = test_make_random_bytes (1024 * 1024, 7);
  g_autofree char *expected = test_checksum (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload));
  Shuttle shuttle = { a, b, 0, 0 };
  TestOp write_c = { 0 }, write_s = { 0 };
  TestOp close_c = { 0 }, close_s = { 0 };
  Reader *read_c = g_new0 (Reader, 1), *read_s = g_new0 (Reader, 1);
  g_autofree char *got_c = NULL, *got_s = NULL;

  handshake_memory_pair (f, a, b, &shuttle, TRUE, &client, &server);

  read_c->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  read_s->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (client)), read_c->buffer,
                             sizeof read_c->buffer, G_PRIORITY_DEFAULT, NULL, reader_cb, read_c);
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (server)), read_s->buffer,
                             sizeof read_s->buffer, G_PRIORITY_DEFAULT, NULL, reader_cb, read_s);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (client)),
                                   g_bytes_get_data (payload, NULL), g_bytes_get_size (payload),
                                   G_PRIORITY_DEFAULT, NULL, writer_cb, &write_c);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (server)),
                                   g_bytes_get_data (payload, NULL), g_bytes_get_size (payload),
                                   G_PRIORITY_DEFAULT, NULL, writer_cb, &write_s);
  test_wait_until (f->env.context, write_c.done && write_s.done &&
                   read_c->received == g_bytes_get_size (payload) &&
                   read_s->received == g_bytes_get_size (payload));
  g_assert_no_error (write_c.error);
  g_assert_no_error (write_s.error);
  got_c = g_strdup (g_checksum_get_string (read_c->checksum));
  got_s = g_strdup (g_checksum_get_string (read_s->checksum));
  g_assert_cmpstr (got_c, ==, expected);
  g_assert_cmpstr (got_s, ==, expected);

  /* The client closes: its close_notify reaches the server, whose read
   * ends cleanly; then the server closes too. */
  g_io_stream_close_async (G_IO_STREAM (client), G_PRIORITY_DEFAULT, NULL, close_cb, &close_c);
  test_wait_until (f->env.context, close_c.done && read_s->done);
  g_assert_no_error (close_c.error);
  g_assert_no_error (read_s->error);
  g_io_stream_close_async (G_IO_STREAM (server), G_PRIORITY_DEFAULT, NULL, close_cb, &close_s);
  test_wait_until (f->env.context, close_s.done && read_c->done);
  g_assert_no_error (close_s.error);

  g_checksum_free (read_c->checksum);
  g_checksum_free (read_s->checksum);
  g_clear_error (&read_c->error);
  g_free (read_c);
  g_free (read_s);
}

/* The peer's bytes stop without a close_notify: reported as truncation. */
static void
test_memory_transport_truncation (Fixture *f, gconstpointer data)
{
  g_autoptr(GSecSockMemoryTransport) a = gsecsock_memory_transport_new ();
  g_autoptr(GSecSockMemoryTransport) b = gsecsock_memory_transport_new ();
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GSecSockSecureSocket) server = NULL;
  g_autoptr(GError) error = NULL;
  Shuttle shuttle = { a, b, 0, 0 };
  TestOp client_op = { 0 }, server_op = { 0 };
  Reader *reader = g_new0 (Reader, 1);

  g_signal_connect (a, "outgoing-ready", G_CALLBACK (shuttle_bytes), &shuttle);
  g_signal_connect (b, "outgoing-ready", G_CALLBACK (shuttle_bytes), &shuttle);
  client = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (a), "localhost", &error);
  server = gsecsock_secure_socket_new (f->env.server_ctx, G_IO_STREAM (b), NULL, &error);
  g_assert_no_error (error);
  gsecsock_secure_socket_handshake_async (client, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &client_op);
  gsecsock_secure_socket_handshake_async (server, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &server_op);
  test_wait_until (f->env.context, client_op.done && server_op.done);
  g_assert_true (client_op.ok && server_op.ok);

  reader->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (client)), reader->buffer,
                             sizeof reader->buffer, G_PRIORITY_DEFAULT, NULL, reader_cb, reader);
  test_run_context_for (f->env.context, 20);
  g_assert_false (reader->done);
  gsecsock_memory_transport_receive_eof (a);
  test_wait_until (f->env.context, reader->done);
  g_assert_error (reader->error, GSECSOCK_ERROR, GSECSOCK_ERROR_EOF);

  test_op_clear (&client_op);
  test_op_clear (&server_op);
  g_checksum_free (reader->checksum);
  g_clear_error (&reader->error);
  g_free (reader);
}

/* Without a main loop: a blocking handshake in a thread, the application
 * moving bytes by polling the sizes. */
typedef struct {
  GSecSockSecureSocket *sock;
  gboolean ok;
  GError *error;
} BlockingHandshake;

static gpointer
blocking_handshake_thread (gpointer user_data)
{
  BlockingHandshake *h = user_data;

  h->ok = gsecsock_secure_socket_handshake (h->sock, NULL, &h->error);
  return NULL;
}

static void
test_memory_transport_blocking (Fixture *f, gconstpointer data)
{
  g_autoptr(GSecSockMemoryTransport) a = gsecsock_memory_transport_new ();
  g_autoptr(GSecSockMemoryTransport) b = gsecsock_memory_transport_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("blocking handshakes over memory transports");
  BlockingHandshake hc = { 0 }, hs = { 0 };
  GThread *tc, *ts;
  Shuttle shuttle = { a, b, 0, 0 };

  hc.sock = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (a), "localhost", &error);
  hs.sock = gsecsock_secure_socket_new (f->env.server_ctx, G_IO_STREAM (b), NULL, &error);
  g_assert_no_error (error);
  tc = g_thread_new ("client", blocking_handshake_thread, &hc);
  ts = g_thread_new ("server", blocking_handshake_thread, &hs);
  while (!g_atomic_int_get (&hc.ok) || !g_atomic_int_get (&hs.ok))
    {
      if (gsecsock_memory_transport_get_outgoing_size (a) > 0)
        shuttle_bytes (a, &shuttle);
      if (gsecsock_memory_transport_get_outgoing_size (b) > 0)
        shuttle_bytes (b, &shuttle);
      if (hc.error != NULL || hs.error != NULL)
        break;
      g_usleep (500);
    }
  g_thread_join (tc);
  g_thread_join (ts);
  g_assert_no_error (hc.error);
  g_assert_no_error (hs.error);
  g_assert_true (gsecsock_secure_socket_get_handshake_complete (hc.sock));
  g_clear_object (&hc.sock);
  g_clear_object (&hs.sock);
}

/* A secure socket over a memory transport talking to openssl s_server,
 * through a relay the test writes itself over a plain TCP connection. */
typedef struct {
  GSecSockMemoryTransport *transport;
  GSocketConnection *conn;
  char buffer[16384];
  gboolean eof;
} Relay;

static void
relay_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Relay *relay = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0)
    {
      gsecsock_memory_transport_receive_eof (relay->transport);
      relay->eof = TRUE;
      return;
    }
  gsecsock_memory_transport_receive (relay->transport, (const guint8 *) relay->buffer, n);
  g_input_stream_read_async (G_INPUT_STREAM (source), relay->buffer, sizeof relay->buffer,
                             G_PRIORITY_DEFAULT, NULL, relay_read_cb, relay);
}

static void
relay_send (GSecSockMemoryTransport *transport, gpointer user_data)
{
  Relay *relay = user_data;
  g_autoptr(GBytes) bytes = gsecsock_memory_transport_take_outgoing (transport);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  if (len > 0)
    test_write_all (G_IO_STREAM (relay->conn), data, len);
}


static void
test_memory_transport_s_server (Fixture *f, gconstpointer data)
{
  g_autoptr(GSubprocessLauncher) launcher = test_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                                            G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSecSockMemoryTransport) transport = gsecsock_memory_transport_new ();
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *port_text = NULL;
  g_autofree char *answer = NULL;
  guint16 port = test_find_free_port ("127.0.0.1");
  Relay relay = { transport, NULL, { 0 }, FALSE };
  TestOp op = { 0 };
  TestGuard *guard;

  port_text = g_strdup_printf ("127.0.0.1:%u", port);
  proc = g_subprocess_launcher_spawn (launcher, &error, test_openssl_program (), "s_server", "-accept", port_text,
                                      "-naccept", "1", "-rev", "-quiet",
                                      "-cert", test_pki_path ("server.pem"),
                                      "-cert_chain", test_pki_path ("intermediate.pem"),
                                      "-key", test_pki_path ("server.key"), NULL);
  g_assert_no_error (error);
  /* Wait until s_server accepts. */
  guard = test_guard_new (f->env.context);
  while ((relay.conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL)) == NULL)
    {
      if (test_guard_expired (guard))
        g_error ("openssl s_server did not start on port %u", port);
      g_usleep (20000);
    }
  test_guard_free (guard);

  g_signal_connect (transport, "outgoing-ready", G_CALLBACK (relay_send), &relay);
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (relay.conn)), relay.buffer,
                             sizeof relay.buffer, G_PRIORITY_DEFAULT, NULL, relay_read_cb, &relay);
  sock = gsecsock_secure_socket_new (f->env.client_ctx, G_IO_STREAM (transport), "localhost", &error);
  g_assert_no_error (error);
  gsecsock_secure_socket_handshake_async (sock, G_PRIORITY_DEFAULT, NULL, test_handshake_cb, &op);
  test_wait_until (f->env.context, op.done);
  g_assert_no_error (op.error);
  g_assert_cmpint (gsecsock_secure_socket_get_protocol_version (sock), ==, GSECSOCK_PROTOCOL_VERSION_TLS_1_3);

  /* s_server -rev answers each line reversed. */
  {
    GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (sock));
    TestOp written = { 0 };

    g_output_stream_write_all_async (out, "memory transport\n", 17, G_PRIORITY_DEFAULT, NULL,
                                     writer_cb, &written);
    test_wait_until (f->env.context, written.done);
    g_assert_no_error (written.error);
  }
  {
    GAsyncResult *result = NULL;

    lines = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (sock)));
    g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (lines), FALSE);
    g_data_input_stream_read_line_async (lines, G_PRIORITY_DEFAULT, NULL, test_store_result_cb, &result);
    test_wait_for_result (&result);
    answer = g_data_input_stream_read_line_finish_utf8 (lines, result, NULL, &error);
    g_object_unref (result);
  }
  g_assert_no_error (error);
  g_assert_cmpstr (answer, ==, "tropsnart yromem");

  g_io_stream_close (G_IO_STREAM (sock), NULL, NULL);
  relay_send (transport, &relay);
  g_io_stream_close (G_IO_STREAM (relay.conn), NULL, NULL);
  g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
  test_run_context_for (f->env.context, 10);
  g_clear_object (&relay.conn);
  test_op_clear (&op);
}

/* The transport's own accounting, without a socket on top. */
static void
test_memory_transport_sizes (Fixture *f, gconstpointer data)
{
  g_autoptr(GSecSockMemoryTransport) t = gsecsock_memory_transport_new ();
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (t));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (t));
  g_autoptr(GBytes) taken = NULL;
  g_autoptr(GError) error = NULL;
  char buffer[8];

  g_assert_cmpuint (gsecsock_memory_transport_get_incoming_size (t), ==, 0);
  g_assert_false (g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (in)));
  gsecsock_memory_transport_receive (t, (const guint8 *) "abcdef", 6);
  g_assert_cmpuint (gsecsock_memory_transport_get_incoming_size (t), ==, 6);
  g_assert_cmpint (g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (in), buffer, 4, NULL, &error), ==, 4);
  g_assert_cmpuint (gsecsock_memory_transport_get_incoming_size (t), ==, 2);

  g_assert_cmpint (g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (out), "xyz", 3, NULL, &error), ==, 3);
  g_assert_no_error (error);
  g_assert_cmpuint (gsecsock_memory_transport_get_outgoing_size (t), ==, 3);
  taken = gsecsock_memory_transport_take_outgoing (t);
  g_assert_cmpmem (g_bytes_get_data (taken, NULL), g_bytes_get_size (taken), "xyz", 3);
  g_assert_cmpuint (gsecsock_memory_transport_get_outgoing_size (t), ==, 0);

  /* The rest, then the end. */
  gsecsock_memory_transport_receive_eof (t);
  g_assert_cmpint (g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (in), buffer, 8, NULL, &error), ==, 2);
  g_assert_cmpint (g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (in), buffer, 8, NULL, &error), ==, 0);
  g_assert_no_error (error);
  /* The outgoing-ready emission scheduled by the write runs and finds
   * nothing left. */
  test_run_context_for (f->env.context, 10);
}

/* ---- Vectored writes ------------------------------------------------------ */

/* Counts the TLS records in @bytes (whole records only) and their payload. */
static guint
count_records (GBytes *bytes, gsize *payload)
{
  gsize len = 0, offset = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  guint records = 0;

  *payload = 0;
  while (offset + 5 <= len)
    {
      gsize record_len = ((gsize) data[offset + 3] << 8) | data[offset + 4];

      g_assert_cmpuint (data[offset], ==, 23);            /* application_data */
      g_assert_cmpuint (offset + 5 + record_len, <=, len);
      *payload += record_len;
      offset += 5 + record_len;
      records++;
    }
  g_assert_cmpuint (offset, ==, len);
  return records;
}

static void
writev_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TestOp *op = user_data;

  op->ok = g_output_stream_writev_all_finish (G_OUTPUT_STREAM (source), result, NULL, &op->error);
  op->done = TRUE;
}

/* Small vectors written together leave as one record (one header, one tag,
 * one transport write), by every writev path; large ones arrive intact. */
static void
test_memory_transport_writev (Fixture *f, gconstpointer data)
{
  g_autoptr(GSecSockMemoryTransport) a = gsecsock_memory_transport_new ();
  g_autoptr(GSecSockMemoryTransport) b = gsecsock_memory_transport_new ();
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GSecSockSecureSocket) server = NULL;
  g_autoptr(GBytes) big = test_make_random_bytes (40000, 11);
  g_autoptr(GError) error = NULL;
  Shuttle shuttle = { a, b, 0, 0 };
  const char header[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
  char body[1000];
  const GOutputVector small[] = {
    { header, sizeof header - 1 }, { "", 0 }, { body, sizeof body }, { "\r\n", 2 },
  };
  const gsize small_total = sizeof header - 1 + sizeof body + 2;
  GOutputVector large[] = {
    { "head", 4 }, { g_bytes_get_data (big, NULL), g_bytes_get_size (big) }, { "tail", 4 },
  };
  GOutputStream *out;
  GInputStream *in;
  g_autoptr(GBytes) wire = NULL;
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autofree guint8 *got = NULL;
  gsize written = 0, payload = 0, got_len = 0;
  TestOp op = { 0 };
  int round;

  memset (body, 'b', sizeof body);
  handshake_memory_pair (f, a, b, &shuttle, FALSE, &client, &server);
  out = g_io_stream_get_output_stream (G_IO_STREAM (client));
  in = g_io_stream_get_input_stream (G_IO_STREAM (server));

  for (round = 0; round < 3; round++)
    {
      /* writev_all() moves through the vectors it is given: a copy each round. */
      GOutputVector vectors[G_N_ELEMENTS (small)];
      gsize i;

      memcpy (vectors, small, sizeof small);
      written = 0;
      if (round == 0)
        g_assert_true (g_output_stream_writev_all (out, vectors, G_N_ELEMENTS (vectors), &written, NULL, &error));
      else if (round == 1)
        g_assert_cmpint (g_pollable_output_stream_writev_nonblocking (G_POLLABLE_OUTPUT_STREAM (out), small,
                                                                     G_N_ELEMENTS (small), &written, NULL, &error),
                         ==, G_POLLABLE_RETURN_OK);
      else
        {
          g_output_stream_writev_all_async (out, vectors, G_N_ELEMENTS (vectors),
                                            G_PRIORITY_DEFAULT, NULL, writev_cb, &op);
          test_wait_until (f->env.context, op.done);
          g_assert_true (op.ok);
          written = small_total;
        }
      g_assert_no_error (error);
      g_assert_cmpuint (written, ==, small_total);
      wire = gsecsock_memory_transport_take_outgoing (a);
      /* One record: the payload plus TLS 1.3's content type and 16-byte tag. */
      g_assert_cmpuint (count_records (wire, &payload), ==, 1);
      g_assert_cmpuint (payload, ==, small_total + 17);
      gsecsock_memory_transport_receive (b, g_bytes_get_data (wire, NULL), g_bytes_get_size (wire));
      g_clear_pointer (&wire, g_bytes_unref);
      for (i = 0; i < G_N_ELEMENTS (small); i++)
        g_byte_array_append (expected, small[i].buffer, small[i].size);
    }
  test_op_clear (&op);

  /* Larger than a record: every byte, in order, in full records. */
  for (gsize i = 0; i < G_N_ELEMENTS (large); i++)
    g_byte_array_append (expected, large[i].buffer, large[i].size);
  g_assert_true (g_output_stream_writev_all (out, large, G_N_ELEMENTS (large), &written, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (written, ==, 40008);
  wire = gsecsock_memory_transport_take_outgoing (a);
  g_assert_cmpuint (count_records (wire, &payload), <=, 4);
  gsecsock_memory_transport_receive (b, g_bytes_get_data (wire, NULL), g_bytes_get_size (wire));

  got = g_malloc (expected->len);
  g_assert_true (g_input_stream_read_all (in, got, expected->len, &got_len, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (got, got_len, expected->data, expected->len);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

#define ADD(path, data, func) \
  g_test_add ("/transport/" path, Fixture, data, fixture_setup, func, fixture_teardown)

  ADD ("starttls/in-order", &upgrade_in_order, test_starttls);
  ADD ("starttls/read-ahead-kept", &upgrade_pipelined, test_starttls);
  ADD ("starttls/pending-plain-write", &upgrade_pending_write, test_starttls);
  ADD ("starttls/without-verification", &upgrade_no_verification, test_starttls);
  ADD ("starttls/verify-other-name", &upgrade_other_name_fails, test_starttls);
  ADD ("starttls/wrong-buffer", NULL, test_starttls_wrong_buffer);
  ADD ("memory/sizes", NULL, test_memory_transport_sizes);
  ADD ("memory/pair", NULL, test_memory_transport_pair);
  ADD ("memory/truncation", NULL, test_memory_transport_truncation);
  ADD ("memory/blocking", NULL, test_memory_transport_blocking);
  ADD ("memory/writev-one-record", NULL, test_memory_transport_writev);
  ADD ("memory/s-server-relay", NULL, test_memory_transport_s_server);

  return g_test_run ();
}
