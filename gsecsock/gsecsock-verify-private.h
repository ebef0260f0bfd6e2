/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <openssl/ssl.h>

#include "gsecsock-enums.h"

G_BEGIN_DECLS

typedef struct {
  guint flags;                      /* GSecSockCertificateFlags found */
  int first_error;                  /* first X509_V_ERR_* */
  gboolean done;                    /* final call for the depth seen */
  gboolean accepted;                /* the decision for the depth */
} GSecSockVerifyDepth;

/* What verification found for one socket's peer: every problem of every
 * certificate (not only the first), the chain as the peer sent it, and the
 * message for the certificate that caused a rejection. */
typedef struct {
  /* Set up by the socket before the handshake. */
  gboolean verify_peer;          /* reject on problems, or only report them */
  const char *peer_description;  /* "“example.org”" or "the client"; borrowed */
  /* Decides whether @cert (at @depth, with @flags) is accepted. Called once
   * per certificate, root end first, inside OpenSSL's verification (and so
   * possibly inside an ASYNC job, which it may pause). NULL: accept when
   * there is no problem or when verify_peer is off. */
  gboolean (*decide) (gpointer                 user_data,
                      X509                    *cert,
                      int                      depth,
                      GSecSockCertificateFlags flags);
  gpointer decide_data;

  /* Filled in during the handshake. */
  GSecSockCertificateFlags errors;  /* union over the chain */
  /* GSecSockVerifyDepth per depth, leaf = 0; created by the first
   * verification (a server that asks for no certificate never needs it). */
  GArray *depths;
  GListStore *chain;                /* GSecSockCertificate, leaf first */
  char *message;                    /* why the peer was rejected */
  gboolean rejected;
  gboolean rejected_by_application;  /* a decision, not a problem, rejected */
  gboolean verified;                /* the chain was verified with no problem */
} GSecSockVerifyState;

void                     gsecsock_verify_install        (SSL_CTX *ctx);
void                     gsecsock_verify_state_init     (GSecSockVerifyState *state);
void                     gsecsock_verify_state_clear    (GSecSockVerifyState *state);
void                     gsecsock_verify_attach         (SSL *ssl, GSecSockVerifyState *state);
GSecSockVerifyState     *gsecsock_verify_get_state      (const SSL *ssl);

GSecSockCertificateFlags gsecsock_verify_flags_from_x509_error (int x509_error);

/* @name as an RFC 2253 string ("CN=example.org,O=Example"). */
char                    *gsecsock_verify_format_name (const X509_NAME *name);

G_END_DECLS
