/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gsecsock COMMAND [OPTION…]: connect to a TLS server and explain what
 * happened, serve TLS for testing, or inspect certificates.
 */

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "gsecsock-tool.h"

typedef struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;   /* translated at run time */
} Command;

static const Command commands[] = {
  { "connect", tool_connect, N_("Connect to a TLS server, verify it and show the connection") },
  { "serve",   tool_serve,   N_("Run a TLS echo or HTTPS server for testing") },
  { "inspect", tool_inspect, N_("Show certificates and check a chain offline") },
};

static void
print_usage (FILE *stream)
{
  fprintf (stream, "%s\n", _("Usage:\n  gsecsock COMMAND [OPTION…]"));
  fprintf (stream, "\n%s\n", _("Commands:"));
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (stream, "  %-10s%s\n", commands[i].name, _(commands[i].summary));
  fprintf (stream, "  %-10s%s\n", "help", _("Show the help of a command"));
  fprintf (stream, "  %-10s%s\n", "version", _("Show the versions of gsecsock and OpenSSL"));
  fprintf (stream, "\n%s\n", _("Run “gsecsock COMMAND --help” for the options of a command, "
                               "and see gsecsock(1)."));
  fprintf (stream, "\n%s\n", tool_exit_codes_help ());
}

static int
print_version (void)
{
  GSecSockFeatures features = gsecsock_get_features ();

  g_print ("gsecsock %s\n", GSECSOCK_TOOL_VERSION);
  g_print (_("library: gsecsock %s\n"), gsecsock_get_version ());
  g_print (_("OpenSSL: %s\n"), gsecsock_get_openssl_version ());
  g_print (_("deferred decisions (ASYNC): %s\n"),
           (features & GSECSOCK_FEATURES_ASYNC) ? _("yes") : _("no"));
  return TOOL_EXIT_OK;
}

int
main (int    argc,
      char **argv)
{
  const char *name;
  const char *localedir;

  setlocale (LC_ALL, "");
  /* The library's own domain, which it binds the same way (GSECSOCK_LOCALEDIR
   * points both at the build tree's catalogs in the test suite). */
  localedir = secure_getenv ("GSECSOCK_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir
                                                                           : GSECSOCK_TOOL_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("gsecsock");
  tool_elapsed ();   /* starts the clock */

  if (argc < 2)
    {
      print_usage (stderr);
      return TOOL_EXIT_USAGE;
    }
  name = argv[1];

  if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0 || strcmp (name, "-?") == 0)
    {
      print_usage (stdout);
      return TOOL_EXIT_OK;
    }
  if (strcmp (name, "--version") == 0 || strcmp (name, "version") == 0)
    return print_version ();
  if (strcmp (name, "help") == 0)
    {
      if (argc < 3)
        {
          print_usage (stdout);
          return TOOL_EXIT_OK;
        }
      for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
        if (strcmp (argv[2], commands[i].name) == 0)
          {
            char *help_argv[] = { argv[2], (char *) "--help", NULL };
            return commands[i].run (2, help_argv);
          }
      tool_error (NULL, _("Unknown command “%s”"), argv[2]);
      print_usage (stderr);
      return TOOL_EXIT_USAGE;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (name, commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);

  tool_error (NULL, _("Unknown command “%s”"), name);
  print_usage (stderr);
  return TOOL_EXIT_USAGE;
}
