/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__GSECSOCK_H_INSIDE__) && !defined(GSECSOCK_COMPILATION)
#error "Only <gsecsock/gsecsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gsecsock/gsecsock-version.h>

G_BEGIN_DECLS

#define GSECSOCK_TYPE_MEMORY_TRANSPORT (gsecsock_memory_transport_get_type ())
GSECSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (GSecSockMemoryTransport, gsecsock_memory_transport,
                      GSECSOCK, MEMORY_TRANSPORT, GIOStream)

GSECSOCK_AVAILABLE_IN_ALL
GSecSockMemoryTransport *gsecsock_memory_transport_new               (void);

GSECSOCK_AVAILABLE_IN_ALL
void                     gsecsock_memory_transport_receive           (GSecSockMemoryTransport *self,
                                                                      const guint8            *data,
                                                                      gsize                    length);
GSECSOCK_AVAILABLE_IN_ALL
void                     gsecsock_memory_transport_receive_eof       (GSecSockMemoryTransport *self);
GSECSOCK_AVAILABLE_IN_ALL
GBytes                  *gsecsock_memory_transport_take_outgoing     (GSecSockMemoryTransport *self);
GSECSOCK_AVAILABLE_IN_ALL
gsize                    gsecsock_memory_transport_get_outgoing_size (GSecSockMemoryTransport *self);
GSECSOCK_AVAILABLE_IN_ALL
gsize                    gsecsock_memory_transport_get_incoming_size (GSecSockMemoryTransport *self);

G_END_DECLS
