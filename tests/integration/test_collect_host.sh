#!/usr/bin/env bash
# `forage collect --profile triage` on this very host: the artefact table, the listing of a
# target's cwd (small executables copied, a private key hashed and never copied), the SSH log
# reach and meta/incident.json. GNU tar, sha256sum and `forage bundle verify` judge the bundle.
# ctest-labels: root
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$FORAGE" collect --list-artifacts
for row in auth-logs journal wtmp btmp lastlog shadow sudoers cron systemd-units user-ssh \
  shell-history tmp-listings all-logs; do
  expect_grep "^$row  \[" "$T/out" "--list-artifacts lacks $row"
done

# A target whose cwd holds a script, an ELF and a private key.
mkdir -p "$T/work"
printf '#!/bin/sh\necho evil\n' >"$T/work/evil.sh"
cp /bin/true "$T/work/dropper"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$T/work/id_stolen" 2>/dev/null
key_line=$(sed -n 2p "$T/work/id_stolen")
(cd "$T/work" && exec sleep 60) &
V=$!
sleep 0.2

got=0
"$FORAGE" collect --pid "$V" --profile triage --case EGI-HOST-1 --detected-by "integration test" \
  --no-sign --out "$T/b.tar" >"$T/out" 2>"$T/err" || got=$?
kill "$V" 2>/dev/null || true
if [ "$got" -eq 0 ] || [ "$got" -eq 3 ]; then ok; else
  fail "collect exit $got"; tail -5 "$T/err" >&2
fi
expect_exit 0 "$FORAGE" bundle verify --allow-unsigned "$T/b.tar"
mkdir "$T/x"
tar -xf "$T/b.tar" -C "$T/x"
bag=$(ls -d "$T/x"/*)
if (cd "$bag" && sha256sum -c --quiet manifest-sha256.txt >/dev/null); then ok; else fail "sha256sum -c"; fi

art="$bag/data/host/artifacts.json"
expect_grep '"sec01_six_months": (true|false)' "$art"
expect_grep '"profile": "triage"' "$art"
slug=$(echo "${T#/}/work" | tr / _)
expect_grep '"private_key":true' "$bag/data/host/listings/$slug.jsonl" "key not flagged in the cwd listing"
expect_grep "\"path\":\"$T/work/dropper\".*\"sha256\":\"$(sha256sum /bin/true | cut -d' ' -f1)\"" \
  "$bag/data/host/listings/$slug.jsonl" "dropper not hashed"
[ -f "$bag/data/host/files$T/work/evil.sh" ] && ok || fail "evil.sh not copied"
cmp -s "$bag/data/host/files$T/work/dropper" /bin/true && ok || fail "dropper not copied as is"
[ ! -e "$bag/data/host/files$T/work/id_stolen" ] && ok || fail "private key copied"
if grep -rqsF -e "$key_line" "$bag"; then fail "private key material in the bundle"; else ok; fi
expect_grep "$T/work/id_stolen" "$art" "key not recorded in artifacts.json"
[ ! -e "$bag/data/host/etc/shadow" ] && ok || fail "/etc/shadow copied"
[ -f "$bag/data/host/etc/passwd" ] && ok || fail "/etc/passwd not copied"
expect_grep '"detected_by": "integration test"' "$bag/meta/incident.json"
expect_grep 'TO BE COMPLETED BY A HUMAN' "$bag/meta/incident.json"
expect_grep '"ssh_logs"' "$bag/meta/incident.json"
expect_grep 'artifacts.ssh-log-reach' "$bag/meta/actions.jsonl"
finish
