/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A main() for a fuzz target built without libFuzzer: runs the target once
 * on each file named on the command line, or in each directory named, so
 * that the seed corpus and the committed reproducers (fuzz/regressions/)
 * are a test of every build, with any compiler. A crash or a failed check
 * aborts; at least one input must have run, and with
 * GSECSOCK_FUZZ_MIN_COMPLETED=N in the environment at least N must have
 * completed a handshake.
 *
 * Usage: fuzz-TARGET-regress FILE|DIRECTORY... */
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>

static guint n_inputs;

static void
run_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  uint8_t *copy;

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      exit (1);
    }
  /* An exact-size copy, so that AddressSanitizer sees reads past the end. */
  copy = g_memdup2 (contents, length);
  LLVMFuzzerTestOneInput (copy, length);
  g_free (copy);
  n_inputs++;
}

static void
run_path (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (dir == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          exit (1);
        }
      while ((name = g_dir_read_name (dir)) != NULL)
        if (name[0] != '.')
          g_ptr_array_add (names, g_build_filename (path, name, NULL));
      /* In a stable order, so that a failure repeats the same way. */
      g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
      for (guint i = 0; i < names->len; i++)
        {
          const char *file = g_ptr_array_index (names, i);

          if (g_file_test (file, G_FILE_TEST_IS_REGULAR))
            run_file (file);
        }
    }
  else if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    run_file (path);
  else
    {
      fprintf (stderr, "%s: no such file or directory\n", path);
      exit (1);
    }
}

int
main (int argc, char **argv)
{
  const char *min_completed;

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s FILE|DIRECTORY...\n", argv[0]);
      return 2;
    }
  LLVMFuzzerInitialize (&argc, &argv);
  for (int i = 1; i < argc; i++)
    run_path (argv[i]);
  if (n_inputs == 0)
    {
      fprintf (stderr, "%s: no input to run (is the corpus empty?)\n", argv[0]);
      return 1;
    }
  if (fuzz_completed_handshakes > 0)
    printf ("%s: %u inputs ran without a crash, %u completed a handshake\n",
            argv[0], n_inputs, fuzz_completed_handshakes);
  else
    printf ("%s: %u inputs ran without a crash\n", argv[0], n_inputs);
  /* The handshake seeds are recorded handshakes: if none replays, the
   * fixed random numbers no longer do their job. */
  min_completed = g_getenv ("GSECSOCK_FUZZ_MIN_COMPLETED");
  if (min_completed != NULL && fuzz_completed_handshakes < g_ascii_strtoull (min_completed, NULL, 10))
    {
      fprintf (stderr, "%s: only %u inputs completed a handshake, %s expected: the recorded "
               "seeds no longer replay (see fuzz/README.md)\n",
               argv[0], fuzz_completed_handshakes, min_completed);
      return 1;
    }
  return 0;
}
