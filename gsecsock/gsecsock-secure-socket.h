/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__GSECSOCK_H_INSIDE__) && !defined(GSECSOCK_COMPILATION)
#error "Only <gsecsock/gsecsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gsecsock/gsecsock-version.h>
#include <gsecsock/gsecsock-enums.h>
#include <gsecsock/gsecsock-certificate.h>
#include <gsecsock/gsecsock-decision.h>
#include <gsecsock/gsecsock-secure-socket-context.h>

G_BEGIN_DECLS

#define GSECSOCK_TYPE_SECURE_SOCKET (gsecsock_secure_socket_get_type ())
GSECSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (GSecSockSecureSocket, gsecsock_secure_socket,
                      GSECSOCK, SECURE_SOCKET, GIOStream)

GSECSOCK_AVAILABLE_IN_ALL
GSecSockSecureSocket *gsecsock_secure_socket_new (GSecSockSecureSocketContext  *context,
                                                  GIOStream                    *base_stream,
                                                  const char                   *peer_name,
                                                  GError                      **error);

GSECSOCK_AVAILABLE_IN_ALL
GSecSockSecureSocket *gsecsock_secure_socket_new_with_input_buffer (GSecSockSecureSocketContext  *context,
                                                                    GIOStream                    *base_stream,
                                                                    GBufferedInputStream         *input_buffer,
                                                                    const char                   *peer_name,
                                                                    GError                      **error);

GSECSOCK_AVAILABLE_IN_ALL
GSecSockSecureSocket *gsecsock_secure_socket_connect        (GSecSockSecureSocketContext  *context,
                                                             const char                   *host,
                                                             guint16                       port,
                                                             GCancellable                 *cancellable,
                                                             GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
void                  gsecsock_secure_socket_connect_async  (GSecSockSecureSocketContext  *context,
                                                             const char                   *host,
                                                             guint16                       port,
                                                             GCancellable                 *cancellable,
                                                             GAsyncReadyCallback           callback,
                                                             gpointer                      user_data);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockSecureSocket *gsecsock_secure_socket_connect_finish (GAsyncResult                 *result,
                                                             GError                      **error);

GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_handshake        (GSecSockSecureSocket  *self,
                                                  GCancellable          *cancellable,
                                                  GError               **error);
GSECSOCK_AVAILABLE_IN_ALL
void     gsecsock_secure_socket_handshake_async  (GSecSockSecureSocket  *self,
                                                  int                    io_priority,
                                                  GCancellable          *cancellable,
                                                  GAsyncReadyCallback    callback,
                                                  gpointer               user_data);
GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_handshake_finish (GSecSockSecureSocket  *self,
                                                  GAsyncResult          *result,
                                                  GError               **error);

GSECSOCK_AVAILABLE_IN_ALL
GSecSockSecureSocketContext *gsecsock_secure_socket_get_context      (GSecSockSecureSocket *self);
GSECSOCK_AVAILABLE_IN_ALL
GIOStream                   *gsecsock_secure_socket_get_base_stream  (GSecSockSecureSocket *self);
GSECSOCK_AVAILABLE_IN_ALL
const char                  *gsecsock_secure_socket_get_peer_name    (GSecSockSecureSocket *self);
GSECSOCK_AVAILABLE_IN_ALL
const char                  *gsecsock_secure_socket_get_server_name  (GSecSockSecureSocket *self);

GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_get_require_close_notify (GSecSockSecureSocket *self);
GSECSOCK_AVAILABLE_IN_ALL
void     gsecsock_secure_socket_set_require_close_notify (GSecSockSecureSocket *self,
                                                          gboolean              require_close_notify);

GSECSOCK_AVAILABLE_IN_ALL
guint    gsecsock_secure_socket_get_handshake_timeout (GSecSockSecureSocket *self);
GSECSOCK_AVAILABLE_IN_ALL
void     gsecsock_secure_socket_set_handshake_timeout (GSecSockSecureSocket *self,
                                                       guint                 seconds);

GSECSOCK_AVAILABLE_IN_ALL
GSecSockDecision    *gsecsock_secure_socket_defer_decision          (GSecSockSecureSocket *self);
GSECSOCK_AVAILABLE_IN_ALL
void                 gsecsock_secure_socket_set_client_certificate  (GSecSockSecureSocket *self,
                                                                     GSecSockCertificate  *certificate);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificate *gsecsock_secure_socket_get_client_certificate  (GSecSockSecureSocket *self);

GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificate     *gsecsock_secure_socket_get_peer_certificate       (GSecSockSecureSocket *self);
GSECSOCK_AVAILABLE_IN_ALL
GListModel              *gsecsock_secure_socket_get_peer_certificate_chain (GSecSockSecureSocket *self);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificateFlags gsecsock_secure_socket_get_certificate_errors     (GSecSockSecureSocket *self);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificateStatus gsecsock_secure_socket_get_certificate_status    (GSecSockSecureSocket *self);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockProtocolVersion  gsecsock_secure_socket_get_protocol_version       (GSecSockSecureSocket *self);
GSECSOCK_AVAILABLE_IN_ALL
const char              *gsecsock_secure_socket_get_cipher_name            (GSecSockSecureSocket *self);
GSECSOCK_AVAILABLE_IN_ALL
const char              *gsecsock_secure_socket_get_alpn_protocol          (GSecSockSecureSocket *self);
GSECSOCK_AVAILABLE_IN_ALL
gboolean                 gsecsock_secure_socket_get_session_reused         (GSecSockSecureSocket *self);
GSECSOCK_AVAILABLE_IN_ALL
gboolean                 gsecsock_secure_socket_get_handshake_complete     (GSecSockSecureSocket *self);

G_END_DECLS
