/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__GSECSOCK_H_INSIDE__) && !defined(GSECSOCK_COMPILATION)
#error "Only <gsecsock/gsecsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gsecsock/gsecsock-version.h>
#include <gsecsock/gsecsock-enums.h>
#include <gsecsock/gsecsock-certificate.h>

G_BEGIN_DECLS

#define GSECSOCK_TYPE_SECURE_SOCKET_CONTEXT (gsecsock_secure_socket_context_get_type ())
GSECSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (GSecSockSecureSocketContext, gsecsock_secure_socket_context,
                      GSECSOCK, SECURE_SOCKET_CONTEXT, GObject)

G_END_DECLS

/* After the context's type: the store's header uses it (and declares the
 * store's type before including this header). */
#include <gsecsock/gsecsock-certificate-store.h>

G_BEGIN_DECLS

GSECSOCK_AVAILABLE_IN_ALL
GSecSockSecureSocketContext *gsecsock_secure_socket_context_new (GSecSockMode mode);

GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_context_load_certificate_file (GSecSockSecureSocketContext  *self,
                                                               const char                   *cert_path,
                                                               const char                   *key_path,
                                                               GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockCertificate *gsecsock_secure_socket_context_load_identity (GSecSockSecureSocketContext  *self,
                                                                   const char                   *path,
                                                                   const char                   *key_path,
                                                                   GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_context_set_certificate       (GSecSockSecureSocketContext  *self,
                                                               GSecSockCertificate          *certificate,
                                                               GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_context_load_pkcs12_file      (GSecSockSecureSocketContext  *self,
                                                               const char                   *path,
                                                               GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_context_use_certificate_from_store (GSecSockSecureSocketContext  *self,
                                                                    GSecSockCertificateStore     *store,
                                                                    const char                   *identifier,
                                                                    GSecSockLookup                how,
                                                                    GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_context_add_trust_anchor_file (GSecSockSecureSocketContext  *self,
                                                               const char                   *path,
                                                               GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
void     gsecsock_secure_socket_context_add_trust_anchor      (GSecSockSecureSocketContext  *self,
                                                               GSecSockCertificate          *certificate);
GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_context_add_trust_anchor_der  (GSecSockSecureSocketContext  *self,
                                                               GBytes                       *der,
                                                               GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
void     gsecsock_secure_socket_context_add_chain_certificate (GSecSockSecureSocketContext  *self,
                                                               GSecSockCertificate          *certificate);
GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_context_add_crl_file          (GSecSockSecureSocketContext  *self,
                                                               const char                   *path,
                                                               GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
void     gsecsock_secure_socket_context_clear_crls            (GSecSockSecureSocketContext  *self);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockRevocationCheck gsecsock_secure_socket_context_get_check_revocation (GSecSockSecureSocketContext *self);
GSECSOCK_AVAILABLE_IN_ALL
void                    gsecsock_secure_socket_context_set_check_revocation (GSecSockSecureSocketContext *self,
                                                                             GSecSockRevocationCheck      check);

GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_context_set_session_ticket_keys    (GSecSockSecureSocketContext  *self,
                                                                    GBytes                       *keys,
                                                                    GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
void     gsecsock_secure_socket_context_rotate_session_ticket_keys (GSecSockSecureSocketContext  *self);

GSECSOCK_AVAILABLE_IN_ALL
GSecSockMode gsecsock_secure_socket_context_get_mode (GSecSockSecureSocketContext *self);

GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_context_get_use_system_trust (GSecSockSecureSocketContext *self);
GSECSOCK_AVAILABLE_IN_ALL
void     gsecsock_secure_socket_context_set_use_system_trust (GSecSockSecureSocketContext *self,
                                                              gboolean                     use_system_trust);

GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_context_get_verify_peer (GSecSockSecureSocketContext *self);
GSECSOCK_AVAILABLE_IN_ALL
void     gsecsock_secure_socket_context_set_verify_peer (GSecSockSecureSocketContext *self,
                                                         gboolean                     verify_peer);

GSECSOCK_AVAILABLE_IN_ALL
GSecSockClientAuth gsecsock_secure_socket_context_get_client_auth (GSecSockSecureSocketContext *self);
GSECSOCK_AVAILABLE_IN_ALL
void               gsecsock_secure_socket_context_set_client_auth (GSecSockSecureSocketContext *self,
                                                                   GSecSockClientAuth           client_auth);

GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_context_add_sni_context    (GSecSockSecureSocketContext  *self,
                                                            const char                   *server_name,
                                                            GSecSockSecureSocketContext  *for_name,
                                                            GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_context_remove_sni_context (GSecSockSecureSocketContext  *self,
                                                            const char                   *server_name);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockSecureSocketContext *gsecsock_secure_socket_context_lookup_sni_context (GSecSockSecureSocketContext *self,
                                                                                const char                  *server_name);

GSECSOCK_AVAILABLE_IN_ALL
GSecSockProtocolVersion gsecsock_secure_socket_context_get_min_protocol_version (GSecSockSecureSocketContext *self);
GSECSOCK_AVAILABLE_IN_ALL
void                    gsecsock_secure_socket_context_set_min_protocol_version (GSecSockSecureSocketContext *self,
                                                                                 GSecSockProtocolVersion      version);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockProtocolVersion gsecsock_secure_socket_context_get_max_protocol_version (GSecSockSecureSocketContext *self);
GSECSOCK_AVAILABLE_IN_ALL
void                    gsecsock_secure_socket_context_set_max_protocol_version (GSecSockSecureSocketContext *self,
                                                                                 GSecSockProtocolVersion      version);
GSECSOCK_AVAILABLE_IN_ALL
GSecSockProtocols gsecsock_secure_socket_context_get_protocols (GSecSockSecureSocketContext  *self);
GSECSOCK_AVAILABLE_IN_ALL
gboolean          gsecsock_secure_socket_context_set_protocols (GSecSockSecureSocketContext  *self,
                                                                GSecSockProtocols             protocols,
                                                                GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
int      gsecsock_secure_socket_context_get_security_level (GSecSockSecureSocketContext  *self);
GSECSOCK_AVAILABLE_IN_ALL
gboolean gsecsock_secure_socket_context_set_security_level (GSecSockSecureSocketContext  *self,
                                                            int                           level,
                                                            GError                      **error);

GSECSOCK_AVAILABLE_IN_ALL
const char *gsecsock_secure_socket_context_get_cipher_list  (GSecSockSecureSocketContext  *self);
GSECSOCK_AVAILABLE_IN_ALL
gboolean    gsecsock_secure_socket_context_set_cipher_list  (GSecSockSecureSocketContext  *self,
                                                             const char                   *ciphers,
                                                             GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
const char *gsecsock_secure_socket_context_get_ciphersuites (GSecSockSecureSocketContext  *self);
GSECSOCK_AVAILABLE_IN_ALL
gboolean    gsecsock_secure_socket_context_set_ciphersuites (GSecSockSecureSocketContext  *self,
                                                             const char                   *ciphersuites,
                                                             GError                      **error);
GSECSOCK_AVAILABLE_IN_ALL
const char *gsecsock_secure_socket_context_get_groups       (GSecSockSecureSocketContext  *self);
GSECSOCK_AVAILABLE_IN_ALL
gboolean    gsecsock_secure_socket_context_set_groups       (GSecSockSecureSocketContext  *self,
                                                             const char                   *groups,
                                                             GError                      **error);

GSECSOCK_AVAILABLE_IN_ALL
const char * const *gsecsock_secure_socket_context_get_alpn_protocols (GSecSockSecureSocketContext *self);
GSECSOCK_AVAILABLE_IN_ALL
void                gsecsock_secure_socket_context_set_alpn_protocols (GSecSockSecureSocketContext *self,
                                                                       const char * const          *protocols);

GSECSOCK_AVAILABLE_IN_ALL
const char *gsecsock_secure_socket_context_get_keylog_file (GSecSockSecureSocketContext *self);
GSECSOCK_AVAILABLE_IN_ALL
void        gsecsock_secure_socket_context_set_keylog_file (GSecSockSecureSocketContext *self,
                                                            const char                  *path);
GSECSOCK_AVAILABLE_IN_ALL
gboolean    gsecsock_secure_socket_context_get_use_sslkeylogfile (GSecSockSecureSocketContext *self);
GSECSOCK_AVAILABLE_IN_ALL
void        gsecsock_secure_socket_context_set_use_sslkeylogfile (GSecSockSecureSocketContext *self,
                                                                  gboolean                     use_sslkeylogfile);

G_END_DECLS
