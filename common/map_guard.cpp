#include "common/map_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>

#include "common/error.h"

namespace forage {
namespace {

// Per thread, constant-initialised plain data: safe to read from a signal handler.
struct Armed {
  uintptr_t begin = 0;
  uintptr_t end = 0;  // page-rounded
  volatile sig_atomic_t faulted = 0;
};
thread_local Armed t_armed;

struct sigaction g_previous;
uintptr_t g_page_mask = 0;
std::once_flag g_installed;

void chain(int sig, siginfo_t* info, void* context) {
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction) g_previous.sa_sigaction(sig, info, context);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
    return;
  }
  // Default action (an ignored SIGBUS from a fault would only repeat forever): restore it and
  // re-raise; the signal is blocked in here, so it lands as soon as this handler returns.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  ::raise(sig);
}

void on_sigbus(int sig, siginfo_t* info, void* context) {
  int saved_errno = errno;
  auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  // si_code > 0: raised by the kernel for a fault, so si_addr is meaningful (not kill()).
  if (info->si_code > 0 && addr >= t_armed.begin && addr < t_armed.end) {
    uintptr_t page = addr & g_page_mask;
    void* p = ::mmap(reinterpret_cast<void*>(page), t_armed.end - page, PROT_READ,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p != MAP_FAILED) {
      t_armed.faulted = 1;
      errno = saved_errno;
      return;  // the faulting read runs again, on a zero page
    }
  }
  chain(sig, info, context);
  errno = saved_errno;
}

void install() {
  long page = ::sysconf(_SC_PAGESIZE);
  g_page_mask = ~static_cast<uintptr_t>(page > 0 ? page - 1 : 4095);
  struct sigaction sa {};
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGBUS, &sa, &g_previous) != 0)
    throw system_error("installing the SIGBUS handler for mapped files", errno);
}

}  // namespace

MapGuard::MapGuard(const MappedFile& map) {
  std::call_once(g_installed, install);
  auto begin = reinterpret_cast<uintptr_t>(map.data());
  t_armed.faulted = 0;
  t_armed.begin = begin;
  t_armed.end = (begin + map.size() + ~g_page_mask) & g_page_mask;
  // The handler must see the range before any read of the mapping can fault.
  std::atomic_signal_fence(std::memory_order_seq_cst);
}

MapGuard::~MapGuard() {
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t_armed.begin = 0;
  t_armed.end = 0;
}

bool MapGuard::faulted() const {
  std::atomic_signal_fence(std::memory_order_seq_cst);
  return t_armed.faulted != 0;
}

}  // namespace forage
