// forage sweep --iocs BROADCAST [--rules R] [--paths P...] [--pcap F...] [--budget 10m] ...:
// every host scan in one budgeted, low-impact run (scanners/sweep.h, docs/sweep.md).
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <memory>

#include <spdlog/spdlog.h>

#include "cli/bundle_options.h"
#include "cli/command.h"
#include "collector/collect.h"
#include "host/deadline.h"
#include "common/error.h"
#include "forage/version.h"
#include "scanners/manners.h"
#include "scanners/sweep.h"

namespace forage::cli {
namespace {

struct SweepCliOptions {
  scanners::SweepOptions sweep;
  std::string budget = "10m";
  uint64_t max_size = 64ull << 20;
  int nice = 10;
  std::string ionice = "idle";
  bool collect_on_hit = false;
  bool kill_on_hit = false;
  std::string profile = "triage";
  BundleCliOptions bundle;
};

// "90", "90s", "10m", "1h", "1.5m" -> seconds.
double parse_duration(const std::string& text, const char* option) {
  size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(text, &pos);
  } catch (const std::exception&) {
    throw Error(std::string(option) + ": expected a duration like 10m, got '" + text + "'");
  }
  std::string unit = text.substr(pos);
  double mult = 0;
  if (unit.empty() || unit == "s")
    mult = 1;
  else if (unit == "m" || unit == "min")
    mult = 60;
  else if (unit == "h")
    mult = 3600;
  if (mult == 0 || !(v > 0))
    throw Error(std::string(option) + ": expected a positive duration like 90s, 10m or 1h, got '" +
                text + "'");
  return v * mult;
}

int run_sweep_cli(SweepCliOptions& o) {
  if (o.kill_on_hit && !o.collect_on_hit)
    throw Error("--kill-on-hit needs --collect-on-hit (a process is never killed unpreserved)");
  o.sweep.case_id = o.bundle.case_id;
  o.sweep.tlp = o.bundle.tlp;
  if (o.collect_on_hit) {
    if (o.bundle.out.empty() || o.bundle.out == "-")
      throw Error("--collect-on-hit needs --out DIR (stdout carries the findings)");
    struct stat st {};
    if (::stat(o.bundle.out.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw Error("--out " + o.bundle.out + ": not a directory");
    auto profile = collector::parse_profile(o.profile);
    // Signing problems (no host certificate, no --no-sign) surface before the sweep, not after.
    if (!o.bundle.no_sign) signing_identity(o.bundle);
    o.sweep.on_hit = [&o, profile](const std::set<int>& pids, const ioc::IocSet& set,
                                   const std::string& case_id, const std::string& tlp) {
      scanners::Json c;
      collector::CollectOptions co;
      co.pids.assign(pids.begin(), pids.end());
      co.strict_pids = false;
      co.profile = profile;
      co.kill = o.kill_on_hit;
      // Only the processes the findings named (and their trees): not every process the
      // collector's own indicator matching would add.
      (void)set;
      co.detected_by = "forage sweep" + (case_id.empty() ? std::string() : " for " + case_id) +
                       ": indicator or rule findings on this node";
      BundleCliOptions b = o.bundle;
      b.case_id = case_id;
      if (b.tlp.empty()) b.tlp = tlp;
      b.out += (b.out.back() == '/' ? "" : "/") +
               (case_id.empty() ? std::string("forage") : case_id) + "-sweep-" +
               std::to_string(::time(nullptr)) + ".tar";
      try {
        BundleSetup setup(b);
        // As in `forage collect`: a signal now seals what is taken and leaves targets frozen.
        host::stop_gracefully();
        auto r = collector::collect(co, setup.writer_options());
        c["bundle"] = r.bundle;
        c["targets"] = r.targets;
        c["killed"] = r.killed;
        if (r.interrupted) c["interrupted"] = true;
        c["problems"] = r.problems;
        spdlog::info("sweep: collected pids into {}", r.bundle);
      } catch (const Error& e) {
        // The findings are already out: say what failed rather than lose the summary.
        spdlog::error("sweep: --collect-on-hit failed: {}", e.what());
        c["error"] = e.what();
      }
      return c;
    };
  }
  o.sweep.budget_s = parse_duration(o.budget, "--budget");
  o.sweep.max_size = o.max_size;
  o.sweep.version = FORAGE_VERSION;
  scanners::apply_manners(o.nice, o.ionice);
  auto r = scanners::run_sweep(o.sweep);
  if (!r.hit_pids.empty()) {
    std::string pids;
    for (int p : r.hit_pids) pids += (pids.empty() ? "" : " ") + std::to_string(p);
    spdlog::warn("sweep: findings name process(es) {}", pids);
  }
  return r.exit_code;
}

}  // namespace

void register_sweep(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "sweep",
      "Sockets, processes, hiding places, logs and captures against a broadcast, in one "
      "budgeted low-impact run");
  auto o = std::make_shared<SweepCliOptions>();
  auto& s = o->sweep;
  cmd->add_option("-i,--iocs", s.iocs,
                  "Indicators: the broadcast e-mail or anything `forage ioc parse` reads "
                  "(repeatable)")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("-r,--rules", s.rules, "YARA rules (default: the built-in set; repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--no-rules", s.no_rules, "No YARA (indicators only)");
  cmd->add_option("--paths", s.paths, "Also scan these files or directories (repeatable)")
      ->allow_extra_args(true);
  cmd->add_flag("--no-default-paths", s.no_default_paths,
                "Scan only --paths, not the usual hiding places");
  cmd->add_option("--logs", s.log_paths,
                  "Log files or directories instead of the usual ones (repeatable)")
      ->allow_extra_args(true);
  cmd->add_option("--pcap", s.pcaps, "Capture files to scan too (repeatable)")
      ->allow_extra_args(true);
  cmd->add_option("--skip", s.skip_phases, "Leave out a phase: net, procs, files, logs, pcap")
      ->allow_extra_args(false);
  cmd->add_option("--budget", o->budget, "Time budget: 90s, 10m, 1h")->capture_default_str();
  cmd->add_option("--max-cpu", s.max_cpu,
                  "Average CPU use at most this percent of one CPU (0: no limit)");
  cmd->add_option("--io-rate", s.io_rate_mb, "Read at most this many MB/s (0: no limit)");
  cmd->add_option("--threads", s.threads, "Scan threads")->capture_default_str();
  cmd->add_option("--max-size", o->max_size, "Skip larger files (K, M, G)")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("64M");
  cmd->add_option("--nice", o->nice, "Lower forage's CPU priority by this much (0-19)")
      ->capture_default_str();
  cmd->add_option("--ionice", o->ionice, "forage's I/O class: idle, best-effort[:0-7], none")
      ->capture_default_str();
  cmd->add_option("--passwd", s.passwd, "passwd file for user names")->capture_default_str();
  cmd->add_flag("--json", s.json, "JSON lines (default: a table)");
  cmd->add_flag("--collect-on-hit", o->collect_on_hit,
                "On a hit, collect the implicated processes into a signed bundle under --out");
  cmd->add_flag("--kill-on-hit", o->kill_on_hit,
                "With --collect-on-hit: kill the processes once preserved");
  cmd->add_option("--profile", o->profile,
                  "With --collect-on-hit: process | triage | full (see forage collect)")
      ->capture_default_str();
  // --out DIR, --case, --tlp (default: the broadcast's), signing and encryption of the bundle.
  add_bundle_options(cmd, o->bundle, false)
      ->description("With --collect-on-hit: the directory the bundle is written in");
  cmd->callback([&action, o] { action = [o] { return run_sweep_cli(*o); }; });
}

}  // namespace forage::cli
