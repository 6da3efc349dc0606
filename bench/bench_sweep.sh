#!/usr/bin/env bash
# forage sweep on this machine with the default budget (10m) and the default manners (nice 10,
# ionice idle, one scan thread): wall time, CPU time, and the slowdown of a co-running CPU-bound
# job (the same job timed alone, then while the sweep runs). Also with --max-cpu 25.
#   bench/bench_sweep.sh            (FORAGE=path/to/forage, BENCH_OUT=dir)
. "$(dirname "$0")/lib.sh"
BROADCAST=${BROADCAST:-$REPO/docs/examples/broadcast.eml}
JOB_SECONDS=${JOB_SECONDS:-20}

# The CPU-bound job: a fixed amount of work on one core (sha256 of zeroes), its wall time is the
# measure. One copy per core, so the sweep competes with every core's job, as on a full node.
cores=$(nproc)
job() {
  local bytes=$1
  local pids=()
  for _ in $(seq "$cores"); do
    head -c "$bytes" /dev/zero | sha256sum >/dev/null &
    pids+=($!)
  done
  wait "${pids[@]}"
}
# Calibrate the work to about JOB_SECONDS alone.
t0=$(date +%s.%N); job 200000000; t1=$(date +%s.%N)
per=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print (b-a)/200000000}')
bytes=$(awk -v p="$per" -v s="$JOB_SECONDS" 'BEGIN{printf "%d", s/p}')

time_job() { local a b; a=$(date +%s.%N); job "$bytes"; b=$(date +%s.%N); awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", b-a}'; }

# sweep_run LABEL ARGS...: the sweep alone (wall, CPU from its summary), then with the job.
sweep_run() {
  local label=$1; shift
  local a b
  a=$(date +%s.%N)
  "$FORAGE" sweep --iocs "$BROADCAST" --json "$@" >"$OUT/sweep-$label.jsonl" 2>/dev/null || true
  b=$(date +%s.%N)
  local wall cpu
  wall=$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", b-a}')
  cpu=$(tail -1 "$OUT/sweep-$label.jsonl" | jq -r .cpu_seconds)
  local alone with
  alone=$(time_job)
  # The sweep in a loop for as long as the job runs.
  ( while :; do "$FORAGE" sweep --iocs "$BROADCAST" --json "$@" >/dev/null 2>&1 || true; done ) &
  local loop=$!
  sleep 1
  with=$(time_job)
  kill "$loop" 2>/dev/null; pkill -P "$loop" 2>/dev/null || true; wait "$loop" 2>/dev/null || true
  local slow
  slow=$(awk -v a="$alone" -v w="$with" 'BEGIN{printf "%.1f", (w-a)/a*100}')
  printf '%-22s sweep wall %6ss  cpu %6ss  | job alone %6ss, with sweep %6ss: slowdown %5s %%\n' \
    "$label" "$wall" "$cpu" "$alone" "$with" "$slow" | tee -a "$OUT/bench_sweep.txt"
}

: >"$OUT/bench_sweep.txt"
echo "forage sweep, $cores cores, $(uname -r), job $JOB_SECONDS s per core ($(date -u +%FT%TZ))" | tee -a "$OUT/bench_sweep.txt"
sweep_run default
sweep_run max-cpu-25 --max-cpu 25
sweep_run no-manners --nice 0 --ionice none
