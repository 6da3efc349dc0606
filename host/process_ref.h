// A process held by a pidfd (Linux 5.3+), taken when it is chosen and checked against its start
// time, so a signal sent minutes later reaches that process or none: a pid that was reaped and
// recycled for an innocent process is never signalled. Without pidfds (older kernels, seccomp)
// the pid is signalled only after its start time is read again and still matches, and the
// caller is told which way it went.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/file.h"

namespace forage::host {

class ProcessRef {
 public:
  // The process `pid` under `proc_root`; when `expected_start` (clock ticks after boot, from
  // /proc/PID/stat) is not 0, it must still be that process. nullopt (and `why`) when it is gone
  // or is another process now.
  static std::optional<ProcessRef> open(const std::string& proc_root, int pid,
                                        uint64_t expected_start, std::string* why);

  int pid() const { return pid_; }
  uint64_t start_ticks() const { return start_; }
  bool has_pidfd() const { return pidfd_ && static_cast<bool>(*pidfd_); }

  // Sends `sig`: 0 on success, else an errno (ESRCH: it has exited; ESTALE: the pid now names
  // another process, nothing was sent).
  int signal(int sig) const;
  // Waits up to `ms` for the process to exit (pidfd readable, or its /proc entry gone or a
  // zombie). True when it has.
  bool wait_exit(int ms) const;
  // "pidfd" or "pid + start time".
  std::string how() const { return has_pidfd() ? "pidfd" : "pid + start time"; }

 private:
  std::string proc_root_;
  int pid_ = 0;
  uint64_t start_ = 0;
  std::shared_ptr<Fd> pidfd_;
};

}  // namespace forage::host
