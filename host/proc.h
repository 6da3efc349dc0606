// Reading live processes through /proc: stat, status, maps, command line, environment, the
// process tree. The one set of /proc parsers of forage (the scanners, the freezer, the core
// writer and the collector all read through it). Every function takes the proc root ("/proc" on
// a live host) so tests can feed saved samples; nothing here stops, signals or writes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forage::host {

// The fields of /proc/PID/stat (or /proc/PID/task/TID/stat) forage uses.
struct ProcStat {
  int pid = 0;
  std::string comm;
  char state = '?';  // R S D T t Z X I ...
  int ppid = 0, pgrp = 0, session = 0;
  long nice = 0;
  uint64_t utime = 0, stime = 0;  // clock ticks
  uint64_t start_ticks = 0;       // since boot, clock ticks
  long num_threads = 0;
};

// Parses the text of a stat file; nullopt when it is malformed. The command name may hold
// spaces and ')' (it is cut at the last ')').
std::optional<ProcStat> parse_stat(std::string_view text);
std::optional<ProcStat> read_stat(const std::string& proc_root, int pid);
std::optional<ProcStat> read_task_stat(const std::string& proc_root, int pid, int tid);

// Thread ids of a process (its /proc/PID/task), sorted with the thread group leader first.
std::vector<int> thread_ids(const std::string& proc_root, int pid);

// Identity from the Uid:, Gid: and Groups: lines of /proc/PID/status (the one parser of them);
// nullopt without a Uid: line, gid 65534 (nobody) without a Gid: line.
struct ProcIds {
  uid_t uid = 0, euid = 0;
  gid_t gid = 0, egid = 0;
  std::vector<gid_t> groups;  // supplementary groups
};
std::optional<ProcIds> parse_ids(std::string_view status_text);
std::optional<ProcIds> read_ids(const std::string& proc_root, int pid);

// A small /proc file read whole; nullopt when it cannot be opened or read.
std::optional<std::string> read_proc_file(const std::string& path, size_t max = 16u << 20);

// Link target, nullopt when it cannot be read.
std::optional<std::string> read_link(const std::string& path);

// Pids under the proc root, sorted.
std::vector<int> list_pids(const std::string& proc_root);

// The process does not exist any more, or only as a zombie (nothing left to dump).
bool process_gone(const std::string& proc_root, int pid);

// Every pid's parent, from /proc/*/stat.
std::vector<std::pair<int, int>> pid_parents(const std::string& proc_root);

// `roots` and all their descendants (from pid_parents), each once, deepest first.
std::vector<int> with_descendants(const std::vector<std::pair<int, int>>& parents,
                                  const std::vector<int>& roots);

// Seconds since the epoch of the boot, from PROC/stat "btime"; 0 when unknown.
int64_t boot_epoch(const std::string& proc_root);

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

// nullopt when the process is gone. Parts that cannot be read (environ of another user without
// privilege) are left empty.
std::optional<ProcInfo> read_proc(const std::string& proc_root, int pid);

// NUL-separated strings (cmdline, environ), empty ones dropped.
std::vector<std::string> split_nul(std::string_view data);

// The value of NAME in "NAME=value" strings; "" when absent.
std::string env_value(const std::vector<std::string>& env, std::string_view name);

// " (deleted)" at the end of a /proc link target.
bool deleted_suffix(std::string_view link_target);

// The directories a process works in, as the kernel names them: its cwd, its executable's
// directory and the directories of its open files (a deleted file's too), each once, in that
// order; never /proc, /sys or /dev (but /dev/shm). At most `max_fds` descriptors are looked at.
struct ProcessDirectory {
  std::string path;
  const char* why;  // "cwd" | "exe" | "open file"
};
std::vector<ProcessDirectory> process_directories(const std::string& proc_root, int pid,
                                                  size_t max_fds = 4096);

}  // namespace forage::host
