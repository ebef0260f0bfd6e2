#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The C test suite under AddressSanitizer, UndefinedBehaviorSanitizer and
# LeakSanitizer.
#
#  1. configure and build gsecsock from this source tree into a temporary
#     directory with -Db_sanitize=address,undefined (introspection and docs
#     off: g-ir-scanner's dumper would run under LSan too, and nothing of
#     them is C that these sanitizers check);
#  2. run every test whose code under test is C: the suites core, interop,
#     tool (the gsecsock program, driven by Python), examples (the C
#     examples and the demo) and load. The python, javascript and vala suites need
#     the introspection data, and an uninstrumented interpreter cannot load
#     an ASan library;
#  3. every sanitizer report of every process, test programs and the
#     gsecsock processes they start alike, goes to a file of its own
#     (log_path), so a report from a child whose exit status a test does not
#     look at is not lost. Any report fails this script, whatever meson
#     said; the reports are printed at the end.
#
# The one thing ASan prints that is not a report: a warning, once per
# process, that it "is ignoring requested __asan_handle_no_return" when an
# OpenSSL ASYNC job (gsecsock runs handshakes that may wait for a deferred
# decision in one) jumps from its own stack back to the thread's. That stack
# is OpenSSL's, switched inside libcrypto, where gsecsock cannot annotate it
# with __sanitizer_start_switch_fiber; ASan then skips clearing the poison of
# the stack it leaves, which is harmless here: the job's stack is only left
# with frames that resume later, or with OpenSSL's own (uninstrumented)
# frames, so no stale poison is left behind. That warning alone is accepted.
#
# Usage: tests/sanitize/run.sh [MESON_SETUP_OPTION...]
#   e.g. tests/sanitize/run.sh -Dwerror=true
# Environment:
#   SANITIZE_BUILDDIR  build here and keep it (default: a temporary
#                      directory, removed at the end)
#   JOBS               parallel compile jobs and tests (default: 2)
#   SANITIZE_SUITES    the meson suites to run (default: core interop tool
#                      examples load)
#   SANITIZE_SKIP      tests of those not to run (default: test-load-soak,
#                      see below)
# tools/quickstart.sh test runs it after the test suite (STAGES).

set -euo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
JOBS=${JOBS:-2}
read -ra suites <<<"${SANITIZE_SUITES:-core interop tool examples load}"

work=$(mktemp -d "${TMPDIR:-/tmp}/gsecsock-sanitize.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

build=${SANITIZE_BUILDDIR:-$work/build}
logs="$work/reports"
mkdir -p "$logs"

step() { printf '\n== sanitize: %s\n' "$*"; }
start=$SECONDS

# Clang, not GCC: GCC's UBSan is a runtime of its own beside ASan's, which
# cannot write its reports to log_path (the two runtimes' report paths
# interpose), while Clang's one runtime does all three.
CC=${SANITIZE_CC:-clang}
if ! command -v "$CC" >/dev/null; then
  echo "run.sh: no $CC compiler: install the 'clang' package (or set SANITIZE_CC)" >&2
  exit 1
fi
export CC

# Warnings are the main build's business (GCC, -Dwerror=true in CI); Clang
# warns about GLib's g_autoptr() guards that are never read, so this build
# does not make warnings errors.
setup_args=(-Db_sanitize=address,undefined -Db_lundef=false
            -Dintrospection=disabled -Ddocs=false)
for arg in "$@"; do
  case "$arg" in
    -Dwerror=*|--werror) ;;
    *) setup_args+=("$arg") ;;
  esac
done
step "configuring $build with $CC and -Db_sanitize=address,undefined"
if [[ -f "$build/meson-private/coredata.dat" ]]; then
  meson setup --reconfigure "$build" "$srcdir" "${setup_args[@]}" >"$work/setup.log" \
    || { cat "$work/setup.log"; exit 1; }
else
  meson setup "$build" "$srcdir" "${setup_args[@]}" >"$work/setup.log" \
    || { cat "$work/setup.log"; exit 1; }
fi

step "building"
meson compile -C "$build" -j "$JOBS"
build_time=$((SECONDS - start))

# halt_on_error: the first report ends the process (with a failing status).
# detect_stack_use_after_return=0: ASan's fake stacks do not survive the
# stack switches of OpenSSL's ASYNC jobs (see above).
# No leak suppressions: the one leak that is not gsecsock's, GLib's
# per-test-case XDG directory names (G_TEST_OPTION_ISOLATE_DIRS), is avoided
# by the tests under ASan (test_init() in tests/test-utils.c), and a leak of
# gsecsock is to be fixed, not suppressed.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=0:print_summary=1:log_path=$logs/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:print_summary=1:log_path=$logs/ubsan"

# GIO's libproxy module is C++ and throws exceptions inside; loaded late by
# a C program, it finds ASan's __cxa_throw interceptor with nothing behind
# it (a CHECK failure of the sanitizer, not a bug). The tests already ask
# for the dummy resolver; the demo and the gsecsock program get it here.
export GIO_USE_PROXY_RESOLVER=dummy

suite_args=()
for suite in "${suites[@]}"; do suite_args+=(--suite "$suite"); done
# test-load-soak bounds the growth of its resident memory, which ASan's
# quarantine of freed blocks (up to 256 MiB) makes meaningless; its leaks
# are LSan's business, and test-load runs the same code.
skip=" ${SANITIZE_SKIP-test-load-soak} "
tests=()
while read -r name; do
  [[ "$skip" == *" $name "* ]] || tests+=("$name")
done < <(meson test -C "$build" --no-rebuild --list "${suite_args[@]}" 2>/dev/null | sed 's|^.* / ||')
if [[ ${#tests[@]} -eq 0 ]]; then
  echo "run.sh: no test in the suites ${suites[*]}" >&2
  exit 1
fi

# Temporary files of the tests (and of a test that dies with a report)
# stay in this script's directory, removed at its end.
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"

step "running the suites ${suites[*]} (ASan + UBSan + LSan)"
tests_start=$SECONDS
meson_status=0
# ASan makes the tests about twice as slow: the timeouts scale with it.
meson test -C "$build" --no-rebuild --print-errorlogs --num-processes "$JOBS" \
  --timeout-multiplier 3 "${tests[@]}" || meson_status=$?
tests_time=$((SECONDS - tests_start))

# Every log file is one process's reports; a file with only the fibre
# warning (above) is not a report.
known_warning='^==[0-9]+==WARNING: ASan is ignoring requested __asan_handle_no_return: stack type: default top: 0x[0-9a-f]+; bottom 0x[0-9a-f]+; size: 0x[0-9a-f]+ \([-0-9]+\)$|^False positive error reports may follow$|^For details see https://github.com/google/sanitizers/issues/189$'
reports=()
fibre_warnings=0
shopt -s nullglob
for log in "$logs"/*; do
  if grep -qvE "$known_warning" "$log"; then
    reports+=("$log")
  else
    fibre_warnings=$((fibre_warnings + 1))
  fi
done

read -r ran failed < <(/usr/bin/env python3 - "$build/meson-logs/testlog.json" <<'PY'
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
echo "sanitize: $ran tests run ($failed failed) in ${tests_time}s, build ${build_time}s;" \
     "processes with the ASYNC stack-switch warning only: $fibre_warnings"
if [[ ${#reports[@]} -gt 0 ]]; then
  echo "sanitize: ${#reports[@]} process(es) reported errors or leaks:" >&2
  for log in "${reports[@]}"; do
    printf '\n---- %s\n' "$(basename "$log")" >&2
    cat "$log" >&2
  done
  exit 1
fi
if [[ $meson_status -ne 0 ]]; then
  echo "sanitize: meson test failed (status $meson_status); no sanitizer report" >&2
  exit 1
fi
if [[ $ran -eq 0 ]]; then
  echo "sanitize: no test ran" >&2
  exit 1
fi
echo "sanitize: OK (no sanitizer report)"
