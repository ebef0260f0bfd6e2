#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# run-example.sh client|server|starttls
#
# Runs one GJS example against a local peer and checks what both sides
# printed: client.js against `openssl s_server`; server.js and starttls.js
# with `openssl s_client` as their clients. A test of the 'examples' suite
# (see meson.build, which sets GJS, OPENSSL, GSECSOCK_TEST_PKI_DIR,
# GI_TYPELIB_PATH and LD_LIBRARY_PATH).

set -euo pipefail

example=${1:?usage: run-example.sh client|server|starttls}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pki=${GSECSOCK_TEST_PKI_DIR:?GSECSOCK_TEST_PKI_DIR is not set}
gjs=${GJS:-gjs}
openssl=${OPENSSL:-openssl}
work=$(mktemp -d)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL ($example): $*" >&2
  for f in "$work"/*.out; do
    [ -e "$f" ] && { echo "--- $(basename "$f")" >&2; cat "$f" >&2; }
  done
  exit 1
}

# start NAME REGEX COMMAND...: runs COMMAND in the background, its output
# in $work/NAME.out, until it prints a line matching REGEX (an extended
# regex with one group), at most 10 s; sets $started to that group.
start() {
  local name=$1 regex=$2
  shift 2
  : >"$work/$name.out"
  "$@" >>"$work/$name.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    started=$(sed -nE "s/$regex/\\1/p" "$work/$name.out" | head -n 1)
    [ -n "$started" ] && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || fail "$name exited before it was ready"
    sleep 0.1
  done
  fail "$name was not ready within 10 s"
}

# run NAME COMMAND...: runs COMMAND (at most 20 s), its output in
# $work/NAME.out; returns its exit status.
run() {
  local name=$1
  shift
  timeout 20 "$@" >"$work/$name.out" 2>&1
}

# expect NAME TEXT: NAME's output contains the line, or part of line, TEXT.
expect() {
  grep -qF -- "$2" "$work/$1.out" || fail "$1 did not print \"$2\""
}

s_client=("$openssl" s_client -CAfile "$pki/ca.pem" -verify_return_error -verify_hostname localhost -quiet)

case $example in
client)
  start s_server '^ACCEPT .*:([0-9]+)$' \
    "$openssl" s_server -accept 127.0.0.1:0 -naccept 1 -rev \
      -cert "$pki/server.pem" -cert_chain "$pki/intermediate.pem" -key "$pki/server.key"
  run client "$gjs" -m "$here/client.js" localhost "$started" "$pki/ca.pem" || fail "client.js failed"
  expect client 'verify depth 2: CN=gsecsock Test Root CA: ok'
  expect client 'verify depth 0: CN=localhost: ok'
  expect client '  CN=gsecsock Test Intermediate CA'
  expect client 'the server answered: SJG morf olleH'

  # A self-signed server: refused, then accepted with its fingerprint pinned.
  start s_server_self '^ACCEPT .*:([0-9]+)$' \
    "$openssl" s_server -accept 127.0.0.1:0 -naccept 2 -rev \
      -cert "$pki/selfsigned.pem" -key "$pki/selfsigned.key"
  port=$started
  run refused "$gjs" -m "$here/client.js" localhost "$port" "$pki/ca.pem" && fail "client.js accepted a self-signed server"
  expect refused 'verify depth 0: CN=localhost: UNKNOWN_CA, SELF_SIGNED'
  expect refused 'client: '
  pin=$("$openssl" x509 -in "$pki/selfsigned.pem" -noout -fingerprint -sha256 | sed 's/^.*=//')
  run pinned "$gjs" -m "$here/client.js" localhost "$port" "$pki/ca.pem" "--pin=$pin" || fail "client.js refused the pinned server"
  expect pinned 'the server answered: SJG morf olleH'
  ;;

server)
  start server '^listening on port ([0-9]+)$' \
    "$gjs" -m "$here/server.js" "$pki/server-chain.pem" "$pki/server.key" "$pki/bundle.pem" 0 \
      'CN=gsecsock test client' 'CN=someone else'
  port=$started
  echo 'hi there' | run s_client "${s_client[@]}" -connect "127.0.0.1:$port" \
    -cert "$pki/client.pem" -cert_chain "$pki/client-chain.pem" -key "$pki/client.key" \
    || fail "s_client with the allowed certificate failed"
  expect s_client 'Hello CN=gsecsock test client, you said: hi there'
  expect server 'accepted CN=gsecsock test client'

  # Issued by a CA the server does not trust: rejected in the handler.
  echo 'hi there' | run s_client_other "${s_client[@]}" -connect "127.0.0.1:$port" \
    -cert "$pki/client-other.pem" -key "$pki/client-other.key" \
    && fail "s_client with an untrusted certificate got through"
  expect server 'rejected CN=gsecsock other client: UNKNOWN_CA'

  # A trusted certificate, but not on the list.
  start server_strict '^listening on port ([0-9]+)$' \
    "$gjs" -m "$here/server.js" "$pki/server-chain.pem" "$pki/server.key" "$pki/bundle.pem" 0 \
      'CN=someone else'
  echo 'hi there' | run s_client_unlisted "${s_client[@]}" -connect "127.0.0.1:$started" \
    -cert "$pki/client.pem" -cert_chain "$pki/client-chain.pem" -key "$pki/client.key" || true
  for _ in $(seq 50); do
    grep -q 'connection failed' "$work/server_strict.out" && break
    sleep 0.1
  done
  expect server_strict 'rejected CN=gsecsock test client'
  expect server_strict 'connection failed'
  grep -qF 'Hello' "$work/s_client_unlisted.out" && fail "an unlisted client was greeted"
  ;;

starttls)
  start server '^listening on port ([0-9]+)$' \
    "$gjs" -m "$here/starttls.js" "$pki/server-chain.pem" "$pki/server.key" 0
  echo 'hello over TLS' | run s_client "${s_client[@]}" -connect "127.0.0.1:$started" -starttls smtp -crlf \
    || fail "s_client -starttls smtp failed"
  expect s_client '250 over TLS, you said: hello over TLS'
  expect server 'plain: EHLO '
  expect server 'plain: STARTTLS'
  expect server 'upgraded to TLS: '
  expect server 'encrypted: hello over TLS'
  ;;

*)
  fail "unknown example"
  ;;
esac

echo "ok: $example"
