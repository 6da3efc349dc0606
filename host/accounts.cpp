#include "host/accounts.h"

#include <algorithm>
#include <charconv>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/file.h"
#include "common/strings.h"
#include "common/time.h"
#include "host/fs.h"
#include "host/logins.h"

namespace forage::host {
namespace {

// Up to `n` ':'-separated fields of a line.
std::vector<std::string_view> colon_fields(std::string_view line, size_t n) {
  std::vector<std::string_view> f;
  size_t i = 0;
  while (f.size() < n) {
    size_t j = line.find(':', i);
    f.push_back(line.substr(i, j == std::string_view::npos ? line.npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return f;
}

template <typename T>
bool num(std::string_view s, T& out) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return false;
  out = static_cast<T>(v);
  return true;
}

}  // namespace

UserNames UserNames::load(const std::string& passwd_path) {
  try {
    return parse(read_named_file(passwd_path, 64ull << 20));
  } catch (const Error& e) {
    spdlog::debug("user names unavailable: {}", e.what());
    return {};
  }
}

UserNames UserNames::parse(std::string_view text) {
  UserNames out;
  for (const auto& e : parse_passwd(text)) out.names_.emplace(e.uid, e.name);  // first wins
  return out;
}

std::string UserNames::name(uid_t uid) const {
  auto it = names_.find(uid);
  return it == names_.end() ? std::to_string(uid) : it->second;
}

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
  std::vector<PasswdEntry> out;
  for (std::string_view line : split_lines(text)) {
    auto f = colon_fields(line, 7);
    if (f.size() < 4 || f[0].empty()) continue;
    PasswdEntry e;
    e.name = std::string(f[0]);
    if (!num(f[2], e.uid) || !num(f[3], e.gid)) continue;
    if (f.size() > 5) {
      e.home_as_is = std::string(f[5]);
      e.home = clean_absolute_path(f[5]);
    }
    if (f.size() > 6) e.shell = std::string(f[6]);
    out.push_back(std::move(e));
  }
  return out;
}

std::unordered_map<std::string, std::vector<gid_t>> parse_group_members(std::string_view text) {
  std::unordered_map<std::string, std::vector<gid_t>> out;
  for (std::string_view line : split_lines(text)) {
    auto f = colon_fields(line, 4);
    gid_t gid = 0;
    if (f.size() < 4 || !num(f[2], gid)) continue;
    std::string_view members = f[3];
    size_t i = 0;
    while (i < members.size()) {
      size_t j = std::min(members.find(',', i), members.size());
      std::string_view m = trim(members.substr(i, j - i));
      if (!m.empty()) out[std::string(m)].push_back(gid);
      i = j + 1;
    }
  }
  return out;
}

Identity identity_of(const PasswdEntry& e,
                     const std::unordered_map<std::string, std::vector<gid_t>>& members) {
  Identity id;
  id.uid = e.uid;
  id.gid = e.gid;
  id.name = e.name;
  id.groups.push_back(e.gid);
  auto it = members.find(e.name);
  if (it != members.end())
    for (gid_t g : it->second)
      if (std::find(id.groups.begin(), id.groups.end(), g) == id.groups.end())
        id.groups.push_back(g);
  return id;
}

namespace {

std::string days_to_date(std::string_view f) {
  if (f.empty()) return "";
  if (f.size() > 9 || !std::all_of(f.begin(), f.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return "invalid";
  return utc_iso(std::stoll(std::string(f)) * 86400).substr(0, 10);
}

std::string hash_algorithm(std::string_view pw) {
  std::string_view h = pw.substr(pw.empty() || pw[0] != '!' ? 0 : 1);
  if (h.size() <= 3 || h[0] != '$') return "";
  std::string_view id = h.substr(1, h.find('$', 1) - 1);
  if (id == "1") return "md5crypt";
  if (id == "5") return "sha256crypt";
  if (id == "6") return "sha512crypt";
  if (id == "y") return "yescrypt";
  if (id == "2b" || id == "2a" || id == "2y") return "bcrypt";
  if (id == "gy") return "gost-yescrypt";
  return "other";
}

}  // namespace

std::vector<ShadowEntry> parse_shadow(std::string_view text) {
  std::vector<ShadowEntry> out;
  for (std::string_view line : split_lines(text)) {
    auto f = colon_fields(line, 9);
    if (f.size() < 2 || f[0].empty()) continue;
    f.resize(9);
    std::string_view pw = f[1];
    ShadowEntry e;
    e.user = std::string(f[0]);
    e.password = pw.empty()                ? "empty (no password needed)"
                 : pw[0] == '!'            ? "locked"
                 : pw == "*" || pw == "!!" ? "no password (login disabled)"
                 : pw[0] == '$'            ? "set"
                                           : "set (legacy or unusual format)";
    e.algorithm = hash_algorithm(pw);
    e.last_change = days_to_date(f[2]);
    e.min_days = std::string(f[3]);
    e.max_days = std::string(f[4]);
    e.warn_days = std::string(f[5]);
    e.inactive_days = std::string(f[6]);
    e.expires = days_to_date(f[7]);
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<uid_t> resolve_user(std::string_view user, std::string_view passwd_text) {
  uid_t uid = 0;
  if (num(user, uid)) return uid;
  for (const auto& e : parse_passwd(passwd_text))
    if (e.name == user) return e.uid;
  return std::nullopt;
}

}  // namespace forage::host
