/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-secure-socket-private.h"

#include <string.h>

#include "gsecsock-i18n-private.h"

/* The input and output streams of a GSecSockSecureSocket. They hold a weak
 * reference: the socket owns them, and a stream that outlives its socket
 * only reports that the connection is closed. Both are pollable, so GIO's
 * own async read/write machinery drives them from the caller's main context
 * without threads. */

#define GSECSOCK_TYPE_INPUT_STREAM (gsecsock_input_stream_get_type ())
G_DECLARE_FINAL_TYPE (GSecSockInputStream, gsecsock_input_stream, GSECSOCK, INPUT_STREAM, GInputStream)

#define GSECSOCK_TYPE_OUTPUT_STREAM (gsecsock_output_stream_get_type ())
G_DECLARE_FINAL_TYPE (GSecSockOutputStream, gsecsock_output_stream, GSECSOCK, OUTPUT_STREAM, GOutputStream)

struct _GSecSockInputStream
{
  GInputStream parent_instance;
  GWeakRef socket;
};

struct _GSecSockOutputStream
{
  GOutputStream parent_instance;
  GWeakRef socket;
};

static void gsecsock_input_stream_pollable_init (GPollableInputStreamInterface *iface);
static void gsecsock_output_stream_pollable_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (GSecSockInputStream, gsecsock_input_stream, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      gsecsock_input_stream_pollable_init))

G_DEFINE_FINAL_TYPE_WITH_CODE (GSecSockOutputStream, gsecsock_output_stream, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      gsecsock_output_stream_pollable_init))

static GSecSockSecureSocket *
get_socket (GWeakRef *ref, GError **error)
{
  GSecSockSecureSocket *socket = g_weak_ref_get (ref);

  if (socket == NULL)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                         _("The TLS connection is closed"));
  return socket;
}

/* ---- Input ---- */

static gssize
input_read (GInputStream  *stream,
            void          *buffer,
            gsize          count,
            GCancellable  *cancellable,
            GError       **error)
{
  GSecSockInputStream *self = GSECSOCK_INPUT_STREAM (stream);
  g_autoptr(GSecSockSecureSocket) socket = get_socket (&self->socket, error);

  if (socket == NULL)
    return -1;
  return gsecsock_secure_socket_read (socket, buffer, count, TRUE, cancellable, error);
}

static gboolean
input_close (GInputStream  *stream,
             GCancellable  *cancellable,
             GError       **error)
{
  GSecSockInputStream *self = GSECSOCK_INPUT_STREAM (stream);
  g_autoptr(GSecSockSecureSocket) socket = g_weak_ref_get (&self->socket);

  /* TLS has no way to close only the reading direction: just stop reading. */
  if (socket != NULL)
    gsecsock_secure_socket_close_read (socket);
  return TRUE;
}

static gboolean
input_is_readable (GPollableInputStream *pollable)
{
  GSecSockInputStream *self = GSECSOCK_INPUT_STREAM (pollable);
  g_autoptr(GSecSockSecureSocket) socket = g_weak_ref_get (&self->socket);

  return socket == NULL || gsecsock_secure_socket_check (socket, G_IO_IN);
}

static GSource *
input_create_source (GPollableInputStream *pollable,
                     GCancellable         *cancellable)
{
  GSecSockInputStream *self = GSECSOCK_INPUT_STREAM (pollable);
  g_autoptr(GSecSockSecureSocket) socket = g_weak_ref_get (&self->socket);

  if (socket == NULL)
    {
      /* Ready at once: the read reports the closed connection. */
      g_autoptr(GSource) ready = g_timeout_source_new (0);
      return g_pollable_source_new_full (pollable, ready, cancellable);
    }
  return gsecsock_secure_socket_create_source (socket, G_IO_IN, G_OBJECT (pollable), cancellable);
}

static gssize
input_read_nonblocking (GPollableInputStream  *pollable,
                        void                  *buffer,
                        gsize                  count,
                        GError               **error)
{
  GSecSockInputStream *self = GSECSOCK_INPUT_STREAM (pollable);
  g_autoptr(GSecSockSecureSocket) socket = get_socket (&self->socket, error);

  if (socket == NULL)
    return -1;
  return gsecsock_secure_socket_read (socket, buffer, count, FALSE, NULL, error);
}

static void
gsecsock_input_stream_finalize (GObject *object)
{
  g_weak_ref_clear (&GSECSOCK_INPUT_STREAM (object)->socket);
  G_OBJECT_CLASS (gsecsock_input_stream_parent_class)->finalize (object);
}

static void
gsecsock_input_stream_class_init (GSecSockInputStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  object_class->finalize = gsecsock_input_stream_finalize;
  stream_class->read_fn = input_read;
  stream_class->close_fn = input_close;
}

static void
gsecsock_input_stream_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->is_readable = input_is_readable;
  iface->create_source = input_create_source;
  iface->read_nonblocking = input_read_nonblocking;
}

static void
gsecsock_input_stream_init (GSecSockInputStream *self)
{
  g_weak_ref_init (&self->socket, NULL);
}

GInputStream *
gsecsock_input_stream_new (GSecSockSecureSocket *socket)
{
  GSecSockInputStream *self = g_object_new (GSECSOCK_TYPE_INPUT_STREAM, NULL);

  g_weak_ref_set (&self->socket, socket);
  return G_INPUT_STREAM (self);
}

/* ---- Output ---- */

static gssize
output_write (GOutputStream  *stream,
              const void     *buffer,
              gsize           count,
              GCancellable   *cancellable,
              GError        **error)
{
  GSecSockOutputStream *self = GSECSOCK_OUTPUT_STREAM (stream);
  g_autoptr(GSecSockSecureSocket) socket = get_socket (&self->socket, error);

  if (socket == NULL)
    return -1;
  return gsecsock_secure_socket_write (socket, buffer, count, TRUE, cancellable, error);
}

/* Vectors written together leave as one TLS record where they fit in one:
 * each record costs a header, an AEAD tag and usually a syscall, so an
 * application's [headers, body] must not become two records. Gathering is
 * bounded by one record; the rest is left for the next call (writev_all
 * loops). A single vector, or a first one of a record or more, is written
 * without a copy. The same vectors always gather to the same bytes, which a
 * nonblocking retry after G_IO_ERROR_WOULD_BLOCK relies on. */
#define GATHER_MAX 16384    /* SSL3_RT_MAX_PLAIN_LENGTH: one record */

static gssize
write_vectors (GSecSockSecureSocket  *socket,
               const GOutputVector   *vectors,
               gsize                  n_vectors,
               gboolean               blocking,
               GCancellable          *cancellable,
               GError               **error)
{
  guint8 gathered[GATHER_MAX];
  gsize first = 0, len = 0, i;

  while (first < n_vectors && vectors[first].size == 0)
    first++;
  if (first == n_vectors)
    return 0;
  if (first + 1 == n_vectors || vectors[first].size >= GATHER_MAX)
    return gsecsock_secure_socket_write (socket, vectors[first].buffer, vectors[first].size,
                                         blocking, cancellable, error);
  for (i = first; i < n_vectors && len < GATHER_MAX; i++)
    {
      gsize n = MIN (vectors[i].size, GATHER_MAX - len);

      memcpy (gathered + len, vectors[i].buffer, n);
      len += n;
    }
  return gsecsock_secure_socket_write (socket, gathered, len, blocking, cancellable, error);
}

static gboolean
output_writev (GOutputStream        *stream,
               const GOutputVector  *vectors,
               gsize                 n_vectors,
               gsize                *bytes_written,
               GCancellable         *cancellable,
               GError              **error)
{
  GSecSockOutputStream *self = GSECSOCK_OUTPUT_STREAM (stream);
  g_autoptr(GSecSockSecureSocket) socket = get_socket (&self->socket, error);
  gssize n;

  *bytes_written = 0;
  if (socket == NULL)
    return FALSE;
  n = write_vectors (socket, vectors, n_vectors, TRUE, cancellable, error);
  if (n < 0)
    return FALSE;
  *bytes_written = n;
  return TRUE;
}

static gboolean
output_flush (GOutputStream  *stream,
              GCancellable   *cancellable,
              GError        **error)
{
  GSecSockOutputStream *self = GSECSOCK_OUTPUT_STREAM (stream);
  g_autoptr(GSecSockSecureSocket) socket = get_socket (&self->socket, error);

  if (socket == NULL)
    return FALSE;
  /* Records go out as they are made; only the base stream may buffer. */
  return g_output_stream_flush (g_io_stream_get_output_stream (gsecsock_secure_socket_get_base_stream (socket)),
                                cancellable, error);
}

static gboolean
output_close (GOutputStream  *stream,
              GCancellable   *cancellable,
              GError        **error)
{
  GSecSockOutputStream *self = GSECSOCK_OUTPUT_STREAM (stream);
  g_autoptr(GSecSockSecureSocket) socket = g_weak_ref_get (&self->socket);

  /* Closing the writing side sends close_notify; the transport stays open
   * until the socket itself is closed. */
  if (socket == NULL)
    return TRUE;
  return gsecsock_secure_socket_close_write (socket, cancellable, error);
}

static void
output_close_notify_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!gsecsock_secure_socket_close_write_finish (GSECSOCK_SECURE_SOCKET (source), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
output_close_async (GOutputStream       *stream,
                    int                  io_priority,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  GSecSockOutputStream *self = GSECSOCK_OUTPUT_STREAM (stream);
  g_autoptr(GSecSockSecureSocket) socket = g_weak_ref_get (&self->socket);
  g_autoptr(GTask) task = g_task_new (stream, cancellable, callback, user_data);

  g_task_set_source_tag (task, output_close_async);
  if (socket == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  gsecsock_secure_socket_close_write_async (socket, io_priority, cancellable,
                                            output_close_notify_sent, g_steal_pointer (&task));
}

static gboolean
output_close_finish (GOutputStream  *stream,
                     GAsyncResult   *result,
                     GError        **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
output_is_writable (GPollableOutputStream *pollable)
{
  GSecSockOutputStream *self = GSECSOCK_OUTPUT_STREAM (pollable);
  g_autoptr(GSecSockSecureSocket) socket = g_weak_ref_get (&self->socket);

  return socket == NULL || gsecsock_secure_socket_check (socket, G_IO_OUT);
}

static GSource *
output_create_source (GPollableOutputStream *pollable,
                      GCancellable          *cancellable)
{
  GSecSockOutputStream *self = GSECSOCK_OUTPUT_STREAM (pollable);
  g_autoptr(GSecSockSecureSocket) socket = g_weak_ref_get (&self->socket);

  if (socket == NULL)
    {
      g_autoptr(GSource) ready = g_timeout_source_new (0);
      return g_pollable_source_new_full (pollable, ready, cancellable);
    }
  return gsecsock_secure_socket_create_source (socket, G_IO_OUT, G_OBJECT (pollable), cancellable);
}

static gssize
output_write_nonblocking (GPollableOutputStream  *pollable,
                          const void             *buffer,
                          gsize                   count,
                          GError                **error)
{
  GSecSockOutputStream *self = GSECSOCK_OUTPUT_STREAM (pollable);
  g_autoptr(GSecSockSecureSocket) socket = get_socket (&self->socket, error);

  if (socket == NULL)
    return -1;
  return gsecsock_secure_socket_write (socket, buffer, count, FALSE, NULL, error);
}

static GPollableReturn
output_writev_nonblocking (GPollableOutputStream  *pollable,
                           const GOutputVector    *vectors,
                           gsize                   n_vectors,
                           gsize                  *bytes_written,
                           GError                **error)
{
  GSecSockOutputStream *self = GSECSOCK_OUTPUT_STREAM (pollable);
  g_autoptr(GSecSockSecureSocket) socket = get_socket (&self->socket, error);
  GError *local_error = NULL;
  gssize n;

  *bytes_written = 0;
  if (socket == NULL)
    return G_POLLABLE_RETURN_FAILED;
  n = write_vectors (socket, vectors, n_vectors, FALSE, NULL, &local_error);
  if (n >= 0)
    {
      *bytes_written = n;
      return G_POLLABLE_RETURN_OK;
    }
  /* Unlike write_nonblocking, writev_nonblocking reports "try later" by
   * its return value alone. */
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      g_error_free (local_error);
      return G_POLLABLE_RETURN_WOULD_BLOCK;
    }
  g_propagate_error (error, local_error);
  return G_POLLABLE_RETURN_FAILED;
}

static void
gsecsock_output_stream_finalize (GObject *object)
{
  g_weak_ref_clear (&GSECSOCK_OUTPUT_STREAM (object)->socket);
  G_OBJECT_CLASS (gsecsock_output_stream_parent_class)->finalize (object);
}

static void
gsecsock_output_stream_class_init (GSecSockOutputStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  object_class->finalize = gsecsock_output_stream_finalize;
  stream_class->write_fn = output_write;
  stream_class->writev_fn = output_writev;
  stream_class->flush = output_flush;
  stream_class->close_fn = output_close;
  stream_class->close_async = output_close_async;
  stream_class->close_finish = output_close_finish;
}

static void
gsecsock_output_stream_pollable_init (GPollableOutputStreamInterface *iface)
{
  iface->is_writable = output_is_writable;
  iface->create_source = output_create_source;
  iface->write_nonblocking = output_write_nonblocking;
  iface->writev_nonblocking = output_writev_nonblocking;
}

static void
gsecsock_output_stream_init (GSecSockOutputStream *self)
{
  g_weak_ref_init (&self->socket, NULL);
}

GOutputStream *
gsecsock_output_stream_new (GSecSockSecureSocket *socket)
{
  GSecSockOutputStream *self = g_object_new (GSECSOCK_TYPE_OUTPUT_STREAM, NULL);

  g_weak_ref_set (&self->socket, socket);
  return G_OUTPUT_STREAM (self);
}
