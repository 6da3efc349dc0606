#!/usr/bin/env bash
# Runs every libFuzzer harness of a FORAGE_FUZZ=ON build for N seconds each, one after the other
# (`make fuzz FUZZ_SECONDS=N`; docs/fuzzing.md). New corpus entries go to a scratch directory
# (BUILD/fuzz-corpus/<harness>), never into the committed corpus: review them and copy the ones
# worth keeping (crash reproducers always) into tests/fuzz/corpus/<harness>/. Crashes, hangs and
# OOMs are written as BUILD/fuzz-artifacts/<harness>/{crash,timeout,oom,leak}-<sha1>; the script
# goes on with the next harness and exits 1 at the end when any harness found something.
#
#   scripts/fuzz.sh BUILD SECONDS [HARNESS...]
set -uo pipefail
build=${1:?usage: scripts/fuzz.sh BUILD SECONDS [HARNESS...]}
seconds=${2:?usage: scripts/fuzz.sh BUILD SECONDS [HARNESS...]}
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)
harnesses=("$@")
if [[ ${#harnesses[@]} -eq 0 ]]; then
  for f in "$src"/tests/fuzz/fuzz_*.cpp; do harnesses+=("$(basename "$f" .cpp)"); done
fi

# Per-harness input size: whole MIME messages with large headers and bundles need megabytes;
# libFuzzer's default (the largest seed) would never grow past the seeds.
max_len() {
  case $1 in
    fuzz_mime) echo 4194304 ;;
    fuzz_bundle_verify | fuzz_bundle_report | fuzz_merge) echo 1048576 ;;
    fuzz_pcap | fuzz_ioc) echo 262144 ;;
    *) echo 65536 ;;
  esac
}

failed=()
for h in "${harnesses[@]}"; do
  exe=$build/tests/fuzz/$h
  if [[ ! -x $exe ]]; then
    echo "fuzz.sh: $exe missing (configure with CC=clang CXX=clang++ -DFORAGE_FUZZ=ON)" >&2
    exit 2
  fi
  scratch=$build/fuzz-corpus/$h
  artifacts=$build/fuzz-artifacts/$h
  mkdir -p "$scratch" "$artifacts"
  args=(-max_total_time="$seconds" -max_len="$(max_len "$h")" -timeout=25 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$artifacts/")
  dict=$src/tests/fuzz/dict/$h.dict
  [[ -f $dict ]] && args+=(-dict="$dict")
  seeds=$src/tests/fuzz/corpus/$h
  [[ -d $seeds ]] || seeds=
  echo "== $h: ${seconds}s, max_len $(max_len "$h")" >&2
  # The first directory receives new inputs; the committed seeds are only read.
  # GNU time, when there, records the CPU seconds the run really got (2 shared cores: less than
  # its wall-clock time) for docs/fuzzing.md.
  timer=()
  [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -o "$build/fuzz-$h.time" -f "cpu %U+%S s, peak %M KiB")
  "${timer[@]}" "$exe" "${args[@]}" "$scratch" ${seeds:+"$seeds"} 2>&1 | tee "$build/fuzz-$h.log" |
    grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|==[0-9]+==|stat::|SUMMARY|artifact_prefix|Test unit written)' >&2
  rc=${PIPESTATUS[0]}
  [[ -f $build/fuzz-$h.time ]] && grep -o 'cpu .*' "$build/fuzz-$h.time" >&2
  if [[ $rc -ne 0 ]]; then
    echo "fuzz.sh: $h exited $rc; reproducers in $artifacts (log $build/fuzz-$h.log)" >&2
    failed+=("$h")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: findings in: ${failed[*]}" >&2
  exit 1
fi
