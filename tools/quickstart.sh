#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# From a checkout to a working gsecsock in one command, on Debian 12.
#
# Usage: tools/quickstart.sh [--werror] [--no-deps] demo|test
#
#   demo   install the build dependencies (apt-get, when run as root),
#          configure, build, and run examples/gsecsock-demo
#   test   the same setup, then every test: `meson test` over all suites
#          (with the gi-docgen check when gi-docgen is available), then
#          the stages that need their own build (STAGES below), such as
#          tests/installed/run.sh, which installs the library into a
#          temporary prefix and uses it from a program outside the tree
#
#   --werror   treat compiler warnings as errors (implied by CI=true)
#   --no-deps  do not run apt-get (also GSECSOCK_SKIP_DEPS=1)
#
# Environment: BUILDDIR (default: _build), JOBS (default: number of CPUs).
# .ci/run runs `tools/quickstart.sh test`; CI sets CI=true.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Everything the library, its introspection data, its documentation, the
# demo and the test suite need on a fresh Debian 12.
DEPS=(
  meson ninja-build pkg-config gcc libc6-dev dpkg-dev
  libglib2.0-dev libglib2.0-bin libssl-dev openssl ca-certificates
  gobject-introspection libgirepository1.0-dev python3 python3-gi
  glib-networking gi-docgen
  gjs
  valac
  curl
  python3-matplotlib
  gnutls-bin
  groff-base
  gettext locales
  xvfb gir1.2-gtk-4.0 gir1.2-adw-1 librsvg2-common fonts-cantarell desktop-file-utils
  clang libclang-rt-14-dev llvm
  valgrind
)

usage() {
  sed -n 's/^# \{0,1\}//; 4,20p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

werror=false
[[ "${CI:-}" == "true" ]] && werror=true
install_deps=true
[[ "${GSECSOCK_SKIP_DEPS:-}" == "1" ]] && install_deps=false
command=

while [[ $# -gt 0 ]]; do
  case "$1" in
    --werror) werror=true ;;
    --no-deps) install_deps=false ;;
    demo|test) command=$1 ;;
    -h|--help) usage ;;
    *) echo "quickstart: unknown argument '$1'" >&2; usage ;;
  esac
  shift
done
[[ -n "$command" ]] || usage

BUILDDIR=${BUILDDIR:-_build}
export BUILDDIR   # for the stages that use the build (tests/valgrind/run.sh)
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

step() { printf '\n== quickstart: %s\n' "$*"; }

# --- dependencies -------------------------------------------------------
if $install_deps; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    step "installing build dependencies with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${DEPS[@]}"
  else
    echo "quickstart: not root (or no apt-get): not installing dependencies." >&2
    echo "quickstart: on Debian 12 they are: ${DEPS[*]}" >&2
  fi
fi

# --- configure and build ------------------------------------------------
docs=false
if command -v gi-docgen >/dev/null && command -v g-ir-scanner >/dev/null; then
  docs=true
fi

setup_args=(-Dwerror="$werror" -Ddocs="$docs")
if [[ -f "$BUILDDIR/meson-private/coredata.dat" ]]; then
  step "reconfiguring $BUILDDIR (werror=$werror, docs=$docs)"
  meson setup --reconfigure "$BUILDDIR" "${setup_args[@]}"
else
  step "configuring $BUILDDIR (werror=$werror, docs=$docs)"
  meson setup "$BUILDDIR" "${setup_args[@]}"
fi

step "building"
meson compile -C "$BUILDDIR" -j "$JOBS"

# --- run ----------------------------------------------------------------
case "$command" in
  demo)
    step "running the demo"
    exec "$BUILDDIR/examples/gsecsock-demo"
    ;;
  test)
    step "running the test suite (meson test)"
    meson_status=0
    meson test -C "$BUILDDIR" --print-errorlogs --num-processes "$JOBS" || meson_status=$?

    # Checks that need their own build or tools, after the main suite.
    # Each is a script that exits non-zero on failure; each counts as one
    # result in the closing line.
    stage_args=()
    $werror && stage_args+=(-Dwerror=true)
    STAGES=(
      tests/installed/run.sh
      "fuzz/run.sh --smoke --parallel 2"
      tests/sanitize/run.sh
      tests/valgrind/run.sh
    )
    stages_status=0
    stage_passed=0
    stage_failed=0
    for stage in "${STAGES[@]}"; do
      step "running $stage"
      read -ra stage_command <<< "$stage"   # a script and its own arguments
      if bash "${stage_command[@]}" "${stage_args[@]}"; then
        stage_passed=$((stage_passed + 1))
      else
        echo "quickstart: $stage failed" >&2
        stage_failed=$((stage_failed + 1))
        stages_status=1
      fi
    done

    # One closing line over everything that ran: meson's results (from its
    # machine-readable log) plus the installed check.
    read -r passed failed skipped < <(/usr/bin/env python3 - "$BUILDDIR/meson-logs/testlog.json" <<'EOF'
import json, sys
passed = failed = skipped = 0
try:
    with open(sys.argv[1], encoding="utf-8") as log:
        for line in log:
            if not line.strip():
                continue
            result = json.loads(line).get("result")
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
except FileNotFoundError:
    pass
print(passed, failed, skipped)
EOF
    )
    passed=$((passed + stage_passed))
    failed=$((failed + stage_failed))
    if [[ $meson_status -ne 0 && $failed -eq 0 ]]; then failed=1; fi

    echo
    if [[ $skipped -gt 0 ]]; then
      echo "quickstart: $passed passed, $failed failed, $skipped skipped"
    else
      echo "quickstart: $passed passed, $failed failed"
    fi
    [[ $meson_status -eq 0 && $stages_status -eq 0 ]]
    ;;
esac
