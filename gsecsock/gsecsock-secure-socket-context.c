/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-secure-socket-context-private.h"

#include "gsecsock-i18n-private.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "gsecsock-certificate-private.h"
#include "gsecsock-config-private.h"
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
 *
 * Since: 0.1
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
  /* Servers only (NONE for clients); verify_peer is client_auth == REQUIRE. */
  GSecSockClientAuth client_auth;
  GSecSockProtocolVersion min_version;
  GSecSockProtocolVersion max_version;
  int security_level;           /* -1: OpenSSL's default */
  char *cipher_list;            /* TLS <= 1.2; NULL: default_cipher_list() */
  char *applied_default_ciphers; /* servers: the default list set on ssl_ctx */
  char *ciphersuites;           /* TLS 1.3; NULL: OpenSSL's default */
  char *groups;                 /* set on each SSL; NULL: OpenSSL's default */
  GSecSockRevocationCheck check_revocation;
  GPtrArray *crls;              /* X509_CRL*, added to the trust store */
  /* X509*, untrusted, for building peers' chains only. Replaced as a whole
   * (never modified), so each SSL may keep a reference to the one it was
   * created with. */
  GPtrArray *chain_certificates;
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

  /* Servers: SNI virtual hosts, normalised server name ("host.example" or
   * "*.example") → GSecSockSecureSocketContext. NULL until one is added. */
  GHashTable *sni_contexts;

  GHashTable *sessions;         /* session key → SSL_SESSION*, clients only */
  /* Servers: bumped whenever what verifying a client depends on changes.
   * It is part of the session ID context, which every session and ticket
   * carries and must match to be resumed. */
  guint session_generation;
  gboolean made_sockets;        /* sessions may exist: changes must retire them */
  gboolean own_ticket_keys;     /* the application set the ticket key */
  gint64 ticket_key_created;    /* monotonic µs, for our rotation */
};

G_DEFINE_FINAL_TYPE (GSecSockSecureSocketContext, gsecsock_secure_socket_context, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MODE,
  PROP_USE_SYSTEM_TRUST,
  PROP_VERIFY_PEER,
  PROP_CLIENT_AUTH,
  PROP_MIN_PROTOCOL_VERSION,
  PROP_MAX_PROTOCOL_VERSION,
  PROP_PROTOCOLS,
  PROP_SECURITY_LEVEL,
  PROP_CIPHER_LIST,
  PROP_CIPHERSUITES,
  PROP_GROUPS,
  PROP_CHECK_REVOCATION,
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
static int sid_generation_ex_index = -1;

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
      sid_generation_ex_index = SSL_get_ex_new_index (0, "gsecsock session generation",
                                                      NULL, NULL, NULL);
      g_once_init_leave (&initialised, 1);
    }
}

int
gsecsock_secure_socket_context_socket_index (void)
{
  init_ex_indexes ();
  return socket_ex_index;
}

SSL_CTX *
gsecsock_secure_socket_context_get_ssl_ctx (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), NULL);

  return self->ssl_ctx;
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

/* The TLS <= 1.2 cipher list (@tls13: the TLS 1.3 suites) of a context
 * whose cipher-list (ciphersuites) is the default. */
static char *
default_cipher_list (GSecSockSecureSocketContext *self,
                     gboolean                     tls13)
{
  if (self->mode == GSECSOCK_MODE_SERVER && !tls13 &&
      self->min_version >= GSECSOCK_PROTOCOL_VERSION_TLS_1_2)
    return g_strdup (GSECSOCK_CONFIG_SERVER_CIPHER_LIST);
  return gsecsock_config_default_ciphers (self->mode == GSECSOCK_MODE_SERVER, tls13);
}

static void forget_sessions_locked (GSecSockSecureSocketContext *self);

/* A server's default cipher list depends on its lowest version (above). */
static void
apply_default_server_ciphers (GSecSockSecureSocketContext *self)
{
  g_autofree char *list = NULL;

  if (self->mode != GSECSOCK_MODE_SERVER || self->cipher_list != NULL)
    return;
  list = default_cipher_list (self, FALSE);
  if (g_strcmp0 (list, self->applied_default_ciphers) == 0)
    return;
  if (!SSL_CTX_set_cipher_list (self->ssl_ctx, list))
    g_error ("OpenSSL refused the default cipher list “%s”: %s", list,
             ERR_reason_error_string (ERR_get_error ()));
  g_free (self->applied_default_ciphers);
  self->applied_default_ciphers = g_steal_pointer (&list);
  /* A resumed session would keep its cipher (see set_cipher_list()). */
  forget_sessions_locked (self);
}

static void
apply_protocol_versions (GSecSockSecureSocketContext *self)
{
  int min = protocol_version_to_openssl (self->min_version);
  int max = protocol_version_to_openssl (self->max_version);

  SSL_CTX_set_min_proto_version (self->ssl_ctx, min ? min : TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version (self->ssl_ctx, max);
  /* OpenSSL 3 refuses TLS 1.0 and 1.1 above security level 0: the setters
   * make sure that such versions are only allowed at level 0, which only
   * an explicit security-level of 0 gives (gsecsock-config.c). */
  SSL_CTX_set_security_level (self->ssl_ctx,
                              gsecsock_config_effective_security_level (self->security_level));
  apply_default_server_ciphers (self);
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

/* ---- Server sessions ---------------------------------------------------- */

/* The session ID context that a session made by a socket of @self (with
 * @generation) carries, and that resuming it must match. Resuming skips
 * the verification of the client's certificate, so it is a digest of what
 * that verification depended on: the client-auth policy, the revocation
 * policy, the trust anchors and CRLs, besides the generation. Servers that
 * share a ticket key (a farm) resume each other's sessions only if they
 * agree on all of it: a server that requires a client certificate never
 * resumes a session made by one that asked for none. Lock held. */
static void
session_id_context_for (GSecSockSecureSocketContext *self,
                        guint                        generation,
                        unsigned char               *sid_ctx,
                        unsigned int                *len)
{
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *settings = g_strdup_printf ("gsecsock:%u:%d:%d:%d", generation, self->client_auth,
                                               self->check_revocation, self->use_system_trust);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  gsize size = SSL_MAX_SID_CTX_LENGTH;

  G_STATIC_ASSERT (SSL_MAX_SID_CTX_LENGTH >= 32);   /* a whole SHA-256 */
  g_checksum_update (checksum, (const guchar *) settings, -1);
  for (guint i = 0; i < self->trust_anchors->len; i++)
    if (X509_digest (g_ptr_array_index (self->trust_anchors, i), EVP_sha256 (), digest, &digest_len))
      g_checksum_update (checksum, digest, digest_len);
  for (guint i = 0; i < self->crls->len; i++)
    if (X509_CRL_digest (g_ptr_array_index (self->crls, i), EVP_sha256 (), digest, &digest_len))
      g_checksum_update (checksum, digest, digest_len);
  g_checksum_get_digest (checksum, sid_ctx, &size);
  g_checksum_free (checksum);
  *len = (unsigned int) size;
}

/* Servers: the SSL_CTX's session ID context, copied by each new SSL. Lock
 * held (or construction). */
static void
set_server_session_id_context_locked (GSecSockSecureSocketContext *self)
{
  unsigned char sid_ctx[SSL_MAX_SID_CTX_LENGTH];
  unsigned int len;

  session_id_context_for (self, self->session_generation, sid_ctx, &len);
  SSL_CTX_set_session_id_context (self->ssl_ctx, sid_ctx, len);
}

/* ---- Session tickets (servers) ------------------------------------------ */

/* OpenSSL's ticket key: a 16-byte name, a 32-byte HMAC secret and a 32-byte
 * AES-256 key. */
#define TICKET_KEY_SIZE 80
/* How long our own key protects new tickets before a new one replaces it. */
#define TICKET_KEY_ROTATION_USEC (G_GINT64_CONSTANT (12) * 3600 * G_USEC_PER_SEC)

/* Installs @key (TICKET_KEY_SIZE bytes) as the ticket key. Lock held. */
static void
use_ticket_key_locked (GSecSockSecureSocketContext *self,
                       guint8                      *key)
{
  if (SSL_CTX_set_tlsext_ticket_keys (self->ssl_ctx, key, TICKET_KEY_SIZE) != 1)
    g_error ("OpenSSL refused a session ticket key");
  OPENSSL_cleanse (key, TICKET_KEY_SIZE);
  self->ticket_key_created = g_get_monotonic_time ();
}

static void
rotate_own_ticket_key_locked (GSecSockSecureSocketContext *self)
{
  guint8 key[TICKET_KEY_SIZE];

  if (RAND_bytes (key, sizeof key) != 1)
    g_error ("OpenSSL could not generate a session ticket key");
  use_ticket_key_locked (self, key);
}

/* Before each new server socket: our own key is replaced when old. */
static void
maybe_rotate_ticket_key_locked (GSecSockSecureSocketContext *self)
{
  if (self->mode == GSECSOCK_MODE_SERVER && !self->own_ticket_keys &&
      g_get_monotonic_time () - self->ticket_key_created >= TICKET_KEY_ROTATION_USEC)
    rotate_own_ticket_key_locked (self);
}

/**
 * gsecsock_secure_socket_context_set_session_ticket_keys:
 * @self: a server context
 * @keys: (nullable): an 80-byte key (a 16-byte name, a 32-byte HMAC
 *   secret and a 32-byte AES key), or %NULL to go back to a key of the
 *   context's own
 * @error: return location for a #GError
 *
 * Sets the key that protects the session tickets a server hands out, so
 * that clients can resume their sessions (TLS 1.3 and 1.2) on another
 * server: every server of a farm behind a load balancer gets the same key,
 * and a client resumes on whichever server it reaches.
 *
 * Generate keys with a cryptographic random generator (for example
 * `openssl rand 80`), keep them as secret as the servers' private keys and
 * replace them at least daily, on every server at about the same time:
 * whoever holds a key can decrypt the sessions it protected. Tickets made
 * with a replaced key no longer resume (those clients make a full
 * handshake once).
 *
 * Servers of a farm must also be configured alike before their first
 * connection (same certificate verification settings), since a session is
 * only resumed under the settings that verified it.
 *
 * Without a key of its own, a context makes a random key and replaces it
 * every 12 hours. gsecsock does not keep @keys: OpenSSL copies it.
 *
 * Returns: %TRUE on success; %FALSE with @error set to
 *   %GSECSOCK_ERROR_INVALID_SETTING if @keys is not 80 bytes, or
 *   %GSECSOCK_ERROR_MISUSE on a client context
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_context_set_session_ticket_keys (GSecSockSecureSocketContext  *self,
                                                        GBytes                       *keys,
                                                        GError                      **error)
{
  guint8 key[TICKET_KEY_SIZE];

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->mode != GSECSOCK_MODE_SERVER)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                           _("Session ticket keys are for server contexts: clients only "
                             "keep the tickets they are given"));
      return FALSE;
    }
  if (keys != NULL && g_bytes_get_size (keys) != TICKET_KEY_SIZE)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                   _("A session ticket key is %d bytes (a 16-byte name, a 32-byte HMAC "
                     "secret, a 32-byte AES key); got %lu bytes"),
                   TICKET_KEY_SIZE, (gulong) g_bytes_get_size (keys));
      return FALSE;
    }

  g_mutex_lock (&self->lock);
  self->own_ticket_keys = keys != NULL;
  if (keys != NULL)
    {
      memcpy (key, g_bytes_get_data (keys, NULL), TICKET_KEY_SIZE);
      use_ticket_key_locked (self, key);
    }
  else
    rotate_own_ticket_key_locked (self);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/**
 * gsecsock_secure_socket_context_rotate_session_ticket_keys:
 * @self: a server context using a key of its own
 *
 * Replaces the context's own session ticket key now (it is otherwise
 * replaced every 12 hours): tickets handed out before no longer resume.
 * Does nothing when a key was set with
 * [method@GSecSock.SecureSocketContext.set_session_ticket_keys] (rotate it
 * by setting a new one).
 *
 * Since: 0.1
 */
void
gsecsock_secure_socket_context_rotate_session_ticket_keys (GSecSockSecureSocketContext *self)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));

  g_mutex_lock (&self->lock);
  if (self->mode == GSECSOCK_MODE_SERVER && !self->own_ticket_keys)
    rotate_own_ticket_key_locked (self);
  g_mutex_unlock (&self->lock);
}

/* ---- SNI virtual hosting (servers) -------------------------------------- */

static int sni_ex_index = -1;

static void
free_sni_context (void *parent, void *ptr, CRYPTO_EX_DATA *ad,
                  int idx, long argl, void *argp)
{
  if (ptr != NULL)
    g_object_unref (ptr);
}

/* The SSL ex_data index holding a reference to the context chosen by SNI:
 * the SSL uses that context's SSL_CTX (whose callbacks reach the context),
 * so the context must live as long as the SSL. */
static int
get_sni_ex_index (void)
{
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      sni_ex_index = SSL_get_ex_new_index (0, "gsecsock SNI context", NULL, NULL,
                                           free_sni_context);
      g_once_init_leave (&initialised, 1);
    }
  return sni_ex_index;
}

/* The context that serves @name (as the client sent it): an exact match
 * first, then a wildcard for its parent domain ("*.example.org" serves
 * "a.example.org", not "example.org" nor "a.b.example.org"). Case does not
 * matter; a final dot is ignored. Lock held. */
static GSecSockSecureSocketContext *
sni_lookup_locked (GSecSockSecureSocketContext *self,
                   const char                  *name)
{
  g_autofree char *key = NULL;
  GSecSockSecureSocketContext *found;
  gsize len;
  const char *dot;

  if (self->sni_contexts == NULL || name == NULL || *name == '\0')
    return NULL;
  key = g_ascii_strdown (name, -1);
  len = strlen (key);
  if (len > 1 && key[len - 1] == '.')
    key[len - 1] = '\0';

  found = g_hash_table_lookup (self->sni_contexts, key);
  if (found != NULL)
    return found;
  dot = strchr (key, '.');
  if (dot != NULL && dot != key && dot[1] != '\0')
    {
      g_autofree char *wildcard = g_strconcat ("*", dot, NULL);
      found = g_hash_table_lookup (self->sni_contexts, wildcard);
    }
  return found;
}

/* SSL_CTX_set_tlsext_servername_callback, on every server context: runs
 * when the ClientHello has been read, before the server's certificate is
 * chosen. With no SNI, or a name no per-name context serves, the main
 * context's certificate is presented. */
static int
select_sni_context (SSL *ssl, int *alert, void *arg)
{
  GSecSockSecureSocketContext *self = arg;
  GSecSockSecureSocket *socket = SSL_get_ex_data (ssl, socket_ex_index);
  GSecSockSecureSocketContext *chosen = NULL;
  GSecSockSecureSocketContext *previous;
  const char *name = SSL_get_servername (ssl, TLSEXT_NAMETYPE_host_name);
  X509_STORE *store = NULL;
  int security_level;

  /* After a switch (a second ClientHello, after a HelloRetryRequest),
   * OpenSSL calls the chosen context's callback: the names are the main
   * context's, the socket's. */
  if (socket != NULL)
    self = gsecsock_secure_socket_get_context (socket);
  if (name == NULL)
    return SSL_TLSEXT_ERR_OK;

  g_mutex_lock (&self->lock);
  chosen = sni_lookup_locked (self, name);
  if (chosen != NULL)
    g_object_ref (chosen);
  g_mutex_unlock (&self->lock);
  if (chosen == NULL || SSL_get_SSL_CTX (ssl) == chosen->ssl_ctx)
    {
      g_clear_object (&chosen);
      return SSL_TLSEXT_ERR_OK;
    }

  /* SSL_set_SSL_CTX replaces the SSL's certificate settings, among which
   * the verification store this socket was created with: keep that one,
   * so that client certificates are verified against the main context's
   * trust. */
  SSL_get0_verify_cert_store (ssl, &store);
  if (store != NULL)
    X509_STORE_up_ref (store);
  /* The security level is part of those settings too, and OpenSSL checks
   * client certificates (key sizes, signatures) at that level. */
  security_level = SSL_get_security_level (ssl);
  if (SSL_set_SSL_CTX (ssl, chosen->ssl_ctx) == NULL)
    {
      X509_STORE_free (store);
      g_object_unref (chosen);
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
  if (store != NULL)
    SSL_set0_verify_cert_store (ssl, store);   /* takes our reference */
  SSL_set_security_level (ssl, security_level);
  /* And the session ID context, which tells which sessions may be
   * resumed: the main context's, as when the socket was created. */
  {
    unsigned char sid_ctx[SSL_MAX_SID_CTX_LENGTH];
    unsigned int len;

    g_mutex_lock (&self->lock);
    session_id_context_for (self, GPOINTER_TO_UINT (SSL_get_ex_data (ssl, sid_generation_ex_index)),
                            sid_ctx, &len);
    g_mutex_unlock (&self->lock);
    SSL_set_session_id_context (ssl, sid_ctx, len);
  }

  previous = SSL_get_ex_data (ssl, get_sni_ex_index ());
  SSL_set_ex_data (ssl, get_sni_ex_index (), chosen);   /* our reference */
  g_clear_object (&previous);
  return SSL_TLSEXT_ERR_OK;
}

/* @name as a key of sni_contexts: lower-case ASCII (IDNA for
 * international names), no final dot, each label 1-63 letters, digits or
 * hyphens; with @wildcard a leading "*." stays. NULL with @error if it is
 * not a name a client can send. */
static char *
sni_normalize (const char  *name,
               GError     **error)
{
  g_autofree char *ascii = NULL;
  g_autofree char *lower = NULL;
  g_auto(GStrv) labels = NULL;
  const char *host = name;
  gboolean wildcard = FALSE;
  gsize len;

  if (g_str_has_prefix (name, "*."))
    {
      wildcard = TRUE;
      host = name + 2;
    }
  if (g_hostname_is_ip_address (host))
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                   _("“%s” is an IP address: clients send only host names as SNI, so a "
                     "per-name context can only be chosen by a host name"), name);
      return NULL;
    }
  ascii = g_hostname_to_ascii (host);
  if (ascii == NULL || *ascii == '\0')
    goto invalid;
  lower = g_ascii_strdown (ascii, -1);
  len = strlen (lower);
  if (len > 1 && lower[len - 1] == '.')
    lower[--len] = '\0';
  if (len == 0 || len > 253)
    goto invalid;
  labels = g_strsplit (lower, ".", -1);
  for (guint i = 0; labels[i] != NULL; i++)
    {
      gsize label_len = strlen (labels[i]);

      if (label_len == 0 || label_len > 63 || labels[i][0] == '-' ||
          labels[i][label_len - 1] == '-')
        goto invalid;
      for (const char *c = labels[i]; *c != '\0'; c++)
        if (!g_ascii_isalnum (*c) && *c != '-')
          goto invalid;
    }
  return wildcard ? g_strconcat ("*.", lower, NULL) : g_steal_pointer (&lower);

invalid:
  g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
               _("“%s” is not a valid server name: give a host name such as "
                 "“www.example.org”, or a wildcard for the names directly under a "
                 "domain, such as “*.example.org”"), name);
  return NULL;
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
  if (self->mode == GSECSOCK_MODE_SERVER)
    {
      /* OpenSSL's server cache and the tickets clients hold: sessions of
       * an earlier generation no longer match. Before the first socket no
       * session exists and the generation stays, so that identically
       * configured servers (a farm sharing ticket keys) resume each
       * other's sessions; the settings are in the session ID context
       * either way. */
      if (self->made_sockets)
        self->session_generation++;
      set_server_session_id_context_locked (self);
    }
}

static void
sk_X509_NAME_pop_free_all (STACK_OF(X509_NAME) *names)
{
  sk_X509_NAME_pop_free (names, X509_NAME_free);
}

/* The system's certificate authorities, loaded once per process (as GIO
 * keeps one default database): parsing the CA bundle costs tens of
 * milliseconds, which every context, and so every client that makes a
 * context per connection, would otherwise pay again. Never modified once
 * loaded, so contexts that trust nothing else share it as it is. A bundle
 * updated while the process runs is seen by the next process. */
static char *system_cert_dir;    /* the hashed directory, as found then */

static X509_STORE *
system_trust_store (void)
{
  static X509_STORE *system_store;
  static gsize loaded;

  if (g_once_init_enter (&loaded))
    {
      X509_STORE *store = X509_STORE_new ();
      const char *dir = g_getenv (X509_get_default_cert_dir_env ());

      system_cert_dir = g_strdup (dir != NULL ? dir : X509_get_default_cert_dir ());

      if (store == NULL)
        g_error ("Out of memory creating a certificate store");
      if (!X509_STORE_set_default_paths (store))
        {
          /* A machine without a CA bundle is not an error for a context
           * that has its own anchors; say so once in the log. */
          g_debug ("No system certificate store could be loaded: %s",
                   ERR_reason_error_string (ERR_peek_last_error ()));
          ERR_clear_error ();
        }
      system_store = store;
      g_once_init_leave (&loaded, 1);
    }
  return system_store;
}

/* A new store with the system's authorities: the certificates and
 * revocation lists already parsed (shared, not copied) and, for what a
 * hashed directory adds later, the same directory lookup. */
static X509_STORE *
new_store_with_system_trust (void)
{
  X509_STORE *system_store = system_trust_store ();
  X509_STORE *store = X509_STORE_new ();
  X509_LOOKUP *lookup;
  STACK_OF(X509_OBJECT) *objects;

  if (store == NULL)
    g_error ("Out of memory creating a certificate store");
  /* Verification in other threads may add certificates from the hashed
   * directory to the system store meanwhile. */
  X509_STORE_lock (system_store);
  objects = X509_STORE_get0_objects (system_store);
  for (int i = 0; i < sk_X509_OBJECT_num (objects); i++)
    {
      X509_OBJECT *object = sk_X509_OBJECT_value (objects, i);
      X509 *cert = X509_OBJECT_get0_X509 (object);
      X509_CRL *crl = X509_OBJECT_get0_X509_CRL (object);

      if (cert != NULL && !X509_STORE_add_cert (store, cert))
        ERR_clear_error ();
      if (crl != NULL && !X509_STORE_add_crl (store, crl))
        ERR_clear_error ();
    }
  X509_STORE_unlock (system_store);

  lookup = X509_STORE_add_lookup (store, X509_LOOKUP_hash_dir ());
  if (lookup == NULL || !X509_LOOKUP_add_dir (lookup, system_cert_dir, X509_FILETYPE_PEM))
    ERR_clear_error ();
  return store;
}

static void
rebuild_trust_store (GSecSockSecureSocketContext *self)
{
  X509_STORE *store;

  if (self->use_system_trust && self->trust_anchors->len == 0 && self->crls->len == 0)
    {
      store = system_trust_store ();
      if (!X509_STORE_up_ref (store))
        g_error ("Cannot share the system certificate store");
    }
  else if (self->use_system_trust)
    store = new_store_with_system_trust ();
  else if ((store = X509_STORE_new ()) == NULL)
    g_error ("Out of memory creating a certificate store");

  for (guint i = 0; i < self->trust_anchors->len; i++)
    {
      if (!X509_STORE_add_cert (store, g_ptr_array_index (self->trust_anchors, i)))
        ERR_clear_error ();     /* already present: harmless */
    }

  /* Revocation lists, used when check-revocation asks for them. */
  for (guint i = 0; i < self->crls->len; i++)
    {
      if (!X509_STORE_add_crl (store, g_ptr_array_index (self->crls, i)))
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

static void attach_trust_locked (GSecSockSecureSocketContext *self,
                                 SSL                         *ssl);

SSL *
gsecsock_secure_socket_context_create_ssl (GSecSockSecureSocketContext  *self,
                                           GError                      **error)
{
  SSL *ssl;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), NULL);

  if (self->mode == GSECSOCK_MODE_SERVER && !self->have_certificate)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                           _("This server context has no certificate: call "
                             "gsecsock_secure_socket_context_load_certificate_file() "
                             "before creating sockets"));
      return NULL;
    }

  g_mutex_lock (&self->lock);
  self->made_sockets = TRUE;
  maybe_rotate_ticket_key_locked (self);
  ssl = SSL_new (self->ssl_ctx);
  if (ssl == NULL)
    g_error ("Out of memory creating a TLS connection");
  /* A server that asks for no client certificate verifies nothing: it
   * never loads the system's authorities (tens of milliseconds and a few
   * hundred KiB for a bundle no connection would use). */
  if (self->mode == GSECSOCK_MODE_CLIENT || self->client_auth != GSECSOCK_CLIENT_AUTH_NONE)
    attach_trust_locked (self, ssl);
  /* Validated as a whole when set (set_groups()): cannot fail. */
  if (self->groups != NULL && !SSL_set1_groups_list (ssl, self->groups))
    {
      ERR_clear_error ();
      g_warning ("OpenSSL refused the key exchange groups “%s”: this socket uses the "
                 "default groups", self->groups);
    }
  gsecsock_config_attach_chain (ssl, self->chain_certificates);
  SSL_set_ex_data (ssl, sid_generation_ex_index, GUINT_TO_POINTER (self->session_generation));
  g_mutex_unlock (&self->lock);

  return ssl;
}

/* The store @ssl verifies its peer against and, for a server, the
 * authorities it names to clients. Lock held. */
static void
attach_trust_locked (GSecSockSecureSocketContext *self,
                     SSL                         *ssl)
{
  if (self->trust_dirty)
    rebuild_trust_store (self);
  SSL_set1_verify_cert_store (ssl, self->trust_store);
  if (self->mode == GSECSOCK_MODE_SERVER && self->client_ca_names != NULL)
    SSL_set_client_CA_list (ssl, SSL_dup_CA_list (self->client_ca_names));
}

/* For a server socket about to ask for a client certificate: its trust,
 * when the client-auth policy changed between creating the SSL and
 * setting it up (another thread). */
void
gsecsock_secure_socket_context_ensure_trust (GSecSockSecureSocketContext *self,
                                             SSL                         *ssl)
{
  X509_STORE *store = NULL;

  SSL_get0_verify_cert_store (ssl, &store);
  if (store != NULL)
    return;
  g_mutex_lock (&self->lock);
  attach_trust_locked (self, ssl);
  g_mutex_unlock (&self->lock);
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
                    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                    /* An idle connection gives its 16 KiB read and write
                     * buffers back (measured: bench/run.py --only memory:
                     * ~32 → ~14 KiB per connection; bulk throughput within
                     * noise, since a busy connection keeps its buffers). */
                    SSL_MODE_RELEASE_BUFFERS);
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
      set_server_session_id_context_locked (self);
      SSL_CTX_set_alpn_select_cb (self->ssl_ctx, select_alpn, self);
      rotate_own_ticket_key_locked (self);
      SSL_CTX_set_tlsext_servername_callback (self->ssl_ctx, select_sni_context);
      SSL_CTX_set_tlsext_servername_arg (self->ssl_ctx, self);
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
  g_clear_pointer (&self->sni_contexts, g_hash_table_unref);
  g_clear_pointer (&self->ssl_ctx, SSL_CTX_free);
  g_clear_pointer (&self->trust_anchors, g_ptr_array_unref);
  g_clear_pointer (&self->chain_certificates, g_ptr_array_unref);
  g_clear_pointer (&self->crls, g_ptr_array_unref);
  g_clear_pointer (&self->cipher_list, g_free);
  g_clear_pointer (&self->applied_default_ciphers, g_free);
  g_clear_pointer (&self->ciphersuites, g_free);
  g_clear_pointer (&self->groups, g_free);
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
    case PROP_CLIENT_AUTH:
      g_value_set_enum (value, self->client_auth);
      break;
    case PROP_MIN_PROTOCOL_VERSION:
      g_value_set_enum (value, self->min_version);
      break;
    case PROP_MAX_PROTOCOL_VERSION:
      g_value_set_enum (value, self->max_version);
      break;
    case PROP_PROTOCOLS:
      g_value_set_flags (value, gsecsock_secure_socket_context_get_protocols (self));
      break;
    case PROP_SECURITY_LEVEL:
      g_value_set_int (value, self->security_level);
      break;
    case PROP_CIPHER_LIST:
      g_value_set_string (value, self->cipher_list);
      break;
    case PROP_CIPHERSUITES:
      g_value_set_string (value, self->ciphersuites);
      break;
    case PROP_GROUPS:
      g_value_set_string (value, self->groups);
      break;
    case PROP_CHECK_REVOCATION:
      g_value_set_enum (value, self->check_revocation);
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
    case PROP_CLIENT_AUTH:
      gsecsock_secure_socket_context_set_client_auth (self, g_value_get_enum (value));
      break;
    case PROP_MIN_PROTOCOL_VERSION:
      gsecsock_secure_socket_context_set_min_protocol_version (self, g_value_get_enum (value));
      break;
    case PROP_MAX_PROTOCOL_VERSION:
      gsecsock_secure_socket_context_set_max_protocol_version (self, g_value_get_enum (value));
      break;
    case PROP_PROTOCOLS:
      {
        g_autoptr(GError) error = NULL;
        if (!gsecsock_secure_socket_context_set_protocols (self, g_value_get_flags (value), &error))
          g_critical ("Cannot set protocols: %s", error->message);
      }
      break;
    case PROP_SECURITY_LEVEL:
      {
        g_autoptr(GError) error = NULL;
        if (!gsecsock_secure_socket_context_set_security_level (self, g_value_get_int (value), &error))
          g_critical ("Cannot set security-level: %s", error->message);
      }
      break;
    case PROP_CIPHER_LIST:
      {
        g_autoptr(GError) error = NULL;
        if (!gsecsock_secure_socket_context_set_cipher_list (self, g_value_get_string (value), &error))
          g_critical ("Cannot set cipher-list: %s", error->message);
      }
      break;
    case PROP_CIPHERSUITES:
      {
        g_autoptr(GError) error = NULL;
        if (!gsecsock_secure_socket_context_set_ciphersuites (self, g_value_get_string (value), &error))
          g_critical ("Cannot set ciphersuites: %s", error->message);
      }
      break;
    case PROP_GROUPS:
      {
        g_autoptr(GError) error = NULL;
        if (!gsecsock_secure_socket_context_set_groups (self, g_value_get_string (value), &error))
          g_critical ("Cannot set groups: %s", error->message);
      }
      break;
    case PROP_CHECK_REVOCATION:
      gsecsock_secure_socket_context_set_check_revocation (self, g_value_get_enum (value));
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
   *
   * Since: 0.1
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
   *
   * The system's store is read once per process, when the first context
   * that uses it makes a socket, and shared by every context: a new context
   * costs no parsing of the CA bundle. The environment variables
   * `SSL_CERT_FILE` and `SSL_CERT_DIR` are honored at that moment; a bundle
   * updated later is seen by the next process.
   *
   * Since: 0.1
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
   * On a server it is another view of
   * [property@GSecSock.SecureSocketContext:client-auth]: it reads %TRUE
   * exactly when that is %GSECSOCK_CLIENT_AUTH_REQUIRE; setting it to
   * %TRUE sets %GSECSOCK_CLIENT_AUTH_REQUIRE, and setting it to %FALSE
   * turns %GSECSOCK_CLIENT_AUTH_REQUIRE into %GSECSOCK_CLIENT_AUTH_NONE
   * (and leaves %GSECSOCK_CLIENT_AUTH_REQUEST as it is).
   *
   * Since: 0.1
   */
  properties[PROP_VERIFY_PEER] =
    g_param_spec_boolean ("verify-peer", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocketContext:client-auth:
   *
   * Whether a server asks its clients for a certificate: not at all (the
   * default), optionally (%GSECSOCK_CLIENT_AUTH_REQUEST: a certificate that
   * is sent is verified, a client that sends none is let in), or as a
   * requirement (%GSECSOCK_CLIENT_AUTH_REQUIRE).
   *
   * A certificate a client sends is verified against the context's trust
   * (the anchors added with
   * [method@GSecSock.SecureSocketContext.add_trust_anchor_file] and, if
   * [property@GSecSock.SecureSocketContext:use-system-trust], the
   * system's), and [signal@GSecSock.SecureSocket::verify-certificate] (or
   * the context's) is emitted for each certificate of its chain, so a
   * handler can accept or refuse it. The server names its explicitly added
   * anchors as the acceptable issuers. After the handshake,
   * [property@GSecSock.SecureSocket:peer-certificate] is the client's
   * certificate, or %NULL if it sent none.
   *
   * It applies to server contexts only: setting anything but
   * %GSECSOCK_CLIENT_AUTH_NONE on a client context is a programming error
   * (a client presents a certificate when the server asks, see
   * [signal@GSecSock.SecureSocket::client-certificate-requested]).
   * [property@GSecSock.SecureSocketContext:verify-peer] is kept in step:
   * %TRUE exactly when this is %GSECSOCK_CLIENT_AUTH_REQUIRE.
   *
   * Since: 0.1
   */
  properties[PROP_CLIENT_AUTH] =
    g_param_spec_enum ("client-auth", NULL, NULL,
                       GSECSOCK_TYPE_CLIENT_AUTH, GSECSOCK_CLIENT_AUTH_NONE,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocketContext:min-protocol-version:
   *
   * The lowest TLS version allowed. The default is TLS 1.2; lower versions
   * are insecure and must be asked for explicitly.
   * %GSECSOCK_PROTOCOL_VERSION_UNKNOWN means the default.
   *
   * TLS 1.0 and 1.1 can only be allowed at
   * [property@GSecSock.SecureSocketContext:security-level] 0 (OpenSSL 3
   * refuses them at every level above): set that first. Asking for them at
   * another level is a programming error that leaves the property
   * unchanged; [method@GSecSock.SecureSocketContext.set_protocols] reports
   * the same as a #GError. See also
   * [property@GSecSock.SecureSocketContext:protocols], the same setting as
   * flags.
   *
   * Since: 0.1
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
   *
   * Since: 0.1
   */
  properties[PROP_MAX_PROTOCOL_VERSION] =
    g_param_spec_enum ("max-protocol-version", NULL, NULL,
                       GSECSOCK_TYPE_PROTOCOL_VERSION, GSECSOCK_PROTOCOL_VERSION_UNKNOWN,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocketContext:protocols:
   *
   * The protocol versions allowed, as flags: another view of
   * [property@GSecSock.SecureSocketContext:min-protocol-version] and
   * [property@GSecSock.SecureSocketContext:max-protocol-version], for
   * applications used to choosing versions by flags. The default is
   * `GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3`.
   *
   * Setting it sets the minimum and maximum to the lowest and highest
   * version of the set. The set must be contiguous (OpenSSL supports a
   * range, not a list) and may not contain SSL 2.0 or 3.0, nor TLS 1.0 or
   * 1.1 unless [property@GSecSock.SecureSocketContext:security-level] is 0:
   * [method@GSecSock.SecureSocketContext.set_protocols] reports why as a
   * #GError; setting the property to such a value is a programming error
   * that leaves it unchanged.
   *
   * Since: 0.1
   */
  properties[PROP_PROTOCOLS] =
    g_param_spec_flags ("protocols", NULL, NULL,
                        GSECSOCK_TYPE_PROTOCOLS,
                        GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocketContext:security-level:
   *
   * OpenSSL's security level (`SSL_CTX_set_security_level()`), 0 to 5: the
   * minimum strength of keys, signatures and ciphers accepted, in the
   * handshake and in certificate verification. -1, the default, keeps the
   * level of the system's OpenSSL configuration (2 on Debian 12: keys of
   * at least 112 bits of security, so RSA keys of at least 2048 bits, and
   * no SHA-1 signatures).
   *
   * Level 0 accepts everything, including keys and algorithms known to be
   * weak. It is the only level at which OpenSSL 3 allows TLS 1.0 and 1.1,
   * and gsecsock never lowers it by itself: to talk to a legacy peer, set
   * it to 0 and then allow those versions. A level above 0 while they are
   * allowed is refused ([method@GSecSock.SecureSocketContext.set_security_level]
   * says so as a #GError).
   *
   * Since: 0.1
   */
  properties[PROP_SECURITY_LEVEL] =
    g_param_spec_int ("security-level", NULL, NULL, -1, 5, -1,
                      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocketContext:cipher-list:
   *
   * The ciphers allowed for TLS 1.2 and earlier, in OpenSSL's cipher list
   * format (`SSL_CTX_set_cipher_list()`, see `man 1 openssl-ciphers`), for
   * example `"ECDHE+AESGCM:ECDHE+CHACHA20"`; %NULL (the default) for the
   * default list: for a server, `"ECDHE+AESGCM:ECDHE+CHACHA20"` (AEAD
   * ciphers with forward secrecy only, no CBC cipher); for a client, and
   * for a server that allows TLS 1.0 or 1.1 (which have no AEAD cipher),
   * OpenSSL's default list. It does not affect TLS 1.3: see
   * [property@GSecSock.SecureSocketContext:ciphersuites].
   *
   * Every name in the list is checked when it is set: where OpenSSL would
   * silently skip an unknown name,
   * [method@GSecSock.SecureSocketContext.set_cipher_list] fails with
   * %GSECSOCK_ERROR_INVALID_SETTING naming it, and the property keeps its
   * previous value. `@SECLEVEL=n` is refused: use
   * [property@GSecSock.SecureSocketContext:security-level].
   *
   * Since: 0.1
   */
  properties[PROP_CIPHER_LIST] =
    g_param_spec_string ("cipher-list", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocketContext:ciphersuites:
   *
   * The TLS 1.3 cipher suites allowed, most preferred first, separated by
   * colons (`SSL_CTX_set_ciphersuites()`), for example
   * `"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"`; %NULL (the
   * default) for OpenSSL's default suites.
   *
   * Every name is checked when set:
   * [method@GSecSock.SecureSocketContext.set_ciphersuites] fails with
   * %GSECSOCK_ERROR_INVALID_SETTING naming an unknown one, and the property
   * keeps its previous value. An empty list, which would disable TLS 1.3
   * silently, is refused too: set
   * [property@GSecSock.SecureSocketContext:max-protocol-version] instead.
   *
   * Since: 0.1
   */
  properties[PROP_CIPHERSUITES] =
    g_param_spec_string ("ciphersuites", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocketContext:groups:
   *
   * The key exchange groups (elliptic curves and finite field groups)
   * offered or accepted, most preferred first, separated by colons
   * (`SSL_set1_groups_list()`), for example `"x25519:P-256"`; %NULL (the
   * default) for OpenSSL's default list. A client sends a key share for the
   * first one; a server picks from the client's offer.
   *
   * Every name is checked when set:
   * [method@GSecSock.SecureSocketContext.set_groups] fails with
   * %GSECSOCK_ERROR_INVALID_SETTING naming an unknown one, and the property
   * keeps its previous value.
   *
   * Since: 0.1
   */
  properties[PROP_GROUPS] =
    g_param_spec_string ("groups", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GSecSockSecureSocketContext:check-revocation:
   *
   * Which certificates of the peer's chain must be checked against a
   * certificate revocation list (CRL): none (the default), the peer's own
   * certificate, or the whole chain. The CRLs are those added with
   * [method@GSecSock.SecureSocketContext.add_crl_file].
   *
   * Checking fails closed: a revoked certificate fails verification with
   * %GSECSOCK_CERTIFICATE_REVOKED, and one that must be checked but has no
   * valid CRL from its issuer fails with
   * %GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN; the handshake then fails
   * with %GSECSOCK_ERROR_CERTIFICATE_REJECTED, whose message names the
   * issuer whose CRL is missing, unless a
   * [signal@GSecSock.SecureSocket::verify-certificate] handler accepts it.
   *
   * Since: 0.1
   */
  properties[PROP_CHECK_REVOCATION] =
    g_param_spec_enum ("check-revocation", NULL, NULL,
                       GSECSOCK_TYPE_REVOCATION_CHECK, GSECSOCK_REVOCATION_CHECK_NONE,
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
   *
   * Since: 0.1
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
   *
   * Since: 0.1
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
   *
   * Since: 0.1
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
   * [method@GSecSock.SecureSocketContext.load_pkcs12_file],
   * [method@GSecSock.SecureSocketContext.load_identity], or from a
   * [class@GSecSock.CertificateStore] by
   * [method@GSecSock.SecureSocketContext.use_certificate_from_store] or
   * [method@GSecSock.CertificateStore.lookup]) is encrypted:
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
   *
   * Since: 0.1
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
   *
   * Since: 0.1
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
   *
   * Since: 0.1
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
   *
   * Since: 0.1
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
  self->security_level = -1;
  self->check_revocation = GSECSOCK_REVOCATION_CHECK_NONE;
  self->crls = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_CRL_free);
  self->chain_certificates = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_free);
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
 *
 * Since: 0.1
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
  char *result = g_strdup (reason ? reason : _("unknown error"));

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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
                   _("The certificate “%s” has no private key, so it cannot be presented: "
                     "load it with its key (gsecsock_secure_socket_context_load_identity() "
                     "or gsecsock_certificate_new_from_files())"),
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
                   _("OpenSSL refused the certificate “%s”: %s"), subject, reason);
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
 *
 * Since: 0.1
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
 * gsecsock_secure_socket_context_use_certificate_from_store:
 * @self: a context
 * @store: the store to take the certificate from
 * @identifier: the certificate's name or fingerprint, as @how says
 * @how: how to read @identifier
 * @error: return location for a #GError
 *
 * Sets the certificate this side presents to its peer to one found in
 * @store, by name or by fingerprint: the certificate with its private key
 * and the intermediate certificates to send after it. A server chooses its
 * certificate this way in one call, as it would from a system certificate
 * store:
 *
 * ```c
 * g_autoptr(GSecSockCertificateStore) store =
 *   gsecsock_certificate_store_new_for_directory ("/etc/myapp/certs", &error);
 *
 * if (store == NULL ||
 *     !gsecsock_secure_socket_context_use_certificate_from_store (ctx, store,
 *         "9d a4 84 fc f6 62 92 90 9a 62 d4 ca 65 fb 08 7e 06 45 de 24",
 *         GSECSOCK_LOOKUP_FINGERPRINT_SHA1, &error))
 *   g_error ("%s", error->message);
 * ```
 *
 * ```python
 * store = GSecSock.CertificateStore.new_for_directory('/etc/myapp/certs')
 * ctx.use_certificate_from_store(store, 'www.example.com', GSecSock.Lookup.NAME)
 * ```
 *
 * This is [method@GSecSock.CertificateStore.lookup] with @self for the
 * passwords, followed by
 * [method@GSecSock.SecureSocketContext.set_certificate]: an encrypted key
 * (or PKCS#12 file) in @store asks for its password with
 * [signal@GSecSock.SecureSocketContext::password-requested] on @self,
 * synchronously, before this function returns. On error the certificate in
 * use, if any, stays in use.
 *
 * Returns: %TRUE on success; %FALSE with @error set as by
 *   [method@GSecSock.CertificateStore.lookup] (%GSECSOCK_ERROR_NOT_FOUND,
 *   %GSECSOCK_ERROR_AMBIGUOUS, %GSECSOCK_ERROR_MISUSE for a malformed
 *   fingerprint, %GSECSOCK_ERROR_BAD_PASSWORD, …) or by
 *   [method@GSecSock.SecureSocketContext.set_certificate]
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_context_use_certificate_from_store (GSecSockSecureSocketContext  *self,
                                                           GSecSockCertificateStore     *store,
                                                           const char                   *identifier,
                                                           GSecSockLookup                how,
                                                           GError                      **error)
{
  g_autoptr(GSecSockCertificate) certificate = NULL;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (GSECSOCK_IS_CERTIFICATE_STORE (store), FALSE);
  g_return_val_if_fail (identifier != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  certificate = gsecsock_certificate_store_lookup (store, identifier, how, self, error);
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
 *
 * Since: 0.1
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
                     _("Cannot use “%s” as trust anchors: %s"), path, local_error->message);
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
 *
 * Since: 0.1
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
 * gsecsock_secure_socket_context_add_trust_anchor_der:
 * @self: a context
 * @der: a certificate in DER (binary) form
 * @error: return location for a #GError
 *
 * Trusts the certificate in @der as a root of trust, like
 * [method@GSecSock.SecureSocketContext.add_trust_anchor]: for certificates
 * that come as bytes (a resource, a download, a configuration value)
 * rather than as a file.
 *
 * Returns: %TRUE on success; %FALSE with @error set to
 *   %GSECSOCK_ERROR_BAD_CERTIFICATE_FILE if @der is not exactly one valid
 *   certificate
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_context_add_trust_anchor_der (GSecSockSecureSocketContext  *self,
                                                     GBytes                       *der,
                                                     GError                      **error)
{
  g_autoptr(GSecSockCertificate) certificate = NULL;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (der != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  certificate = gsecsock_certificate_new_from_der (der, error);
  if (certificate == NULL)
    return FALSE;
  gsecsock_secure_socket_context_add_trust_anchor (self, certificate);
  return TRUE;
}

/**
 * gsecsock_secure_socket_context_add_chain_certificate:
 * @self: a context
 * @certificate: an intermediate certificate
 *
 * Makes @certificate available to build the chain of a peer that does not
 * send all of its intermediate certificates: when verification looks for
 * the issuer of a certificate, it considers @certificate as well as those
 * the peer sent.
 *
 * @certificate is never trusted: a chain that uses it must still end at a
 * trust anchor ([method@GSecSock.SecureSocketContext.add_trust_anchor] or
 * the system's), and it is verified like the certificates the peer sends
 * (validity, signature, revocation). Adding a root here does not make it
 * trusted. Use it for the intermediates of servers known to be
 * misconfigured, or of clients that send only their own certificate.
 *
 * Chain certificates are not sent to the peer: the intermediates to send
 * with this side's own certificate come with it (see
 * [method@GSecSock.SecureSocketContext.load_certificate_file]). Sockets
 * created afterwards use it.
 *
 * Since: 0.1
 */
void
gsecsock_secure_socket_context_add_chain_certificate (GSecSockSecureSocketContext *self,
                                                      GSecSockCertificate         *certificate)
{
  X509 *x509;
  GPtrArray *chain, *old;

  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));
  g_return_if_fail (GSECSOCK_IS_CERTIFICATE (certificate));

  x509 = gsecsock_certificate_get_x509 (certificate);
  g_mutex_lock (&self->lock);
  old = self->chain_certificates;
  for (guint i = 0; i < old->len; i++)
    {
      if (X509_cmp (g_ptr_array_index (old, i), x509) == 0)
        {
          g_mutex_unlock (&self->lock);
          return;
        }
    }
  /* A new array: sockets keep a reference to the one they started with. */
  chain = g_ptr_array_new_full (old->len + 1, (GDestroyNotify) X509_free);
  for (guint i = 0; i < old->len; i++)
    {
      X509_up_ref (g_ptr_array_index (old, i));
      g_ptr_array_add (chain, g_ptr_array_index (old, i));
    }
  X509_up_ref (x509);
  g_ptr_array_add (chain, x509);
  self->chain_certificates = chain;
  g_mutex_unlock (&self->lock);
  g_ptr_array_unref (old);
}

/**
 * gsecsock_secure_socket_context_add_crl_file:
 * @self: a context
 * @path: (type filename): a file with certificate revocation lists: PEM
 *   (one or more `-----BEGIN X509 CRL-----` blocks) or one CRL in DER
 * @error: return location for a #GError
 *
 * Adds the certificate revocation lists (CRLs) in @path to those the
 * peer's certificates are checked against when
 * [property@GSecSock.SecureSocketContext:check-revocation] asks for it.
 * Add the CRL of every authority whose certificates must be checked: one
 * that is missing fails verification with
 * %GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN.
 *
 * A CRL is not trusted for being added: verification uses it only if it is
 * signed by the issuer of the certificate being checked and is current
 * (its next update is not past). CRLs expire, usually within days: to
 * replace them, call [method@GSecSock.SecureSocketContext.clear_crls] and
 * add the new ones. Sockets created afterwards use them.
 *
 * Returns: %TRUE on success; %FALSE with @error set to
 *   %GSECSOCK_ERROR_BAD_CRL_FILE if the file cannot be read or holds no
 *   CRL
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_context_add_crl_file (GSecSockSecureSocketContext  *self,
                                             const char                   *path,
                                             GError                      **error)
{
  g_autoptr(GPtrArray) crls = NULL;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  crls = gsecsock_config_load_crls (path, error);
  if (crls == NULL)
    return FALSE;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < crls->len; i++)
    g_ptr_array_add (self->crls, g_steal_pointer (&crls->pdata[i]));
  g_ptr_array_set_free_func (crls, NULL);
  self->trust_dirty = TRUE;
  forget_sessions_locked (self);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/**
 * gsecsock_secure_socket_context_clear_crls:
 * @self: a context
 *
 * Forgets every certificate revocation list added with
 * [method@GSecSock.SecureSocketContext.add_crl_file], for example before
 * adding newer ones. While
 * [property@GSecSock.SecureSocketContext:check-revocation] asks for
 * checking, sockets created before new CRLs are added fail verification.
 *
 * Since: 0.1
 */
void
gsecsock_secure_socket_context_clear_crls (GSecSockSecureSocketContext *self)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));

  g_mutex_lock (&self->lock);
  if (self->crls->len > 0)
    {
      g_ptr_array_set_size (self->crls, 0);
      self->trust_dirty = TRUE;
      forget_sessions_locked (self);
    }
  g_mutex_unlock (&self->lock);
}

/**
 * gsecsock_secure_socket_context_get_mode:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:mode].
 *
 * Returns: whether the context makes client or server sockets
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
 */
void
gsecsock_secure_socket_context_set_verify_peer (GSecSockSecureSocketContext *self,
                                                gboolean                     verify_peer)
{
  gboolean client_auth_changed = FALSE;

  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));

  verify_peer = !!verify_peer;
  if (self->verify_peer == verify_peer)
    return;
  g_mutex_lock (&self->lock);
  self->verify_peer = verify_peer;
  if (self->mode == GSECSOCK_MODE_SERVER)
    {
      /* Only REQUIRE reads as TRUE, so the old value was REQUIRE (when
       * turning off) or NONE or REQUEST (when turning on). */
      self->client_auth = verify_peer ? GSECSOCK_CLIENT_AUTH_REQUIRE : GSECSOCK_CLIENT_AUTH_NONE;
      client_auth_changed = TRUE;
    }
  forget_sessions_locked (self);
  g_mutex_unlock (&self->lock);
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VERIFY_PEER]);
  if (client_auth_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIENT_AUTH]);
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * gsecsock_secure_socket_context_get_client_auth:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:client-auth].
 *
 * Returns: whether a server asks clients for a certificate;
 *   %GSECSOCK_CLIENT_AUTH_NONE for a client context
 *
 * Since: 0.1
 */
GSecSockClientAuth
gsecsock_secure_socket_context_get_client_auth (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), GSECSOCK_CLIENT_AUTH_NONE);
  return self->client_auth;
}

/**
 * gsecsock_secure_socket_context_set_client_auth:
 * @self: a server context
 * @client_auth: whether to ask clients for a certificate, and whether to
 *   require one
 *
 * Sets [property@GSecSock.SecureSocketContext:client-auth], for sockets
 * created afterwards; [property@GSecSock.SecureSocketContext:verify-peer]
 * follows (%TRUE exactly for %GSECSOCK_CLIENT_AUTH_REQUIRE).
 *
 * ```c
 * gsecsock_secure_socket_context_set_client_auth (server_ctx, GSECSOCK_CLIENT_AUTH_REQUEST);
 * gsecsock_secure_socket_context_add_trust_anchor_file (server_ctx, "clients-ca.pem", &error);
 * ```
 *
 * Since: 0.1
 */
void
gsecsock_secure_socket_context_set_client_auth (GSecSockSecureSocketContext *self,
                                                GSecSockClientAuth           client_auth)
{
  gboolean verify_peer;
  gboolean verify_peer_changed;

  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));
  g_return_if_fail (client_auth == GSECSOCK_CLIENT_AUTH_NONE ||
                    client_auth == GSECSOCK_CLIENT_AUTH_REQUEST ||
                    client_auth == GSECSOCK_CLIENT_AUTH_REQUIRE);

  if (self->mode != GSECSOCK_MODE_SERVER)
    {
      if (client_auth != GSECSOCK_CLIENT_AUTH_NONE)
        g_critical ("client-auth applies to server contexts only: a client sends a "
                    "certificate when the server asks for one (see the "
                    "client-certificate-requested signal and "
                    "gsecsock_secure_socket_context_load_certificate_file())");
      return;
    }
  if (self->client_auth == client_auth)
    return;

  verify_peer = client_auth == GSECSOCK_CLIENT_AUTH_REQUIRE;
  g_mutex_lock (&self->lock);
  self->client_auth = client_auth;
  verify_peer_changed = self->verify_peer != verify_peer;
  self->verify_peer = verify_peer;
  forget_sessions_locked (self);
  g_mutex_unlock (&self->lock);
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIENT_AUTH]);
  if (verify_peer_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VERIFY_PEER]);
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * gsecsock_secure_socket_context_get_min_protocol_version:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:min-protocol-version].
 *
 * Returns: the lowest TLS version allowed
 *
 * Since: 0.1
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

/* The void setters report a version that cannot be enabled (TLS 1.0 above
 * security level 0, a version this OpenSSL lacks) as a programming error;
 * set_protocols() reports it as a GError. */
static gboolean
check_versions_allowed (GSecSockSecureSocketContext *self,
                        GSecSockProtocolVersion      min,
                        GSecSockProtocolVersion      max)
{
  g_autoptr(GError) error = NULL;

  if (gsecsock_config_check_versions (min, max,
                                      gsecsock_config_effective_security_level (self->security_level),
                                      &error))
    return TRUE;
  g_critical ("%s", error->message);
  return FALSE;
}

/**
 * gsecsock_secure_socket_context_set_min_protocol_version:
 * @self: a context
 * @version: the lowest TLS version to allow, or
 *   %GSECSOCK_PROTOCOL_VERSION_UNKNOWN for the default (TLS 1.2)
 *
 * Sets [property@GSecSock.SecureSocketContext:min-protocol-version].
 * It must not be above the maximum.
 *
 * Since: 0.1
 */
void
gsecsock_secure_socket_context_set_min_protocol_version (GSecSockSecureSocketContext *self,
                                                         GSecSockProtocolVersion      version)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));

  if (version == GSECSOCK_PROTOCOL_VERSION_UNKNOWN)
    version = GSECSOCK_PROTOCOL_VERSION_TLS_1_2;
  g_return_if_fail (protocol_version_to_openssl (version) != 0);
  if (self->min_version == version || !check_version_range (version, self->max_version) ||
      !check_versions_allowed (self, version, self->max_version))
    return;
  g_mutex_lock (&self->lock);
  self->min_version = version;
  apply_protocol_versions (self);
  g_mutex_unlock (&self->lock);
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIN_PROTOCOL_VERSION]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROTOCOLS]);
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * gsecsock_secure_socket_context_get_max_protocol_version:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:max-protocol-version].
 *
 * Returns: the highest TLS version allowed, or
 *   %GSECSOCK_PROTOCOL_VERSION_UNKNOWN for no limit
 *
 * Since: 0.1
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
 *
 * Since: 0.1
 */
void
gsecsock_secure_socket_context_set_max_protocol_version (GSecSockSecureSocketContext *self,
                                                         GSecSockProtocolVersion      version)
{
  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));
  g_return_if_fail (version == GSECSOCK_PROTOCOL_VERSION_UNKNOWN ||
                    protocol_version_to_openssl (version) != 0);

  if (self->max_version == version || !check_version_range (self->min_version, version) ||
      !check_versions_allowed (self, self->min_version, version))
    return;
  g_mutex_lock (&self->lock);
  self->max_version = version;
  apply_protocol_versions (self);
  g_mutex_unlock (&self->lock);
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_PROTOCOL_VERSION]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROTOCOLS]);
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * gsecsock_secure_socket_context_get_protocols:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:protocols].
 *
 * Returns: the protocol versions allowed
 *
 * Since: 0.1
 */
GSecSockProtocols
gsecsock_secure_socket_context_get_protocols (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), GSECSOCK_PROTOCOLS_NONE);
  return gsecsock_config_protocols_from_range (self->min_version, self->max_version);
}

/**
 * gsecsock_secure_socket_context_set_protocols:
 * @self: a context
 * @protocols: the protocol versions to allow, a contiguous set such as
 *   `GSECSOCK_PROTOCOLS_TLS_1_2 | GSECSOCK_PROTOCOLS_TLS_1_3`
 * @error: return location for a #GError
 *
 * Sets [property@GSecSock.SecureSocketContext:protocols]: allows exactly
 * the versions in @protocols, by setting
 * [property@GSecSock.SecureSocketContext:min-protocol-version] and
 * [property@GSecSock.SecureSocketContext:max-protocol-version] to the
 * lowest and the highest of them.
 *
 * Nothing changes, and @error says why, when @protocols contains SSL 2.0
 * or SSL 3.0 (never supported); is empty or not contiguous (for example
 * TLS 1.0 and 1.2 without 1.1: OpenSSL only supports a range); contains a
 * version the OpenSSL in use was built without (see
 * [func@GSecSock.get_supported_protocols]); or contains TLS 1.0 or 1.1
 * while [property@GSecSock.SecureSocketContext:security-level] is not 0,
 * since OpenSSL 3 refuses them above level 0 and gsecsock never lowers
 * the level by itself.
 *
 * ```c
 * if (!gsecsock_secure_socket_context_set_protocols (ctx, GSECSOCK_PROTOCOLS_TLS_1_3, &error))
 *   g_warning ("%s", error->message);
 * ```
 *
 * Returns: %TRUE if the versions were set; %FALSE with @error set to
 *   %GSECSOCK_ERROR_PROTOCOL_VERSION otherwise
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_context_set_protocols (GSecSockSecureSocketContext  *self,
                                              GSecSockProtocols             protocols,
                                              GError                      **error)
{
  GObject *object = G_OBJECT (self);
  GSecSockProtocols old_protocols;
  GSecSockProtocolVersion min, max;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!gsecsock_config_protocols_to_range (protocols, &min, &max, error) ||
      !gsecsock_config_check_versions (min, max,
                                       gsecsock_config_effective_security_level (self->security_level),
                                       error))
    return FALSE;
  if (self->min_version == min && self->max_version == max)
    return TRUE;

  old_protocols = gsecsock_secure_socket_context_get_protocols (self);
  g_object_freeze_notify (object);
  if (self->min_version != min)
    g_object_notify_by_pspec (object, properties[PROP_MIN_PROTOCOL_VERSION]);
  if (self->max_version != max)
    g_object_notify_by_pspec (object, properties[PROP_MAX_PROTOCOL_VERSION]);
  g_mutex_lock (&self->lock);
  self->min_version = min;
  self->max_version = max;
  apply_protocol_versions (self);
  g_mutex_unlock (&self->lock);
  if (gsecsock_secure_socket_context_get_protocols (self) != old_protocols)
    g_object_notify_by_pspec (object, properties[PROP_PROTOCOLS]);
  g_object_thaw_notify (object);
  return TRUE;
}

/**
 * gsecsock_secure_socket_context_get_security_level:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:security-level].
 *
 * Returns: the OpenSSL security level set, or -1 for OpenSSL's default
 *
 * Since: 0.1
 */
int
gsecsock_secure_socket_context_get_security_level (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), -1);
  return self->security_level;
}

/**
 * gsecsock_secure_socket_context_set_security_level:
 * @self: a context
 * @level: an OpenSSL security level from 0 to 5, or -1 for the level of
 *   the system's OpenSSL configuration
 * @error: return location for a #GError
 *
 * Sets [property@GSecSock.SecureSocketContext:security-level]. Level 0
 * accepts weak keys and algorithms: use it only to talk to legacy peers
 * (it is what TLS 1.0 and 1.1 need).
 *
 * Returns: %TRUE if the level was set; %FALSE, changing nothing, with
 *   @error set to %GSECSOCK_ERROR_INVALID_SETTING if @level is above 0
 *   while TLS 1.0 or 1.1 are allowed (raise
 *   [property@GSecSock.SecureSocketContext:min-protocol-version] to TLS 1.2
 *   first)
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_context_set_security_level (GSecSockSecureSocketContext  *self,
                                                   int                           level,
                                                   GError                      **error)
{
  int effective;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (level >= -1 && level <= 5, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->security_level == level)
    return TRUE;
  effective = gsecsock_config_effective_security_level (level);
  if (effective > 0 && self->min_version < GSECSOCK_PROTOCOL_VERSION_TLS_1_2)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                   _("Security level %d would disable TLS 1.%d, which min-protocol-version "
                     "allows: OpenSSL 3 refuses TLS 1.0 and 1.1 above level 0. Raise "
                     "min-protocol-version to TLS 1.2 first"),
                   effective, self->min_version - GSECSOCK_PROTOCOL_VERSION_TLS_1_0);
      return FALSE;
    }

  g_mutex_lock (&self->lock);
  self->security_level = level;
  apply_protocol_versions (self);
  /* Verification depends on it (key sizes, signature algorithms). */
  forget_sessions_locked (self);
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SECURITY_LEVEL]);
  return TRUE;
}

/**
 * gsecsock_secure_socket_context_get_cipher_list:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:cipher-list].
 *
 * Returns: (nullable): the TLS 1.2 cipher list set, or %NULL for
 *   OpenSSL's default
 *
 * Since: 0.1
 */
const char *
gsecsock_secure_socket_context_get_cipher_list (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), NULL);
  return self->cipher_list;
}

/**
 * gsecsock_secure_socket_context_set_cipher_list:
 * @self: a context
 * @ciphers: (nullable): the ciphers to allow for TLS 1.2 and earlier, in
 *   OpenSSL's cipher list format, for example `"ECDHE+AESGCM"`; %NULL for
 *   the default (see the property)
 * @error: return location for a #GError
 *
 * Sets [property@GSecSock.SecureSocketContext:cipher-list], after checking
 * every name of @ciphers.
 *
 * Returns: %TRUE if the list was set; %FALSE, changing nothing, with
 *   @error set to %GSECSOCK_ERROR_INVALID_SETTING naming the first name
 *   that matches no cipher (or a TLS 1.3 suite, or `@SECLEVEL`), or saying
 *   that the list leaves no cipher
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_context_set_cipher_list (GSecSockSecureSocketContext  *self,
                                                const char                   *ciphers,
                                                GError                      **error)
{
  g_autofree char *default_list = NULL;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_strcmp0 (self->cipher_list, ciphers) == 0)
    return TRUE;
  if (ciphers != NULL && !gsecsock_config_check_cipher_list (ciphers, error))
    return FALSE;
  if (ciphers == NULL)
    default_list = default_cipher_list (self, FALSE);
  /* SSL_new() copies the SSL_CTX's cipher lists, which this replaces (and
   * frees): not while another thread creates a socket. */
  g_mutex_lock (&self->lock);
  if (!SSL_CTX_set_cipher_list (self->ssl_ctx, ciphers != NULL ? ciphers : default_list))
    {
      g_autofree char *reason = openssl_reason ();

      g_mutex_unlock (&self->lock);
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                   _("OpenSSL refused the cipher list “%s”: %s"),
                   ciphers != NULL ? ciphers : default_list, reason);
      return FALSE;
    }
  g_free (self->cipher_list);
  self->cipher_list = g_strdup (ciphers);
  g_free (self->applied_default_ciphers);
  self->applied_default_ciphers = ciphers == NULL ? g_strdup (default_list) : NULL;
  /* A resumed session would keep its cipher, which the new list may not
   * allow. */
  forget_sessions_locked (self);
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CIPHER_LIST]);
  return TRUE;
}

/**
 * gsecsock_secure_socket_context_get_ciphersuites:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:ciphersuites].
 *
 * Returns: (nullable): the TLS 1.3 cipher suites set, or %NULL for
 *   OpenSSL's default
 *
 * Since: 0.1
 */
const char *
gsecsock_secure_socket_context_get_ciphersuites (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), NULL);
  return self->ciphersuites;
}

/**
 * gsecsock_secure_socket_context_set_ciphersuites:
 * @self: a context
 * @ciphersuites: (nullable): the TLS 1.3 cipher suites to allow, separated
 *   by colons, for example `"TLS_AES_256_GCM_SHA384"`; %NULL for OpenSSL's
 *   default
 * @error: return location for a #GError
 *
 * Sets [property@GSecSock.SecureSocketContext:ciphersuites], after checking
 * every name of @ciphersuites.
 *
 * Returns: %TRUE if the suites were set; %FALSE, changing nothing, with
 *   @error set to %GSECSOCK_ERROR_INVALID_SETTING naming the first unknown
 *   suite (or a TLS 1.2 cipher), or saying that the list is empty
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_context_set_ciphersuites (GSecSockSecureSocketContext  *self,
                                                 const char                   *ciphersuites,
                                                 GError                      **error)
{
  g_autofree char *default_list = NULL;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_strcmp0 (self->ciphersuites, ciphersuites) == 0)
    return TRUE;
  if (ciphersuites != NULL && !gsecsock_config_check_ciphersuites (ciphersuites, error))
    return FALSE;
  if (ciphersuites == NULL)
    default_list = default_cipher_list (self, TRUE);
  g_mutex_lock (&self->lock);   /* see set_cipher_list() */
  if (!SSL_CTX_set_ciphersuites (self->ssl_ctx, ciphersuites != NULL ? ciphersuites : default_list))
    {
      g_autofree char *reason = openssl_reason ();

      g_mutex_unlock (&self->lock);
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_INVALID_SETTING,
                   _("OpenSSL refused the TLS 1.3 cipher suites “%s”: %s"),
                   ciphersuites != NULL ? ciphersuites : default_list, reason);
      return FALSE;
    }
  g_free (self->ciphersuites);
  self->ciphersuites = g_strdup (ciphersuites);
  forget_sessions_locked (self);
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CIPHERSUITES]);
  return TRUE;
}

/**
 * gsecsock_secure_socket_context_get_groups:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:groups].
 *
 * Returns: (nullable): the key exchange groups set, or %NULL for
 *   OpenSSL's default
 *
 * Since: 0.1
 */
const char *
gsecsock_secure_socket_context_get_groups (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), NULL);
  return self->groups;
}

/**
 * gsecsock_secure_socket_context_set_groups:
 * @self: a context
 * @groups: (nullable): the key exchange groups to use, most preferred
 *   first, separated by colons, for example `"x25519:P-256"`; %NULL for
 *   OpenSSL's default
 * @error: return location for a #GError
 *
 * Sets [property@GSecSock.SecureSocketContext:groups], after checking every
 * name of @groups.
 *
 * Returns: %TRUE if the groups were set; %FALSE, changing nothing, with
 *   @error set to %GSECSOCK_ERROR_INVALID_SETTING naming the first unknown
 *   group, or saying that the list is empty
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_context_set_groups (GSecSockSecureSocketContext  *self,
                                           const char                   *groups,
                                           GError                      **error)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_strcmp0 (self->groups, groups) == 0)
    return TRUE;
  if (groups != NULL && !gsecsock_config_check_groups (groups, error))
    return FALSE;
  /* Applied to each new SSL (gsecsock_secure_socket_context_create_ssl):
   * OpenSSL 3.0 cannot reset an SSL_CTX to its default groups. */
  g_mutex_lock (&self->lock);
  g_free (self->groups);
  self->groups = g_strdup (groups);
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GROUPS]);
  return TRUE;
}

/**
 * gsecsock_secure_socket_context_get_check_revocation:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:check-revocation].
 *
 * Returns: which certificates of the peer's chain are checked for
 *   revocation
 *
 * Since: 0.1
 */
GSecSockRevocationCheck
gsecsock_secure_socket_context_get_check_revocation (GSecSockSecureSocketContext *self)
{
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), GSECSOCK_REVOCATION_CHECK_NONE);
  return self->check_revocation;
}

/**
 * gsecsock_secure_socket_context_set_check_revocation:
 * @self: a context
 * @check: which certificates of the peer's chain to check for revocation
 *
 * Sets [property@GSecSock.SecureSocketContext:check-revocation]. Add the
 * CRLs to check against with
 * [method@GSecSock.SecureSocketContext.add_crl_file].
 *
 * Since: 0.1
 */
void
gsecsock_secure_socket_context_set_check_revocation (GSecSockSecureSocketContext *self,
                                                     GSecSockRevocationCheck      check)
{
  X509_VERIFY_PARAM *param;

  g_return_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self));
  g_return_if_fail (check == GSECSOCK_REVOCATION_CHECK_NONE ||
                    check == GSECSOCK_REVOCATION_CHECK_LEAF ||
                    check == GSECSOCK_REVOCATION_CHECK_CHAIN);

  if (self->check_revocation == check)
    return;
  g_mutex_lock (&self->lock);
  self->check_revocation = check;
  /* Each SSL inherits the context's verification parameters. */
  param = SSL_CTX_get0_param (self->ssl_ctx);
  X509_VERIFY_PARAM_clear_flags (param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  X509_VERIFY_PARAM_set_flags (param, gsecsock_config_revocation_flags (check));
  forget_sessions_locked (self);
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHECK_REVOCATION]);
}

/**
 * gsecsock_secure_socket_context_get_alpn_protocols:
 * @self: a context
 *
 * Gets [property@GSecSock.SecureSocketContext:alpn-protocols].
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): the
 *   application protocols offered, most preferred first
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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

/**
 * gsecsock_secure_socket_context_add_sni_context:
 * @self: a server context: the main one, from which sockets are made
 * @server_name: a host name, such as "www.example.org", or a wildcard for
 *   the names directly under a domain, such as "*.example.org"
 * @for_name: the server context whose certificate to present to clients
 *   that ask for @server_name
 * @error: return location for a #GError
 *
 * Serves @server_name with the certificate of @for_name: SNI virtual
 * hosting, several names with a certificate each on one port.
 *
 * Clients name the server they want in their ClientHello (the TLS Server
 * Name Indication extension). When a socket of @self receives a name that
 * a per-name context serves, it presents that context's certificate (with
 * its chain) and applies that context's ALPN protocols; everything else
 * (the protocol versions, the security level, the client-certificate
 * policy and the trust it verifies client certificates against, the
 * signals) stays that of @self, and
 * [method@GSecSock.SecureSocket.get_context] still returns @self. A client
 * that sends no name, or a name nobody serves, gets @self's own
 * certificate. The name the client sent is
 * [property@GSecSock.SecureSocket:server-name] of the server socket.
 *
 * Names match without regard to case (international names in their
 * ASCII "xn--" form, which is what clients send). An exact name wins over
 * a wildcard; "*.example.org" matches "a.example.org" but neither
 * "example.org" nor "a.b.example.org". Adding a name again replaces its
 * context. @for_name's own per-name contexts are never consulted: one
 * that has some cannot be added (nor can @self itself), which also rules
 * out reference cycles.
 *
 * ```c
 * gsecsock_secure_socket_context_add_sni_context (ctx, "alpha.test", alpha_ctx, &error);
 * gsecsock_secure_socket_context_add_sni_context (ctx, "*.beta.test", beta_ctx, &error);
 * ```
 *
 * Returns: %TRUE on success; %FALSE with @error set to
 *   %GSECSOCK_ERROR_MISUSE if @self or @for_name is not a server context,
 *   @for_name has no certificate or per-name contexts of its own, or
 *   @server_name is not a valid host name or wildcard
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_context_add_sni_context (GSecSockSecureSocketContext  *self,
                                                const char                   *server_name,
                                                GSecSockSecureSocketContext  *for_name,
                                                GError                      **error)
{
  g_autofree char *key = NULL;
  gboolean nested;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (server_name != NULL, FALSE);
  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (for_name), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->mode != GSECSOCK_MODE_SERVER)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                           _("Per-name (SNI) contexts are for server contexts: a client sends "
                             "the peer name given to gsecsock_secure_socket_new() as its SNI"));
      return FALSE;
    }
  if (for_name->mode != GSECSOCK_MODE_SERVER)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                   _("The context for “%s” is a client context: create it with "
                     "GSECSOCK_MODE_SERVER and load its certificate"), server_name);
      return FALSE;
    }
  if (for_name == self)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                   _("A context cannot be its own per-name context (for “%s”): clients that "
                     "ask for no known name get its certificate already"), server_name);
      return FALSE;
    }
  if (!for_name->have_certificate)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                   _("The context for “%s” has no certificate: call "
                     "gsecsock_secure_socket_context_load_certificate_file() on it first"),
                   server_name);
      return FALSE;
    }
  g_mutex_lock (&for_name->lock);
  nested = for_name->sni_contexts != NULL && g_hash_table_size (for_name->sni_contexts) > 0;
  g_mutex_unlock (&for_name->lock);
  if (nested)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_MISUSE,
                   _("The context for “%s” has per-name contexts of its own, which would "
                     "never be consulted: add them to this context instead"), server_name);
      return FALSE;
    }

  key = sni_normalize (server_name, error);
  if (key == NULL)
    return FALSE;

  g_mutex_lock (&self->lock);
  if (self->sni_contexts == NULL)
    self->sni_contexts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  g_hash_table_replace (self->sni_contexts, g_steal_pointer (&key), g_object_ref (for_name));
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/**
 * gsecsock_secure_socket_context_remove_sni_context:
 * @self: a server context
 * @server_name: a name given to
 *   [method@GSecSock.SecureSocketContext.add_sni_context]
 *
 * Stops serving @server_name with a certificate of its own: from now on
 * clients that ask for it get @self's certificate (or a wildcard's).
 * Sockets whose handshake already chose a context keep it.
 *
 * Returns: %TRUE if @server_name had a context, %FALSE if it had none
 *
 * Since: 0.1
 */
gboolean
gsecsock_secure_socket_context_remove_sni_context (GSecSockSecureSocketContext *self,
                                                   const char                  *server_name)
{
  g_autofree char *key = NULL;
  gboolean removed = FALSE;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), FALSE);
  g_return_val_if_fail (server_name != NULL, FALSE);

  key = sni_normalize (server_name, NULL);
  if (key == NULL)
    return FALSE;
  g_mutex_lock (&self->lock);
  if (self->sni_contexts != NULL)
    removed = g_hash_table_remove (self->sni_contexts, key);
  g_mutex_unlock (&self->lock);
  return removed;
}

/**
 * gsecsock_secure_socket_context_lookup_sni_context:
 * @self: a server context
 * @server_name: a server name, as a client would send it
 *
 * Finds which per-name context would serve a client asking for
 * @server_name, with the rules of
 * [method@GSecSock.SecureSocketContext.add_sni_context] (exact name first,
 * then a wildcard).
 *
 * Returns: (transfer full) (nullable): the context, or %NULL if @self's
 *   own certificate would be presented
 *
 * Since: 0.1
 */
GSecSockSecureSocketContext *
gsecsock_secure_socket_context_lookup_sni_context (GSecSockSecureSocketContext *self,
                                                   const char                  *server_name)
{
  GSecSockSecureSocketContext *found;

  g_return_val_if_fail (GSECSOCK_IS_SECURE_SOCKET_CONTEXT (self), NULL);
  g_return_val_if_fail (server_name != NULL, NULL);

  /* A reference: another thread may remove the entry meanwhile. */
  g_mutex_lock (&self->lock);
  found = sni_lookup_locked (self, server_name);
  if (found != NULL)
    g_object_ref (found);
  g_mutex_unlock (&self->lock);
  return found;
}
