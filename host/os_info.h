// What the node runs: the operating system of os-release(5), the kernel release, the uptime and
// the boot time, read from /etc (or /usr/lib) and /proc only. The roots are parameters so tests
// feed saved samples. Nothing here throws: what cannot be read is left empty and named in
// `problems`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace forage::host {

struct OsInfo {
  std::string name, version, id, version_id, pretty_name;  // os-release; "" when absent
  std::string os_release_path;                             // the file read ("" when none could be)
  std::string kernel_release;                              // /proc/sys/kernel/osrelease
  double uptime_seconds = -1;                              // /proc/uptime; -1 when unknown
  int64_t boot_epoch = 0;                                  // /proc/stat btime; 0 when unknown
  std::vector<std::string> problems;
};

// KEY=value lines of os-release(5): values unquoted ('…' or "…" with \" \\ \$ \` escapes),
// comments and malformed lines skipped, each value at most 512 bytes.
std::map<std::string, std::string> parse_os_release(std::string_view text);

// os-release(5): /etc/os-release, else /usr/lib/os-release. /etc/os-release is usually a link
// into /usr/lib; it is not followed (open_named_file), the fallback reads the same file.
OsInfo read_os_info(const std::string& etc_root = "/etc", const std::string& proc_root = "/proc",
                    const std::string& usr_lib_root = "/usr/lib");

// For meta/environment.json host.os_release: name, version, id, version_id, pretty_name, source,
// kernel_release, uptime_seconds, boot_utc (null when unknown).
nlohmann::ordered_json to_json(const OsInfo& os);

}  // namespace forage::host
