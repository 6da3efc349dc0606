// `forage sweep`: every host scan in one run, minutes after a broadcast, on a node that keeps
// running other people's jobs. Phases in order of how fast evidence disappears: live sockets,
// processes (memory and identity), files of the usual hiding places, logs, captures. One shared
// Reporter; one time budget that every phase checks (what it cuts is "skipped":{"budget":N} and
// makes the run incomplete); CPU and I/O pacing by sleeping between chunks of work. Then, with
// --collect-on-hit, the processes the findings named are collected (on_hit.h).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ioc/indicator.h"
#include "scanners/report.h"
#include "sweep/on_hit.h"

namespace forage::sweep {

using Json = scanners::Json;

inline constexpr const char* kSweepPhases[] = {"net", "procs", "files", "logs", "pcap"};

struct SweepOptions {
  std::vector<std::string> iocs;   // required
  bool allow_empty_iocs = false;   // with rules: an --iocs without indicators is not an error
  std::string expect_digest;       // "sha256:HEX": refuse any other broadcast (exit 2)
  std::vector<std::string> rules;  // empty: the built-in rules
  bool no_rules = false;
  std::vector<std::string> paths;      // scanned in addition to the hiding places
  bool no_default_paths = false;       // only --paths (tests, targeted sweeps)
  std::vector<std::string> log_paths;  // empty: the usual log locations
  std::vector<std::string> pcaps;
  std::vector<std::string> skip_phases;  // names of kSweepPhases
  double budget_s = 600;
  double max_cpu = 0;     // percent of one CPU, averaged over the run; 0: no limit
  double io_rate_mb = 0;  // MB/s read from files and logs; 0: no limit
  unsigned threads = 1;   // scan threads (files, procs)
  uint64_t max_size = 64ull << 20;
  uint64_t max_region = 64ull << 20;
  int yara_timeout_s = 30;
  std::string proc_root = "/proc";
  std::string passwd = "/etc/passwd";
  std::string case_id;  // default: the broadcast's case tag
  std::string tlp;      // default: the broadcast's label, else AMBER
  std::string version;  // forage's version, for the summary
  bool json = false;
  // --collect-on-hit: after the phases, when findings named processes, before the node summary
  // is written (sweep/on_hit.h); what it did is the summary's "collected".
  std::optional<CollectOnHit> collect_on_hit;
};

struct SweepResult {
  int exit_code = 0;       // 0 clean, 1 findings, 3 incomplete
  std::set<int> hit_pids;  // processes named by findings (for --collect-on-hit)
  ioc::IocSet iocs;
};

// The usual hiding places that exist on this host (under `root`, "" for /): temporary
// directories, shared memory, cron and systemd unit directories, and the dot-files and
// dot-directories of every home directory.
std::vector<std::string> hiding_places(const std::string& root = "");

// SHA-256 of `forage ioc parse --format tsv` of the set: the same broadcast gives the same
// digest on every node, whatever the order or duplicates of its indicators.
std::string indicator_digest(const ioc::IocSet& set);

// Throws forage::Error (exit 2) for usage and input errors before anything is scanned. Findings
// and the node summary go to `out`; the pids the findings named are also logged at the end.
SweepResult run_sweep(const SweepOptions& opts, std::FILE* out = stdout);

}  // namespace forage::sweep
