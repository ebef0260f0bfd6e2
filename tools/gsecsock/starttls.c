/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --starttls: the plain-text beginning of protocols that upgrade a
 * connection to TLS (SMTP, IMAP, POP3, FTP, XMPP, LDAP, PostgreSQL).
 *
 * Everything is read through one GDataInputStream, which the caller then
 * gives to gsecsock_secure_socket_new_with_input_buffer(): whatever it read
 * ahead belongs to TLS and is not lost.
 */

#include <string.h>

#include "gsecsock-tool.h"

static const struct {
  ToolStartTls protocol;
  const char  *name;
  guint16      port;
} protocols[] = {
  { TOOL_STARTTLS_SMTP, "smtp", 587 },
  { TOOL_STARTTLS_IMAP, "imap", 143 },
  { TOOL_STARTTLS_POP3, "pop3", 110 },
  { TOOL_STARTTLS_FTP, "ftp", 21 },
  { TOOL_STARTTLS_XMPP, "xmpp", 5222 },
  { TOOL_STARTTLS_LDAP, "ldap", 389 },
  { TOOL_STARTTLS_POSTGRES, "postgres", 5432 },
};

gboolean
tool_starttls_parse (const char   *name,
                     ToolStartTls *protocol)
{
  for (gsize i = 0; i < G_N_ELEMENTS (protocols); i++)
    if (g_ascii_strcasecmp (name, protocols[i].name) == 0)
      {
        *protocol = protocols[i].protocol;
        return TRUE;
      }
  if (g_ascii_strcasecmp (name, "pop") == 0)
    {
      *protocol = TOOL_STARTTLS_POP3;
      return TRUE;
    }
  if (g_ascii_strcasecmp (name, "postgresql") == 0 || g_ascii_strcasecmp (name, "pgsql") == 0)
    {
      *protocol = TOOL_STARTTLS_POSTGRES;
      return TRUE;
    }
  return FALSE;
}

const char *
tool_starttls_name (ToolStartTls protocol)
{
  for (gsize i = 0; i < G_N_ELEMENTS (protocols); i++)
    if (protocols[i].protocol == protocol)
      return protocols[i].name;
  return NULL;
}

guint16
tool_starttls_default_port (ToolStartTls protocol)
{
  for (gsize i = 0; i < G_N_ELEMENTS (protocols); i++)
    if (protocols[i].protocol == protocol)
      return protocols[i].port;
  return 443;
}

const char *
tool_starttls_names (void)
{
  return "smtp, imap, pop3, ftp, xmpp, ldap, postgres";
}

/* ------------------------------------------------------------------------ */

typedef struct {
  GIOStream        *connection;
  GDataInputStream *input;
  GString          *transcript;
  GCancellable     *cancellable;
  const char       *protocol;
} Dialog;

static gboolean
send_bytes (Dialog       *dialog,
            const void   *data,
            gsize         length,
            const char   *shown,
            GError      **error)
{
  if (dialog->transcript != NULL)
    g_string_append_printf (dialog->transcript, "C: %s\n", shown);
  return g_output_stream_write_all (g_io_stream_get_output_stream (dialog->connection),
                                    data, length, NULL, dialog->cancellable, error);
}

static gboolean
send_line (Dialog      *dialog,
           const char  *line,
           GError     **error)
{
  g_autofree char *data = g_strconcat (line, "\r\n", NULL);

  return send_bytes (dialog, data, strlen (data), line, error);
}

static char *
read_line (Dialog  *dialog,
           GError **error)
{
  g_autoptr(GError) local_error = NULL;
  char *line = g_data_input_stream_read_line (dialog->input, NULL, dialog->cancellable, &local_error);

  if (line == NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                     _("%s: the server closed the connection"), dialog->protocol);
      return NULL;
    }
  if (!g_utf8_validate (line, -1, NULL))
    {
      char *valid = g_utf8_make_valid (line, -1);

      g_free (line);
      line = valid;
    }
  if (dialog->transcript != NULL)
    g_string_append_printf (dialog->transcript, "S: %s\n", line);
  return line;
}

static gboolean
refused (Dialog      *dialog,
         const char  *answer,
         GError     **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               _("%s: the server refused to start TLS: %s"), dialog->protocol, answer);
  return FALSE;
}

/* SMTP and FTP replies: "250-first", "250-…", "250 last". Returns the
 * code, the lines in @lines. */
static int
read_reply (Dialog     *dialog,
            GPtrArray  *lines,
            GError    **error)
{
  for (;;)
    {
      g_autofree char *line = read_line (dialog, error);

      if (line == NULL)
        return -1;
      if (strlen (line) < 3 || !g_ascii_isdigit (line[0]) || !g_ascii_isdigit (line[1]) ||
          !g_ascii_isdigit (line[2]))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("%s: unexpected answer from the server: %s"), dialog->protocol, line);
          return -1;
        }
      if (lines != NULL)
        g_ptr_array_add (lines, g_strdup (line));
      if (line[3] != '-')
        return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    }
}

static gboolean
smtp (Dialog      *dialog,
      const char  *client_name,
      GError     **error)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *ehlo = NULL;
  gboolean offered = FALSE;
  int code;

  code = read_reply (dialog, lines, error);
  if (code < 0)
    return FALSE;
  if (code != 220)
    return refused (dialog, g_ptr_array_index (lines, lines->len - 1), error);

  g_ptr_array_set_size (lines, 0);
  ehlo = g_strdup_printf ("EHLO %s", client_name);
  if (!send_line (dialog, ehlo, error))
    return FALSE;
  code = read_reply (dialog, lines, error);
  if (code < 0)
    return FALSE;
  if (code != 250)
    return refused (dialog, g_ptr_array_index (lines, lines->len - 1), error);
  for (guint i = 0; i < lines->len; i++)
    if (g_ascii_strncasecmp ((char *) g_ptr_array_index (lines, i) + 4, "STARTTLS", 8) == 0)
      offered = TRUE;
  if (!offered && dialog->transcript != NULL)
    g_string_append (dialog->transcript, "(STARTTLS not announced: trying anyway)\n");

  g_ptr_array_set_size (lines, 0);
  if (!send_line (dialog, "STARTTLS", error))
    return FALSE;
  code = read_reply (dialog, lines, error);
  if (code < 0)
    return FALSE;
  if (code != 220)
    return refused (dialog, g_ptr_array_index (lines, lines->len - 1), error);
  return TRUE;
}

static gboolean
ftp (Dialog  *dialog,
     GError **error)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  int code;

  code = read_reply (dialog, lines, error);
  if (code < 0)
    return FALSE;
  if (code != 220)
    return refused (dialog, g_ptr_array_index (lines, lines->len - 1), error);
  g_ptr_array_set_size (lines, 0);
  if (!send_line (dialog, "AUTH TLS", error))
    return FALSE;
  code = read_reply (dialog, lines, error);
  if (code < 0)
    return FALSE;
  if (code != 234)
    return refused (dialog, g_ptr_array_index (lines, lines->len - 1), error);
  return TRUE;
}

static gboolean
imap (Dialog  *dialog,
      GError **error)
{
  g_autofree char *greeting = read_line (dialog, error);

  if (greeting == NULL)
    return FALSE;
  if (!g_str_has_prefix (greeting, "* OK") && !g_str_has_prefix (greeting, "* PREAUTH"))
    return refused (dialog, greeting, error);
  if (!send_line (dialog, "gs1 STARTTLS", error))
    return FALSE;
  for (;;)
    {
      g_autofree char *line = read_line (dialog, error);

      if (line == NULL)
        return FALSE;
      if (g_str_has_prefix (line, "* "))
        continue;   /* untagged: capabilities and the like */
      if (g_ascii_strncasecmp (line, "gs1 OK", 6) == 0)
        return TRUE;
      return refused (dialog, line, error);
    }
}

static gboolean
pop3 (Dialog  *dialog,
      GError **error)
{
  g_autofree char *greeting = read_line (dialog, error);
  g_autofree char *answer = NULL;

  if (greeting == NULL)
    return FALSE;
  if (!g_str_has_prefix (greeting, "+OK"))
    return refused (dialog, greeting, error);
  if (!send_line (dialog, "STLS", error))
    return FALSE;
  answer = read_line (dialog, error);
  if (answer == NULL)
    return FALSE;
  if (!g_str_has_prefix (answer, "+OK"))
    return refused (dialog, answer, error);
  return TRUE;
}

/* Reads until @marker has been seen, or until @alternative has; returns
 * which (1 or 2), 0 on error. */
static int
read_until (Dialog      *dialog,
            GString     *seen,
            const char  *marker,
            const char  *alternative,
            GError     **error)
{
  while (seen->len < 65536)
    {
      g_autoptr(GError) local_error = NULL;
      guchar byte = g_data_input_stream_read_byte (dialog->input, dialog->cancellable, &local_error);

      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return 0;
        }
      g_string_append_c (seen, (char) byte);
      if (strstr (seen->str, marker) != NULL)
        return 1;
      if (alternative != NULL && strstr (seen->str, alternative) != NULL)
        return 2;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("%s: the server said too much without what was expected"), dialog->protocol);
  return 0;
}

static gboolean
xmpp (Dialog      *dialog,
      const char  *host,
      GError     **error)
{
  g_autoptr(GString) features = g_string_new (NULL);
  g_autoptr(GString) answer = g_string_new (NULL);
  g_autofree char *header = NULL;
  const char *starttls = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
  int found;

  header = g_strdup_printf ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                            "xmlns:stream='http://etherx.jabber.org/streams' to='%s' version='1.0'>",
                            host);
  if (!send_bytes (dialog, header, strlen (header), header, error))
    return FALSE;
  found = read_until (dialog, features, "</stream:features>", "</stream:stream>", error);
  if (dialog->transcript != NULL && features->len > 0)
    g_string_append_printf (dialog->transcript, "S: %s\n", features->str);
  if (found == 0)
    return FALSE;
  if (found == 2)
    return refused (dialog, features->str, error);
  if (strstr (features->str, "urn:ietf:params:xml:ns:xmpp-tls") == NULL && dialog->transcript != NULL)
    g_string_append (dialog->transcript, "(STARTTLS not announced: trying anyway)\n");

  if (!send_bytes (dialog, starttls, strlen (starttls), starttls, error))
    return FALSE;
  found = read_until (dialog, answer, "<proceed", "<failure", error);
  if (found == 1 && read_until (dialog, answer, ">", NULL, error) == 0)
    return FALSE;
  if (dialog->transcript != NULL && answer->len > 0)
    g_string_append_printf (dialog->transcript, "S: %s\n", answer->str);
  if (found == 0)
    return FALSE;
  if (found == 2)
    return refused (dialog, answer->str, error);
  return TRUE;
}

/* BER: reads a tag and a length. */
static gboolean
ber_read_header (Dialog  *dialog,
                 guint8  *tag,
                 gsize   *length,
                 GError **error)
{
  guint8 header[2];
  gsize n;

  if (!g_input_stream_read_all (G_INPUT_STREAM (dialog->input), header, 2, &n, dialog->cancellable, error))
    return FALSE;
  if (n < 2)
    goto closed;
  *tag = header[0];
  if (header[1] < 0x80)
    *length = header[1];
  else
    {
      guint8 bytes[4];
      gsize count = header[1] & 0x7f;

      if (count == 0 || count > 4)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("%s: the server's answer is not valid BER"), dialog->protocol);
          return FALSE;
        }
      if (!g_input_stream_read_all (G_INPUT_STREAM (dialog->input), bytes, count, &n, dialog->cancellable, error))
        return FALSE;
      if (n < count)
        goto closed;
      *length = 0;
      for (gsize i = 0; i < count; i++)
        *length = (*length << 8) | bytes[i];
    }
  return TRUE;

closed:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
               _("%s: the server closed the connection"), dialog->protocol);
  return FALSE;
}

/* Parses a BER element in @data; returns a pointer after it. */
static const guint8 *
ber_element (const guint8 *data,
             const guint8 *end,
             guint8       *tag,
             const guint8 **contents,
             gsize         *length)
{
  gsize len;

  if (end - data < 2)
    return NULL;
  *tag = data[0];
  len = data[1];
  data += 2;
  if (len & 0x80)
    {
      gsize count = len & 0x7f;

      if (count == 0 || count > 4 || (gsize) (end - data) < count)
        return NULL;
      len = 0;
      for (gsize i = 0; i < count; i++)
        len = (len << 8) | data[i];
      data += count;
    }
  if ((gsize) (end - data) < len)
    return NULL;
  *contents = data;
  *length = len;
  return data + len;
}

static gboolean
ldap (Dialog  *dialog,
      GError **error)
{
  /* LDAPMessage { messageID 1, ExtendedRequest { requestName [0]
   * "1.3.6.1.4.1.1466.20037" } } (RFC 4511, StartTLS). */
  static const guint8 request[] = {
    0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16,
    '1', '.', '3', '.', '6', '.', '1', '.', '4', '.', '1', '.', '1', '4', '6', '6', '.',
    '2', '0', '0', '3', '7',
  };
  g_autofree guint8 *message = NULL;
  const guint8 *p, *end, *contents;
  guint8 tag;
  gsize length, n;
  int result = -1;
  g_autofree char *diagnostic = NULL;

  if (!send_bytes (dialog, request, sizeof request, "ExtendedRequest StartTLS (1.3.6.1.4.1.1466.20037)", error))
    return FALSE;
  if (!ber_read_header (dialog, &tag, &length, error))
    return FALSE;
  if (tag != 0x30 || length > 65536)
    goto invalid;
  message = g_malloc (length);
  if (!g_input_stream_read_all (G_INPUT_STREAM (dialog->input), message, length, &n, dialog->cancellable, error))
    return FALSE;
  if (n < length)
    goto invalid;

  /* messageID, then the ExtendedResponse [APPLICATION 24]. */
  p = message;
  end = message + length;
  p = ber_element (p, end, &tag, &contents, &n);
  if (p == NULL || tag != 0x02)
    goto invalid;
  p = ber_element (p, end, &tag, &contents, &n);
  if (p == NULL || tag != 0x78)
    goto invalid;
  end = contents + n;
  p = ber_element (contents, end, &tag, &contents, &n);   /* resultCode */
  if (p == NULL || tag != 0x0a || n < 1)
    goto invalid;
  result = contents[n - 1];
  p = ber_element (p, end, &tag, &contents, &n);           /* matchedDN */
  if (p != NULL)
    {
      p = ber_element (p, end, &tag, &contents, &n);       /* diagnosticMessage */
      if (p != NULL && tag == 0x04)
        diagnostic = g_strndup ((const char *) contents, n);
    }
  if (dialog->transcript != NULL)
    g_string_append_printf (dialog->transcript, "S: ExtendedResponse resultCode %d%s%s\n", result,
                            diagnostic && *diagnostic ? " " : "", diagnostic ? diagnostic : "");
  if (result != 0)
    {
      g_autofree char *answer = g_strdup_printf ("resultCode %d %s", result, diagnostic ? diagnostic : "");

      return refused (dialog, answer, error);
    }
  return TRUE;

invalid:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("%s: the server's answer is not an LDAP ExtendedResponse"), dialog->protocol);
  return FALSE;
}

static gboolean
postgres (Dialog  *dialog,
          GError **error)
{
  /* SSLRequest: length 8, code 80877103. */
  static const guint8 request[] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
  g_autoptr(GError) local_error = NULL;
  guchar answer;

  if (!send_bytes (dialog, request, sizeof request, "SSLRequest", error))
    return FALSE;
  answer = g_data_input_stream_read_byte (dialog->input, dialog->cancellable, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (dialog->transcript != NULL)
    g_string_append_printf (dialog->transcript, "S: %c\n", g_ascii_isprint (answer) ? answer : '?');
  if (answer == 'S')
    return TRUE;
  if (answer == 'N')
    return refused (dialog, "N", error);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("%s: unexpected answer to SSLRequest (0x%02x)"), dialog->protocol, answer);
  return FALSE;
}

gboolean
tool_starttls_negotiate (ToolStartTls      protocol,
                         GIOStream        *connection,
                         GDataInputStream *input,
                         const char       *host,
                         const char       *client_name,
                         GString          *transcript,
                         GCancellable     *cancellable,
                         GError          **error)
{
  Dialog dialog = { connection, input, transcript, cancellable, tool_starttls_name (protocol) };

  g_data_input_stream_set_newline_type (input, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  switch (protocol)
    {
    case TOOL_STARTTLS_SMTP: return smtp (&dialog, client_name, error);
    case TOOL_STARTTLS_IMAP: return imap (&dialog, error);
    case TOOL_STARTTLS_POP3: return pop3 (&dialog, error);
    case TOOL_STARTTLS_FTP: return ftp (&dialog, error);
    case TOOL_STARTTLS_XMPP: return xmpp (&dialog, host, error);
    case TOOL_STARTTLS_LDAP: return ldap (&dialog, error);
    case TOOL_STARTTLS_POSTGRES: return postgres (&dialog, error);
    case TOOL_STARTTLS_NONE:
    default:
      return TRUE;
    }
}
