// Findings output shared by every scan: JSON lines (--json) or a readable table on stdout,
// one {"kind":"summary",...} line at the end, and the exit code of DESIGN.md.
#pragma once

#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "scanners/finding.h"

namespace forage::scanners {

class Reporter : public FindingSink {
 public:
  // json: JSON lines; otherwise a table. Thread-safe: scan threads report concurrently. `name`
  // names `out` in the error when a write fails.
  Reporter(bool json, std::FILE* out = stdout, std::string name = "<stdout>")
      : json_(json), out_(out), name_(std::move(name)) {}

  // Prints a finding; a notice (worth a look but not a detection: "ELF executable in /tmp", a
  // deleted executable) is counted apart ("notices" in the summary) and does not turn the exit
  // code to 1.
  void add(Finding f) override;
  // The closing line: targets scanned, skipped (by reason), findings, bytes, seconds, ...
  // "findings" and "notices" are filled in here. Call once. `tlp`: stamped last, as on findings.
  // Throws forage::Error("<stdout>: No space left on device", exit 2) when this or any earlier
  // line could not be written (fwrite or fflush failed): a truncated result never ends in 0 or 1.
  void summary(Json s, const std::optional<std::string>& tlp = std::nullopt);

  size_t findings() const;
  // Everything a run may add to its findings: 1 findings, 3 incomplete, 0 clean. Throws as
  // summary() does when the output was lost.
  Exit exit_code(bool incomplete) const;
  // Throws the first write error, if there was one.
  void check_output() const;

 private:
  bool json_;
  std::FILE* out_;
  std::string name_;
  mutable std::mutex mu_;
  size_t findings_ = 0;
  size_t notices_ = 0;
  // The first failed write. add() runs inside the scanners' per-target error handling, which
  // would count a thrown write error as one unscannable target: it is kept here instead, nothing
  // more is written, and summary() throws it.
  std::optional<Error> lost_;
  void write(const Json& line);
};

// One line of text for a JSON value (for the table form): strings unquoted, control characters
// (a file name with a newline) escaped so one finding stays one line.
std::string plain(const Json& v);

}  // namespace forage::scanners
