/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gsecsock-memory-transport.h"

#include "gsecsock-i18n-private.h"
#include <string.h>

/**
 * GSecSockMemoryTransport:
 *
 * A transport whose bytes the application moves itself, for TLS over
 * anything that is not a GIO stream: a message queue, a WebSocket, a USB
 * endpoint, a test harness. It plays the part of Python's `ssl.MemoryBIO`
 * or Java's `SSLEngine`.
 *
 * Create a [class@GSecSock.SecureSocket] over it with
 * [ctor@GSecSock.SecureSocket.new] as over any stream, then:
 *
 * - hand every ciphertext byte received from the peer to
 *   [method@GSecSock.MemoryTransport.receive] (and the end of the peer's
 *   data to [method@GSecSock.MemoryTransport.receive_eof]);
 * - send what [method@GSecSock.MemoryTransport.take_outgoing] returns to the
 *   peer, whenever [signal@GSecSock.MemoryTransport::outgoing-ready] says
 *   there is some (or after each call, when polling);
 * - read and write plaintext through the secure socket as usual: its
 *   asynchronous operations wake up when [method@GSecSock.MemoryTransport.receive]
 *   brings bytes.
 *
 * ```python
 * transport = GSecSock.MemoryTransport.new()
 * sock = GSecSock.SecureSocket.new(ctx, transport, 'example.org')
 * transport.connect('outgoing-ready',
 *                   lambda t: my_channel.send(t.take_outgoing().get_data()))
 * my_channel.on_message(transport.receive)
 * sock.handshake_async(GLib.PRIORITY_DEFAULT, None, on_handshake)
 * ```
 *
 * Up to 256 KiB of outgoing ciphertext is held; beyond that, writes to the
 * secure socket wait (or fail with %G_IO_ERROR_WOULD_BLOCK when
 * non-blocking) until the application takes it. Received bytes are held
 * without limit until the socket reads them.
 *
 * The transport may be used from several threads; its methods are
 * thread-safe.
 *
 * Since: 0.1
 */

#define OUTGOING_LIMIT (256 * 1024)

struct _GSecSockMemoryTransport
{
  GIOStream parent_instance;

  GInputStream *input;
  GOutputStream *output;

  GMutex lock;
  GByteArray *incoming;      /* received, not yet read by the socket */
  gboolean incoming_eof;
  GByteArray *outgoing;      /* written by the socket, not yet taken */
  gboolean closed;
  GPtrArray *sources;        /* ReadySource*, not owned: to wake their contexts */
  gboolean notify_pending;   /* an outgoing-ready emission is scheduled */
};

G_DEFINE_FINAL_TYPE (GSecSockMemoryTransport, gsecsock_memory_transport, G_TYPE_IO_STREAM)

enum {
  SIGNAL_OUTGOING_READY,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- Readiness sources ------------------------------------------------- */

/* Ready when the transport has something for @condition. It re-checks on
 * every main-loop iteration; receive() and take_outgoing() wake the
 * contexts of all existing sources so the check runs at once. */
typedef struct {
  GSource source;
  GSecSockMemoryTransport *transport;
  GIOCondition condition;
} ReadySource;

static gboolean
is_ready_locked (GSecSockMemoryTransport *self,
                 GIOCondition             condition)
{
  if (self->closed)
    return TRUE;
  if (condition & G_IO_IN)
    return self->incoming->len > 0 || self->incoming_eof;
  return self->outgoing->len < OUTGOING_LIMIT;
}

static gboolean
is_ready (GSecSockMemoryTransport *self,
          GIOCondition             condition)
{
  gboolean ready;

  g_mutex_lock (&self->lock);
  ready = is_ready_locked (self, condition);
  g_mutex_unlock (&self->lock);
  return ready;
}

static gboolean
ready_source_prepare (GSource *source, int *timeout)
{
  ReadySource *ready = (ReadySource *) source;

  *timeout = -1;
  return is_ready (ready->transport, ready->condition);
}

static gboolean
ready_source_check (GSource *source)
{
  ReadySource *ready = (ReadySource *) source;

  return is_ready (ready->transport, ready->condition);
}

static gboolean
ready_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  return callback != NULL ? callback (user_data) : G_SOURCE_CONTINUE;
}

static void
ready_source_finalize (GSource *source)
{
  ReadySource *ready = (ReadySource *) source;

  g_mutex_lock (&ready->transport->lock);
  g_ptr_array_remove_fast (ready->transport->sources, ready);
  g_mutex_unlock (&ready->transport->lock);
  g_clear_object (&ready->transport);
}

/* Needed for g_source_set_dummy_callback(), which GLib uses on children. */
static gboolean
ready_source_closure_callback (gpointer data)
{
  GClosure *closure = data;
  GValue result = G_VALUE_INIT;
  gboolean keep;

  g_value_init (&result, G_TYPE_BOOLEAN);
  g_closure_invoke (closure, &result, 0, NULL, NULL);
  keep = g_value_get_boolean (&result);
  g_value_unset (&result);
  return keep;
}

static GSourceFuncs ready_source_funcs = {
  .prepare = ready_source_prepare,
  .check = ready_source_check,
  .dispatch = ready_source_dispatch,
  .finalize = ready_source_finalize,
  .closure_callback = ready_source_closure_callback,
  .closure_marshal = NULL,
};

static GSource *
create_pollable_source (GSecSockMemoryTransport *self,
                        GObject                 *stream,
                        GIOCondition             condition,
                        GCancellable            *cancellable)
{
  GSource *child = g_source_new (&ready_source_funcs, sizeof (ReadySource));
  ReadySource *ready = (ReadySource *) child;
  GSource *source;

  ready->transport = g_object_ref (self);
  ready->condition = condition;
  g_source_set_static_name (child, "GSecSockMemoryTransport ready");
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->sources, ready);
  g_mutex_unlock (&self->lock);

  source = g_pollable_source_new_full (stream, child, cancellable);
  g_source_unref (child);
  return source;
}

/* Something changed: let every waiting main context look again. Lock held. */
static void
wake_sources_locked (GSecSockMemoryTransport *self)
{
  for (guint i = 0; i < self->sources->len; i++)
    {
      GMainContext *context = g_source_get_context (g_ptr_array_index (self->sources, i));

      if (context != NULL)
        g_main_context_wakeup (context);
    }
}

/* ---- Streams ------------------------------------------------------------- */

#define GSECSOCK_TYPE_MEMORY_INPUT (gsecsock_memory_input_get_type ())
G_DECLARE_FINAL_TYPE (GSecSockMemoryInput, gsecsock_memory_input, GSECSOCK, MEMORY_INPUT, GInputStream)

#define GSECSOCK_TYPE_MEMORY_OUTPUT (gsecsock_memory_output_get_type ())
G_DECLARE_FINAL_TYPE (GSecSockMemoryOutput, gsecsock_memory_output, GSECSOCK, MEMORY_OUTPUT, GOutputStream)

/* The streams point back to the transport without a reference (it owns
 * them); a stream kept alive after its transport was finalized finds NULL
 * there and reports the transport closed. */
struct _GSecSockMemoryInput
{
  GInputStream parent_instance;
  GSecSockMemoryTransport *transport;
};

struct _GSecSockMemoryOutput
{
  GOutputStream parent_instance;
  GSecSockMemoryTransport *transport;
};

static void memory_input_pollable_init (GPollableInputStreamInterface *iface);
static void memory_output_pollable_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (GSecSockMemoryInput, gsecsock_memory_input, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      memory_input_pollable_init))

G_DEFINE_FINAL_TYPE_WITH_CODE (GSecSockMemoryOutput, gsecsock_memory_output, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      memory_output_pollable_init))

static gboolean
orphaned (GSecSockMemoryTransport *transport, GError **error)
{
  if (transport != NULL)
    return FALSE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, _("The memory transport is gone"));
  return TRUE;
}

static gssize
memory_input_read_nonblocking (GPollableInputStream  *pollable,
                               void                  *buffer,
                               gsize                  count,
                               GError               **error)
{
  GSecSockMemoryTransport *self = GSECSOCK_MEMORY_INPUT (pollable)->transport;
  gssize n;

  if (orphaned (self, error))
    return -1;

  g_mutex_lock (&self->lock);
  if (self->incoming->len > 0)
    {
      n = MIN (count, self->incoming->len);
      memcpy (buffer, self->incoming->data, n);
      g_byte_array_remove_range (self->incoming, 0, n);
    }
  else if (self->incoming_eof || self->closed)
    n = 0;
  else
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                           _("No bytes were received yet: call gsecsock_memory_transport_receive()"));
      n = -1;
    }
  g_mutex_unlock (&self->lock);
  return n;
}

static gboolean
memory_input_is_readable (GPollableInputStream *pollable)
{
  GSecSockMemoryTransport *transport = GSECSOCK_MEMORY_INPUT (pollable)->transport;

  return transport == NULL || is_ready (transport, G_IO_IN);
}

/* Ready at once: the read or write reports the missing transport. */
static GSource *
orphan_source (GObject *pollable, GCancellable *cancellable)
{
  g_autoptr(GSource) ready = g_timeout_source_new (0);

  return g_pollable_source_new_full (pollable, ready, cancellable);
}

static GSource *
memory_input_create_source (GPollableInputStream *pollable,
                            GCancellable         *cancellable)
{
  GSecSockMemoryTransport *transport = GSECSOCK_MEMORY_INPUT (pollable)->transport;

  if (transport == NULL)
    return orphan_source (G_OBJECT (pollable), cancellable);
  return create_pollable_source (transport, G_OBJECT (pollable), G_IO_IN, cancellable);
}

static gboolean
memory_input_can_poll (GPollableInputStream *pollable)
{
  return TRUE;
}

static gssize
memory_input_read (GInputStream  *stream,
                   void          *buffer,
                   gsize          count,
                   GCancellable  *cancellable,
                   GError       **error)
{
  /* Waits on the pollable source: bytes come from another thread. */
  return g_pollable_stream_read (stream, buffer, count, TRUE, cancellable, error);
}

static void
memory_input_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = memory_input_can_poll;
  iface->is_readable = memory_input_is_readable;
  iface->create_source = memory_input_create_source;
  iface->read_nonblocking = memory_input_read_nonblocking;
}

static void
gsecsock_memory_input_class_init (GSecSockMemoryInputClass *klass)
{
  G_INPUT_STREAM_CLASS (klass)->read_fn = memory_input_read;
}

static void
gsecsock_memory_input_init (GSecSockMemoryInput *self)
{
}

static gboolean
emit_outgoing_ready (gpointer user_data)
{
  GSecSockMemoryTransport *self = user_data;
  gboolean have_bytes;

  g_mutex_lock (&self->lock);
  self->notify_pending = FALSE;
  have_bytes = self->outgoing->len > 0;
  g_mutex_unlock (&self->lock);

  if (have_bytes)
    g_signal_emit (self, signals[SIGNAL_OUTGOING_READY], 0);
  return G_SOURCE_REMOVE;
}

static gssize
memory_output_write_nonblocking (GPollableOutputStream  *pollable,
                                 const void             *buffer,
                                 gsize                   count,
                                 GError                **error)
{
  GSecSockMemoryTransport *self = GSECSOCK_MEMORY_OUTPUT (pollable)->transport;
  gboolean schedule = FALSE;
  gssize n;

  if (orphaned (self, error))
    return -1;

  g_mutex_lock (&self->lock);
  if (self->closed)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, _("The memory transport is closed"));
      n = -1;
    }
  else if (self->outgoing->len >= OUTGOING_LIMIT)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                           _("The outgoing bytes were not taken yet: call "
                             "gsecsock_memory_transport_take_outgoing()"));
      n = -1;
    }
  else
    {
      n = MIN (count, (gsize) (OUTGOING_LIMIT - self->outgoing->len));
      g_byte_array_append (self->outgoing, buffer, n);
      if (!self->notify_pending)
        schedule = self->notify_pending = TRUE;
    }
  g_mutex_unlock (&self->lock);

  /* Written from inside OpenSSL, with the socket's lock held: tell the
   * application from the writer's main context, once that is free. */
  if (schedule)
    {
      GSource *idle = g_idle_source_new ();

      g_source_set_priority (idle, G_PRIORITY_DEFAULT);
      g_source_set_callback (idle, emit_outgoing_ready, g_object_ref (self), g_object_unref);
      g_source_set_static_name (idle, "GSecSockMemoryTransport outgoing-ready");
      g_source_attach (idle, g_main_context_get_thread_default ());
      g_source_unref (idle);
    }
  return n;
}

static gboolean
memory_output_is_writable (GPollableOutputStream *pollable)
{
  GSecSockMemoryTransport *transport = GSECSOCK_MEMORY_OUTPUT (pollable)->transport;

  return transport == NULL || is_ready (transport, G_IO_OUT);
}

static GSource *
memory_output_create_source (GPollableOutputStream *pollable,
                             GCancellable          *cancellable)
{
  GSecSockMemoryTransport *transport = GSECSOCK_MEMORY_OUTPUT (pollable)->transport;

  if (transport == NULL)
    return orphan_source (G_OBJECT (pollable), cancellable);
  return create_pollable_source (transport, G_OBJECT (pollable), G_IO_OUT, cancellable);
}

static gboolean
memory_output_can_poll (GPollableOutputStream *pollable)
{
  return TRUE;
}

static gssize
memory_output_write (GOutputStream  *stream,
                     const void     *buffer,
                     gsize           count,
                     GCancellable   *cancellable,
                     GError        **error)
{
  return g_pollable_stream_write (stream, buffer, count, TRUE, cancellable, error);
}

static void
memory_output_pollable_init (GPollableOutputStreamInterface *iface)
{
  iface->can_poll = memory_output_can_poll;
  iface->is_writable = memory_output_is_writable;
  iface->create_source = memory_output_create_source;
  iface->write_nonblocking = memory_output_write_nonblocking;
}

static void
gsecsock_memory_output_class_init (GSecSockMemoryOutputClass *klass)
{
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = memory_output_write;
}

static void
gsecsock_memory_output_init (GSecSockMemoryOutput *self)
{
}

/* ---- The transport ------------------------------------------------------ */

/**
 * gsecsock_memory_transport_new:
 *
 * Creates a transport whose bytes the application moves itself.
 *
 * Returns: (transfer full): a new transport
 *
 * Since: 0.1
 */
GSecSockMemoryTransport *
gsecsock_memory_transport_new (void)
{
  return g_object_new (GSECSOCK_TYPE_MEMORY_TRANSPORT, NULL);
}

/**
 * gsecsock_memory_transport_receive:
 * @self: a transport
 * @data: (array length=length) (element-type guint8): ciphertext received
 *   from the peer
 * @length: the number of bytes in @data
 *
 * Hands bytes received from the peer to the secure socket. They are copied;
 * the socket's pending reads and handshake wake up.
 *
 * Since: 0.1
 */
void
gsecsock_memory_transport_receive (GSecSockMemoryTransport *self,
                                   const guint8            *data,
                                   gsize                    length)
{
  g_return_if_fail (GSECSOCK_IS_MEMORY_TRANSPORT (self));
  g_return_if_fail (data != NULL || length == 0);

  if (length == 0)
    return;
  g_mutex_lock (&self->lock);
  if (self->incoming_eof)
    g_warning ("gsecsock_memory_transport_receive() after receive_eof(): bytes ignored");
  else
    g_byte_array_append (self->incoming, data, length);
  wake_sources_locked (self);
  g_mutex_unlock (&self->lock);
}

/**
 * gsecsock_memory_transport_receive_eof:
 * @self: a transport
 *
 * Tells the secure socket that the peer will send nothing more. Reading
 * then reports the end of the connection once the received bytes are
 * used up: cleanly if the peer had sent its TLS close_notify, as a
 * possible truncation (%GSECSOCK_ERROR_EOF) otherwise.
 *
 * Since: 0.1
 */
void
gsecsock_memory_transport_receive_eof (GSecSockMemoryTransport *self)
{
  g_return_if_fail (GSECSOCK_IS_MEMORY_TRANSPORT (self));

  g_mutex_lock (&self->lock);
  self->incoming_eof = TRUE;
  wake_sources_locked (self);
  g_mutex_unlock (&self->lock);
}

/**
 * gsecsock_memory_transport_take_outgoing:
 * @self: a transport
 *
 * Takes every byte the secure socket has written so far, for the
 * application to send to the peer, in order.
 *
 * Returns: (transfer full): the bytes to send, possibly empty
 *
 * Since: 0.1
 */
GBytes *
gsecsock_memory_transport_take_outgoing (GSecSockMemoryTransport *self)
{
  GByteArray *taken;

  g_return_val_if_fail (GSECSOCK_IS_MEMORY_TRANSPORT (self), NULL);

  g_mutex_lock (&self->lock);
  taken = g_steal_pointer (&self->outgoing);
  self->outgoing = g_byte_array_new ();
  wake_sources_locked (self);   /* writers waiting for room */
  g_mutex_unlock (&self->lock);

  return g_byte_array_free_to_bytes (taken);
}

/**
 * gsecsock_memory_transport_get_outgoing_size:
 * @self: a transport
 *
 * Gets how many bytes wait to be taken with
 * [method@GSecSock.MemoryTransport.take_outgoing].
 *
 * Returns: the number of outgoing bytes
 *
 * Since: 0.1
 */
gsize
gsecsock_memory_transport_get_outgoing_size (GSecSockMemoryTransport *self)
{
  gsize size;

  g_return_val_if_fail (GSECSOCK_IS_MEMORY_TRANSPORT (self), 0);

  g_mutex_lock (&self->lock);
  size = self->outgoing->len;
  g_mutex_unlock (&self->lock);
  return size;
}

/**
 * gsecsock_memory_transport_get_incoming_size:
 * @self: a transport
 *
 * Gets how many received bytes the secure socket has not read yet.
 *
 * Returns: the number of incoming bytes
 *
 * Since: 0.1
 */
gsize
gsecsock_memory_transport_get_incoming_size (GSecSockMemoryTransport *self)
{
  gsize size;

  g_return_val_if_fail (GSECSOCK_IS_MEMORY_TRANSPORT (self), 0);

  g_mutex_lock (&self->lock);
  size = self->incoming->len;
  g_mutex_unlock (&self->lock);
  return size;
}

static GInputStream *
gsecsock_memory_transport_get_input_stream (GIOStream *stream)
{
  return GSECSOCK_MEMORY_TRANSPORT (stream)->input;
}

static GOutputStream *
gsecsock_memory_transport_get_output_stream (GIOStream *stream)
{
  return GSECSOCK_MEMORY_TRANSPORT (stream)->output;
}

static gboolean
gsecsock_memory_transport_close_fn (GIOStream     *stream,
                                    GCancellable  *cancellable,
                                    GError       **error)
{
  GSecSockMemoryTransport *self = GSECSOCK_MEMORY_TRANSPORT (stream);

  /* The outgoing bytes (a close_notify, say) stay available to take. */
  g_mutex_lock (&self->lock);
  self->closed = TRUE;
  wake_sources_locked (self);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static void
gsecsock_memory_transport_finalize (GObject *object)
{
  GSecSockMemoryTransport *self = GSECSOCK_MEMORY_TRANSPORT (object);

  GSECSOCK_MEMORY_INPUT (self->input)->transport = NULL;
  GSECSOCK_MEMORY_OUTPUT (self->output)->transport = NULL;
  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_pointer (&self->incoming, g_byte_array_unref);
  g_clear_pointer (&self->outgoing, g_byte_array_unref);
  g_clear_pointer (&self->sources, g_ptr_array_unref);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (gsecsock_memory_transport_parent_class)->finalize (object);
}

static void
gsecsock_memory_transport_class_init (GSecSockMemoryTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);

  object_class->finalize = gsecsock_memory_transport_finalize;
  stream_class->get_input_stream = gsecsock_memory_transport_get_input_stream;
  stream_class->get_output_stream = gsecsock_memory_transport_get_output_stream;
  stream_class->close_fn = gsecsock_memory_transport_close_fn;

  /**
   * GSecSockMemoryTransport::outgoing-ready:
   * @self: the transport
   *
   * Emitted when the secure socket has written bytes for the peer and the
   * application has not taken them yet: call
   * [method@GSecSock.MemoryTransport.take_outgoing] and send them. It is
   * emitted from the thread-default main context of the thread that drove
   * the socket (the one that called the handshake, read or write), once
   * per batch: after a first write to an empty buffer, when that context
   * next runs. Applications that do not run a main loop there poll
   * [method@GSecSock.MemoryTransport.get_outgoing_size] instead.
   *
   * Since: 0.1
   */
  signals[SIGNAL_OUTGOING_READY] =
    g_signal_new ("outgoing-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
gsecsock_memory_transport_init (GSecSockMemoryTransport *self)
{
  GSecSockMemoryInput *input = g_object_new (GSECSOCK_TYPE_MEMORY_INPUT, NULL);
  GSecSockMemoryOutput *output = g_object_new (GSECSOCK_TYPE_MEMORY_OUTPUT, NULL);

  g_mutex_init (&self->lock);
  self->incoming = g_byte_array_new ();
  self->outgoing = g_byte_array_new ();
  self->sources = g_ptr_array_new ();
  input->transport = self;
  output->transport = self;
  self->input = G_INPUT_STREAM (input);
  self->output = G_OUTPUT_STREAM (output);
}
