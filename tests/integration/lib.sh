# Helpers for integration tests. Source it first: . "$(dirname "$0")/lib.sh"
# Env from ctest: FORAGE (binary), FORAGE_SRC (repo), FORAGE_SHARED (../shared).
set -euo pipefail
FORAGE=${FORAGE:?FORAGE must point at the forage binary}
FORAGE_SRC=${FORAGE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
T=$(mktemp -d /tmp/forage-it.XXXXXX)
trap 'rm -rf "$T"' EXIT
failures=0
checks=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { checks=$((checks + 1)); }

# expect_exit CODE CMD...: runs CMD, stdout to $T/out, stderr to $T/err; checks the exit code.
expect_exit() {
  local want=$1; shift
  local got=0
  "$@" >"$T/out" 2>"$T/err" || got=$?
  if [ "$got" -ne "$want" ]; then
    fail "exit $got, expected $want: $*"; sed 's/^/    stderr: /' "$T/err" | head -5 >&2
  else ok; fi
}
# expect_grep PATTERN FILE [message]
expect_grep() { if grep -qE -- "$1" "$2"; then ok; else fail "${3:-no match for /$1/ in $2}"; fi; }
expect_no_grep() { if grep -qE -- "$1" "$2"; then fail "${3:-unexpected match for /$1/ in $2}"; else ok; fi; }
# expect_lines N FILE: exactly N lines
expect_lines() { local n; n=$(wc -l <"$2"); if [ "$n" -eq "$1" ]; then ok; else fail "$2 has $n lines, expected $1"; fi; }

finish() {
  echo "$checks checks, $failures failures"
  [ "$failures" -eq 0 ]
}

# loopback_listener ADDR [DIR]: a TCP listener on ADDR, any free port, that accepts and holds
# every connection: the attacker's end for a test process to connect to. Runs in the background
# with DIR (default: the current one) as its working directory; sets LISTENER_PID and
# LISTENER_PORT.
loopback_listener() {
  local portfile
  portfile=$(mktemp "$T/port.XXXXXX")
  (cd "${2:-.}" && exec python3 - "$1" "$portfile") <<'PY' &
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen(4)
open(sys.argv[2], "w").write(str(s.getsockname()[1]))
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
PY
  LISTENER_PID=$!
  for _ in $(seq 50); do [ -s "$portfile" ] && break; sleep 0.1; done
  LISTENER_PORT=$(cat "$portfile")
}
