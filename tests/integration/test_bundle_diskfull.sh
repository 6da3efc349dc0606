#!/usr/bin/env bash
# ctest-labels: root
# A real full disk (a 1 MiB tmpfs, needs root): ENOSPC is reported, the .partial stays readable up
# to the last complete member and is never renamed.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (mount -t tmpfs)"; exit 77; fi
mkdir "$T/small"
if ! mount -t tmpfs -o size=1m forage-test "$T/small" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs here"; exit 77
fi
trap 'umount "$T/small" 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$T/ev"
head -c 300000 /dev/urandom > "$T/ev/a.bin"
head -c 3000000 /dev/urandom > "$T/ev/b.bin"
expect_exit 2 "$FORAGE" bundle create "$T/ev" --out "$T/small/b.tar" --no-sign
expect_grep 'b.tar.partial: No space left on device' "$T/err"
[ ! -e "$T/small/b.tar" ] && [ -f "$T/small/b.tar.partial" ] && ok || fail "partial/final state wrong"
mkdir "$T/x"
tar -xf "$T/small/b.tar.partial" -C "$T/x" 2>/dev/null && fail "tar accepted the truncated bundle" || ok
cmp -s "$T/ev/a.bin" "$(echo "$T"/x/*/)data/files$T/ev/a.bin" && ok || fail "complete member lost"
finish
