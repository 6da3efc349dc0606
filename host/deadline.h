// Deadlines and interruption: no read, walk or ptrace call may hold a collection.
//
// Every step of a collection gets a Deadline; loops over files, entries and chunks ask
// expired() and stop, and the step is then written to the action log as abandoned. A read that
// blocks inside the kernel is broken out of by a Watchdog: once the deadline passes it sends the
// waiting thread a signal whose handler does nothing and is installed without SA_RESTART, so the
// system call returns EINTR and the loop sees the deadline. (A wait the kernel makes
// uninterruptible, such as a hard NFS mount whose server died, cannot be broken by any process;
// the fs rules keep forage off FUSE and pseudo file systems, where such waits are a target's to
// cause.)
//
// SIGINT and SIGTERM, once install_stop_handlers() ran (in main) and a command said it winds
// down gracefully (stop_gracefully()), only set a flag: every Deadline then reads as expired,
// the steps wind down, and the caller seals what it has. A second signal ends the process the
// default way, as does the first one for a command that did not ask.
#pragma once

#include <chrono>
#include <string>

namespace forage::host {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;
  Deadline() = default;  // no time limit (still ends on a stop request)
  static Deadline in(std::chrono::milliseconds d) { return Deadline(Clock::now() + d); }
  static Deadline at(Clock::time_point t) { return Deadline(t); }

  // The time is up, or a stop was requested.
  bool expired() const;
  // The time is up (not only a stop request).
  bool timed_out() const { return limited_ && Clock::now() >= at_; }
  bool limited() const { return limited_; }
  Clock::time_point when() const { return at_; }
  // The earlier of the two.
  Deadline earlier(const Deadline& o) const;
  // "at its 30 s deadline" / "interrupted by SIGTERM": why expired() is true.
  std::string reason() const;

 private:
  explicit Deadline(Clock::time_point at) : at_(at), limited_(true) {}
  Clock::time_point at_{};
  bool limited_ = false;
};

// SIGINT/SIGTERM handlers (async-signal-safe) and the watchdog's no-op handler: installed once,
// in main. Until stop_gracefully() is called a signal ends the process as by default.
void install_stop_handlers();
// From now on the first SIGINT/SIGTERM is a stop request (the command seals what it has).
void stop_gracefully();
void request_stop(int signal_number);
bool stop_requested();
int stop_signal();  // 0 when none
// Clears the flag (tests; a sweep that goes on after a collection).
void reset_stop();

// While alive, breaks the constructing thread out of an interruptible blocking system call once
// `deadline` expires (EINTR), repeating every 50 ms until destroyed.
class Watchdog {
 public:
  explicit Watchdog(const Deadline& deadline);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  // How many times the watched thread was interrupted.
  int fired() const;

 private:
  struct State;
  State* s_;
};

}  // namespace forage::host
