#include "scanners/users.h"

#include <charconv>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/file.h"
#include "common/strings.h"

namespace forage::scanners {

UserNames UserNames::load(const std::string& passwd_path) {
  try {
    return parse(read_file(passwd_path, 64ull << 20));
  } catch (const Error& e) {
    spdlog::debug("user names unavailable: {}", e.what());
    return {};
  }
}

UserNames UserNames::parse(std::string_view text) {
  UserNames out;
  for (std::string_view line : split_lines(text)) {
    // name:password:uid:gid:gecos:home:shell
    auto c1 = line.find(':');
    if (c1 == std::string_view::npos || c1 == 0) continue;
    auto c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    auto c3 = line.find(':', c2 + 1);
    if (c3 == std::string_view::npos) continue;
    std::string_view uid_text = line.substr(c2 + 1, c3 - c2 - 1);
    uint32_t uid = 0;
    auto [p, ec] = std::from_chars(uid_text.data(), uid_text.data() + uid_text.size(), uid);
    if (ec != std::errc() || p != uid_text.data() + uid_text.size()) continue;
    out.names_.emplace(static_cast<uid_t>(uid), std::string(line.substr(0, c1)));  // first wins
  }
  return out;
}

std::string UserNames::name(uid_t uid) const {
  auto it = names_.find(uid);
  return it == names_.end() ? std::to_string(uid) : it->second;
}

}  // namespace forage::scanners
