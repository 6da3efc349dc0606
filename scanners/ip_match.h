// Longest-prefix lookup of IP addresses against ipv4, ipv6 and cidr indicators.
// Shared by the socket scanner (scan net, this folder) and the capture scanner (scan pcap):
// keep it free of anything specific to either.
//
// Cost of a lookup is independent of the number of indicators: one hash table per prefix length
// present in the set, probed from the longest length down, so at most 33 (IPv4) or 129 (IPv6)
// probes and, for a typical broadcast (hosts plus a few /24s), two or three. The IPv4 tables
// are flat (open addressing, network and indicator number in one 64-bit slot): a probe is one
// multiply and, mostly, one cache line, which is what a capture where most packets match pays.
// Before any probe an 8 KiB bitmap (one bit per /16 for IPv4, per hashed /32 for IPv6) that stays
// in L1 rejects addresses no indicator can cover: with 100,000 indicators the tables outgrow the
// caches, and most packets of a capture match nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ioc/indicator.h"

namespace forage::scanners {

class IpMatcher {
 public:
  IpMatcher() = default;

  // Every ipv4, ipv6 and cidr indicator of `set`; other types are ignored. The indicators are
  // referenced, not copied: `set` must outlive the matcher. When an address and a CIDR overlap,
  // the most specific (longest prefix) wins; equal prefixes keep the first indicator.
  static IpMatcher from(const ioc::IocSet& set);

  // Adds one indicator; false when it is not a valid ipv4, ipv6 or cidr value or the same
  // network is already present (the first indicator is kept).
  bool add(const ioc::Indicator& ind);

  // The most specific indicator containing the address, or nullptr.
  const ioc::Indicator* match_v4(uint32_t addr_host_order) const;
  const ioc::Indicator* match_v6(const uint8_t addr[16]) const;
  // IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are also looked up as IPv4.
  const ioc::Indicator* match_v6_or_mapped(const uint8_t addr[16]) const;
  // Text form ("10.1.2.3", "2001:db8::1"); nullptr when not an address or no match.
  const ioc::Indicator* match(std::string_view addr) const;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct Key6 {
    uint64_t hi = 0, lo = 0;
    bool operator==(const Key6&) const = default;
  };
  struct Hash6 {
    size_t operator()(const Key6& k) const {
      return std::hash<uint64_t>()(k.hi * 0x9E3779B97F4A7C15ull ^ k.lo);
    }
  };
  // Prefix lengths present, longest first; tables indexed by prefix length.
  std::vector<int> lens4_, lens6_;
  // Linear probing, load <= 1/2: a slot holds the network (high 32 bits) and 1 + the index of
  // its indicator in inds4_ (low 32 bits; 0: empty).
  struct Table4 {
    std::vector<uint64_t> slots;
    size_t used = 0;
    int shift = 64;                     // 64 - log2(slots.size())
    uint32_t find(uint32_t net) const;  // 1 + index, or 0
    void insert(uint32_t net, uint32_t index_plus_1);
  };
  std::array<Table4, 33> v4_;
  std::vector<const ioc::Indicator*> inds4_;
  std::array<std::unordered_map<Key6, const ioc::Indicator*, Hash6>, 129> v6_;
  size_t size_ = 0;
  std::array<uint64_t, 1024> filter4_{};  // bit (addr >> 16): some indicator covers that /16
  std::array<uint64_t, 1024> filter6_{};  // bit hash(first 32 bits); unused when any len < 32
  bool filter6_off_ = false;

  bool add_v4(uint32_t net, int len, const ioc::Indicator* ind);
  bool add_v6(const uint8_t net[16], int len, const ioc::Indicator* ind);
};

// Parsing helpers shared with the /proc readers and tests.
std::optional<uint32_t> parse_ipv4(std::string_view s);  // host order
bool parse_ipv6(std::string_view s, uint8_t out[16]);

}  // namespace forage::scanners
