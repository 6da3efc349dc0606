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
#include <string_view>
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

// Markdown for every untrusted value the Markdown writers interpolate (this report and the
// site report of `forage merge`): text wherever it is put, in a paragraph, a heading, a list
// item or a table cell. One line (control bytes escaped, at most `max` bytes kept); `<`, `>`,
// `&` as entities (no HTML gets through); the punctuation that opens emphasis, links, code,
// headings, strikethrough or table cells (\ ` * _ [ ] | # ~) backslash-escaped; a leading block
// marker ("- ", "+ ", "1. ", "---", a leading space) neutralised.
std::string md_escape(std::string_view s, size_t max = 2000);
// A code span holding `s` verbatim (one line, control bytes escaped, at most `max` bytes): the
// fence is one backtick longer than the longest backtick run inside, and the content is padded
// with a space when it starts or ends with a backtick (CommonMark 6.1). Not for table cells.
std::string md_code(std::string_view s, size_t max = 300);

// Helpers exposed for the tests.
std::string html_escape(std::string_view s);
// JSON for an inline <script>: no "</script>", "<!--" or "&" can appear in the output text.
std::string json_for_script(const ReportJson& j);

}  // namespace forage::bundle
