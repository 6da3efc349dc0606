// Reading a live process through /proc without stopping it: its memory map, identity and
// command line. Every function takes the proc root ("/proc" on a live host) so tests can feed
// saved samples.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forage::scanners {

struct MapRegion {
  uint64_t start = 0, end = 0;
  std::string perms;  // "r-xp"
  uint64_t offset = 0;
  std::string dev;  // "fd:01"
  uint64_t inode = 0;
  std::string path;  // file, "[heap]", "[stack]", "[vvar]", "" for anonymous
  bool readable() const { return !perms.empty() && perms[0] == 'r'; }
};

// /proc/PID/maps text. Malformed lines are skipped (counted in `bad` when given).
std::vector<MapRegion> parse_maps(std::string_view text, size_t* bad = nullptr);

// Why a region is not scanned, or "" when it is: "no-read" (no r permission), "vvar"/"vsyscall"
// (kernel pages that fault or lie when read), "device" (a mapped device: reading it may have
// side effects).
std::string region_skip_reason(const MapRegion& r);

struct ProcInfo {
  int pid = 0;
  std::string comm;  // /proc/PID/comm
  std::string exe;   // readlink /proc/PID/exe, " (deleted)" removed
  bool exe_deleted = false;
  bool kernel_thread = false;     // no exe, no memory
  uid_t uid = 0;                  // real uid (Uid: line of status)
  std::vector<std::string> argv;  // /proc/PID/cmdline
  std::vector<std::string> env;   // /proc/PID/environ (empty when not readable)
};

// Pids under the proc root, sorted. Never includes forage's own pid when `self` matches.
std::vector<int> list_pids(const std::string& proc_root);

// nullopt when the process is gone. Parts that cannot be read (environ of another user without
// privilege) are left empty.
std::optional<ProcInfo> read_proc(const std::string& proc_root, int pid);

// NUL-separated strings (cmdline, environ), empty ones dropped.
std::vector<std::string> split_nul(std::string_view data);

}  // namespace forage::scanners
