// forage merge RESULTS... [--format json|csv|md] [--expect-nodes FILE] [-o OUT]: many nodes'
// `forage sweep --json` outputs into one site report (scanners/merge.h, docs/sweep.md).
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "common/error.h"
#include "common/file.h"
#include "scanners/merge.h"

namespace forage::cli {
namespace {

struct MergeOptions {
  std::vector<std::string> results;
  std::string format = "md";
  std::string expect_nodes;
  std::string out = "-";
};

// A directory given stands for the result files in it (Ansible's fetch writes one per node).
std::vector<std::string> expand(const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (const auto& p : inputs) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      Fd fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));  // the operator's: followed
      for (const auto& n : Dir::at(fd.get()).names())  // sorted
        if (n.size() > 5 && (n.ends_with(".jsonl") || n.ends_with(".json"))) out.push_back(p + "/" + n);
    } else {
      out.push_back(p);
    }
  }
  return out;
}

int run_merge(const MergeOptions& o) {
  if (o.format != "json" && o.format != "csv" && o.format != "md")
    throw Error("--format: expected json, csv or md, got '" + o.format + "'");
  scanners::MergeInput in;
  if (!o.expect_nodes.empty())
    in.expected = scanners::parse_node_list(read_file(o.expect_nodes, 64ull << 20));
  for (const auto& f : expand(o.results)) {
    try {
      in.nodes.push_back(scanners::parse_node_result(read_file(f, 1ull << 30), f));
    } catch (const Error& e) {
      spdlog::warn("skipped: {}", e.what());
      in.malformed.emplace_back(f, e.what());
    }
  }
  auto rep = scanners::merge_results(in);
  std::string text;
  if (o.format == "json")
    text = rep.doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  else if (o.format == "csv")
    text = scanners::site_report_csv(rep.doc);
  else
    text = scanners::site_report_md(rep.doc);
  write_output(o.out, text);
  return rep.exit_code;
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
