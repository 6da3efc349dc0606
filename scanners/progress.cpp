#include "scanners/progress.h"

#include <chrono>
#include <cstdio>

namespace forage::scanners {

Progress::Progress(bool enabled, std::string what, uint64_t total_items, uint64_t total_bytes)
    : enabled_(enabled),
      what_(std::move(what)),
      total_items_(total_items),
      total_bytes_(total_bytes) {
  if (enabled_) thread_ = std::thread([this] { run(); });
}

Progress::~Progress() {
  if (!enabled_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
}

std::string Progress::line(double elapsed) const {
  uint64_t items = items_.load(), bytes = bytes_.load();
  double mib = bytes / 1048576.0;
  double rate = elapsed > 0 ? mib / elapsed : 0;
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(items));
  std::string out(buf, n);
  if (total_items_) out += "/" + std::to_string(total_items_);
  out += " " + what_;
  n = std::snprintf(buf, sizeof buf, ", %.1f", mib);
  out.append(buf, n);
  if (total_bytes_) {
    n = std::snprintf(buf, sizeof buf, "/%.1f", total_bytes_ / 1048576.0);
    out.append(buf, n);
  }
  n = std::snprintf(buf, sizeof buf, " MiB, %.1f MiB/s", rate);
  out.append(buf, n);
  if (total_bytes_ && rate > 0 && bytes <= total_bytes_) {
    double eta = (total_bytes_ - bytes) / 1048576.0 / rate;
    n = std::snprintf(buf, sizeof buf, ", ETA %.0fs", eta);
    out.append(buf, n);
  }
  return out;
}

void Progress::run() {
  auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; })) {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string l = "\r\033[K" + line(elapsed);
    std::fputs(l.c_str(), stderr);
    std::fflush(stderr);
  }
}

}  // namespace forage::scanners
