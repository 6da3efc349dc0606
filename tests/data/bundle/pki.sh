# Test PKI for the bundle integration tests, made fresh at test time with the openssl CLI.
# Source it after tests/integration/lib.sh:  . "$FORAGE_SRC/tests/data/bundle/pki.sh"; make_pki DIR
#   ca.pem/ca.key         a test CA (grid style DN)
#   host.pem/host.key     host certificate signed by it: serverAuth+clientAuth, like a grid host cert
#   other.pem/other.key   a second CA-signed host certificate (an unrelated signer)
#   rogue.pem/rogue.key   a self-signed certificate with the host's DN (an impostor)
#   csirt.pem/csirt.key   RSA recipient for encryption;  csirt-ec.pem/.key  EC recipient
#   ed.pem                a bare Ed25519 key
make_pki() {
  local d=$1
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 \
      -subj "/DC=org/DC=forage-test/CN=Forage Test CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' >host.ext
    for n in host other; do
      openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj "/DC=org/DC=forage-test/CN=$n.forage-test.org"
      openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 30 -extfile host.ext
    done
    openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 30 \
      -subj "/DC=org/DC=forage-test/CN=host.forage-test.org"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout csirt.key -out csirt.pem -days 30 -subj "/CN=CSIRT"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout csirt-ec.key \
      -out csirt-ec.pem -days 30 -subj "/CN=CSIRT EC"
    openssl genpkey -algorithm ed25519 -out ed.pem
  ) >/dev/null 2>&1
  [ -s "$d/host.pem" ] && [ -s "$d/ed.pem" ] && [ -s "$d/csirt-ec.pem" ]
}
HOST_DN="/DC=org/DC=forage-test/CN=host.forage-test.org"
