/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Target 3: records after the handshake. A client and a server complete a
 * real handshake over memory transports (the same on every input: the
 * random numbers are fixed), then one of them receives the input as the
 * records its peer sent, followed by the end of the transport, and reads
 * until the end, answering what it reads, and closes.
 *
 * Input: one byte, whose bit 0 picks TLS 1.2 (set) or TLS 1.3 and bit 1
 * the side that reads (set: the server reads the client's records), then
 * the records. */
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>

static GSecSockSecureSocketContext *client_contexts[2];
static GSecSockSecureSocketContext *server_context;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init ();
  for (guint i = 0; i < 2; i++)
    {
      client_contexts[i] = fuzz_client_context_new (FUZZ_CLIENT_DEFAULT);
      if (i == 1)
        gsecsock_secure_socket_context_set_max_protocol_version (client_contexts[i],
                                                                 GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
    }
  server_context = fuzz_server_context_new (FUZZ_SERVER_DEFAULT);
  return 0;
}

/* Reads @sock to its end, writing back part of what it reads. */
static void
read_and_answer (GSecSockSecureSocket *sock, GSecSockMemoryTransport *transport)
{
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (sock));
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (sock));
  gsize total = 0;
  char buffer[4096];

  while (total < (1 << 20))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) sent = NULL;
      gssize n = g_input_stream_read (input, buffer, sizeof buffer, NULL, &error);
      gsize written = 0;

      if (n < 0)
        fuzz_check_error (error, "reading");
      if (n <= 0 && fuzz_verbose ())
        fprintf (stderr, "fuzz: %" G_GSIZE_FORMAT " bytes read, then %s\n", total,
                 n == 0 ? "the end" : error->message);
      if (n <= 0)
        break;
      total += n;
      if (!g_output_stream_write_all (output, buffer, MIN (n, 64), &written, NULL, &error))
        {
          fuzz_check_error (error, "writing");
          break;
        }
      sent = gsecsock_memory_transport_take_outgoing (transport);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  GSecSockMemoryTransport *transport;
  GSecSockSecureSocket *reader;
  gboolean tls12, server_reads;
  FuzzPair pair;

  if (size < 1)
    return 0;
  tls12 = (data[0] & 1) != 0;
  server_reads = (data[0] & 2) != 0;

  fuzz_pair_init (&pair, client_contexts[tls12], "localhost", server_context);
  if (!fuzz_pair_handshake (&pair, &error))
    {
      fprintf (stderr, "fuzz: the handshake between the two sockets failed: %s\n", error->message);
      abort ();
    }
  fuzz_note_handshake (TRUE, NULL);

  reader = server_reads ? pair.server : pair.client;
  transport = server_reads ? pair.server_transport : pair.client_transport;
  gsecsock_memory_transport_receive (transport, data + 1, size - 1);
  gsecsock_memory_transport_receive_eof (transport);
  read_and_answer (reader, transport);
  if (!g_io_stream_close (G_IO_STREAM (reader), NULL, &error))
    fuzz_check_error (error, "closing");

  fuzz_pair_clear (&pair);
  /* Every input starts from the same full handshake: no session of an
   * earlier input is resumed. */
  fuzz_forget_client_sessions (client_contexts[tls12]);
  fuzz_forget_server_sessions (server_context);
  fuzz_drain ();
  return 0;
}
