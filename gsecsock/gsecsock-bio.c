/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-bio-private.h"

#include <string.h>

#define FIRST_BYTES_KEPT 48

typedef struct {
  GPollableInputStream *input;
  GPollableOutputStream *output;
  GError *read_error;
  GError *write_error;
  gboolean read_eof;
  guint64 bytes_read;
  /* Bytes the application had already read ahead from the transport
   * (STARTTLS over a buffered stream): served before the transport. */
  GBytes *preread;
  gsize preread_offset;
  /* The last write found another write of the transport still pending
   * (plaintext written before securing): wait for it to finish. */
  gboolean output_busy;
  /* The first bytes ever received, to tell a peer that is not TLS. */
  guint8 first_bytes[FIRST_BYTES_KEPT];
  gsize n_first_bytes;
} GSecSockBio;

static int
bio_create (BIO *bio)
{
  BIO_set_data (bio, g_new0 (GSecSockBio, 1));
  BIO_set_init (bio, 1);
  return 1;
}

static int
bio_destroy (BIO *bio)
{
  GSecSockBio *state = BIO_get_data (bio);

  if (state == NULL)
    return 1;
  g_clear_object (&state->input);
  g_clear_object (&state->output);
  g_clear_error (&state->read_error);
  g_clear_error (&state->write_error);
  g_clear_pointer (&state->preread, g_bytes_unref);
  g_free (state);
  BIO_set_data (bio, NULL);
  return 1;
}

static int
bio_read_ex (BIO *bio, char *buffer, size_t size, size_t *read_bytes)
{
  GSecSockBio *state = BIO_get_data (bio);
  GError *error = NULL;
  gssize n;

  BIO_clear_retry_flags (bio);
  *read_bytes = 0;
  if (size == 0)
    return 0;

  if (state->preread != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (state->preread, &len);

      n = MIN (size, len - state->preread_offset);
      memcpy (buffer, data + state->preread_offset, n);
      state->preread_offset += n;
      if (state->preread_offset == len)
        g_clear_pointer (&state->preread, g_bytes_unref);
    }
  else
    n = g_pollable_input_stream_read_nonblocking (state->input, buffer, size, NULL, &error);
  if (n < 0)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_error_free (error);
          BIO_set_retry_read (bio);
          return 0;
        }
      g_clear_error (&state->read_error);
      state->read_error = error;
      return 0;
    }
  if (n == 0)
    {
      state->read_eof = TRUE;
      return 0;
    }

  if (state->n_first_bytes < FIRST_BYTES_KEPT)
    {
      gsize keep = MIN ((gsize) n, FIRST_BYTES_KEPT - state->n_first_bytes);
      memcpy (state->first_bytes + state->n_first_bytes, buffer, keep);
      state->n_first_bytes += keep;
    }
  state->bytes_read += n;
  *read_bytes = n;
  return 1;
}

static int
bio_write_ex (BIO *bio, const char *buffer, size_t size, size_t *written)
{
  GSecSockBio *state = BIO_get_data (bio);
  GError *error = NULL;
  gssize n;

  BIO_clear_retry_flags (bio);
  *written = 0;
  if (size == 0)
    return 1;

  state->output_busy = g_output_stream_has_pending (G_OUTPUT_STREAM (state->output));
  if (state->output_busy)
    {
      /* Plaintext written before securing is still on its way: TLS bytes
       * must follow it, not fail. */
      BIO_set_retry_write (bio);
      return 0;
    }
  n = g_pollable_output_stream_write_nonblocking (state->output, buffer, size, NULL, &error);
  if (n < 0)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_error_free (error);
          BIO_set_retry_write (bio);
          return 0;
        }
      g_clear_error (&state->write_error);
      state->write_error = error;
      return 0;
    }
  *written = n;
  return 1;
}

static long
bio_ctrl (BIO *bio, int cmd, long num, void *ptr)
{
  GSecSockBio *state = BIO_get_data (bio);

  switch (cmd)
    {
    case BIO_CTRL_FLUSH:
      /* Nothing is buffered here: every write went to the transport. */
      return 1;
    case BIO_CTRL_EOF:
      return state->read_eof;
    case BIO_CTRL_PENDING:
      return state->preread ? (long) (g_bytes_get_size (state->preread) - state->preread_offset) : 0;
    case BIO_CTRL_WPENDING:
      return 0;
    case BIO_CTRL_GET_CLOSE:
      return BIO_get_shutdown (bio);
    case BIO_CTRL_SET_CLOSE:
      BIO_set_shutdown (bio, (int) num);
      return 1;
    default:
      return 0;
    }
}

static BIO_METHOD *
get_method (void)
{
  static BIO_METHOD *method = NULL;
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      BIO_METHOD *m = BIO_meth_new (BIO_get_new_index () | BIO_TYPE_SOURCE_SINK,
                                    "gsecsock GIOStream");
      BIO_meth_set_create (m, bio_create);
      BIO_meth_set_destroy (m, bio_destroy);
      BIO_meth_set_read_ex (m, bio_read_ex);
      BIO_meth_set_write_ex (m, bio_write_ex);
      BIO_meth_set_ctrl (m, bio_ctrl);
      method = m;
      g_once_init_leave (&initialised, 1);
    }
  return method;
}

BIO *
gsecsock_bio_new (GPollableInputStream  *input,
                  GPollableOutputStream *output)
{
  BIO *bio = BIO_new (get_method ());
  GSecSockBio *state;

  if (bio == NULL)
    g_error ("Out of memory creating a BIO");
  state = BIO_get_data (bio);
  state->input = g_object_ref (input);
  state->output = g_object_ref (output);
  return bio;
}

void
gsecsock_bio_set_preread (BIO    *bio,
                          GBytes *bytes)
{
  GSecSockBio *state = BIO_get_data (bio);

  g_clear_pointer (&state->preread, g_bytes_unref);
  state->preread_offset = 0;
  if (bytes != NULL && g_bytes_get_size (bytes) > 0)
    state->preread = g_bytes_ref (bytes);
}

gboolean
gsecsock_bio_output_busy (BIO *bio)
{
  GSecSockBio *state = BIO_get_data (bio);
  return state->output_busy;
}

GError *
gsecsock_bio_steal_read_error (BIO *bio)
{
  GSecSockBio *state = BIO_get_data (bio);
  return g_steal_pointer (&state->read_error);
}

GError *
gsecsock_bio_steal_write_error (BIO *bio)
{
  GSecSockBio *state = BIO_get_data (bio);
  return g_steal_pointer (&state->write_error);
}

guint64
gsecsock_bio_bytes_read (BIO *bio)
{
  GSecSockBio *state = BIO_get_data (bio);
  return state->bytes_read;
}

gboolean
gsecsock_bio_peer_is_not_tls (BIO *bio)
{
  GSecSockBio *state = BIO_get_data (bio);
  guint8 type;

  if (state->n_first_bytes == 0)
    return FALSE;
  type = state->first_bytes[0];
  /* A TLS record starts with its content type: change_cipher_spec (20),
   * alert (21), handshake (22), application_data (23) or heartbeat (24);
   * 0x80 and up is an SSLv2-format hello, which is TLS's business too. */
  if (type >= 20 && type <= 24)
    return FALSE;
  if (type & 0x80)
    return FALSE;
  return TRUE;
}

gboolean
gsecsock_bio_peer_sent_tls_header (BIO *bio)
{
  GSecSockBio *state = BIO_get_data (bio);

  return state->n_first_bytes >= 2 &&
         state->first_bytes[0] >= 20 && state->first_bytes[0] <= 24 &&
         state->first_bytes[1] == 3;
}

char *
gsecsock_bio_describe_first_bytes (BIO *bio)
{
  GSecSockBio *state = BIO_get_data (bio);
  GString *text = g_string_new (NULL);

  for (gsize i = 0; i < state->n_first_bytes && i < 32; i++)
    {
      guint8 c = state->first_bytes[i];
      if (c == '\r' || c == '\n')
        {
          if (text->len > 0)
            break;
          continue;
        }
      if (g_ascii_isprint (c))
        g_string_append_c (text, c);
      else
        g_string_append_printf (text, "\\x%02x", c);
    }
  return g_string_free (text, FALSE);
}
