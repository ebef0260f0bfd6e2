/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-error.h"

/**
 * gsecsock_error_quark:
 *
 * The quark of the %GSECSOCK_ERROR error domain.
 *
 * Returns: the error domain's quark
 *
 * Since: 0.1
 */
G_DEFINE_QUARK (gsecsock-error-quark, gsecsock_error)
