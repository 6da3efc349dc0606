#include "host/os_info.h"

#include <cstdlib>

#include "common/error.h"
#include "common/strings.h"
#include "common/time.h"
#include "host/fs.h"
#include "host/proc.h"

namespace forage::host {
namespace {

constexpr size_t kMaxValue = 512;
constexpr uint64_t kMaxOsRelease = 64 << 10;

// A shell-style value: '…' literally, "…" with backslash escapes, else the bare word.
std::string unquote(std::string_view v) {
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'')
    return std::string(v.substr(1, v.size() - 2));
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    std::string out;
    v = v.substr(1, v.size() - 2);
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '\\' && i + 1 < v.size() &&
          std::string_view("\"\\$`").find(v[i + 1]) != std::string_view::npos)
        ++i;
      out += v[i];
    }
    return out;
  }
  return std::string(v);
}

}  // namespace

std::map<std::string, std::string> parse_os_release(std::string_view text) {
  std::map<std::string, std::string> out;
  for (std::string_view line : split_lines(text)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == 0 || eq == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, eq);
    if (key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != std::string_view::npos)
      continue;
    std::string value = unquote(trim(line.substr(eq + 1)));
    out[std::string(key)] = utf8_or_escaped(value.substr(0, kMaxValue));
  }
  return out;
}

OsInfo read_os_info(const std::string& etc_root, const std::string& proc_root,
                    const std::string& usr_lib_root) {
  OsInfo os;
  for (const std::string& path : {etc_root + "/os-release", usr_lib_root + "/os-release"}) {
    try {
      auto kv = parse_os_release(read_named_file(path, kMaxOsRelease));
      os.os_release_path = path;
      os.name = kv["NAME"];
      os.version = kv["VERSION"];
      os.id = kv["ID"];
      os.version_id = kv["VERSION_ID"];
      os.pretty_name = kv["PRETTY_NAME"];
      break;
    } catch (const Error& e) {
      os.problems.push_back(e.what());
    }
  }
  if (!os.os_release_path.empty()) os.problems.clear();  // the fallback is the normal case
  if (auto k = read_proc_file(proc_root + "/sys/kernel/osrelease", 4096))
    os.kernel_release = utf8_or_escaped(std::string(trim(*k)).substr(0, kMaxValue));
  else
    os.problems.push_back(proc_root + "/sys/kernel/osrelease: unreadable");
  if (auto u = read_proc_file(proc_root + "/uptime", 4096)) {
    char* end = nullptr;
    const std::string s(*u);
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() && v >= 0) os.uptime_seconds = v;
  }
  if (os.uptime_seconds < 0) os.problems.push_back(proc_root + "/uptime: unreadable");
  os.boot_epoch = boot_epoch(proc_root);
  if (os.boot_epoch <= 0) os.problems.push_back(proc_root + "/stat: no btime");
  return os;
}

nlohmann::ordered_json to_json(const OsInfo& os) {
  using J = nlohmann::ordered_json;
  auto s = [](const std::string& v) { return v.empty() ? J(nullptr) : J(v); };
  J j;
  j["name"] = s(os.name);
  j["version"] = s(os.version);
  j["id"] = s(os.id);
  j["version_id"] = s(os.version_id);
  j["pretty_name"] = s(os.pretty_name);
  j["source"] = s(os.os_release_path);
  j["kernel_release"] = s(os.kernel_release);
  j["uptime_seconds"] = os.uptime_seconds < 0 ? J(nullptr) : J(os.uptime_seconds);
  j["boot_utc"] = os.boot_epoch > 0 ? J(utc_iso(os.boot_epoch)) : J(nullptr);
  if (!os.problems.empty()) j["problems"] = os.problems;
  return j;
}

}  // namespace forage::host
