// `forage collect` as a library call: the order of volatility (RFC 3227), one action-log entry
// per step, written into one evidence bundle. `forage sweep --collect-on-hit` calls it too, with
// the pids it found.
//
//   1 freeze (pidfds)  2 volatile state  3 memory (ELF cores)  4 executables and open files
//   5 grid context  6 disk artefacts (profile triage/full)  7 kill (--kill) or thaw
//   8 incident.json, sign, seal
//
// Kill last: the targets stay frozen while their disk evidence is read, so a parent script or a
// watchdog of the job cannot notice a death and wipe its directory first; the kill happens only
// when every earlier step has ended (completed, cut by a budget or abandoned at its deadline,
// each logged) and the output has just proved healthy (a checkpoint: everything so far durable).
//
// Every step has a deadline (host/deadline.h): a step that overruns is abandoned, logged as such,
// and the collection goes on. A SIGINT/SIGTERM (once host::install_stop_handlers() ran) winds
// every step down: no kill, the bundle is sealed under its .partial name with "interrupted" in
// the log, and the targets stay frozen.
//
// A failure of the output (disk full, closed pipe) stops the collection: the .partial bundle keeps
// every member completed before it, the processes stay frozen (not killed, not thawed) so the
// admin can retry elsewhere, and the log says how to resume or kill them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bundle/writer.h"
#include "collector/process.h"
#include "collector/profile.h"

namespace forage::collector {

struct CollectOptions {
  std::vector<int> pids;
  std::string user;
  const scanners::IocIndex* iocs = nullptr;
  std::string batch_job;
  // false (sweep): a named pid that has gone or is protected is recorded and left out
  // instead of being an error.
  bool strict_pids = true;
  Profile profile = Profile::kTriage;
  bool kill = false;
  bool keep_frozen = false;               // leave the targets frozen at the end (without --kill)
  uint64_t max_core_size = 0;             // per core; 0: no cap
  uint64_t max_file_size = 256ull << 20;  // recovered executables, deleted files, one artefact
  uint64_t max_bundle_size = 0;           // host artefacts in all; 0: none beyond row budgets
  int artifacts_deadline_s = 150;         // all host artefacts together
  std::string detected_by;
  std::string proc_root = "/proc";
  std::string cgroup_root;      // cgroup v2 mount point; empty: from /proc/self/mountinfo
  std::string host_root = "/";  // disk artefacts below this root
};

struct CollectResult {
  std::string bundle;  // final path ("-" for stdout)
  std::vector<int> targets;
  std::vector<int> frozen;
  std::vector<int> killed;
  std::vector<std::string> problems;  // what could not be collected, one line each
  bool interrupted = false;           // a SIGINT/SIGTERM: sealed as .partial, targets frozen
  bool incomplete() const { return !problems.empty() || interrupted; }
};

// Throws forage::Error (exit 2) for a bad target specification before anything is written, and
// forage::Error for an output failure (the processes then stay frozen; see above).
CollectResult collect(const CollectOptions& options, bundle::WriterOptions writer_options);

}  // namespace forage::collector
