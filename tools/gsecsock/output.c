/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How the tool shows things: certificates, problems and handshake events,
 * for people (with colour on a terminal) and as JSON for programs.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gsecsock-tool.h"

/* ------------------------------------------------------------------------ */
/* Human output                                                             */

gboolean
tool_output_init (ToolOutput  *out,
                  FILE        *stream,
                  const char  *color,
                  GError     **error)
{
  out->stream = stream;
  if (color == NULL || g_str_equal (color, "auto"))
    {
      const char *term = g_getenv ("TERM");

      out->color = isatty (fileno (stream)) && g_getenv ("NO_COLOR") == NULL &&
                   g_strcmp0 (term, "dumb") != 0;
    }
  else if (g_str_equal (color, "always"))
    out->color = TRUE;
  else if (g_str_equal (color, "never"))
    out->color = FALSE;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--color: “%s” is not auto, always or never"), color);
      return FALSE;
    }
  return TRUE;
}

static const char *
color_code (ToolColor color)
{
  switch (color)
    {
    case TOOL_COLOR_BOLD: return "\033[1m";
    case TOOL_COLOR_DIM:  return "\033[2m";
    case TOOL_COLOR_GOOD: return "\033[1;32m";
    case TOOL_COLOR_BAD:  return "\033[1;31m";
    case TOOL_COLOR_WARN: return "\033[1;33m";
    case TOOL_COLOR_INFO: return "\033[36m";
    case TOOL_COLOR_NONE:
    default:
      return "";
    }
}

void
tool_out (ToolOutput *out,
          ToolColor   color,
          const char *format,
          ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  if (out->color && color != TOOL_COLOR_NONE)
    {
      /* Colour each line separately, so that a newline never carries it. */
      g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

      for (guint i = 0; lines[i] != NULL; i++)
        {
          if (i > 0)
            fputc ('\n', out->stream);
          if (lines[i][0] != '\0')
            fprintf (out->stream, "%s%s\033[0m", color_code (color), lines[i]);
        }
    }
  else
    fputs (text, out->stream);
}

void
tool_out_flush (ToolOutput *out)
{
  fflush (out->stream);
}

ToolCertEntry *
tool_cert_entry_new (GSecSockCertificate *certificate)
{
  ToolCertEntry *entry = g_new0 (ToolCertEntry, 1);

  entry->certificate = g_object_ref (certificate);
  entry->depth = -1;
  return entry;
}

void
tool_cert_entry_free (ToolCertEntry *entry)
{
  if (entry == NULL)
    return;
  g_clear_object (&entry->certificate);
  g_free (entry->note);
  g_free (entry);
}

static const struct {
  GSecSockCertificateFlags flag;
  const char *description;
} problem_names[] = {
  { GSECSOCK_CERTIFICATE_REVOKED, N_("revoked") },
  { GSECSOCK_CERTIFICATE_UNKNOWN_CA, N_("issued by an unknown authority") },
  { GSECSOCK_CERTIFICATE_SELF_SIGNED, N_("self-signed") },
  { GSECSOCK_CERTIFICATE_INCOMPLETE_CHAIN, N_("its issuer's certificate is missing (incomplete chain)") },
  { GSECSOCK_CERTIFICATE_GENERIC_ERROR, N_("invalid (bad signature, wrong purpose or constraints)") },
  { GSECSOCK_CERTIFICATE_INSECURE, N_("insecure key or signature algorithm") },
  { GSECSOCK_CERTIFICATE_EXPIRED, N_("expired") },
  { GSECSOCK_CERTIFICATE_NOT_ACTIVATED, N_("not valid yet") },
  { GSECSOCK_CERTIFICATE_BAD_IDENTITY, NULL },   /* names the host */
  { GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN, N_("revocation status unknown (no usable CRL)") },
};

char *
tool_describe_errors (GSecSockCertificateFlags errors,
                      const char              *name)
{
  GString *text = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (problem_names); i++)
    {
      if (!(errors & problem_names[i].flag))
        continue;
      if (text->len > 0)
        g_string_append (text, ", ");
      if (problem_names[i].flag == GSECSOCK_CERTIFICATE_BAD_IDENTITY)
        {
          if (name != NULL)
            g_string_append_printf (text, _("not valid for “%s”"), name);
          else
            g_string_append (text, _("not valid for the host name"));
        }
      else
        g_string_append (text, _(problem_names[i].description));
    }
  return g_string_free (text, FALSE);
}

GStrv
tool_error_nicks (GSecSockCertificateFlags errors)
{
  GFlagsClass *klass = g_type_class_ref (GSECSOCK_TYPE_CERTIFICATE_FLAGS);
  GPtrArray *nicks = g_ptr_array_new ();

  for (guint i = 0; i < klass->n_values; i++)
    if (klass->values[i].value != 0 && (errors & klass->values[i].value) == klass->values[i].value)
      g_ptr_array_add (nicks, g_strdup (klass->values[i].value_nick));
  g_ptr_array_add (nicks, NULL);
  g_type_class_unref (klass);
  return (GStrv) g_ptr_array_free (nicks, FALSE);
}

static char *
format_time (GDateTime *time)
{
  g_autoptr(GDateTime) utc = g_date_time_to_utc (time);

  return g_date_time_format (utc, "%Y-%m-%d %H:%M:%S UTC");
}

static char *
describe_validity (GSecSockCertificate *certificate)
{
  g_autoptr(GDateTime) before = gsecsock_certificate_get_not_valid_before (certificate);
  g_autoptr(GDateTime) after = gsecsock_certificate_get_not_valid_after (certificate);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *from = before ? format_time (before) : g_strdup ("?");
  g_autofree char *until = after ? format_time (after) : g_strdup ("?");
  /* %lld rather than G_GINT64_FORMAT in translatable strings: xgettext
   * cannot see through the macro and would cut the message short. */
  g_autofree char *remark = NULL;

  if (before != NULL && g_date_time_compare (now, before) < 0)
    {
      gint64 days = g_date_time_difference (before, now) / G_TIME_SPAN_DAY;

      remark = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "not valid for %lld more day",
                                             "not valid for %lld more days", days),
                                (long long) days);
    }
  else if (after != NULL && g_date_time_compare (now, after) > 0)
    {
      gint64 days = g_date_time_difference (now, after) / G_TIME_SPAN_DAY;

      remark = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "expired %lld day ago",
                                             "expired %lld days ago", days),
                                (long long) days);
    }
  else if (after != NULL)
    {
      gint64 days = g_date_time_difference (after, now) / G_TIME_SPAN_DAY;

      remark = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%lld day left",
                                             "%lld days left", days),
                                (long long) days);
    }
  return g_strdup_printf ("%s – %s (%s)", from, until, remark ? remark : "?");
}

static char *
describe_names (GSecSockCertificate *certificate)
{
  g_auto(GStrv) dns = gsecsock_certificate_get_dns_names (certificate);
  g_auto(GStrv) ips = gsecsock_certificate_get_ip_addresses (certificate);
  GString *text = g_string_new (NULL);

  for (guint i = 0; dns != NULL && dns[i] != NULL; i++)
    g_string_append_printf (text, "%sDNS:%s", text->len ? ", " : "", dns[i]);
  for (guint i = 0; ips != NULL && ips[i] != NULL; i++)
    g_string_append_printf (text, "%sIP:%s", text->len ? ", " : "", ips[i]);
  return g_string_free (text, FALSE);
}

/* Labels are padded to one width; they are translated, so measure them. */
static void
print_field (ToolOutput *out,
             const char *label,
             ToolColor   color,
             const char *value)
{
  glong width = g_utf8_strlen (label, -1);

  tool_out (out, TOOL_COLOR_DIM, "      %s", label);
  for (glong i = width; i < 10; i++)
    fputc (' ', out->stream);
  tool_out (out, color, "%s", value);
  fputc ('\n', out->stream);
}

/* Why a certificate with problems was accepted, in words. */
static const char *
describe_accepted_by (const char *by)
{
  if (g_str_equal (by, "user"))
    return _("by you");
  if (g_str_equal (by, "pin"))
    return _("the pinned certificate");
  if (g_str_equal (by, "yes"))
    return "--yes";
  if (g_str_equal (by, "no-verify"))
    return "--no-verify";
  return by;
}

void
tool_print_certificate (ToolOutput          *out,
                        const ToolCertEntry *entry,
                        const char          *label,
                        const char          *verify_name,
                        gboolean             show_verification)
{
  GSecSockCertificate *certificate = entry->certificate;
  g_autofree char *subject = gsecsock_certificate_get_subject (certificate);
  g_autofree char *issuer = gsecsock_certificate_get_issuer (certificate);
  g_autofree char *serial = gsecsock_certificate_get_serial_number (certificate);
  g_autofree char *validity = describe_validity (certificate);
  g_autofree char *names = describe_names (certificate);

  tool_out (out, TOOL_COLOR_BOLD, "  %s %s\n", label, subject && *subject ? subject : _("(no subject)"));
  print_field (out, _("issuer"), TOOL_COLOR_NONE, issuer ? issuer : "");
  if (serial != NULL)
    print_field (out, _("serial"), TOOL_COLOR_NONE, serial);
  print_field (out, _("valid"), TOOL_COLOR_NONE, validity);
  if (*names != '\0')
    print_field (out, _("names"), TOOL_COLOR_NONE, names);
  print_field (out, "SHA-256", TOOL_COLOR_NONE, gsecsock_certificate_get_fingerprint_sha256 (certificate));
  if (gsecsock_certificate_get_is_ca (certificate))
    print_field (out, _("CA"), TOOL_COLOR_NONE, _("yes: a certificate authority"));
  if (gsecsock_certificate_get_has_private_key (certificate))
    print_field (out, _("key"), TOOL_COLOR_NONE, _("the private key is present"));

  if (show_verification)
    {
      if (!entry->verified)
        print_field (out, _("verified"), TOOL_COLOR_DIM,
                     entry->depth < 0 ? _("not part of the verified chain")
                                      : _("not verified again (resumed session)"));
      else if (entry->errors == 0)
        print_field (out, _("verified"), TOOL_COLOR_GOOD,
                     entry->accepted || entry->undecided ? _("ok") : _("ok, but refused"));
      else
        {
          g_autofree char *problems = tool_describe_errors (entry->errors, verify_name);
          g_autofree char *text = NULL;

          if (entry->undecided)
            text = g_strdup (problems);
          else if (entry->accepted && entry->accepted_by != NULL)
            text = g_strdup_printf (_("%s — accepted (%s)"), problems, describe_accepted_by (entry->accepted_by));
          else if (entry->accepted)
            text = g_strdup_printf (_("%s — accepted"), problems);
          else
            text = g_strdup_printf (_("%s — rejected"), problems);
          print_field (out, _("verified"), entry->accepted && !entry->undecided ? TOOL_COLOR_WARN : TOOL_COLOR_BAD,
                       text);
        }
    }
  if (entry->note != NULL)
    print_field (out, _("note"), TOOL_COLOR_INFO, entry->note);
}

/* ------------------------------------------------------------------------ */
/* Trace events                                                             */

void
tool_trace_event_free (ToolTraceEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->description);
  g_free (event);
}

char *
tool_trace_kind (GSecSockHandshakeInfoFlags where)
{
  if (where & GSECSOCK_HANDSHAKE_INFO_ALERT)
    return g_strdup_printf ("alert %s%s",
                            (where & GSECSOCK_HANDSHAKE_INFO_READ) ? "received" : "sent",
                            (where & GSECSOCK_HANDSHAKE_INFO_FATAL) ? " (fatal)" : "");
  if (where & GSECSOCK_HANDSHAKE_INFO_START)
    return g_strdup ("start");
  if (where & GSECSOCK_HANDSHAKE_INFO_DONE)
    return g_strdup ("done");
  if (where & GSECSOCK_HANDSHAKE_INFO_EXIT)
    return g_strdup ("exit");
  if (where & GSECSOCK_HANDSHAKE_INFO_STATE)
    return g_strdup ("state");
  return g_strdup ("event");
}

void
tool_print_trace_event (ToolOutput           *out,
                        const ToolTraceEvent *event)
{
  g_autofree char *kind = tool_trace_kind (event->where);
  ToolColor color = TOOL_COLOR_DIM;

  if (event->where & GSECSOCK_HANDSHAKE_INFO_ALERT)
    color = (event->where & GSECSOCK_HANDSHAKE_INFO_FATAL) ? TOOL_COLOR_BAD : TOOL_COLOR_WARN;
  else if (event->where & (GSECSOCK_HANDSHAKE_INFO_START | GSECSOCK_HANDSHAKE_INFO_DONE))
    color = TOOL_COLOR_INFO;

  if (event->connection > 0)
    tool_out (out, TOOL_COLOR_DIM, "#%u ", event->connection);
  tool_out (out, TOOL_COLOR_DIM, "[%+10.6f] ", event->time);
  tool_out (out, color, "%-22s %s", kind, event->description ? event->description : "");
  if (event->where & GSECSOCK_HANDSHAKE_INFO_ALERT)
    tool_out (out, TOOL_COLOR_DIM, " (%d)", event->value);
  else if (event->where & GSECSOCK_HANDSHAKE_INFO_EXIT)
    tool_out (out, TOOL_COLOR_DIM, " (%d)", event->value);
  fputc ('\n', out->stream);
  fflush (out->stream);
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */

void
tool_json_init (ToolJson *json,
                gboolean  pretty)
{
  json->buffer = g_string_new (NULL);
  json->pretty = pretty;
  json->depth = 0;
  json->need_comma = FALSE;
}

char *
tool_json_finish (ToolJson *json)
{
  if (json->pretty)
    g_string_append_c (json->buffer, '\n');
  return g_string_free (g_steal_pointer (&json->buffer), FALSE);
}

static void
json_escape (GString    *out,
             const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      unsigned char c = (unsigned char) *p;

      switch (c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (c < 0x20 || c == 0x7f)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, (char) c);
        }
    }
  g_string_append_c (out, '"');
}

static void
json_key (ToolJson   *json,
          const char *key)
{
  if (json->need_comma)
    g_string_append_c (json->buffer, ',');
  if (json->pretty && json->depth > 0)
    {
      g_string_append_c (json->buffer, '\n');
      for (int i = 0; i < json->depth; i++)
        g_string_append (json->buffer, "  ");
    }
  if (key != NULL)
    {
      json_escape (json->buffer, key);
      g_string_append (json->buffer, json->pretty ? ": " : ":");
    }
  json->need_comma = TRUE;
}

void
tool_json_begin_object (ToolJson   *json,
                        const char *key)
{
  json_key (json, key);
  g_string_append_c (json->buffer, '{');
  json->depth++;
  json->need_comma = FALSE;
}

static void
json_close (ToolJson *json,
            char      bracket)
{
  gboolean empty = !json->need_comma;

  json->depth--;
  if (json->pretty && !empty)
    {
      g_string_append_c (json->buffer, '\n');
      for (int i = 0; i < json->depth; i++)
        g_string_append (json->buffer, "  ");
    }
  g_string_append_c (json->buffer, bracket);
  json->need_comma = TRUE;
}

void
tool_json_end_object (ToolJson *json)
{
  json_close (json, '}');
}

void
tool_json_begin_array (ToolJson   *json,
                       const char *key)
{
  json_key (json, key);
  g_string_append_c (json->buffer, '[');
  json->depth++;
  json->need_comma = FALSE;
}

void
tool_json_end_array (ToolJson *json)
{
  json_close (json, ']');
}

void
tool_json_string (ToolJson   *json,
                  const char *key,
                  const char *value)
{
  json_key (json, key);
  if (value == NULL)
    g_string_append (json->buffer, "null");
  else if (g_utf8_validate (value, -1, NULL))
    json_escape (json->buffer, value);
  else
    {
      g_autofree char *valid = g_utf8_make_valid (value, -1);

      json_escape (json->buffer, valid);
    }
}

void
tool_json_int (ToolJson   *json,
               const char *key,
               gint64      value)
{
  json_key (json, key);
  g_string_append_printf (json->buffer, "%" G_GINT64_FORMAT, value);
}

void
tool_json_double (ToolJson   *json,
                  const char *key,
                  double      value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  json_key (json, key);
  g_string_append (json->buffer, g_ascii_formatd (buffer, sizeof buffer, "%.6f", value));
}

void
tool_json_bool (ToolJson   *json,
                const char *key,
                gboolean    value)
{
  json_key (json, key);
  g_string_append (json->buffer, value ? "true" : "false");
}

void
tool_json_null (ToolJson   *json,
                const char *key)
{
  json_key (json, key);
  g_string_append (json->buffer, "null");
}

void
tool_json_strv (ToolJson           *json,
                const char         *key,
                const char * const *values)
{
  tool_json_begin_array (json, key);
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    tool_json_string (json, NULL, values[i]);
  tool_json_end_array (json);
}

void
tool_json_error (ToolJson     *json,
                 const char   *key,
                 const GError *error)
{
  if (error == NULL)
    {
      tool_json_null (json, key);
      return;
    }
  tool_json_begin_object (json, key);
  tool_json_string (json, "domain", g_quark_to_string (error->domain));
  tool_json_int (json, "code", error->code);
  if (error->domain == GSECSOCK_ERROR || error->domain == G_IO_ERROR)
    {
      GType type = error->domain == GSECSOCK_ERROR ? GSECSOCK_TYPE_ERROR : G_TYPE_IO_ERROR_ENUM;
      GEnumClass *klass = g_type_class_ref (type);
      GEnumValue *value = g_enum_get_value (klass, error->code);

      tool_json_string (json, "name", value ? value->value_nick : NULL);
      g_type_class_unref (klass);
    }
  tool_json_string (json, "message", error->message);
  tool_json_end_object (json);
}

static void
json_time (ToolJson   *json,
           const char *key,
           GDateTime  *time)
{
  if (time == NULL)
    tool_json_null (json, key);
  else
    {
      g_autoptr(GDateTime) utc = g_date_time_to_utc (time);
      g_autofree char *text = g_date_time_format (utc, "%Y-%m-%dT%H:%M:%SZ");

      tool_json_string (json, key, text);
    }
}

void
tool_json_certificate (ToolJson            *json,
                       const char          *key,
                       const ToolCertEntry *entry)
{
  GSecSockCertificate *certificate = entry->certificate;
  g_autofree char *subject = gsecsock_certificate_get_subject (certificate);
  g_autofree char *issuer = gsecsock_certificate_get_issuer (certificate);
  g_autofree char *serial = gsecsock_certificate_get_serial_number (certificate);
  g_autoptr(GDateTime) before = gsecsock_certificate_get_not_valid_before (certificate);
  g_autoptr(GDateTime) after = gsecsock_certificate_get_not_valid_after (certificate);
  g_auto(GStrv) dns = gsecsock_certificate_get_dns_names (certificate);
  g_auto(GStrv) ips = gsecsock_certificate_get_ip_addresses (certificate);
  g_auto(GStrv) nicks = tool_error_nicks (entry->errors);

  tool_json_begin_object (json, key);
  if (entry->depth >= 0)
    tool_json_int (json, "depth", entry->depth);
  else
    tool_json_null (json, "depth");
  tool_json_string (json, "subject", subject);
  tool_json_string (json, "issuer", issuer);
  tool_json_string (json, "serial", serial);
  json_time (json, "not_before", before);
  json_time (json, "not_after", after);
  tool_json_strv (json, "dns_names", (const char * const *) dns);
  tool_json_strv (json, "ip_addresses", (const char * const *) ips);
  tool_json_string (json, "sha256", gsecsock_certificate_get_fingerprint_sha256 (certificate));
  tool_json_string (json, "sha1", gsecsock_certificate_get_fingerprint_sha1 (certificate));
  tool_json_bool (json, "is_ca", gsecsock_certificate_get_is_ca (certificate));
  tool_json_bool (json, "has_private_key", gsecsock_certificate_get_has_private_key (certificate));
  tool_json_bool (json, "from_peer", entry->from_peer);
  tool_json_bool (json, "verified", entry->verified);
  if (entry->verified)
    {
      tool_json_strv (json, "errors", (const char * const *) nicks);
      tool_json_string (json, "status",
                        gsecsock_certificate_status_to_string (gsecsock_certificate_status_from_flags (entry->errors)));
      if (entry->undecided)
        {
          tool_json_null (json, "accepted");
          tool_json_null (json, "accepted_by");
        }
      else
        {
          tool_json_bool (json, "accepted", entry->accepted);
          tool_json_string (json, "accepted_by", entry->accepted_by);
        }
    }
  if (entry->note != NULL)
    tool_json_string (json, "note", entry->note);
  tool_json_end_object (json);
}

void
tool_json_trace_event (ToolJson             *json,
                       const char           *key,
                       const ToolTraceEvent *event)
{
  g_autofree char *kind = tool_trace_kind (event->where);

  tool_json_begin_object (json, key);
  tool_json_double (json, "time", event->time);
  tool_json_string (json, "kind", kind);
  tool_json_int (json, "where", event->where);
  tool_json_int (json, "value", event->value);
  tool_json_string (json, "description", event->description);
  tool_json_end_object (json);
}
