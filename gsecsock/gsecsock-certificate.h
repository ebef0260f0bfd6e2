/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__GSECSOCK_H_INSIDE__) && !defined(GSECSOCK_COMPILATION)
#error "Only <gsecsock/gsecsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gsecsock/gsecsock-version.h>

G_BEGIN_DECLS

#define GSECSOCK_TYPE_CERTIFICATE (gsecsock_certificate_get_type ())
GSECSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (GSecSockCertificate, gsecsock_certificate, GSECSOCK, CERTIFICATE, GObject)

GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificate *gsecsock_certificate_new_from_file (const char  *path,
                                                         GError     **error);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificate *gsecsock_certificate_new_from_pem  (const char  *data,
                                                         gssize       length,
                                                         GError     **error);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificate *gsecsock_certificate_new_from_der  (GBytes      *der,
                                                         GError     **error);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificate *gsecsock_certificate_new_from_files (const char  *cert_path,
                                                          const char  *key_path,
                                                          GError     **error);
GSECSOCK_AVAILABLE_IN_ALL
GList               *gsecsock_certificate_list_new_from_file (const char  *path,
                                                              GError     **error);

GSECSOCK_AVAILABLE_IN_ALL
char       *gsecsock_certificate_get_subject            (GSecSockCertificate *self);
GSECSOCK_AVAILABLE_IN_ALL
char       *gsecsock_certificate_get_issuer             (GSecSockCertificate *self);
GSECSOCK_AVAILABLE_IN_ALL
char       *gsecsock_certificate_get_serial_number      (GSecSockCertificate *self);
GSECSOCK_AVAILABLE_IN_ALL
GDateTime  *gsecsock_certificate_get_not_valid_before   (GSecSockCertificate *self);
GSECSOCK_AVAILABLE_IN_ALL
GDateTime  *gsecsock_certificate_get_not_valid_after    (GSecSockCertificate *self);
GSECSOCK_AVAILABLE_IN_ALL
const char *gsecsock_certificate_get_fingerprint_sha256 (GSecSockCertificate *self);
GSECSOCK_AVAILABLE_IN_ALL
const char *gsecsock_certificate_get_fingerprint_sha1   (GSecSockCertificate *self);
GSECSOCK_AVAILABLE_IN_ALL
GStrv       gsecsock_certificate_get_dns_names          (GSecSockCertificate *self);
GSECSOCK_AVAILABLE_IN_ALL
GStrv       gsecsock_certificate_get_ip_addresses       (GSecSockCertificate *self);
GSECSOCK_AVAILABLE_IN_ALL
gboolean    gsecsock_certificate_get_is_ca              (GSecSockCertificate *self);
GSECSOCK_AVAILABLE_IN_ALL
gboolean    gsecsock_certificate_get_has_private_key    (GSecSockCertificate *self);
GSECSOCK_AVAILABLE_IN_ALL
GBytes     *gsecsock_certificate_get_der                (GSecSockCertificate *self);
GSECSOCK_AVAILABLE_IN_ALL
char       *gsecsock_certificate_get_pem                (GSecSockCertificate *self);
GSECSOCK_AVAILABLE_IN_ALL
gboolean    gsecsock_certificate_equal                  (GSecSockCertificate *self,
                                                         GSecSockCertificate *other);

G_END_DECLS
