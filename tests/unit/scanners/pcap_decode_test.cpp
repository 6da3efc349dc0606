// Link-layer and IP decoding of the capture scanner, on frames built byte by byte.
#include "scanners/pcap_decode.h"

#include <pcap/pcap.h>

#include <random>

#include <gtest/gtest.h>

#include "tests/tools/pcap_frames.h"

using namespace forage::scanners::pcap;
using namespace forage::testing;

namespace {

const uint32_t kA = v4("10.1.2.3"), kB = v4("203.0.113.7");
const V6 kA6 = v6("fd00::10"), kB6 = v6("2001:db8:bad::1");

// Decodes from an exactly-sized heap copy, so AddressSanitizer sees any read past caplen.
Decoded run(int linktype, const Bytes& frame, PacketInfo& info, size_t caplen = SIZE_MAX) {
  size_t n = std::min(caplen, frame.size());
  std::unique_ptr<uint8_t[]> copy(new uint8_t[n ? n : 1]);
  if (n) std::memcpy(copy.get(), frame.data(), n);
  info = PacketInfo{};
  return decode(linktype, copy.get(), n, info);
}

Bytes tcp4() { return ipv4(kA, kB, 6, transport(6, 40000, 443, 4)); }
Bytes udp6() { return ipv6(kA6, kB6, 17, transport(17, 5353, 53, 4)); }

void expect_tcp4(const PacketInfo& i) {
  EXPECT_EQ(i.version, 4);
  EXPECT_EQ(i.src4, kA);
  EXPECT_EQ(i.dst4, kB);
  EXPECT_EQ(i.proto, 6);
  EXPECT_TRUE(i.has_ports);
  EXPECT_EQ(i.sport, 40000);
  EXPECT_EQ(i.dport, 443);
  EXPECT_FALSE(i.fragment);
}

void expect_udp6(const PacketInfo& i) {
  EXPECT_EQ(i.version, 6);
  EXPECT_EQ(std::memcmp(i.src6, kA6.b, 16), 0);
  EXPECT_EQ(std::memcmp(i.dst6, kB6.b, 16), 0);
  EXPECT_EQ(i.proto, 17);
  EXPECT_TRUE(i.has_ports);
  EXPECT_EQ(i.sport, 5353);
  EXPECT_EQ(i.dport, 53);
}

}  // namespace

TEST(PcapDecode, EthernetIpv4AndIpv6) {
  PacketInfo i;
  ASSERT_EQ(run(kLinkEthernet, ether(0x0800, tcp4()), i), Decoded::kIp);
  expect_tcp4(i);
  EXPECT_EQ(i.vlan_tags, 0);
  ASSERT_EQ(run(kLinkEthernet, ether(0x86dd, udp6()), i), Decoded::kIp);
  expect_udp6(i);
}

TEST(PcapDecode, VlanAndQinQ) {
  PacketInfo i;
  for (std::vector<uint16_t> tags : {std::vector<uint16_t>{0x8100},
                                     {0x88a8, 0x8100},
                                     {0x9100, 0x8100},
                                     {0x88a8, 0x88a8, 0x8100}}) {
    ASSERT_EQ(run(kLinkEthernet, ether(0x0800, tcp4(), tags), i), Decoded::kIp);
    expect_tcp4(i);
    EXPECT_EQ(i.vlan_tags, tags.size());
  }
  ASSERT_EQ(run(kLinkEthernet, ether(0x86dd, udp6(), {0x8100}), i), Decoded::kIp);
  expect_udp6(i);
  // A tag cut short, and an endless stack of tags.
  Bytes tagged = ether(0x0800, tcp4(), {0x88a8, 0x8100});
  EXPECT_EQ(run(kLinkEthernet, tagged, i, 16), Decoded::kTruncated);
  EXPECT_EQ(run(kLinkEthernet, ether(0x0800, tcp4(), std::vector<uint16_t>(9, 0x8100)), i),
            Decoded::kMalformed);
}

TEST(PcapDecode, NotIpIsReportedWithItsType) {
  PacketInfo i;
  EXPECT_EQ(run(kLinkEthernet, ether(0x0806, Bytes(28, 0)), i), Decoded::kNotIp);
  EXPECT_EQ(i.ethertype, 0x0806);
  EXPECT_EQ(run(kLinkEthernet, ether(0x0800 - 0x0700, Bytes(46, 0)), i), Decoded::kNotIp);  // 802.3
  EXPECT_EQ(run(kLinkEthernet, ether(0x88cc, Bytes(46, 0), {0x8100}), i), Decoded::kNotIp);
  EXPECT_EQ(i.ethertype, 0x88cc);
}

TEST(PcapDecode, MplsAndPppoe) {
  PacketInfo i;
  Bytes labels;
  put32(labels, 16000u << 12 | 0x40);        // label, not bottom of stack
  put32(labels, 17000u << 12 | 0x100 | 0x40);  // bottom of stack
  ASSERT_EQ(run(kLinkEthernet, ether(0x8847, cat(labels, tcp4())), i), Decoded::kIp);
  expect_tcp4(i);
  // A pseudowire control word after the stack is not IP.
  Bytes pw = labels;
  put32(pw, 0);
  EXPECT_EQ(run(kLinkEthernet, ether(0x8847, cat(pw, Bytes(60, 0))), i), Decoded::kNotIp);
  Bytes pppoe{0x11, 0x00, 0x12, 0x34, 0x00, 0x40};
  put16(pppoe, 0x0057);
  ASSERT_EQ(run(kLinkEthernet, ether(0x8864, cat(pppoe, udp6())), i), Decoded::kIp);
  expect_udp6(i);
}

TEST(PcapDecode, LinuxCookedV1AndV2) {
  PacketInfo i;
  ASSERT_EQ(run(kLinkSll, sll(0x0800, tcp4()), i), Decoded::kIp);
  expect_tcp4(i);
  ASSERT_EQ(run(kLinkSll2, sll2(0x86dd, udp6()), i), Decoded::kIp);
  expect_udp6(i);
  ASSERT_EQ(run(kLinkSll2, sll2(0x8100, cat(Bytes{0x00, 0x64, 0x08, 0x00}, tcp4())), i),
            Decoded::kIp);
  expect_tcp4(i);
  // Netlink monitor captures: the protocol field is a netlink family, never an ethertype.
  EXPECT_EQ(run(kLinkSll, sll(0x0800, tcp4(), 824), i), Decoded::kNotIp);
  EXPECT_EQ(run(kLinkSll2, sll2(0x0800, tcp4(), 824), i), Decoded::kNotIp);
  EXPECT_EQ(run(kLinkSll2, sll2(0x0800, tcp4()), i, 19), Decoded::kTruncated);
}

TEST(PcapDecode, RawIp) {
  PacketInfo i;
  for (int lt : {kLinkRaw, 12, 14}) {
    ASSERT_EQ(run(lt, tcp4(), i), Decoded::kIp) << lt;
    expect_tcp4(i);
    ASSERT_EQ(run(lt, udp6(), i), Decoded::kIp) << lt;
    expect_udp6(i);
    Bytes v5 = tcp4();
    v5[0] = 0x55;
    EXPECT_EQ(run(lt, v5, i), Decoded::kMalformed);
  }
  ASSERT_EQ(run(kLinkIpv4, tcp4(), i), Decoded::kIp);
  expect_tcp4(i);
  ASSERT_EQ(run(kLinkIpv6, udp6(), i), Decoded::kIp);
  expect_udp6(i);
  EXPECT_EQ(run(kLinkIpv6, tcp4(), i), Decoded::kMalformed);
  // Behind an IPv4 type, an IPv6 packet is read as IPv6 (as Wireshark does).
  ASSERT_EQ(run(kLinkIpv4, udp6(), i), Decoded::kIp);
  expect_udp6(i);
}

TEST(PcapDecode, BsdLoopbackBothByteOrders) {
  PacketInfo i;
  for (bool be : {false, true}) {
    ASSERT_EQ(run(kLinkNull, null_hdr(2, tcp4(), be), i), Decoded::kIp);
    expect_tcp4(i);
    for (uint32_t af : {24u, 28u, 30u}) {
      ASSERT_EQ(run(kLinkNull, null_hdr(af, udp6(), be), i), Decoded::kIp) << af;
      expect_udp6(i);
    }
    EXPECT_EQ(run(kLinkNull, null_hdr(7, Bytes(20, 0), be), i), Decoded::kNotIp);
  }
  ASSERT_EQ(run(kLinkLoop, null_hdr(2, tcp4(), true), i), Decoded::kIp);
  expect_tcp4(i);
  ASSERT_EQ(run(kLinkLoop, null_hdr(30, udp6(), true), i), Decoded::kIp);
  expect_udp6(i);
  EXPECT_EQ(run(kLinkLoop, null_hdr(2, tcp4(), true), i, 3), Decoded::kTruncated);
}

TEST(PcapDecode, Ipv4FragmentsHavePortsOnlyInTheFirst) {
  PacketInfo i;
  Bytes l4 = transport(17, 7000, 7001, 100);
  ASSERT_EQ(run(kLinkRaw, ipv4(kA, kB, 17, l4, Ip4Opts{0, true}), i), Decoded::kIp);
  EXPECT_TRUE(i.fragment);
  EXPECT_TRUE(i.has_ports);
  EXPECT_EQ(i.dport, 7001);
  // A later fragment begins with payload bytes that must not be read as ports.
  Bytes later = transport(17, 1111, 2222, 100);
  ASSERT_EQ(run(kLinkRaw, ipv4(kA, kB, 17, later, Ip4Opts{13, false}), i), Decoded::kIp);
  EXPECT_TRUE(i.fragment);
  EXPECT_FALSE(i.has_ports);
  EXPECT_EQ(i.proto, 17);
  EXPECT_EQ(i.src4, kA);
}

TEST(PcapDecode, Ipv6ExtensionHeadersAndFragments) {
  PacketInfo i;
  Bytes l4 = transport(6, 40000, 443, 0);
  // hop-by-hop (8 bytes) -> destination options (16 bytes) -> TCP
  Bytes ext{60, 0, 1, 4, 0, 0, 0, 0};
  Bytes dst{6, 1};
  dst.resize(16, 0);
  ASSERT_EQ(run(kLinkRaw, ipv6(kA6, kB6, 6, l4, cat(ext, dst), 0), i), Decoded::kIp);
  EXPECT_EQ(i.proto, 6);
  EXPECT_TRUE(i.has_ports);
  EXPECT_EQ(i.dport, 443);
  ASSERT_EQ(run(kLinkRaw, ipv6(kA6, kB6, 6, l4, ipv6_frag_header(6, 0, true), 44), i),
            Decoded::kIp);
  EXPECT_TRUE(i.fragment);
  EXPECT_TRUE(i.has_ports);
  ASSERT_EQ(run(kLinkRaw, ipv6(kA6, kB6, 6, l4, ipv6_frag_header(6, 100, false), 44), i),
            Decoded::kIp);
  EXPECT_TRUE(i.fragment);
  EXPECT_FALSE(i.has_ports);
  EXPECT_EQ(i.proto, 6);
  // An extension header whose length runs past the packet: addresses, no ports.
  Bytes runaway{6, 255, 0, 0, 0, 0, 0, 0};
  ASSERT_EQ(run(kLinkRaw, ipv6(kA6, kB6, 6, l4, runaway, 0), i), Decoded::kIp);
  EXPECT_FALSE(i.has_ports);
}

TEST(PcapDecode, MalformedIpv4) {
  PacketInfo i;
  EXPECT_EQ(run(kLinkRaw, ipv4(kA, kB, 6, transport(6, 1, 2, 0), Ip4Opts{0, false, 3}), i),
            Decoded::kMalformed);
  EXPECT_EQ(run(kLinkRaw, ipv4(kA, kB, 6, transport(6, 1, 2, 0), Ip4Opts{0, false, 5, 12}), i),
            Decoded::kMalformed);
  // Total length 0: what a sender with segmentation offload records. Still IPv4.
  ASSERT_EQ(run(kLinkRaw, ipv4(kA, kB, 6, transport(6, 1, 2, 0), Ip4Opts{0, false, 5, 0}), i),
            Decoded::kIp);
  EXPECT_TRUE(i.has_ports);
  // Header options (IHL 6) move the ports.
  ASSERT_EQ(run(kLinkRaw, ipv4(kA, kB, 17, transport(17, 9, 10, 0), Ip4Opts{0, false, 6}), i),
            Decoded::kIp);
  EXPECT_EQ(i.sport, 9);
  EXPECT_EQ(i.dport, 10);
}

TEST(PcapDecode, EveryTruncationIsSafe) {
  struct Case {
    int lt;
    Bytes frame;
    size_t addr_end;  // bytes needed for both addresses
    size_t port_end;  // bytes needed for the ports
  };
  std::vector<Case> cases = {
      {kLinkEthernet, ether(0x0800, tcp4()), 14 + 20, 14 + 24},
      {kLinkEthernet, ether(0x86dd, udp6(), {0x88a8, 0x8100}), 22 + 40, 22 + 44},
      {kLinkSll, sll(0x0800, tcp4()), 16 + 20, 16 + 24},
      {kLinkSll2, sll2(0x86dd, udp6()), 20 + 40, 20 + 44},
      {kLinkNull, null_hdr(2, tcp4()), 4 + 20, 4 + 24},
      {kLinkRaw, udp6(), 40, 44},
  };
  for (const auto& c : cases) {
    for (size_t n = 0; n <= c.frame.size(); ++n) {
      PacketInfo i;
      Decoded d = run(c.lt, c.frame, i, n);
      if (n < c.addr_end) {
        EXPECT_EQ(d, Decoded::kTruncated) << c.lt << " caplen " << n;
      } else {
        ASSERT_EQ(d, Decoded::kIp) << c.lt << " caplen " << n;
        EXPECT_EQ(i.has_ports, n >= c.port_end) << c.lt << " caplen " << n;
      }
    }
  }
}

TEST(PcapDecode, OtherLinkTypesAreNotRead) {
  PacketInfo i;
  EXPECT_EQ(run(DLT_IEEE802_11_RADIO, ether(0x0800, tcp4()), i), Decoded::kUnsupportedLink);
  EXPECT_EQ(run(DLT_PPP, tcp4(), i), Decoded::kUnsupportedLink);
  EXPECT_FALSE(linktype_supported(DLT_IEEE802_11_RADIO));
  EXPECT_TRUE(linktype_supported(kLinkSll2));
  EXPECT_EQ(linktype_name(kLinkEthernet), "EN10MB");
  EXPECT_EQ(linktype_name(kLinkRaw), "RAW");
  EXPECT_EQ(linktype_name(kLinkSll2), "LINUX_SLL2");
  EXPECT_EQ(linktype_name(60000), "LINKTYPE_60000");
  EXPECT_EQ(linktype_from_dlt(DLT_RAW), kLinkRaw);
  EXPECT_EQ(dlt_from_linktype(kLinkRaw), DLT_RAW);
}

TEST(PcapDecode, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20000; ++round) {
    Bytes b(rng() % 96);
    for (auto& x : b) x = uint8_t(rng());
    // Often start with a plausible header so the deeper paths run too.
    if (b.size() > 20 && round % 2) b[12] = 0x08, b[13] = (round % 4) ? 0x00 : 0x86;
    for (int lt : {kLinkNull, kLinkEthernet, kLinkRaw, kLinkLoop, kLinkSll, kLinkIpv4, kLinkIpv6,
                   kLinkSll2}) {
      PacketInfo i;
      Decoded d = run(lt, b, i);
      if (d == Decoded::kIp) {
        EXPECT_TRUE(i.version == 4 || i.version == 6);
      }
    }
  }
}
