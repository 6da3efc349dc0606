// User names from uids, read from a passwd file by forage itself: getpwuid() needs NSS, which a
// static binary cannot load, and a compromised host's NSS modules are not to be trusted anyway.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <unordered_map>

namespace forage::scanners {

class UserNames {
 public:
  UserNames() = default;
  // Reads `passwd_path` (default /etc/passwd). A missing or unreadable file gives an empty map
  // (names then fall back to numbers); malformed lines are skipped.
  static UserNames load(const std::string& passwd_path = "/etc/passwd");
  static UserNames parse(std::string_view passwd_text);

  // The user name, or the decimal uid when unknown.
  std::string name(uid_t uid) const;
  size_t size() const { return names_.size(); }

 private:
  std::unordered_map<uid_t, std::string> names_;
};

}  // namespace forage::scanners
