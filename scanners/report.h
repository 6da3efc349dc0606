// Findings output shared by every scan: JSON lines (--json) or a readable table on stdout,
// one {"kind":"summary",...} line at the end, and the exit code of DESIGN.md.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace forage::scanners {

using Json = nlohmann::ordered_json;

class Reporter {
 public:
  // json: JSON lines; otherwise a table. Thread-safe: scan threads report concurrently.
  Reporter(bool json, std::FILE* out = stdout) : json_(json), out_(out) {}

  // A finding has at least "kind" ("yara", "ioc", "notice", ...) and its target
  // ("path", "pid" or "pcap"); see DESIGN.md "CLI surface".
  void finding(const Json& f);
  // The closing line: targets scanned, skipped (by reason), findings, bytes, seconds, ...
  // "findings" is filled in here. Call once.
  void summary(Json s);

  size_t findings() const;
  // Everything a run may add to its findings: 1 findings, 3 incomplete, 0 clean.
  Exit exit_code(bool incomplete) const;

 private:
  bool json_;
  std::FILE* out_;
  mutable std::mutex mu_;
  size_t findings_ = 0;
};

// One line of text for a JSON value (for the table form): strings unquoted.
std::string plain(const Json& v);

}  // namespace forage::scanners
