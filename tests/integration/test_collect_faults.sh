#!/usr/bin/env bash
# ctest-labels: root
# `forage collect` faults: a pid that does not exist, pid 1, forage's own shell, a zombie, a victim
# that exits mid-dump, and the output disk filling mid-core (the .partial stays readable, the
# victim stays frozen, stderr says so).
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
command -v cc >/dev/null || { echo "SKIP: no C compiler"; exit 77; }

# A victim that allocates and touches N MiB, then waits.
cat >"$T/big.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char** argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
  char* p = malloc(mib << 20);
  for (size_t i = 0; i < (mib << 20); i += 4096) p[i] = (char)(i >> 12);
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
EOF
cc -O1 -o "$T/big" "$T/big.c" || { echo "FAIL: cc"; exit 1; }
start_big() {  # MiB -> sets B
  "$T/big" "$1" >"$T/big.out" &
  B=$!
  for _ in $(seq 200); do [ -s "$T/big.out" ] && break; sleep 0.05; done
  : >"$T/big.out.done"
}
state_of() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo gone; }

# --- operator errors: exit 2, one line, nothing written
gone=999999
while [ -e "/proc/$gone" ]; do gone=$((gone - 1)); done
expect_exit 2 "$FORAGE" collect --pid "$gone" --no-sign --out "$T/a.tar"
expect_grep "^forage: --pid $gone: no such process$" "$T/err"
expect_lines 1 "$T/err"
[ ! -e "$T/a.tar" ] && [ ! -e "$T/a.tar.partial" ] && ok || fail "bundle written for a bad pid"
expect_exit 2 "$FORAGE" collect --pid 1 --no-sign --out "$T/a.tar"
expect_grep 'pid 1' "$T/err"
expect_exit 2 "$FORAGE" collect --pid $$ --no-sign --out "$T/a.tar"
expect_grep "--pid $$: an ancestor of forage" "$T/err"
expect_exit 2 "$FORAGE" collect --pid 12x --no-sign --out "$T/a.tar"
expect_exit 2 "$FORAGE" collect --pid "$gone" --profile nope --no-sign --out "$T/a.tar"

# --- a zombie: recorded, not dumped
bash -c 'sleep 0.1 & exec sleep 30' &
ZP=$!
sleep 0.5
Z=$(awk -v pp="$ZP" '$4 == pp {print $1}' /proc/[0-9]*/stat 2>/dev/null | head -1)
if [ -n "$Z" ] && [ "$(state_of "$Z")" = Z ]; then
  expect_exit 0 "$FORAGE" collect --pid "$Z" --profile process --no-sign --out "$T/z.tar"
  mkdir "$T/zx" && tar -xf "$T/z.tar" -C "$T/zx" && ok || fail "zombie bundle unreadable"
  expect_grep "\"action\":\"zombie\".*pid $Z.*not dumped" "$(echo "$T"/zx/*/)meta/actions.jsonl"
  [ ! -e "$(echo "$T"/zx/*/)data/memory/$Z/core" ] && ok || fail "a core for a zombie"
else
  fail "could not make a zombie"
fi
kill "$ZP" 2>/dev/null; wait "$ZP" 2>/dev/null || true

# --- the victim exits mid-dump: the core is padded, the log says where, exit 3
start_big 1024
"$FORAGE" collect --pid "$B" --profile process --no-sign --out "$T/m.tar" >"$T/m.out" 2>"$T/m.err" &
F=$!
for _ in $(seq 400); do
  s=$(stat -c %s "$T/m.tar.partial" 2>/dev/null || echo 0)
  [ "$s" -gt 100000000 ] && break
  sleep 0.01
done
kill -9 "$B"
rc=0; wait "$F" || rc=$?
wait "$B" 2>/dev/null || true
if [ "$rc" -eq 3 ]; then
  ok
  mkdir "$T/mx" && tar -xf "$T/m.tar" -C "$T/mx" && ok || fail "mid-dump bundle unreadable"
  mb=$(echo "$T"/mx/*/)
  expect_grep '"action":"memory.core".*process exited while reading' "$mb/meta/actions.jsonl"
  expect_grep '"status": "padded"' "$mb/data/memory/$B/core.json"
  "$FORAGE" bundle verify "$T/m.tar" --allow-unsigned >/dev/null && ok || fail "mid-dump bundle does not verify"
elif [ "$rc" -eq 0 ]; then
  echo "note: the dump finished before the victim was killed (fast machine); mid-dump not exercised"
else
  fail "mid-dump exit $rc"; sed 's/^/    stderr: /' "$T/m.err" | tail -5 >&2
fi

# --- output disk full mid-core: .partial readable, victim still frozen, stderr says so
mkdir "$T/small"
if mount -t tmpfs -o size=24m forage-collect-test "$T/small" 2>/dev/null; then
  trap 'umount "$T/small" 2>/dev/null; rm -rf "$T"' EXIT
  start_big 64
  expect_exit 2 "$FORAGE" collect --pid "$B" --kill --profile process --no-sign --out "$T/small/d.tar"
  expect_grep 'No space left on device' "$T/err"
  expect_grep "processes $B are still FROZEN" "$T/err"
  [ "$(state_of "$B")" = T ] && ok || fail "victim not frozen after the failure (state $(state_of "$B"))"
  [ ! -e "$T/small/d.tar" ] && [ -f "$T/small/d.tar.partial" ] && ok || fail "partial/final state wrong"
  mkdir "$T/dx"
  tar -xf "$T/small/d.tar.partial" -C "$T/dx" 2>/dev/null || true
  [ -s "$(echo "$T"/dx/*/)data/volatile/processes.json" ] && ok || fail "members before the core lost"
  kill -9 "$B"; wait "$B" 2>/dev/null || true
else
  echo "note: cannot mount a tmpfs here; disk-full case not exercised"
fi
finish
