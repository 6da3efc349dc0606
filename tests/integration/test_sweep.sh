#!/usr/bin/env bash
# forage sweep end to end: a broadcast e-mail (CSV attachment), a planted payload process
# connected to an indicator address on loopback, a planted file, login logs → exit 1 with the
# right findings, TLP on every line, one node summary; then merge of three nodes' results (one
# hit, one clean, one incomplete) into the site report in its three formats.
# ctest-labels: root
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }

cat >"$T/broadcast.eml" <<'EOF'
From: EGI CSIRT <abuse@egi.eu>
To: site-security-contacts@mailman.egi.eu
Subject: [EGI-20261123-07] TLP:AMBER heads-up: miner and C2
Date: Mon, 23 Nov 2026 12:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=UTF-8

Dear sites, please check for the indicators attached. The attackers logged in
from 203.0.113.45.

--b1
Content-Type: text/csv; name="iocs.csv"
Content-Disposition: attachment; filename="iocs.csv"

type,value,comment
ipv4,127.0.0.77,C2 (loopback for this test)
username,baduser,abused account
filename,kswapd0,renamed xmrig
x509-dn,/DC=org/DC=example/CN=Bad User,abused DN
--b1--
EOF

# The planted file, in a hidden directory of a temporary directory.
mkdir -p "$T/tmp/.x"
cp /bin/true "$T/tmp/.x/kswapd0"
# Login and batch-system logs, one rotated and gzip-compressed.
mkdir -p "$T/log/slurm"
printf '%s\n' 'Nov 23 11:58:01 wn01 sshd[811]: Accepted publickey for baduser from 203.0.113.45 port 50522 ssh2' \
  'Nov 23 11:58:02 wn01 sshd[811]: pam_unix(sshd:session): session opened for user alice' >"$T/log/auth.log"
printf 'Nov 22 09:00:00 wn01 sshd[7]: Failed password for root from 198.51.100.1\n' | gzip >"$T/log/auth.log.2.gz"
printf '%s\n' '[2026-11-23T11:59:00.000] _slurm_rpc_submit_batch_job: JobId=4242 InitPrio=1 usec=5' \
  '[2026-11-23T11:59:00.001] job 4242 submitted by DN /DC=org/DC=example/CN=Bad User' >"$T/log/slurm/slurmctld.log"

# The payload: a process named kswapd0 connected to the C2 address.
# The interpreter itself, copied under the indicator's name (its library found as before).
pybin=$(python3 -c 'import sys; print(sys.executable)')
pylib=$(python3 -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR") or "")')
cp "$(readlink -f "$pybin")" "$T/kswapd0"
loopback_listener 127.0.0.77
srv=$LISTENER_PID port=$LISTENER_PORT
LD_LIBRARY_PATH=$pylib "$T/kswapd0" -c "import socket,time; c=socket.create_connection(('127.0.0.77', $port)); time.sleep(120)" &
payload=$!
trap 'kill $srv $payload 2>/dev/null || true; rm -rf "$T"' EXIT
sleep 0.5

sweep() {
  "$FORAGE" sweep --iocs "$T/broadcast.eml" --json --no-default-paths --paths "$T/tmp" \
    --logs "$T/log" --budget "${BUDGET:-120s}" "$@"
}

# --- the hit node
expect_exit 1 sweep
cp "$T/out" "$T/hit.jsonl"
expect_grep '"kind":"summary"' "$T/hit.jsonl"
# Every line is JSON with the broadcast's TLP label.
if jq -e -s 'all(.[]; .tlp == "AMBER")' "$T/hit.jsonl" >/dev/null; then ok; else fail "a line without tlp AMBER"; fi
# The last line is the one node summary.
if [ "$(tail -1 "$T/hit.jsonl" | jq -r .kind)" = summary ] && [ "$(grep -c '"kind":"summary"' "$T/hit.jsonl")" -eq 1 ]; then ok; else fail "summary not last or not single"; fi
jq_last() { tail -1 "$T/hit.jsonl" | jq -e "$1" >/dev/null; }
jq_last '.scan == "sweep" and .case == "EGI-20261123-07" and (.host | length > 0) and (.forage_version | length > 0)' && ok || fail "summary identity fields"
digest=$("$FORAGE" ioc parse "$T/broadcast.eml" --format tsv 2>/dev/null | sha256sum | cut -d' ' -f1)
jq_last ".indicator_digest == \"sha256:$digest\"" && ok || fail "indicator digest is not sha256 of the tsv form"
jq_last '.phases_scanned == ["net","procs","files","logs"] and .phases_skipped.pcap == "no --pcap given"' && ok || fail "phases scanned/skipped"
jq_last '.findings_by_kind.ioc >= 4' && ok || fail "findings_by_kind"
# The socket of the payload, with its pid.
if jq -e -s "any(.[]; .phase == \"net\" and .pid == $payload and .remote == \"127.0.0.77:$port\" and .ioc.value == \"127.0.0.77\")" "$T/hit.jsonl" >/dev/null; then ok; else fail "payload socket not found"; fi
# The payload process by the name of its executable.
if jq -e -s "any(.[]; .phase == \"procs\" and .pid == $payload and .ioc.value == \"kswapd0\")" "$T/hit.jsonl" >/dev/null; then ok; else fail "payload process not found"; fi
# The planted file: by name, and by the built-in rule for hidden ELF files in temporary dirs.
if jq -e -s "any(.[]; .phase == \"files\" and .path == \"$T/tmp/.x/kswapd0\" and .ioc.type == \"filename\")" "$T/hit.jsonl" >/dev/null; then ok; else fail "planted file not found by name"; fi
if jq -e -s "any(.[]; .phase == \"files\" and .rule == \"forage_hidden_elf_in_tmp\")" "$T/hit.jsonl" >/dev/null; then ok; else fail "planted file not found by YARA"; fi
# Logs: the login (ip and user), the slurm DN; not the clean lines nor the other address.
if jq -e -s "any(.[]; .phase == \"logs\" and .path == \"$T/log/auth.log\" and .line == 1 and .ioc.value == \"203.0.113.45\" and (.text | contains(\"Accepted publickey\")))" "$T/hit.jsonl" >/dev/null; then ok; else fail "login ip not found"; fi
if jq -e -s "any(.[]; .phase == \"logs\" and .line == 1 and .ioc.value == \"baduser\")" "$T/hit.jsonl" >/dev/null; then ok; else fail "login user not found"; fi
if jq -e -s "any(.[]; .log == \"slurm\" and .line == 2 and .ioc.type == \"x509-dn\")" "$T/hit.jsonl" >/dev/null; then ok; else fail "slurm DN not found"; fi
if jq -e -s 'any(.[]; .phase == "logs" and (.path | endswith("auth.log.2.gz")))' "$T/hit.jsonl" >/dev/null; then fail "a clean rotated log gave a finding"; else ok; fi
if jq -e -s 'any(.[]; .line == 2 and (.path | endswith("/auth.log")))' "$T/hit.jsonl" >/dev/null; then fail "a clean line gave a finding"; else ok; fi
# --collect-on-hit without --out, --kill-on-hit alone: usage errors before scanning.
expect_exit 2 "$FORAGE" sweep --iocs "$T/broadcast.eml" --collect-on-hit
expect_exit 2 "$FORAGE" sweep --iocs "$T/broadcast.eml" --kill-on-hit
expect_exit 2 "$FORAGE" sweep --iocs "$T/broadcast.eml" --budget 10x
expect_exit 2 "$FORAGE" sweep --iocs "$T/broadcast.eml" --skip disks

# --collect-on-hit: the implicated processes into a bundle that verifies; nothing killed.
mkdir -p "$T/bundles"
expect_exit 1 sweep --skip files --skip logs --collect-on-hit --out "$T/bundles" --no-sign --profile process
b=$(ls "$T"/bundles/*.tar 2>/dev/null | head -1)
if [ -n "$b" ]; then ok; else fail "no bundle written by --collect-on-hit"; fi
if tail -1 "$T/out" | jq -e ".collected.bundle == \"$b\" and (.collected.targets | index($payload) != null) and .collected.killed == []" >/dev/null; then ok; else fail "summary .collected"; fi
expect_exit 0 "$FORAGE" bundle verify "$b" --allow-unsigned
expect_grep 'verdict: VALID' "$T/out"
if kill -0 "$payload" 2>/dev/null; then ok; else fail "payload killed without --kill-on-hit"; fi

# --- a clean node: nothing planted in its paths, no processes or sockets scanned.
mkdir -p "$T/cleantmp" "$T/cleanlog"
printf 'Nov 23 10:00:00 wn02 sshd[1]: Accepted publickey for alice from 192.0.2.10\n' >"$T/cleanlog/auth.log"
expect_exit 0 "$FORAGE" sweep --iocs "$T/broadcast.eml" --json --no-default-paths --paths "$T/cleantmp" \
  --logs "$T/cleanlog" --skip net --skip procs
jq -c 'if .kind == "summary" then .host = "wn02.example.org" else . end' "$T/out" >"$T/clean.jsonl"
expect_lines 1 "$T/clean.jsonl"

# --- an incomplete node: a budget too small for anything.
BUDGET=0.001s expect_exit 3 sweep
jq -c 'if .kind == "summary" then .host = "wn03.example.org" else . end' "$T/out" >"$T/incomplete.jsonl"
if tail -1 "$T/incomplete.jsonl" | jq -e '.incomplete == true and .skipped.budget >= 1 and .phases_skipped.net == "budget"' >/dev/null; then ok; else fail "budget not reported"; fi

# --- a malformed result and the site report
jq -c 'if .kind == "summary" then .host = "wn01.example.org" else . end' "$T/hit.jsonl" >"$T/hit1.jsonl"
printf '{"kind":"ioc"\n' >"$T/broken.jsonl"
printf '%s\n' wn01.example.org wn02 wn03.example.org wn04.example.org '# comment' >"$T/nodes.txt"
expect_exit 1 "$FORAGE" merge "$T/hit1.jsonl" "$T/clean.jsonl" "$T/incomplete.jsonl" "$T/broken.jsonl" \
  --format json --expect-nodes "$T/nodes.txt"
cp "$T/out" "$T/site.json"
expect_grep "broken.jsonl: line 1: not JSON" "$T/err"
jqs() { jq -e "$1" "$T/site.json" >/dev/null && ok || fail "site report: $1"; }
jqs '.tlp == "AMBER" and .case == "EGI-20261123-07"'
# (the hit node may be incomplete too: a process whose memory even root cannot read)
jqs '.counts | .reported == 3 and .hit == 1 and .clean == 1 and .incomplete >= 1 and .expected == 4 and .not_reporting == 1 and .malformed_files == 1'
jqs '[.nodes_hit[].host] == ["wn01.example.org"]'
jqs '.nodes_clean == ["wn02.example.org"]'
jqs 'any(.nodes_incomplete[]; .host == "wn03.example.org" and .skipped.budget >= 1)'
jqs '.nodes_not_reporting == ["wn04.example.org"]'
jqs '.malformed[0].file | endswith("broken.jsonl")'
jqs 'any(.by_indicator[]; .type == "ipv4" and .value == "127.0.0.77" and .nodes == ["wn01.example.org"] and (.first_seen | length > 0))'
jqs 'any(.by_indicator[]; .type == "username" and .value == "baduser")'
jqs "[.nodes_hit[0].pids[]] | index(\"$payload\") != null"
expect_exit 1 "$FORAGE" merge "$T/hit1.jsonl" "$T/clean.jsonl" "$T/incomplete.jsonl" --format md
expect_grep '^\*\*TLP:AMBER\*\*$' "$T/out"
if [ "$(grep -c '^\*\*TLP:AMBER\*\*$' "$T/out")" -eq 2 ]; then ok; else fail "md: TLP not at top and bottom"; fi
expect_grep '^\| wn01\.example\.org \|' "$T/out"
expect_exit 1 "$FORAGE" merge "$T/hit1.jsonl" "$T/clean.jsonl" "$T/incomplete.jsonl" --format csv
expect_grep '^section,host,type,value,count,first_seen,detail,tlp$' "$T/out"
expect_grep '^clean,wn02\.example\.org,' "$T/out"
expect_grep '^incomplete,wn03\.example\.org,' "$T/out"
# Python's csv module reads it back: every row has 8 cells.
if python3 -c 'import csv,sys; rows=list(csv.reader(open(sys.argv[1]))); sys.exit(0 if rows and all(len(r)==8 for r in rows) else 1)' "$T/out"; then ok; else fail "csv rows"; fi
# Only clean and incomplete: exit 3; only clean: 0.
expect_exit 3 "$FORAGE" merge "$T/clean.jsonl" "$T/incomplete.jsonl"
expect_exit 0 "$FORAGE" merge "$T/clean.jsonl"

# --- --collect-on-hit --kill-on-hit: the same order as collect (issue 17): the disk artefacts
# while the payload is frozen, then the kill, then the seal; the payload is dead afterwards.
mkdir -p "$T/killed"
expect_exit 1 sweep --skip files --skip logs --collect-on-hit --kill-on-hit --out "$T/killed" --no-sign --profile triage
kb=$(ls "$T"/killed/*.tar 2>/dev/null | head -1)
if [ -n "$kb" ]; then
  ok
  mkdir "$T/kx" && tar -xf "$kb" -C "$T/kx"
  awk -F'"action":"' '{split($2, a, "\""); print a[1]}' "$T"/kx/*/meta/actions.jsonl >"$T/order"
  last_art=$(grep -n '^artifacts' "$T/order" | tail -1 | cut -d: -f1)
  first_kill=$(grep -n '^kill$' "$T/order" | head -1 | cut -d: -f1)
  seal=$(grep -n '^bundle.seal$' "$T/order" | cut -d: -f1)
  [ -n "$last_art" ] && [ -n "$first_kill" ] && [ "$last_art" -lt "$first_kill" ] && [ "$first_kill" -lt "$seal" ] &&
    ok || fail "sweep --kill-on-hit: order artefacts ($last_art) < kill ($first_kill) < seal ($seal) broken"
else
  fail "no bundle written by --kill-on-hit"
fi
for _ in $(seq 50); do kill -0 "$payload" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$payload" 2>/dev/null; then fail "payload alive after --kill-on-hit"; else ok; fi
finish
