#!/usr/bin/env bash
# `forage bundle create|verify|extract` judged by the stock tools an expert would use instead:
# GNU tar, sha256sum -c --strict, openssl cms -verify / -decrypt, openssl pkeyutl, zstd.
. "$(dirname "$0")/lib.sh"
. "$FORAGE_SRC/tests/data/bundle/pki.sh"
make_pki "$T/pki" || { echo "FAIL: cannot make the test PKI"; exit 1; }
P=$T/pki

# Evidence: a small tree with a long name, a non-UTF-8 name, an empty file and a link.
E=$T/evidence
mkdir -p "$E/logs/$(printf 'd%.0s' {1..120})/deeper"
printf 'secure log line\n' > "$E/logs/secure"
head -c 3000000 /dev/urandom > "$E/logs/big.bin"
: > "$E/logs/empty"
printf 'long\n' > "$E/logs/$(printf 'd%.0s' {1..120})/deeper/$(printf 'n%.0s' {1..150}).txt"
printf 'odd\n' > "$E/logs/odd-$(printf '\xff\xfe')-name"
ln -s /etc/passwd "$E/logs/passwd-link"
printf 'admin notes\n' > "$T/notes.txt"

# Stock-tool check of an extracted bag: both manifests with sha256sum --strict, the signature.
check_bag_stock() {  # DIR-with-one-bag  CAFILE|-
  local bag; bag=$(echo "$1"/*/)
  if (cd "$bag" && sha256sum -c --strict --quiet manifest-sha256.txt); then ok; else fail "sha256sum -c manifest ($1)"; fi
  if (cd "$bag" && sha256sum -c --strict --quiet tagmanifest-sha256.txt); then ok; else fail "sha256sum -c tagmanifest ($1)"; fi
  if [ "$2" != "-" ]; then
    if (cd "$bag" && openssl cms -verify -binary -inform DER -in tagmanifest-sha256.txt.p7s \
          -content tagmanifest-sha256.txt -purpose any -CAfile "$2" -out /dev/null 2>/dev/null); then ok
    else fail "openssl cms -verify ($1)"; fi
  fi
}

# --- signed with an X.509 host certificate (CMS), plain tar
expect_exit 0 "$FORAGE" bundle create "$E" "$T/notes.txt" --out "$T/b.tar" --case EGI-20261120-01 \
  --tlp amber --note "operator: node isolated at 10:02" --sign-cert "$P/host.pem" --sign-key "$P/host.key"
[ -f "$T/b.tar" ] && [ ! -e "$T/b.tar.partial" ] && ok || fail "final bundle not in place"
mkdir "$T/x"
if tar -xf "$T/b.tar" -C "$T/x" 2>"$T/tar.err"; then ok; else fail "GNU tar -xf"; cat "$T/tar.err"; fi
expect_lines 0 "$T/tar.err"
check_bag_stock "$T/x" "$P/ca.pem"
bag=$(echo "$T"/x/*/)
case "$(basename "$bag")" in EGI-20261120-01_*_20[0-9][0-9]*T*Z) ok ;; *) fail "top dir name $(basename "$bag")" ;; esac
expect_grep '^TLP: AMBER$' "$bag/bag-info.txt"
expect_grep '^External-Identifier: EGI-20261120-01$' "$bag/bag-info.txt"
expect_grep '^Payload-Oxum: 3000037\.6$' "$bag/bag-info.txt"
expect_grep '"action":"note".*node isolated at 10:02' "$bag/meta/actions.jsonl"
expect_grep '"action":"bundle.skip".*passwd-link.*symbolic link' "$bag/meta/actions.jsonl"
expect_grep '"binary_sha256": "[0-9a-f]{64}"' "$bag/meta/environment.json"
expect_grep '"boot_id": ' "$bag/meta/environment.json"
expect_grep '"ntp": ' "$bag/meta/environment.json"
[ -f "$bag/data/files$E/logs/odd-$(printf '\xff\xfe')-name" ] && ok || fail "non-UTF-8 name lost"
[ -f "$bag/data/files$E/logs/$(printf 'd%.0s' {1..120})/deeper/$(printf 'n%.0s' {1..150}).txt" ] && ok || fail "long name lost"
[ ! -e "$bag/data/files$E/logs/passwd-link" ] && ok || fail "link followed"
cmp -s "$E/logs/big.bin" "$bag/data/files$E/logs/big.bin" && ok || fail "payload differs"
# The binary hash recorded is the hash of the binary that ran.
want=$(sha256sum "$FORAGE" | cut -d' ' -f1)
expect_grep "\"binary_sha256\": \"$want\"" "$bag/meta/environment.json"

expect_exit 0 "$FORAGE" bundle verify "$T/b.tar" --ca-file "$P/ca.pem" --expect-signer "$HOST_DN"
expect_grep '^verdict: VALID$' "$T/out"
expect_grep 'chain verified' "$T/out"
# --ca-path needs hashed names: make them the way an admin would (openssl rehash).
mkdir "$T/capath" && cp "$P/ca.pem" "$T/capath/" && openssl rehash "$T/capath" 2>/dev/null
expect_exit 0 "$FORAGE" bundle verify "$T/b.tar" --ca-path "$T/capath" --expect-signer "CN=host.forage-test.org,DC=forage-test,DC=org"
# A GNU-tar repack of an intact bag (other order, directory entries, pax atime/ctime) still verifies.
(cd "$T/x" && tar --format=posix -cf "$T/repacked.tar" "$(basename "$bag")")
expect_exit 0 "$FORAGE" bundle verify "$T/repacked.tar" --ca-file "$P/ca.pem"
expect_exit 0 "$FORAGE" bundle verify - --ca-file "$P/ca.pem" < "$T/b.tar"

# --- extract: verify then unpack; identical to what GNU tar unpacked
expect_exit 0 "$FORAGE" bundle extract "$T/b.tar" "$T/ex" --ca-file "$P/ca.pem"
if diff -r "$T/x" "$T/ex" >/dev/null; then ok; else fail "extract differs from tar -x"; fi
expect_exit 2 "$FORAGE" bundle extract "$T/b.tar" "$T/ex" --ca-file "$P/ca.pem"
expect_grep "exists" "$T/err"

# --- stdout, for `| ssh csirt 'cat > b.tar'`: same bundle on the other end of a pipe
"$FORAGE" --log-level warn bundle create "$T/notes.txt" --out - --no-sign | cat > "$T/piped.tar" && ok || fail "--out - failed"
expect_exit 0 "$FORAGE" bundle verify "$T/piped.tar" --allow-unsigned
expect_grep 'UNSIGNED' "$T/out"
expect_exit 4 "$FORAGE" bundle verify "$T/piped.tar"
expect_grep 'unsigned bundle' "$T/out"

# --- compressed + Ed25519 (raw signature, documented in docs/bundle-format.md)
expect_exit 0 "$FORAGE" bundle create "$E" --out "$T/c.tar.zst" --compress --sign-key "$P/ed.pem" --case C2
mkdir "$T/cx" && zstd -dc "$T/c.tar.zst" | tar -xf - -C "$T/cx" && ok || fail "zstd -dc | tar -x"
check_bag_stock "$T/cx" -
cbag=$(echo "$T"/cx/*/)
if (cd "$cbag" && openssl pkeyutl -verify -pubin -inkey tagmanifest-sha256.txt.sig.pem -rawin \
      -in tagmanifest-sha256.txt -sigfile tagmanifest-sha256.txt.sig >/dev/null 2>&1); then ok
else fail "openssl pkeyutl -verify of the Ed25519 signature"; fi
fp=$(openssl pkey -in "$P/ed.pem" -pubout -outform DER | sha256sum | cut -d' ' -f1)
expect_exit 4 "$FORAGE" bundle verify "$T/c.tar.zst"
expect_grep 'bare Ed25519 key' "$T/out"
expect_exit 0 "$FORAGE" bundle verify "$T/c.tar.zst" --expect-signer "sha256:$fp"
expect_grep 'layers: zstd -> pax tar' "$T/out"
# Ed25519 key with its certificate: raw signature, certificate next to it, chain checked.
openssl req -new -key "$P/ed.pem" -out "$T/ed.csr" -subj "/DC=org/DC=forage-test/CN=ed.forage-test.org" 2>/dev/null
openssl x509 -req -in "$T/ed.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -out "$T/ed-cert.pem" -days 30 -extfile "$P/host.ext" 2>/dev/null
expect_exit 0 "$FORAGE" bundle create "$T/notes.txt" --out "$T/edc.tar" --sign-cert "$T/ed-cert.pem" --sign-key "$P/ed.pem"
expect_exit 0 "$FORAGE" bundle verify "$T/edc.tar" --ca-file "$P/ca.pem" --expect-signer "/DC=org/DC=forage-test/CN=ed.forage-test.org"

# --- encrypted (CMS AuthEnvelopedData AES-256-GCM) to two recipients, compressed, signed
expect_exit 0 "$FORAGE" bundle create "$E" --out "$T/e.p7m" --compress --tlp red \
  --encrypt-to "$P/csirt.pem" --encrypt-to "$P/csirt-ec.pem" --sign-cert "$P/host.pem" --sign-key "$P/host.key"
if grep -q "secure log line" "$T/e.p7m"; then fail "plaintext visible in the encrypted bundle"; else ok; fi
for r in csirt csirt-ec; do
  if openssl cms -decrypt -inform DER -in "$T/e.p7m" -recip "$P/$r.pem" -inkey "$P/$r.key" -out "$T/e-$r.tar.zst" 2>"$T/cms.err"; then ok
  else fail "openssl cms -decrypt ($r)"; cat "$T/cms.err"; fi
done
openssl asn1parse -inform DER -in "$T/e.p7m" > "$T/asn1.txt" 2>/dev/null || true
expect_grep 'OBJECT +:id-smime-ct-authEnvelopedData' "$T/asn1.txt"
expect_grep 'OBJECT +:aes-256-gcm' "$T/asn1.txt"
mkdir "$T/exx" && zstd -dc "$T/e-csirt.tar.zst" | tar -xf - -C "$T/exx" && ok || fail "decrypted stream is not tar.zst"
check_bag_stock "$T/exx" "$P/ca.pem"
expect_exit 0 "$FORAGE" bundle verify "$T/e.p7m" --decrypt-key "$P/csirt.key" --decrypt-cert "$P/csirt.pem" --ca-file "$P/ca.pem"
expect_grep 'layers: CMS AuthEnvelopedData, AES-256-GCM, 2 recipient\(s\) -> zstd -> pax tar' "$T/out"
expect_exit 0 "$FORAGE" bundle verify "$T/e.p7m" --decrypt-key "$P/csirt-ec.key" --ca-file "$P/ca.pem"
expect_exit 2 "$FORAGE" bundle verify "$T/e.p7m" --ca-file "$P/ca.pem"
expect_grep 'encrypted.*--decrypt-key' "$T/err"
expect_exit 2 "$FORAGE" bundle verify "$T/e.p7m" --decrypt-key "$P/host.key" --decrypt-cert "$P/host.pem"
expect_grep 'not encrypted to this certificate' "$T/err"
expect_exit 0 "$FORAGE" bundle extract "$T/e.p7m" "$T/eex" --decrypt-key "$P/csirt.key" --ca-file "$P/ca.pem"
if diff -r "$T/exx" "$T/eex" >/dev/null; then ok; else fail "extract of the encrypted bundle differs"; fi

# --- usage errors: exit 2, one line naming the problem
expect_exit 2 "$FORAGE" bundle create "$T/notes.txt" --out "$T/u.tar"
expect_grep 'no signing identity.*--no-sign' "$T/err"
expect_lines 1 "$T/err"
[ ! -e "$T/u.tar" ] && [ ! -e "$T/u.tar.partial" ] && ok || fail "output left after a usage error"
expect_exit 2 "$FORAGE" bundle create "$T/missing" --out "$T/u.tar" --no-sign
expect_grep 'missing: No such file' "$T/err"
expect_exit 2 "$FORAGE" bundle create "$T/notes.txt" --out "$T/b.tar" --no-sign
expect_grep 'exists; forage never overwrites' "$T/err"
expect_exit 2 "$FORAGE" bundle create "$T/notes.txt" --out "$T/u.tar" --sign-key "$P/host.key"
expect_grep 'needs its certificate' "$T/err"
expect_exit 2 "$FORAGE" bundle create "$T/notes.txt" --out "$T/u.tar" --sign-cert "$P/other.pem" --sign-key "$P/host.key"
expect_grep 'does not belong to the certificate' "$T/err"
expect_exit 2 "$FORAGE" bundle create "$T/notes.txt" --out "$T/u.tar" --no-sign --tlp purple
expect_grep 'unknown label' "$T/err"
expect_exit 2 "$FORAGE" bundle verify "$T/nonexistent.tar"
expect_exit 2 "$FORAGE" bundle extract - "$T/y" --allow-unsigned
finish
