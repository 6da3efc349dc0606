#!/usr/bin/env bash
# Runs every benchmark in bench/ (each prints its side-by-side table and ratio).
set -uo pipefail
cd "$(dirname "$0")"
rc=0
for b in bench_*.sh; do
  echo "=== $b"
  bash "$b" || rc=1
  echo
done
exit $rc
