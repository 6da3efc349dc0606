#!/usr/bin/env bash
# `forage scan files|procs|net` through the CLI: exit codes 0/1/2/3, JSON lines checked by jq,
# a planted tree (hash, name, path and YARA hits; symlink loop, FIFO, 0-byte file, a name with a
# newline), compiled rules judged by the real `yara -C`, a live process with a marker in its
# heap, and a live loopback connection to an indicator address.
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || { echo "SKIP: jq not installed (scripts/install-deps.sh)"; exit 77; }
# A real interpreter binary (not a pyenv-style shim script) for the network child.
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || true)

# jsonl_ok FILE: every line is one JSON object, and the last one is the summary.
jsonl_ok() {
  if jq -e -s 'all(type == "object") and (.[-1].kind == "summary")' "$1" >/dev/null 2>&1; then ok
  else fail "$1 is not JSON lines closed by a summary"; sed 's/^/    /' "$1" | head -5 >&2; fi
}

# --- a planted tree
tree="$T/tree"
mkdir -p "$tree/sub/deeper" "$tree/clean"
printf 'dropper payload for forage\n' > "$tree/payload.bin"
sha=$(sha256sum "$tree/payload.bin" | cut -d' ' -f1)
printf 'just a name\n' > "$tree/sub/xmr-dropper.sh"
printf 'zz FORAGE_IT_MARKER zz\n' > "$tree/sub/deeper/hit.txt"
printf 'FORAGE_IT_MARKER\n' > "$tree/name
with newline"
: > "$tree/empty"
ln -s "$tree" "$tree/sub/loop"
mkfifo "$tree/fifo"
printf 'nothing here\n' > "$tree/clean/readme"
cat > "$T/iocs.txt" <<EOF
TLP:AMBER broadcast for the integration test
dropper hash: $sha
miner script: xmr-dropper.sh
EOF
cat > "$T/marker.yar" <<'EOF'
rule it_marker { strings: $m = "FORAGE_IT_MARKER" condition: $m }
rule it_empty { condition: filesize == 0 and filename == "empty" and owner != "" }
EOF

expect_exit 1 "$FORAGE" scan files --json --rules "$T/marker.yar" --iocs "$T/iocs.txt" "$tree"
cp "$T/out" "$T/tree.jsonl"
jsonl_ok "$T/tree.jsonl"
jq -r 'select(.kind=="ioc") | "\(.match) \(.path) \(.ioc.type) \(.ioc.tlp)"' "$T/tree.jsonl" | sort > "$T/iocs.got"
printf '%s\n' "filename $tree/sub/xmr-dropper.sh filename TLP:AMBER" \
  "sha256 $tree/payload.bin sha256 TLP:AMBER" > "$T/iocs.want"
if cmp -s "$T/iocs.got" "$T/iocs.want"; then ok; else fail "ioc findings differ"; diff "$T/iocs.want" "$T/iocs.got" >&2 || true; fi
jq -r 'select(.kind=="yara") | "\(.rule) \(.path)"' "$T/tree.jsonl" | sort > "$T/yara.got"
printf '%s\n' "it_empty $tree/empty" "it_marker $tree/name
with newline" "it_marker $tree/sub/deeper/hit.txt" | sort > "$T/yara.want"
if cmp -s "$T/yara.got" "$T/yara.want"; then ok; else fail "yara findings differ"; diff "$T/yara.want" "$T/yara.got" >&2 || true; fi
expect_grep '"offset":3' "$T/tree.jsonl"
summary() { jq -c 'select(.kind=="summary")' "$1"; }
summary "$T/tree.jsonl" > "$T/sum"
expect_grep '"symlink":1' "$T/sum"
expect_grep '"special":1' "$T/sum"
expect_grep '"targets_scanned":6' "$T/sum"
expect_grep '"findings":5' "$T/sum"
# The FIFO was never opened (the scan above would have hung), and nothing came out on stderr
# that looks like a progress line (stderr is not a terminal here).
expect_no_grep $'\r' "$T/err" "progress drawn on a non-terminal"

# Table form: the name with a newline stays on one line.
expect_exit 1 "$FORAGE" scan files --rules "$T/marker.yar" "$tree"
expect_grep 'name\\x0awith newline' "$T/out"
expect_lines 4 "$T/out"  # 3 findings + summary

# --- exit codes
expect_exit 0 "$FORAGE" scan files --json --rules "$T/marker.yar" --iocs "$T/iocs.txt" "$tree/clean"
jsonl_ok "$T/out"
expect_exit 3 "$FORAGE" scan files --json --rules "$T/marker.yar" "$tree/clean" "$T/does-not-exist"
expect_grep '"incomplete":true' "$T/out"
expect_grep 'does-not-exist' "$T/out"
printf 'rule ok { condition: true }\n\nrule broken { strings: $a = "x" condition: $b }\n' > "$T/broken.yar"
expect_exit 2 "$FORAGE" scan files --rules "$T/broken.yar" "$tree"
expect_grep 'broken.yar:3' "$T/err"
expect_lines 1 "$T/err"
expect_exit 2 "$FORAGE" scan files --iocs "$T/missing-iocs.txt" "$tree"
expect_grep 'missing-iocs.txt' "$T/err"
expect_exit 2 "$FORAGE" scan files --max-size 12Q "$tree"
expect_exit 2 "$FORAGE" scan files --ionice sometimes "$tree"
expect_exit 2 "$FORAGE" scan net

# --- unreadable targets: exit 3 and the summary says which (as an unprivileged user, since
# root reads everything)
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  chmod 755 "$T"
  mkdir -p "$T/private"
  printf 'FORAGE_IT_MARKER\n' > "$T/private/root-only"
  printf 'readable\n' > "$T/private/public"
  chmod 600 "$T/private/root-only"
  chmod 644 "$T/private/public"
  chmod 755 "$T/private" "$T/marker.yar" 2>/dev/null || true
  chmod 644 "$T/marker.yar"
  as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  expect_exit 3 "${as_nobody[@]}" "$FORAGE" scan files --json --rules "$T/marker.yar" "$T/private"
  expect_grep '"unreadable":1' "$T/out"
  expect_grep "\"incomplete_targets\":\\[\"$T/private/root-only: Permission denied\"" "$T/out"
  expect_grep 'root-only' "$T/err"
  # Findings win over incompleteness: exit 1.
  printf 'FORAGE_IT_MARKER\n' > "$T/private/public"
  expect_exit 1 "${as_nobody[@]}" "$FORAGE" scan files --json --rules "$T/marker.yar" "$T/private"
  # Another user's process memory.
  expect_exit 3 "${as_nobody[@]}" "$FORAGE" scan procs --json --rules "$T/marker.yar" --pid $$
  expect_grep '"unreadable":1' "$T/out"
else
  echo "note: not root or no setpriv: unreadable-target checks skipped"
fi

# --- limits
expect_exit 1 "$FORAGE" scan files --json --rules "$T/marker.yar" --exclude '*.txt' --exclude 'name*' "$tree"
expect_no_grep 'it_marker' "$T/out"
expect_exit 0 "$FORAGE" scan files --json --rules "$T/marker.yar" --max-size 5 "$tree/sub"
expect_grep '"too-large":2' "$T/out"

# --- compiled rules: ours are readable by the real yara, and give the same findings
expect_exit 1 "$FORAGE" scan files --json --rules "$T/marker.yar" --save-compiled "$T/marker.yarc" "$tree"
expect_exit 0 yara -C "$T/marker.yarc" "$tree/sub/deeper/hit.txt"
expect_grep '^it_marker ' "$T/out"
expect_exit 1 "$FORAGE" scan files --json --rules "$T/marker.yarc" "$tree"
jq -r 'select(.kind=="yara") | "\(.rule) \(.path)"' "$T/out" | sort > "$T/yara2.got"
if cmp -s "$T/yara2.got" "$T/yara.want"; then ok; else fail "compiled rules give other findings"; fi
yarac "$T/marker.yar" "$T/by-yarac.yarc" 2>/dev/null || yarac -d filename= -d owner= "$T/marker.yar" "$T/by-yarac.yarc"
expect_exit 1 "$FORAGE" scan files --json --rules "$T/by-yarac.yarc" "$tree/sub"

# --- built-in rules: an ELF dropped in a temporary directory
mkdir -p "$T/drop/.hidden"
cp /bin/true "$T/drop/.hidden/kworker"
expect_exit 1 "$FORAGE" scan files --json "$T/drop"
expect_grep '"rule":"forage_elf_in_tmp"' "$T/out"
expect_grep '"rule":"forage_hidden_elf_in_tmp"' "$T/out"
expect_exit 0 "$FORAGE" scan files --json --no-rules "$T/drop"
expect_grep '"kind":"notice"' "$T/out"  # no rules: still noticed, but not a finding

# --- scan procs: a process with a marker only in its heap (bash keeps variables there)
bash -c 'v=$(printf "FORAGE_%s_%s" HEAPMARK 9c2e); read -r _ < /dev/stdin' < <(sleep 60) &
child=$!
sleep 0.5
# The rule spells the marker in hex: this script's own bash must never hold it as text.
echo 'rule heap { strings: $m = { 46 4F 52 41 47 45 5F 48 45 41 50 4D 41 52 4B 5F 39 63 32 65 } condition: $m }' > "$T/heap.yar"
expect_exit 1 "$FORAGE" scan procs --json --rules "$T/heap.yar" --pid "$child" --pid 999999999
jsonl_ok "$T/out"
expect_grep "\"kind\":\"yara\",\"pid\":$child," "$T/out"
expect_grep '"exited":1' "$T/out"
# All processes: our child is found, and forage never scans itself (its compiled rule holds the
# marker bytes, so it would match).
"$FORAGE" scan procs --json --rules "$T/heap.yar" --threads 2 > "$T/all.jsonl" 2>/dev/null &
fpid=$!
wait "$fpid" || true
jsonl_ok "$T/all.jsonl"
hits=" $(jq -r 'select(.kind=="yara") | .pid' "$T/all.jsonl" | sort -u | tr '\n' ' ')"
case "$hits" in *" $child "*) ok ;; *) fail "scan procs: child $child not among '$hits'" ;; esac
case "$hits" in *" $fpid "*) fail "scan procs reported its own pid $fpid" ;; *) ok ;; esac
kill "$child" 2>/dev/null || true
wait "$child" 2>/dev/null || true

# --- scan net: a child connected to an indicator address on loopback
if [ -n "$PY" ]; then
  "$PY" - > "$T/net.pids" <<'EOF' &
import os, socket, sys, time
srv = socket.socket()
srv.bind(("127.0.0.77", 0))
srv.listen(1)
port = srv.getsockname()[1]
pid = os.fork()
if pid == 0:
    srv.close()
    c = socket.create_connection(("127.0.0.77", port))
    time.sleep(30)
    os._exit(0)
conn, _ = srv.accept()
srv.close()
print(pid, port, flush=True)
time.sleep(30)
EOF
  netjob=$!
  for _ in $(seq 50); do [ -s "$T/net.pids" ] && break; sleep 0.1; done
  read -r netchild netport < "$T/net.pids"
  # A list (one value a line) keeps loopback addresses; free text would drop them.
  printf '127.0.0.77\n' > "$T/net-iocs.txt"
  expect_exit 1 "$FORAGE" scan net --json --iocs "$T/net-iocs.txt"
  jsonl_ok "$T/out"
  line=$(jq -c "select(.kind==\"ioc\" and .pid==$netchild)" "$T/out")
  if [ -n "$line" ]; then ok; else fail "scan net: no finding for pid $netchild"; cat "$T/out" >&2; fi
  if echo "$line" | jq -e ".remote == \"127.0.0.77:$netport\" and .state == \"ESTABLISHED\" and .ioc.source == \"$T/net-iocs.txt:1\"" >/dev/null; then ok
  else fail "scan net: wrong fields: $line"; fi
  printf '192.0.2.0/24\n' > "$T/other-iocs.txt"
  expect_exit 0 "$FORAGE" scan net --json --iocs "$T/other-iocs.txt"
  kill "$netchild" "$netjob" 2>/dev/null || true
  wait "$netjob" 2>/dev/null || true
else
  echo "note: python3 not found, scan net live check skipped"
fi

# --- a full disk on stdout (`forage sweep --json > node.jsonl` on a full file system): exit 2 and
# one line naming the output, never a truncated result that ends in 0 or 1. The results of a scan
# (findings and the summary, JSON or table) and a bundle report.
# expect_full CMD...: runs CMD with stdout on /dev/full.
expect_full() {
  local got=0
  "$@" >/dev/full 2>"$T/err" || got=$?
  if [ "$got" -eq 2 ]; then ok; else fail "exit $got, expected 2, stdout on /dev/full: $*"; fi
  expect_lines 1 "$T/err"
  expect_grep "^forage: <stdout>: No space left on device$" "$T/err"
}
if [ -w /dev/full ]; then
  mkdir -p "$T/full"
  cp "$tree/payload.bin" "$tree/sub/xmr-dropper.sh" "$tree/sub/deeper/hit.txt" "$T/full/"
  expect_full "$FORAGE" scan files --json --no-rules "$tree/clean"  # the summary line alone
  expect_full "$FORAGE" scan files --json --rules "$T/marker.yar" --iocs "$T/iocs.txt" "$T/full"
  expect_full "$FORAGE" scan files --rules "$T/marker.yar" --iocs "$T/iocs.txt" "$T/full"
  expect_exit 0 "$FORAGE" bundle create "$T/full" --out "$T/full.tar" --no-sign --case FULL
  expect_full "$FORAGE" bundle report "$T/full.tar" --allow-unsigned
  expect_full "$FORAGE" bundle report "$T/full.tar" --allow-unsigned --format json
else
  echo "note: no writable /dev/full: the full-disk checks are skipped"
fi

finish
