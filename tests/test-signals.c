/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The decision signals: verify-certificate, handshake-info and
 * client-certificate-requested, on the socket and on the context, answered
 * at once or deferred, and handlers that misbehave. (password-requested is
 * in test-password.c.) */
#include "test-utils.h"

#include <string.h>

typedef struct {
  TestEnv env;
  TestTlsPair pair;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_env_setup (&f->env, "server-chain.pem", "server.key");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  test_tls_pair_clear (&f->pair);
  test_env_teardown (&f->env);
}

/* Starts both handshakes asynchronously; results land in the pair's ops. */
static void
start_handshakes (TestTlsPair *pair)
{
  gsecsock_secure_socket_handshake_async (pair->client, G_PRIORITY_DEFAULT, NULL,
                                          test_handshake_cb, &pair->client_op);
  gsecsock_secure_socket_handshake_async (pair->server, G_PRIORITY_DEFAULT, NULL,
                                          test_handshake_cb, &pair->server_op);
}

static void
wait_handshakes (Fixture *f)
{
  test_wait_until (f->env.context, f->pair.client_op.done && f->pair.server_op.done);
}

/* g_timeout_add() for the thread-default main context, which the tests
 * iterate (g_timeout_add() would use the global one). */
static void
timeout_add_here (guint ms, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, data, notify);
  g_source_attach (source, g_main_context_get_thread_default ());
  g_source_unref (source);
}

/* ---- verify-certificate ---------------------------------------------- */

typedef struct {
  guint depth;
  GSecSockCertificateFlags errors;
  char *subject;
  GThread *thread;
} Emission;

typedef struct {
  GArray *emissions;           /* Emission */
  gboolean answer;             /* what the handler returns */
  const char *pin;             /* if set: accept the leaf only with this fingerprint */
  GSecSockSecureSocket *expected_socket;   /* context handlers: the socket passed */
} VerifyRecorder;

static void
emission_clear (gpointer data)
{
  g_free (((Emission *) data)->subject);
}

static void
recorder_init (VerifyRecorder *rec, gboolean answer)
{
  memset (rec, 0, sizeof *rec);
  rec->emissions = g_array_new (FALSE, TRUE, sizeof (Emission));
  g_array_set_clear_func (rec->emissions, emission_clear);
  rec->answer = answer;
}

static void
recorder_clear (VerifyRecorder *rec)
{
  g_clear_pointer (&rec->emissions, g_array_unref);
}

static gboolean
record_verify (VerifyRecorder           *rec,
               GSecSockCertificate      *certificate,
               guint                     depth,
               GSecSockCertificateFlags  errors)
{
  Emission e = { depth, errors, gsecsock_certificate_get_subject (certificate), g_thread_self () };

  g_assert_true (GSECSOCK_IS_CERTIFICATE (certificate));
  g_array_append_val (rec->emissions, e);
  if (rec->pin != NULL && depth == 0)
    return g_str_equal (gsecsock_certificate_get_fingerprint_sha256 (certificate), rec->pin);
  if (rec->pin != NULL)
    return TRUE;
  return rec->answer;
}

static gboolean
on_verify (GSecSockSecureSocket     *sock,
           GSecSockCertificate      *certificate,
           guint                     depth,
           GSecSockCertificateFlags  errors,
           gpointer                  user_data)
{
  g_assert_true (GSECSOCK_IS_SECURE_SOCKET (sock));
  return record_verify (user_data, certificate, depth, errors);
}

/* Records, and answers like the built-in verification. */
static gboolean
on_verify_default (GSecSockSecureSocket     *sock,
                   GSecSockCertificate      *certificate,
                   guint                     depth,
                   GSecSockCertificateFlags  errors,
                   gpointer                  user_data)
{
  record_verify (user_data, certificate, depth, errors);
  return errors == 0;
}

static gboolean
on_context_verify (GSecSockSecureSocketContext *ctx,
                   GSecSockSecureSocket        *sock,
                   GSecSockCertificate         *certificate,
                   guint                        depth,
                   GSecSockCertificateFlags     errors,
                   gpointer                     user_data)
{
  VerifyRecorder *rec = user_data;

  g_assert_true (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (ctx));
  if (rec->expected_socket != NULL)
    g_assert_true (sock == rec->expected_socket);
  return record_verify (rec, certificate, depth, errors);
}

static const Emission *
emission (VerifyRecorder *rec, guint i)
{
  g_assert_cmpuint (i, <, rec->emissions->len);
  return &g_array_index (rec->emissions, Emission, i);
}

/* A 3-certificate chain (leaf, intermediate, trusted root): one emission per
 * certificate, root end first, each with its own subject and no error. */
static void
test_verify_per_depth_order (Fixture *f, gconstpointer data)
{
  VerifyRecorder rec;

  recorder_init (&rec, TRUE);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify), &rec);
  g_assert_true (test_tls_pair_handshake_async (&f->pair));

  g_assert_cmpuint (rec.emissions->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpuint (emission (&rec, i)->depth, ==, 2 - i);
      g_assert_cmpuint (emission (&rec, i)->errors, ==, 0);
      g_assert_true (emission (&rec, i)->thread == g_thread_self ());
    }
  g_assert_cmpstr (emission (&rec, 0)->subject, ==, "CN=gsecsock Test Root CA");
  g_assert_nonnull (strstr (emission (&rec, 1)->subject, "Intermediate"));
  g_assert_cmpstr (emission (&rec, 2)->subject, ==, "CN=localhost");
  recorder_clear (&rec);
}

/* Every problem of a certificate comes in its one emission: an expired leaf
 * for the wrong name has both flags at depth 0. */
static void
test_verify_collects_all_errors (Fixture *f, gconstpointer data)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx =
    test_make_server_context ("expired-chain.pem", "expired.key");
  VerifyRecorder rec;
  guint leaf_emissions = 0;

  /* Accepting everything: the problems stay reported. */
  recorder_init (&rec, TRUE);
  test_tls_pair_init (&f->pair, f->env.client_ctx, server_ctx, "127.0.0.1", "wrong.example");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify), &rec);
  g_assert_true (test_tls_pair_handshake_async (&f->pair));

  for (guint i = 0; i < rec.emissions->len; i++)
    if (emission (&rec, i)->depth == 0)
      {
        leaf_emissions++;
        g_assert_cmpuint (emission (&rec, i)->errors, ==,
                          GSECSOCK_CERTIFICATE_EXPIRED | GSECSOCK_CERTIFICATE_BAD_IDENTITY);
      }
  g_assert_cmpuint (leaf_emissions, ==, 1);
  g_assert_cmpuint (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==,
                    GSECSOCK_CERTIFICATE_EXPIRED | GSECSOCK_CERTIFICATE_BAD_IDENTITY);
  recorder_clear (&rec);
}

/* The safe way to accept a self-signed server: its fingerprint, for one
 * host. The right pin connects (the problems stay reported); a wrong pin
 * fails with the alert sent to the server. */
static void
test_verify_pin_self_signed (Fixture *f, gconstpointer data)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx =
    test_make_server_context ("selfsigned.pem", "selfsigned.key");
  g_autoptr(GSecSockCertificate) expected = test_load_certificate ("selfsigned.pem");
  VerifyRecorder rec;

  /* Right pin. */
  recorder_init (&rec, FALSE);
  rec.pin = gsecsock_certificate_get_fingerprint_sha256 (expected);
  test_tls_pair_init (&f->pair, f->env.client_ctx, server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify), &rec);
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpuint (rec.emissions->len, ==, 1);
  g_assert_cmpuint (emission (&rec, 0)->errors, ==,
                    GSECSOCK_CERTIFICATE_SELF_SIGNED | GSECSOCK_CERTIFICATE_UNKNOWN_CA);
  g_assert_cmpuint (gsecsock_secure_socket_get_certificate_errors (f->pair.client), ==,
                    GSECSOCK_CERTIFICATE_SELF_SIGNED | GSECSOCK_CERTIFICATE_UNKNOWN_CA);
  test_tls_pair_clear (&f->pair);
  recorder_clear (&rec);

  /* Wrong pin. */
  recorder_init (&rec, FALSE);
  rec.pin = "00:11:22";
  test_tls_pair_init (&f->pair, f->env.client_ctx, server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify), &rec);
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  test_assert_message_contains (f->pair.server_op.error, "unknown CA");
  recorder_clear (&rec);
}

/* OpenSSL reports a name-constraint violation after it has called the leaf
 * "ok": the leaf is still decided once, with that problem. */
static void
test_verify_once_with_late_problem (Fixture *f, gconstpointer data)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx =
    test_make_server_context ("constrained-chain.pem", "constrained.key");
  g_autoptr(GSecSockSecureSocketContext) client_ctx = test_make_client_context ();
  VerifyRecorder rec;
  guint leaf_emissions = 0;

  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (client_ctx,
                                                                       test_pki_path ("constrained-ca.pem"),
                                                                       NULL));
  recorder_init (&rec, TRUE);
  rec.pin = NULL;
  test_tls_pair_init (&f->pair, client_ctx, server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify_default), &rec);
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  for (guint i = 0; i < rec.emissions->len; i++)
    if (emission (&rec, i)->depth == 0)
      {
        leaf_emissions++;
        g_assert_cmpuint (emission (&rec, i)->errors, ==, GSECSOCK_CERTIFICATE_GENERIC_ERROR);
      }
  g_assert_cmpuint (leaf_emissions, ==, 1);
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  recorder_clear (&rec);
}

typedef struct {
  GPtrArray *descriptions;
  GSecSockHandshakeInfoFlags all;
  GThread *thread;
} InfoRecorder;

static void
on_info (GSecSockSecureSocket       *sock,
         GSecSockHandshakeInfoFlags  where,
         int                         value,
         const char                 *description,
         gpointer                    user_data)
{
  InfoRecorder *rec = user_data;

  g_assert_nonnull (description);
  rec->all |= where;
  rec->thread = g_thread_self ();
  if (where & GSECSOCK_HANDSHAKE_INFO_ALERT)
    g_ptr_array_add (rec->descriptions,
                     g_strdup_printf ("%s %s %d", (where & GSECSOCK_HANDSHAKE_INFO_READ) ? "read" : "write",
                                      description, value));
  else
    g_ptr_array_add (rec->descriptions, g_strdup (description));
}

static gboolean
strv_has_substring (GPtrArray *array, const char *needle)
{
  for (guint i = 0; i < array->len; i++)
    if (strstr (g_ptr_array_index (array, i), needle) != NULL)
      return TRUE;
  return FALSE;
}

/* A handler rejecting a certificate that has no problem: the handshake
 * fails during the handshake, the server gets bad_certificate, and both
 * handshake-info traces show that alert. */
static void
test_verify_reject_valid_sends_alert (Fixture *f, gconstpointer data)
{
  VerifyRecorder rec;
  InfoRecorder client_info = { g_ptr_array_new_with_free_func (g_free), 0, NULL };
  InfoRecorder server_info = { g_ptr_array_new_with_free_func (g_free), 0, NULL };

  recorder_init (&rec, FALSE);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify), &rec);
  g_signal_connect (f->pair.client, "handshake-info", G_CALLBACK (on_info), &client_info);
  g_signal_connect (f->pair.server, "handshake-info", G_CALLBACK (on_info), &server_info);
  g_assert_false (test_tls_pair_handshake_async (&f->pair));

  /* Rejected at the first emission, the root: nothing after it. */
  g_assert_cmpuint (rec.emissions->len, ==, 1);
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  test_assert_message_contains (f->pair.client_op.error, "rejected by the application");
  test_assert_message_contains (f->pair.server_op.error, "bad certificate");
  g_assert_false (gsecsock_secure_socket_get_handshake_complete (f->pair.client));

  g_assert_true (strv_has_substring (client_info.descriptions, "write fatal bad_certificate 42"));
  g_assert_true (strv_has_substring (server_info.descriptions, "read fatal bad_certificate 42"));
  g_assert_true (client_info.all & GSECSOCK_HANDSHAKE_INFO_START);
  g_assert_true (client_info.all & GSECSOCK_HANDSHAKE_INFO_STATE);
  g_assert_true (client_info.all & GSECSOCK_HANDSHAKE_INFO_CONNECT);
  g_assert_false (client_info.all & GSECSOCK_HANDSHAKE_INFO_ACCEPT);
  g_assert_true (server_info.all & GSECSOCK_HANDSHAKE_INFO_ACCEPT);
  g_assert_true (client_info.thread == g_thread_self ());

  g_ptr_array_unref (client_info.descriptions);
  g_ptr_array_unref (server_info.descriptions);
  recorder_clear (&rec);
}

/* handshake-info on success: start, states, done; and a close_notify
 * after the handshake, on the reading side. */
static void
test_handshake_info_events (Fixture *f, gconstpointer data)
{
  InfoRecorder client_info = { g_ptr_array_new_with_free_func (g_free), 0, NULL };
  InfoRecorder server_info = { g_ptr_array_new_with_free_func (g_free), 0, NULL };
  g_autoptr(GError) error = NULL;
  char buffer[16];
  gssize n;

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "handshake-info", G_CALLBACK (on_info), &client_info);
  g_signal_connect (f->pair.server, "handshake-info", G_CALLBACK (on_info), &server_info);
  g_assert_true (test_tls_pair_handshake_async (&f->pair));

  g_assert_true (client_info.all & GSECSOCK_HANDSHAKE_INFO_START);
  g_assert_true (client_info.all & GSECSOCK_HANDSHAKE_INFO_DONE);
  g_assert_true (strv_has_substring (client_info.descriptions, "write client hello"));
  g_assert_true (strv_has_substring (server_info.descriptions, "read client hello"));
  g_assert_true (strv_has_substring (client_info.descriptions, "handshake done"));

  g_io_stream_close (G_IO_STREAM (f->pair.client), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (strv_has_substring (client_info.descriptions, "write warning close_notify 0"));
  n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (f->pair.server)),
                           buffer, sizeof buffer, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 0);
  g_assert_true (strv_has_substring (server_info.descriptions, "read warning close_notify 0"));

  g_ptr_array_unref (client_info.descriptions);
  g_ptr_array_unref (server_info.descriptions);
}

typedef struct {
  guint count;
  GSecSockSecureSocket *socket;
} ContextInfo;

static void
on_context_info (GSecSockSecureSocketContext *ctx,
                 GSecSockSecureSocket        *sock,
                 GSecSockHandshakeInfoFlags   where,
                 int                          value,
                 const char                  *description,
                 gpointer                     user_data)
{
  ContextInfo *info = user_data;

  info->count++;
  info->socket = sock;
}

/* Context-level handlers: used for sockets without their own; a socket's
 * handler takes precedence; with neither, built-in verification. */
static void
test_context_handlers_precedence (Fixture *f, gconstpointer data)
{
  VerifyRecorder ctx_rec, sock_rec;
  ContextInfo ctx_info = { 0, NULL };
  InfoRecorder sock_info = { g_ptr_array_new_with_free_func (g_free), 0, NULL };
  gulong verify_id, info_id;

  /* Context only: it answers (here: rejects a valid chain), with the
   * socket as first argument. */
  recorder_init (&ctx_rec, FALSE);
  verify_id = g_signal_connect (f->env.client_ctx, "verify-certificate",
                                G_CALLBACK (on_context_verify), &ctx_rec);
  info_id = g_signal_connect (f->env.client_ctx, "handshake-info",
                              G_CALLBACK (on_context_info), &ctx_info);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  ctx_rec.expected_socket = f->pair.client;
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpuint (ctx_rec.emissions->len, ==, 1);
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  g_assert_cmpuint (ctx_info.count, >, 0);
  g_assert_true (ctx_info.socket == f->pair.client);
  test_tls_pair_clear (&f->pair);
  recorder_clear (&ctx_rec);

  /* Socket and context: the socket's handler answers (accepts) and the
   * context's is not called. */
  recorder_init (&ctx_rec, FALSE);
  recorder_init (&sock_rec, TRUE);
  ctx_info.count = 0;
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify), &sock_rec);
  g_signal_connect (f->pair.client, "handshake-info", G_CALLBACK (on_info), &sock_info);
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpuint (sock_rec.emissions->len, ==, 3);
  g_assert_cmpuint (ctx_rec.emissions->len, ==, 0);
  g_assert_cmpuint (sock_info.descriptions->len, >, 0);
  g_assert_cmpuint (ctx_info.count, ==, 0);
  test_tls_pair_clear (&f->pair);
  recorder_clear (&ctx_rec);
  recorder_clear (&sock_rec);

  /* Neither: built-in verification (a valid chain passes, a bad one does
   * not). */
  g_signal_handler_disconnect (f->env.client_ctx, verify_id);
  g_signal_handler_disconnect (f->env.client_ctx, info_id);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  test_tls_pair_clear (&f->pair);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "wrong.example");
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);

  g_ptr_array_unref (sock_info.descriptions);
}

/* A handler on a server that asks for client certificates sees the
 * client's chain. */
static void
test_verify_server_side (Fixture *f, gconstpointer data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx =
    test_make_client_context_with_certificate ("client-chain.pem", "client.key");
  VerifyRecorder rec;

  gsecsock_secure_socket_context_set_verify_peer (f->env.server_ctx, TRUE);
  gsecsock_secure_socket_context_set_use_system_trust (f->env.server_ctx, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (f->env.server_ctx,
                                                                       test_pki_path ("ca.pem"),
                                                                       NULL));
  recorder_init (&rec, TRUE);
  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.server, "verify-certificate", G_CALLBACK (on_verify), &rec);
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpuint (rec.emissions->len, ==, 3);
  g_assert_cmpuint (emission (&rec, 2)->depth, ==, 0);
  g_assert_nonnull (strstr (emission (&rec, 2)->subject, "client"));
  recorder_clear (&rec);
}

/* ---- Deferred decisions --------------------------------------------- */

typedef enum {
  ANSWER_ACCEPT,
  ANSWER_REJECT,
  ANSWER_NONE,       /* the test acts instead (close, cancel, timeout) */
  ANSWER_DROP,       /* the decision is dropped unanswered */
} Answer;

typedef struct {
  Answer answer;
  guint delay_ms;
  guint deferred;            /* how many times the handler deferred */
  GSecSockDecision *decision;
  gboolean answered;
} Deferrer;

static gboolean
answer_later (gpointer user_data)
{
  Deferrer *d = user_data;

  if (d->answer == ANSWER_ACCEPT)
    gsecsock_decision_accept (d->decision);
  else if (d->answer == ANSWER_REJECT)
    gsecsock_decision_reject (d->decision);
  else if (d->answer == ANSWER_DROP)
    g_clear_object (&d->decision);
  d->answered = TRUE;
  return G_SOURCE_REMOVE;
}

/* Defers the leaf's decision (others accepted at once). */
static gboolean
on_verify_defer (GSecSockSecureSocket     *sock,
                 GSecSockCertificate      *certificate,
                 guint                     depth,
                 GSecSockCertificateFlags  errors,
                 gpointer                  user_data)
{
  Deferrer *d = user_data;

  if (depth != 0)
    return TRUE;
  d->deferred++;
  g_clear_object (&d->decision);
  d->decision = gsecsock_secure_socket_defer_decision (sock);
  g_assert_true (GSECSOCK_IS_DECISION (d->decision));
  g_assert_cmpint (gsecsock_decision_get_kind (d->decision), ==, GSECSOCK_DECISION_VERIFY_CERTIFICATE);
  g_assert_cmpuint (gsecsock_decision_get_depth (d->decision), ==, 0);
  g_assert_cmpuint (gsecsock_decision_get_errors (d->decision), ==, errors);
  g_assert_true (gsecsock_certificate_equal (gsecsock_decision_get_certificate (d->decision),
                                             certificate));
  if (d->answer != ANSWER_NONE)
    timeout_add_here (d->delay_ms, answer_later, d, NULL);
  return FALSE;   /* ignored: deferred */
}

static void
deferrer_clear (Deferrer *d)
{
  g_clear_object (&d->decision);
}

static void
test_defer_accept_later (Fixture *f, gconstpointer data)
{
  Deferrer d = { ANSWER_ACCEPT, 50, 0, NULL, FALSE };

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify_defer), &d);
  start_handshakes (&f->pair);
  wait_handshakes (f);
  g_assert_cmpuint (d.deferred, ==, 1);
  g_assert_true (d.answered);
  g_assert_no_error (f->pair.client_op.error);
  g_assert_no_error (f->pair.server_op.error);
  g_assert_true (gsecsock_decision_get_answered (d.decision));
  /* A second answer is ignored. */
  gsecsock_decision_reject (d.decision);
  test_write_all (G_IO_STREAM (f->pair.client), "ping", 4);
  {
    char buf[4];
    test_read_exact (G_IO_STREAM (f->pair.server), buf, 4);
    g_assert_cmpmem (buf, 4, "ping", 4);
  }
  deferrer_clear (&d);
}

static void
test_defer_reject_later (Fixture *f, gconstpointer data)
{
  Deferrer d = { ANSWER_REJECT, 50, 0, NULL, FALSE };

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify_defer), &d);
  start_handshakes (&f->pair);
  wait_handshakes (f);
  g_assert_true (d.answered);
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  test_assert_message_contains (f->pair.server_op.error, "bad certificate");
  deferrer_clear (&d);
}

/* A decision dropped without an answer rejects: nothing waits forever. */
static void
test_defer_dropped_rejects (Fixture *f, gconstpointer data)
{
  Deferrer d = { ANSWER_DROP, 10, 0, NULL, FALSE };

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify_defer), &d);
  start_handshakes (&f->pair);
  wait_handshakes (f);
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  deferrer_clear (&d);
}

static void
test_defer_socket_closed (Fixture *f, gconstpointer data)
{
  Deferrer d = { ANSWER_NONE, 0, 0, NULL, FALSE };
  g_autoptr(GError) error = NULL;

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify_defer), &d);
  start_handshakes (&f->pair);
  test_wait_until (f->env.context, d.deferred == 1);
  test_run_context_for (f->env.context, 20);
  g_assert_false (f->pair.client_op.done);

  g_io_stream_close (G_IO_STREAM (f->pair.client), NULL, &error);
  wait_handshakes (f);
  g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CLOSED);
  g_assert_nonnull (f->pair.server_op.error);
  /* Answering now is harmless. */
  gsecsock_decision_accept (d.decision);
  test_run_context_for (f->env.context, 20);
  deferrer_clear (&d);
}

static void
test_defer_cancelled (Fixture *f, gconstpointer data)
{
  Deferrer d = { ANSWER_NONE, 0, 0, NULL, FALSE };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify_defer), &d);
  gsecsock_secure_socket_handshake_async (f->pair.client, G_PRIORITY_DEFAULT, cancellable,
                                          test_handshake_cb, &f->pair.client_op);
  gsecsock_secure_socket_handshake_async (f->pair.server, G_PRIORITY_DEFAULT, NULL,
                                          test_handshake_cb, &f->pair.server_op);
  test_wait_until (f->env.context, d.deferred == 1);
  g_cancellable_cancel (cancellable);
  test_wait_until (f->env.context, f->pair.client_op.done);
  g_assert_error (f->pair.client_op.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (gsecsock_secure_socket_get_handshake_complete (f->pair.client));
  g_io_stream_close (G_IO_STREAM (f->pair.client), NULL, NULL);
  wait_handshakes (f);
  deferrer_clear (&d);
}

static void
test_defer_timeout (Fixture *f, gconstpointer data)
{
  Deferrer d = { ANSWER_NONE, 0, 0, NULL, FALSE };
  gint64 start;

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_cmpuint (gsecsock_secure_socket_get_handshake_timeout (f->pair.client), ==, 60);
  gsecsock_secure_socket_set_handshake_timeout (f->pair.client, 1);
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify_defer), &d);
  start = g_get_monotonic_time ();
  start_handshakes (&f->pair);
  test_wait_until (f->env.context, f->pair.client_op.done);
  g_assert_cmpuint (d.deferred, ==, 1);
  g_assert_error (f->pair.client_op.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  test_assert_message_contains (f->pair.client_op.error, "within 1 second (");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC - 1000);
  g_io_stream_close (G_IO_STREAM (f->pair.client), NULL, NULL);
  wait_handshakes (f);
  deferrer_clear (&d);
}

/* Several sockets wait for their decisions in one main loop, and are
 * answered in the reverse order. */
static void
test_defer_several_sockets (Fixture *f, gconstpointer data)
{
  enum { N = 4 };
  TestTlsPair pairs[N];
  Deferrer deferrers[N];

  for (guint i = 0; i < N; i++)
    {
      deferrers[i] = (Deferrer) { i % 2 ? ANSWER_REJECT : ANSWER_ACCEPT, 30 + 40 * (N - i), 0, NULL, FALSE };
      test_tls_pair_init (&pairs[i], f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
      g_signal_connect (pairs[i].client, "verify-certificate", G_CALLBACK (on_verify_defer),
                        &deferrers[i]);
      start_handshakes (&pairs[i]);
    }
  for (guint i = 0; i < N; i++)
    test_wait_until (f->env.context, pairs[i].client_op.done && pairs[i].server_op.done);
  for (guint i = 0; i < N; i++)
    {
      g_assert_cmpuint (deferrers[i].deferred, ==, 1);
      if (i % 2)
        g_assert_error (pairs[i].client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
      else
        g_assert_no_error (pairs[i].client_op.error);
      test_tls_pair_clear (&pairs[i]);
      deferrer_clear (&deferrers[i]);
    }
}

/* A server defers its decision on a client certificate. */
static void
test_defer_server_side (Fixture *f, gconstpointer data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx =
    test_make_client_context_with_certificate ("client-chain.pem", "client.key");
  Deferrer d = { ANSWER_ACCEPT, 30, 0, NULL, FALSE };

  gsecsock_secure_socket_context_set_verify_peer (f->env.server_ctx, TRUE);
  gsecsock_secure_socket_context_set_use_system_trust (f->env.server_ctx, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (f->env.server_ctx,
                                                                       test_pki_path ("ca.pem"),
                                                                       NULL));
  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.server, "verify-certificate", G_CALLBACK (on_verify_defer), &d);
  start_handshakes (&f->pair);
  wait_handshakes (f);
  g_assert_cmpuint (d.deferred, ==, 1);
  g_assert_no_error (f->pair.server_op.error);
  g_assert_no_error (f->pair.client_op.error);
  deferrer_clear (&d);
}

/* A blocking handshake waits for an answer given from another thread. */
static gpointer
answer_from_thread (gpointer user_data)
{
  Deferrer *d = user_data;

  while (!g_atomic_pointer_get (&d->decision))
    g_usleep (1000);
  g_usleep (20000);
  gsecsock_decision_accept (d->decision);
  return NULL;
}

static gboolean
on_verify_defer_for_thread (GSecSockSecureSocket     *sock,
                            GSecSockCertificate      *certificate,
                            guint                     depth,
                            GSecSockCertificateFlags  errors,
                            gpointer                  user_data)
{
  Deferrer *d = user_data;

  if (depth != 0)
    return TRUE;
  d->deferred++;
  g_atomic_pointer_set (&d->decision, gsecsock_secure_socket_defer_decision (sock));
  return FALSE;
}

static void
test_defer_blocking_answered_by_thread (Fixture *f, gconstpointer data)
{
  Deferrer d = { ANSWER_NONE, 0, 0, NULL, FALSE };
  g_autoptr(GThread) thread = NULL;

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate",
                    G_CALLBACK (on_verify_defer_for_thread), &d);
  thread = g_thread_new ("answer", answer_from_thread, &d);
  g_assert_true (test_tls_pair_handshake_sync (&f->pair));
  g_thread_join (g_steal_pointer (&thread));
  g_assert_cmpuint (d.deferred, ==, 1);
  deferrer_clear (&d);
}

/* ---- client-certificate-requested ------------------------------------- */

typedef struct {
  GSecSockCertificate *candidates[2];
  GStrv issuers;
  guint emissions;
  gboolean defer;
  gboolean decline;
  GSecSockDecision *decision;
  GSecSockCertificate *chosen;
} ClientCertChooser;

static GSecSockCertificate *
choose_by_issuer (ClientCertChooser *c, char **issuers)
{
  for (guint i = 0; i < G_N_ELEMENTS (c->candidates); i++)
    {
      g_autofree char *issuer = gsecsock_certificate_get_issuer (c->candidates[i]);
      if (g_strv_contains ((const char * const *) issuers, issuer))
        return c->candidates[i];
    }
  return NULL;
}

static gboolean
select_later (gpointer user_data)
{
  ClientCertChooser *c = user_data;

  gsecsock_decision_select_certificate (c->decision, c->chosen);
  return G_SOURCE_REMOVE;
}

static gboolean
on_client_cert (GSecSockSecureSocket *sock,
                char                **issuers,
                gpointer              user_data)
{
  ClientCertChooser *c = user_data;

  c->emissions++;
  g_strfreev (c->issuers);
  c->issuers = g_strdupv (issuers);
  if (c->decline)
    return TRUE;
  c->chosen = choose_by_issuer (c, issuers);
  if (c->defer)
    {
      c->decision = gsecsock_secure_socket_defer_decision (sock);
      g_assert_cmpint (gsecsock_decision_get_kind (c->decision), ==,
                       GSECSOCK_DECISION_CLIENT_CERTIFICATE);
      g_assert_true (g_strv_equal ((const char * const *) gsecsock_decision_get_acceptable_issuers (c->decision),
                                   (const char * const *) issuers));
      timeout_add_here (30, select_later, c, NULL);
      return TRUE;
    }
  gsecsock_secure_socket_set_client_certificate (sock, c->chosen);
  return TRUE;
}

static GSecSockCertificate *
load_identity (const char *chain, const char *key)
{
  g_autoptr(GError) error = NULL;
  GSecSockCertificate *cert = gsecsock_certificate_new_from_files (test_pki_path (chain),
                                                                   test_pki_path (key), &error);
  g_assert_no_error (error);
  g_assert_true (gsecsock_certificate_get_has_private_key (cert));
  return cert;
}

/* A server that requires client certificates from the test CA
 * (bundle.pem: root and intermediate, both named as acceptable issuers). */
static void
require_client_certificates (GSecSockSecureSocketContext *server_ctx)
{
  gsecsock_secure_socket_context_set_verify_peer (server_ctx, TRUE);
  gsecsock_secure_socket_context_set_use_system_trust (server_ctx, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (server_ctx,
                                                                       test_pki_path ("bundle.pem"),
                                                                       NULL));
}

static void
chooser_init (ClientCertChooser *c)
{
  memset (c, 0, sizeof *c);
  /* The wrong one first, so that choosing by issuer matters. */
  c->candidates[0] = load_identity ("client-other-chain.pem", "client-other.key");
  c->candidates[1] = load_identity ("client-chain.pem", "client.key");
}

static void
chooser_clear (ClientCertChooser *c)
{
  g_clear_object (&c->candidates[0]);
  g_clear_object (&c->candidates[1]);
  g_clear_object (&c->decision);
  g_clear_pointer (&c->issuers, g_strfreev);
}

static void
assert_server_saw_client (TestTlsPair *pair)
{
  g_autoptr(GSecSockCertificate) expected = test_load_certificate ("client.pem");

  g_assert_nonnull (gsecsock_secure_socket_get_peer_certificate (pair->server));
  g_assert_true (gsecsock_certificate_equal (gsecsock_secure_socket_get_peer_certificate (pair->server),
                                             expected));
}

static void
test_client_cert_chosen_by_issuer (Fixture *f, gconstpointer data)
{
  ClientCertChooser c;

  chooser_init (&c);
  require_client_certificates (f->env.server_ctx);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "client-certificate-requested", G_CALLBACK (on_client_cert), &c);
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpuint (c.emissions, ==, 1);
  g_assert_true (g_strv_contains ((const char * const *) c.issuers, "CN=gsecsock Test Root CA"));
  g_assert_true (c.chosen == c.candidates[1]);
  assert_server_saw_client (&f->pair);
  chooser_clear (&c);
}

static void
test_client_cert_deferred (Fixture *f, gconstpointer data)
{
  ClientCertChooser c;

  chooser_init (&c);
  c.defer = TRUE;
  require_client_certificates (f->env.server_ctx);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "client-certificate-requested", G_CALLBACK (on_client_cert), &c);
  start_handshakes (&f->pair);
  wait_handshakes (f);
  g_assert_no_error (f->pair.client_op.error);
  g_assert_no_error (f->pair.server_op.error);
  assert_server_saw_client (&f->pair);
  g_assert_true (gsecsock_secure_socket_get_client_certificate (f->pair.client) == c.candidates[1]);
  chooser_clear (&c);
}

/* Declining sends no certificate, even though the context has one; a server
 * that requires one then fails the handshake. */
static void
test_client_cert_declined (Fixture *f, gconstpointer data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx =
    test_make_client_context_with_certificate ("client-chain.pem", "client.key");
  ClientCertChooser c;

  chooser_init (&c);
  c.decline = TRUE;
  require_client_certificates (f->env.server_ctx);
  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "client-certificate-requested", G_CALLBACK (on_client_cert), &c);
  g_assert_false (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpuint (c.emissions, ==, 1);
  g_assert_error (f->pair.server_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED);
  chooser_clear (&c);
}

static gboolean
on_client_cert_not_handled (GSecSockSecureSocket *sock,
                            char                **issuers,
                            gpointer              user_data)
{
  (*(guint *) user_data)++;
  return FALSE;
}

/* Not handled: the context's certificate is sent. */
static void
test_client_cert_default (Fixture *f, gconstpointer data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx =
    test_make_client_context_with_certificate ("client-chain.pem", "client.key");
  guint emissions = 0;

  require_client_certificates (f->env.server_ctx);
  test_tls_pair_init (&f->pair, client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "client-certificate-requested",
                    G_CALLBACK (on_client_cert_not_handled), &emissions);
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpuint (emissions, ==, 1);
  assert_server_saw_client (&f->pair);
}

static gboolean
on_context_client_cert (GSecSockSecureSocketContext *ctx,
                        GSecSockSecureSocket        *sock,
                        char                       **issuers,
                        gpointer                     user_data)
{
  ClientCertChooser *c = user_data;

  g_assert_true (GSECSOCK_IS_SECURE_SOCKET (sock));
  c->emissions++;
  c->chosen = choose_by_issuer (c, issuers);
  gsecsock_secure_socket_set_client_certificate (sock, c->chosen);
  return TRUE;
}

/* The context-level form, for sockets without a handler of their own. */
static void
test_client_cert_context_handler (Fixture *f, gconstpointer data)
{
  ClientCertChooser c;

  chooser_init (&c);
  require_client_certificates (f->env.server_ctx);
  g_signal_connect (f->env.client_ctx, "client-certificate-requested",
                    G_CALLBACK (on_context_client_cert), &c);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpuint (c.emissions, ==, 1);
  g_assert_true (gsecsock_secure_socket_get_client_certificate (f->pair.client) == c.candidates[1]);
  assert_server_saw_client (&f->pair);
  chooser_clear (&c);
}

/* set_client_certificate() before the handshake, with no handler at all. */
static void
test_client_cert_set_in_advance (Fixture *f, gconstpointer data)
{
  g_autoptr(GSecSockCertificate) identity = load_identity ("client-chain.pem", "client.key");

  require_client_certificates (f->env.server_ctx);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_assert_null (gsecsock_secure_socket_get_client_certificate (f->pair.client));
  gsecsock_secure_socket_set_client_certificate (f->pair.client, identity);
  g_assert_true (gsecsock_secure_socket_get_client_certificate (f->pair.client) == identity);
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  assert_server_saw_client (&f->pair);
}

/* Not emitted when the server does not ask. */
static void
test_client_cert_not_requested (Fixture *f, gconstpointer data)
{
  guint emissions = 0;

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "client-certificate-requested",
                    G_CALLBACK (on_client_cert_not_handled), &emissions);
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_cmpuint (emissions, ==, 0);
}

/* ---- Handlers that misbehave ------------------------------------------ */

typedef enum {
  MISBEHAVE_HANDSHAKE,
  MISBEHAVE_CLOSE,
  MISBEHAVE_CANCEL,
  MISBEHAVE_UNREF,
} Misbehaviour;

typedef struct {
  Misbehaviour what;
  GCancellable *cancellable;
  GError *inner_error;
  gboolean inner_ok;
  guint calls;
} Misbehaver;

static gboolean
on_verify_misbehave (GSecSockSecureSocket     *sock,
                     GSecSockCertificate      *certificate,
                     guint                     depth,
                     GSecSockCertificateFlags  errors,
                     gpointer                  user_data)
{
  Misbehaver *m = user_data;

  m->calls++;
  switch (m->what)
    {
    case MISBEHAVE_HANDSHAKE:
      m->inner_ok = gsecsock_secure_socket_handshake (sock, NULL, &m->inner_error);
      break;
    case MISBEHAVE_CLOSE:
      m->inner_ok = g_io_stream_close (G_IO_STREAM (sock), NULL, &m->inner_error);
      break;
    case MISBEHAVE_CANCEL:
      g_cancellable_cancel (m->cancellable);
      break;
    case MISBEHAVE_UNREF:
      if (m->calls == 1)
        g_object_unref (sock);
      break;
    default:
      g_assert_not_reached ();
    }
  return TRUE;
}

static void
test_handler_misbehaves (Fixture *f, gconstpointer data)
{
  Misbehaver m = { GPOINTER_TO_INT (data), g_cancellable_new (), NULL, FALSE, 0 };

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify_misbehave), &m);
  gsecsock_secure_socket_handshake_async (f->pair.client, G_PRIORITY_DEFAULT, m.cancellable,
                                          test_handshake_cb, &f->pair.client_op);
  gsecsock_secure_socket_handshake_async (f->pair.server, G_PRIORITY_DEFAULT, NULL,
                                          test_handshake_cb, &f->pair.server_op);
  if (m.what == MISBEHAVE_UNREF)
    {
      /* The handler drops the test's reference: the running handshake
       * keeps the socket alive until it ends. */
      GSecSockSecureSocket *client = g_steal_pointer (&f->pair.client);
      GWeakRef weak;

      g_weak_ref_init (&weak, client);
      wait_handshakes (f);
      g_assert_cmpuint (m.calls, ==, 3);
      g_assert_no_error (f->pair.client_op.error);
      test_run_context_for (f->env.context, 10);
      g_assert_null (g_weak_ref_get (&weak));
      g_weak_ref_clear (&weak);
    }
  else
    {
      test_wait_until (f->env.context, f->pair.client_op.done);
      g_assert_cmpuint (m.calls, ==, 1);
      g_assert_false (f->pair.client_op.ok);
      switch (m.what)
        {
        case MISBEHAVE_HANDSHAKE:
          g_assert_false (m.inner_ok);
          g_assert_error (m.inner_error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
          g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
          test_assert_message_contains (f->pair.client_op.error, "verify-certificate handler");
          break;
        case MISBEHAVE_CLOSE:
          g_assert_error (f->pair.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CLOSED);
          break;
        case MISBEHAVE_CANCEL:
          g_assert_error (f->pair.client_op.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
          break;
        case MISBEHAVE_UNREF:
        default:
          g_assert_not_reached ();
        }
      g_io_stream_close (G_IO_STREAM (f->pair.client), NULL, NULL);
      wait_handshakes (f);
    }
  g_clear_error (&m.inner_error);
  g_clear_object (&m.cancellable);
}

/* defer_decision() outside a handler is a programming error. */
static void
test_defer_outside_handler (Fixture *f, gconstpointer data)
{
  GSecSockDecision *decision;

  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_test_expect_message ("GSecSock", G_LOG_LEVEL_CRITICAL, "*must be called from*");
  decision = gsecsock_secure_socket_defer_decision (f->pair.client);
  g_test_assert_expected_messages ();
  g_assert_null (decision);
}

/* ---- Threads ------------------------------------------------------------ */

typedef struct {
  GSecSockSecureSocketContext *client_ctx;
  GSecSockSecureSocketContext *server_ctx;
  VerifyRecorder rec;
  InfoRecorder info;
  GThread *worker;
  gboolean ok;
  gboolean deferred_ok;
} WorkerData;

static gboolean
accept_decision (gpointer decision)
{
  gsecsock_decision_accept (decision);
  return G_SOURCE_REMOVE;
}

static gboolean
on_verify_defer_accept_soon (GSecSockSecureSocket     *sock,
                             GSecSockCertificate      *certificate,
                             guint                     depth,
                             GSecSockCertificateFlags  errors,
                             gpointer                  user_data)
{
  WorkerData *w = user_data;
  Emission e = { depth, errors, NULL, g_thread_self () };

  g_array_append_val (w->rec.emissions, e);
  if (depth == 0)
    {
      /* Answered from the worker's own main context. */
      timeout_add_here (20, accept_decision, gsecsock_secure_socket_defer_decision (sock),
                        g_object_unref);
    }
  return TRUE;
}

/* A handshake started from a worker thread that runs its own main context:
 * every emission happens in that thread. */
static gpointer
worker_thread (gpointer user_data)
{
  WorkerData *w = user_data;
  g_autoptr(GMainContext) context = g_main_context_new ();
  TestTlsPair pair;

  g_main_context_push_thread_default (context);
  test_tls_pair_init (&pair, w->client_ctx, w->server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (pair.client, "verify-certificate", G_CALLBACK (on_verify_defer_accept_soon), w);
  g_signal_connect (pair.client, "handshake-info", G_CALLBACK (on_info), &w->info);
  w->ok = test_tls_pair_handshake_async (&pair);
  test_tls_pair_clear (&pair);
  g_main_context_pop_thread_default (context);
  return NULL;
}

static void
test_emissions_in_worker_thread (Fixture *f, gconstpointer data)
{
  WorkerData w = { f->env.client_ctx, f->env.server_ctx, { 0 }, { g_ptr_array_new_with_free_func (g_free), 0, NULL }, NULL, FALSE, FALSE };
  GThread *thread;

  recorder_init (&w.rec, TRUE);
  thread = g_thread_new ("worker", worker_thread, &w);
  w.worker = thread;
  g_thread_join (thread);
  g_assert_true (w.ok);
  g_assert_cmpuint (w.rec.emissions->len, ==, 3);
  for (guint i = 0; i < w.rec.emissions->len; i++)
    g_assert_true (emission (&w.rec, i)->thread == thread);
  g_assert_true (w.info.thread == thread);
  recorder_clear (&w.rec);
  g_ptr_array_unref (w.info.descriptions);
}

/* A handshake started from a worker thread (its own main context) waits
 * for a deferred decision; another thread then closes the socket, or
 * answers and drives it with blocking I/O. OpenSSL's paused job may only be
 * resumed by the thread that started it: that must neither crash nor hang. */
typedef struct {
  GSecSockSecureSocketContext *client_ctx;
  GSecSockSecureSocketContext *server_ctx;
  GMutex lock;
  GCond cond;
  GSecSockSecureSocket *client;   /* owned by the worker */
  GSecSockDecision *decision;
  TestOp client_op;
  TestOp server_op;
  gboolean stop;
} CrossThread;

static gboolean
on_verify_defer_cross (GSecSockSecureSocket     *sock,
                       GSecSockCertificate      *certificate,
                       guint                     depth,
                       GSecSockCertificateFlags  errors,
                       gpointer                  user_data)
{
  CrossThread *x = user_data;

  if (depth != 0)
    return TRUE;
  g_mutex_lock (&x->lock);
  x->decision = gsecsock_secure_socket_defer_decision (sock);
  g_cond_broadcast (&x->cond);
  g_mutex_unlock (&x->lock);
  return FALSE;
}

static gpointer
cross_worker (gpointer user_data)
{
  CrossThread *x = user_data;
  g_autoptr(GMainContext) context = g_main_context_new ();
  TestTlsPair pair;
  TestGuard *guard;

  g_main_context_push_thread_default (context);
  test_tls_pair_init (&pair, x->client_ctx, x->server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (pair.client, "verify-certificate", G_CALLBACK (on_verify_defer_cross), x);
  g_mutex_lock (&x->lock);
  x->client = g_object_ref (pair.client);
  g_mutex_unlock (&x->lock);
  start_handshakes (&pair);
  guard = test_guard_new (context);
  while (!(pair.client_op.done && pair.server_op.done) || !g_atomic_int_get (&x->stop))
    {
      if (test_guard_expired (guard))
        g_error ("the worker's handshakes did not finish");
      g_main_context_iteration (context, FALSE);
      g_usleep (1000);
    }
  test_guard_free (guard);
  g_mutex_lock (&x->lock);
  x->client_op = pair.client_op;
  x->server_op = pair.server_op;
  memset (&pair.client_op, 0, sizeof pair.client_op);
  memset (&pair.server_op, 0, sizeof pair.server_op);
  g_mutex_unlock (&x->lock);
  test_tls_pair_clear (&pair);
  g_main_context_pop_thread_default (context);
  return NULL;
}

static void
test_deferred_across_threads (Fixture *f, gconstpointer data)
{
  gboolean close_it = GPOINTER_TO_INT (data);
  CrossThread x = { f->env.client_ctx, f->env.server_ctx, };
  g_autoptr(GThread) worker = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TestWatchdog) watchdog = test_watchdog_start ("deferred decision across threads");

  g_mutex_init (&x.lock);
  g_cond_init (&x.cond);
  worker = g_thread_new ("worker", cross_worker, &x);
  g_mutex_lock (&x.lock);
  while (x.decision == NULL)
    g_cond_wait (&x.cond, &x.lock);
  g_mutex_unlock (&x.lock);

  if (close_it)
    {
      g_io_stream_close (G_IO_STREAM (x.client), NULL, &error);
    }
  else
    {
      GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (x.client));
      gsize written = 0;

      /* Answered here; the worker resumes the job, this blocking write
       * takes part once it may. */
      gsecsock_decision_accept (x.decision);
      g_assert_true (g_output_stream_write_all (out, "x", 1, &written, NULL, &error));
      g_assert_no_error (error);
    }
  g_atomic_int_set (&x.stop, TRUE);
  g_thread_join (g_steal_pointer (&worker));

  if (close_it)
    g_assert_error (x.client_op.error, GSECSOCK_ERROR, GSECSOCK_ERROR_CLOSED);
  else
    g_assert_no_error (x.client_op.error);
  g_clear_object (&x.decision);
  g_clear_object (&x.client);
  test_op_clear (&x.client_op);
  test_op_clear (&x.server_op);
  g_mutex_clear (&x.lock);
  g_cond_clear (&x.cond);
}

/* A deferred decision while an asynchronous read drives the handshake
 * implicitly: the main loop sleeps until the answer (no busy loop). */
typedef struct {
  GSecSockDecision *decision;
  gboolean read_done;
  gssize read_result;
} ImplicitRead;

static gboolean
on_verify_defer_store (GSecSockSecureSocket     *sock,
                       GSecSockCertificate      *certificate,
                       guint                     depth,
                       GSecSockCertificateFlags  errors,
                       gpointer                  user_data)
{
  ImplicitRead *r = user_data;

  if (depth == 0)
    r->decision = gsecsock_secure_socket_defer_decision (sock);
  return TRUE;
}

static void
implicit_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ImplicitRead *r = user_data;

  r->read_result = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
  r->read_done = TRUE;
}

static void
server_sends_after_handshake_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TestOp *op = user_data;

  test_handshake_cb (source, result, user_data);
  if (op->ok)
    g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (source)), "x", 1,
                               NULL, NULL, NULL);
}

static void
test_defer_no_busy_loop (Fixture *f, gconstpointer data)
{
  ImplicitRead r = { NULL, FALSE, 0 };
  char buffer[8];
  guint iterations = 0;
  gint64 end;

  if (GPOINTER_TO_INT (data))
    gsecsock_secure_socket_context_set_max_protocol_version (f->env.client_ctx,
                                                             GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
  test_tls_pair_init (&f->pair, f->env.client_ctx, f->env.server_ctx, "127.0.0.1", "localhost");
  g_signal_connect (f->pair.client, "verify-certificate", G_CALLBACK (on_verify_defer_store), &r);
  gsecsock_secure_socket_handshake_async (f->pair.server, G_PRIORITY_DEFAULT, NULL,
                                          server_sends_after_handshake_cb, &f->pair.server_op);
  /* No explicit client handshake: the first read performs it. */
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (f->pair.client)),
                             buffer, sizeof buffer, G_PRIORITY_DEFAULT, NULL, implicit_read_cb, &r);
  test_wait_until (f->env.context, r.decision != NULL);

  end = g_get_monotonic_time () + 300 * 1000;
  {
    GSource *stop = g_timeout_source_new (300);
    g_source_set_dummy_callback (stop);
    g_source_attach (stop, f->env.context);
    while (g_get_monotonic_time () < end)
      {
        g_main_context_iteration (f->env.context, TRUE);
        iterations++;
      }
    g_source_destroy (stop);
    g_source_unref (stop);
  }
  /* A handful of wake-ups at most; a busy loop makes tens of thousands. */
  g_assert_cmpuint (iterations, <, 50);
  g_assert_false (r.read_done);

  gsecsock_decision_accept (r.decision);
  test_wait_until (f->env.context, r.read_done);
  g_assert_cmpint (r.read_result, ==, 1);
  g_clear_object (&r.decision);
  test_wait_until (f->env.context, f->pair.server_op.done);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add ("/signals/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
#define ADD_DATA(path, data, func) \
  g_test_add ("/signals/" path, Fixture, GINT_TO_POINTER (data), fixture_setup, func, fixture_teardown)

  ADD ("verify/per-depth-order", test_verify_per_depth_order);
  ADD ("verify/collects-all-errors", test_verify_collects_all_errors);
  ADD ("verify/pin-self-signed", test_verify_pin_self_signed);
  ADD ("verify/reject-valid-sends-alert", test_verify_reject_valid_sends_alert);
  ADD ("verify/server-side", test_verify_server_side);
  ADD ("handshake-info/events", test_handshake_info_events);
  ADD ("context/precedence", test_context_handlers_precedence);
  ADD ("defer/accept-later", test_defer_accept_later);
  ADD ("defer/reject-later", test_defer_reject_later);
  ADD ("defer/dropped-rejects", test_defer_dropped_rejects);
  ADD ("defer/socket-closed", test_defer_socket_closed);
  ADD ("defer/cancelled", test_defer_cancelled);
  ADD ("defer/timeout", test_defer_timeout);
  ADD ("defer/several-sockets", test_defer_several_sockets);
  ADD ("defer/server-side", test_defer_server_side);
  ADD ("defer/blocking-answered-by-thread", test_defer_blocking_answered_by_thread);
  ADD ("defer/outside-handler", test_defer_outside_handler);
  ADD ("client-certificate/chosen-by-issuer", test_client_cert_chosen_by_issuer);
  ADD ("client-certificate/deferred", test_client_cert_deferred);
  ADD ("client-certificate/declined", test_client_cert_declined);
  ADD ("client-certificate/default", test_client_cert_default);
  ADD ("client-certificate/not-requested", test_client_cert_not_requested);
  ADD ("client-certificate/context-handler", test_client_cert_context_handler);
  ADD ("client-certificate/set-in-advance", test_client_cert_set_in_advance);
  ADD_DATA ("misbehaving/handshake-inside", MISBEHAVE_HANDSHAKE, test_handler_misbehaves);
  ADD_DATA ("misbehaving/close-inside", MISBEHAVE_CLOSE, test_handler_misbehaves);
  ADD_DATA ("misbehaving/cancel-inside", MISBEHAVE_CANCEL, test_handler_misbehaves);
  ADD_DATA ("misbehaving/unref-inside", MISBEHAVE_UNREF, test_handler_misbehaves);
  ADD ("threads/worker-main-context", test_emissions_in_worker_thread);
  ADD_DATA ("threads/closed-from-another-thread", TRUE, test_deferred_across_threads);
  ADD_DATA ("threads/answered-and-written-from-another-thread", FALSE, test_deferred_across_threads);
  ADD_DATA ("defer/no-busy-loop-implicit-read-tls13", FALSE, test_defer_no_busy_loop);
  ADD_DATA ("defer/no-busy-loop-implicit-read-tls12", TRUE, test_defer_no_busy_loop);
  ADD ("verify/once-with-late-problem", test_verify_once_with_late_problem);

  return g_test_run ();
}
