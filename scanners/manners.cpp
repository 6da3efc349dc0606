#include "scanners/manners.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/error.h"

namespace forage::scanners {
namespace {

// linux/ioprio.h is not in every libc's headers; the ABI values are stable.
constexpr int kIoprioClassShift = 13;
constexpr int kIoprioClassBe = 2;
constexpr int kIoprioClassIdle = 3;
constexpr int kIoprioWhoProcess = 1;

}  // namespace

void apply_manners(int nice, const std::string& ionice) {
  if (nice < 0 || nice > 19) throw Error("--nice: expected 0..19, got " + std::to_string(nice));
  int prio = -1;
  if (ionice == "idle") {
    prio = kIoprioClassIdle << kIoprioClassShift;
  } else if (ionice.rfind("best-effort", 0) == 0) {
    int level = 7;
    if (ionice.size() > 11) {
      if (ionice[11] != ':' || ionice.size() != 13 || ionice[12] < '0' || ionice[12] > '7')
        throw Error("--ionice: expected idle, best-effort[:0-7] or none, got " + ionice);
      level = ionice[12] - '0';
    }
    prio = (kIoprioClassBe << kIoprioClassShift) | level;
  } else if (ionice != "none") {
    throw Error("--ionice: expected idle, best-effort[:0-7] or none, got " + ionice);
  }
  if (nice > 0) {
    errno = 0;
    int cur = ::getpriority(PRIO_PROCESS, 0);
    if (errno == 0 && ::setpriority(PRIO_PROCESS, 0, std::min(19, cur + nice)) != 0)
      spdlog::debug("setpriority: {}", std::strerror(errno));
  }
  if (prio >= 0 && ::syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, prio) != 0)
    spdlog::debug("ioprio_set: {}", std::strerror(errno));
}

}  // namespace forage::scanners
