/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the fuzz targets and make-corpus share: a fixed random number
 * generator and clock, the test PKI, the client and server configurations
 * a handshake input picks from, and a pump that runs a real handshake
 * between two sockets over memory transports, recording what each sent.
 *
 * Corpus files of the handshake and record targets start with one byte
 * that picks the configuration; the recorded bytes follow. Because every
 * random number is the same on every run, the bytes a peer recorded in
 * make-corpus are the bytes a target's socket expects, and a seed input
 * replays a whole handshake. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <gsecsock/gsecsock.h>

G_BEGIN_DECLS

/* libFuzzer's entry points, implemented by each target. */
int LLVMFuzzerInitialize   (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Once, before anything uses OpenSSL: the fixed random number generator,
 * an environment that does not depend on the machine, and a private
 * thread-default main context (see fuzz_drain()). Exits with a message if
 * the generator cannot be installed or the test PKI is missing. */
void         fuzz_init (void);

/* $GSECSOCK_TEST_PKI_DIR/@name, interned. */
const char  *fuzz_pki_path (const char *name);

/* The time certificates are verified at: one day after the test root CA
 * became valid, so that every certificate the PKI made "now" is valid and
 * the dated ones (expired.pem, notyet.pem) are not, on every run. */
time_t       fuzz_fixed_time (void);

/* Pins @ctx's verification time to fuzz_fixed_time(). */
void         fuzz_pin_time (GSecSockSecureSocketContext *ctx);

/* Runs what the library scheduled on the thread-default main context (the
 * memory transports' outgoing-ready notifications), which holds references
 * to the input's objects until it runs. */
void         fuzz_drain (void);

/* The server contexts' session caches would let one input resume a
 * session another made: emptied after every input. */
void         fuzz_forget_server_sessions (GSecSockSecureSocketContext *ctx);

/* A client context forgets the sessions it keeps for resumption. */
void         fuzz_forget_client_sessions (GSecSockSecureSocketContext *ctx);

/* Client configurations (the first byte of a client-handshake input). */
typedef enum {
  FUZZ_CLIENT_DEFAULT,        /* TLS 1.2-1.3, verifies "localhost", ALPN h2, http/1.1 */
  FUZZ_CLIENT_TLS12,          /* the same, TLS 1.2 only */
  FUZZ_CLIENT_NO_VERIFY,      /* verify-peer off, no trust anchors, no ALPN */
  FUZZ_CLIENT_CERTIFICATE,    /* presents client.pem */
  FUZZ_CLIENT_CERTIFICATE_12, /* presents client.pem, TLS 1.2 only */
  FUZZ_CLIENT_HANDLER,        /* a verify-certificate handler decides (ASYNC jobs) */
  FUZZ_CLIENT_SNI,            /* verifies "alpha.test" (a virtual host) */
  FUZZ_N_CLIENT_CONFIGS
} FuzzClientConfig;

/* Server configurations (the first byte of a server-handshake input). */
typedef enum {
  FUZZ_SERVER_DEFAULT,        /* server-chain.pem, ALPN http/1.1, h2 */
  FUZZ_SERVER_REQUIRE,        /* requires a client certificate from the test CA */
  FUZZ_SERVER_REQUEST,        /* asks for one, accepts none */
  FUZZ_SERVER_SNI,            /* virtual hosts alpha.test and beta.test */
  FUZZ_SERVER_TLS12,          /* TLS 1.2 only */
  FUZZ_N_SERVER_CONFIGS
} FuzzServerConfig;

GSecSockSecureSocketContext *fuzz_client_context_new  (FuzzClientConfig config);
const char                  *fuzz_client_peer_name    (FuzzClientConfig config);
/* Whether a handshake of @config may complete despite certificate errors. */
gboolean                     fuzz_client_accepts_errors (FuzzClientConfig config);
GSecSockSecureSocketContext *fuzz_server_context_new  (FuzzServerConfig config);

/* Two sockets over memory transports, and every byte each one sent. */
typedef struct {
  GSecSockMemoryTransport *client_transport;
  GSecSockMemoryTransport *server_transport;
  GSecSockSecureSocket *client;
  GSecSockSecureSocket *server;
  GByteArray *client_sent;
  GByteArray *server_sent;
} FuzzPair;

void     fuzz_pair_init      (FuzzPair                    *pair,
                              GSecSockSecureSocketContext *client_ctx,
                              const char                  *peer_name,
                              GSecSockSecureSocketContext *server_ctx);
void     fuzz_pair_clear     (FuzzPair *pair);
/* Moves what each socket wrote to the other, recording it. Returns
 * whether anything moved. */
gboolean fuzz_pair_shuttle   (FuzzPair *pair);
/* Both handshakes, asynchronously on the thread-default main context,
 * with the bytes shuttled between them. Fails if either side fails (or
 * the pair stops making progress). */
gboolean fuzz_pair_handshake (FuzzPair  *pair,
                              GError   **error);

/* Reads @stream (blocking) until its end or an error, at most @limit bytes
 * in all; returns how many were read. Memory transports with their end
 * received never block. */
gsize    fuzz_read_all       (GIOStream *stream,
                              gsize      limit);

/* How many handshakes completed: a seed replays a whole handshake only if
 * the fixed random numbers work, which the corpus tests check. With
 * GSECSOCK_FUZZ_VERBOSE=1 in the environment, each outcome is printed. */
extern guint fuzz_completed_handshakes;
gboolean fuzz_verbose        (void);
void     fuzz_note_handshake (gboolean      completed,
                              const GError *error);

/* Checks the library's promise for a failure: a GError with a message. */
void     fuzz_check_error    (const GError *error,
                              const char   *what);

G_END_DECLS
