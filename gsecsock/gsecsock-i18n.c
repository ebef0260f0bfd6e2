/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* secure_getenv() */
#define _GNU_SOURCE
#include "config.h"

#include "gsecsock-i18n-private.h"

#include <stdlib.h>

void
gsecsock_init_i18n (void)
{
  static gsize bound = 0;

  if (g_once_init_enter (&bound))
    {
      /* GSECSOCK_LOCALEDIR lets the test suite use the catalogs of the build
       * tree (meson compiles them to po/LANG/LC_MESSAGES/). secure_getenv():
       * a set-user-ID program never takes message catalogs, which hold
       * format strings, from its caller's environment. */
      const char *localedir = secure_getenv ("GSECSOCK_LOCALEDIR");

      if (localedir == NULL || *localedir == '\0')
        localedir = GSECSOCK_LOCALEDIR;
      /* Never textdomain(): the application's default domain stays its own. */
      bindtextdomain (GETTEXT_PACKAGE, localedir);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      g_once_init_leave (&bound, 1);
    }
}

const char *
gsecsock_gettext (const char *msgid)
{
  gsecsock_init_i18n ();
  return g_dgettext (GETTEXT_PACKAGE, msgid);
}

const char *
gsecsock_ngettext (const char *msgid,
                   const char *msgid_plural,
                   gulong      n)
{
  gsecsock_init_i18n ();
  return g_dngettext (GETTEXT_PACKAGE, msgid, msgid_plural, n);
}
