#include "collector/freeze.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "host/proc.h"
#include "common/file.h"
#include "common/strings.h"

namespace forage::collector {

using host::read_stat;
using host::read_task_stat;
using host::thread_ids;
using host::read_proc_file;
using host::process_gone;
using host::pid_parents;
using host::with_descendants;
namespace {

bool write_small(const std::string& path, std::string_view text) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return false;
  return ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

bool stopped_state(char c) {
  return c == 'T' || c == 't' || c == 'Z' || c == 'X';
}

}  // namespace

std::string cgroup2_path(const std::string& text) {
  for (std::string_view line : split_lines(text)) {
    if (line.rfind("0::", 0) == 0) return std::string(line.substr(3));
  }
  return "";
}

std::string cgroup2_mount_point(std::string_view text) {
  auto fields = [](std::string_view s) {
    std::vector<std::string_view> out;
    for (size_t at = 0; at <= s.size();) {
      size_t sp = std::min(s.find(' ', at), s.size());
      if (sp > at) out.push_back(s.substr(at, sp - at));
      at = sp + 1;
    }
    return out;
  };
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  for (std::string_view line : split_lines(text)) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto tail = fields(line.substr(dash + 3));
    if (tail.empty() || tail[0] != "cgroup2") continue;
    auto head = fields(line.substr(0, dash));
    if (head.size() < 5 || head[3] != "/") continue;  // a bind mount of a sub-tree: not the root
    // The kernel writes space, tab, newline and backslash in a mount point as \ooo.
    std::string point;
    std::string_view m = head[4];
    for (size_t i = 0; i < m.size(); ++i) {
      if (m[i] == '\\' && i + 3 < m.size() && octal(m[i + 1]) && octal(m[i + 2]) &&
          octal(m[i + 3])) {
        point += static_cast<char>((m[i + 1] - '0') * 64 + (m[i + 2] - '0') * 8 + (m[i + 3] - '0'));
        i += 3;
      } else {
        point += m[i];
      }
    }
    return point;
  }
  return "";
}

bool cgroup_holds_only(const std::string& procs, const std::vector<int>& tree) {
  std::set<int> in(tree.begin(), tree.end());
  bool any = false;
  for (std::string_view line : split_lines(procs)) {
    line = trim(line);
    if (line.empty()) continue;
    int pid = 0;
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (ec != std::errc() || p != line.data() + line.size()) return false;
    if (!in.count(pid)) return false;
    any = true;
  }
  return any;
}

Freezer::Freezer(FreezeOptions options) : opt_(std::move(options)) {
  if (opt_.cgroup_root.empty() && opt_.use_cgroup) {
    if (auto mi = read_proc_file(opt_.proc_root + "/self/mountinfo", 4u << 20))
      opt_.cgroup_root = cgroup2_mount_point(*mi);
  }
}

Freezer::~Freezer() {
  if (keep_) {
    if (!killed_ && !frozen_.empty())
      spdlog::warn("the target processes stay FROZEN ({}): thaw them with kill -CONT or kill them",
                   [this] {
                     std::string s;
                     for (int p : pids()) s += (s.empty() ? "" : " ") + std::to_string(p);
                     return s;
                   }());
    return;
  }
  if (killed_) {
    for (const auto& cg : frozen_cgroups_) write_small(cg + "/cgroup.freeze", "0");
    return;
  }
  try {
    thaw();
  } catch (...) {
  }
}

std::vector<int> Freezer::pids() const {
  std::vector<int> out;
  for (const auto& p : frozen_) out.push_back(p.pid);
  return out;
}

std::vector<host::ProcessRef> Freezer::refs() const {
  std::vector<host::ProcessRef> out;
  for (const auto& p : frozen_)
    if (p.ref) out.push_back(*p.ref);
  return out;
}

std::string Freezer::resume_hint() const {
  std::string pids;
  for (int p : this->pids()) pids += (pids.empty() ? "" : " ") + std::to_string(p);
  std::string hint;
  for (const auto& cg : frozen_cgroups_)
    hint += (hint.empty() ? "" : "; ") + std::string("echo 0 > ") + cg + "/cgroup.freeze";
  if (std::any_of(frozen_.begin(), frozen_.end(), [](const auto& p) { return p.method == "SIGSTOP"; }))
    hint += (hint.empty() ? "" : "; ") + std::string("kill -CONT ") + pids;
  return "resume them with `" + hint + "`, or kill them with `kill -KILL " + pids + "`";
}

bool Freezer::all_verified() const {
  return std::all_of(frozen_.begin(), frozen_.end(), [](const auto& p) { return p.verified; });
}

bool Freezer::try_cgroup(const std::vector<int>& tree, const std::vector<int>& targets) {
  if (!opt_.use_cgroup || opt_.cgroup_root.empty()) return false;
  if (::access((opt_.cgroup_root + "/cgroup.controllers").c_str(), F_OK) != 0) return false;
  std::set<std::string> groups;
  for (int pid : tree) {
    auto text = read_proc_file(opt_.proc_root + "/" + std::to_string(pid) + "/cgroup", 1 << 16);
    if (!text) return false;
    std::string path = cgroup2_path(*text);
    if (path.empty() || path == "/" || path.find("..") != std::string::npos) return false;
    groups.insert(path);
  }
  for (const auto& g : groups) {
    auto procs = read_proc_file(opt_.cgroup_root + g + "/cgroup.procs", 16u << 20);
    if (!procs || !cgroup_holds_only(*procs, tree)) return false;
    if (::access((opt_.cgroup_root + g + "/cgroup.freeze").c_str(), W_OK) != 0) return false;
  }
  for (const auto& g : groups) {
    std::string dir = opt_.cgroup_root + g;
    if (!write_small(dir + "/cgroup.freeze", "1")) {
      spdlog::warn("{}/cgroup.freeze: {}; falling back to SIGSTOP", dir, std::strerror(errno));
      for (const auto& done : frozen_cgroups_) write_small(done + "/cgroup.freeze", "0");
      frozen_cgroups_.clear();
      return false;
    }
    frozen_cgroups_.push_back(dir);
  }
  std::set<int> named(targets.begin(), targets.end());
  for (int pid : tree) {
    auto text = read_proc_file(opt_.proc_root + "/" + std::to_string(pid) + "/cgroup", 1 << 16);
    FrozenProcess p;
    p.pid = pid;
    p.target = named.count(pid) > 0;
    p.method = "cgroup:" + opt_.cgroup_root + (text ? cgroup2_path(*text) : "");
    p.ref = host::ProcessRef::open(opt_.proc_root, pid, 0, nullptr);
    frozen_.push_back(std::move(p));
  }
  return true;
}

void Freezer::stop_one(int pid, bool target, uint64_t expected_start) {
  FrozenProcess p;
  p.pid = pid;
  p.target = target;
  p.method = "SIGSTOP";
  std::string why;
  p.ref = host::ProcessRef::open(opt_.proc_root, pid, expected_start, &why);
  if (!p.ref) {
    p.problem = "not stopped: " + why;
    frozen_.push_back(std::move(p));
    return;
  }
  if (auto s = read_stat(opt_.proc_root, pid)) p.was_stopped = s->state == 'T';
  if (int err = p.ref->signal(SIGSTOP)) p.problem = std::string("SIGSTOP: ") + std::strerror(err);
  frozen_.push_back(std::move(p));
}

bool Freezer::verify(const FrozenProcess& p) const {
  if (p.method.rfind("cgroup:", 0) == 0) {
    auto ev = read_proc_file(p.method.substr(7) + "/cgroup.events", 4096);
    return ev && ev->find("frozen 1") != std::string::npos;
  }
  auto tids = thread_ids(opt_.proc_root, p.pid);
  if (tids.empty()) return process_gone(opt_.proc_root, p.pid);
  for (int tid : tids) {
    auto s = read_task_stat(opt_.proc_root, p.pid, tid);
    if (s && !stopped_state(s->state)) return false;
  }
  return true;
}

void Freezer::freeze(const std::vector<int>& targets, const std::map<int, uint64_t>& start_ticks) {
  std::set<int> named(targets.begin(), targets.end());
  auto tree = with_descendants(pid_parents(opt_.proc_root), targets);
  auto expected = [&](int pid) -> uint64_t {
    auto it = start_ticks.find(pid);
    return it == start_ticks.end() ? 0 : it->second;
  };
  if (!try_cgroup(tree, targets)) {
    // Children first: a parent stopped before its child cannot be signalled about the child's
    // stop, and a child stopped first cannot be told by a watchful parent to flee.
    for (int pid : tree) stop_one(pid, named.count(pid) > 0, expected(pid));
    // A fork that raced the signals: stop new descendants until the tree is still.
    for (int round = 0; round < 10; ++round) {
      auto again = with_descendants(pid_parents(opt_.proc_root), pids());
      std::vector<int> fresh;
      for (int pid : again)
        if (std::none_of(frozen_.begin(), frozen_.end(), [pid](auto& f) { return f.pid == pid; }))
          fresh.push_back(pid);
      if (fresh.empty()) break;
      for (int pid : fresh) stop_one(pid, false, 0);
    }
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(opt_.verify_ms);
  for (;;) {
    bool all = true;
    for (auto& p : frozen_) {
      if (!p.verified && p.problem.empty()) p.verified = verify(p);
      all = all && (p.verified || !p.problem.empty());
    }
    if (all || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& p : frozen_) {
    if (!p.verified && p.problem.empty())
      p.problem = "not every thread stopped within " + std::to_string(opt_.verify_ms) +
                  " ms (uninterruptible sleep?)";
  }
}

void Freezer::thaw() {
  if (thawed_) return;
  thawed_ = true;
  for (const auto& cg : frozen_cgroups_) write_small(cg + "/cgroup.freeze", "0");
  // Parents first, the reverse of the stop order.
  for (auto it = frozen_.rbegin(); it != frozen_.rend(); ++it)
    if (it->method == "SIGSTOP" && !it->was_stopped && it->ref &&
        it->problem.rfind("SIGSTOP:", 0) != 0 && it->problem.rfind("not stopped:", 0) != 0)
      it->ref->signal(SIGCONT);
}

nlohmann::ordered_json Freezer::to_json() const {
  auto a = nlohmann::ordered_json::array();
  for (const auto& p : frozen_) {
    nlohmann::ordered_json o{
        {"pid", p.pid}, {"target", p.target}, {"method", p.method}, {"verified", p.verified}};
    if (p.was_stopped) o["was_stopped"] = true;
    if (!p.problem.empty()) o["problem"] = p.problem;
    a.push_back(std::move(o));
  }
  return a;
}

}  // namespace forage::collector
