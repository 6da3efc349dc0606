#include "collector/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "bundle/action_log.h"
#include "common/error.h"
#include "common/file.h"
#include "common/layout.h"
#include "common/strings.h"
#include "host/accounts.h"
#include "host/fs.h"
#include "host/grid.h"
#include "host/proc.h"
#include "scanners/net_scan.h"
#include "scanners/proc_scan.h"
#include "scanners/report.h"
#include "scanners/scan_stats.h"

namespace forage::collector {

using host::process_gone;
using host::read_ids;
using host::read_link;
using host::read_proc_file;
using host::read_stat;
namespace {

using Json = nlohmann::ordered_json;

std::string text_of(std::string_view s) {
  return utf8_or_escaped(s);
}

template <typename T>
bool num(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

// forage itself and every process above it: freezing one of them would freeze the operator's
// shell or forage.
std::set<int> self_and_ancestors(const std::string& proc_root) {
  std::set<int> out;
  int pid = static_cast<int>(::getpid());
  while (pid > 1 && out.insert(pid).second) {
    auto s = read_stat(proc_root, pid);
    if (!s) break;
    pid = s->ppid;
  }
  return out;
}

std::optional<uid_t> resolve_user(const std::string& user, const std::string& passwd) {
  std::string text;
  try {
    text = host::read_named_file(passwd, 64u << 20);
  } catch (const Error&) {
  }
  return host::resolve_user(user, text);
}

Json kv_lines(std::string_view text) {
  Json o = Json::object();
  for (std::string_view line : split_lines(text)) {
    size_t c = line.find(':');
    if (c == std::string_view::npos) continue;
    o[text_of(line.substr(0, c))] = text_of(trim(line.substr(c + 1)));
  }
  return o;
}

Json lines_of(std::string_view text) {
  Json a = Json::array();
  for (std::string_view line : split_lines(text))
    if (!line.empty()) a.push_back(text_of(line));
  return a;
}

std::string pid_dir(const std::string& proc_root, int pid) {
  return proc_root + "/" + std::to_string(pid);
}

Json link_or_null(const std::string& path) {
  auto l = read_link(path);
  return l ? Json(text_of(*l)) : Json(nullptr);
}

}  // namespace

Json environ_json(std::string_view bytes) {
  Json o = Json::object();
  for (const auto& kv : host::split_nul(bytes)) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos)
      o[text_of(kv)] = nullptr;
    else
      o[text_of(kv.substr(0, eq))] = text_of(kv.substr(eq + 1));
  }
  return o;
}

namespace {

// Processes the indicators name: a detection (not a notice) of the process scanner (exe, command
// line, environment, memory) or the socket scanner, with the indicator that named each.
std::map<int, std::string> pids_hit_by_iocs(const TargetSpec& spec) {
  // Only detections select a target: a notice (an executable run from a memfd or /tmp) is worth
  // a look, not a freeze.
  class Hits : public scanners::FindingSink {
   public:
    void add(scanners::Finding f) override {
      if (f.kind == scanners::Finding::Kind::kNotice) return;
      std::string why = "--iocs";
      if (f.ioc.is_object()) why += " " + f.ioc.value("type", "") + ":" + f.ioc.value("value", "");
      std::lock_guard<std::mutex> lock(mu_);
      for (int pid : f.pids) pids.emplace(pid, why);
      // A process selected by its identity (DN, user) brings its whole job along: the payload
      // job when a pilot runs it (a pilot may run other users' payloads), else its batch job.
      if (f.details.contains("identity") && f.details["identity"].is_object()) {
        const auto& id = f.details["identity"];
        std::string job = id.value("job_id", "");
        if (id.contains("jobs") && id["jobs"].is_array())
          for (const auto& j : id["jobs"])
            if (j.is_object() && j.value("role", "") == "payload") job = j.value("id", job);
        if (!job.empty()) jobs.emplace(job, why);
      }
    }
    std::map<int, std::string> pids;
    std::map<std::string, std::string> jobs;  // job id -> the finding that named it

   private:
    std::mutex mu_;
  } hits;
  scanners::ScanInputs in;
  in.iocs = spec.iocs;
  scanners::ScanStats proc_stats, net_stats;
  scanners::ProcScanOptions po;
  po.proc_root = spec.proc_root;
  po.threads = 1;
  scanners::scan_procs(po, in, hits, proc_stats);
  scanners::NetScanOptions no;
  no.proc_root = spec.proc_root;
  no.listening = false;
  scanners::scan_net(no, in, hits, net_stats);
  for (const auto& [job, why] : hits.jobs)
    for (int pid : host::pids_of_batch_job(job, spec.proc_root))
      hits.pids.emplace(pid, why + " (same job " + job + ")");
  return std::move(hits.pids);
}

class Selector {
 public:
  explicit Selector(const TargetSpec& spec)
      : spec_(spec), protected_(self_and_ancestors(spec.proc_root)) {}

  // A pid the operator named: refused (exit 2, or listed when not strict) when it must not be
  // frozen.
  void named(int pid) {
    std::string problem;
    if (pid <= 0)
      problem = "not a process id";
    else if (pid == 1)
      problem = "refusing to freeze or dump init (pid 1)";
    else if (pid == static_cast<int>(::getpid()))
      problem = "that is forage itself";
    else if (protected_.count(pid))
      problem = "an ancestor of forage (its shell?); freezing it would stop forage's own terminal";
    else if (!read_stat(spec_.proc_root, pid))
      problem = "no such process";
    else
      problem = excluded(pid);
    if (problem.empty()) return add(pid, "--pid");
    std::string msg = "--pid " + std::to_string(pid) + ": " + problem;
    if (spec_.strict) throw Error(msg);
    t_.excluded.push_back(msg);
  }

  // A pid a search found: left out (listed) when it must not be frozen.
  void found(int pid, const std::string& why) {
    std::string ex = excluded(pid);
    if (ex.empty()) return add(pid, why);
    if (std::find(t_.excluded.begin(), t_.excluded.end(), ex) == t_.excluded.end())
      t_.excluded.push_back(ex);
  }

  Targets done() {
    t_.pids.assign(chosen_.begin(), chosen_.end());
    return std::move(t_);
  }

 private:
  void add(int pid, const std::string& why) {
    auto s = read_stat(spec_.proc_root, pid);
    if (!s) return;
    if (s->state == 'Z' || s->state == 'X') {
      if (std::find(t_.zombies.begin(), t_.zombies.end(), pid) == t_.zombies.end())
        t_.zombies.push_back(pid);
      t_.selection.push_back({{"pid", pid}, {"why", why}, {"zombie", true}});
      return;
    }
    if (chosen_.insert(pid).second) {
      t_.selection.push_back({{"pid", pid}, {"why", why}});
      t_.start_ticks[pid] = s->start_ticks;
    }
  }

  std::string excluded(int pid) const {
    if (pid == 1) return "pid 1 (init)";
    if (pid == static_cast<int>(::getpid())) return std::to_string(pid) + " (forage itself)";
    if (protected_.count(pid)) return std::to_string(pid) + " (an ancestor of forage)";
    // A zombie has no exe and no maps either: it is not a kernel thread.
    if (process_gone(spec_.proc_root, pid)) return "";
    auto info = host::read_proc(spec_.proc_root, pid);
    if (info && info->kernel_thread) return std::to_string(pid) + " (kernel thread)";
    return "";
  }

  const TargetSpec& spec_;
  const std::set<int> protected_;
  std::set<int> chosen_;
  Targets t_;
};

}  // namespace

Targets select_targets(const TargetSpec& spec) {
  Selector sel(spec);
  for (int pid : spec.pids) sel.named(pid);
  if (!spec.user.empty()) {
    auto uid = resolve_user(spec.user, spec.passwd);
    if (!uid) throw Error("--user " + spec.user + ": no such user in " + spec.passwd);
    for (int pid : host::list_pids(spec.proc_root)) {
      auto ids = read_ids(spec.proc_root, pid);
      if (ids && ids->uid == *uid) sel.found(pid, "--user " + spec.user);
    }
  }
  for (int pid : spec.batch_job_pids) sel.found(pid, "--batch-job");
  if (spec.iocs && !spec.iocs->empty())
    for (auto& [pid, why] : pids_hit_by_iocs(spec)) sel.found(pid, why);
  return sel.done();
}

Json process_table(const std::string& proc_root) {
  Json table = Json::array();
  const long hz = ::sysconf(_SC_CLK_TCK);
  for (int pid : host::list_pids(proc_root)) {
    auto st = read_stat(proc_root, pid);
    if (!st) continue;
    const std::string dir = pid_dir(proc_root, pid);
    Json p;
    p["pid"] = pid;
    p["ppid"] = st->ppid;
    auto ids = read_ids(proc_root, pid);
    p["uid"] = ids ? Json(ids->uid) : Json(nullptr);
    p["gid"] = ids ? Json(ids->gid) : Json(nullptr);
    p["state"] = std::string(1, st->state);
    p["comm"] = text_of(st->comm);
    p["start_ticks"] = st->start_ticks;
    p["start_seconds_after_boot"] = hz > 0 ? static_cast<double>(st->start_ticks) / hz : 0.0;
    p["threads"] = st->num_threads;
    auto cmd = read_proc_file(dir + "/cmdline", 1 << 20);
    Json argv = Json::array();
    if (cmd)
      for (const auto& a : host::split_nul(*cmd)) argv.push_back(text_of(a));
    p["cmdline"] = std::move(argv);
    p["exe"] = link_or_null(dir + "/exe");
    p["cwd"] = link_or_null(dir + "/cwd");
    p["root"] = link_or_null(dir + "/root");
    if (auto s = read_proc_file(dir + "/status", 1 << 16)) p["status"] = kv_lines(*s);
    if (auto l = read_proc_file(dir + "/limits", 1 << 16)) p["limits"] = lines_of(*l);
    table.push_back(std::move(p));
  }
  return table;
}

Json host_sockets(const std::string& proc_root) {
  Json out = Json::array();
  auto owners = host::socket_owners(proc_root);
  for (const char* proto : {"tcp", "tcp6", "udp", "udp6"}) {
    auto text = read_proc_file(proc_root + "/net/" + proto, 256u << 20);
    if (!text) continue;
    for (const auto& s : host::parse_proc_net(*text, proto)) {
      Json o;
      o["proto"] = s.proto;
      o["local"] = host::endpoint(s, false);
      o["remote"] = host::endpoint(s, true);
      o["state"] = s.state;
      o["uid"] = s.uid;
      o["inode"] = s.inode;
      auto it = owners.find(s.inode);
      o["pids"] = it == owners.end() ? Json::array() : Json(it->second);
      out.push_back(std::move(o));
    }
  }
  return out;
}

namespace {

// The open descriptors of /proc/PID (dir), sorted; none (and *err set) when fd/ is unreadable.
std::vector<int> fd_numbers(const std::string& dir, int* err = nullptr) {
  std::vector<int> nums;
  Dir d = Dir::open(dir + "/fd");
  if (!d) {
    if (err) *err = d.error();
    return nums;
  }
  for (const auto& name : d.names()) {
    int n = 0;
    if (num(std::string_view(name), n)) nums.push_back(n);
  }
  std::sort(nums.begin(), nums.end());
  return nums;
}

}  // namespace

Json process_state(const std::string& proc_root, int pid, const Json& sockets) {
  const std::string dir = pid_dir(proc_root, pid);
  Json p;
  p["pid"] = pid;
  p["exe"] = link_or_null(dir + "/exe");
  p["cwd"] = link_or_null(dir + "/cwd");
  p["root"] = link_or_null(dir + "/root");
  if (auto s = read_proc_file(dir + "/stat", 4096)) p["stat"] = text_of(*s);
  if (auto s = read_proc_file(dir + "/status", 1 << 16)) p["status"] = kv_lines(*s);
  if (auto s = read_proc_file(dir + "/limits", 1 << 16)) p["limits"] = lines_of(*s);
  if (auto s = read_proc_file(dir + "/cmdline", 1 << 20)) {
    Json argv = Json::array();
    for (const auto& a : host::split_nul(*s)) argv.push_back(text_of(a));
    p["cmdline"] = std::move(argv);
  }
  auto env = read_proc_file(dir + "/environ", 16u << 20);
  p["environ"] =
      env ? environ_json(*env) : Json("unreadable: " + std::string(std::strerror(errno)));
  if (auto s = read_proc_file(dir + "/cgroup", 1 << 16)) p["cgroup"] = lines_of(*s);

  std::map<uint64_t, const Json*> by_inode;
  for (const auto& s : sockets) by_inode[s["inode"].get<uint64_t>()] = &s;
  Json fds = Json::array();
  int fd_err = 0;
  for (int n : fd_numbers(dir, &fd_err)) {
    Json f;
    f["fd"] = n;
    auto target = read_link(dir + "/fd/" + std::to_string(n));
    f["target"] = target ? Json(text_of(*target)) : Json(nullptr);
    if (auto info = read_proc_file(dir + "/fdinfo/" + std::to_string(n), 1 << 16))
      f["fdinfo"] = kv_lines(*info);
    if (target && target->rfind("socket:[", 0) == 0) {
      uint64_t inode = 0;
      std::string_view v(*target);
      v = v.substr(8, v.size() > 9 ? v.size() - 9 : 0);
      if (num(v, inode)) {
        auto it = by_inode.find(inode);
        if (it != by_inode.end()) f["socket"] = *it->second;
      }
    }
    fds.push_back(std::move(f));
  }
  if (fd_err) p["fds_problem"] = std::strerror(fd_err);
  p["fds"] = std::move(fds);
  if (auto s = read_proc_file(dir + "/maps", 256u << 20)) p["maps"] = lines_of(*s);
  if (auto s = read_proc_file(dir + "/mountinfo", 16u << 20)) p["mountinfo"] = lines_of(*s);
  Json ns = Json::object();
  for (const char* n :
       {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "user", "uts"}) {
    auto l = read_link(dir + "/ns/" + n);
    if (l) ns[n] = *l;
  }
  p["namespaces"] = std::move(ns);
  return p;
}

Json host_state(const std::string& proc_root) {
  Json h;
  if (auto u = read_proc_file(proc_root + "/uptime", 4096)) h["uptime"] = std::string(trim(*u));
  if (auto b = read_proc_file(proc_root + "/sys/kernel/random/boot_id", 4096))
    h["boot_id"] = std::string(trim(*b));
  if (auto v = read_proc_file(proc_root + "/version", 4096)) h["kernel"] = std::string(trim(*v));
  if (auto n = read_proc_file(proc_root + "/sys/kernel/hostname", 4096))
    h["hostname"] = std::string(trim(*n));
  if (auto m = read_proc_file(proc_root + "/modules", 16u << 20)) h["modules"] = lines_of(*m);
  if (auto m = read_proc_file(proc_root + "/self/mountinfo", 16u << 20)) h["mounts"] = lines_of(*m);
  if (auto l = read_proc_file(proc_root + "/loadavg", 4096)) h["loadavg"] = std::string(trim(*l));
  return h;
}

std::vector<RecoveredFile> recover_files(bundle::BundleWriter& w, const std::string& proc_root,
                                         int pid, uint64_t max_file_size,
                                         const host::Deadline& deadline) {
  std::vector<RecoveredFile> out;
  const std::string dir = pid_dir(proc_root, pid);
  std::set<std::pair<dev_t, ino_t>> seen;
  auto take = [&](const std::string& link, const std::string& what, const std::string& bag) {
    RecoveredFile r;
    r.pid = pid;
    r.what = what;
    r.source = read_link(link).value_or("");
    if (deadline.expired()) {
      r.status = "skipped: " + deadline.reason();
      out.push_back(std::move(r));
      return;
    }
    host::Opened o = host::open_process_file(link);
    if (!o) {
      r.status = "skipped: " + o.why;
      out.push_back(std::move(r));
      return;
    }
    const struct stat& st = o.st;
    Fd& fd = o.fd;
    if (!seen.insert({st.st_dev, st.st_ino}).second) return;
    r.size = static_cast<uint64_t>(st.st_size);
    if (max_file_size && r.size > max_file_size) {
      r.status = "skipped: " + std::to_string(r.size) + " bytes, over --max-file-size";
      out.push_back(std::move(r));
      return;
    }
    auto m = w.add_fd(bag, fd.get(), link + " -> " + r.source,
                      max_file_size ? max_file_size : UINT64_MAX);
    r.bag_path = m.bag_path;
    r.sha256 = m.sha256;
    r.status = m.status;
    out.push_back(std::move(r));
  };
  const std::string base = layout::exe_dir(pid);
  take(dir + "/exe", "exe", base + "/exe");

  for (int n : fd_numbers(dir)) {
    std::string link = dir + "/fd/" + std::to_string(n);
    auto target = read_link(link);
    if (!target) continue;
    bool memfd = target->rfind("/memfd:", 0) == 0;
    if (!host::deleted_suffix(*target) && !memfd) continue;
    take(link, "fd " + std::to_string(n), base + "/fd/" + std::to_string(n));
  }
  return out;
}

std::vector<KillResult> kill_processes(const std::string& proc_root,
                                       const std::vector<host::ProcessRef>& processes,
                                       int wait_ms) {
  std::vector<KillResult> out;
  std::vector<bool> pending;
  for (const auto& p : processes) {
    KillResult k;
    k.pid = p.pid();
    int err = p.signal(SIGKILL);
    if (err == ESRCH) {
      k.result = "already gone";
      k.gone = true;
    } else if (err == ESTALE) {
      k.result = "NOT signalled: the pid now names another process (the frozen one is gone)";
      k.gone = true;
    } else if (err != 0) {
      k.result = std::string("SIGKILL failed: ") + std::strerror(err);
    }
    pending.push_back(err == 0);
    out.push_back(std::move(k));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (size_t i = 0; i < processes.size(); ++i) {
    if (!pending[i]) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    bool exited = processes[i].wait_exit(static_cast<int>(std::max<int64_t>(left.count(), 0)));
    KillResult& k = out[i];
    auto s = read_stat(proc_root, k.pid);
    bool same = s && s->start_ticks == processes[i].start_ticks();
    if (same && (s->state == 'Z' || s->state == 'X')) {
      k.gone = true;  // dead: nothing runs, only the process table entry is left
      k.result = "killed (" + processes[i].how() + "); zombie until its parent " +
                 std::to_string(s->ppid) + " reaps it";
    } else if (exited || !same) {
      k.gone = true;
      k.result = "killed (" + processes[i].how() + ")";
    } else {
      k.result = std::string("still present after SIGKILL (state ") + s->state + ")";
    }
  }
  return out;
}

}  // namespace forage::collector
