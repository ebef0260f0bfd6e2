/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Encrypted private keys and PKCS#12: the password-requested signal
 * (attempts, cancelling, wrong passwords, several handlers, thread),
 * certificates that carry their key (load_identity, new_from_files,
 * set_certificate), and handshakes with identities loaded that way. */
#include "test-utils.h"

#include <limits.h>
#include <string.h>

#include <glib/gstdio.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#define PASSWORD "secret"

/* ------------------------------------------------------------------------ */
/* A password-requested handler that records its emissions                  */

typedef struct {
  /* What to answer to attempt i (answers[i - 1]; NULL: cancel); past the
   * end, NULL. */
  const char * const *answers;
  guint n_answers;

  guint calls;
  guint attempts[8];
  char *description;    /* of the last emission */
  GThread *thread;      /* of the last emission */
} PasswordLog;

static char *
on_password_requested (GSecSockSecureSocketContext *ctx,
                       const char                  *description,
                       guint                        attempt,
                       gpointer                     user_data)
{
  PasswordLog *log = user_data;

  g_assert_true (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (ctx));
  g_assert_nonnull (description);
  g_assert_cmpuint (log->calls, <, G_N_ELEMENTS (log->attempts));
  log->attempts[log->calls++] = attempt;
  g_free (log->description);
  log->description = g_strdup (description);
  log->thread = g_thread_self ();

  if (attempt >= 1 && attempt <= log->n_answers)
    return g_strdup (log->answers[attempt - 1]);
  return NULL;
}

static void
password_log_clear (PasswordLog *log)
{
  g_clear_pointer (&log->description, g_free);
}

/* A context with the logging handler connected. */
static GSecSockSecureSocketContext *
make_context (GSecSockMode  mode,
              PasswordLog  *log)
{
  GSecSockSecureSocketContext *ctx = gsecsock_secure_socket_context_new (mode);

  g_signal_connect (ctx, "password-requested", G_CALLBACK (on_password_requested), log);
  return ctx;
}

static void
assert_attempts (const PasswordLog *log,
                 guint              n)
{
  g_assert_cmpuint (log->calls, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (log->attempts[i], ==, i + 1);
}

/* The description names the file and says what it is. */
static void
assert_description (const PasswordLog *log,
                    const char        *what,
                    const char        *path)
{
  g_assert_nonnull (log->description);
  g_test_message ("description: %s", log->description);
  g_assert_nonnull (strstr (log->description, what));
  g_assert_nonnull (strstr (log->description, path));
}

static const char * const right_first[] = { PASSWORD };
static const char * const wrong_then_right[] = { "wrong", PASSWORD };
static const char * const always_wrong[] = { "wrong", "still wrong", "wrong again", PASSWORD };
static const char * const cancel[] = { NULL };

/* ------------------------------------------------------------------------ */
/* Fixture for handshakes                                                   */

typedef struct {
  TestEnv env;
  TestTlsPair pair;
  PasswordLog log;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_env_setup (&f->env, NULL, NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  test_tls_pair_clear (&f->pair);
  test_env_teardown (&f->env);
  password_log_clear (&f->log);
}

/* The server's certificate, as the client received it, is server.pem
 * followed by intermediate.pem. */
static void
assert_client_saw_server_chain (TestTlsPair *pair)
{
  g_autoptr(GSecSockCertificate) server = test_load_certificate ("server.pem");
  g_autoptr(GSecSockCertificate) intermediate = test_load_certificate ("intermediate.pem");
  g_autoptr(GSecSockCertificate) second = NULL;
  GListModel *chain = gsecsock_secure_socket_get_peer_certificate_chain (pair->client);

  g_assert_true (gsecsock_certificate_equal (gsecsock_secure_socket_get_peer_certificate (pair->client), server));
  g_assert_nonnull (chain);
  g_assert_cmpuint (g_list_model_get_n_items (chain), ==, 2);
  second = g_list_model_get_item (chain, 1);
  g_assert_true (gsecsock_certificate_equal (second, intermediate));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (pair->client), ==, 0);
}

/* ------------------------------------------------------------------------ */
/* PEM keys                                                                 */

typedef struct {
  const char *key;               /* PKI file */
  const char * const *answers;
  guint n_answers;
  guint expected_calls;
  int expected_error;            /* -1: success */
  const char *in_message;        /* for errors */
} PemCase;

static const PemCase pem_pkcs8_right = { "encrypted.key", right_first, 1, 1, -1, NULL };
static const PemCase pem_pkcs8_wrong_then_right = { "encrypted.key", wrong_then_right, 2, 2, -1, NULL };
static const PemCase pem_traditional_right = { "encrypted-traditional.key", right_first, 1, 1, -1, NULL };
static const PemCase pem_traditional_wrong_then_right = { "encrypted-traditional.key", wrong_then_right, 2, 2, -1, NULL };
static const PemCase pem_pkcs8_cancel = { "encrypted.key", cancel, 1, 1, GSECSOCK_ERROR_BAD_PASSWORD, "cancelled" };
static const PemCase pem_traditional_cancel = { "encrypted-traditional.key", cancel, 1, 1, GSECSOCK_ERROR_BAD_PASSWORD, "cancelled" };
static const PemCase pem_pkcs8_three_wrong = { "encrypted.key", always_wrong, 4, 3, GSECSOCK_ERROR_BAD_PASSWORD, "wrong 3 times" };
static const PemCase pem_traditional_three_wrong = { "encrypted-traditional.key", always_wrong, 4, 3, GSECSOCK_ERROR_BAD_PASSWORD, "wrong 3 times" };

static void
test_pem (gconstpointer data)
{
  const PemCase *tc = data;
  PasswordLog log = { tc->answers, tc->n_answers, 0 };
  g_autoptr(GSecSockSecureSocketContext) ctx = make_context (GSECSOCK_MODE_SERVER, &log);
  g_autoptr(GError) error = NULL;
  const char *key = test_pki_path (tc->key);
  gboolean ok;

  ok = gsecsock_secure_socket_context_load_certificate_file (ctx, test_pki_path ("server-chain.pem"), key, &error);
  assert_attempts (&log, tc->expected_calls);
  assert_description (&log, "private key", key);
  if (tc->expected_error < 0)
    {
      g_assert_no_error (error);
      g_assert_true (ok);
    }
  else
    {
      g_assert_false (ok);
      g_assert_error (error, GSECSOCK_ERROR, tc->expected_error);
      test_assert_message_contains (error, tc->in_message);
      test_assert_message_contains (error, key);
      g_test_message ("error: %s", error->message);
    }
  /* Emitted synchronously, in the calling thread. */
  g_assert_true (log.thread == g_thread_self ());
  password_log_clear (&log);
}

/* The same key, inside the certificate file (key_path NULL). */
static void
test_pem_key_in_certificate_file (void)
{
  PasswordLog log = { wrong_then_right, 2, 0 };
  g_autoptr(GSecSockSecureSocketContext) ctx = make_context (GSECSOCK_MODE_SERVER, &log);
  g_autoptr(GError) error = NULL;
  g_autofree char *chain = NULL;
  g_autofree char *key = NULL;
  g_autofree char *combined = NULL;
  g_autofree char *path = NULL;

  g_assert_true (g_file_get_contents (test_pki_path ("server-chain.pem"), &chain, NULL, NULL));
  g_assert_true (g_file_get_contents (test_pki_path ("encrypted-traditional.key"), &key, NULL, NULL));
  combined = g_strconcat (chain, key, NULL);
  path = test_write_tmp_file ("combined.pem", combined, -1);

  g_assert_true (gsecsock_secure_socket_context_load_certificate_file (ctx, path, NULL, &error));
  g_assert_no_error (error);
  assert_attempts (&log, 2);
  assert_description (&log, "private key", path);
  password_log_clear (&log);
}

/* No handler at all: the error says what to connect. OpenSSL's own prompt
 * on the terminal is never used (test-context checks that in a process
 * without a terminal). */
static void
test_pem_no_handler (void)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GError) error = NULL;
  const char *keys[] = { "encrypted.key", "encrypted-traditional.key" };

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_assert_false (gsecsock_secure_socket_context_load_certificate_file (ctx, test_pki_path ("server.pem"),
                                                                           test_pki_path (keys[i]), &error));
      g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD);
      test_assert_message_contains (error, "password-requested");
      test_assert_message_contains (error, test_pki_path (keys[i]));
      g_test_message ("error: %s", error->message);
      g_clear_error (&error);
    }
}

/* A blocked handler does not count as one. */
static void
test_pem_blocked_handler (void)
{
  PasswordLog log = { right_first, 1, 0 };
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GError) error = NULL;
  gulong id;

  id = g_signal_connect (ctx, "password-requested", G_CALLBACK (on_password_requested), &log);
  g_signal_handler_block (ctx, id);
  g_assert_false (gsecsock_secure_socket_context_load_certificate_file (ctx, test_pki_path ("server.pem"),
                                                                       test_pki_path ("encrypted.key"), &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD);
  g_assert_cmpuint (log.calls, ==, 0);
  g_clear_error (&error);

  g_signal_handler_unblock (ctx, id);
  g_assert_true (gsecsock_secure_socket_context_load_certificate_file (ctx, test_pki_path ("server.pem"),
                                                                      test_pki_path ("encrypted.key"), &error));
  g_assert_no_error (error);
  assert_attempts (&log, 1);
  password_log_clear (&log);
}

/* Unencrypted keys and a PKCS#12 file without a password never emit. */
static void
test_unencrypted_never_emits (void)
{
  PasswordLog log = { right_first, 1, 0 };
  g_autoptr(GSecSockSecureSocketContext) ctx = make_context (GSECSOCK_MODE_SERVER, &log);
  g_autoptr(GSecSockCertificate) identity = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (gsecsock_secure_socket_context_load_certificate_file (ctx, test_pki_path ("server-chain.pem"),
                                                                      test_pki_path ("server.key"), &error));
  g_assert_no_error (error);
  g_assert_true (gsecsock_secure_socket_context_load_pkcs12_file (ctx, test_pki_path ("server-nopass.p12"), &error));
  g_assert_no_error (error);
  identity = gsecsock_secure_socket_context_load_identity (ctx, test_pki_path ("server-nopass.p12"), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (gsecsock_certificate_get_has_private_key (identity));
  g_assert_cmpuint (log.calls, ==, 0);
}

/* The first handler that returns a password answers; one returning NULL
 * lets the next one answer. */
static char *
return_null (GSecSockSecureSocketContext *ctx,
             const char                  *description,
             guint                        attempt,
             gpointer                     user_data)
{
  guint *calls = user_data;

  (*calls)++;
  return NULL;
}

static void
test_two_handlers (void)
{
  PasswordLog log = { right_first, 1, 0 };
  PasswordLog unused = { wrong_then_right, 2, 0 };
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GError) error = NULL;
  guint null_calls = 0;
  gulong first, last;

  /* First returns NULL, the second the password: the second wins. */
  first = g_signal_connect (ctx, "password-requested", G_CALLBACK (return_null), &null_calls);
  g_signal_connect (ctx, "password-requested", G_CALLBACK (on_password_requested), &log);
  g_assert_true (gsecsock_secure_socket_context_load_certificate_file (ctx, test_pki_path ("server.pem"),
                                                                      test_pki_path ("encrypted.key"), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (null_calls, ==, 1);
  assert_attempts (&log, 1);

  /* A handler that answers stops the emission: later ones are not asked. */
  g_signal_handler_disconnect (ctx, first);
  last = g_signal_connect (ctx, "password-requested", G_CALLBACK (on_password_requested), &unused);
  log.calls = 0;
  g_assert_true (gsecsock_secure_socket_context_load_certificate_file (ctx, test_pki_path ("server.pem"),
                                                                      test_pki_path ("encrypted-traditional.key"), &error));
  g_assert_no_error (error);
  assert_attempts (&log, 1);
  g_assert_cmpuint (unused.calls, ==, 0);
  g_signal_handler_disconnect (ctx, last);

  password_log_clear (&log);
  password_log_clear (&unused);
}

/* Loading from another thread: the signal is emitted there, synchronously. */
static gpointer
load_in_thread (gpointer data)
{
  GSecSockSecureSocketContext *ctx = data;
  GError *error = NULL;

  if (!gsecsock_secure_socket_context_load_certificate_file (ctx, test_pki_path ("server.pem"),
                                                            test_pki_path ("encrypted.key"), &error))
    return error;
  return NULL;
}

static void
test_emitted_in_loading_thread (void)
{
  PasswordLog log = { right_first, 1, 0 };
  g_autoptr(GSecSockSecureSocketContext) ctx = make_context (GSECSOCK_MODE_SERVER, &log);
  GThread *thread;
  GError *error;

  test_pki_path ("server.pem");   /* interned in this thread; aborts here if missing */
  test_pki_path ("encrypted.key");
  thread = g_thread_new ("loader", load_in_thread, ctx);
  error = g_thread_join (g_thread_ref (thread));
  g_assert_no_error (error);
  assert_attempts (&log, 1);
  g_assert_true (log.thread == thread);
  g_thread_unref (thread);
  password_log_clear (&log);
}

/* ------------------------------------------------------------------------ */
/* PKCS#12                                                                  */

typedef struct {
  const char *file;
  const char * const *answers;
  guint n_answers;
  guint expected_calls;
  int expected_error;            /* -1: success */
  const char *in_message;
} P12Case;

static const P12Case p12_right = { "server.p12", right_first, 1, 1, -1, NULL };
static const P12Case p12_wrong_then_right = { "server.p12", wrong_then_right, 2, 2, -1, NULL };
static const P12Case p12_nopass = { "server-nopass.p12", right_first, 1, 0, -1, NULL };
static const P12Case p12_cancel = { "server.p12", cancel, 1, 1, GSECSOCK_ERROR_BAD_PASSWORD, "cancelled" };
static const P12Case p12_three_wrong = { "server.p12", always_wrong, 4, 3, GSECSOCK_ERROR_BAD_PASSWORD, "wrong 3 times" };
static const P12Case p12_no_handler = { "server.p12", NULL, 0, 0, GSECSOCK_ERROR_BAD_PASSWORD, "password-requested" };

/* load_pkcs12_file(), then (on success) a real handshake against it. */
static void
test_pkcs12 (Fixture       *f,
             gconstpointer  data)
{
  const P12Case *tc = data;
  g_autoptr(GSecSockSecureSocketContext) server_ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GError) error = NULL;
  const char *path = test_pki_path (tc->file);
  gboolean ok;

  f->log.answers = tc->answers;
  f->log.n_answers = tc->n_answers;
  if (tc->answers != NULL)
    g_signal_connect (server_ctx, "password-requested", G_CALLBACK (on_password_requested), &f->log);

  ok = gsecsock_secure_socket_context_load_pkcs12_file (server_ctx, path, &error);
  assert_attempts (&f->log, tc->expected_calls);
  if (tc->expected_calls > 0)
    assert_description (&f->log, "PKCS#12", path);

  if (tc->expected_error >= 0)
    {
      g_assert_false (ok);
      g_assert_error (error, GSECSOCK_ERROR, tc->expected_error);
      test_assert_message_contains (error, tc->in_message);
      test_assert_message_contains (error, path);
      g_test_message ("error: %s", error->message);
      return;
    }

  g_assert_no_error (error);
  g_assert_true (ok);
  test_tls_pair_init (&f->pair, f->env.client_ctx, server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  /* The intermediate came from the PKCS#12 file and was sent after the
   * leaf: the client, which trusts only the root, verified the chain. */
  assert_client_saw_server_chain (&f->pair);
}

/* A client identity from client.p12, presented to a server that asks. */
static void
test_pkcs12_client_certificate (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) client_ctx = test_make_client_context ();
  g_autoptr(GSecSockSecureSocketContext) server_ctx = test_make_server_context ("server-chain.pem", "server.key");
  g_autoptr(GSecSockCertificate) client_cert = test_load_certificate ("client.pem");
  g_autoptr(GSecSockCertificate) identity = NULL;
  g_autoptr(GError) error = NULL;

  f->log.answers = right_first;
  f->log.n_answers = 1;
  g_signal_connect (client_ctx, "password-requested", G_CALLBACK (on_password_requested), &f->log);
  identity = gsecsock_secure_socket_context_load_identity (client_ctx, test_pki_path ("client.p12"), NULL, &error);
  g_assert_no_error (error);
  assert_attempts (&f->log, 1);
  g_assert_true (gsecsock_secure_socket_context_set_certificate (client_ctx, identity, &error));
  g_assert_no_error (error);

  gsecsock_secure_socket_context_set_verify_peer (server_ctx, TRUE);
  gsecsock_secure_socket_context_set_use_system_trust (server_ctx, FALSE);
  g_assert_true (gsecsock_secure_socket_context_add_trust_anchor_file (server_ctx, test_pki_path ("ca.pem"), &error));
  g_assert_no_error (error);

  test_tls_pair_init (&f->pair, client_ctx, server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  g_assert_true (gsecsock_certificate_equal (gsecsock_secure_socket_get_peer_certificate (f->pair.server), client_cert));
  g_assert_cmphex (gsecsock_secure_socket_get_certificate_errors (f->pair.server), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (gsecsock_secure_socket_get_peer_certificate_chain (f->pair.server)), ==, 2);
}

/* Files that are not (valid) PKCS#12. */
static void
test_pkcs12_corrupt (void)
{
  PasswordLog log = { right_first, 1, 0 };
  g_autoptr(GSecSockSecureSocketContext) ctx = make_context (GSECSOCK_MODE_SERVER, &log);
  g_autofree char *p12 = NULL;
  gsize length = 0;
  g_autofree char *truncated = NULL;
  g_autofree char *garbage = NULL;
  g_autofree char *empty = NULL;
  g_autofree char *missing = test_tmp_path ("missing.p12");
  const char *bad[5];

  g_assert_true (g_file_get_contents (test_pki_path ("server.p12"), &p12, &length, NULL));
  truncated = test_write_tmp_file ("truncated.p12", p12, (gssize) length / 2);
  garbage = test_write_tmp_file ("garbage.p12", "\x30\x82\x01\x00 this is not PKCS#12", 24);
  empty = test_write_tmp_file ("empty.p12", "", 0);
  bad[0] = truncated;
  bad[1] = garbage;
  bad[2] = empty;
  bad[3] = missing;
  bad[4] = test_pki_path ("server-chain.pem");   /* PEM, not PKCS#12 */

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSecSockCertificate) identity = NULL;

      g_assert_false (gsecsock_secure_socket_context_load_pkcs12_file (ctx, bad[i], &error));
      g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
      test_assert_message_contains (error, bad[i]);
      g_test_message ("load_pkcs12_file: %s", error->message);
      g_clear_error (&error);

      /* Through load_identity (format by content) too, except for the
       * valid PEM file. */
      if (i == 4)
        continue;
      identity = gsecsock_secure_socket_context_load_identity (ctx, bad[i], NULL, &error);
      g_assert_null (identity);
      g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
      test_assert_message_contains (error, bad[i]);
      g_test_message ("load_identity: %s", error->message);
    }
  g_assert_cmpuint (log.calls, ==, 0);
}

/* ------------------------------------------------------------------------ */
/* Identities                                                               */

static void
assert_identity (GSecSockCertificate *identity,
                 const char          *subject,
                 const char          *leaf_file)
{
  g_autoptr(GSecSockCertificate) leaf = test_load_certificate (leaf_file);
  g_autofree char *got_subject = NULL;
  gboolean has_key = FALSE;

  g_assert_nonnull (identity);
  g_assert_true (gsecsock_certificate_get_has_private_key (identity));
  g_object_get (identity, "has-private-key", &has_key, NULL);
  g_assert_true (has_key);
  got_subject = gsecsock_certificate_get_subject (identity);
  g_assert_cmpstr (got_subject, ==, subject);
  /* Equality is about the certificate alone, not the key. */
  g_assert_true (gsecsock_certificate_equal (identity, leaf));
  g_assert_true (gsecsock_certificate_equal (leaf, identity));
  g_assert_false (gsecsock_certificate_get_has_private_key (leaf));
}

static void
test_load_identity (void)
{
  PasswordLog log = { right_first, 1, 0 };
  g_autoptr(GSecSockSecureSocketContext) ctx = make_context (GSECSOCK_MODE_CLIENT, &log);
  g_autoptr(GSecSockCertificate) pem = NULL;
  g_autoptr(GSecSockCertificate) p12 = NULL;
  g_autoptr(GSecSockCertificate) plain = NULL;
  g_autoptr(GError) error = NULL;

  pem = gsecsock_secure_socket_context_load_identity (ctx, test_pki_path ("server-chain.pem"),
                                                      test_pki_path ("encrypted.key"), &error);
  g_assert_no_error (error);
  assert_identity (pem, "CN=localhost", "server.pem");
  assert_attempts (&log, 1);

  log.calls = 0;
  p12 = gsecsock_secure_socket_context_load_identity (ctx, test_pki_path ("client.p12"), NULL, &error);
  g_assert_no_error (error);
  assert_identity (p12, "CN=gsecsock test client", "client.pem");
  assert_attempts (&log, 1);
  assert_description (&log, "PKCS#12", test_pki_path ("client.p12"));

  log.calls = 0;
  plain = gsecsock_secure_socket_context_load_identity (ctx, test_pki_path ("client-other-chain.pem"),
                                                        test_pki_path ("client-other.key"), &error);
  g_assert_no_error (error);
  assert_identity (plain, "CN=gsecsock other client", "client-other.pem");
  g_assert_cmpuint (log.calls, ==, 0);

  password_log_clear (&log);
}

static void
test_load_identity_errors (void)
{
  PasswordLog log = { right_first, 1, 0 };
  g_autoptr(GSecSockSecureSocketContext) ctx = make_context (GSECSOCK_MODE_SERVER, &log);
  g_autoptr(GSecSockCertificate) identity = NULL;
  g_autoptr(GError) error = NULL;

  /* A key file with a PKCS#12 file: a programming error. */
  identity = gsecsock_secure_socket_context_load_identity (ctx, test_pki_path ("server.p12"),
                                                           test_pki_path ("server.key"), &error);
  g_assert_null (identity);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, test_pki_path ("server.p12"));
  g_clear_error (&error);

  /* The key is not the certificate's. */
  identity = gsecsock_secure_socket_context_load_identity (ctx, test_pki_path ("server.pem"),
                                                           test_pki_path ("client.key"), &error);
  g_assert_null (identity);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_KEY_MISMATCH);
  g_clear_error (&error);

  /* No key anywhere. */
  identity = gsecsock_secure_socket_context_load_identity (ctx, test_pki_path ("server-chain.pem"), NULL, &error);
  g_assert_null (identity);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_KEY_FILE);
  test_assert_message_contains (error, test_pki_path ("server-chain.pem"));
  g_clear_error (&error);

  g_assert_cmpuint (log.calls, ==, 0);

  /* An encrypted key whose password is wrong: the key's error, not the
   * certificate's. */
  log.answers = always_wrong;
  log.n_answers = 4;
  identity = gsecsock_secure_socket_context_load_identity (ctx, test_pki_path ("server.pem"),
                                                           test_pki_path ("encrypted-traditional.key"), &error);
  g_assert_null (identity);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD);
  assert_attempts (&log, 3);

  password_log_clear (&log);
}

static void
test_set_certificate_without_key (void)
{
  g_autoptr(GSecSockSecureSocketContext) ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GSecSockCertificate) cert = test_load_certificate ("server.pem");
  g_autoptr(GSocketConnection) client = NULL;
  g_autoptr(GSocketConnection) server = NULL;
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (gsecsock_certificate_get_has_private_key (cert));
  g_assert_false (gsecsock_secure_socket_context_set_certificate (ctx, cert, &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
  test_assert_message_contains (error, "private key");
  g_test_message ("error: %s", error->message);
  g_clear_error (&error);

  /* Nothing was installed: a server socket still cannot be made. */
  test_socket_pair ("127.0.0.1", &client, &server);
  sock = gsecsock_secure_socket_new (ctx, G_IO_STREAM (server), NULL, &error);
  g_assert_null (sock);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE);
}

/* set_certificate() with an identity from a PEM file with an encrypted
 * key, then a handshake; a failed load afterwards keeps it in use. */
static void
test_set_certificate_handshake (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GSecSockCertificate) identity = NULL;
  g_autoptr(GError) error = NULL;

  f->log.answers = wrong_then_right;
  f->log.n_answers = 2;
  g_signal_connect (server_ctx, "password-requested", G_CALLBACK (on_password_requested), &f->log);
  identity = gsecsock_secure_socket_context_load_identity (server_ctx, test_pki_path ("server-chain.pem"),
                                                           test_pki_path ("encrypted-traditional.key"), &error);
  g_assert_no_error (error);
  assert_attempts (&f->log, 2);
  g_assert_true (gsecsock_secure_socket_context_set_certificate (server_ctx, identity, &error));
  g_assert_no_error (error);

  /* Cancelled: the identity already installed stays. */
  f->log.answers = cancel;
  f->log.n_answers = 1;
  f->log.calls = 0;
  g_assert_false (gsecsock_secure_socket_context_load_pkcs12_file (server_ctx, test_pki_path ("client.p12"), &error));
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD);
  assert_attempts (&f->log, 1);

  test_tls_pair_init (&f->pair, f->env.client_ctx, server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  assert_client_saw_server_chain (&f->pair);
}

/* ------------------------------------------------------------------------ */
/* gsecsock_certificate_new_from_files()                                    */

static void
test_new_from_files_ok (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GSecSockCertificate) identity = NULL;
  g_autoptr(GSecSockCertificate) combined = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *chain = NULL;
  g_autofree char *key = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *path = NULL;

  identity = gsecsock_certificate_new_from_files (test_pki_path ("server-chain.pem"), test_pki_path ("server.key"), &error);
  g_assert_no_error (error);
  assert_identity (identity, "CN=localhost", "server.pem");

  /* The key in the certificate file. */
  g_assert_true (g_file_get_contents (test_pki_path ("client-chain.pem"), &chain, NULL, NULL));
  g_assert_true (g_file_get_contents (test_pki_path ("client.key"), &key, NULL, NULL));
  contents = g_strconcat (chain, key, NULL);
  path = test_write_tmp_file ("client-combined.pem", contents, -1);
  combined = gsecsock_certificate_new_from_files (path, NULL, &error);
  g_assert_no_error (error);
  assert_identity (combined, "CN=gsecsock test client", "client.pem");

  /* It works as the server's identity, chain included. */
  g_assert_true (gsecsock_secure_socket_context_set_certificate (server_ctx, identity, &error));
  g_assert_no_error (error);
  test_tls_pair_init (&f->pair, f->env.client_ctx, server_ctx, "127.0.0.1", "localhost");
  g_assert_true (test_tls_pair_handshake_async (&f->pair));
  assert_client_saw_server_chain (&f->pair);
}

static void
test_new_from_files_encrypted (void)
{
  const char *keys[] = { "encrypted.key", "encrypted-traditional.key" };

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSecSockCertificate) cert = NULL;

      cert = gsecsock_certificate_new_from_files (test_pki_path ("server.pem"), test_pki_path (keys[i]), &error);
      g_assert_null (cert);
      g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD);
      test_assert_message_contains (error, "gsecsock_secure_socket_context_load_identity");
      test_assert_message_contains (error, test_pki_path (keys[i]));
      g_test_message ("error: %s", error->message);
    }

  /* The same for a PKCS#12 file that has a password. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GSecSockCertificate) cert = gsecsock_certificate_new_from_files (test_pki_path ("server.p12"), NULL, &error);

    g_assert_null (cert);
    g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD);
    test_assert_message_contains (error, "gsecsock_secure_socket_context_load_identity");
  }
}

static void
test_new_from_files_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSecSockCertificate) cert = NULL;
  g_autofree char *missing = test_tmp_path ("missing.pem");

  cert = gsecsock_certificate_new_from_files (test_pki_path ("server.pem"), test_pki_path ("client.key"), &error);
  g_assert_null (cert);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_KEY_MISMATCH);
  test_assert_message_contains (error, test_pki_path ("client.key"));
  g_clear_error (&error);

  cert = gsecsock_certificate_new_from_files (missing, test_pki_path ("server.key"), &error);
  g_assert_null (cert);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE);
  test_assert_message_contains (error, missing);
  g_clear_error (&error);

  cert = gsecsock_certificate_new_from_files (test_pki_path ("server.pem"), missing, &error);
  g_assert_null (cert);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_KEY_FILE);
  test_assert_message_contains (error, missing);
  g_clear_error (&error);

  cert = gsecsock_certificate_new_from_files (test_pki_path ("server.pem"), test_pki_path ("ca.pem"), &error);
  g_assert_null (cert);
  g_assert_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_KEY_FILE);
  g_clear_error (&error);

  /* A PKCS#12 file without a password needs none. */
  cert = gsecsock_certificate_new_from_files (test_pki_path ("server-nopass.p12"), NULL, &error);
  g_assert_no_error (error);
  assert_identity (cert, "CN=localhost", "server.pem");
}

/* ------------------------------------------------------------------------ */
/* Key derivations that would never end                                     */

/* The iteration count of a password's key derivation is the file's to
 * choose. These files ask for 2^31 - 1 (OpenSSL would take hours): they
 * are refused at once, before any derivation (found by fuzz/). Made here
 * from the test PKI with OpenSSL, by rewriting the parameters of a normal
 * file, since making them for real would take as long as reading them. */

#define HUGE_ITERATIONS INT_MAX

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PKCS12, PKCS12_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_SIG, X509_SIG_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free_all)

/* Makes @alg (a password-based encryption) ask for HUGE_ITERATIONS. */
static void
make_iterations_huge (X509_ALGOR *alg)
{
  X509_ALGOR *huge = PKCS5_pbe2_set_iv (EVP_aes_256_cbc (), HUGE_ITERATIONS, NULL, 0, NULL,
                                        NID_hmacWithSHA256);
  ASN1_OBJECT *oid;
  ASN1_TYPE *parameter;

  g_assert_nonnull (huge);
  oid = huge->algorithm;
  parameter = huge->parameter;
  huge->algorithm = alg->algorithm;
  huge->parameter = alg->parameter;
  alg->algorithm = oid;
  alg->parameter = parameter;
  X509_ALGOR_free (huge);
}

static PKCS12 *
make_pkcs12 (void)
{
  g_autoptr(BIO) cert_bio = BIO_new_file (test_pki_path ("server.pem"), "r");
  g_autoptr(BIO) key_bio = BIO_new_file (test_pki_path ("server.key"), "r");
  g_autoptr(X509) cert = PEM_read_bio_X509 (cert_bio, NULL, NULL, NULL);
  g_autoptr(EVP_PKEY) key = PEM_read_bio_PrivateKey (key_bio, NULL, NULL, NULL);
  PKCS12 *p12;

  g_assert_nonnull (cert);
  g_assert_nonnull (key);
  /* OpenSSL 3's defaults: the certificate in an encrypted part, the key
   * as an encrypted (shrouded) key bag in a plain part. */
  p12 = PKCS12_create (PASSWORD, "huge", key, cert, NULL, 0, 0, 2048, 2048, 0);
  g_assert_nonnull (p12);
  return p12;
}

static char *
write_pkcs12 (const char *name, PKCS12 *p12)
{
  unsigned char *der = NULL;
  int length = i2d_PKCS12 (p12, &der);
  char *path;

  g_assert_cmpint (length, >, 0);
  path = test_write_tmp_file (name, (const char *) der, length);
  OPENSSL_free (der);
  return path;
}

/* The integrity check (MAC) asks for them. */
static char *
make_huge_mac (void)
{
  g_autoptr(PKCS12) p12 = make_pkcs12 ();

  g_assert_true (PKCS12_setup_mac (p12, HUGE_ITERATIONS, NULL, 0, EVP_sha256 ()));
  return write_pkcs12 ("huge-mac.p12", p12);
}

/* The encrypted part that holds the certificate asks for them (the MAC,
 * computed afresh, is right). */
static char *
make_huge_safe (void)
{
  g_autoptr(PKCS12) p12 = make_pkcs12 ();
  g_autoptr(PKCS12) rebuilt = NULL;
  STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes (p12);
  gboolean found = FALSE;

  g_assert_nonnull (safes);
  for (int i = 0; i < sk_PKCS7_num (safes); i++)
    {
      PKCS7 *safe = sk_PKCS7_value (safes, i);

      if (OBJ_obj2nid (safe->type) == NID_pkcs7_encrypted)
        {
          make_iterations_huge (safe->d.encrypted->enc_data->algorithm);
          found = TRUE;
        }
    }
  g_assert_true (found);
  rebuilt = PKCS12_add_safes (safes, 0);
  g_assert_nonnull (rebuilt);
  g_assert_true (PKCS12_set_mac (rebuilt, PASSWORD, -1, NULL, 0, 2048, EVP_sha256 ()));
  sk_PKCS7_pop_free (safes, PKCS7_free);
  return write_pkcs12 ("huge-safe.p12", rebuilt);
}

/* The encrypted key asks for them, and it sits in an encrypted part: only
 * seen once the password is known. */
static char *
make_huge_hidden_key (void)
{
  g_autoptr(PKCS12) p12 = make_pkcs12 ();
  g_autoptr(PKCS12) rebuilt = NULL;
  STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes (p12);
  STACK_OF(PKCS7) *hidden = sk_PKCS7_new_null ();
  gboolean found = FALSE;

  g_assert_nonnull (safes);
  for (int i = 0; i < sk_PKCS7_num (safes); i++)
    {
      PKCS7 *safe = sk_PKCS7_value (safes, i);
      STACK_OF(PKCS12_SAFEBAG) *bags;

      if (OBJ_obj2nid (safe->type) != NID_pkcs7_data)
        {
          sk_PKCS7_push (hidden, PKCS7_dup (safe));
          continue;
        }
      bags = PKCS12_unpack_p7data (safe);
      g_assert_nonnull (bags);
      for (int j = 0; j < sk_PKCS12_SAFEBAG_num (bags); j++)
        {
          PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value (bags, j);
          X509_ALGOR *alg = NULL;

          if (PKCS12_SAFEBAG_get_nid (bag) != NID_pkcs8ShroudedKeyBag)
            continue;
          X509_SIG_getm ((X509_SIG *) PKCS12_SAFEBAG_get0_pkcs8 (bag), &alg, NULL);
          make_iterations_huge (alg);
          found = TRUE;
        }
      sk_PKCS7_push (hidden, PKCS12_pack_p7encdata (NID_pbe_WithSHA1And3_Key_TripleDES_CBC, PASSWORD, -1,
                                                    NULL, 0, 2048, bags));
      sk_PKCS12_SAFEBAG_pop_free (bags, PKCS12_SAFEBAG_free);
    }
  g_assert_true (found);
  rebuilt = PKCS12_add_safes (hidden, 0);
  g_assert_nonnull (rebuilt);
  g_assert_true (PKCS12_set_mac (rebuilt, PASSWORD, -1, NULL, 0, 2048, EVP_sha256 ()));
  sk_PKCS7_pop_free (safes, PKCS7_free);
  sk_PKCS7_pop_free (hidden, PKCS7_free);
  return write_pkcs12 ("huge-hidden-key.p12", rebuilt);
}

/* An encrypted PKCS#8 PEM key. */
static char *
make_huge_pkcs8 (void)
{
  g_autoptr(BIO) in = BIO_new_file (test_pki_path ("encrypted.key"), "r");
  g_autoptr(X509_SIG) sig = PEM_read_bio_PKCS8 (in, NULL, NULL, NULL);
  g_autoptr(BIO) out = BIO_new (BIO_s_mem ());
  X509_ALGOR *alg = NULL;
  char *data = NULL;
  long length;

  g_assert_nonnull (sig);
  X509_SIG_getm (sig, &alg, NULL);
  make_iterations_huge (alg);
  g_assert_true (PEM_write_bio_PKCS8 (out, sig));
  length = BIO_get_mem_data (out, &data);
  return test_write_tmp_file ("huge.key", data, length);
}

static void
assert_refused_quickly (const GError *error, int code, gint64 started)
{
  g_assert_error (error, GSECSOCK_ERROR, code);
  test_assert_message_contains (error, "iterations");
  test_assert_message_contains (error, "2147483647");
  g_test_message ("%s", error->message);
  /* Refused before deriving anything: not even one derivation of the
   * maximum accepted (about a second) happened. */
  g_assert_cmpint (g_get_monotonic_time () - started, <, 30 * G_USEC_PER_SEC);
}

static void
test_pkcs12_huge_iterations (void)
{
  struct {
    char *path;
    guint expected_calls;   /* password requests before the refusal */
  } files[] = {
    { make_huge_mac (), 0 },
    { make_huge_safe (), 0 },
    { make_huge_hidden_key (), 1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      PasswordLog log = { right_first, 1, 0 };
      g_autoptr(GSecSockSecureSocketContext) ctx = make_context (GSECSOCK_MODE_SERVER, &log);
      g_autoptr(GSecSockCertificate) identity = NULL;
      g_autoptr(GError) error = NULL;
      gint64 started = g_get_monotonic_time ();

      g_test_message ("%s", files[i].path);
      g_assert_false (gsecsock_secure_socket_context_load_pkcs12_file (ctx, files[i].path, &error));
      assert_refused_quickly (error, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE, started);
      test_assert_message_contains (error, files[i].path);
      assert_attempts (&log, files[i].expected_calls);
      g_clear_error (&error);

      identity = gsecsock_secure_socket_context_load_identity (ctx, files[i].path, NULL, &error);
      g_assert_null (identity);
      assert_refused_quickly (error, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE, started);
      password_log_clear (&log);
    }

  /* A certificate store skips such a file (it used to hang scanning its
   * directory). */
  {
    g_autofree char *dir = g_path_get_dirname (files[0].path);
    g_autoptr(GSecSockCertificateStore) store = NULL;
    g_autoptr(GError) error = NULL;
    gint64 started = g_get_monotonic_time ();

    store = gsecsock_certificate_store_new_for_directory (dir, &error);
    g_assert_no_error (error);
    g_assert_nonnull (store);
    g_assert_cmpint (g_get_monotonic_time () - started, <, 30 * G_USEC_PER_SEC);
  }

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_unlink (files[i].path);
      g_free (files[i].path);
    }
}

static void
test_pkcs8_huge_iterations (void)
{
  PasswordLog log = { right_first, 1, 0 };
  g_autoptr(GSecSockSecureSocketContext) ctx = make_context (GSECSOCK_MODE_SERVER, &log);
  g_autofree char *key = make_huge_pkcs8 ();
  g_autoptr(GError) error = NULL;
  gint64 started = g_get_monotonic_time ();

  g_assert_false (gsecsock_secure_socket_context_load_certificate_file (ctx, test_pki_path ("server.pem"),
                                                                       key, &error));
  assert_refused_quickly (error, GSECSOCK_ERROR_BAD_KEY_FILE, started);
  test_assert_message_contains (error, key);
  assert_attempts (&log, 0);
  password_log_clear (&log);
  g_unlink (key);
}

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_setup, func, fixture_teardown)

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

  g_test_add_data_func ("/password/pem/pkcs8/right", &pem_pkcs8_right, test_pem);
  g_test_add_data_func ("/password/pem/pkcs8/wrong-then-right", &pem_pkcs8_wrong_then_right, test_pem);
  g_test_add_data_func ("/password/pem/pkcs8/cancel", &pem_pkcs8_cancel, test_pem);
  g_test_add_data_func ("/password/pem/pkcs8/three-wrong", &pem_pkcs8_three_wrong, test_pem);
  g_test_add_data_func ("/password/pem/traditional/right", &pem_traditional_right, test_pem);
  g_test_add_data_func ("/password/pem/traditional/wrong-then-right", &pem_traditional_wrong_then_right, test_pem);
  g_test_add_data_func ("/password/pem/traditional/cancel", &pem_traditional_cancel, test_pem);
  g_test_add_data_func ("/password/pem/traditional/three-wrong", &pem_traditional_three_wrong, test_pem);
  g_test_add_func ("/password/pem/key-in-certificate-file", test_pem_key_in_certificate_file);
  g_test_add_func ("/password/pem/no-handler", test_pem_no_handler);
  g_test_add_func ("/password/pem/blocked-handler", test_pem_blocked_handler);
  g_test_add_func ("/password/unencrypted-never-emits", test_unencrypted_never_emits);
  g_test_add_func ("/password/handlers/first-null-second-answers", test_two_handlers);
  g_test_add_func ("/password/thread/emitted-in-loading-thread", test_emitted_in_loading_thread);
  ADD ("/password/pkcs12/right", test_pkcs12, &p12_right);
  ADD ("/password/pkcs12/wrong-then-right", test_pkcs12, &p12_wrong_then_right);
  ADD ("/password/pkcs12/no-password", test_pkcs12, &p12_nopass);
  ADD ("/password/pkcs12/cancel", test_pkcs12, &p12_cancel);
  ADD ("/password/pkcs12/three-wrong", test_pkcs12, &p12_three_wrong);
  ADD ("/password/pkcs12/no-handler", test_pkcs12, &p12_no_handler);
  ADD ("/password/pkcs12/client-certificate", test_pkcs12_client_certificate, NULL);
  g_test_add_func ("/password/pkcs12/corrupt", test_pkcs12_corrupt);
  g_test_add_func ("/password/pkcs12/huge-iterations", test_pkcs12_huge_iterations);
  g_test_add_func ("/password/pem/pkcs8/huge-iterations", test_pkcs8_huge_iterations);
  g_test_add_func ("/password/identity/load", test_load_identity);
  g_test_add_func ("/password/identity/errors", test_load_identity_errors);
  g_test_add_func ("/password/set-certificate/without-key", test_set_certificate_without_key);
  ADD ("/password/set-certificate/handshake", test_set_certificate_handshake, NULL);
  ADD ("/password/new-from-files/ok", test_new_from_files_ok, NULL);
  g_test_add_func ("/password/new-from-files/encrypted", test_new_from_files_encrypted);
  g_test_add_func ("/password/new-from-files/errors", test_new_from_files_errors);

  return g_test_run ();
}
