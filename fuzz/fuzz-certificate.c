/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Target 4: reading certificates and keys. Input: one byte that picks the
 * reader (modulo N_READERS, see Reader), then the data. Readers that take
 * a file get the data written to a temporary file. Encrypted keys and
 * PKCS#12 files are opened with the password "secret" (the test PKI's),
 * then a wrong one, then none. Every certificate read is inspected the way
 * an application would, and must encode and read back. */
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "gsecsock/gsecsock-password-private.h"

typedef enum {
  READ_PEM,          /* gsecsock_certificate_new_from_pem() */
  READ_DER,          /* gsecsock_certificate_new_from_der() */
  READ_BUNDLE,       /* gsecsock_certificate_list_new_from_file() */
  READ_IDENTITY,     /* gsecsock_secure_socket_context_load_identity(): PEM, DER or PKCS#12 */
  READ_PKCS12,       /* gsecsock_secure_socket_context_load_pkcs12_file() */
  READ_KEY,          /* a private key from memory (PEM, maybe encrypted) */
  READ_STORE,        /* a certificate store over a directory holding the file */
  READ_TRUST,        /* trust anchors from a file, and a DER one from memory */
  N_READERS
} Reader;

static GSecSockSecureSocketContext *ctx;
static char *scratch_dir;
static char *scratch_file;

static char *
on_password (GSecSockSecureSocketContext *context,
             const char                  *description,
             guint                        attempt,
             gpointer                     user_data)
{
  switch (attempt)
    {
    case 1:
      return g_strdup ("secret");
    case 2:
      return g_strdup ("not the secret");
    default:
      return NULL;
    }
}

static void
remove_scratch (void)
{
  g_unlink (scratch_file);
  g_rmdir (scratch_dir);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;

  fuzz_init ();
  ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_signal_connect (ctx, "password-requested", G_CALLBACK (on_password), NULL);
  scratch_dir = g_dir_make_tmp ("gsecsock-fuzz-XXXXXX", &error);
  if (scratch_dir == NULL)
    {
      fprintf (stderr, "fuzz: no temporary directory: %s\n", error->message);
      exit (1);
    }
  scratch_file = g_build_filename (scratch_dir, "input", NULL);
  atexit (remove_scratch);
  return 0;
}

static void
write_scratch (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents (scratch_file, (const char *) data, size, &error))
    {
      fprintf (stderr, "fuzz: cannot write %s: %s\n", scratch_file, error->message);
      abort ();
    }
}

G_GNUC_NORETURN static void
broken (const char *what)
{
  fprintf (stderr, "fuzz: %s\n", what);
  abort ();
}

/* What an application reads of a certificate, and its encodings. */
static void
inspect (GSecSockCertificate *cert)
{
  g_autofree char *subject = gsecsock_certificate_get_subject (cert);
  g_autofree char *issuer = gsecsock_certificate_get_issuer (cert);
  g_autofree char *serial = gsecsock_certificate_get_serial_number (cert);
  g_autoptr(GDateTime) before = gsecsock_certificate_get_not_valid_before (cert);
  g_autoptr(GDateTime) after = gsecsock_certificate_get_not_valid_after (cert);
  g_auto(GStrv) names = gsecsock_certificate_get_dns_names (cert);
  g_auto(GStrv) addresses = gsecsock_certificate_get_ip_addresses (cert);
  g_autoptr(GBytes) der = gsecsock_certificate_get_der (cert);
  g_autofree char *pem = gsecsock_certificate_get_pem (cert);
  g_autoptr(GSecSockCertificate) from_der = NULL;
  g_autoptr(GSecSockCertificate) from_pem = NULL;
  g_autoptr(GError) error = NULL;
  const char *sha256 = gsecsock_certificate_get_fingerprint_sha256 (cert);
  const char *sha1 = gsecsock_certificate_get_fingerprint_sha1 (cert);

  /* The validity dates are nullable: a date GDateTime cannot hold. */
  if (serial == NULL)
    broken ("a certificate read without error lacks a serial number");
  if (before != NULL && after != NULL)
    (void) g_date_time_compare (before, after);
  (void) gsecsock_certificate_get_is_ca (cert);
  (void) gsecsock_certificate_get_has_private_key (cert);
  if (subject == NULL || issuer == NULL || sha256 == NULL || sha1 == NULL)
    broken ("a certificate read without error lacks a subject, an issuer or a fingerprint");
  if (!g_utf8_validate (subject, -1, NULL) || !g_utf8_validate (issuer, -1, NULL))
    broken ("a certificate's subject or issuer is not UTF-8");
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    if (!g_utf8_validate (names[i], -1, NULL))
      broken ("a certificate's DNS name is not UTF-8");
  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (addresses[i]);

      if (address == NULL)
        broken ("a certificate's IP address is not written as one");
    }
  if (der == NULL || pem == NULL)
    broken ("a certificate read without error cannot be encoded");

  /* What the library writes, it reads back as the same certificate. */
  from_der = gsecsock_certificate_new_from_der (der, &error);
  if (from_der == NULL)
    {
      fprintf (stderr, "fuzz: the certificate's own DER does not read back: %s\n", error->message);
      abort ();
    }
  from_pem = gsecsock_certificate_new_from_pem (pem, -1, &error);
  if (from_pem == NULL)
    {
      fprintf (stderr, "fuzz: the certificate's own PEM does not read back: %s\n", error->message);
      abort ();
    }
  if (!gsecsock_certificate_equal (from_der, from_pem))
    broken ("the certificate's DER and PEM read back as different certificates");
}

static void
inspect_list (GList *certs)
{
  for (GList *l = certs; l != NULL; l = l->next)
    inspect (l->data);
}

static void
read_store (void)
{
  g_autoptr(GSecSockCertificateStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) certs = NULL;

  store = gsecsock_certificate_store_new_for_directory (scratch_dir, &error);
  if (store == NULL)
    {
      fuzz_check_error (error, "reading a store");
      return;
    }
  certs = gsecsock_certificate_store_list_certificates (store);
  for (guint i = 0; i < g_list_model_get_n_items (certs); i++)
    {
      g_autoptr(GSecSockCertificate) cert = g_list_model_get_item (certs, i);
      g_autoptr(GSecSockCertificate) found = NULL;
      g_autoptr(GError) lookup_error = NULL;

      inspect (cert);
      /* Every certificate listed is found by its fingerprint (unless
       * another has the same: ambiguous), with its key if it has one. */
      found = gsecsock_certificate_store_lookup (store, gsecsock_certificate_get_fingerprint_sha256 (cert),
                                                 GSECSOCK_LOOKUP_FINGERPRINT_SHA256, ctx, &lookup_error);
      if (found == NULL)
        fuzz_check_error (lookup_error, "looking up a listed certificate");
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  Reader reader;

  if (size < 1)
    return 0;
  reader = data[0] % N_READERS;
  data++;
  size--;

  switch (reader)
    {
    case READ_PEM:
      {
        g_autoptr(GSecSockCertificate) cert = gsecsock_certificate_new_from_pem ((const char *) data, size, &error);

        if (cert != NULL)
          inspect (cert);
        else
          fuzz_check_error (error, "reading PEM");
      }
      break;

    case READ_DER:
      {
        g_autoptr(GBytes) bytes = g_bytes_new (data, size);
        g_autoptr(GSecSockCertificate) cert = gsecsock_certificate_new_from_der (bytes, &error);

        if (cert != NULL)
          inspect (cert);
        else
          fuzz_check_error (error, "reading DER");
      }
      break;

    case READ_BUNDLE:
      {
        GList *certs;

        write_scratch (data, size);
        certs = gsecsock_certificate_list_new_from_file (scratch_file, &error);
        if (certs != NULL)
          inspect_list (certs);
        else
          fuzz_check_error (error, "reading a bundle");
        g_list_free_full (certs, g_object_unref);
      }
      break;

    case READ_IDENTITY:
    case READ_PKCS12:
      {
        g_autoptr(GSecSockCertificate) cert = NULL;

        write_scratch (data, size);
        if (reader == READ_PKCS12)
          {
            if (!gsecsock_secure_socket_context_load_pkcs12_file (ctx, scratch_file, &error))
              fuzz_check_error (error, "reading PKCS#12");
            break;
          }
        cert = gsecsock_secure_socket_context_load_identity (ctx, scratch_file, NULL, &error);
        if (cert != NULL)
          {
            if (!gsecsock_certificate_get_has_private_key (cert))
              broken ("an identity was read without its private key");
            inspect (cert);
          }
        else
          fuzz_check_error (error, "reading an identity");
      }
      break;

    case READ_KEY:
      {
        g_autoptr(GBytes) bytes = g_bytes_new (data, size);
        EVP_PKEY *key = gsecsock_load_private_key (ctx, "fuzz input", bytes, &error);

        if (key != NULL)
          EVP_PKEY_free (key);
        else
          fuzz_check_error (error, "reading a private key");
      }
      break;

    case READ_STORE:
      write_scratch (data, size);
      read_store ();
      break;

    case READ_TRUST:
      {
        g_autoptr(GSecSockSecureSocketContext) trust = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
        g_autoptr(GBytes) bytes = g_bytes_new (data, size);

        write_scratch (data, size);
        if (!gsecsock_secure_socket_context_add_trust_anchor_file (trust, scratch_file, &error))
          fuzz_check_error (error, "reading trust anchors");
        g_clear_error (&error);
        if (!gsecsock_secure_socket_context_add_trust_anchor_der (trust, bytes, &error))
          fuzz_check_error (error, "reading a DER trust anchor");
        g_clear_error (&error);
        if (!gsecsock_secure_socket_context_add_crl_file (trust, scratch_file, &error))
          fuzz_check_error (error, "reading CRLs");
      }
      break;

    case N_READERS:
    default:
      g_assert_not_reached ();
    }

  fuzz_drain ();
  return 0;
}
