#include "host/process_ref.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "host/proc.h"

namespace forage::host {

std::optional<ProcessRef> ProcessRef::open(const std::string& proc_root, int pid,
                                           uint64_t expected_start, std::string* why) {
  auto before = read_stat(proc_root, pid);
  if (!before) {
    if (why) *why = "gone";
    return std::nullopt;
  }
  if (expected_start && before->start_ticks != expected_start) {
    if (why) *why = "the pid now names another process (started at tick " +
                    std::to_string(before->start_ticks) + ", not " +
                    std::to_string(expected_start) + ")";
    return std::nullopt;
  }
  ProcessRef r;
  r.proc_root_ = proc_root;
  r.pid_ = pid;
  r.start_ = before->start_ticks;
  // Only for the live /proc: a saved sample's pids are not this host's processes.
  if (proc_root == "/proc") {
    long fd = ::syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) r.pidfd_ = std::make_shared<Fd>(static_cast<int>(fd));
  }
  // The pidfd names whatever process had the pid when it was opened: that must still be the one
  // whose start time was read.
  auto after = read_stat(proc_root, pid);
  if (!after || after->start_ticks != r.start_) {
    if (why) *why = "exited while it was being opened";
    return std::nullopt;
  }
  return r;
}

int ProcessRef::signal(int sig) const {
  if (has_pidfd()) {
    if (::syscall(SYS_pidfd_send_signal, pidfd_->get(), sig, nullptr, 0) == 0) return 0;
    if (errno != ENOSYS && errno != EPERM) return errno;
    if (errno == EPERM) return EPERM;
  }
  auto now = read_stat(proc_root_, pid_);
  if (!now) return ESRCH;
  if (now->start_ticks != start_) return ESTALE;
  return ::kill(pid_, sig) == 0 ? 0 : errno;
}

bool ProcessRef::wait_exit(int ms) const {
  auto gone = [&] {
    auto s = read_stat(proc_root_, pid_);
    return !s || s->start_ticks != start_ || s->state == 'Z' || s->state == 'X';
  };
  if (has_pidfd()) {
    struct pollfd p {pidfd_->get(), POLLIN, 0};
    int r;
    do r = ::poll(&p, 1, ms);
    while (r < 0 && errno == EINTR);
    return r > 0 || gone();
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!gone()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace forage::host
