/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * client HOST PORT CA_FILE [SHA256_PIN]
 *
 * Connects to HOST:PORT with TLS, trusting only the CA certificates in
 * CA_FILE, and decides in a verify-certificate handler: a certificate is
 * accepted when it has no problem, or when it is the server's own
 * certificate and its SHA-256 fingerprint is SHA256_PIN (for a self-signed
 * server). Prints the chain, sends "hello", prints the answer.
 */

#include <locale.h>

#include <gsecsock/gsecsock.h>

/* "unknown-ca, self-signed", or "ok". */
static char *
describe_errors (GSecSockCertificateFlags errors)
{
  GFlagsClass *flags_class = g_type_class_ref (GSECSOCK_TYPE_CERTIFICATE_FLAGS);
  GString *text = g_string_new (NULL);
  GFlagsValue *value;

  while (errors != 0 && (value = g_flags_get_first_value (flags_class, errors)) != NULL)
    {
      g_string_append_printf (text, "%s%s", text->len > 0 ? ", " : "", value->value_nick);
      errors &= ~value->value;
    }
  g_type_class_unref (flags_class);
  if (text->len == 0)
    g_string_append (text, "ok");
  return g_string_free (text, FALSE);
}

/* Emitted for each certificate of the server's chain, root end first. */
static gboolean
on_verify_certificate (GSecSockSecureSocketContext *context,
                       GSecSockSecureSocket        *socket,
                       GSecSockCertificate         *certificate,
                       guint                        depth,
                       GSecSockCertificateFlags     errors,
                       gpointer                     user_data)
{
  const char *pin = user_data;
  g_autofree char *subject = gsecsock_certificate_get_subject (certificate);
  g_autofree char *problems = describe_errors (errors);

  g_print ("verify depth %u: %s: %s\n", depth, subject, problems);
  if (errors == 0)
    return TRUE;
  return depth == 0 && pin != NULL &&
         g_ascii_strcasecmp (pin, gsecsock_certificate_get_fingerprint_sha256 (certificate)) == 0;
}

static void
print_chain (GSecSockSecureSocket *socket)
{
  GListModel *chain = gsecsock_secure_socket_get_peer_certificate_chain (socket);

  for (guint i = 0; i < g_list_model_get_n_items (chain); i++)
    {
      g_autoptr(GSecSockCertificate) certificate = g_list_model_get_item (chain, i);
      g_autofree char *subject = gsecsock_certificate_get_subject (certificate);
      g_autofree char *issuer = gsecsock_certificate_get_issuer (certificate);
      g_autoptr(GDateTime) not_after = gsecsock_certificate_get_not_valid_after (certificate);
      g_autofree char *until = g_date_time_format (not_after, "%F");

      g_print ("chain[%u]: %s, issued by %s, valid until %s\n", i, subject, issuer, until);
    }
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GSecSockSecureSocketContext) context = NULL;
  g_autoptr(GSecSockSecureSocket) socket = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *answer = NULL;
  guint64 port;

  setlocale (LC_ALL, "");
  if (argc < 4 || argc > 5)
    {
      g_printerr ("usage: %s HOST PORT CA_FILE [SHA256_PIN]\n", argv[0]);
      return 2;
    }
  if (!g_ascii_string_to_unsigned (argv[2], 10, 1, G_MAXUINT16, &port, &error))
    goto failed;

  context = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);
  gsecsock_secure_socket_context_set_use_system_trust (context, FALSE);
  if (!gsecsock_secure_socket_context_add_trust_anchor_file (context, argv[3], &error))
    goto failed;
  /* On the context, the handler serves every socket made from it. */
  g_signal_connect (context, "verify-certificate", G_CALLBACK (on_verify_certificate),
                    argc == 5 ? argv[4] : NULL);

  /* Resolves HOST, connects, and handshakes: the handler runs in here. */
  socket = gsecsock_secure_socket_connect (context, argv[1], (guint16) port, NULL, &error);
  if (socket == NULL)
    goto failed;
  print_chain (socket);

  if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (socket)),
                                  "hello\n", 6, NULL, NULL, &error))
    goto failed;
  lines = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (socket)));
  answer = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  if (answer == NULL && error != NULL)
    goto failed;
  g_print ("server said: %s\n", answer != NULL ? answer : "(nothing)");

  /* Sends a close_notify, so the server knows nothing was cut off. */
  if (!g_io_stream_close (G_IO_STREAM (socket), NULL, &error))
    goto failed;
  return 0;

failed:
  g_printerr ("client: %s\n", error->message);
  return 1;
}
