// forage_pcap_gen: writes the captures the pcap integration tests and bench/bench_pcap.sh use,
// with libpcap (pcapng block by block). Deterministic: the same arguments give the same bytes.
//
//   forage_pcap_gen samples DIR          one small capture per supported link type and case
//   forage_pcap_gen bench OUT N [SNAP]   N Ethernet packets of mixed traffic (SNAP: snap length)
//   forage_pcap_gen ddos OUT N           N Ethernet packets, every one to hot address 0 (a DDoS
//                                        victim) from spoofed sources: SYNs and UDP floods
//   forage_pcap_gen iocs OUT N           N indicators: 10 seen in the bench traffic, the rest not
//   forage_pcap_gen iocs-rate OUT N PCT  N indicators matching about PCT % of the bench traffic:
//                                        0 none; else the 10 hot addresses (0.92 %) and as many
//                                        10.0.x.0/24 node networks as bring it to PCT (each 0.36 %)
//   forage_pcap_gen bpf OUT N            "host a or host b ..." over the first N of those
//   forage_pcap_gen hosts OUT ADDR...    Ethernet: 10.1.2.3 or fd00::10 talks to each ADDR (2 each)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "pcap_frames.h"

using namespace forage::testing;

namespace {

// splitmix64: a fixed, portable sequence.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

// Samples: addresses the integration test's indicator file lists.
//   203.0.113.7 (host), 198.51.100.0/24 (network), 2001:db8:bad::1 (IPv6 host),
//   2001:db8:c0::/48 (IPv6 network). Everything else: 10.0.0.0/8, 192.0.2.0/24, fd00::/8.
void samples(const std::string& dir) {
  const uint32_t node = v4("10.1.2.3"), bad = v4("203.0.113.7"), net = v4("198.51.100.42");
  const uint32_t clean = v4("192.0.2.10");
  const V6 node6 = v6("fd00::10"), bad6 = v6("2001:db8:bad::1"), net6 = v6("2001:db8:c0:1::99");
  auto tcp = [](uint16_t s, uint16_t d) { return transport(6, s, d, 10); };
  auto udp = [](uint16_t s, uint16_t d) { return transport(17, s, d, 20); };
  const int64_t t0 = 1732090502000000;  // 2024-11-20T08:15:02Z in microseconds

  // Ethernet: 3 matching (2 to 203.0.113.7 one back), 1 to the /24, 1 clean, 1 ARP, 2 IPv6 hits.
  {
    PcapWriter w(dir + "/eth.pcap", DLT_EN10MB);
    w.add(t0, ether(0x0800, ipv4(node, bad, 6, tcp(40000, 443))));
    w.add(t0 + 1000, ether(0x0800, ipv4(bad, node, 6, tcp(443, 40000))));
    w.add(t0 + 2000, ether(0x0800, ipv4(node, bad, 6, tcp(40000, 443))));
    w.add(t0 + 3000, ether(0x0800, ipv4(node, net, 17, udp(5353, 53))));
    w.add(t0 + 4000, ether(0x0800, ipv4(node, clean, 1, Bytes(16, 0))));
    w.add(t0 + 5000, ether(0x0806, Bytes(28, 0)));  // ARP
    w.add(t0 + 6000, ether(0x86dd, ipv6(node6, bad6, 6, tcp(50000, 22))));
    w.add(t0 + 7000, ether(0x86dd, ipv6(net6, node6, 17, udp(123, 123))));
  }
  // 802.1Q, 802.1ad QinQ and the old 0x9100 QinQ.
  {
    PcapWriter w(dir + "/vlan.pcap", DLT_EN10MB);
    w.add(t0 + 10000, ether(0x0800, ipv4(node, bad, 6, tcp(40001, 443)), {0x8100}));
    w.add(t0 + 11000, ether(0x0800, ipv4(node, bad, 6, tcp(40002, 443)), {0x88a8, 0x8100}));
    w.add(t0 + 12000, ether(0x0800, ipv4(node, bad, 6, tcp(40003, 443)), {0x9100, 0x8100}));
    w.add(t0 + 13000, ether(0x86dd, ipv6(node6, bad6, 17, udp(1, 2)), {0x8100}));
    w.add(t0 + 14000, ether(0x0800, ipv4(node, clean, 6, tcp(1, 2)), {0x8100}));
  }
  // Linux cooked v1 and v2 (what -i any gives).
  {
    PcapWriter w(dir + "/sll.pcap", DLT_LINUX_SLL);
    w.add(t0 + 20000, sll(0x0800, ipv4(node, bad, 17, udp(1000, 53))));
    w.add(t0 + 21000, sll(0x86dd, ipv6(bad6, node6, 6, tcp(22, 50001))));
    w.add(t0 + 22000, sll(0x0800, ipv4(node, clean, 17, udp(1000, 53))));
  }
  {
    PcapWriter w(dir + "/sll2.pcap", DLT_LINUX_SLL2);
    w.add(t0 + 30000, sll2(0x0800, ipv4(net, node, 6, tcp(80, 40004))));
    w.add(t0 + 31000, sll2(0x86dd, ipv6(node6, net6, 6, tcp(40005, 80))));
    w.add(t0 + 32000, sll2(0x0806, Bytes(28, 0)));
  }
  // Raw IP: LINKTYPE_RAW (version nibble), LINKTYPE_IPV4, LINKTYPE_IPV6.
  {
    PcapWriter w(dir + "/raw.pcap", DLT_RAW);
    w.add(t0 + 40000, ipv4(node, bad, 6, tcp(40006, 8080)));
    w.add(t0 + 41000, ipv6(node6, bad6, 17, udp(5000, 5001)));
    w.add(t0 + 42000, ipv4(node, clean, 6, tcp(1, 2)));
  }
  {
    PcapWriter w(dir + "/ipv4.pcap", DLT_IPV4);
    w.add(t0 + 43000, ipv4(bad, node, 17, udp(53, 1000)));
  }
  {
    PcapWriter w(dir + "/ipv6.pcap", DLT_IPV6);
    w.add(t0 + 44000, ipv6(node6, net6, 58, Bytes(8, 0)));
  }
  // BSD loopback: DLT_NULL in either byte order, IPv6 families of BSD, FreeBSD and macOS.
  {
    PcapWriter w(dir + "/null.pcap", DLT_NULL);
    w.add(t0 + 50000, null_hdr(2, ipv4(node, bad, 6, tcp(40007, 443))));
    w.add(t0 + 51000, null_hdr(2, ipv4(node, bad, 6, tcp(40008, 443)), true));
    w.add(t0 + 52000, null_hdr(24, ipv6(node6, bad6, 6, tcp(1, 2))));
    w.add(t0 + 53000, null_hdr(28, ipv6(node6, bad6, 6, tcp(1, 2))));
    w.add(t0 + 54000, null_hdr(30, ipv6(node6, bad6, 6, tcp(1, 2)), true));
    w.add(t0 + 55000, null_hdr(7, Bytes(20, 0)));  // another family
  }
  {
    PcapWriter w(dir + "/loop.pcap", DLT_LOOP);
    w.add(t0 + 56000, null_hdr(2, ipv4(bad, node, 17, udp(53, 1)), true));
    w.add(t0 + 57000, null_hdr(24, ipv6(bad6, node6, 17, udp(53, 1)), true));
  }
  // Fragments: a 3-fragment IPv4 datagram to 203.0.113.7 (ports in the first only) and a
  // 2-fragment IPv6 one to 2001:db8:bad::1.
  {
    PcapWriter w(dir + "/frag.pcap", DLT_EN10MB);
    Bytes l4 = transport(17, 7000, 7001, 1472);
    Bytes first(l4.begin(), l4.begin() + 1480);
    w.add(t0 + 60000, ether(0x0800, ipv4(node, bad, 17, first, Ip4Opts{0, true})));
    w.add(t0 + 60001, ether(0x0800, ipv4(node, bad, 17, Bytes(1480, 0), Ip4Opts{185, true})));
    w.add(t0 + 60002, ether(0x0800, ipv4(node, bad, 17, Bytes(40, 0), Ip4Opts{370, false})));
    Bytes u6 = transport(17, 7002, 7003, 100);
    w.add(t0 + 60003, ether(0x86dd, ipv6(node6, bad6, 0, Bytes(u6.begin(), u6.begin() + 64),
                                         ipv6_frag_header(17, 0, true), 44)));
    w.add(t0 + 60004, ether(0x86dd, ipv6(node6, bad6, 0, Bytes(u6.begin() + 64, u6.end()),
                                         ipv6_frag_header(17, 8, false), 44)));
  }
  // Truncated snaplen: 30 bytes keep Ethernet and 16 bytes of IPv4 (no destination address);
  // 34 keep the addresses but not the ports.
  {
    PcapWriter w(dir + "/trunc30.pcap", DLT_EN10MB, 30);
    w.add(t0 + 70000, ether(0x0800, ipv4(node, bad, 6, tcp(40009, 443))));
  }
  {
    PcapWriter w(dir + "/trunc34.pcap", DLT_EN10MB, 34);
    w.add(t0 + 71000, ether(0x0800, ipv4(node, bad, 6, tcp(40010, 443))));
    w.add(t0 + 71001, ether(0x0800, ipv4(node, clean, 6, tcp(40010, 443))));
  }
  // Malformed: IHL 3 and a total length below the header; both to 203.0.113.7, neither matches.
  {
    PcapWriter w(dir + "/malformed.pcap", DLT_EN10MB);
    w.add(t0 + 72000, ether(0x0800, ipv4(node, bad, 6, tcp(1, 2), Ip4Opts{0, false, 3})));
    w.add(t0 + 72001, ether(0x0800, ipv4(node, bad, 6, tcp(1, 2), Ip4Opts{0, false, 5, 12})));
  }
  // Nanosecond timestamps.
  {
    PcapWriter w(dir + "/nano.pcap", DLT_EN10MB, 65535, true);
    w.add(t0 * 1000 + 80000123, ether(0x0800, ipv4(node, bad, 6, tcp(40011, 443))));
  }
  // A link type the scanner does not read (802.11 radiotap): skipped by type, never misread.
  {
    PcapWriter w(dir + "/radiotap.pcap", DLT_IEEE802_11_RADIO);
    w.add(t0 + 90000, Bytes(64, 0));
    w.add(t0 + 90001, Bytes(64, 0));
  }
  // pcapng: two interfaces with different link types (Ethernet, Linux cooked v2) and timestamp
  // resolutions, an unknown block, then a big-endian section with raw IP and a simple packet block.
  {
    PcapngBuilder b(false);
    b.interface(DLT_EN10MB, 65535);          // microseconds
    b.interface(DLT_LINUX_SLL2, 262144, 9);  // nanoseconds
    b.packet(0, uint64_t(t0 + 100000), ether(0x0800, ipv4(node, bad, 6, tcp(40012, 443))));
    b.other(0x0badcafe, 20);  // unknown block type: skipped
    b.packet(1, uint64_t(t0 + 101000) * 1000, sll2(0x0800, ipv4(bad, node, 6, tcp(443, 40012))));
    b.other(4, 4, 0);  // name resolution block with only its end record
    b.section(true);
    b.interface(101, 65535, 0x80 | 20);  // raw IP, 2^-20 s
    b.packet(0, uint64_t((t0 + 102000) / 1000000) << 20, ipv6(node6, bad6, 17, udp(9, 9)));
    b.simple_packet(ipv4(node, net, 17, udp(9, 9)));
    b.save(dir + "/multi.pcapng");
  }
}

// Mixed traffic between 10.x nodes and a pool of outside addresses. The first 10 indicators of
// `iocs` are outside addresses used by about 1 packet in 100.
constexpr uint32_t kPoolSize = 200000;
uint32_t outside(uint64_t i) {  // 1.0.0.0 - 99.255.255.255, never 100.64/10 or 198.18/15
  return v4("1.0.0.0") + uint32_t((i * 2654435761u) % (99u << 24));
}
uint32_t hot(int k) {
  return outside(uint64_t(k) * 7919 % kPoolSize);
}

void bench(const std::string& out, uint64_t n, int snaplen) {
  PcapWriter w(out, DLT_EN10MB, snaplen);
  Rng r{42};
  const V6 n6 = v6("fd00::1");
  V6 o6 = v6("2001:db8:1::1");
  int64_t ts = 1732090502000000;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t x = r.next();
    uint32_t node = v4("10.0.0.0") | uint32_t(x & 0xffff);
    uint32_t far = (x >> 16) % 100 == 0 ? hot(int((x >> 24) % 10)) : outside((x >> 20) % kPoolSize);
    int kind = int((x >> 40) % 100);
    size_t payload = kind < 40 ? 0 : kind < 75 ? 1400 : kind < 90 ? 300 : 100;
    bool out_dir = (x >> 50) & 1;
    Bytes frame;
    if (kind < 92) {
      uint8_t proto = kind % 3 ? 6 : 17;
      Bytes l4 = transport(proto, out_dir ? 40000 + (x & 0x3fff) : 443,
                           out_dir ? 443 : 40000 + (x & 0x3fff), payload);
      Bytes ip = out_dir ? ipv4(node, far, proto, l4) : ipv4(far, node, proto, l4);
      frame = (x >> 52) % 8 == 0 ? ether(0x0800, ip, {0x8100}) : ether(0x0800, ip);
    } else if (kind < 98) {
      o6.b[15] = uint8_t(x >> 56);
      frame = ether(0x86dd, ipv6(n6, o6, 6, transport(6, 40000, 443, payload)));
    } else {
      frame = ether(0x0806, Bytes(28, 0));
    }
    ts += int64_t(x % 50);
    w.add(ts, frame);
  }
}

// Every packet to one victim (hot address 0, so the `iocs` file's first indicator matches them
// all): 60 % TCP SYNs to port 80, 40 % UDP "amplification" replies of 512 bytes from port 53,
// each from a random spoofed source. 1 in 8 VLAN-tagged.
void ddos(const std::string& out, uint64_t n) {
  PcapWriter w(out, DLT_EN10MB, 65535);
  Rng r{7};
  const uint32_t victim = hot(0);
  int64_t ts = 1732090502000000;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t x = r.next();
    uint32_t src = uint32_t(x >> 32);
    bool syn = (x & 0xff) < 154;
    Bytes l4 = syn ? transport(6, uint16_t(1024 + (x >> 8) % 60000), 80, 0)
                   : transport(17, 53, uint16_t(1024 + (x >> 8) % 60000), 512);
    Bytes ip = ipv4(src, victim, syn ? 6 : 17, l4);
    w.add(ts, (x >> 24) % 8 == 0 ? ether(0x0800, ip, {0x8100}) : ether(0x0800, ip));
    ts += int64_t(x % 4);
  }
}

std::string dotted(uint32_t a) {
  char b[16];
  std::snprintf(b, sizeof b, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
  return b;
}

// Indicator i: the 10 hot ones first, then addresses in 100.64.0.0/10 and 198.18.0.0/15 (never
// in the traffic), one in 20 of them a /24 or /16 network and one in 50 IPv6.
std::string indicator(uint64_t i) {
  if (i < 10) return dotted(hot(int(i)));
  uint64_t j = i - 10;
  if (j % 50 == 49) {
    char b[64];
    std::snprintf(b, sizeof b, "2001:db8:ffff:%x::%x", unsigned(j >> 16), unsigned(j & 0xffff));
    return b;
  }
  uint32_t base = (j & 1) ? v4("198.18.0.0") + uint32_t(j % (1u << 17))
                          : v4("100.64.0.0") + uint32_t((j * 40503u) % (1u << 22));
  if (j % 20 == 19) return dotted(base & 0xffffff00u) + "/24";
  if (j % 200 == 199) return dotted(base & 0xffff0000u) + "/16";
  return dotted(base);
}

// N indicators matching about `pct` % of the bench traffic (see the usage above).
void iocs_rate(const std::string& out, uint64_t n, double pct) {
  std::ofstream o(out);
  uint64_t written = 0;
  if (pct > 0) {
    for (int k = 0; k < 10 && written < n; ++k, ++written) o << dotted(hot(k)) << "\n";
    // 92 % of the packets are IPv4 with a node address 10.0.x.y, x.y uniform: a /24 holds 1/256.
    int nets = int(std::lround(std::max(0.0, pct - 0.92) / 92.0 * 256.0));
    for (int k = 0; k < nets && k < 256 && written < n; ++k, ++written)
      o << "10.0." << k << ".0/24\n";
  }
  for (uint64_t i = 10; written < n; ++i, ++written) o << indicator(i) << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  try {
    if (cmd == "samples" && argc == 3) {
      samples(argv[2]);
    } else if (cmd == "bench" && (argc == 4 || argc == 5)) {
      bench(argv[2], std::strtoull(argv[3], nullptr, 10), argc == 5 ? std::atoi(argv[4]) : 65535);
    } else if (cmd == "ddos" && argc == 4) {
      ddos(argv[2], std::strtoull(argv[3], nullptr, 10));
    } else if (cmd == "iocs-rate" && argc == 5) {
      iocs_rate(argv[2], std::strtoull(argv[3], nullptr, 10), std::atof(argv[4]));
    } else if (cmd == "hosts" && argc >= 4) {
      PcapWriter w(argv[2], DLT_EN10MB);
      int64_t ts = 1732090502000000;
      for (int k = 3; k < argc; ++k) {
        std::string a = argv[k];
        if (a.find(':') != std::string::npos) {
          V6 n = v6("fd00::10"), x = v6(a.c_str());
          w.add(ts++, ether(0x86dd, ipv6(n, x, 6, transport(6, 40000, 443, 10))));
          w.add(ts++, ether(0x86dd, ipv6(x, n, 6, transport(6, 443, 40000, 10))));
        } else {
          uint32_t n = v4("10.1.2.3"), x = v4(a.c_str());
          w.add(ts++, ether(0x0800, ipv4(n, x, 6, transport(6, 40000, 443, 10))));
          w.add(ts++, ether(0x0800, ipv4(x, n, 6, transport(6, 443, 40000, 10))));
        }
      }
    } else if ((cmd == "iocs" || cmd == "bpf") && argc == 4) {
      std::ofstream o(argv[2]);
      uint64_t n = std::strtoull(argv[3], nullptr, 10);
      if (cmd == "iocs") {
        for (uint64_t i = 0; i < n; ++i) o << indicator(i) << "\n";
      } else {
        // tcpdump's equivalent: plain hosts only (IPv4), first the hot ones.
        uint64_t written = 0;
        for (uint64_t i = 0; written < n; ++i) {
          std::string v = indicator(i);
          if (v.find('/') != std::string::npos || v.find(':') != std::string::npos) continue;
          o << (written ? " or " : "") << "host " << v;
          ++written;
        }
        o << "\n";
      }
    } else {
      std::fprintf(stderr,
                   "usage: forage_pcap_gen samples DIR | bench OUT N [SNAPLEN] | ddos OUT N | iocs "
                   "OUT N | iocs-rate OUT N PCT | bpf OUT N | hosts OUT ADDR...\n");
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "forage_pcap_gen: %s\n", e.what());
    return 1;
  }
  return 0;
}
