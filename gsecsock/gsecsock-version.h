/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__GSECSOCK_H_INSIDE__) && !defined(GSECSOCK_COMPILATION)
#error "Only <gsecsock/gsecsock.h> can be included directly."
#endif

/* Symbols are hidden unless marked: the ABI is what is listed here. */
#if defined(GSECSOCK_COMPILATION) && defined(__GNUC__)
#define GSECSOCK_AVAILABLE_IN_ALL __attribute__((visibility ("default"))) extern
#else
#define GSECSOCK_AVAILABLE_IN_ALL extern
#endif
