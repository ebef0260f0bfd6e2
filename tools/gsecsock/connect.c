/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gsecsock connect HOST[:PORT]: connect, verify, explain; then copy stdin to
 * the connection and the connection to stdout.
 *
 * Everything runs in the main loop: the TCP connection and the STARTTLS
 * dialog in a worker thread (blocking, cancellable), the handshake with
 * gsecsock_secure_socket_handshake_async(), so that a verify-certificate
 * handler can defer its decision and ask the user on the terminal while the
 * loop keeps running.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>

#include "gsecsock-tool.h"

#define DEFAULT_TIMEOUT 30
#define SETTLE_TIMEOUT_MS 1000

typedef enum {
  POLICY_REJECT,   /* a certificate with problems fails the handshake */
  POLICY_ACCEPT,   /* --yes, --no-verify */
  POLICY_ASK,      /* on a terminal: ask at the end of the chain */
} Policy;

typedef enum {
  PHASE_NONE,
  PHASE_CONNECT,
  PHASE_STARTTLS,
  PHASE_HANDSHAKE,
  PHASE_DATA,
} Phase;

typedef struct {
  ToolContextOptions tls;
  gboolean no_verify;
  char    *verify_host;
  char    *sni;
  gboolean no_sni;
  char   **pins;
  gboolean yes;
  gboolean no;
  char    *starttls;
  char    *client_name;
  gboolean resume;
  int      timeout;
  gboolean no_data;
  gboolean quiet;
  gboolean crlf;
  int      wait;
} ConnectOptions;

typedef struct {
  ConnectOptions              *options;
  GSecSockSecureSocketContext *ctx;
  ToolOutput                   out;          /* the report */
  ToolOutput                   term;         /* prompts: the terminal */
  GCancellable                *cancellable;
  gboolean                     interrupted;
  char                        *host;
  guint16                      port;
  char                        *peer_name;    /* given to the library: verified, and sent as SNI */
  char                        *verify_name;  /* the name the certificate must be valid for */
  char                        *sni_name;     /* sent as SNI, or NULL */
  gboolean                     own_name_check;
  GStrv                        pins;         /* normalised */
  ToolStartTls                 starttls;
  Policy                       policy;
  guint                        timeout;
  guint                        handshake_timeout;
  struct _Relay               *relay;
} Connector;

typedef struct {
  Connector                *connector;
  guint                     number;
  GSocketConnection        *connection;
  GDataInputStream         *buffered;
  GString                  *transcript;
  char                     *address;
  GSecSockSecureSocket     *sock;
  GPtrArray                *chain;          /* ToolCertEntry, verified ones, by emission */
  GPtrArray                *trace;          /* ToolTraceEvent */
  GSecSockCertificateFlags  pending_errors; /* accepted provisionally, to ask about at depth 0 */
  gboolean                  pin_mismatch;
  gboolean                  user_rejected;
  const char               *accepted_by;
  GSecSockDecision         *decision;
  guint                     stdin_watch;
  gboolean                  cert_requested;
  GStrv                     acceptable_issuers;
  gboolean                  ticket_seen;
  char                     *fatal_alert_received;
  char                     *fatal_alert_sent;
  gboolean                  done;
  GError                   *error;
  Phase                     phase;          /* where it failed, if it did */
  double                    time_connected;
  double                    time_handshake;
  GByteArray               *early_data;     /* read while settling */
  gboolean                  peer_closed;    /* while settling */
} Attempt;

static Attempt *
attempt_new (Connector *connector,
             guint      number)
{
  Attempt *a = g_new0 (Attempt, 1);

  a->connector = connector;
  a->number = number;
  a->chain = g_ptr_array_new_with_free_func ((GDestroyNotify) tool_cert_entry_free);
  a->trace = g_ptr_array_new_with_free_func ((GDestroyNotify) tool_trace_event_free);
  a->early_data = g_byte_array_new ();
  return a;
}

static void
attempt_free (Attempt *a)
{
  if (a == NULL)
    return;
  if (a->stdin_watch != 0)
    g_source_remove (a->stdin_watch);
  if (a->decision != NULL)
    {
      gsecsock_decision_reject (a->decision);
      g_object_unref (a->decision);
    }
  g_clear_object (&a->sock);
  g_clear_object (&a->buffered);
  g_clear_object (&a->connection);
  if (a->transcript != NULL)
    g_string_free (a->transcript, TRUE);
  g_free (a->address);
  g_ptr_array_unref (a->chain);
  g_ptr_array_unref (a->trace);
  g_strfreev (a->acceptable_issuers);
  g_free (a->fatal_alert_received);
  g_free (a->fatal_alert_sent);
  g_clear_error (&a->error);
  g_byte_array_unref (a->early_data);
  g_free (a);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Attempt, attempt_free)

static void
wait_until (gboolean *flag)
{
  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
}

/* ------------------------------------------------------------------------ */
/* The TCP connection and STARTTLS, in a worker thread                      */

static void
connect_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Attempt *a = task_data;
  Connector *c = a->connector;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnectable) address = g_network_address_new (c->host, c->port);
  g_autoptr(GSocketAddress) remote = NULL;
  GError *error = NULL;

  g_socket_client_set_timeout (client, c->timeout);
  /* Straight to the server, like openssl s_client: no proxy. */
  g_socket_client_set_enable_proxy (client, FALSE);
  a->phase = PHASE_CONNECT;
  a->connection = g_socket_client_connect (client, address, cancellable, &error);
  if (a->connection == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  a->time_connected = tool_elapsed ();
  remote = g_socket_connection_get_remote_address (a->connection, NULL);
  if (G_IS_INET_SOCKET_ADDRESS (remote))
    {
      GInetAddress *ip = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));
      g_autofree char *text = g_inet_address_to_string (ip);

      if (g_inet_address_get_family (ip) == G_SOCKET_FAMILY_IPV6)
        a->address = g_strdup_printf ("[%s]:%u", text, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote)));
      else
        a->address = g_strdup_printf ("%s:%u", text, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote)));
    }

  if (c->starttls != TOOL_STARTTLS_NONE)
    {
      const char *client_name = c->options->client_name;
      g_autofree char *own_name = NULL;

      a->phase = PHASE_STARTTLS;
      if (client_name == NULL)
        client_name = own_name = g_strdup (g_get_host_name ());
      a->buffered = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (a->connection)));
      g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (a->buffered), FALSE);
      a->transcript = g_string_new (NULL);
      if (!tool_starttls_negotiate (c->starttls, G_IO_STREAM (a->connection), a->buffered,
                                    c->verify_name, client_name, a->transcript, cancellable, &error))
        {
          g_task_return_error (task, error);
          return;
        }
    }
  a->phase = PHASE_NONE;
  g_task_return_boolean (task, TRUE);
}

static void
connect_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Attempt *a = user_data;

  if (!g_task_propagate_boolean (G_TASK (result), &a->error))
    {
      if (a->phase == PHASE_NONE)
        a->phase = PHASE_CONNECT;
    }
  a->done = TRUE;
}

/* ------------------------------------------------------------------------ */
/* Signal handlers                                                          */

static ToolCertEntry *
record_certificate (Attempt                  *a,
                    GSecSockCertificate      *certificate,
                    guint                     depth,
                    GSecSockCertificateFlags  errors)
{
  ToolCertEntry *entry = tool_cert_entry_new (certificate);

  entry->depth = (int) depth;
  entry->verified = TRUE;
  entry->errors = errors;
  g_ptr_array_add (a->chain, entry);
  return entry;
}

static gint
compare_depth (gconstpointer a,
               gconstpointer b)
{
  const ToolCertEntry *x = *(ToolCertEntry * const *) a;
  const ToolCertEntry *y = *(ToolCertEntry * const *) b;

  return x->depth - y->depth;
}

/* The verified certificates by depth, leaf first (not owned). */
static GPtrArray *
sorted_chain (Attempt *a)
{
  GPtrArray *sorted = g_ptr_array_sized_new (a->chain->len);

  for (guint i = 0; i < a->chain->len; i++)
    g_ptr_array_add (sorted, g_ptr_array_index (a->chain, i));
  g_ptr_array_sort (sorted, compare_depth);
  return sorted;
}

static void print_prompt (Attempt *a);

static gboolean
on_stdin_answer (int          fd,
                 GIOCondition condition,
                 gpointer     user_data)
{
  Attempt *a = user_data;
  char buffer[256];
  ssize_t n;
  gboolean yes = FALSE;

  n = read (fd, buffer, sizeof buffer - 1);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return G_SOURCE_CONTINUE;
  if (n > 0)
    {
      g_autofree char *answer = NULL;

      buffer[n] = '\0';
      answer = g_ascii_strdown (g_strstrip (buffer), -1);
      yes = g_str_equal (answer, "y") || g_str_equal (answer, "yes") ||
            g_utf8_collate (answer, C_("answer", "y")) == 0 ||
            g_utf8_collate (answer, C_("answer", "yes")) == 0;
      if (!yes && *answer != '\0' && !g_str_equal (answer, "n") && !g_str_equal (answer, "no") &&
          g_utf8_collate (answer, C_("answer", "n")) != 0 && g_utf8_collate (answer, C_("answer", "no")) != 0)
        {
          tool_out (&a->connector->term, TOOL_COLOR_NONE, "%s", _("Please answer yes or no: "));
          tool_out_flush (&a->connector->term);
          return G_SOURCE_CONTINUE;
        }
    }
  else
    tool_out (&a->connector->term, TOOL_COLOR_NONE, "\n");

  a->stdin_watch = 0;
  for (guint i = 0; i < a->chain->len; i++)
    {
      ToolCertEntry *entry = g_ptr_array_index (a->chain, i);

      entry->accepted = yes;
      if (yes && entry->errors != 0)
        entry->accepted_by = "user";
    }
  if (yes)
    {
      a->accepted_by = "user";
      gsecsock_decision_accept (a->decision);
    }
  else
    {
      a->user_rejected = TRUE;
      gsecsock_decision_reject (a->decision);
    }
  g_clear_object (&a->decision);
  return G_SOURCE_REMOVE;
}

static gboolean
on_verify_certificate (GSecSockSecureSocket     *sock,
                       GSecSockCertificate      *certificate,
                       guint                     depth,
                       GSecSockCertificateFlags  errors,
                       gpointer                  user_data)
{
  Attempt *a = user_data;
  Connector *c = a->connector;
  ToolCertEntry *entry;

  if (depth == 0 && c->own_name_check)
    {
      /* The library checked the name sent as SNI (or none): check the one
       * the certificate must be valid for instead. */
      errors &= ~GSECSOCK_CERTIFICATE_BAD_IDENTITY;
      if (c->verify_name != NULL && !tool_certificate_matches_name (certificate, c->verify_name))
        errors |= GSECSOCK_CERTIFICATE_BAD_IDENTITY;
    }
  entry = record_certificate (a, certificate, depth, errors);

  if (c->pins != NULL)
    {
      /* The pin decides: any chain is fine if the leaf is the pinned one,
       * and no chain is if it is not. */
      if (depth > 0)
        {
          entry->accepted = TRUE;
          if (errors != 0)
            entry->accepted_by = "pin";
          return TRUE;
        }
      for (guint i = 0; c->pins[i] != NULL; i++)
        if (g_ascii_strcasecmp (gsecsock_certificate_get_fingerprint_sha256 (certificate), c->pins[i]) == 0)
          {
            entry->accepted = TRUE;
            entry->accepted_by = "pin";
            a->accepted_by = "pin";
            return TRUE;
          }
      a->pin_mismatch = TRUE;
      entry->accepted = FALSE;
      entry->note = g_strdup (_("its SHA-256 fingerprint matches no --pin"));
      return FALSE;
    }

  if (errors == 0 && (depth > 0 || a->pending_errors == 0))
    {
      entry->accepted = TRUE;
      return TRUE;
    }

  switch (c->policy)
    {
    case POLICY_ACCEPT:
      entry->accepted = TRUE;
      entry->accepted_by = c->options->no_verify ? "no-verify" : "yes";
      a->accepted_by = c->options->no_verify ? "no-verify" : "yes";
      return TRUE;

    case POLICY_ASK:
      if (depth > 0)
        {
          /* Ask once, about the whole chain, when its end is reached. */
          a->pending_errors |= errors;
          entry->accepted = TRUE;
          return TRUE;
        }
      a->decision = gsecsock_secure_socket_defer_decision (sock);
      print_prompt (a);
      a->stdin_watch = g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin_answer, a);
      return FALSE;   /* ignored: deferred */

    case POLICY_REJECT:
    default:
      entry->accepted = FALSE;
      return FALSE;
    }
}

static void
on_handshake_info (GSecSockSecureSocket       *sock,
                   GSecSockHandshakeInfoFlags  where,
                   int                         value,
                   const char                 *description,
                   gpointer                    user_data)
{
  Attempt *a = user_data;
  ToolTraceEvent *event = g_new0 (ToolTraceEvent, 1);

  event->time = tool_elapsed ();
  event->where = where;
  event->value = value;
  event->description = g_strdup (description);
  g_ptr_array_add (a->trace, event);

  if ((where & GSECSOCK_HANDSHAKE_INFO_ALERT) && (where & GSECSOCK_HANDSHAKE_INFO_FATAL))
    {
      if (where & GSECSOCK_HANDSHAKE_INFO_READ)
        {
          if (a->fatal_alert_received == NULL)
            a->fatal_alert_received = g_strdup (description);
        }
      else if (a->fatal_alert_sent == NULL)
        a->fatal_alert_sent = g_strdup (description);
    }
  if ((where & GSECSOCK_HANDSHAKE_INFO_STATE) && description != NULL &&
      strstr (description, "session ticket") != NULL &&
      gsecsock_secure_socket_get_handshake_complete (sock))
    a->ticket_seen = TRUE;

  if (a->connector->options->tls.trace && !a->connector->options->tls.json)
    tool_print_trace_event (&a->connector->out, event);
}

static gboolean
on_client_certificate_requested (GSecSockSecureSocket *sock,
                                 GStrv                 acceptable_issuers,
                                 gpointer              user_data)
{
  Attempt *a = user_data;

  a->cert_requested = TRUE;
  g_strfreev (a->acceptable_issuers);
  a->acceptable_issuers = g_strdupv (acceptable_issuers);
  return FALSE;   /* the default: the certificate of --cert, if any */
}

static void
print_prompt (Attempt *a)
{
  Connector *c = a->connector;
  ToolOutput *t = &c->term;
  g_autoptr(GPtrArray) sorted = sorted_chain (a);
  GSecSockCertificateFlags all = a->pending_errors;
  g_autofree char *problems = NULL;
  ToolCertEntry *leaf = NULL;

  for (guint i = 0; i < sorted->len; i++)
    {
      ToolCertEntry *entry = g_ptr_array_index (sorted, i);

      all |= entry->errors;
      if (entry->depth == 0)
        leaf = entry;
    }
  problems = tool_describe_errors (all, c->verify_name);

  tool_out (t, TOOL_COLOR_WARN, _("The certificate of %s:%u is not trusted: %s.\n"),
            c->host, c->port, problems);
  for (guint i = 0; i < sorted->len; i++)
    {
      ToolCertEntry *entry = g_ptr_array_index (sorted, i);
      g_autofree char *label = g_strdup_printf ("[%d]", entry->depth);

      /* Not decided yet: show the problems only. */
      tool_print_certificate (t, entry, label, c->verify_name, FALSE);
      if (entry->errors != 0)
        {
          g_autofree char *text = tool_describe_errors (entry->errors, c->verify_name);

          tool_out (t, TOOL_COLOR_DIM, "      %s", _("problems  "));
          tool_out (t, TOOL_COLOR_BAD, "%s\n", text);
        }
    }
  if (leaf != NULL)
    tool_out (t, TOOL_COLOR_NONE,
              _("To trust this certificate without being asked, connect with\n"
                "  --pin sha256:%s\n"),
              gsecsock_certificate_get_fingerprint_sha256 (leaf->certificate));
  tool_out (t, TOOL_COLOR_BOLD, "%s", _("Accept it for this connection? [y/N] "));
  tool_out_flush (t);
}

/* ------------------------------------------------------------------------ */
/* The handshake                                                            */

static void
handshake_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Attempt *a = user_data;

  if (!gsecsock_secure_socket_handshake_finish (GSECSOCK_SECURE_SOCKET (source), result, &a->error))
    a->phase = PHASE_HANDSHAKE;
  a->time_handshake = tool_elapsed ();
  a->done = TRUE;
}

/* TLS 1.3 sends session tickets, and the verdict on a client certificate,
 * after the handshake: read for a moment to receive them. */
typedef struct {
  Attempt  *attempt;
  gboolean  done;
  gboolean  want_ticket;
  guint     timeout;
} Settle;

static gboolean
settle_readable (GObject  *stream,
                 gpointer  user_data)
{
  Settle *s = user_data;
  Attempt *a = s->attempt;
  guint8 buffer[16384];

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (stream), buffer,
                                                           sizeof buffer, NULL, &error);

      if (n > 0)
        {
          g_byte_array_append (a->early_data, buffer, n);
          continue;
        }
      if (n == 0)
        {
          a->peer_closed = TRUE;
          s->done = TRUE;
          return G_SOURCE_REMOVE;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      a->error = g_steal_pointer (&error);
      a->phase = PHASE_DATA;
      s->done = TRUE;
      return G_SOURCE_REMOVE;
    }
  if (s->want_ticket && a->ticket_seen)
    {
      s->done = TRUE;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
settle_timeout (gpointer user_data)
{
  Settle *s = user_data;

  s->done = TRUE;
  s->timeout = 0;
  return G_SOURCE_REMOVE;
}

static void
settle (Attempt  *a,
        gboolean  want_ticket)
{
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (a->sock));
  Settle s = { a, FALSE, want_ticket, 0 };
  GSource *source;

  source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (input), NULL);
  g_source_set_callback (source, G_SOURCE_FUNC (settle_readable), &s, NULL);
  g_source_attach (source, NULL);
  s.timeout = g_timeout_add (SETTLE_TIMEOUT_MS, settle_timeout, &s);
  /* Whatever is already buffered. */
  if (settle_readable (G_OBJECT (input), &s) == G_SOURCE_REMOVE)
    s.done = TRUE;
  wait_until (&s.done);
  if (!g_source_is_destroyed (source))
    g_source_destroy (source);
  g_source_unref (source);
  if (s.timeout != 0)
    g_source_remove (s.timeout);
}

static gboolean
run_attempt (Attempt *a)
{
  Connector *c = a->connector;
  g_autoptr(GTask) task = NULL;

  a->done = FALSE;
  task = g_task_new (NULL, c->cancellable, connect_done, a);
  g_task_set_task_data (task, a, NULL);
  g_task_run_in_thread (task, connect_thread);
  g_clear_object (&task);
  wait_until (&a->done);
  if (a->error != NULL)
    return FALSE;

  /* The connection is up: from now on the handshake timeout rules. */
  g_socket_set_timeout (g_socket_connection_get_socket (a->connection), 0);

  if (a->buffered != NULL)
    a->sock = gsecsock_secure_socket_new_with_input_buffer (c->ctx, G_IO_STREAM (a->connection),
                                                            G_BUFFERED_INPUT_STREAM (a->buffered),
                                                            c->peer_name, &a->error);
  else
    a->sock = gsecsock_secure_socket_new (c->ctx, G_IO_STREAM (a->connection), c->peer_name, &a->error);
  if (a->sock == NULL)
    {
      a->phase = PHASE_HANDSHAKE;
      return FALSE;
    }

  g_signal_connect (a->sock, "verify-certificate", G_CALLBACK (on_verify_certificate), a);
  g_signal_connect (a->sock, "handshake-info", G_CALLBACK (on_handshake_info), a);
  g_signal_connect (a->sock, "client-certificate-requested", G_CALLBACK (on_client_certificate_requested), a);
  gsecsock_secure_socket_set_handshake_timeout (a->sock, c->handshake_timeout);

  a->done = FALSE;
  gsecsock_secure_socket_handshake_async (a->sock, G_PRIORITY_DEFAULT, c->cancellable, handshake_done, a);
  wait_until (&a->done);
  if (a->error != NULL)
    return FALSE;

  if (gsecsock_secure_socket_get_protocol_version (a->sock) == GSECSOCK_PROTOCOL_VERSION_TLS_1_3)
    {
      /* Wait for the tickets to resume with, and, when the server asked
       * for a certificate, for its verdict on what we sent (or did not):
       * in TLS 1.3 it comes after our side of the handshake is done. */
      if ((c->options->resume && a->number == 1) || a->cert_requested)
        settle (a, TRUE);
    }
  return a->error == NULL;
}

/* ------------------------------------------------------------------------ */
/* The report                                                               */

static const char *
phase_name (Phase phase)
{
  switch (phase)
    {
    case PHASE_CONNECT: return "connect";
    case PHASE_STARTTLS: return "starttls";
    case PHASE_HANDSHAKE: return "handshake";
    case PHASE_DATA: return "data";
    case PHASE_NONE:
    default:
      return NULL;
    }
}

/* The certificates to show: the chain as verified (leaf first), then what
 * the peer sent that verification did not use; or, without verification
 * (a resumed session), what the peer sent. */
static GPtrArray *
collect_chain (Attempt *a)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) tool_cert_entry_free);
  GListModel *peer = a->sock ? gsecsock_secure_socket_get_peer_certificate_chain (a->sock) : NULL;
  guint n_peer = peer ? g_list_model_get_n_items (peer) : 0;
  g_autoptr(GPtrArray) sorted = sorted_chain (a);

  for (guint i = 0; i < sorted->len; i++)
    {
      ToolCertEntry *verified = g_ptr_array_index (sorted, i);
      ToolCertEntry *entry = tool_cert_entry_new (verified->certificate);

      entry->depth = verified->depth;
      entry->verified = TRUE;
      entry->errors = verified->errors;
      entry->accepted = verified->accepted;
      entry->accepted_by = verified->accepted_by;
      entry->note = g_strdup (verified->note);
      for (guint j = 0; j < n_peer; j++)
        {
          g_autoptr(GSecSockCertificate) sent = g_list_model_get_item (peer, j);

          if (gsecsock_certificate_equal (sent, verified->certificate))
            entry->from_peer = TRUE;
        }
      if (!entry->from_peer && entry->note == NULL)
        entry->note = g_strdup (_("from the trust store (not sent by the peer)"));
      g_ptr_array_add (entries, entry);
    }
  for (guint j = 0; j < n_peer; j++)
    {
      g_autoptr(GSecSockCertificate) sent = g_list_model_get_item (peer, j);
      gboolean found = FALSE;
      ToolCertEntry *entry;

      for (guint i = 0; i < sorted->len && !found; i++)
        found = gsecsock_certificate_equal (sent, ((ToolCertEntry *) g_ptr_array_index (sorted, i))->certificate);
      if (found)
        continue;
      entry = tool_cert_entry_new (sent);
      entry->from_peer = TRUE;
      if (a->chain->len == 0)
        {
          entry->depth = (int) j;
          if (gsecsock_secure_socket_get_session_reused (a->sock))
            entry->note = NULL;
          else
            entry->note = g_strdup (_("not verified"));
        }
      else
        entry->note = g_strdup (_("sent by the peer, but not part of the verified chain"));
      g_ptr_array_add (entries, entry);
    }
  return entries;
}

static GSecSockCertificateFlags
all_errors (Attempt *a)
{
  GSecSockCertificateFlags all = 0;

  for (guint i = 0; i < a->chain->len; i++)
    all |= ((ToolCertEntry *) g_ptr_array_index (a->chain, i))->errors;
  return all;
}

/* The exit code of an attempt. */
static int
attempt_exit_code (Attempt *a)
{
  if (a->error == NULL)
    return TOOL_EXIT_OK;
  if (a->connector->interrupted || g_error_matches (a->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return TOOL_EXIT_INTERRUPTED;
  switch (a->phase)
    {
    case PHASE_CONNECT:
    case PHASE_STARTTLS:
      return TOOL_EXIT_CONNECTION;
    case PHASE_HANDSHAKE:
      if (g_error_matches (a->error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE))
        return TOOL_EXIT_USAGE;
      if (a->user_rejected || a->pin_mismatch)
        return TOOL_EXIT_VERIFICATION;
      return tool_exit_code_for_handshake_error (a->error);
    case PHASE_DATA:
      /* The server refused us after the handshake (TLS 1.3 client
       * certificates): a handshake failure in all but name. */
      if (a->fatal_alert_received != NULL)
        return TOOL_EXIT_HANDSHAKE;
      return TOOL_EXIT_FAILURE;
    case PHASE_NONE:
    default:
      return TOOL_EXIT_FAILURE;
    }
}

static char *
verdict (Attempt  *a,
         gboolean *good)
{
  Connector *c = a->connector;
  const char *name = c->verify_name;

  *good = FALSE;
  if (a->error != NULL)
    {
      switch (a->phase)
        {
        case PHASE_CONNECT:
          return g_strdup_printf (_("FAILED: could not connect to %s:%u: %s"), c->host, c->port, a->error->message);
        case PHASE_STARTTLS:
          return g_strdup_printf (_("FAILED: STARTTLS (%s) did not succeed: %s"),
                                  tool_starttls_name (c->starttls), a->error->message);
        case PHASE_DATA:
          if (a->fatal_alert_received != NULL)
            return g_strdup_printf (_("FAILED: the server ended the connection after the handshake "
                                      "with the alert “%s” (did it refuse our certificate?): %s"),
                                    a->fatal_alert_received, a->error->message);
          return g_strdup_printf (_("FAILED: error after the handshake: %s"), a->error->message);
        case PHASE_HANDSHAKE:
        case PHASE_NONE:
        default:
          break;
        }
      if (a->user_rejected)
        return g_strdup (_("FAILED: you rejected the certificate"));
      if (a->pin_mismatch)
        return g_strdup (_("FAILED: the server's certificate matches no --pin"));
      if (g_error_matches (a->error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED))
        {
          g_autofree char *problems = tool_describe_errors (all_errors (a), name);

          if (*problems != '\0')
            return g_strdup_printf (_("FAILED: the certificate is not trusted for “%s”: %s"), name, problems);
          return g_strdup_printf (_("FAILED: the certificate was rejected: %s"), a->error->message);
        }
      if (a->fatal_alert_received != NULL)
        return g_strdup_printf (_("FAILED: the peer aborted the handshake with the alert “%s”: %s"),
                                a->fatal_alert_received, a->error->message);
      return g_strdup_printf (_("FAILED: the TLS handshake failed: %s"), a->error->message);
    }

  *good = TRUE;
  if (a->chain->len == 0 && gsecsock_secure_socket_get_session_reused (a->sock))
    return g_strdup_printf (_("OK: %s, session resumed (its certificate was verified when it was made)"),
                            tool_protocol_name (gsecsock_secure_socket_get_protocol_version (a->sock)));
  if (g_strcmp0 (a->accepted_by, "pin") == 0)
    return g_strdup_printf (_("OK: %s, the certificate is the pinned one"),
                            tool_protocol_name (gsecsock_secure_socket_get_protocol_version (a->sock)));
  if (all_errors (a) != 0)
    {
      g_autofree char *problems = tool_describe_errors (all_errors (a), name);
      const char *by = g_strcmp0 (a->accepted_by, "user") == 0 ? _("you accepted it")
                     : g_strcmp0 (a->accepted_by, "no-verify") == 0 ? _("--no-verify")
                     : _("--yes");

      *good = FALSE;
      return g_strdup_printf (_("INSECURE: %s, with an untrusted certificate accepted (%s): %s"),
                              tool_protocol_name (gsecsock_secure_socket_get_protocol_version (a->sock)),
                              by, problems);
    }
  return g_strdup_printf (_("OK: %s, the certificate is trusted for “%s”"),
                          tool_protocol_name (gsecsock_secure_socket_get_protocol_version (a->sock)),
                          name ? name : c->host);
}

static void
print_line (ToolOutput *out,
            const char *label,
            ToolColor   color,
            const char *value)
{
  glong width = g_utf8_strlen (label, -1);

  tool_out (out, TOOL_COLOR_BOLD, "%s", label);
  for (glong i = width; i < 13; i++)
    fputc (' ', out->stream);
  tool_out (out, color, "%s\n", value);
}

static void
print_human_report (Attempt *a)
{
  Connector *c = a->connector;
  ToolOutput *out = &c->out;
  g_autoptr(GPtrArray) entries = NULL;
  g_autofree char *text = NULL;
  gboolean good;

  if (a->number == 1)
    {
      if (a->address != NULL)
        {
          text = g_strdup_printf (_("%s:%u (%s)"), c->host, c->port, a->address);
          print_line (out, _("Connected to"), TOOL_COLOR_NONE, text);
          g_clear_pointer (&text, g_free);
        }
      if (c->starttls != TOOL_STARTTLS_NONE && a->phase != PHASE_CONNECT)
        print_line (out, "STARTTLS", TOOL_COLOR_NONE, tool_starttls_name (c->starttls));
      if (a->transcript != NULL && a->transcript->len > 0 && c->options->tls.trace)
        tool_out (out, TOOL_COLOR_DIM, "%s", a->transcript->str);
    }
  else
    tool_out (out, TOOL_COLOR_BOLD, "%s\n", _("Reconnected, to test session resumption:"));

  if (a->sock != NULL && (a->chain->len > 0 || gsecsock_secure_socket_get_peer_certificate (a->sock) != NULL))
    {
      entries = collect_chain (a);
      if (a->number == 1 || a->chain->len > 0)
        {
          tool_out (out, TOOL_COLOR_BOLD, "%s\n",
                    a->chain->len > 0 ? _("Certificate chain (as verified, the server's first):")
                                      : _("Certificate chain (as sent by the server):"));
          for (guint i = 0; i < entries->len; i++)
            {
              ToolCertEntry *entry = g_ptr_array_index (entries, i);
              g_autofree char *label = entry->depth >= 0 ? g_strdup_printf ("[%d]", entry->depth)
                                                         : g_strdup ("[-]");

              tool_print_certificate (out, entry, label, c->verify_name, TRUE);
            }
        }
    }

  if (a->sock != NULL && gsecsock_secure_socket_get_handshake_complete (a->sock))
    {
      const char * const *offered = gsecsock_secure_socket_context_get_alpn_protocols (c->ctx);
      const char *alpn = gsecsock_secure_socket_get_alpn_protocol (a->sock);
      g_autofree char *offered_text = offered ? g_strjoinv (",", (char **) offered) : NULL;

      print_line (out, _("Protocol"), TOOL_COLOR_NONE,
                  tool_protocol_name (gsecsock_secure_socket_get_protocol_version (a->sock)));
      print_line (out, _("Cipher"), TOOL_COLOR_NONE, gsecsock_secure_socket_get_cipher_name (a->sock));
      if (alpn != NULL)
        print_line (out, "ALPN", TOOL_COLOR_NONE, alpn);
      else if (offered != NULL)
        {
          text = g_strdup_printf (_("none agreed (offered %s)"), offered_text);
          print_line (out, "ALPN", TOOL_COLOR_WARN, text);
          g_clear_pointer (&text, g_free);
        }
      else
        print_line (out, "ALPN", TOOL_COLOR_DIM, _("not offered"));
      print_line (out, _("Session"), gsecsock_secure_socket_get_session_reused (a->sock) ? TOOL_COLOR_GOOD : TOOL_COLOR_NONE,
                  gsecsock_secure_socket_get_session_reused (a->sock) ? _("resumed") : _("new (full handshake)"));
      if (a->number == 1)
        {
          print_line (out, "SNI", TOOL_COLOR_NONE, c->sni_name ? c->sni_name : _("not sent"));
          if (!a->cert_requested)
            print_line (out, _("Client cert."), TOOL_COLOR_DIM, _("not requested by the server"));
          else if (c->options->tls.identity != NULL)
            {
              g_autofree char *subject = gsecsock_certificate_get_subject (c->options->tls.identity);

              text = g_strdup_printf (_("requested; sent %s"), subject);
              print_line (out, _("Client cert."), TOOL_COLOR_NONE, text);
              g_clear_pointer (&text, g_free);
            }
          else
            print_line (out, _("Client cert."), TOOL_COLOR_WARN, _("requested; none sent (see --cert)"));
          if (a->cert_requested && a->acceptable_issuers != NULL && a->acceptable_issuers[0] != NULL)
            for (guint i = 0; a->acceptable_issuers[i] != NULL; i++)
              print_line (out, i == 0 ? _("  accepts") : "", TOOL_COLOR_DIM, a->acceptable_issuers[i]);
        }
    }

  text = verdict (a, &good);
  print_line (out, _("Verdict"), good ? TOOL_COLOR_GOOD : TOOL_COLOR_BAD, text);
  tool_out_flush (out);
}

static void
json_attempt (ToolJson   *json,
              Attempt    *a,
              gboolean    full)
{
  Connector *c = a->connector;
  g_autofree char *text = NULL;
  gboolean good;
  gboolean complete = a->sock != NULL && gsecsock_secure_socket_get_handshake_complete (a->sock);

  if (full)
    {
      tool_json_string (json, "host", c->host);
      tool_json_int (json, "port", c->port);
      tool_json_string (json, "address", a->address);
      tool_json_string (json, "verify_name", c->verify_name);
      tool_json_string (json, "sni", c->sni_name);
      tool_json_string (json, "starttls", c->starttls != TOOL_STARTTLS_NONE ? tool_starttls_name (c->starttls) : NULL);
      if (a->transcript != NULL)
        {
          g_auto(GStrv) lines = g_strsplit (a->transcript->str, "\n", -1);
          guint n = g_strv_length (lines);

          if (n > 0 && lines[n - 1][0] == '\0')
            {
              g_free (lines[n - 1]);
              lines[n - 1] = NULL;
            }
          tool_json_strv (json, "starttls_transcript", (const char * const *) lines);
        }
    }
  tool_json_bool (json, "success", a->error == NULL);
  tool_json_string (json, "phase", a->error ? phase_name (a->phase) : NULL);
  tool_json_error (json, "error", a->error);
  tool_json_string (json, "protocol", complete ? tool_protocol_name (gsecsock_secure_socket_get_protocol_version (a->sock)) : NULL);
  tool_json_string (json, "cipher", complete ? gsecsock_secure_socket_get_cipher_name (a->sock) : NULL);
  tool_json_string (json, "alpn", complete ? gsecsock_secure_socket_get_alpn_protocol (a->sock) : NULL);
  tool_json_bool (json, "session_reused", complete && gsecsock_secure_socket_get_session_reused (a->sock));
  if (a->sock != NULL)
    {
      g_auto(GStrv) nicks = tool_error_nicks (all_errors (a));

      tool_json_string (json, "certificate_status",
                        gsecsock_certificate_status_to_string (a->chain->len > 0
                                                               ? gsecsock_certificate_status_from_flags (all_errors (a))
                                                               : gsecsock_secure_socket_get_certificate_status (a->sock)));
      tool_json_strv (json, "certificate_errors", (const char * const *) nicks);
    }
  tool_json_string (json, "accepted_by", a->accepted_by);
  if (full)
    {
      tool_json_bool (json, "client_certificate_requested", a->cert_requested);
      tool_json_strv (json, "acceptable_issuers", (const char * const *) a->acceptable_issuers);
      if (c->options->tls.identity != NULL && a->cert_requested)
        {
          g_autofree char *subject = gsecsock_certificate_get_subject (c->options->tls.identity);

          tool_json_string (json, "client_certificate_sent", subject);
        }
      else
        tool_json_null (json, "client_certificate_sent");
    }
  tool_json_string (json, "alert_received", a->fatal_alert_received);
  tool_json_string (json, "alert_sent", a->fatal_alert_sent);
  if (full || a->chain->len > 0)
    {
      g_autoptr(GPtrArray) entries = a->sock ? collect_chain (a) : NULL;

      tool_json_begin_array (json, "chain");
      for (guint i = 0; entries != NULL && i < entries->len; i++)
        tool_json_certificate (json, NULL, g_ptr_array_index (entries, i));
      tool_json_end_array (json);
    }
  if (c->options->tls.trace)
    {
      tool_json_begin_array (json, "trace");
      for (guint i = 0; i < a->trace->len; i++)
        tool_json_trace_event (json, NULL, g_ptr_array_index (a->trace, i));
      tool_json_end_array (json);
    }
  text = verdict (a, &good);
  tool_json_string (json, "verdict", text);
}

static void
print_json_report (Attempt *first,
                   Attempt *second,
                   int      exit_code)
{
  ToolJson json;
  g_autofree char *text = NULL;

  tool_json_init (&json, TRUE);
  tool_json_begin_object (&json, NULL);
  tool_json_string (&json, "tool", "gsecsock connect");
  tool_json_string (&json, "version", GSECSOCK_TOOL_VERSION);
  json_attempt (&json, first, TRUE);
  if (second != NULL)
    {
      tool_json_begin_object (&json, "resumption");
      json_attempt (&json, second, FALSE);
      tool_json_end_object (&json);
    }
  else if (first->connector->options->resume)
    tool_json_null (&json, "resumption");
  tool_json_int (&json, "exit_code", exit_code);
  tool_json_end_object (&json);
  text = tool_json_finish (&json);
  fputs (text, stdout);
  fflush (stdout);
}

/* ------------------------------------------------------------------------ */
/* Closing                                                                  */

typedef struct {
  gboolean done;
} CloseWait;

static void
close_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  CloseWait *w = user_data;

  g_io_stream_close_finish (G_IO_STREAM (source), result, NULL);
  w->done = TRUE;
}

static gboolean
close_timeout (gpointer user_data)
{
  GCancellable *cancellable = user_data;

  g_cancellable_cancel (cancellable);
  return G_SOURCE_REMOVE;
}

/* Sends close_notify and closes, within 2 s. */
static void
close_socket (GSecSockSecureSocket *sock)
{
  g_autoptr(GCancellable) cancellable = NULL;
  CloseWait w = { FALSE };
  guint timeout;

  if (sock == NULL || g_io_stream_is_closed (G_IO_STREAM (sock)))
    return;
  cancellable = g_cancellable_new ();
  timeout = g_timeout_add (2000, close_timeout, cancellable);
  g_io_stream_close_async (G_IO_STREAM (sock), G_PRIORITY_DEFAULT, cancellable, close_done, &w);
  wait_until (&w.done);
  if (!g_cancellable_is_cancelled (cancellable))
    g_source_remove (timeout);
}

/* ------------------------------------------------------------------------ */
/* stdin <-> connection                                                     */

typedef struct _Relay {
  Attempt       *attempt;
  GInputStream  *stdin_stream;
  GOutputStream *stdout_stream;
  GCancellable  *stdin_cancellable;
  gboolean       stdin_eof;
  gboolean       stdin_reading;
  gboolean       net_reading;
  gboolean       writing;
  gboolean       sent_any;
  gboolean       finishing;
  gboolean       done;
  int            exit_code;
  guint8         in_buffer[16384];
  guint8         net_buffer[16384];
  GByteArray    *pending;   /* stdin data being written */
  guint          idle;      /* --wait: closes after that much silence */
} Relay;

static void relay_read_stdin (Relay *r);
static void relay_read_net (Relay *r);

static void
relay_check_done (Relay *r)
{
  if (r->finishing && !r->stdin_reading && !r->net_reading && !r->writing)
    r->done = TRUE;
}

static void relay_finish (Relay *r, int exit_code);

static gboolean
relay_idle (gpointer user_data)
{
  Relay *r = user_data;

  r->idle = 0;
  relay_finish (r, TOOL_EXIT_OK);
  return G_SOURCE_REMOVE;
}

/* After the end of stdin, --wait SECONDS of silence from the server end
 * the connection. */
static void
relay_arm_idle (Relay *r)
{
  int wait = r->attempt->connector->options->wait;

  if (wait <= 0 || !r->stdin_eof)
    return;
  if (r->idle != 0)
    g_source_remove (r->idle);
  r->idle = g_timeout_add_seconds (wait, relay_idle, r);
}

static void
relay_finish (Relay *r,
              int    exit_code)
{
  if (r->finishing)
    return;
  if (r->idle != 0)
    {
      g_source_remove (r->idle);
      r->idle = 0;
    }
  r->finishing = TRUE;
  r->exit_code = exit_code;
  g_cancellable_cancel (r->stdin_cancellable);
  /* A read pending on the connection ends when it is closed. */
  if (r->net_reading)
    g_cancellable_cancel (r->attempt->connector->cancellable);
  relay_check_done (r);
}

static gboolean
write_stdout (Relay        *r,
              const guint8 *data,
              gsize         length)
{
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all (r->stdout_stream, data, length, NULL, NULL, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
        tool_error ("connect", _("Cannot write to the standard output: %s"), error->message);
      return FALSE;
    }
  return TRUE;
}

static void
net_read_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Relay *r = user_data;
  Attempt *a = r->attempt;
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  r->net_reading = FALSE;
  if (r->finishing)
    {
      relay_check_done (r);
      return;
    }
  if (n > 0)
    {
      if (!write_stdout (r, r->net_buffer, n))
        {
          relay_finish (r, TOOL_EXIT_FAILURE);
          return;
        }
      if (r->idle != 0)
        relay_arm_idle (r);
      relay_read_net (r);
      return;
    }
  if (n == 0)
    {
      relay_finish (r, TOOL_EXIT_OK);
      return;
    }
  /* An error: keep it for the verdict. */
  a->phase = PHASE_DATA;
  a->error = g_steal_pointer (&error);
  if (g_error_matches (a->error, GSECSOCK_ERROR, GSECSOCK_ERROR_EOF))
    tool_warning ("connect", _("the server closed the connection without a TLS close_notify: "
                               "the data may have been cut short"));
  else if (a->fatal_alert_received != NULL)
    tool_error ("connect", _("the server ended the connection with the alert “%s”: %s"),
                a->fatal_alert_received, a->error->message);
  else
    tool_error ("connect", "%s", a->error->message);
  relay_finish (r, attempt_exit_code (a));
}

static void
relay_read_net (Relay *r)
{
  r->net_reading = TRUE;
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (r->attempt->sock)),
                             r->net_buffer, sizeof r->net_buffer, G_PRIORITY_DEFAULT,
                             r->attempt->connector->cancellable, net_read_done, r);
}

static void
net_write_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Relay *r = user_data;
  g_autoptr(GError) error = NULL;

  r->writing = FALSE;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      if (!r->finishing)
        {
          r->attempt->phase = PHASE_DATA;
          r->attempt->error = g_steal_pointer (&error);
          tool_error ("connect", "%s", r->attempt->error->message);
          relay_finish (r, attempt_exit_code (r->attempt));
        }
      relay_check_done (r);
      return;
    }
  r->sent_any = TRUE;
  if (r->finishing)
    {
      relay_check_done (r);
      return;
    }
  relay_read_stdin (r);
}

static void
stdin_read_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Relay *r = user_data;
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  r->stdin_reading = FALSE;
  if (r->finishing)
    {
      relay_check_done (r);
      return;
    }
  if (n > 0)
    {
      g_byte_array_set_size (r->pending, 0);
      if (r->attempt->connector->options->crlf)
        {
          for (gssize i = 0; i < n; i++)
            {
              if (r->in_buffer[i] == '\n' && (i == 0 || r->in_buffer[i - 1] != '\r'))
                g_byte_array_append (r->pending, (const guint8 *) "\r", 1);
              g_byte_array_append (r->pending, &r->in_buffer[i], 1);
            }
        }
      else
        g_byte_array_append (r->pending, r->in_buffer, n);
      r->writing = TRUE;
      g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (r->attempt->sock)),
                                       r->pending->data, r->pending->len, G_PRIORITY_DEFAULT,
                                       r->attempt->connector->cancellable, net_write_done, r);
      return;
    }
  if (n < 0)
    tool_warning ("connect", _("cannot read the standard input: %s"), error->message);
  r->stdin_eof = TRUE;
  /* Nothing was ever sent: a check (< /dev/null), so close now. After a
   * request, wait for the whole answer, as openssl s_client -quiet does. */
  if (!r->sent_any)
    relay_finish (r, TOOL_EXIT_OK);
  else
    relay_arm_idle (r);
}

static void
relay_read_stdin (Relay *r)
{
  r->stdin_reading = TRUE;
  g_input_stream_read_async (r->stdin_stream, r->in_buffer, sizeof r->in_buffer, G_PRIORITY_DEFAULT,
                             r->stdin_cancellable, stdin_read_done, r);
}

static int
relay (Attempt *a)
{
  Relay r = { 0 };

  r.attempt = a;
  r.stdin_stream = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  r.stdout_stream = g_unix_output_stream_new (STDOUT_FILENO, FALSE);
  r.stdin_cancellable = g_cancellable_new ();
  r.pending = g_byte_array_new ();
  a->connector->relay = &r;

  if (a->early_data->len > 0 && !write_stdout (&r, a->early_data->data, a->early_data->len))
    r.finishing = TRUE;
  if (a->peer_closed)
    r.finishing = TRUE;
  if (!r.finishing)
    {
      relay_read_net (&r);
      relay_read_stdin (&r);
    }
  relay_check_done (&r);
  wait_until (&r.done);
  a->connector->relay = NULL;

  if (!a->connector->interrupted && a->error == NULL)
    close_socket (a->sock);
  g_object_unref (r.stdin_stream);
  g_object_unref (r.stdout_stream);
  g_object_unref (r.stdin_cancellable);
  g_byte_array_unref (r.pending);
  if (a->connector->interrupted)
    return TOOL_EXIT_INTERRUPTED;
  return r.exit_code;
}

/* ------------------------------------------------------------------------ */

static gboolean
on_signal (gpointer user_data)
{
  Connector *c = user_data;

  c->interrupted = TRUE;
  g_cancellable_cancel (c->cancellable);
  if (c->relay != NULL)
    relay_finish (c->relay, TOOL_EXIT_INTERRUPTED);
  return G_SOURCE_CONTINUE;
}

static gboolean
resolve_names (Connector  *c,
               GError    **error)
{
  ConnectOptions *o = c->options;

  if (o->no_sni && o->sni != NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("--sni and --no-sni contradict each other"));
      return FALSE;
    }
  c->verify_name = g_strdup (o->verify_host ? o->verify_host : o->sni ? o->sni : c->host);
  if (o->no_sni)
    c->sni_name = NULL;
  else if (o->sni != NULL)
    c->sni_name = g_strdup (o->sni);
  else if (!g_hostname_is_ip_address (c->verify_name))
    c->sni_name = g_strdup (c->verify_name);

  if (c->sni_name != NULL && g_hostname_is_ip_address (c->sni_name))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--sni: “%s” is an IP address; SNI carries host names only"), c->sni_name);
      return FALSE;
    }

  /* The library verifies the name it sends as SNI. When they differ, it is
   * given the SNI name (or none) and the tool checks the name itself. */
  if (c->sni_name != NULL && g_ascii_strcasecmp (c->sni_name, c->verify_name) == 0)
    c->peer_name = g_strdup (c->verify_name);
  else if (c->sni_name == NULL && g_hostname_is_ip_address (c->verify_name))
    c->peer_name = g_strdup (c->verify_name);
  else
    {
      c->peer_name = g_strdup (c->sni_name);
      c->own_name_check = TRUE;
    }
  return TRUE;
}

int
tool_connect (int    argc,
              char **argv)
{
  ConnectOptions o = { 0 };
  Connector c = { 0 };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(Attempt) first = NULL;
  g_autoptr(Attempt) second = NULL;
  guint sigint = 0, sigterm = 0;
  int exit_code;
  gboolean interactive;
  const GOptionEntry entries[] = {
    { "no-verify", 0, 0, G_OPTION_ARG_NONE, &o.no_verify,
      N_("Accept the server's certificate whatever its problems (shown all the same)"), NULL },
    { "verify-host", 0, 0, G_OPTION_ARG_STRING, &o.verify_host,
      N_("The name (or IP address) the certificate must be valid for, if not HOST"), N_("NAME") },
    { "sni", 0, 0, G_OPTION_ARG_STRING, &o.sni,
      N_("Send NAME as Server Name Indication (default: the name verified, unless an IP address)"), N_("NAME") },
    { "no-sni", 0, 0, G_OPTION_ARG_NONE, &o.no_sni, N_("Send no Server Name Indication"), NULL },
    { "pin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.pins,
      N_("Accept the server only if its certificate has this SHA-256 fingerprint, trusted or not; repeatable"),
      N_("sha256:HEX") },
    { "yes", 'y', 0, G_OPTION_ARG_NONE, &o.yes,
      N_("Accept a certificate with problems without asking (for scripts)"), NULL },
    { "no", 'n', 0, G_OPTION_ARG_NONE, &o.no,
      N_("Reject a certificate with problems without asking (the default when not on a terminal)"), NULL },
    { "starttls", 0, 0, G_OPTION_ARG_STRING, &o.starttls,
      N_("Upgrade a plain connection first: smtp, imap, pop3, ftp, xmpp, ldap or postgres"), N_("PROTOCOL") },
    { "client-name", 0, 0, G_OPTION_ARG_STRING, &o.client_name,
      N_("The name this client gives in SMTP's EHLO (default: the host name)"), N_("NAME") },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &o.resume,
      N_("Reconnect once and show whether the session was resumed"), NULL },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &o.timeout,
      N_("Give up connecting, and the handshake, after SECONDS (default 30)"), N_("SECONDS") },
    { "no-data", 0, 0, G_OPTION_ARG_NONE, &o.no_data,
      N_("Close after the handshake: do not copy stdin and stdout"), NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet,
      N_("No report, only the data (errors still go to stderr), like openssl s_client -quiet"), NULL },
    { "wait", 'w', 0, G_OPTION_ARG_INT, &o.wait,
      N_("After the end of stdin, close once the server has been silent for SECONDS "
         "(default: wait until it closes)"), N_("SECONDS") },
    { "crlf", 0, 0, G_OPTION_ARG_NONE, &o.crlf,
      N_("Send the line ends of stdin as CR LF (for SMTP, IMAP, HTTP typed by hand)"), NULL },
    G_OPTION_ENTRY_NULL
  };

  o.timeout = -1;
  tool_context_options_init (&o.tls);
  context = tool_option_context_new ("connect",
      _("HOST[:PORT] — connect to a TLS server"),
      _("Connects to HOST (port 443 unless given, or the usual port of the --starttls protocol),\n"
        "verifies its certificate against the system's authorities (and --ca), and reports\n"
        "the chain with the verification of each certificate, the protocol, the cipher,\n"
        "ALPN, session reuse, and a one-line verdict. Then the standard input is sent over\n"
        "the connection and what the server sends is written to the standard output, until\n"
        "the server closes it, as openssl s_client -quiet does (with nothing on stdin, it\n"
        "closes at once).\n"
        "\n"
        "On a terminal, a certificate with problems is shown and you are asked whether to\n"
        "accept it, like SSH does for an unknown host; elsewhere it is rejected, unless\n"
        "--yes, --no-verify or a matching --pin."),
      _("Examples:\n"
        "  gsecsock connect example.org\n"
        "  gsecsock connect --starttls smtp mail.example.org\n"
        "  gsecsock connect --ca ca.pem --cert me.pem --key me.key localhost:8443\n"
        "  printf 'GET / HTTP/1.0\\r\\nHost: example.org\\r\\n\\r\\n' | gsecsock connect -q example.org\n"
        "  gsecsock connect --json --no-data example.org | jq .verdict"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_group (context, tool_context_option_group (&o.tls, TOOL_OPTIONS_TRUST,
      "trust", _("Trust:"), _("Show the trust options")));
  g_option_context_add_group (context, tool_context_option_group (&o.tls, TOOL_OPTIONS_IDENTITY,
      "identity", _("Client certificate:"), _("Show the client certificate options")));
  g_option_context_add_group (context, tool_context_option_group (&o.tls, TOOL_OPTIONS_TLS | TOOL_OPTIONS_OUTPUT,
      "tls", _("TLS and output:"), _("Show the TLS and output options")));

  if (!tool_option_context_parse (context, "connect", &argc, &argv))
    {
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }

  c.options = &o;
  c.starttls = TOOL_STARTTLS_NONE;
  if (argc != 2)
    {
      tool_error ("connect", argc < 2 ? _("Which server? Give HOST[:PORT].") : _("Only one HOST[:PORT], please."));
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }
  if (o.starttls != NULL && !tool_starttls_parse (o.starttls, &c.starttls))
    {
      tool_error ("connect", _("--starttls: “%s” is not one of %s"), o.starttls, tool_starttls_names ());
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }
  if (!tool_parse_host_port (argv[1], tool_starttls_default_port (c.starttls), &c.host, &c.port, &error) ||
      !resolve_names (&c, &error) ||
      !tool_output_init (&c.out, o.quiet ? stderr : stdout, o.tls.color, &error))
    {
      tool_error ("connect", "%s", error->message);
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }
  tool_output_init (&c.term, stdout, o.tls.color, NULL);
  if (o.yes && o.no)
    {
      tool_error ("connect", _("--yes and --no contradict each other"));
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }
  if (o.pins != NULL)
    {
      GPtrArray *pins = g_ptr_array_new ();

      if (o.no_verify)
        {
          tool_error ("connect", _("--pin and --no-verify contradict each other"));
          g_ptr_array_free (pins, TRUE);
          exit_code = TOOL_EXIT_USAGE;
          goto out;
        }
      for (guint i = 0; o.pins[i] != NULL; i++)
        {
          char *pin = tool_normalize_fingerprint (o.pins[i]);

          if (pin == NULL)
            {
              tool_error ("connect", _("--pin: “%s” is not a SHA-256 fingerprint (64 hexadecimal digits, "
                                       "with or without colons, optionally after “sha256:”)"), o.pins[i]);
              g_ptr_array_free (pins, TRUE);
              exit_code = TOOL_EXIT_USAGE;
              goto out;
            }
          g_ptr_array_add (pins, pin);
        }
      g_ptr_array_add (pins, NULL);
      c.pins = (GStrv) g_ptr_array_free (pins, FALSE);
    }
  if (o.timeout == 0 || o.timeout < -1)
    {
      tool_error ("connect", _("--timeout must be a positive number of seconds"));
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }
  if (o.tls.json)
    o.no_data = TRUE;

  interactive = isatty (STDIN_FILENO) && isatty (STDOUT_FILENO) && !o.tls.json;
  if (o.no_verify || o.yes)
    c.policy = POLICY_ACCEPT;
  else if (o.no || !interactive)
    c.policy = POLICY_REJECT;
  else
    c.policy = POLICY_ASK;
  c.timeout = o.timeout > 0 ? (guint) o.timeout : DEFAULT_TIMEOUT;
  /* A question waits for its answer as long as it takes, unless told. */
  c.handshake_timeout = o.timeout > 0 ? (guint) o.timeout : c.policy == POLICY_ASK ? 0 : DEFAULT_TIMEOUT;

  c.ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  /* Without a peer name (--no-sni), the library wants verify-peer off: it
   * still verifies, and our verify-certificate handler still decides. */
  if (o.no_verify || c.peer_name == NULL)
    gsecsock_secure_socket_context_set_verify_peer (c.ctx, FALSE);
  exit_code = tool_context_apply (c.ctx, &o.tls, TOOL_OPTIONS_TRUST | TOOL_OPTIONS_IDENTITY | TOOL_OPTIONS_TLS,
                                  &error);
  if (exit_code != TOOL_EXIT_OK)
    {
      tool_error ("connect", "%s", error->message);
      goto out;
    }

  c.cancellable = g_cancellable_new ();
  sigint = g_unix_signal_add (SIGINT, on_signal, &c);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, &c);
  signal (SIGPIPE, SIG_IGN);

  first = attempt_new (&c, 1);
  run_attempt (first);
  exit_code = attempt_exit_code (first);
  if (!o.tls.json && !o.quiet)
    print_human_report (first);
  else if (o.quiet && first->error != NULL)
    {
      gboolean good;
      g_autofree char *text = verdict (first, &good);

      tool_error ("connect", "%s", text);
    }

  if (exit_code == TOOL_EXIT_OK && o.resume)
    {
      close_socket (first->sock);
      second = attempt_new (&c, 2);
      run_attempt (second);
      exit_code = attempt_exit_code (second);
      if (!o.tls.json && !o.quiet)
        print_human_report (second);
    }

  if (o.tls.json)
    {
      print_json_report (first, second, exit_code);
      if (exit_code == TOOL_EXIT_OK)
        close_socket (second ? second->sock : first->sock);
    }
  else if (exit_code == TOOL_EXIT_OK)
    {
      Attempt *last = second ? second : first;

      if (o.no_data)
        close_socket (last->sock);
      else
        exit_code = relay (last);
    }

out:
  if (sigint != 0)
    g_source_remove (sigint);
  if (sigterm != 0)
    g_source_remove (sigterm);
  g_clear_pointer (&first, attempt_free);
  g_clear_pointer (&second, attempt_free);
  g_clear_object (&c.ctx);
  g_clear_object (&c.cancellable);
  g_free (c.host);
  g_free (c.peer_name);
  g_free (c.verify_name);
  g_free (c.sni_name);
  g_strfreev (c.pins);
  tool_context_options_clear (&o.tls);
  g_free (o.verify_host);
  g_free (o.sni);
  g_strfreev (o.pins);
  g_free (o.starttls);
  g_free (o.client_name);
  fflush (stdout);
  return exit_code;
}
