// `scan files`: every regular file under the paths given, read once; the same bytes feed YARA,
// the hashes (only the types the indicators need) and libmagic. Largest files first over a
// shared queue, so one huge file does not leave the other threads idle at the end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/accounts.h"
#include "host/walk.h"
#include "scanners/ioc_match.h"
#include "scanners/report.h"
#include "scanners/scan_stats.h"
#include "scanners/yara_rules.h"

namespace forage::scanners {

using host::WalkEntry;
using host::WalkOptions;

// The walk of host/walk.h with what it leaves out counted in `stats` by reason.
std::vector<WalkEntry> walk(const WalkOptions& opts, ScanStats& stats);

// What a host scan matches against; shared by files, procs and net.
struct ScanInputs {
  const YaraRules* rules = nullptr;        // null: no YARA
  const IocIndex* iocs = nullptr;          // null or empty: no indicators
  const host::UserNames* users = nullptr;  // null: owners as numbers
  int yara_timeout_s = 60;                 // per target (file, memory region); 0: none
};

struct FileScanOptions {
  WalkOptions walk;
  unsigned threads = 0;  // 0: one per core
  bool progress = false;
  // Files of at least this many bytes are mapped (no copy: the saving is kernel time), smaller
  // ones read into a reused buffer (cheaper than mmap+munmap). Findings are the same either way;
  // a mapped file truncated while it is scanned is reported unreadable instead of half-scanned.
  uint64_t map_min_size = 64 * 1024;
};

// Findings go to `sink`, counts to `stats`. Never throws for a bad target (it is counted);
// throws forage::Error only for a problem of the run itself.
void scan_files(const FileScanOptions& opts, const ScanInputs& in, FindingSink& sink,
                ScanStats& stats);

// The scan stage alone, over a walk's result (largest first is the caller's choice): files
// gone or replaced since the walk are counted as "vanished" or "changed".
void scan_entries(const std::vector<WalkEntry>& entries, const FileScanOptions& opts,
                  const ScanInputs& in, FindingSink& sink, ScanStats& stats);

// Directories where an executable is suspicious by itself.
bool in_temp_dir(const std::string& path);

// The "yara" finding for a match, with its target fields already set in `target`.
Finding yara_finding(Json target, const YaraMatch& m);

}  // namespace forage::scanners
