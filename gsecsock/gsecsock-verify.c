/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-verify-private.h"

#include "gsecsock-i18n-private.h"
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "gsecsock-certificate-private.h"
#include "gsecsock-config-private.h"

/* Verification runs inside OpenSSL's own chain verification, so a rejected
 * peer fails the handshake itself and is sent the alert that matches the
 * problem (certificate_expired, unknown_ca, bad_certificate, …).
 *
 * OpenSSL calls the per-certificate callback once for each problem it finds
 * (preverify_ok = 0) and then once per certificate, root end first, when
 * that certificate's checks are done (preverify_ok = 1). Problems are only
 * recorded when reported, so that all of them are collected; the decision
 * for a certificate is taken at its final call. */

static int state_ex_index = -1;

static int
get_state_index (void)
{
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      state_ex_index = SSL_get_ex_new_index (0, "gsecsock verify state", NULL, NULL, NULL);
      g_once_init_leave (&initialised, 1);
    }
  return state_ex_index;
}

void
gsecsock_verify_state_init (GSecSockVerifyState *state)
{
  memset (state, 0, sizeof *state);
}

void
gsecsock_verify_state_clear (GSecSockVerifyState *state)
{
  g_clear_pointer (&state->depths, g_array_unref);
  g_clear_object (&state->chain);
  g_clear_pointer (&state->message, g_free);
}

void
gsecsock_verify_attach (SSL *ssl, GSecSockVerifyState *state)
{
  SSL_set_ex_data (ssl, get_state_index (), state);
}

GSecSockVerifyState *
gsecsock_verify_get_state (const SSL *ssl)
{
  return SSL_get_ex_data (ssl, get_state_index ());
}

GSecSockCertificateFlags
gsecsock_verify_flags_from_x509_error (int x509_error)
{
  switch (x509_error)
    {
    case X509_V_OK:
      return GSECSOCK_CERTIFICATE_NO_FLAGS;

    case X509_V_ERR_CERT_HAS_EXPIRED:
      return GSECSOCK_CERTIFICATE_EXPIRED;

    case X509_V_ERR_CERT_NOT_YET_VALID:
      return GSECSOCK_CERTIFICATE_NOT_ACTIVATED;

    /* Revocation checking was asked for and could not be done: the
     * certificate itself may be fine, its status is unknown. */
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
      return GSECSOCK_CERTIFICATE_REVOCATION_UNKNOWN;

    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      /* The chain stops at a certificate whose issuer is nowhere: the peer
       * left out an intermediate, and so no trusted root is reached. */
      return GSECSOCK_CERTIFICATE_INCOMPLETE_CHAIN | GSECSOCK_CERTIFICATE_UNKNOWN_CA;

    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
      return GSECSOCK_CERTIFICATE_UNKNOWN_CA;

    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return GSECSOCK_CERTIFICATE_SELF_SIGNED | GSECSOCK_CERTIFICATE_UNKNOWN_CA;

    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
    case X509_V_ERR_EMAIL_MISMATCH:
      return GSECSOCK_CERTIFICATE_BAD_IDENTITY;

    case X509_V_ERR_CERT_REVOKED:
      return GSECSOCK_CERTIFICATE_REVOKED;

    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
      return GSECSOCK_CERTIFICATE_INSECURE;

    default:
      return GSECSOCK_CERTIFICATE_GENERIC_ERROR;
    }
}

static GSecSockVerifyDepth *
ensure_depth (GSecSockVerifyState *state, int depth)
{
  if (state->depths == NULL)
    state->depths = g_array_sized_new (FALSE, TRUE, sizeof (GSecSockVerifyDepth), depth + 1);
  if ((guint) depth >= state->depths->len)
    g_array_set_size (state->depths, depth + 1);
  return &g_array_index (state->depths, GSecSockVerifyDepth, depth);
}

static char *
format_asn1_date (const ASN1_TIME *time)
{
  struct tm tm;

  if (time == NULL || !ASN1_TIME_to_tm (time, &tm))
    return g_strdup (_("an unknown date"));
  return g_strdup_printf ("%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                          tm.tm_mday, tm.tm_hour, tm.tm_min);
}

char *
gsecsock_verify_format_name (const X509_NAME *name)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;
  char *result;

  X509_NAME_print_ex (bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  len = BIO_get_mem_data (bio, &data);
  result = g_strndup (data, len);
  BIO_free (bio);
  return result;
}

/* A sentence a user can act on, for the first problem of the certificate at
 * @depth. */
static char *
describe_problem (GSecSockVerifyState *state,
                  X509                *cert,
                  int                  depth,
                  int                  x509_error)
{
  const char *who = state->peer_description ? state->peer_description : _("the peer");
  g_autofree char *subject = cert ? gsecsock_verify_format_name (X509_get_subject_name (cert)) : g_strdup ("?");
  g_autofree char *issuer = cert ? gsecsock_verify_format_name (X509_get_issuer_name (cert)) : g_strdup ("?");
  g_autofree char *which = depth == 0
    ? g_strdup_printf (_("The certificate of %s"), who)
    : g_strdup_printf (_("The certificate “%s” in the chain of %s"), subject, who);

  switch (x509_error)
    {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      {
        g_autofree char *date = format_asn1_date (cert ? X509_get0_notAfter (cert) : NULL);
        return g_strdup_printf (_("%s expired on %s"), which, date);
      }
    case X509_V_ERR_CERT_NOT_YET_VALID:
      {
        g_autofree char *date = format_asn1_date (cert ? X509_get0_notBefore (cert) : NULL);
        return g_strdup_printf (_("%s is not valid before %s (check this computer's clock)"),
                                which, date);
      }
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return g_strdup_printf (_("The certificate presented by %s was issued to “%s”, "
                                "not to the name that was connected to"),
                              who, subject);
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return g_strdup_printf (_("%s is self-signed and not trusted: add it as a trust anchor "
                                "if you know it is genuine"), which);
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return g_strdup_printf (_("The certificate chain of %s ends in the root “%s”, which is "
                                "not a trusted certificate authority"), who, subject);
    case X509_V_ERR_CERT_UNTRUSTED:
      return g_strdup_printf (_("%s is not trusted for this purpose"), which);
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      if (cert != NULL && X509_check_ca (cert))
        return g_strdup_printf (_("The certificate chain of %s leads to “%s”, which is not a "
                                  "trusted certificate authority"), who, issuer);
      return g_strdup_printf (_("%s was issued by “%s”, which is not a trusted certificate "
                                "authority and was not sent by the peer (an unknown "
                                "authority, or a missing intermediate certificate)"),
                              which, issuer);
    case X509_V_ERR_CERT_REVOKED:
      return g_strdup_printf (_("%s has been revoked: its issuer “%s” lists it in its "
                                "certificate revocation list"), which, issuer);
    case X509_V_ERR_UNABLE_TO_GET_CRL:
      return g_strdup_printf (_("%s could not be checked for revocation: there is no CRL "
                                "for issuer “%s”. Add that authority's current certificate "
                                "revocation list with gsecsock_secure_socket_context_add_crl_file(), "
                                "or check fewer certificates (check-revocation)"),
                              which, issuer);
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return g_strdup_printf (_("%s could not be checked for revocation: the CRL of its "
                                "issuer “%s” has expired (it was due to be replaced); add a "
                                "current one"), which, issuer);
    case X509_V_ERR_CRL_NOT_YET_VALID:
      return g_strdup_printf (_("%s could not be checked for revocation: the CRL of its "
                                "issuer “%s” is not valid yet (check this computer's clock)"),
                              which, issuer);
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
      return g_strdup_printf (_("%s could not be checked for revocation: the CRL for issuer "
                                "“%s” is unusable: %s"), which, issuer,
                              X509_verify_cert_error_string (x509_error));
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
      return g_strdup_printf (_("%s is insecure: %s"), which,
                              X509_verify_cert_error_string (x509_error));
    default:
      return g_strdup_printf (_("%s failed verification: %s"), which,
                              X509_verify_cert_error_string (x509_error));
    }
}

static void
reject (GSecSockVerifyState *state,
        X509_STORE_CTX      *store_ctx,
        X509                *cert,
        int                  depth,
        int                  x509_error)
{
  state->rejected = TRUE;
  if (state->message == NULL)
    state->message = describe_problem (state, cert, depth, x509_error);
  /* The error decides which alert OpenSSL sends to the peer. */
  X509_STORE_CTX_set_error (store_ctx, x509_error);
}

/* A certificate without problems that the application refused. */
static void
reject_by_application (GSecSockVerifyState *state,
                       X509_STORE_CTX      *store_ctx,
                       X509                *cert,
                       int                  depth)
{
  const char *who = state->peer_description ? state->peer_description : _("the peer");

  state->rejected = TRUE;
  state->rejected_by_application = TRUE;
  if (state->message == NULL)
    {
      g_autofree char *subject = cert ? gsecsock_verify_format_name (X509_get_subject_name (cert)) : g_strdup ("?");

      if (depth == 0)
        state->message = g_strdup_printf (_("The certificate of %s was rejected by the "
                                            "application's verify-certificate handler"), who);
      else
        state->message = g_strdup_printf (_("The certificate “%s” in the chain of %s was "
                                            "rejected by the application's verify-certificate "
                                            "handler"), subject, who);
    }
  /* bad_certificate: the peer's certificate was refused as such. */
  X509_STORE_CTX_set_error (store_ctx, X509_V_ERR_CERT_REJECTED);
}

static gboolean
decide (GSecSockVerifyState *state, X509 *cert, int depth, GSecSockCertificateFlags flags)
{
  if (state->decide != NULL && cert != NULL)
    return state->decide (state->decide_data, cert, depth, flags);
  return flags == 0 || !state->verify_peer;
}

/* Asks for the decision on the certificate at @depth; rejects it if so. */
static int
decide_and_apply (GSecSockVerifyState *state,
                  X509_STORE_CTX      *store_ctx,
                  X509                *cert,
                  int                  depth,
                  guint                flags,
                  int                  first_error)
{
  gboolean accepted = decide (state, cert, depth, flags);

  ensure_depth (state, depth)->accepted = accepted;
  if (accepted)
    return 1;
  if (flags != 0)
    reject (state, store_ctx, cert, depth, first_error);
  else
    reject_by_application (state, store_ctx, cert, depth);
  return 0;
}

static int
verify_certificate_cb (int preverify_ok, X509_STORE_CTX *store_ctx)
{
  SSL *ssl = X509_STORE_CTX_get_ex_data (store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx ());
  GSecSockVerifyState *state = ssl ? SSL_get_ex_data (ssl, get_state_index ()) : NULL;
  int depth = X509_STORE_CTX_get_error_depth (store_ctx);
  X509 *cert = X509_STORE_CTX_get_current_cert (store_ctx);
  GSecSockVerifyDepth *entry;
  guint *flags;
  int *first_error;
  gboolean *done;

  if (state == NULL || depth < 0)
    return preverify_ok;

  entry = ensure_depth (state, depth);
  flags = &entry->flags;
  first_error = &entry->first_error;
  done = &entry->done;

  if (!preverify_ok)
    {
      int x509_error = X509_STORE_CTX_get_error (store_ctx);
      GSecSockCertificateFlags found = gsecsock_verify_flags_from_x509_error (x509_error);

      /* A missing issuer above a CA certificate is a root nobody trusts;
       * only above the leaf can it be an intermediate the peer left out. */
      if ((found & GSECSOCK_CERTIFICATE_INCOMPLETE_CHAIN) && cert != NULL && X509_check_ca (cert))
        found = GSECSOCK_CERTIFICATE_UNKNOWN_CA;
      /* OpenSSL said "not ok": never let that pass as no problem. */
      if (found == 0)
        found = GSECSOCK_CERTIFICATE_GENERIC_ERROR;
      if (x509_error == X509_V_OK)
        x509_error = X509_V_ERR_UNSPECIFIED;

      *flags |= found;
      state->errors |= found;
      if (*first_error == X509_V_OK)
        *first_error = x509_error;

      /* Only collected here: OpenSSL reports some problems (name
       * constraints, policy) after it has called the depth "ok", so each
       * certificate is decided once the whole chain is verified. */
      return 1;
    }

  *done = TRUE;
  return 1;
}

static void
record_chain (GSecSockVerifyState *state, X509_STORE_CTX *store_ctx)
{
  X509 *leaf = X509_STORE_CTX_get0_cert (store_ctx);
  STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted (store_ctx);

  g_clear_object (&state->chain);
  state->chain = g_list_store_new (GSECSOCK_TYPE_CERTIFICATE);
  if (leaf != NULL)
    {
      g_autoptr(GSecSockCertificate) cert = gsecsock_certificate_new_from_x509 (leaf);
      g_list_store_append (state->chain, cert);
    }
  /* The peer's chain as sent: the leaf (already added) and its extras. */
  for (int i = 0; sent != NULL && i < sk_X509_num (sent); i++)
    {
      X509 *x = sk_X509_value (sent, i);
      g_autoptr(GSecSockCertificate) cert = NULL;

      if (x == leaf)
        continue;
      cert = gsecsock_certificate_new_from_x509 (x);
      g_list_store_append (state->chain, cert);
    }
}

/* Wraps the whole-chain verification: records the chain the peer sent, and
 * makes sure that no recorded problem is ever let through when the peer must
 * be verified, whatever path OpenSSL took. */
static int
verify_chain_cb (X509_STORE_CTX *store_ctx, void *user_data)
{
  SSL *ssl = X509_STORE_CTX_get_ex_data (store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx ());
  GSecSockVerifyState *state = ssl ? SSL_get_ex_data (ssl, get_state_index ()) : NULL;
  GPtrArray *extra = ssl ? gsecsock_config_get_chain (ssl) : NULL;
  STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted (store_ctx);
  STACK_OF(X509) *untrusted = NULL;
  int ok;

  /* The context's chain certificates join the peer's as untrusted
   * candidates for building the chain (never as anchors); the peer's own
   * stack is left as it is. */
  if (extra != NULL && extra->len > 0)
    {
      untrusted = sent != NULL ? sk_X509_dup (sent) : sk_X509_new_null ();
      if (untrusted == NULL)
        g_error ("Out of memory building a certificate chain");
      for (guint i = 0; i < extra->len; i++)
        sk_X509_push (untrusted, g_ptr_array_index (extra, i));
    }

  if (state == NULL)
    {
      if (untrusted != NULL)
        X509_STORE_CTX_set0_untrusted (store_ctx, untrusted);
      ok = X509_verify_cert (store_ctx);
      if (untrusted != NULL)
        {
          X509_STORE_CTX_set0_untrusted (store_ctx, sent);
          sk_X509_free (untrusted);
        }
      return ok;
    }

  if (state->depths != NULL)
    g_array_set_size (state->depths, 0);
  state->errors = 0;
  state->rejected = FALSE;
  state->rejected_by_application = FALSE;
  state->verified = FALSE;
  g_clear_pointer (&state->message, g_free);
  record_chain (state, store_ctx);

  if (untrusted != NULL)
    X509_STORE_CTX_set0_untrusted (store_ctx, untrusted);
  ok = X509_verify_cert (store_ctx);
  if (untrusted != NULL)
    {
      /* The stack holds no references of its own. */
      X509_STORE_CTX_set0_untrusted (store_ctx, sent);
      sk_X509_free (untrusted);
    }

  /* One decision per certificate of the chain, root end first, each with
   * every problem found for it; the first refusal fails the handshake. */
  if (ok > 0)
    {
      STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain (store_ctx);

      for (int depth = chain != NULL ? sk_X509_num (chain) - 1 : -1; depth >= 0; depth--)
        {
          X509 *cert = sk_X509_value (chain, depth);
          GSecSockVerifyDepth *entry = ensure_depth (state, depth);

          X509_STORE_CTX_set_current_cert (store_ctx, cert);
          X509_STORE_CTX_set_error_depth (store_ctx, depth);
          if (!decide_and_apply (state, store_ctx, cert, depth, entry->flags, entry->first_error))
            {
              ok = 0;
              break;
            }
        }
    }

  state->verified = ok > 0 && state->errors == 0;

  /* A server resumes sessions without verifying the client again: one
   * whose certificate had problems (let through by a verify-certificate
   * handler) must never be resumed. Its session ID context (which its
   * ticket or cache entry carries) then matches no socket's. */
  if (ok > 0 && state->errors != 0 && ssl != NULL && SSL_is_server (ssl) &&
      SSL_get_session (ssl) != NULL)
    {
      static const unsigned char unresumable[] = "gsecsock:unverified";

      SSL_SESSION_set1_id_context (SSL_get_session (ssl), unresumable, sizeof unresumable - 1);
    }
  return ok;
}

void
gsecsock_verify_install (SSL_CTX *ctx)
{
  get_state_index ();
  SSL_CTX_set_cert_verify_callback (ctx, verify_chain_cb, NULL);
  SSL_CTX_set_verify (ctx, SSL_CTX_get_verify_mode (ctx), verify_certificate_cb);
}
