#include "collector/procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <map>
#include <memory>
#include <set>

#include "common/file.h"
#include "common/strings.h"
#include "scanners/proc_info.h"

namespace forage::collector {
namespace {

template <typename T>
bool num(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<int> numeric_entries(const std::string& dir) {
  std::vector<int> out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return out;
  while (struct dirent* e = ::readdir(d.get())) {
    int id = 0;
    if (num(std::string_view(e->d_name), id) && id > 0) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
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
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
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
  auto t = read_proc_file(proc_root + "/" + std::to_string(pid) + "/stat", 4096);
  if (!t) return std::nullopt;
  return parse_stat(*t);
}

std::optional<ProcStat> read_task_stat(const std::string& proc_root, int pid, int tid) {
  auto t = read_proc_file(
      proc_root + "/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat", 4096);
  if (!t) return std::nullopt;
  return parse_stat(*t);
}

std::vector<int> thread_ids(const std::string& proc_root, int pid) {
  auto tids = numeric_entries(proc_root + "/" + std::to_string(pid) + "/task");
  auto it = std::find(tids.begin(), tids.end(), pid);
  if (it != tids.end()) std::rotate(tids.begin(), it, it + 1);
  return tids;
}

std::optional<ProcIds> read_ids(const std::string& proc_root, int pid) {
  auto t = read_proc_file(proc_root + "/" + std::to_string(pid) + "/status", 1 << 16);
  if (!t) return std::nullopt;
  ProcIds ids;
  for (std::string_view line : split_lines(*t)) {
    for (std::string_view key : {std::string_view("Uid:"), std::string_view("Gid:")}) {
      if (line.rfind(key, 0) != 0) continue;
      std::string_view v = trim(line.substr(key.size()));
      v = v.substr(0, v.find_first_of(" \t"));
      uint32_t id = 0;
      if (!num(v, id)) continue;
      if (key == "Uid:")
        ids.uid = id;
      else
        ids.gid = id;
    }
  }
  return ids;
}

bool process_gone(const std::string& proc_root, int pid) {
  auto s = read_stat(proc_root, pid);
  return !s || s->state == 'Z' || s->state == 'X';
}

std::vector<std::pair<int, int>> pid_parents(const std::string& proc_root) {
  std::vector<std::pair<int, int>> out;
  for (int pid : scanners::list_pids(proc_root)) {
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

}  // namespace forage::collector
