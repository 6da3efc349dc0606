#!/usr/bin/env bash
# IoC extraction throughput: forage ioc parse vs the npm package ioc-extractor, side by side,
# on the same generated 16 MiB broadcast-like text. Target (issue 2): forage >= 10x faster.
. "$(dirname "$0")/lib.sh"

SIZE_MB=${SIZE_MB:-16}
# NodeSource's nodejs package ships npm itself: only ask apt when a command is missing.
command -v node >/dev/null && command -v npm >/dev/null || apt_need nodejs npm
if [ ! -x "$BENCH_DIR/node_modules/.bin/ioc-extractor" ]; then
  (cd "$BENCH_DIR" && npm install --silent --no-audit --no-fund --no-save ioc-extractor@8.2.0 >/dev/null 2>&1)
fi
IOCX="$BENCH_DIR/node_modules/.bin/ioc-extractor"

text="$OUT/broadcast-${SIZE_MB}m.txt"
[ -s "$text" ] || awk -v bytes=$((SIZE_MB * 1048576)) -f "$BENCH_DIR/gen_broadcast_text.awk" > "$text"
bytes=$(stat -c %s "$text")

t_forage=$(best_of 3 "$FORAGE" --log-level warn ioc parse "$text" --format tsv)
# Each run gets the file on its own stdin (a redirect on best_of would feed only the first run).
t_iocx=$(best_of 3 sh -c '"$0" < "$1"' "$IOCX" "$text")

n_forage=$("$FORAGE" --log-level warn ioc parse "$text" --format tsv | wc -l)
n_iocx=$("$IOCX" < "$text" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);let n=0;for(const k in j)n+=j[k].length;console.log(n)})')

printf '%-28s %10s %10s %12s\n' "ioc extraction (${SIZE_MB} MiB)" "seconds" "MiB/s" "indicators"
printf '%-28s %10s %10s %12s\n' "forage ioc parse" "$t_forage" "$(mbps "$bytes" "$t_forage")" "$n_forage"
printf '%-28s %10s %10s %12s\n' "ioc-extractor 8.2.0 (npm)" "$t_iocx" "$(mbps "$bytes" "$t_iocx")" "$n_iocx"
echo "speed-up: forage is $(ratio "$t_iocx" "$t_forage")x faster (target >= 10x)"
