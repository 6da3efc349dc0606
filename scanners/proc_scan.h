// `scan procs`: YARA over the memory of live processes, region by region through
// /proc/PID/mem (no ptrace, the process keeps running), and each process's executable, owner,
// command line and environment against the indicators.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scanners/file_scan.h"

namespace forage::scanners {

struct ProcScanOptions {
  std::string proc_root = "/proc";
  std::vector<int> pids;                  // empty: every process
  uint64_t max_region_size = 256u << 20;  // larger regions are scanned in their first bytes only
  unsigned threads = 0;                   // 0: one per core
  bool progress = false;
};

void scan_procs(const ProcScanOptions& opts, const ScanInputs& in, FindingSink& sink,
                ScanStats& stats);

}  // namespace forage::scanners
