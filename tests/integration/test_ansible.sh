#!/usr/bin/env bash
# deploy/ansible/sweep.yml against localhost with the built binary: copy, sweep within a budget,
# fetch the node's JSON lines, merge into the site report.
# ctest-labels: root
. "$(dirname "$0")/lib.sh"
command -v ansible-playbook >/dev/null || { fail "ansible-playbook missing (scripts/install-deps.sh installs ansible)"; finish; exit 1; }

cat >"$T/broadcast.txt" <<'EOF2'
TLP:AMBER [EGI-20261123-08]
The attackers came from 203.0.113.45 and 198.51.100.23.
EOF2
mkdir -p "$T/logs" "$T/plant"
printf 'Nov 23 11:58:01 wn01 sshd[811]: Accepted publickey for alice from 203.0.113.45 port 1\n' >"$T/logs/auth.log"
export ANSIBLE_LOCAL_TEMP="$T/ansible-tmp" ANSIBLE_REMOTE_TEMP="$T/ansible-tmp" ANSIBLE_NOCOLOR=1
expect_exit 0 ansible-playbook -c local -i localhost, "$FORAGE_SRC/deploy/ansible/sweep.yml" \
  -e "forage_binary=$FORAGE broadcast=$T/broadcast.txt results_dir=$T/results" \
  -e "remote_dir=$T/remote budget=60s sweep_become=false" \
  -e "{\"extra_args\": [\"--no-default-paths\", \"--paths\", \"$T/plant\", \"--logs\", \"$T/logs\", \"--skip\", \"procs\"]}"
[ -s "$T/results/localhost.jsonl" ] && ok || { fail "no result fetched"; sed 's/^/    /' "$T/out" | tail -20 >&2; }
if tail -1 "$T/results/localhost.jsonl" | jq -e '.kind == "summary" and .scan == "sweep" and .case == "EGI-20261123-08" and .tlp == "AMBER" and .findings >= 1' >/dev/null; then ok; else fail "node summary"; fi
if jq -e -s 'any(.[]; .phase == "logs" and .ioc.value == "203.0.113.45")' "$T/results/localhost.jsonl" >/dev/null; then ok; else fail "log hit not in the fetched result"; fi
expect_grep 'localhost: HIT' "$T/out"
[ -s "$T/results/site-report.md" ] && ok || fail "no site report"
expect_grep '^# Site report — EGI-20261123-08' "$T/results/site-report.md"
expect_grep 'not reporting: 0' "$T/results/site-report.md"
[ ! -e "$T/remote" ] && ok || fail "the node's working directory was left behind"
finish
