// forage collect: freeze, snapshot and (with --kill) kill target processes, then take the host
// artefacts, into one signed evidence bundle (collector/collect.h, docs/runbook-admin.md).
#include <sys/stat.h>

#include <cctype>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "cli/bundle_options.h"
#include "cli/command.h"
#include "collector/artifacts.h"
#include "collector/collect.h"
#include "common/error.h"
#include "host/deadline.h"
#include "ioc/reader.h"
#include "scanners/ioc_match.h"

namespace forage::cli {
namespace {

struct CollectCliOptions {
  std::vector<int> pids;
  std::string user;
  std::vector<std::string> iocs;
  std::string batch_job;
  std::string profile = "triage";
  bool kill = false;
  bool keep_frozen = false;
  std::string detected_by;
  bool list_artifacts = false;
  uint64_t max_core_size = 0;
  uint64_t max_file_size = 256ull << 20;
  uint64_t max_bundle_size = 0;
  int artifacts_deadline = 150;
  BundleCliOptions bundle;
};

int run_collect(const CollectCliOptions& o) {
  const uint64_t max_file = o.max_file_size;
  const uint64_t max_bundle = o.max_bundle_size;
  if (o.artifacts_deadline <= 0) throw Error("--artifacts-deadline: expected seconds > 0");
  if (o.list_artifacts) {
    collector::ArtifactOptions ao;
    ao.max_file_size = max_file ? max_file : UINT64_MAX;
    if (max_bundle) ao.max_total = max_bundle;
    ao.deadline_s = o.artifacts_deadline;
    std::fputs(collector::artifact_table_text(ao).c_str(), stdout);
    return static_cast<int>(Exit::kOk);
  }
  if (o.bundle.out.empty()) throw Error("collect: --out PATH|- is required");
  if (o.kill && o.keep_frozen) throw Error("--kill contradicts --keep-frozen");
  collector::CollectOptions c;
  c.pids = o.pids;
  c.user = o.user;
  c.batch_job = o.batch_job;
  c.profile = collector::parse_profile(o.profile);
  c.kill = o.kill;
  c.keep_frozen = o.keep_frozen;
  c.detected_by = o.detected_by;
  c.max_core_size = o.max_core_size;
  c.max_file_size = max_file;
  c.max_bundle_size = max_bundle;
  c.artifacts_deadline_s = o.artifacts_deadline;
  ioc::IocSet set;
  scanners::IocIndex index;
  if (!o.iocs.empty()) {
    set = ioc::read_iocs_option(o.iocs);
    index = scanners::IocIndex(set);
    c.iocs = &index;
  }
  if (o.kill && o.pids.empty() && o.user.empty() && o.iocs.empty() && o.batch_job.empty())
    throw Error("--kill needs targets (--pid, --user, --iocs or --batch-job)");
  // An output directory: the bundle gets its own name inside it.
  BundleCliOptions b = o.bundle;
  struct stat st {};
  if (b.out != "-" && ::stat(b.out.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::string name = (b.case_id.empty() ? std::string("forage") : b.case_id) + "-collect-" +
                       std::to_string(::time(nullptr)) + ".tar";
    b.out += (b.out.back() == '/' ? "" : "/") + name;
  }
  BundleSetup setup(b);
  // From here a SIGINT/SIGTERM seals what is taken (as .partial) and leaves the targets frozen,
  // instead of ending forage with the evidence half written and the targets in limbo.
  host::stop_gracefully();
  auto r = collector::collect(c, setup.writer_options());
  auto list = [](const std::vector<int>& v) {
    std::string s;
    for (int p : v) s += (s.empty() ? "" : " ") + std::to_string(p);
    return s.empty() ? std::string("none") : s;
  };
  spdlog::info("bundle {}: targets {}, frozen {}, killed {}{}",
               r.bundle == "-" ? "written to stdout" : r.bundle, list(r.targets), list(r.frozen),
               o.kill ? list(r.killed) : std::string("none (no --kill)"),
               b.no_sign ? ", UNSIGNED" : "");
  if (r.interrupted)
    spdlog::error(
        "interrupted: the bundle is sealed under its .partial name ({}); it verifies, "
        "but holds only what was taken before the signal",
        r.bundle);
  if (r.incomplete()) {
    for (const auto& p : r.problems) spdlog::warn("not collected: {}", p);
    return static_cast<int>(Exit::kIncomplete);
  }
  return static_cast<int>(Exit::kOk);
}

}  // namespace

void register_collect(CLI::App& app, Action& action) {
  auto o = std::make_shared<CollectCliOptions>();
  auto* cmd = app.add_subcommand(
      "collect",
      "Freeze, snapshot and optionally kill processes; take host evidence into a bundle");
  cmd->add_option("--pid", o->pids, "Target process (repeatable); its process tree comes along");
  cmd->add_option("--user", o->user, "Every process of this user (name or uid)");
  cmd->add_option("--iocs", o->iocs,
                  "Processes whose exe, command line, environment or sockets hit these indicators");
  cmd->add_option("--batch-job", o->batch_job,
                  "Every process of this batch job (Slurm, HTCondor, PBS...)");
  cmd->add_option("--profile", o->profile, "process | triage (default) | full")
      ->capture_default_str();
  cmd->add_flag("--kill", o->kill, "SIGKILL the frozen targets after they are dumped");
  cmd->add_flag("--keep-frozen", o->keep_frozen, "Leave the targets frozen at the end");
  cmd->add_option("--detected-by", o->detected_by, "How the incident was detected (incident.json)");
  cmd->add_flag("--list-artifacts", o->list_artifacts,
                "Print the table of host artefacts and exit");
  cmd->add_option("--max-core-size", o->max_core_size, "Cap per ELF core (K, M, G; 0: none)")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("0");
  cmd->add_option("--max-file-size", o->max_file_size,
                  "Cap per recovered executable, deleted file or host artefact (K, M, G; 0: none)")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("256M");
  cmd->add_option("--max-bundle-size", o->max_bundle_size,
                  "Cap on all host artefacts together (K, M, G; 0: only the per-row budgets of "
                  "--list-artifacts); what does not fit is listed, not copied")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("0");
  cmd->add_option("--artifacts-deadline", o->artifacts_deadline,
                  "Seconds the host artefacts may take in all; a step that overruns is abandoned "
                  "and logged")
      ->capture_default_str();
  add_bundle_options(cmd, o->bundle, false);
  cmd->callback([&action, o] { action = [o] { return run_collect(*o); }; });
}

}  // namespace forage::cli
