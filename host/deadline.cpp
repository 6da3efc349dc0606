#include "host/deadline.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

namespace forage::host {
namespace {

std::atomic<int> g_stop{0};
std::atomic<bool> g_graceful{false};

// The watchdog's signal: real-time, so it never collides with a signal the program uses.
int watchdog_signal() {
  return SIGRTMIN + 3;
}

void on_stop(int sig) {
  if (!g_graceful.load() || g_stop.exchange(sig) != 0) {
    // A command that cannot wind down, or a second signal (the operator insists): the default.
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }
}

void on_watchdog(int) {}

void install_watchdog_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = on_watchdog;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: the interrupted call returns EINTR
    ::sigaction(watchdog_signal(), &sa, nullptr);
  });
}

}  // namespace

bool Deadline::expired() const {
  return g_stop.load(std::memory_order_relaxed) != 0 || timed_out();
}

Deadline Deadline::earlier(const Deadline& o) const {
  if (!limited_) return o;
  if (!o.limited_) return *this;
  return at_ <= o.at_ ? *this : o;
}

std::string Deadline::reason() const {
  if (int sig = g_stop.load()) return std::string("interrupted by SIG") + sigabbrev_np(sig);
  if (timed_out()) return "deadline reached";
  return "";
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read returns and the step sees the stop
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  install_watchdog_handler();
}

void stop_gracefully() {
  g_graceful.store(true);
}

void request_stop(int sig) {
  g_stop.store(sig);
}

bool stop_requested() {
  return g_stop.load() != 0;
}

int stop_signal() {
  return g_stop.load();
}

void reset_stop() {
  g_stop.store(0);
}

struct Watchdog::State {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::atomic<int> fired{0};
  std::thread t;
};

Watchdog::Watchdog(const Deadline& deadline) : s_(new State) {
  install_watchdog_handler();
  pthread_t target = ::pthread_self();
  State* s = s_;
  s->t = std::thread([s, target, deadline] {
    std::unique_lock<std::mutex> lock(s->m);
    while (!s->done) {
      if (deadline.expired()) {
        ::pthread_kill(target, watchdog_signal());
        s->fired++;
      }
      s->cv.wait_for(lock, std::chrono::milliseconds(50));
    }
  });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(s_->m);
    s_->done = true;
  }
  s_->cv.notify_all();
  s_->t.join();
  delete s_;
}

int Watchdog::fired() const {
  return s_->fired.load();
}

}  // namespace forage::host
