/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-secure-socket-private.h"

#include "gsecsock-i18n-private.h"
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include <openssl/async.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "gsecsock-bio-private.h"
#include "gsecsock-certificate-private.h"
#include "gsecsock-decision-private.h"
#include "gsecsock-enum-types.h"
#include "gsecsock-error.h"
#include "gsecsock-info.h"
#include "gsecsock-secure-socket-context-private.h"
#include "gsecsock-verify-private.h"

/**
 * GSecSockSecureSocket:
 *
 * One TLS connection, as a [class@Gio.IOStream] over another
 * [class@Gio.IOStream]: a TCP connection, a plain connection upgraded to
 * TLS (STARTTLS), or any stream whose input and output are pollable.
 *
 * Create it with [ctor@GSecSock.SecureSocket.new] over an existing stream,
 * or let [func@GSecSock.SecureSocket.connect] resolve, connect and
 * handshake. Read and write through [method@Gio.IOStream.get_input_stream]
 * and [method@Gio.IOStream.get_output_stream]: both are pollable, so
 * [class@Gio.DataInputStream], [method@Gio.OutputStream.write_all_async] or
 * [method@Gio.IOStream.splice_async] work unchanged. The first read or write
 * performs the handshake if [method@GSecSock.SecureSocket.handshake] was not
 * called.
 *
 * Each write becomes at least one TLS record, with its own header, tag and
 * transport write. To send several buffers at once (headers and a body, say),
 * pass them together to [method@Gio.OutputStream.writev_all] or its
 * asynchronous and pollable forms: what fits in one record (16 KiB) leaves
 * as one record, without waiting for more data.
 *
 * OpenSSL runs non-blocking. Asynchronous operations wait on the base
 * stream's pollable sources in the thread-default [struct@GLib.MainContext]
 * of the caller, and never use a thread; synchronous ones block the calling
 * thread only. As with any [class@Gio.IOStream], one thread may read while
 * another writes, but two reads (or two writes) must not overlap.
 *
 * [method@Gio.IOStream.close] sends a TLS close_notify and closes the base
 * stream. A peer that ends the connection without close_notify may have been
 * cut off by an attacker: reading then fails with %GSECSOCK_ERROR_EOF,
 * unless [property@GSecSock.SecureSocket:require-close-notify] is %FALSE.
 *
 * Since: 0.1
 */

typedef enum {
  HANDSHAKE_NOT_STARTED,
  HANDSHAKE_RUNNING,
  HANDSHAKE_DONE,
  HANDSHAKE_FAILED,
} HandshakeState;

/* Who drives a running handshake. A blocking thread owns it alone (others
 * wait for it to end); otherwise any non-blocking caller may step it. */
typedef enum {
  OWNER_NONE,
  OWNER_BLOCKING,
  OWNER_NONBLOCKING,
} HandshakeOwner;

typedef enum {
  OP_HANDSHAKE,
  OP_READ,
  OP_WRITE,
  OP_SHUTDOWN,
} Op;

typedef enum {
  STEP_DONE,
  STEP_WOULD_BLOCK,
  STEP_DECIDE,       /* the handshake paused on a question (see Question) */
  STEP_ERROR,
} StepResult;

/* A decision the handshake waits for. OpenSSL asks inside its callbacks,
 * which run inside an ASYNC job (SSL_MODE_ASYNC) when a handler is
 * connected: the callback records the question and pauses the job, so the
 * SSL call returns. The signal is then emitted outside OpenSSL, without
 * the lock, in the thread driving the handshake; the answer, at once or
 * later through a GSecSockDecision, resumes the job where it paused. */
typedef enum {
  QUESTION_NONE,
  QUESTION_WAITING,     /* the job paused; nobody is emitting yet */
  QUESTION_ASKING,      /* a handler is being run */
  QUESTION_DEFERRED,    /* a GSecSockDecision will answer */
  QUESTION_ANSWERED,    /* the job may resume */
} QuestionState;

typedef struct {
  QuestionState state;
  GSecSockDecisionKind kind;
  guint serial;
  GThread *asking_thread;
  /* GSECSOCK_DECISION_VERIFY_CERTIFICATE */
  X509 *certificate;
  int depth;
  GSecSockCertificateFlags errors;
  /* GSECSOCK_DECISION_CLIENT_CERTIFICATE */
  GStrv issuers;
  /* The answer. For a client certificate: @select says that @selected
   * (maybe none) is what to send; otherwise the default applies. */
  gboolean accept;
  gboolean select;
  GSecSockCertificate *selected;
} Question;

typedef struct {
  GSecSockHandshakeInfoFlags flags;
  int value;
  char *description;
} InfoEvent;

struct _GSecSockSecureSocket
{
  GIOStream parent_instance;

  GSecSockSecureSocketContext *context;
  GIOStream *base_stream;
  GPollableInputStream *base_input;
  GPollableOutputStream *base_output;
  GSocket *base_socket;            /* when the base is a GSocketConnection */
  char *peer_name;
  gboolean require_close_notify;
  /* SNI: for a client the name sent; for a server the name received, set
   * when the handshake ends. */
  char *server_name;

  GInputStream *input;
  GOutputStream *output;

  /* Guards everything below, and every call into @ssl: a reader and a
   * writer may run at the same time in two threads. Never held while
   * waiting. */
  GMutex lock;
  SSL *ssl;
  BIO *bio;

  HandshakeState handshake_state;
  HandshakeOwner handshake_owner;
  GThread *handshake_owner_thread;  /* for OWNER_BLOCKING */
  GError *handshake_error;
  /* Cancelled when the handshake ends, to wake whoever waits for it. */
  GCancellable *handshake_ended;

  GIOCondition read_wants;         /* what the last blocked read waits for */
  GIOCondition write_wants;
  /* The last read found only part of a record buffered: what OpenSSL holds
   * cannot be read until the transport brings more. */
  gboolean read_blocked;
  /* A record encrypted from the caller's data but not yet sent (the
   * transport was full). OpenSSL sends that record on the next write, so the
   * next write must start with the same bytes; kept to check that, and to
   * flush the record before close_notify. */
  guint8 *pending_write;
  gsize pending_write_len;
  gboolean read_closed;            /* close_notify (or a tolerated EOF) seen */
  gboolean write_closed;           /* our close_notify sent */
  gboolean input_closed;           /* the input stream was closed locally */
  gboolean closed;                 /* the whole socket was closed */
  GError *fatal_error;             /* once the connection is broken */

  GSecSockVerifyState verify;

  Question question;
  guint question_serial;
  GCancellable *question_answered;  /* cancelled when the question is answered */
  gboolean async_jobs;              /* SSL_MODE_ASYNC is on for the handshake */
  /* The thread whose ASYNC job is paused (a reference: the address must not
   * be reused). OpenSSL's fibre keeps the async context of the thread that
   * started it, so only that thread may resume the job or run it to its end. */
  GThread *job_thread;
  GSecSockCertificate *client_certificate;

  /* Whether someone listens to handshake-info: asked (GLib's signal lock)
   * at the first event of each SSL call, not on every call, so records read
   * and written after the handshake, which raise no event, never ask. */
  gboolean info_wanted;
  gboolean info_checked;            /* info_wanted is known for this call */
  GArray *info_events;              /* InfoEvent, to emit once unlocked */

  guint handshake_timeout;          /* seconds, 0: none */
  gint64 handshake_deadline;        /* monotonic µs, 0: none */

  /* Results of the handshake; fixed once it has completed. */
  GSecSockCertificate *peer_certificate;
  GListModel *peer_chain;
  GSecSockProtocolVersion protocol_version;
  const char *cipher_name;         /* static in OpenSSL */
  char *alpn_protocol;
  gboolean session_reused;
};

G_DEFINE_FINAL_TYPE (GSecSockSecureSocket, gsecsock_secure_socket, G_TYPE_IO_STREAM)

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_BASE_STREAM,
  PROP_PEER_NAME,
  PROP_REQUIRE_CLOSE_NOTIFY,
  PROP_PEER_CERTIFICATE,
  PROP_PEER_CERTIFICATE_CHAIN,
  PROP_CERTIFICATE_ERRORS,
  PROP_CERTIFICATE_STATUS,
  PROP_PROTOCOL_VERSION,
  PROP_CIPHER_NAME,
  PROP_ALPN_PROTOCOL,
  PROP_SESSION_REUSED,
  PROP_HANDSHAKE_COMPLETE,
  PROP_HANDSHAKE_TIMEOUT,
  PROP_SERVER_NAME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_VERIFY_CERTIFICATE,
  SIGNAL_HANDSHAKE_INFO,
  SIGNAL_CLIENT_CERTIFICATE_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define DEFAULT_HANDSHAKE_TIMEOUT 60

/* How often to look again while a plaintext write issued before securing
 * is still pending on the transport. */
#define OUTPUT_BUSY_RETRY_MS 2

static gboolean
is_server (GSecSockSecureSocket *self)
{
  return gsecsock_secure_socket_context_get_mode (self->context) == GSECSOCK_MODE_SERVER;
}

/* How messages name the peer, mid-sentence and at the start of one. */
static const char *
peer_label (GSecSockSecureSocket *self)
{
  /* Translators: the peer in the middle of a sentence, as in “The TLS
   * handshake with the server failed”. */
  return self->peer_name ? self->peer_name : (is_server (self) ? _("the client") : _("the server"));
}

static const char *
Peer_label (GSecSockSecureSocket *self)
{
  /* Translators: the peer at the start of a sentence, as in “The server
   * closed the connection during the TLS handshake”. */
  return self->peer_name ? self->peer_name : (is_server (self) ? _("The client") : _("The server"));
}

/* ---- Errors --------------------------------------------------------- */

static gboolean
reason_is_version (int reason)
{
  switch (reason)
    {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_WRONG_SSL_VERSION:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case SSL_R_UNSUPPORTED_SSL_VERSION:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
reason_is_not_tls (int reason)
{
  switch (reason)
    {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_UNKNOWN_PROTOCOL:
      return TRUE;
    default:
      return FALSE;
    }
}

/* OpenSSL reports a received alert as reason SSL_AD_REASON_OFFSET + code. */
static int
reason_alert (int reason)
{
  if (reason > SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256)
    return reason - SSL_AD_REASON_OFFSET;
  return -1;
}

/* OpenSSL 3.0 has no names for the alerts TLS 1.3 added. */
static const char *
alert_description (int alert)
{
  switch (alert)
    {
    case 109: return "missing extension";
    case 115: return "unknown PSK identity";
    case 116: return "certificate required";
    case 120: return "no application protocol";
    default: return SSL_alert_desc_string_long (alert);
    }
}

static void
set_eof_error (GSecSockSecureSocket *self, Op op, GError **error)
{
  if (op == OP_HANDSHAKE)
    g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_EOF,
                 _("%s closed the connection during the TLS handshake"), Peer_label (self));
  else
    g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_EOF,
                 _("%s closed the connection without a TLS close_notify: the data "
                   "may have been cut short"), Peer_label (self));
}

/* Turns a failed SSL call into a GError. Called with the lock held; leaves
 * OpenSSL's error queue empty. */
static void
map_failure (GSecSockSecureSocket *self,
             Op                    op,
             int                   ssl_error,
             GError              **error)
{
  unsigned long code = 0, first_code = 0, too_long_code = 0;
  int version_reason = 0, not_tls_reason = 0, alert = -1;
  gboolean verify_failed = FALSE, eof = FALSE, alpn = FALSE, no_cert = FALSE;
  g_autoptr(GError) transport_error = NULL;
  /* Translators: what failed, used in “The %s with %s failed: %s” and
   * “%s ended the %s with the alert “%s”” below. */
  const char *during = op == OP_HANDSHAKE ? _("TLS handshake") : _("TLS connection");

  /* Take both: an error left behind would be blamed for a later failure. */
  transport_error = gsecsock_bio_steal_read_error (self->bio);
  {
    g_autoptr(GError) write_error = gsecsock_bio_steal_write_error (self->bio);
    if (transport_error == NULL)
      transport_error = g_steal_pointer (&write_error);
  }

  while ((code = ERR_get_error ()) != 0)
    {
      int r = ERR_GET_REASON (code);

      if (first_code == 0)
        first_code = code;
      if (ERR_GET_LIB (code) != ERR_LIB_SSL)
        continue;
      if (r == SSL_R_CERTIFICATE_VERIFY_FAILED)
        verify_failed = TRUE;
      else if (r == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        eof = TRUE;
      else if (r == SSL_R_NO_APPLICATION_PROTOCOL)
        alpn = TRUE;
      else if (r == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
        no_cert = TRUE;
      if (r == SSL_R_PACKET_LENGTH_TOO_LONG || r == SSL_R_ENCRYPTED_LENGTH_TOO_LONG ||
          r == SSL_R_DATA_LENGTH_TOO_LONG)
        too_long_code = code;
      else if (reason_is_version (r))
        version_reason = r;
      else if (reason_is_not_tls (r))
        not_tls_reason = r;
      else if (reason_alert (r) >= 0)
        alert = reason_alert (r);
    }

  /* Transport errors stay what they are (G_IO_ERROR). */
  if (transport_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&transport_error));
      return;
    }

  /* A TLS record header claiming more than TLS allows is broken TLS, not
   * another protocol (OpenSSL reports both as "packet length too long"). */
  if (too_long_code != 0 && gsecsock_bio_peer_sent_tls_header (self->bio))
    {
      g_set_error (error, GSECSOCK_ERROR,
                   op == OP_HANDSHAKE ? GSECSOCK_ERROR_HANDSHAKE_FAILED : GSECSOCK_ERROR_PROTOCOL,
                   _("%s sent a TLS record longer than the protocol allows (%s), so the %s "
                     "was ended"), Peer_label (self), ERR_reason_error_string (too_long_code), during);
      return;
    }

  if (gsecsock_bio_peer_is_not_tls (self->bio) ||
      (not_tls_reason != 0 && op == OP_HANDSHAKE))
    {
      g_autofree char *first = gsecsock_bio_describe_first_bytes (self->bio);
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_TLS,
                   _("%s does not speak TLS: it sent “%s”"), Peer_label (self), first);
      return;
    }

  if (verify_failed || (self->verify.rejected && op == OP_HANDSHAKE))
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED, "%s",
                   self->verify.message ? self->verify.message
                                        : _("The peer's certificate failed verification"));
      return;
    }

  if (no_cert)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED,
                           _("The client sent no certificate, but this server requires one"));
      return;
    }

  if (alpn || alert == SSL_AD_NO_APPLICATION_PROTOCOL)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_ALPN,
                   _("%s and this side have no application protocol (ALPN) in common"),
                   Peer_label (self));
      return;
    }

  if (version_reason != 0 || alert == SSL_AD_PROTOCOL_VERSION)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION,
                   _("%s and this side have no TLS version in common (allowed here: %s): %s"),
                   Peer_label (self),
                   SSL_get_min_proto_version (self->ssl) == TLS1_3_VERSION ? _("TLS 1.3 only") :
                   SSL_get_max_proto_version (self->ssl) == TLS1_2_VERSION ? _("up to TLS 1.2") :
                   _("TLS 1.2 and later"),
                   ERR_reason_error_string (first_code) ? ERR_reason_error_string (first_code)
                                                        : _("protocol version"));
      return;
    }

  if (alert == 116)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED,
                   _("%s requires a client certificate, and none was sent (alert “%s”): "
                     "load one with gsecsock_secure_socket_context_load_certificate_file()"),
                   Peer_label (self), alert_description (alert));
      return;
    }

  if (alert >= 0)
    {
      g_set_error (error, GSECSOCK_ERROR,
                   op == OP_HANDSHAKE ? GSECSOCK_ERROR_HANDSHAKE_FAILED : GSECSOCK_ERROR_PROTOCOL,
                   /* Translators: “The server ended the TLS handshake with the
                    * alert “handshake failure””; the alert's name is OpenSSL's. */
                   _("%s ended the %s with the alert “%s”"), Peer_label (self), during,
                   alert_description (alert));
      return;
    }

  if (eof || (ssl_error == SSL_ERROR_SYSCALL && first_code == 0) ||
      ssl_error == SSL_ERROR_ZERO_RETURN)
    {
      if (op == OP_HANDSHAKE && gsecsock_bio_bytes_read (self->bio) == 0)
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_EOF,
                     _("%s closed the connection without answering the TLS handshake"),
                     Peer_label (self));
      else
        set_eof_error (self, op, error);
      return;
    }

  g_set_error (error, GSECSOCK_ERROR,
               op == OP_HANDSHAKE ? GSECSOCK_ERROR_HANDSHAKE_FAILED : GSECSOCK_ERROR_PROTOCOL,
               /* Translators: “The TLS handshake with the server failed: REASON”;
                * the reason is OpenSSL's, in English. */
               _("The %s with %s failed: %s"), during, peer_label (self),
               first_code && ERR_reason_error_string (first_code)
                 ? ERR_reason_error_string (first_code) : _("unknown OpenSSL error"));
}

/* ---- The handshake's results ---------------------------------------- */

static GSecSockProtocolVersion
protocol_version_from_openssl (int version)
{
  switch (version)
    {
    case TLS1_VERSION: return GSECSOCK_PROTOCOL_VERSION_TLS_1_0;
    case TLS1_1_VERSION: return GSECSOCK_PROTOCOL_VERSION_TLS_1_1;
    case TLS1_2_VERSION: return GSECSOCK_PROTOCOL_VERSION_TLS_1_2;
    case TLS1_3_VERSION: return GSECSOCK_PROTOCOL_VERSION_TLS_1_3;
    default: return GSECSOCK_PROTOCOL_VERSION_UNKNOWN;
    }
}

/* A resumed session is not verified again: its chain comes from the
 * session, which only verified sessions enter. */
static GListModel *
chain_from_session (GSecSockSecureSocket *self)
{
  GListStore *store = g_list_store_new (GSECSOCK_TYPE_CERTIFICATE);
  X509 *leaf = SSL_get0_peer_certificate (self->ssl);
  STACK_OF(X509) *chain = SSL_get_peer_cert_chain (self->ssl);

  if (leaf != NULL)
    {
      g_autoptr(GSecSockCertificate) cert = gsecsock_certificate_new_from_x509 (leaf);
      g_list_store_append (store, cert);
    }
  for (int i = 0; chain != NULL && i < sk_X509_num (chain); i++)
    {
      g_autoptr(GSecSockCertificate) cert = NULL;
      if (X509_cmp (sk_X509_value (chain, i), leaf) == 0)
        continue;
      cert = gsecsock_certificate_new_from_x509 (sk_X509_value (chain, i));
      g_list_store_append (store, cert);
    }
  return G_LIST_MODEL (store);
}

static void
collect_results_locked (GSecSockSecureSocket *self)
{
  const unsigned char *alpn = NULL;
  unsigned int alpn_len = 0;

  self->protocol_version = protocol_version_from_openssl (SSL_version (self->ssl));
  self->cipher_name = SSL_CIPHER_get_name (SSL_get_current_cipher (self->ssl));
  SSL_get0_alpn_selected (self->ssl, &alpn, &alpn_len);
  g_clear_pointer (&self->alpn_protocol, g_free);
  if (alpn_len > 0)
    self->alpn_protocol = g_strndup ((const char *) alpn, alpn_len);
  self->session_reused = SSL_session_reused (self->ssl);

  g_clear_object (&self->peer_chain);
  if (self->verify.chain != NULL && !self->session_reused)
    self->peer_chain = G_LIST_MODEL (g_object_ref (self->verify.chain));
  else
    self->peer_chain = chain_from_session (self);
  g_clear_object (&self->peer_certificate);
  self->peer_certificate = g_list_model_get_item (self->peer_chain, 0);
}

/* After a failure the chain seen so far is still worth reporting. */
static void
collect_failure_locked (GSecSockSecureSocket *self)
{
  if (self->verify.chain != NULL && self->peer_chain == NULL)
    {
      self->peer_chain = G_LIST_MODEL (g_object_ref (self->verify.chain));
      self->peer_certificate = g_list_model_get_item (self->peer_chain, 0);
    }
}

static void
notify_handshake_results (GSecSockSecureSocket *self)
{
  GObject *object = G_OBJECT (self);

  g_object_freeze_notify (object);
  g_object_notify_by_pspec (object, properties[PROP_PEER_CERTIFICATE]);
  g_object_notify_by_pspec (object, properties[PROP_PEER_CERTIFICATE_CHAIN]);
  g_object_notify_by_pspec (object, properties[PROP_CERTIFICATE_ERRORS]);
  g_object_notify_by_pspec (object, properties[PROP_CERTIFICATE_STATUS]);
  g_object_notify_by_pspec (object, properties[PROP_PROTOCOL_VERSION]);
  g_object_notify_by_pspec (object, properties[PROP_CIPHER_NAME]);
  g_object_notify_by_pspec (object, properties[PROP_ALPN_PROTOCOL]);
  g_object_notify_by_pspec (object, properties[PROP_SESSION_REUSED]);
  g_object_notify_by_pspec (object, properties[PROP_HANDSHAKE_COMPLETE]);
  if (is_server (self))
    g_object_notify_by_pspec (object, properties[PROP_SERVER_NAME]);
  g_object_thaw_notify (object);
}

static void finish_paused_job_locked (GSecSockSecureSocket *self);

/* Whether an ASYNC job is paused that this thread must not resume. */
static gboolean
job_paused_elsewhere_locked (GSecSockSecureSocket *self)
{
  return self->ssl != NULL && SSL_waiting_for_async (self->ssl) &&
         self->job_thread != g_thread_self ();
}

static void
clear_async_mode_locked (GSecSockSecureSocket *self)
{
  if (self->async_jobs && !SSL_waiting_for_async (self->ssl))
    {
      SSL_clear_mode (self->ssl, SSL_MODE_ASYNC);
      self->async_jobs = FALSE;
    }
}

/* Ends the handshake (with @error NULL on success). Lock held. Returns
 * whether the caller must emit the notifications once unlocked. */
static gboolean
end_handshake_locked (GSecSockSecureSocket *self,
                      const GError         *error)
{
  if (self->handshake_state == HANDSHAKE_DONE || self->handshake_state == HANDSHAKE_FAILED)
    return FALSE;

  /* The name a client asked for (SNI), if its ClientHello was read. */
  if (is_server (self) && self->server_name == NULL)
    self->server_name = g_strdup (SSL_get_servername (self->ssl, TLSEXT_NAMETYPE_host_name));

  if (error == NULL)
    {
      self->handshake_state = HANDSHAKE_DONE;
      collect_results_locked (self);
    }
  else
    {
      self->handshake_state = HANDSHAKE_FAILED;
      g_clear_error (&self->handshake_error);
      self->handshake_error = g_error_copy (error);
      collect_failure_locked (self);
    }
  self->handshake_owner = OWNER_NONE;
  self->handshake_owner_thread = NULL;
  /* A job paused by another thread is finished by that thread, woken by
   * handshake_ended (see handshake_step()). */
  if (SSL_waiting_for_async (self->ssl) && !job_paused_elsewhere_locked (self))
    finish_paused_job_locked (self);
  clear_async_mode_locked (self);
  g_cancellable_cancel (self->handshake_ended);
  return TRUE;
}

/* ---- Decisions and handshake events ----------------------------------- */

static gboolean
has_handler (GSecSockSecureSocket  *self,
             guint                  socket_signal,
             GSecSockContextSignal  context_signal)
{
  return g_signal_has_handler_pending (self, signals[socket_signal], 0, FALSE) ||
         g_signal_has_handler_pending (self->context,
                                       gsecsock_secure_socket_context_signal (context_signal),
                                       0, FALSE);
}

/* Whether the handshake may have to pause for an application's answer. */
static gboolean
wants_decisions (GSecSockSecureSocket *self)
{
  return has_handler (self, SIGNAL_VERIFY_CERTIFICATE, CONTEXT_SIGNAL_VERIFY_CERTIFICATE) ||
         (!is_server (self) &&
          has_handler (self, SIGNAL_CLIENT_CERTIFICATE_REQUESTED,
                       CONTEXT_SIGNAL_CLIENT_CERTIFICATE_REQUESTED));
}

static void
question_clear_locked (GSecSockSecureSocket *self)
{
  Question *question = &self->question;

  g_clear_pointer (&question->certificate, X509_free);
  g_clear_pointer (&question->issuers, g_strfreev);
  g_clear_object (&question->selected);
  question->state = QUESTION_NONE;
  question->asking_thread = NULL;
  question->depth = 0;
  question->errors = 0;
  question->accept = FALSE;
  question->select = FALSE;
}

/* Inside an OpenSSL callback, lock held: pauses the ASYNC job until the
 * question (kind and details filled in by the caller) is answered. FALSE
 * if there is no job to pause: the caller then decides by default. */
static gboolean
pause_for_answer_locked (GSecSockSecureSocket *self)
{
  if (ASYNC_get_current_job () == NULL)
    return FALSE;
  self->question.state = QUESTION_WAITING;
  self->question.serial = ++self->question_serial;
  if (self->job_thread != g_thread_self ())
    {
      g_clear_pointer (&self->job_thread, g_thread_unref);
      self->job_thread = g_thread_ref (g_thread_self ());
    }
  g_clear_object (&self->question_answered);
  self->question_answered = g_cancellable_new ();
  if (!ASYNC_pause_job ())
    return FALSE;
  /* Resumed by step(), which holds the lock again, once answered (or once
   * the handshake was abandoned, with a refusal). */
  return TRUE;
}

/* The verification callback's decision (see gsecsock-verify.c). */
static gboolean
decide_verify (gpointer                 user_data,
               X509                    *cert,
               int                      depth,
               GSecSockCertificateFlags flags)
{
  GSecSockSecureSocket *self = user_data;
  gboolean accept = flags == 0 || !self->verify.verify_peer;

  if (!has_handler (self, SIGNAL_VERIFY_CERTIFICATE, CONTEXT_SIGNAL_VERIFY_CERTIFICATE))
    return accept;

  question_clear_locked (self);
  self->question.kind = GSECSOCK_DECISION_VERIFY_CERTIFICATE;
  X509_up_ref (cert);
  self->question.certificate = cert;
  self->question.depth = depth;
  self->question.errors = flags;
  if (pause_for_answer_locked (self))
    accept = self->question.accept;
  question_clear_locked (self);
  return accept;
}

static GStrv
acceptable_issuers (SSL *ssl)
{
  const STACK_OF(X509_NAME) *names = SSL_get0_peer_CA_list (ssl);
  GStrvBuilder *builder = g_strv_builder_new ();
  GStrv result;

  for (int i = 0; names != NULL && i < sk_X509_NAME_num (names); i++)
    {
      g_autofree char *name = gsecsock_verify_format_name (sk_X509_NAME_value (names, i));
      g_strv_builder_add (builder, name);
    }
  result = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return result;
}

/* SSL_CTX_set_cert_cb: on a client, called when the server asked for a
 * certificate (on a server, when a ClientHello arrived: nothing to do).
 * Lock held, maybe inside the ASYNC job. */
int
gsecsock_secure_socket_client_cert_cb (SSL  *ssl,
                                       void *user_data)
{
  GSecSockSecureSocket *self;
  g_autoptr(GSecSockCertificate) chosen = NULL;
  gboolean select = FALSE;

  if (SSL_is_server (ssl))
    return 1;
  self = SSL_get_ex_data (ssl, gsecsock_secure_socket_context_socket_index ());
  if (self == NULL)
    return 1;

  if (has_handler (self, SIGNAL_CLIENT_CERTIFICATE_REQUESTED,
                   CONTEXT_SIGNAL_CLIENT_CERTIFICATE_REQUESTED))
    {
      question_clear_locked (self);
      self->question.kind = GSECSOCK_DECISION_CLIENT_CERTIFICATE;
      self->question.issuers = acceptable_issuers (ssl);
      if (pause_for_answer_locked (self))
        {
          select = self->question.select;
          chosen = self->question.selected ? g_object_ref (self->question.selected) : NULL;
        }
      question_clear_locked (self);
    }

  if (!select && self->client_certificate != NULL)
    {
      select = TRUE;
      chosen = g_object_ref (self->client_certificate);
    }
  if (!select)
    return 1;   /* the context's certificate, if any */

  if (chosen == NULL)
    {
      /* Declined: an empty Certificate message; the server decides. */
      SSL_certs_clear (ssl);
      return 1;
    }
  if (!SSL_use_cert_and_key (ssl, gsecsock_certificate_get_x509 (chosen),
                             gsecsock_certificate_get_private_key (chosen),
                             gsecsock_certificate_get_chain (chosen), 1))
    return 0;
  return 1;
}

/* SSL_CTX_set_info_callback. Lock held (inside step()); events are queued
 * and emitted once the lock is released, outside OpenSSL. */
void
gsecsock_secure_socket_info_cb (const SSL *ssl,
                                int        where,
                                int        ret)
{
  GSecSockSecureSocket *self = SSL_get_ex_data (ssl, gsecsock_secure_socket_context_socket_index ());
  InfoEvent event = { 0, };

  if (self == NULL)
    return;
  if (!self->info_checked)
    {
      self->info_wanted = has_handler (self, SIGNAL_HANDSHAKE_INFO, CONTEXT_SIGNAL_HANDSHAKE_INFO);
      self->info_checked = TRUE;
    }
  if (!self->info_wanted)
    return;

  event.flags = SSL_is_server (ssl) ? GSECSOCK_HANDSHAKE_INFO_ACCEPT
                                    : GSECSOCK_HANDSHAKE_INFO_CONNECT;
  if (where & SSL_CB_ALERT)
    {
      gboolean fatal = (ret >> 8) == SSL3_AL_FATAL;

      event.flags |= GSECSOCK_HANDSHAKE_INFO_ALERT;
      event.flags |= (where & SSL_CB_READ) ? GSECSOCK_HANDSHAKE_INFO_READ
                                           : GSECSOCK_HANDSHAKE_INFO_WRITE;
      if (fatal)
        event.flags |= GSECSOCK_HANDSHAKE_INFO_FATAL;
      event.value = ret & 0xff;
      event.description = g_strdup_printf ("%s %s", fatal ? "fatal" : "warning",
                                           alert_description (ret & 0xff));
      /* The RFC's names: "close_notify", "bad_certificate". */
      for (char *p = event.description + (fatal ? 6 : 8); *p != '\0'; p++)
        *p = *p == ' ' ? '_' : g_ascii_tolower (*p);
    }
  else if (where & SSL_CB_HANDSHAKE_START)
    {
      event.flags |= GSECSOCK_HANDSHAKE_INFO_START;
      event.description = g_strdup ("handshake started");
    }
  else if (where & SSL_CB_HANDSHAKE_DONE)
    {
      event.flags |= GSECSOCK_HANDSHAKE_INFO_DONE;
      event.value = 1;
      event.description = g_strdup ("handshake done");
    }
  else if (where & SSL_CB_LOOP)
    {
      event.flags |= GSECSOCK_HANDSHAKE_INFO_STATE;
      event.value = ret;
      event.description = g_strdup (SSL_state_string_long (ssl));
    }
  else if (where & SSL_CB_EXIT)
    {
      event.flags |= GSECSOCK_HANDSHAKE_INFO_EXIT;
      event.value = ret;
      event.description = g_strdup (SSL_state_string_long (ssl));
    }
  else
    return;

  if (self->info_events == NULL)
    self->info_events = g_array_new (FALSE, FALSE, sizeof (InfoEvent));
  g_array_append_val (self->info_events, event);
}

/* Emits queued handshake-info events: on the socket if it has a handler,
 * else on the context. Lock not held. */
static void
emit_info_events (GSecSockSecureSocket *self,
                  GArray               *events)
{
  gboolean on_socket;

  if (events == NULL)
    return;
  g_object_ref (self);
  on_socket = g_signal_has_handler_pending (self, signals[SIGNAL_HANDSHAKE_INFO], 0, FALSE);
  for (guint i = 0; i < events->len; i++)
    {
      InfoEvent *event = &g_array_index (events, InfoEvent, i);

      if (on_socket)
        g_signal_emit (self, signals[SIGNAL_HANDSHAKE_INFO], 0,
                       event->flags, event->value, event->description);
      else
        g_signal_emit (self->context,
                       gsecsock_secure_socket_context_signal (CONTEXT_SIGNAL_HANDSHAKE_INFO), 0,
                       self, event->flags, event->value, event->description);
      g_free (event->description);
    }
  g_array_unref (events);
  g_object_unref (self);
}

/* Emits the signal for the question the handshake paused on, and records
 * the answer unless the handler deferred it. Lock not held; the question
 * is in QUESTION_ASKING, owned by this thread. */
static void
ask_question (GSecSockSecureSocket *self)
{
  Question *question = &self->question;
  GSecSockDecisionKind kind;
  g_autoptr(GSecSockCertificate) certificate = NULL;
  g_auto(GStrv) issuers = NULL;
  int depth;
  GSecSockCertificateFlags errors;
  gboolean answer = FALSE;
  guint serial;

  g_object_ref (self);

  g_mutex_lock (&self->lock);
  kind = question->kind;
  serial = question->serial;
  depth = question->depth;
  errors = question->errors;
  if (question->certificate != NULL)
    certificate = gsecsock_certificate_new_from_x509 (question->certificate);
  issuers = g_strdupv (question->issuers);
  g_mutex_unlock (&self->lock);

  if (kind == GSECSOCK_DECISION_VERIFY_CERTIFICATE)
    {
      if (g_signal_has_handler_pending (self, signals[SIGNAL_VERIFY_CERTIFICATE], 0, FALSE))
        g_signal_emit (self, signals[SIGNAL_VERIFY_CERTIFICATE], 0,
                       certificate, (guint) depth, errors, &answer);
      else if (g_signal_has_handler_pending (self->context,
                                             gsecsock_secure_socket_context_signal (CONTEXT_SIGNAL_VERIFY_CERTIFICATE),
                                             0, FALSE))
        g_signal_emit (self->context,
                       gsecsock_secure_socket_context_signal (CONTEXT_SIGNAL_VERIFY_CERTIFICATE), 0,
                       self, certificate, (guint) depth, errors, &answer);
      else
        answer = errors == 0 || !self->verify.verify_peer;   /* disconnected meanwhile */
    }
  else
    {
      if (g_signal_has_handler_pending (self, signals[SIGNAL_CLIENT_CERTIFICATE_REQUESTED], 0, FALSE))
        g_signal_emit (self, signals[SIGNAL_CLIENT_CERTIFICATE_REQUESTED], 0, issuers, &answer);
      else if (g_signal_has_handler_pending (self->context,
                                             gsecsock_secure_socket_context_signal (CONTEXT_SIGNAL_CLIENT_CERTIFICATE_REQUESTED),
                                             0, FALSE))
        g_signal_emit (self->context,
                       gsecsock_secure_socket_context_signal (CONTEXT_SIGNAL_CLIENT_CERTIFICATE_REQUESTED), 0,
                       self, issuers, &answer);
    }

  g_mutex_lock (&self->lock);
  if (question->serial == serial && question->state == QUESTION_ASKING)
    {
      question->state = QUESTION_ANSWERED;
      if (kind == GSECSOCK_DECISION_VERIFY_CERTIFICATE)
        question->accept = answer;
      else
        {
          /* Handled: what set_client_certificate() chose, maybe nothing. */
          question->accept = TRUE;
          question->select = answer;
          g_clear_object (&question->selected);
          if (answer && self->client_certificate != NULL)
            question->selected = g_object_ref (self->client_certificate);
        }
      g_cancellable_cancel (self->question_answered);
    }
  if (question->serial == serial)
    question->asking_thread = NULL;
  g_mutex_unlock (&self->lock);

  g_object_unref (self);
}

void
gsecsock_secure_socket_answer (GSecSockSecureSocket *self,
                               guint                 serial,
                               gboolean              accept,
                               gboolean              select,
                               GSecSockCertificate  *certificate)
{
  Question *question = &self->question;

  g_mutex_lock (&self->lock);
  if (question->serial == serial &&
      (question->state == QUESTION_DEFERRED || question->state == QUESTION_ASKING))
    {
      question->state = QUESTION_ANSWERED;
      question->accept = accept;
      if (question->kind == GSECSOCK_DECISION_CLIENT_CERTIFICATE)
        {
          /* Rejected: send nothing; accepted: the default choice. */
          question->select = select || !accept;
          g_clear_object (&question->selected);
          if (select && certificate != NULL)
            question->selected = g_object_ref (certificate);
          /* What the socket sends, as set_client_certificate() would. */
          if (select)
            g_set_object (&self->client_certificate, certificate);
        }
      g_cancellable_cancel (self->question_answered);
    }
  g_mutex_unlock (&self->lock);
}

/**
 * gsecsock_secure_socket_defer_decision:
 * @self: a socket
 *
 * Postpones the answer of the [signal@GSecSock.SecureSocket::verify-certificate]
 * or [signal@GSecSock.SecureSocket::client-certificate-requested] handler
 * being run (or of the context's handlers of the same names), for example
 * to ask the user. Call it only from inside such a handler, in the thread
 * that emitted it; the handler's return value is then ignored.
 *
 * The handshake waits — without blocking the main loop and without a
 * thread — until the returned decision is answered with
 * [method@GSecSock.Decision.accept], [method@GSecSock.Decision.reject] or
 * [method@GSecSock.Decision.select_certificate], from the main loop or any
 * thread. It gives up with %G_IO_ERROR_TIMED_OUT after
 * [property@GSecSock.SecureSocket:handshake-timeout], with
 * %G_IO_ERROR_CANCELLED if the handshake's cancellable fires, and with
 * %GSECSOCK_ERROR_CLOSED if the socket is closed.
 *
 * Waiting makes sense with the asynchronous API
 * ([method@GSecSock.SecureSocket.handshake_async] or an asynchronous read
 * or write): a blocking handshake blocks its thread until another thread
 * answers or the timeout expires.
 *
 * ```c
 * static gboolean
 * on_verify (GSecSockSecureSocket *sock, GSecSockCertificate *cert,
 *            guint depth, GSecSockCertificateFlags errors, gpointer data)
 * {
 *   if (errors == 0)
 *     return TRUE;
 *   ask_user_async (cert, errors, gsecsock_secure_socket_defer_decision (sock));
 *   return FALSE;   // ignored
 * }
 * ```
 *
 * Returns: (transfer full) (nullable): the decision to answer later, or
 *   %NULL (with a critical warning) when not called from such a handler
 *
 * Since: 0.1
 */
GSecSockDecision *
gsecsock_secure_socket_defer_decision (GSecSockSecureSocket *self)
{
  Question *question;
  GSecSockDecision *decision = NULL;
  g_autoptr(GSecSockCertificate) certificate = NULL;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), NULL);

  question = &self->question;
  g_mutex_lock (&self->lock);
  if (question->state == QUESTION_ASKING && question->asking_thread == g_thread_self ())
    {
      question->state = QUESTION_DEFERRED;
      if (question->certificate != NULL)
        certificate = gsecsock_certificate_new_from_x509 (question->certificate);
      decision = gsecsock_decision_new (self, question->serial, question->kind, certificate,
                                        (guint) question->depth, question->errors,
                                        (const char * const *) question->issuers);
    }
  g_mutex_unlock (&self->lock);

  if (decision == NULL)
    g_critical ("gsecsock_secure_socket_defer_decision() must be called from a "
                "verify-certificate or client-certificate-requested handler, "
                "in the thread that emitted it");
  return decision;
}

/**
 * gsecsock_secure_socket_set_client_certificate:
 * @self: a client socket
 * @certificate: (nullable): a certificate with its private key (see
 *   [method@GSecSock.Certificate.get_has_private_key]), or %NULL
 *
 * Sets the certificate this client sends when the server asks for one,
 * instead of the context's. Call it before the handshake, or from a
 * [signal@GSecSock.SecureSocket::client-certificate-requested] handler
 * (which then returns %TRUE).
 *
 * Since: 0.1
 */
void
gsecsock_secure_socket_set_client_certificate (GSecSockSecureSocket *self,
                                               GSecSockCertificate  *certificate)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET (self));
  g_return_if_fail (certificate == NULL || GSECSOCK_IS_CERTIFICATE (certificate));
  g_return_if_fail (certificate == NULL || gsecsock_certificate_get_has_private_key (certificate));

  g_mutex_lock (&self->lock);
  g_set_object (&self->client_certificate, certificate);
  g_mutex_unlock (&self->lock);
}

/**
 * gsecsock_secure_socket_get_client_certificate:
 * @self: a socket
 *
 * Gets the certificate set with
 * [method@GSecSock.SecureSocket.set_client_certificate].
 *
 * Returns: (transfer none) (nullable): the client certificate
 *
 * Since: 0.1
 */
GSecSockCertificate *
gsecsock_secure_socket_get_client_certificate (GSecSockSecureSocket *self)
{
  GSecSockCertificate *certificate;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), NULL);

  g_mutex_lock (&self->lock);
  certificate = self->client_certificate;
  g_mutex_unlock (&self->lock);
  return certificate;
}

/* A paused job must run to its end before the handshake is abandoned or
 * the SSL freed: resumes it with refusals until it stops. Lock held. */
static void
finish_paused_job_locked (GSecSockSecureSocket *self)
{
  for (int i = 0; i < 16 && self->ssl != NULL && SSL_waiting_for_async (self->ssl); i++)
    {
      self->question.state = QUESTION_ANSWERED;
      self->question.accept = FALSE;
      self->question.select = TRUE;      /* no client certificate */
      g_clear_object (&self->question.selected);
      SSL_do_handshake (self->ssl);
    }
  ERR_clear_error ();
  question_clear_locked (self);
  if (self->question_answered != NULL)
    g_cancellable_cancel (self->question_answered);
}

/* ---- The engine ------------------------------------------------------- */

/* One non-blocking attempt at @op. Never waits. On STEP_WOULD_BLOCK,
 * *wants says which condition of the base stream to wait for. */
static StepResult
step (GSecSockSecureSocket  *self,
      Op                     op,
      void                  *buffer,
      gsize                  count,
      gsize                 *done,
      GIOCondition          *wants,
      GError               **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean notify = FALSE;
  GArray *events;
  StepResult result;
  size_t n = 0;
  int ret, ssl_error = SSL_ERROR_NONE;

  g_mutex_lock (&self->lock);

  if (self->fatal_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->fatal_error));
      g_mutex_unlock (&self->lock);
      return STEP_ERROR;
    }

  if (op == OP_WRITE && self->pending_write_len > 0 &&
      (count < self->pending_write_len ||
       memcmp (buffer, self->pending_write, self->pending_write_len) != 0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The first %lu bytes of an earlier write are already "
                     "encrypted and waiting for the connection: after G_IO_ERROR_WOULD_BLOCK "
                     "or a cancelled write, write the same data again"),
                   (gulong) self->pending_write_len);
      g_mutex_unlock (&self->lock);
      return STEP_ERROR;
    }

  /* Jobs cost a little: only when a handler may have to pause the
   * handshake. Never turned off while a job is paused. */
  if (op == OP_HANDSHAKE && !self->async_jobs && wants_decisions (self))
    {
      if (!ASYNC_is_capable ())
        {
          /* Never decide in the application's place: it may reject. */
          g_set_error_literal (&local_error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                               _("This OpenSSL cannot pause a handshake (no ASYNC support), "
                                 "so verify-certificate and client-certificate-requested "
                                 "handlers cannot be used on this platform"));
          notify = end_handshake_locked (self, local_error);
          g_mutex_unlock (&self->lock);
          if (notify)
            notify_handshake_results (self);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return STEP_ERROR;
        }
      SSL_set_mode (self->ssl, SSL_MODE_ASYNC);
      self->async_jobs = TRUE;
    }
  self->info_checked = FALSE;

  ERR_clear_error ();
  switch (op)
    {
    case OP_HANDSHAKE:
      ret = SSL_do_handshake (self->ssl);
      break;
    case OP_READ:
      ret = SSL_read_ex (self->ssl, buffer, count, &n);
      break;
    case OP_WRITE:
      ret = SSL_write_ex (self->ssl, buffer, count, &n);
      break;
    case OP_SHUTDOWN:
      /* A record still waiting must leave before close_notify: its bytes
       * are the caller's, already counted as not written. */
      if (self->pending_write_len > 0)
        {
          ret = SSL_write_ex (self->ssl, self->pending_write, self->pending_write_len, &n);
          if (ret > 0)
            self->pending_write_len = 0;
          else
            break;
        }
      ret = SSL_shutdown (self->ssl);
      /* 0: our close_notify left; we do not wait for the peer's. */
      if (ret == 0)
        ret = 1;
      break;
    default:
      g_assert_not_reached ();
    }
  if (ret <= 0)
    ssl_error = SSL_get_error (self->ssl, ret);

  if (ret > 0)
    {
      *done = n;
      result = STEP_DONE;
      if (op == OP_READ)
        self->read_blocked = FALSE;
      else if (op == OP_WRITE)
        self->pending_write_len = 0;
    }
  else if (ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE)
    {
      *wants = ssl_error == SSL_ERROR_WANT_READ ? G_IO_IN : G_IO_OUT;
      result = STEP_WOULD_BLOCK;
      ERR_clear_error ();
      if (op == OP_READ)
        self->read_blocked = TRUE;
      else if (op == OP_WRITE && self->pending_write_len == 0 && ssl_error == SSL_ERROR_WANT_WRITE &&
               SSL_is_init_finished (self->ssl))
        {
          /* Partial-write mode: at most one record, of at most this many
           * bytes, is now encrypted and waiting. */
          gsize len = MIN (count, (gsize) SSL3_RT_MAX_PLAIN_LENGTH);

          if (self->pending_write == NULL)
            self->pending_write = g_malloc (SSL3_RT_MAX_PLAIN_LENGTH);
          memcpy (self->pending_write, buffer, len);
          self->pending_write_len = len;
        }
    }
  else if (op == OP_HANDSHAKE && ssl_error == SSL_ERROR_WANT_ASYNC)
    {
      /* A callback paused the handshake on a question. */
      *wants = 0;
      result = STEP_DECIDE;
    }
  else if (op == OP_READ && ssl_error == SSL_ERROR_ZERO_RETURN)
    {
      /* The peer's close_notify: a clean end of the data. */
      self->read_closed = TRUE;
      *done = 0;
      result = STEP_DONE;
    }
  else
    {
      map_failure (self, op, ssl_error, &local_error);
      if (op == OP_READ && !self->require_close_notify &&
          g_error_matches (local_error, GSECSOCK_ERROR, GSECSOCK_ERROR_EOF))
        {
          /* The application said a bare EOF is fine (HTTP/1.0 style). */
          self->read_closed = TRUE;
          g_clear_error (&local_error);
          *done = 0;
          result = STEP_DONE;
        }
      else
        {
          result = STEP_ERROR;
          if (self->handshake_state == HANDSHAKE_DONE &&
              !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              /* The connection is broken for good: later calls repeat it. */
              g_clear_error (&self->fatal_error);
              self->fatal_error = g_error_copy (local_error);
            }
        }
    }

  /* Any operation may finish (or fail) the handshake. */
  if (self->handshake_state == HANDSHAKE_RUNNING)
    {
      if (result == STEP_ERROR)
        notify = end_handshake_locked (self, local_error);
      else if (SSL_is_init_finished (self->ssl))
        notify = end_handshake_locked (self, NULL);
    }

  events = g_steal_pointer (&self->info_events);
  g_mutex_unlock (&self->lock);

  if (events != NULL && events->len > 0)
    {
      emit_info_events (self, events);
      /* A handshake-info handler may have closed the socket: waiting on
       * the closed transport would never end (and GIO warns). */
      if (result == STEP_WOULD_BLOCK && self->closed)
        {
          g_mutex_lock (&self->lock);
          if (op == OP_HANDSHAKE && self->handshake_error != NULL)
            local_error = g_error_copy (self->handshake_error);
          else
            local_error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                               _("The socket was closed by a handshake-info handler"));
          g_mutex_unlock (&self->lock);
          result = STEP_ERROR;
        }
    }
  else
    emit_info_events (self, events);
  if (notify)
    notify_handshake_results (self);
  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return result;
}

/* Milliseconds left before @deadline (monotonic µs; 0: none, -1 returned). */
static int
remaining_ms (gint64 deadline)
{
  gint64 left;

  if (deadline == 0)
    return -1;
  left = deadline - g_get_monotonic_time ();
  if (left <= 0)
    return 0;
  return (int) MIN ((left + 999) / 1000, G_MAXINT);
}

/* Blocks until the handshake driven by another caller ends, the question
 * the handshake waits on is answered, the deadline passes or @cancellable
 * is cancelled: a poll() on the cancellables' descriptors. FALSE only when
 * cancelled; the caller checks the rest. */
static gboolean
wait_for_events (GSecSockSecureSocket  *self,
                 GCancellable          *cancellable,
                 GError               **error)
{
  g_autoptr(GCancellable) answered = NULL;
  GCancellable *watched[3];
  GPollFD fds[3];
  guint n_watched = 0, n_fds = 0;
  gint64 deadline;
  gboolean elsewhere;

  g_mutex_lock (&self->lock);
  elsewhere = job_paused_elsewhere_locked (self);
  if (self->question.state != QUESTION_NONE && self->question_answered != NULL && !elsewhere)
    answered = g_object_ref (self->question_answered);
  deadline = self->handshake_deadline;
  g_mutex_unlock (&self->lock);

  watched[n_watched++] = self->handshake_ended;
  if (answered != NULL)
    watched[n_watched++] = answered;
  if (cancellable != NULL)
    watched[n_watched++] = cancellable;
  for (guint i = 0; i < n_watched; i++)
    if (g_cancellable_make_pollfd (watched[i], &fds[n_fds]))
      n_fds++;

  while (!g_cancellable_is_cancelled (self->handshake_ended) &&
         !(answered != NULL && g_cancellable_is_cancelled (answered)) &&
         !g_cancellable_is_cancelled (cancellable))
    {
      int timeout = remaining_ms (deadline);
      int n;

      if (timeout == 0)
        break;
      /* Another thread must resume its job: look again now and then, to
       * take over once it has. */
      if (elsewhere && (timeout < 0 || timeout > 100))
        timeout = 100;
      n = g_poll (fds, n_fds, timeout);
      if (n < 0 && errno != EINTR)
        break;
      if (n == 0 && elsewhere)
        break;
    }

  for (guint i = 0; i < n_watched; i++)
    g_cancellable_release_fd (watched[i]);
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

/* The main context a thread's blocking waits on a non-socket transport
 * run in: made once per thread, not once per wait. A thread waits on one
 * thing at a time, and each wait removes its sources before returning, so
 * the context is empty between waits. */
static GPrivate wait_context_key = G_PRIVATE_INIT ((GDestroyNotify) g_main_context_unref);

static GMainContext *
thread_wait_context (void)
{
  GMainContext *context = g_private_get (&wait_context_key);

  if (context == NULL)
    {
      context = g_main_context_new ();
      g_private_set (&wait_context_key, context);
    }
  return context;
}

/* Blocks until the base stream is ready for @condition, @deadline
 * (monotonic µs, 0: none) passes, or @cancellable is cancelled. FALSE with
 * @error on cancellation or a transport error; a passed deadline returns
 * TRUE, for the caller to notice. */
static gboolean
wait_blocking (GSecSockSecureSocket  *self,
               GIOCondition           condition,
               gint64                 deadline,
               GCancellable          *cancellable,
               GError               **error)
{
  GMainContext *context;
  g_autoptr(GSource) base_source = NULL;
  g_autoptr(GSource) cancel_source = NULL;
  g_autoptr(GSource) timeout_source = NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* Another write of the transport (plaintext sent before securing) is
   * still pending: GIO offers nothing to wait on, so look again shortly. */
  if ((condition & G_IO_OUT) && gsecsock_bio_output_busy (self->bio))
    {
      g_usleep (OUTPUT_BUSY_RETRY_MS * 1000);
      return !g_cancellable_set_error_if_cancelled (cancellable, error);
    }

  /* The common case, a socket: one poll() on it (and the cancellable). */
  if (self->base_socket != NULL)
    {
      g_autoptr(GError) local_error = NULL;
      gint64 timeout_us = deadline ? MAX (deadline - g_get_monotonic_time (), 0) : -1;

      if (g_socket_condition_timed_wait (self->base_socket, condition, timeout_us,
                                         cancellable, &local_error))
        return TRUE;
      if (deadline != 0 && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* Any other pollable stream: its source in the thread's wait context. */
  context = thread_wait_context ();
  if (condition & G_IO_IN)
    base_source = g_pollable_input_stream_create_source (self->base_input, NULL);
  else
    base_source = g_pollable_output_stream_create_source (self->base_output, NULL);
  g_source_set_dummy_callback (base_source);
  g_source_attach (base_source, context);
  if (cancellable != NULL)
    {
      cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_dummy_callback (cancel_source);
      g_source_attach (cancel_source, context);
    }
  if (deadline != 0)
    {
      timeout_source = g_timeout_source_new (remaining_ms (deadline));
      g_source_set_dummy_callback (timeout_source);
      g_source_attach (timeout_source, context);
    }

  /* One dispatch is enough: the caller retries its operation and waits
   * again if it still cannot proceed. */
  g_main_context_iteration (context, TRUE);

  g_source_destroy (base_source);
  if (cancel_source != NULL)
    g_source_destroy (cancel_source);
  if (timeout_source != NULL)
    g_source_destroy (timeout_source);

  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

/* Fails the running handshake with @error (a cancellation, a timeout, a
 * close, a transport wait error) so that nobody waits for it forever. */
static void
abort_handshake (GSecSockSecureSocket *self,
                 const GError         *error)
{
  gboolean notify;
  GArray *events;

  g_mutex_lock (&self->lock);
  notify = end_handshake_locked (self, error);
  events = g_steal_pointer (&self->info_events);
  g_mutex_unlock (&self->lock);
  emit_info_events (self, events);
  if (notify)
    notify_handshake_results (self);
}

/* Ends the handshake with a new error, and returns it too. */
static void
fail_handshake (GSecSockSecureSocket  *self,
                GError                *failure,
                GError               **error)
{
  abort_handshake (self, failure);
  g_propagate_error (error, failure);
}

/* Takes part in the handshake: steps it, and asks the questions it pauses
 * on. Returns TRUE when it is done; FALSE with @error on failure, or FALSE
 * without error when it must wait: then *wants is the base condition, or
 * 0 for "someone else" (the handshake's owner, or an answer). */
static gboolean
handshake_step (GSecSockSecureSocket  *self,
                gboolean               blocking,
                GCancellable          *cancellable,
                GIOCondition          *wants,
                GError               **error)
{
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      gsize ignored;
      StepResult result;

      g_mutex_lock (&self->lock);
      switch (self->handshake_state)
        {
        case HANDSHAKE_DONE:
          g_mutex_unlock (&self->lock);
          return TRUE;
        case HANDSHAKE_FAILED:
          {
            GArray *events = NULL;

            /* Ended by another thread while this thread's job was paused:
             * run it to its end here, the only thread that may. */
            if (SSL_waiting_for_async (self->ssl) && self->job_thread == g_thread_self ())
              {
                finish_paused_job_locked (self);
                clear_async_mode_locked (self);
                events = g_steal_pointer (&self->info_events);
              }
            g_propagate_error (error, g_error_copy (self->handshake_error));
            g_mutex_unlock (&self->lock);
            emit_info_events (self, events);
            return FALSE;
          }
        case HANDSHAKE_NOT_STARTED:
          self->handshake_state = HANDSHAKE_RUNNING;
          if (self->handshake_timeout > 0)
            self->handshake_deadline = g_get_monotonic_time () +
                                       (gint64) self->handshake_timeout * G_USEC_PER_SEC;
          break;
        case HANDSHAKE_RUNNING:
        default:
          break;
        }

      if (self->question.asking_thread == g_thread_self ())
        {
          g_mutex_unlock (&self->lock);
          fail_handshake (self,
                          g_error_new (GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                                       _("The socket was read, written or handshaken from inside "
                                         "its own %s handler, so the handshake was abandoned: "
                                         "answer, or postpone with "
                                         "gsecsock_secure_socket_defer_decision()"),
                                       self->question.kind == GSECSOCK_DECISION_VERIFY_CERTIFICATE
                                         ? "verify-certificate" : "client-certificate-requested"),
                          error);
          return FALSE;
        }

      if (self->handshake_deadline != 0 && g_get_monotonic_time () >= self->handshake_deadline)
        {
          guint timeout = self->handshake_timeout;

          g_mutex_unlock (&self->lock);
          fail_handshake (self,
                          g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                       gsecsock_ngettext ("The TLS handshake with %s did not complete "
                                                          "within %u second (see the handshake-timeout "
                                                          "property)",
                                                          "The TLS handshake with %s did not complete "
                                                          "within %u seconds (see the handshake-timeout "
                                                          "property)", timeout),
                                       peer_label (self), timeout),
                          error);
          return FALSE;
        }

      /* A blocking handshake in another thread drives it alone.
       * Non-blocking callers only step it when woken, and may have gone
       * away: a blocking caller takes over from them. */
      if (self->handshake_owner == OWNER_BLOCKING &&
          self->handshake_owner_thread != g_thread_self ())
        {
          *wants = 0;
          g_mutex_unlock (&self->lock);
          return FALSE;
        }

      /* Only the thread whose job paused asks its question and resumes it. */
      if (job_paused_elsewhere_locked (self))
        {
          *wants = 0;
          g_mutex_unlock (&self->lock);
          return FALSE;
        }

      switch (self->question.state)
        {
        case QUESTION_ASKING:
        case QUESTION_DEFERRED:
          /* Waiting for the answer. */
          *wants = 0;
          g_mutex_unlock (&self->lock);
          return FALSE;

        case QUESTION_WAITING:
          self->question.state = QUESTION_ASKING;
          self->question.asking_thread = g_thread_self ();
          g_mutex_unlock (&self->lock);

          ask_question (self);

          if (g_cancellable_set_error_if_cancelled (cancellable, &local_error))
            {
              fail_handshake (self, g_steal_pointer (&local_error), error);
              return FALSE;
            }
          continue;

        case QUESTION_ANSWERED:
        case QUESTION_NONE:
        default:
          break;
        }

      self->handshake_owner = blocking ? OWNER_BLOCKING : OWNER_NONBLOCKING;
      self->handshake_owner_thread = blocking ? g_thread_self () : NULL;
      g_mutex_unlock (&self->lock);

      /* On STEP_WOULD_BLOCK ownership is kept while the caller waits. */
      result = step (self, OP_HANDSHAKE, NULL, 0, &ignored, wants, error);
      if (result == STEP_DECIDE)
        continue;
      return result == STEP_DONE;
    }
}

static gboolean
handshake_blocking (GSecSockSecureSocket  *self,
                    GCancellable          *cancellable,
                    GError               **error)
{
  /* Kept alive until the handshake ends, whatever a handler does. */
  G_GNUC_UNUSED g_autoptr(GSecSockSecureSocket) hold = g_object_ref (self);

  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      GIOCondition wants = 0;
      gint64 deadline;
      gboolean owner;

      if (handshake_step (self, TRUE, cancellable, &wants, &local_error))
        return TRUE;
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }

      g_mutex_lock (&self->lock);
      deadline = self->handshake_deadline;
      owner = self->handshake_owner == OWNER_BLOCKING &&
              self->handshake_owner_thread == g_thread_self ();
      g_mutex_unlock (&self->lock);

      if (wants == 0 ? !wait_for_events (self, cancellable, &local_error)
                     : !wait_blocking (self, wants, deadline, cancellable, &local_error))
        {
          /* Only the owner may abandon the handshake; a waiter just leaves. */
          if (wants != 0 || owner)
            abort_handshake (self, local_error);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
}

static gboolean
check_usable (GSecSockSecureSocket  *self,
              gboolean               reading,
              GError               **error)
{
  if (self->closed || (reading && self->input_closed))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                           _("The TLS connection is closed"));
      return FALSE;
    }
  return TRUE;
}

/* The common loop of reads and writes. */
static gssize
transfer (GSecSockSecureSocket  *self,
          Op                     op,
          void                  *buffer,
          gsize                  count,
          gboolean               blocking,
          GCancellable          *cancellable,
          GError               **error)
{
  GIOCondition *wants_slot = op == OP_READ ? &self->read_wants : &self->write_wants;

  if (!check_usable (self, op == OP_READ, error))
    return -1;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return -1;

  if (op == OP_WRITE && self->write_closed)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                           _("Cannot write: this side already sent its TLS close_notify"));
      return -1;
    }
  if (op == OP_READ && self->read_closed)
    return 0;
  if (count == 0)
    return 0;

  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      GIOCondition wants = 0;
      StepResult result;
      gsize done = 0;

      if (self->handshake_state != HANDSHAKE_DONE)
        {
          if (blocking)
            {
              if (!handshake_blocking (self, cancellable, error))
                return -1;
            }
          else if (!handshake_step (self, FALSE, cancellable, &wants, &local_error))
            {
              if (local_error == NULL)
                {
                  *wants_slot = wants;
                  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                                       _("The TLS handshake is in progress"));
                }
              else
                g_propagate_error (error, g_steal_pointer (&local_error));
              return -1;
            }
        }

      result = step (self, op, buffer, count, &done, &wants, &local_error);
      if (result == STEP_DONE)
        return done;
      if (result == STEP_ERROR)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return -1;
        }

      *wants_slot = wants;
      if (!blocking)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                               op == OP_READ ? "No TLS data is available yet"
                                             : "The connection cannot take more data yet");
          return -1;
        }
      if (!wait_blocking (self, wants, 0, cancellable, error))
        return -1;
    }
}

gssize
gsecsock_secure_socket_read (GSecSockSecureSocket  *self,
                             void                  *buffer,
                             gsize                  count,
                             gboolean               blocking,
                             GCancellable          *cancellable,
                             GError               **error)
{
  return transfer (self, OP_READ, buffer, count, blocking, cancellable, error);
}

gssize
gsecsock_secure_socket_write (GSecSockSecureSocket  *self,
                              const void            *buffer,
                              gsize                  count,
                              gboolean               blocking,
                              GCancellable          *cancellable,
                              GError               **error)
{
  return transfer (self, OP_WRITE, (void *) buffer, count, blocking, cancellable, error);
}

/* Whether a read can make progress with what OpenSSL already holds:
 * decrypted data, or buffered bytes not yet known to be a partial record. */
static gboolean
readable_without_transport_locked (GSecSockSecureSocket *self)
{
  return SSL_pending (self->ssl) > 0 ||
         (!self->read_blocked && SSL_has_pending (self->ssl));
}

static gboolean ready_without_transport_locked (GSecSockSecureSocket *self,
                                                GIOCondition          condition);

gboolean
gsecsock_secure_socket_check (GSecSockSecureSocket *self,
                              GIOCondition          condition)
{
  gboolean ready;

  g_mutex_lock (&self->lock);
  if (ready_without_transport_locked (self, condition))
    ready = TRUE;
  else if (self->handshake_owner == OWNER_BLOCKING &&
           self->handshake_owner_thread != g_thread_self ())
    ready = FALSE;
  else if (condition & G_IO_IN)
    ready = g_pollable_input_stream_is_readable (self->base_input);
  else
    ready = g_pollable_output_stream_is_writable (self->base_output);
  g_mutex_unlock (&self->lock);

  return ready;
}

/* Whether a read (G_IO_IN) or write (G_IO_OUT) would return at once, with
 * no news from the transport: data or an error is already there, or the
 * call would start the handshake. Lock held. */
static gboolean
ready_without_transport_locked (GSecSockSecureSocket *self,
                                GIOCondition          condition)
{
  if (self->closed || self->fatal_error != NULL ||
      self->handshake_state == HANDSHAKE_FAILED ||
      self->handshake_state == HANDSHAKE_NOT_STARTED)
    return TRUE;
  /* Paused on a question: what OpenSSL holds waits for the answer. */
  if (self->handshake_state == HANDSHAKE_RUNNING && self->question.state != QUESTION_NONE &&
      self->question.state != QUESTION_ANSWERED)
    return FALSE;
  if (condition & G_IO_IN)
    return self->read_closed || readable_without_transport_locked (self);
  return FALSE;
}

/* The socket's sources. Like GLib's pollable sources, readiness is checked
 * again on every main-loop iteration, so a source kept attached
 * (G_SOURCE_CONTINUE) fires only while the socket really is ready; the
 * children wake the loop when the transport or the handshake moves on.
 * Over a GSocketConnection the source polls the socket's descriptor itself
 * instead of through a child GSocket source: one source per wait instead of
 * two for GLib to prepare and check on every iteration, which is what a
 * server holding thousands of idle connections pays for. */
typedef struct {
  GSource source;
  GSecSockSecureSocket *socket;
  GObject *pollable;          /* the stream a pollable source is for, or NULL */
  GIOCondition condition;     /* what the caller waits for; 0: children only */
  gpointer fd_tag;            /* the base socket's descriptor, or NULL */
} WaitSource;

static gboolean
wait_source_ready (WaitSource *wait)
{
  gboolean ready;

  if (wait->condition == 0)
    return FALSE;
  g_mutex_lock (&wait->socket->lock);
  ready = ready_without_transport_locked (wait->socket, wait->condition);
  g_mutex_unlock (&wait->socket->lock);
  return ready;
}

static gboolean
wait_source_prepare (GSource *source, int *timeout)
{
  *timeout = -1;
  return wait_source_ready ((WaitSource *) source);
}

static gboolean
wait_source_check (GSource *source)
{
  WaitSource *wait = (WaitSource *) source;

  if (wait->fd_tag != NULL && g_source_query_unix_fd (source, wait->fd_tag) != 0)
    return TRUE;
  return wait_source_ready (wait);
}

static gboolean
wait_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  WaitSource *wait = (WaitSource *) source;

  if (callback == NULL)
    return G_SOURCE_REMOVE;
  if (wait->pollable != NULL)
    return ((GPollableSourceFunc) (void (*) (void)) callback) (wait->pollable, user_data);
  return callback (user_data);
}

static void
wait_source_finalize (GSource *source)
{
  WaitSource *wait = (WaitSource *) source;

  g_clear_object (&wait->socket);
  g_clear_object (&wait->pollable);
}

static gboolean
wait_source_closure_callback (GObject *pollable, gpointer data)
{
  GClosure *closure = data;
  GValue param = G_VALUE_INIT;
  GValue result_value = G_VALUE_INIT;
  gboolean result;

  g_value_init (&result_value, G_TYPE_BOOLEAN);
  g_value_init (&param, G_TYPE_OBJECT);
  g_value_set_object (&param, pollable);
  g_closure_invoke (closure, &result_value, 1, &param, NULL);
  result = g_value_get_boolean (&result_value);
  g_value_unset (&result_value);
  g_value_unset (&param);
  return result;
}

static GSourceFuncs wait_source_funcs = {
  .prepare = wait_source_prepare,
  .check = wait_source_check,
  .dispatch = wait_source_dispatch,
  .finalize = wait_source_finalize,
  .closure_callback = (GSourceFunc) (void (*) (void)) wait_source_closure_callback,
  .closure_marshal = NULL,
};

/* Whether a wait may poll the base socket's descriptor directly rather than
 * through the base streams' sources: only when those would add nothing, that
 * is for an open GSocket with no timeout (a GSocket source also fires when
 * the socket's timeout expires). */
static gboolean
polls_base_socket_directly (GSecSockSecureSocket *self)
{
  return self->base_socket != NULL &&
         !g_socket_is_closed (self->base_socket) &&
         g_socket_get_timeout (self->base_socket) == 0;
}

static void
add_child (GSource *source, GSource *child)
{
  g_source_set_dummy_callback (child);
  g_source_add_child_source (source, child);
  g_source_unref (child);
}

/* Waits for the base stream to be ready for @wants, and for a handshake
 * driven elsewhere to end. @pollable and @condition: for a stream's
 * pollable source, the stream and what it waits for; NULL and 0 for the
 * socket's own waits. */
static GSource *
create_wait_source (GSecSockSecureSocket *self,
                    GIOCondition          wants,
                    gboolean              handshake_pending,
                    GObject              *pollable,
                    GIOCondition          condition,
                    GCancellable         *cancellable)
{
  GSource *source = g_source_new (&wait_source_funcs, sizeof (WaitSource));
  WaitSource *wait = (WaitSource *) source;

  wait->socket = g_object_ref (self);
  wait->pollable = pollable ? g_object_ref (pollable) : NULL;
  wait->condition = condition;
  g_source_set_static_name (source, pollable ? "GSecSockSecureSocket pollable"
                                             : "GSecSockSecureSocket wait");

  if (cancellable != NULL)
    add_child (source, g_cancellable_source_new (cancellable));
  if ((wants & G_IO_OUT) && !(wants & G_IO_IN) && gsecsock_bio_output_busy (self->bio))
    add_child (source, g_timeout_source_new (OUTPUT_BUSY_RETRY_MS));   /* see wait_blocking() */
  else if ((wants & (G_IO_IN | G_IO_OUT)) && polls_base_socket_directly (self))
    wait->fd_tag = g_source_add_unix_fd (source, g_socket_get_fd (self->base_socket),
                                         (wants & G_IO_IN ? G_IO_IN : G_IO_OUT) | G_IO_HUP | G_IO_ERR);
  else if (wants & G_IO_IN)
    add_child (source, g_pollable_input_stream_create_source (self->base_input, NULL));
  else if (wants & G_IO_OUT)
    add_child (source, g_pollable_output_stream_create_source (self->base_output, NULL));
  if (handshake_pending)
    {
      g_autoptr(GCancellable) answered = NULL;
      gint64 deadline;
      gboolean elsewhere;

      add_child (source, g_cancellable_source_new (self->handshake_ended));

      /* The handshake may also move on with an answer, or time out. */
      g_mutex_lock (&self->lock);
      elsewhere = job_paused_elsewhere_locked (self);
      if (self->question.state != QUESTION_NONE && self->question_answered != NULL && !elsewhere)
        answered = g_object_ref (self->question_answered);
      deadline = self->handshake_deadline;
      g_mutex_unlock (&self->lock);
      if (answered != NULL)
        add_child (source, g_cancellable_source_new (answered));
      if (elsewhere)
        add_child (source, g_timeout_source_new (100));
      if (deadline != 0)
        add_child (source, g_timeout_source_new (remaining_ms (deadline)));
    }
  return source;
}

GSource *
gsecsock_secure_socket_create_source (GSecSockSecureSocket *self,
                                      GIOCondition          condition,
                                      GObject              *pollable,
                                      GCancellable         *cancellable)
{
  gboolean handshake_pending;
  GIOCondition wants;

  g_mutex_lock (&self->lock);
  handshake_pending = self->handshake_state == HANDSHAKE_RUNNING;
  if (condition & G_IO_IN)
    wants = self->read_wants ? self->read_wants : G_IO_IN;
  else
    wants = self->write_wants ? self->write_wants : G_IO_OUT;
  if (handshake_pending &&
      ((self->question.state != QUESTION_NONE && self->question.state != QUESTION_ANSWERED) ||
       (self->handshake_owner == OWNER_BLOCKING &&
        self->handshake_owner_thread != g_thread_self ())))
    wants = 0;     /* only an answer, or the end of that handshake, matters */
  g_mutex_unlock (&self->lock);

  return create_wait_source (self, wants, handshake_pending, pollable, condition, cancellable);
}

/* ---- Asynchronous handshake ------------------------------------------- */

static void handshake_async_run (GTask *task);

static gboolean
handshake_async_ready (gpointer user_data)
{
  handshake_async_run (G_TASK (user_data));
  return G_SOURCE_REMOVE;
}

static void
handshake_async_run (GTask *task)
{
  GSecSockSecureSocket *self = g_task_get_source_object (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSource) source = NULL;
  GIOCondition wants = 0;

  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      /* This task may have been driving it: leave nobody waiting. */
      g_mutex_lock (&self->lock);
      gboolean owned = self->handshake_owner == OWNER_NONBLOCKING;
      g_mutex_unlock (&self->lock);
      if (owned)
        abort_handshake (self, error);
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  if (handshake_step (self, FALSE, cancellable, &wants, &error))
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  if (error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  source = create_wait_source (self, wants, TRUE, NULL, 0, cancellable);
  g_task_attach_source (task, source, handshake_async_ready);
}

/**
 * gsecsock_secure_socket_handshake_async:
 * @self: a socket
 * @io_priority: the I/O priority of the request
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the handshake is over
 * @user_data: data for @callback
 *
 * Performs the TLS handshake without blocking, driven by the base stream's
 * pollable sources in the thread-default main context of the caller; no
 * thread is used. Call [method@GSecSock.SecureSocket.handshake_finish] from
 * @callback.
 *
 * See [method@GSecSock.SecureSocket.handshake].
 *
 * Since: 0.1
 */
void
gsecsock_secure_socket_handshake_async (GSecSockSecureSocket *self,
                                        int                   io_priority,
                                        GCancellable         *cancellable,
                                        GAsyncReadyCallback   callback,
                                        gpointer              user_data)
{
  GTask *task;

  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, gsecsock_secure_socket_handshake_async);
  g_task_set_priority (task, io_priority);

  if (self->closed)
    {
      g_task_return_new_error (task, GSECSOCK_ERROR, GSECSOCK_ERROR_CLOSED,
                               _("Cannot handshake: the TLS connection is closed"));
      g_object_unref (task);
      return;
    }
  handshake_async_run (task);
}

/**
 * gsecsock_secure_socket_handshake_finish:
 * @self: a socket
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@GSecSock.SecureSocket.handshake_async].
 *
 * Returns: %TRUE if the handshake succeeded
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_handshake_finish (GSecSockSecureSocket  *self,
                                         GAsyncResult          *result,
                                         GError               **error)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        gsecsock_secure_socket_handshake_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * gsecsock_secure_socket_handshake:
 * @self: a socket
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Performs the TLS handshake, blocking the calling thread until it is over.
 *
 * Calling it is optional: the first read or write performs the handshake.
 * Calling it again after success does nothing (there is no renegotiation);
 * after a failure it returns the same error.
 *
 * A client verifies the server's certificate chain and host name during the
 * handshake (unless [property@GSecSock.SecureSocketContext:verify-peer] is
 * off); a rejected server gets the matching TLS alert and the handshake fails
 * with %GSECSOCK_ERROR_CERTIFICATE_REJECTED. Other failures:
 * %GSECSOCK_ERROR_PROTOCOL_VERSION, %GSECSOCK_ERROR_NOT_TLS,
 * %GSECSOCK_ERROR_ALPN, %GSECSOCK_ERROR_EOF, %GSECSOCK_ERROR_HANDSHAKE_FAILED
 * (an alert from the peer), or a `G_IO_ERROR` of the transport.
 *
 * Returns: %TRUE if the handshake succeeded
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_handshake (GSecSockSecureSocket  *self,
                                  GCancellable          *cancellable,
                                  GError               **error)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->closed)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_CLOSED,
                           _("Cannot handshake: the TLS connection is closed"));
      return FALSE;
    }
  return handshake_blocking (self, cancellable, error);
}

/* ---- close_notify ------------------------------------------------------ */

/* Whether a close_notify should (still) be sent. */
static gboolean
needs_close_notify (GSecSockSecureSocket *self)
{
  gboolean needed;

  g_mutex_lock (&self->lock);
  needed = !self->write_closed && self->handshake_state == HANDSHAKE_DONE &&
           self->fatal_error == NULL;
  g_mutex_unlock (&self->lock);
  return needed;
}

gboolean
gsecsock_secure_socket_close_write (GSecSockSecureSocket  *self,
                                    GCancellable          *cancellable,
                                    GError               **error)
{
  while (needs_close_notify (self))
    {
      GIOCondition wants = 0;
      gsize ignored;

      switch (step (self, OP_SHUTDOWN, NULL, 0, &ignored, &wants, error))
        {
        case STEP_DONE:
          self->write_closed = TRUE;
          return TRUE;
        case STEP_ERROR:
          self->write_closed = TRUE;
          return FALSE;
        case STEP_WOULD_BLOCK:
        default:
          if (!wait_blocking (self, wants, 0, cancellable, error))
            return FALSE;
        }
    }
  return TRUE;
}

static void close_write_async_run (GTask *task);

static gboolean
close_write_async_ready (gpointer user_data)
{
  close_write_async_run (G_TASK (user_data));
  return G_SOURCE_REMOVE;
}

static void
close_write_async_run (GTask *task)
{
  GSecSockSecureSocket *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSource) source = NULL;
  GIOCondition wants = 0;
  gsize ignored;

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  if (!needs_close_notify (self))
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  switch (step (self, OP_SHUTDOWN, NULL, 0, &ignored, &wants, &error))
    {
    case STEP_DONE:
      self->write_closed = TRUE;
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    case STEP_ERROR:
      self->write_closed = TRUE;
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    case STEP_WOULD_BLOCK:
    default:
      source = create_wait_source (self, wants, FALSE, NULL, 0,
                                   g_task_get_cancellable (task));
      g_task_attach_source (task, source, close_write_async_ready);
    }
}

void
gsecsock_secure_socket_close_write_async (GSecSockSecureSocket *self,
                                          int                   io_priority,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, gsecsock_secure_socket_close_write_async);
  g_task_set_priority (task, io_priority);
  close_write_async_run (task);
}

gboolean
gsecsock_secure_socket_close_write_finish (GSecSockSecureSocket  *self,
                                           GAsyncResult          *result,
                                           GError               **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
gsecsock_secure_socket_close_read (GSecSockSecureSocket *self)
{
  self->input_closed = TRUE;
}

/* ---- GIOStream ---------------------------------------------------------- */

static GInputStream *
gsecsock_secure_socket_get_input_stream (GIOStream *stream)
{
  return GSECSOCK_SECURE_SOCKET (stream)->input;
}

static GOutputStream *
gsecsock_secure_socket_get_output_stream (GIOStream *stream)
{
  return GSECSOCK_SECURE_SOCKET (stream)->output;
}

/* A handshake still running (perhaps waiting for a decision) ends when
 * the socket is closed, so that nobody waits for it forever. */
static void
abandon_handshake_on_close (GSecSockSecureSocket *self)
{
  gboolean running;

  g_mutex_lock (&self->lock);
  running = self->handshake_state == HANDSHAKE_RUNNING;
  g_mutex_unlock (&self->lock);
  if (running)
    {
      g_autoptr(GError) error =
        g_error_new_literal (GSECSOCK_ERROR, GSECSOCK_ERROR_CLOSED,
                             _("The socket was closed during the TLS handshake"));
      abort_handshake (self, error);
    }
}

static gboolean
gsecsock_secure_socket_close_fn (GIOStream     *stream,
                                 GCancellable  *cancellable,
                                 GError       **error)
{
  GSecSockSecureSocket *self = GSECSOCK_SECURE_SOCKET (stream);
  g_autoptr(GError) notify_error = NULL;
  gboolean base_ok;

  /* Send close_notify first, then close the transport whatever happened:
   * close never leaves the base stream open. */
  abandon_handshake_on_close (self);
  gsecsock_secure_socket_close_write (self, cancellable, &notify_error);
  self->closed = TRUE;
  base_ok = g_io_stream_close (self->base_stream, cancellable, error);
  if (base_ok && notify_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&notify_error));
      return FALSE;
    }
  return base_ok;
}

typedef struct {
  GError *notify_error;
} CloseData;

static void
close_data_free (CloseData *data)
{
  g_clear_error (&data->notify_error);
  g_free (data);
}

static void
close_base_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  CloseData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_io_stream_close_finish (G_IO_STREAM (source), result, &error))
    g_task_return_error (task, error);
  else if (data->notify_error != NULL)
    g_task_return_error (task, g_steal_pointer (&data->notify_error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
close_notify_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  GSecSockSecureSocket *self = GSECSOCK_SECURE_SOCKET (source);
  CloseData *data = g_task_get_task_data (task);

  gsecsock_secure_socket_close_write_finish (self, result, &data->notify_error);
  self->closed = TRUE;
  {
    int priority = g_task_get_priority (task);
    GCancellable *cancellable = g_task_get_cancellable (task);

    g_io_stream_close_async (self->base_stream, priority, cancellable, close_base_done, task);
  }
}

static void
gsecsock_secure_socket_close_async (GIOStream           *stream,
                                    int                  io_priority,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  GSecSockSecureSocket *self = GSECSOCK_SECURE_SOCKET (stream);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, gsecsock_secure_socket_close_async);
  g_task_set_priority (task, io_priority);
  g_task_set_task_data (task, g_new0 (CloseData, 1), (GDestroyNotify) close_data_free);
  abandon_handshake_on_close (self);
  gsecsock_secure_socket_close_write_async (self, io_priority, cancellable,
                                            close_notify_done, task);
}

static gboolean
gsecsock_secure_socket_close_finish (GIOStream     *stream,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- GObject ------------------------------------------------------------- */

static void
gsecsock_secure_socket_finalize (GObject *object)
{
  GSecSockSecureSocket *self = GSECSOCK_SECURE_SOCKET (object);

  if (self->ssl != NULL && SSL_waiting_for_async (self->ssl) && !job_paused_elsewhere_locked (self))
    {
      /* Dropped while a decision was pending: end the paused job first. */
      self->info_wanted = FALSE;
      self->info_checked = TRUE;
      finish_paused_job_locked (self);
    }
  /* A job paused by another thread cannot be resumed here: SSL_free()
   * leaves it alone, and it is leaked rather than run on the wrong stack. */
  g_clear_pointer (&self->job_thread, g_thread_unref);
  g_clear_pointer (&self->ssl, SSL_free);   /* frees the BIO too */
  question_clear_locked (self);
  g_clear_object (&self->question_answered);
  g_clear_object (&self->client_certificate);
  if (self->info_events != NULL)
    {
      for (guint i = 0; i < self->info_events->len; i++)
        g_free (g_array_index (self->info_events, InfoEvent, i).description);
      g_clear_pointer (&self->info_events, g_array_unref);
    }
  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_object (&self->base_stream);
  g_clear_object (&self->base_socket);
  g_clear_object (&self->context);
  g_clear_object (&self->handshake_ended);
  g_clear_error (&self->handshake_error);
  g_clear_error (&self->fatal_error);
  g_clear_object (&self->peer_certificate);
  g_clear_object (&self->peer_chain);
  g_clear_pointer (&self->alpn_protocol, g_free);
  g_clear_pointer (&self->peer_name, g_free);
  g_clear_pointer (&self->server_name, g_free);
  g_clear_pointer (&self->pending_write, g_free);
  gsecsock_verify_state_clear (&self->verify);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (gsecsock_secure_socket_parent_class)->finalize (object);
}

static void
gsecsock_secure_socket_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  GSecSockSecureSocket *self = GSECSOCK_SECURE_SOCKET (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_object (value, self->context);
      break;
    case PROP_BASE_STREAM:
      g_value_set_object (value, self->base_stream);
      break;
    case PROP_PEER_NAME:
      g_value_set_string (value, self->peer_name);
      break;
    case PROP_REQUIRE_CLOSE_NOTIFY:
      g_value_set_boolean (value, self->require_close_notify);
      break;
    case PROP_PEER_CERTIFICATE:
      g_value_set_object (value, self->peer_certificate);
      break;
    case PROP_PEER_CERTIFICATE_CHAIN:
      g_value_set_object (value, self->peer_chain);
      break;
    case PROP_CERTIFICATE_ERRORS:
      g_value_set_flags (value, gsecsock_secure_socket_get_certificate_errors (self));
      break;
    case PROP_CERTIFICATE_STATUS:
      g_value_set_enum (value, gsecsock_secure_socket_get_certificate_status (self));
      break;
    case PROP_PROTOCOL_VERSION:
      g_value_set_enum (value, self->protocol_version);
      break;
    case PROP_CIPHER_NAME:
      g_value_set_string (value, gsecsock_secure_socket_get_cipher_name (self));
      break;
    case PROP_ALPN_PROTOCOL:
      g_value_set_string (value, gsecsock_secure_socket_get_alpn_protocol (self));
      break;
    case PROP_SESSION_REUSED:
      g_value_set_boolean (value, gsecsock_secure_socket_get_session_reused (self));
      break;
    case PROP_HANDSHAKE_COMPLETE:
      g_value_set_boolean (value, gsecsock_secure_socket_get_handshake_complete (self));
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      g_value_set_uint (value, self->handshake_timeout);
      break;
    case PROP_SERVER_NAME:
      g_value_set_string (value, self->server_name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gsecsock_secure_socket_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  GSecSockSecureSocket *self = GSECSOCK_SECURE_SOCKET (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_object (value);
      break;
    case PROP_BASE_STREAM:
      self->base_stream = g_value_dup_object (value);
      break;
    case PROP_PEER_NAME:
      self->peer_name = g_value_dup_string (value);
      break;
    case PROP_REQUIRE_CLOSE_NOTIFY:
      gsecsock_secure_socket_set_require_close_notify (self, g_value_get_boolean (value));
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      gsecsock_secure_socket_set_handshake_timeout (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static gboolean
default_verify_certificate (GSecSockSecureSocket     *self,
                            GSecSockCertificate      *certificate,
                            guint                     depth,
                            GSecSockCertificateFlags  errors)
{
  return errors == 0;
}

static void
gsecsock_secure_socket_class_init (GSecSockSecureSocketClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);

  object_class->finalize = gsecsock_secure_socket_finalize;
  object_class->get_property = gsecsock_secure_socket_get_property;
  object_class->set_property = gsecsock_secure_socket_set_property;

  stream_class->get_input_stream = gsecsock_secure_socket_get_input_stream;
  stream_class->get_output_stream = gsecsock_secure_socket_get_output_stream;
  stream_class->close_fn = gsecsock_secure_socket_close_fn;
  stream_class->close_async = gsecsock_secure_socket_close_async;
  stream_class->close_finish = gsecsock_secure_socket_close_finish;

  /**
   * GSecSockSecureSocket:context:
   *
   * The context whose configuration (and `SSL_CTX`) this socket uses.
   *
   * Since: 0.1
   */
  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL, GSECSOCK_TYPE_SECURE_SOCKET_CONTEXT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * GSecSockSecureSocket:base-stream:
   *
   * The stream that carries the encrypted bytes. Its input and output
   * streams must be pollable.
   *
   * Since: 0.1
   */
  properties[PROP_BASE_STREAM] =
    g_param_spec_object ("base-stream", NULL, NULL, G_TYPE_IO_STREAM,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * GSecSockSecureSocket:peer-name:
   *
   * For a client, the host name or IP address the server's certificate must
   * match; a host name is also sent as SNI. %NULL for a server.
   *
   * Since: 0.1
   */
  properties[PROP_PEER_NAME] =
    g_param_spec_string ("peer-name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * GSecSockSecureSocket:require-close-notify:
   *
   * Whether the peer must end its data with a TLS close_notify. When %TRUE
   * (the default) an end of the connection without it — possibly an
   * attacker cutting the data short — fails the read with
   * %GSECSOCK_ERROR_EOF. Turn it off only for protocols that detect
   * truncation themselves (for example HTTP with Content-Length).
   *
   * Since: 0.1
   */
  properties[PROP_REQUIRE_CLOSE_NOTIFY] =
    g_param_spec_boolean ("require-close-notify", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:peer-certificate:
   *
   * The peer's certificate (the leaf), once the handshake has received it;
   * also set after a handshake that failed verification. %NULL before.
   *
   * Since: 0.1
   */
  properties[PROP_PEER_CERTIFICATE] =
    g_param_spec_object ("peer-certificate", NULL, NULL, GSECSOCK_TYPE_CERTIFICATE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:peer-certificate-chain:
   *
   * The certificates the peer sent, leaf first, as a #GListModel of
   * #GSecSockCertificate. %NULL before the handshake.
   *
   * Since: 0.1
   */
  properties[PROP_PEER_CERTIFICATE_CHAIN] =
    g_param_spec_object ("peer-certificate-chain", NULL, NULL, G_TYPE_LIST_MODEL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:certificate-errors:
   *
   * Every problem verification found in the peer's chain (not only the
   * first). Set once the peer's certificate has been verified, including
   * when verification made the handshake fail, and when
   * [property@GSecSock.SecureSocketContext:verify-peer] is off.
   *
   * Since: 0.1
   */
  properties[PROP_CERTIFICATE_ERRORS] =
    g_param_spec_flags ("certificate-errors", NULL, NULL, GSECSOCK_TYPE_CERTIFICATE_FLAGS,
                        GSECSOCK_CERTIFICATE_NO_FLAGS,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:certificate-status:
   *
   * The outcome of verifying the peer's certificate chain in one word:
   * [property@GSecSock.SecureSocket:certificate-errors] summed up by
   * [func@GSecSock.CertificateStatus.from_flags] (when several problems
   * were found, the most serious wins: revoked, untrusted-signers, invalid,
   * expired, not-yet-valid, principal-mismatch, revocation-unknown).
   *
   * %GSECSOCK_CERTIFICATE_STATUS_UNKNOWN until the peer's certificate has
   * been received and verified (and on a server that did not ask for a
   * client certificate). Like
   * [property@GSecSock.SecureSocket:peer-certificate], it is also set after
   * a handshake that verification made fail, so that an application can
   * tell the user why: for example `"expired"`. It describes what
   * verification found, not the decision: a certificate accepted by a
   * [signal@GSecSock.SecureSocket::verify-certificate] handler in spite of
   * its problems keeps the status of those problems.
   *
   * ```python
   * try:
   *     sock.handshake(None)
   * except GLib.Error:
   *     print(sock.props.certificate_status.value_nick, sock.props.peer_certificate)
   * ```
   *
   * Since: 0.1
   */
  properties[PROP_CERTIFICATE_STATUS] =
    g_param_spec_enum ("certificate-status", NULL, NULL, GSECSOCK_TYPE_CERTIFICATE_STATUS,
                       GSECSOCK_CERTIFICATE_STATUS_UNKNOWN,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:protocol-version:
   *
   * The TLS version negotiated, once the handshake has completed.
   *
   * Since: 0.1
   */
  properties[PROP_PROTOCOL_VERSION] =
    g_param_spec_enum ("protocol-version", NULL, NULL, GSECSOCK_TYPE_PROTOCOL_VERSION,
                       GSECSOCK_PROTOCOL_VERSION_UNKNOWN,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:cipher-name:
   *
   * The cipher suite negotiated, by its standard name (for example
   * `TLS_AES_128_GCM_SHA256`), once the handshake has completed.
   *
   * Since: 0.1
   */
  properties[PROP_CIPHER_NAME] =
    g_param_spec_string ("cipher-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:alpn-protocol:
   *
   * The application protocol agreed on with ALPN, or %NULL if none was.
   *
   * Since: 0.1
   */
  properties[PROP_ALPN_PROTOCOL] =
    g_param_spec_string ("alpn-protocol", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:session-reused:
   *
   * Whether the handshake resumed an earlier session (an abbreviated
   * handshake, without a new certificate exchange).
   *
   * Since: 0.1
   */
  properties[PROP_SESSION_REUSED] =
    g_param_spec_boolean ("session-reused", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:handshake-complete:
   *
   * Whether the handshake has completed successfully.
   *
   * Since: 0.1
   */
  properties[PROP_HANDSHAKE_COMPLETE] =
    g_param_spec_boolean ("handshake-complete", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:handshake-timeout:
   *
   * How many seconds the handshake may take in all, including the time a
   * postponed decision (see [method@GSecSock.SecureSocket.defer_decision])
   * waits for its answer; then it fails with %G_IO_ERROR_TIMED_OUT. 0 means
   * no limit. The default is 60 seconds. Changing it affects a handshake
   * that has not started yet.
   *
   * Since: 0.1
   */
  properties[PROP_HANDSHAKE_TIMEOUT] =
    g_param_spec_uint ("handshake-timeout", NULL, NULL, 0, G_MAXUINT, DEFAULT_HANDSHAKE_TIMEOUT,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:server-name:
   *
   * The server name of the TLS Server Name Indication (SNI) extension.
   *
   * On a client, the name sent: [property@GSecSock.SecureSocket:peer-name]
   * when it is a host name (an IP address is never sent as SNI), %NULL
   * otherwise; known from the start.
   *
   * On a server, the name the client asked for, as it sent it, or %NULL if
   * it sent none; set (and notified) when the handshake ends, whether it
   * succeeded or failed. It is the name that chose the certificate
   * presented (see [method@GSecSock.SecureSocketContext.add_sni_context]),
   * even when no per-name context served it and the main context's
   * certificate was presented.
   *
   * Since: 0.1
   */
  properties[PROP_SERVER_NAME] =
    g_param_spec_string ("server-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * GSecSockSecureSocket::verify-certificate:
   * @self: the socket
   * @certificate: a certificate of the peer's chain
   * @depth: its place in the chain: 0 for the peer's own certificate (the
   *   leaf), 1 for its issuer, and so on
   * @errors: every problem verification found with @certificate — all of
   *   them, not only the first — including
   *   %GSECSOCK_CERTIFICATE_BAD_IDENTITY on the leaf when it does not match
   *   [property@GSecSock.SecureSocket:peer-name]
   *
   * Emitted during the handshake, once for every certificate of the peer's
   * chain, in the order OpenSSL verifies them: the root end first, the
   * leaf (@depth 0) last. On a client it is the server's chain; on a server
   * the client's, when client certificates are requested
   * ([property@GSecSock.SecureSocketContext:client-auth]) and the client
   * sends one. It is not
   * emitted when a session is resumed: the certificate was verified when the
   * session was made, and only sessions whose chain had no problem are
   * resumed.
   *
   * It is emitted in the thread that drives the handshake, with the socket's
   * lock released: for [method@GSecSock.SecureSocket.handshake_async] (and
   * asynchronous reads and writes), in the thread-default main context of
   * the caller; for a blocking call, in the calling thread. Never from
   * another thread.
   *
   * The first handler answers: %TRUE accepts the certificate, %FALSE
   * rejects it, and the handshake fails at once with
   * %GSECSOCK_ERROR_CERTIFICATE_REJECTED, the peer receiving the alert that
   * matches the problem (bad_certificate when the certificate had none).
   * The default handler returns whether @errors is empty, so with no
   * handler the behaviour is the built-in verification. When the socket
   * has no handler, [signal@GSecSock.SecureSocketContext::verify-certificate]
   * is emitted instead. A handler that needs time — to ask the user —
   * calls [method@GSecSock.SecureSocket.defer_decision]; the handshake then
   * waits for the answer.
   *
   * Accepting a certificate with problems leaves them in
   * [property@GSecSock.SecureSocket:certificate-errors]. Accept a
   * self-signed certificate only when you recognise it (by its SHA-256
   * fingerprint, for one host), never by ignoring @errors.
   *
   * ```c
   * static gboolean
   * on_verify (GSecSockSecureSocket *sock, GSecSockCertificate *certificate,
   *            guint depth, GSecSockCertificateFlags errors, gpointer pin)
   * {
   *   if (depth == 0 && errors == (GSECSOCK_CERTIFICATE_SELF_SIGNED |
   *                                GSECSOCK_CERTIFICATE_UNKNOWN_CA))
   *     return g_ascii_strcasecmp (gsecsock_certificate_get_fingerprint_sha256 (certificate), pin) == 0;
   *   return errors == 0;
   * }
   * ```
   *
   * ```python
   * def on_verify(sock, certificate, depth, errors):
   *     if depth == 0 and errors == (GSecSock.CertificateFlags.SELF_SIGNED |
   *                                  GSecSock.CertificateFlags.UNKNOWN_CA):
   *         return certificate.get_fingerprint_sha256() == PIN.lower()
   *     return errors == 0
   * sock.connect("verify-certificate", on_verify)
   * ```
   *
   * An exception raised in a Python or JavaScript handler is logged by the
   * binding and the handler's value is taken as %FALSE: the certificate is
   * rejected.
   *
   * Returns: %TRUE to accept @certificate, %FALSE to reject it
   *
   * Since: 0.1
   */
  signals[SIGNAL_VERIFY_CERTIFICATE] =
    g_signal_new_class_handler ("verify-certificate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                G_CALLBACK (default_verify_certificate),
                                g_signal_accumulator_first_wins, NULL, NULL,
                                G_TYPE_BOOLEAN, 3, GSECSOCK_TYPE_CERTIFICATE, G_TYPE_UINT,
                                GSECSOCK_TYPE_CERTIFICATE_FLAGS);

  /**
   * GSecSockSecureSocket::handshake-info:
   * @self: the socket
   * @where: what happened, as #GSecSockHandshakeInfoFlags
   * @value: for an alert its description code; for a state change or exit,
   *   OpenSSL's return value
   * @description: the event in words: a state name such as
   *   "SSLv3/TLS write client hello", or an alert such as
   *   "warning close_notify" or "fatal bad certificate"
   *
   * Emitted for every event OpenSSL reports about the connection
   * (its info callback): each handshake start and end, each state
   * transition, and every alert received or sent, during the handshake and
   * after it (a close_notify, a fatal alert). Useful for tracing and
   * debugging; it decides nothing.
   *
   * Events are emitted in order, after the OpenSSL call that produced them
   * returned, in the thread that made that call: the thread driving the
   * handshake (see [signal@GSecSock.SecureSocket::verify-certificate]), or
   * the thread reading or writing afterwards. When the socket has no
   * handler, [signal@GSecSock.SecureSocketContext::handshake-info] is
   * emitted instead; with neither, nothing is collected at all.
   *
   * ```c
   * static void
   * on_info (GSecSockSecureSocket *sock, GSecSockHandshakeInfoFlags where,
   *          int value, const char *description, gpointer user_data)
   * {
   *   if (where & GSECSOCK_HANDSHAKE_INFO_ALERT)
   *     g_message ("alert %s: %s",
   *                (where & GSECSOCK_HANDSHAKE_INFO_READ) ? "received" : "sent",
   *                description);
   * }
   * ```
   *
   * ```python
   * sock.connect("handshake-info",
   *              lambda sock, where, value, description: print(where, description))
   * ```
   *
   * Since: 0.1
   */
  signals[SIGNAL_HANDSHAKE_INFO] =
    g_signal_new ("handshake-info", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, GSECSOCK_TYPE_HANDSHAKE_INFO_FLAGS, G_TYPE_INT, G_TYPE_STRING);

  /**
   * GSecSockSecureSocket::client-certificate-requested:
   * @self: the client socket
   * @acceptable_issuers: the distinguished names (RFC 2253, for example
   *   "CN=Example CA,O=Example") of the authorities whose certificates the
   *   server accepts, as the server listed them; possibly empty
   *
   * Emitted on a client, during the handshake, when the server asks for a
   * certificate; at most once per handshake. Emitted in the thread that
   * drives the handshake, like
   * [signal@GSecSock.SecureSocket::verify-certificate].
   *
   * A handler chooses with
   * [method@GSecSock.SecureSocket.set_client_certificate] (a certificate
   * that carries its private key) and returns %TRUE; returning %TRUE
   * without choosing declines: no certificate is sent and the server
   * decides whether to go on. Returning %FALSE lets the default apply: the
   * certificate set earlier with set_client_certificate(), else the
   * context's own, else none. A handler may postpone its choice with
   * [method@GSecSock.SecureSocket.defer_decision] and answer with
   * [method@GSecSock.Decision.select_certificate]. When the socket has no
   * handler, [signal@GSecSock.SecureSocketContext::client-certificate-requested]
   * is emitted instead.
   *
   * ```c
   * static gboolean
   * on_request (GSecSockSecureSocket *sock, GStrv issuers, gpointer user_data)
   * {
   *   GSecSockCertificate *mine = find_certificate_issued_by (issuers);
   *   gsecsock_secure_socket_set_client_certificate (sock, mine);
   *   return TRUE;
   * }
   * ```
   *
   * ```python
   * def on_request(sock, issuers):
   *     sock.set_client_certificate(pick(issuers))
   *     return True
   * ```
   *
   * Returns: %TRUE if the handler chose, declined or deferred; %FALSE for
   *   the default
   *
   * Since: 0.1
   */
  signals[SIGNAL_CLIENT_CERTIFICATE_REQUESTED] =
    g_signal_new ("client-certificate-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, g_signal_accumulator_true_handled, NULL, NULL,
                  G_TYPE_BOOLEAN, 1, G_TYPE_STRV);
}

static void
gsecsock_secure_socket_init (GSecSockSecureSocket *self)
{
  g_mutex_init (&self->lock);
  self->require_close_notify = TRUE;
  self->handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT;
  self->handshake_ended = g_cancellable_new ();
  gsecsock_verify_state_init (&self->verify);
}

static gboolean
setup_ssl (GSecSockSecureSocket  *self,
           GError               **error)
{
  gboolean verify_peer = gsecsock_secure_socket_context_get_verify_peer (self->context);
  gboolean server = is_server (self);
  g_autofree char *description = NULL;
  int mode;

  self->ssl = gsecsock_secure_socket_context_create_ssl (self->context, error);
  if (self->ssl == NULL)
    return FALSE;

  SSL_set_ex_data (self->ssl, gsecsock_secure_socket_context_socket_index (), self);
  gsecsock_verify_attach (self->ssl, &self->verify);
  self->verify.decide = decide_verify;
  self->verify.decide_data = self;
  self->verify.verify_peer = verify_peer;

  self->bio = gsecsock_bio_new (self->base_input, self->base_output);
  SSL_set_bio (self->ssl, self->bio, self->bio);   /* SSL owns the BIO now */

  if (server)
    {
      SSL_set_accept_state (self->ssl);
      self->verify.peer_description = _("the client");
      switch (gsecsock_secure_socket_context_get_client_auth (self->context))
        {
        case GSECSOCK_CLIENT_AUTH_REQUIRE:
          /* From this one reading of the policy, not from verify-peer read
           * earlier: another thread may have changed both in between. */
          mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
          self->verify.verify_peer = TRUE;
          break;
        case GSECSOCK_CLIENT_AUTH_REQUEST:
          /* Ask; a certificate that is sent must pass verification (or a
           * verify-certificate handler), but none at all is fine. */
          mode = SSL_VERIFY_PEER;
          self->verify.verify_peer = TRUE;
          break;
        case GSECSOCK_CLIENT_AUTH_NONE:
        default:
          mode = SSL_VERIFY_NONE;
          break;
        }
      if (mode != SSL_VERIFY_NONE)
        gsecsock_secure_socket_context_ensure_trust (self->context, self->ssl);
    }
  else
    {
      SSL_set_connect_state (self->ssl);
      /* Verification always runs, so that certificate-errors is filled in;
       * with verify-peer off its result just does not stop the handshake. */
      mode = SSL_VERIFY_PEER;
      if (self->peer_name != NULL)
        {
          X509_VERIFY_PARAM *param = SSL_get0_param (self->ssl);

          if (g_hostname_is_ip_address (self->peer_name))
            {
              if (!X509_VERIFY_PARAM_set1_ip_asc (param, self->peer_name))
                {
                  ERR_clear_error ();
                  g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                               _("“%s” is not a usable IP address"), self->peer_name);
                  return FALSE;
                }
            }
          else
            {
              X509_VERIFY_PARAM_set_hostflags (param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
              if (!SSL_set1_host (self->ssl, self->peer_name) ||
                  !SSL_set_tlsext_host_name (self->ssl, self->peer_name))
                {
                  ERR_clear_error ();
                  g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                               _("“%s” is not a valid host name"), self->peer_name);
                  return FALSE;
                }
            }
          /* Translators: a peer's host name or IP address in the middle of
           * a sentence, as in “The certificate of “example.org” expired”. */
          description = g_strdup_printf (_("“%s”"), self->peer_name);
          if (!g_hostname_is_ip_address (self->peer_name))
            self->server_name = g_strdup (self->peer_name);
        }
    }
  SSL_set_verify (self->ssl, mode, NULL);
  if (!server && !verify_peer)
    self->verify.verify_peer = FALSE;
  self->verify.peer_description = description ? g_intern_string (description)
                                              : self->verify.peer_description;
  return TRUE;
}

/**
 * gsecsock_secure_socket_new:
 * @context: the context to take the configuration from
 * @base_stream: the stream that carries the encrypted bytes; its input and
 *   output streams must be pollable (a #GSocketConnection's are)
 * @peer_name: (nullable): for a client, the host name or IP address that
 *   the server's certificate must match (a host name is also sent as SNI);
 *   %NULL for a server
 * @error: return location for a #GError
 *
 * Creates a TLS socket over @base_stream, for example a TCP connection, or
 * a plain connection that a protocol upgrades to TLS (STARTTLS). Nothing is
 * sent before the handshake, which [method@GSecSock.SecureSocket.handshake]
 * or the first read or write performs.
 *
 * For a #GTcpConnection, TCP_NODELAY is turned on: TLS sends each handshake
 * flight in one write, and Nagle's algorithm would only delay it.
 *
 * Returns: (transfer full): a new socket, or %NULL with @error set to
 *   %GSECSOCK_ERROR_MISUSE if the arguments cannot work together
 *
 * Since: 0.1
 */
GSecSockSecureSocket *
gsecsock_secure_socket_new (GSecSockSecureSocketContext  *context,
                            GIOStream                    *base_stream,
                            const char                   *peer_name,
                            GError                      **error)
{
  g_autoptr(GSecSockSecureSocket) self = NULL;
  GInputStream *in;
  GOutputStream *out;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (context), NULL);
  g_return_val_if_fail (G_IS_IO_STREAM (base_stream), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (peer_name != NULL && *peer_name == '\0')
    peer_name = NULL;

  in = g_io_stream_get_input_stream (base_stream);
  out = g_io_stream_get_output_stream (base_stream);
  if (!G_IS_POLLABLE_INPUT_STREAM (in) ||
      !g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (in)) ||
      !G_IS_POLLABLE_OUTPUT_STREAM (out) ||
      !g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (out)))
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                   _("The base stream (a %s) is not pollable: gsecsock needs a stream whose "
                     "input and output implement GPollableInputStream and "
                     "GPollableOutputStream, such as a GSocketConnection"),
                   G_OBJECT_TYPE_NAME (base_stream));
      return NULL;
    }

  if (gsecsock_secure_socket_context_get_mode (context) == GSECSOCK_MODE_SERVER)
    {
      if (peer_name != NULL)
        {
          g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                       _("A server socket has no peer name to check (got “%s”): pass NULL"),
                       peer_name);
          return NULL;
        }
    }
  else if (peer_name == NULL && gsecsock_secure_socket_context_get_verify_peer (context))
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                           _("A verifying client needs the peer name (host name or IP "
                             "address) that the server's certificate must match; pass it, "
                             "or turn off verify-peer on the context"));
      return NULL;
    }

  self = g_object_new (GSECSOCK_TYPE_SECURE_SOCKET,
                       "context", context,
                       "base-stream", base_stream,
                       "peer-name", peer_name,
                       NULL);
  self->base_input = G_POLLABLE_INPUT_STREAM (in);
  self->base_output = G_POLLABLE_OUTPUT_STREAM (out);
  /* Waits poll the socket itself only when the connection's streams are
   * the socket's own: a GTcpWrapperConnection (a proxy's tunnel, say) reads
   * and writes through another stream, which may buffer. */
  if (G_IS_SOCKET_CONNECTION (base_stream) && !G_IS_TCP_WRAPPER_CONNECTION (base_stream))
    {
      self->base_socket = g_object_ref (g_socket_connection_get_socket (G_SOCKET_CONNECTION (base_stream)));
      if (G_IS_TCP_CONNECTION (base_stream))
        g_socket_set_option (self->base_socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
    }

  if (!setup_ssl (self, error))
    return NULL;

  /* Sessions are resumed per peer name: the certificate was verified
   * against that name. */
  if (peer_name != NULL)
    gsecsock_secure_socket_context_resume_session (context, self->ssl, peer_name);

  self->input = gsecsock_input_stream_new (self);
  self->output = gsecsock_output_stream_new (self);
  return g_steal_pointer (&self);
}

/* Whether @stream is @base, or a chain of filter streams over it. */
static gboolean
filters_over (GInputStream *stream,
              GInputStream *base)
{
  while (stream != NULL && stream != base && G_IS_FILTER_INPUT_STREAM (stream))
    stream = g_filter_input_stream_get_base_stream (G_FILTER_INPUT_STREAM (stream));
  return stream == base;
}

/**
 * gsecsock_secure_socket_new_with_input_buffer:
 * @context: the context to take the configuration from
 * @base_stream: the plain connection to secure (its input and output
 *   streams must be pollable, as a #GSocketConnection's are)
 * @input_buffer: the #GBufferedInputStream (for example a
 *   #GDataInputStream) through which the application read the plain
 *   protocol from @base_stream
 * @peer_name: (nullable): for a client, the name the server's certificate
 *   must match (see [ctor@GSecSock.SecureSocket.new]); %NULL for a server
 * @error: return location for a #GError
 *
 * Like [ctor@GSecSock.SecureSocket.new], for upgrading a connection whose
 * plain-text part was read through a buffered stream (STARTTLS): the bytes
 * @input_buffer had already read ahead from the connection — the start of
 * the peer's TLS handshake, if it did not wait — are taken from it and
 * handed to TLS first, so nothing is lost.
 *
 * From then on the application must not read from @input_buffer (or the
 * base stream's input) again. @input_buffer no longer closes the base
 * stream when it is closed or finalized: the secure socket owns the
 * connection now.
 *
 * Writes to @base_stream issued before need not be finished: TLS bytes are
 * sent after them (an asynchronous write still pending is waited for).
 *
 * Returns: (transfer full): a new socket, or %NULL with @error set to
 *   %GSECSOCK_ERROR_MISUSE if @input_buffer does not read from @base_stream
 *   or is busy with a read
 *
 * Since: 0.1
 */
GSecSockSecureSocket *
gsecsock_secure_socket_new_with_input_buffer (GSecSockSecureSocketContext  *context,
                                              GIOStream                    *base_stream,
                                              GBufferedInputStream         *input_buffer,
                                              const char                   *peer_name,
                                              GError                      **error)
{
  GInputStream *base_input;
  g_autoptr(GSecSockSecureSocket) self = NULL;
  g_autoptr(GBytes) buffered = NULL;
  gsize available;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (context), NULL);
  g_return_val_if_fail (G_IS_IO_STREAM (base_stream), NULL);
  g_return_val_if_fail (G_IS_BUFFERED_INPUT_STREAM (input_buffer), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  base_input = g_io_stream_get_input_stream (base_stream);
  if (!filters_over (G_INPUT_STREAM (input_buffer), base_input))
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                   _("The buffered stream (a %s) does not read from the connection being "
                     "secured: pass the one that wraps its input stream"),
                   G_OBJECT_TYPE_NAME (input_buffer));
      return NULL;
    }
  if (g_input_stream_has_pending (G_INPUT_STREAM (input_buffer)))
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                           _("A read of the plain connection is still pending: wait for it "
                             "(or cancel it) before securing the connection"));
      return NULL;
    }

  self = gsecsock_secure_socket_new (context, base_stream, peer_name, error);
  if (self == NULL)
    return NULL;

  available = g_buffered_input_stream_get_available (input_buffer);
  if (available > 0)
    {
      gsize len = 0;
      const void *data = g_buffered_input_stream_peek_buffer (input_buffer, &len);

      buffered = g_bytes_new (data, len);
      /* Consumed from the buffer: only TLS reads them now. */
      g_input_stream_skip (G_INPUT_STREAM (input_buffer), len, NULL, NULL);
      gsecsock_bio_set_preread (self->bio, buffered);
    }

  /* The filters must not close the connection under the secure socket. */
  for (GInputStream *stream = G_INPUT_STREAM (input_buffer);
       stream != base_input && G_IS_FILTER_INPUT_STREAM (stream);
       stream = g_filter_input_stream_get_base_stream (G_FILTER_INPUT_STREAM (stream)))
    g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (stream), FALSE);

  return g_steal_pointer (&self);
}

/* ---- connect ------------------------------------------------------------ */

static GSecSockSecureSocket *
socket_for_connection (GSecSockSecureSocketContext  *context,
                       GSocketConnection            *connection,
                       const char                   *host,
                       GError                      **error)
{
  return gsecsock_secure_socket_new (context, G_IO_STREAM (connection), host, error);
}

static gboolean
check_connect_args (GSecSockSecureSocketContext  *context,
                    const char                   *host,
                    GError                      **error)
{
  if (gsecsock_secure_socket_context_get_mode (context) != GSECSOCK_MODE_CLIENT)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                           _("Only a client context can connect; this one is a server context"));
      return FALSE;
    }
  if (host == NULL || *host == '\0')
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                           _("No host to connect to was given"));
      return FALSE;
    }
  return TRUE;
}

/**
 * gsecsock_secure_socket_connect:
 * @context: a client context
 * @host: the host name or IP address to connect to; the server's
 *   certificate must match it
 * @port: the TCP port
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Resolves @host, connects to it over TCP (trying each address, as
 * #GSocketClient does) and performs the TLS handshake, blocking the calling
 * thread.
 *
 * Returns: (transfer full): a socket ready for reading and writing, or %NULL
 *   with @error set
 *
 * Since: 0.1
 */
GSecSockSecureSocket *
gsecsock_secure_socket_connect (GSecSockSecureSocketContext  *context,
                                const char                   *host,
                                guint16                       port,
                                GCancellable                 *cancellable,
                                GError                      **error)
{
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketConnectable) address = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSecSockSecureSocket) self = NULL;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (context), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_connect_args (context, host, error))
    return NULL;

  client = g_socket_client_new ();
  address = g_network_address_new (host, port);
  connection = g_socket_client_connect (client, address, cancellable, error);
  if (connection == NULL)
    return NULL;

  self = socket_for_connection (context, connection, host, error);
  if (self == NULL || !gsecsock_secure_socket_handshake (self, cancellable, error))
    return NULL;
  return g_steal_pointer (&self);
}

typedef struct {
  char *host;
  guint16 port;
} ConnectData;

static void
connect_data_free (ConnectData *data)
{
  g_free (data->host);
  g_free (data);
}

static void
connect_handshake_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!gsecsock_secure_socket_handshake_finish (GSECSOCK_SECURE_SOCKET (source), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_object_ref (source), g_object_unref);
}

static void
connect_tcp_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSecSockSecureSocket) self = NULL;
  GError *error = NULL;

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  if (connection == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  self = socket_for_connection (g_task_get_source_object (task), connection,
                                data->host, &error);
  if (self == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  {
    int priority = g_task_get_priority (task);
    GCancellable *cancellable = g_task_get_cancellable (task);

    gsecsock_secure_socket_handshake_async (self, priority, cancellable,
                                            connect_handshake_done, g_steal_pointer (&task));
  }
}

/**
 * gsecsock_secure_socket_connect_async:
 * @context: a client context
 * @host: the host name or IP address to connect to
 * @port: the TCP port
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when connected and the handshake is over
 * @user_data: data for @callback
 *
 * Like [func@GSecSock.SecureSocket.connect], without blocking: resolution,
 * connection and handshake run in the thread-default main context of the
 * caller. Call [func@GSecSock.SecureSocket.connect_finish] from @callback.
 *
 * Since: 0.1
 */
void
gsecsock_secure_socket_connect_async (GSecSockSecureSocketContext *context,
                                      const char                  *host,
                                      guint16                      port,
                                      GCancellable                *cancellable,
                                      GAsyncReadyCallback          callback,
                                      gpointer                     user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketConnectable) address = NULL;
  GError *error = NULL;
  ConnectData *data;

  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (context));

  task = g_task_new (context, cancellable, callback, user_data);
  g_task_set_source_tag (task, gsecsock_secure_socket_connect_async);
  if (!check_connect_args (context, host, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  data = g_new0 (ConnectData, 1);
  data->host = g_strdup (host);
  data->port = port;
  g_task_set_task_data (task, data, (GDestroyNotify) connect_data_free);

  client = g_socket_client_new ();
  address = g_network_address_new (host, port);
  g_socket_client_connect_async (client, address, cancellable, connect_tcp_done,
                                 g_steal_pointer (&task));
}

/**
 * gsecsock_secure_socket_connect_finish:
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes [func@GSecSock.SecureSocket.connect_async].
 *
 * Returns: (transfer full): a socket ready for reading and writing, or %NULL
 *   with @error set
 *
 * Since: 0.1
 */
GSecSockSecureSocket *
gsecsock_secure_socket_connect_finish (GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        gsecsock_secure_socket_connect_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- Accessors ------------------------------------------------------------ */

/**
 * gsecsock_secure_socket_get_context:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:context].
 *
 * Returns: (transfer none): the context of the socket
 *
 * Since: 0.1
 */
GSecSockSecureSocketContext *
gsecsock_secure_socket_get_context (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), NULL);
  return self->context;
}

/**
 * gsecsock_secure_socket_get_base_stream:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:base-stream].
 *
 * Returns: (transfer none): the stream that carries the encrypted bytes
 *
 * Since: 0.1
 */
GIOStream *
gsecsock_secure_socket_get_base_stream (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), NULL);
  return self->base_stream;
}

/**
 * gsecsock_secure_socket_get_peer_name:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:peer-name].
 *
 * Returns: (nullable): the name the peer's certificate must match
 *
 * Since: 0.1
 */
const char *
gsecsock_secure_socket_get_peer_name (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), NULL);
  return self->peer_name;
}

/**
 * gsecsock_secure_socket_get_server_name:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:server-name]: on a client the SNI
 * name sent, on a server the one received (once the handshake has ended).
 *
 * Returns: (nullable): the server name, or %NULL if none was sent (or,
 *   on a server, the handshake has not ended yet)
 *
 * Since: 0.1
 */
const char *
gsecsock_secure_socket_get_server_name (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), NULL);
  return self->server_name;
}

/**
 * gsecsock_secure_socket_get_require_close_notify:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:require-close-notify].
 *
 * Returns: whether an end of data without close_notify is an error
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_get_require_close_notify (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), TRUE);
  return self->require_close_notify;
}

/**
 * gsecsock_secure_socket_set_require_close_notify:
 * @self: a socket
 * @require_close_notify: whether an end of data without close_notify is an
 *   error
 *
 * Sets [property@GSecSock.SecureSocket:require-close-notify].
 *
 * Since: 0.1
 */
void
gsecsock_secure_socket_set_require_close_notify (GSecSockSecureSocket *self,
                                                 gboolean              require_close_notify)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET (self));

  require_close_notify = !!require_close_notify;
  if (self->require_close_notify == require_close_notify)
    return;
  g_mutex_lock (&self->lock);
  self->require_close_notify = require_close_notify;
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REQUIRE_CLOSE_NOTIFY]);
}

/**
 * gsecsock_secure_socket_get_peer_certificate:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:peer-certificate].
 *
 * Returns: (transfer none) (nullable): the peer's certificate
 *
 * Since: 0.1
 */
GSecSockCertificate *
gsecsock_secure_socket_get_peer_certificate (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), NULL);
  return self->peer_certificate;
}

/**
 * gsecsock_secure_socket_get_peer_certificate_chain:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:peer-certificate-chain].
 *
 * Returns: (transfer none) (nullable): the certificates the peer sent, leaf
 *   first, as a list of #GSecSockCertificate
 *
 * Since: 0.1
 */
GListModel *
gsecsock_secure_socket_get_peer_certificate_chain (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), NULL);
  return self->peer_chain;
}

/**
 * gsecsock_secure_socket_get_certificate_errors:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:certificate-errors].
 *
 * Returns: every problem found in the peer's certificate chain
 *
 * Since: 0.1
 */
GSecSockCertificateFlags
gsecsock_secure_socket_get_certificate_errors (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), GSECSOCK_CERTIFICATE_GENERIC_ERROR);
  return self->verify.errors;
}

/**
 * gsecsock_secure_socket_get_certificate_status:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:certificate-status].
 *
 * Returns: the outcome of verifying the peer's certificate chain, or
 *   %GSECSOCK_CERTIFICATE_STATUS_UNKNOWN before it was verified
 *
 * Since: 0.1
 */
GSecSockCertificateStatus
gsecsock_secure_socket_get_certificate_status (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), GSECSOCK_CERTIFICATE_STATUS_UNKNOWN);
  if (self->peer_certificate == NULL)
    return GSECSOCK_CERTIFICATE_STATUS_UNKNOWN;
  return gsecsock_certificate_status_from_flags (self->verify.errors);
}

/**
 * gsecsock_secure_socket_get_protocol_version:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:protocol-version].
 *
 * Returns: the negotiated TLS version, or
 *   %GSECSOCK_PROTOCOL_VERSION_UNKNOWN before the handshake
 *
 * Since: 0.1
 */
GSecSockProtocolVersion
gsecsock_secure_socket_get_protocol_version (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), GSECSOCK_PROTOCOL_VERSION_UNKNOWN);
  return self->protocol_version;
}

/**
 * gsecsock_secure_socket_get_cipher_name:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:cipher-name].
 *
 * Returns: (nullable): the negotiated cipher suite
 *
 * Since: 0.1
 */
const char *
gsecsock_secure_socket_get_cipher_name (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), NULL);
  return self->handshake_state == HANDSHAKE_DONE ? self->cipher_name : NULL;
}

/**
 * gsecsock_secure_socket_get_alpn_protocol:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:alpn-protocol].
 *
 * Returns: (nullable): the negotiated application protocol
 *
 * Since: 0.1
 */
const char *
gsecsock_secure_socket_get_alpn_protocol (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), NULL);
  return self->handshake_state == HANDSHAKE_DONE ? self->alpn_protocol : NULL;
}

/**
 * gsecsock_secure_socket_get_session_reused:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:session-reused].
 *
 * Returns: whether an earlier session was resumed
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_get_session_reused (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), FALSE);
  return self->handshake_state == HANDSHAKE_DONE && self->session_reused;
}

/**
 * gsecsock_secure_socket_get_handshake_complete:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:handshake-complete].
 *
 * Returns: whether the handshake has completed successfully
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_get_handshake_complete (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), FALSE);
  return self->handshake_state == HANDSHAKE_DONE;
}

/**
 * gsecsock_secure_socket_get_handshake_timeout:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:handshake-timeout].
 *
 * Returns: the handshake's time limit in seconds, 0 for none
 *
 * Since: 0.1
 */
guint
gsecsock_secure_socket_get_handshake_timeout (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), 0);
  return self->handshake_timeout;
}

/**
 * gsecsock_secure_socket_set_handshake_timeout:
 * @self: a socket
 * @seconds: the handshake's time limit in seconds, 0 for none
 *
 * Sets [property@GSecSock.SecureSocket:handshake-timeout].
 *
 * Since: 0.1
 */
void
gsecsock_secure_socket_set_handshake_timeout (GSecSockSecureSocket *self,
                                              guint                 seconds)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET (self));

  if (self->handshake_timeout == seconds)
    return;
  g_mutex_lock (&self->lock);
  self->handshake_timeout = seconds;
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HANDSHAKE_TIMEOUT]);
}
