#include "host/proc.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <map>
#include <set>

#include "common/file.h"
#include "common/strings.h"
#include "host/fs.h"

namespace forage::host {
namespace {

template <typename T>
bool num(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

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
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) return out;
    size_t j = line.find_first_of(" \t", i);
    if (j == std::string_view::npos) j = line.size();
    out.push_back(line.substr(i, j - i));
    i = j;
  }
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i < line.size()) out.push_back(line.substr(i));
  return out;
}

std::vector<int> numeric_entries(const std::string& dir) {
  std::vector<int> out;
  Dir d = Dir::open(dir);
  if (!d) return out;
  for (const auto& name : d.names()) {
    int id = 0;
    if (num(std::string_view(name), id) && id > 0) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string pid_path(const std::string& proc_root, int pid, std::string_view file) {
  std::string p = proc_root + "/" + std::to_string(pid);
  if (!file.empty()) p.append("/").append(file);
  return p;
}

}  // namespace

std::optional<ProcStat> parse_stat(std::string_view text) {
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return std::nullopt;
  ProcStat s;
  if (!num(trim(text.substr(0, open)), s.pid)) return std::nullopt;
  s.comm = std::string(text.substr(open + 1, close - open - 1));
  std::vector<std::string_view> f;
  std::string_view rest = text.substr(close + 1);
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\n')) ++i;
    size_t j = i;
    while (j < rest.size() && rest[j] != ' ' && rest[j] != '\n') ++j;
    if (j > i) f.push_back(rest.substr(i, j - i));
    i = j;
  }
  // f[0] state, f[1] ppid, f[2] pgrp, f[3] session, ... f[11] utime, f[12] stime,
  // f[16] nice, f[17] num_threads, f[19] starttime.
  if (f.size() < 20 || f[0].size() != 1) return std::nullopt;
  s.state = f[0][0];
  if (!num(f[1], s.ppid) || !num(f[2], s.pgrp) || !num(f[3], s.session) || !num(f[11], s.utime) ||
      !num(f[12], s.stime) || !num(f[16], s.nice) || !num(f[17], s.num_threads) ||
      !num(f[19], s.start_ticks))
    return std::nullopt;
  return s;
}

std::optional<std::string> read_proc_file(const std::string& path, size_t max) {
  // O_NONBLOCK: a fake or hostile proc root holding a FIFO never stalls the reader.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
  if (!fd) return std::nullopt;
  try {
    return read_all(fd.get(), path, max);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::string> read_link(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

std::optional<ProcStat> read_stat(const std::string& proc_root, int pid) {
  auto t = read_proc_file(pid_path(proc_root, pid, "stat"), 4096);
  if (!t) return std::nullopt;
  return parse_stat(*t);
}

std::optional<ProcStat> read_task_stat(const std::string& proc_root, int pid, int tid) {
  auto t = read_proc_file(pid_path(proc_root, pid, "task/" + std::to_string(tid) + "/stat"), 4096);
  if (!t) return std::nullopt;
  return parse_stat(*t);
}

std::vector<int> thread_ids(const std::string& proc_root, int pid) {
  auto tids = numeric_entries(pid_path(proc_root, pid, "task"));
  auto it = std::find(tids.begin(), tids.end(), pid);
  if (it != tids.end()) std::rotate(tids.begin(), it, it + 1);
  return tids;
}

std::optional<ProcIds> parse_ids(std::string_view status) {
  ProcIds ids;
  bool uid = false, gid = false;
  for (std::string_view line : split_lines(status)) {
    bool is_uid = line.rfind("Uid:", 0) == 0, is_gid = line.rfind("Gid:", 0) == 0;
    if (is_uid || is_gid) {
      // real effective saved filesystem
      auto f = fields(trim(line.substr(4)), 4);
      uint32_t real = 0, eff = 0;
      if (f.size() < 2 || !num(f[0], real) || !num(f[1], eff)) continue;
      if (is_uid) {
        ids.uid = real;
        ids.euid = eff;
        uid = true;
      } else {
        ids.gid = real;
        ids.egid = eff;
        gid = true;
      }
    } else if (line.rfind("Groups:", 0) == 0) {
      for (auto g : fields(trim(line.substr(7)), 65536)) {
        uint32_t v = 0;
        if (num(trim(g), v)) ids.groups.push_back(v);
      }
    }
  }
  if (!uid) return std::nullopt;
  if (!gid) ids.gid = ids.egid = 65534;  // unknown group: nobody's, never root's
  return ids;
}

std::optional<ProcIds> read_ids(const std::string& proc_root, int pid) {
  auto t = read_proc_file(pid_path(proc_root, pid, "status"), 1 << 16);
  if (!t) return std::nullopt;
  return parse_ids(*t);
}

std::vector<int> list_pids(const std::string& proc_root) {
  return numeric_entries(proc_root);
}

bool process_gone(const std::string& proc_root, int pid) {
  auto s = read_stat(proc_root, pid);
  return !s || s->state == 'Z' || s->state == 'X';
}

std::vector<std::pair<int, int>> pid_parents(const std::string& proc_root) {
  std::vector<std::pair<int, int>> out;
  for (int pid : list_pids(proc_root)) {
    if (auto s = read_stat(proc_root, pid)) out.emplace_back(pid, s->ppid);
  }
  return out;
}

std::vector<int> with_descendants(const std::vector<std::pair<int, int>>& parents,
                                  const std::vector<int>& roots) {
  std::multimap<int, int> children;
  for (auto [pid, ppid] : parents) children.emplace(ppid, pid);
  std::vector<std::pair<int, int>> found;  // depth, pid
  std::set<int> seen;
  std::vector<std::pair<int, int>> stack;
  for (int r : roots) stack.emplace_back(0, r);
  while (!stack.empty()) {
    auto [depth, pid] = stack.back();
    stack.pop_back();
    if (!seen.insert(pid).second) continue;
    found.emplace_back(depth, pid);
    auto [b, e] = children.equal_range(pid);
    for (auto it = b; it != e; ++it) stack.emplace_back(depth + 1, it->second);
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<int> out;
  for (auto& [d, pid] : found) out.push_back(pid);
  return out;
}

int64_t boot_epoch(const std::string& proc_root) {
  auto t = read_proc_file(proc_root + "/stat", 4u << 20);
  if (!t) return 0;
  for (std::string_view line : split_lines(*t)) {
    int64_t v = 0;
    if (line.rfind("btime ", 0) == 0 && num(trim(line.substr(6)), v)) return v;
  }
  return 0;
}

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
              r.end >= r.start && f[1].size() == 4 && parse_hex(f[2], r.offset) &&
              num(f[4], r.inode);
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
  for (auto f : split_nonempty(data, '\0')) out.emplace_back(f);
  return out;
}

std::string env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& e : env) {
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
      return e.substr(name.size() + 1);
  }
  return "";
}

bool deleted_suffix(std::string_view t) {
  constexpr std::string_view kDeleted = " (deleted)";
  return t.size() > kDeleted.size() && t.substr(t.size() - kDeleted.size()) == kDeleted;
}

namespace {

// "/home/u/x (deleted)" -> "/home/u"; "" for sockets, pipes, anon inodes and pseudo files.
std::string directory_of(std::string target, bool is_dir) {
  if (target.empty() || target[0] != '/') return "";
  if (deleted_suffix(target)) target.resize(target.size() - std::string_view(" (deleted)").size());
  if (!is_dir) {
    auto slash = target.rfind('/');
    target = slash == 0 ? "/" : target.substr(0, slash);
  }
  auto under = [&](std::string_view top) {
    return target == top || (target.size() > top.size() &&
                             target.compare(0, top.size(), top) == 0 && target[top.size()] == '/');
  };
  if (under("/dev/shm")) return target;
  if (under("/proc") || under("/sys") || under("/dev")) return "";
  return target;
}

}  // namespace

std::vector<ProcessDirectory> process_directories(const std::string& proc_root, int pid,
                                                  size_t max_fds) {
  std::vector<ProcessDirectory> out;
  auto add = [&](const std::string& d, const char* why) {
    if (d.empty()) return;
    for (const auto& o : out)
      if (o.path == d) return;
    out.push_back({d, why});
  };
  std::string dir = pid_path(proc_root, pid, "") + "/";
  if (auto l = read_link(dir + "cwd")) add(directory_of(*l, true), "cwd");
  if (auto l = read_link(dir + "exe")) add(directory_of(*l, false), "exe");
  Dir fds = Dir::open(dir + "fd");
  if (!fds) return out;
  size_t seen = 0;
  for (const auto& name : fds.names()) {
    if (++seen > max_fds) break;
    if (auto l = read_link(dir + "fd/" + name)) add(directory_of(*l, false), "open file");
  }
  return out;
}

std::optional<ProcInfo> read_proc(const std::string& proc_root, int pid) {
  std::string dir = pid_path(proc_root, pid, "");
  auto status = read_proc_file(dir + "/status", 1 << 20);
  if (!status) return std::nullopt;
  ProcInfo p;
  p.pid = pid;
  if (auto ids = parse_ids(*status)) p.uid = ids->uid;
  for (std::string_view line : split_lines(*status)) {
    if (line.rfind("Name:", 0) == 0) {
      p.comm = std::string(trim(line.substr(5)));
      break;
    }
  }
  if (auto comm = read_proc_file(dir + "/comm", 4096)) {
    std::string_view c = *comm;
    if (!c.empty() && c.back() == '\n') c.remove_suffix(1);
    if (!c.empty()) p.comm = std::string(c);
  }
  errno = 0;
  if (auto exe = read_link(dir + "/exe"); exe && !exe->empty()) {
    p.exe = *exe;
    if (deleted_suffix(p.exe)) {
      p.exe.resize(p.exe.size() - std::string_view(" (deleted)").size());
      p.exe_deleted = true;
    }
  } else if (errno == ENOENT) {
    // No exe link while status exists: a kernel thread (or exiting; then maps is empty too).
    auto maps = read_proc_file(dir + "/maps", 1);
    p.kernel_thread = maps && maps->empty();
  }
  if (auto c = read_proc_file(dir + "/cmdline", 1 << 20)) p.argv = split_nul(*c);
  if (auto e = read_proc_file(dir + "/environ", 1 << 20)) p.env = split_nul(*e);
  return p;
}

}  // namespace forage::host
