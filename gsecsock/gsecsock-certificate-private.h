/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/x509.h>

#include "gsecsock-certificate.h"

G_BEGIN_DECLS

/* Takes a new reference on @x509 (X509_up_ref); the caller keeps its own. */
GSecSockCertificate *gsecsock_certificate_new_from_x509 (X509 *x509);

/* Borrowed: valid as long as @self lives. */
X509                *gsecsock_certificate_get_x509      (GSecSockCertificate *self);

G_END_DECLS
