#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# make-test-pki.sh OUTDIR STAMPFILE
#
# Builds the throw-away PKI the test suite runs against, with the openssl CLI
# (${OPENSSL:-openssl}): P-256 keys, SHA-256 signatures. Nothing of it is ever
# committed; it is regenerated on every build so no test certificate can
# expire under the suite. OUTDIR is replaced as a whole (the PKI is built in a
# scratch directory next to it and moved into place only once complete), then
# STAMPFILE is touched. Quiet on success; on failure it prints the failing
# command with its output and exits non-zero.
#
# Files (all PEM unless said otherwise):
#   ca.pem ca.key                    root CA "gsecsock Test Root CA"
#   intermediate.pem .key            intermediate CA signed by the root
#   bundle.pem                       ca.pem + intermediate.pem
#   server.pem .key                  CN=localhost, SAN DNS:localhost, IP:127.0.0.1,
#                                    IP:::1, serverAuth; signed by the intermediate
#   server-chain.pem                 server.pem + intermediate.pem
#   server.der                       server.pem in DER
#   client.pem .key client-chain.pem CN=gsecsock test client, clientAuth
#   expired.pem .key -chain.pem      localhost leaf valid 2020-01-01..2021-01-01
#   notyet.pem .key -chain.pem       localhost leaf valid 2040-01-01..2045-01-01
#   wronghost.pem .key -chain.pem    leaf for DNS:wrong.example only
#   selfsigned.pem .key              self-signed localhost leaf (CA:FALSE)
#   untrusted-ca.pem .key            a root nobody trusts
#   constrained-ca.pem .key          a root limited to DNS names under .example.com
#   constrained.pem .key -chain.pem  localhost leaf signed by constrained-ca
#                                    (violates its name constraint)
#   untrusted.pem .key -chain.pem    localhost leaf signed by untrusted-ca;
#                                    chain = leaf + untrusted-ca
#   encrypted.key                    server.key as encrypted PKCS#8 (AES-256-CBC,
#                                    password "secret")
#   encrypted-traditional.key        server.key as a traditional encrypted PEM key
#                                    ("BEGIN EC PRIVATE KEY", "Proc-Type: 4,ENCRYPTED",
#                                    AES-256-CBC, password "secret")
#   server.p12                       PKCS#12 (DER): server.pem + server.key +
#                                    intermediate.pem, password "secret"
#   server-nopass.p12                the same exported with an empty password
#                                    (loads without asking for one)
#   client.p12                       PKCS#12: client.pem + client.key +
#                                    intermediate.pem, password "secret"
#   client-other.pem .key -chain.pem a second client certificate, CN=gsecsock other
#                                    client, clientAuth, signed by untrusted-ca
#                                    (chain = leaf + untrusted-ca): with client.pem,
#                                    two client certificates to choose between by
#                                    issuer
#   alpha.pem .key -chain.pem        SNI virtual host: CN=alpha.test, SAN DNS:alpha.test,
#                                    serverAuth; signed by the intermediate
#   beta.pem .key -chain.pem         SNI virtual host: CN=beta.test, SAN DNS:beta.test,
#                                    DNS:*.beta.test, serverAuth; signed by the
#                                    intermediate
#   store-NAME.pem .key             certificate store leaves, signed by the
#                                    intermediate, serverAuth + clientAuth, SAN DNS
#                                    NAME.store.test and CN the same, for NAME in
#                                    web (also SAN DNS:localhost, IP:127.0.0.1,
#                                    IP:::1), mail, ftp, secure, nokey, and dup-a
#                                    and dup-b (both also CN and SAN DNS
#                                    dup.store.test)
#   store/                           a certificate store directory built from them:
#     web.pem web.key                  certificate and unencrypted key, apart
#     intermediate.pem                 the intermediate (chains are built from it)
#     mail.p12                         PKCS#12, password "secret", friendly name
#                                      "Store Mail", with the intermediate
#     ftp.der ftp-key.der              DER certificate and DER (PKCS#8) key
#     dup-a.pem                        certificate + key in one file
#     dup-b.pem dup-b.key              another certificate with the same name
#     secure.pem secure.key            certificate and encrypted PKCS#8 key
#                                      (AES-256-CBC, password "secret")
#     nokey.pem                        a certificate whose key is not in the store
#     notes.txt                        not a certificate (skipped)
#   revoked.pem .key -chain.pem      localhost leaf signed by the intermediate, revoked
#                                    (listed in intermediate.crl.pem)
#   intermediate.crl.pem             CRL of the intermediate (PEM), listing revoked.pem;
#                                    valid from now for ten years
#   intermediate.crl.der             the same CRL in DER
#   intermediate-expired.crl.pem     a CRL of the intermediate valid 2020-01-01..2021-01-01
#                                    (expired), listing nothing
#   ca.crl.pem                       CRL of the root CA, listing revoked-intermediate.pem
#   crl-bundle.pem                   ca.crl.pem + intermediate.crl.pem in one file
#   revoked-intermediate.pem .key    intermediate CA "gsecsock Revoked Intermediate CA"
#                                    signed by the root, revoked (in ca.crl.pem)
#   revoked-intermediate.crl.pem     its own CRL, listing nothing
#   under-revoked.pem .key -chain.pem  localhost leaf signed by revoked-intermediate
#                                    (chain = leaf + revoked-intermediate)

set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 OUTDIR STAMPFILE" >&2
  exit 2
fi

OPENSSL=${OPENSSL:-openssl}
outdir=$1
stampfile=$2

if ! command -v "$OPENSSL" >/dev/null 2>&1; then
  echo "$0: openssl binary \"$OPENSSL\" not found (set OPENSSL)" >&2
  exit 1
fi

# Normal certificates: valid from now for a few years.
ca_days=3650
leaf_days=1095

parent=$(dirname -- "$outdir")
mkdir -p -- "$parent"
# Build next to OUTDIR so the final mv is a rename on the same file system.
work=$(mktemp -d "$parent/.make-test-pki.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
pki=$work/pki
tmp=$work/tmp
mkdir -p "$pki" "$tmp"
log=$tmp/log

# Runs a command with its output captured; shows it only when it fails.
run () {
  if ! "$@" >"$log" 2>&1; then
    echo "$0: command failed: $*" >&2
    cat "$log" >&2
    exit 1
  fi
}

new_key () {
  run "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$pki/$1.key"
}

new_csr () { # name subject
  run "$OPENSSL" req -new -config "$tmp/req.cnf" -sha256 -key "$pki/$1.key" \
    -subj "$2" -out "$tmp/$1.csr"
}

random_serial () {
  # 127 random bits: positive and well under the 20-octet limit of RFC 5280.
  local hex
  hex=$("$OPENSSL" rand -hex 16)
  printf '0x%x%s' $(( 0x${hex:0:1} & 7 )) "${hex:1}"
}

# Requests carry only the subject (extensions are added at signing): a
# config of our own keeps the system's openssl.cnf out of the result.
cat >"$tmp/req.cnf" <<'EOF'
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = unused
EOF

# Extension sections, one file for all; picked with -extensions.
cat >"$tmp/ext.cnf" <<'EOF'
[root_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[constrained_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
nameConstraints = critical, permitted;DNS:.example.com
subjectKeyIdentifier = hash

[intermediate_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[wronghost]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

# No keyUsage: a self-signed leaf that lists keyUsage without keyCertSign
# cannot be used as its own trust anchor by OpenSSL, and tests may want to
# trust (pin) it explicitly.
[selfsigned]
basicConstraints = critical, CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
EOF

# A minimal "openssl ca" setup, needed only for explicit validity dates
# (openssl x509 -req of OpenSSL 3.0 cannot set them).
mkdir -p "$tmp/ca/newcerts"
: >"$tmp/ca/index.txt"
cat >"$tmp/ca/ca.cnf" <<EOF
[ca]
default_ca = test_ca

[test_ca]
dir = $tmp/ca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
rand_serial = yes
unique_subject = no
default_md = sha256
policy = policy_any
email_in_dn = no
preserve = yes
copy_extensions = none

[policy_any]
commonName = supplied
EOF

self_sign () { # name extensions-section
  run "$OPENSSL" x509 -req -sha256 -days "$ca_days" -in "$tmp/$1.csr" \
    -key "$pki/$1.key" -set_serial "$(random_serial)" \
    -extfile "$tmp/ext.cnf" -extensions "$2" -out "$pki/$1.pem"
}

sign () { # name issuer extensions-section [days]
  run "$OPENSSL" x509 -req -sha256 -days "${4:-$leaf_days}" -in "$tmp/$1.csr" \
    -CA "$pki/$2.pem" -CAkey "$pki/$2.key" -set_serial "$(random_serial)" \
    -extfile "$tmp/ext.cnf" -extensions "$3" -out "$pki/$1.pem"
}

sign_dated () { # name issuer extensions-section startdate enddate
  run "$OPENSSL" ca -batch -notext -config "$tmp/ca/ca.cnf" \
    -cert "$pki/$2.pem" -keyfile "$pki/$2.key" -in "$tmp/$1.csr" \
    -extfile "$tmp/ext.cnf" -extensions "$3" \
    -startdate "$4" -enddate "$5" -out "$pki/$1.pem"
}

leaf () { # name subject issuer extensions-section
  new_key "$1"
  new_csr "$1" "$2"
  sign "$1" "$3" "$4"
}

chain () { # name issuer
  cat "$pki/$1.pem" "$pki/$2.pem" >"$pki/$1-chain.pem"
}

# Roots and intermediate.
new_key ca
new_csr ca "/CN=gsecsock Test Root CA"
self_sign ca root_ca

new_key intermediate
new_csr intermediate "/CN=gsecsock Test Intermediate CA"
sign intermediate ca intermediate_ca "$ca_days"
cat "$pki/ca.pem" "$pki/intermediate.pem" >"$pki/bundle.pem"

new_key untrusted-ca
new_csr untrusted-ca "/CN=gsecsock Untrusted CA"
self_sign untrusted-ca root_ca

# A root that may only vouch for names under .example.com: OpenSSL reports
# its violation late, after the leaf's own checks.
new_key constrained-ca
new_csr constrained-ca "/CN=gsecsock Constrained CA"
self_sign constrained-ca constrained_ca

# Leaves.
leaf server "/CN=localhost" intermediate server
chain server intermediate
run "$OPENSSL" x509 -in "$pki/server.pem" -outform DER -out "$pki/server.der"
run "$OPENSSL" pkcs8 -topk8 -v2 aes-256-cbc -in "$pki/server.key" \
  -passout pass:secret -out "$pki/encrypted.key"

# "openssl ec" of OpenSSL 3 writes EC keys in the traditional form (with a
# Proc-Type header when encrypted); checked below all the same.
run "$OPENSSL" ec -in "$pki/server.key" -aes256 -passout pass:secret \
  -out "$pki/encrypted-traditional.key"
if ! grep -q '^Proc-Type: 4,ENCRYPTED' "$pki/encrypted-traditional.key"; then
  echo "$0: encrypted-traditional.key is not a traditional encrypted PEM key" >&2
  exit 1
fi

leaf client "/CN=gsecsock test client" intermediate client
chain client intermediate

leaf client-other "/CN=gsecsock other client" untrusted-ca client
chain client-other untrusted-ca

# PKCS#12 (OpenSSL 3 defaults: AES-256-CBC, PBKDF2, SHA-256 MAC). stdin is
# /dev/null so that nothing can ever wait for a typed password.
p12 () { # output leaf password
  run "$OPENSSL" pkcs12 -export -in "$pki/$2.pem" -inkey "$pki/$2.key" \
    -certfile "$pki/intermediate.pem" -name "$2" -passout "pass:$3" \
    -out "$pki/$1" </dev/null
}
p12 server.p12 server secret
p12 server-nopass.p12 server ""
p12 client.p12 client secret

leaf wronghost "/CN=wrong.example" intermediate wronghost
chain wronghost intermediate

leaf untrusted "/CN=localhost" untrusted-ca server
chain untrusted untrusted-ca

leaf constrained "/CN=localhost" constrained-ca server
chain constrained constrained-ca

new_key expired
new_csr expired "/CN=localhost"
sign_dated expired intermediate server 20200101000000Z 20210101000000Z
chain expired intermediate

new_key notyet
new_csr notyet "/CN=localhost"
sign_dated notyet intermediate server 20400101000000Z 20450101000000Z
chain notyet intermediate

new_key selfsigned
new_csr selfsigned "/CN=localhost"
self_sign selfsigned selfsigned

# SNI virtual hosts: one certificate per name, for a server that picks by
# the name the client asks for.
cat >>"$tmp/ext.cnf" <<'EOF'

[sni_alpha]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:alpha.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[sni_beta]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:beta.test, DNS:*.beta.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
leaf alpha "/CN=alpha.test" intermediate sni_alpha
chain alpha intermediate
leaf beta "/CN=beta.test" intermediate sni_beta
chain beta intermediate
for f in alpha.pem alpha.key alpha-chain.pem beta.pem beta.key beta-chain.pem; do
  if [ ! -s "$pki/$f" ]; then
    echo "$0: $f was not created" >&2
    exit 1
  fi
done

# A certificate store directory: certificates and keys in every form a
# store reads (see the header). The store-*.pem files beside it are the
# same certificates, for the tests to compare with.
mkdir -p "$pki/store"
store_leaf () { # name extra-SAN [CN]
  cat >>"$tmp/ext.cnf" <<EOF

[store_$1]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:$1.store.test$2
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
  leaf "store-$1" "/CN=${3:-$1.store.test}" intermediate "store_$1"
}
store_leaf web ", DNS:localhost, IP:127.0.0.1, IP:::1"
store_leaf mail ""
store_leaf ftp ""
store_leaf dup-a ", DNS:dup.store.test" dup.store.test
store_leaf dup-b ", DNS:dup.store.test" dup.store.test
store_leaf secure ""
store_leaf nokey ""
cp "$pki/store-web.pem" "$pki/store/web.pem"
cp "$pki/store-web.key" "$pki/store/web.key"
cp "$pki/intermediate.pem" "$pki/store/intermediate.pem"
run "$OPENSSL" pkcs12 -export -in "$pki/store-mail.pem" -inkey "$pki/store-mail.key" \
  -certfile "$pki/intermediate.pem" -name "Store Mail" -passout pass:secret \
  -out "$pki/store/mail.p12" </dev/null
run "$OPENSSL" x509 -in "$pki/store-ftp.pem" -outform DER -out "$pki/store/ftp.der"
run "$OPENSSL" pkey -in "$pki/store-ftp.key" -outform DER -out "$pki/store/ftp-key.der"
cat "$pki/store-dup-a.pem" "$pki/store-dup-a.key" >"$pki/store/dup-a.pem"
cp "$pki/store-dup-b.pem" "$pki/store/dup-b.pem"
cp "$pki/store-dup-b.key" "$pki/store/dup-b.key"
cp "$pki/store-secure.pem" "$pki/store/secure.pem"
run "$OPENSSL" pkcs8 -topk8 -v2 aes-256-cbc -in "$pki/store-secure.key" \
  -passout pass:secret -out "$pki/store/secure.key"
cp "$pki/store-nokey.pem" "$pki/store/nokey.pem"
echo "Not a certificate: a certificate store skips this file." >"$pki/store/notes.txt"
for f in store-web.pem store-mail.pem store-ftp.pem store-dup-a.pem store-dup-b.pem \
         store-secure.pem store-nokey.pem \
         store/web.pem store/web.key store/intermediate.pem store/mail.p12 store/ftp.der \
         store/ftp-key.der store/dup-a.pem store/dup-b.pem store/dup-b.key \
         store/secure.pem store/secure.key store/nokey.pem store/notes.txt; do
  if [ ! -s "$pki/$f" ]; then
    echo "$0: $f was not created" >&2
    exit 1
  fi
done

# Revocation: a revoked leaf, a revoked intermediate (with a leaf of its
# own) and the CRLs of their issuers. "openssl ca" keeps a database per
# issuer of what it revoked; -revoke adds certificates it did not issue.
crl_db () { # issuer
  mkdir -p "$tmp/crl-$1"
  : >"$tmp/crl-$1/index.txt"
  cat >"$tmp/crl-$1/ca.cnf" <<EOF
[ca]
default_ca = crl_ca

[crl_ca]
database = $tmp/crl-$1/index.txt
default_md = sha256
unique_subject = no
EOF
}
revoke () { # issuer certificate
  run "$OPENSSL" ca -batch -config "$tmp/crl-$1/ca.cnf" -cert "$pki/$1.pem" \
    -keyfile "$pki/$1.key" -revoke "$pki/$2.pem" -crl_reason keyCompromise
}
gen_crl () { # issuer output [lastupdate nextupdate]
  local dates=(-crldays "$ca_days")
  if [ "$#" -ge 4 ]; then
    dates=(-crl_lastupdate "$3" -crl_nextupdate "$4")
  fi
  run "$OPENSSL" ca -batch -gencrl -config "$tmp/crl-$1/ca.cnf" -cert "$pki/$1.pem" \
    -keyfile "$pki/$1.key" "${dates[@]}" -out "$pki/$2"
}

leaf revoked "/CN=localhost" intermediate server
chain revoked intermediate

new_key revoked-intermediate
new_csr revoked-intermediate "/CN=gsecsock Revoked Intermediate CA"
sign revoked-intermediate ca intermediate_ca "$ca_days"
leaf under-revoked "/CN=localhost" revoked-intermediate server
chain under-revoked revoked-intermediate

crl_db intermediate
gen_crl intermediate intermediate-expired.crl.pem 20200101000000Z 20210101000000Z
revoke intermediate revoked
gen_crl intermediate intermediate.crl.pem
run "$OPENSSL" crl -in "$pki/intermediate.crl.pem" -outform DER -out "$pki/intermediate.crl.der"

crl_db ca
revoke ca revoked-intermediate
gen_crl ca ca.crl.pem
cat "$pki/ca.crl.pem" "$pki/intermediate.crl.pem" >"$pki/crl-bundle.pem"

crl_db revoked-intermediate
gen_crl revoked-intermediate revoked-intermediate.crl.pem

for f in revoked.pem revoked.key revoked-chain.pem intermediate.crl.pem \
         intermediate.crl.der intermediate-expired.crl.pem ca.crl.pem crl-bundle.pem \
         revoked-intermediate.pem revoked-intermediate.key revoked-intermediate.crl.pem \
         under-revoked.pem under-revoked.key under-revoked-chain.pem; do
  if [ ! -s "$pki/$f" ]; then
    echo "$0: $f was not created" >&2
    exit 1
  fi
done

# Every promised file must be there and non-empty before OUTDIR is replaced.
for f in ca.pem ca.key intermediate.pem intermediate.key bundle.pem \
         server.pem server.key server-chain.pem server.der encrypted.key \
         encrypted-traditional.key server.p12 server-nopass.p12 \
         client.pem client.key client-chain.pem client.p12 \
         client-other.pem client-other.key client-other-chain.pem \
         expired.pem expired.key expired-chain.pem \
         notyet.pem notyet.key notyet-chain.pem \
         wronghost.pem wronghost.key wronghost-chain.pem \
         selfsigned.pem selfsigned.key \
         untrusted-ca.pem untrusted-ca.key \
         untrusted.pem untrusted.key untrusted-chain.pem; do
  if [ ! -s "$pki/$f" ]; then
    echo "$0: $f was not created" >&2
    exit 1
  fi
done

rm -rf -- "$outdir"
mv -- "$pki" "$outdir"
touch -- "$stampfile"
