/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writes the seed corpora of the fuzz targets from the test PKI
 * ($GSECSOCK_TEST_PKI_DIR) and from real handshakes between gsecsock
 * sockets over memory transports, recording the bytes each side sent.
 * With the fixed random numbers of fuzz_init(), a target's socket sends
 * exactly what the recorded socket did, so a seed replays a whole
 * handshake. Corpora hold certificates: they are made at build or run
 * time, never committed.
 *
 * Usage: make-corpus OUTDIR [STAMPFILE]
 * Makes OUTDIR/client-handshake, server-handshake, records, certificate
 * and store-lookup (replacing files of the same names). */
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

static const char *outdir;
static guint n_files;

G_GNUC_NORETURN static void
fail (const char *what, const GError *error)
{
  fprintf (stderr, "make-corpus: %s: %s\n", what, error ? error->message : "failed");
  exit (1);
}

/* OUTDIR/@target/@name: the byte @first, then @data. */
static void
write_seed (const char *target, const char *name, guint8 first, const void *data, gsize length)
{
  g_autofree char *dir = g_build_filename (outdir, target, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GByteArray) contents = g_byte_array_sized_new (length + 1);
  g_autoptr(GError) error = NULL;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    fail (dir, NULL);
  g_byte_array_append (contents, &first, 1);
  g_byte_array_append (contents, data, length);
  if (!g_file_set_contents (path, (const char *) contents->data, contents->len, &error))
    fail (path, error);
  n_files++;
}

static GBytes *
pki_file (const char *name)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (fuzz_pki_path (name), &contents, &length, &error))
    fail (name, error);
  return g_bytes_new_take (contents, length);
}

/* PKI files joined into one input. */
static void
write_pki_seed (const char *target, guint8 first, const char *const *names)
{
  g_autoptr(GByteArray) joined = g_byte_array_new ();
  g_autoptr(GString) seed_name = g_string_new (NULL);

  g_string_printf (seed_name, "%u", first);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr(GBytes) bytes = pki_file (names[i]);
      g_autofree char *base = g_path_get_basename (names[i]);

      g_byte_array_append (joined, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      g_string_append_printf (seed_name, "-%s", base);
    }
  write_seed (target, seed_name->str, first, joined->data, joined->len);
}

/* ---- Handshakes --------------------------------------------------------- */

static void
write_all (GSecSockSecureSocket *sock, const void *data, gsize length)
{
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (sock)), data, length,
                                  NULL, NULL, &error))
    fail ("writing", error);
}

static void
read_some (GSecSockSecureSocket *sock, gsize expected)
{
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (sock));
  gsize total = 0;

  while (total < expected)
    {
      g_autoptr(GError) error = NULL;
      char buffer[4096];
      gssize n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (input), buffer,
                                                          sizeof buffer, NULL, &error);

      if (n <= 0)
        fail ("reading what the peer sent", error);
      total += n;
    }
}

static void
close_socket (FuzzPair *pair, GSecSockSecureSocket *sock)
{
  g_autoptr(GError) error = NULL;

  if (!g_io_stream_close (G_IO_STREAM (sock), NULL, &error))
    fail ("closing", error);
  fuzz_pair_shuttle (pair);
}

/* A connection's life: the handshake, a request and its answer, and both
 * closing. Returns whether the handshake succeeded. */
static gboolean
converse (FuzzPair *pair)
{
  static const char request[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  static const char answer[] = "HTTP/1.1 204 No Content\r\n\r\n";
  g_autoptr(GError) error = NULL;

  if (!fuzz_pair_handshake (pair, &error))
    return FALSE;
  write_all (pair->client, request, sizeof request - 1);
  fuzz_pair_shuttle (pair);
  read_some (pair->server, sizeof request - 1);
  write_all (pair->server, answer, sizeof answer - 1);
  fuzz_pair_shuttle (pair);
  read_some (pair->client, sizeof answer - 1);
  close_socket (pair, pair->client);
  close_socket (pair, pair->server);
  fuzz_drain ();
  return TRUE;
}

static void
make_handshake_seeds (void)
{
  for (guint c = 0; c < FUZZ_N_CLIENT_CONFIGS; c++)
    for (guint s = 0; s < FUZZ_N_SERVER_CONFIGS; s++)
      {
        g_autoptr(GSecSockSecureSocketContext) client_ctx = fuzz_client_context_new (c);
        g_autoptr(GSecSockSecureSocketContext) server_ctx = fuzz_server_context_new (s);
        g_autofree char *client_seed = g_strdup_printf ("c%u-s%u", c, s);
        g_autofree char *server_seed = g_strdup_printf ("s%u-c%u", s, c);
        gboolean ok;
        FuzzPair pair;

        fuzz_pair_init (&pair, client_ctx, fuzz_client_peer_name (c), server_ctx);
        ok = converse (&pair);
        /* A failed handshake makes a seed too: its alerts. */
        write_seed ("client-handshake", client_seed, c, pair.server_sent->data, pair.server_sent->len);
        write_seed ("server-handshake", server_seed, s, pair.client_sent->data, pair.client_sent->len);
        fuzz_pair_clear (&pair);

        /* The client resumes: its ticket is one the server target's
         * contexts decrypt (the same fixed ticket key). */
        if (ok)
          {
            g_autofree char *resumed_seed = g_strdup_printf ("s%u-c%u-resumed", s, c);

            fuzz_pair_init (&pair, client_ctx, fuzz_client_peer_name (c), server_ctx);
            converse (&pair);
            if (gsecsock_secure_socket_get_session_reused (pair.client))
              write_seed ("server-handshake", resumed_seed, s, pair.client_sent->data, pair.client_sent->len);
            fuzz_pair_clear (&pair);
          }

        /* The same ticket offered to a server that requires a client
         * certificate: never resumed (the contexts share the fixed ticket
         * key, as servers of a farm do; the server target aborts if a
         * server requiring a certificate completes without one). */
        if (ok && s == FUZZ_SERVER_DEFAULT)
          {
            g_autoptr(GSecSockSecureSocketContext) strict_ctx = fuzz_server_context_new (FUZZ_SERVER_REQUIRE);
            g_autofree char *crossed_seed = g_strdup_printf ("s%u-c%u-ticket-from-s%u", FUZZ_SERVER_REQUIRE, c, s);

            fuzz_pair_init (&pair, client_ctx, fuzz_client_peer_name (c), strict_ctx);
            converse (&pair);
            write_seed ("server-handshake", crossed_seed, FUZZ_SERVER_REQUIRE,
                        pair.client_sent->data, pair.client_sent->len);
            fuzz_pair_clear (&pair);
          }
      }
}

/* The records target: the same pair as in fuzz-records.c, then what the
 * writing side sends after the handshake. */
static void
make_record_seeds (void)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx = fuzz_server_context_new (FUZZ_SERVER_DEFAULT);
  g_autofree char *big = g_malloc (40000);

  for (guint i = 0; i < 40000; i++)
    big[i] = (char) ('a' + i % 26);

  for (guint flags = 0; flags < 4; flags++)
    for (guint variant = 0; variant < 4; variant++)
      {
        g_autoptr(GSecSockSecureSocketContext) client_ctx = fuzz_client_context_new (FUZZ_CLIENT_DEFAULT);
        g_autoptr(GError) error = NULL;
        g_autofree char *name = g_strdup_printf ("%s-%s-%u", flags & 1 ? "tls12" : "tls13",
                                                 flags & 2 ? "to-server" : "to-client", variant);
        GSecSockSecureSocket *writer;
        GByteArray *sent;
        gsize start;
        FuzzPair pair;

        if (flags & 1)
          gsecsock_secure_socket_context_set_max_protocol_version (client_ctx, GSECSOCK_PROTOCOL_VERSION_TLS_1_2);
        fuzz_pair_init (&pair, client_ctx, "localhost", server_ctx);
        if (!fuzz_pair_handshake (&pair, &error))
          fail ("the records handshake", error);
        writer = flags & 2 ? pair.client : pair.server;
        sent = flags & 2 ? pair.client_sent : pair.server_sent;
        start = sent->len;

        switch (variant)
          {
          case 0:   /* a line, then close_notify */
            write_all (writer, "hello\n", 6);
            close_socket (&pair, writer);
            break;
          case 1:   /* several full records */
            write_all (writer, big, 40000);
            close_socket (&pair, writer);
            break;
          case 2:   /* small records, cut without close_notify */
            for (guint i = 0; i < 5; i++)
              write_all (writer, big + i, 1 + i);
            break;
          case 3:   /* nothing but close_notify */
          default:
            close_socket (&pair, writer);
            break;
          }
        fuzz_pair_shuttle (&pair);
        write_seed ("records", name, flags, sent->data + start, sent->len - start);
        fuzz_pair_clear (&pair);
        fuzz_forget_server_sessions (server_ctx);
        fuzz_drain ();
      }
}

/* ---- Certificates and keys ---------------------------------------------- */

/* Reader numbers of fuzz-certificate.c. */
enum { READ_PEM, READ_DER, READ_BUNDLE, READ_IDENTITY, READ_PKCS12, READ_KEY, READ_STORE, READ_TRUST };

#define FILES(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void
make_certificate_seeds (void)
{
  const char *t = "certificate";

  write_pki_seed (t, READ_PEM, FILES ("ca.pem"));
  write_pki_seed (t, READ_PEM, FILES ("server.pem"));
  write_pki_seed (t, READ_PEM, FILES ("client.pem"));
  write_pki_seed (t, READ_PEM, FILES ("beta.pem"));
  write_pki_seed (t, READ_PEM, FILES ("constrained-ca.pem"));
  write_pki_seed (t, READ_PEM, FILES ("expired.pem"));
  write_pki_seed (t, READ_DER, FILES ("server.der"));
  write_pki_seed (t, READ_DER, FILES ("store/ftp.der"));
  write_pki_seed (t, READ_BUNDLE, FILES ("bundle.pem"));
  write_pki_seed (t, READ_BUNDLE, FILES ("server-chain.pem"));
  write_pki_seed (t, READ_BUNDLE, FILES ("server.der"));
  write_pki_seed (t, READ_IDENTITY, FILES ("server-chain.pem", "server.key"));
  write_pki_seed (t, READ_IDENTITY, FILES ("server.pem", "encrypted.key"));
  write_pki_seed (t, READ_IDENTITY, FILES ("server.p12"));
  write_pki_seed (t, READ_IDENTITY, FILES ("store/dup-a.pem"));
  write_pki_seed (t, READ_PKCS12, FILES ("server.p12"));
  write_pki_seed (t, READ_PKCS12, FILES ("server-nopass.p12"));
  write_pki_seed (t, READ_PKCS12, FILES ("client.p12"));
  write_pki_seed (t, READ_PKCS12, FILES ("store/mail.p12"));
  write_pki_seed (t, READ_KEY, FILES ("server.key"));
  write_pki_seed (t, READ_KEY, FILES ("encrypted.key"));
  write_pki_seed (t, READ_KEY, FILES ("encrypted-traditional.key"));
  write_pki_seed (t, READ_STORE, FILES ("store/dup-a.pem"));
  write_pki_seed (t, READ_STORE, FILES ("store/secure.pem", "store/secure.key"));
  write_pki_seed (t, READ_STORE, FILES ("store/mail.p12"));
  write_pki_seed (t, READ_STORE, FILES ("store/ftp.der"));
  write_pki_seed (t, READ_TRUST, FILES ("bundle.pem"));
  write_pki_seed (t, READ_TRUST, FILES ("crl-bundle.pem"));
  write_pki_seed (t, READ_TRUST, FILES ("intermediate.crl.der"));
  write_pki_seed (t, READ_TRUST, FILES ("server.der"));
}

/* ---- Store identifiers -------------------------------------------------- */

static void
write_identifier (guint8 flags, const char *identifier)
{
  g_autofree char *name = g_compute_checksum_for_string (G_CHECKSUM_SHA1, identifier, -1);
  g_autofree char *seed = g_strdup_printf ("%u-%.12s", flags, name);

  write_seed ("store-lookup", seed, flags, identifier, strlen (identifier));
}

/* @fingerprint in the ways people write one. */
static void
write_fingerprint_forms (guint8 how, const char *fingerprint)
{
  g_autoptr(GString) bare = g_string_new (NULL);
  g_autoptr(GString) spaced = g_string_new (NULL);
  g_autofree char *upper = NULL;
  g_autofree char *marked = NULL;

  for (const char *p = fingerprint; *p != '\0'; p++)
    if (g_ascii_isxdigit (*p))
      {
        if (bare->len > 0 && bare->len % 2 == 0)
          g_string_append_c (spaced, ' ');
        g_string_append_c (bare, g_ascii_tolower (*p));
        g_string_append_c (spaced, g_ascii_tolower (*p));
      }
  upper = g_ascii_strup (fingerprint, -1);
  /* As copied from Windows' certificate manager: a left-to-right mark. */
  marked = g_strconcat ("\xe2\x80\x8e", spaced->str, NULL);
  write_identifier (how, fingerprint);
  write_identifier (how | 4, bare->str);
  write_identifier (GSECSOCK_LOOKUP_ANY, spaced->str);
  write_identifier (how, upper);
  write_identifier (GSECSOCK_LOOKUP_ANY | 4, marked);
}

static void
make_store_seeds (void)
{
  g_autoptr(GSecSockCertificateStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) certs = NULL;
  static const char *const names[] = {
    "localhost", "LOCALHOST.", "127.0.0.1", "[::1]", "::1", "Store Mail", "dup.store.test",
    "*.beta.test", "  web.store.test  ", "secure.store.test", "nokey.store.test", "", "sha256:00",
    "9d:a4:84:fc", "\xc3\xa9t\xc3\xa9.example", NULL
  };

  store = gsecsock_certificate_store_new_for_directory (fuzz_pki_path ("store"), &error);
  if (store == NULL)
    fail ("the test PKI's store", error);
  certs = gsecsock_certificate_store_list_certificates (store);
  for (guint i = 0; i < g_list_model_get_n_items (certs); i++)
    {
      g_autoptr(GSecSockCertificate) cert = g_list_model_get_item (certs, i);
      g_auto(GStrv) dns = gsecsock_certificate_get_dns_names (cert);

      write_fingerprint_forms (GSECSOCK_LOOKUP_FINGERPRINT_SHA256, gsecsock_certificate_get_fingerprint_sha256 (cert));
      write_fingerprint_forms (GSECSOCK_LOOKUP_FINGERPRINT_SHA1, gsecsock_certificate_get_fingerprint_sha1 (cert));
      for (guint j = 0; dns != NULL && dns[j] != NULL; j++)
        {
          write_identifier (GSECSOCK_LOOKUP_NAME, dns[j]);
          write_identifier (GSECSOCK_LOOKUP_ANY | 4, dns[j]);
        }
    }
  for (guint i = 0; names[i] != NULL; i++)
    for (guint8 flags = 0; flags < 8; flags += 5)
      write_identifier (flags, names[i]);
}

int
main (int argc, char **argv)
{
  if (argc != 2 && argc != 3)
    {
      fprintf (stderr, "usage: %s OUTDIR [STAMPFILE]\n", argv[0]);
      return 2;
    }
  outdir = argv[1];
  fuzz_init ();
  make_handshake_seeds ();
  make_record_seeds ();
  make_certificate_seeds ();
  make_store_seeds ();
  /* For the build system: touched once every seed is written. */
  if (argc == 3 && !g_file_set_contents (argv[2], "", 0, NULL))
    fail (argv[2], NULL);
  printf ("make-corpus: %u seeds in %s\n", n_files, outdir);
  return 0;
}
