#include "collector/collect.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "bundle/action_log.h"
#include "collector/artifacts.h"
#include "collector/core.h"
#include "collector/freeze.h"
#include "collector/grid.h"
#include "collector/incident.h"
#include "host/logins.h"
#include "host/proc.h"
#include "common/error.h"
#include "common/strings.h"
#include "host/accounts.h"

namespace forage::collector {

using host::parse_stat;
using host::read_stat;
using host::read_proc_file;
using host::parse_utmp;
using host::utc_iso;
namespace {

using Json = nlohmann::ordered_json;

std::string dump(const Json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string pid_list(const std::vector<int>& pids) {
  std::string s;
  for (int p : pids) s += (s.empty() ? "" : " ") + std::to_string(p);
  return s.empty() ? "-" : s;
}

// Seconds since the epoch of the boot, from /proc/stat "btime".
int64_t boot_epoch(const std::string& proc_root) {
  auto t = read_proc_file(proc_root + "/stat", 4u << 20);
  if (!t) return 0;
  for (std::string_view line : split_lines(*t)) {
    if (line.rfind("btime ", 0) == 0) {
      try {
        return std::stoll(std::string(line.substr(6)));
      } catch (const std::exception&) {
        return 0;
      }
    }
  }
  return 0;
}

class Run {
 public:
  Run(const CollectOptions& o, bundle::BundleWriter& w) : o_(o), w_(w) {}

  void step(std::string_view action, std::string_view target, std::string_view result) {
    w_.record(action, target, result);
    actions_.push_back(
        {bundle::utc_now_ns(), std::string(action), std::string(target), std::string(result)});
  }

  void evidence(const bundle::MemberResult& m, const std::string& what) {
    if (!m.stored) return;
    evidence_.push_back({m.bag_path, m.sha256, m.size, bundle::utc_now_ns(), what});
  }

  void problem(const std::string& p) { result_.problems.push_back(p); }

  bundle::MemberResult blob(const std::string& bag, const Json& j, const std::string& what) {
    auto m = w_.add_blob(bag, dump(j));
    evidence(m, what);
    return m;
  }

  CollectResult run(const Targets& targets, const std::vector<std::string>& excluded) {
    result_.targets = targets.pids;
    step("collect.begin", pid_list(targets.pids),
         "profile " + std::string(profile_name(o_.profile)) + (o_.kill ? ", --kill" : "") +
             (o_.detected_by.empty() ? "" : ", detected by: " + o_.detected_by));
    for (const auto& sel : targets.selection)
      step("target", "pid " + std::to_string(sel["pid"].get<int>()),
           sel["why"].get<std::string>() + (sel.contains("zombie") ? " (zombie)" : ""));
    for (const auto& e : excluded) step("target.excluded", e, "left out");
    for (int z : targets.zombies)
      step("zombie", "pid " + std::to_string(z), "recorded, not dumped (no memory left)");

    // 1. Freeze.
    FreezeOptions fo;
    fo.proc_root = o_.proc_root;
    fo.cgroup_root = o_.cgroup_root;
    Freezer freezer(fo);
    try {
      if (!targets.pids.empty()) {
        freezer.freeze(targets.pids);
        for (const auto& p : freezer.processes()) {
          step("freeze", "pid " + std::to_string(p.pid),
               p.method + (p.verified ? ", verified stopped" : ", NOT verified: " + p.problem));
          if (!p.verified) problem("pid " + std::to_string(p.pid) + " not frozen: " + p.problem);
        }
        result_.frozen = freezer.pids();
      }
      collect_all(targets, freezer);
    } catch (...) {
      if (!freezer.processes().empty() && !freezer_done_) {
        freezer.keep_frozen();
        std::fprintf(stderr,
                     "forage: collection stopped; the processes %s are still FROZEN (not killed):"
                     " retry with --out on other storage, or resume them with kill -CONT\n",
                     pid_list(freezer.pids()).c_str());
      }
      throw;
    }
    return result_;
  }

 private:
  void collect_all(const Targets& targets, Freezer& freezer) {
    // 2. Volatile state.
    const auto sockets = host_sockets(o_.proc_root);
    blob("data/volatile/host.json", host_state(o_.proc_root), "host volatile state");
    blob("data/volatile/processes.json", process_table(o_.proc_root), "process table");
    blob("data/volatile/sockets.json", sockets, "host sockets");
    for (const char* utmp : {"/run/utmp", "/var/run/utmp"}) {
      auto bytes = read_proc_file(o_.host_root + utmp, 64u << 20);
      if (!bytes) continue;
      blob("data/volatile/utmp.json", to_json(parse_utmp(*bytes), utmp), "logged-in users");
      break;
    }
    step("volatile.host", "/proc", "process table, sockets, mounts, modules, uptime, boot id");
    std::map<int, Json> states;
    for (int pid : targets.pids) {
      Json s = process_state(o_.proc_root, pid, sockets);
      blob("data/volatile/" + std::to_string(pid) + "/state.json", s,
           "volatile state of pid " + std::to_string(pid));
      step("volatile.process", "pid " + std::to_string(pid),
           std::to_string(s["fds"].size()) + " fds, " +
               std::to_string(s.value("maps", Json::array()).size()) + " maps");
      states[pid] = std::move(s);
    }

    // 3. Memory.
    std::map<int, std::string> cores;
    for (int pid : targets.pids) dump_core(pid, cores);

    // 4. Executables and deleted-but-open files.
    std::map<int, std::vector<RecoveredFile>> files;
    for (int pid : targets.pids) {
      auto rec = recover_files(w_, o_.proc_root, pid, o_.max_file_size);
      for (const auto& r : rec) {
        step(
            "recover." + (r.what == "exe" ? std::string("exe") : std::string("file")),
            "pid " + std::to_string(pid) + " " + r.what + " " + r.source,
            r.bag_path.empty() ? r.status : r.status + " -> " + r.bag_path + " sha256 " + r.sha256);
        if (!r.bag_path.empty())
          evidence_.push_back({r.bag_path, r.sha256, r.size, bundle::utc_now_ns(),
                               r.what + " of pid " + std::to_string(pid) + ": " + r.source});
        else if (r.status.rfind("skipped: not a regular", 0) != 0)
          problem("pid " + std::to_string(pid) + " " + r.what + ": " + r.status);
      }
      files[pid] = std::move(rec);
    }

    // 5. Grid context.
    std::vector<GridContext> grids;
    for (int pid : targets.pids) {
      std::vector<std::string> env;
      if (auto e = read_proc_file(o_.proc_root + "/" + std::to_string(pid) + "/environ", 16u << 20))
        env = host::split_nul(*e);
      GridContext g = grid_context(pid, env, o_.proc_root);
      store_grid_context(w_, g);
      std::string res =
          g.batch_system.empty() ? "no batch job" : g.batch_system + " job " + g.job_id;
      if (g.proxy && g.proxy->found)
        res += ", proxy " + g.proxy->identity +
               (g.proxy->private_key_present ? " (private key present, not copied)" : "");
      step("grid", "pid " + std::to_string(pid), res);
      grids.push_back(std::move(g));
    }

    // 6. Kill.
    std::map<int, std::string> kills;
    if (o_.kill && !freezer.processes().empty()) {
      auto all = freezer.pids();
      auto res = kill_processes(o_.proc_root, all);
      freezer.killed();
      freezer_done_ = true;
      for (const auto& k : res) {
        step("kill", "pid " + std::to_string(k.pid), "SIGKILL: " + k.result);
        kills[k.pid] = k.result;
        if (k.gone)
          result_.killed.push_back(k.pid);
        else
          problem("pid " + std::to_string(k.pid) + " not killed: " + k.result);
      }
    } else if (!freezer.processes().empty() && !o_.keep_frozen) {
      // The state is taken: the disk artefacts do not need the processes stopped.
      freezer.thaw();
      freezer_done_ = true;
      step("thaw", pid_list(freezer.pids()), "resumed (no --kill)");
    } else if (o_.keep_frozen) {
      freezer.keep_frozen();
      freezer_done_ = true;
      step("keep-frozen", pid_list(freezer.pids()), "left frozen on request (--keep-frozen)");
    }

    // 7. Disk artefacts.
    std::optional<ArtifactReport> artifacts;
    if (o_.profile != Profile::kProcess) {
      std::vector<std::string> cwds;
      for (auto& [pid, s] : states)
        if (s["cwd"].is_string()) cwds.push_back(s["cwd"].get<std::string>());
      std::sort(cwds.begin(), cwds.end());
      cwds.erase(std::unique(cwds.begin(), cwds.end()), cwds.end());
      artifacts = collect_artifacts(w_, o_.profile, cwds, o_.host_root);
      step("artifacts", std::string(profile_name(o_.profile)),
           std::to_string(artifacts->files_copied) + " files copied, " +
               std::to_string(artifacts->hashed_only) + " hashed only, " +
               std::to_string(artifacts->problems) + " problems; ssh logs reach " +
               std::to_string(static_cast<int>(artifacts->ssh_logs.days)) + " days" +
               (artifacts->ssh_logs.sec01_six_months ? ""
                                                     : " (less than the six months SEC01 asks)"));
      for (const auto& e : artifacts->errors) problem("artifacts: " + e);
    }

    // 8. Incident description; the writer then signs and finishes.
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
    in.finished_utc = bundle::utc_now_ns();
    const int64_t boot = boot_epoch(o_.proc_root);
    const long hz = ::sysconf(_SC_CLK_TCK);
    auto users = host::UserNames::load(o_.host_root + "etc/passwd");
    std::set<std::string> remote;
    for (int pid : targets.pids) {
      IncidentProcess p;
      p.pid = pid;
      const Json& s = states[pid];
      if (auto st = read_stat(o_.proc_root, pid)) p.ppid = st->ppid;
      if (s.contains("status") && s["status"].contains("PPid"))
        p.ppid = std::atoi(s["status"]["PPid"].get<std::string>().c_str());
      if (s.contains("status") && s["status"].contains("Uid"))
        p.uid = static_cast<uid_t>(std::atol(s["status"]["Uid"].get<std::string>().c_str()));
      p.user = users.name(p.uid);
      if (s["exe"].is_string()) {
        p.exe = s["exe"].get<std::string>();
        p.exe_deleted = p.exe.size() > 10 && p.exe.ends_with(" (deleted)");
      }
      if (s.contains("cmdline")) {
        for (const auto& a : s["cmdline"])
          p.cmdline += (p.cmdline.empty() ? "" : " ") + a.get<std::string>();
      }
      if (s["cwd"].is_string()) p.cwd = s["cwd"].get<std::string>();
      if (s.contains("stat") && boot > 0 && hz > 0) {
        if (auto st = parse_stat(s["stat"].get<std::string>()))
          p.start_utc = utc_iso(boot + static_cast<int64_t>(st->start_ticks / hz));
      }
      for (const auto& r : files[pid])
        if (r.what == "exe") p.exe_sha256 = r.sha256;
      for (const auto& f : s["fds"]) {
        if (!f.contains("socket")) continue;
        std::string ep = f["socket"].value("remote", "");
        if (!ep.empty() && ep.rfind("0.0.0.0:", 0) != 0 && ep.rfind("[::]:", 0) != 0) {
          p.remote_endpoints.push_back(ep);
          remote.insert(ep.substr(0, ep.rfind(':')));
        }
      }
      if (cores.count(pid)) p.core = cores[pid];
      for (const auto& fp : freezer.processes())
        if (fp.pid == pid)
          p.frozen = fp.method.rfind("cgroup:", 0) == 0 ? "cgroup freezer" : fp.method;
      if (kills.count(pid)) p.kill_result = kills[pid];
      in.processes.push_back(std::move(p));
    }
    in.grid = grids;
    in.artifacts = artifacts ? &*artifacts : nullptr;
    in.remote_ips.assign(remote.begin(), remote.end());
    in.evidence = evidence_;
    for (const auto& a : actions_) in.actions.push_back(a);
    in.not_collected = result_.problems;
    w_.add_blob("meta/incident.json", dump(incident_json(in)));
    step("incident", "meta/incident.json", "pre-filled; fields only a human can answer are marked");
    result_.bundle = w_.finish();
  }

  void dump_core(int pid, std::map<int, std::string>& cores) {
    CoreOptions co;
    co.proc_root = o_.proc_root;
    co.max_size = o_.max_core_size;
    const std::string label = "pid " + std::to_string(pid);
    CorePlan plan;
    try {
      plan = plan_core(pid, co);
    } catch (const Error& e) {
      step("memory.core", label, std::string("not dumped: ") + e.what());
      problem(label + " memory: " + e.what());
      return;
    }
    step("memory.plan", label,
         std::to_string(plan.segments.size()) + " segments, " +
             std::to_string(plan.dumped_bytes()) + " bytes to dump, " +
             std::to_string(plan.threads.size()) + " threads, registers: " + plan.registers_source);
    CoreWriteStats stats;
    const std::string bag = "data/memory/" + std::to_string(pid) + "/core";
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
    if (stats.process_gone) info["stopped_at"] = stats.stopped_at;
    blob("data/memory/" + std::to_string(pid) + "/core.json", info,
         "core description of pid " + std::to_string(pid));
    std::string res = m.status + ", " + std::to_string(m.size) + " bytes -> " + m.bag_path +
                      " sha256 " + m.sha256;
    if (stats.process_gone) res += "; " + stats.stopped_at + ", rest zero-filled";
    if (stats.unreadable_bytes)
      res += "; " + std::to_string(stats.unreadable_bytes) + " unreadable bytes zero-filled";
    step("memory.core", label, res);
    if (stats.process_gone) problem(label + " memory: " + stats.stopped_at);
    if (m.stored) cores[pid] = m.bag_path;
  }

 public:
  bundle::WriterOptions wo_;  // a copy of what the writer was given (case, TLP, host)

 private:
  const CollectOptions& o_;
  bundle::BundleWriter& w_;
  CollectResult result_;
  std::vector<IncidentAction> actions_;
  std::vector<IncidentEvidence> evidence_;
  bool freezer_done_ = false;
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
    spec.batch_job_pids = pids_of_batch_job(o.batch_job, o.proc_root);
    if (spec.batch_job_pids.empty() && o.strict_pids)
      throw Error("--batch-job " + o.batch_job + ": no process of that job found");
  }
  Targets targets = select_targets(spec);
  if (targets.pids.empty() && targets.zombies.empty() &&
      (!o.user.empty() || (o.iocs && !o.iocs->empty())))
    spdlog::warn("no process matched --user/--iocs: host triage only");

  bundle::WriterOptions copy = wo;
  bundle::BundleWriter writer(std::move(wo));
  Run run(o, writer);
  run.wo_ = std::move(copy);
  return run.run(targets, targets.excluded);
}

}  // namespace forage::collector
