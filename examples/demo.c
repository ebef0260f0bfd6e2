/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * gsecsock-demo: a TLS echo server and a client talking to it, in one
 * process, on one thread, driven by one GMainLoop.
 *
 * The sections below follow the order in which things happen; within a
 * section, as C wants it, callbacks come before the code that starts them.
 *
 *  1. A throw-away PKI (root CA → intermediate CA → a "localhost" leaf that
 *     is also valid for 127.0.0.1) is generated into a temporary directory by
 *     the project's tests/make-test-pki.sh, using the openssl command line.
 *     The files are deleted as soon as both sides have loaded them.
 *  2. A server-mode GSecSockSecureSocketContext is loaded with the leaf's
 *     chain and private key. A GSocketListener accepts one TCP connection on
 *     127.0.0.1 (the kernel picks the port); the connection is wrapped in a
 *     GSecSockSecureSocket, which performs the server side of the handshake
 *     and then echoes whatever it reads.
 *  3. A client-mode context that trusts nothing but the test root CA
 *     connects with gsecsock_secure_socket_connect_async(). The server is
 *     verified during the handshake (chain, validity, and that its
 *     certificate is valid for 127.0.0.1); what was negotiated is printed.
 *  4. The client sends a line, reads the echo back, and both sides close
 *     with g_io_stream_close_async(), which sends a TLS close_notify so the
 *     other side can tell a complete stream from a truncated one.
 *
 * Everything is asynchronous: no call here blocks the main loop, which is
 * how a GNOME application would use the library. Any error is printed to
 * stderr and the program exits with status 1; success exits with 0. The
 * build runs this program as a test (meson test --suite examples), so it
 * keeps working as the library evolves.
 */

#include <errno.h>
#include <locale.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gsecsock/gsecsock.h>

/* GSECSOCK_DEMO_PKI_SCRIPT and GSECSOCK_DEMO_OPENSSL, from examples/meson.build */
#include "demo-config.h"

/* The application protocol both sides offer through ALPN. */
#define DEMO_ALPN "gsecsock-demo/1"

#define DEMO_MESSAGE "Hello, TLS! This line went through gsecsock and came back.\n"

/* A safety net, so that a bug can never turn the demo (or the test that
 * runs it) into a hang. */
#define DEMO_TIMEOUT_SECONDS 30

typedef struct {
  GMainLoop    *loop;
  /* Cancelled on the first error, so that nothing else keeps running. */
  GCancellable *cancellable;
  /* The first error; later ones are usually consequences of it. */
  GError       *error;
  guint         timeout_id;

  const char   *pki_script;
  const char   *openssl;
  char         *pki_dir;

  /* Server side */
  GSecSockSecureSocketContext *server_context;
  GSocketListener             *listener;
  guint16                      port;
  GSecSockSecureSocket        *server_socket;
  guint8                       server_buffer[4096];
  gboolean                     server_done;

  /* Client side */
  GSecSockSecureSocketContext *client_context;
  GSecSockSecureSocket        *client_socket;
  guint8                       client_buffer[4096];
  GString                     *echo;
  gboolean                     client_done;
} Demo;

static const char *protocol_version_to_string (GSecSockProtocolVersion version);
static void server_read (Demo *demo);
static void client_read (Demo *demo);
static void start_server (Demo *demo);
static void start_client (Demo *demo);

/* ------------------------------------------------------------------------ */
/* Bookkeeping                                                              */
/* ------------------------------------------------------------------------ */

/* Records @error (taking ownership), stops everything else and leaves the
 * main loop. Only the first error is kept: once something failed, the
 * cancellation makes the other pending operations fail too, and those
 * follow-up errors would only hide the real cause. */
static void
demo_fail (Demo   *demo,
           GError *error)
{
  if (demo->error != NULL)
    {
      g_error_free (error);
      return;
    }

  demo->error = error;
  g_cancellable_cancel (demo->cancellable);
  g_main_loop_quit (demo->loop);
}

/* Both sides report here when they have closed their socket. */
static void
demo_check_done (Demo *demo)
{
  if (demo->server_done && demo->client_done)
    g_main_loop_quit (demo->loop);
}

static gboolean
demo_timeout_cb (gpointer user_data)
{
  Demo *demo = user_data;

  demo->timeout_id = 0;
  demo_fail (demo, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                "The demo did not finish within %d seconds",
                                DEMO_TIMEOUT_SECONDS));
  return G_SOURCE_REMOVE;
}

/* Removes @path and, if it is a directory, everything in it. */
static gboolean
remove_recursively (const char  *path,
                    GError     **error)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) &&
      !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, error);
      const char *name;

      if (dir == NULL)
        return FALSE;

      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (!remove_recursively (child, error))
            return FALSE;
        }
    }

  if (g_remove (path) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Could not remove %s: %s", path, g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

static char *
pki_path (Demo       *demo,
          const char *name)
{
  return g_build_filename (demo->pki_dir, name, NULL);
}

/* ------------------------------------------------------------------------ */
/* Step 1: a throw-away PKI                                                 */
/* ------------------------------------------------------------------------ */

static void
pki_generated_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Demo *demo = user_data;
  GSubprocess *process = G_SUBPROCESS (source);
  g_autofree char *output = NULL;
  GError *error = NULL;

  if (!g_subprocess_communicate_utf8_finish (process, result, &output, NULL, &error))
    {
      demo_fail (demo, error);
      return;
    }

  if (!g_subprocess_get_successful (process))
    {
      g_autofree char *how = g_subprocess_get_if_exited (process)
        ? g_strdup_printf ("exited with status %d", g_subprocess_get_exit_status (process))
        : g_strdup_printf ("was killed by signal %d", g_subprocess_get_term_sig (process));

      demo_fail (demo, g_error_new (G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                                    "The test PKI could not be generated: %s %s; its output was:\n%s",
                                    demo->pki_script, how,
                                    output != NULL ? output : ""));
      return;
    }

  g_print ("Generated a test PKI in %s\n", demo->pki_dir);

  start_server (demo);
  if (demo->error == NULL)
    start_client (demo);

  /* Both contexts have read what they need: the certificates and keys are
   * in memory now, so the files (private keys included) can go at once
   * rather than when the demo ends. */
  if (demo->error == NULL)
    {
      if (!remove_recursively (demo->pki_dir, &error))
        {
          demo_fail (demo, error);
          return;
        }
      g_clear_pointer (&demo->pki_dir, g_free);
    }
}

static void
generate_pki (Demo *demo)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *stamp = NULL;
  GError *error = NULL;

  demo->pki_dir = g_dir_make_tmp ("gsecsock-demo-XXXXXX", &error);
  if (demo->pki_dir == NULL)
    {
      demo_fail (demo, error);
      return;
    }

  /* The script's output is collected and only shown if it fails. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_setenv (launcher, "OPENSSL", demo->openssl, TRUE);

  stamp = pki_path (demo, "pki.stamp");
  process = g_subprocess_launcher_spawn (launcher, &error,
                                         demo->pki_script, demo->pki_dir, stamp,
                                         NULL);
  if (process == NULL)
    {
      g_prefix_error (&error, "Could not run the PKI generator: ");
      demo_fail (demo, error);
      return;
    }

  g_subprocess_communicate_utf8_async (process, NULL, demo->cancellable,
                                       pki_generated_cb, demo);
}

/* ------------------------------------------------------------------------ */
/* Step 2: the echo server                                                  */
/* ------------------------------------------------------------------------ */

static void
server_closed_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Demo *demo = user_data;
  GError *error = NULL;

  if (!g_io_stream_close_finish (G_IO_STREAM (source), result, &error))
    {
      g_prefix_error (&error, "Server: closing failed: ");
      demo_fail (demo, error);
      return;
    }

  g_print ("Server: connection closed\n");
  demo->server_done = TRUE;
  demo_check_done (demo);
}

static void
server_wrote_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Demo *demo = user_data;
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      g_prefix_error (&error, "Server: writing failed: ");
      demo_fail (demo, error);
      return;
    }

  /* Only read again once the echo has been written: server_buffer is
   * reused, and the echo is sent in order. */
  server_read (demo);
}

static void
server_read_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Demo *demo = user_data;
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (demo->server_socket));
  GError *error = NULL;
  gssize n_read;

  n_read = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (n_read < 0)
    {
      g_prefix_error (&error, "Server: reading failed: ");
      demo_fail (demo, error);
      return;
    }

  if (n_read == 0)
    {
      /* End of stream. gsecsock only reports it after the client's
       * close_notify: a connection that was merely cut would have failed
       * the read with GSECSOCK_ERROR_EOF instead. Answer with our own
       * close_notify. */
      g_print ("Server: client closed the connection cleanly\n");
      g_io_stream_close_async (G_IO_STREAM (demo->server_socket), G_PRIORITY_DEFAULT,
                               demo->cancellable, server_closed_cb, demo);
      return;
    }

  g_print ("Server: echoing %" G_GSSIZE_FORMAT " bytes\n", n_read);
  g_output_stream_write_all_async (output, demo->server_buffer, (gsize) n_read,
                                   G_PRIORITY_DEFAULT, demo->cancellable,
                                   server_wrote_cb, demo);
}

static void
server_read (Demo *demo)
{
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (demo->server_socket));

  g_input_stream_read_async (input, demo->server_buffer, sizeof demo->server_buffer,
                             G_PRIORITY_DEFAULT, demo->cancellable,
                             server_read_cb, demo);
}

static void
server_handshake_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Demo *demo = user_data;
  GSecSockSecureSocket *socket = GSECSOCK_SECURE_SOCKET (source);
  const char *alpn;
  GError *error = NULL;

  if (!gsecsock_secure_socket_handshake_finish (socket, result, &error))
    {
      g_prefix_error (&error, "Server: handshake failed: ");
      demo_fail (demo, error);
      return;
    }

  alpn = gsecsock_secure_socket_get_alpn_protocol (socket);
  g_print ("Server: handshake complete (%s, ALPN: %s)\n",
           protocol_version_to_string (gsecsock_secure_socket_get_protocol_version (socket)),
           alpn != NULL ? alpn : "none");
  server_read (demo);
}

static void
server_accepted_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Demo *demo = user_data;
  g_autoptr(GSocketConnection) connection = NULL;
  GError *error = NULL;

  connection = g_socket_listener_accept_finish (G_SOCKET_LISTENER (source), result, NULL, &error);
  if (connection == NULL)
    {
      g_prefix_error (&error, "Server: accepting failed: ");
      demo_fail (demo, error);
      return;
    }

  /* This demo serves a single client: stop listening. */
  g_socket_listener_close (demo->listener);

  /* Wrap the TCP connection. A server socket has no peer name (that is
   * for clients, to check the server's identity), hence NULL. The secure
   * socket keeps its own reference on the connection, and closing it
   * closes the connection too. */
  demo->server_socket = gsecsock_secure_socket_new (demo->server_context,
                                                    G_IO_STREAM (connection),
                                                    NULL, &error);
  if (demo->server_socket == NULL)
    {
      demo_fail (demo, error);
      return;
    }

  /* The handshake would also happen implicitly on the first read; doing it
   * explicitly separates handshake errors from I/O errors. */
  gsecsock_secure_socket_handshake_async (demo->server_socket, G_PRIORITY_DEFAULT,
                                          demo->cancellable, server_handshake_cb, demo);
}

static void
start_server (Demo *demo)
{
  static const char * const alpn[] = { DEMO_ALPN, NULL };
  g_autofree char *chain = pki_path (demo, "server-chain.pem");
  g_autofree char *key = pki_path (demo, "server.key");
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) effective_address = NULL;
  GError *error = NULL;

  /* A context holds the configuration shared by many sockets: identity,
   * trust, protocol versions, ALPN. Set it up before making sockets. */
  demo->server_context = gsecsock_secure_socket_context_new (GSECSOCK_MODE_SERVER);

  /* The chain file holds the leaf followed by the intermediate CA, so that
   * clients that only know the root can still build the chain. */
  if (!gsecsock_secure_socket_context_load_certificate_file (demo->server_context,
                                                             chain, key, &error))
    {
      demo_fail (demo, error);
      return;
    }
  gsecsock_secure_socket_context_set_alpn_protocols (demo->server_context, alpn);

  /* Loopback only, port 0: the kernel picks a free port, so the demo never
   * collides with anything else running on the machine. */
  demo->listener = g_socket_listener_new ();
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, 0);
  if (!g_socket_listener_add_address (demo->listener, address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                      NULL, &effective_address, &error))
    {
      g_prefix_error (&error, "Server: could not listen on 127.0.0.1: ");
      demo_fail (demo, error);
      return;
    }
  demo->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective_address));
  g_print ("Server: listening on 127.0.0.1:%u\n", demo->port);

  g_socket_listener_accept_async (demo->listener, demo->cancellable,
                                  server_accepted_cb, demo);
}

/* ------------------------------------------------------------------------ */
/* Step 3: the client connects and inspects the session                     */
/* ------------------------------------------------------------------------ */

static const char *
protocol_version_to_string (GSecSockProtocolVersion version)
{
  switch (version)
    {
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_0:
      return "TLS 1.0";
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_1:
      return "TLS 1.1";
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_2:
      return "TLS 1.2";
    case GSECSOCK_PROTOCOL_VERSION_TLS_1_3:
      return "TLS 1.3";
    case GSECSOCK_PROTOCOL_VERSION_UNKNOWN:
    default:
      return "unknown";
    }
}

static char *
format_date (GDateTime *date)
{
  g_autoptr(GDateTime) utc = NULL;

  if (date == NULL)
    return g_strdup ("?");
  utc = g_date_time_to_utc (date);
  return g_date_time_format (utc, "%Y-%m-%d %H:%M:%S UTC");
}

static void
print_certificate (guint                index,
                   GSecSockCertificate *certificate)
{
  g_autofree char *subject = gsecsock_certificate_get_subject (certificate);
  g_autofree char *issuer = gsecsock_certificate_get_issuer (certificate);
  g_autoptr(GDateTime) not_before = gsecsock_certificate_get_not_valid_before (certificate);
  g_autoptr(GDateTime) not_after = gsecsock_certificate_get_not_valid_after (certificate);
  g_autofree char *not_before_str = format_date (not_before);
  g_autofree char *not_after_str = format_date (not_after);

  g_print ("  [%u] subject: %s\n", index, subject);
  g_print ("      issuer:  %s\n", issuer);
  g_print ("      valid:   %s to %s\n", not_before_str, not_after_str);
  g_print ("      SHA-256: %s\n", gsecsock_certificate_get_fingerprint_sha256 (certificate));
}

/* Prints what the handshake established and checks that it is what this
 * demo asked for. Returns FALSE with @error set otherwise. */
static gboolean
print_session (GSecSockSecureSocket  *socket,
               GError               **error)
{
  GListModel *chain = gsecsock_secure_socket_get_peer_certificate_chain (socket);
  GSecSockCertificateFlags errors = gsecsock_secure_socket_get_certificate_errors (socket);
  const char *alpn = gsecsock_secure_socket_get_alpn_protocol (socket);
  guint n_certificates = chain != NULL ? g_list_model_get_n_items (chain) : 0;

  /* The chain as the server sent it: its own certificate first, then the
   * intermediate CA. The root is not sent; the client has it. */
  g_print ("\nPeer certificate chain (%u certificates, leaf first):\n", n_certificates);
  for (guint i = 0; i < n_certificates; i++)
    {
      g_autoptr(GSecSockCertificate) certificate = g_list_model_get_item (chain, i);

      print_certificate (i, certificate);
    }

  g_print ("Protocol:     %s\n",
           protocol_version_to_string (gsecsock_secure_socket_get_protocol_version (socket)));
  g_print ("Cipher:       %s\n", gsecsock_secure_socket_get_cipher_name (socket));
  g_print ("ALPN:         %s\n", alpn != NULL ? alpn : "none");

  /* With verification on (the default) a connection to a server that
   * fails verification never gets this far: the handshake fails with
   * GSECSOCK_ERROR_CERTIFICATE_REJECTED. certificate-errors is what the
   * checks found, so zero means the chain reached a trusted root, every
   * certificate is within its validity period and the leaf is valid for
   * the name we connected to. */
  if (errors != GSECSOCK_CERTIFICATE_NO_FLAGS)
    {
      g_autofree char *flags = g_flags_to_string (GSECSOCK_TYPE_CERTIFICATE_FLAGS, errors);

      g_print ("Verification: FAILED (%s)\n", flags);
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_CERTIFICATE_REJECTED,
                   "The server's certificate has problems (%s)", flags);
      return FALSE;
    }
  g_print ("Verification: verified (chain ends in the trusted test root CA, "
           "certificate valid for %s)\n\n",
           gsecsock_secure_socket_get_peer_name (socket));

  if (n_certificates == 0)
    {
      g_set_error_literal (error, GSECSOCK_ERROR, GSECSOCK_ERROR_HANDSHAKE_FAILED,
                           "The server sent no certificate");
      return FALSE;
    }
  if (g_strcmp0 (alpn, DEMO_ALPN) != 0)
    {
      g_set_error (error, GSECSOCK_ERROR, GSECSOCK_ERROR_ALPN,
                   "Expected ALPN protocol “%s” to be negotiated, got “%s”",
                   DEMO_ALPN, alpn != NULL ? alpn : "none");
      return FALSE;
    }

  return TRUE;
}

static void
client_closed_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Demo *demo = user_data;
  GError *error = NULL;

  if (!g_io_stream_close_finish (G_IO_STREAM (source), result, &error))
    {
      g_prefix_error (&error, "Client: closing failed: ");
      demo_fail (demo, error);
      return;
    }

  g_print ("Client: connection closed\n");
  demo->client_done = TRUE;
  demo_check_done (demo);
}

static void
client_read_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Demo *demo = user_data;
  GError *error = NULL;
  gssize n_read;

  n_read = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (n_read < 0)
    {
      g_prefix_error (&error, "Client: reading failed: ");
      demo_fail (demo, error);
      return;
    }
  if (n_read == 0)
    {
      demo_fail (demo, g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                    "Client: the server closed the connection after "
                                    "echoing only %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes",
                                    demo->echo->len, strlen (DEMO_MESSAGE)));
      return;
    }

  /* TLS, like TCP, is a byte stream: the echo may arrive in pieces. */
  g_string_append_len (demo->echo, (const char *) demo->client_buffer, n_read);
  if (demo->echo->len < strlen (DEMO_MESSAGE))
    {
      client_read (demo);
      return;
    }

  g_print ("Client: received %s", demo->echo->str);
  if (strcmp (demo->echo->str, DEMO_MESSAGE) != 0)
    {
      demo_fail (demo, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                            "Client: the echo differs from what was sent"));
      return;
    }

  /* Closing sends close_notify, then closes the TCP connection. The
   * server sees a clean end of stream and closes its side. */
  g_io_stream_close_async (G_IO_STREAM (demo->client_socket), G_PRIORITY_DEFAULT,
                           demo->cancellable, client_closed_cb, demo);
}

static void
client_read (Demo *demo)
{
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (demo->client_socket));

  g_input_stream_read_async (input, demo->client_buffer, sizeof demo->client_buffer,
                             G_PRIORITY_DEFAULT, demo->cancellable,
                             client_read_cb, demo);
}

static void
client_wrote_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Demo *demo = user_data;
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      g_prefix_error (&error, "Client: writing failed: ");
      demo_fail (demo, error);
      return;
    }

  client_read (demo);
}

/* Step 4: exchange data over the verified connection. */
static void
client_exchange (Demo *demo)
{
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (demo->client_socket));

  g_print ("Client: sending %s", DEMO_MESSAGE);
  g_output_stream_write_all_async (output, DEMO_MESSAGE, strlen (DEMO_MESSAGE),
                                   G_PRIORITY_DEFAULT, demo->cancellable,
                                   client_wrote_cb, demo);
}

static void
client_connected_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Demo *demo = user_data;
  GError *error = NULL;

  demo->client_socket = gsecsock_secure_socket_connect_finish (result, &error);
  if (demo->client_socket == NULL)
    {
      g_prefix_error (&error, "Client: could not connect to 127.0.0.1:%u: ", demo->port);
      demo_fail (demo, error);
      return;
    }

  /* Connecting includes the handshake: the server has been verified and
   * everything it negotiated can be inspected before any data is sent. */
  g_print ("Client: connected to 127.0.0.1:%u\n", demo->port);
  if (!print_session (demo->client_socket, &error))
    {
      g_prefix_error (&error, "Client: ");
      demo_fail (demo, error);
      return;
    }

  client_exchange (demo);
}

static void
start_client (Demo *demo)
{
  static const char * const alpn[] = { DEMO_ALPN, NULL };
  g_autofree char *ca = pki_path (demo, "ca.pem");
  GError *error = NULL;

  demo->client_context = gsecsock_secure_socket_context_new (GSECSOCK_MODE_CLIENT);

  /* Trust exactly one root: the test CA. Real applications usually keep
   * use-system-trust on and trust the system's CA store instead. */
  gsecsock_secure_socket_context_set_use_system_trust (demo->client_context, FALSE);
  if (!gsecsock_secure_socket_context_add_trust_anchor_file (demo->client_context, ca, &error))
    {
      demo_fail (demo, error);
      return;
    }
  gsecsock_secure_socket_context_set_alpn_protocols (demo->client_context, alpn);

  /* Resolves the host, connects over TCP and performs the handshake. The
   * host is both where to connect and the identity the server's
   * certificate must prove: here an IP address, matched against the
   * certificate's IP subjectAltName entries (a host name would be matched
   * against its DNS entries and also sent as SNI). */
  gsecsock_secure_socket_connect_async (demo->client_context, "127.0.0.1", demo->port,
                                        demo->cancellable, client_connected_cb, demo);
}

/* ------------------------------------------------------------------------ */

int
main (int    argc,
      char **argv)
{
  g_autofree char *pki_script = NULL;
  g_autofree char *openssl = NULL;
  const GOptionEntry entries[] = {
    { "pki-script", 0, 0, G_OPTION_ARG_FILENAME, &pki_script,
      "Script that generates the test PKI (default: " GSECSOCK_DEMO_PKI_SCRIPT ")", "PATH" },
    { "openssl", 0, 0, G_OPTION_ARG_FILENAME, &openssl,
      "openssl program the script uses (default: " GSECSOCK_DEMO_OPENSSL ")", "PATH" },
    { NULL }
  };
  g_autoptr(GOptionContext) option_context = NULL;
  Demo demo = { NULL };
  GError *error = NULL;
  int status = 0;

  setlocale (LC_ALL, "");

  option_context = g_option_context_new (NULL);
  g_option_context_set_summary (option_context,
                                "Runs a TLS echo server and a client against it, with a "
                                "freshly generated test PKI, and prints what was negotiated.");
  g_option_context_add_main_entries (option_context, entries, NULL);
  if (!g_option_context_parse (option_context, &argc, &argv, &error))
    {
      g_printerr ("gsecsock-demo: %s\n", error->message);
      g_error_free (error);
      return 1;
    }

  demo.pki_script = pki_script != NULL ? pki_script : GSECSOCK_DEMO_PKI_SCRIPT;
  demo.openssl = openssl != NULL ? openssl : GSECSOCK_DEMO_OPENSSL;
  demo.loop = g_main_loop_new (NULL, FALSE);
  demo.cancellable = g_cancellable_new ();
  demo.echo = g_string_new (NULL);
  demo.timeout_id = g_timeout_add_seconds (DEMO_TIMEOUT_SECONDS, demo_timeout_cb, &demo);

  /* Everything else happens in callbacks, from this one loop. */
  generate_pki (&demo);
  if (demo.error == NULL)
    g_main_loop_run (demo.loop);

  if (demo.error != NULL)
    {
      g_printerr ("gsecsock-demo: %s\n", demo.error->message);
      status = 1;
    }
  else
    {
      g_print ("\nDone: verified TLS connection, echo received, both sides closed "
               "with close_notify.\n");
    }

  g_clear_handle_id (&demo.timeout_id, g_source_remove);
  g_clear_object (&demo.client_socket);
  g_clear_object (&demo.server_socket);
  if (demo.listener != NULL)
    g_socket_listener_close (demo.listener);
  g_clear_object (&demo.listener);
  g_clear_object (&demo.client_context);
  g_clear_object (&demo.server_context);

  if (demo.pki_dir != NULL && !remove_recursively (demo.pki_dir, &error))
    {
      g_printerr ("gsecsock-demo: %s\n", error->message);
      g_clear_error (&error);
      status = 1;
    }

  g_free (demo.pki_dir);
  g_string_free (demo.echo, TRUE);
  g_clear_error (&demo.error);
  g_clear_object (&demo.cancellable);
  g_main_loop_unref (demo.loop);

  return status;
}
