#include "scanners/ioc_match.h"

#include <algorithm>
#include <unordered_set>

#include "common/strings.h"
#include "ioc/dn_match.h"

namespace forage::scanners {

IocIndex::IocIndex(const ioc::IocSet& set) {
  for (const auto& ind : set.indicators) {
    auto& table = by_type_[idx(ind.type)];
    if (!table.emplace(ind.value, &ind).second) continue;
    ++count_;
    switch (ind.type) {
      case ioc::Type::kIpv4:
      case ioc::Type::kIpv6:
      case ioc::Type::kCidr:
        ips_.add(ind);
        break;
      case ioc::Type::kFilepath:
      case ioc::Type::kUrl:
      case ioc::Type::kX509Dn:
        substrings_.push_back(&ind);
        for (auto& k : ioc::dn_match_keys(ind.value)) dns_.emplace(std::move(k), &ind);
        break;
      default:
        break;
    }
  }
  const std::pair<ioc::Type, HashAlgo> hashes[] = {{ioc::Type::kMd5, HashAlgo::kMd5},
                                                   {ioc::Type::kSha1, HashAlgo::kSha1},
                                                   {ioc::Type::kSha256, HashAlgo::kSha256},
                                                   {ioc::Type::kSha512, HashAlgo::kSha512}};
  for (auto [t, algo] : hashes)
    if (!by_type_[idx(t)].empty()) algos_.push_back(algo);
}

const ioc::Indicator* IocIndex::find(ioc::Type t, std::string_view v) const {
  const auto& table = by_type_[idx(t)];
  if (table.empty()) return nullptr;
  auto it = table.find(std::string(v));
  return it == table.end() ? nullptr : it->second;
}

const ioc::Indicator* IocIndex::hash(HashAlgo algo, std::string_view hex) const {
  switch (algo) {
    case HashAlgo::kMd5:
      return find(ioc::Type::kMd5, hex);
    case HashAlgo::kSha1:
      return find(ioc::Type::kSha1, hex);
    case HashAlgo::kSha256:
      return find(ioc::Type::kSha256, hex);
    case HashAlgo::kSha512:
      return find(ioc::Type::kSha512, hex);
  }
  return nullptr;
}

const ioc::Indicator* IocIndex::filename(std::string_view base) const {
  return find(ioc::Type::kFilename, base);
}

const ioc::Indicator* IocIndex::username(std::string_view name) const {
  return find(ioc::Type::kUsername, name);
}

const ioc::Indicator* IocIndex::x509_dn(std::string_view dn) const {
  if (dns_.empty()) return nullptr;
  for (const auto& k : ioc::dn_match_keys(dn))
    if (auto it = dns_.find(k); it != dns_.end()) return it->second;
  return nullptr;
}

const ioc::Indicator* IocIndex::filepath(std::string_view path) const {
  const auto& table = by_type_[idx(ioc::Type::kFilepath)];
  if (table.empty() || path.empty()) return nullptr;
  if (const auto* hit = find(ioc::Type::kFilepath, path)) return hit;
  // Every suffix that starts at a '/': the same path below a mount point, and "~/..." paths.
  for (size_t pos = path.find('/', 1); pos != std::string_view::npos;
       pos = path.find('/', pos + 1)) {
    std::string_view suffix = path.substr(pos);
    if (const auto* hit = find(ioc::Type::kFilepath, suffix)) return hit;
    if (const auto* hit = find(ioc::Type::kFilepath, "~" + std::string(suffix))) return hit;
  }
  return nullptr;
}

std::vector<const ioc::Indicator*> IocIndex::in_text(std::string_view text) const {
  std::vector<const ioc::Indicator*> out;
  std::unordered_set<const ioc::Indicator*> seen;
  auto add = [&](const ioc::Indicator* ind) {
    if (ind && seen.insert(ind).second) out.push_back(ind);
  };
  if (count_ == 0) return out;

  static constexpr char kDelimChars[] = " \t\r\n\0=,;\"'()<>|&`{}*";
  static constexpr std::string_view kDelims{kDelimChars, sizeof kDelimChars - 1};
  size_t i = 0;
  while (i < text.size()) {
    size_t start = text.find_first_not_of(kDelims, i);
    if (start == std::string_view::npos) break;
    size_t end = text.find_first_of(kDelims, start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view tok = text.substr(start, end - start);
    i = end;
    if (tok.size() > 4096) continue;
    for (auto t : {ioc::Type::kUsername, ioc::Type::kFilename, ioc::Type::kIpv4, ioc::Type::kIpv6,
                   ioc::Type::kFilepath})
      add(find(t, tok));
    std::string lower = to_lower(tok);
    for (auto t : {ioc::Type::kEmail, ioc::Type::kMd5, ioc::Type::kSha1, ioc::Type::kSha256,
                   ioc::Type::kSha512})
      add(find(t, lower));
    if (auto slash = tok.rfind('/'); slash != std::string_view::npos)
      add(find(ioc::Type::kFilename, tok.substr(slash + 1)));
    // user@host: both halves.
    if (auto at = tok.find('@'); at != std::string_view::npos && at > 0) {
      add(find(ioc::Type::kUsername, tok.substr(0, at)));
      lower = lower.substr(at + 1);
    }
    // host[:port] or [v6]:port or a bare address, alone or inside a URL.
    std::string_view host = lower;
    if (auto scheme = host.find("://"); scheme != std::string_view::npos) {
      host = host.substr(scheme + 3);
      host = host.substr(0, host.find_first_of("/?#"));
      if (auto at = host.rfind('@'); at != std::string_view::npos) host = host.substr(at + 1);
    }
    if (!host.empty() && host.front() == '[') {
      auto close = host.find(']');
      host = close == std::string_view::npos ? host.substr(1) : host.substr(1, close - 1);
    } else if (std::count(host.begin(), host.end(), ':') == 1) {
      host = host.substr(0, host.find(':'));
    }
    if (!ips_.empty()) add(ips_.match(host));
    // The domain and each parent domain ("a.evil.example.com" is in "evil.example.com").
    if (!by_type_[idx(ioc::Type::kDomain)].empty()) {
      for (size_t dot = 0; dot != std::string_view::npos;) {
        std::string_view d = host.substr(dot);
        if (d.find('.') == std::string_view::npos) break;
        add(find(ioc::Type::kDomain, d));
        dot = host.find('.', dot);
        if (dot != std::string_view::npos) ++dot;
      }
    }
  }
  for (const auto* ind : substrings_) {
    std::string_view v = ind->value;
    if (ind->type == ioc::Type::kFilepath && v.rfind("~/", 0) == 0) v.remove_prefix(1);
    if (v.size() >= 3 && text.find(v) != std::string_view::npos) add(ind);
  }
  return out;
}

Json ioc_json(const ioc::Indicator& ind) {
  Json j;
  j["type"] = std::string(ioc::type_name(ind.type));
  j["value"] = ind.value;
  j["source"] = ind.source.display();
  j["tlp"] = ind.tlp;
  if (!ind.context.empty()) j["context"] = ind.context;
  return j;
}

}  // namespace forage::scanners
