#!/usr/bin/env bash
# ctest-labels: root
# Kill last (issue 17): with --kill, the disk artefacts are taken while the targets stay frozen,
# then the kill, then the seal.
#   - a job whose parent script deletes the job directory as soon as its child dies: the
#     directory's files are in the bundle (taken before the kill), and the child is dead after;
#   - the output fills up during the artefacts (a small tmpfs): the target is still frozen, not
#     killed, and stderr says how to resume or kill it.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    pkill -KILL -P "$p" 2>/dev/null || true
    kill -CONT "$p" 2>/dev/null || true
    kill -KILL "$p" 2>/dev/null || true
  done
  umount "$T/small" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
state_of() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo gone; }

# --- the job: a parent that wipes the job directory when its child dies
mkdir -p "$T/job"
printf '#!/bin/sh\nexec sleep 600\n' >"$T/job/payload.sh"
chmod +x "$T/job/payload.sh"
echo "stolen data" >"$T/job/output.dat"
(cd "$T/job" && exec sh -c "./payload.sh & wait \$!; rm -rf '$T/job'") >/dev/null 2>&1 &
P=$!; pids+=("$P")
for _ in $(seq 100); do
  C=$(awk -v pp="$P" '$4 == pp {print $1}' /proc/[0-9]*/stat 2>/dev/null | head -1)
  [ -n "$C" ] && break
  sleep 0.05
done
[ -n "$C" ] && ok || { fail "the job's child did not start"; finish; exit 1; }
pids+=("$C")
rc=0
"$FORAGE" collect --pid "$C" --kill --profile triage --no-sign --out "$T/job.tar" >"$T/out" 2>"$T/err" || rc=$?
# 3: something of the host could not be taken (a busy /tmp over its listing limit...): still done.
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] && ok || { fail "collect exit $rc"; tail -5 "$T/err" >&2; }
expect_exit 0 "$FORAGE" bundle verify --allow-unsigned "$T/job.tar"
mkdir "$T/x" && tar -xf "$T/job.tar" -C "$T/x"
B=$(echo "$T"/x/*/)
slug=$(echo "${T#/}/job" | tr / _)
expect_grep '"path":"'"$T"'/job/output.dat"' "$B/data/host/listings/$slug.jsonl" "the job's data not listed"
cmp -s "$B/data/host/files$T/job/payload.sh" <(printf '#!/bin/sh\nexec sleep 600\n') && ok ||
  fail "the job's script not copied before the kill"
expect_grep "\"action\":\"kill\",\"target\":\"pid $C\".*killed" "$B/meta/actions.jsonl"
# After the collection: the child is dead, and its parent has wiped the directory.
for _ in $(seq 100); do [ -e "$T/job" ] || break; sleep 0.05; done
[ "$(state_of "$C")" = gone ] || [ "$(state_of "$C")" = Z ] && ok || fail "the job's child survived --kill"
[ ! -e "$T/job" ] && ok || fail "the parent did not run its clean-up (the test did not test)"

# --- the output fills during the artefacts: frozen, not killed
mkdir -p "$T/big"
{ printf '\177ELF'; head -c $((8 << 20)) /dev/urandom; } >"$T/big/dropper"
chmod +x "$T/big/dropper"
(cd "$T/big" && exec sleep 600) >/dev/null 2>&1 &
V=$!; pids+=("$V")
sleep 0.3
# How much the process part takes: the tmpfs holds that and a little more, not the artefacts.
"$FORAGE" collect --pid "$V" --profile process --no-sign --out "$T/probe.tar" >/dev/null 2>&1
kill -CONT "$V" 2>/dev/null || true
need=$(stat -c %s "$T/probe.tar")
mkdir "$T/small"
if mount -t tmpfs -o size=$(((need >> 20) + 2))m forage-kill-last "$T/small" 2>/dev/null; then
  expect_exit 2 "$FORAGE" collect --pid "$V" --kill --profile triage --no-sign --out "$T/small/f.tar"
  expect_grep 'No space left on device' "$T/err"
  expect_grep "processes $V are still FROZEN \(not killed\)" "$T/err"
  expect_grep "kill -KILL $V" "$T/err"
  [ "$(state_of "$V")" = T ] && ok || fail "target not frozen after the output failed (state $(state_of "$V"))"
  [ -f "$T/small/f.tar.partial" ] && ok || fail "no .partial kept"
  mkdir "$T/fx"
  tar -xf "$T/small/f.tar.partial" -C "$T/fx" 2>/dev/null || true
  fb=$(echo "$T"/fx/*/)
  [ -s "$fb/data/memory/$V/core" ] && ok || fail "the core before the failure is lost"
  [ -s "$fb/meta/actions.jsonl" ] && expect_no_grep '"action":"kill"' "$fb/meta/actions.jsonl"
else
  echo "note: cannot mount a tmpfs here; the output-failure case is not exercised"
fi
finish
