#include "host/identity.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace forage::host {
namespace {

// The current fsuid/fsgid: setfs*id(-1) fails and returns the current value.
uid_t current_fsuid() {
  return static_cast<uid_t>(::syscall(SYS_setfsuid, static_cast<uid_t>(-1)));
}
gid_t current_fsgid() {
  return static_cast<gid_t>(::syscall(SYS_setfsgid, static_cast<gid_t>(-1)));
}

}  // namespace

bool can_act_as_others() {
  return ::geteuid() == 0;
}

ActAs::ActAs(const Identity& who) {
  if (who.is_root() || !can_act_as_others()) return;
  long n = ::syscall(SYS_getgroups, 0, nullptr);
  if (n > 0) {
    saved_groups_.resize(static_cast<size_t>(n));
    n = ::syscall(SYS_getgroups, n, saved_groups_.data());
    saved_groups_.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  saved_fsuid_ = current_fsuid();
  saved_fsgid_ = current_fsgid();
  auto failed = [this](const char* what) {
    error_ = std::string(what) + ": " + std::strerror(errno);
    ok_ = false;
  };
  // Groups and gid first: after setfsuid the thread no longer has the capability to change them.
  if (::syscall(SYS_setgroups, who.groups.size(), who.groups.data()) != 0) {
    failed("setgroups");
    return;
  }
  switched_ = true;
  ::syscall(SYS_setfsgid, who.gid);
  if (current_fsgid() != who.gid) {
    failed("setfsgid");
    return;
  }
  ::syscall(SYS_setfsuid, who.uid);
  if (current_fsuid() != who.uid) failed("setfsuid");
}

ActAs::~ActAs() {
  if (!switched_) return;
  ::syscall(SYS_setfsuid, saved_fsuid_);  // first: it brings back the capabilities below
  ::syscall(SYS_setfsgid, saved_fsgid_);
  ::syscall(SYS_setgroups, saved_groups_.size(), saved_groups_.data());
}

}  // namespace forage::host
