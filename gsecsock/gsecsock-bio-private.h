/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <openssl/bio.h>

G_BEGIN_DECLS

/* A non-blocking OpenSSL BIO over a GIOStream's pollable streams. It never
 * blocks: when the transport is not ready it asks OpenSSL to retry, and the
 * socket waits on the base stream's pollable sources. It keeps no buffer of
 * its own (OpenSSL's read-ahead buffer and handshake write buffer do that),
 * so bytes are copied once, between the kernel and OpenSSL. */

BIO      *gsecsock_bio_new                 (GPollableInputStream  *input,
                                            GPollableOutputStream *output);

/* Bytes already read from the transport before TLS started, to be
 * returned first. */
void      gsecsock_bio_set_preread         (BIO    *bio,
                                            GBytes *bytes);

/* Whether the last write waited for another write of the transport (one
 * issued before securing) to finish: GIO has no source for that. */
gboolean  gsecsock_bio_output_busy         (BIO *bio);

/* The transport error behind the last failed read or write, if any. */
GError   *gsecsock_bio_steal_read_error    (BIO *bio);
GError   *gsecsock_bio_steal_write_error   (BIO *bio);

/* Whether the very first bytes received could not start a TLS record (the
 * peer speaks another protocol), and what they were, for the message. */
gboolean  gsecsock_bio_peer_is_not_tls     (BIO *bio);
char     *gsecsock_bio_describe_first_bytes (BIO *bio);
/* Whether they start like a TLS record header (a content type, then major
 * version 3): the peer speaks TLS, however badly. */
gboolean  gsecsock_bio_peer_sent_tls_header (BIO *bio);

/* Total bytes received so far (0 = the peer sent nothing at all). */
guint64   gsecsock_bio_bytes_read          (BIO *bio);

G_END_DECLS
