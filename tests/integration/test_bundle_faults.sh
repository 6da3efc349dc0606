#!/usr/bin/env bash
# Faults while writing a bundle: the output hits a file-size limit (disk full without root), the
# writer is killed, a file shrinks or grows while it is read. The .partial file keeps every
# complete member and is never renamed; sources that change are recorded, the bundle stays valid.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/ev"
head -c 700000 /dev/urandom > "$T/ev/a.bin"
head -c 700000 /dev/urandom > "$T/ev/b.bin"
head -c 3000000 /dev/urandom > "$T/ev/c.bin"

# --- output limit (RLIMIT_FSIZE, what `ulimit -f` sets): EFBIG instead of SIGXFSZ, clear error
got=0
( ulimit -f 2048; exec "$FORAGE" bundle create "$T/ev" --out "$T/full.tar" --no-sign ) >"$T/out" 2>"$T/err" || got=$?
[ "$got" -eq 2 ] && ok || fail "exit $got under ulimit -f, expected 2"
expect_grep 'full.tar.partial: file size limit reached' "$T/err"
expect_grep 'readable up to the last complete member' "$T/err"
[ ! -e "$T/full.tar" ] && ok || fail "the incomplete bundle was renamed to its final name"
[ -f "$T/full.tar.partial" ] && ok || fail ".partial missing"
# GNU tar reads it up to the last complete member (and then says it is cut short).
mkdir "$T/px"
tar -xf "$T/full.tar.partial" -C "$T/px" 2>"$T/tar.err" && fail "tar accepted a truncated archive" || ok
expect_grep 'Unexpected EOF' "$T/tar.err"
pbag=$(echo "$T"/px/*/)
cmp -s "$T/ev/a.bin" "$pbag/data/files$T/ev/a.bin" && ok || fail "a complete member was lost"
cmp -s "$T/ev/b.bin" "$pbag/data/files$T/ev/b.bin" && ok || fail "a complete member was lost"
expect_grep 'BagIt-Version: 1.0' "$pbag/bagit.txt"
# ... and forage verify names it truncated.
expect_exit 4 "$FORAGE" bundle verify "$T/full.tar.partial" --allow-unsigned
expect_grep 'truncated archive' "$T/out"
# A second run refuses to clobber the .partial evidence of the first.
expect_exit 2 "$FORAGE" bundle create "$T/ev" --out "$T/full.tar" --no-sign
expect_grep 'full.tar.partial: exists' "$T/err"

# --- killed while writing: what was complete before stays readable (zstd stream, flushed per member)
truncate -s 8G "$T/huge.sparse"
"$FORAGE" --log-level warn bundle create "$T/ev/a.bin" "$T/huge.sparse" --out "$T/killed.tar.zst" --compress --no-sign &
pid=$!
for _ in $(seq 100); do
  [ -s "$T/killed.tar.zst.partial" ] && [ "$(stat -c %s "$T/killed.tar.zst.partial")" -gt 700000 ] && break
  sleep 0.05
done
kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null || true
[ ! -e "$T/killed.tar.zst" ] && ok || fail "killed bundle has its final name (finished too fast?)"
zstd -dc "$T/killed.tar.zst.partial" 2>/dev/null | tar -tvf - >"$T/list" 2>/dev/null || true
expect_grep "data/files$T/ev/a.bin" "$T/list"
mkdir "$T/kx"; zstd -dc "$T/killed.tar.zst.partial" 2>/dev/null | tar -xf - -C "$T/kx" 2>/dev/null || true
cmp -s "$T/ev/a.bin" "$(echo "$T"/kx/*/)data/files$T/ev/a.bin" && ok || fail "member before the kill lost"
rm -f "$T/huge.sparse"

# --- a file that shrinks while read: padded to its declared size, recorded, bundle valid, exit 3
shrunk=no
for size in 3G 6G 12G; do
  rm -f "$T/shrink.sparse" "$T/shrink.tar.zst"
  truncate -s "$size" "$T/shrink.sparse"
  "$FORAGE" --log-level warn bundle create "$T/shrink.sparse" --out "$T/shrink.tar.zst" --compress --no-sign \
    >"$T/out" 2>"$T/err" &
  pid=$!
  sleep 0.4
  truncate -s 1M "$T/shrink.sparse"
  rc=0; wait $pid || rc=$?
  mkdir -p "$T/sx"; rm -rf "$T/sx"/*
  zstd -dc "$T/shrink.tar.zst" | tar -xf - -C "$T/sx"
  if grep -q 'padded: source shrank while read' "$T"/sx/*/meta/actions.jsonl; then shrunk=yes; break; fi
done
if [ $shrunk = yes ]; then
  ok
  [ "$rc" -eq 3 ] && ok || fail "exit $rc after a file shrank, expected 3 (incomplete)"
  expect_grep 'incomplete' "$T/err"
  expect_exit 0 "$FORAGE" bundle verify "$T/shrink.tar.zst" --allow-unsigned
  sbag=$(echo "$T"/sx/*/)
  if (cd "$sbag" && sha256sum -c --strict --quiet manifest-sha256.txt); then ok; else fail "sha256sum -c after shrink"; fi
else
  fail "could not make a file shrink during bundling (machine too fast?)"
fi
rm -f "$T/shrink.sparse"

# --- a file that grows while read (a /proc file: stat says 0 bytes, reading gives more)
expect_exit 3 "$FORAGE" bundle create /proc/version --out "$T/grow.tar" --no-sign
mkdir "$T/gx" && tar -xf "$T/grow.tar" -C "$T/gx"
expect_grep 'truncated: source grew while read' "$(echo "$T"/gx/*/)meta/actions.jsonl"
expect_exit 0 "$FORAGE" bundle verify "$T/grow.tar" --allow-unsigned

# --- a closed pipe on --out -: an error, not a silent death by SIGPIPE
got=0
"$FORAGE" bundle create "$T/ev" --out - --no-sign 2>"$T/err" | head -c 1000 >/dev/null || got=${PIPESTATUS[0]}
[ "$got" -eq 2 ] && ok || fail "exit $got with a closed pipe, expected 2"
expect_grep 'Broken pipe' "$T/err"
finish
