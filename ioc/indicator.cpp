#include "ioc/indicator.h"

#include <algorithm>
#include <array>
#include <functional>

#include <sys/mman.h>

#include "common/error.h"
#include "common/strings.h"
#include "ioc/tlp.h"

namespace forage::ioc {
namespace {

constexpr std::array<std::pair<Type, std::string_view>, 14> kNames{{
    {Type::kIpv4, "ipv4"},
    {Type::kIpv6, "ipv6"},
    {Type::kCidr, "cidr"},
    {Type::kDomain, "domain"},
    {Type::kUrl, "url"},
    {Type::kEmail, "email"},
    {Type::kMd5, "md5"},
    {Type::kSha1, "sha1"},
    {Type::kSha256, "sha256"},
    {Type::kSha512, "sha512"},
    {Type::kFilename, "filename"},
    {Type::kFilepath, "filepath"},
    {Type::kUsername, "username"},
    {Type::kX509Dn, "x509-dn"},
}};

}  // namespace

std::string_view type_name(Type t) {
  for (const auto& [type, name] : kNames)
    if (type == t) return name;
  return "unknown";
}

std::optional<Type> type_from_name(std::string_view name) {
  for (const auto& [type, n] : kNames)
    if (iequals(n, name)) return type;
  return std::nullopt;
}

bool is_hash(Type t) {
  return t == Type::kMd5 || t == Type::kSha1 || t == Type::kSha256 || t == Type::kSha512;
}

bool is_network(Type t) {
  return t == Type::kIpv4 || t == Type::kIpv6 || t == Type::kCidr;
}

std::string Source::display() const {
  std::string out = file;
  if (!part.empty()) out += "!" + part;
  if (!json_path.empty()) out += "#" + json_path;
  if (line > 0) out += ":" + std::to_string(line);
  return out;
}

namespace {
// Asks for 2 MiB pages under [p, p + bytes) (where transparent huge pages are "madvise"-only):
// one fault then fills 2 MiB instead of 4 KiB, and faults were a third of the run on a 16 MiB
// broadcast. The range is a heap block we own; the advice changes nothing a program can see.
void advise_huge_pages(const void* p, size_t bytes) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  auto b = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  auto e = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (e > b) ::madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);
}

uint64_t key_hash(Type t, std::string_view value) {
  return std::hash<std::string_view>{}(value) ^ (uint64_t(t) * 0x9E3779B97F4A7C15ull);
}
uint32_t tag_of(uint64_t h) {
  return static_cast<uint32_t>(h >> 32);
}
}  // namespace

// The slot holding (t, value), or the empty slot where it would go. Never full: load <= 1/2.
size_t IocSet::find_slot(uint64_t h, Type t, std::string_view value) const {
  const size_t mask = slots_.size() - 1;
  const uint32_t tag = tag_of(h);
  size_t i = h & mask;
  for (; slots_[i].index != UINT32_MAX; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.tag == tag && indicators[s.index].type == t && indicators[s.index].value == value) break;
  }
  return i;
}

void IocSet::place(uint64_t h, uint32_t index) {
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i].index != UINT32_MAX) i = (i + 1) & mask;
  slots_[i] = {tag_of(h), index};
}

void IocSet::rehash(size_t slots) {
  slots_.assign(slots, Slot{});
  for (size_t i = 0; i < indicators.size(); ++i)
    place(key_hash(indicators[i].type, indicators[i].value), static_cast<uint32_t>(i));
}

void IocSet::reserve(size_t n) {
  if (n > indicators.capacity()) {
    indicators.reserve(n);
    advise_huge_pages(indicators.data(), n * sizeof(Indicator));
  }
  size_t slots = 64;
  while (slots < n * 2) slots *= 2;
  if (slots > slots_.size()) {
    std::vector<Slot>().swap(slots_);
    slots_.reserve(slots);
    advise_huge_pages(slots_.data(), slots * sizeof(Slot));
    rehash(slots);
  }
}

bool IocSet::contains(Type t, std::string_view value) const {
  if (slots_.empty()) return false;
  return slots_[find_slot(key_hash(t, value), t, value)].index != UINT32_MAX;
}

bool IocSet::add(Indicator ind) {
  if (indicators.size() >= UINT32_MAX - 1)
    throw Error("more than 4 billion indicators: split the input", Exit::kUsage);
  if ((indicators.size() + 1) * 2 > slots_.size()) rehash(std::max<size_t>(64, slots_.size() * 2));
  uint64_t h = key_hash(ind.type, ind.value);
  size_t i = find_slot(h, ind.type, ind.value);
  if (slots_[i].index != UINT32_MAX) return false;
  slots_[i] = {tag_of(h), static_cast<uint32_t>(indicators.size())};
  indicators.push_back(std::move(ind));
  return true;
}

void IocSet::merge(IocSet&& other) {
  if (indicators.empty()) {
    // The common case (one reader's part into an empty set): take it whole, index included.
    indicators = std::move(other.indicators);
    slots_ = std::move(other.slots_);
  } else {
    indicators.reserve(indicators.size() + other.indicators.size());
    for (auto& ind : other.indicators) add(std::move(ind));
  }
  tlp = stricter_tlp(tlp, other.tlp);
  if (case_tag.empty()) case_tag = other.case_tag;
  for (auto& s : other.sources) sources.push_back(std::move(s));
  for (auto& n : other.notes) notes.push_back(std::move(n));
  for (auto& e : other.errors) errors.push_back(std::move(e));
}

size_t IocSet::count(Type t) const {
  return static_cast<size_t>(std::count_if(indicators.begin(), indicators.end(),
                                           [t](const Indicator& i) { return i.type == t; }));
}

std::string make_context(std::string_view line, size_t max) {
  std::string out;
  bool space = false;
  for (char c : trim(line)) {
    bool ws = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (ws) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    if (out.size() >= max) {
      out += "...";
      break;
    }
    out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  }
  return out;
}

}  // namespace forage::ioc
