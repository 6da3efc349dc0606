#include "scanners/scan_stats.h"

#include <cmath>

#include <spdlog/spdlog.h>

#include "common/strings.h"

namespace forage::scanners {

namespace {
constexpr size_t kMaxListed = 100;
}

void ScanStats::skipped(const std::string& reason, const std::string& target, bool incomplete,
                        const std::string& why) {
  std::string line = printable(target, 4096) + (why.empty() ? "" : ": " + why);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++skipped_[reason];
    if (incomplete) {
      ++incomplete_count_;
      if (incomplete_.size() < kMaxListed) incomplete_.push_back(line);
    }
  }
  if (incomplete)
    spdlog::warn("not scanned ({}): {}", reason, line);
  else if (!target.empty())
    spdlog::debug("skipped ({}): {}", reason, line);
}

void ScanStats::bump(const std::string& group, const std::string& key, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  groups_[group][key] += n;
}

bool ScanStats::incomplete() const {
  std::lock_guard<std::mutex> lock(mu_);
  return incomplete_count_ > 0;
}

uint64_t ScanStats::skipped_count(const std::string& reason) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = skipped_.find(reason);
  return it == skipped_.end() ? 0 : it->second;
}

Json ScanStats::summary(double seconds) const {
  std::lock_guard<std::mutex> lock(mu_);
  Json s;
  s["targets_scanned"] = scanned_.load();
  Json sk = Json::object();
  uint64_t total = 0;
  for (const auto& [r, n] : skipped_) {
    sk[r] = n;
    total += n;
  }
  s["targets_skipped"] = total;
  s["skipped"] = sk;
  s["bytes"] = bytes_.load();
  s["seconds"] = std::round(seconds * 1000) / 1000;
  for (const auto& [g, counters] : groups_) {
    Json c = Json::object();
    for (const auto& [k, n] : counters) c[k] = n;
    s[g] = c;
  }
  s["incomplete"] = incomplete_count_ > 0;
  if (incomplete_count_ > 0) {
    s["incomplete_targets"] = incomplete_;
    if (incomplete_count_ > incomplete_.size())
      s["incomplete_targets_more"] = incomplete_count_ - incomplete_.size();
  }
  return s;
}

}  // namespace forage::scanners
