#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Checks gsecsock the way its users get it: installed.
#
#  1. configure and build the library from this source tree into a temporary
#     directory, and `meson install` it into a temporary prefix;
#  2. compile tests/installed/client.c, a program outside the build, with
#     nothing but `pkg-config --cflags --libs gsecsock-1.0` (strict warnings,
#     as errors: the installed headers must be clean);
#  3. generate a throw-away test PKI with tests/make-test-pki.sh;
#  4. start `openssl s_server -rev` on a free loopback port with the PKI's
#     server chain and key, and have the client connect to it by name
#     ("localhost"), verify it against ca.pem only, agree on ALPN, exchange
#     a line and close cleanly.
#
# Usage: tests/installed/run.sh [MESON_SETUP_OPTION...]
#   e.g. tests/installed/run.sh -Dwerror=true
# Environment: OPENSSL (openssl program, default: from PATH), CC (default: cc).
# Not run by `meson test`: it builds and installs its own copy of the library.
# tools/quickstart.sh test runs it after the test suite.

set -euo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OPENSSL=${OPENSSL:-$(command -v openssl || true)}
CC=${CC:-cc}
export OPENSSL

if [[ -z "$OPENSSL" ]]; then
  echo "run.sh: no openssl program found: install the 'openssl' package or set OPENSSL" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gsecsock-installed.XXXXXX")
server_pid=
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== installed check: %s\n' "$*"; }

prefix="$work/prefix"
build="$work/build"

step "building and installing into $prefix"
# Introspection and docs are not what this checks, and skipping them keeps
# this build short; everything the C API needs is installed.
meson setup "$build" "$srcdir" --prefix="$prefix" --libdir=lib \
  -Dintrospection=disabled -Ddocs=false "$@" >"$work/setup.log" \
  || { cat "$work/setup.log"; exit 1; }
# Only what is installed (the library, the command-line tool and the
# translations of their messages): the tests and the demo are not, so there
# is no need to build them here.
meson compile -C "$build" -j 2 gsecsock-1.0 tools/gsecsock gsecsock-1.0-gmo
meson install -C "$build" --no-rebuild --quiet

step "checking the installed files"
for f in \
  "$prefix/include/gsecsock-1.0/gsecsock/gsecsock.h" \
  "$prefix/include/gsecsock-1.0/gsecsock/gsecsock-enum-types.h" \
  "$prefix/lib/pkgconfig/gsecsock-1.0.pc" \
  "$prefix/bin/gsecsock" \
  "$prefix/share/man/man1/gsecsock.1" \
  "$prefix/share/locale/fr/LC_MESSAGES/gsecsock-1.0.mo"; do
  [[ -f "$f" ]] || { echo "run.sh: $f was not installed" >&2; exit 1; }
done
if [[ -e "$prefix/include/gsecsock-1.0/gsecsock/gsecsock-certificate-private.h" ]]; then
  echo "run.sh: the private header gsecsock-certificate-private.h was installed" >&2
  exit 1
fi
ls "$prefix"/lib/libgsecsock-1.0.so*

step "compiling tests/installed/client.c with pkg-config"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --exists --print-errors gsecsock-1.0
echo "pkg-config --cflags --libs gsecsock-1.0: $(pkg-config --cflags --libs gsecsock-1.0)"
# Built in a directory of its own, with no include path into the sources.
read -ra pkg_flags <<<"$(pkg-config --cflags --libs gsecsock-1.0)"
mkdir "$work/client"
cp "$srcdir/tests/installed/client.c" "$work/client/"
(cd "$work/client" &&
  "$CC" -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
    -Wmissing-prototypes -o client client.c "${pkg_flags[@]}")

# Run against the installed library, and make sure that is what is loaded.
export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if ! ldd "$work/client/client" | grep -q "=> $prefix/lib/libgsecsock-1.0.so"; then
  echo "run.sh: the client does not load libgsecsock from $prefix/lib:" >&2
  ldd "$work/client/client" >&2
  exit 1
fi

step "generating a test PKI"
pki="$work/pki"
"$srcdir/tests/make-test-pki.sh" "$pki" "$work/pki.stamp" >"$work/pki.log" 2>&1 \
  || { cat "$work/pki.log"; exit 1; }

step "starting openssl s_server"
alpn="gsecsock-installed/1"
# Port 0: the kernel picks a free port, which s_server prints as
# "ACCEPT 127.0.0.1:PORT". -naccept 1: it exits after our connection;
# timeout: it can never outlive this script for long.
timeout 120 "$OPENSSL" s_server -accept 127.0.0.1:0 -naccept 1 -rev \
  -cert "$pki/server.pem" -key "$pki/server.key" -cert_chain "$pki/intermediate.pem" \
  -alpn "$alpn" </dev/null >"$work/server.log" 2>&1 &
server_pid=$!

port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$work/server.log")
  [[ -n "$port" ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "run.sh: openssl s_server did not start; its output:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "s_server listening on 127.0.0.1:$port"

step "running the client"
status=0
timeout 60 "$work/client/client" localhost "$port" "$pki/ca.pem" "$alpn" || status=$?

if [[ $status -ne 0 ]]; then
  echo "run.sh: the client failed (exit status $status); s_server said:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

# s_server exits on its own once the client has come and gone.
server_status=0
wait "$server_pid" || server_status=$?
server_pid=
if [[ $server_status -ne 0 ]]; then
  echo "run.sh: s_server exited with status $server_status:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

echo
echo "installed check: OK (installed headers, pkg-config file and library work from outside the tree)"
