/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-decision-private.h"

#include "gsecsock-enum-types.h"
#include "gsecsock-secure-socket-private.h"

/**
 * GSecSockDecision:
 *
 * A postponed answer to a question the handshake asked: whether to accept a
 * certificate of the peer's chain
 * ([signal@GSecSock.SecureSocket::verify-certificate]), or which certificate
 * to send to a server that asked for one
 * ([signal@GSecSock.SecureSocket::client-certificate-requested]).
 *
 * A handler gets one from [method@GSecSock.SecureSocket.defer_decision]
 * when it cannot answer at once — typically because it asks the user. The
 * handshake then waits, without blocking the main loop and without a thread,
 * until [method@GSecSock.Decision.accept],
 * [method@GSecSock.Decision.reject] or
 * [method@GSecSock.Decision.select_certificate] is called, from the main
 * loop or from any thread.
 *
 * The wait is bounded by [property@GSecSock.SecureSocket:handshake-timeout];
 * closing the socket or cancelling the handshake also ends it. Only the
 * first answer counts; later ones, and answers given after the handshake
 * ended, are ignored. A decision that is dropped (its last reference
 * released) without an answer rejects — the safe answer.
 *
 * ```python
 * def on_verify(sock, certificate, depth, errors):
 *     if errors == 0:
 *         return True
 *     decision = sock.defer_decision()
 *     ask_user(certificate, errors,
 *              lambda yes: decision.accept() if yes else decision.reject())
 *     return False  # ignored: the decision answers
 * ```
 *
 * Since: 0.1
 */
struct _GSecSockDecision
{
  GObject parent_instance;

  GWeakRef socket;
  guint serial;
  GSecSockDecisionKind kind;
  GSecSockCertificate *certificate;
  guint depth;
  GSecSockCertificateFlags errors;
  GStrv acceptable_issuers;
  gboolean answered;     /* atomic */
};

G_DEFINE_FINAL_TYPE (GSecSockDecision, gsecsock_decision, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_KIND,
  PROP_CERTIFICATE,
  PROP_DEPTH,
  PROP_ERRORS,
  PROP_ACCEPTABLE_ISSUERS,
  PROP_ANSWERED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

GSecSockDecision *
gsecsock_decision_new (GSecSockSecureSocket     *socket,
                       guint                     serial,
                       GSecSockDecisionKind      kind,
                       GSecSockCertificate      *certificate,
                       guint                     depth,
                       GSecSockCertificateFlags  errors,
                       const char * const       *acceptable_issuers)
{
  GSecSockDecision *self = g_object_new (GSECSOCK_TYPE_DECISION, NULL);

  g_weak_ref_set (&self->socket, socket);
  self->serial = serial;
  self->kind = kind;
  self->certificate = certificate ? g_object_ref (certificate) : NULL;
  self->depth = depth;
  self->errors = errors;
  self->acceptable_issuers = g_strdupv ((char **) acceptable_issuers);
  return self;
}

/* Only the first answer counts. */
static void
answer (GSecSockDecision    *self,
        gboolean             accept,
        gboolean             select,
        GSecSockCertificate *certificate)
{
  g_autoptr(GSecSockSecureSocket) socket = NULL;

  if (!g_atomic_int_compare_and_exchange (&self->answered, FALSE, TRUE))
    return;
  socket = g_weak_ref_get (&self->socket);
  if (socket != NULL)
    gsecsock_secure_socket_answer (socket, self->serial, accept, select, certificate);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ANSWERED]);
}

/**
 * gsecsock_decision_accept:
 * @self: a decision
 *
 * Accepts: the certificate being verified is trusted for this connection;
 * or, for a client certificate request, the certificate set with
 * [method@GSecSock.SecureSocket.set_client_certificate] (or else the
 * context's own) is sent. The handshake resumes.
 *
 * Since: 0.1
 */
void
gsecsock_decision_accept (GSecSockDecision *self)
{
  g_return_if_fail (GSECSOCK_IS_DECISION (self));
  answer (self, TRUE, FALSE, NULL);
}

/**
 * gsecsock_decision_reject:
 * @self: a decision
 *
 * Rejects: the certificate being verified is refused and the handshake
 * fails with %GSECSOCK_ERROR_CERTIFICATE_REJECTED, the peer getting a
 * bad_certificate alert; or, for a client certificate request, no
 * certificate is sent and the server decides whether to go on.
 *
 * Since: 0.1
 */
void
gsecsock_decision_reject (GSecSockDecision *self)
{
  g_return_if_fail (GSECSOCK_IS_DECISION (self));
  answer (self, FALSE, FALSE, NULL);
}

/**
 * gsecsock_decision_select_certificate:
 * @self: a decision about a client certificate
 * @certificate: (nullable): a certificate with its private key (see
 *   [method@GSecSock.Certificate.get_has_private_key]), or %NULL to send
 *   none
 *
 * Answers a client certificate request
 * (%GSECSOCK_DECISION_CLIENT_CERTIFICATE) with @certificate, and resumes
 * the handshake.
 *
 * Since: 0.1
 */
void
gsecsock_decision_select_certificate (GSecSockDecision    *self,
                                      GSecSockCertificate *certificate)
{
  g_return_if_fail (GSECSOCK_IS_DECISION (self));
  g_return_if_fail (self->kind == GSECSOCK_DECISION_CLIENT_CERTIFICATE);
  g_return_if_fail (certificate == NULL || GSECSOCK_IS_CERTIFICATE (certificate));
  g_return_if_fail (certificate == NULL || gsecsock_certificate_get_has_private_key (certificate));

  answer (self, certificate != NULL, TRUE, certificate);
}

/**
 * gsecsock_decision_get_kind:
 * @self: a decision
 *
 * Gets [property@GSecSock.Decision:kind].
 *
 * Returns: the question this decision answers
 *
 * Since: 0.1
 */
GSecSockDecisionKind
gsecsock_decision_get_kind (GSecSockDecision *self)
{
  g_return_val_if_fail (GSECSOCK_IS_DECISION (self), GSECSOCK_DECISION_VERIFY_CERTIFICATE);
  return self->kind;
}

/**
 * gsecsock_decision_get_certificate:
 * @self: a decision
 *
 * Gets [property@GSecSock.Decision:certificate].
 *
 * Returns: (transfer none) (nullable): the certificate being verified
 *
 * Since: 0.1
 */
GSecSockCertificate *
gsecsock_decision_get_certificate (GSecSockDecision *self)
{
  g_return_val_if_fail (GSECSOCK_IS_DECISION (self), NULL);
  return self->certificate;
}

/**
 * gsecsock_decision_get_depth:
 * @self: a decision
 *
 * Gets [property@GSecSock.Decision:depth].
 *
 * Returns: the depth of the certificate being verified (0: the peer's own)
 *
 * Since: 0.1
 */
guint
gsecsock_decision_get_depth (GSecSockDecision *self)
{
  g_return_val_if_fail (GSECSOCK_IS_DECISION (self), 0);
  return self->depth;
}

/**
 * gsecsock_decision_get_errors:
 * @self: a decision
 *
 * Gets [property@GSecSock.Decision:errors].
 *
 * Returns: the problems found with the certificate being verified
 *
 * Since: 0.1
 */
GSecSockCertificateFlags
gsecsock_decision_get_errors (GSecSockDecision *self)
{
  g_return_val_if_fail (GSECSOCK_IS_DECISION (self), GSECSOCK_CERTIFICATE_GENERIC_ERROR);
  return self->errors;
}

/**
 * gsecsock_decision_get_acceptable_issuers:
 * @self: a decision
 *
 * Gets [property@GSecSock.Decision:acceptable-issuers].
 *
 * Returns: (transfer none) (nullable): the authorities the server accepts
 *
 * Since: 0.1
 */
const char * const *
gsecsock_decision_get_acceptable_issuers (GSecSockDecision *self)
{
  g_return_val_if_fail (GSECSOCK_IS_DECISION (self), NULL);
  return (const char * const *) self->acceptable_issuers;
}

/**
 * gsecsock_decision_get_answered:
 * @self: a decision
 *
 * Gets [property@GSecSock.Decision:answered].
 *
 * Returns: whether the decision has been answered
 *
 * Since: 0.1
 */
gboolean
gsecsock_decision_get_answered (GSecSockDecision *self)
{
  g_return_val_if_fail (GSECSOCK_IS_DECISION (self), FALSE);
  return g_atomic_int_get (&self->answered);
}

static void
gsecsock_decision_dispose (GObject *object)
{
  GSecSockDecision *self = GSECSOCK_DECISION (object);

  /* Dropped without an answer: the handshake must not wait forever. */
  answer (self, FALSE, FALSE, NULL);
  G_OBJECT_CLASS (gsecsock_decision_parent_class)->dispose (object);
}

static void
gsecsock_decision_finalize (GObject *object)
{
  GSecSockDecision *self = GSECSOCK_DECISION (object);

  g_weak_ref_clear (&self->socket);
  g_clear_object (&self->certificate);
  g_clear_pointer (&self->acceptable_issuers, g_strfreev);
  G_OBJECT_CLASS (gsecsock_decision_parent_class)->finalize (object);
}

static void
gsecsock_decision_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  GSecSockDecision *self = GSECSOCK_DECISION (object);

  switch (prop_id)
    {
    case PROP_KIND:
      g_value_set_enum (value, self->kind);
      break;
    case PROP_CERTIFICATE:
      g_value_set_object (value, self->certificate);
      break;
    case PROP_DEPTH:
      g_value_set_uint (value, self->depth);
      break;
    case PROP_ERRORS:
      g_value_set_flags (value, self->errors);
      break;
    case PROP_ACCEPTABLE_ISSUERS:
      g_value_set_boxed (value, self->acceptable_issuers);
      break;
    case PROP_ANSWERED:
      g_value_set_boolean (value, gsecsock_decision_get_answered (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gsecsock_decision_class_init (GSecSockDecisionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gsecsock_decision_dispose;
  object_class->finalize = gsecsock_decision_finalize;
  object_class->get_property = gsecsock_decision_get_property;

  /**
   * GSecSockDecision:kind:
   *
   * The question this decision answers.
   *
   * Since: 0.1
   */
  properties[PROP_KIND] =
    g_param_spec_enum ("kind", NULL, NULL, GSECSOCK_TYPE_DECISION_KIND,
                       GSECSOCK_DECISION_VERIFY_CERTIFICATE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * GSecSockDecision:certificate:
   *
   * For %GSECSOCK_DECISION_VERIFY_CERTIFICATE, the certificate being
   * verified; %NULL otherwise.
   *
   * Since: 0.1
   */
  properties[PROP_CERTIFICATE] =
    g_param_spec_object ("certificate", NULL, NULL, GSECSOCK_TYPE_CERTIFICATE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * GSecSockDecision:depth:
   *
   * For %GSECSOCK_DECISION_VERIFY_CERTIFICATE, the depth of the certificate
   * in the peer's chain (0: the peer's own certificate).
   *
   * Since: 0.1
   */
  properties[PROP_DEPTH] =
    g_param_spec_uint ("depth", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * GSecSockDecision:errors:
   *
   * For %GSECSOCK_DECISION_VERIFY_CERTIFICATE, every problem found with the
   * certificate.
   *
   * Since: 0.1
   */
  properties[PROP_ERRORS] =
    g_param_spec_flags ("errors", NULL, NULL, GSECSOCK_TYPE_CERTIFICATE_FLAGS,
                        GSECSOCK_CERTIFICATE_NO_FLAGS,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * GSecSockDecision:acceptable-issuers:
   *
   * For %GSECSOCK_DECISION_CLIENT_CERTIFICATE, the distinguished names of
   * the authorities the server accepts.
   *
   * Since: 0.1
   */
  properties[PROP_ACCEPTABLE_ISSUERS] =
    g_param_spec_boxed ("acceptable-issuers", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * GSecSockDecision:answered:
   *
   * Whether the decision has been answered (or dropped).
   *
   * Since: 0.1
   */
  properties[PROP_ANSWERED] =
    g_param_spec_boolean ("answered", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
gsecsock_decision_init (GSecSockDecision *self)
{
  g_weak_ref_init (&self->socket, NULL);
}
