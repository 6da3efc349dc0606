// The process side of `forage collect`: which processes are targets, their volatile state read
// from /proc, recovery of their executables and deleted-but-open files, and the kill.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bundle/writer.h"
#include "host/deadline.h"
#include "host/process_ref.h"
#include "scanners/ioc_match.h"

namespace forage::collector {

struct TargetSpec {
  std::vector<int> pids;
  std::string user;                          // name or uid; "" none
  const scanners::IocIndex* iocs = nullptr;  // processes whose exe/cmdline/env/sockets hit
  std::vector<int> batch_job_pids;           // resolved by the caller (grid side)
  std::string proc_root = "/proc";
  std::string passwd = "/etc/passwd";
  bool strict = true;  // false: a bad --pid is listed in `excluded` instead of thrown
};

struct Targets {
  std::vector<int> pids;     // live processes to freeze and dump
  std::map<int, uint64_t> start_ticks;  // of each pid when it was selected (the freezer checks)
  std::vector<int> zombies;  // recorded, not dumped
  nlohmann::ordered_json selection = nlohmann::ordered_json::array();  // why each was chosen
  std::vector<std::string> excluded;  // "pid 1 (init)", "1234 (forage itself)", ...
};

// Resolves the target specification. A pid named with --pid that does not exist, is pid 1, or is
// forage itself (or one of its ancestors) is an operator error: forage::Error, exit 2. Processes
// found by --user/--iocs/--batch-job that are forage, its ancestors, pid 1 or kernel threads are
// left out and listed in `excluded`.
Targets select_targets(const TargetSpec& spec);

// The full process table: pid, ppid, uid, state, start time, cmdline, cwd, root, exe, ...
nlohmann::ordered_json process_table(const std::string& proc_root);

// Every host socket (tcp/udp, v4/v6) with both endpoints and the pids holding it.
nlohmann::ordered_json host_sockets(const std::string& proc_root);

// Per-target volatile state: status, limits, environ, fds (sockets with endpoints), maps,
// mountinfo, namespaces, cgroup, cwd/root/exe. `sockets` is host_sockets() (for endpoints).
nlohmann::ordered_json process_state(const std::string& proc_root, int pid,
                                     const nlohmann::ordered_json& sockets);

// Host-wide volatile facts: uptime, boot id, kernel modules, mounts (of /proc/self), hostname.
nlohmann::ordered_json host_state(const std::string& proc_root);

struct RecoveredFile {
  int pid = 0;
  std::string what;    // "exe", "fd 5"
  std::string source;  // the link target ("/tmp/x (deleted)", "/memfd:payload (deleted)")
  std::string bag_path;
  std::string sha256;
  uint64_t size = 0;
  std::string status;  // complete, padded, ..., "skipped: <why>"
};

// /proc/PID/exe (also when deleted or replaced) and the deleted-but-open files and memfds of
// /proc/PID/fd, each at most max_file_size bytes (0: no cap). Identical files (same device and
// inode) are stored once per call. Each link is looked at with stat() before anything is opened:
// only regular files are opened (non-blocking), so a FIFO, a tty or a device the target holds
// never stalls the collection. Stops at the deadline (the rest: "skipped: <reason>").
std::vector<RecoveredFile> recover_files(bundle::BundleWriter& w, const std::string& proc_root,
                                         int pid, uint64_t max_file_size,
                                         const host::Deadline& deadline = {});

struct KillResult {
  int pid = 0;
  std::string result;  // "killed", "already gone", "zombie, parent P must reap it", "EPERM ..."
  bool gone = false;
};

// SIGKILL to each process through the handle taken when it was frozen (a recycled pid is never
// signalled), then waits (bounded) until each is gone; a zombie that is not our child is reported
// with its parent.
std::vector<KillResult> kill_processes(const std::string& proc_root,
                                       const std::vector<host::ProcessRef>& processes,
                                       int wait_ms = 5000);

// Parses a /proc/PID/environ image into {"NAME": "value"}; invalid UTF-8 escaped.
nlohmann::ordered_json environ_json(std::string_view environ_bytes);

}  // namespace forage::collector
