#!/usr/bin/env bash
# Makes a throw-away private CA and a server certificate for 127.0.0.1 and
# localhost, signed by it, in DIR (for the TLS tests of the NCB double):
#   DIR/ca.pem  DIR/server.pem  DIR/server.key  (and DIR/other-ca.pem, a CA
#   that signed nothing, to show that trusting the wrong CA fails).
# Valid for two days; the keys never leave DIR.
set -euo pipefail
dir=${1:?usage: make_test_ca.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077
ossl() { openssl "$@" 2>/dev/null; }
for ca in ca other-ca; do
  ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$ca.key" -out "$ca.pem" -subj "/CN=ncbocr test $ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
done
ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
  "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" > server.ext
ossl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile server.ext -out server.pem
chmod 644 ca.pem other-ca.pem server.pem
