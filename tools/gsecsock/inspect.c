/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gsecsock inspect FILE|DIR|URI: show certificates (PEM, DER, PKCS#12,
 * bundles, certificate stores) and check a chain offline.
 *
 * gsecsock has no "verify this chain" function: verification happens in
 * the handshake. So the check runs a handshake, over a
 * GSecSockMemoryTransport, against a stand-in server: it answers the
 * client's hello with a TLS 1.2 ServerHello and a Certificate message
 * carrying the chain, then ends the stream. The client verifies the chain
 * exactly as `gsecsock connect` does — same trust, same host name check,
 * same verify-certificate signal for each certificate — before the
 * handshake fails for want of the rest, which no private key could have
 * produced anyway.
 *
 * A PKCS#12 file's chain is read the same way: its identity is loaded
 * (asking for the password) and presented by a server context in an
 * in-memory handshake, and the client side reports what it received.
 */

#include <string.h>

#include "gsecsock-tool.h"

typedef struct {
  ToolContextOptions tls;
  char    *host;
  gboolean verify;
} InspectOptions;

static void
wait_until (gboolean *flag)
{
  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
}

/* ------------------------------------------------------------------------ */
/* A PKCS#12 file's chain, from an in-memory handshake                      */

typedef struct {
  GSecSockMemoryTransport *to;
} Pump;

static void
pump_outgoing (GSecSockMemoryTransport *from,
               gpointer                 user_data)
{
  Pump *pump = user_data;
  g_autoptr(GBytes) bytes = gsecsock_memory_transport_take_outgoing (from);
  gsize length;
  const guint8 *data = g_bytes_get_data (bytes, &length);

  if (length > 0)
    gsecsock_memory_transport_receive (pump->to, data, length);
}

typedef struct {
  gboolean done;
  GError  *error;
} HandshakeWait;

static void
handshake_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  HandshakeWait *wait = user_data;

  gsecsock_secure_socket_handshake_finish (GSECSOCK_SECURE_SOCKET (source), result, &wait->error);
  wait->done = TRUE;
}

static GPtrArray *
chain_of_identity (GSecSockCertificate  *identity,
                   GError              **error)
{
  g_autoptr(GSecSockSecureSocketContext) server_ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);
  g_autoptr(GSecSockSecureSocketContext) client_ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  g_autoptr(GSecSockMemoryTransport) client_transport = gsecsock_memory_transport_new ();
  g_autoptr(GSecSockMemoryTransport) server_transport = gsecsock_memory_transport_new ();
  g_autoptr(GSecSockSecureSocket) client = NULL;
  g_autoptr(GSecSockSecureSocket) server = NULL;
  Pump to_server = { server_transport };
  Pump to_client = { client_transport };
  HandshakeWait client_wait = { FALSE, NULL };
  HandshakeWait server_wait = { FALSE, NULL };
  GListModel *chain;
  GPtrArray *result;

  if (!gsecsock_secure_socket_context_set_certificate (server_ctx, identity, error))
    return NULL;
  gsecsock_secure_socket_context_set_verify_peer (client_ctx, FALSE);
  client = gsecsock_secure_socket_new (client_ctx, G_IO_STREAM (client_transport), NULL, error);
  if (client == NULL)
    return NULL;
  server = gsecsock_secure_socket_new (server_ctx, G_IO_STREAM (server_transport), NULL, error);
  if (server == NULL)
    return NULL;
  g_signal_connect (client_transport, "outgoing-ready", G_CALLBACK (pump_outgoing), &to_server);
  g_signal_connect (server_transport, "outgoing-ready", G_CALLBACK (pump_outgoing), &to_client);
  gsecsock_secure_socket_handshake_async (server, G_PRIORITY_DEFAULT, NULL, handshake_done, &server_wait);
  gsecsock_secure_socket_handshake_async (client, G_PRIORITY_DEFAULT, NULL, handshake_done, &client_wait);
  wait_until (&client_wait.done);
  wait_until (&server_wait.done);
  g_signal_handlers_disconnect_by_data (client_transport, &to_server);
  g_signal_handlers_disconnect_by_data (server_transport, &to_client);
  g_clear_error (&server_wait.error);
  if (client_wait.error != NULL)
    {
      g_propagate_error (error, client_wait.error);
      return NULL;
    }
  chain = gsecsock_secure_socket_get_peer_certificate_chain (client);
  result = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; chain != NULL && i < g_list_model_get_n_items (chain); i++)
    g_ptr_array_add (result, g_list_model_get_item (chain, i));
  return result;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */

static gboolean
looks_like_uri (const char *text)
{
  const char *p = text;

  if (!g_ascii_isalpha (*p))
    return FALSE;
  while (g_ascii_isalnum (*p) || *p == '+' || *p == '-' || *p == '.')
    p++;
  return *p == ':' && p - text > 1;   /* not "C:" */
}

static GPtrArray *
list_model_to_array (GListModel *model)
{
  GPtrArray *result = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    g_ptr_array_add (result, g_list_model_get_item (model, i));
  return result;
}

/* The certificates of @what, in order; @format says what it was. */
static GPtrArray *
load_certificates (const char                   *what,
                   GSecSockSecureSocketContext  *for_passwords,
                   char                        **format,
                   gboolean                     *is_store,
                   GError                      **error)
{
  g_autoptr(GError) list_error = NULL;
  g_autoptr(GError) p12_error = NULL;
  GList *list;

  *is_store = FALSE;
  if (g_file_test (what, G_FILE_TEST_IS_DIR) || (!g_file_test (what, G_FILE_TEST_EXISTS) && looks_like_uri (what)))
    {
      g_autoptr(GSecSockCertificateStore) store = NULL;

      if (g_file_test (what, G_FILE_TEST_IS_DIR))
        {
          store = gsecsock_certificate_store_new_for_directory (what, error);
          *format = g_strdup (_("certificate store (directory)"));
        }
      else
        {
          store = gsecsock_certificate_store_new_for_uri (what, error);
          *format = g_strdup (_("certificate store (OSSL_STORE URI)"));
        }
      if (store == NULL)
        return NULL;
      *is_store = TRUE;
      {
        g_autoptr(GListModel) certificates = gsecsock_certificate_store_list_certificates (store);

        return list_model_to_array (certificates);
      }
    }

  list = gsecsock_certificate_list_new_from_file (what, &list_error);
  if (list != NULL)
    {
      GPtrArray *result = g_ptr_array_new_with_free_func (g_object_unref);
      g_autofree char *contents = NULL;
      gsize length = 0;

      for (GList *l = list; l != NULL; l = l->next)
        g_ptr_array_add (result, l->data);
      g_list_free (list);
      g_file_get_contents (what, &contents, &length, NULL);
      *format = g_strdup (contents != NULL && g_strstr_len (contents, length, "-----BEGIN") != NULL ? "PEM" : "DER");
      return result;
    }
  if (!g_error_matches (list_error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_CERTIFICATE_FILE))
    {
      g_propagate_error (error, g_steal_pointer (&list_error));
      return NULL;
    }

  /* Not PEM or DER certificates: perhaps PKCS#12. */
  {
    g_autoptr(GSecSockCertificate) identity =
      gsecsock_secure_socket_context_load_identity (for_passwords, what, NULL, &p12_error);
    GPtrArray *result;

    if (identity == NULL)
      {
        if (g_error_matches (p12_error, GSECSOCK_ERROR, GSECSOCK_ERROR_BAD_PASSWORD))
          g_propagate_error (error, g_steal_pointer (&p12_error));
        else
          g_propagate_error (error, g_steal_pointer (&list_error));
        return NULL;
      }
    result = chain_of_identity (identity, error);
    if (result == NULL)
      return NULL;
    /* The leaf with its key, as loaded. */
    if (result->len > 0)
      {
        g_object_unref (g_ptr_array_index (result, 0));
        g_ptr_array_index (result, 0) = g_object_ref (identity);
      }
    else
      g_ptr_array_add (result, g_object_ref (identity));
    *format = g_strdup ("PKCS#12");
    return result;
  }
}

/* ------------------------------------------------------------------------ */
/* Offline verification: a stand-in server                                  */

typedef struct {
  GSecSockMemoryTransport *transport;
  GPtrArray               *chain;        /* GSecSockCertificate, leaf first */
  GByteArray              *received;
  gboolean                 answered;
  GError                  *error;
} StandIn;

static void
put_u24 (GByteArray *out,
         gsize       value)
{
  guint8 bytes[3] = { (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff };

  g_byte_array_append (out, bytes, 3);
}

/* The first TLS 1.2 cipher suite the client offers, from its ClientHello
 * handshake message (without the 4-byte header). */
static gboolean
pick_cipher_suite (const guint8 *hello,
                   gsize         length,
                   guint8        suite[2])
{
  gsize offset = 2 + 32;   /* legacy_version, random */
  gsize suites_length;

  if (length < offset + 1)
    return FALSE;
  offset += 1 + hello[offset];   /* legacy_session_id */
  if (length < offset + 2)
    return FALSE;
  suites_length = (hello[offset] << 8) | hello[offset + 1];
  offset += 2;
  if (length < offset + suites_length)
    return FALSE;
  for (gsize i = 0; i + 1 < suites_length; i += 2)
    {
      const guint8 *s = hello + offset + i;

      /* Not TLS 1.3's, not the renegotiation SCSV, not the fallback SCSV. */
      if (s[0] == 0x13 || (s[0] == 0x00 && s[1] == 0xff) || (s[0] == 0x56 && s[1] == 0x00))
        continue;
      suite[0] = s[0];
      suite[1] = s[1];
      return TRUE;
    }
  return FALSE;
}

/* When the whole ClientHello has arrived: its body; NULL before. */
static GBytes *
complete_client_hello (GByteArray *received)
{
  GByteArray *handshake = g_byte_array_new ();
  gsize offset = 0;

  while (received->len >= offset + 5)
    {
      gsize record_length = (received->data[offset + 3] << 8) | received->data[offset + 4];

      if (received->data[offset] != 0x16 || received->len < offset + 5 + record_length)
        break;
      g_byte_array_append (handshake, received->data + offset + 5, record_length);
      offset += 5 + record_length;
      if (handshake->len >= 4)
        {
          gsize message_length = (handshake->data[1] << 16) | (handshake->data[2] << 8) | handshake->data[3];

          if (handshake->data[0] == 0x01 && handshake->len >= 4 + message_length)
            {
              GBytes *body = g_bytes_new (handshake->data + 4, message_length);

              g_byte_array_unref (handshake);
              return body;
            }
        }
    }
  g_byte_array_unref (handshake);
  return NULL;
}

static GByteArray *
server_flight (StandIn      *stand_in,
               const guint8  suite[2])
{
  GByteArray *messages = g_byte_array_new ();
  GByteArray *records = g_byte_array_new ();
  GByteArray *certificates = g_byte_array_new ();
  guint8 random[32];
  static const guint8 extensions[] = {
    0x00, 0x05,                     /* extensions length */
    0xff, 0x01, 0x00, 0x01, 0x00,   /* renegotiation_info, empty: a secure server */
  };

  for (gsize i = 0; i < sizeof random; i++)
    random[i] = (guint8) g_random_int_range (0, 256);

  /* ServerHello: TLS 1.2, no session id, the suite, no compression. */
  {
    GByteArray *body = g_byte_array_new ();
    static const guint8 version[] = { 0x03, 0x03 };
    static const guint8 no_session_id = 0, no_compression = 0;

    g_byte_array_append (body, version, 2);
    g_byte_array_append (body, random, sizeof random);
    g_byte_array_append (body, &no_session_id, 1);
    g_byte_array_append (body, suite, 2);
    g_byte_array_append (body, &no_compression, 1);
    g_byte_array_append (body, extensions, sizeof extensions);
    g_byte_array_append (messages, (const guint8 *) "\x02", 1);
    put_u24 (messages, body->len);
    g_byte_array_append (messages, body->data, body->len);
    g_byte_array_unref (body);
  }

  /* Certificate: the chain, leaf first. */
  for (guint i = 0; i < stand_in->chain->len; i++)
    {
      g_autoptr(GBytes) der = gsecsock_certificate_get_der (g_ptr_array_index (stand_in->chain, i));
      gsize length;
      const guint8 *data = g_bytes_get_data (der, &length);

      put_u24 (certificates, length);
      g_byte_array_append (certificates, data, length);
    }
  g_byte_array_append (messages, (const guint8 *) "\x0b", 1);
  put_u24 (messages, certificates->len + 3);
  put_u24 (messages, certificates->len);
  g_byte_array_append (messages, certificates->data, certificates->len);
  g_byte_array_unref (certificates);

  /* In handshake records of at most 16 KiB. */
  for (gsize offset = 0; offset < messages->len; offset += 16384)
    {
      gsize length = MIN (16384, messages->len - offset);
      guint8 header[5] = { 0x16, 0x03, 0x03, (length >> 8) & 0xff, length & 0xff };

      g_byte_array_append (records, header, 5);
      g_byte_array_append (records, messages->data + offset, length);
    }
  g_byte_array_unref (messages);
  return records;
}

static void
stand_in_outgoing (GSecSockMemoryTransport *transport,
                   gpointer                 user_data)
{
  StandIn *stand_in = user_data;
  g_autoptr(GBytes) bytes = gsecsock_memory_transport_take_outgoing (transport);
  g_autoptr(GBytes) hello = NULL;
  gsize length;
  const guint8 *data = g_bytes_get_data (bytes, &length);
  guint8 suite[2];
  GByteArray *flight;

  if (stand_in->answered || length == 0)
    return;
  g_byte_array_append (stand_in->received, data, length);
  hello = complete_client_hello (stand_in->received);
  if (hello == NULL)
    return;
  stand_in->answered = TRUE;
  if (!pick_cipher_suite (g_bytes_get_data (hello, NULL), g_bytes_get_size (hello), suite))
    {
      g_set_error_literal (&stand_in->error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           _("The check could not run: the client offered no TLS 1.2 cipher suite"));
      gsecsock_memory_transport_receive_eof (transport);
      return;
    }
  flight = server_flight (stand_in, suite);
  gsecsock_memory_transport_receive (transport, flight->data, flight->len);
  gsecsock_memory_transport_receive_eof (transport);
  g_byte_array_unref (flight);
}

typedef struct {
  GPtrArray *entries;   /* ToolCertEntry, by emission */
} Recorder;

static gboolean
record_verification (GSecSockSecureSocket     *sock,
                     GSecSockCertificate      *certificate,
                     guint                     depth,
                     GSecSockCertificateFlags  errors,
                     gpointer                  user_data)
{
  Recorder *recorder = user_data;
  ToolCertEntry *entry = tool_cert_entry_new (certificate);

  entry->depth = (int) depth;
  entry->verified = TRUE;
  entry->errors = errors;
  entry->undecided = TRUE;
  g_ptr_array_add (recorder->entries, entry);
  return TRUE;   /* go on, to see every certificate */
}

static gint
compare_depth (gconstpointer a,
               gconstpointer b)
{
  const ToolCertEntry *x = *(ToolCertEntry * const *) a;
  const ToolCertEntry *y = *(ToolCertEntry * const *) b;

  return x->depth - y->depth;
}

/* Verifies @chain (leaf first) as a TLS server's, for @host (or no name).
 * Returns the verified chain as entries, leaf first. */
static GPtrArray *
verify_chain (GSecSockSecureSocketContext  *ctx,
              GPtrArray                    *chain,
              const char                   *host,
              GError                      **error)
{
  g_autoptr(GSecSockMemoryTransport) transport = gsecsock_memory_transport_new ();
  g_autoptr(GSecSockSecureSocket) sock = NULL;
  StandIn stand_in = { transport, chain, g_byte_array_new (), FALSE, NULL };
  Recorder recorder = { g_ptr_array_new_with_free_func ((GDestroyNotify) tool_cert_entry_free) };
  HandshakeWait wait = { FALSE, NULL };

  /* Without a name to check, the library insists on verify-peer off; the
   * chain is verified all the same, and every problem reported. */
  gsecsock_secure_socket_context_set_verify_peer (ctx, host != NULL);
  sock = gsecsock_secure_socket_new (ctx, G_IO_STREAM (transport), host, error);
  if (sock == NULL)
    goto failed;
  g_signal_connect (sock, "verify-certificate", G_CALLBACK (record_verification), &recorder);
  g_signal_connect (transport, "outgoing-ready", G_CALLBACK (stand_in_outgoing), &stand_in);
  gsecsock_secure_socket_set_handshake_timeout (sock, 10);
  gsecsock_secure_socket_handshake_async (sock, G_PRIORITY_DEFAULT, NULL, handshake_done, &wait);
  wait_until (&wait.done);
  g_signal_handlers_disconnect_by_data (transport, &stand_in);

  if (stand_in.error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&stand_in.error));
      goto failed;
    }
  if (recorder.entries->len == 0)
    {
      /* The handshake cannot have succeeded; say why it stopped. */
      if (wait.error != NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     _("The check could not run: the handshake stopped before verification: %s"),
                     wait.error->message);
      else
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                             _("The check could not run: nothing was verified"));
      goto failed;
    }
  g_clear_error (&wait.error);
  g_byte_array_unref (stand_in.received);
  g_ptr_array_sort (recorder.entries, compare_depth);
  for (guint i = 0; i < recorder.entries->len; i++)
    {
      ToolCertEntry *entry = g_ptr_array_index (recorder.entries, i);

      for (guint j = 0; j < chain->len; j++)
        if (gsecsock_certificate_equal (entry->certificate, g_ptr_array_index (chain, j)))
          entry->from_peer = TRUE;
      if (!entry->from_peer)
        entry->note = g_strdup (_("from the trust store (not in the inspected file)"));
    }
  return recorder.entries;

failed:
  g_clear_error (&wait.error);
  g_clear_error (&stand_in.error);
  g_byte_array_unref (stand_in.received);
  g_ptr_array_unref (recorder.entries);
  return NULL;
}

/* ------------------------------------------------------------------------ */

typedef struct {
  GPtrArray *chain;      /* GSecSockCertificate: the chain checked */
  GPtrArray *verified;   /* ToolCertEntry, leaf first; NULL if the check could not run */
  GError    *error;
  GSecSockCertificateFlags errors;
} Check;

static void
check_free (Check *check)
{
  g_ptr_array_unref (check->chain);
  if (check->verified != NULL)
    g_ptr_array_unref (check->verified);
  g_clear_error (&check->error);
  g_free (check);
}

static char *
check_verdict (Check      *check,
               const char *host,
               gboolean   *good)
{
  *good = FALSE;
  if (check->verified == NULL)
    return g_strdup_printf (_("FAILED: %s"), check->error->message);
  if (check->errors == 0)
    {
      *good = TRUE;
      if (host != NULL)
        return g_strdup_printf (_("OK: the chain is trusted, and valid for “%s”"), host);
      return g_strdup (_("OK: the chain is trusted (no host name checked: see --host)"));
    }
  {
    g_autofree char *problems = tool_describe_errors (check->errors, host);

    return g_strdup_printf (_("FAILED: %s"), problems);
  }
}

int
tool_inspect (int    argc,
              char **argv)
{
  InspectOptions o = { 0 };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) certificates = NULL;
  g_autoptr(GPtrArray) checks = NULL;
  g_autoptr(GSecSockSecureSocketContext) ctx = NULL;
  g_autofree char *format = NULL;
  ToolOutput out;
  gboolean is_store = FALSE;
  gboolean verify;
  int exit_code = TOOL_EXIT_OK;
  const GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &o.host,
      N_("Check that the chain is valid for this host name or IP address (implies checking)"), N_("NAME") },
    { "verify", 0, 0, G_OPTION_ARG_NONE, &o.verify,
      N_("Check the chain against the trusted authorities (implied by --host, --ca, --crl, --no-system-trust)"), NULL },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &o.tls.password_file,
      N_("Read the password of a PKCS#12 file from the first line of FILE instead of asking"), N_("FILE") },
    G_OPTION_ENTRY_NULL
  };

  tool_context_options_init (&o.tls);
  context = tool_option_context_new ("inspect",
      _("FILE|DIR|URI — show certificates, check a chain"),
      _("Shows the certificates of FILE — PEM (one or many: a chain, a bundle), DER or\n"
        "PKCS#12 (asking for its password) — or of a certificate store: a directory, or\n"
        "an OSSL_STORE URI such as file:///etc/ssl/private or pkcs11:…\n"
        "\n"
        "With --host, --ca, --crl or --verify, the certificates are also checked offline\n"
        "as a TLS server's chain (the first certificate being the server's), against the\n"
        "system's authorities and --ca, exactly as “gsecsock connect” verifies a server, and\n"
        "shown with the same verification of each certificate. For a store, each of its\n"
        "certificates that is not an authority is checked, with the others as the chain."),
      _("Examples:\n"
        "  gsecsock inspect /etc/ssl/certs/ca-certificates.crt\n"
        "  gsecsock inspect --ca ca.pem --host www.example.org fullchain.pem\n"
        "  gsecsock inspect --json server.p12"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_group (context, tool_context_option_group (&o.tls, TOOL_OPTIONS_TRUST | TOOL_OPTIONS_OUTPUT,
      "check", _("Checking and output:"), _("Show the trust and output options")));

  if (!tool_option_context_parse (context, "inspect", &argc, &argv))
    {
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }
  if (argc != 2)
    {
      tool_error ("inspect", argc < 2 ? _("What to inspect? Give a FILE, a DIR or a URI.")
                                      : _("Only one FILE, DIR or URI, please."));
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }
  if (!tool_output_init (&out, stdout, o.tls.color, &error))
    {
      tool_error ("inspect", "%s", error->message);
      exit_code = TOOL_EXIT_USAGE;
      goto out;
    }
  verify = o.verify || o.host != NULL || o.tls.ca_files != NULL || o.tls.crl_files != NULL ||
           o.tls.no_system_trust || o.tls.check_revocation != NULL;

  ctx = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  tool_context_handle_passwords (ctx, o.tls.password_file);
  exit_code = tool_context_apply (ctx, &o.tls, TOOL_OPTIONS_TRUST, &error);
  if (exit_code != TOOL_EXIT_OK)
    {
      tool_error ("inspect", "%s", error->message);
      goto out;
    }

  certificates = load_certificates (argv[1], ctx, &format, &is_store, &error);
  if (certificates == NULL)
    {
      tool_error ("inspect", "%s", error->message);
      exit_code = tool_exit_code_for_file_error (error);
      goto out;
    }

  checks = g_ptr_array_new_with_free_func ((GDestroyNotify) check_free);
  if (verify && certificates->len > 0)
    {
      /* What to check: the file as one chain; or each leaf of a store. */
      for (guint i = 0; i < certificates->len; i++)
        {
          GSecSockCertificate *leaf = g_ptr_array_index (certificates, i);
          Check *check;

          if (is_store ? gsecsock_certificate_get_is_ca (leaf) : i > 0)
            continue;
          check = g_new0 (Check, 1);
          check->chain = g_ptr_array_new_with_free_func (g_object_unref);
          g_ptr_array_add (check->chain, g_object_ref (leaf));
          for (guint j = 0; j < certificates->len; j++)
            if (j != i && (!is_store || gsecsock_certificate_get_is_ca (g_ptr_array_index (certificates, j))))
              g_ptr_array_add (check->chain, g_object_ref (g_ptr_array_index (certificates, j)));
          check->verified = verify_chain (ctx, check->chain, o.host, &check->error);
          for (guint j = 0; check->verified != NULL && j < check->verified->len; j++)
            check->errors |= ((ToolCertEntry *) g_ptr_array_index (check->verified, j))->errors;
          if (check->verified == NULL || check->errors != 0)
            exit_code = TOOL_EXIT_VERIFICATION;
          g_ptr_array_add (checks, check);
        }
    }

  if (o.tls.json)
    {
      ToolJson json;
      g_autofree char *text = NULL;

      tool_json_init (&json, TRUE);
      tool_json_begin_object (&json, NULL);
      tool_json_string (&json, "tool", "gsecsock inspect");
      tool_json_string (&json, "version", GSECSOCK_TOOL_VERSION);
      tool_json_string (&json, "source", argv[1]);
      tool_json_string (&json, "format", format);
      tool_json_begin_array (&json, "certificates");
      for (guint i = 0; i < certificates->len; i++)
        {
          ToolCertEntry *entry = tool_cert_entry_new (g_ptr_array_index (certificates, i));

          entry->from_peer = TRUE;
          tool_json_certificate (&json, NULL, entry);
          tool_cert_entry_free (entry);
        }
      tool_json_end_array (&json);
      if (verify)
        {
          tool_json_begin_array (&json, "checks");
          for (guint i = 0; i < checks->len; i++)
            {
              Check *check = g_ptr_array_index (checks, i);
              g_auto(GStrv) nicks = tool_error_nicks (check->errors);
              g_autofree char *verdict = NULL;
              gboolean good;

              tool_json_begin_object (&json, NULL);
              tool_json_string (&json, "host", o.host);
              tool_json_bool (&json, "trusted", check->verified != NULL && check->errors == 0);
              tool_json_error (&json, "error", check->error);
              tool_json_strv (&json, "errors", (const char * const *) nicks);
              tool_json_string (&json, "status", check->verified
                                ? gsecsock_certificate_status_to_string (gsecsock_certificate_status_from_flags (check->errors))
                                : NULL);
              tool_json_begin_array (&json, "chain");
              for (guint j = 0; check->verified != NULL && j < check->verified->len; j++)
                tool_json_certificate (&json, NULL, g_ptr_array_index (check->verified, j));
              tool_json_end_array (&json);
              verdict = check_verdict (check, o.host, &good);
              tool_json_string (&json, "verdict", verdict);
              tool_json_end_object (&json);
            }
          tool_json_end_array (&json);
        }
      else
        tool_json_null (&json, "checks");
      tool_json_int (&json, "exit_code", exit_code);
      tool_json_end_object (&json);
      text = tool_json_finish (&json);
      fputs (text, stdout);
      goto out;
    }

  tool_out (&out, TOOL_COLOR_BOLD, "%s", argv[1]);
  tool_out (&out, TOOL_COLOR_NONE,
            g_dngettext (GETTEXT_PACKAGE, ": %s, %u certificate\n", ": %s, %u certificates\n", certificates->len),
            format, certificates->len);
  if (!verify)
    {
      for (guint i = 0; i < certificates->len; i++)
        {
          ToolCertEntry *entry = tool_cert_entry_new (g_ptr_array_index (certificates, i));
          g_autofree char *label = g_strdup_printf ("#%u", i + 1);

          tool_print_certificate (&out, entry, label, NULL, FALSE);
          tool_cert_entry_free (entry);
        }
      goto out;
    }

  for (guint i = 0; i < checks->len; i++)
    {
      Check *check = g_ptr_array_index (checks, i);
      g_autofree char *verdict = NULL;
      gboolean good;

      if (o.host != NULL)
        tool_out (&out, TOOL_COLOR_BOLD, _("Chain as verified for “%s” (the server's certificate first):\n"), o.host);
      else
        tool_out (&out, TOOL_COLOR_BOLD, "%s\n", _("Chain as verified (the server's certificate first):"));
      for (guint j = 0; check->verified != NULL && j < check->verified->len; j++)
        {
          ToolCertEntry *entry = g_ptr_array_index (check->verified, j);
          g_autofree char *label = g_strdup_printf ("[%d]", entry->depth);

          tool_print_certificate (&out, entry, label, o.host, TRUE);
        }
      /* What the file has that the chain did not use. */
      if (!is_store)
        for (guint j = 0; j < check->chain->len; j++)
          {
            GSecSockCertificate *certificate = g_ptr_array_index (check->chain, j);
            gboolean used = FALSE;
            ToolCertEntry *entry;

            for (guint k = 0; check->verified != NULL && k < check->verified->len; k++)
              used |= gsecsock_certificate_equal (certificate,
                                                  ((ToolCertEntry *) g_ptr_array_index (check->verified, k))->certificate);
            if (used)
              continue;
            entry = tool_cert_entry_new (certificate);
            entry->undecided = TRUE;
            entry->note = g_strdup (_("in the file, but not part of the verified chain"));
            tool_print_certificate (&out, entry, "[-]", o.host, TRUE);
            tool_cert_entry_free (entry);
          }
      verdict = check_verdict (check, o.host, &good);
      tool_out (&out, TOOL_COLOR_BOLD, "%s", _("Verdict      "));
      tool_out (&out, good ? TOOL_COLOR_GOOD : TOOL_COLOR_BAD, "%s\n", verdict);
    }

out:
  fflush (stdout);
  tool_context_options_clear (&o.tls);
  g_free (o.host);
  return exit_code;
}
