/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-secure-socket-private.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "gsecsock-bio-private.h"
#include "gsecsock-certificate-private.h"
#include "gsecsock-enum-types.h"
#include "gsecsock-error.h"
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
  STEP_ERROR,
} StepResult;

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
  PROP_PROTOCOL_VERSION,
  PROP_CIPHER_NAME,
  PROP_ALPN_PROTOCOL,
  PROP_SESSION_REUSED,
  PROP_HANDSHAKE_COMPLETE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
is_server (GSecSockSecureSocket *self)
{
  return gsecsock_secure_socket_context_get_mode (self->context) == GSECSOCK_MODE_SERVER;
}

/* How messages name the peer, mid-sentence and at the start of one. */
static const char *
peer_label (GSecSockSecureSocket *self)
{
  return self->peer_name ? self->peer_name : (is_server (self) ? "the client" : "the server");
}

static const char *
Peer_label (GSecSockSecureSocket *self)
{
  return self->peer_name ? self->peer_name : (is_server (self) ? "The client" : "The server");
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
                 "%s closed the connection during the TLS handshake", Peer_label (self));
  else
    g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_EOF,
                 "%s closed the connection without a TLS close_notify: the data "
                 "may have been cut short", Peer_label (self));
}

/* Turns a failed SSL call into a GError. Called with the lock held; leaves
 * OpenSSL's error queue empty. */
static void
map_failure (GSecSockSecureSocket *self,
             Op                    op,
             int                   ssl_error,
             GError              **error)
{
  unsigned long code = 0, first_code = 0;
  int version_reason = 0, not_tls_reason = 0, alert = -1;
  gboolean verify_failed = FALSE, eof = FALSE, alpn = FALSE, no_cert = FALSE;
  g_autoptr(GError) transport_error = NULL;
  const char *during = op == OP_HANDSHAKE ? "TLS handshake" : "TLS connection";

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

  if (gsecsock_bio_peer_is_not_tls (self->bio) ||
      (not_tls_reason != 0 && op == OP_HANDSHAKE))
    {
      g_autofree char *first = gsecsock_bio_describe_first_bytes (self->bio);
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_NOT_TLS,
                   "%s does not speak TLS: it sent “%s”", Peer_label (self), first);
      return;
    }

  if (verify_failed || (self->verify.rejected && op == OP_HANDSHAKE))
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED, "%s",
                   self->verify.message ? self->verify.message
                                        : "The peer's certificate failed verification");
      return;
    }

  if (no_cert)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED,
                           "The client sent no certificate, but this server requires one");
      return;
    }

  if (alpn || alert == SSL_AD_NO_APPLICATION_PROTOCOL)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_ALPN,
                   "%s and this side have no application protocol (ALPN) in common",
                   Peer_label (self));
      return;
    }

  if (version_reason != 0 || alert == SSL_AD_PROTOCOL_VERSION)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_PROTOCOL_VERSION,
                   "%s and this side have no TLS version in common (allowed here: %s): %s",
                   Peer_label (self),
                   SSL_get_min_proto_version (self->ssl) == TLS1_3_VERSION ? "TLS 1.3 only" :
                   SSL_get_max_proto_version (self->ssl) == TLS1_2_VERSION ? "up to TLS 1.2" :
                   "TLS 1.2 and later",
                   ERR_reason_error_string (first_code) ? ERR_reason_error_string (first_code)
                                                        : "protocol version");
      return;
    }

  if (alert == 116)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED,
                   "%s requires a client certificate, and none was sent (alert “%s”): "
                   "load one with gsecsock_secure_socket_context_load_certificate_file()",
                   Peer_label (self), alert_description (alert));
      return;
    }

  if (alert >= 0)
    {
      g_set_error (error, GSECSOCK_ERROR,
                   op == OP_HANDSHAKE ? GSECSOCK_ERROR_HANDSHAKE_FAILED : GSECSOCK_ERROR_PROTOCOL,
                   "%s ended the %s with the alert “%s”", Peer_label (self), during,
                   alert_description (alert));
      return;
    }

  if (eof || (ssl_error == SSL_ERROR_SYSCALL && first_code == 0) ||
      ssl_error == SSL_ERROR_ZERO_RETURN)
    {
      if (op == OP_HANDSHAKE && gsecsock_bio_bytes_read (self->bio) == 0)
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_EOF,
                     "%s closed the connection without answering the TLS handshake",
                     Peer_label (self));
      else
        set_eof_error (self, op, error);
      return;
    }

  g_set_error (error, GSECSOCK_ERROR,
               op == OP_HANDSHAKE ? GSECSOCK_ERROR_HANDSHAKE_FAILED : GSECSOCK_ERROR_PROTOCOL,
               "The %s with %s failed: %s", during, peer_label (self),
               first_code && ERR_reason_error_string (first_code)
                 ? ERR_reason_error_string (first_code) : "unknown OpenSSL error");
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
  g_object_notify_by_pspec (object, properties[PROP_PROTOCOL_VERSION]);
  g_object_notify_by_pspec (object, properties[PROP_CIPHER_NAME]);
  g_object_notify_by_pspec (object, properties[PROP_ALPN_PROTOCOL]);
  g_object_notify_by_pspec (object, properties[PROP_SESSION_REUSED]);
  g_object_notify_by_pspec (object, properties[PROP_HANDSHAKE_COMPLETE]);
  g_object_thaw_notify (object);
}

/* Ends the handshake (with @error NULL on success). Lock held. Returns
 * whether the caller must emit the notifications once unlocked. */
static gboolean
end_handshake_locked (GSecSockSecureSocket *self,
                      const GError         *error)
{
  if (self->handshake_state == HANDSHAKE_DONE || self->handshake_state == HANDSHAKE_FAILED)
    return FALSE;

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
  g_cancellable_cancel (self->handshake_ended);
  return TRUE;
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
                   "The first %" G_GSIZE_FORMAT " bytes of an earlier write are already "
                   "encrypted and waiting for the connection: after G_IO_ERROR_WOULD_BLOCK "
                   "or a cancelled write, write the same data again",
                   self->pending_write_len);
      g_mutex_unlock (&self->lock);
      return STEP_ERROR;
    }

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

  g_mutex_unlock (&self->lock);

  if (notify)
    notify_handshake_results (self);
  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return result;
}

/* Blocks until the handshake driven by another caller ends or @cancellable
 * is cancelled: a poll() on the two cancellables' descriptors. */
static gboolean
wait_for_handshake_end (GSecSockSecureSocket  *self,
                        GCancellable          *cancellable,
                        GError               **error)
{
  GPollFD fds[2];
  guint n_fds = 0;

  if (g_cancellable_make_pollfd (self->handshake_ended, &fds[n_fds]))
    n_fds++;
  if (cancellable != NULL && g_cancellable_make_pollfd (cancellable, &fds[n_fds]))
    n_fds++;

  while (!g_cancellable_is_cancelled (self->handshake_ended) &&
         !g_cancellable_is_cancelled (cancellable))
    {
      if (g_poll (fds, n_fds, -1) < 0 && errno != EINTR)
        break;
    }

  g_cancellable_release_fd (self->handshake_ended);
  if (n_fds > 1)
    g_cancellable_release_fd (cancellable);
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

/* Blocks until the base stream is ready for @condition or @cancellable is
 * cancelled. */
static gboolean
wait_blocking (GSecSockSecureSocket  *self,
               GIOCondition           condition,
               GCancellable          *cancellable,
               GError               **error)
{
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(GSource) base_source = NULL;
  g_autoptr(GSource) cancel_source = NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* The common case, a socket: one poll() on it (and the cancellable). */
  if (self->base_socket != NULL)
    return g_socket_condition_wait (self->base_socket, condition, cancellable, error);

  /* Any other pollable stream: its source in a private main context. */
  context = g_main_context_new ();
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

  /* One dispatch is enough: the caller retries its operation and waits
   * again if it still cannot proceed. */
  g_main_context_iteration (context, TRUE);

  g_source_destroy (base_source);
  if (cancel_source != NULL)
    g_source_destroy (cancel_source);

  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

/* Takes part in the handshake. Returns TRUE when it is done; FALSE with
 * @error on failure, or FALSE without error when it must wait: then
 * *wants is the base condition, or 0 for "the handshake's owner". */
static gboolean
handshake_step (GSecSockSecureSocket  *self,
                gboolean               blocking,
                GIOCondition          *wants,
                GError               **error)
{
  gsize ignored;
  StepResult result;

  g_mutex_lock (&self->lock);
  switch (self->handshake_state)
    {
    case HANDSHAKE_DONE:
      g_mutex_unlock (&self->lock);
      return TRUE;
    case HANDSHAKE_FAILED:
      g_propagate_error (error, g_error_copy (self->handshake_error));
      g_mutex_unlock (&self->lock);
      return FALSE;
    case HANDSHAKE_NOT_STARTED:
      self->handshake_state = HANDSHAKE_RUNNING;
      break;
    case HANDSHAKE_RUNNING:
    default:
      break;
    }
  /* A blocking handshake in another thread drives it alone. Non-blocking
   * callers only step it when woken, and may have gone away: a blocking
   * caller takes over from them. */
  if (self->handshake_owner == OWNER_BLOCKING &&
      self->handshake_owner_thread != g_thread_self ())
    {
      /* Someone else drives it: wait for it to end. */
      *wants = 0;
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
  self->handshake_owner = blocking ? OWNER_BLOCKING : OWNER_NONBLOCKING;
  self->handshake_owner_thread = blocking ? g_thread_self () : NULL;
  g_mutex_unlock (&self->lock);

  /* On STEP_WOULD_BLOCK ownership is kept while the caller waits. */
  result = step (self, OP_HANDSHAKE, NULL, 0, &ignored, wants, error);
  return result == STEP_DONE;
}

/* Fails the running handshake with @error (a cancellation, a transport
 * wait error) so that nobody waits for it forever. */
static void
abort_handshake (GSecSockSecureSocket *self,
                 const GError         *error)
{
  gboolean notify;

  g_mutex_lock (&self->lock);
  notify = end_handshake_locked (self, error);
  g_mutex_unlock (&self->lock);
  if (notify)
    notify_handshake_results (self);
}

static gboolean
handshake_blocking (GSecSockSecureSocket  *self,
                    GCancellable          *cancellable,
                    GError               **error)
{
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      GIOCondition wants = 0;

      if (handshake_step (self, TRUE, &wants, &local_error))
        return TRUE;
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (wants == 0 ? !wait_for_handshake_end (self, cancellable, &local_error)
                     : !wait_blocking (self, wants, cancellable, &local_error))
        {
          /* Only the owner may abandon the handshake; a waiter just leaves. */
          if (wants != 0)
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
                           "The TLS connection is closed");
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
                           "Cannot write: this side already sent its TLS close_notify");
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
          else if (!handshake_step (self, FALSE, &wants, &local_error))
            {
              if (local_error == NULL)
                {
                  *wants_slot = wants;
                  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                                       "The TLS handshake is in progress");
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
      if (!wait_blocking (self, wants, cancellable, error))
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
  if (condition & G_IO_IN)
    return self->read_closed || readable_without_transport_locked (self);
  return FALSE;
}

/* The socket's sources. Like GLib's pollable sources, readiness is checked
 * again on every main-loop iteration, so a source kept attached
 * (G_SOURCE_CONTINUE) fires only while the socket really is ready; the
 * children wake the loop when the transport or the handshake moves on. */
typedef struct {
  GSource source;
  GSecSockSecureSocket *socket;
  GObject *pollable;          /* the stream a pollable source is for, or NULL */
  GIOCondition condition;     /* what the caller waits for; 0: children only */
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
  return wait_source_ready ((WaitSource *) source);
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
  if (wants & G_IO_IN)
    add_child (source, g_pollable_input_stream_create_source (self->base_input, NULL));
  else if (wants & G_IO_OUT)
    add_child (source, g_pollable_output_stream_create_source (self->base_output, NULL));
  if (handshake_pending)
    add_child (source, g_cancellable_source_new (self->handshake_ended));
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
  if (handshake_pending && self->handshake_owner == OWNER_BLOCKING &&
      self->handshake_owner_thread != g_thread_self ())
    wants = 0;     /* only the end of that handshake matters */
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

  if (handshake_step (self, FALSE, &wants, &error))
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
                               "Cannot handshake: the TLS connection is closed");
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
                           "Cannot handshake: the TLS connection is closed");
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
          if (!wait_blocking (self, wants, cancellable, error))
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

  g_clear_pointer (&self->ssl, SSL_free);   /* frees the BIO too */
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
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
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
   */
  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL, GSECSOCK_TYPE_SECURE_SOCKET_CONTEXT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * GSecSockSecureSocket:base-stream:
   *
   * The stream that carries the encrypted bytes. Its input and output
   * streams must be pollable.
   */
  properties[PROP_BASE_STREAM] =
    g_param_spec_object ("base-stream", NULL, NULL, G_TYPE_IO_STREAM,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * GSecSockSecureSocket:peer-name:
   *
   * For a client, the host name or IP address the server's certificate must
   * match; a host name is also sent as SNI. %NULL for a server.
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
   */
  properties[PROP_REQUIRE_CLOSE_NOTIFY] =
    g_param_spec_boolean ("require-close-notify", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:peer-certificate:
   *
   * The peer's certificate (the leaf), once the handshake has received it;
   * also set after a handshake that failed verification. %NULL before.
   */
  properties[PROP_PEER_CERTIFICATE] =
    g_param_spec_object ("peer-certificate", NULL, NULL, GSECSOCK_TYPE_CERTIFICATE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:peer-certificate-chain:
   *
   * The certificates the peer sent, leaf first, as a #GListModel of
   * #GSecSockCertificate. %NULL before the handshake.
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
   */
  properties[PROP_CERTIFICATE_ERRORS] =
    g_param_spec_flags ("certificate-errors", NULL, NULL, GSECSOCK_TYPE_CERTIFICATE_FLAGS,
                        GSECSOCK_CERTIFICATE_NO_FLAGS,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:protocol-version:
   *
   * The TLS version negotiated, once the handshake has completed.
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
   */
  properties[PROP_CIPHER_NAME] =
    g_param_spec_string ("cipher-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:alpn-protocol:
   *
   * The application protocol agreed on with ALPN, or %NULL if none was.
   */
  properties[PROP_ALPN_PROTOCOL] =
    g_param_spec_string ("alpn-protocol", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:session-reused:
   *
   * Whether the handshake resumed an earlier session (an abbreviated
   * handshake, without a new certificate exchange).
   */
  properties[PROP_SESSION_REUSED] =
    g_param_spec_boolean ("session-reused", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocket:handshake-complete:
   *
   * Whether the handshake has completed successfully.
   */
  properties[PROP_HANDSHAKE_COMPLETE] =
    g_param_spec_boolean ("handshake-complete", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
gsecsock_secure_socket_init (GSecSockSecureSocket *self)
{
  g_mutex_init (&self->lock);
  self->require_close_notify = TRUE;
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
  self->verify.verify_peer = verify_peer;

  self->bio = gsecsock_bio_new (self->base_input, self->base_output);
  SSL_set_bio (self->ssl, self->bio, self->bio);   /* SSL owns the BIO now */

  if (server)
    {
      SSL_set_accept_state (self->ssl);
      self->verify.peer_description = "the client";
      mode = verify_peer ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_NONE;
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
                               "“%s” is not a usable IP address", self->peer_name);
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
                               "“%s” is not a valid host name", self->peer_name);
                  return FALSE;
                }
            }
          description = g_strdup_printf ("“%s”", self->peer_name);
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
                   "The base stream (a %s) is not pollable: gsecsock needs a stream whose "
                   "input and output implement GPollableInputStream and "
                   "GPollableOutputStream, such as a GSocketConnection",
                   G_OBJECT_TYPE_NAME (base_stream));
      return NULL;
    }

  if (gsecsock_secure_socket_context_get_mode (context) == GSECSOCK_MODE_SERVER)
    {
      if (peer_name != NULL)
        {
          g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                       "A server socket has no peer name to check (got “%s”): pass NULL",
                       peer_name);
          return NULL;
        }
    }
  else if (peer_name == NULL && gsecsock_secure_socket_context_get_verify_peer (context))
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                           "A verifying client needs the peer name (host name or IP "
                           "address) that the server's certificate must match; pass it, "
                           "or turn off verify-peer on the context");
      return NULL;
    }

  self = g_object_new (GSECSOCK_TYPE_SECURE_SOCKET,
                       "context", context,
                       "base-stream", base_stream,
                       "peer-name", peer_name,
                       NULL);
  self->base_input = G_POLLABLE_INPUT_STREAM (in);
  self->base_output = G_POLLABLE_OUTPUT_STREAM (out);
  if (G_IS_SOCKET_CONNECTION (base_stream))
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
                           "Only a client context can connect; this one is a server context");
      return FALSE;
    }
  if (host == NULL || *host == '\0')
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                           "No host to connect to was given");
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
 */
const char *
gsecsock_secure_socket_get_peer_name (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), NULL);
  return self->peer_name;
}

/**
 * gsecsock_secure_socket_get_require_close_notify:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:require-close-notify].
 *
 * Returns: whether an end of data without close_notify is an error
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
 */
GSecSockCertificateFlags
gsecsock_secure_socket_get_certificate_errors (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), GSECSOCK_CERTIFICATE_GENERIC_ERROR);
  return self->verify.errors;
}

/**
 * gsecsock_secure_socket_get_protocol_version:
 * @self: a socket
 *
 * Gets [property@GSecSock.SecureSocket:protocol-version].
 *
 * Returns: the negotiated TLS version, or
 *   %GSECSOCK_PROTOCOL_VERSION_UNKNOWN before the handshake
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
 */
gboolean
gsecsock_secure_socket_get_handshake_complete (GSecSockSecureSocket *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET (self), FALSE);
  return self->handshake_state == HANDSHAKE_DONE;
}
