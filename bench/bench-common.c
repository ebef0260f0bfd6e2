/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bench-common.h"

#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

guint64
bench_raise_nofile (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return 0;
  if (limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
        getrlimit (RLIMIT_NOFILE, &limit);
    }
  return limit.rlim_cur;
}

guint
bench_thread_count (void)
{
  DIR *dir = opendir ("/proc/self/task");
  struct dirent *entry;
  guint n = 0;

  if (dir == NULL)
    return 0;
  while ((entry = readdir (dir)) != NULL)
    if (entry->d_name[0] != '.')
      n++;
  closedir (dir);
  return n;
}

guint64
bench_rss_kib (void)
{
  FILE *file = fopen ("/proc/self/statm", "r");
  unsigned long size = 0, resident = 0;

  if (file == NULL)
    return 0;
  if (fscanf (file, "%lu %lu", &size, &resident) != 2)
    resident = 0;
  fclose (file);
  return (guint64) resident * (guint64) sysconf (_SC_PAGESIZE) / 1024;
}

guint64
bench_heap_bytes (void)
{
  struct mallinfo2 info = mallinfo2 ();

  return (guint64) info.uordblks + (guint64) info.hblkhd;
}

double
bench_cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

void
bench_append_process_stats (GString *json)
{
  g_string_append_printf (json,
                          "\"threads\":%u,\"rss_kib\":%" G_GUINT64_FORMAT
                          ",\"heap_bytes\":%" G_GUINT64_FORMAT ",\"cpu_s\":%.4f",
                          bench_thread_count (), bench_rss_kib (),
                          bench_heap_bytes (), bench_cpu_seconds ());
}

static inline guint8
stamp_at (guint64 position)
{
  guint64 block = position / BENCH_STAMP_EVERY;
  return (guint8) ((block * 131) ^ (block >> 8) ^ 0x5a);
}

void
bench_stamp (guint8 *buffer, gsize len, guint64 position)
{
  guint64 next = (position + BENCH_STAMP_EVERY - 1) / BENCH_STAMP_EVERY * BENCH_STAMP_EVERY;

  for (; next < position + len; next += BENCH_STAMP_EVERY)
    buffer[next - position] = stamp_at (next);
}

gboolean
bench_check_stamps (const guint8 *buffer, gsize len, guint64 position)
{
  guint64 next = (position + BENCH_STAMP_EVERY - 1) / BENCH_STAMP_EVERY * BENCH_STAMP_EVERY;

  for (; next < position + len; next += BENCH_STAMP_EVERY)
    if (buffer[next - position] != stamp_at (next))
      return FALSE;
  return TRUE;
}
