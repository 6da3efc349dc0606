#!/usr/bin/env bash
# ctest-labels: root
# `forage collect` freezes a batch job through its own cgroup v2 (cgroup.freeze), as on a worker
# node where each job has its cgroup. A real cgroup is made under the host's v2 hierarchy (found
# in mountinfo: /sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host) and holds a victim
# with threads and a child. Judges: the kernel's cgroup.events, /proc states, readelf on the core.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (cgroups)"; exit 77; fi
command -v cc >/dev/null || { echo "SKIP: no C compiler"; exit 77; }
CG=$(awk '$4 == "/" { for (i = 7; i <= NF; ++i) if ($i == "-") { if ($(i+1) == "cgroup2") print $5; break } }' \
  /proc/self/mountinfo | head -n 1)
[ -n "$CG" ] || { echo "SKIP: no cgroup v2 hierarchy mounted"; exit 77; }
G="$CG/forage-it-$$"
mkdir "$G" 2>/dev/null || { echo "SKIP: cannot create a cgroup under $CG"; exit 77; }
[ -e "$G/cgroup.freeze" ] || { rmdir "$G"; echo "SKIP: no cgroup.freeze (kernel < 5.2)"; exit 77; }
cleanup() {
  [ -e "$G/cgroup.freeze" ] && echo 0 >"$G/cgroup.freeze" 2>/dev/null
  for p in $(cat "$G/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  for _ in $(seq 50); do rmdir "$G" 2>/dev/null && break; sleep 0.1; done
  rm -rf "$T"
}
trap cleanup EXIT

cat >"$T/job.c" <<'C'
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void* spin(void* a) { (void)a; for (;;) pause(); return NULL; }
int main(void) {
  pthread_t t;
  for (int i = 0; i < 2; ++i) pthread_create(&t, NULL, spin, NULL);
  if (fork() == 0) for (;;) pause();  /* the job's child: must freeze with it */
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
C
cc -O1 -pthread -o "$T/job" "$T/job.c" || { echo "FAIL: cc"; exit 1; }
# The job is placed in its cgroup before it starts, as a batch system does.
sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2"' sh "$G" "$T/job" >"$T/job.out" &
V=$!
for _ in $(seq 100); do [ -s "$T/job.out" ] && break; sleep 0.05; done
child=$(awk -v pp="$V" '$4 == pp {print $1}' /proc/[0-9]*/stat 2>/dev/null | head -n 1)
[ -n "$child" ] && ok || fail "the job's child did not start"
state_of() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo gone; }

# 1. Without --kill: frozen through the cgroup, dumped (registers too), thawed afterwards.
expect_exit 0 timeout 120 "$FORAGE" collect --pid "$V" --profile process --no-sign --out "$T/a.tar"
mkdir "$T/a" && tar -xf "$T/a.tar" -C "$T/a" && ok || fail "bundle unreadable"
bag=$(echo "$T"/a/*/)
log="$bag/meta/actions.jsonl"
expect_grep "\"action\":\"freeze\".*pid $V.*cgroup:$G, verified stopped" "$log"
expect_grep "\"action\":\"freeze\".*pid $child.*cgroup:$G, verified stopped" "$log"
expect_grep '"registers": *"ptrace"' "$bag/data/memory/$V/core.json"
readelf -n "$bag/data/memory/$V/core" >"$T/notes" 2>&1
[ "$(grep -c NT_PRSTATUS "$T/notes")" -eq 3 ] && ok || fail "expected 3 NT_PRSTATUS notes (3 threads)"
expect_grep '^frozen 0$' "$G/cgroup.events"
[ "$(state_of "$V")" = S ] && [ "$(state_of "$child")" = S ] && ok ||
  fail "not thawed: job $(state_of "$V"), child $(state_of "$child")"
expect_exit 0 "$FORAGE" bundle verify "$T/a.tar" --allow-unsigned

# 2. With --kill: the job and its child are gone, the cgroup is empty (nothing left frozen).
expect_exit 0 timeout 120 "$FORAGE" collect --pid "$V" --kill --profile process --no-sign \
  --out "$T/b.tar"
wait "$V" 2>/dev/null || true
for _ in $(seq 50); do [ -s "$G/cgroup.procs" ] || break; sleep 0.1; done
[ ! -s "$G/cgroup.procs" ] && ok || fail "the cgroup still holds $(tr '\n' ' ' <"$G/cgroup.procs")"
expect_grep '^frozen 0$' "$G/cgroup.events"
finish
