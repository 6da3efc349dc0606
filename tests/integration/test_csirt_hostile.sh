#!/usr/bin/env bash
# ctest-labels: root
# What a CSIRT receives is hostile: bundles from a compromised node, node results for `forage
# merge`, broadcasts forwarded by anyone. Each case is built here, during the test, and every run
# must end with an exit code below 128 (no crash, no kill by the kernel), a peak RSS of at most
# 256 MiB (GNU time) and, when it fails, one clear line on stderr:
#   bomb        200 x 64 MiB zero tag members in a .tar.zst (12.8 GB unpacked, ~500 KB): verify,
#               report and extract (moved here from test_bundle_attacks.sh)
#   members     1,000,001 empty members in a .tar.zst, with a bagit.txt and an empty manifest so
#               that every member is a problem: verify, report and extract stop at the member
#               limit, exit 4, and the text names the first 200 affected files
#   deep        meta/incident.json of 200,000 nested arrays in a bundle that otherwise verifies
#   deep node   a node result nested 200,000 deep given to `forage merge`
#   markup      <img src=x onerror=...> as the TLP of a bundle and of a node: escaped, never markup
#   words       a 12 MB mail of 100 parts whose name and filename hold unterminated =?utf-8?q?
#               words: `ioc parse` within 5 s of wall-clock time. The decoder is linear and takes
#               well under 1 s on an idle machine; 5 s leaves room for sanitizer builds and for CI
#               running tests in parallel on two cores, and still catches the quadratic decoder
#               (minutes).
#   swapped     the bundle changes between extract's two reads (a FIFO fed twice): exit 4,
#               nothing unverified and no temporary file left
#   full disk   `forage sweep --json` into a full 1 MiB tmpfs (root; skipped with 77 otherwise)
# Needs python3, zstd and GNU time (/usr/bin/time): skipped (77) without them.
. "$(dirname "$0")/lib.sh"
for tool in python3 zstd /usr/bin/time; do
  command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: needs $tool"; exit 77; }
done
LIMIT_KIB=262144

# hostile NAME WANT CMD...: runs CMD under GNU time (stdout $T/out, stderr $T/err, peak RSS
# $T/rss); checks the exit code is WANT and below 128, the peak RSS, and that a failure says why
# in one line of its own ("forage: ...", at most 300 bytes) as the last line of stderr.
hostile() {
  local name=$1 want=$2; shift 2
  local got=0
  /usr/bin/time -f %M -o "$T/rss" "$@" >"$T/out" 2>"$T/err" || got=$?
  if [ "$got" -ge 128 ]; then
    fail "$name: exit $got (killed by signal $((got - 128)))"
  elif [ "$got" -ne "$want" ]; then
    fail "$name: exit $got, expected $want: $*"; sed 's/^/    stderr: /' "$T/err" | tail -5 >&2
  else ok; fi
  local kib; kib=$(tail -1 "$T/rss")
  if [ "$kib" -le "$LIMIT_KIB" ] 2>/dev/null; then ok; else fail "$name: peak RSS $kib KiB > $LIMIT_KIB KiB"; fi
  if [ "$got" -ne 0 ] && [ "$got" -lt 128 ] && [ "$want" -ne 1 ] && [ "$want" -ne 4 ]; then
    local last; last=$(grep -v '^Command exited with' "$T/err" | tail -1)
    if [[ $last == forage:* ]] && [ "${#last}" -le 300 ]; then ok; else fail "$name: last stderr line is not one clear line: ${last:0:200}"; fi
  fi
}

# An unsigned bag to start from, extracted in $T/x/$BAG; repack DIR OUT: tar it again.
mkdir -p "$T/ev"
printf 'secure log line\n' > "$T/ev/secure"
"$FORAGE" bundle create "$T/ev" --out "$T/unsigned.tar" --case EGI-20261120-01 --no-sign ||
  { echo "FAIL: cannot create a bundle"; exit 1; }
mkdir "$T/x" && tar -xf "$T/unsigned.tar" -C "$T/x"
BAG=$(basename "$(echo "$T"/x/*/)")
repack() { (cd "$1" && tar --format=posix -cf "$2" "$BAG"); }
# add_tag DIR REL: list the tag file REL (already written under DIR/$BAG) in the tag manifest.
add_tag() {
  (cd "$1/$BAG" && sha256sum "$2" >> tagmanifest-sha256.txt)
}

# --- bomb: 200 tag members of 64 MiB zeros appended to the genuine unsigned bag. Tag files share
# one 64 MiB budget, so verify, report and extract name the members past it and stay small.
python3 - "$T/unsigned.tar" "$T/bomb.tar.zst" 200 64 <<'PY' || fail "cannot build the memory bomb"
import subprocess, sys, tarfile
src, out, count, mib = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def zst(data):
    return subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout
raw = open(src, "rb").read()
with tarfile.open(src) as tf:
    members = tf.getmembers()
last = members[-1]
end = last.offset_data + (last.size + 511) // 512 * 512  # the bag without its end marker
top = members[0].name.split("/")[0]
size = mib << 20
zeros = zst(bytes(size))  # one frame, concatenated 200 times: a valid zstd stream
with open(out, "wb") as f:
    f.write(zst(raw[:end]))
    for i in range(count):
        ti = tarfile.TarInfo(f"{top}/meta/bomb-{i:03d}")
        ti.size, ti.mtime = size, 1700000000
        f.write(zst(ti.tobuf(format=tarfile.PAX_FORMAT)))
        f.write(zeros)
    f.write(zst(bytes(10240)))
PY
hostile bomb-verify 4 "$FORAGE" bundle verify "$T/bomb.tar.zst"
expect_grep "meta/bomb-199: tag file of 67108864 bytes over the 64 MiB budget" "$T/out"
expect_grep '^verdict: INVALID' "$T/out"
hostile bomb-report 4 "$FORAGE" bundle report "$T/bomb.tar.zst" --allow-unsigned
hostile bomb-extract 4 "$FORAGE" bundle extract "$T/bomb.tar.zst" "$T/dest-bomb" --allow-unsigned
[ ! -e "$T/dest-bomb/$BAG" ] && ok || fail "extract of the memory bomb wrote files"

# --- members: one more empty member than verify accepts (each costs it ~130 bytes: its name, a
# 32-byte digest and its "affected" mark in one map node), as a .tar.zst of a few MB. Streamed
# through zstd: the 512 MB tar never exists on disk. The empty manifest makes every member a
# problem ("not listed"), the most verify keeps per member.
python3 - "$BAG" 1000001 <<'PY' | zstd -q -c > "$T/members.tar.zst" || fail "cannot build the member bomb"
import sys, tarfile
top, count = sys.argv[1], int(sys.argv[2])
out = sys.stdout.buffer
def add(name, data=b""):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mtime = len(data), 1700000000
    out.write(ti.tobuf(format=tarfile.USTAR_FORMAT))
    out.write(data + bytes(-len(data) % 512))
add(f"{top}/bagit.txt", b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
add(f"{top}/manifest-sha256.txt")
for i in range(count - 2):
    add(f"{top}/data/e{i:07d}")
out.write(bytes(1024))
PY
hostile members-verify 4 "$FORAGE" bundle verify "$T/members.tar.zst" --allow-unsigned
expect_grep "archive: more than 1000000 members" "$T/out"
expect_grep '^verdict: INVALID' "$T/out"
expect_grep '^affected: .*data/e0000000, .*\.\.\. and [0-9]* more$' "$T/out"
[ "$(wc -c <"$T/out")" -lt 100000 ] && ok || fail "members-verify: $(wc -c <"$T/out") bytes of text"
hostile members-report 4 "$FORAGE" bundle report "$T/members.tar.zst" --allow-unsigned
hostile members-extract 4 "$FORAGE" bundle extract "$T/members.tar.zst" "$T/dest-members" --allow-unsigned
[ ! -e "$T/dest-members/$BAG" ] && ok || fail "extract of the member bomb wrote files"

# --- deep: incident.json of 200,000 nested arrays in a bundle that verifies. The report names
# the file and the depth; nothing overflows the stack.
mkdir "$T/deep" && cp -a "$T/x/$BAG" "$T/deep/"
python3 -c 'import sys; sys.stdout.write("{\"tlp\":" + "[" * 200000 + "]" * 200000 + "}")' \
  > "$T/deep/$BAG/meta/incident.json"
add_tag "$T/deep" meta/incident.json
repack "$T/deep" "$T/deep.tar"
hostile deep-verify 0 "$FORAGE" bundle verify "$T/deep.tar" --allow-unsigned
for fmt in md json html; do
  hostile "deep-report-$fmt" 0 "$FORAGE" bundle report "$T/deep.tar" --allow-unsigned --format $fmt
  expect_grep "meta/incident.json: .*nested deeper than 256 levels" "$T/out" \
    "deep-report-$fmt: the report does not name the nesting of meta/incident.json"
done

# --- deep node: a node's result nested 200,000 deep, beside a good node, given to merge.
python3 - "$T/nodes" <<'PY'
import json, os, sys
d = sys.argv[1]
os.makedirs(d)
def summary(host, tlp="AMBER", extra=""):
    return ('{"kind":"summary","findings":0,"scan":"sweep","host":%s,"utc":"2026-11-23T10:00:00Z",'
            '"case":"EGI-20261120-01","tlp":%s,"indicator_digest":"sha256:ab","skipped":{},'
            '"incomplete":false%s}\n' % (json.dumps(host), json.dumps(tlp), extra))
open(f"{d}/wn1.jsonl", "w").write(summary("wn1.example.org"))
open(f"{d}/wn2.jsonl", "w").write(summary("wn2.example.org", extra=',"x":' + "[" * 200000 + "]" * 200000))
PY
hostile deep-node 3 "$FORAGE" merge "$T/nodes" --format md
expect_grep "wn2.jsonl: line 1: JSON nested deeper than 256 levels" "$T/err"
expect_grep "wn1.example.org" "$T/out"

# --- markup: <img src=x onerror=...> as the TLP of a bundle (incident.json) and of a node.
MARKUP='<img src=x onerror=alert(document.domain)>'
mkdir "$T/markup" && cp -a "$T/x/$BAG" "$T/markup/"
printf '{"case_id":"EGI-20261120-01","tlp":"%s"}' "$MARKUP" > "$T/markup/$BAG/meta/incident.json"
add_tag "$T/markup" meta/incident.json
repack "$T/markup" "$T/markup.tar"
hostile markup-verify 0 "$FORAGE" bundle verify "$T/markup.tar" --allow-unsigned
for fmt in md html; do
  hostile "markup-report-$fmt" 0 "$FORAGE" bundle report "$T/markup.tar" --allow-unsigned --format $fmt
  expect_no_grep '<img' "$T/out" "markup-report-$fmt: the TLP got through as markup"
done
expect_grep '&lt;img src=x onerror=alert\(document\.domain\)&gt;' "$T/out" \
  "markup-report-html: the TLP is not shown escaped"
mkdir "$T/mnodes"
python3 - "$T/mnodes/wn3.jsonl" "$MARKUP" <<'PY'
import json, sys
open(sys.argv[1], "w").write(
    '{"kind":"ioc","pid":42,"ioc":{"type":"ipv4","value":"203.0.113.5"},"phase":"net","tlp":%s}\n'
    '{"kind":"summary","findings":1,"scan":"sweep","host":"wn3","utc":"2026-11-23T10:00:00Z",'
    '"case":"EGI-20261120-01","tlp":%s,"indicator_digest":"sha256:ab","skipped":{},'
    '"incomplete":false}\n' % (json.dumps(sys.argv[2]), json.dumps(sys.argv[2])))
PY
hostile markup-merge 1 "$FORAGE" merge "$T/mnodes" --format md
expect_no_grep '<img' "$T/out" "markup-merge: the TLP got through as markup"

# --- words: 100 parts, each name= and filename= holding 6,000 unterminated =?utf-8?q? words
# (60 KB each, under the 64 KiB field bound, so the decoder does see them): a 12 MB mail.
python3 - "$T/words.eml" <<'PY'
import sys
w = "=?utf-8?q?" * 6000
parts = []
for i in range(100):
    parts.append('--b\r\nContent-Type: text/plain; name="%s"\r\nContent-Disposition: attachment; '
                 'filename="%s"\r\n\r\n203.0.113.%d\r\n' % (w, w, i % 250))
open(sys.argv[1], "w").write("From: csirt@example.org\r\nSubject: =?utf-8?q?unterminated\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + "".join(parts) + "--b--\r\n")
PY
start=$(date +%s%N)
hostile words 0 "$FORAGE" ioc parse "$T/words.eml" --format tsv
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -le 5000 ] && ok || fail "words: ioc parse of the 12 MB mail took $ms ms (limit 5000)"
echo "words: ioc parse of the 12 MB mail: $ms ms"
expect_grep $'^ipv4\t203\\.0\\.113\\.99$' "$T/out" "words: the indicators of the parts were lost"

# --- swapped: extract reads the bundle twice; a FIFO gives verify the genuine bundle and the
# write pass one with the payload file changed (same size). Exit 4; the changed file and any
# temporary file are not left under DIR.
mkdir "$T/swap" && cp -a "$T/x/$BAG" "$T/swap/"
SECURE=$(cd "$T/swap/$BAG" && find data -type f -name secure)
printf 'forged log line\n' > "$T/swap/$BAG/$SECURE"
repack "$T/swap" "$T/swapped.tar"
mkfifo "$T/fifo"
# The pause lets verify close the FIFO before the second writer opens it (else the second copy
# would meet no reader and die of SIGPIPE).
( cat "$T/unsigned.tar" > "$T/fifo"; sleep 1; cat "$T/swapped.tar" > "$T/fifo" ) 2>/dev/null &
feeder=$!
hostile swapped 4 timeout 60 "$FORAGE" bundle extract "$T/fifo" "$T/dest-swap" --allow-unsigned
kill "$feeder" 2>/dev/null || true; wait "$feeder" 2>/dev/null || true
expect_grep "differs from the verified bundle" "$T/err"
[ ! -e "$T/dest-swap/$BAG/$SECURE" ] && ok || fail "swapped: the changed file was extracted"
[ -z "$(find "$T/dest-swap" -name '.forage-extract.*' 2>/dev/null)" ] && ok ||
  fail "swapped: a temporary file was left behind"

# --- full disk: the node's results go to a file system with no room left (the last case: it
# needs root and a tmpfs, and skips with 77 when neither is there).
if [ "$(id -u)" -ne 0 ]; then
  [ "$failures" -eq 0 ] || { finish; exit 1; }
  echo "SKIP: full-disk case needs root ($checks checks passed before it)"; exit 77
fi
mkdir "$T/small"
if ! mount -t tmpfs -o size=1m forage-hostile "$T/small" 2>/dev/null; then
  [ "$failures" -eq 0 ] || { finish; exit 1; }
  echo "SKIP: cannot mount a tmpfs here ($checks checks passed before it)"; exit 77
fi
trap 'umount "$T/small" 2>/dev/null; rm -rf "$T"' EXIT
dd if=/dev/zero of="$T/small/filler" bs=4k 2>/dev/null || true
mkdir -p "$T/tree"
for i in $(seq 200); do printf 'beacon to 203.0.113.%d\n' $((i % 250)) > "$T/tree/f$i.txt"; done
printf '203.0.113.0/24\n' > "$T/iocs.txt"
got=0
/usr/bin/time -f %M -o "$T/rss" "$FORAGE" sweep --iocs "$T/iocs.txt" --json --no-default-paths \
  --paths "$T/tree" --budget 120s > "$T/small/node.jsonl" 2>"$T/err" || got=$?
[ "$got" -eq 2 ] && ok || fail "full disk: sweep exit $got, expected 2"
[ "$(tail -1 "$T/rss")" -le "$LIMIT_KIB" ] && ok || fail "full disk: peak RSS $(tail -1 "$T/rss") KiB"
expect_grep "^forage: <stdout>: No space left on device$" "$T/err"
finish
