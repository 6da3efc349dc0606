// forage merge RESULTS... [--format json|csv|md] [--expect-nodes FILE] [-o OUT]: many nodes'
// `forage sweep --json` outputs into one site report (sweep/merge.h, docs/sweep.md).
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "common/file.h"
#include "sweep/merge.h"

namespace forage::cli {
namespace {

struct MergeOptions {
  std::vector<std::string> results;
  std::string format = "md";
  std::string expect_nodes;
  std::string out = "-";
};

int run_merge(const MergeOptions& o) {
  const auto format = sweep::parse_report_format(o.format);
  auto report = sweep::merge_results(sweep::read_merge_input(o.results, o.expect_nodes));
  write_output(o.out, sweep::site_report(report.doc, format));
  return report.exit_code;
}

}  // namespace

void register_merge(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "merge", "Many nodes' sweep results (--json) into one site report for the CSIRT");
  auto o = std::make_shared<MergeOptions>();
  cmd->add_option("results", o->results, "Sweep outputs (files, or directories of *.jsonl)")
      ->required();
  cmd->add_option("--format", o->format, "json, csv or md")->capture_default_str();
  cmd->add_option("--expect-nodes", o->expect_nodes,
                  "Hosts that should have reported: one a line (an Ansible inventory works)");
  cmd->add_option("-o,--out", o->out, "Output file ('-': stdout)")->capture_default_str();
  cmd->callback([&action, o] { action = [o] { return run_merge(*o); }; });
}

}  // namespace forage::cli
