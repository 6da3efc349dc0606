#!/usr/bin/env bash
# Hostile or damaged bundles: each attack must make `forage bundle verify` exit 4 and name the
# problem (and the file); extract must refuse them and write nothing outside its directory.
# The bundles are modified with GNU tar and openssl, the tools an attacker would use.
. "$(dirname "$0")/lib.sh"
. "$FORAGE_SRC/tests/data/bundle/pki.sh"
make_pki "$T/pki" || { echo "FAIL: cannot make the test PKI"; exit 1; }
P=$T/pki
V=(--ca-file "$P/ca.pem" --expect-signer "$HOST_DN")

mkdir -p "$T/ev/logs"
printf 'secure log line\n' > "$T/ev/logs/secure"
printf 'messages\n' > "$T/ev/logs/messages"
"$FORAGE" --log-level warn bundle create "$T/ev" --out "$T/good.tar" --case EGI-7 --note "n1" --note "n2" \
  --sign-cert "$P/host.pem" --sign-key "$P/host.key" || { echo "FAIL: cannot create"; exit 1; }
mkdir "$T/x" && tar -xf "$T/good.tar" -C "$T/x"
BAG=$(basename "$(echo "$T"/x/*/)")
SECURE="data/files$T/ev/logs/secure"

expect_exit 0 "$FORAGE" bundle verify "$T/good.tar" "${V[@]}"

# attack NAME FILE PATTERN [VERIFY-OPTIONS...]: verify (with V unless options are given) exits 4
# and the report matches PATTERN.
attack() {
  local name=$1 file=$2 pattern=$3; shift 3
  local opts=("${V[@]}")
  [ $# -gt 0 ] && opts=("$@")
  expect_exit 4 "$FORAGE" bundle verify "$file" "${opts[@]}"
  expect_grep "$pattern" "$T/out" "$name: report does not say /$pattern/"
  expect_grep '^verdict: INVALID' "$T/out" "$name: no INVALID verdict"
}
# copy_bag NAME: a fresh copy of the extracted bag to modify; repack NAME: tar it again.
copy_bag() { rm -rf "$T/m-$1"; mkdir "$T/m-$1"; cp -a "$T/x/$BAG" "$T/m-$1/"; echo "$T/m-$1/$BAG"; }
repack() { (cd "$T/m-$1" && tar --format=posix -cf "$T/$1.tar" "$BAG" "${@:2}"); }

# A GNU tar repack of the untouched bag is fine: the attacks below fail for their own reason.
copy_bag control >/dev/null; repack control
expect_exit 0 "$FORAGE" bundle verify "$T/control.tar" "${V[@]}"

# --- a flipped byte in a payload file (sha256sum -c agrees it is wrong)
cp "$T/good.tar" "$T/flip.tar"
off=$(grep -obUa 'secure log line' "$T/flip.tar" | head -1 | cut -d: -f1)
printf 'S' | dd of="$T/flip.tar" bs=1 seek="$off" conv=notrunc 2>/dev/null
attack flip "$T/flip.tar" "$SECURE: SHA-256 mismatch"
expect_grep "^affected: .*$SECURE" "$T/out"
mkdir "$T/flipx" && tar -xf "$T/flip.tar" -C "$T/flipx"
if (cd "$T/flipx/$BAG" && sha256sum -c --strict --quiet manifest-sha256.txt >/dev/null 2>&1); then
  fail "sha256sum -c accepted the flipped byte"; else ok; fi

# --- a flipped byte in the archive structure (a header)
cp "$T/good.tar" "$T/hdr.tar"
printf 'Z' | dd of="$T/hdr.tar" bs=1 seek=3 conv=notrunc 2>/dev/null
attack header "$T/hdr.tar" "checksum mismatch"

# --- an unlisted payload file, an unlisted tag file
b=$(copy_bag unlisted); printf 'planted\n' > "$b/data/planted.sh"; repack unlisted
attack unlisted "$T/unlisted.tar" "data/planted.sh: payload file not listed in manifest-sha256.txt"
expect_grep "Payload-Oxum" "$T/out"
b=$(copy_bag unlisted-tag); printf 'x\n' > "$b/meta/extra.json"; repack unlisted-tag
attack unlisted-tag "$T/unlisted-tag.tar" "meta/extra.json: tag file not listed in tagmanifest"

# --- a symbolic link member, a hard link member
b=$(copy_bag symlink); ln -s /etc/shadow "$b/data/shadow"; repack symlink
attack symlink "$T/symlink.tar" "data/shadow: symbolic link member -> /etc/shadow"
b=$(copy_bag hardlink); ln "$b/$SECURE" "$b/data/hard"; repack hardlink
attack hardlink "$T/hardlink.tar" "hard link member"

# --- ../ and absolute member names (and extract writes nothing outside DIR)
b=$(copy_bag dotdot)
(cd "$T/m-dotdot" && tar --format=posix -cf "$T/dotdot.tar" "$BAG" \
  --transform "s,^$BAG/$SECURE\$,$BAG/../../escaped," 2>/dev/null)
tar -P -tf "$T/dotdot.tar" > "$T/list" 2>/dev/null
expect_grep '\.\./\.\./escaped' "$T/list" "could not craft the ../ member"
attack dotdot "$T/dotdot.tar" "unsafe member name: '\.\.' component"
mkdir -p "$T/dest/inner"
expect_exit 4 "$FORAGE" bundle extract "$T/dotdot.tar" "$T/dest/inner" "${V[@]}"
[ ! -e "$T/dest/escaped" ] && [ ! -e "$T/escaped" ] && [ -z "$(ls -A "$T/dest/inner")" ] && ok || fail "extract wrote something"
(cd "$T/m-dotdot" && tar --format=posix -P -cf "$T/abs.tar" "$BAG" --transform "s,^$BAG/$SECURE\$,$T/absolute-escape," 2>/dev/null)
tar -P -tf "$T/abs.tar" > "$T/list" 2>/dev/null
expect_grep "^/" "$T/list" "could not craft the absolute member"
attack absolute "$T/abs.tar" "unsafe member name: absolute name"
expect_exit 4 "$FORAGE" bundle extract "$T/abs.tar" "$T/dest2" "${V[@]}"
[ ! -e "$T/absolute-escape" ] && [ ! -e "$T/dest2/$BAG" ] && ok || fail "extract of the absolute member wrote something"

# --- a duplicate member (appended with tar -r: a second copy that would win on extraction)
cp "$T/good.tar" "$T/dup.tar"
b=$(copy_bag dup); printf 'forged log line\n' > "$b/$SECURE"
(cd "$T/m-dup" && tar --format=posix -rf "$T/dup.tar" "$BAG/$SECURE")
attack duplicate "$T/dup.tar" "$SECURE: duplicate member"

# --- truncated archives: mid-member, on a member boundary, just the end marker missing
size=$(stat -c %s "$T/good.tar")
head -c $((size / 2)) "$T/good.tar" > "$T/trunc.tar"
attack truncated "$T/trunc.tar" "truncated archive"
head -c $((size - 1024)) "$T/good.tar" > "$T/trunc-end.tar"
attack truncated-end "$T/trunc-end.tar" "no end-of-archive marker"
head -c 700 "$T/good.tar" > "$T/trunc-head.tar"
attack truncated-head "$T/trunc-head.tar" "truncated archive"
# data appended after the end-of-archive marker (hidden from tar -x)
cp "$T/good.tar" "$T/appended.tar"; printf 'hidden payload' >> "$T/appended.tar"
attack appended "$T/appended.tar" "data after the end-of-archive marker"

# --- a missing payload file
b=$(copy_bag missing); rm "$b/$SECURE"; repack missing
attack missing "$T/missing.tar" "$SECURE: listed in manifest-sha256.txt but missing"

# --- a payload file edited and both manifests fixed up: only the signature catches it
b=$(copy_bag fixed)
printf 'forged log line\n' > "$b/$SECURE"
(cd "$b" && sha256sum "$SECURE" data/files$T/ev/logs/messages > manifest-sha256.txt.new)
(cd "$b" && grep -v "  $SECURE\$" manifest-sha256.txt > m.tmp; sha256sum "$SECURE" >> m.tmp; mv m.tmp manifest-sha256.txt; rm -f manifest-sha256.txt.new)
(cd "$b" && sed -i "s/^[0-9a-f]*  manifest-sha256.txt\$/$(sha256sum manifest-sha256.txt | cut -d' ' -f1)  manifest-sha256.txt/" tagmanifest-sha256.txt)
sed -i "s/^Payload-Oxum: .*/Payload-Oxum: $(( $(stat -c %s "$b/$SECURE") + 9 )).2/" "$b/bag-info.txt"
(cd "$b" && sed -i "s/^[0-9a-f]*  bag-info.txt\$/$(sha256sum bag-info.txt | cut -d' ' -f1)  bag-info.txt/" tagmanifest-sha256.txt)
if (cd "$b" && sha256sum -c --strict --quiet manifest-sha256.txt && sha256sum -c --strict --quiet tagmanifest-sha256.txt); then ok; else fail "fix-up of the manifests failed"; fi
repack fixed
attack fixed-manifests "$T/fixed.tar" "signature does not match the tag manifest"

# --- the forger re-signs with another CA-signed certificate, or a self-signed impostor of the DN
for who in other rogue; do
  b=$(copy_bag "resign-$who")
  cp -a "$T/m-fixed/$BAG/." "$b/"
  (cd "$b" && openssl cms -sign -binary -in tagmanifest-sha256.txt -signer "$P/$who.pem" -inkey "$P/$who.key" \
      -outform DER -out tagmanifest-sha256.txt.p7s)
  repack "resign-$who"
done
attack resigned-other "$T/resign-other.tar" "signer /DC=org/DC=forage-test/CN=other.forage-test.org does not match --expect-signer"
attack resigned-rogue "$T/resign-rogue.tar" "signer certificate not trusted"
# Without --expect-signer the CA-signed forgery is "valid": pinning the signer is what catches it.
expect_exit 0 "$FORAGE" bundle verify "$T/resign-other.tar" --ca-file "$P/ca.pem"
expect_grep 'signer /DC=org/DC=forage-test/CN=other.forage-test.org' "$T/out"
# --- wrong --expect-signer on the good bundle; a signature file taken from another bundle
attack wrong-signer "$T/good.tar" "does not match --expect-signer" --ca-file "$P/ca.pem" --expect-signer "/DC=org/CN=someone-else"
"$FORAGE" --log-level warn bundle create "$T/ev/logs/messages" --out "$T/other.tar" --sign-cert "$P/host.pem" --sign-key "$P/host.key"
mkdir "$T/ox" && tar -xf "$T/other.tar" -C "$T/ox"
b=$(copy_bag swapped-sig); cp "$T"/ox/*/tagmanifest-sha256.txt.p7s "$b/"; repack swapped-sig
attack swapped-signature "$T/swapped-sig.tar" "signature does not match the tag manifest"
# --- signature removed: the bundle now claims to be unsigned
b=$(copy_bag nosig); rm "$b/tagmanifest-sha256.txt.p7s"; repack nosig
attack stripped-signature "$T/nosig.tar" "unsigned bundle, but --expect-signer"

# --- the action log: truncated, reordered, edited. On a signed bundle the tag manifest catches
# any edit; on an unsigned one (manifests fixed up) the hash chain and the head still do.
b=$(copy_bag log-edit); sed -i 's/"n1"/"n1 (edited)"/' "$b/meta/actions.jsonl"; repack log-edit
attack log-edited-signed "$T/log-edit.tar" "meta/actions.jsonl: SHA-256 mismatch"
expect_grep "prev_sha256 does not match" "$T/out"
"$FORAGE" --log-level warn bundle create "$T/ev" --out "$T/unsigned.tar" --note n1 --note n2 --no-sign
mkdir "$T/ux" && tar -xf "$T/unsigned.tar" -C "$T/ux"
UBAG=$(basename "$(echo "$T"/ux/*/)")
# log_case NAME SED-SCRIPT|CMD: modify the unsigned bag's log, fix the tag manifest, repack.
log_case() {
  local name=$1; shift
  rm -rf "$T/l-$name"; mkdir "$T/l-$name"; cp -a "$T/ux/$UBAG" "$T/l-$name/"
  local lb="$T/l-$name/$UBAG"
  (cd "$lb" && eval "$*")
  (cd "$lb" && sed -i "s/^[0-9a-f]*  meta\/actions.jsonl\$/$(sha256sum meta/actions.jsonl | cut -d' ' -f1)  meta\/actions.jsonl/" tagmanifest-sha256.txt)
  (cd "$lb" && sha256sum -c --strict --quiet tagmanifest-sha256.txt) || fail "$name: fix-up failed"
  (cd "$T/l-$name" && tar --format=posix -cf "$T/$name.tar" "$UBAG")
}
expect_exit 0 "$FORAGE" bundle verify "$T/unsigned.tar" --allow-unsigned
log_case log-truncated 'head -n -1 meta/actions.jsonl > l && mv l meta/actions.jsonl'
attack log-truncated "$T/log-truncated.tar" "meta/actions.head: says [0-9]+ actions, the log has [0-9]+ \(truncated log\)" --allow-unsigned
log_case log-reordered 'awk "NR==2{l2=\$0;next} NR==3{print;print l2;next} {print}" meta/actions.jsonl > l && mv l meta/actions.jsonl'
attack log-reordered "$T/log-reordered.tar" "line 2: seq is not 2 \(lines missing or reordered\)" --allow-unsigned
log_case log-edited 'sed -i "s/\"n2\"/\"n2 (edited)\"/" meta/actions.jsonl'
attack log-edited "$T/log-edited.tar" "prev_sha256 does not match the previous line" --allow-unsigned
log_case log-head 'echo "{\"count\":99,\"last_sha256\":\"00\"}" > meta/actions.head; sed -i "s/^[0-9a-f]*  meta\/actions.head\$/$(echo "{\"count\":99,\"last_sha256\":\"00\"}" | sha256sum | cut -d" " -f1)  meta\/actions.head/" tagmanifest-sha256.txt'
attack log-head "$T/log-head.tar" "meta/actions.head: says 99 actions" --allow-unsigned

# --- not a bundle at all, an empty file, random bytes, a plain tar of something else
: > "$T/empty.tar"; attack empty "$T/empty.tar" "truncated archive"
head -c 10000 /dev/urandom > "$T/random.bin"; attack random "$T/random.bin" "archive"
tar -cf "$T/plain.tar" -C "$T" ev 2>/dev/null; attack plain-tar "$T/plain.tar" "bagit.txt: missing"
# --- extract refuses the symlink bundle and writes nothing
expect_exit 4 "$FORAGE" bundle extract "$T/symlink.tar" "$T/dest3" "${V[@]}"
[ ! -e "$T/dest3/$BAG" ] && ok || fail "extract of a bundle with a link wrote files"

# The memory bomb (200 x 64 MiB tag members in a .tar.zst) and the other hostile inputs checked
# for exit code, peak RSS and a one-line error: test_csirt_hostile.sh.
finish
