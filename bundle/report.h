// `forage bundle report`: the EGI CSIRT Incident Analysis Guideline filled from a bundle, for the
// forensics expert and for the closure report. Markdown, JSON, or one self-contained HTML file
// (inline CSS and JS, no network: a Content-Security-Policy forbids any fetch) with a timeline
// and sortable, filterable tables.
//
// The bundle is verified first (verify.h) and the report says whether it is valid; then it is
// read a second time for the small members the report uses (meta/*, data/volatile/*.json,
// data/scans/*.jsonl, data/host/*.json, data/grid/*/*.json), each checked against the hash of the
// first pass. Everything in a bundle is attacker-influenced (file names, command lines, log
// lines): it is escaped for the output format, never interpreted.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bundle/verify.h"

namespace forage::bundle {

using ReportJson = nlohmann::ordered_json;

struct BundleForReport {
  VerifyReport verify;
  std::map<std::string, std::string> members;  // bag-relative path -> bytes (read and checked)
  std::vector<std::string> notes;              // members not used, and why
};

// Verifies, then reads the members the report needs. Throws forage::Error only for usage
// problems (unreadable file, missing key); a damaged bundle is reported, not thrown.
BundleForReport read_bundle_for_report(const std::string& path, const VerifyOptions& options);

// The report document ("schema":"forage-report/1"): verification, the Guideline sections,
// timeline, tables, closure skeleton. Missing or malformed files are "not collected" entries.
ReportJson build_report(const BundleForReport& b);

std::string report_markdown(const ReportJson& r);
std::string report_html(const ReportJson& r);

// Helpers exposed for the tests.
std::string html_escape(std::string_view s);
// JSON for an inline <script>: no "</script>", "<!--" or "&" can appear in the output text.
std::string json_for_script(const ReportJson& j);

}  // namespace forage::bundle
