// `forage merge`: many nodes' `forage sweep --json` outputs into one site report — what a site
// sends back to the CSIRT: nodes hit, by indicator (with first seen), nodes incomplete, nodes
// not reporting. Lives beside the sweep because it reads the sweep's output format (the lines
// the Reporter writes and the node summary of sweep.h), and nothing else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scanners/report.h"

namespace forage::scanners {

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

SiteReport merge_results(const MergeInput& in);

// The other forms of the same report.
std::string site_report_csv(const Json& doc);
std::string site_report_md(const Json& doc);

// Host names in an --expect-nodes file: one a line, '#' comments, blank lines ignored.
std::vector<std::string> parse_node_list(std::string_view text);

}  // namespace forage::scanners
