// Local accounts read by forage itself from passwd and group files: getpwuid() needs NSS, which a
// static binary cannot load, and a compromised host's NSS modules are not to be trusted anyway.
// Parsers take text, loaders a path, so tests feed samples. Malformed lines are skipped; an odd
// but parseable home ("/home/alice/", "//home/bob") is cleaned, one with ".." is dropped.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "host/identity.h"

namespace forage::host {

class UserNames {
 public:
  UserNames() = default;
  // Reads `passwd_path`. A missing or unreadable file gives an empty map (names then fall back
  // to numbers).
  static UserNames load(const std::string& passwd_path = "/etc/passwd");
  static UserNames parse(std::string_view passwd_text);
  // The user name, or the decimal uid when unknown.
  std::string name(uid_t uid) const;
  size_t size() const { return names_.size(); }

 private:
  std::unordered_map<uid_t, std::string> names_;
};

struct PasswdEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;        // cleaned (clean_absolute_path); "" when unusable
  std::string home_as_is;  // as written in the file
  std::string shell;
};

// name:password:uid:gid:gecos:home:shell
std::vector<PasswdEntry> parse_passwd(std::string_view text);

// group name:password:gid:member,member -> the gids each user is a listed member of.
std::unordered_map<std::string, std::vector<gid_t>> parse_group_members(std::string_view text);

// The file-system identity of a passwd entry: its uid, gid and the groups that list it.
Identity identity_of(const PasswdEntry& e,
                     const std::unordered_map<std::string, std::vector<gid_t>>& members);

// /etc/shadow without its secrets: per account the password's state ("set", "locked", "empty (no
// password needed)", "no password (login disabled)", ...) and hash algorithm, never the hash;
// dates as YYYY-MM-DD ("invalid" when not a day count).
struct ShadowEntry {
  std::string user, password, algorithm, last_change, expires;
  std::string min_days, max_days, warn_days, inactive_days;
};
std::vector<ShadowEntry> parse_shadow(std::string_view text);

// A user given as a name or a decimal uid, resolved through passwd text.
std::optional<uid_t> resolve_user(std::string_view user, std::string_view passwd_text);

}  // namespace forage::host
