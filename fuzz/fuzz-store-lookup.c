/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Target 5: how a certificate store reads the identifier of the
 * certificate to find: names (common names, DNS names, IP addresses,
 * PKCS#12 friendly names) and SHA-1 / SHA-256 fingerprints in their many
 * written forms. The store is the test PKI's store/ directory.
 *
 * Input: one byte, whose bits 0-1 pick the GSecSockLookup and bit 2
 * whether a context answers password requests (secure.pem's key is
 * encrypted) and takes the certificate found; then the identifier, up to
 * the first NUL byte (it may be any bytes, valid UTF-8 or not). */
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static GSecSockCertificateStore *store;
static GSecSockSecureSocketContext *ctx;

static char *
on_password (GSecSockSecureSocketContext *context,
             const char                  *description,
             guint                        attempt,
             gpointer                     user_data)
{
  return attempt == 1 ? g_strdup ("secret") : NULL;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;

  fuzz_init ();
  store = gsecsock_certificate_store_new_for_directory (fuzz_pki_path ("store"), &error);
  if (store == NULL)
    {
      fprintf (stderr, "fuzz: cannot open the test PKI's store: %s\n", error->message);
      exit (1);
    }
  ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_signal_connect (ctx, "password-requested", G_CALLBACK (on_password), NULL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GSecSockCertificate) found = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *identifier = NULL;
  GSecSockLookup how;
  gboolean with_context;

  if (size < 1)
    return 0;
  how = (GSecSockLookup) (data[0] & 3);
  with_context = (data[0] & 4) != 0;
  identifier = g_strndup ((const char *) data + 1, size - 1);

  found = gsecsock_certificate_store_lookup (store, identifier, how, with_context ? ctx : NULL, &error);
  if (found == NULL)
    fuzz_check_error (error, "a lookup");
  else
    {
      /* A fingerprint finds the certificate that has it. */
      const char *expected = how == GSECSOCK_LOOKUP_FINGERPRINT_SHA1
                             ? gsecsock_certificate_get_fingerprint_sha1 (found)
                             : how == GSECSOCK_LOOKUP_FINGERPRINT_SHA256
                             ? gsecsock_certificate_get_fingerprint_sha256 (found)
                             : NULL;

      if (expected != NULL)
        {
          g_autoptr(GString) digits = g_string_new (NULL);
          g_autoptr(GString) wanted = g_string_new (NULL);

          for (const char *p = identifier; *p != '\0'; p++)
            if (g_ascii_isxdigit (*p))
              g_string_append_c (digits, g_ascii_tolower (*p));
          for (const char *p = expected; *p != '\0'; p++)
            if (g_ascii_isxdigit (*p))
              g_string_append_c (wanted, g_ascii_tolower (*p));
          if (!g_str_equal (digits->str, wanted->str))
            {
              fprintf (stderr, "fuzz: “%s” found the certificate with fingerprint %s\n",
                       identifier, expected);
              abort ();
            }
        }
    }

  if (with_context)
    {
      g_clear_error (&error);
      if (!gsecsock_secure_socket_context_use_certificate_from_store (ctx, store, identifier, how, &error))
        fuzz_check_error (error, "using a certificate from the store");
    }

  fuzz_drain ();
  return 0;
}
