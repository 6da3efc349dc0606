// Reading what a user controls with that user's rights. A root collector that opens
// ~alice/.bash_history as root can be shown anything alice can name: a hard link to a root-only
// file, a directory swapped for a symbolic link mid-walk. Opened with alice's file-system
// identity, the same tricks reveal only what alice could read already.
//
// ActAs switches the calling thread's file-system uid and gid (setfsuid/setfsgid) and its
// supplementary groups (the raw setgroups system call, which on Linux is per thread; glibc's
// wrapper would change every thread). Leaving a root fsuid drops CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH from the thread's effective set, so permission checks apply; going back
// restores them. Only the thread that made the object is affected: the bundle writer's threads
// keep writing as before. Without root there is nothing to switch: forage already has only its
// own rights.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace forage::host {

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary
  std::string name;           // for messages: "alice", "uid 1000", "owner of pid 42"
  bool is_root() const { return uid == 0; }
  static Identity root() { return {0, 0, {}, "root"}; }
};

class ActAs {
 public:
  // Becomes `who` for file access on this thread; a no-op for root or when forage is not root.
  explicit ActAs(const Identity& who);
  ~ActAs();
  ActAs(const ActAs&) = delete;
  ActAs& operator=(const ActAs&) = delete;

  // False when the switch was needed and failed: the caller must not read on (as root).
  bool ok() const { return ok_; }
  bool switched() const { return switched_; }
  const std::string& error() const { return error_; }

 private:
  bool ok_ = true, switched_ = false;
  gid_t saved_fsgid_ = 0;
  uid_t saved_fsuid_ = 0;
  std::vector<gid_t> saved_groups_;
  std::string error_;
};

// True when forage may take other users' identities (it runs as root).
bool can_act_as_others();

}  // namespace forage::host
