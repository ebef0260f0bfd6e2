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

#define GSECSOCK_TYPE_DECISION (gsecsock_decision_get_type ())
GSECSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (GSecSockDecision, gsecsock_decision, GSECSOCK, DECISION, GObject)

GSECSOCK_AVAILABLE_IN_ALL
void                     gsecsock_decision_accept             (GSecSockDecision    *self);
GSECSOCK_AVAILABLE_IN_ALL
void                     gsecsock_decision_reject             (GSecSockDecision    *self);
GSECSOCK_AVAILABLE_IN_ALL
void                     gsecsock_decision_select_certificate (GSecSockDecision    *self,
                                                               GSecSockCertificate *certificate);

GSECSOCK_AVAILABLE_IN_ALL
GSecSockDecisionKind     gsecsock_decision_get_kind               (GSecSockDecision *self);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificate     *gsecsock_decision_get_certificate        (GSecSockDecision *self);
GSECSOCK_AVAILABLE_IN_ALL
guint                    gsecsock_decision_get_depth              (GSecSockDecision *self);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificateFlags gsecsock_decision_get_errors             (GSecSockDecision *self);
GSECSOCK_AVAILABLE_IN_ALL
const char * const      *gsecsock_decision_get_acceptable_issuers (GSecSockDecision *self);
GSECSOCK_AVAILABLE_IN_ALL
gboolean                 gsecsock_decision_get_answered           (GSecSockDecision *self);

G_END_DECLS
