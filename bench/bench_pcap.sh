#!/usr/bin/env bash
# forage scan pcap vs tcpdump on a generated 2-million-packet Ethernet capture (bench mode of
# tests/tools/pcap_gen.cpp: mixed TCP/UDP/IPv6/ARP, 1 in 8 VLAN-tagged, 1 in 100 packets to one
# of 10 "hot" addresses). Side by side, in one run:
#   tcpdump -r F -w /dev/null                    reading floor (no filter, no printing)
#   tcpdump -r F -w /dev/null 'host a or ...'    what an admin would try: 1,000 host terms
#   forage scan pcap F --iocs 10,000 indicators  (IPv4, IPv6, /24 and /16 networks)
# Target (issue 5): forage <= 1.5x the reading floor, and flat as indicators grow 10 -> 100,000.
#   BENCH_PACKETS (default 2000000)  BENCH_RUNS (default 3)  PCAP_GEN (generator binary)
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

scan() { "$FORAGE" --log-level error scan pcap --json --iocs "$1" "$2"; }
# tcpdump with 1,000 host terms runs each packet through a 1,000-branch BPF program: about 400
# times slower than the floor, so it is timed on the first 100,000 packets and scaled, as labelled.
prefix_n=$((packets < 100000 ? packets : 100000))
prefix="$work/prefix-$prefix_n.pcap"
[ -s "$prefix" ] || tcpdump -q -r "$cap" -c "$prefix_n" -w "$prefix" 2>/dev/null
head -c 24 "$cap" >"$work/empty.pcap"  # header only: what reading the indicators alone costs

t_floor=$(best_of "$runs" tcpdump -q -r "$cap" -w /dev/null)
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
