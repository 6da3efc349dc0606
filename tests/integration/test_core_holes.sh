#!/usr/bin/env bash
# ctest-labels: root
# A core of a process whose memory is mostly never touched: a 64 MiB anonymous mapping with a
# pattern in one page of every 3, a 32 MiB heap block touched in its first half, and a fully
# touched 8 MiB block. forage splits those mappings as /proc/PID/pagemap says: the untouched
# half of the heap block is a hole (a PT_LOAD without bytes), the 2-page gaps of the first
# mapping (shorter than a hole) are written as zeros without being read (collector/core.h).
# Judges:
#   - gdb on forage's core reads the same bytes as gdb on gcore's core of the same process
#     (`dump binary memory` of each region, then cmp), and the same as gdb attached to the
#     process itself;
#   - the dump faulted nothing in: the untouched pages are still absent from pagemap afterwards
#     (gcore, run last, reads them all);
#   - the bundle holds the core and the action log records it;
#   - the hole: forage's core is at least 12 MiB smaller than gcore's (which writes the 16 MiB
#     of zeros), and readelf shows a PT_LOAD without bytes inside the heap block.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (ptrace, pagemap of another process)"; exit 77; fi
command -v cc >/dev/null || { echo "SKIP: no C compiler"; exit 77; }
command -v gdb >/dev/null && command -v gcore >/dev/null || { echo "SKIP: no gdb/gcore"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

cat >"$T/victim.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(void) {
  const size_t page = 4096, sparse_len = 64u << 20, heap_len = 32u << 20, full_len = 8u << 20;
  unsigned char* sparse = mmap(NULL, sparse_len, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (sparse == MAP_FAILED) return 1;
  madvise(sparse, sparse_len, MADV_NOHUGEPAGE);  /* a huge page would make every page present */
  for (size_t off = 0; off < sparse_len; off += 3 * page)
    for (size_t i = 0; i < page; ++i) sparse[off + i] = (unsigned char)((off / page) * 7 + i);
  unsigned char* heap = malloc(heap_len);  /* glibc: its own mmap, untouched until written */
  for (size_t i = 0; i < heap_len / 2; ++i) heap[i] = (unsigned char)(i * 2654435761u >> 24);
  unsigned char* full = mmap(NULL, full_len, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (full == MAP_FAILED) return 1;
  memset(full, 0xa5, full_len);
  printf("%p %zu\n%p %zu\n%p %zu\n", (void*)sparse, sparse_len, (void*)heap, heap_len,
         (void*)full, full_len);
  fflush(stdout);
  for (;;) pause();
}
EOF
cc -g -O1 -o "$T/victim" "$T/victim.c" || { echo "FAIL: cc"; exit 1; }
"$T/victim" >"$T/victim.out" &
V=$!
trap 'kill -9 $V 2>/dev/null; wait $V 2>/dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ "$(wc -l <"$T/victim.out")" -ge 3 ] && break; sleep 0.05; done
[ "$(wc -l <"$T/victim.out")" -eq 3 ] && ok || { fail "victim did not start"; finish; exit 1; }

# Pages of [addr, addr+len) present or swapped in the victim, from its pagemap.
resident_pages() {
  python3 - "$V" "$1" "$2" <<'PY'
import struct, sys
pid, addr, n = int(sys.argv[1]), int(sys.argv[2], 16), int(sys.argv[3])
with open(f"/proc/{pid}/pagemap", "rb") as f:
    f.seek(addr // 4096 * 8)
    data = f.read(n // 4096 * 8)
print(sum(1 for (e,) in struct.iter_unpack("<Q", data) if e >> 62))
PY
}
read -r sparse_addr sparse_len < <(sed -n 1p "$T/victim.out")
before=$(resident_pages "$sparse_addr" "$sparse_len")
[ "$before" -eq 5462 ] && ok || fail "sparse region: $before pages resident before, expected 5462"

expect_exit 0 "$FORAGE" collect --pid "$V" --profile process --no-sign --out "$T/b.tar"
after=$(resident_pages "$sparse_addr" "$sparse_len")
[ "$after" -eq "$before" ] && ok ||
  fail "the dump faulted in untouched pages: $before resident before, $after after"
mkdir "$T/x"
tar -xf "$T/b.tar" -C "$T/x" && ok || fail "tar -xf"
core=$(echo "$T"/x/*/data/memory/"$V"/core)
[ -s "$core" ] && ok || fail "no core in the bundle"
grep -q '"action":"memory.core"' "$T"/x/*/meta/actions.jsonl && ok || fail "no memory.core action"

gcore -o "$T/g" "$V" >/dev/null 2>&1 && ok || fail "gcore"
# gdb, three ways, each region: forage's core, gcore's core, the live process.
dumps() {  # dumps PREFIX GDB-ARGS...: one file per region
  local prefix=$1; shift
  local cmds=() k=0
  while read -r a n; do
    cmds+=(-ex "dump binary memory $prefix.$k $a $(printf '0x%x' $((a + n)))")
    k=$((k + 1))
  done <"$T/victim.out"
  gdb -nx -batch "${cmds[@]}" "$@" >"$prefix.log" 2>&1
}
dumps "$T/ours" "$T/victim" "$core"
dumps "$T/gcore" "$T/victim" "$T/g.$V"
dumps "$T/live" -p "$V"
for k in 0 1 2; do
  n=$(sed -n "$((k + 1))p" "$T/victim.out" | cut -d' ' -f2)
  s=$(stat -c %s "$T/ours.$k" 2>/dev/null || echo 0)
  [ "$s" -eq "$n" ] && ok || { fail "region $k: gdb read $s bytes from forage's core, expected $n"; sed 's/^/    gdb: /' "$T/ours.log" | head -5 >&2; }
  cmp -s "$T/ours.$k" "$T/gcore.$k" && ok || fail "region $k: forage's core and gcore's differ in gdb"
  cmp -s "$T/ours.$k" "$T/live.$k" && ok || fail "region $k: forage's core and the live process differ"
done
# The untouched half of the heap block is a hole: no bytes in the core.
ours_size=$(stat -c %s "$core") gcore_size=$(stat -c %s "$T/g.$V")
[ $((ours_size + (12 << 20))) -lt "$gcore_size" ] && ok ||
  fail "no hole: forage's core is $ours_size bytes, gcore's $gcore_size"
read -r heap_addr heap_len < <(sed -n 2p "$T/victim.out")
readelf -lW "$core" | python3 -c '
import sys
lo, n = int(sys.argv[1], 16), int(sys.argv[2])
holes = [l.split() for l in sys.stdin if l.split()[:1] == ["LOAD"]]
holes = [h for h in holes if int(h[4], 16) == 0 and lo <= int(h[2], 16) < lo + n]
sys.exit(0 if holes else 1)' "$heap_addr" "$heap_len" && ok ||
  fail "readelf: no PT_LOAD without bytes inside the heap block"
# The untouched pages really are zeros in the core, the touched ones carry the pattern.
python3 - "$T/ours.0" <<'PY' && ok || fail "sparse region: pattern or zeros wrong in the core"
import sys
d = open(sys.argv[1], "rb").read()
for p in range(len(d) // 4096):
    page = d[p * 4096:(p + 1) * 4096]
    if p % 3 == 0:
        assert page == bytes(((p * 7 + i) & 255) for i in range(4096)), p
    else:
        assert page == bytes(4096), p
PY
finish
