// Progress of a long scan on a terminal (files, bytes, rate, ETA) on stderr, redrawn in place a
// few times a second. Never anything when stderr is not a terminal: pipes and logs stay clean.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace forage::scanners {

class Progress {
 public:
  // enabled: usually isatty(STDERR_FILENO). Totals may be 0 when unknown (no ETA then).
  Progress(bool enabled, std::string what, uint64_t total_items, uint64_t total_bytes);
  ~Progress();  // stops the drawing thread and clears the line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void add(uint64_t items, uint64_t bytes) {
    items_.fetch_add(items, std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }
  // The line as drawn (for tests): "1200/5000 files, 310.0/900.0 MiB, 95.2 MiB/s, ETA 6s".
  std::string line(double elapsed_s) const;

 private:
  void run();
  bool enabled_;
  std::string what_;
  uint64_t total_items_, total_bytes_;
  std::atomic<uint64_t> items_{0}, bytes_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace forage::scanners
