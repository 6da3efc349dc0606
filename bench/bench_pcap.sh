#!/usr/bin/env bash
# forage scan pcap vs tcpdump on a generated 2-million-packet Ethernet capture (bench mode of
# tests/tools/pcap_gen.cpp: mixed TCP/UDP/IPv6/ARP, 1 in 8 VLAN-tagged, 1 in 100 packets to one
# of 10 "hot" addresses). Side by side, in one run:
#   tcpdump -r F -w /dev/null                    reading floor (no filter, no printing)
#   tcpdump -r F -w /dev/null 'host a or ...'    what an admin would try: 1,000 host terms
#   forage scan pcap F --iocs 10,000 indicators  (IPv4, IPv6, /24 and /16 networks)
# Target (issue 5): forage <= 1.5x the reading floor, and flat as indicators grow 10 -> 100,000.
# Then the match-rate axis (issue 14): 10,000 indicators matching 0 %, ~1 %, ~30 % of the same
# capture, and 100 % of a DDoS capture (`forage_pcap_gen ddos`: every packet to one victim), each
# against tcpdump's plain read of the same file; and --write-matches at 100 % against
# `tcpdump -r F -w out.pcap`. Target: every row <= 1.5x tcpdump.
#   BENCH_PACKETS (default 2000000)  BENCH_RUNS (default 3)  PCAP_GEN (generator binary)
#   BENCH_PART=rates: the match-rate axis only
. "$(dirname "$0")/lib.sh"
command -v tcpdump >/dev/null || apt_need tcpdump

packets=${BENCH_PACKETS:-2000000}
runs=${BENCH_RUNS:-3}
GEN=${PCAP_GEN:-$(dirname "$FORAGE")/tests/forage_pcap_gen}
[ -x "$GEN" ] || { echo "bench: $GEN not built (a build with tests: make build)" >&2; exit 2; }
work="$OUT/pcap"
mkdir -p "$work"
cap="$work/bench-$packets.pcap"
[ -s "$cap" ] || "$GEN" bench "$cap" "$packets"
bytes=$(stat -c %s "$cap")
for n in 10 1000 10000 100000; do
  [ -s "$work/iocs-$n.txt" ] || "$GEN" iocs "$work/iocs-$n.txt" "$n"
done
[ -s "$work/filter-1000.bpf" ] || "$GEN" bpf "$work/filter-1000.bpf" 1000
for pct in 0 1 30; do
  [ -s "$work/iocs-rate-$pct.txt" ] || "$GEN" iocs-rate "$work/iocs-rate-$pct.txt" 10000 "$pct"
done
ddos="$work/ddos-$packets.pcap"
[ -s "$ddos" ] || "$GEN" ddos "$ddos" "$packets"

scan() { "$FORAGE" --log-level error scan pcap --json --iocs "$1" "$2"; }
# tcpdump with 1,000 host terms runs each packet through a 1,000-branch BPF program: about 400
# times slower than the floor, so it is timed on the first 100,000 packets and scaled, as labelled.
prefix_n=$((packets < 100000 ? packets : 100000))
prefix="$work/prefix-$prefix_n.pcap"
[ -s "$prefix" ] || tcpdump -q -r "$cap" -c "$prefix_n" -w "$prefix" 2>/dev/null
head -c 24 "$cap" >"$work/empty.pcap"  # header only: what reading the indicators alone costs

t_floor=$(best_of "$runs" tcpdump -q -r "$cap" -w /dev/null 2>/dev/null)
if [ "${BENCH_PART:-all}" != rates ]; then
t_prefix=$(best_of 1 tcpdump -q -r "$prefix" -w /dev/null -F "$work/filter-1000.bpf")
t_filter=$(awk -v t="$t_prefix" -v a="$packets" -v b="$prefix_n" 'BEGIN{printf "%.3f", t*a/b}')
declare -A t setup
for n in 10 1000 10000 100000; do
  t[$n]=$(best_of "$runs" scan "$work/iocs-$n.txt" "$cap")
  setup[$n]=$(best_of "$runs" scan "$work/iocs-$n.txt" "$work/empty.pcap" || true)
done

# The counts must agree before the times mean anything. On the prefix: BPF's `host` looks at a
# fixed offset, so VLAN-tagged frames need a second pass with `vlan and (...)`; forage reads
# through the tags itself and must see the sum.
count() { tcpdump -q -r "$prefix" -w - "$@" 2>/dev/null | tcpdump -q -r - 2>/dev/null | wc -l; }
filter=$(cat "$work/filter-1000.bpf")
plain=$(count "$filter")
tagged=$(count "vlan and ($filter)")
ours=$(scan "$work/iocs-1000.txt" "$prefix" | grep '"kind":"summary"' |
  sed 's/.*"packets_matched":\([0-9]*\).*/\1/' || true)

printf '%-52s %9s %9s\n' "capture: $packets packets, $((bytes / 1048576)) MiB" seconds MiB/s
printf '%-52s %9s %9s\n' "tcpdump -r -w /dev/null (reading floor)" "$t_floor" "$(mbps "$bytes" "$t_floor")"
printf '%-52s %9s %9s\n' "tcpdump, 1,000 host terms (x$((packets / prefix_n)) of $prefix_n pkts)" "$t_filter" "$(mbps "$bytes" "$t_filter")"
for n in 10 1000 10000 100000; do
  printf '%-52s %9s %9s   (reading the indicators: %s s)\n' "forage scan pcap, $n indicators" "${t[$n]}" \
    "$(mbps "$bytes" "${t[$n]}")" "${setup[$n]}"
done
echo "matched in the first $prefix_n packets with 1,000 indicators: forage $ours," \
  "tcpdump $plain untagged + $tagged VLAN-tagged = $((plain + tagged))" \
  "$([ "$ours" = $((plain + tagged)) ] && echo "(equal)" || echo "(DIFFERENT)")"
echo "ratio forage(10,000)/floor: $(ratio "${t[10000]}" "$t_floor") (target <= 1.5)"
echo "ratio forage(10,000)/tcpdump 1,000 hosts: $(ratio "${t[10000]}" "$t_filter")"
per() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", a-b}'; }
echo "per-packet time, indicators 10 -> 100,000: $(per "${t[10]}" "${setup[10]}") s ->" \
  "$(per "${t[100000]}" "${setup[100000]}") s (flat: $(ratio "$(per "${t[100000]}" "${setup[100000]}")" "$(per "${t[10]}" "${setup[10]}")"))"
fi

# --- the match-rate axis ---
matched_of() {  # packets_matched/packets_total of a scan, as "N (P %)"
  "$FORAGE" --log-level error scan pcap --json --iocs "$1" "$2" | grep '"kind":"summary"' |
    sed 's/.*"packets_total":\([0-9]*\).*"packets_matched":\([0-9]*\).*/\2 \1/' |
    awk '{printf "%d (%.2f %%)", $1, 100*$1/$2}' || true
}
write_scan() {
  rm -f "$work/m.pcap"
  "$FORAGE" --log-level error scan pcap --json --iocs "$work/iocs-rate-1.txt" "$ddos" \
    --write-matches "$work/m.pcap"
}
write_tcpdump() { tcpdump -q -r "$ddos" -w "$work/t.pcap" 2>/dev/null; }
read_tcpdump() { tcpdump -q -r "$1" -w /dev/null 2>/dev/null; }
packets_in() { tcpdump -n -q -r "$1" 2>/dev/null | wc -l; }  # -n: no reverse DNS of 2 M hosts
t_floor_ddos=$(best_of "$runs" read_tcpdump "$ddos")
declare -A rate_t rate_m
for pct in 0 1 30; do
  rate_t[$pct]=$(best_of "$runs" scan "$work/iocs-rate-$pct.txt" "$cap")
  rate_m[$pct]=$(matched_of "$work/iocs-rate-$pct.txt" "$cap")
done
rate_t[100]=$(best_of "$runs" scan "$work/iocs-rate-1.txt" "$ddos")
rate_m[100]=$(matched_of "$work/iocs-rate-1.txt" "$ddos")
t_write=$(best_of "$runs" write_scan)
t_write_tcpdump=$(best_of "$runs" write_tcpdump)
ours_written=$(packets_in "$work/m.pcap")
theirs_written=$(packets_in "$work/t.pcap")
rm -f "$work/m.pcap" "$work/t.pcap"

echo
echo "match-rate axis: 10,000 indicators; each row against tcpdump's plain read of the same file"
printf '%-44s %-24s %9s %9s %7s\n' "work" "matched" "forage" "tcpdump" "ratio"
for pct in 0 1 30; do
  printf '%-44s %-24s %9s %9s %7s\n' "scan pcap, $pct % target ($packets pkts)" "${rate_m[$pct]}" \
    "${rate_t[$pct]}" "$t_floor" "$(ratio "${rate_t[$pct]}" "$t_floor")"
done
printf '%-44s %-24s %9s %9s %7s\n' "scan pcap, DDoS capture ($packets pkts)" "${rate_m[100]}" \
  "${rate_t[100]}" "$t_floor_ddos" "$(ratio "${rate_t[100]}" "$t_floor_ddos")"
printf '%-44s %-24s %9s %9s %7s\n' "--write-matches, DDoS vs tcpdump -r -w out" \
  "$ours_written written" "$t_write" "$t_write_tcpdump" "$(ratio "$t_write" "$t_write_tcpdump")"
[ "$ours_written" = "$theirs_written" ] ||
  echo "WRITTEN PACKETS DIFFER: forage $ours_written, tcpdump $theirs_written (every packet matches)"
echo "target: every ratio <= 1.5"
