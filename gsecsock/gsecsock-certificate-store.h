/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__GSECSOCK_H_INSIDE__) && !defined(GSECSOCK_COMPILATION)
#error "Only <gsecsock/gsecsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gsecsock/gsecsock-version.h>
#include <gsecsock/gsecsock-enums.h>
#include <gsecsock/gsecsock-certificate.h>

G_BEGIN_DECLS

#define GSECSOCK_TYPE_CERTIFICATE_STORE (gsecsock_certificate_store_get_type ())
GSECSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (GSecSockCertificateStore, gsecsock_certificate_store,
                      GSECSOCK, CERTIFICATE_STORE, GObject)

G_END_DECLS

/* After the store's type: the context's header declares
 * gsecsock_secure_socket_context_use_certificate_from_store(), which takes
 * a store, and includes this header for it. */
#include <gsecsock/gsecsock-secure-socket-context.h>

G_BEGIN_DECLS

GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificateStore *gsecsock_certificate_store_new_for_directory (const char  *path,
                                                                        GError     **error);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificateStore *gsecsock_certificate_store_new_for_uri       (const char  *uri,
                                                                        GError     **error);

GSECSOCK_AVAILABLE_IN_ALL
const char          *gsecsock_certificate_store_get_location     (GSecSockCertificateStore     *self);
GSECSOCK_AVAILABLE_IN_ALL
GListModel          *gsecsock_certificate_store_list_certificates (GSecSockCertificateStore    *self);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificate *gsecsock_certificate_store_lookup           (GSecSockCertificateStore     *self,
                                                                  const char                   *identifier,
                                                                  GSecSockLookup                how,
                                                                  GSecSockSecureSocketContext  *for_passwords,
                                                                  GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
gboolean             gsecsock_certificate_store_reload           (GSecSockCertificateStore     *self,
                                                                  GError                      **error);

G_END_DECLS
