// What every scan counts for its closing summary line: targets scanned, skipped by reason, bytes,
// and the targets that could not be read (which make a clean run "incomplete", exit 3).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "scanners/report.h"

namespace forage::scanners {

class ScanStats {
 public:
  void scanned(uint64_t bytes) {
    scanned_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }
  // A target left out. `incomplete`: it should have been scanned and could not be (unreadable,
  // YARA timeout...), which the exit code reports; `target` and `why` are logged and the first
  // ones listed in the summary.
  void skipped(const std::string& reason, const std::string& target = "", bool incomplete = false,
               const std::string& why = "");

  // A counter of the summary grouped under `group`: bump("regions", "scanned") gives
  // "regions": {"scanned": n}.
  void bump(const std::string& group, const std::string& key, uint64_t n = 1);

  uint64_t scanned_count() const { return scanned_.load(); }
  uint64_t bytes() const { return bytes_.load(); }
  bool incomplete() const;
  uint64_t skipped_count(const std::string& reason) const;

  // {"targets_scanned","skipped":{reason:n},"bytes","seconds","incomplete":[...]} plus extra.
  Json summary(double seconds) const;

 private:
  std::atomic<uint64_t> scanned_{0}, bytes_{0};
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> skipped_;
  std::map<std::string, std::map<std::string, uint64_t>> groups_;
  std::vector<std::string> incomplete_;
  uint64_t incomplete_count_ = 0;
};

}  // namespace forage::scanners
