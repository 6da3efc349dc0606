#include "collector/collect.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "bundle/action_log.h"
#include "collector/artifacts.h"
#include "collector/core.h"
#include "collector/freeze.h"
#include "collector/grid.h"
#include "collector/incident.h"
#include "common/error.h"
#include "common/layout.h"
#include "common/strings.h"
#include "common/time.h"
#include "host/accounts.h"
#include "host/deadline.h"
#include "host/logins.h"
#include "host/proc.h"

namespace forage::collector {
namespace {

using Json = nlohmann::ordered_json;
using std::chrono::seconds;

// Step deadlines. Memory grows with the size of the process: a minute, plus a second per 64 MiB
// planned (about a tenth of what a slow disk writes).
constexpr int kVolatileSeconds = 30;
constexpr int kRecoverSeconds = 60;
constexpr int kGridSeconds = 20;
constexpr int kMemoryBaseSeconds = 60;

std::string dump(const Json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string pid_list(const std::vector<int>& pids) {
  std::string s;
  for (int p : pids) s += (s.empty() ? "" : " ") + std::to_string(p);
  return s.empty() ? "-" : s;
}

class Run {
 public:
  Run(const CollectOptions& o, bundle::BundleWriter& w, bundle::WriterOptions wo)
      : o_(o), w_(w), wo_(std::move(wo)) {}

  CollectResult run(const Targets& targets) {
    result_.targets = targets.pids;
    begin(targets);
    FreezeOptions fo;
    fo.proc_root = o_.proc_root;
    fo.cgroup_root = o_.cgroup_root;
    Freezer freezer(fo);
    try {
      freeze(targets, freezer);
      // The targets' descendants were frozen with them: they are the job too (the payload
      // under a runuser or a batch wrapper), and are collected alike.
      Targets all = with_frozen_descendants(targets, freezer);
      result_.targets = all.pids;
      volatile_state(all);
      for (int pid : all.pids) dump_core(pid);
      recover(all);
      grid(all);
      artifacts();
      contain(freezer);
      describe(all, freezer);
      seal();
    } catch (...) {
      if (!freezer.processes().empty() && !contained_) {
        freezer.keep_frozen();
        spdlog::error(
            "collection stopped; the processes {} are still FROZEN (not killed): retry with --out "
            "on other storage, or {}",
            pid_list(freezer.pids()), freezer.resume_hint());
      }
      throw;
    }
    return result_;
  }

 private:
  void step(std::string_view action, std::string_view target, std::string_view result) {
    w_.record(action, target, result);
    actions_.push_back(
        {utc_now_ns(), std::string(action), std::string(target), std::string(result)});
  }

  void evidence(const bundle::MemberResult& m, const std::string& what) {
    if (!m.stored) return;
    evidence_.push_back({m.bag_path, m.sha256, m.size, utc_now_ns(), what});
  }

  void problem(const std::string& p) { result_.problems.push_back(p); }

  bundle::MemberResult blob(const std::string& bag, const Json& j, const std::string& what) {
    auto m = w_.add_blob(bag, dump(j));
    evidence(m, what);
    return m;
  }

  // A step that ran out of time, or was interrupted: logged as abandoned, the collection goes on.
  void abandoned(std::string_view action, const std::string& target, const host::Deadline& d) {
    step(action, target, "ABANDONED: " + d.reason() + "; the collection goes on");
    problem(target + ": " + std::string(action) + " abandoned (" + d.reason() + ")");
  }

  void begin(const Targets& targets) {
    step("collect.begin", pid_list(targets.pids),
         "profile " + std::string(profile_name(o_.profile)) + (o_.kill ? ", --kill" : "") +
             (o_.detected_by.empty() ? "" : ", detected by: " + o_.detected_by));
    for (const auto& sel : targets.selection)
      step("target", "pid " + std::to_string(sel["pid"].get<int>()),
           sel["why"].get<std::string>() + (sel.contains("zombie") ? " (zombie)" : ""));
    for (const auto& e : targets.excluded) step("target.excluded", e, "left out");
    for (int z : targets.zombies)
      step("zombie", "pid " + std::to_string(z), "recorded, not dumped (no memory left)");
  }

  // 1. Freeze, each process held by a pidfd from now on.
  void freeze(const Targets& targets, Freezer& freezer) {
    if (targets.pids.empty()) return;
    freezer.freeze(targets.pids, targets.start_ticks);
    frozen_utc_ = utc_now_ns();
    frozen_at_ = std::chrono::steady_clock::now();
    for (const auto& p : freezer.processes()) {
      step("freeze", "pid " + std::to_string(p.pid),
           p.method + (p.verified ? ", verified stopped" : ", NOT verified: " + p.problem) +
               (p.ref ? ", held by " + p.ref->how() : ""));
      if (!p.verified) problem("pid " + std::to_string(p.pid) + " not frozen: " + p.problem);
    }
    result_.frozen = freezer.pids();
  }

  Targets with_frozen_descendants(const Targets& targets, const Freezer& freezer) {
    Targets all = targets;
    for (const auto& p : freezer.processes()) {
      if (p.target || !p.ref || std::count(all.pids.begin(), all.pids.end(), p.pid)) continue;
      all.pids.push_back(p.pid);
      step("target", "pid " + std::to_string(p.pid),
           "descendant of a target, frozen with its tree: collected too");
    }
    return all;
  }

  // 2. Volatile state.
  void volatile_state(const Targets& targets) {
    host::Deadline d = host::Deadline::in(seconds(kVolatileSeconds));
    host::Watchdog watchdog(d);
    sockets_ = host_sockets(o_.proc_root);
    blob(std::string(layout::kHostState), host_state(o_.proc_root), "host volatile state");
    blob(std::string(layout::kProcesses), process_table(o_.proc_root), "process table");
    blob(std::string(layout::kSockets), sockets_, "host sockets");
    for (const char* utmp : {"/run/utmp", "/var/run/utmp"}) {
      auto bytes = host::read_proc_file(o_.host_root + utmp, 64u << 20);
      if (!bytes) continue;
      blob(std::string(layout::kUtmp), host::to_json(host::parse_utmp(*bytes), utmp),
           "logged-in users");
      break;
    }
    step("volatile.host", "/proc", "process table, sockets, mounts, modules, uptime, boot id");
    for (int pid : targets.pids) {
      const std::string label = "pid " + std::to_string(pid);
      if (d.expired()) {
        abandoned("volatile.process", label, d);
        continue;
      }
      Json s = process_state(o_.proc_root, pid, sockets_);
      blob(layout::process_state_path(pid), s, "volatile state of pid " + std::to_string(pid));
      step("volatile.process", label,
           std::to_string(s["fds"].size()) + " fds, " +
               std::to_string(s.value("maps", Json::array()).size()) + " maps");
      states_[pid] = std::move(s);
    }
  }

  // 3. Memory.
  void dump_core(int pid) {
    CoreOptions co;
    co.proc_root = o_.proc_root;
    co.max_size = o_.max_core_size;
    const std::string label = "pid " + std::to_string(pid);
    if (host::stop_requested()) return abandoned("memory.core", label, host::Deadline());
    co.deadline = host::Deadline::in(seconds(kMemoryBaseSeconds));  // the plan: maps, registers
    CorePlan plan;
    try {
      plan = plan_core(pid, co);
    } catch (const Error& e) {
      step("memory.core", label, std::string("not dumped: ") + e.what());
      problem(label + " memory: " + e.what());
      return;
    }
    co.deadline =
        host::Deadline::in(seconds(kMemoryBaseSeconds + static_cast<int>(plan.size >> 26)));
    step("memory.plan", label,
         std::to_string(plan.segments.size()) + " segments, " +
             std::to_string(plan.dumped_bytes()) + " bytes to dump, " +
             std::to_string(plan.threads.size()) + " threads, registers: " + plan.registers_source);
    CoreWriteStats stats;
    const std::string bag = layout::core_path(pid);
    auto m = w_.add_stream(
        bag, plan.size, [&](bundle::StreamOut& out) { write_core(plan, co, out, stats); },
        "/proc/" + std::to_string(pid) + "/mem");
    evidence(m, "ELF core of pid " + std::to_string(pid));
    Json info = plan.to_json();
    info["bag_path"] = m.bag_path;
    info["sha256"] = m.sha256;
    info["status"] = m.status;
    info["bytes_read"] = stats.bytes_read;
    info["unreadable_bytes"] = stats.unreadable_bytes;
    info["unreadable_ranges"] = stats.unreadable_ranges;
    if (!stats.stopped_at.empty()) info["stopped_at"] = stats.stopped_at;
    blob(layout::core_info_path(pid), info, "core description of pid " + std::to_string(pid));
    std::string res = m.status + ", " + std::to_string(m.size) + " bytes -> " + m.bag_path +
                      " sha256 " + m.sha256;
    if (!stats.stopped_at.empty()) res += "; " + stats.stopped_at + ", rest zero-filled";
    if (stats.unreadable_bytes)
      res += "; " + std::to_string(stats.unreadable_bytes) + " unreadable bytes zero-filled";
    step("memory.core", label, res);
    if (stats.abandoned) abandoned("memory.core", label, co.deadline);
    if (stats.process_gone) problem(label + " memory: " + stats.stopped_at);
    if (m.stored) cores_[pid] = m.bag_path;
  }

  // 4. Executables and deleted-but-open files.
  void recover(const Targets& targets) {
    for (int pid : targets.pids) {
      const std::string label = "pid " + std::to_string(pid);
      host::Deadline d = host::Deadline::in(seconds(kRecoverSeconds));
      host::Watchdog watchdog(d);
      auto rec = recover_files(w_, o_.proc_root, pid, o_.max_file_size, d);
      for (const auto& r : rec) {
        step(
            "recover." + (r.what == "exe" ? std::string("exe") : std::string("file")),
            label + " " + r.what + " " + r.source,
            r.bag_path.empty() ? r.status : r.status + " -> " + r.bag_path + " sha256 " + r.sha256);
        if (!r.bag_path.empty())
          evidence_.push_back({r.bag_path, r.sha256, r.size, utc_now_ns(),
                               r.what + " of pid " + std::to_string(pid) + ": " + r.source});
        else if (r.status.rfind("skipped: not a regular", 0) != 0)
          problem(label + " " + r.what + ": " + r.status);
      }
      if (d.expired()) abandoned("recover", label, d);
      files_[pid] = std::move(rec);
    }
  }

  // 5. Grid context.
  void grid(const Targets& targets) {
    for (int pid : targets.pids) {
      const std::string label = "pid " + std::to_string(pid);
      host::Deadline d = host::Deadline::in(seconds(kGridSeconds));
      if (d.expired()) {
        abandoned("grid", label, d);
        continue;
      }
      host::Watchdog watchdog(d);
      std::vector<std::string> env;
      if (auto e = host::read_proc_file(o_.proc_root + "/" + std::to_string(pid) + "/environ",
                                        16u << 20))
        env = host::split_nul(*e);
      GridContext g = host::grid_context(pid, env, o_.proc_root);
      store_grid_context(w_, g);
      std::string res =
          g.batch_system.empty() ? "no batch job" : g.batch_system + " job " + g.job_id;
      if (g.proxy && g.proxy->found)
        res += ", proxy " + g.proxy->identity +
               (g.proxy->private_key_present ? " (private key present, not copied)" : "");
      step("grid", label, res);
      grids_.push_back(std::move(g));
    }
  }

  // The targets' working directories, listed with their owners' rights.
  std::vector<CwdListing> cwd_listings() const {
    std::vector<CwdListing> out;
    for (const auto& [pid, s] : states_) {
      if (!s["cwd"].is_string()) continue;
      CwdListing c;
      c.pid = pid;
      c.dir = s["cwd"].get<std::string>();
      c.open_path = o_.proc_root + "/" + std::to_string(pid) + "/cwd";
      if (auto ids = host::read_ids(o_.proc_root, pid)) {
        c.who.uid = ids->uid;
        c.who.gid = ids->gid;
        c.who.groups = ids->groups;
        c.who.name = "the owner of pid " + std::to_string(pid);
      } else {
        c.who = {65534, 65534, {}, "nobody (owner of pid " + std::to_string(pid) + " unknown)"};
      }
      for (const auto& f : s["fds"])
        if (f["target"].is_string() && f["target"].get<std::string>().rfind("/", 0) == 0)
          c.open_files.push_back(f["target"].get<std::string>());
      out.push_back(std::move(c));
    }
    return out;
  }

  // 6. Disk artefacts, while the targets stay frozen.
  void artifacts() {
    if (o_.profile == Profile::kProcess) return;
    ArtifactOptions ao;
    ao.max_file_size = o_.max_file_size ? o_.max_file_size : UINT64_MAX;
    if (o_.max_bundle_size) ao.max_total = o_.max_bundle_size;
    ao.deadline_s = o_.artifacts_deadline_s;
    artifacts_ = collect_artifacts(w_, o_.profile, cwd_listings(), o_.host_root, ao);
    const auto& a = *artifacts_;
    step("artifacts", std::string(profile_name(o_.profile)),
         std::to_string(a.files_copied) + " files copied, " + std::to_string(a.hashed_only) +
             " hashed only, " + std::to_string(a.over_budget) + " over budget, " +
             std::to_string(a.not_reached) + " not reached, " + std::to_string(a.problems) +
             " problems; ssh logs reach " + std::to_string(static_cast<int>(a.ssh_logs.days)) +
             " days" +
             (a.ssh_logs.sec01_six_months ? "" : " (less than the six months SEC01 asks)"));
    for (const auto& e : a.errors) problem("artifacts: " + e);
    for (const auto& e : a.abandoned) problem("artifacts: " + e);
  }

  // 7. Kill (or thaw), last: only now that everything else is taken and the output is healthy.
  void contain(Freezer& freezer) {
    if (freezer.processes().empty()) return;
    if (host::stop_requested()) {
      result_.interrupted = true;
      freezer.keep_frozen();
      contained_ = true;
      kill_outcome_ = o_.kill ? "NOT done: interrupted by " + host::Deadline().reason() : "";
      step("interrupted", pid_list(freezer.pids()),
           host::Deadline().reason() +
               ": no kill, no thaw; the targets stay FROZEN; the bundle "
               "is sealed as .partial");
      spdlog::error("interrupted: the processes {} stay FROZEN; {}", pid_list(freezer.pids()),
                    freezer.resume_hint());
      return;
    }
    if (o_.kill) {
      // Everything so far is on the disk, and the disk still takes writes; else this throws and
      // the targets stay frozen (run()).
      w_.checkpoint();
      step("checkpoint", w_.output_path(), "bundle so far durable; output healthy: kill follows");
      auto res = kill_processes(o_.proc_root, freezer.refs());
      freezer.killed();
      contained_ = true;
      killed_utc_ = utc_now_ns();
      latency_s_ =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - frozen_at_).count();
      bool all = true;
      for (const auto& k : res) {
        step("kill", "pid " + std::to_string(k.pid), "SIGKILL: " + k.result);
        kills_[k.pid] = k.result;
        if (k.gone) {
          result_.killed.push_back(k.pid);
        } else {
          all = false;
          problem("pid " + std::to_string(k.pid) + " not killed: " + k.result);
        }
      }
      kill_outcome_ = all ? "done" : "partly: see the kill actions";
    } else if (o_.keep_frozen) {
      freezer.keep_frozen();
      contained_ = true;
      step("keep-frozen", pid_list(freezer.pids()), "left frozen on request (--keep-frozen)");
    } else {
      freezer.thaw();
      contained_ = true;
      step("thaw", pid_list(freezer.pids()), "resumed (no --kill)");
    }
  }

  IncidentProcess incident_process(int pid, const Freezer& freezer, int64_t boot, long hz,
                                   const host::UserNames& users, std::set<std::string>& remote) {
    IncidentProcess p;
    p.pid = pid;
    const Json& s = states_[pid];
    if (s.contains("stat")) {
      if (auto st = host::parse_stat(s["stat"].get<std::string>())) {
        p.ppid = st->ppid;
        if (boot > 0 && hz > 0)
          p.start_utc = utc_iso(boot + static_cast<int64_t>(st->start_ticks / hz));
      }
    }
    if (auto ids = host::read_ids(o_.proc_root, pid)) p.uid = ids->uid;
    p.user = users.name(p.uid);
    if (s["exe"].is_string()) {
      p.exe = s["exe"].get<std::string>();
      p.exe_deleted = host::deleted_suffix(p.exe);
    }
    if (s.contains("cmdline"))
      for (const auto& a : s["cmdline"])
        p.cmdline += (p.cmdline.empty() ? "" : " ") + a.get<std::string>();
    if (s["cwd"].is_string()) p.cwd = s["cwd"].get<std::string>();
    for (const auto& r : files_[pid])
      if (r.what == "exe") p.exe_sha256 = r.sha256;
    if (s.contains("fds")) {
      for (const auto& f : s["fds"]) {
        if (!f.contains("socket")) continue;
        std::string ep = f["socket"].value("remote", "");
        if (!ep.empty() && ep.rfind("0.0.0.0:", 0) != 0 && ep.rfind("[::]:", 0) != 0) {
          p.remote_endpoints.push_back(ep);
          remote.insert(ep.substr(0, ep.rfind(':')));
        }
      }
    }
    if (cores_.count(pid)) p.core = cores_[pid];
    for (const auto& fp : freezer.processes())
      if (fp.pid == pid)
        p.frozen = fp.method.rfind("cgroup:", 0) == 0 ? "cgroup freezer" : fp.method;
    if (kills_.count(pid)) p.kill_result = kills_[pid];
    return p;
  }

  // 8. The incident description.
  void describe(const Targets& targets, const Freezer& freezer) {
    IncidentInputs in;
    in.case_id = wo_.case_id;
    in.tlp = wo_.tlp;
    in.operator_name = wo_.operator_name;
    in.host = wo_.host;
    if (wo_.environment.contains("host") && wo_.environment["host"].is_object()) {
      in.host_identity = wo_.environment["host"];
      for (const char* key : {"hostname", "fqdn"}) {
        auto it = in.host_identity.find(key);
        if (it != in.host_identity.end() && it->is_string() && !it->get<std::string>().empty())
          in.host = it->get<std::string>();
      }
    }
    in.detected_by = o_.detected_by;
    for (const auto& sel : targets.selection) {
      std::string why = sel["why"].get<std::string>();
      if (why.rfind("--iocs ", 0) == 0) in.iocs_matched.push_back(why.substr(7));
    }
    std::sort(in.iocs_matched.begin(), in.iocs_matched.end());
    in.iocs_matched.erase(std::unique(in.iocs_matched.begin(), in.iocs_matched.end()),
                          in.iocs_matched.end());
    in.profile = std::string(profile_name(o_.profile));
    in.started_utc = actions_.empty() ? "" : actions_.front().utc;
    in.finished_utc = utc_now_ns();
    const int64_t boot = host::boot_epoch(o_.proc_root);
    const long hz = ::sysconf(_SC_CLK_TCK);
    auto users = host::UserNames::load(o_.host_root + "etc/passwd");
    std::set<std::string> remote;
    for (int pid : targets.pids)
      in.processes.push_back(incident_process(pid, freezer, boot, hz, users, remote));
    in.grid = grids_;
    in.artifacts = artifacts_ ? &*artifacts_ : nullptr;
    in.remote_ips.assign(remote.begin(), remote.end());
    in.evidence = evidence_;
    for (const auto& a : actions_) in.actions.push_back(a);
    in.not_collected = result_.problems;
    in.frozen_utc = frozen_utc_;
    in.killed_utc = killed_utc_;
    in.containment_latency_s = killed_utc_.empty() ? -1 : latency_s_;
    in.kill_outcome = o_.kill ? (kill_outcome_.empty() ? "NOT done" : kill_outcome_) : "";
    w_.add_blob(layout::kIncident, dump(incident_json(in)));
    step("incident", layout::kIncident, "pre-filled; fields only a human can answer are marked");
  }

  void seal() { result_.bundle = w_.finish(/*keep_partial=*/result_.interrupted); }

  const CollectOptions& o_;
  bundle::BundleWriter& w_;
  bundle::WriterOptions wo_;  // a copy of what the writer was given (case, TLP, host)
  CollectResult result_;
  std::vector<IncidentAction> actions_;
  std::vector<IncidentEvidence> evidence_;
  Json sockets_ = Json::array();
  std::map<int, Json> states_;
  std::map<int, std::string> cores_;
  std::map<int, std::vector<RecoveredFile>> files_;
  std::vector<GridContext> grids_;
  std::optional<ArtifactReport> artifacts_;
  std::map<int, std::string> kills_;
  std::string frozen_utc_, killed_utc_, kill_outcome_;
  std::chrono::steady_clock::time_point frozen_at_{};
  double latency_s_ = -1;
  bool contained_ = false;  // killed, thawed or deliberately left frozen
};

}  // namespace

CollectResult collect(const CollectOptions& o, bundle::WriterOptions wo) {
  TargetSpec spec;
  spec.pids = o.pids;
  spec.user = o.user;
  spec.iocs = o.iocs;
  spec.proc_root = o.proc_root;
  spec.passwd = o.host_root + "etc/passwd";
  spec.strict = o.strict_pids;
  if (!o.batch_job.empty()) {
    spec.batch_job_pids = host::pids_of_batch_job(o.batch_job, o.proc_root);
    if (spec.batch_job_pids.empty() && o.strict_pids)
      throw Error("--batch-job " + o.batch_job + ": no process of that job found");
  }
  Targets targets = select_targets(spec);
  if (targets.pids.empty() && targets.zombies.empty() &&
      (!o.user.empty() || (o.iocs && !o.iocs->empty())))
    spdlog::warn("no process matched --user/--iocs: host triage only");

  bundle::WriterOptions copy = wo;
  bundle::BundleWriter writer(std::move(wo));
  Run run(o, writer, std::move(copy));
  return run.run(targets);
}

}  // namespace forage::collector
