#!/usr/bin/env bash
# forage scan pcap on capture files: every supported link type, pcapng with several interfaces
# and sections, gzip, directories, --write-matches, damaged input; tshark is the judge of which
# packets have an indicator in their outer IP header.
# Set FORAGE_TCPDUMP_TESTS to the tests/ directory of tcpdump's source (apt-get source tcpdump)
# to also run its ~670 captures, many deliberately malformed, through the scanner.
. "$(dirname "$0")/lib.sh"

GEN=$(dirname "$FORAGE")/tests/forage_pcap_gen
[ -x "$GEN" ] || { echo "FAIL: $GEN not built" >&2; exit 1; }
command -v tshark >/dev/null || { echo "FAIL: tshark not installed (scripts/install-deps.sh)" >&2; exit 1; }
S=$T/samples
mkdir -p "$S"
"$GEN" samples "$S"
cat >"$T/iocs.txt" <<'EOF'
203.0.113.7
198.51.100.0/24
2001:db8:bad::1
2001:db8:c0::/48
evil.example.com
EOF
# The same indicators for tshark, outer IP header only: "#1" is the first IP layer of the packet,
# so addresses quoted inside ICMP errors or carried in tunnels do not count.
OUTER='ip.addr#1 == 203.0.113.7 || ip.addr#1 == 198.51.100.0/24 || ipv6.addr#1 == 2001:db8:bad::1 || ipv6.addr#1 == 2001:db8:c0::/48'
tshark_count() { tshark -r "$1" -Y "$2" 2>/dev/null | wc -l; }
summary() { tail -n 1 "$T/out"; }
jq_check() {  # jq_check FILTER EXPECTED [what]
  local got; got=$(summary | jq -c "$1")
  if [ "$got" = "$2" ]; then ok; else fail "${3:-$1}: got $got, expected $2"; fi
}

# --- parity with tshark, file by file ---
for f in "$S"/*.pcap "$S"/*.pcapng; do
  "$FORAGE" --log-level error scan pcap --iocs "$T/iocs.txt" --json "$f" >"$T/out" 2>"$T/err" || true
  ours=$(summary | jq .packets_matched)
  total=$(summary | jq .packets_total)
  theirs=$(tshark_count "$f" "$OUTER")
  all=$(tshark_count "$f" "")
  if [ "$ours" = "$theirs" ] && [ "$total" = "$all" ]; then ok
  else fail "$(basename "$f"): forage matched $ours of $total, tshark $theirs of $all"; fi
done

# --- everything at once: time order, findings, summary ---
expect_exit 1 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --json "$S"
expect_lines 5 "$T/out"
jq_check .packets_total 49
jq_check .packets_matched 36
jq_check .targets 16
jq_check '.link_types.LINUX_SLL2' 4
jq_check '.packets_skipped' '{"not ip":3,"truncated":1,"malformed":2,"link type IEEE802_11_RADIO":2}'
jq_check .indicators 4
jq_check .iocs_ignored 1
expect_grep 'not IP addresses or networks are ignored \(domain 1\)' "$T/err"
head -n 4 "$T/out" >"$T/findings"
hit=$(grep '"value":"203.0.113.7"' "$T/findings")
[ "$(jq -r '.first_seen' <<<"$hit")" = "2024-11-20T08:15:02.000000Z" ] && ok || fail "first_seen: $hit"
[ "$(jq -c '.ioc_ports' <<<"$hit")" = "[53,443,7001,8080]" ] && ok || fail "ioc_ports: $hit"
[ "$(jq -r '.peers[0].ip' <<<"$hit")" = "10.1.2.3" ] && ok || fail "peers: $hit"
[ "$(jq -r '.pcap[0]' <<<"$hit")" = "$S/eth.pcap" ] && ok || fail "captures in time order: $hit"
[ "$(jq -r '.ioc.source' <<<"$hit")" = "$T/iocs.txt:1" ] && ok || fail "ioc source: $hit"
net=$(grep '"value":"198.51.100.0/24"' "$T/findings")
[ "$(jq -c '.ioc_addresses' <<<"$net")" = '["198.51.100.42"]' ] && ok || fail "ioc_addresses: $net"

# The table form: one line per finding, then the summary.
expect_exit 1 "$FORAGE" scan pcap --iocs "$T/iocs.txt" "$S/eth.pcap"
expect_grep '^ioc	pcap=\[' "$T/out"
expect_grep '^summary	.*packets_total=8	packets_matched=6' "$T/out"

# --- --write-matches: a capture tshark opens, holding exactly the matching packets ---
expect_exit 1 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --json --write-matches "$T/m.pcap" \
  "$S/eth.pcap" "$S/vlan.pcap" "$S/frag.pcap" "$S/nano.pcap"
matched=$(summary | jq .packets_matched)
[ "$(tshark_count "$T/m.pcap" "")" = "$matched" ] && ok || fail "m.pcap does not hold $matched packets"
[ "$(tshark_count "$T/m.pcap" "$OUTER")" = "$matched" ] && ok || fail "m.pcap holds non-matching packets"
capinfos -t "$T/m.pcap" >"$T/m.capinfos"
expect_grep 'Wireshark/tcpdump/\.\.\. - pcap$' "$T/m.capinfos" "m.pcap is not a pcap file"
# Several link types: one file each.
expect_exit 1 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --json --write-matches "$T/mm.pcap" "$S"
jq_check '.write_matches | length' 8  # EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP
for f in $(summary | jq -r '.write_matches[]'); do
  n=$(tshark_count "$f" "$OUTER"); a=$(tshark_count "$f" "")
  [ "$n" -gt 0 ] && [ "$n" = "$a" ] && ok || fail "$f: $n of $a packets match"
done
# Never over an input.
cp "$S/eth.pcap" "$T/keep.pcap"
expect_exit 2 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --write-matches "$T/keep.pcap" "$T/keep.pcap"
cmp -s "$S/eth.pcap" "$T/keep.pcap" && ok || fail "--write-matches overwrote its input"

# --- pcapng written by tshark itself, and one libpcap 1.10 cannot read ---
tshark -r "$S/eth.pcap" -F pcapng -w "$T/eth.pcapng" 2>/dev/null
expect_exit 1 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --json "$T/eth.pcapng"
jq_check .packets_matched 6
# multi.pcapng has interfaces of different link types: tcpdump (libpcap) gives up, we do not.
if tcpdump -r "$S/multi.pcapng" -w /dev/null 2>"$T/tcpdump.err"; then fail "tcpdump read multi.pcapng"; else ok; fi
expect_grep 'different from the type of the first interface' "$T/tcpdump.err"
expect_exit 1 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --json "$S/multi.pcapng"
jq_check .packets_total 4
jq_check .errors '[]'

# --- gzip ---
gzip -c "$S/eth.pcap" >"$T/eth.pcap.gz"
gzip -c "$S/multi.pcapng" >"$T/multi.pcapng.gz"
expect_exit 1 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --json "$T/eth.pcap.gz" "$T/multi.pcapng.gz"
jq_check .packets_matched 10
# stdin
expect_exit 1 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --json - <"$S/eth.pcap"
jq_check .packets_matched 6

# --- indicators straight from a broadcast e-mail ---
"$GEN" hosts "$T/mail.pcap" 198.51.100.150 203.0.113.45 192.0.2.1
expect_exit 1 "$FORAGE" scan pcap --iocs "$FORAGE_SRC/tests/data/email/forwarded.eml" --json "$T/mail.pcap"
expect_lines 3 "$T/out"
jq_check .packets_matched 4

# --- bad input: one clear line naming the file, the right exit code ---
printf 'hello\n' >"$T/notes.txt"
grep -v example "$T/iocs.txt" >"$T/ips.txt"  # no "ignored" note: stderr is the error alone
expect_exit 2 "$FORAGE" scan pcap --iocs "$T/ips.txt" "$T/notes.txt"
expect_grep "^forage: $T/notes.txt: not a capture file" "$T/err"
expect_lines 1 "$T/err"
expect_exit 2 "$FORAGE" scan pcap --iocs "$T/iocs.txt" "$T/nope.pcap"
expect_grep "nope.pcap: No such file" "$T/err"
# Truncated in the middle of a record: the packets before count, exit 1 (findings) or 3.
size=$(stat -c %s "$S/eth.pcap")
head -c $((size - 20)) "$S/eth.pcap" >"$T/cut.pcap"
expect_exit 1 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --json "$T/cut.pcap"
jq_check .packets_total 7
expect_grep "cut.pcap: truncated dump file" "$T/out"
head -c 100 "$S/sll.pcap" >"$T/cut2.pcap"  # cut inside the first record: nothing read
expect_exit 3 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --json "$T/cut2.pcap"
# Only unsupported link types: nothing could be examined -> incomplete.
expect_exit 3 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --json "$S/radiotap.pcap"
jq_check '.packets_skipped' '{"link type IEEE802_11_RADIO":2}'
# A bad filter is a usage error.
expect_exit 2 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --filter 'tcp and and' "$S/eth.pcap"
expect_grep "filter 'tcp and and'" "$T/err"
expect_exit 1 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --json --filter udp "$S/eth.pcap"
jq_check .packets_matched 2
# --duration without --interface
expect_exit 2 "$FORAGE" scan pcap --iocs "$T/iocs.txt" --duration 3 "$S/eth.pcap"

# --- tcpdump's own test captures (667, many malformed on purpose): no crash, tshark parity ---
# From the Debian source of the tcpdump package (fetched once into a cache; skipped offline, or
# FORAGE_TCPDUMP_TESTS names an unpacked tests/ directory).
if [ -z "${FORAGE_TCPDUMP_TESTS:-}" ]; then
  cache=${TMPDIR:-/tmp}/forage-tcpdump-4.99.3
  if [ ! -d "$cache/tests" ] && command -v curl >/dev/null; then
    mkdir -p "$cache"
    curl -sfL --max-time 120 \
      http://deb.debian.org/debian/pool/main/t/tcpdump/tcpdump_4.99.3.orig.tar.gz |
      tar xz -C "$cache" --strip-components=1 tcpdump-4.99.3/tests 2>/dev/null || rm -rf "$cache"
  fi
  [ -d "$cache/tests" ] && FORAGE_TCPDUMP_TESTS=$cache/tests
fi
if [ -n "${FORAGE_TCPDUMP_TESTS:-}" ] && [ -d "$FORAGE_TCPDUMP_TESTS" ]; then
  printf '0.0.0.0/0\n::/0\n' >"$T/all.txt"
  files=0 crashes=0 same=0 compared=0 over=0 differ=""
  for f in "$FORAGE_TCPDUMP_TESTS"/*.pcap "$FORAGE_TCPDUMP_TESTS"/*.pcapng; do
    files=$((files + 1))
    rc=0
    "$FORAGE" --log-level error scan pcap --iocs "$T/all.txt" --json "$f" >"$T/out" 2>"$T/err" || rc=$?
    if [ "$rc" -gt 3 ]; then crashes=$((crashes + 1)); fail "$f: exit $rc"; continue; fi
    [ "$rc" -eq 2 ] && continue
    # Parity where every packet is of a link type we read.
    summary | jq -e '[.link_types|keys[]|select(test("^(EN10MB|LINUX_SLL|LINUX_SLL2|RAW|NULL|LOOP|IPV4|IPV6)$")|not)]|length == 0' >/dev/null || continue
    compared=$((compared + 1))
    ours=$(summary | jq .packets_matched)
    theirs=$(tshark_count "$f" 'ip.src#1 || ipv6.src#1')
    if [ "$ours" = "$theirs" ]; then same=$((same + 1)); else differ+=" $(basename "$f")($ours/$theirs)"; fi
    [ "$ours" -gt "$theirs" ] && over=$((over + 1))
  done
  echo "tcpdump captures: $files run, $crashes crashes; tshark parity on $same of $compared"
  # Differences are encapsulations forage does not open (MACsec, NSH, Arista trailers): their
  # packets are "not ip" to forage, so it may see fewer, never more (that would be a misread).
  [ -n "$differ" ] && echo "  differ (forage/tshark):$differ"
  [ "$crashes" -eq 0 ] && ok || fail "crashes on tcpdump's captures"
  [ "$over" -eq 0 ] && ok || fail "$over captures where forage matched more packets than tshark"
  [ $((same * 100)) -ge $((compared * 98)) ] && ok || fail "tshark parity below 98% ($same of $compared)"
fi

finish
