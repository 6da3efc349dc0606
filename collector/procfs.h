// Small /proc readers shared by the freezer, the core writer and the process collector. Every
// function takes the proc root so tests can feed saved samples.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forage::collector {

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

// Real uid and gid from the Uid:/Gid: lines of /proc/PID/status.
struct ProcIds {
  uid_t uid = 0;
  gid_t gid = 0;
};
std::optional<ProcIds> read_ids(const std::string& proc_root, int pid);

// A small /proc file read whole; nullopt when it cannot be opened or read.
std::optional<std::string> read_proc_file(const std::string& path, size_t max = 16u << 20);

// Link target, nullopt when it cannot be read.
std::optional<std::string> read_link(const std::string& path);

// The process does not exist any more, or only as a zombie (nothing left to dump).
bool process_gone(const std::string& proc_root, int pid);

// Every pid's parent, from /proc/*/stat.
std::vector<std::pair<int, int>> pid_parents(const std::string& proc_root);

// `roots` and all their descendants (from pid_parents), each once, deepest first.
std::vector<int> with_descendants(const std::vector<std::pair<int, int>>& parents,
                                  const std::vector<int>& roots);

}  // namespace forage::collector
