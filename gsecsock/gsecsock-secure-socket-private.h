/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/ssl.h>

#include "gsecsock-secure-socket.h"

G_BEGIN_DECLS

/* The engine behind the socket's input and output streams
 * (gsecsock-streams.c). @blocking FALSE never waits and fails with
 * G_IO_ERROR_WOULD_BLOCK; then gsecsock_secure_socket_create_source() gives
 * a source that fires when trying again makes sense. */
gssize    gsecsock_secure_socket_read           (GSecSockSecureSocket  *self,
                                                 void                  *buffer,
                                                 gsize                  count,
                                                 gboolean               blocking,
                                                 GCancellable          *cancellable,
                                                 GError               **error);
gssize    gsecsock_secure_socket_write          (GSecSockSecureSocket  *self,
                                                 const void            *buffer,
                                                 gsize                  count,
                                                 gboolean               blocking,
                                                 GCancellable          *cancellable,
                                                 GError               **error);
gboolean  gsecsock_secure_socket_check          (GSecSockSecureSocket  *self,
                                                 GIOCondition           condition);
GSource  *gsecsock_secure_socket_create_source  (GSecSockSecureSocket  *self,
                                                 GIOCondition           condition,
                                                 GObject               *pollable,
                                                 GCancellable          *cancellable);

/* Sends close_notify (once) without closing the transport. */
gboolean  gsecsock_secure_socket_close_write        (GSecSockSecureSocket  *self,
                                                     GCancellable          *cancellable,
                                                     GError               **error);
void      gsecsock_secure_socket_close_write_async  (GSecSockSecureSocket  *self,
                                                     int                    io_priority,
                                                     GCancellable          *cancellable,
                                                     GAsyncReadyCallback    callback,
                                                     gpointer               user_data);
gboolean  gsecsock_secure_socket_close_write_finish (GSecSockSecureSocket  *self,
                                                     GAsyncResult          *result,
                                                     GError               **error);
/* The input stream was closed: reading is refused from now on. */
void      gsecsock_secure_socket_close_read         (GSecSockSecureSocket  *self);

/* The answer of a deferred decision (gsecsock-decision.c); ignored unless
 * question @serial is still waiting. @select: @certificate (maybe NULL)
 * answers a client certificate request. Any thread. */
void      gsecsock_secure_socket_answer             (GSecSockSecureSocket  *self,
                                                     guint                  serial,
                                                     gboolean               accept,
                                                     gboolean               select,
                                                     GSecSockCertificate   *certificate);

/* OpenSSL callbacks installed on every SSL_CTX, forwarded to the socket
 * that owns @ssl. */
int       gsecsock_secure_socket_client_cert_cb     (SSL                   *ssl,
                                                     void                  *user_data);
void      gsecsock_secure_socket_info_cb            (const SSL             *ssl,
                                                     int                    where,
                                                     int                    ret);

/* gsecsock-streams.c */
GInputStream  *gsecsock_input_stream_new  (GSecSockSecureSocket *socket);
GOutputStream *gsecsock_output_stream_new (GSecSockSecureSocket *socket);

G_END_DECLS
