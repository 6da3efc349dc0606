// Findings output shared by every scan: JSON lines (--json) or a readable table on stdout,
// one {"kind":"summary",...} line at the end, and the exit code of DESIGN.md.
#pragma once

#include <cstdio>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "scanners/finding.h"

namespace forage::scanners {

class Reporter : public FindingSink {
 public:
  // json: JSON lines; otherwise a table. Thread-safe: scan threads report concurrently.
  Reporter(bool json, std::FILE* out = stdout) : json_(json), out_(out) {}

  // Prints a finding; a notice (worth a look but not a detection: "ELF executable in /tmp", a
  // deleted executable) is counted apart ("notices" in the summary) and does not turn the exit
  // code to 1.
  void add(Finding f) override;
  // The closing line: targets scanned, skipped (by reason), findings, bytes, seconds, ...
  // "findings" and "notices" are filled in here. Call once. `tlp`: stamped last, as on findings.
  void summary(Json s, const std::optional<std::string>& tlp = std::nullopt);

  size_t findings() const;
  // Everything a run may add to its findings: 1 findings, 3 incomplete, 0 clean.
  Exit exit_code(bool incomplete) const;

 private:
  bool json_;
  std::FILE* out_;
  mutable std::mutex mu_;
  size_t findings_ = 0;
  size_t notices_ = 0;
  void write(const Json& line);
};

// One line of text for a JSON value (for the table form): strings unquoted, control characters
// (a file name with a newline) escaped so one finding stays one line.
std::string plain(const Json& v);

}  // namespace forage::scanners
