#include "scanners/ip_match.h"

#include <chrono>
#include <random>

#include <gtest/gtest.h>

using namespace forage;
using forage::scanners::IpMatcher;

namespace {

ioc::Indicator ind(ioc::Type t, std::string v) {
  ioc::Indicator i;
  i.type = t;
  i.value = std::move(v);
  i.source.file = "test";
  return i;
}

uint32_t v4(const char* s) {
  return *scanners::parse_ipv4(s);
}

}  // namespace

TEST(IpMatcher, EmptyMatchesNothing) {
  IpMatcher m;
  EXPECT_EQ(m.match_v4(v4("10.0.0.1")), nullptr);
  uint8_t a[16] = {};
  EXPECT_EQ(m.match_v6(a), nullptr);
  EXPECT_TRUE(m.empty());
}

TEST(IpMatcher, LongestPrefixWins) {
  ioc::IocSet set;
  set.add(ind(ioc::Type::kCidr, "10.0.0.0/8"));
  set.add(ind(ioc::Type::kCidr, "10.1.0.0/16"));
  set.add(ind(ioc::Type::kIpv4, "10.1.2.3"));
  set.add(ind(ioc::Type::kDomain, "evil.example.com"));  // ignored
  auto m = IpMatcher::from(set);
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.match_v4(v4("10.1.2.3"))->value, "10.1.2.3");
  EXPECT_EQ(m.match_v4(v4("10.1.2.4"))->value, "10.1.0.0/16");
  EXPECT_EQ(m.match_v4(v4("10.200.0.1"))->value, "10.0.0.0/8");
  EXPECT_EQ(m.match_v4(v4("11.0.0.1")), nullptr);
  EXPECT_EQ(m.match("10.1.2.3")->value, "10.1.2.3");
  EXPECT_EQ(m.match("not an ip"), nullptr);
}

TEST(IpMatcher, ZeroLengthAndHostPrefixes) {
  ioc::IocSet set;
  set.add(ind(ioc::Type::kCidr, "0.0.0.0/0"));
  set.add(ind(ioc::Type::kCidr, "192.0.2.7/32"));
  set.add(ind(ioc::Type::kCidr, "::/0"));
  auto m = IpMatcher::from(set);
  EXPECT_EQ(m.match_v4(v4("8.8.8.8"))->value, "0.0.0.0/0");
  EXPECT_EQ(m.match_v4(v4("192.0.2.7"))->value, "192.0.2.7/32");
  EXPECT_EQ(m.match("2001:db8::1")->value, "::/0");
}

TEST(IpMatcher, Ipv6Prefixes) {
  ioc::IocSet set;
  set.add(ind(ioc::Type::kCidr, "2001:db8::/32"));
  set.add(ind(ioc::Type::kCidr, "2001:db8:0:1::/64"));
  set.add(ind(ioc::Type::kCidr, "2001:db8:0:1:8000::/65"));
  set.add(ind(ioc::Type::kIpv6, "2001:db8:0:1::5"));
  auto m = IpMatcher::from(set);
  EXPECT_EQ(m.match("2001:db8:0:1::5")->value, "2001:db8:0:1::5");
  EXPECT_EQ(m.match("2001:db8:0:1::6")->value, "2001:db8:0:1::/64");
  EXPECT_EQ(m.match("2001:db8:0:1:8000::6")->value, "2001:db8:0:1:8000::/65");
  EXPECT_EQ(m.match("2001:db8:ffff::1")->value, "2001:db8::/32");
  EXPECT_EQ(m.match("2001:db9::1"), nullptr);
  EXPECT_EQ(m.match("[2001:db8:0:1::5]")->value, "2001:db8:0:1::5");
}

TEST(IpMatcher, MappedIpv6FindsIpv4Indicators) {
  ioc::IocSet set;
  set.add(ind(ioc::Type::kIpv4, "198.51.100.9"));
  auto m = IpMatcher::from(set);
  EXPECT_EQ(m.match("::ffff:198.51.100.9")->value, "198.51.100.9");
  uint8_t a[16];
  ASSERT_TRUE(scanners::parse_ipv6("::ffff:198.51.100.9", a));
  EXPECT_EQ(m.match_v6(a), nullptr);  // plain v6 lookup does not unmap
  EXPECT_NE(m.match_v6_or_mapped(a), nullptr);
}

TEST(IpMatcher, BadValuesAreIgnored) {
  IpMatcher m;
  EXPECT_FALSE(m.add(ind(ioc::Type::kCidr, "10.0.0.0/33")));
  EXPECT_FALSE(m.add(ind(ioc::Type::kCidr, "10.0.0.0/")));
  EXPECT_FALSE(m.add(ind(ioc::Type::kCidr, "10.0.0.0/-1")));
  EXPECT_FALSE(m.add(ind(ioc::Type::kCidr, "10.0.0.0/8x")));
  EXPECT_FALSE(m.add(ind(ioc::Type::kCidr, "::/129")));
  EXPECT_FALSE(m.add(ind(ioc::Type::kIpv4, "300.1.1.1")));
  EXPECT_FALSE(m.add(ind(ioc::Type::kIpv6, std::string(100, ':'))));
  EXPECT_FALSE(m.add(ind(ioc::Type::kIpv4, std::string("1.2.3.4\0", 8))));
  EXPECT_EQ(m.size(), 0u);
}

TEST(IpMatcher, FirstIndicatorWinsOnEqualPrefix) {
  ioc::IocSet set;
  set.add(ind(ioc::Type::kCidr, "10.0.0.0/8"));
  ioc::Indicator dup = ind(ioc::Type::kCidr, "10.0.0.0/8");
  IpMatcher m = IpMatcher::from(set);
  EXPECT_FALSE(m.add(dup));
  EXPECT_EQ(m.match("10.9.9.9"), &set.indicators[0]);
}

// Randomised agreement with a brute-force longest-prefix search.
TEST(IpMatcher, AgreesWithBruteForce) {
  std::mt19937 rng(42);
  ioc::IocSet set;
  struct Net {
    uint32_t net;
    int len;
  };
  std::vector<Net> nets;
  for (int i = 0; i < 2000; ++i) {
    int len = static_cast<int>(rng() % 33);
    uint32_t mask = len == 0 ? 0 : ~0u << (32 - len);
    // Concentrate in 10/8 so that prefixes overlap.
    uint32_t addr = (10u << 24) | (rng() & 0x00ffffff);
    uint32_t net = addr & mask;
    char buf[32];
    snprintf(buf, sizeof buf, "%u.%u.%u.%u/%d", net >> 24, (net >> 16) & 255, (net >> 8) & 255,
             net & 255, len);
    if (set.add(ind(ioc::Type::kCidr, buf))) nets.push_back({net, len});
  }
  auto m = IpMatcher::from(set);
  for (int i = 0; i < 20000; ++i) {
    uint32_t a = (i % 2 ? (10u << 24) : 0) | (rng() & (i % 2 ? 0x00ffffff : 0xffffffff));
    int best = -1;
    size_t best_i = 0;
    for (size_t k = 0; k < nets.size(); ++k) {
      uint32_t mask = nets[k].len == 0 ? 0 : ~0u << (32 - nets[k].len);
      if ((a & mask) == nets[k].net && nets[k].len > best) {
        best = nets[k].len;
        best_i = k;
      }
    }
    const auto* hit = m.match_v4(a);
    if (best < 0) {
      ASSERT_EQ(hit, nullptr);
    } else {
      ASSERT_NE(hit, nullptr);
      ASSERT_EQ(hit, &set.indicators[best_i]);
    }
  }
}

// Lookup cost does not grow with the number of host indicators (one prefix length).
TEST(IpMatcher, CostIndependentOfSize) {
  auto time_lookups = [](size_t n) {
    ioc::IocSet set;
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t a = 0x0a000000u + i * 7919u;
      char buf[20];
      snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
      set.add(ind(ioc::Type::kIpv4, buf));
    }
    auto m = IpMatcher::from(set);
    auto t0 = std::chrono::steady_clock::now();
    size_t hits = 0;
    for (uint32_t i = 0; i < 200000; ++i) hits += m.match_v4(0xc0000000u + i) != nullptr;
    EXPECT_EQ(hits, 0u);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  double small = time_lookups(10), large = time_lookups(100000);
  // Generous bound: a linear scan would be 10,000x slower.
  EXPECT_LT(large, small * 20 + 0.05) << "10 indicators " << small << " s, 100k " << large << " s";
}

namespace forage::scanners {
namespace {

// The /16 bitmap in front of the tables must never reject an address an indicator covers:
// prefixes from /8 (spanning 256 /16s) to /32, spread over the whole space, probed at and
// around their edges.
TEST(IpMatcher, PrefilterAgreesWithBruteForce) {
  std::mt19937 rng(7);
  ioc::IocSet set;
  std::vector<std::pair<uint32_t, int>> nets;
  for (int i = 0; i < 3000; ++i) {
    int len = 8 + static_cast<int>(rng() % 25);
    uint32_t net = rng() & (~0u << (32 - len));
    char buf[32];
    snprintf(buf, sizeof buf, "%u.%u.%u.%u/%d", net >> 24, (net >> 16) & 255, (net >> 8) & 255,
             net & 255, len);
    ioc::Indicator in;
    in.type = ioc::Type::kCidr;
    in.value = buf;
    if (set.add(in)) nets.push_back({net, len});
  }
  auto m = IpMatcher::from(set);
  for (int i = 0; i < 30000; ++i) {
    const auto& [net, len] = nets[rng() % nets.size()];
    uint32_t span = len == 32 ? 0 : ~0u >> len;
    uint32_t probes[] = {net, net + span, net + (span ? rng() % span : 0), net + span + 1,
                         net - 1, static_cast<uint32_t>(rng())};
    for (uint32_t a : probes) {
      bool covered = false;
      for (const auto& [n, l] : nets)
        if ((a & (~0u << (32 - l))) == n) covered = true;
      ASSERT_EQ(m.match_v4(a) != nullptr, covered) << a;
    }
    if (i > 2000) break;  // the brute force is quadratic; 2,000 rounds x 6 probes suffice
  }
  // IPv6 networks of /32 and longer are filtered too: a covered address still matches.
  ioc::IocSet six;
  ioc::Indicator a;
  a.type = ioc::Type::kCidr;
  a.value = "2001:db8:bad::/48";
  six.add(a);
  auto m6 = IpMatcher::from(six);
  EXPECT_NE(m6.match("2001:db8:bad:1::5"), nullptr);
  EXPECT_EQ(m6.match("2001:db8:bae::5"), nullptr);
  EXPECT_EQ(m6.match("2a00:1450::1"), nullptr);
}

}  // namespace
}  // namespace forage::scanners
