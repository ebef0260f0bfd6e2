/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gsecsock serve: a GSecSockSecureServer that echoes what it receives, or
 * answers HTTP requests with a page describing the connection (like
 * openssl s_server -www), logging every connection and handshake failure.
 */

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "gsecsock-tool.h"

#define DEFAULT_PORT 8443
#define MAX_REQUEST (64 * 1024)

typedef struct {
  ToolContextOptions tls;
  int      port;
  char    *address;
  char    *store;
  char    *name;
  char    *fingerprint;
  char    *client_auth;
  gboolean echo;
  gboolean http;
  gboolean generate;
  char    *generate_dir;
  int      max_connections;
  int      timeout;
} ServeOptions;

typedef struct {
  ServeOptions                *options;
  GSecSockSecureSocketContext *ctx;
  GSecSockSecureServer        *server;
  GSecSockCertificate         *certificate;
  ToolOutput                   out;
  GHashTable                  *sessions;
  guint                        next_id;
  guint                        served;
  guint                        failed;
  guint64                      bytes_in;
  guint64                      bytes_out;
  gboolean                     stopping;
  guint                        signals;
  gboolean                     done;
  ToolGeneratedPki             pki;
  gboolean                     remove_pki;
  guint16                      port;
} Server;

typedef struct {
  Server               *server;
  guint                 id;
  GSecSockSecureSocket *sock;
  char                 *peer;
  guint8                buffer[16384];
  GString              *request;
  GByteArray           *reply;
  guint64               in;
  guint64               out;
  GCancellable         *cancellable;
  GError               *error;
} Session;

static const char *ID_KEY = "gsecsock-tool-connection";
static const char *PEER_KEY = "gsecsock-tool-peer";

static void maybe_finish (Server *s);

/* ------------------------------------------------------------------------ */
/* Logging                                                                  */

static void
json_line (ToolJson *json)
{
  g_autofree char *text = tool_json_finish (json);

  fputs (text, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}

static guint
socket_id (GSecSockSecureSocket *sock)
{
  return GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (sock), ID_KEY));
}

static const char *
socket_peer (GSecSockSecureSocket *sock)
{
  const char *peer = g_object_get_data (G_OBJECT (sock), PEER_KEY);

  return peer ? peer : "?";
}

static char *
describe_address (GSocketAddress *address)
{
  if (G_IS_INET_SOCKET_ADDRESS (address))
    {
      GInetAddress *ip = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
      g_autofree char *text = g_inet_address_to_string (ip);
      guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));

      if (g_inet_address_get_family (ip) == G_SOCKET_FAMILY_IPV6)
        return g_strdup_printf ("[%s]:%u", text, port);
      return g_strdup_printf ("%s:%u", text, port);
    }
  return g_strdup ("?");
}

static void
json_client_certificate (ToolJson             *json,
                         GSecSockSecureSocket *sock)
{
  GSecSockCertificate *peer = gsecsock_secure_socket_get_peer_certificate (sock);

  if (peer == NULL)
    tool_json_null (json, "client_certificate");
  else
    {
      ToolCertEntry *entry = tool_cert_entry_new (peer);

      entry->depth = 0;
      entry->verified = TRUE;
      entry->accepted = TRUE;
      entry->from_peer = TRUE;
      entry->errors = gsecsock_secure_socket_get_certificate_errors (sock);
      tool_json_certificate (json, "client_certificate", entry);
      tool_cert_entry_free (entry);
    }
}

static void
log_connection (Server               *s,
                GSecSockSecureSocket *sock)
{
  GSecSockCertificate *peer = gsecsock_secure_socket_get_peer_certificate (sock);
  const char *alpn = gsecsock_secure_socket_get_alpn_protocol (sock);
  const char *sni = gsecsock_secure_socket_get_server_name (sock);
  gboolean reused = gsecsock_secure_socket_get_session_reused (sock);

  if (s->options->tls.json)
    {
      ToolJson json;

      tool_json_init (&json, FALSE);
      tool_json_begin_object (&json, NULL);
      tool_json_string (&json, "event", "connection");
      tool_json_int (&json, "id", socket_id (sock));
      tool_json_double (&json, "time", tool_elapsed ());
      tool_json_string (&json, "peer", socket_peer (sock));
      tool_json_string (&json, "protocol", tool_protocol_name (gsecsock_secure_socket_get_protocol_version (sock)));
      tool_json_string (&json, "cipher", gsecsock_secure_socket_get_cipher_name (sock));
      tool_json_string (&json, "alpn", alpn);
      tool_json_string (&json, "sni", sni);
      tool_json_bool (&json, "session_reused", reused);
      json_client_certificate (&json, sock);
      tool_json_end_object (&json);
      json_line (&json);
      return;
    }

  tool_out (&s->out, TOOL_COLOR_BOLD, "#%u ", socket_id (sock));
  tool_out (&s->out, TOOL_COLOR_NONE, "%s  ", socket_peer (sock));
  tool_out (&s->out, TOOL_COLOR_GOOD, "%s %s",
            tool_protocol_name (gsecsock_secure_socket_get_protocol_version (sock)),
            gsecsock_secure_socket_get_cipher_name (sock));
  tool_out (&s->out, TOOL_COLOR_NONE, _(", ALPN %s, SNI %s, %s"),
            alpn ? alpn : _("none"), sni ? sni : _("none"),
            reused ? _("session resumed") : _("new session"));
  if (peer != NULL)
    {
      g_autofree char *subject = gsecsock_certificate_get_subject (peer);

      tool_out (&s->out, TOOL_COLOR_NONE, _(", client certificate %s (%s)"), subject,
                gsecsock_certificate_status_to_string (gsecsock_secure_socket_get_certificate_status (sock)));
    }
  else if (gsecsock_secure_socket_context_get_client_auth (s->ctx) != GSECSOCK_CLIENT_AUTH_NONE)
    tool_out (&s->out, TOOL_COLOR_NONE, "%s", _(", no client certificate"));
  fputc ('\n', s->out.stream);
  tool_out_flush (&s->out);
}

static void
log_closed (Session *session)
{
  Server *s = session->server;

  if (s->options->tls.json)
    {
      ToolJson json;

      tool_json_init (&json, FALSE);
      tool_json_begin_object (&json, NULL);
      tool_json_string (&json, "event", "closed");
      tool_json_int (&json, "id", session->id);
      tool_json_double (&json, "time", tool_elapsed ());
      tool_json_int (&json, "bytes_received", (gint64) session->in);
      tool_json_int (&json, "bytes_sent", (gint64) session->out);
      tool_json_error (&json, "error", session->error);
      tool_json_end_object (&json);
      json_line (&json);
      return;
    }
  tool_out (&s->out, TOOL_COLOR_DIM, "#%u ", session->id);
  tool_out (&s->out, TOOL_COLOR_DIM, _("closed: %llu bytes received, %llu sent"),
            (unsigned long long) session->in, (unsigned long long) session->out);
  if (session->error != NULL)
    tool_out (&s->out, TOOL_COLOR_WARN, " (%s)", session->error->message);
  fputc ('\n', s->out.stream);
  tool_out_flush (&s->out);
}

/* ------------------------------------------------------------------------ */
/* Sessions                                                                 */

static void
session_free (Session *session)
{
  g_clear_object (&session->sock);
  g_clear_object (&session->cancellable);
  g_free (session->peer);
  if (session->request != NULL)
    g_string_free (session->request, TRUE);
  if (session->reply != NULL)
    g_byte_array_unref (session->reply);
  g_clear_error (&session->error);
  g_free (session);
}

static void
session_closed (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Session *session = user_data;
  Server *s = session->server;
  g_autoptr(GError) error = NULL;

  if (!g_io_stream_close_finish (G_IO_STREAM (source), result, &error) && session->error == NULL &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
    session->error = g_steal_pointer (&error);
  s->bytes_in += session->in;
  s->bytes_out += session->out;
  log_closed (session);
  g_hash_table_remove (s->sessions, session);
  maybe_finish (s);
}

static gboolean
close_timed_out (gpointer user_data)
{
  GCancellable *cancellable = user_data;

  g_cancellable_cancel (cancellable);
  return G_SOURCE_REMOVE;
}

static void
session_close (Session *session)
{
  /* Sends close_notify; a peer that does not read gets 2 seconds. */
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  g_timeout_add_full (G_PRIORITY_DEFAULT, 2000, close_timed_out, g_object_ref (cancellable), g_object_unref);
  g_io_stream_close_async (G_IO_STREAM (session->sock), G_PRIORITY_DEFAULT, cancellable, session_closed, session);
}

static void
session_failed (Session *session,
                GError  *error)
{
  if (session->error == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    session->error = error;
  else
    g_error_free (error);
  session_close (session);
}

static void echo_read (Session *session);

static void
echo_written (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Session *session = user_data;
  GError *error = NULL;
  gsize written = 0;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, &written, &error))
    {
      session->out += written;
      session_failed (session, error);
      return;
    }
  session->out += written;
  echo_read (session);
}

static void
echo_received (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Session *session = user_data;
  GError *error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  if (n < 0)
    {
      session_failed (session, error);
      return;
    }
  if (n == 0)
    {
      session_close (session);
      return;
    }
  session->in += n;
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (session->sock)),
                                   session->buffer, n, G_PRIORITY_DEFAULT, session->cancellable,
                                   echo_written, session);
}

static void
echo_read (Session *session)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (session->sock)),
                             session->buffer, sizeof session->buffer, G_PRIORITY_DEFAULT,
                             session->cancellable, echo_received, session);
}

static void http_read (Session *session);

static void
append_row (GString    *page,
            const char *label,
            const char *value)
{
  g_autofree char *l = g_markup_escape_text (label, -1);
  g_autofree char *v = g_markup_escape_text (value ? value : "", -1);

  g_string_append_printf (page, "<tr><th>%s</th><td>%s</td></tr>\n", l, v);
}

static char *
http_page (Session    *session,
           const char *request_line)
{
  GSecSockSecureSocket *sock = session->sock;
  GSecSockCertificate *peer = gsecsock_secure_socket_get_peer_certificate (sock);
  GString *page = g_string_new (NULL);
  g_autofree char *id = g_strdup_printf ("#%u", session->id);
  const char *alpn = gsecsock_secure_socket_get_alpn_protocol (sock);
  const char *sni = gsecsock_secure_socket_get_server_name (sock);

  g_string_append (page, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                         "<title>gsecsock serve</title></head>\n<body>\n<h1>gsecsock serve</h1>\n"
                         "<table>\n");
  append_row (page, _("Connection"), id);
  append_row (page, _("Client"), socket_peer (sock));
  append_row (page, _("Protocol"), tool_protocol_name (gsecsock_secure_socket_get_protocol_version (sock)));
  append_row (page, _("Cipher"), gsecsock_secure_socket_get_cipher_name (sock));
  append_row (page, "ALPN", alpn ? alpn : _("none"));
  append_row (page, "SNI", sni ? sni : _("none"));
  append_row (page, _("Session"), gsecsock_secure_socket_get_session_reused (sock) ? _("resumed") : _("new"));
  if (peer != NULL)
    {
      g_autofree char *subject = gsecsock_certificate_get_subject (peer);
      g_autofree char *issuer = gsecsock_certificate_get_issuer (peer);

      append_row (page, _("Client certificate"), subject);
      append_row (page, _("Client certificate issuer"), issuer);
      append_row (page, _("Client certificate SHA-256"), gsecsock_certificate_get_fingerprint_sha256 (peer));
      append_row (page, _("Client certificate status"),
                  gsecsock_certificate_status_to_string (gsecsock_secure_socket_get_certificate_status (sock)));
    }
  else
    append_row (page, _("Client certificate"), _("none"));
  append_row (page, _("Request"), request_line);
  g_string_append (page, "</table>\n<p>gsecsock " GSECSOCK_TOOL_VERSION "</p>\n</body></html>\n");
  return g_string_free (page, FALSE);
}

static void
http_written (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Session *session = user_data;
  GError *error = NULL;
  gsize written = 0;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, &written, &error);
  session->out += written;
  if (error != NULL)
    session_failed (session, error);
  else
    session_close (session);
}

static void
http_respond (Session *session)
{
  g_autofree char *request_line = NULL;
  g_autofree char *body = NULL;
  g_autofree char *head = NULL;
  const char *status = "200 OK";
  const char *end = strstr (session->request->str, "\r\n");
  gboolean head_only = g_str_has_prefix (session->request->str, "HEAD ");

  if (end == NULL)
    end = strchr (session->request->str, '\n');
  request_line = end ? g_strndup (session->request->str, end - session->request->str)
                     : g_strdup (session->request->str);
  if (!g_utf8_validate (request_line, -1, NULL) || strstr (request_line, " HTTP/") == NULL)
    {
      status = "400 Bad Request";
      g_free (request_line);
      request_line = g_strdup (_("(not an HTTP request)"));
    }
  body = http_page (session, request_line);
  head = g_strdup_printf ("HTTP/1.1 %s\r\n"
                          "Content-Type: text/html; charset=utf-8\r\n"
                          "Content-Length: %zu\r\n"
                          "Connection: close\r\n"
                          "Server: gsecsock/" GSECSOCK_TOOL_VERSION "\r\n"
                          "\r\n", status, strlen (body));
  session->reply = g_byte_array_new ();
  g_byte_array_append (session->reply, (const guint8 *) head, strlen (head));
  if (!head_only)
    g_byte_array_append (session->reply, (const guint8 *) body, strlen (body));
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (session->sock)),
                                   session->reply->data, session->reply->len, G_PRIORITY_DEFAULT,
                                   session->cancellable, http_written, session);
}

static void
http_received (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Session *session = user_data;
  GError *error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  if (n < 0)
    {
      session_failed (session, error);
      return;
    }
  if (n == 0)
    {
      if (session->request->len > 0)
        http_respond (session);
      else
        session_close (session);
      return;
    }
  session->in += n;
  g_string_append_len (session->request, (const char *) session->buffer, n);
  if (strstr (session->request->str, "\r\n\r\n") != NULL || strstr (session->request->str, "\n\n") != NULL ||
      session->request->len >= MAX_REQUEST)
    http_respond (session);
  else
    http_read (session);
}

static void
http_read (Session *session)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (session->sock)),
                             session->buffer, sizeof session->buffer - 1, G_PRIORITY_DEFAULT,
                             session->cancellable, http_received, session);
}

/* ------------------------------------------------------------------------ */
/* Server signals                                                           */

static gboolean
on_accepted (GSecSockSecureServer *server,
             GSecSockSecureSocket *sock,
             gpointer              user_data)
{
  Server *s = user_data;
  GIOStream *base = gsecsock_secure_socket_get_base_stream (sock);
  g_autoptr(GSocketAddress) remote = NULL;

  g_object_set_data (G_OBJECT (sock), ID_KEY, GUINT_TO_POINTER (++s->next_id));
  if (G_IS_SOCKET_CONNECTION (base))
    remote = g_socket_connection_get_remote_address (G_SOCKET_CONNECTION (base), NULL);
  g_object_set_data_full (G_OBJECT (sock), PEER_KEY, remote ? describe_address (remote) : g_strdup ("?"), g_free);
  return FALSE;
}

static void
on_incoming (GSecSockSecureServer *server,
             GSecSockSecureSocket *sock,
             gpointer              user_data)
{
  Server *s = user_data;
  Session *session = g_new0 (Session, 1);

  s->served++;
  session->server = s;
  session->id = socket_id (sock);
  session->sock = g_object_ref (sock);
  session->cancellable = g_cancellable_new ();
  g_hash_table_add (s->sessions, session);
  log_connection (s, sock);

  if (s->options->http)
    {
      session->request = g_string_new (NULL);
      http_read (session);
    }
  else
    echo_read (session);

  if (s->options->max_connections > 0 && s->served + s->failed >= (guint) s->options->max_connections)
    {
      s->stopping = TRUE;
      gsecsock_secure_server_stop (s->server);
    }
}

static void
on_handshake_failed (GSecSockSecureServer *server,
                     GSecSockSecureSocket *sock,
                     GError               *error,
                     gpointer              user_data)
{
  Server *s = user_data;

  s->failed++;
  if (s->options->tls.json)
    {
      ToolJson json;

      tool_json_init (&json, FALSE);
      tool_json_begin_object (&json, NULL);
      tool_json_string (&json, "event", "handshake-failed");
      tool_json_int (&json, "id", socket_id (sock));
      tool_json_double (&json, "time", tool_elapsed ());
      tool_json_string (&json, "peer", socket_peer (sock));
      tool_json_error (&json, "error", error);
      tool_json_string (&json, "certificate_status",
                        gsecsock_certificate_status_to_string (gsecsock_secure_socket_get_certificate_status (sock)));
      json_client_certificate (&json, sock);
      tool_json_end_object (&json);
      json_line (&json);
    }
  else
    {
      tool_out (&s->out, TOOL_COLOR_BOLD, "#%u ", socket_id (sock));
      tool_out (&s->out, TOOL_COLOR_NONE, "%s  ", socket_peer (sock));
      tool_out (&s->out, TOOL_COLOR_BAD, _("handshake failed: %s"), error->message);
      fputc ('\n', s->out.stream);
      tool_out_flush (&s->out);
    }

  if (s->options->max_connections > 0 && s->served + s->failed >= (guint) s->options->max_connections)
    {
      s->stopping = TRUE;
      gsecsock_secure_server_stop (s->server);
      maybe_finish (s);
    }
}

static void
on_handshake_info (GSecSockSecureSocketContext *ctx,
                   GSecSockSecureSocket        *sock,
                   GSecSockHandshakeInfoFlags   where,
                   int                          value,
                   const char                  *description,
                   gpointer                     user_data)
{
  Server *s = user_data;
  ToolTraceEvent event = { tool_elapsed (), where, value, (char *) description, socket_id (sock) };

  if (s->options->tls.json)
    {
      ToolJson json;

      tool_json_init (&json, FALSE);
      tool_json_begin_object (&json, NULL);
      tool_json_string (&json, "event", "trace");
      tool_json_int (&json, "id", event.connection);
      tool_json_trace_event (&json, "trace", &event);
      tool_json_end_object (&json);
      json_line (&json);
    }
  else
    tool_print_trace_event (&s->out, &event);
}

static void
maybe_finish (Server *s)
{
  if (s->stopping && g_hash_table_size (s->sessions) == 0)
    s->done = TRUE;
}

static gboolean
on_signal (gpointer user_data)
{
  Server *s = user_data;
  GHashTableIter iter;
  gpointer key;

  s->signals++;
  if (s->signals > 1)
    {
      /* A second signal: do not wait for the peers any more. */
      s->done = TRUE;
      return G_SOURCE_CONTINUE;
    }
  s->stopping = TRUE;
  gsecsock_secure_server_stop (s->server);
  g_hash_table_iter_init (&iter, s->sessions);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      Session *session = key;

      /* Ends the pending read; the session then closes with close_notify. */
      g_cancellable_cancel (session->cancellable);
    }
  maybe_finish (s);
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------------ */

static gboolean
parse_client_auth (const char          *text,
                   GSecSockClientAuth  *client_auth)
{
  if (g_ascii_strcasecmp (text, "none") == 0)
    *client_auth = GSECSOCK_CLIENT_AUTH_NONE;
  else if (g_ascii_strcasecmp (text, "request") == 0 || g_ascii_strcasecmp (text, "optional") == 0)
    *client_auth = GSECSOCK_CLIENT_AUTH_REQUEST;
  else if (g_ascii_strcasecmp (text, "require") == 0 || g_ascii_strcasecmp (text, "required") == 0)
    *client_auth = GSECSOCK_CLIENT_AUTH_REQUIRE;
  else
    return FALSE;
  return TRUE;
}

static int
load_certificate (Server  *s,
                  GError **error)
{
  ServeOptions *o = s->options;
  int sources = (o->tls.cert_file != NULL) + (o->store != NULL) + (o->generate != FALSE);

  if (sources == 0)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("A server needs a certificate: give --cert (and --key), "
                             "--store with --name or --fingerprint, or --generate"));
      return TOOL_EXIT_USAGE;
    }
  if (sources > 1)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("Give only one of --cert, --store and --generate"));
      return TOOL_EXIT_USAGE;
    }
  if ((o->name != NULL || o->fingerprint != NULL) && o->store == NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("--name and --fingerprint choose a certificate of a --store"));
      return TOOL_EXIT_USAGE;
    }
  if (o->generate_dir != NULL && !o->generate)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("--generate-dir goes with --generate"));
      return TOOL_EXIT_USAGE;
    }

  if (o->generate)
    {
      g_autofree char *directory = NULL;

      if (o->generate_dir != NULL)
        directory = g_strdup (o->generate_dir);
      else
        {
          directory = g_dir_make_tmp ("gsecsock-serve-XXXXXX", error);
          if (directory == NULL)
            return TOOL_EXIT_FILE;
          s->remove_pki = TRUE;
        }
      if (!tool_generate_pki (directory, &s->pki, error))
        {
          if (s->remove_pki)
            g_rmdir (directory);
          return TOOL_EXIT_FILE;
        }
      s->certificate = gsecsock_certificate_new_from_files (s->pki.cert_file, s->pki.key_file, error);
      if (s->certificate == NULL || !gsecsock_secure_socket_context_set_certificate (s->ctx, s->certificate, error))
        return TOOL_EXIT_FILE;
      /* Client certificates from the same authority are trusted. */
      if (!gsecsock_secure_socket_context_add_trust_anchor_file (s->ctx, s->pki.ca_file, error))
        return TOOL_EXIT_FILE;
      return TOOL_EXIT_OK;
    }

  if (o->store != NULL)
    {
      g_autoptr(GSecSockCertificateStore) store = NULL;
      const char *identifier = o->fingerprint ? o->fingerprint : o->name;
      GSecSockLookup how = GSECSOCK_LOOKUP_NAME;

      if (identifier == NULL || (o->name != NULL && o->fingerprint != NULL))
        {
          g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                               _("--store needs one of --name or --fingerprint"));
          return TOOL_EXIT_USAGE;
        }
      if (o->fingerprint != NULL)
        {
          guint digits = 0;

          for (const char *p = o->fingerprint; *p != '\0'; p++)
            digits += g_ascii_isxdigit (*p) != 0;
          how = digits == 40 ? GSECSOCK_LOOKUP_FINGERPRINT_SHA1 : GSECSOCK_LOOKUP_FINGERPRINT_SHA256;
        }
      if (strstr (o->store, ":") != NULL && !g_file_test (o->store, G_FILE_TEST_EXISTS))
        store = gsecsock_certificate_store_new_for_uri (o->store, error);
      else
        store = gsecsock_certificate_store_new_for_directory (o->store, error);
      if (store == NULL)
        return TOOL_EXIT_FILE;
      tool_context_handle_passwords (s->ctx, o->tls.password_file);
      s->certificate = gsecsock_certificate_store_lookup (store, identifier, how, s->ctx, error);
      if (s->certificate == NULL)
        return tool_exit_code_for_file_error (*error);
      if (!gsecsock_secure_socket_context_set_certificate (s->ctx, s->certificate, error))
        return TOOL_EXIT_FILE;
      return TOOL_EXIT_OK;
    }

  return TOOL_EXIT_OK;   /* --cert: tool_context_apply() loads it */
}

static void
print_listening (Server *s)
{
  ServeOptions *o = s->options;
  const char *address = o->address ? o->address : "*";
  const char *mode = o->http ? "http" : "echo";
  g_autofree char *subject = s->certificate ? gsecsock_certificate_get_subject (s->certificate) : NULL;
  const char *host = o->address && !g_str_equal (o->address, "0.0.0.0") && !g_str_equal (o->address, "::")
                     ? o->address : "localhost";
  g_autofree char *host_port = NULL;

  if (strchr (host, ':') != NULL)
    host_port = g_strdup_printf ("[%s]:%u", host, s->port);
  else
    host_port = g_strdup_printf ("%s:%u", host, s->port);

  if (o->tls.json)
    {
      ToolJson json;

      tool_json_init (&json, FALSE);
      tool_json_begin_object (&json, NULL);
      tool_json_string (&json, "event", "listening");
      tool_json_string (&json, "address", o->address);
      tool_json_int (&json, "port", s->port);
      tool_json_string (&json, "mode", mode);
      tool_json_string (&json, "certificate", subject);
      tool_json_string (&json, "sha256", s->certificate ? gsecsock_certificate_get_fingerprint_sha256 (s->certificate) : NULL);
      tool_json_string (&json, "ca_file", s->pki.ca_file);
      tool_json_string (&json, "cert_file", s->pki.cert_file);
      tool_json_string (&json, "key_file", s->pki.key_file);
      tool_json_string (&json, "client_cert_file", s->pki.client_cert_file);
      tool_json_string (&json, "client_key_file", s->pki.client_key_file);
      tool_json_end_object (&json);
      json_line (&json);
      return;
    }

  {
    g_autofree char *where = g_strdup_printf (strchr (address, ':') ? "[%s]:%u" : "%s:%u", address, s->port);

    tool_out (&s->out, TOOL_COLOR_BOLD, _("Listening on %s (%s)\n"), where, mode);
  }
  if (subject != NULL)
    tool_out (&s->out, TOOL_COLOR_NONE, _("Certificate: %s, SHA-256 %s\n"), subject,
              gsecsock_certificate_get_fingerprint_sha256 (s->certificate));
  if (s->pki.ca_file != NULL)
    {
      tool_out (&s->out, TOOL_COLOR_NONE, _("CA certificate: %s\n"), s->pki.ca_file);
      tool_out (&s->out, TOOL_COLOR_NONE, _("Client certificate: %s (key %s)\n"),
                s->pki.client_cert_file, s->pki.client_key_file);
      if (o->http)
        tool_out (&s->out, TOOL_COLOR_INFO, _("Try: curl --cacert %s https://%s/\n"), s->pki.ca_file, host_port);
      else
        tool_out (&s->out, TOOL_COLOR_INFO, _("Try: gsecsock connect --ca %s %s\n"), s->pki.ca_file, host_port);
    }
  tool_out (&s->out, TOOL_COLOR_DIM, "%s\n", _("Press Ctrl-C to stop."));
  tool_out_flush (&s->out);
}

static void
print_summary (Server *s)
{
  if (s->options->tls.json)
    {
      ToolJson json;

      tool_json_init (&json, FALSE);
      tool_json_begin_object (&json, NULL);
      tool_json_string (&json, "event", "summary");
      tool_json_int (&json, "connections", s->served);
      tool_json_int (&json, "handshakes_failed", s->failed);
      tool_json_int (&json, "bytes_received", (gint64) s->bytes_in);
      tool_json_int (&json, "bytes_sent", (gint64) s->bytes_out);
      tool_json_end_object (&json);
      json_line (&json);
      return;
    }
  tool_out (&s->out, TOOL_COLOR_BOLD,
            g_dngettext (GETTEXT_PACKAGE, "Served %u connection", "Served %u connections", s->served), s->served);
  tool_out (&s->out, TOOL_COLOR_NONE,
            g_dngettext (GETTEXT_PACKAGE, " (%u failed handshake)", " (%u failed handshakes)", s->failed), s->failed);
  tool_out (&s->out, TOOL_COLOR_NONE, _("; %llu bytes received, %llu sent.\n"),
            (unsigned long long) s->bytes_in, (unsigned long long) s->bytes_out);
  tool_out_flush (&s->out);
}

int
tool_serve (int    argc,
            char **argv)
{
  ServeOptions o = { 0 };
  Server s = { 0 };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  GSecSockClientAuth client_auth = GSECSOCK_CLIENT_AUTH_NONE;
  guint sigint = 0, sigterm = 0;
  int exit_code = TOOL_EXIT_OK;
  const GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &o.port,
      N_("Listen on PORT (default 8443; 0 lets the system choose)"), N_("PORT") },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &o.address,
      N_("Listen on this address only (default: every address, IPv4 and IPv6)"), N_("ADDRESS") },
    { "store", 0, 0, G_OPTION_ARG_FILENAME, &o.store,
      N_("Take the certificate from this directory or OSSL_STORE URI (with --name or --fingerprint)"),
      N_("DIR|URI") },
    { "name", 0, 0, G_OPTION_ARG_STRING, &o.name,
      N_("The certificate of the --store for this name (CN, DNS name or friendly name)"), N_("NAME") },
    { "fingerprint", 0, 0, G_OPTION_ARG_STRING, &o.fingerprint,
      N_("The certificate of the --store with this SHA-1 or SHA-256 fingerprint"), N_("HEX") },
    { "generate", 'g', 0, G_OPTION_ARG_NONE, &o.generate,
      N_("Make a throw-away CA, a localhost certificate and a client certificate, and print where"), NULL },
    { "generate-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.generate_dir,
      N_("Write the --generate files to DIR and keep them (default: a temporary directory, removed at exit)"),
      N_("DIR") },
    { "client-auth", 0, 0, G_OPTION_ARG_STRING, &o.client_auth,
      N_("Ask clients for a certificate: none (default), request or require; trusted: --ca"), N_("MODE") },
    { "echo", 0, 0, G_OPTION_ARG_NONE, &o.echo, N_("Send back what each client sends (the default)"), NULL },
    { "http", 0, 0, G_OPTION_ARG_NONE, &o.http,
      N_("Answer every HTTP request with a page describing the connection"), NULL },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &o.max_connections,
      N_("Stop after N connections (successful or not)"), N_("N") },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &o.timeout,
      N_("Seconds each client has to complete its handshake (default 30)"), N_("SECONDS") },
    G_OPTION_ENTRY_NULL
  };

  o.port = DEFAULT_PORT;
  tool_context_options_init (&o.tls);
  context = tool_option_context_new ("serve",
      _("— run a TLS server for testing"),
      _("Listens for TLS connections and logs each one (protocol, cipher, ALPN, SNI,\n"
        "session reuse, client certificate) or why its handshake failed. Each client\n"
        "gets its data sent back (--echo), or an HTML page describing its connection for\n"
        "each HTTP request (--http), like openssl s_server -www. SIGINT or SIGTERM stops\n"
        "the server: open connections are closed with close_notify, and a summary of the\n"
        "connections served is printed."),
      _("Examples:\n"
        "  gsecsock serve --http --generate          # then: curl --cacert <CA file> https://localhost:8443/\n"
        "  gsecsock serve --cert chain.pem --key key.pem --port 4433\n"
        "  gsecsock serve --store /etc/ssl/private --name www.example.org --alpn h2,http/1.1\n"
        "  gsecsock serve --generate --client-auth require --trace"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_group (context, tool_context_option_group (&o.tls, TOOL_OPTIONS_IDENTITY,
      "identity", _("Server certificate:"), _("Show the server certificate options")));
  g_option_context_add_group (context, tool_context_option_group (&o.tls, TOOL_OPTIONS_TRUST,
      "trust", _("Trust, for client certificates:"), _("Show the trust options")));
  g_option_context_add_group (context, tool_context_option_group (&o.tls, TOOL_OPTIONS_TLS | TOOL_OPTIONS_OUTPUT,
      "tls", _("TLS and output:"), _("Show the TLS and output options")));

  if (!tool_option_context_parse (context, "serve", &argc, &argv))
    {
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }
  s.options = &o;
  if (argc > 1)
    {
      tool_error ("serve", _("Unexpected argument “%s”"), argv[1]);
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }
  if (o.port < 0 || o.port > 65535)
    {
      tool_error ("serve", _("--port: %d is not a port number (0–65535)"), o.port);
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }
  if (o.echo && o.http)
    {
      tool_error ("serve", _("--echo and --http contradict each other"));
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }
  if (o.client_auth != NULL && !parse_client_auth (o.client_auth, &client_auth))
    {
      tool_error ("serve", _("--client-auth: “%s” is not none, request or require"), o.client_auth);
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }
  if (o.timeout < 0 || o.max_connections < 0)
    {
      tool_error ("serve", _("--timeout and --max-connections cannot be negative"));
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }
  if (!tool_output_init (&s.out, stdout, o.tls.color, &error))
    {
      tool_error ("serve", "%s", error->message);
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }

  s.ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  gsecsock_secure_socket_context_set_client_auth (s.ctx, client_auth);
  exit_code = load_certificate (&s, &error);
  if (exit_code == TOOL_EXIT_OK)
    exit_code = tool_context_apply (s.ctx, &o.tls, TOOL_OPTIONS_TRUST | TOOL_OPTIONS_TLS |
                                    (o.tls.cert_file != NULL ? TOOL_OPTIONS_IDENTITY : 0), &error);
  if (exit_code != TOOL_EXIT_OK)
    {
      tool_error ("serve", "%s", error->message);
      goto out;
    }
  if (s.certificate == NULL && o.tls.identity != NULL)
    s.certificate = g_object_ref (o.tls.identity);
  if (o.tls.trace)
    g_signal_connect (s.ctx, "handshake-info", G_CALLBACK (on_handshake_info), &s);

  s.server = gsecsock_secure_server_new (s.ctx, &error);
  if (s.server == NULL)
    {
      tool_error ("serve", "%s", error->message);
      exit_code = TOOL_EXIT_FAILURE;
      goto out;
    }
  if (o.timeout > 0)
    gsecsock_secure_server_set_handshake_timeout (s.server, (guint) o.timeout);
  s.sessions = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) session_free, NULL);
  g_signal_connect (s.server, "accepted", G_CALLBACK (on_accepted), &s);
  g_signal_connect (s.server, "incoming", G_CALLBACK (on_incoming), &s);
  g_signal_connect (s.server, "handshake-failed", G_CALLBACK (on_handshake_failed), &s);
  signal (SIGPIPE, SIG_IGN);
  /* Before saying where we listen: from then on a signal must stop the
   * server cleanly. */
  sigint = g_unix_signal_add (SIGINT, on_signal, &s);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, &s);

  s.port = gsecsock_secure_server_listen (s.server, o.address, (guint16) o.port, &error);
  if (s.port == 0)
    {
      tool_error ("serve", "%s", error->message);
      exit_code = error->domain == GSECSOCK_ERROR ? TOOL_EXIT_USAGE : TOOL_EXIT_CONNECTION;
      goto out;
    }
  print_listening (&s);

  while (!s.done)
    g_main_context_iteration (NULL, TRUE);
  print_summary (&s);

out:
  if (sigint != 0)
    g_source_remove (sigint);
  if (sigterm != 0)
    g_source_remove (sigterm);
  if (s.server != NULL)
    {
      gsecsock_secure_server_stop (s.server);
      g_clear_object (&s.server);
    }
  if (s.sessions != NULL)
    g_hash_table_destroy (s.sessions);
  if (s.remove_pki)
    tool_generated_pki_remove (&s.pki);
  tool_generated_pki_clear (&s.pki);
  g_clear_object (&s.certificate);
  g_clear_object (&s.ctx);
  tool_context_options_clear (&o.tls);
  g_free (o.address);
  g_free (o.store);
  g_free (o.name);
  g_free (o.fingerprint);
  g_free (o.client_auth);
  g_free (o.generate_dir);
  return exit_code;
}
