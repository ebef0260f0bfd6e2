/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <glib/gi18n-lib.h>

G_BEGIN_DECLS

/* The library's messages are in its own gettext domain (GETTEXT_PACKAGE),
 * bound to its locale directory the first time one is translated, so an
 * application never has to do anything and its own domain is left alone. */
void gsecsock_init_i18n (void);

const char *gsecsock_gettext  (const char *msgid) G_GNUC_FORMAT (1);
const char *gsecsock_ngettext (const char *msgid,
                               const char *msgid_plural,
                               gulong      n) G_GNUC_FORMAT (2);

#undef _
#define _(String) gsecsock_gettext (String)

G_END_DECLS
