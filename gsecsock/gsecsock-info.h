/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__GSECSOCK_H_INSIDE__) && !defined(GSECSOCK_COMPILATION)
#error "Only <gsecsock/gsecsock.h> can be included directly."
#endif

#include <glib.h>
#include <gsecsock/gsecsock-version.h>
#include <gsecsock/gsecsock-enums.h>

G_BEGIN_DECLS

GSECSOCK_AVAILABLE_IN_ALL
gboolean          gsecsock_is_supported                (void);
GSECSOCK_AVAILABLE_IN_ALL
const char       *gsecsock_get_version                 (void);
GSECSOCK_AVAILABLE_IN_ALL
const char       *gsecsock_get_openssl_version         (void);
GSECSOCK_AVAILABLE_IN_ALL
guint32           gsecsock_get_openssl_version_number  (void);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockProtocols gsecsock_get_supported_protocols     (void);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockFeatures  gsecsock_get_features                (void);

GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificateStatus gsecsock_certificate_status_from_flags (GSecSockCertificateFlags  flags);
GSECSOCK_AVAILABLE_IN_ALL
const char               *gsecsock_certificate_status_to_string  (GSecSockCertificateStatus status);

G_END_DECLS
