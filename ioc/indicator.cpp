#include "ioc/indicator.h"

#include <algorithm>
#include <array>

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

bool is_network(Type t) { return t == Type::kIpv4 || t == Type::kIpv6 || t == Type::kCidr; }

std::string Source::display() const {
  std::string out = file;
  if (!part.empty()) out += "!" + part;
  if (!json_path.empty()) out += "#" + json_path;
  if (line > 0) out += ":" + std::to_string(line);
  return out;
}

bool IocSet::add(Indicator ind) {
  std::string key(type_name(ind.type));
  key += '\t';
  key += ind.value;
  if (!seen_.insert(std::move(key)).second) return false;
  indicators.push_back(std::move(ind));
  return true;
}

void IocSet::merge(IocSet&& other) {
  for (auto& ind : other.indicators) add(std::move(ind));
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
