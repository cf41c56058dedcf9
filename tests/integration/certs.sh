#!/bin/sh
# certs.sh DIR - makes test certificates with openssl in DIR (created if
# missing; existing files are replaced). Every key is EC P-256, unencrypted.
#   ca.pem ca.key                 a private CA ("verdict test CA")
#   good.pem good.key             leaf for 127.0.0.1, ::1 and localhost, signed by
#                                 the CA, valid now (serverAuth)
#   expired.pem expired.key       like good, signed by the CA, expired in 2020
#   wronghost.pem wronghost.key   signed by the CA, for wrong.example.com only
#   self.pem self.key             self-signed, for 127.0.0.1 and localhost
#   client.pem client.key         client certificate (clientAuth) signed by the CA
# Prints nothing on success; exits non-zero (with openssl's message) on failure.
# Usage from bash tests:  sh "$(dirname "$0")/certs.sh" "$T/certs"
set -eu

[ $# -eq 1 ] || { echo "usage: certs.sh DIR" >&2; exit 2; }
d=$1
mkdir -p "$d"
cd "$d"
log=certs.log
: > "$log"
trap 'rc=$?; [ $rc -eq 0 ] || cat "$log" >&2' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>>"$log"; }

# The CA, with the minimal `openssl ca` setup the expired leaf needs
# (`openssl x509 -req` cannot backdate in OpenSSL 3.0).
key ca.key
openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=verdict test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem 2>>"$log"
rm -rf ca.db && mkdir ca.db
: > ca.db/index.txt
echo 1000 > ca.db/serial
cat > ca.cnf <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = ca.db
database = ca.db/index.txt
new_certs_dir = ca.db
serial = ca.db/serial
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ server ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = \$ENV::SAN
[ client ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
EOF

# sign NAME CN SAN EXT [openssl ca date options...]
sign() {
	name=$1 cn=$2 san=$3 ext=$4
	shift 4
	key "$name.key"
	openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr" 2>>"$log"
	SAN=$san openssl ca -batch -config ca.cnf -extensions "$ext" -notext \
		-in "$name.csr" -out "$name.pem" "$@" 2>>"$log"
	rm -f "$name.csr"
}

sign good 127.0.0.1 "IP:127.0.0.1,IP:::1,DNS:localhost" server -days 825
sign expired 127.0.0.1 "IP:127.0.0.1,IP:::1,DNS:localhost" server \
	-startdate 20200101000000Z -enddate 20200201000000Z
sign wronghost wrong.example.com "DNS:wrong.example.com" server -days 825
sign client "verdict test client" "DNS:unused" client -days 825

key self.key
openssl req -x509 -new -key self.key -sha256 -days 825 -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -out self.pem 2>>"$log"

rm -rf ca.db ca.cnf "$log"
