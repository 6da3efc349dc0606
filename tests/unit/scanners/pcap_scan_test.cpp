// The capture scanner end to end on captures written here with libpcap (pcap_open_dead +
// pcap_dump_open) or block by block (pcapng): matching, statistics, time order, --write-matches,
// gzip, and damaged input.
#include "scanners/pcap_scan.h"

#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "common/error.h"
#include "scanners/pcap_source.h"
#include "tests/tools/pcap_frames.h"

using namespace forage;
using namespace forage::testing;
using forage::scanners::Json;
using forage::scanners::PcapScanOptions;

namespace {

const uint32_t kNode = v4("10.1.2.3"), kBad = v4("203.0.113.7"), kNet = v4("198.51.100.42"),
               kClean = v4("192.0.2.10");
const V6 kNode6 = v6("fd00::10"), kBad6 = v6("2001:db8:bad::1");
const int64_t kT0 = 1732090502000000;  // 2024-11-20T08:15:02Z, microseconds

Bytes tcp(uint32_t s, uint32_t d, uint16_t sp, uint16_t dp, size_t payload = 10) {
  return ipv4(s, d, 6, transport(6, sp, dp, payload));
}

ioc::IocSet iocs() {
  ioc::IocSet set;
  auto add = [&](ioc::Type t, const char* v, size_t line) {
    ioc::Indicator i;
    i.type = t;
    i.value = v;
    i.source.file = "broadcast.txt";
    i.source.line = line;
    i.tlp = "TLP:AMBER";
    set.add(i);
  };
  add(ioc::Type::kIpv4, "203.0.113.7", 1);
  add(ioc::Type::kCidr, "198.51.100.0/24", 2);
  add(ioc::Type::kIpv6, "2001:db8:bad::1", 3);
  add(ioc::Type::kDomain, "evil.example.com", 4);
  return set;
}

struct Result {
  int exit = -1;
  std::vector<Json> findings;
  Json summary;
  std::string error;  // forage::Error message when the scan threw
};

Result scan(PcapScanOptions o, const ioc::IocSet& set = iocs()) {
  Result r;
  std::FILE* out = std::tmpfile();
  {
    scanners::Reporter report(true, out);
    try {
      scanners::PcapResult res = scanners::scan_pcap(o, set, report);
      report.summary(res.summary);
      r.exit = static_cast<int>(report.exit_code(res.incomplete));
    } catch (const Error& e) {
      r.error = e.what();
      r.exit = static_cast<int>(e.code());
    }
  }
  std::rewind(out);
  char line[1 << 16];
  while (std::fgets(line, sizeof line, out)) {
    Json j = Json::parse(line);
    if (j["kind"] == "summary")
      r.summary = j;
    else
      r.findings.push_back(j);
  }
  std::fclose(out);
  return r;
}

const Json* finding_for(const Result& r, const std::string& value) {
  for (const auto& f : r.findings)
    if (f["ioc"]["value"] == value) return &f;
  return nullptr;
}

class PcapScan : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("forage-pcap-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string bytes_of(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void write_bytes(const std::string& p, const std::string& b) {
    std::ofstream(p, std::ios::binary).write(b.data(), std::streamsize(b.size()));
  }
  void gzip(const std::string& from, const std::string& to) {
    std::string b = bytes_of(from);
    gzFile g = gzopen(to.c_str(), "wb");
    ASSERT_NE(g, nullptr);
    ASSERT_EQ(gzwrite(g, b.data(), unsigned(b.size())), int(b.size()));
    gzclose(g);
  }

  // Three packets to/from 203.0.113.7, one to the /24, one clean, one ARP.
  std::string ethernet_capture(const std::string& name, int64_t t0 = kT0) {
    std::string p = path(name);
    PcapWriter w(p, DLT_EN10MB);
    w.add(t0, ether(0x0800, tcp(kNode, kBad, 40000, 443)));
    w.add(t0 + 1500, ether(0x0800, tcp(kBad, kNode, 443, 40000, 100)));
    w.add(t0 + 2000000, ether(0x0800, tcp(kNode, kBad, 40001, 443)));
    w.add(t0 + 3000000, ether(0x0800, ipv4(kNode, kNet, 17, transport(17, 5353, 53, 20))));
    w.add(t0 + 4000000, ether(0x0800, tcp(kNode, kClean, 1, 2)));
    w.add(t0 + 5000000, ether(0x0806, Bytes(28, 0)));
    return p;
  }

  std::filesystem::path dir_;
};

}  // namespace

TEST_F(PcapScan, OneFindingPerIndicatorWithItsStatistics) {
  PcapScanOptions o;
  o.inputs = {ethernet_capture("a.pcap")};
  Result r = scan(o);
  ASSERT_EQ(r.exit, 1) << r.error;
  ASSERT_EQ(r.findings.size(), 2u);
  const Json* f = finding_for(r, "203.0.113.7");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ((*f)["kind"], "ioc");
  EXPECT_EQ((*f)["pcap"], Json::array({o.inputs[0]}));
  EXPECT_EQ((*f)["ioc"]["type"], "ipv4");
  EXPECT_EQ((*f)["ioc"]["source"], "broadcast.txt:1");
  EXPECT_EQ((*f)["ioc"]["tlp"], "TLP:AMBER");
  EXPECT_EQ((*f)["first_seen"], "2024-11-20T08:15:02.000000Z");
  EXPECT_EQ((*f)["last_seen"], "2024-11-20T08:15:04.000000Z");
  EXPECT_EQ((*f)["packets"], 3);
  EXPECT_EQ((*f)["to_ioc"]["packets"], 2);
  EXPECT_EQ((*f)["from_ioc"]["packets"], 1);
  // 14 Ethernet + 20 IPv4 + 20 TCP + payload
  EXPECT_EQ((*f)["to_ioc"]["bytes"], 2 * (54 + 10));
  EXPECT_EQ((*f)["from_ioc"]["bytes"], 54 + 100);
  EXPECT_EQ((*f)["protocols"], Json({{"tcp", 3}}));
  EXPECT_EQ((*f)["ioc_ports"], Json::array({443}));
  ASSERT_EQ((*f)["peers"].size(), 1u);
  EXPECT_EQ((*f)["peers"][0]["ip"], "10.1.2.3");
  EXPECT_EQ((*f)["peers"][0]["packets"], 3);
  EXPECT_EQ((*f)["peers"][0]["ports"], Json::array({40000, 40001}));
  EXPECT_FALSE(f->contains("ioc_addresses"));

  const Json* net = finding_for(r, "198.51.100.0/24");
  ASSERT_NE(net, nullptr);
  EXPECT_EQ((*net)["ioc_addresses"], Json::array({"198.51.100.42"}));
  EXPECT_EQ((*net)["protocols"], Json({{"udp", 1}}));
  EXPECT_EQ((*net)["ioc_ports"], Json::array({53}));

  // The timeline: findings in order of first appearance.
  EXPECT_EQ(r.findings[0]["ioc"]["value"], "203.0.113.7");

  const Json& s = r.summary;
  EXPECT_EQ(s["packets_total"], 6);
  EXPECT_EQ(s["packets_matched"], 4);
  EXPECT_EQ(s["packets_ip"], 5);
  EXPECT_EQ(s["link_types"], Json({{"EN10MB", 6}}));
  EXPECT_EQ(s["packets_skipped"], Json({{"not ip", 1}}));
  EXPECT_EQ(s["indicators"], 3);
  EXPECT_EQ(s["iocs_ignored"], 1);
  EXPECT_EQ(s["findings"], 2);
  EXPECT_EQ(s["errors"], Json::array());
}

TEST_F(PcapScan, NothingFoundIsExitZero) {
  std::string p = path("clean.pcap");
  {
    PcapWriter w(p, DLT_EN10MB);
    w.add(kT0, ether(0x0800, tcp(kNode, kClean, 1, 2)));
  }
  PcapScanOptions o;
  o.inputs = {p};
  Result r = scan(o);
  EXPECT_EQ(r.exit, 0);
  EXPECT_TRUE(r.findings.empty());
  EXPECT_EQ(r.summary["packets_total"], 1);
  EXPECT_EQ(r.summary["packets_matched"], 0);
}

TEST_F(PcapScan, EveryLinkTypeFindsTheSameTraffic) {
  struct Case {
    const char* name;
    int dlt;
    Bytes v4frame, v6frame;
  };
  Bytes t4 = tcp(kNode, kBad, 40000, 443);
  Bytes t6 = ipv6(kNode6, kBad6, 17, transport(17, 5000, 53, 8));
  std::vector<Case> cases = {
      {"eth", DLT_EN10MB, ether(0x0800, t4), ether(0x86dd, t6)},
      {"vlan", DLT_EN10MB, ether(0x0800, t4, {0x8100}), ether(0x86dd, t6, {0x8100})},
      {"qinq", DLT_EN10MB, ether(0x0800, t4, {0x88a8, 0x8100}),
       ether(0x86dd, t6, {0x9100, 0x8100})},
      {"sll", DLT_LINUX_SLL, sll(0x0800, t4), sll(0x86dd, t6)},
      {"sll2", DLT_LINUX_SLL2, sll2(0x0800, t4), sll2(0x86dd, t6)},
      {"raw", DLT_RAW, t4, t6},
      {"null", DLT_NULL, null_hdr(2, t4), null_hdr(30, t6, true)},
      {"loop", DLT_LOOP, null_hdr(2, t4, true), null_hdr(24, t6, true)},
  };
  for (const auto& c : cases) {
    std::string p = path(std::string(c.name) + ".pcap");
    {
      PcapWriter w(p, c.dlt);
      w.add(kT0, c.v4frame);
      w.add(kT0 + 1, c.v6frame);
    }
    PcapScanOptions o;
    o.inputs = {p};
    Result r = scan(o);
    EXPECT_EQ(r.exit, 1) << c.name << " " << r.error;
    EXPECT_EQ(r.summary["packets_matched"], 2) << c.name;
    ASSERT_EQ(r.findings.size(), 2u) << c.name;
    const Json* f6 = finding_for(r, "2001:db8:bad::1");
    ASSERT_NE(f6, nullptr) << c.name;
    EXPECT_EQ((*f6)["peers"][0]["ip"], "fd00::10") << c.name;
    EXPECT_EQ((*f6)["ioc_ports"], Json::array({53})) << c.name;
  }
  // Raw IPv4 and IPv6 link types.
  for (auto [dlt, frame] : {std::pair<int, Bytes>{DLT_IPV4, t4}, {DLT_IPV6, t6}}) {
    std::string p = path("ipv" + std::to_string(dlt) + ".pcap");
    {
      PcapWriter w(p, dlt);
      w.add(kT0, frame);
    }
    PcapScanOptions o;
    o.inputs = {p};
    EXPECT_EQ(scan(o).summary["packets_matched"], 1) << dlt;
  }
}

TEST_F(PcapScan, FragmentsAndTruncatedSnaplen) {
  std::string frag = path("frag.pcap");
  {
    PcapWriter w(frag, DLT_EN10MB);
    w.add(kT0,
          ether(0x0800, ipv4(kNode, kBad, 17, transport(17, 7000, 7001, 100), Ip4Opts{0, true})));
    // Looks like ports 1111 -> 2222 but is payload of a later fragment.
    w.add(kT0 + 1,
          ether(0x0800, ipv4(kNode, kBad, 17, transport(17, 1111, 2222, 8), Ip4Opts{14, false})));
  }
  PcapScanOptions o;
  o.inputs = {frag};
  Result r = scan(o);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0]["packets"], 2);
  EXPECT_EQ(r.findings[0]["ioc_ports"], Json::array({7001}));
  EXPECT_EQ(r.findings[0]["peers"][0]["ports"], Json::array({7000}));
  EXPECT_EQ(r.summary["fragments"], 2);

  // Snap length 30 cuts the IPv4 header before the destination; 34 keeps both addresses.
  std::string t30 = path("t30.pcap"), t34 = path("t34.pcap");
  {
    PcapWriter w(t30, DLT_EN10MB, 30);
    w.add(kT0, ether(0x0800, tcp(kNode, kBad, 1, 443)));
  }
  {
    PcapWriter w(t34, DLT_EN10MB, 34);
    w.add(kT0, ether(0x0800, tcp(kNode, kBad, 1, 443)));
  }
  o.inputs = {t30};
  r = scan(o);
  EXPECT_EQ(r.exit, 0);
  EXPECT_EQ(r.summary["packets_skipped"]["truncated"], 1);
  o.inputs = {t34};
  r = scan(o);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0]["ioc_ports"], Json::array());
  // Bytes count the length on the wire, not the captured part.
  EXPECT_EQ(r.findings[0]["bytes"], 14 + 20 + 20 + 10);
}

TEST_F(PcapScan, FilesAndDirectoriesInTimeOrder) {
  // b.pcap's traffic is older than a.pcap's; the matches file must be in time order.
  std::string a = ethernet_capture("a.pcap", kT0 + 100000000);
  std::filesystem::create_directories(dir_ / "sub" / "deeper");
  std::string b = ethernet_capture("sub/deeper/b.pcap", kT0);
  write_bytes(path("sub/notes.txt"), "not a capture\n");
  std::filesystem::create_symlink(a, dir_ / "sub" / "link.pcap");
  PcapScanOptions o;
  o.inputs = {a, path("sub")};
  o.write_matches = path("out/m.pcap");
  std::filesystem::create_directories(dir_ / "out");
  Result r = scan(o);
  ASSERT_EQ(r.exit, 1) << r.error;
  EXPECT_EQ(r.summary["targets"], 2);
  EXPECT_EQ(r.summary["skipped"], Json({{"not a capture", 1}, {"symlink", 1}}));
  EXPECT_EQ(r.summary["packets_total"], 12);
  EXPECT_EQ(r.summary["packets_matched"], 8);
  const Json* f = finding_for(r, "203.0.113.7");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ((*f)["pcap"], Json::array({b, a}));  // time order, not argument order
  EXPECT_EQ((*f)["packets"], 6);
  EXPECT_EQ((*f)["first_seen"], "2024-11-20T08:15:02.000000Z");
  EXPECT_EQ((*f)["last_seen"], "2024-11-20T08:16:44.000000Z");
  EXPECT_EQ(r.summary["write_matches"], Json::array({o.write_matches}));

  // The matches file: a pcap libpcap reads, with exactly the matching packets, in time order.
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(o.write_matches.c_str(), err);
  ASSERT_NE(p, nullptr) << err;
  EXPECT_EQ(pcap_datalink(p), DLT_EN10MB);
  pcap_pkthdr* h;
  const u_char* d;
  int n = 0;
  long last = 0;
  while (pcap_next_ex(p, &h, &d) == 1) {
    EXPECT_GE(h->ts.tv_sec, last);
    last = h->ts.tv_sec;
    ++n;
  }
  pcap_close(p);
  EXPECT_EQ(n, 8);
  EXPECT_FALSE(std::filesystem::exists(o.write_matches + ".partial"));
}

TEST_F(PcapScan, WriteMatchesRefusesToOverwriteAnInput) {
  PcapScanOptions o;
  o.inputs = {ethernet_capture("a.pcap")};
  std::string before = bytes_of(o.inputs[0]);
  o.write_matches = o.inputs[0];
  Result r = scan(o);
  EXPECT_EQ(r.exit, 2);
  EXPECT_NE(r.error.find("is one of the captures"), std::string::npos) << r.error;
  EXPECT_EQ(bytes_of(o.inputs[0]), before);
}

TEST_F(PcapScan, WriteMatchesSplitsByLinkType) {
  std::string eth = ethernet_capture("eth.pcap");
  std::string raw = path("raw.pcap");
  {
    PcapWriter w(raw, DLT_RAW);
    w.add(kT0 + 10000000, tcp(kNode, kBad, 1, 443));
  }
  PcapScanOptions o;
  o.inputs = {eth, raw};
  o.write_matches = path("m.pcap");
  Result r = scan(o);
  ASSERT_EQ(r.summary["write_matches"], Json::array({path("m.pcap"), path("m-RAW.pcap")}));
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path("m-RAW.pcap").c_str(), err);
  ASSERT_NE(p, nullptr) << err;
  EXPECT_EQ(pcap_datalink(p), DLT_RAW);
  pcap_close(p);
}

TEST_F(PcapScan, PcapngInterfacesSectionsAndResolutions) {
  PcapngBuilder b(false);
  b.interface(DLT_EN10MB);                 // microseconds
  b.interface(DLT_LINUX_SLL2, 262144, 9);  // nanoseconds
  b.packet(0, uint64_t(kT0), ether(0x0800, tcp(kNode, kBad, 40000, 443)));
  b.other(0x0badcafe, 20);  // unknown block: skipped
  b.packet(1, uint64_t(kT0 + 1000) * 1000 + 7, sll2(0x0800, tcp(kBad, kNode, 443, 40000)));
  b.section(true);                           // big-endian section: interfaces start again
  b.interface(101, 65535, 0x80 | 20, 3600);  // raw IP, 2^-20 s, one hour offset
  b.packet(0, uint64_t(kT0 / 1000000) << 20 | (1u << 19),
           ipv6(kNode6, kBad6, 17, transport(17, 1, 2, 0)));
  b.simple_packet(ipv4(kNode, kNet, 17, transport(17, 9, 9, 0)));
  std::string p = path("multi.pcapng");
  b.save(p);

  PcapScanOptions o;
  o.inputs = {p};
  Result r = scan(o);
  ASSERT_EQ(r.exit, 1) << r.error;
  EXPECT_EQ(r.summary["packets_total"], 4);
  EXPECT_EQ(r.summary["packets_matched"], 4);
  EXPECT_EQ(r.summary["link_types"], Json({{"EN10MB", 1}, {"LINUX_SLL2", 1}, {"RAW", 2}}));
  const Json* f = finding_for(r, "203.0.113.7");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ((*f)["first_seen"], "2024-11-20T08:15:02.000000Z");
  EXPECT_EQ((*f)["last_seen"], "2024-11-20T08:15:02.001000Z");
  const Json* f6 = finding_for(r, "2001:db8:bad::1");
  ASSERT_NE(f6, nullptr);
  // 2^-20 resolution, half a second, plus if_tsoffset of an hour.
  EXPECT_EQ((*f6)["first_seen"], "2024-11-20T09:15:02.500000Z");
}

TEST_F(PcapScan, NanosecondPcapAndBothByteOrders) {
  std::string nano = path("nano.pcap");
  {
    PcapWriter w(nano, DLT_EN10MB, 65535, true);
    w.add(kT0 * 1000 + 123456, ether(0x0800, tcp(kNode, kBad, 1, 443)));
  }
  // The same capture with every header field byte-swapped (a big-endian writer).
  std::string be = path("be.pcap");
  {
    std::string b = bytes_of(ethernet_capture("le.pcap"));
    auto swap32 = [&](size_t off) {
      std::reverse(b.begin() + long(off), b.begin() + long(off) + 4);
    };
    auto swap16 = [&](size_t off) {
      std::reverse(b.begin() + long(off), b.begin() + long(off) + 2);
    };
    swap32(0);
    swap16(4);
    swap16(6);
    for (size_t off : {8, 12, 16, 20}) swap32(off);
    for (size_t off = 24; off + 16 <= b.size();) {
      uint32_t caplen;
      std::memcpy(&caplen, b.data() + off + 8, 4);
      for (size_t k = 0; k < 4; ++k) swap32(off + 4 * k);
      off += 16 + caplen;
    }
    write_bytes(be, b);
  }
  PcapScanOptions o;
  o.inputs = {nano};
  Result r = scan(o);
  ASSERT_EQ(r.findings.size(), 1u) << r.error;
  EXPECT_EQ(r.findings[0]["first_seen"], "2024-11-20T08:15:02.000123Z");
  o.inputs = {be};
  r = scan(o);
  EXPECT_EQ(r.summary["packets_matched"], 4) << r.error;
}

TEST_F(PcapScan, GzipCompressedCaptures) {
  std::string plain = ethernet_capture("a.pcap");
  gzip(plain, path("a.pcap.gz"));
  PcapngBuilder b;
  b.interface(DLT_EN10MB);
  b.packet(0, uint64_t(kT0 + 9000000), ether(0x0800, tcp(kNode, kBad, 1, 443)));
  b.save(path("b.pcapng"));
  gzip(path("b.pcapng"), path("b.pcapng.gz"));
  PcapScanOptions o;
  o.inputs = {path("a.pcap.gz"), path("b.pcapng.gz")};
  Result r = scan(o);
  ASSERT_EQ(r.exit, 1) << r.error;
  EXPECT_EQ(r.summary["packets_total"], 7);
  EXPECT_EQ(r.summary["packets_matched"], 5);
  EXPECT_EQ(r.summary["errors"], Json::array());

  // A gzip stream cut short: what was decompressed counts, the error names the file.
  std::string gz = bytes_of(path("a.pcap.gz"));
  write_bytes(path("cut.pcap.gz"), gz.substr(0, gz.size() - 30));
  o.inputs = {path("cut.pcap.gz")};
  r = scan(o);
  EXPECT_EQ(r.exit, 1);  // findings before the damage still win
  ASSERT_EQ(r.summary["errors"].size(), 1u);
  EXPECT_NE(r.summary["errors"][0].get<std::string>().find("cut.pcap.gz"), std::string::npos);
  EXPECT_GT(r.summary["packets_total"].get<int>(), 0);
}

TEST_F(PcapScan, TruncatedFileKeepsWhatCameBefore) {
  std::string full = bytes_of(ethernet_capture("a.pcap"));
  // Cut in the middle of the 4th record's data.
  size_t off = 24;
  for (int k = 0; k < 3; ++k) {
    uint32_t caplen;
    std::memcpy(&caplen, full.data() + off + 8, 4);
    off += 16 + caplen;
  }
  write_bytes(path("cut.pcap"), full.substr(0, off + 16 + 5));
  PcapScanOptions o;
  o.inputs = {path("cut.pcap")};
  Result r = scan(o);
  EXPECT_EQ(r.exit, 1);
  EXPECT_EQ(r.summary["packets_total"], 3);
  EXPECT_EQ(r.summary["packets_matched"], 3);
  ASSERT_EQ(r.summary["errors"].size(), 1u);
  std::string e = r.summary["errors"][0];
  EXPECT_NE(e.find("cut.pcap: truncated"), std::string::npos) << e;
  EXPECT_NE(e.find("after 3 packets"), std::string::npos) << e;

  // Without findings before the damage: exit 3 (incomplete), never 0.
  {
    PcapWriter w(path("clean.pcap"), DLT_EN10MB);
    w.add(kT0, ether(0x0800, tcp(kNode, kClean, 1, 2)));
    w.add(kT0 + 1, ether(0x0800, tcp(kNode, kClean, 1, 2)));
  }
  std::string c = bytes_of(path("clean.pcap"));
  write_bytes(path("clean-cut.pcap"), c.substr(0, c.size() - 3));
  o.inputs = {path("clean-cut.pcap")};
  r = scan(o);
  EXPECT_EQ(r.exit, 3);
  EXPECT_EQ(r.summary["packets_total"], 1);
}

TEST_F(PcapScan, CorruptRecordLength) {
  std::string b = bytes_of(ethernet_capture("a.pcap"));
  // Second record: caplen far beyond any snap length.
  uint32_t caplen;
  std::memcpy(&caplen, b.data() + 24 + 8, 4);
  size_t second = 24 + 16 + caplen;
  uint32_t huge = 0x7fffffff;
  std::memcpy(b.data() + second + 8, &huge, 4);
  write_bytes(path("bad.pcap"), b);
  PcapScanOptions o;
  o.inputs = {path("bad.pcap")};
  Result r = scan(o);
  EXPECT_EQ(r.summary["packets_total"], 1);
  ASSERT_EQ(r.summary["errors"].size(), 1u);
  EXPECT_NE(r.summary["errors"][0].get<std::string>().find("bad.pcap"), std::string::npos);
}

TEST_F(PcapScan, DamagedPcapng) {
  PcapngBuilder b;
  b.interface(DLT_EN10MB);
  b.packet(0, uint64_t(kT0), ether(0x0800, tcp(kNode, kBad, 1, 443)));
  b.packet(0, uint64_t(kT0 + 1), ether(0x0800, tcp(kNode, kBad, 1, 443)));
  std::string good(b.bytes().begin(), b.bytes().end());
  PcapScanOptions o;

  // Trailer length differs from the header's in the last block.
  std::string bad = good;
  bad[bad.size() - 4] ^= 0x40;
  write_bytes(path("trailer.pcapng"), bad);
  o.inputs = {path("trailer.pcapng")};
  Result r = scan(o);
  EXPECT_EQ(r.summary["packets_total"], 1);
  ASSERT_EQ(r.summary["errors"].size(), 1u);
  EXPECT_NE(r.summary["errors"][0].get<std::string>().find("trailer"), std::string::npos);

  // Cut inside the last block.
  write_bytes(path("cut.pcapng"), good.substr(0, good.size() - 10));
  o.inputs = {path("cut.pcapng")};
  r = scan(o);
  EXPECT_EQ(r.summary["packets_total"], 1);
  EXPECT_EQ(r.summary["errors"].size(), 1u);

  // A packet on an interface that was never described.
  PcapngBuilder c;
  c.packet(3, uint64_t(kT0), ether(0x0800, tcp(kNode, kBad, 1, 443)));
  c.save(path("noif.pcapng"));
  o.inputs = {path("noif.pcapng")};
  r = scan(o);
  EXPECT_EQ(r.exit, 3);
  ASSERT_EQ(r.summary["errors"].size(), 1u);
  EXPECT_NE(r.summary["errors"][0].get<std::string>().find("interface 3"), std::string::npos);

  // A block claiming 1 GiB in a small file: an error, not a 1 GiB allocation.
  std::string big = good;
  uint32_t len = 1u << 30;
  size_t last_epb = 28 + 20;  // SHB (28) + IDB (20)
  std::memcpy(big.data() + last_epb + 4, &len, 4);
  write_bytes(path("big.pcapng"), big);
  o.inputs = {path("big.pcapng")};
  r = scan(o);
  EXPECT_EQ(r.exit, 3);
  EXPECT_EQ(r.summary["errors"].size(), 1u);
}

TEST_F(PcapScan, NotACapture) {
  write_bytes(path("notes.txt"), "203.0.113.7 is bad\n");
  write_bytes(path("empty.pcap"), "");
  write_bytes(path("z.pcap.zst"), std::string("\x28\xb5\x2f\xfd\x00\x00", 6));
  PcapScanOptions o;
  o.inputs = {path("notes.txt")};
  Result r = scan(o);
  EXPECT_EQ(r.exit, 2);
  EXPECT_EQ(r.error, path("notes.txt") + ": not a capture file (no pcap or pcapng signature)");
  o.inputs = {path("empty.pcap")};
  EXPECT_NE(scan(o).error.find("empty file"), std::string::npos);
  o.inputs = {path("z.pcap.zst")};
  EXPECT_NE(scan(o).error.find("zstd-compressed"), std::string::npos);
  o.inputs = {path("missing.pcap")};
  r = scan(o);
  EXPECT_EQ(r.exit, 2);
  EXPECT_NE(r.error.find("missing.pcap"), std::string::npos);

  // Next to a good capture: reported, the rest scanned, exit 1 (findings) then 3 (none).
  o.inputs = {ethernet_capture("a.pcap"), path("notes.txt")};
  r = scan(o);
  EXPECT_EQ(r.exit, 1);
  EXPECT_EQ(r.summary["errors"].size(), 1u);
}

TEST_F(PcapScan, UnsupportedLinkTypeIsSkippedByTypeAndIncomplete) {
  std::string p = path("wifi.pcap");
  {
    PcapWriter w(p, DLT_IEEE802_11_RADIO);
    // Bytes that would read as 10.1.2.3 -> 203.0.113.7 if taken for Ethernet.
    w.add(kT0, ether(0x0800, tcp(kNode, kBad, 1, 443)));
  }
  PcapScanOptions o;
  o.inputs = {p};
  Result r = scan(o);
  EXPECT_EQ(r.exit, 3);
  EXPECT_TRUE(r.findings.empty());
  EXPECT_EQ(r.summary["packets_skipped"], Json({{"link type IEEE802_11_RADIO", 1}}));
  EXPECT_EQ(r.summary["link_types"], Json({{"IEEE802_11_RADIO", 1}}));
}

TEST_F(PcapScan, BpfFilter) {
  PcapScanOptions o;
  o.inputs = {ethernet_capture("a.pcap")};
  o.filter = "udp";
  Result r = scan(o);
  ASSERT_EQ(r.findings.size(), 1u) << r.error;
  EXPECT_EQ(r.findings[0]["ioc"]["value"], "198.51.100.0/24");
  EXPECT_EQ(r.summary["packets_skipped"]["filtered"], 5);
  o.filter = "udp and and";
  r = scan(o);
  EXPECT_EQ(r.exit, 2);
  EXPECT_NE(r.error.find("--filter"), std::string::npos);
}

TEST_F(PcapScan, UsageErrors) {
  PcapScanOptions o;
  EXPECT_EQ(scan(o).exit, 2);  // nothing to scan
  o.inputs = {"-", "a.pcap"};
  EXPECT_NE(scan(o).error.find("stdin"), std::string::npos);
  o.inputs = {"x.pcap"};
  o.interface = "lo";
  EXPECT_EQ(scan(o).exit, 2);
}

TEST_F(PcapScan, LiveInterfaceThatDoesNotExist) {
  PcapScanOptions o;
  o.interface = "forage-nonexistent0";
  o.duration_s = 1;
  Result r = scan(o);
  EXPECT_EQ(r.exit, 2);
  // "no such interface" as root, "permission denied" otherwise: either way, named.
  EXPECT_EQ(r.error.rfind("interface forage-nonexistent0: ", 0), 0u) << r.error;
}

// --- Many hits: the per-indicator statistics against a reference model ---
//
// The statistics are kept in flat arrays and open-addressing tables (pcap_scan.cpp). This test
// generates 40,000 packets in two captures where most packets match, past every cap (peers,
// peer ports, indicator ports, a network's addresses), and computes what the findings must say
// with plain std::map/std::set, the way the scanner did before (issue 14): counts, bytes,
// first/last seen, protocols, ports, peers and their order must be identical; the findings come
// in order of first appearance; the generated traffic reaches every cap somewhere.
namespace {

using Key = std::array<uint8_t, 16>;

struct RefPeer {
  uint64_t packets = 0, bytes = 0;
  std::set<uint16_t> ports;
  bool capped = false;
};

struct RefHit {
  int64_t first = INT64_MAX, last = INT64_MIN;
  uint64_t pf = 0, bf = 0, pt = 0, bt = 0;
  std::map<std::string, uint64_t> protos;
  std::map<Key, RefPeer> peers;
  uint64_t untracked = 0;
  std::set<uint16_t> ports;
  bool ports_capped = false;
  std::set<Key> addrs;
  bool addrs_capped = false;
  std::vector<std::string> caps;
};

Key key4(uint32_t a) {
  Key k{};
  uint32_t n = htonl(a);
  std::memcpy(k.data(), &n, 4);
  return k;
}
Key key6(const V6& a) {
  Key k{};
  std::memcpy(k.data(), a.b, 16);
  return k;
}
std::string text(const Key& k, bool v4) {
  char b[INET6_ADDRSTRLEN];
  inet_ntop(v4 ? AF_INET : AF_INET6, k.data(), b, sizeof b);
  return b;
}

template <typename S>
void ref_add(S& set, size_t cap, const typename S::value_type& v, bool& capped) {
  if (set.size() < cap)
    set.insert(v);
  else if (!set.count(v))
    capped = true;
}

void ref_record(RefHit& h, bool is_src, const Key& self, const Key& other, uint8_t proto,
                bool ports, uint16_t self_port, uint16_t other_port, uint32_t len, int64_t ts_ns,
                bool cidr, const std::string& cap) {
  h.first = std::min(h.first, ts_ns);
  h.last = std::max(h.last, ts_ns);
  (is_src ? h.pf : h.pt) += 1;
  (is_src ? h.bf : h.bt) += len;
  ++h.protos[proto == 6 ? "tcp" : proto == 17 ? "udp" : "icmp"];
  if (h.caps.empty() || h.caps.back() != cap) h.caps.push_back(cap);
  if (cidr) ref_add(h.addrs, 256, self, h.addrs_capped);
  if (ports) ref_add(h.ports, 64, self_port, h.ports_capped);
  auto it = h.peers.find(other);
  if (it == h.peers.end()) {
    if (h.peers.size() >= 4096) {
      ++h.untracked;
      return;
    }
    it = h.peers.emplace(other, RefPeer{}).first;
  }
  ++it->second.packets;
  it->second.bytes += len;
  if (ports) ref_add(it->second.ports, 32, other_port, it->second.capped);
}

Json ref_json(const RefHit& h, bool v4, bool cidr) {
  auto utc = [](int64_t ns) {
    char b[64];
    time_t s = time_t(ns / 1000000000);
    std::tm tm{};
    gmtime_r(&s, &tm);
    size_t n = std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(b + n, sizeof b - n, ".%06dZ", int(ns % 1000000000 / 1000));
    return std::string(b);
  };
  Json f;
  f["pcap"] = h.caps;
  f["first_seen"] = utc(h.first);
  f["last_seen"] = utc(h.last);
  f["packets"] = h.pf + h.pt;
  f["bytes"] = h.bf + h.bt;
  f["from_ioc"] = {{"packets", h.pf}, {"bytes", h.bf}};
  f["to_ioc"] = {{"packets", h.pt}, {"bytes", h.bt}};
  Json protos = Json::object();
  for (const char* p : {"icmp", "tcp", "udp"})  // the scanner's order: by protocol number
    if (h.protos.count(p)) protos[p] = h.protos.at(p);
  f["protocols"] = protos;
  if (cidr) {
    Json a = Json::array();
    for (const auto& k : h.addrs) a.push_back(text(k, v4));
    f["ioc_addresses"] = a;
    if (h.addrs_capped) f["ioc_addresses_capped"] = true;
  }
  f["ioc_ports"] = h.ports;
  if (h.ports_capped) f["ioc_ports_capped"] = true;
  std::vector<std::pair<Key, const RefPeer*>> peers;
  for (const auto& [k, p] : h.peers) peers.emplace_back(k, &p);
  std::stable_sort(peers.begin(), peers.end(), [](const auto& x, const auto& y) {
    return x.second->packets > y.second->packets;  // ties: address order (the map's)
  });
  Json pj = Json::array();
  for (size_t k = 0; k < peers.size() && k < 100; ++k) {
    Json e = {{"ip", text(peers[k].first, v4)},
              {"packets", peers[k].second->packets},
              {"bytes", peers[k].second->bytes}};
    e["ports"] = peers[k].second->ports;
    if (peers[k].second->capped) e["ports_capped"] = true;
    pj.push_back(e);
  }
  f["peers"] = pj;
  f["peers_total"] = h.peers.size();
  if (h.untracked) f["untracked_peer_packets"] = h.untracked;
  return f;
}

// The packets of a capture, or -1 when their times go backwards (or it cannot be opened).
int64_t packets_in_order(const std::string& file) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(file.c_str(), err);
  if (!p) return -1;
  pcap_pkthdr* h;
  const u_char* d;
  int64_t n = 0, prev = 0;
  bool ordered = true;
  while (pcap_next_ex(p, &h, &d) == 1) {
    int64_t t = int64_t(h->ts.tv_sec) * 1000000 + h->ts.tv_usec;
    ordered = ordered && t >= prev;
    prev = t;
    ++n;
  }
  pcap_close(p);
  return ordered ? n : -1;
}

}  // namespace

TEST_F(PcapScan, ManyHitsStatisticsMatchAReferenceModel) {
  const uint32_t kA = kBad, kD = v4("192.0.2.99"), kNetBase = v4("198.51.100.0");
  ioc::IocSet set;
  auto add = [&](ioc::Type t, const char* v) {
    ioc::Indicator i;
    i.type = t;
    i.value = v;
    set.add(i);
  };
  add(ioc::Type::kIpv4, "203.0.113.7");
  add(ioc::Type::kCidr, "198.51.100.0/23");  // 512 addresses: past the 256 reported
  add(ioc::Type::kIpv6, "2001:db8:bad::1");
  add(ioc::Type::kIpv4, "192.0.2.99");
  std::map<std::string, RefHit> ref;
  uint64_t matched = 0;
  uint64_t rng = 12345;
  auto next = [&rng] {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return rng >> 17;
  };
  std::vector<std::string> files = {path("one.pcap"), path("two.pcap")};
  int64_t ts = kT0;
  for (const auto& file : files) {
    PcapWriter w(file, DLT_EN10MB);
    for (int i = 0; i < 20000; ++i) {
      uint64_t x = next(), y = next();
      ts += int64_t(x % 3000);
      int kind = int(x % 100);
      uint8_t proto = (y % 10) < 6 ? 6 : (y % 10) < 9 ? 17 : 1;
      bool ports = proto != 1;
      size_t payload = y % 301;
      bool out = (y >> 20) & 1;
      Bytes frame;
      std::string ind;  // the indicator side (or two for kind >= 70 && < 75)
      if (kind < 75) {
        uint32_t self = kind < 35 ? kA : kind < 70 ? kNetBase + uint32_t(y >> 24) % 512 : kA;
        uint32_t other = kind < 35   ? v4("10.0.0.0") + uint32_t((y >> 32) % 6000)
                         : kind < 70 ? v4("10.9.0.0") + uint32_t((y >> 32) % 50)
                                     : kD;
        uint16_t sp = uint16_t(1000 + (y >> 40) % 100), op = uint16_t(2000 + (x >> 40) % 50);
        uint32_t s = out ? self : other, d = out ? other : self;
        Bytes ip = ipv4(s, d, proto, transport(proto, out ? sp : op, out ? op : sp, payload));
        frame = (y >> 56) % 8 == 0 ? ether(0x0800, ip, {0x8100}) : ether(0x0800, ip);
        uint32_t len = uint32_t(frame.size());
        int64_t tns = ts * 1000;
        bool cidr = kind >= 35 && kind < 70;
        std::string iv = kind < 35 || kind >= 70 ? "203.0.113.7" : "198.51.100.0/23";
        ref_record(ref[iv], out, key4(self), key4(other), proto, ports, sp, op, len, tns, cidr,
                   file);
        if (kind >= 70)  // D talks to A: both indicators, each with the other as peer
          ref_record(ref["192.0.2.99"], !out, key4(other), key4(self), proto, ports, op, sp, len,
                     tns, false, file);
        ++matched;
      } else if (kind < 85) {
        V6 peer = v6("fd00::1");
        peer.b[15] = uint8_t(y >> 30);
        uint16_t sp = uint16_t(443 + (y >> 40) % 3), op = uint16_t(50000 + (y >> 48) % 40);
        Bytes ip = out ? ipv6(kBad6, peer, proto == 1 ? 17 : proto,
                              transport(proto == 1 ? 17 : proto, sp, op, payload))
                       : ipv6(peer, kBad6, proto == 1 ? 17 : proto,
                              transport(proto == 1 ? 17 : proto, op, sp, payload));
        frame = ether(0x86dd, ip);
        ref_record(ref["2001:db8:bad::1"], out, key6(kBad6), key6(peer), proto == 1 ? 17 : proto,
                   true, sp, op, uint32_t(frame.size()), ts * 1000, false, file);
        ++matched;
      } else {
        frame = ether(0x0800, tcp(kNode, kClean, 1, 2, payload));
      }
      w.add(ts, frame);
    }
  }
  PcapScanOptions o;
  o.inputs = files;
  o.write_matches = path("m.pcap");
  Result r = scan(o, set);
  ASSERT_EQ(r.exit, 1) << r.error;
  EXPECT_EQ(r.summary["packets_matched"], matched);
  ASSERT_EQ(r.findings.size(), ref.size());
  std::vector<std::string> order;
  for (const auto& f : r.findings) {
    std::string v = f["ioc"]["value"];
    order.push_back(v);
    ASSERT_TRUE(ref.count(v)) << v;
    Json want = ref_json(ref[v], v.find(':') == std::string::npos, v.find('/') != v.npos);
    for (const auto& [k, val] : want.items()) EXPECT_EQ(f[k], val) << v << ": " << k;
  }
  const Json* a = finding_for(r, "203.0.113.7");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ((*a)["peers_total"], 4096);
  EXPECT_GT((*a)["untracked_peer_packets"], 0);
  EXPECT_TRUE((*a)["ioc_ports_capped"]);
  EXPECT_TRUE(finding_for(r, "198.51.100.0/23")->value("ioc_addresses_capped", false));
  EXPECT_TRUE((*finding_for(r, "198.51.100.0/23"))["peers"][0].value("ports_capped", false));
  std::vector<std::pair<int64_t, std::string>> firsts;
  for (const auto& [v, h] : ref) firsts.emplace_back(h.first, v);
  std::sort(firsts.begin(), firsts.end());
  for (size_t k = 0; k < firsts.size(); ++k) EXPECT_EQ(order[k], firsts[k].second);
  // --write-matches holds exactly the matched packets, in order (-1: not in order).
  EXPECT_EQ(packets_in_order(path("m.pcap")), int64_t(matched));
}
