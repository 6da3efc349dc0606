#!/usr/bin/env bash
# Default triage collection of a node whose /tmp holds >= 5 GB in >= 200,000 files (issue 11):
# `forage collect --profile triage` (no target: the host artefacts alone) against `tar` of the
# same locations piped through sha256sum (what an admin does by hand), and UAC's ir_triage
# profile when UAC_DIR points at an unpacked UAC (https://github.com/tclahr/uac). One run each,
# side by side: wall time and output size. Target: forage <= 120 s and <= 1 GiB, with every file
# it did not copy listed (data/host/listings, data/host/over-budget.jsonl).
# Needs root (it reads every home and /var/log) and about 11 GB free in /tmp and $BENCH_OUT.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "bench_triage: needs root" >&2; exit 2; }
SMALL=${SMALL:-200000}   # small files (0-8 KiB)
BIG=${BIG:-40}           # big files of 128 MiB each
DROP_CACHES=${DROP_CACHES:-0}

tree=/tmp/forage-bench-triage
work="$OUT/triage-work"
rm -rf "$tree" "$work"
mkdir -p "$tree" "$work"
trap '[ -n "${KEEP:-}" ] || rm -rf "$tree" "$work"' EXIT

echo "building $tree: $SMALL small files, $BIG x 128 MiB, executables and scripts..."
for d in $(seq 0 $((SMALL / 1000 - 1))); do
  mkdir -p "$tree/d$d"
  (cd "$tree/d$d" && awk -v d="$d" 'BEGIN{srand(d); for (i = 0; i < 1000; i++) {
      f = sprintf("f%04d.dat", i); n = int(rand() * 8192);
      s = ""; while (length(s) < n) s = s "job output line " i " of dir " d "\n";
      printf "%s", substr(s, 1, n) > f; close(f) }}')
done
for i in $(seq 1 "$BIG"); do head -c $((128 << 20)) /dev/urandom >"$tree/big$i.bin"; done
mkdir -p "$tree/bin"
for i in $(seq 1 300); do cp /bin/true "$tree/bin/elf$i"; printf '#!/bin/sh\necho %d\n' "$i" >"$tree/bin/s$i.sh"; done
files=$(find "$tree" -type f | wc -l)
bytes=$(du -sb "$tree" | cut -f1)
echo "tree: $files files, $((bytes >> 20)) MiB"
sync

drop() { [ "$DROP_CACHES" = 1 ] && { sync; echo 3 >/proc/sys/vm/drop_caches; }; true; }
timed() {  # label cmd...: prints seconds; output in $work/label.out
  local t0 t1
  t0=$(date +%s.%N)
  local label=$1; shift
  "$@" >"$work/$label.out" 2>"$work/$label.err" || true
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}'
}

run_forage() { "$FORAGE" --log-level warn collect --profile triage --no-sign --out "$work/forage.tar"; }
drop; t_forage=$(timed forage run_forage)
s_forage=$(stat -c %s "$work/forage.tar" 2>/dev/null || echo 0)
b="$work/fx"; mkdir -p "$b"; tar -xf "$work/forage.tar" -C "$b"; b=$(echo "$b"/*/)
listed=$( (cat "$b"/data/host/listings/*.jsonl 2>/dev/null || true) | wc -l)
in_tree=$(grep -c "\"path\":\"$tree/" "$b/data/host/listings/tmp.jsonl" || true)
over=$( (cat "$b/data/host/over-budget.jsonl" 2>/dev/null || true) | wc -l)
cut=$(grep -c '"action":"artifacts.abandoned"' "$b/meta/actions.jsonl" || true)
"$FORAGE" bundle verify --allow-unsigned "$work/forage.tar" >/dev/null 2>&1 && ok_v=yes || ok_v=NO
rm -rf "$work/fx"

# tar of the same locations, hashed on the way: the by-hand equivalent.
locs=()
for p in /var/log/auth.log* /var/log/secure* /var/log/syslog* /var/log/messages* /var/log/journal \
  /run/log/journal /var/log/wtmp* /var/log/btmp* /var/log/lastlog /etc/passwd /etc/group /etc/shadow \
  /etc/sudoers /etc/sudoers.d /etc/crontab /etc/anacrontab /etc/cron.d /etc/cron.hourly \
  /etc/cron.daily /etc/cron.weekly /etc/cron.monthly /var/spool/cron /etc/systemd/system \
  /etc/ld.so.preload /etc/rc.local /etc/profile.d /etc/environment /etc/ssh /root/.ssh \
  /root/.bash_history /home/*/.ssh /home/*/.bash_history /tmp /var/tmp /dev/shm; do
  [ -e "$p" ] && locs+=("$p")
done
run_tar() { tar -cf - --exclude="$work" "${locs[@]}" 2>/dev/null | tee "$work/tar.tar" | sha256sum; }
drop; t_tar=$(timed tar run_tar)
s_tar=$(stat -c %s "$work/tar.tar")
rm -f "$work/tar.tar"

t_uac="-"; s_uac="-"
if [ -n "${UAC_DIR:-}" ] && [ -x "$UAC_DIR/uac" ]; then
  mkdir -p "$work/uac"
  run_uac() { cd "$UAC_DIR" && ./uac -p ir_triage "$work/uac"; }
  drop; t_uac=$(timed uac run_uac)
  s_uac=$(stat -c %s "$work"/uac/*.tar.gz 2>/dev/null | head -1)
fi

echo
echo "| tool | wall s | output | notes |"
echo "|---|---|---|---|"
echo "| forage collect --profile triage | $t_forage | $((s_forage >> 20)) MiB | verify: $ok_v; $listed entries listed ($in_tree of the tree's), $over not copied and listed, $cut steps abandoned |"
echo "| tar of the same locations + sha256sum | $t_tar | $((s_tar >> 20)) MiB | everything copied, nothing typed or hashed per file |"
[ "$t_uac" != "-" ] && echo "| UAC 3 ir_triage | $t_uac | $((s_uac >> 20)) MiB (tar.gz) | |"
echo
echo "forage / tar time: $(ratio "$t_forage" "$t_tar"); forage / tar size: $(ratio "$s_forage" "$s_tar")"
[ "$t_uac" != "-" ] && echo "forage / UAC time: $(ratio "$t_forage" "$t_uac")"
awk -v t="$t_forage" -v s="$s_forage" 'BEGIN{ ok = (t <= 120 && s <= 1073741824);
  printf "target (<= 120 s, <= 1 GiB): %s\n", ok ? "met" : "NOT met" }'
