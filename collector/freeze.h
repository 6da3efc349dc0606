// Freezing target processes and their process trees so nothing changes or escapes while they are
// read (issue 6 step 1).
//
// cgroup v2: when a target's cgroup holds only processes being frozen (a batch job's own cgroup,
// typically), its cgroup.freeze is set: the whole job stops at once and cannot fork away. The v2
// hierarchy is found in /proc/self/mountinfo: /sys/fs/cgroup on a unified host, often
// /sys/fs/cgroup/unified on the hybrid set-ups of EL8-era worker nodes.
// Otherwise every thread group gets SIGSTOP, children before parents, and the tree is re-read
// until no new child appears. Each process is then checked stopped (every thread in state T/t in
// /proc, or the cgroup reports "frozen 1").
//
// Every process is held by a pidfd from the moment it is frozen (host/process_ref.h): the thaw
// and the kill reach exactly the processes that were frozen, never a recycled pid.
//
// The Freezer thaws in its destructor unless keep_frozen() (a collection that failed midway: the
// admin retries elsewhere while the processes stay frozen) or killed() was called.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/process_ref.h"

namespace forage::collector {

struct FrozenProcess {
  int pid = 0;
  std::string method;  // "cgroup:/sys/fs/cgroup/..." or "SIGSTOP"
  bool verified = false;
  bool target = false;       // named by the operator (not a descendant)
  bool was_stopped = false;  // already stopped before forage came: left stopped by thaw()
  std::string problem;       // why it is not verified / not frozen
  std::optional<host::ProcessRef> ref;  // held from the freeze to the thaw or the kill
};

struct FreezeOptions {
  std::string proc_root = "/proc";
  std::string cgroup_root;  // the cgroup v2 mount; empty: found in PROC/self/mountinfo
  bool use_cgroup = true;
  int verify_ms = 3000;  // how long to wait for every thread to report stopped
};

class Freezer {
 public:
  explicit Freezer(FreezeOptions options = {});
  ~Freezer();
  Freezer(const Freezer&) = delete;
  Freezer& operator=(const Freezer&) = delete;

  // Freezes the targets and all their descendants. A pid that has gone is skipped (recorded);
  // a target whose start time (clock ticks, from its selection) no longer matches is another
  // process now and is left alone (recorded).
  void freeze(const std::vector<int>& targets, const std::map<int, uint64_t>& start_ticks = {});
  const std::vector<FrozenProcess>& processes() const { return frozen_; }
  std::vector<int> pids() const;
  bool all_verified() const;
  // The handles of the frozen processes (the kill goes through them).
  std::vector<host::ProcessRef> refs() const;
  // What an admin types to resume or to kill them by hand, for the message that says they stay
  // frozen.
  std::string resume_hint() const;

  void keep_frozen() { keep_ = true; }
  bool kept_frozen() const { return keep_; }
  // The processes were killed: nothing to thaw (a frozen cgroup is still thawed, so the kernel
  // can deliver the SIGKILL and reap).
  void killed() { killed_ = true; }
  // Resumes every frozen process now (SIGCONT / cgroup.freeze 0). Idempotent.
  void thaw();

  nlohmann::ordered_json to_json() const;

 private:
  void stop_one(int pid, bool target, uint64_t expected_start);
  bool try_cgroup(const std::vector<int>& tree, const std::vector<int>& targets);
  bool verify(const FrozenProcess& p) const;

  FreezeOptions opt_;
  std::vector<FrozenProcess> frozen_;
  std::vector<std::string> frozen_cgroups_;  // cgroup directories we set cgroup.freeze in
  bool keep_ = false, killed_ = false, thawed_ = false;
};

// The cgroup v2 path of a process from its /proc/PID/cgroup text ("0::/path" line), "" when it
// has none (cgroup v1 only).
std::string cgroup2_path(const std::string& proc_cgroup_text);

// Where the cgroup v2 hierarchy is mounted, from a mountinfo text (proc(5)); "" when nowhere.
std::string cgroup2_mount_point(std::string_view mountinfo_text);

// Whether the pids of a cgroup (its cgroup.procs text) are all in `tree`.
bool cgroup_holds_only(const std::string& cgroup_procs_text, const std::vector<int>& tree);

}  // namespace forage::collector
