// forage scan files PATH... | scan procs [--pid P...] | scan net: the host scans (scanners/).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "common/error.h"
#include "ioc/reader.h"
#include "scanners/file_scan.h"
#include "scanners/manners.h"
#include "scanners/net_scan.h"
#include "scanners/proc_scan.h"

namespace forage::cli {
namespace {

using scanners::Json;

// Options every host scan shares.
struct CommonOptions {
  std::vector<std::string> rules;
  bool no_rules = false;
  std::vector<std::string> iocs;
  bool allow_empty_iocs = false;
  std::string save_compiled;
  bool json = false;
  unsigned threads = 0;
  int timeout = 60;
  int nice = 10;
  std::string ionice = "best-effort:7";
  std::string users_file = "/etc/passwd";
};

struct FilesOptions {
  CommonOptions common;
  std::vector<std::string> paths;
  uint64_t max_size = 256ull << 20;
  std::vector<std::string> excludes;
  bool one_file_system = false;
};

struct ProcsOptions {
  CommonOptions common;
  std::vector<int> pids;
  uint64_t max_region = 256ull << 20;
};

struct NetOptions {
  CommonOptions common;
  bool own_namespace_only = false;
};

// Everything a host scan needs, loaded once: rules, indicators, user names. Errors in any input
// are exit 2 with the file and the reason.
struct Loaded {
  std::optional<scanners::YaraRules> rules;
  ioc::IocSet set;
  scanners::IocIndex index;
  host::UserNames users;
  scanners::ScanInputs inputs;
  Json info;
};

std::unique_ptr<Loaded> load(const CommonOptions& o, bool want_rules) {
  auto l = std::make_unique<Loaded>();
  if (want_rules && !o.no_rules) {
    if (o.rules.empty()) {
      l->rules.emplace(scanners::YaraRules::builtin());
      l->info["rules"] = "built-in";
    } else {
      l->rules.emplace(scanners::YaraRules::load(o.rules));
      l->info["rules"] = o.rules;
    }
    for (const auto& w : l->rules->warnings()) spdlog::debug("YARA warning: {}", w);
    if (!l->rules->warnings().empty())
      spdlog::info("YARA: {} compiler warnings (--log-level debug shows them)",
                   l->rules->warnings().size());
    l->info["rule_count"] = l->rules->rule_count();
    if (!o.save_compiled.empty()) {
      l->rules->save(o.save_compiled);
      spdlog::info("compiled rules written to {}", o.save_compiled);
    }
  } else if (!o.rules.empty() || !o.save_compiled.empty()) {
    throw Error("--rules and --save-compiled cannot be used with --no-rules");
  }
  if (!o.iocs.empty()) {
    l->set = ioc::read_iocs_option(o.iocs, o.allow_empty_iocs && l->rules);
    for (const auto& n : l->set.notes) spdlog::info("note: {}", n);
  }
  l->index = scanners::IocIndex(l->set);
  l->info["indicators"] = l->index.size();
  l->users = host::UserNames::load(o.users_file);
  l->inputs.rules = l->rules ? &*l->rules : nullptr;
  l->inputs.iocs = &l->index;
  l->inputs.users = &l->users;
  l->inputs.yara_timeout_s = o.timeout;
  return l;
}

void add_common(CLI::App* cmd, CommonOptions& o, bool rules, bool threads) {
  if (rules) {
    cmd->add_option("-r,--rules", o.rules,
                    "YARA rules: .yar/.yara files, directories of them, or compiled rules "
                    "(default: the built-in rule set; repeatable)")
        ->allow_extra_args(false);
    cmd->add_flag("--no-rules", o.no_rules, "No YARA at all (indicators only)");
    cmd->add_option("--save-compiled", o.save_compiled,
                    "Also write the compiled rules to this file (reusable with --rules)");
    cmd->add_option("--timeout", o.timeout, "YARA time limit per target, seconds (0: none)")
        ->capture_default_str();
    cmd->add_flag("--allow-empty-iocs", o.allow_empty_iocs,
                  "Scan with the rules even when --iocs holds no indicator (else exit 2)");
  }
  cmd->add_option("-i,--iocs", o.iocs,
                  "Indicators: anything `forage ioc parse` reads (e-mail, text, CSV, MISP, STIX; "
                  "repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--json", o.json, "Findings as JSON lines (default: a table)");
  if (threads) cmd->add_option("-t,--threads", o.threads, "Scan threads (default: one per core)");
  cmd->add_option("--nice", o.nice, "Lower forage's CPU priority by this much (0-19)")
      ->capture_default_str();
  cmd->add_option("--ionice", o.ionice, "forage's I/O class: idle, best-effort[:0-7], none")
      ->capture_default_str();
  cmd->add_option("--passwd", o.users_file, "passwd file for user names")->capture_default_str();
}

// Runs `body` between the common set-up and the summary line; returns the exit code.
template <typename Body>
int run_scan(const CommonOptions& o, bool want_rules, const char* what, Body body) {
  scanners::apply_manners(o.nice, o.ionice);
  auto loaded = load(o, want_rules);
  scanners::Reporter reporter(o.json);
  scanners::ScanStats stats;
  auto t0 = std::chrono::steady_clock::now();
  body(loaded->inputs, reporter, stats);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Json s;
  s["scan"] = what;
  Json sum = stats.summary(secs);
  for (auto& [k, v] : sum.items()) s[k] = v;
  for (auto& [k, v] : loaded->info.items()) s[k] = v;
  reporter.summary(s);
  return static_cast<int>(reporter.exit_code(stats.incomplete()));
}

bool progress_wanted() {
  return ::isatty(STDERR_FILENO) == 1;
}

}  // namespace

void register_scan_host(CLI::App& scan, Action& action) {
  // --- files
  auto* files = scan.add_subcommand("files", "Scan files with YARA rules and indicators");
  auto fo = std::make_shared<FilesOptions>();
  files->add_option("paths", fo->paths, "Files and directories to scan");
  add_common(files, fo->common, true, true);
  files->add_option("--max-size", fo->max_size, "Skip larger files (K, M, G suffixes; 0: none)")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("256M");
  files
      ->add_option("--exclude", fo->excludes,
                   "Skip paths matching this glob (full path or name; repeatable)")
      ->allow_extra_args(false);
  files->add_flag("--one-file-system,-x", fo->one_file_system,
                  "Stay on the file system of each path given");
  files->callback([&action, fo] {
    action = [fo] {
      if (fo->paths.empty()) {
        if (fo->common.save_compiled.empty()) throw Error("scan files: no path given");
        load(fo->common, true);  // compile and save only
        return 0;
      }
      scanners::FileScanOptions opts;
      opts.walk.paths = fo->paths;
      opts.walk.excludes = fo->excludes;
      opts.walk.max_size = fo->max_size;
      opts.walk.one_file_system = fo->one_file_system;
      opts.threads = fo->common.threads;
      opts.progress = progress_wanted();
      return run_scan(fo->common, true, "files", [&](auto& in, auto& rep, auto& st) {
        scanners::scan_files(opts, in, rep, st);
      });
    };
  });

  // --- procs
  auto* procs = scan.add_subcommand("procs", "Scan the memory and identity of live processes");
  auto po = std::make_shared<ProcsOptions>();
  procs->add_option("--pid", po->pids, "Only this process (repeatable)")->allow_extra_args(false);
  add_common(procs, po->common, true, true);
  procs
      ->add_option("--max-region", po->max_region,
                   "Scan at most this much of one memory region (K, M, G)")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("256M");
  procs->callback([&action, po] {
    action = [po] {
      scanners::ProcScanOptions opts;
      opts.pids = po->pids;
      opts.max_region_size = po->max_region;
      if (opts.max_region_size == 0) throw Error("--max-region: must be more than 0");
      opts.threads = po->common.threads;
      opts.progress = progress_wanted();
      return run_scan(po->common, true, "procs", [&](auto& in, auto& rep, auto& st) {
        scanners::scan_procs(opts, in, rep, st);
      });
    };
  });

  // --- net
  auto* net = scan.add_subcommand("net", "Match live TCP/UDP sockets against IP/CIDR indicators");
  auto no = std::make_shared<NetOptions>();
  add_common(net, no->common, false, false);
  net->add_flag("--own-namespace", no->own_namespace_only,
                "Only forage's network namespace (default: every namespace a process is in)");
  net->callback([&action, no] {
    action = [no] {
      if (no->common.iocs.empty()) throw Error("scan net: --iocs is required");
      scanners::NetScanOptions opts;
      opts.all_namespaces = !no->own_namespace_only;
      return run_scan(no->common, false, "net", [&](auto& in, auto& rep, auto& st) {
        scanners::scan_net(opts, in, rep, st);
      });
    };
  });
}

}  // namespace forage::cli
