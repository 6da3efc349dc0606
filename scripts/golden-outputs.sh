#!/usr/bin/env bash
# Normalized outputs of the binary on the repository's fixtures: run before and after a refactor,
# diff the two directories.
set -uo pipefail
F=${1:?forage}; OUT=${2:?outdir}; SRC=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$OUT"; mkdir -p "$OUT"
norm() { sed -E 's/"(seconds|elapsed_s|utc|started_utc|finished_utc|timestamp|time|boottime_ns|forage_version|first_seen)":[^,}]*/"\1":X/g; s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/T/g; s/[0-9]{8}T[0-9]{6}Z/TS/g'; }
n=0
for f in $SRC/tests/data/email/*.eml $SRC/tests/data/ioc/* $SRC/docs/examples/*; do
  for fmt in json tsv bpf yara misp; do
    n=$((n+1)); "$F" ioc parse "$f" --format $fmt 2>/dev/null | norm >"$OUT/ioc.$(basename $f).$fmt"; echo "rc=$?" >>"$OUT/ioc.$(basename $f).$fmt"
  done
done
"$F" scan files $SRC/tests/data $SRC/docs/examples --rules $SRC/tests/data/scan/parity.yar --iocs $SRC/docs/examples/broadcast.eml --json --threads 1 2>/dev/null | norm | sort >"$OUT/scan.files"
"$F" collect --list-artifacts >"$OUT/list-artifacts"
"$F" version 2>/dev/null | grep -v commit | sed 1d >"$OUT/version"
# A bundle and its reports.
"$F" bundle create $SRC/tests/data --out /tmp/golden-b.tar --no-sign --case GOLD --tlp amber --utc 1765000000 >/dev/null 2>&1 || "$F" bundle create $SRC/tests/data --out /tmp/golden-b.tar --no-sign --case GOLD --tlp amber >/dev/null 2>&1
for fmt in md json; do "$F" bundle report /tmp/golden-b.tar --allow-unsigned --format $fmt 2>/dev/null | norm | grep -v 'GOLD_' >"$OUT/report.$fmt"; done
rm -f /tmp/golden-b.tar
echo "$n ioc outputs"
