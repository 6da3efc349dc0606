// `forage merge`: many nodes' `forage sweep --json` outputs into one site report — what a site
// sends back to the CSIRT: nodes hit, by indicator (with first seen), nodes incomplete, nodes
// not reporting. Lives beside the sweep because it reads the sweep's output format (the lines
// the Reporter writes and the node summary of sweep.h), and nothing else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scanners/report.h"

namespace forage::sweep {

using Json = scanners::Json;

struct NodeResult {
  std::string file;
  std::string host;
  std::string utc;  // end of the sweep (node summary)
  std::string case_id, tlp, digest, version;
  bool incomplete = false;
  uint64_t findings = 0;
  Json summary;            // the node summary line
  std::vector<Json> hits;  // finding lines (kind ioc/yara/...), not notices
};

// One node's output. Throws forage::Error("<file>: line N: <reason>") when it is not a sweep's
// JSON lines output (not JSON, not an object, no "kind", no closing sweep summary).
NodeResult parse_node_result(std::string_view text, const std::string& file);

struct SiteReport {
  Json doc;           // the JSON form (see docs/sweep.md "merge")
  int exit_code = 0;  // 1 nodes hit, 3 malformed/incomplete/missing and none hit, 0 clean
};

struct MergeInput {
  std::vector<NodeResult> nodes;
  std::vector<std::pair<std::string, std::string>> malformed;  // file, one-line error
  std::vector<std::string> expected;                           // --expect-nodes (empty: none)
};

// Reads the merge's input: `results` are nodes' outputs, or directories standing for the *.jsonl
// and *.json files in them (Ansible's fetch writes one per node); `expect_nodes` is the
// --expect-nodes file ("" for none). A result file that cannot be read or is not a sweep's output
// is logged and listed as malformed; an unreadable --expect-nodes file throws forage::Error.
MergeInput read_merge_input(const std::vector<std::string>& results,
                            const std::string& expect_nodes);

SiteReport merge_results(const MergeInput& in);

// The forms of the report: the JSON document itself, CSV (one table) and Markdown.
enum class ReportFormat { kJson, kCsv, kMd };
// "json" | "csv" | "md"; throws forage::Error (exit 2) for anything else.
ReportFormat parse_report_format(std::string_view name);
std::string site_report(const Json& doc, ReportFormat format);
std::string site_report_csv(const Json& doc);
std::string site_report_md(const Json& doc);

// Host names in an --expect-nodes file: one a line, '#' comments, blank lines ignored.
std::vector<std::string> parse_node_list(std::string_view text);

}  // namespace forage::sweep
