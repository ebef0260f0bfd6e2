/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the commands share: the options that configure a context (trust,
 * identity, versions, ciphers, ALPN, key logging), passwords, names and
 * fingerprints, and how errors become exit codes.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "gsecsock-tool.h"

const char *
tool_exit_codes_help (void)
{
  return _("Exit status:\n"
           "  0    success\n"
           "  1    an error after the handshake (reading, writing, a connection cut\n"
           "       without close_notify) or another failure\n"
           "  2    usage: an unknown option, a bad value, a missing argument\n"
           "  3    no connection: name not found, refused, unreachable, timed out,\n"
           "       STARTTLS refused; for serve: cannot listen\n"
           "  4    the TLS handshake failed: no common version, cipher or ALPN protocol,\n"
           "       not TLS, an alert from the peer (which may have refused our certificate)\n"
           "  5    certificate verification failed: the peer's certificate (or the\n"
           "       inspected chain) was not accepted\n"
           "  6    a certificate, key, password, CA, CRL or store could not be loaded\n"
           "  130  interrupted (SIGINT or SIGTERM)");
}

double
tool_elapsed (void)
{
  static gint64 start = 0;

  if (start == 0)
    start = g_get_monotonic_time ();
  return (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

static void
vprint_message (const char *kind,
                const char *command,
                const char *format,
                va_list     args)
{
  g_autofree char *message = g_strdup_vprintf (format, args);

  fflush (stdout);
  if (command != NULL)
    fprintf (stderr, "gsecsock %s: %s%s\n", command, kind, message);
  else
    fprintf (stderr, "gsecsock: %s%s\n", kind, message);
  fflush (stderr);
}

void
tool_error (const char *command,
            const char *format,
            ...)
{
  va_list args;

  va_start (args, format);
  vprint_message ("", command, format, args);
  va_end (args);
}

void
tool_warning (const char *command,
              const char *format,
              ...)
{
  va_list args;

  va_start (args, format);
  vprint_message (_("warning: "), command, format, args);
  va_end (args);
}

/* ------------------------------------------------------------------------ */
/* Option parsing                                                           */

GOptionContext *
tool_option_context_new (const char *command,
                         const char *parameter,
                         const char *summary,
                         const char *description)
{
  g_autofree char *prgname = g_strconcat ("gsecsock ", command, NULL);
  GOptionContext *context;

  /* "Usage: gsecsock connect [OPTION…] HOST[:PORT]" */
  g_set_prgname (prgname);
  context = g_option_context_new (parameter);
  g_autofree char *full = NULL;

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  full = g_strconcat (description, description[0] ? "\n\n" : "", tool_exit_codes_help (),
                      "\n\n", _("See gsecsock(1) for more."), NULL);
  g_option_context_set_description (context, full);
  return context;
}

gboolean
tool_option_context_parse (GOptionContext *context,
                           const char     *command,
                           int            *argc,
                           char         ***argv)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      tool_error (command, "%s", error->message);
      fprintf (stderr, _("Run “gsecsock %s --help” to see the options.\n"), command);
      return FALSE;
    }
  return TRUE;
}

void
tool_context_options_init (ToolContextOptions *options)
{
  memset (options, 0, sizeof *options);
  options->security_level = -1;
}

void
tool_context_options_clear (ToolContextOptions *options)
{
  g_strfreev (options->ca_files);
  g_strfreev (options->crl_files);
  g_free (options->check_revocation);
  g_free (options->cert_file);
  g_free (options->key_file);
  g_free (options->password_file);
  g_free (options->alpn);
  g_free (options->min_version);
  g_free (options->max_version);
  g_free (options->ciphers);
  g_free (options->ciphersuites);
  g_free (options->groups);
  g_free (options->keylog_file);
  g_free (options->color);
  g_clear_object (&options->identity);
  memset (options, 0, sizeof *options);
}

GOptionGroup *
tool_context_option_group (ToolContextOptions *o,
                           guint               which,
                           const char         *name,
                           const char         *description,
                           const char         *help_description)
{
  GOptionGroup *group = g_option_group_new (name, description, help_description, NULL, NULL);
  GArray *entries = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));

#define ADD(...) G_STMT_START { GOptionEntry e = { __VA_ARGS__ }; g_array_append_val (entries, e); } G_STMT_END
  if (which & TOOL_OPTIONS_TRUST)
    {
      ADD ("ca", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->ca_files,
           N_("Trust the certificate authorities in FILE (PEM or DER) too; repeatable"), N_("FILE"));
      ADD ("no-system-trust", 0, 0, G_OPTION_ARG_NONE, &o->no_system_trust,
           N_("Do not trust the system's certificate authorities, only those given with --ca"), NULL);
      ADD ("crl", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->crl_files,
           N_("Check revocation with the certificate revocation list in FILE; repeatable"), N_("FILE"));
      ADD ("check-revocation", 0, 0, G_OPTION_ARG_STRING, &o->check_revocation,
           N_("Which certificates must have a CRL: none, leaf (the default with --crl) or chain"),
           N_("WHICH"));
    }
  if (which & TOOL_OPTIONS_IDENTITY)
    {
      ADD ("cert", 0, 0, G_OPTION_ARG_FILENAME, &o->cert_file,
           N_("Present the certificate in FILE (PEM with its chain, or PKCS#12)"), N_("FILE"));
      ADD ("key", 0, 0, G_OPTION_ARG_FILENAME, &o->key_file,
           N_("The private key of --cert, if not in its file (asks for its password if encrypted)"),
           N_("FILE"));
      ADD ("password-file", 0, 0, G_OPTION_ARG_FILENAME, &o->password_file,
           N_("Read the password of an encrypted key from the first line of FILE instead of asking"),
           N_("FILE"));
    }
  if (which & TOOL_OPTIONS_TLS)
    {
      ADD ("alpn", 0, 0, G_OPTION_ARG_STRING, &o->alpn,
           N_("Offer these application protocols (ALPN), most preferred first: h2,http/1.1"),
           N_("LIST"));
      ADD ("min-version", 0, 0, G_OPTION_ARG_STRING, &o->min_version,
           N_("Lowest TLS version allowed: 1.0, 1.1, 1.2 (the default) or 1.3"), N_("VERSION"));
      ADD ("max-version", 0, 0, G_OPTION_ARG_STRING, &o->max_version,
           N_("Highest TLS version allowed: 1.2 or 1.3 (the default)"), N_("VERSION"));
      ADD ("ciphers", 0, 0, G_OPTION_ARG_STRING, &o->ciphers,
           N_("TLS 1.2 cipher list, OpenSSL syntax (ECDHE+AESGCM:…)"), N_("LIST"));
      ADD ("ciphersuites", 0, 0, G_OPTION_ARG_STRING, &o->ciphersuites,
           N_("TLS 1.3 cipher suites, “:”-separated"), N_("LIST"));
      ADD ("groups", 0, 0, G_OPTION_ARG_STRING, &o->groups,
           N_("Key exchange groups, “:”-separated, preferred first (x25519:P-256)"), N_("LIST"));
      ADD ("security-level", 0, 0, G_OPTION_ARG_INT, &o->security_level,
           N_("OpenSSL security level 0–5 (0 is needed for TLS 1.0 and 1.1)"), N_("LEVEL"));
      ADD ("keylog", 0, 0, G_OPTION_ARG_FILENAME, &o->keylog_file,
           N_("Append the session secrets to FILE, for Wireshark (debugging only)"), N_("FILE"));
      ADD ("trace", 0, 0, G_OPTION_ARG_NONE, &o->trace,
           N_("Show every handshake event (states and alerts) with its time"), NULL);
    }
  if (which & TOOL_OPTIONS_OUTPUT)
    {
      ADD ("json", 0, 0, G_OPTION_ARG_NONE, &o->json,
           N_("Print the report as JSON, for programs"), NULL);
      ADD ("color", 0, 0, G_OPTION_ARG_STRING, &o->color,
           N_("Colour the report: auto (on a terminal, the default), always or never"), N_("WHEN"));
    }
#undef ADD

  g_option_group_add_entries (group, (GOptionEntry *) (void *) entries->data);
  g_option_group_set_translation_domain (group, GETTEXT_PACKAGE);
  /* GOptionGroup keeps a copy of the entries. */
  g_array_free (entries, TRUE);
  return group;
}

gboolean
tool_parse_version (const char              *text,
                    GSecSockProtocolVersion *version,
                    GError                 **error)
{
  g_autofree char *lower = g_ascii_strdown (text, -1);
  const char *p = lower;

  if (g_str_has_prefix (p, "tlsv"))
    p += 4;
  else if (g_str_has_prefix (p, "tls"))
    p += 3;

  if (g_str_equal (p, "1.0") || g_str_equal (p, "1_0") || g_str_equal (p, "10") || g_str_equal (p, "1"))
    *version = GSECSOCK_PROTOCOL_VERSION_TLS_1_0;
  else if (g_str_equal (p, "1.1") || g_str_equal (p, "1_1") || g_str_equal (p, "11"))
    *version = GSECSOCK_PROTOCOL_VERSION_TLS_1_1;
  else if (g_str_equal (p, "1.2") || g_str_equal (p, "1_2") || g_str_equal (p, "12"))
    *version = GSECSOCK_PROTOCOL_VERSION_TLS_1_2;
  else if (g_str_equal (p, "1.3") || g_str_equal (p, "1_3") || g_str_equal (p, "13"))
    *version = GSECSOCK_PROTOCOL_VERSION_TLS_1_3;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("“%s” is not a TLS version: use 1.0, 1.1, 1.2 or 1.3"), text);
      return FALSE;
    }
  return TRUE;
}

const char *
tool_protocol_name (GSecSockProtocolVersion version)
{
  switch (version)
    {
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_0: return "TLSv1.0";
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_1: return "TLSv1.1";
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_2: return "TLSv1.2";
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_3: return "TLSv1.3";
    case GSECSOCK_PROTOCOL_VERSION_UNKNOWN:
    default:
      return NULL;
    }
}

GStrv
tool_split_list (const char *text)
{
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);
  GPtrArray *result = g_ptr_array_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *name = g_strstrip (parts[i]);

      if (*name != '\0')
        g_ptr_array_add (result, g_strdup (name));
    }
  g_ptr_array_add (result, NULL);
  return (GStrv) g_ptr_array_free (result, FALSE);
}

/* ------------------------------------------------------------------------ */
/* Passwords                                                                */

typedef struct {
  char *password_file;
} PasswordSource;

static void
password_source_free (gpointer data,
                      GClosure *closure)
{
  PasswordSource *source = data;

  g_free (source->password_file);
  g_free (source);
}

static char *
read_password_file (const char *path)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  char *end;
  char *password;

  if (!g_file_get_contents (path, &contents, NULL, &error))
    {
      tool_error (NULL, _("Cannot read the password file: %s"), error->message);
      return NULL;
    }
  end = strpbrk (contents, "\r\n");
  if (end != NULL)
    *end = '\0';
  password = g_strdup (contents);
  memset (contents, 0, strlen (contents));
  return password;
}

/* Asks on the controlling terminal, without echo. NULL without one. */
static char *
ask_password_on_terminal (const char *description,
                          guint       attempt)
{
  struct termios saved, quiet;
  char buffer[1024];
  gsize length = 0;
  gboolean restore;
  int fd;

  fd = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return NULL;

  /* Echo off before the prompt shows, so that nothing typed after it is
   * echoed; and without flushing what was typed ahead. */
  restore = tcgetattr (fd, &saved) == 0;
  if (restore)
    {
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      quiet.c_lflag |= ECHONL;
      tcsetattr (fd, TCSANOW, &quiet);
    }

  {
    g_autofree char *prompt = NULL;

    if (attempt > 1)
      prompt = g_strdup_printf (_("Wrong password. Password for %s: "), description);
    else
      prompt = g_strdup_printf (_("Password for %s: "), description);
    if (write (fd, prompt, strlen (prompt)) < 0)
      {
        if (restore)
          tcsetattr (fd, TCSANOW, &saved);
        close (fd);
        return NULL;
      }
  }

  while (length < sizeof buffer - 1)
    {
      char c;
      ssize_t n = read (fd, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || c == '\n' || c == '\r')
        break;
      buffer[length++] = c;
    }
  buffer[length] = '\0';

  if (restore)
    tcsetattr (fd, TCSANOW, &saved);
  close (fd);

  {
    char *password = g_strdup (buffer);

    memset (buffer, 0, sizeof buffer);
    return password;
  }
}

static char *
on_password_requested (GSecSockSecureSocketContext *ctx,
                       const char                  *description,
                       guint                        attempt,
                       gpointer                     user_data)
{
  PasswordSource *source = user_data;

  if (source->password_file != NULL)
    {
      /* A wrong password in a file is not going to get better. */
      if (attempt > 1)
        return NULL;
      return read_password_file (source->password_file);
    }
  return ask_password_on_terminal (description, attempt);
}

void
tool_context_handle_passwords (GSecSockSecureSocketContext *ctx,
                               const char                  *password_file)
{
  PasswordSource *source = g_new0 (PasswordSource, 1);

  source->password_file = g_strdup (password_file);
  g_signal_connect_data (ctx, "password-requested", G_CALLBACK (on_password_requested),
                         source, password_source_free, 0);
}

/* ------------------------------------------------------------------------ */
/* Applying the options                                                     */

int
tool_exit_code_for_file_error (const GError *error)
{
  if (error->domain == GSECSOCK_ERROR &&
      (error->code == GSECSOCK_ERROR_INVALID_SETTING ||
       error->code == GSECSOCK_ERROR_PROTOCOL_VERSION ||
       error->code == GSECSOCK_ERROR_MISUSE))
    return TOOL_EXIT_USAGE;
  if (error->domain == G_OPTION_ERROR)
    return TOOL_EXIT_USAGE;
  return TOOL_EXIT_FILE;
}

int
tool_exit_code_for_handshake_error (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return TOOL_EXIT_INTERRUPTED;
  if (g_error_matches (error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED))
    return TOOL_EXIT_VERIFICATION;
  return TOOL_EXIT_HANDSHAKE;
}

static gboolean
parse_revocation (const char              *text,
                  GSecSockRevocationCheck *check,
                  GError                 **error)
{
  if (g_ascii_strcasecmp (text, "none") == 0)
    *check = GSECSOCK_REVOCATION_CHECK_NONE;
  else if (g_ascii_strcasecmp (text, "leaf") == 0)
    *check = GSECSOCK_REVOCATION_CHECK_LEAF;
  else if (g_ascii_strcasecmp (text, "chain") == 0)
    *check = GSECSOCK_REVOCATION_CHECK_CHAIN;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--check-revocation: “%s” is not none, leaf or chain"), text);
      return FALSE;
    }
  return TRUE;
}

int
tool_context_apply (GSecSockSecureSocketContext *ctx,
                    ToolContextOptions          *o,
                    guint                        which,
                    GError                     **error)
{
  if (which & TOOL_OPTIONS_TRUST)
    {
      GSecSockRevocationCheck check = GSECSOCK_REVOCATION_CHECK_NONE;

      if (o->no_system_trust)
        gsecsock_secure_socket_context_set_use_system_trust (ctx, FALSE);
      for (guint i = 0; o->ca_files != NULL && o->ca_files[i] != NULL; i++)
        if (!gsecsock_secure_socket_context_add_trust_anchor_file (ctx, o->ca_files[i], error))
          {
            g_prefix_error (error, "--ca: ");
            return TOOL_EXIT_FILE;
          }
      for (guint i = 0; o->crl_files != NULL && o->crl_files[i] != NULL; i++)
        {
          if (!gsecsock_secure_socket_context_add_crl_file (ctx, o->crl_files[i], error))
            {
              g_prefix_error (error, "--crl: ");
              return TOOL_EXIT_FILE;
            }
          check = GSECSOCK_REVOCATION_CHECK_LEAF;
        }
      if (o->check_revocation != NULL && !parse_revocation (o->check_revocation, &check, error))
        return TOOL_EXIT_USAGE;
      if (check != GSECSOCK_REVOCATION_CHECK_NONE)
        gsecsock_secure_socket_context_set_check_revocation (ctx, check);
    }

  if (which & TOOL_OPTIONS_TLS)
    {
      GSecSockProtocolVersion min = GSECSOCK_PROTOCOL_VERSION_TLS_1_2;
      GSecSockProtocolVersion max = GSECSOCK_PROTOCOL_VERSION_TLS_1_3;

      if (o->security_level >= 0 &&
          !gsecsock_secure_socket_context_set_security_level (ctx, o->security_level, error))
        {
          g_prefix_error (error, "--security-level: ");
          return TOOL_EXIT_USAGE;
        }
      if (o->min_version != NULL && !tool_parse_version (o->min_version, &min, error))
        {
          g_prefix_error (error, "--min-version: ");
          return TOOL_EXIT_USAGE;
        }
      if (o->max_version != NULL && !tool_parse_version (o->max_version, &max, error))
        {
          g_prefix_error (error, "--max-version: ");
          return TOOL_EXIT_USAGE;
        }
      if (o->min_version != NULL || o->max_version != NULL)
        {
          GSecSockProtocols protocols = GSECSOCK_PROTOCOLS_NONE;

          if (min > max)
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("--min-version %s is above --max-version %s"),
                           tool_protocol_name (min), tool_protocol_name (max));
              return TOOL_EXIT_USAGE;
            }
          for (GSecSockProtocolVersion v = min; v <= max; v++)
            switch (v)
              {
              case GSECSOCK_PROTOCOL_VERSION_TLS_1_0: protocols |= GSECSOCK_PROTOCOLS_TLS_1_0; break;
              case GSECSOCK_PROTOCOL_VERSION_TLS_1_1: protocols |= GSECSOCK_PROTOCOLS_TLS_1_1; break;
              case GSECSOCK_PROTOCOL_VERSION_TLS_1_2: protocols |= GSECSOCK_PROTOCOLS_TLS_1_2; break;
              case GSECSOCK_PROTOCOL_VERSION_TLS_1_3: protocols |= GSECSOCK_PROTOCOLS_TLS_1_3; break;
              case GSECSOCK_PROTOCOL_VERSION_UNKNOWN:
              default:
                break;
              }
          if (!gsecsock_secure_socket_context_set_protocols (ctx, protocols, error))
            return TOOL_EXIT_USAGE;
        }
      if (o->ciphers != NULL && !gsecsock_secure_socket_context_set_cipher_list (ctx, o->ciphers, error))
        {
          g_prefix_error (error, "--ciphers: ");
          return TOOL_EXIT_USAGE;
        }
      if (o->ciphersuites != NULL &&
          !gsecsock_secure_socket_context_set_ciphersuites (ctx, o->ciphersuites, error))
        {
          g_prefix_error (error, "--ciphersuites: ");
          return TOOL_EXIT_USAGE;
        }
      if (o->groups != NULL && !gsecsock_secure_socket_context_set_groups (ctx, o->groups, error))
        {
          g_prefix_error (error, "--groups: ");
          return TOOL_EXIT_USAGE;
        }
      if (o->alpn != NULL)
        {
          g_auto(GStrv) protocols = tool_split_list (o->alpn);

          if (protocols[0] == NULL)
            {
              g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                   _("--alpn needs at least one protocol name"));
              return TOOL_EXIT_USAGE;
            }
          for (guint i = 0; protocols[i] != NULL; i++)
            if (strlen (protocols[i]) > 255)
              {
                g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                             _("--alpn: “%s” is longer than 255 bytes"), protocols[i]);
                return TOOL_EXIT_USAGE;
              }
          gsecsock_secure_socket_context_set_alpn_protocols (ctx, (const char * const *) protocols);
        }
      if (o->keylog_file != NULL)
        gsecsock_secure_socket_context_set_keylog_file (ctx, o->keylog_file);
    }

  if (which & TOOL_OPTIONS_IDENTITY)
    {
      tool_context_handle_passwords (ctx, o->password_file);
      if (o->key_file != NULL && o->cert_file == NULL)
        {
          g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                               _("--key needs --cert"));
          return TOOL_EXIT_USAGE;
        }
      if (o->cert_file != NULL)
        {
          g_clear_object (&o->identity);
          o->identity = gsecsock_secure_socket_context_load_identity (ctx, o->cert_file, o->key_file, error);
          if (o->identity == NULL ||
              !gsecsock_secure_socket_context_set_certificate (ctx, o->identity, error))
            {
              g_prefix_error (error, "--cert: ");
              return tool_exit_code_for_file_error (*error);
            }
        }
    }

  return TOOL_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Hosts, names and fingerprints                                            */

gboolean
tool_parse_host_port (const char *text,
                      guint16     default_port,
                      char      **host,
                      guint16    *port,
                      GError    **error)
{
  const char *port_text = NULL;
  g_autofree char *name = NULL;

  if (text[0] == '[')
    {
      const char *end = strchr (text, ']');

      if (end == NULL || (end[1] != '\0' && end[1] != ':'))
        goto bad;
      name = g_strndup (text + 1, end - text - 1);
      if (end[1] == ':')
        port_text = end + 2;
    }
  else
    {
      const char *colon = strchr (text, ':');

      if (colon != NULL && strchr (colon + 1, ':') == NULL)
        {
          name = g_strndup (text, colon - text);
          port_text = colon + 1;
        }
      else
        name = g_strdup (text);   /* a name, or an IPv6 address without a port */
    }

  if (*name == '\0')
    goto bad;
  *port = default_port;
  if (port_text != NULL)
    {
      guint64 value;

      if (!g_ascii_string_to_unsigned (port_text, 10, 1, 65535, &value, NULL))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("“%s” is not a port number (1–65535)"), port_text);
          return FALSE;
        }
      *port = (guint16) value;
    }
  *host = g_steal_pointer (&name);
  return TRUE;

bad:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _("“%s” is not HOST, HOST:PORT or [IPv6]:PORT"), text);
  return FALSE;
}

static char *
strip_final_dot (const char *name)
{
  gsize length = strlen (name);

  if (length > 1 && name[length - 1] == '.')
    length--;
  return g_ascii_strdown (name, length);
}

/* A certificate DNS name (possibly "*.example.org") against a host name. */
static gboolean
dns_name_matches (const char *pattern,
                  const char *host)
{
  g_autofree char *p = strip_final_dot (pattern);
  g_autofree char *h = strip_final_dot (host);

  if (g_str_has_prefix (p, "*."))
    {
      const char *dot = strchr (h, '.');

      /* The wildcard is one whole label, and never the last two. */
      if (dot == NULL || dot == h || strchr (p + 2, '.') == NULL)
        return FALSE;
      return g_str_equal (dot + 1, p + 2);
    }
  return g_str_equal (p, h);
}

/* The CN of an RFC 2253 name ("CN=x,O=y"), or NULL. */
static char *
common_name (const char *subject)
{
  const char *p = subject;

  while (p != NULL && *p != '\0')
    {
      if (g_ascii_strncasecmp (p, "CN=", 3) == 0)
        {
          GString *cn = g_string_new (NULL);

          for (p += 3; *p != '\0' && *p != ','; p++)
            {
              if (*p == '\\' && p[1] != '\0')
                p++;
              g_string_append_c (cn, *p);
            }
          return g_string_free (cn, FALSE);
        }
      /* The next unescaped comma. */
      while (*p != '\0' && *p != ',')
        p += (*p == '\\' && p[1] != '\0') ? 2 : 1;
      if (*p == ',')
        p++;
    }
  return NULL;
}

gboolean
tool_certificate_matches_name (GSecSockCertificate *certificate,
                               const char          *name)
{
  if (g_hostname_is_ip_address (name))
    {
      g_autoptr(GInetAddress) wanted = g_inet_address_new_from_string (name);
      g_auto(GStrv) addresses = gsecsock_certificate_get_ip_addresses (certificate);

      for (guint i = 0; wanted != NULL && addresses != NULL && addresses[i] != NULL; i++)
        {
          g_autoptr(GInetAddress) address = g_inet_address_new_from_string (addresses[i]);

          if (address != NULL && g_inet_address_equal (address, wanted))
            return TRUE;
        }
      return FALSE;
    }
  else
    {
      g_auto(GStrv) names = gsecsock_certificate_get_dns_names (certificate);

      if (names != NULL && names[0] != NULL)
        {
          for (guint i = 0; names[i] != NULL; i++)
            if (dns_name_matches (names[i], name))
              return TRUE;
          return FALSE;
        }
      else
        {
          g_autofree char *subject = gsecsock_certificate_get_subject (certificate);
          g_autofree char *cn = subject ? common_name (subject) : NULL;

          return cn != NULL && dns_name_matches (cn, name);
        }
    }
}

char *
tool_normalize_fingerprint (const char *text)
{
  GString *hex = g_string_new (NULL);
  GString *result;
  const char *p = text;

  if (g_ascii_strncasecmp (p, "sha256:", 7) == 0 || g_ascii_strncasecmp (p, "sha256/", 7) == 0)
    p += 7;
  for (; *p != '\0'; p++)
    {
      if (*p == ':' || *p == ' ')
        continue;
      if (!g_ascii_isxdigit (*p))
        {
          g_string_free (hex, TRUE);
          return NULL;
        }
      g_string_append_c (hex, g_ascii_tolower (*p));
    }
  if (hex->len != 64)
    {
      g_string_free (hex, TRUE);
      return NULL;
    }
  result = g_string_new (NULL);
  for (gsize i = 0; i < hex->len; i += 2)
    {
      if (i > 0)
        g_string_append_c (result, ':');
      g_string_append_len (result, hex->str + i, 2);
    }
  g_string_free (hex, TRUE);
  return g_string_free (result, FALSE);
}
