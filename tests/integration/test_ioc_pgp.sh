#!/usr/bin/env bash
# Broadcasts as CSIRTs really send them, made during the test with gpg and openssl cms: signed
# ones (clear-signed, PGP/MIME, S/MIME detached) give the indicators of their plain text and a
# note that the signature was not verified; encrypted ones (PGP/MIME, inline armor, S/MIME
# enveloped) are exit 2 with one line naming the file, the part and how to decrypt, never an
# empty result, and a sweep on them never reports the node clean.
. "$(dirname "$0")/lib.sh"
for tool in gpg openssl; do
  command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

export GNUPGHOME="$T/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'EGI CSIRT test <abuse@egi.example>' ed25519 sign never 2>/dev/null
gpg --batch --quiet --passphrase '' --quick-add-key "$(gpg --list-keys --with-colons | awk -F: '/^fpr/{print $10; exit}')" cv25519 encr never 2>/dev/null

cat >"$T/body.txt" <<'TXT'
Heads-up [EGI-20261207-01] TLP:AMBER
Attacker host: 203.0.113.77
Payload: download-tor.sh sha256 5f2b8e0d7c3a4e1f9b6a2d8c0e4f7a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f
- a dash-started line
TXT
"$FORAGE" ioc parse "$T/body.txt" --format tsv >"$T/plain.tsv" 2>/dev/null
expect_grep '203.0.113.77' "$T/plain.tsv"

mail() {  # mail FILE CONTENT-TYPE-HEADER BODY-FILE
  { printf 'From: EGI CSIRT <abuse@egi.example>\nTo: sites@example.org\nSubject: [EGI-20261207-01] TLP:AMBER\nMIME-Version: 1.0\n%s\n\n' "$2"
    cat "$3"; } >"$1"
}

# --- clear-signed text (dash-escaped lines), as a file and as a mail body
gpg --batch --yes --quiet --clearsign -o "$T/clear.asc" "$T/body.txt"
expect_grep '^- - a dash-started line' "$T/clear.asc" "gpg did not dash-escape"
expect_exit 0 "$FORAGE" ioc parse "$T/clear.asc" --format tsv
if diff -q "$T/plain.tsv" "$T/out" >/dev/null; then ok; else fail "clear-signed text: other indicators than its plain text"; diff "$T/plain.tsv" "$T/out" >&2; fi
expect_grep 'did not verify the signature' "$T/err"
mail "$T/clear.eml" 'Content-Type: text/plain; charset=utf-8' "$T/clear.asc"
expect_exit 0 "$FORAGE" ioc parse "$T/clear.eml" --format tsv
if diff -q "$T/plain.tsv" "$T/out" >/dev/null; then ok; else fail "clear-signed mail: other indicators"; fi

# --- PGP/MIME signed (RFC 3156): the signed part is read, the signature part is not
printf 'Content-Type: text/plain; charset=utf-8\n\n' >"$T/inner.txt"; cat "$T/body.txt" >>"$T/inner.txt"
gpg --batch --yes --quiet --armor --detach-sign -o "$T/inner.sig" "$T/inner.txt"
{ printf -- '--SIG\n'; cat "$T/inner.txt"; printf -- '\n--SIG\nContent-Type: application/pgp-signature; name="signature.asc"\n\n'; cat "$T/inner.sig"; printf -- '\n--SIG--\n'; } >"$T/signed.body"
mail "$T/pgpmime-signed.eml" 'Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="SIG"' "$T/signed.body"
expect_exit 0 "$FORAGE" ioc parse "$T/pgpmime-signed.eml" --format tsv
if diff -q "$T/plain.tsv" "$T/out" >/dev/null; then ok; else fail "PGP/MIME signed: other indicators"; diff "$T/plain.tsv" "$T/out" >&2; fi
expect_grep 'signed \(OpenPGP\).*did not verify' "$T/err"

# --- PGP/MIME encrypted (RFC 3156)
gpg --batch --yes --quiet --armor --trust-model always -r abuse@egi.example --encrypt -o "$T/inner.gpg" "$T/inner.txt"
{ printf -- '--ENC\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--ENC\nContent-Type: application/octet-stream; name="encrypted.asc"\n\n'; cat "$T/inner.gpg"; printf -- '\n--ENC--\n'; } >"$T/enc.body"
mail "$T/pgpmime-enc.eml" 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="ENC"' "$T/enc.body"
expect_exit 2 "$FORAGE" ioc parse "$T/pgpmime-enc.eml" --format tsv
expect_grep "pgpmime-enc.eml: part 1 is encrypted with OpenPGP \(PGP/MIME\): decrypt it first, e.g. .gpg --decrypt" "$T/err"
expect_lines 1 "$T/err"
[ -s "$T/out" ] && fail "encrypted mail: indicators printed" || ok

# --- inline armored PGP MESSAGE: in a mail body and as a plain file
mail "$T/inline.eml" 'Content-Type: text/plain' "$T/inner.gpg"
expect_exit 2 "$FORAGE" ioc parse "$T/inline.eml" --format tsv
expect_grep 'encrypted with OpenPGP \(inline armor\)' "$T/err"
expect_exit 2 "$FORAGE" ioc parse "$T/inner.gpg" --format tsv
expect_grep 'inner.gpg is encrypted with OpenPGP' "$T/err"

# --- S/MIME signed (detached) and enveloped, made with openssl cms
openssl req -x509 -newkey rsa:2048 -nodes -subj '/CN=EGI CSIRT test' -days 2 \
  -keyout "$T/csirt.key" -out "$T/csirt.pem" 2>/dev/null
{ printf 'From: EGI CSIRT <abuse@egi.example>\nSubject: [EGI-20261207-01] TLP:AMBER\n'
  openssl cms -sign -signer "$T/csirt.pem" -inkey "$T/csirt.key" -in "$T/inner.txt" 2>/dev/null; } >"$T/smime-signed.eml"
expect_exit 0 "$FORAGE" ioc parse "$T/smime-signed.eml" --format tsv
if diff -q "$T/plain.tsv" "$T/out" >/dev/null; then ok; else fail "S/MIME signed: other indicators"; diff "$T/plain.tsv" "$T/out" >&2; fi
expect_grep 'signed \(S/MIME\)' "$T/err"
# Opaque-signed (-nodetach): the signed entity travels inside the CMS SignedData.
{ printf 'From: EGI CSIRT <abuse@egi.example>\nSubject: [EGI-20261207-01] TLP:AMBER\n'
  openssl cms -sign -nodetach -signer "$T/csirt.pem" -inkey "$T/csirt.key" -in "$T/inner.txt" 2>/dev/null; } >"$T/smime-opaque.eml"
expect_grep 'smime-type="?signed-data' "$T/smime-opaque.eml" "openssl made no opaque-signed mail"
expect_exit 0 "$FORAGE" ioc parse "$T/smime-opaque.eml" --format tsv
if diff -q "$T/plain.tsv" "$T/out" >/dev/null; then ok; else fail "S/MIME opaque-signed: other indicators"; diff "$T/plain.tsv" "$T/out" >&2; fi
expect_grep 'signed \(S/MIME\)' "$T/err"
{ printf 'From: EGI CSIRT <abuse@egi.example>\nSubject: [EGI-20261207-01] TLP:RED\n'
  openssl cms -encrypt -aes256 -in "$T/inner.txt" "$T/csirt.pem" 2>/dev/null; } >"$T/smime-enc.eml"
expect_exit 2 "$FORAGE" ioc parse "$T/smime-enc.eml" --format tsv
expect_grep 'smime-enc.eml: part 1(/smime.p7m)? is encrypted with S/MIME: decrypt it first, e.g. .openssl cms -decrypt' "$T/err"

# --- a sweep on an encrypted broadcast is an error, never a clean node
for f in pgpmime-enc.eml smime-enc.eml inline.eml; do
  expect_exit 2 "$FORAGE" sweep --iocs "$T/$f" --json --skip net --skip procs --skip files --skip logs
done

# --- no false all-clear: a broadcast without indicators is exit 2 in every command with --iocs,
# unless there are rules to run and the operator says so; a fleet can pin the broadcast it checked
printf 'Dear sites, please patch your kernels.\n' >"$T/empty.txt"
expect_exit 2 "$FORAGE" sweep --iocs "$T/empty.txt" --json --skip net --skip procs --skip files --skip logs
expect_grep 'no indicators in .*empty.txt' "$T/err"
expect_exit 2 "$FORAGE" scan net --iocs "$T/empty.txt" --json
expect_exit 2 "$FORAGE" scan files "$T/body.txt" --iocs "$T/empty.txt" --json
expect_exit 0 "$FORAGE" scan files "$T/empty.txt" --iocs "$T/empty.txt" --allow-empty-iocs --json
expect_exit 2 "$FORAGE" collect --iocs "$T/empty.txt" --out "$T/b.tar" --no-sign
digest=$("$FORAGE" ioc parse "$T/body.txt" --format tsv 2>/dev/null | sha256sum | cut -d' ' -f1)
expect_exit 2 "$FORAGE" sweep --iocs "$T/clear.asc" --expect-indicator-digest sha256:0000 --json \
  --skip net --skip procs --skip files --skip logs
expect_grep 'expect-indicator-digest: .*not the broadcast that was checked' "$T/err"
expect_exit 0 "$FORAGE" sweep --iocs "$T/clear.asc" --expect-indicator-digest "sha256:$digest" \
  --json --skip net --skip procs --skip files --skip logs
expect_grep "\"indicator_digest\":\"sha256:$digest\"" "$T/out"
finish
