#!/usr/bin/env bash
# Parity with the real YARA CLI: on Debian's clamav-testfiles (PE, archives, documents, mail)
# plus two ELF binaries, `forage scan files` reports exactly the (rule, file) pairs `yara -r`
# reports with tests/data/scan/parity.yar (strings, hex, regex, counts, pe/elf/math/hash
# modules). Also through compiled rules: forage's --save-compiled output read by `yara -C`.
# ctest-labels: conformance
. "$(dirname "$0")/lib.sh"

samples=/usr/share/clamav-testfiles
rules="$FORAGE_SRC/tests/data/scan/parity.yar"
for need in yara jq; do
  command -v "$need" >/dev/null || { echo "SKIP: $need not installed (scripts/install-deps.sh)"; exit 77; }
done
[ -d "$samples" ] || { echo "SKIP: $samples missing (apt-get install clamav-testfiles)"; exit 77; }

tree="$T/samples"
mkdir -p "$tree/elf"
cp -r "$samples/." "$tree/"
cp /bin/true /bin/ls "$tree/elf/"

pairs_yara() { yara -w "$@" | awk '{ r=$1; $1=""; sub(/^ /, ""); print r " " $0 }' | sort; }
pairs_forage() { jq -r 'select(.kind=="yara") | "\(.rule) \(.path)"' "$1" | sort; }

pairs_yara -r "$rules" "$tree" > "$T/yara.pairs"
n=$(wc -l < "$T/yara.pairs")
if [ "$n" -ge 100 ]; then ok; else fail "yara found only $n pairs: the rule set is not exercising much"; fi
rules_hit=$(cut -d' ' -f1 "$T/yara.pairs" | sort -u | wc -l)
if [ "$rules_hit" -ge 15 ]; then ok; else fail "only $rules_hit rules matched anything"; fi

for threads in 1 4; do
  expect_exit 1 "$FORAGE" scan files --json --max-size 0 --threads "$threads" --rules "$rules" \
    --save-compiled "$T/parity.yarc" "$tree"
  pairs_forage "$T/out" > "$T/forage.pairs"
  if cmp -s "$T/yara.pairs" "$T/forage.pairs"; then ok
  else fail "forage ($threads threads) and yara -r disagree"; diff "$T/yara.pairs" "$T/forage.pairs" | head -20 >&2 || true; fi
done
echo "parity: $n (rule, file) pairs, $rules_hit rules"

# forage's compiled rules, read by the real yara, give the same pairs again.
pairs_yara -r -C "$T/parity.yarc" "$tree" > "$T/yarac.pairs"
if cmp -s "$T/yara.pairs" "$T/yarac.pairs"; then ok; else fail "yara -C on forage's compiled rules differs"; fi
# And yarac's output, read by forage.
yarac -w "$rules" "$T/by-yarac.yarc"
expect_exit 1 "$FORAGE" scan files --json --max-size 0 --rules "$T/by-yarac.yarc" "$tree"
pairs_forage "$T/out" > "$T/forage2.pairs"
if cmp -s "$T/yara.pairs" "$T/forage2.pairs"; then ok; else fail "forage on yarac output differs"; fi

finish
