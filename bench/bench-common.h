/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared by the benchmark programs (not by the library): process
 * figures (threads, RSS, heap, CPU), the file descriptor limit, the sparse
 * stream pattern the throughput programs check, and the one-line JSON
 * "stats" answer of the server programs. Plain C and GLib only, so the
 * bare OpenSSL program can use it too. */

#include <glib.h>

#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "bench"

G_BEGIN_DECLS

/* Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new
 * soft limit. */
guint64  bench_raise_nofile      (void);

/* Threads of this process (entries of /proc/self/task). */
guint    bench_thread_count      (void);
/* Resident set size, KiB (/proc/self/statm). */
guint64  bench_rss_kib           (void);
/* Bytes handed out by malloc and not freed (mallinfo2: uordblks + hblkhd). */
guint64  bench_heap_bytes        (void);
/* User + system CPU seconds of this process (getrusage RUSAGE_SELF). */
double   bench_cpu_seconds       (void);

/* Appends `"threads":N,"rss_kib":N,"heap_bytes":N,"cpu_s":F` (no braces). */
void     bench_append_process_stats (GString *json);

/* The throughput programs' data: random bytes, except that the byte at
 * each stream position that is a multiple of BENCH_STAMP_EVERY holds a
 * stamp derived from that position. The receiver checks only those bytes:
 * lost, doubled or reordered data is caught (to 4 KiB), for next to no CPU,
 * so the figures measure TLS and not a checksum. */
#define BENCH_STAMP_EVERY 4096
void     bench_stamp             (guint8 *buffer, gsize len, guint64 position);
/* FALSE when a stamp in @buffer (at stream @position) is wrong. */
gboolean bench_check_stamps      (const guint8 *buffer, gsize len, guint64 position);

G_END_DECLS
