// Output forms read back or judged by the real consumer: to_json and to_misp through read_json,
// to_bpf through libpcap's compiler and filter engine. (to_yara is judged by libyara in
// writers_yara_test.cpp: yara.h's macros clash with nlohmann/json, which this file uses.)
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "ioc/reader.h"
#include "ioc/writers.h"

namespace forage::ioc {
namespace {

Indicator make(Type t, std::string value, size_t line, std::string context, std::string tlp = "") {
  Indicator i;
  i.type = t;
  i.value = std::move(value);
  i.source.file = "broadcast.eml";
  i.source.part = "2/iocs.csv";
  i.source.line = line;
  i.context = std::move(context);
  i.tlp = std::move(tlp);
  return i;
}

// One indicator of every type, with the awkward spellings canonical values can have.
IocSet every_type() {
  IocSet set;
  set.case_tag = "EGI-20261120-01";
  set.tlp = "TLP:AMBER+STRICT";
  set.add(make(Type::kIpv4, "192.0.2.1", 3, "C2 \"proxy\"", "TLP:AMBER"));
  set.add(make(Type::kIpv6, "2001:db8::1", 4, "v6 C2"));
  set.add(make(Type::kCidr, "198.51.100.0/24", 5, "scanning network"));
  set.add(make(Type::kCidr, "2001:db8:bad::/48", 5, "v6 network"));
  set.add(make(Type::kDomain, "evil-update.example.net", 6, "drop site"));
  set.add(make(Type::kUrl, "https://evil-update.example.net:8443/k.sh?x=1&y=%20#frag", 7, "url"));
  set.add(make(Type::kEmail, "helpdesk@evil-update.example.net", 8, "phishing sender"));
  set.add(make(Type::kMd5, "900150983cd24fb0d6963f7d28e17f72", 9, "md5 of abc"));
  set.add(make(Type::kSha1, "a9993e364706816aba3e25717850c26c9cd0d89d", 10, "sha1 of abc"));
  set.add(make(Type::kSha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
               11, "sha256 of abc"));
  set.add(make(Type::kSha512,
               "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a8"
               "36ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
               12, "sha512 of abc"));
  set.add(make(Type::kFilename, "ratatosk.sh", 13, "start script"));
  set.add(make(Type::kFilename, "invoice 2026 (final).pdf.exe", 14, "attachment"));
  set.add(make(Type::kFilepath, "/var/tmp/.ICE-unix/.r/kworker", 15, "miner"));
  set.add(make(Type::kUsername, "sshd-rt", 16, "account created by the intruder"));
  set.add(
      make(Type::kX509Dn, "/DC=org/DC=example/OU=Robots/CN=robot job runner", 17, "robot cert"));
  set.add(make(Type::kX509Dn, "CN=Evil CA, O=Bad Corp, C=XX", 18, "issuer"));
  return set;
}

IocSet read_back(const std::string& text, const std::string& name) {
  IocSet set;
  Source src;
  src.file = name;
  read_input(text, src, ReadOptions{}, set);
  return set;
}

TEST(WritersRoundTrip, JsonReadsBackEverything) {
  IocSet set = every_type();
  std::string json = to_json(set);
  IocSet back = read_back(json, "iocs.json");
  EXPECT_EQ(to_tsv(back), to_tsv(set));
  EXPECT_EQ(back.case_tag, set.case_tag);
  EXPECT_EQ(back.tlp, set.tlp);
  ASSERT_EQ(back.indicators.size(), set.indicators.size());
  for (size_t i = 0; i < set.indicators.size(); ++i) {
    const auto& a = set.indicators[i];
    const auto& b = back.indicators[i];
    EXPECT_EQ(b.source.display(), a.source.display()) << a.value;
    EXPECT_EQ(b.context, a.context) << a.value;
    // Unmarked indicators take the set's TLP when read (read_input), as they did when written.
    EXPECT_EQ(b.tlp, a.tlp.empty() ? set.tlp : a.tlp) << a.value;
  }
  EXPECT_TRUE(back.errors.empty());
  // Written again, the document is the same but for the sources list.
  auto j1 = nlohmann::json::parse(json);
  auto j2 = nlohmann::json::parse(to_json(back));
  j1.erase("sources");
  j2.erase("sources");
  EXPECT_EQ(j1["indicators"].size(), j2["indicators"].size());
  for (size_t i = 0; i < j1["indicators"].size(); ++i) {
    auto& e = j1["indicators"][i];
    if (e["tlp"] == "") e["tlp"] = set.tlp;
  }
  EXPECT_EQ(j1, j2);
}

TEST(WritersRoundTrip, JsonWithBadIndicatorsKeepsTheGoodOnes) {
  const char* doc = R"({"format": "forage-iocs/1", "case": "", "tlp": "", "indicators": [
    {"type": "ipv4", "value": "192.0.2.1"},
    {"type": "ipv5", "value": "192.0.2.2"},
    {"type": "md5", "value": "not-a-hash"},
    {"type": "domain", "value": 7},
    "text",
    {"type": "domain", "value": "ok.example.com", "source": {"file": "a.txt", "line": 9}}]})";
  IocSet set;
  Source src;
  src.file = "iocs.json";
  ReadOptions opts;
  opts.keep_going = true;
  read_json(doc, src, opts, set, Format::kJson);
  EXPECT_EQ(to_tsv(set), "domain\tok.example.com\nipv4\t192.0.2.1\n");
  EXPECT_EQ(set.indicators[0].source.display(), "iocs.json#/indicators/0");
  EXPECT_EQ(set.indicators[1].source.display(), "a.txt:9");
  ASSERT_EQ(set.errors.size(), 4u);
  EXPECT_EQ(set.errors[0], "iocs.json#/indicators/1/type: unknown indicator type 'ipv5'");
  EXPECT_EQ(set.errors[1], "iocs.json#/indicators/2/value: 'not-a-hash' is not a valid md5");
  EXPECT_EQ(set.errors[2],
            "iocs.json#/indicators/3: an indicator needs a string \"type\" and \"value\"");
  EXPECT_EQ(set.errors[3], "iocs.json#/indicators/4: expected an indicator object");

  IocSet other;
  EXPECT_THROW(read_json(R"({"format": "forage-iocs/9", "indicators": []})", src, ReadOptions{},
                         other, Format::kJson),
               Error);
}

TEST(WritersRoundTrip, MispReadsBackEverything) {
  IocSet set = every_type();
  std::string misp = to_misp(set);
  IocSet back = read_back(misp, "event.json");
  EXPECT_EQ(to_tsv(back), to_tsv(set));
  EXPECT_EQ(back.case_tag, set.case_tag);
  EXPECT_EQ(back.tlp, set.tlp);
  EXPECT_TRUE(back.errors.empty());
  EXPECT_TRUE(back.notes.empty()) << back.notes.front();
  for (const auto& i : back.indicators) {
    // Contexts travel as attribute comments; TLP as the event tag.
    bool found = false;
    for (const auto& o : set.indicators)
      if (o.type == i.type && o.value == i.value) found = o.context == i.context;
    EXPECT_TRUE(found) << i.value << ": " << i.context;
    // An indicator's own label travels as an attribute tag; the others take the event's.
    EXPECT_EQ(i.tlp, i.value == "192.0.2.1" ? "TLP:AMBER" : set.tlp) << i.value;
  }
}

// --- BPF: libpcap compiles the filter and its filter engine matches the right packets ---

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

class Filter {
 public:
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;
  explicit Filter(const std::string& expr) : pcap_(pcap_open_dead(DLT_EN10MB, 65535)) {
    if (!pcap_) return;
    if (pcap_compile(pcap_.get(), &prog_, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0) {
      ok_ = true;
    } else {
      error_ = pcap_geterr(pcap_.get());
    }
  }
  ~Filter() {
    if (ok_) pcap_freecode(&prog_);
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  bool matches(const std::vector<uint8_t>& frame) const {
    pcap_pkthdr h{};
    h.caplen = h.len = static_cast<bpf_u_int32>(frame.size());
    return pcap_offline_filter(&prog_, &h, frame.data()) != 0;
  }

 private:
  PcapHandle pcap_;
  bpf_program prog_{};
  bool ok_ = false;
  std::string error_;
};

std::vector<uint8_t> ipv4_frame(std::array<uint8_t, 4> src, std::array<uint8_t, 4> dst) {
  std::vector<uint8_t> f = {0,    1, 2, 3,  4, 5, 6, 7, 8,  9,  10, 11, 0x08, 0x00,  // Ethernet
                            0x45, 0, 0, 20, 0, 0, 0, 0, 64, 59, 0,  0};  // IPv4, no payload
  f.insert(f.end(), src.begin(), src.end());
  f.insert(f.end(), dst.begin(), dst.end());
  return f;
}

std::vector<uint8_t> ipv6_frame(const std::array<uint8_t, 16>& src,
                                const std::array<uint8_t, 16>& dst) {
  std::vector<uint8_t> f = {0,    1, 2, 3, 4, 5, 6,  7, 8, 9, 10, 11, 0x86, 0xdd,  // Ethernet
                            0x60, 0, 0, 0, 0, 0, 59, 64};  // IPv6, no next header
  f.insert(f.end(), src.begin(), src.end());
  f.insert(f.end(), dst.begin(), dst.end());
  return f;
}

TEST(WritersBpf, LibpcapCompilesAndMatchesTheNetworkIndicators) {
  std::string expr = to_bpf(every_type());
  ASSERT_FALSE(expr.empty());
  ASSERT_EQ(expr.back(), '\n');
  expr.pop_back();
  Filter f(expr);
  ASSERT_TRUE(f.ok()) << f.error() << "\nfilter: " << expr;

  const std::array<uint8_t, 4> other = {203, 0, 113, 5};
  EXPECT_TRUE(f.matches(ipv4_frame({192, 0, 2, 1}, other)));      // host, as source
  EXPECT_TRUE(f.matches(ipv4_frame(other, {192, 0, 2, 1})));      // host, as destination
  EXPECT_TRUE(f.matches(ipv4_frame(other, {198, 51, 100, 77})));  // inside the /24
  EXPECT_FALSE(f.matches(ipv4_frame(other, {192, 0, 2, 2})));
  EXPECT_FALSE(f.matches(ipv4_frame(other, {198, 51, 101, 1})));

  std::array<uint8_t, 16> v6_c2 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::array<uint8_t, 16> v6_net = {0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad, 0, 7,
                                    0,    0,    0,    0,    0,    0,    0, 9};
  std::array<uint8_t, 16> v6_other = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  EXPECT_TRUE(f.matches(ipv6_frame(v6_other, v6_c2)));
  EXPECT_TRUE(f.matches(ipv6_frame(v6_net, v6_other)));
  EXPECT_FALSE(f.matches(ipv6_frame(v6_other, v6_other)));
}

TEST(WritersBpf, EmptySetMatchesNothing) {
  IocSet set;
  set.add(make(Type::kDomain, "evil.example.net", 1, ""));
  std::string expr = to_bpf(set);
  expr.pop_back();
  Filter f(expr);
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_FALSE(f.matches(ipv4_frame({192, 0, 2, 1}, {192, 0, 2, 2})));
}

// to_tsv sorts on the first 8 bytes of a value before the rest: values that share those bytes,
// that are shorter than 8 or than each other, or hold bytes >= 0x80 must still come out in the
// order of the "type<TAB>value" lines themselves, whatever order they were added in.
TEST(WritersTsv, SortedLikeTheLinesThemselves) {
  const std::vector<std::pair<Type, std::string>> items = {
      {Type::kUrl, "http://c2-2.example.net/b"},
      {Type::kUrl, "http://c2-2.example.net/a"},
      {Type::kUrl, "http://c2-10.example.net/"},
      {Type::kUrl, "http://"},
      {Type::kUrl, "http:/"},
      {Type::kDomain, "a.example"},
      {Type::kDomain, "a.exampl"},
      {Type::kDomain, "a.ex"},
      {Type::kDomain, "a.examplf"},
      {Type::kDomain, "\xc3\xa9t\xc3\xa9.example"},
      {Type::kDomain, "z.example"},
      {Type::kUsername, ""},
      {Type::kUsername, "a"},
      {Type::kSha256, std::string(64, 'f')},
      {Type::kSha1, std::string(40, '0')},
      {Type::kIpv4, "10.0.0.10"},
      {Type::kIpv4, "10.0.0.9"},
      {Type::kIpv6, "2001:db8::1"},
      {Type::kFilename, "x.sh"},
  };
  std::vector<std::string> expected;
  for (const auto& [t, v] : items) expected.push_back(std::string(type_name(t)) + "\t" + v);
  std::sort(expected.begin(), expected.end());
  std::string want;
  for (const auto& line : expected) want += line + "\n";
  for (bool reversed : {false, true}) {
    IocSet set;
    for (size_t k = 0; k < items.size(); ++k) {
      const auto& [t, v] = items[reversed ? items.size() - 1 - k : k];
      set.add(make(t, v, k + 1, ""));
    }
    EXPECT_EQ(to_tsv(set), want) << reversed;
  }
}

// reserve() makes room in advance; it changes nothing about what the set holds or finds.
TEST(IocSetReserve, KeepsWhatIsThereAndDeduplicates) {
  IocSet set;
  ASSERT_TRUE(set.add(make(Type::kIpv4, "192.0.2.1", 1, "")));
  set.reserve(100000);
  EXPECT_GE(set.indicators.capacity(), 100000u);
  EXPECT_TRUE(set.contains(Type::kIpv4, "192.0.2.1"));
  EXPECT_FALSE(set.add(make(Type::kIpv4, "192.0.2.1", 2, "")));
  for (int k = 0; k < 1000; ++k)
    EXPECT_TRUE(set.add(make(Type::kDomain, "h" + std::to_string(k) + ".example.org", 3, "")));
  set.reserve(10);  // smaller than what is held: nothing lost
  EXPECT_EQ(set.indicators.size(), 1001u);
  EXPECT_TRUE(set.contains(Type::kDomain, "h999.example.org"));
  EXPECT_FALSE(set.contains(Type::kDomain, "h1000.example.org"));
  EXPECT_FALSE(set.add(make(Type::kDomain, "h500.example.org", 4, "")));
}

}  // namespace
}  // namespace forage::ioc
