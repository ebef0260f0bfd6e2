/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#define __GSECSOCK_H_INSIDE__

#include <gsecsock/gsecsock-version.h>
#include <gsecsock/gsecsock-enums.h>
#include <gsecsock/gsecsock-enum-types.h>
#include <gsecsock/gsecsock-error.h>
#include <gsecsock/gsecsock-certificate.h>
#include <gsecsock/gsecsock-certificate-store.h>
#include <gsecsock/gsecsock-decision.h>
#include <gsecsock/gsecsock-info.h>
#include <gsecsock/gsecsock-memory-transport.h>
#include <gsecsock/gsecsock-secure-socket-context.h>
#include <gsecsock/gsecsock-secure-socket.h>
#include <gsecsock/gsecsock-secure-server.h>

#undef __GSECSOCK_H_INSIDE__
