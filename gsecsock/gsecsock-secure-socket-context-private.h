/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/ssl.h>

#include "gsecsock-secure-socket-context.h"

G_BEGIN_DECLS

/* Makes a new SSL for a socket of @self: attaches the trust store, brought up
 * to date (it is rebuilt lazily after trust changes), unless @self is a
 * server that asks for no client certificate; checks that the context can
 * make sockets at all (a server needs a certificate). */
SSL  *gsecsock_secure_socket_context_create_ssl (GSecSockSecureSocketContext  *self,
                                                 GError                      **error);
void  gsecsock_secure_socket_context_ensure_trust (GSecSockSecureSocketContext  *self,
                                                   SSL                          *ssl);

/* Client-side session cache, keyed by the peer (host name or "host:port"). */
void  gsecsock_secure_socket_context_resume_session (GSecSockSecureSocketContext *self,
                                                     SSL                         *ssl,
                                                     const char                  *session_key);

typedef enum {
  CONTEXT_SIGNAL_PASSWORD_REQUESTED,
  CONTEXT_SIGNAL_VERIFY_CERTIFICATE,
  CONTEXT_SIGNAL_HANDSHAKE_INFO,
  CONTEXT_SIGNAL_CLIENT_CERTIFICATE_REQUESTED,
  N_CONTEXT_SIGNALS
} GSecSockContextSignal;

/* The id of one of the context's signals, for the socket's emissions. */
guint gsecsock_secure_socket_context_signal (GSecSockContextSignal which);

/* The SSL ex_data index that holds the owning GSecSockSecureSocket. */
int   gsecsock_secure_socket_context_socket_index   (void);

/* The OpenSSL context behind @self, borrowed. Only for the fuzzers
 * (fuzz/), which pin its verification time (X509_VERIFY_PARAM_set_time)
 * and empty its server session cache between inputs, so that an input
 * always takes the same path; the library itself never hands it out. */
SSL_CTX *gsecsock_secure_socket_context_get_ssl_ctx (GSecSockSecureSocketContext *self);

G_END_DECLS
