// Indicators indexed for the host scanners: O(1) lookups by hash, file name, path suffix and
// user name, IP/CIDR longest prefix (ip_match.h), and a search of free text (a command line, an
// environment) for every indicator type that can appear in one.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/hash.h"
#include "ioc/indicator.h"
#include "scanners/ip_match.h"
#include "scanners/report.h"

namespace forage::scanners {

class IocIndex {
 public:
  IocIndex() = default;
  // `set` must outlive the index (indicators are referenced).
  explicit IocIndex(const ioc::IocSet& set);

  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }

  // The digests worth computing: only the hash types present in the indicators.
  const std::vector<HashAlgo>& hash_algos() const { return algos_; }
  const ioc::Indicator* hash(HashAlgo algo, std::string_view hex) const;

  const ioc::Indicator* filename(std::string_view base) const;
  // "/tmp/.x/miner" matches that path, and the same path below a mount point
  // ("/mnt/image/tmp/.x/miner"); "~/.config/x" matches it below any directory.
  const ioc::Indicator* filepath(std::string_view path) const;
  const ioc::Indicator* username(std::string_view name) const;
  // An x509-dn indicator naming the same identity (ioc/dn_match.h: slash or RFC 2253 form, any
  // case, proxy CNs ignored).
  const ioc::Indicator* x509_dn(std::string_view dn) const;
  bool has_dns() const { return !dns_.empty(); }
  bool has_usernames() const { return !by_type_[idx(ioc::Type::kUsername)].empty(); }
  const IpMatcher& ips() const { return ips_; }
  bool has_filenames() const { return !by_type_[idx(ioc::Type::kFilename)].empty(); }
  bool has_filepaths() const { return !by_type_[idx(ioc::Type::kFilepath)].empty(); }

  // Every indicator found in free text, each once: words (user names, file names, domains,
  // e-mails, hashes, IPs and addresses inside CIDRs) by token, paths, URLs and DNs as substrings.
  std::vector<const ioc::Indicator*> in_text(std::string_view text) const;

 private:
  static size_t idx(ioc::Type t) { return static_cast<size_t>(t); }
  const ioc::Indicator* find(ioc::Type t, std::string_view v) const;

  std::vector<std::unordered_map<std::string, const ioc::Indicator*>> by_type_ =
      std::vector<std::unordered_map<std::string, const ioc::Indicator*>>(
          std::size(ioc::kAllTypes));
  std::vector<const ioc::Indicator*> substrings_;               // filepath, url, x509-dn
  std::unordered_map<std::string, const ioc::Indicator*> dns_;  // dn_match_keys -> x509-dn
  std::vector<HashAlgo> algos_;
  IpMatcher ips_;
  size_t count_ = 0;
};

// The "ioc" object of a finding: {"type","value","source","tlp","context"}.
Json ioc_json(const ioc::Indicator& ind);

}  // namespace forage::scanners
