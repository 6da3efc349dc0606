#!/usr/bin/env bash
# Grid identities on live processes. Two users' jobs, each holding a real RFC 3820 proxy made
# here with openssl (CA -> end-entity certificate -> proxy with proxyCertInfo), a DIRAC payload
# inside a gLite pilot on Slurm; a broadcast naming only the first DN, in RFC 2253 form and
# another case. The sweep names every process of the first job (uid, user, DN, proxy, every job
# id with its variable) and none of the second; a copy of the first proxy in a hiding place is a
# finding, the key never printed; `collect --iocs` takes exactly the first job; the report names
# DN and job. Then the file phase follows its leads: with a 30 s budget and 100,000 files in the
# scanned temporary directory, the directory of a process hit by a socket indicator is scanned
# first and the file planted there is reported.
# ctest-labels: root
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (jobs run as two other users)"; exit 77; }
for c in openssl setpriv jq python3; do
  command -v "$c" >/dev/null || { echo "SKIP: $c missing"; exit 77; }
done
chmod 755 "$T"

# --- a CA, two users, their proxies ------------------------------------------------------------
ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'
printf '[v3_proxy]\nproxyCertInfo=critical,language:id-ppl-inheritAll\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >"$T/ext.cnf"
openssl req -x509 $ec -keyout "$T/ca.key" -out "$T/ca.pem" -days 30 \
  -subj '/DC=org/DC=example/CN=Example Grid CA' 2>/dev/null
make_proxy() {  # name uid "CN value"
  local d="$T/$1"
  mkdir -p "$d"
  openssl req $ec -keyout "$d/eec.key" -out "$d/eec.csr" -subj "/DC=org/DC=example/OU=People/CN=$3" 2>/dev/null
  openssl x509 -req -in "$d/eec.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -set_serial "0x$2" -days 20 -out "$d/eec.pem" 2>/dev/null
  openssl req $ec -keyout "$d/proxy.key" -out "$d/proxy.csr" -subj "/DC=org/DC=example/OU=People/CN=$3/CN=$2$2" 2>/dev/null
  openssl x509 -req -in "$d/proxy.csr" -CA "$d/eec.pem" -CAkey "$d/eec.key" -set_serial "$2$2" -days 1 \
    -extfile "$T/ext.cnf" -extensions v3_proxy -out "$d/proxy.pem" 2>/dev/null
  cat "$d/proxy.pem" "$d/proxy.key" "$d/eec.pem" >"$d/x509up"
  chown -R "$2:$2" "$d"
  chmod 700 "$d"
  chmod 600 "$d/x509up"
}
make_proxy alice 4201 "Alice Grid"
make_proxy bob 4202 "Bob Grid"
openssl x509 -in "$T/alice/proxy.pem" -noout -text 2>/dev/null | grep -q 'Proxy Certificate Information' \
  && ok || fail "openssl made no RFC 3820 proxy"
key_line=$(sed -n 2p "$T/alice/proxy.key")

# --- the jobs: a shell with two children each, in their job directory ---------------------------
start_job() {  # name uid slurm-id dirac-id
  local d="$T/$1"
  setpriv --reuid "$2" --regid "$2" --clear-groups -- \
    env -i -C "$d" PATH=/usr/bin:/bin HOME="$d" X509_USER_PROXY="$d/x509up" SLURM_JOB_ID="$3" \
    GLITE_WMS_JOBID="https://wms.example.org:9000/pilot-$3" DIRACJOBID="$4" DIRACSITE=LCG.Example.org \
    bash -c "sleep 300 & sleep 300 & wait" </dev/null >/dev/null 2>&1 &
  echo $!
}
alice_job=$(start_job alice 4201 900001 5550001)
bob_job=$(start_job bob 4202 900002 5550002)
pids_of() {  # the job's shell and all its descendants
  echo "$1"
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do pids_of "$c"; done
}
for _ in $(seq 50); do
  [ "$(pids_of "$alice_job" | wc -l)" -ge 3 ] && [ "$(pids_of "$bob_job" | wc -l)" -ge 3 ] && break
  sleep 0.1
done
alice_pids=$(pids_of "$alice_job" | sort -n | tr '\n' ' ')
bob_pids=$(pids_of "$bob_job" | sort -n | tr '\n' ' ')
cleanup() { kill $alice_pids $bob_pids ${c2:-} ${srv:-} 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
[ "$(echo $alice_pids | wc -w)" -eq 3 ] && ok || fail "alice's job has not 3 processes: $alice_pids"

# A copy of each proxy where an attacker hides things.
mkdir -p "$T/hide/.cache"
cp "$T/alice/x509up" "$T/hide/.cache/x509up_u4201"
cp "$T/bob/x509up" "$T/hide/.cache/x509up_u4202"

# The broadcast names only Alice, in RFC 2253 order and another case.
cat >"$T/broadcast.eml" <<'EOF'
From: EGI CSIRT <abuse@egi.eu>
Subject: [EGI-20261207-03] TLP:AMBER suspended DN
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain

The DN below is suspended; please check for its jobs.

--b1
Content-Type: text/csv; name="iocs.csv"
Content-Disposition: attachment; filename="iocs.csv"

type,value,comment
x509-dn,"CN=alice grid,OU=People,DC=example,DC=org",suspended DN
filename,download-tor.sh,payload script
--b1--
EOF
expect_exit 0 "$FORAGE" ioc parse "$T/broadcast.eml" --format tsv
expect_grep '^x509-dn' "$T/out" "the DN is not an indicator"

# --- sweep: every process of Alice's job, none of Bob's -----------------------------------------
expect_exit 1 "$FORAGE" sweep --iocs "$T/broadcast.eml" --no-rules --no-default-paths \
  --paths "$T/hide" --skip logs --skip pcap --json
cp "$T/out" "$T/sweep.jsonl"
echo "files phase: $(jq -c 'select(.kind == "summary") | .phases.files | {status, targets_scanned, skipped, leads}' "$T/sweep.jsonl")"
got=$(jq -r 'select(.match == "proxy_dn" and .pid) | .pid' "$T/sweep.jsonl" | sort -n | tr '\n' ' ')
[ "$got" = "$alice_pids" ] && ok || fail "DN findings name pids '$got', expected '$alice_pids'"
for p in $bob_pids; do
  jq -s -e "any(.[]; .pid == $p)" "$T/sweep.jsonl" >/dev/null && fail "bob's pid $p named" || ok
done
first=$(jq -c "select(.match == \"proxy_dn\" and .pid == $alice_job)" "$T/sweep.jsonl")
echo "$first" | jq -e '.identity.uid == 4201 and .identity.dn == "/DC=org/DC=example/OU=People/CN=Alice Grid"
  and .identity.named_by == "X509_USER_PROXY" and (.identity.proxy | endswith("/alice/x509up"))
  and .identity.batch_system == "slurm" and .identity.job_id == "900001" and .phase == "procs"
  and .ioc.type == "x509-dn"' >/dev/null && ok || fail "DN finding lacks the identity: $first"
echo "$first" | jq -e '[.identity.jobs[] | "\(.system) \(.id) \(.variable) \(.role)"] as $j
  | ($j | index("slurm 900001 SLURM_JOB_ID batch")) != null
  and ($j | index("dirac 5550001 DIRACJOBID payload")) != null
  and ($j | index("glite https://wms.example.org:9000/pilot-900001 GLITE_WMS_JOBID grid")) != null' \
  >/dev/null && ok || fail "not every job id with its variable: $(echo "$first" | jq -c .identity.jobs)"
# The proxy lying in a hiding place: a finding for Alice's copy only, the key never printed.
jq -s -e 'any(.[]; .match == "proxy_dn" and ((.path // "") | endswith("/hide/.cache/x509up_u4201"))
  and .identity.private_key_present == true and .identity.private_key_copied == false)' \
  "$T/sweep.jsonl" >/dev/null && ok || fail "no finding for the proxy in the hiding place"
expect_no_grep 'x509up_u4202' "$T/sweep.jsonl" "bob's proxy copy named"
expect_no_grep "$key_line" "$T/sweep.jsonl" "a line of the private key in the output"

# --- scan procs: the same findings --------------------------------------------------------------
expect_exit 1 "$FORAGE" scan procs --iocs "$T/broadcast.eml" --json
got=$(jq -r 'select(.match == "proxy_dn") | .pid' "$T/out" | sort -n | tr '\n' ' ')
[ "$got" = "$alice_pids" ] && ok || fail "scan procs names '$got', expected '$alice_pids'"

# --- collect --iocs: exactly Alice's job; the bundle and its report name DN and job ------------
mkdir -p "$T/out.d"
expect_exit 0 "$FORAGE" collect --iocs "$T/broadcast.eml" --out "$T/out.d" --no-sign \
  --profile process --case EGI-20261207-03
b=$(ls "$T"/out.d/*.tar 2>/dev/null | head -1)
if [ -z "$b" ]; then
  fail "no bundle from collect --iocs"
else
  mkdir -p "$T/x"
  tar -xf "$b" -C "$T/x"
  inc=$(ls "$T"/x/*/meta/incident.json)
  got=$(jq -r '.processes[].pid' "$inc" | sort -n | tr '\n' ' ')
  [ "$got" = "$alice_pids" ] && ok || fail "collect --iocs took '$got', expected '$alice_pids'"
  jq -e '[.grid_identities[] | select(.dn == "/DC=org/DC=example/OU=People/CN=Alice Grid"
    and .job_id == "900001")] | length == 3' "$inc" >/dev/null && ok || fail "incident.json: DN/job"
  expect_no_grep "$key_line" "$b" "the private key in the bundle"
  expect_exit 0 "$FORAGE" bundle report "$b" --format md --allow-unsigned
  expect_grep 'CN=Alice Grid' "$T/out" "report: no DN"
  expect_grep '900001' "$T/out" "report: no job id"
  expect_grep '5550001' "$T/out" "report: no DIRAC job id"
fi
kill -CONT $alice_pids 2>/dev/null || true

# --- the sweep follows its leads ----------------------------------------------------------------
# A process connected to an indicator address, working in a directory of its own where its
# payload wrote download-tor.sh; 100,000 files in the temporary directory scanned with a 30 s
# budget.
mkdir -p "$T/c2job" "$T/bigtmp"
echo '#!/bin/sh' >"$T/c2job/download-tor.sh"
python3 - "$T/bigtmp" <<'EOF'
import os, sys
for i in range(100000):
    d = os.path.join(sys.argv[1], "d%03d" % (i // 1000))
    if i % 1000 == 0: os.mkdir(d)
    with open(os.path.join(d, "f%06d" % i), "w") as f: f.write("x" * 64)
EOF
mkdir -p "$T/srv"
loopback_listener 127.0.0.81 "$T/srv"
srv=$LISTENER_PID port=$LISTENER_PORT
(cd "$T/c2job" && exec python3 -c "import socket,time; c=socket.create_connection(('127.0.0.81', $port)); time.sleep(300)") &
c2=$!
hexport=$(printf '%04X' "$port")
for _ in $(seq 100); do grep -q ":$hexport 01 " /proc/net/tcp && break; sleep 0.1; done
printf 'type,value\nipv4,127.0.0.81\nfilename,download-tor.sh\n' >"$T/c2.csv"
expect_exit 1 "$FORAGE" sweep --iocs "$T/c2.csv" --no-default-paths --paths "$T/bigtmp" \
  --skip logs --skip pcap --budget 30s --json
cp "$T/out" "$T/leads.jsonl"
jq -s -e "any(.[]; .match == \"remote\" and .pid == $c2)" "$T/leads.jsonl" >/dev/null && ok \
  || fail "the connection to the indicator address was not found"
jq -s -e "any(.[]; .match == \"filename\" and .path == \"$T/c2job/download-tor.sh\" and .phase == \"files\")" \
  "$T/leads.jsonl" >/dev/null && ok || fail "the payload in the process's directory was not reported"
jq -e "select(.kind == \"summary\") | .phases.files.leads | any(.path == \"$T/c2job\" and .pid == $c2)" \
  "$T/leads.jsonl" >/dev/null && ok || fail "the summary does not list the lead directory"
echo "files phase: $(jq -c 'select(.kind == "summary") | .phases.files | {status, targets_scanned, skipped, seconds, leads}' "$T/leads.jsonl")"
finish
