#!/usr/bin/env bash
# Snapshot of a live 1 GiB process: `forage collect --pid P --profile process` (freeze, volatile
# state, ELF core hashed into a signed bundle, executable, thaw) against `gcore` (gdb) on the same
# process, best of 3 each, side by side. Issue 6 target: forage <= 0.7x gcore's time; issue 14:
# forage <= 1.0x `gcore` + `sync` (evidence of the same durability), stretch 0.8x.
# Then the same for a sparse process (SPARSE_MB of anonymous memory, one page in 16 touched): forage
# reads such memory as /proc/PID/pagemap says and writes untouched pages as zeros unread.
# The action log's timestamps split forage's time: before the core, the core, after it.
# Needs root (or ptrace rights over the victim). Both write to the same directory ($BENCH_OUT).
#   SIZE_MB (default 1024)  SPARSE_MB (default 1024; 0: no sparse rows)  RUNS (default 3)
. "$(dirname "$0")/lib.sh"

SIZE_MB=${SIZE_MB:-1024}
SPARSE_MB=${SPARSE_MB:-1024}
RUNS=${RUNS:-3}
apt_need gdb time openssl gcc libc6-dev
TIME=/usr/bin/time

work="$OUT/collect-work"
rm -rf "$work"; mkdir -p "$work"
cat >"$work/big.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char** argv) {
  size_t n = strtoull(argv[1], NULL, 10) << 20;
  /* sparse: one page touched every argv[2] pages; else every page */
  size_t stride = argc > 2 ? strtoull(argv[2], NULL, 10) * 4096 : n, touch = argc > 2 ? 4096 : n;
  volatile unsigned char* p = malloc(n);  /* volatile: the stores must happen */
  for (size_t off = 0; off < n; off += stride)
    for (size_t i = off; i < off + touch; ++i)
      p[i] = (unsigned char)(i * 2654435761u >> 24);  /* not zero pages */
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
C
cc -O2 -o "$work/big" "$work/big.c"

pki="$OUT/collect-pki"
if [ ! -s "$pki/host.pem" ]; then
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/host.key" -out "$pki/host.pem" -days 365 \
    -subj "/DC=org/DC=bench/CN=bench.host" >/dev/null 2>&1
fi

start_victim() {  # start_victim MB [STRIDE]: sets V
  rm -f "$work/big.out"
  "$work/big" "$@" >"$work/big.out" &
  V=$!
  for _ in $(seq 600); do [ -s "$work/big.out" ] && break; sleep 0.1; done
  [ -s "$work/big.out" ] || { echo "bench: victim did not start" >&2; exit 1; }
}
start_victim "$SIZE_MB"
trap 'kill -9 $V 2>/dev/null; wait $V 2>/dev/null || true; rm -rf "$work"' EXIT

run_forage() {
  rm -f "$work/c.tar"
  "$FORAGE" --log-level warn collect --pid "$V" --profile process --out "$work/c.tar" \
    --sign-cert "$pki/host.pem" --sign-key "$pki/host.key"
}
run_gcore() {
  rm -f "$work/g.$V"
  gcore -o "$work/g" "$V" >/dev/null 2>&1
}
# forage fsyncs its bundle before renaming it (evidence that survives a crash); the same
# durability for gcore's output, for a like-for-like row.
run_gcore_sync() {
  run_gcore && sync "$work/g.$V"
}
# What an admin does to get evidence of the same standing by hand: dump, hash, make durable.
run_gcore_evidence() {
  run_gcore && sha256sum "$work/g.$V" >"$work/g.sha256" && sync "$work/g.$V"
}

t_forage=$(best_of "$RUNS" run_forage)
t_gcore=$(best_of "$RUNS" run_gcore)
t_gcore_sync=$(best_of "$RUNS" run_gcore_sync)
t_gcore_evidence=$(best_of "$RUNS" run_gcore_evidence)
core_bytes=$(stat -c %s "$work/g.$V")
bundle_bytes=$(stat -c %s "$work/c.tar")
"$FORAGE" --log-level warn bundle verify "$work/c.tar" --ca-file "$pki/host.pem" >/dev/null \
  || { echo "bench: the benchmark bundle does not verify" >&2; exit 1; }
rm -f "$work/c.tar"
$TIME -v "$FORAGE" --log-level warn collect --pid "$V" --profile process --out "$work/c.tar" \
  --sign-cert "$pki/host.pem" --sign-key "$pki/host.key" 2>"$work/time.txt"
rss_kib=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$work/time.txt")

printf '%-52s %9s %9s %12s\n' "snapshot of a ${SIZE_MB} MiB process" "seconds" "MiB/s" "bytes"
printf '%-52s %9s %9s %12s\n' "forage collect --profile process (signed bundle)" "$t_forage" \
  "$(mbps "$bundle_bytes" "$t_forage")" "$bundle_bytes"
printf '%-52s %9s %9s %12s\n' "gcore (gdb)" "$t_gcore" "$(mbps "$core_bytes" "$t_gcore")" "$core_bytes"
printf '%-52s %9s %9s %12s\n' "gcore + sync of its core file" "$t_gcore_sync" \
  "$(mbps "$core_bytes" "$t_gcore_sync")" "$core_bytes"
printf '%-52s %9s %9s %12s\n' "gcore + sha256sum + sync (hashed, durable)" "$t_gcore_evidence" \
  "$(mbps "$core_bytes" "$t_gcore_evidence")" "$core_bytes"
echo "ratio forage / gcore: $(ratio "$t_forage" "$t_gcore") (issue 6 target <= 0.7);" \
  "forage / (gcore + sync): $(ratio "$t_forage" "$t_gcore_sync") (issue 14 target <= 1.0);" \
  "forage / (gcore + sha256sum + sync): $(ratio "$t_forage" "$t_gcore_evidence")"
sha_kbs=$(openssl speed -evp sha256 -bytes 1048576 -seconds 2 2>/dev/null | awk '/^sha256/ {print $2}' | tr -d k)
echo "for scale: SHA-256 alone of ${SIZE_MB} MiB takes" \
  "$(awk -v k="$sha_kbs" -v m="$SIZE_MB" 'BEGIN{printf "%.2f", m*1048.576/k}') s on one core here"
echo "forage peak RSS: $((rss_kib / 1024)) MiB"

# Where forage's time goes, from the last run's action log: start -> memory.plan (freeze, volatile
# state, maps, registers), memory.plan -> memory.core (the core: read, hash, write), the rest
# (executable, grid context, thaw, up to the seal entry; the final fsync and rename come after the
# last entry, so they are the difference between this sum and the wall time).
tar -xOf "$work/c.tar" --wildcards '*/meta/actions.jsonl' | awk -F'"utc":"' '
  { split($2, a, "\""); t = a[1]; sub(/.*T/, "", t); sub(/Z$/, "", t); split(t, h, ":")
    s = h[1] * 3600 + h[2] * 60 + h[3]; if (NR == 1) first = s; last = s
    if ($0 ~ /"action":"memory.plan"/) plan = s; if ($0 ~ /"action":"memory.core"/) core = s }
  END { printf "forage phases (action log): before the core %.2f s, the core %.2f s, after %.2f s\n",
        plan - first, core - plan, last - core }'

if [ "$SPARSE_MB" -gt 0 ]; then
  kill -9 "$V" 2>/dev/null; wait "$V" 2>/dev/null || true
  start_victim "$SPARSE_MB" 16
  t_sparse=$(best_of "$RUNS" run_forage)
  t_sparse_gcore_sync=$(best_of "$RUNS" run_gcore_sync)
  echo
  printf '%-52s %9s\n' "sparse: ${SPARSE_MB} MiB, one page in 16 touched" "seconds"
  printf '%-52s %9s\n' "forage collect --profile process (signed bundle)" "$t_sparse"
  printf '%-52s %9s\n' "gcore + sync of its core file" "$t_sparse_gcore_sync"
  echo "ratio forage / (gcore + sync), sparse: $(ratio "$t_sparse" "$t_sparse_gcore_sync")"
fi
