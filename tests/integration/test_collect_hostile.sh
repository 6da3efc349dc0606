#!/usr/bin/env bash
# ctest-labels: root
# `forage collect` on a host that fights back (issue 11): every case is a real process or a real
# user doing what a malicious job would do. Each collection must end in time (60 s for --profile
# process, 180 s for triage), exit 0 or 3, give a bundle that `forage bundle verify` accepts, and
# no byte of a file only root can read may reach a bundle.
#   - a daemon whose cwd is / and the runuser that started a job (cwd /): never the whole disk
#   - a deleted FIFO the target holds open: never opened
#   - X509_USER_PROXY=/proc/kmsg, _CONDOR_JOB_AD on tracefs: pseudo files never read
#   - a user's ~/.ssh that is a link into a root-only directory, ~/.local likewise, a hard link
#     to a root-only file as ~/.bash_history, an 8 TiB sparse ~/.zsh_history, a home written
#     with a trailing slash in /etc/passwd
#   - SIGTERM in the middle of a collection: sealed as .partial, "interrupted" logged, targets
#     left frozen and named on stderr
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v runuser >/dev/null || { echo "SKIP: no runuser"; exit 77; }
chmod 755 "$T"

marker="forage-rootonly-$$-$RANDOM$RANDOM"
user="fhu$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    pkill -KILL -P "$p" 2>/dev/null || true
    kill -CONT "$p" 2>/dev/null || true
    kill -KILL "$p" 2>/dev/null || true
  done
  userdel "$user" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

# Files only root may read, with the marker inside.
mkdir -m 700 "$T/rootonly" "$T/rootonly/ssh" "$T/rootonly/local" "$T/rootonly/local/share"
mkdir -m 700 "$T/rootonly/local/share/fish"
echo "$marker ssh" >"$T/rootonly/ssh/authorized_keys"
echo "$marker fish" >"$T/rootonly/local/share/fish/fish_history"
echo "$marker history" >"$T/rootonly/history"
chmod 600 "$T/rootonly/history"

# The user: a home written with a trailing slash, ~/.ssh and ~/.local linking into root-only
# places, a hard link to a root-only file as its history (what a user can do on a host without
# fs.protected_hardlinks; root makes it here), an 8 TiB sparse zsh history.
mkdir -p "$T/home/hu"
useradd -M -d "$T/home/hu/" -s /bin/sh "$user"
grep -q "^$user:.*:$T/home/hu/:" /etc/passwd && ok || fail "passwd entry lacks the trailing slash"
ln -s "$T/rootonly/ssh" "$T/home/hu/.ssh"
ln -s "$T/rootonly/local" "$T/home/hu/.local"
ln "$T/rootonly/history" "$T/home/hu/.bash_history"
truncate -s 8T "$T/home/hu/.zsh_history"
echo "ls -la" >"$T/home/hu/.python_history"
chown -h "$user:" "$T/home/hu" "$T/home/hu/.ssh" "$T/home/hu/.local" "$T/home/hu/.zsh_history" \
  "$T/home/hu/.python_history"

no_marker() {  # BUNDLE: no root-only byte in it
  rm -rf "$T/x" && mkdir "$T/x" && tar -xf "$1" -C "$T/x" || { fail "$1: not a tar"; return; }
  if grep -rqF "$marker" "$T/x"; then fail "root-only bytes in $1: $(grep -rlF "$marker" "$T/x")"; else ok; fi
}
collect_ok() {  # LIMIT_S OUT ARGS...: runs collect, checks time, exit code and verify
  local limit=$1 out=$2; shift 2
  local t0=$SECONDS rc=0
  timeout -s KILL $((limit + 30)) "$FORAGE" collect --no-sign --out "$out" "$@" >"$T/out" 2>"$T/err" || rc=$?
  local took=$((SECONDS - t0))
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]; then ok; else fail "collect $* exit $rc"; tail -5 "$T/err" >&2; fi
  [ "$took" -le "$limit" ] && ok || fail "collect $* took ${took}s (limit ${limit}s)"
  "$FORAGE" bundle verify --allow-unsigned "$out" >/dev/null 2>&1 && ok || fail "$out does not verify"
  no_marker "$out"
  B=$(echo "$T"/x/*/)
}

# --- a daemon with cwd /, and the runuser parent of a job
(cd / && exec setsid sleep 600) >/dev/null 2>&1 &
D=$!; pids+=("$D")
disown "$D"  # killed by the test itself: no "Killed" line from bash
(cd / && exec runuser -u nobody -- sleep 600) >/dev/null 2>&1 &
R=$!; pids+=("$R")
sleep 0.5
collect_ok 180 "$T/cwd.tar" --pid "$D" --pid "$R" --profile triage --artifacts-deadline 150
expect_grep "\"action\":\"artifacts.list\",\"target\":\"pid $D cwd /\".*the root directory \(the whole disk\): not listed" "$B/meta/actions.jsonl"
expect_grep "\"target\":\"pid $R cwd /\".*not listed" "$B/meta/actions.jsonl"
[ ! -e "$B/data/host/listings/root.jsonl" ] && ok || fail "the root directory was listed"
expect_no_grep '"path":"/proc/' "$B/data/host/listings/tmp.jsonl"
# The runuser's child (nobody's sleep) was frozen and dumped with it.
child=$(awk -v pp="$R" '$4 == pp {print $1}' /proc/[0-9]*/stat 2>/dev/null | head -1)
[ -n "$child" ] && [ -f "$B/data/memory/$child/core" ] && ok || fail "runuser's child not dumped"
# Kill order (issue 17): every artefact before the kill, the kill before the seal.
collect_ok 180 "$T/kill.tar" --pid "$D" --kill --profile triage
awk -F'"action":"' '{split($2, a, "\""); print a[1]}' "$B/meta/actions.jsonl" >"$T/order"
last_art=$(grep -n '^artifacts' "$T/order" | tail -1 | cut -d: -f1)
first_kill=$(grep -n '^kill$' "$T/order" | head -1 | cut -d: -f1)
seal=$(grep -n '^bundle.seal$' "$T/order" | cut -d: -f1)
[ -n "$last_art" ] && [ -n "$first_kill" ] && [ "$last_art" -lt "$first_kill" ] && ok ||
  fail "an artefact action after the kill (last artefact $last_art, kill $first_kill)"
[ -n "$seal" ] && [ "$first_kill" -lt "$seal" ] && ok || fail "the kill is not before the seal"
expect_grep '"latency_seconds": [0-9]' "$B/meta/incident.json"
expect_grep '"kill": "done"' "$B/meta/incident.json"
[ -e "/proc/$D" ] && fail "pid $D still alive after --kill" || ok

# --- a deleted FIFO held open (the read end of a FIFO would block an open without O_NONBLOCK)
mkfifo "$T/fifo"
bash -c "exec 3<>'$T/fifo'; rm -f '$T/fifo'; exec sleep 600" >/dev/null 2>&1 &
F=$!; pids+=("$F")
sleep 0.3
collect_ok 60 "$T/fifo.tar" --pid "$F" --profile process
expect_grep "recover.file.*pid $F fd 3.*not a regular file \(fifo\)" "$B/meta/actions.jsonl"

# --- files named by the environment that are pseudo files: /proc/kmsg (reading it would block
# and drain the kernel's messages), tracefs' trace_pipe
tp=/sys/kernel/tracing/trace_pipe
[ -e "$tp" ] || tp=/proc/self/status  # no tracefs here: another pseudo file
env X509_USER_PROXY=/proc/kmsg _CONDOR_JOB_AD="$tp" sleep 600 >/dev/null 2>&1 &
K=$!; pids+=("$K")
sleep 0.3
collect_ok 60 "$T/kmsg.tar" --pid "$K" --profile process
expect_grep 'pseudo file system' "$B/data/grid/$K/grid.json"
expect_grep "\"action\":\"grid\",\"target\":\"pid $K\"" "$B/meta/actions.jsonl"

# --- the hostile home: links on the way and a hard link never followed or read, the sparse
# history listed over budget, never copied
runuser -u "$user" -- sleep 600 >/dev/null 2>&1 &
U=$!; pids+=("$U")
sleep 0.3
collect_ok 180 "$T/home.tar" --user "$user" --profile triage
hb="$B/data/host$T/home/hu"
[ -f "$hb/.python_history" ] && ok || fail "the user's own history not taken (trailing-slash home)"
[ ! -e "$hb/.bash_history" ] && ok || fail "the hard-linked root file was copied"
[ ! -e "$hb/.zsh_history" ] && ok || fail "the 8 TiB history was copied"
expect_grep "\"path\":\"$T/home/hu/.zsh_history\".*\"size\":8796093022208" "$B/data/host/over-budget.jsonl"
expect_grep "$T/home/hu/.ssh.*symbolic link" "$B/meta/actions.jsonl"
expect_grep "$T/home/hu/.local.*symbolic link" "$B/meta/actions.jsonl"
expect_grep "$T/home/hu/.bash_history.*unreadable as $user" "$B/meta/actions.jsonl"
bsize=$(stat -c %s "$T/home.tar")
[ "$bsize" -lt $((1100 * 1024 * 1024)) ] && ok || fail "bundle of $bsize bytes: over the default budgets"

# --- SIGTERM in the middle: sealed as .partial, interrupted, the targets stay frozen
mkdir "$T/many"
(cd "$T/many" && seq 1 40000 | xargs touch)
(cd "$T/many" && exec sleep 600) >/dev/null 2>&1 &
S=$!; pids+=("$S")
sleep 0.3
"$FORAGE" collect --no-sign --pid "$S" --kill --profile triage --out "$T/int.tar" >"$T/int.out" 2>"$T/int.err" &
C=$!
for _ in $(seq 600); do grep -q 'artifacts.begin' "$T/int.err" && break; sleep 0.05; done
kill -TERM "$C"
rc=0; wait "$C" || rc=$?
[ "$rc" -eq 3 ] && ok || { fail "interrupted collect exit $rc"; tail -5 "$T/int.err" >&2; }
[ -f "$T/int.tar.partial" ] && [ ! -e "$T/int.tar" ] && ok || fail "interrupted bundle not kept as .partial"
"$FORAGE" bundle verify --allow-unsigned "$T/int.tar.partial" >/dev/null 2>&1 && ok || fail "interrupted bundle does not verify"
no_marker "$T/int.tar.partial"
B=$(echo "$T"/x/*/)
expect_grep '"action":"interrupted".*SIGTERM.*FROZEN' "$B/meta/actions.jsonl"
expect_no_grep '"action":"kill"' "$B/meta/actions.jsonl"
expect_grep "interrupted: the processes $S stay FROZEN" "$T/int.err"
state=$(awk '{print $3}' "/proc/$S/stat" 2>/dev/null || echo gone)
[ "$state" = T ] && ok || fail "target state $state after the interruption (expected T: frozen)"
finish
