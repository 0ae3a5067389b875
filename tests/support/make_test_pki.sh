#!/bin/sh
# Generates, in directory $1, the certificates the TLS tests need, fresh on
# every run so no key or expiry date lives in the repository:
#   ca.pem / ca.key            the test CA (the tests' ca_file)
#   cadir/ca.pem               the same, alone in a directory (for ca_directory)
#   good.pem / good.key        localhost and 127.0.0.1, signed by the CA
#   expired.pem / expired.key  localhost, signed by the CA, valid only in 2020
#   wrong.pem / wrong.key      wrong.example only, signed by the CA
#   rogue-ca.pem               a second CA the client does not trust
#   untrusted.pem / .key       localhost, signed by the rogue CA
#   client.pem / client.key    a client certificate signed by the CA
#   revoked.pem / revoked.key  localhost, signed by the CA, then revoked
#   crl.pem                    the CA's revocation list, naming revoked.pem
set -eu
dir=$1
cd "$dir"
quiet() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@"; exit 1; }; }

make_ca() {  # name
  quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 2 \
    -subj "/CN=uvinet test $1" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign
}

# `openssl ca` is the one command that takes explicit validity dates (for
# the expired certificate); it wants a small database of its own.
ca_config() {  # ca-name
  mkdir -p "db-$1"
  : >"db-$1/index.txt"
  cat >"$1.cnf" <<CONF
[ca]
default_ca = this
[this]
database = db-$1/index.txt
new_certs_dir = db-$1
serial = db-$1/serial
certificate = $1.pem
private_key = $1.key
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[anything]
commonName = supplied
CONF
  [ -f "db-$1/serial" ] || echo 01 >"db-$1/serial"
}

issue() {  # ca-name leaf-name subject-alt-names startdate enddate [extended-key-usage]
  quiet openssl req -newkey rsa:2048 -nodes -keyout "$2.key" -out "$2.csr" -subj "/CN=$2" \
    -addext "subjectAltName=$3" -addext "extendedKeyUsage=${6:-serverAuth}"
  quiet openssl ca -batch -config "$1.cnf" -in "$2.csr" -out "$2.pem" -notext \
    -startdate "$4" -enddate "$5"
}

now=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
later=$(date -u -d '+2 days' +%Y%m%d%H%M%SZ)
make_ca ca
make_ca rogue-ca
ca_config ca
ca_config rogue-ca
issue ca good "DNS:localhost,IP:127.0.0.1" "$now" "$later"
issue ca expired "DNS:localhost,IP:127.0.0.1" 20200101000000Z 20200102000000Z
issue ca wrong "DNS:wrong.example" "$now" "$later"
issue rogue-ca untrusted "DNS:localhost,IP:127.0.0.1" "$now" "$later"
issue ca client "DNS:client.example" "$now" "$later" clientAuth
issue ca revoked "DNS:localhost,IP:127.0.0.1" "$now" "$later"
quiet openssl ca -config ca.cnf -revoke revoked.pem
quiet openssl ca -config ca.cnf -gencrl -crldays 2 -out crl.pem
mkdir cadir
cp ca.pem cadir/
