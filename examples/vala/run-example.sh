#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# run-example.sh client|server|starttls EXAMPLE PKI-DIR
#
# Runs one of the Vala examples against a local peer, as a test of the
# 'examples' suite, and checks what it printed: the client against
# `openssl s_server -www`, the server with `openssl s_client` presenting
# the test client certificate, STARTTLS on its own (both ends are in it).
# Uses ${OPENSSL:-openssl}. Every process is bounded by `timeout`.

set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 client|server|starttls EXAMPLE PKI-DIR" >&2
  exit 2
fi
mode=$1 example=$2 pki=$3
openssl=${OPENSSL:-openssl}
work=$(mktemp -d)
peer=
cleanup() {
  if [[ -n $peer ]]; then kill "$peer" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for log in "$work"/*.log; do
    [[ -f $log ]] && { echo "--- $(basename "$log"):" >&2; cat "$log" >&2; }
  done
  exit 1
}

# Waits up to 10 s for a line matching the extended regex $2 in file $1 and
# prints its last number.
wait_for_port() {
  for _ in $(seq 100); do
    if line=$(grep -E -m1 "$2" "$1"); then
      grep -Eo '[0-9]+$' <<<"$line"
      return 0
    fi
    sleep 0.1
  done
  fail "no line matching '$2' in $(basename "$1")"
}

expect() { # file fixed-string
  grep -qF -- "$2" "$1" || fail "'$2' not in $(basename "$1")"
}

# openssl s_server on a free port, for one connection; sets $port.
start_s_server() { # cert key [intermediates]
  local chain=()
  [[ $# -gt 2 ]] && chain=(-cert_chain "$pki/$3")
  timeout 30 "$openssl" s_server -accept 127.0.0.1:0 -naccept 1 -www \
    -cert "$pki/$1" -key "$pki/$2" "${chain[@]}" >"$work/s_server.log" 2>&1 &
  peer=$!
  port=$(wait_for_port "$work/s_server.log" '^ACCEPT [^ ]+:[0-9]+$')
}

# The server example, then openssl s_client with the given client
# certificate; sets $status to the example's exit status.
run_server_example() { # client-cert client-chain client-key
  timeout 30 "$example" "$pki/server-chain.pem" "$pki/server.key" "$pki/ca.pem" 0 \
    >"$work/example.log" 2>&1 &
  peer=$!
  port=$(wait_for_port "$work/example.log" '^listening on port [0-9]+$')
  timeout 30 "$openssl" s_client -connect "127.0.0.1:$port" -servername localhost \
    -CAfile "$pki/ca.pem" -verify_return_error \
    -cert "$pki/$1" -cert_chain "$pki/$2" -key "$pki/$3" \
    -ign_eof -quiet </dev/null >"$work/s_client.log" 2>&1 || true
  status=0
  wait "$peer" || status=$?
  peer=
}

case "$mode" in
  client)
    start_s_server server.pem server.key intermediate.pem
    timeout 30 "$example" 127.0.0.1 "$port" "$pki/ca.pem" >"$work/example.log" 2>&1 \
      || fail "the client exited with status $?"
    expect "$work/example.log" 'depth 2: CN=gsecsock Test Root CA'
    expect "$work/example.log" 'depth 0: CN=localhost'
    expect "$work/example.log" 'HTTP/1.0 200 ok'
    cat "$work/example.log"

    # A self-signed server: the handler refuses it.
    kill "$peer" 2>/dev/null || true
    start_s_server selfsigned.pem selfsigned.key
    status=0
    timeout 30 "$example" 127.0.0.1 "$port" "$pki/ca.pem" >"$work/example.log" 2>&1 || status=$?
    [[ $status -eq 1 ]] || fail "the client exited with status $status, not 1, for a self-signed server"
    expect "$work/example.log" 'rejected: GSECSOCK_CERTIFICATE_UNKNOWN_CA | GSECSOCK_CERTIFICATE_SELF_SIGNED'
    ;;
  server)
    run_server_example client.pem intermediate.pem client.key
    [[ $status -eq 0 ]] || fail "the server exited with status $status"
    expect "$work/s_client.log" 'Hello, CN=gsecsock test client'
    expect "$work/example.log" 'client certificate 0: CN=gsecsock test client: accepted'
    cat "$work/example.log"

    # A client certificate from a CA the server does not trust: refused.
    run_server_example client-other.pem untrusted-ca.pem client-other.key
    [[ $status -eq 1 ]] || fail "the server exited with status $status, not 1, for an untrusted client"
    expect "$work/example.log" 'CN=gsecsock Untrusted CA: refused'
    if grep -q Hello "$work/s_client.log"; then fail "an untrusted client was greeted"; fi
    ;;
  starttls)
    timeout 30 "$example" "$pki/server-chain.pem" "$pki/server.key" "$pki/ca.pem" \
      >"$work/example.log" 2>&1 || fail "starttls exited with status $?"
    expect "$work/example.log" 'client: TLS with '
    expect "$work/example.log" 'server got: ping'
    expect "$work/example.log" 'client got: pong'
    ;;
  *)
    echo "$0: unknown example '$mode'" >&2
    exit 2
    ;;
esac
cat "$work/example.log"
