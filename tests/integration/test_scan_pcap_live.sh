#!/usr/bin/env bash
# forage scan pcap --interface: live capture on loopback of traffic this test generates, with
# tcpdump capturing the same window as the judge (tshark counts its matching packets); a pcapng
# written by dumpcap from two interfaces of different link types; SIGINT; errors.
# ctest-labels: root live
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root (capture privileges)" >&2; exit 1; }
for t in tcpdump tshark dumpcap setpriv ip; do
  command -v $t >/dev/null || { echo "FAIL: $t not installed (scripts/install-deps.sh)" >&2; exit 1; }
done

printf '127.0.0.2\n127.0.0.3\n::1\n' >"$T/iocs.txt"
OUTER='ip.addr#1 == 127.0.0.2 || ip.addr#1 == 127.0.0.3 || ipv6.addr#1 == ::1'
tshark_count() { tshark -r "$1" -Y "$2" 2>/dev/null | wc -l; }
summary() { tail -n 1 "$1"; }

# Real kernel traffic, from bash alone: UDP to closed ports (answered by ICMP port unreachable,
# whose quoted header holds the same addresses: only the outer one may count) and TCP connection
# attempts answered by RST, over IPv4 and IPv6.
traffic() {
  for i in $(seq 1 20); do
    echo "forage-test $i" >/dev/udp/127.0.0.2/9 || true
    (exec 3<>/dev/tcp/127.0.0.3/1) 2>/dev/null || true
    echo "forage-test $i" >/dev/udp/::1/9 2>/dev/null || true
  done
}
# wait_for FILE PATTERN: until a background tool says it is capturing (10 s at most).
wait_for() {
  for _ in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "timed out waiting for /$2/ in $1"
  return 1
}
promiscuity() { ip -d link show lo | grep -o 'promiscuity [0-9]*' | cut -d' ' -f2; }

# --- 1. forage live and tcpdump side by side on lo ---
tcpdump -p -i lo -U -n -w "$T/real.pcap" 2>"$T/tcpdump.err" &
tcpdump_pid=$!
"$FORAGE" scan pcap --interface lo --iocs "$T/iocs.txt" --json \
  --write-matches "$T/live.pcap" >"$T/live.out" 2>"$T/live.err" &
forage_pid=$!
wait_for "$T/tcpdump.err" "listening on lo"
wait_for "$T/live.err" "capturing on lo"
sleep 0.5
[ "$(promiscuity)" = 0 ] && ok || fail "lo is in promiscuous mode without --promisc"
traffic
sleep 1
# Both stop together, so both saw the same window.
kill -INT $tcpdump_pid $forage_pid
wait $tcpdump_pid || true
rc=0
wait $forage_pid || rc=$?
[ "$rc" -eq 1 ] && ok || { fail "live scan exit $rc"; sed 's/^/    /' "$T/live.err" >&2; }
s=$(summary "$T/live.out")
[ "$(jq -r .kind <<<"$s")" = summary ] && ok || fail "no summary line: $s"
[ "$(jq -r .interface <<<"$s")" = lo ] && ok || fail "interface: $s"
[ "$(jq -r .kernel.dropped <<<"$s")" = 0 ] && ok || fail "kernel drops: $s"
[ "$(jq -r '.link_types | keys[0]' <<<"$s")" = EN10MB ] && ok || fail "lo is Ethernet: $s"
live_matched=$(jq .packets_matched <<<"$s")
u2=$(grep '"value":"127.0.0.2"' "$T/live.out" || true)
[ "$(jq '.to_ioc.packets' <<<"$u2")" -ge 20 ] && ok || fail "127.0.0.2: $u2"
[ "$(jq '.protocols.udp' <<<"$u2")" -ge 20 ] && ok || fail "127.0.0.2 protocols: $u2"
[ "$(jq -r '.ioc_ports[0]' <<<"$u2")" = 9 ] && ok || fail "127.0.0.2 ports: $u2"
[ "$(jq -r '.pcap[0]' <<<"$u2")" = "live:lo" ] && ok || fail "capture name: $u2"
t3=$(grep '"value":"127.0.0.3"' "$T/live.out" || true)
[ "$(jq '.protocols.tcp' <<<"$t3")" -ge 40 ] && ok || fail "127.0.0.3 (SYN + RST): $t3"
grep -q '"value":"::1"' "$T/live.out" && ok || fail "no IPv6 finding"
# Parity: tshark on tcpdump's capture of the same window counts the same packets.
theirs=$(tshark_count "$T/real.pcap" "$OUTER")
[ "$live_matched" = "$theirs" ] && ok || fail "live forage matched $live_matched, tshark on tcpdump's capture $theirs"
# The same on the saved capture, offline.
expect_exit 1 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --json "$T/real.pcap"
[ "$(summary "$T/out" | jq .packets_matched)" = "$theirs" ] && ok || fail "offline scan of real.pcap"
# --write-matches of the live capture: exactly the matching packets.
[ "$(tshark_count "$T/live.pcap" "")" = "$live_matched" ] && ok || fail "live.pcap packet count"
[ "$(tshark_count "$T/live.pcap" "$OUTER")" = "$live_matched" ] && ok || fail "live.pcap non-matching packets"

# --- 2. a real pcapng from two interfaces of different link types (Ethernet lo, cooked any) ---
dumpcap -i lo -i any -w "$T/two.pcapng" -a duration:4 >"$T/dumpcap.out" 2>&1 &
dumpcap_pid=$!
wait_for "$T/dumpcap.out" "Capturing on 'Loopback: lo' and 'any'"
sleep 1
traffic
wait $dumpcap_pid || true
expect_exit 1 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --json "$T/two.pcapng"
s=$(summary "$T/out")
[ "$(jq -c '.link_types | keys' <<<"$s")" = '["EN10MB","LINUX_SLL"]' ] && ok || fail "two link types: $s"
[ "$(jq -c .errors <<<"$s")" = '[]' ] && ok || fail "errors: $s"
theirs=$(tshark_count "$T/two.pcapng" "$OUTER")
[ "$(jq .packets_matched <<<"$s")" = "$theirs" ] && ok || fail "two.pcapng: forage $(jq .packets_matched <<<"$s"), tshark $theirs"
[ "$(jq .packets_total <<<"$s")" = "$(tshark_count "$T/two.pcapng" "")" ] && ok || fail "two.pcapng total"
if tcpdump -r "$T/two.pcapng" -w /dev/null 2>/dev/null; then fail "libpcap read two.pcapng?"; else ok; fi

# --- 3. --interface any, --packets; --promisc ---
"$FORAGE" scan pcap --interface any --packets 10 --iocs "$T/iocs.txt" --json \
  >"$T/any.out" 2>"$T/any.err" &
forage_pid=$!
wait_for "$T/any.err" "capturing on any"
( for _ in $(seq 1 30); do traffic; sleep 0.1; done ) &
traffic_pid=$!
rc=0
wait $forage_pid || rc=$?
kill $traffic_pid 2>/dev/null || true
wait $traffic_pid 2>/dev/null || true
[ "$rc" -eq 1 ] || [ "$rc" -eq 0 ] && ok || fail "--interface any exit $rc"
s=$(summary "$T/any.out")
[ "$(jq .packets_total <<<"$s")" = 10 ] && ok || fail "--packets 10: $s"
jq -e '.link_types.LINUX_SLL == 10' <<<"$s" >/dev/null && ok || fail "any gives Linux cooked: $s"
"$FORAGE" scan pcap --interface lo --promisc --duration 3 --iocs "$T/iocs.txt" --json \
  >"$T/promisc.out" 2>"$T/promisc.err" &
forage_pid=$!
wait_for "$T/promisc.err" "capturing on lo"
sleep 0.3
[ "$(promiscuity)" = 1 ] && ok || fail "--promisc did not set promiscuous mode"
wait $forage_pid || true
[ "$(promiscuity)" = 0 ] && ok || fail "promiscuous mode left on"

# --- 4. SIGINT stops cleanly and the summary is written ---
"$FORAGE" scan pcap --interface lo --iocs "$T/iocs.txt" --json >"$T/int.out" 2>"$T/int.err" &
forage_pid=$!
wait_for "$T/int.err" "until interrupted"
sleep 0.3
traffic
sleep 0.5
kill -INT $forage_pid
rc=0
wait $forage_pid || rc=$?
[ "$rc" -eq 1 ] && ok || fail "SIGINT: exit $rc"
s=$(summary "$T/int.out")
[ "$(jq -r .kind <<<"$s")" = summary ] && ok || fail "SIGINT: no summary"
[ "$(jq .packets_matched <<<"$s")" -ge 60 ] && ok || fail "SIGINT: $s"
[ "$(jq -r '.interrupted // false' <<<"$s")" = false ] && ok || fail "live Ctrl-C is the normal stop: $s"

# --- 5. errors: no such interface, no privileges ---
expect_exit 2 "$FORAGE" scan pcap --interface forage-nosuch0 --duration 1 --iocs "$T/iocs.txt"
expect_grep '^forage: interface forage-nosuch0: no such interface' "$T/err"
U=$(mktemp -d /tmp/forage-it-user.XXXXXX)
chmod 755 "$U"
cp "$FORAGE" "$T/iocs.txt" "$U/"
chmod 755 "$U/forage"
chmod 644 "$U/iocs.txt"
expect_exit 2 setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
  "$U/forage" scan pcap --interface lo --duration 1 --iocs "$U/iocs.txt"
expect_grep '^forage: interface lo: permission denied: capturing needs root or CAP_NET_RAW' "$T/err"
rm -rf "$U"

finish
