#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The core C tests under valgrind's memcheck: `meson test --setup valgrind`
# (the setup is in the top meson.build: --error-exitcode, definite leaks
# counted as errors, GLib's suppressions and tests/valgrind.supp). Any
# memcheck error or definitely lost block fails its test, and so this
# script. The tests' own timeouts are multiplied by the setup's
# timeout_multiplier (10): memcheck is 20 to 50 times slower than native
# code, and the tests' internal guards (TEST_GUARD_TIMEOUT_SECONDS) are
# only there to catch hangs.
#
# Usage: tests/valgrind/run.sh [MESON_SETUP_OPTION...]
#   e.g. tests/valgrind/run.sh -Dwerror=true
# Environment:
#   BUILDDIR        an already configured build to use (tools/quickstart.sh
#                   passes its own); otherwise a temporary build is
#                   configured with the options given, and removed at the end
#   JOBS            parallel tests (default: 2)
#   VALGRIND_SUITES the meson suites to run (default: core)
#   VALGRIND_OPTS   more valgrind options (valgrind reads it itself)
# tools/quickstart.sh test runs it after the test suite (STAGES).

set -euo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
JOBS=${JOBS:-2}
read -ra suites <<<"${VALGRIND_SUITES:-core}"

if ! command -v valgrind >/dev/null; then
  echo "run.sh: valgrind is not installed: install the 'valgrind' package" >&2
  exit 1
fi
if [[ ! -f /usr/share/glib-2.0/valgrind/glib.supp ]]; then
  echo "run.sh: GLib's valgrind suppressions are missing (/usr/share/glib-2.0/valgrind/glib.supp," \
       "package libglib2.0-dev)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gsecsock-valgrind.XXXXXX")
trap 'rm -rf "$work"' EXIT

step() { printf '\n== valgrind: %s\n' "$*"; }
start=$SECONDS

build=
if [[ -n "${BUILDDIR:-}" && -f "$BUILDDIR/meson-private/coredata.dat" ]]; then
  build=$(cd "$BUILDDIR" && pwd)
  step "using the build in $build"
else
  build="$work/build"
  step "configuring $build"
  # Only the C library and tests matter here.
  meson setup "$build" "$srcdir" -Dintrospection=disabled -Ddocs=false "$@" \
    >"$work/setup.log" || { cat "$work/setup.log"; exit 1; }
fi
suite_args=()
for suite in "${suites[@]}"; do suite_args+=(--suite "$suite"); done

step "building"
meson compile -C "$build" -j "$JOBS"

step "running the suites ${suites[*]} under valgrind $(valgrind --version | sed 's/^valgrind-//')"
tests_start=$SECONDS
status=0
meson test -C "$build" --setup valgrind --no-rebuild --print-errorlogs \
  --num-processes "$JOBS" "${suite_args[@]}" || status=$?
tests_time=$((SECONDS - tests_start))

read -r ran failed < <(/usr/bin/env python3 - "$build/meson-logs/testlog-valgrind.json" <<'PY'
import json, sys
ran = failed = 0
with open(sys.argv[1], encoding="utf-8") as log:
    for line in log:
        if line.strip():
            ran += 1
            if json.loads(line).get("result") not in ("OK", "EXPECTEDFAIL", "SKIP"):
                failed += 1
print(ran, failed)
PY
)

echo
echo "valgrind: $ran tests run ($failed failed) in ${tests_time}s ($((SECONDS - start))s in all)"
if [[ $status -ne 0 || $failed -ne 0 ]]; then
  echo "valgrind: memcheck errors, definite leaks or test failures: see the logs above" >&2
  exit 1
fi
if [[ $ran -eq 0 ]]; then
  echo "valgrind: no test ran" >&2
  exit 1
fi
echo "valgrind: OK (no memcheck error, no definite leak)"
