/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Targets 1 and 2: one side of a handshake, the other side's bytes being
 * the input. Built twice: as fuzz-client-handshake (a client socket reads
 * the input as the server's bytes) and, with FUZZ_SERVER_SIDE, as
 * fuzz-server-handshake (a server socket reads it as the client's).
 *
 * Input: one byte that picks the configuration (FuzzClientConfig or
 * FuzzServerConfig, modulo their number), then the peer's bytes. They are
 * all received at once, followed by the end of the transport, so the
 * handshake runs to its end without waiting: it completes or fails. After
 * a completed one the socket reads what is left (post-handshake messages,
 * application data), writes, and closes. */
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef FUZZ_SERVER_SIDE
#define N_CONFIGS FUZZ_N_SERVER_CONFIGS
#else
#define N_CONFIGS FUZZ_N_CLIENT_CONFIGS
#endif

static GSecSockSecureSocketContext *contexts[N_CONFIGS];

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init ();
  for (guint i = 0; i < N_CONFIGS; i++)
#ifdef FUZZ_SERVER_SIDE
    contexts[i] = fuzz_server_context_new (i);
#else
    contexts[i] = fuzz_client_context_new (i);
#endif
  return 0;
}

/* What an application looks at after a handshake. */
static void
inspect (GSecSockSecureSocket *sock, guint config)
{
  GListModel *chain = gsecsock_secure_socket_get_peer_certificate_chain (sock);
  GSecSockCertificateFlags errors = gsecsock_secure_socket_get_certificate_errors (sock);
  GSecSockProtocolVersion version = gsecsock_secure_socket_get_protocol_version (sock);

  /* Secure by default: never below TLS 1.2. */
  if (version < GSECSOCK_PROTOCOL_VERSION_TLS_1_2)
    {
      fprintf (stderr, "fuzz: a handshake completed with protocol version %d\n", version);
      abort ();
    }
  if (gsecsock_secure_socket_get_cipher_name (sock) == NULL)
    {
      fprintf (stderr, "fuzz: a completed handshake has no cipher\n");
      abort ();
    }
  (void) gsecsock_secure_socket_get_alpn_protocol (sock);
  (void) gsecsock_secure_socket_get_certificate_status (sock);
  (void) gsecsock_secure_socket_get_server_name (sock);

#ifndef FUZZ_SERVER_SIDE
  /* A verifying client never completes a handshake with a peer whose
   * certificate has problems. */
  if (errors != 0 && !fuzz_client_accepts_errors (config))
    {
      fprintf (stderr, "fuzz: a verifying client accepted a certificate with errors 0x%x\n", errors);
      abort ();
    }
  if (gsecsock_secure_socket_get_peer_certificate (sock) == NULL)
    {
      fprintf (stderr, "fuzz: a client completed a handshake without a server certificate\n");
      abort ();
    }
#else
  if (errors != 0 && config == FUZZ_SERVER_REQUIRE)
    {
      fprintf (stderr, "fuzz: a server accepted a client certificate with errors 0x%x\n", errors);
      abort ();
    }
  if (config == FUZZ_SERVER_REQUIRE && gsecsock_secure_socket_get_peer_certificate (sock) == NULL)
    {
      fprintf (stderr, "fuzz: a server requiring a client certificate completed without one\n");
      abort ();
    }
#endif

  for (guint i = 0; chain != NULL && i < g_list_model_get_n_items (chain); i++)
    {
      g_autoptr(GSecSockCertificate) cert = g_list_model_get_item (chain, i);
      g_autofree char *subject = gsecsock_certificate_get_subject (cert);
      g_auto(GStrv) names = gsecsock_certificate_get_dns_names (cert);

      /* What the peer sent is shown to users: always valid UTF-8. */
      if (subject == NULL || !g_utf8_validate (subject, -1, NULL))
        {
          fprintf (stderr, "fuzz: a peer certificate's subject is missing or not UTF-8\n");
          abort ();
        }
      for (guint j = 0; names != NULL && names[j] != NULL; j++)
        if (!g_utf8_validate (names[j], -1, NULL))
          {
            fprintf (stderr, "fuzz: a peer certificate's DNS name is not UTF-8\n");
            abort ();
          }
      (void) gsecsock_certificate_get_fingerprint_sha256 (cert);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GSecSockMemoryTransport) transport = NULL;
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  g_autoptr(GError) error = NULL;
  const char *peer_name = NULL;
  guint config;

  if (size < 1)
    return 0;
  config = data[0] % N_CONFIGS;
#ifndef FUZZ_SERVER_SIDE
  peer_name = fuzz_client_peer_name (config);
#endif

  transport = gsecsock_memory_transport_new ();
  sock = gsecsock_secure_socket_new (contexts[config], G_IO_STREAM (transport), peer_name, &error);
  if (sock == NULL)
    {
      fprintf (stderr, "fuzz: cannot create a socket: %s\n", error->message);
      abort ();
    }
  gsecsock_memory_transport_receive (transport, data + 1, size - 1);
  gsecsock_memory_transport_receive_eof (transport);

  if (gsecsock_secure_socket_handshake (sock, NULL, &error))
    {
      fuzz_note_handshake (TRUE, NULL);
      if (fuzz_verbose () && gsecsock_secure_socket_get_session_reused (sock))
        fprintf (stderr, "fuzz: (a resumed session)\n");
      g_autoptr(GError) write_error = NULL;
      gsize written = 0;

      if (!gsecsock_secure_socket_get_handshake_complete (sock))
        {
          fprintf (stderr, "fuzz: the handshake succeeded but is not complete\n");
          abort ();
        }
      inspect (sock, config);
      fuzz_read_all (G_IO_STREAM (sock), 1 << 20);
      if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (sock)),
                                      "ping", 4, &written, NULL, &write_error))
        fuzz_check_error (write_error, "writing");
      /* Clears the outgoing bytes too: nothing is left to the next input. */
      g_clear_pointer (&write_error, g_error_free);
      if (!g_io_stream_close (G_IO_STREAM (sock), NULL, &write_error))
        fuzz_check_error (write_error, "closing");
    }
  else
    {
      fuzz_check_error (error, "the handshake");
      fuzz_note_handshake (FALSE, error);
      if (gsecsock_secure_socket_get_handshake_complete (sock))
        {
          fprintf (stderr, "fuzz: the handshake failed but says it is complete\n");
          abort ();
        }
    }

  g_clear_object (&sock);
  g_clear_object (&transport);
#ifdef FUZZ_SERVER_SIDE
  fuzz_forget_server_sessions (contexts[config]);
#else
  fuzz_forget_client_sessions (contexts[config]);
#endif
  fuzz_drain ();
  return 0;
}
