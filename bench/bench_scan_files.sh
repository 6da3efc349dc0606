#!/usr/bin/env bash
# forage scan files vs the YARA CLI (`yara -r -p N`) on the same tree (a copy of /usr/bin, regular
# files only) with the same rules and thread count; forage also checks 1,000 SHA-256 indicators
# (so it hashes every byte too). Target: ratio forage/yara <= 1.0, i.e. hashing and IoC checks
# for free. Prints best-of-N wall times, the ratio, files/s and MB/s.
#   BENCH_THREADS (default: cores)  BENCH_RUNS (default 3)  BENCH_TREE (default: a copy of /usr/bin)
. "$(dirname "$0")/lib.sh"
apt_need yara

threads=${BENCH_THREADS:-$(nproc)}
runs=${BENCH_RUNS:-3}
work="$OUT/scan_files"
mkdir -p "$work"

# The tree: outside /tmp (the built-in rules flag executables in temporary directories), regular
# files only so that both tools read the same bytes (yara -r would follow symlinks).
tree=${BENCH_TREE:-$work/usr-bin}
if [ -z "${BENCH_TREE:-}" ] && [ ! -d "$tree" ]; then
  cp -a /usr/bin "$tree.tmp"
  find "$tree.tmp" -type l -delete
  mv "$tree.tmp" "$tree"
fi
files=$(find "$tree" -type f | wc -l)
bytes=$(find "$tree" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')

# The rules: forage's built-in set, the parity set (pe/elf/math/hash modules) and 300 generated
# rules with text and hex strings that do not occur (the common case of a large public set).
rules="$work/bench.yar"
{
  cat "$REPO"/scanners/rules/*.yar
  grep -v '^import' "$REPO/tests/data/scan/parity.yar" | sed '1i import "pe"\nimport "elf"\nimport "math"\nimport "hash"'
  awk 'BEGIN { srand(7); for (r = 0; r < 300; r++) {
      printf "rule bench_%d {\n  strings:\n", r
      for (s = 0; s < 4; s++) { w = ""; for (k = 0; k < 14; k++) w = w sprintf("%c", 97 + int(rand() * 26)); printf "    $t%d = \"%s\" ascii wide\n", s, w }
      printf "    $h = {"; for (k = 0; k < 10; k++) printf " %02X", int(rand() * 256); printf " }\n"
      printf "  condition:\n    2 of them\n}\n" } }'
} > "$rules"
# The built-in rules read `filepath`; yara gets it as a constant.
yara_cmd=(yara -w -d filepath=/bench -r -p "$threads" "$rules" "$tree")

# 1,000 SHA-256 indicators, one of them the digest of a file of the tree (one finding).
iocs="$work/iocs.txt"
{
  echo "TLP:AMBER bench indicators"
  head -c $((999 * 32)) /dev/urandom | od -An -v -tx1 | tr -d ' \n' | fold -w 64
  echo
  sha256sum "$(find "$tree" -type f -print -quit)" | cut -d' ' -f1
} > "$iocs"
forage_cmd=("$FORAGE" scan files --json --rules "$rules" --iocs "$iocs" --threads "$threads"
            --max-size 0 --nice 0 --ionice none "$tree")

# Sanity: both run, forage finds the planted hash, the YARA findings agree.
"${forage_cmd[@]}" > "$work/forage.jsonl" 2>/dev/null || true
"${yara_cmd[@]}" > "$work/yara.txt" 2>/dev/null || true
hash_hits=$(grep -c '"match":"sha256"' "$work/forage.jsonl" || true)
f_pairs=$(grep -c '"kind":"yara"' "$work/forage.jsonl" || true)
y_pairs=$(wc -l < "$work/yara.txt")
echo "tree: $files files, $(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1048576}') MiB; $(grep -c '^rule ' "$rules") rules; $threads threads"
links=$(find "$tree" -type f -links +1 | wc -l)
echo "check: forage sha256 hits $hash_hits (expect 1); yara findings: forage $f_pairs, yara $y_pairs" \
  "(forage scans each of the $links hard-linked files once, yara once per name)"

# Warm the page cache, then best of N.
cat $(find "$tree" -type f) > /dev/null
# forage exits 1 (it found the planted hash): not a failure here.
run_forage() { "${forage_cmd[@]}" 2>/dev/null || [ $? -eq 1 ]; }
t_yara=$(best_of "$runs" "${yara_cmd[@]}")
t_forage=$(best_of "$runs" run_forage)
r=$(ratio "$t_forage" "$t_yara")
fps() { awk -v n="$1" -v s="$2" 'BEGIN{ if (s>0) printf "%.0f", n/s; else print "inf" }'; }
printf '%-34s %8s s  %8s files/s  %8s MB/s\n' "yara -r -p $threads" "$t_yara" "$(fps "$files" "$t_yara")" "$(mbps "$bytes" "$t_yara")"
printf '%-34s %8s s  %8s files/s  %8s MB/s\n' "forage scan files (+1000 sha256)" "$t_forage" "$(fps "$files" "$t_forage")" "$(mbps "$bytes" "$t_forage")"
echo "ratio forage/yara: $r (target <= 1.0)"
