# Shared helpers for the side-by-side benchmarks. Source it: . "$(dirname "$0")/lib.sh"
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
FORAGE=${FORAGE:-$REPO/build/forage}
OUT=${BENCH_OUT:-$BENCH_DIR/out}
mkdir -p "$OUT"

[ -x "$FORAGE" ] || { echo "bench: $FORAGE not built (make build)" >&2; exit 2; }

# apt_need PKG...: installs Debian packages that are missing (idempotent).
apt_need() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# best_of N CMD...: runs CMD N times (stdout to /dev/null), prints the best wall time in seconds.
best_of() {
  local n=$1; shift
  local best=""
  for _ in $(seq "$n"); do
    local t0 t1 dt
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
    if [ -z "$best" ] || awk -v a="$dt" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$dt; fi
  done
  echo "$best"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.3f", a/b; else print "inf" }'; }
mbps() { awk -v bytes="$1" -v s="$2" 'BEGIN{ if (s>0) printf "%.1f", bytes/1048576/s; else print "inf" }'; }
