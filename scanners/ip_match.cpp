#include "scanners/ip_match.h"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <string>

namespace forage::scanners {
namespace {

uint32_t mask4(int len) {
  return len == 0 ? 0 : ~uint32_t{0} << (32 - len);
}

uint64_t load_be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

uint64_t mask64(int bits) {  // the top `bits` bits of a 64-bit word (0..64)
  if (bits <= 0) return 0;
  if (bits >= 64) return ~uint64_t{0};
  return ~uint64_t{0} << (64 - bits);
}

void insert_sorted_desc(std::vector<int>& lens, int len) {
  auto it = std::lower_bound(lens.begin(), lens.end(), len, std::greater<int>());
  if (it == lens.end() || *it != len) lens.insert(it, len);
}

}  // namespace

std::optional<uint32_t> parse_ipv4(std::string_view s) {
  if (s.empty() || s.size() > 15) return std::nullopt;
  char buf[16];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  in_addr a{};
  if (inet_pton(AF_INET, buf, &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

bool parse_ipv6(std::string_view s, uint8_t out[16]) {
  if (!s.empty() && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.empty() || s.size() > 45) return false;
  char buf[46];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  in6_addr a{};
  if (inet_pton(AF_INET6, buf, &a) != 1) return false;
  std::memcpy(out, a.s6_addr, 16);
  return true;
}

IpMatcher IpMatcher::from(const ioc::IocSet& set) {
  IpMatcher m;
  for (const auto& ind : set.indicators) m.add(ind);
  return m;
}

bool IpMatcher::add(const ioc::Indicator& ind) {
  std::string_view v = ind.value;
  if (v.find('\0') != std::string_view::npos) return false;
  int len = -1;
  if (ind.type == ioc::Type::kCidr) {
    auto slash = v.find('/');
    if (slash == std::string_view::npos) return false;
    std::string_view l = v.substr(slash + 1);
    int n = -1;
    auto [p, ec] = std::from_chars(l.data(), l.data() + l.size(), n);
    if (ec != std::errc() || p != l.data() + l.size() || n < 0) return false;
    len = n;
    v = v.substr(0, slash);
  } else if (ind.type != ioc::Type::kIpv4 && ind.type != ioc::Type::kIpv6) {
    return false;
  }
  if (auto a4 = parse_ipv4(v)) {
    if (len < 0) len = 32;
    if (len > 32) return false;
    return add_v4(*a4, len, &ind);
  }
  uint8_t a6[16];
  if (parse_ipv6(v, a6)) {
    if (len < 0) len = 128;
    if (len > 128) return false;
    return add_v6(a6, len, &ind);
  }
  return false;
}

namespace {
bool test_bit(const std::array<uint64_t, 1024>& f, uint32_t i) {
  return (f[i >> 6] >> (i & 63)) & 1;
}
void set_bit(std::array<uint64_t, 1024>& f, uint32_t i) {
  f[i >> 6] |= uint64_t{1} << (i & 63);
}
uint32_t slot6(uint64_t hi) {
  return static_cast<uint32_t>(((hi >> 32) * 0x9E3779B97F4A7C15ull) >> 48);
}
}  // namespace

uint32_t IpMatcher::Table4::find(uint32_t net) const {
  if (slots.empty()) return 0;
  const size_t mask = slots.size() - 1;
  for (size_t i = (net * 0x9E3779B97F4A7C15ull) >> shift;; i = (i + 1) & mask) {
    const uint64_t slot = slots[i];
    if (slot == 0) return 0;
    if (static_cast<uint32_t>(slot >> 32) == net) return static_cast<uint32_t>(slot);
  }
}

void IpMatcher::Table4::insert(uint32_t net, uint32_t index_plus_1) {
  if ((used + 1) * 2 > slots.size()) {
    std::vector<uint64_t> old(slots.empty() ? 16 : slots.size() * 2, 0);
    old.swap(slots);
    shift = 64 - std::countr_zero(slots.size());
    used = 0;
    for (uint64_t s : old)
      if (s) insert(static_cast<uint32_t>(s >> 32), static_cast<uint32_t>(s));
  }
  const size_t mask = slots.size() - 1;
  size_t i = (net * 0x9E3779B97F4A7C15ull) >> shift;
  while (slots[i]) i = (i + 1) & mask;
  slots[i] = (uint64_t{net} << 32) | index_plus_1;
  ++used;
}

bool IpMatcher::add_v4(uint32_t net, int len, const ioc::Indicator* ind) {
  net &= mask4(len);
  if (v4_[len].find(net)) return false;
  inds4_.push_back(ind);
  v4_[len].insert(net, static_cast<uint32_t>(inds4_.size()));
  uint32_t first = net >> 16;
  uint32_t count = len >= 16 ? 1 : 1u << (16 - len);  // the /16s a short prefix spans
  for (uint32_t k = 0; k < count; ++k) set_bit(filter4_, first + k);
  insert_sorted_desc(lens4_, len);
  ++size_;
  return true;
}

bool IpMatcher::add_v6(const uint8_t net[16], int len, const ioc::Indicator* ind) {
  Key6 k{load_be64(net) & mask64(len), load_be64(net + 8) & mask64(len - 64)};
  if (!v6_[len].emplace(k, ind).second) return false;
  if (len < 32)
    filter6_off_ = true;  // spans many /32s: no filtering for IPv6
  else
    set_bit(filter6_, slot6(k.hi));
  insert_sorted_desc(lens6_, len);
  ++size_;
  return true;
}

const ioc::Indicator* IpMatcher::match_v4(uint32_t addr) const {
  if (!test_bit(filter4_, addr >> 16)) return nullptr;
  for (int len : lens4_)
    if (uint32_t i = v4_[len].find(addr & mask4(len))) return inds4_[i - 1];
  return nullptr;
}

const ioc::Indicator* IpMatcher::match_v6(const uint8_t addr[16]) const {
  if (lens6_.empty()) return nullptr;
  uint64_t hi = load_be64(addr), lo = load_be64(addr + 8);
  if (!filter6_off_ && !test_bit(filter6_, slot6(hi))) return nullptr;
  for (int len : lens6_) {
    const auto& table = v6_[len];
    auto it = table.find(Key6{hi & mask64(len), lo & mask64(len - 64)});
    if (it != table.end()) return it->second;
  }
  return nullptr;
}

const ioc::Indicator* IpMatcher::match_v6_or_mapped(const uint8_t addr[16]) const {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(addr, kMapped, 12) == 0) {
    uint32_t v4 = (uint32_t{addr[12]} << 24) | (uint32_t{addr[13]} << 16) |
                  (uint32_t{addr[14]} << 8) | addr[15];
    if (const auto* hit = match_v4(v4)) return hit;
  }
  return match_v6(addr);
}

const ioc::Indicator* IpMatcher::match(std::string_view addr) const {
  if (auto a4 = parse_ipv4(addr)) return match_v4(*a4);
  uint8_t a6[16];
  if (parse_ipv6(addr, a6)) return match_v6_or_mapped(a6);
  return nullptr;
}

}  // namespace forage::scanners
