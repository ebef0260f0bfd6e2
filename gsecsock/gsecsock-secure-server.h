/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__GSECSOCK_H_INSIDE__) && !defined(GSECSOCK_COMPILATION)
#error "Only <gsecsock/gsecsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gsecsock/gsecsock-version.h>
#include <gsecsock/gsecsock-secure-socket-context.h>
#include <gsecsock/gsecsock-secure-socket.h>

G_BEGIN_DECLS

#define GSECSOCK_TYPE_SECURE_SERVER (gsecsock_secure_server_get_type ())
GSECSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (GSecSockSecureServer, gsecsock_secure_server,
                      GSECSOCK, SECURE_SERVER, GObject)

GSECSOCK_AVAILABLE_IN_ALL
GSecSockSecureServer        *gsecsock_secure_server_new                   (GSecSockSecureSocketContext  *context,
                                                                           GError                      **error);

GSECSOCK_AVAILABLE_IN_ALL
guint16                      gsecsock_secure_server_listen                (GSecSockSecureServer         *self,
                                                                           const char                   *address,
                                                                           guint16                       port,
                                                                           GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
gboolean                     gsecsock_secure_server_add_connection        (GSecSockSecureServer         *self,
                                                                           GIOStream                    *connection,
                                                                           GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
void                         gsecsock_secure_server_stop                  (GSecSockSecureServer         *self);

GSECSOCK_AVAILABLE_IN_ALL
GSecSockSecureSocketContext *gsecsock_secure_server_get_context           (GSecSockSecureServer         *self);
GSECSOCK_AVAILABLE_IN_ALL
guint16                      gsecsock_secure_server_get_port              (GSecSockSecureServer         *self);
GSECSOCK_AVAILABLE_IN_ALL
gboolean                     gsecsock_secure_server_get_listening         (GSecSockSecureServer         *self);

GSECSOCK_AVAILABLE_IN_ALL
gboolean                     gsecsock_secure_server_get_reuse_address     (GSecSockSecureServer         *self);
GSECSOCK_AVAILABLE_IN_ALL
void                         gsecsock_secure_server_set_reuse_address     (GSecSockSecureServer         *self,
                                                                           gboolean                      reuse_address);

GSECSOCK_AVAILABLE_IN_ALL
guint                        gsecsock_secure_server_get_max_handshakes    (GSecSockSecureServer         *self);
GSECSOCK_AVAILABLE_IN_ALL
void                         gsecsock_secure_server_set_max_handshakes    (GSecSockSecureServer         *self,
                                                                           guint                         max_handshakes);

GSECSOCK_AVAILABLE_IN_ALL
guint                        gsecsock_secure_server_get_handshake_timeout (GSecSockSecureServer         *self);
GSECSOCK_AVAILABLE_IN_ALL
void                         gsecsock_secure_server_set_handshake_timeout (GSecSockSecureServer         *self,
                                                                           guint                         seconds);

GSECSOCK_AVAILABLE_IN_ALL
guint                        gsecsock_secure_server_get_n_handshakes      (GSecSockSecureServer         *self);

G_END_DECLS
