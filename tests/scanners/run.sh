#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Scans gsecsock's default TLS configuration with testssl.sh and sslscan, as
# a server administrator would scan a deployment.
#
#  1. generates a throw-away test PKI (tests/make-test-pki.sh);
#  2. starts `gsecsock serve --http` from BUILDDIR on a free loopback port,
#     with the PKI's server certificate and nothing else: every TLS setting
#     is the library's default;
#  3. runs testssl.sh (Debian package testssl.sh, program `testssl`; the
#     test CA is added with --add-ca, so that its checks are about the
#     configuration, not about a CA no system trusts) and sslscan;
#  4. saves their outputs in BUILDDIR/scanner-results/, writes a summary
#     there (summary.md) and to tests/scanners/latest-summary.md (commit it
#     when it changes), and fails if:
#       - testssl.sh reports anything "VULNERABLE" or "NOT ok",
#       - testssl.sh or sslscan finds SSLv2, SSLv3, TLS 1.0 or TLS 1.1
#         offered,
#       - the server could not be scanned.
#
# Not part of `meson test` or CI (tools/quickstart.sh): it takes minutes,
# and it judges OpenSSL's and Debian's defaults as much as gsecsock's. Run
# it when the defaults, OpenSSL or the scanners change.
#
# Usage: tests/scanners/run.sh [BUILDDIR]   (default: _build)
# Needs: apt-get install testssl.sh sslscan

set -euo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
builddir=$(cd "${1:-$srcdir/_build}" && pwd)
tool="$builddir/tools/gsecsock"
results="$builddir/scanner-results"
summary_copy="$srcdir/tests/scanners/latest-summary.md"

for program in testssl sslscan openssl; do
  if ! command -v "$program" >/dev/null; then
    echo "run.sh: $program is not installed: apt-get install testssl.sh sslscan openssl" >&2
    exit 1
  fi
done
if [[ ! -x "$tool" ]]; then
  echo "run.sh: $tool not found: build first (meson compile -C $builddir)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gsecsock-scanners.XXXXXX")
server_pid=
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== scanners: %s\n' "$*"; }

rm -rf "$results"
mkdir -p "$results"

step "generating a test PKI"
pki="$work/pki"
"$srcdir/tests/make-test-pki.sh" "$pki" "$work/pki.stamp" >"$work/pki.log" 2>&1 \
  || { cat "$work/pki.log"; exit 1; }

# The scanned certificate is shaped like a public server certificate: 90
# days, and where its revocation would be published (URIs on localhost that
# nothing fetches: testssl.sh runs without --phone-out). The test PKI's
# leaves have neither, which testssl.sh rightly reports as "NOT ok", but
# that is about a certificate, and this scan is about gsecsock's defaults.
step "issuing the scanner's server certificate"
cat >"$work/leaf.ext" <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://localhost/gsecsock-test-intermediate.crl
authorityInfoAccess = OCSP;URI:http://localhost/ocsp, caIssuers;URI:http://localhost/gsecsock-test-intermediate.crt
EXT
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$work/leaf.key" -subj "/CN=localhost" -out "$work/leaf.csr" 2>"$work/leaf.log" \
  && openssl x509 -req -in "$work/leaf.csr" -CA "$pki/intermediate.pem" \
       -CAkey "$pki/intermediate.key" -CAcreateserial -days 90 -sha256 \
       -extfile "$work/leaf.ext" -out "$work/leaf.pem" 2>>"$work/leaf.log" \
  || { cat "$work/leaf.log"; exit 1; }
cat "$work/leaf.pem" "$pki/intermediate.pem" >"$work/leaf-chain.pem"

step "starting gsecsock serve"
# Port 0: the system picks a free port, which serve prints. timeout: the
# server can never outlive this script for long.
timeout 1800 "$tool" serve --http --address 127.0.0.1 --port 0 \
  --cert "$work/leaf-chain.pem" --key "$work/leaf.key" --color=never \
  </dev/null >"$results/server.log" 2>&1 &
server_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/^Listening on 127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' "$results/server.log")
  [[ -n "$port" ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "run.sh: gsecsock serve did not start; its output:" >&2
  cat "$results/server.log" >&2
  exit 1
fi
echo "gsecsock serve listening on 127.0.0.1:$port"

step "running testssl.sh (a few minutes)"
# The certificate is for localhost (and 127.0.0.1): scan that name at that
# address, without any DNS lookup (there is no network in CI).
testssl_status=0
testssl --quiet --color 0 --warnings off --nodns none --ip 127.0.0.1 \
  --add-ca "$pki/ca.pem" --openssl-timeout 10 --connect-timeout 10 \
  --logfile "$results/testssl.log" --jsonfile "$results/testssl.json" \
  "localhost:$port" >/dev/null 2>"$results/testssl.stderr" || testssl_status=$?
# testssl.sh's exit status counts its findings; what counts here is judged
# from its log and JSON below. Only a status past that range means it broke.
if [[ ! -s "$results/testssl.json" ]]; then
  echo "run.sh: testssl.sh wrote no results (exit status $testssl_status):" >&2
  cat "$results/testssl.stderr" "$results/testssl.log" >&2 2>/dev/null || true
  exit 1
fi

step "running sslscan"
sslscan --no-colour --show-certificate --show-sigs --sni-name=localhost \
  --xml="$results/sslscan.xml" "127.0.0.1:$port" >"$results/sslscan.txt" 2>&1 \
  || { echo "run.sh: sslscan failed:" >&2; cat "$results/sslscan.txt" >&2; exit 1; }

kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=

step "judging the results"
versions=$(printf 'gsecsock %s; %s; testssl.sh %s; sslscan %s' \
  "$("$tool" --version 2>/dev/null | head -n1 | sed 's/^gsecsock //')" \
  "$(openssl version)" \
  "$(dpkg-query -W -f '${Version}' testssl.sh 2>/dev/null || echo unknown)" \
  "$(dpkg-query -W -f '${Version}' sslscan 2>/dev/null || echo unknown)")
status=0
/usr/bin/env python3 "$srcdir/tests/scanners/judge.py" "$results" "$versions" \
  >"$results/summary.md" || status=$?
cp "$results/summary.md" "$summary_copy"
cat "$results/summary.md"
echo
echo "scanners: outputs in $results; summary copied to ${summary_copy#"$srcdir"/}"
if [[ $status -ne 0 ]]; then
  echo "scanners: FAILED (see the findings above)" >&2
  exit 1
fi
echo "scanners: OK"
