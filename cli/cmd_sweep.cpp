// forage sweep --iocs BROADCAST [--rules R] [--paths P...] [--pcap F...] [--budget 10m] ...:
// every host scan in one budgeted, low-impact run, then --collect-on-hit (sweep/sweep.h,
// sweep/on_hit.h, docs/sweep.md).
#include <sys/stat.h>

#include <memory>

#include "cli/bundle_options.h"
#include "cli/command.h"
#include "collector/profile.h"
#include "common/error.h"
#include "forage/version.h"
#include "scanners/manners.h"
#include "sweep/sweep.h"

namespace forage::cli {
namespace {

struct SweepCliOptions {
  sweep::SweepOptions options;
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

// --collect-on-hit's options, checked before the sweep. The bundle's signer, recipients and
// environment record are set up here, at the hit (cli/bundle_options.h); the rest is
// sweep/on_hit.h.
sweep::CollectOnHit collect_on_hit_options(const SweepCliOptions& o) {
  if (o.bundle.out.empty() || o.bundle.out == "-")
    throw Error("--collect-on-hit needs --out DIR (stdout carries the findings)");
  struct stat st {};
  if (::stat(o.bundle.out.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error("--out " + o.bundle.out + ": not a directory");
  sweep::CollectOnHit c;
  c.out_dir = o.bundle.out;
  c.profile = collector::parse_profile(o.profile);
  c.kill = o.kill_on_hit;
  // Signing problems (no host certificate, no --no-sign) surface before the sweep, not after.
  if (!o.bundle.no_sign) signing_identity(o.bundle);
  c.with_writer = [bundle = o.bundle](const sweep::BundleRequest& r,
                                      const sweep::WriteBundle& write) {
    BundleCliOptions b = bundle;
    b.out = r.path;
    b.case_id = r.case_id;
    b.tlp = r.tlp;
    BundleSetup setup(b);
    write(setup.writer_options());
  };
  return c;
}

int run_sweep_cli(SweepCliOptions& o) {
  if (o.kill_on_hit && !o.collect_on_hit)
    throw Error("--kill-on-hit needs --collect-on-hit (a process is never killed unpreserved)");
  o.options.case_id = o.bundle.case_id;
  o.options.tlp = o.bundle.tlp;
  if (o.collect_on_hit) o.options.collect_on_hit = collect_on_hit_options(o);
  o.options.budget_s = parse_duration(o.budget, "--budget");
  o.options.max_size = o.max_size;
  o.options.version = FORAGE_VERSION;
  scanners::apply_manners(o.nice, o.ionice);
  return sweep::run_sweep(o.options).exit_code;
}

}  // namespace

void register_sweep(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "sweep",
      "Sockets, processes, hiding places, logs and captures against a broadcast, in one "
      "budgeted low-impact run");
  auto o = std::make_shared<SweepCliOptions>();
  auto& s = o->options;
  cmd->add_option("-i,--iocs", s.iocs,
                  "Indicators: the broadcast e-mail or anything `forage ioc parse` reads "
                  "(repeatable)")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("-r,--rules", s.rules, "YARA rules (default: the built-in set; repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--no-rules", s.no_rules, "No YARA (indicators only)");
  cmd->add_flag("--allow-empty-iocs", s.allow_empty_iocs,
                "Run the rules even when --iocs holds no indicator (else exit 2: no false "
                "all-clear)");
  cmd->add_option("--expect-indicator-digest", s.expect_digest,
                  "sha256:HEX of `forage ioc parse --format tsv`: refuse (exit 2) any other "
                  "broadcast");
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
