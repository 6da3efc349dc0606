#!/usr/bin/env bash
# ctest-labels: root
# `forage collect` without root (issue 6): it does what the user's rights allow and says clearly
# what it could not do. Run as `nobody` (dropped with setpriv, hence the root label):
#   - its own process is frozen, dumped and killed, the bundle verifies (exit 0);
#   - a root-owned process is named in one warning per thing not collected, exit 3, not killed.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (to become nobody)"; exit 77; fi
command -v setpriv >/dev/null || { echo "SKIP: no setpriv"; exit 77; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

chmod 777 "$T"
cp "$FORAGE" "$T/forage" && chmod 755 "$T/forage"

# 1. A process of the same user: collected and killed.
# setpriv itself (not a subshell around it) in the background: $! is then the victim's pid.
setpriv --reuid=65534 --regid=65534 --clear-groups sleep 300 &
mine=$!
sleep 0.5
rc=0
as_nobody "$T/forage" collect --pid "$mine" --kill --no-sign --profile process \
  --out "$T/mine.tar" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 0 ] && ok || { fail "own process: exit $rc"; cat "$T/err" >&2; }
sleep 0.5
if kill -0 "$mine" 2>/dev/null; then fail "own process still alive after --kill"; kill -9 "$mine"; else ok; fi
wait "$mine" 2>/dev/null || true
expect_exit 0 "$FORAGE" bundle verify "$T/mine.tar" --allow-unsigned
# Listed to a file: `tar | grep -q` under pipefail fails when grep exits before tar (SIGPIPE).
tar -tf "$T/mine.tar" >"$T/mine.list"
expect_grep "/data/memory/$mine/core$" "$T/mine.list" "no core of pid $mine"

# 2. A root process: what could not be done is said, exit 3, the process is untouched.
sleep 300 &
theirs=$!
rc=0
as_nobody "$T/forage" collect --pid "$theirs" --kill --no-sign --profile process \
  --out "$T/theirs.tar" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 3 ] && ok || fail "root-owned target: exit $rc, expected 3"
expect_grep "pid $theirs not frozen: SIGSTOP: Operation not permitted" "$T/err"
expect_grep "pid $theirs memory: .*Permission denied" "$T/err"
state=$(awk '{print $3}' "/proc/$theirs/stat")
[ "$state" = S ] && ok || fail "root-owned target in state $state (should be untouched)"
kill "$theirs"
expect_exit 0 "$FORAGE" bundle verify "$T/theirs.tar" --allow-unsigned

finish
