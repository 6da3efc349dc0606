#!/usr/bin/env bash
# ctest-labels: root
# `forage collect --pid P --kill` on a real victim: several threads, a heap marker, SLURM_JOB_ID and
# an X.509 proxy (with its private key) in its environment, its executable deleted after start.
# Judges: gdb on the core with the recovered executable (marker at its address, every thread),
# sha256sum, tar, `forage bundle verify`, openssl cms, and the action log's order.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (ptrace, other users' processes)"; exit 77; fi
command -v cc >/dev/null || { echo "SKIP: no C compiler"; exit 77; }
command -v gdb >/dev/null || { echo "SKIP: no gdb"; exit 77; }
. "$FORAGE_SRC/tests/data/bundle/pki.sh"
make_pki "$T/pki" || { echo "FAIL: cannot make the test PKI"; exit 1; }
P=$T/pki

cat >"$T/victim.c" <<'EOF'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static void* spin(void* a) { (void)a; for (;;) pause(); return NULL; }
int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 3;
  char* marker = malloc(64);
  strcpy(marker, "FORAGE-HEAP-MARKER-7f3a9c");
  pthread_t t;
  for (int i = 0; i < n; ++i) pthread_create(&t, NULL, spin, NULL);
  printf("%p\n", (void*)marker);
  fflush(stdout);
  for (;;) pause();
}
EOF
cc -g -O0 -pthread -o "$T/victim" "$T/victim.c" || { echo "FAIL: cc"; exit 1; }
want_sha=$(sha256sum "$T/victim" | cut -d' ' -f1)

# A proxy file as grid jobs hold them: certificate and its private key in one PEM.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/proxy.key" -out "$T/proxy.crt" -days 2 \
  -subj "/DC=org/DC=forage-test/CN=Eve Grid User" >/dev/null 2>&1
cat "$T/proxy.crt" "$T/proxy.key" >"$T/x509up_test"
chmod 600 "$T/x509up_test"
key_line=$(sed -n 2p "$T/proxy.key")

SLURM_JOB_ID=4242 X509_USER_PROXY="$T/x509up_test" "$T/victim" 3 >"$T/victim.out" &
V=$!
for _ in $(seq 100); do [ -s "$T/victim.out" ] && break; sleep 0.05; done
addr=$(head -1 "$T/victim.out")
[ -n "$addr" ] && ok || fail "victim did not start"
rm -f "$T/victim"  # runs from a deleted executable now

expect_exit 0 "$FORAGE" collect --pid "$V" --kill --profile process --case EGI-TEST-6 --tlp amber \
  --detected-by "test harness" --out "$T/b.tar" --sign-cert "$P/host.pem" --sign-key "$P/host.key"
status=0
wait "$V" || status=$?
[ "$status" -eq 137 ] && ok || fail "victim not killed by SIGKILL (wait status $status)"
[ -f "$T/b.tar" ] && [ ! -e "$T/b.tar.partial" ] && ok || fail "bundle not finished"

expect_exit 0 "$FORAGE" bundle verify "$T/b.tar" --ca-file "$P/ca.pem"
mkdir "$T/x"
tar -xf "$T/b.tar" -C "$T/x" && ok || fail "tar -xf"
bag=$(echo "$T"/x/*/)
(cd "$bag" && sha256sum -c --strict --quiet manifest-sha256.txt) && ok || fail "sha256sum -c manifest"
(cd "$bag" && openssl cms -verify -binary -inform DER -in tagmanifest-sha256.txt.p7s \
  -content tagmanifest-sha256.txt -purpose any -CAfile "$P/ca.pem" -out /dev/null 2>/dev/null) \
  && ok || fail "openssl cms -verify"

core="$bag/data/memory/$V/core"
exe="$bag/data/exe/$V/exe"
[ -s "$core" ] && ok || fail "no core in the bundle"
[ "$(sha256sum "$exe" | cut -d' ' -f1)" = "$want_sha" ] && ok || fail "recovered exe differs from the original"

gdb -batch -nx -ex 'info threads' -ex "x/s $addr" "$exe" "$core" >"$T/gdb.out" 2>&1
expect_grep 'FORAGE-HEAP-MARKER-7f3a9c' "$T/gdb.out" "gdb did not read the marker at $addr"
threads=$(grep -cE '^\*? +[0-9]+ +(Thread|LWP)' "$T/gdb.out" || true)
[ "$threads" -eq 4 ] && ok || { fail "gdb lists $threads threads, expected 4"; sed 's/^/    gdb: /' "$T/gdb.out" | head -20 >&2; }
# Registers came through ptrace: the main thread's frame is inside the program, not at 0.
expect_no_grep 'in \?\? \(\)$|0x0000000000000000 in' "$T/gdb.out" "zero registers in the core"
# readelf accepts it as a core with a note per thread.
readelf -n "$core" >"$T/notes.txt" 2>&1
[ "$(grep -c 'NT_PRSTATUS' "$T/notes.txt")" -eq 4 ] && ok || fail "expected 4 NT_PRSTATUS notes"
expect_grep 'NT_FILE' "$T/notes.txt"
expect_grep 'NT_AUXV' "$T/notes.txt"

# The action log: freeze before the dump before the kill.
log="$bag/meta/actions.jsonl"
line_of() { grep -n "\"action\":\"$1\"" "$log" | head -1 | cut -d: -f1; }
f=$(line_of freeze); d=$(line_of memory.core); k=$(line_of kill)
if [ -n "$f" ] && [ -n "$d" ] && [ -n "$k" ] && [ "$f" -lt "$d" ] && [ "$d" -lt "$k" ]; then ok
else fail "action order freeze=$f dump=$d kill=$k"; fi
expect_grep '"action":"kill".*SIGKILL: killed' "$log"
expect_grep '"action":"freeze".*SIGSTOP, verified stopped' "$log"
expect_grep '"action":"recover.exe"' "$log"

# Volatile state and grid context: job id, proxy DN, and never the key.
expect_grep '"SLURM_JOB_ID": "4242"' "$bag/data/volatile/$V/state.json"
grep -rqs '4242' "$bag"/data/grid/ && ok || fail "job id not in the grid context"
grep -rqs 'Eve Grid User' "$bag"/data/grid/ && ok || fail "proxy DN not recorded"
if grep -rqsF -e "$key_line" "$bag" || grep -rqsF 'PRIVATE KEY-----' "$bag"/data/grid "$bag"/meta; then
  fail "private key material in the bundle"
else ok; fi
expect_grep '"processes"|"pid"' "$bag/meta/incident.json"
finish
