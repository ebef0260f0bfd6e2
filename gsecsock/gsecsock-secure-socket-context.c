/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-secure-socket-context-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "gsecsock-certificate-private.h"
#include "gsecsock-enum-types.h"
#include "gsecsock-error.h"
#include "gsecsock-password-private.h"
#include "gsecsock-secure-socket-private.h"
#include "gsecsock-verify-private.h"

/**
 * GSecSockSecureSocketContext:
 *
 * The configuration that many TLS sockets share: which side they play,
 * which protocol versions they allow, whom they trust, which certificate
 * they present and which application protocols (ALPN) they offer.
 *
 * A context holds exactly one OpenSSL `SSL_CTX`. Every
 * [class@GSecSock.SecureSocket] made from it shares that `SSL_CTX` (and so its
 * trust store and, for clients, its cache of resumable sessions), which keeps
 * the cost of each new connection low.
 *
 * Changing a property affects sockets created afterwards, not the ones that
 * already exist. A context may be shared between threads once configured;
 * configure it from one thread.
 *
 * ```c
 * g_autoptr(GSecSockSecureSocketContext) ctx =
 *   gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
 * g_autoptr(GSecSockSecureSocket) sock =
 *   gsecsock_secure_socket_connect (ctx, "example.org", 443, NULL, &error);
 * ```
 */
struct _GSecSockSecureSocketContext
{
  GObject parent_instance;

  GSecSockMode mode;
  SSL_CTX *ssl_ctx;

  /* Guards the lazily rebuilt trust store, the session cache and the key
   * log file: sockets of one context may live in several threads. */
  GMutex lock;

  gboolean use_system_trust;
  gboolean verify_peer;
  GSecSockProtocolVersion min_version;
  GSecSockProtocolVersion max_version;
  GStrv alpn_protocols;
  guint8 *alpn_wire;            /* length-prefixed form of alpn_protocols */
  gsize alpn_wire_len;
  char *keylog_path;
  gboolean use_sslkeylogfile;
  FILE *keylog_file;            /* opened lazily, appended to */
  gboolean keylog_failed;       /* warn once, not per handshake */

  GPtrArray *trust_anchors;     /* X509*, added explicitly */
  X509_STORE *trust_store;      /* current store; each SSL holds a reference */
  gboolean trust_dirty;         /* store must be rebuilt before next socket */
  gboolean have_certificate;

  STACK_OF(X509_NAME) *client_ca_names;  /* servers: sent in CertificateRequest */

  GHashTable *sessions;         /* session key → SSL_SESSION*, clients only */
};

G_DEFINE_FINAL_TYPE (GSecSockSecureSocketContext, gsecsock_secure_socket_context, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MODE,
  PROP_USE_SYSTEM_TRUST,
  PROP_VERIFY_PEER,
  PROP_MIN_PROTOCOL_VERSION,
  PROP_MAX_PROTOCOL_VERSION,
  PROP_ALPN_PROTOCOLS,
  PROP_KEYLOG_FILE,
  PROP_USE_SSLKEYLOGFILE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static guint signals[N_CONTEXT_SIGNALS];

guint
gsecsock_secure_socket_context_signal (GSecSockContextSignal which)
{
  return signals[which];
}

/* The first handler that returns a password wins. GLib's copy of the
 * handler's string is wiped here, before GLib frees it. */
static gboolean
first_password_wins (GSignalInvocationHint *hint,
                     GValue                *return_accu,
                     const GValue          *handler_return,
                     gpointer               user_data)
{
  char *password = (char *) g_value_get_string (handler_return);

  if (password == NULL)
    return TRUE;
  g_value_set_string (return_accu, password);
  OPENSSL_cleanse (password, strlen (password));
  return FALSE;
}

static int socket_ex_index = -1;
static int context_ex_index = -1;
static int session_key_ex_index = -1;

static void
free_session_key (void *parent, void *ptr, CRYPTO_EX_DATA *ad,
                  int idx, long argl, void *argp)
{
  g_free (ptr);
}

static void
init_ex_indexes (void)
{
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      socket_ex_index = SSL_get_ex_new_index (0, "gsecsock socket", NULL, NULL, NULL);
      session_key_ex_index = SSL_get_ex_new_index (0, "gsecsock session key", NULL, NULL,
                                                   free_session_key);
      context_ex_index = SSL_CTX_get_ex_new_index (0, "gsecsock context", NULL, NULL, NULL);
      g_once_init_leave (&initialised, 1);
    }
}

int
gsecsock_secure_socket_context_socket_index (void)
{
  init_ex_indexes ();
  return socket_ex_index;
}

static int
protocol_version_to_openssl (GSecSockProtocolVersion version)
{
  switch (version)
    {
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_0: return TLS1_VERSION;
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_1: return TLS1_1_VERSION;
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_2: return TLS1_2_VERSION;
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_3: return TLS1_3_VERSION;
    case GSECSOCK_PROTOCOL_VERSION_UNKNOWN:
    default: return 0;
    }
}

static void
apply_protocol_versions (GSecSockSecureSocketContext *self)
{
  int min = protocol_version_to_openssl (self->min_version);
  int max = protocol_version_to_openssl (self->max_version);

  SSL_CTX_set_min_proto_version (self->ssl_ctx, min ? min : TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version (self->ssl_ctx, max);
  /* OpenSSL 3's default security level refuses the SHA-1 signatures that
   * TLS 1.0 and 1.1 need; asking for those versions is the explicit opt-in. */
  if (min != 0 && min < TLS1_2_VERSION)
    SSL_CTX_set_security_level (self->ssl_ctx, 0);
  else
    SSL_CTX_set_security_level (self->ssl_ctx, MAX (SSL_CTX_get_security_level (self->ssl_ctx), 1));
}

static void
write_keylog_line (const SSL *ssl, const char *line)
{
  GSecSockSecureSocketContext *self =
    SSL_CTX_get_ex_data (SSL_get_SSL_CTX (ssl), context_ex_index);
  const char *path;

  if (self == NULL)
    return;

  g_mutex_lock (&self->lock);
  path = self->keylog_path;
  if (path == NULL && self->use_sslkeylogfile)
    path = g_getenv ("SSLKEYLOGFILE");
  if (path != NULL && *path != '\0' && self->keylog_file == NULL && !self->keylog_failed)
    {
      self->keylog_file = fopen (path, "a");
      if (self->keylog_file == NULL)
        {
          int saved_errno = errno;
          self->keylog_failed = TRUE;
          g_warning ("Cannot open the TLS key log file “%s”: %s; no keys will be logged",
                     path, g_strerror (saved_errno));
        }
    }
  if (self->keylog_file != NULL)
    {
      /* One line per secret, flushed at once: Wireshark may read it live. */
      fputs (line, self->keylog_file);
      fputc ('\n', self->keylog_file);
      fflush (self->keylog_file);
    }
  g_mutex_unlock (&self->lock);
}

static void
update_keylog_callback (GSecSockSecureSocketContext *self)
{
  gboolean wanted = self->keylog_path != NULL ||
                    (self->use_sslkeylogfile && g_getenv ("SSLKEYLOGFILE") != NULL);

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->keylog_file, fclose);
  self->keylog_failed = FALSE;
  g_mutex_unlock (&self->lock);

  /* No callback at all when nothing is logged: OpenSSL then skips
   * formatting the secrets. */
  SSL_CTX_set_keylog_callback (self->ssl_ctx, wanted ? write_keylog_line : NULL);
}

static int
select_alpn (SSL *ssl, const unsigned char **out, unsigned char *outlen,
             const unsigned char *in, unsigned int inlen, void *user_data)
{
  GSecSockSecureSocketContext *self = user_data;
  unsigned char *selected = NULL;

  if (self->alpn_wire == NULL)
    return SSL_TLSEXT_ERR_NOACK;

  /* The server's order of preference wins. */
  if (SSL_select_next_proto (&selected, outlen, self->alpn_wire, self->alpn_wire_len,
                             in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;   /* RFC 7301: no_application_protocol */

  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

static int
store_new_session (SSL *ssl, SSL_SESSION *session)
{
  GSecSockSecureSocketContext *self =
    SSL_CTX_get_ex_data (SSL_get_SSL_CTX (ssl), context_ex_index);
  const char *key = SSL_get_ex_data (ssl, session_key_ex_index);

  GSecSockVerifyState *verify = gsecsock_verify_get_state (ssl);

  if (self == NULL || key == NULL || !SSL_SESSION_is_resumable (session))
    return 0;
  /* Resuming skips verification: only a session whose peer passed it may be
   * resumed. A resumed session passed it when it was first made (and the
   * cache is emptied whenever what verification depends on changes). */
  if (verify == NULL || verify->errors != 0 ||
      !(verify->verified || SSL_session_reused (ssl)))
    return 0;

  g_mutex_lock (&self->lock);
  /* Returning 1 hands our reference of @session to the table. */
  g_hash_table_replace (self->sessions, g_strdup (key), session);
  g_mutex_unlock (&self->lock);
  return 1;
}

void
gsecsock_secure_socket_context_resume_session (GSecSockSecureSocketContext *self,
                                               SSL                         *ssl,
                                               const char                  *session_key)
{
  SSL_SESSION *session;

  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));

  if (self->mode != GSECSOCK_MODE_CLIENT || session_key == NULL)
    return;

  SSL_set_ex_data (ssl, session_key_ex_index, g_strdup (session_key));

  g_mutex_lock (&self->lock);
  session = g_hash_table_lookup (self->sessions, session_key);
  if (session != NULL)
    {
      /* A TLS 1.3 ticket is meant to be used once: the server sends fresh
       * ones on every connection, which store_new_session() keeps. */
      if (SSL_SESSION_get_protocol_version (session) == TLS1_3_VERSION)
        {
          SSL_SESSION_up_ref (session);
          g_hash_table_remove (self->sessions, session_key);
        }
      else
        SSL_SESSION_up_ref (session);
    }
  g_mutex_unlock (&self->lock);

  if (session != NULL)
    {
      SSL_set_session (ssl, session);
      SSL_SESSION_free (session);
    }
}

/* Forget every resumable session: called when what their verification
 * depended on (trust, verify-peer, our certificate) changes. Lock held. */
static void
forget_sessions_locked (GSecSockSecureSocketContext *self)
{
  g_hash_table_remove_all (self->sessions);
}

static void
sk_X509_NAME_pop_free_all (STACK_OF(X509_NAME) *names)
{
  sk_X509_NAME_pop_free (names, X509_NAME_free);
}

static void
rebuild_trust_store (GSecSockSecureSocketContext *self)
{
  X509_STORE *store = X509_STORE_new ();

  if (store == NULL)
    g_error ("Out of memory creating a certificate store");

  if (self->use_system_trust && !X509_STORE_set_default_paths (store))
    {
      /* A machine without a CA bundle is not an error for a context that
       * has its own anchors; say so once in the log. */
      g_debug ("No system certificate store could be loaded: %s",
               ERR_reason_error_string (ERR_peek_last_error ()));
      ERR_clear_error ();
    }

  for (guint i = 0; i < self->trust_anchors->len; i++)
    {
      if (!X509_STORE_add_cert (store, g_ptr_array_index (self->trust_anchors, i)))
        ERR_clear_error ();     /* already present: harmless */
    }

  /* Sockets handshaking in other threads keep the store they started
   * with: each SSL holds its own reference (SSL_set1_verify_cert_store). */
  g_clear_pointer (&self->trust_store, X509_STORE_free);
  self->trust_store = store;
  self->trust_dirty = FALSE;

  /* A server names the authorities it accepts client certificates from,
   * so that clients can pick the right one: the anchors added explicitly
   * (the system's hundreds would only bloat every handshake). */
  if (self->mode == GSECSOCK_MODE_SERVER)
    {
      g_clear_pointer (&self->client_ca_names, sk_X509_NAME_pop_free_all);
      self->client_ca_names = sk_X509_NAME_new_null ();
      for (guint i = 0; i < self->trust_anchors->len; i++)
        {
          X509 *anchor = g_ptr_array_index (self->trust_anchors, i);
          X509_NAME *name = X509_NAME_dup (X509_get_subject_name (anchor));
          if (name != NULL)
            sk_X509_NAME_push (self->client_ca_names, name);
        }
    }
}

SSL *
gsecsock_secure_socket_context_create_ssl (GSecSockSecureSocketContext  *self,
                                           GError                      **error)
{
  SSL *ssl;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), NULL);

  if (self->mode == GSECSOCK_MODE_SERVER && !self->have_certificate)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                           "This server context has no certificate: call "
                           "gsecsock_secure_socket_context_load_certificate_file() "
                           "before creating sockets");
      return NULL;
    }

  g_mutex_lock (&self->lock);
  if (self->trust_dirty)
    rebuild_trust_store (self);
  ssl = SSL_new (self->ssl_ctx);
  if (ssl == NULL)
    g_error ("Out of memory creating a TLS connection");
  SSL_set1_verify_cert_store (ssl, self->trust_store);
  if (self->mode == GSECSOCK_MODE_SERVER && self->client_ca_names != NULL)
    SSL_set_client_CA_list (ssl, SSL_dup_CA_list (self->client_ca_names));
  g_mutex_unlock (&self->lock);

  return ssl;
}

static void
gsecsock_secure_socket_context_constructed (GObject *object)
{
  GSecSockSecureSocketContext *self = GSECSOCK_SECURE_SOCKET_CONTEXT (object);
  const SSL_METHOD *method;

  G_OBJECT_CLASS (gsecsock_secure_socket_context_parent_class)->constructed (object);

  init_ex_indexes ();
  method = self->mode == GSECSOCK_MODE_SERVER ? TLS_server_method () : TLS_client_method ();
  self->ssl_ctx = SSL_CTX_new (method);
  if (self->ssl_ctx == NULL)
    g_error ("Cannot create an OpenSSL context: %s",
             ERR_reason_error_string (ERR_get_error ()));
  SSL_CTX_set_ex_data (self->ssl_ctx, context_ex_index, self);

  /* Secure by default: no renegotiation, no compression, TLS 1.2 minimum. */
  SSL_CTX_set_options (self->ssl_ctx,
                       SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                       SSL_OP_CIPHER_SERVER_PREFERENCE);
  /* Our BIO never blocks and a GOutputStream may write less than asked;
   * a retried write may come from a different buffer. */
  SSL_CTX_set_mode (self->ssl_ctx,
                    SSL_MODE_ENABLE_PARTIAL_WRITE |
                    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_clear_mode (self->ssl_ctx, SSL_MODE_AUTO_RETRY);
  /* Read whole buffers from the transport: one recv() for a record (or
   * several), rather than one for the header and one for the body. */
  SSL_CTX_set_read_ahead (self->ssl_ctx, 1);
  apply_protocol_versions (self);

  /* The decisions and events of the socket owning each SSL. */
  SSL_CTX_set_info_callback (self->ssl_ctx, gsecsock_secure_socket_info_cb);
  SSL_CTX_set_cert_cb (self->ssl_ctx, gsecsock_secure_socket_client_cert_cb, NULL);

  if (self->mode == GSECSOCK_MODE_SERVER)
    {
      static const unsigned char sid_ctx[] = "gsecsock";
      SSL_CTX_set_session_id_context (self->ssl_ctx, sid_ctx, sizeof sid_ctx - 1);
      SSL_CTX_set_alpn_select_cb (self->ssl_ctx, select_alpn, self);
    }
  else
    {
      SSL_CTX_set_session_cache_mode (self->ssl_ctx,
                                      SSL_SESS_CACHE_CLIENT |
                                      SSL_SESS_CACHE_NO_INTERNAL_STORE);
      SSL_CTX_sess_set_new_cb (self->ssl_ctx, store_new_session);
    }

  gsecsock_verify_install (self->ssl_ctx);
}

static void
gsecsock_secure_socket_context_finalize (GObject *object)
{
  GSecSockSecureSocketContext *self = GSECSOCK_SECURE_SOCKET_CONTEXT (object);

  g_clear_pointer (&self->sessions, g_hash_table_unref);
  g_clear_pointer (&self->ssl_ctx, SSL_CTX_free);
  g_clear_pointer (&self->trust_anchors, g_ptr_array_unref);
  g_clear_pointer (&self->trust_store, X509_STORE_free);
  g_clear_pointer (&self->client_ca_names, sk_X509_NAME_pop_free_all);
  g_clear_pointer (&self->alpn_protocols, g_strfreev);
  g_clear_pointer (&self->alpn_wire, g_free);
  g_clear_pointer (&self->keylog_path, g_free);
  g_clear_pointer (&self->keylog_file, fclose);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (gsecsock_secure_socket_context_parent_class)->finalize (object);
}

static void
gsecsock_secure_socket_context_get_property (GObject    *object,
                                             guint       prop_id,
                                             GValue     *value,
                                             GParamSpec *pspec)
{
  GSecSockSecureSocketContext *self = GSECSOCK_SECURE_SOCKET_CONTEXT (object);

  switch (prop_id)
    {
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_USE_SYSTEM_TRUST:
      g_value_set_boolean (value, self->use_system_trust);
      break;
    case PROP_VERIFY_PEER:
      g_value_set_boolean (value, self->verify_peer);
      break;
    case PROP_MIN_PROTOCOL_VERSION:
      g_value_set_enum (value, self->min_version);
      break;
    case PROP_MAX_PROTOCOL_VERSION:
      g_value_set_enum (value, self->max_version);
      break;
    case PROP_ALPN_PROTOCOLS:
      g_value_set_boxed (value, self->alpn_protocols);
      break;
    case PROP_KEYLOG_FILE:
      g_value_set_string (value, self->keylog_path);
      break;
    case PROP_USE_SSLKEYLOGFILE:
      g_value_set_boolean (value, self->use_sslkeylogfile);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gsecsock_secure_socket_context_set_property (GObject      *object,
                                             guint         prop_id,
                                             const GValue *value,
                                             GParamSpec   *pspec)
{
  GSecSockSecureSocketContext *self = GSECSOCK_SECURE_SOCKET_CONTEXT (object);

  switch (prop_id)
    {
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      /* The default depends on the mode: clients verify, servers do not ask. */
      self->verify_peer = self->mode == GSECSOCK_MODE_CLIENT;
      break;
    case PROP_USE_SYSTEM_TRUST:
      gsecsock_secure_socket_context_set_use_system_trust (self, g_value_get_boolean (value));
      break;
    case PROP_VERIFY_PEER:
      gsecsock_secure_socket_context_set_verify_peer (self, g_value_get_boolean (value));
      break;
    case PROP_MIN_PROTOCOL_VERSION:
      gsecsock_secure_socket_context_set_min_protocol_version (self, g_value_get_enum (value));
      break;
    case PROP_MAX_PROTOCOL_VERSION:
      gsecsock_secure_socket_context_set_max_protocol_version (self, g_value_get_enum (value));
      break;
    case PROP_ALPN_PROTOCOLS:
      gsecsock_secure_socket_context_set_alpn_protocols (self, g_value_get_boxed (value));
      break;
    case PROP_KEYLOG_FILE:
      gsecsock_secure_socket_context_set_keylog_file (self, g_value_get_string (value));
      break;
    case PROP_USE_SSLKEYLOGFILE:
      gsecsock_secure_socket_context_set_use_sslkeylogfile (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gsecsock_secure_socket_context_class_init (GSecSockSecureSocketContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = gsecsock_secure_socket_context_constructed;
  object_class->finalize = gsecsock_secure_socket_context_finalize;
  object_class->get_property = gsecsock_secure_socket_context_get_property;
  object_class->set_property = gsecsock_secure_socket_context_set_property;

  /**
   * GSecSockSecureSocketContext:mode:
   *
   * Whether sockets made from this context are TLS clients or servers.
   */
  properties[PROP_MODE] =
    g_param_spec_enum ("mode", NULL, NULL,
                       GSECSOCK_TYPE_MODE, GSECSOCK_MODE_CLIENT,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * GSecSockSecureSocketContext:use-system-trust:
   *
   * Whether the system's certificate authorities (OpenSSL's default
   * store, on Debian `/etc/ssl/certs`) are trusted, in addition to the
   * anchors added with [method@GSecSock.SecureSocketContext.add_trust_anchor].
   */
  properties[PROP_USE_SYSTEM_TRUST] =
    g_param_spec_boolean ("use-system-trust", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocketContext:verify-peer:
   *
   * Whether the peer's certificate must pass verification.
   *
   * For a client (default %TRUE) the server's chain must lead to a trusted
   * authority and match the peer name given to
   * [ctor@GSecSock.SecureSocket.new]. Turning it off still verifies and
   * reports every problem in [property@GSecSock.SecureSocket:certificate-errors],
   * but completes the handshake anyway.
   *
   * For a server (default %FALSE) %TRUE asks every client for a
   * certificate, requires one and verifies it against the context's trust.
   */
  properties[PROP_VERIFY_PEER] =
    g_param_spec_boolean ("verify-peer", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocketContext:min-protocol-version:
   *
   * The lowest TLS version allowed. The default is TLS 1.2; lower versions
   * are insecure and must be asked for explicitly.
   * %GSECSOCK_PROTOCOL_VERSION_UNKNOWN means the default.
   */
  properties[PROP_MIN_PROTOCOL_VERSION] =
    g_param_spec_enum ("min-protocol-version", NULL, NULL,
                       GSECSOCK_TYPE_PROTOCOL_VERSION, GSECSOCK_PROTOCOL_VERSION_TLS_1_2,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocketContext:max-protocol-version:
   *
   * The highest TLS version allowed, or %GSECSOCK_PROTOCOL_VERSION_UNKNOWN
   * (the default) for the highest this OpenSSL supports.
   */
  properties[PROP_MAX_PROTOCOL_VERSION] =
    g_param_spec_enum ("max-protocol-version", NULL, NULL,
                       GSECSOCK_TYPE_PROTOCOL_VERSION, GSECSOCK_PROTOCOL_VERSION_UNKNOWN,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocketContext:alpn-protocols:
   *
   * The application protocols (ALPN, RFC 7301) offered, most preferred
   * first, for example `{ "h2", "http/1.1", NULL }`.
   *
   * A client offers them in this order. A server picks, in its own order of
   * preference, the first one the client offered too; when the client offers
   * ALPN but none matches, the handshake fails with %GSECSOCK_ERROR_ALPN.
   * The result is [property@GSecSock.SecureSocket:alpn-protocol].
   */
  properties[PROP_ALPN_PROTOCOLS] =
    g_param_spec_boxed ("alpn-protocols", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocketContext:keylog-file:
   *
   * A file to which the secrets of every handshake are appended in the NSS
   * key log format, so that a capture can be decrypted by Wireshark.
   *
   * Anyone who can read this file can decrypt the traffic: use it only
   * for debugging.
   */
  properties[PROP_KEYLOG_FILE] =
    g_param_spec_string ("keylog-file", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocketContext:use-sslkeylogfile:
   *
   * Whether the `SSLKEYLOGFILE` environment variable is honoured when
   * [property@GSecSock.SecureSocketContext:keylog-file] is unset. Off by
   * default, so that an environment variable alone never exposes secrets.
   */
  properties[PROP_USE_SSLKEYLOGFILE] =
    g_param_spec_boolean ("use-sslkeylogfile", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * GSecSockSecureSocketContext::password-requested:
   * @self: the context
   * @description: what needs the password, for a prompt: the file and what
   *   it holds, for example "the private key in “/etc/app/key.pem”"
   * @attempt: 1 for the first request for this key, 2 and 3 after a wrong
   *   password
   *
   * Emitted when a private key being loaded (by
   * [method@GSecSock.SecureSocketContext.load_certificate_file],
   * [method@GSecSock.SecureSocketContext.load_pkcs12_file] or
   * [method@GSecSock.SecureSocketContext.load_identity]) is encrypted:
   * PEM, traditional or PKCS#8, or PKCS#12. It is emitted synchronously, in
   * the thread that called the loading function, never for an unencrypted
   * key. After a wrong password it is emitted again, with @attempt
   * incremented, up to three times in all; then loading fails with
   * %GSECSOCK_ERROR_BAD_PASSWORD.
   *
   * The first handler that returns a string answers. Returning %NULL (or
   * having no handler) cancels the loading with
   * %GSECSOCK_ERROR_BAD_PASSWORD. gsecsock wipes its copies of the password
   * from memory once used; a language binding may keep copies of its own.
   *
   * ```c
   * static char *
   * on_password (GSecSockSecureSocketContext *ctx, const char *description,
   *              guint attempt, gpointer user_data)
   * {
   *   return attempt == 1 ? g_strdup (lookup_password (user_data)) : NULL;
   * }
   * ```
   *
   * ```python
   * ctx.connect("password-requested",
   *             lambda ctx, description, attempt: keyring.get(description))
   * ```
   *
   * Returns: (transfer full) (nullable): the password, or %NULL to cancel
   */
  signals[CONTEXT_SIGNAL_PASSWORD_REQUESTED] =
    g_signal_new ("password-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, first_password_wins, NULL, NULL,
                  G_TYPE_STRING, 2, G_TYPE_STRING, G_TYPE_UINT);

  /**
   * GSecSockSecureSocketContext::verify-certificate:
   * @self: the context
   * @socket: the socket whose peer is being verified
   * @certificate: a certificate of the peer's chain
   * @depth: its place in the chain: 0 for the peer's own certificate, 1 for
   *   its issuer, and so on
   * @errors: every problem found with @certificate
   *
   * The context-wide form of [signal@GSecSock.SecureSocket::verify-certificate],
   * for applications with many sockets: emitted for a socket that has no
   * `verify-certificate` handler of its own, in the same circumstances and
   * thread. A handler on the socket takes precedence; with neither, the
   * built-in verification decides.
   *
   * A handler may postpone its answer with
   * [method@GSecSock.SecureSocket.defer_decision] on @socket.
   *
   * ```c
   * static gboolean
   * on_verify (GSecSockSecureSocketContext *ctx, GSecSockSecureSocket *sock,
   *            GSecSockCertificate *certificate, guint depth,
   *            GSecSockCertificateFlags errors, gpointer user_data)
   * {
   *   return errors == 0 || is_pinned (gsecsock_secure_socket_get_peer_name (sock), certificate);
   * }
   * ```
   *
   * ```python
   * ctx.connect('verify-certificate',
   *             lambda ctx, sock, cert, depth, errors: errors == 0 or is_pinned(sock, cert))
   * ```
   *
   * Returns: %TRUE to accept @certificate, %FALSE to reject it and fail the
   *   handshake
   */
  signals[CONTEXT_SIGNAL_VERIFY_CERTIFICATE] =
    g_signal_new ("verify-certificate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, g_signal_accumulator_first_wins, NULL, NULL,
                  G_TYPE_BOOLEAN, 4, GSECSOCK_TYPE_SECURE_SOCKET, GSECSOCK_TYPE_CERTIFICATE,
                  G_TYPE_UINT, GSECSOCK_TYPE_CERTIFICATE_FLAGS);

  /**
   * GSecSockSecureSocketContext::handshake-info:
   * @self: the context
   * @socket: the socket the event happened on
   * @where: what happened
   * @value: a number whose meaning depends on @where (see
   *   #GSecSockHandshakeInfoFlags)
   * @description: the event in words
   *
   * The context-wide form of [signal@GSecSock.SecureSocket::handshake-info]:
   * emitted for the events of every socket of the context that has no
   * `handshake-info` handler of its own, in the same thread as the socket's
   * would be.
   *
   * ```python
   * ctx.connect('handshake-info',
   *             lambda ctx, sock, where, value, text: log.debug('%s: %s', sock.props.peer_name, text))
   * ```
   */
  signals[CONTEXT_SIGNAL_HANDSHAKE_INFO] =
    g_signal_new ("handshake-info", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 4, GSECSOCK_TYPE_SECURE_SOCKET, GSECSOCK_TYPE_HANDSHAKE_INFO_FLAGS,
                  G_TYPE_INT, G_TYPE_STRING);

  /**
   * GSecSockSecureSocketContext::client-certificate-requested:
   * @self: the context
   * @socket: the client socket the server asked
   * @acceptable_issuers: the distinguished names of the authorities the
   *   server accepts, possibly empty
   *
   * The context-wide form of
   * [signal@GSecSock.SecureSocket::client-certificate-requested], emitted
   * for a socket that has no handler of its own.
   *
   * Returns: %TRUE if the handler chose (with
   *   [method@GSecSock.SecureSocket.set_client_certificate]), declined or
   *   deferred; %FALSE to let the context's own certificate, if any, be sent
   */
  signals[CONTEXT_SIGNAL_CLIENT_CERTIFICATE_REQUESTED] =
    g_signal_new ("client-certificate-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, g_signal_accumulator_true_handled, NULL, NULL,
                  G_TYPE_BOOLEAN, 2, GSECSOCK_TYPE_SECURE_SOCKET, G_TYPE_STRV);
}

static void
gsecsock_secure_socket_context_init (GSecSockSecureSocketContext *self)
{
  g_mutex_init (&self->lock);
  self->use_system_trust = TRUE;
  self->verify_peer = TRUE;
  self->min_version = GSECSOCK_PROTOCOL_VERSION_TLS_1_2;
  self->max_version = GSECSOCK_PROTOCOL_VERSION_UNKNOWN;
  self->trust_anchors = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_free);
  self->trust_dirty = TRUE;
  self->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) SSL_SESSION_free);
}

/**
 * gsecsock_secure_socket_context_new:
 * @mode: whether the context makes client or server sockets
 *
 * Creates a context with secure defaults: TLS 1.2 or later, the system's
 * trusted authorities, and (for clients) verification of the server's
 * certificate and host name.
 *
 * Returns: (transfer full): a new context
 */
GSecSockSecureSocketContext *
gsecsock_secure_socket_context_new (GSecSockMode mode)
{
  g_return_val_if_fail (mode == GSECSOCK_MODE_CLIENT || mode == GSECSOCK_MODE_SERVER, NULL);

  return g_object_new (GSECSOCK_TYPE_SECURE_SOCKET_CONTEXT, "mode", mode, NULL);
}

static char *
openssl_reason (void)
{
  unsigned long code = ERR_peek_last_error ();
  const char *reason = code ? ERR_reason_error_string (code) : NULL;
  char *result = g_strdup (reason ? reason : "unknown error");

  ERR_clear_error ();
  return result;
}

/**
 * gsecsock_secure_socket_context_load_certificate_file:
 * @self: a context
 * @cert_path: (type filename): a PEM file with the certificate, optionally
 *   followed by the intermediate certificates of its chain (and the private
 *   key, if @key_path is %NULL); or a PKCS#12 file
 * @key_path: (type filename) (nullable): a PEM file with the private key, or
 *   %NULL if the key is in @cert_path
 * @error: return location for a #GError
 *
 * Sets the certificate this side presents to its peer, with its chain and
 * private key. A server context needs one; a client context needs one only
 * when servers ask for client certificates.
 *
 * The intermediate certificates in @cert_path are sent after the leaf, so
 * peers can build the chain to their trusted root.
 *
 * If the private key is encrypted (PEM, traditional or PKCS#8), its
 * password is asked for with
 * [signal@GSecSock.SecureSocketContext::password-requested], synchronously,
 * before this function returns. A PKCS#12 file is recognised by its content
 * and loaded as with
 * [method@GSecSock.SecureSocketContext.load_pkcs12_file].
 *
 * This is [method@GSecSock.SecureSocketContext.load_identity] followed by
 * [method@GSecSock.SecureSocketContext.set_certificate]. On error the
 * certificate in use, if any, stays in use.
 *
 * Returns: %TRUE on success; %FALSE with @error set to
 *   %GSECSOCK_ERROR_BAD_CERTIFICATE_FILE, %GSECSOCK_ERROR_BAD_KEY_FILE,
 *   %GSECSOCK_ERROR_KEY_MISMATCH or %GSECSOCK_ERROR_BAD_PASSWORD
 */
gboolean
gsecsock_secure_socket_context_load_certificate_file (GSecSockSecureSocketContext  *self,
                                                      const char                   *cert_path,
                                                      const char                   *key_path,
                                                      GError                      **error)
{
  g_autoptr(GSecSockCertificate) certificate = NULL;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (cert_path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  certificate = gsecsock_load_identity (self, cert_path, key_path, GSECSOCK_IDENTITY_ANY, error);
  if (certificate == NULL)
    return FALSE;
  return gsecsock_secure_socket_context_set_certificate (self, certificate, error);
}

/**
 * gsecsock_secure_socket_context_load_identity:
 * @self: a context
 * @path: (type filename): a PEM file with the certificate, optionally
 *   followed by the intermediate certificates of its chain and by its
 *   private key; or a PKCS#12 file (`.p12`, `.pfx`) with the certificate,
 *   its key and its chain
 * @key_path: (type filename) (nullable): a PEM file with the private key,
 *   or %NULL if the key is in @path (always %NULL for a PKCS#12 file)
 * @error: return location for a #GError
 *
 * Loads a certificate together with its private key and the intermediate
 * certificates to send after it, asking for the key's password if it is
 * encrypted. Nothing is installed: use the result with
 * [method@GSecSock.SecureSocketContext.set_certificate], or keep it to
 * present later, for example as a client certificate chosen when a server
 * asks for one.
 *
 * The format is recognised by the content: a file with PEM blocks is PEM
 * (the private key may be anywhere in it, unencrypted or encrypted in the
 * traditional `Proc-Type: 4,ENCRYPTED` form or as PKCS#8); a binary file is
 * PKCS#12 if it parses as one, otherwise a DER certificate (whose key must
 * then be in @key_path).
 *
 * For an encrypted key, or a PKCS#12 file with a password,
 * [signal@GSecSock.SecureSocketContext::password-requested] is emitted on
 * @self, synchronously in the calling thread, up to three times; an
 * unencrypted key and a PKCS#12 file without a password never emit it.
 *
 * Returns: (transfer full): the certificate, carrying its private key (see
 *   [property@GSecSock.Certificate:has-private-key]); %NULL with @error set
 *   to %GSECSOCK_ERROR_BAD_CERTIFICATE_FILE (@path unreadable or holding
 *   no certificate), %GSECSOCK_ERROR_BAD_KEY_FILE (no valid key),
 *   %GSECSOCK_ERROR_KEY_MISMATCH (the key is not the certificate's),
 *   %GSECSOCK_ERROR_BAD_PASSWORD (no password, or a wrong one three times)
 *   or %GSECSOCK_ERROR_MISUSE (a @key_path with a PKCS#12 file)
 */
GSecSockCertificate *
gsecsock_secure_socket_context_load_identity (GSecSockSecureSocketContext  *self,
                                              const char                   *path,
                                              const char                   *key_path,
                                              GError                      **error)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return gsecsock_load_identity (self, path, key_path, GSECSOCK_IDENTITY_ANY, error);
}

/**
 * gsecsock_secure_socket_context_set_certificate:
 * @self: a context
 * @certificate: a certificate that carries its private key
 * @error: return location for a #GError
 *
 * Sets the certificate this side presents to its peer: @certificate, with
 * its private key, followed by the intermediate certificates it was loaded
 * with. It replaces the previous one, for sockets created afterwards.
 *
 * @certificate must carry its private key (see
 * [property@GSecSock.Certificate:has-private-key]): load it with
 * [method@GSecSock.SecureSocketContext.load_identity] or
 * [ctor@GSecSock.Certificate.new_from_files]. A certificate without one,
 * such as a peer's, gives %GSECSOCK_ERROR_MISUSE.
 *
 * Returns: %TRUE on success; %FALSE with @error set to
 *   %GSECSOCK_ERROR_MISUSE if @certificate has no private key, or
 *   %GSECSOCK_ERROR_BAD_CERTIFICATE_FILE if OpenSSL refuses it (for example
 *   a key too weak for the security level)
 */
gboolean
gsecsock_secure_socket_context_set_certificate (GSecSockSecureSocketContext  *self,
                                                GSecSockCertificate          *certificate,
                                                GError                      **error)
{
  EVP_PKEY *key;
  int ok;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE (certificate), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  key = gsecsock_certificate_get_private_key (certificate);
  if (key == NULL)
    {
      g_autofree char *subject = gsecsock_certificate_get_subject (certificate);

      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                   "The certificate “%s” has no private key, so it cannot be presented: "
                   "load it with its key (gsecsock_secure_socket_context_load_identity() "
                   "or gsecsock_certificate_new_from_files())",
                   subject);
      return FALSE;
    }

  ERR_clear_error ();
  g_mutex_lock (&self->lock);
  /* SSL_CTX_use_cert_and_key replaces any earlier certificate atomically;
   * it takes its own references. */
  ok = SSL_CTX_use_cert_and_key (self->ssl_ctx, gsecsock_certificate_get_x509 (certificate), key,
                                 gsecsock_certificate_get_chain (certificate), 1);
  if (ok)
    forget_sessions_locked (self);   /* they may carry the old identity */
  g_mutex_unlock (&self->lock);

  if (!ok)
    {
      g_autofree char *reason = openssl_reason ();
      g_autofree char *subject = gsecsock_certificate_get_subject (certificate);

      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                   "OpenSSL refused the certificate “%s”: %s", subject, reason);
      return FALSE;
    }

  self->have_certificate = TRUE;
  return TRUE;
}

/**
 * gsecsock_secure_socket_context_load_pkcs12_file:
 * @self: a context
 * @path: (type filename): a PKCS#12 file (`.p12`, `.pfx`) with the
 *   certificate, its private key and the intermediate certificates of its
 *   chain
 * @error: return location for a #GError
 *
 * Sets the certificate this side presents to its peer from a PKCS#12 file,
 * as [method@GSecSock.SecureSocketContext.load_certificate_file] does from
 * PEM files.
 *
 * A file exported without a password (or with an empty one) loads
 * directly. Otherwise its password is asked for with
 * [signal@GSecSock.SecureSocketContext::password-requested], synchronously,
 * up to three times; the file's integrity check tells a wrong password.
 *
 * This is [method@GSecSock.SecureSocketContext.load_identity] followed by
 * [method@GSecSock.SecureSocketContext.set_certificate], for PKCS#12 files
 * only. On error the certificate in use, if any, stays in use.
 *
 * Returns: %TRUE on success; %FALSE with @error set to
 *   %GSECSOCK_ERROR_BAD_CERTIFICATE_FILE (unreadable, not PKCS#12, or
 *   without a certificate), %GSECSOCK_ERROR_BAD_KEY_FILE (no private key),
 *   %GSECSOCK_ERROR_KEY_MISMATCH or %GSECSOCK_ERROR_BAD_PASSWORD
 */
gboolean
gsecsock_secure_socket_context_load_pkcs12_file (GSecSockSecureSocketContext  *self,
                                                 const char                   *path,
                                                 GError                      **error)
{
  g_autoptr(GSecSockCertificate) certificate = NULL;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  certificate = gsecsock_load_identity (self, path, NULL, GSECSOCK_IDENTITY_PKCS12, error);
  if (certificate == NULL)
    return FALSE;
  return gsecsock_secure_socket_context_set_certificate (self, certificate, error);
}

/**
 * gsecsock_secure_socket_context_add_trust_anchor_file:
 * @self: a context
 * @path: (type filename): a PEM file with one or more certificates
 * @error: return location for a #GError
 *
 * Trusts every certificate in @path as a root of trust, in addition to the
 * system's authorities (see
 * [property@GSecSock.SecureSocketContext:use-system-trust]).
 *
 * Returns: %TRUE on success; %FALSE with @error set to
 *   %GSECSOCK_ERROR_BAD_CERTIFICATE_FILE if the file is missing, unreadable
 *   or holds no certificate
 */
gboolean
gsecsock_secure_socket_context_add_trust_anchor_file (GSecSockSecureSocketContext  *self,
                                                      const char                   *path,
                                                      GError                      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autolist(GSecSockCertificate) list = NULL;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  list = gsecsock_certificate_list_new_from_file (path, &local_error);
  if (list == NULL)
    {
      if (local_error->domain == GSECSOCK_ERROR)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE,
                     "Cannot use “%s” as trust anchors: %s", path, local_error->message);
      return FALSE;
    }

  for (GList *l = list; l != NULL; l = l->next)
    gsecsock_secure_socket_context_add_trust_anchor (self, l->data);
  return TRUE;
}

/**
 * gsecsock_secure_socket_context_add_trust_anchor:
 * @self: a context
 * @certificate: a certificate to trust as a root
 *
 * Trusts @certificate as a root of trust: chains that lead to it verify.
 * It need not be self-signed: trusting an intermediate (or a server's own
 * certificate) pins that certificate.
 */
void
gsecsock_secure_socket_context_add_trust_anchor (GSecSockSecureSocketContext *self,
                                                 GSecSockCertificate         *certificate)
{
  X509 *x509;

  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));
  g_return_if_fail (GSECSOCK_IS_CERTIFICATE (certificate));

  x509 = gsecsock_certificate_get_x509 (certificate);
  X509_up_ref (x509);
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->trust_anchors, x509);
  self->trust_dirty = TRUE;
  forget_sessions_locked (self);
  g_mutex_unlock (&self->lock);
}

/**
 * gsecsock_secure_socket_context_get_mode:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:mode].
 *
 * Returns: whether the context makes client or server sockets
 */
GSecSockMode
gsecsock_secure_socket_context_get_mode (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), GSECSOCK_MODE_CLIENT);
  return self->mode;
}

/**
 * gsecsock_secure_socket_context_get_use_system_trust:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:use-system-trust].
 *
 * Returns: whether the system's certificate authorities are trusted
 */
gboolean
gsecsock_secure_socket_context_get_use_system_trust (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  return self->use_system_trust;
}

/**
 * gsecsock_secure_socket_context_set_use_system_trust:
 * @self: a context
 * @use_system_trust: whether to trust the system's certificate authorities
 *
 * Sets [property@GSecSock.SecureSocketContext:use-system-trust].
 */
void
gsecsock_secure_socket_context_set_use_system_trust (GSecSockSecureSocketContext *self,
                                                     gboolean                     use_system_trust)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));

  use_system_trust = !!use_system_trust;
  if (self->use_system_trust == use_system_trust)
    return;
  g_mutex_lock (&self->lock);
  self->use_system_trust = use_system_trust;
  self->trust_dirty = TRUE;
  forget_sessions_locked (self);
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USE_SYSTEM_TRUST]);
}

/**
 * gsecsock_secure_socket_context_get_verify_peer:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:verify-peer].
 *
 * Returns: whether the peer's certificate must pass verification
 */
gboolean
gsecsock_secure_socket_context_get_verify_peer (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  return self->verify_peer;
}

/**
 * gsecsock_secure_socket_context_set_verify_peer:
 * @self: a context
 * @verify_peer: whether the peer's certificate must pass verification
 *
 * Sets [property@GSecSock.SecureSocketContext:verify-peer]. Turning it off
 * on a client makes connections open to impersonation: do it only when the
 * peer is authenticated another way.
 */
void
gsecsock_secure_socket_context_set_verify_peer (GSecSockSecureSocketContext *self,
                                                gboolean                     verify_peer)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));

  verify_peer = !!verify_peer;
  if (self->verify_peer == verify_peer)
    return;
  g_mutex_lock (&self->lock);
  self->verify_peer = verify_peer;
  forget_sessions_locked (self);
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VERIFY_PEER]);
}

/**
 * gsecsock_secure_socket_context_get_min_protocol_version:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:min-protocol-version].
 *
 * Returns: the lowest TLS version allowed
 */
GSecSockProtocolVersion
gsecsock_secure_socket_context_get_min_protocol_version (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), GSECSOCK_PROTOCOL_VERSION_UNKNOWN);
  return self->min_version;
}

static gboolean
check_version_range (GSecSockProtocolVersion min,
                     GSecSockProtocolVersion max)
{
  if (min != GSECSOCK_PROTOCOL_VERSION_UNKNOWN && max != GSECSOCK_PROTOCOL_VERSION_UNKNOWN &&
      min > max)
    {
      g_critical ("The minimum TLS version (1.%d) is above the maximum (1.%d): "
                  "lower the minimum first", min - 10, max - 10);
      return FALSE;
    }
  return TRUE;
}

/**
 * gsecsock_secure_socket_context_set_min_protocol_version:
 * @self: a context
 * @version: the lowest TLS version to allow, or
 *   %GSECSOCK_PROTOCOL_VERSION_UNKNOWN for the default (TLS 1.2)
 *
 * Sets [property@GSecSock.SecureSocketContext:min-protocol-version].
 * It must not be above the maximum.
 */
void
gsecsock_secure_socket_context_set_min_protocol_version (GSecSockSecureSocketContext *self,
                                                         GSecSockProtocolVersion      version)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));

  if (version == GSECSOCK_PROTOCOL_VERSION_UNKNOWN)
    version = GSECSOCK_PROTOCOL_VERSION_TLS_1_2;
  g_return_if_fail (protocol_version_to_openssl (version) != 0);
  if (self->min_version == version || !check_version_range (version, self->max_version))
    return;
  self->min_version = version;
  apply_protocol_versions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIN_PROTOCOL_VERSION]);
}

/**
 * gsecsock_secure_socket_context_get_max_protocol_version:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:max-protocol-version].
 *
 * Returns: the highest TLS version allowed, or
 *   %GSECSOCK_PROTOCOL_VERSION_UNKNOWN for no limit
 */
GSecSockProtocolVersion
gsecsock_secure_socket_context_get_max_protocol_version (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), GSECSOCK_PROTOCOL_VERSION_UNKNOWN);
  return self->max_version;
}

/**
 * gsecsock_secure_socket_context_set_max_protocol_version:
 * @self: a context
 * @version: the highest TLS version to allow, or
 *   %GSECSOCK_PROTOCOL_VERSION_UNKNOWN for no limit
 *
 * Sets [property@GSecSock.SecureSocketContext:max-protocol-version].
 * It must not be below the minimum.
 */
void
gsecsock_secure_socket_context_set_max_protocol_version (GSecSockSecureSocketContext *self,
                                                         GSecSockProtocolVersion      version)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));
  g_return_if_fail (version == GSECSOCK_PROTOCOL_VERSION_UNKNOWN ||
                    protocol_version_to_openssl (version) != 0);

  if (self->max_version == version || !check_version_range (self->min_version, version))
    return;
  self->max_version = version;
  apply_protocol_versions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_PROTOCOL_VERSION]);
}

/**
 * gsecsock_secure_socket_context_get_alpn_protocols:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:alpn-protocols].
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): the
 *   application protocols offered, most preferred first
 */
const char * const *
gsecsock_secure_socket_context_get_alpn_protocols (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), NULL);
  return (const char * const *) self->alpn_protocols;
}

/**
 * gsecsock_secure_socket_context_set_alpn_protocols:
 * @self: a context
 * @protocols: (nullable) (array zero-terminated=1): the application
 *   protocols to offer, most preferred first; %NULL or empty for none
 *
 * Sets [property@GSecSock.SecureSocketContext:alpn-protocols]. Each name
 * must be 1 to 255 bytes long.
 */
void
gsecsock_secure_socket_context_set_alpn_protocols (GSecSockSecureSocketContext *self,
                                                   const char * const          *protocols)
{
  g_autoptr(GByteArray) wire = NULL;

  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));

  if (protocols != NULL && protocols[0] == NULL)
    protocols = NULL;
  if (self->alpn_protocols == NULL && protocols == NULL)
    return;
  if (self->alpn_protocols != NULL && protocols != NULL &&
      g_strv_equal ((const char * const *) self->alpn_protocols, protocols))
    return;

  if (protocols != NULL)
    {
      wire = g_byte_array_new ();
      for (gsize i = 0; protocols[i] != NULL; i++)
        {
          gsize len = strlen (protocols[i]);
          guint8 len_byte = (guint8) len;

          if (len == 0 || len > 255)
            {
              g_critical ("ALPN protocol name “%s” must be 1 to 255 bytes long", protocols[i]);
              return;
            }
          g_byte_array_append (wire, &len_byte, 1);
          g_byte_array_append (wire, (const guint8 *) protocols[i], len);
        }
    }

  g_strfreev (self->alpn_protocols);
  self->alpn_protocols = g_strdupv ((char **) protocols);
  g_clear_pointer (&self->alpn_wire, g_free);
  self->alpn_wire_len = 0;
  if (wire != NULL)
    {
      self->alpn_wire_len = wire->len;
      self->alpn_wire = g_byte_array_free (g_steal_pointer (&wire), FALSE);
    }

  if (self->mode == GSECSOCK_MODE_CLIENT)
    SSL_CTX_set_alpn_protos (self->ssl_ctx, self->alpn_wire, (unsigned int) self->alpn_wire_len);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALPN_PROTOCOLS]);
}

/**
 * gsecsock_secure_socket_context_get_keylog_file:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:keylog-file].
 *
 * Returns: (type filename) (nullable): the key log file, if any
 */
const char *
gsecsock_secure_socket_context_get_keylog_file (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), NULL);
  return self->keylog_path;
}

/**
 * gsecsock_secure_socket_context_set_keylog_file:
 * @self: a context
 * @path: (type filename) (nullable): a file to append key log lines to, or
 *   %NULL to stop logging
 *
 * Sets [property@GSecSock.SecureSocketContext:keylog-file].
 */
void
gsecsock_secure_socket_context_set_keylog_file (GSecSockSecureSocketContext *self,
                                                const char                  *path)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));

  if (path != NULL && *path == '\0')
    path = NULL;
  if (g_strcmp0 (self->keylog_path, path) == 0)
    return;
  g_mutex_lock (&self->lock);
  g_free (self->keylog_path);
  self->keylog_path = g_strdup (path);
  g_mutex_unlock (&self->lock);
  update_keylog_callback (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEYLOG_FILE]);
}

/**
 * gsecsock_secure_socket_context_get_use_sslkeylogfile:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:use-sslkeylogfile].
 *
 * Returns: whether `SSLKEYLOGFILE` is honoured
 */
gboolean
gsecsock_secure_socket_context_get_use_sslkeylogfile (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  return self->use_sslkeylogfile;
}

/**
 * gsecsock_secure_socket_context_set_use_sslkeylogfile:
 * @self: a context
 * @use_sslkeylogfile: whether to honour `SSLKEYLOGFILE`
 *
 * Sets [property@GSecSock.SecureSocketContext:use-sslkeylogfile]. The
 * variable is read when the property is set and when the file is first
 * opened.
 */
void
gsecsock_secure_socket_context_set_use_sslkeylogfile (GSecSockSecureSocketContext *self,
                                                      gboolean                     use_sslkeylogfile)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));

  use_sslkeylogfile = !!use_sslkeylogfile;
  if (self->use_sslkeylogfile == use_sslkeylogfile)
    return;
  self->use_sslkeylogfile = use_sslkeylogfile;
  update_keylog_callback (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USE_SSLKEYLOGFILE]);
}
