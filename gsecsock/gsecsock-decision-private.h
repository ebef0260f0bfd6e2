/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gsecsock-decision.h"
#include "gsecsock-secure-socket.h"

G_BEGIN_DECLS

GSecSockDecision *gsecsock_decision_new (GSecSockSecureSocket     *socket,
                                         guint                     serial,
                                         GSecSockDecisionKind      kind,
                                         GSecSockCertificate      *certificate,
                                         guint                     depth,
                                         GSecSockCertificateFlags  errors,
                                         const char * const       *acceptable_issuers);

G_END_DECLS
