/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "gsecsock/gsecsock-secure-socket-context-private.h"

G_GNUC_NORETURN static void
die (const char *format, ...) G_GNUC_PRINTF (1, 2);

static void
die (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  fputs ("fuzz: ", stderr);
  vfprintf (stderr, format, args);
  fputc ('\n', stderr);
  va_end (args);
  exit (1);
}

/* ---- A random number generator that always says the same -------------- */

/* A RAND provider whose every request is answered with the same bytes:
 * each buffer is the fixed sequence below from its first byte on, whoever
 * asks and however often. So a socket's random values (hello randoms, key
 * shares, signature nonces, session IDs, ticket keys) do not depend on
 * what else the process did before, and a peer's recorded bytes match
 * what the socket under test computes. Installed as the DRBG of the
 * default library context before the first random number is drawn. */

typedef struct {
  int state;   /* EVP_RAND_STATE_* */
} FixedRand;

static void *
fixed_rand_newctx (void *provctx, void *parent, const OSSL_DISPATCH *parent_calls)
{
  FixedRand *rand = g_new0 (FixedRand, 1);

  rand->state = EVP_RAND_STATE_UNINITIALISED;
  return rand;
}

static void
fixed_rand_freectx (void *vrand)
{
  g_free (vrand);
}

static int
fixed_rand_instantiate (void *vrand, unsigned int strength, int prediction_resistance,
                        const unsigned char *pstr, size_t pstr_len, const OSSL_PARAM params[])
{
  ((FixedRand *) vrand)->state = EVP_RAND_STATE_READY;
  return 1;
}

static int
fixed_rand_uninstantiate (void *vrand)
{
  ((FixedRand *) vrand)->state = EVP_RAND_STATE_UNINITIALISED;
  return 1;
}

static int
fixed_rand_generate (void *vrand, unsigned char *out, size_t outlen, unsigned int strength,
                     int prediction_resistance, const unsigned char *adin, size_t adinlen)
{
  /* Small leading bytes: a value drawn below a group order or a prime is
   * accepted at the first try, so no rejection loop spins forever. */
  for (size_t i = 0; i < outlen; i++)
    out[i] = (unsigned char) (1 + 7 * i);
  return 1;
}

static int
fixed_rand_enable_locking (void *vrand)
{
  return 1;
}

static int
fixed_rand_get_ctx_params (void *vrand, OSSL_PARAM params[])
{
  OSSL_PARAM *p;

  p = OSSL_PARAM_locate (params, OSSL_RAND_PARAM_STATE);
  if (p != NULL && !OSSL_PARAM_set_int (p, ((FixedRand *) vrand)->state))
    return 0;
  p = OSSL_PARAM_locate (params, OSSL_RAND_PARAM_STRENGTH);
  if (p != NULL && !OSSL_PARAM_set_uint (p, 256))
    return 0;
  p = OSSL_PARAM_locate (params, OSSL_RAND_PARAM_MAX_REQUEST);
  if (p != NULL && !OSSL_PARAM_set_size_t (p, 1 << 20))
    return 0;
  return 1;
}

static const OSSL_PARAM *
fixed_rand_gettable_ctx_params (void *vrand, void *provctx)
{
  static const OSSL_PARAM gettable[] = {
    OSSL_PARAM_int (OSSL_RAND_PARAM_STATE, NULL),
    OSSL_PARAM_uint (OSSL_RAND_PARAM_STRENGTH, NULL),
    OSSL_PARAM_size_t (OSSL_RAND_PARAM_MAX_REQUEST, NULL),
    OSSL_PARAM_END
  };

  return gettable;
}

/* The casts are how OpenSSL's dispatch tables are written. */
#define FN(f) ((void (*) (void)) (f))

static const OSSL_DISPATCH fixed_rand_functions[] = {
  { OSSL_FUNC_RAND_NEWCTX, FN (fixed_rand_newctx) },
  { OSSL_FUNC_RAND_FREECTX, FN (fixed_rand_freectx) },
  { OSSL_FUNC_RAND_INSTANTIATE, FN (fixed_rand_instantiate) },
  { OSSL_FUNC_RAND_UNINSTANTIATE, FN (fixed_rand_uninstantiate) },
  { OSSL_FUNC_RAND_GENERATE, FN (fixed_rand_generate) },
  { OSSL_FUNC_RAND_ENABLE_LOCKING, FN (fixed_rand_enable_locking) },
  { OSSL_FUNC_RAND_GET_CTX_PARAMS, FN (fixed_rand_get_ctx_params) },
  { OSSL_FUNC_RAND_GETTABLE_CTX_PARAMS, FN (fixed_rand_gettable_ctx_params) },
  { 0, NULL }
};

static const OSSL_ALGORITHM fixed_rand_algorithms[] = {
  { "gsecsock-fixed", "provider=gsecsock-fixed-rand", fixed_rand_functions, "always the same bytes" },
  { NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM *
fixed_rand_query (void *provctx, int operation_id, int *no_cache)
{
  *no_cache = 0;
  return operation_id == OSSL_OP_RAND ? fixed_rand_algorithms : NULL;
}

static const OSSL_DISPATCH fixed_rand_provider_functions[] = {
  { OSSL_FUNC_PROVIDER_QUERY_OPERATION, FN (fixed_rand_query) },
  { 0, NULL }
};

static int
fixed_rand_provider_init (const OSSL_CORE_HANDLE  *handle,
                          const OSSL_DISPATCH     *in,
                          const OSSL_DISPATCH    **out,
                          void                   **provctx)
{
  *out = fixed_rand_provider_functions;
  *provctx = NULL;
  return 1;
}

/* Loaded for the whole run (OpenSSL unloads it at exit). */
static OSSL_PROVIDER *fixed_rand_provider;

static void
install_fixed_rand (void)
{
  unsigned char first[4], second[4];

  if (!OSSL_PROVIDER_add_builtin (NULL, "gsecsock-fixed-rand", fixed_rand_provider_init) ||
      (fixed_rand_provider = OSSL_PROVIDER_try_load (NULL, "gsecsock-fixed-rand", 1)) == NULL ||
      !RAND_set_DRBG_type (NULL, "gsecsock-fixed", NULL, NULL, NULL))
    die ("cannot install the fixed random number generator");
  /* Installed only if nothing drew a random number before: check. */
  if (RAND_bytes (first, sizeof first) != 1 || RAND_priv_bytes (second, sizeof second) != 1 ||
      memcmp (first, second, sizeof first) != 0 || first[0] != 1 || first[1] != 8)
    die ("the fixed random number generator is not in use (was OpenSSL used before fuzz_init()?)");
}

/* ---- Environment ------------------------------------------------------- */

static GMainContext *fuzz_context;
static time_t fixed_time;

const char *
fuzz_pki_path (const char *name)
{
  const char *dir = g_getenv ("GSECSOCK_TEST_PKI_DIR");
  g_autofree char *path = NULL;

  if (dir == NULL || *dir == '\0')
    die ("GSECSOCK_TEST_PKI_DIR is not set: point it to a PKI made by tests/make-test-pki.sh "
         "(fuzz/run.sh does)");
  path = g_build_filename (dir, name, NULL);
  return g_intern_string (path);
}

void
fuzz_init (void)
{
  static gboolean done;
  g_autoptr(GSecSockCertificate) ca = NULL;
  g_autoptr(GDateTime) not_before = NULL;
  g_autoptr(GError) error = NULL;

  if (done)
    return;
  done = TRUE;

  install_fixed_rand ();

  /* Nothing from the desktop: no proxy lookups, no GVfs, no settings. */
  g_setenv ("GIO_USE_VFS", "local", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  /* A critical or a warning is a broken promise of the library: stop. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);

  fuzz_context = g_main_context_new ();
  g_main_context_push_thread_default (fuzz_context);

  ca = gsecsock_certificate_new_from_file (fuzz_pki_path ("ca.pem"), &error);
  if (ca == NULL)
    die ("cannot load the test PKI's root CA: %s", error->message);
  not_before = gsecsock_certificate_get_not_valid_before (ca);
  fixed_time = (time_t) g_date_time_to_unix (not_before) + 24 * 3600;
}

time_t
fuzz_fixed_time (void)
{
  return fixed_time;
}

void
fuzz_pin_time (GSecSockSecureSocketContext *ctx)
{
  SSL_CTX *ssl_ctx = gsecsock_secure_socket_context_get_ssl_ctx (ctx);

  /* Every SSL inherits the context's parameters, and the chain
   * verification the socket's. */
  X509_VERIFY_PARAM_set_time (SSL_CTX_get0_param (ssl_ctx), fixed_time);
}

void
fuzz_drain (void)
{
  while (g_main_context_iteration (fuzz_context, FALSE))
    ;
}

void
fuzz_forget_server_sessions (GSecSockSecureSocketContext *ctx)
{
  /* 0: every session, whatever its age. */
  SSL_CTX_flush_sessions (gsecsock_secure_socket_context_get_ssl_ctx (ctx), 0);
}

void
fuzz_forget_client_sessions (GSecSockSecureSocketContext *ctx)
{
  gboolean verify = gsecsock_secure_socket_context_get_verify_peer (ctx);

  /* Changing verify-peer empties the context's session cache (the
   * sessions were verified under the old setting): twice, to keep it. */
  gsecsock_secure_socket_context_set_verify_peer (ctx, !verify);
  gsecsock_secure_socket_context_set_verify_peer (ctx, verify);
}

guint fuzz_completed_handshakes;

gboolean
fuzz_verbose (void)
{
  static int verbose = -1;

  if (verbose < 0)
    verbose = g_strcmp0 (g_getenv ("GSECSOCK_FUZZ_VERBOSE"), "1") == 0;
  return verbose;
}

void
fuzz_note_handshake (gboolean      completed,
                     const GError *error)
{
  if (completed)
    fuzz_completed_handshakes++;
  if (fuzz_verbose ())
    fprintf (stderr, "fuzz: handshake %s%s\n", completed ? "completed" : "failed: ",
             completed ? "" : error->message);
}

void
fuzz_check_error (const GError *error,
                  const char   *what)
{
  if (error == NULL || error->message == NULL || error->message[0] == '\0')
    {
      fprintf (stderr, "fuzz: %s failed without an error message\n", what);
      abort ();
    }
}

/* ---- Configurations ---------------------------------------------------- */

static void
must (gboolean ok, const GError *error, const char *what)
{
  if (!ok)
    die ("%s: %s", what, error ? error->message : "failed");
}

static gboolean
accept_every_certificate (GSecSockSecureSocketContext *ctx,
                          GSecSockSecureSocket        *socket,
                          GSecSockCertificate         *certificate,
                          guint                        depth,
                          GSecSockCertificateFlags     errors,
                          gpointer                     user_data)
{
  /* Reads what a real handler would show the user. */
  g_autofree char *subject = gsecsock_certificate_get_subject (certificate);
  g_autofree char *issuer = gsecsock_certificate_get_issuer (certificate);

  return subject != NULL && issuer != NULL;
}

GSecSockSecureSocketContext *
fuzz_client_context_new (FuzzClientConfig config)
{
  GSecSockSecureSocketContext *ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  static const char *const alpn[] = { "h2", "http/1.1", NULL };
  g_autoptr(GError) error = NULL;

  gsecsock_secure_socket_context_set_use_system_trust (ctx, FALSE);
  if (config != FUZZ_CLIENT_NO_VERIFY)
    must (gsecsock_secure_socket_context_add_trust_anchor_file (ctx, fuzz_pki_path ("ca.pem"), &error),
          error, "client trust anchor");
  switch (config)
    {
    case FUZZ_CLIENT_DEFAULT:
    case FUZZ_CLIENT_SNI:
      gsecsock_secure_socket_context_set_alpn_protocols (ctx, alpn);
      break;
    case FUZZ_CLIENT_TLS12:
      gsecsock_secure_socket_context_set_alpn_protocols (ctx, alpn);
      gsecsock_secure_socket_context_set_max_protocol_version (ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
      break;
    case FUZZ_CLIENT_NO_VERIFY:
      gsecsock_secure_socket_context_set_verify_peer (ctx, FALSE);
      break;
    case FUZZ_CLIENT_CERTIFICATE:
    case FUZZ_CLIENT_CERTIFICATE_12:
      must (gsecsock_secure_socket_context_load_certificate_file (ctx, fuzz_pki_path ("client-chain.pem"),
                                                                  fuzz_pki_path ("client.key"), &error),
            error, "client certificate");
      if (config == FUZZ_CLIENT_CERTIFICATE_12)
        gsecsock_secure_socket_context_set_max_protocol_version (ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
      break;
    case FUZZ_CLIENT_HANDLER:
      g_signal_connect (ctx, "verify-certificate", G_CALLBACK (accept_every_certificate), NULL);
      break;
    case FUZZ_N_CLIENT_CONFIGS:
    default:
      g_assert_not_reached ();
    }
  fuzz_pin_time (ctx);
  return ctx;
}

const char *
fuzz_client_peer_name (FuzzClientConfig config)
{
  return config == FUZZ_CLIENT_SNI ? "alpha.test" : "localhost";
}

gboolean
fuzz_client_accepts_errors (FuzzClientConfig config)
{
  return config == FUZZ_CLIENT_NO_VERIFY || config == FUZZ_CLIENT_HANDLER;
}

static GSecSockSecureSocketContext *
server_context_for (const char *chain, const char *key)
{
  GSecSockSecureSocketContext *ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GError) error = NULL;

  must (gsecsock_secure_socket_context_load_certificate_file (ctx, fuzz_pki_path (chain),
                                                              fuzz_pki_path (key), &error),
        error, "server certificate");
  fuzz_pin_time (ctx);
  return ctx;
}

GSecSockSecureSocketContext *
fuzz_server_context_new (FuzzServerConfig config)
{
  GSecSockSecureSocketContext *ctx = server_context_for ("server-chain.pem", "server.key");
  static const char *const alpn[] = { "http/1.1", "h2", NULL };
  g_autoptr(GError) error = NULL;

  gsecsock_secure_socket_context_set_alpn_protocols (ctx, alpn);
  switch (config)
    {
    case FUZZ_SERVER_DEFAULT:
      break;
    case FUZZ_SERVER_REQUIRE:
    case FUZZ_SERVER_REQUEST:
      gsecsock_secure_socket_context_set_use_system_trust (ctx, FALSE);
      must (gsecsock_secure_socket_context_add_trust_anchor_file (ctx, fuzz_pki_path ("ca.pem"), &error),
            error, "server trust anchor");
      gsecsock_secure_socket_context_set_client_auth (ctx, config == FUZZ_SERVER_REQUIRE
                                                           ? GSECSOCK_CLIENT_AUTH_REQUIRE
                                                           : GSECSOCK_CLIENT_AUTH_REQUEST);
      break;
    case FUZZ_SERVER_SNI:
      {
        g_autoptr(GSecSockSecureSocketContext) alpha = server_context_for ("alpha-chain.pem", "alpha.key");
        g_autoptr(GSecSockSecureSocketContext) beta = server_context_for ("beta-chain.pem", "beta.key");

        must (gsecsock_secure_socket_context_add_sni_context (ctx, "alpha.test", alpha, &error),
              error, "SNI context alpha.test");
        must (gsecsock_secure_socket_context_add_sni_context (ctx, "*.beta.test", beta, &error),
              error, "SNI context *.beta.test");
      }
      break;
    case FUZZ_SERVER_TLS12:
      gsecsock_secure_socket_context_set_max_protocol_version (ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
      break;
    case FUZZ_N_SERVER_CONFIGS:
    default:
      g_assert_not_reached ();
    }
  return ctx;
}

/* ---- A pair of sockets ------------------------------------------------- */

void
fuzz_pair_init (FuzzPair                    *pair,
                GSecSockSecureSocketContext *client_ctx,
                const char                  *peer_name,
                GSecSockSecureSocketContext *server_ctx)
{
  g_autoptr(GError) error = NULL;

  memset (pair, 0, sizeof *pair);
  pair->client_transport = gsecsock_memory_transport_new ();
  pair->server_transport = gsecsock_memory_transport_new ();
  pair->client_sent = g_byte_array_new ();
  pair->server_sent = g_byte_array_new ();
  pair->client = gsecsock_secure_socket_new (client_ctx, G_IO_STREAM (pair->client_transport),
                                             peer_name, &error);
  must (pair->client != NULL, error, "client socket");
  pair->server = gsecsock_secure_socket_new (server_ctx, G_IO_STREAM (pair->server_transport),
                                             NULL, &error);
  must (pair->server != NULL, error, "server socket");
}

void
fuzz_pair_clear (FuzzPair *pair)
{
  g_clear_object (&pair->client);
  g_clear_object (&pair->server);
  g_clear_object (&pair->client_transport);
  g_clear_object (&pair->server_transport);
  g_clear_pointer (&pair->client_sent, g_byte_array_unref);
  g_clear_pointer (&pair->server_sent, g_byte_array_unref);
}

static gboolean
move_bytes (GSecSockMemoryTransport *from,
            GSecSockMemoryTransport *to,
            GByteArray              *record)
{
  g_autoptr(GBytes) bytes = gsecsock_memory_transport_take_outgoing (from);
  gsize length = 0;
  const guint8 *data = g_bytes_get_data (bytes, &length);

  if (length == 0)
    return FALSE;
  g_byte_array_append (record, data, length);
  gsecsock_memory_transport_receive (to, data, length);
  return TRUE;
}

gboolean
fuzz_pair_shuttle (FuzzPair *pair)
{
  gboolean moved = move_bytes (pair->client_transport, pair->server_transport, pair->client_sent);

  return move_bytes (pair->server_transport, pair->client_transport, pair->server_sent) || moved;
}

typedef struct {
  gboolean done;
  GError *error;
} Outcome;

static void
handshake_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Outcome *outcome = user_data;

  gsecsock_secure_socket_handshake_finish (GSECSOCK_SECURE_SOCKET (source), result, &outcome->error);
  outcome->done = TRUE;
}

gboolean
fuzz_pair_handshake (FuzzPair  *pair,
                     GError   **error)
{
  Outcome client = { 0 }, server = { 0 };
  guint idle_rounds = 0;

  gsecsock_secure_socket_handshake_async (pair->client, G_PRIORITY_DEFAULT, NULL, handshake_done, &client);
  gsecsock_secure_socket_handshake_async (pair->server, G_PRIORITY_DEFAULT, NULL, handshake_done, &server);
  /* Each round runs what is ready and moves the bytes; a handshake needs
   * a few dozen. Rounds where nothing moves nor runs mean a stall. */
  while (!(client.done && server.done))
    {
      gboolean busy = g_main_context_iteration (g_main_context_get_thread_default (), FALSE);

      busy = fuzz_pair_shuttle (pair) || busy;
      idle_rounds = busy ? 0 : idle_rounds + 1;
      if (idle_rounds > 1000)
        break;
    }
  /* Let both finish their part of the exchange (a TLS 1.3 server's
   * tickets) before anyone reads from the pair. */
  fuzz_pair_shuttle (pair);
  fuzz_drain ();

  if (!client.done || !server.done)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the handshake stalled");
      /* The operations still hold @client and @server: end them. */
      g_io_stream_close (G_IO_STREAM (pair->client_transport), NULL, NULL);
      g_io_stream_close (G_IO_STREAM (pair->server_transport), NULL, NULL);
      while (!(client.done && server.done))
        g_main_context_iteration (g_main_context_get_thread_default (), TRUE);
      g_clear_error (&client.error);
      g_clear_error (&server.error);
      return FALSE;
    }
  if (client.error != NULL || server.error != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "client: %s; server: %s",
                   client.error ? client.error->message : "ok",
                   server.error ? server.error->message : "ok");
      g_clear_error (&client.error);
      g_clear_error (&server.error);
      return FALSE;
    }
  return TRUE;
}

gsize
fuzz_read_all (GIOStream *stream,
               gsize      limit)
{
  GInputStream *input = g_io_stream_get_input_stream (stream);
  gsize total = 0;
  char buffer[4096];

  while (total < limit)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_input_stream_read (input, buffer, MIN (sizeof buffer, limit - total), NULL, &error);

      if (n < 0)
        fuzz_check_error (error, "reading");
      if (n <= 0)
        break;
      total += n;
    }
  return total;
}
