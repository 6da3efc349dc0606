#include "scanners/proc_info.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <memory>

#include "common/file.h"
#include "common/strings.h"

namespace forage::scanners {
namespace {

bool parse_hex(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 16) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

// Splits on runs of spaces, at most `max` fields; the last one keeps the rest (a path may
// contain spaces).
std::vector<std::string_view> fields(std::string_view line, size_t max) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size() && out.size() + 1 < max) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i >= line.size()) return out;
    size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    out.push_back(line.substr(i, j - i));
    i = j;
  }
  while (i < line.size() && line[i] == ' ') ++i;
  if (i < line.size()) out.push_back(line.substr(i));
  return out;
}

// A small /proc file (status, comm, cmdline): read through a plain open, no O_NOATIME games.
std::optional<std::string> slurp(const std::string& path, size_t max = 1 << 20) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  try {
    return read_all(fd.get(), path, max);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::vector<MapRegion> parse_maps(std::string_view text, size_t* bad) {
  std::vector<MapRegion> out;
  for (std::string_view line : split_lines(text)) {
    if (line.empty()) continue;
    // start-end perms offset dev inode [path]
    auto f = fields(line, 6);
    MapRegion r;
    auto dash = f.empty() ? std::string_view::npos : f[0].find('-');
    bool ok = f.size() >= 5 && dash != std::string_view::npos &&
              parse_hex(f[0].substr(0, dash), r.start) && parse_hex(f[0].substr(dash + 1), r.end) &&
              r.end >= r.start && f[1].size() == 4 && parse_hex(f[2], r.offset);
    if (ok) {
      auto [p, ec] = std::from_chars(f[4].data(), f[4].data() + f[4].size(), r.inode);
      ok = ec == std::errc() && p == f[4].data() + f[4].size();
    }
    if (!ok) {
      if (bad) ++*bad;
      continue;
    }
    r.perms = std::string(f[1]);
    r.dev = std::string(f[3]);
    if (f.size() == 6) r.path = std::string(f[5]);
    out.push_back(std::move(r));
  }
  return out;
}

std::string region_skip_reason(const MapRegion& r) {
  if (r.path == "[vvar]" || r.path == "[vvar_vclock]") return "vvar";
  if (r.path == "[vsyscall]") return "vsyscall";
  if (!r.readable()) return "no-read";
  // A mapping of a device node (e.g. /dev/nvidia0, a framebuffer): reading may touch hardware.
  if (r.path.rfind("/dev/", 0) == 0 && r.path.rfind("/dev/shm/", 0) != 0) return "device";
  return "";
}

std::vector<std::string> split_nul(std::string_view data) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < data.size()) {
    size_t j = data.find('\0', i);
    if (j == std::string_view::npos) j = data.size();
    if (j > i) out.emplace_back(data.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::vector<int> list_pids(const std::string& proc_root) {
  std::vector<int> out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(proc_root.c_str()), ::closedir);
  if (!d) return out;
  while (struct dirent* e = ::readdir(d.get())) {
    std::string_view n = e->d_name;
    int pid = 0;
    auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), pid);
    if (ec == std::errc() && p == n.data() + n.size() && pid > 0) out.push_back(pid);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<ProcInfo> read_proc(const std::string& proc_root, int pid) {
  std::string dir = proc_root + "/" + std::to_string(pid);
  auto status = slurp(dir + "/status");
  if (!status) return std::nullopt;
  ProcInfo p;
  p.pid = pid;
  for (std::string_view line : split_lines(*status)) {
    if (line.rfind("Uid:", 0) == 0) {
      auto f = fields(trim(line.substr(4)), 4);
      if (!f.empty()) {
        uint32_t uid = 0;
        std::from_chars(f[0].data(), f[0].data() + f[0].size(), uid);
        p.uid = uid;
      }
    } else if (line.rfind("Name:", 0) == 0 && p.comm.empty()) {
      p.comm = std::string(trim(line.substr(5)));
    }
  }
  if (auto comm = slurp(dir + "/comm", 4096)) {
    std::string_view c = *comm;
    if (!c.empty() && c.back() == '\n') c.remove_suffix(1);
    if (!c.empty()) p.comm = std::string(c);
  }
  char buf[4096];
  ssize_t n = ::readlink((dir + "/exe").c_str(), buf, sizeof buf);
  if (n > 0) {
    p.exe.assign(buf, static_cast<size_t>(n));
    constexpr std::string_view kDeleted = " (deleted)";
    if (p.exe.size() > kDeleted.size() &&
        p.exe.compare(p.exe.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0) {
      p.exe.resize(p.exe.size() - kDeleted.size());
      p.exe_deleted = true;
    }
  } else if (errno == ENOENT) {
    // No exe link while status exists: a kernel thread (or exiting; then maps is empty too).
    auto maps = slurp(dir + "/maps", 1);
    p.kernel_thread = maps && maps->empty();
  }
  if (auto c = slurp(dir + "/cmdline")) p.argv = split_nul(*c);
  if (auto e = slurp(dir + "/environ")) p.env = split_nul(*e);
  return p;
}

}  // namespace forage::scanners
