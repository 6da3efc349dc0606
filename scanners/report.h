// Findings output shared by every scan: JSON lines (--json) or a readable table on stdout,
// one {"kind":"summary",...} line at the end, and the exit code of DESIGN.md.
#pragma once

#include <cstdio>
#include <functional>
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
  // Worth a look but not a detection ("ELF executable in /tmp", a deleted executable): printed
  // like a finding with kind "notice", counted apart ("notices" in the summary), and not
  // turning the exit code to 1.
  void notice(const Json& f);
  // The closing line: targets scanned, skipped (by reason), findings, bytes, seconds, ...
  // "findings" is filled in here. Call once.
  void summary(Json s);

  size_t findings() const;
  // Everything a run may add to its findings: 1 findings, 3 incomplete, 0 clean.
  Exit exit_code(bool incomplete) const;

  // Sees every line (finding, notice, summary) before it is written, under the output lock, and
  // may add fields or drop it (return false). `forage sweep` stamps the broadcast's TLP label on
  // every line and learns which pids were hit without a second pass over the output.
  using Hook = std::function<bool(Json& line)>;
  void set_hook(Hook hook) { hook_ = std::move(hook); }

 private:
  bool json_;
  std::FILE* out_;
  mutable std::mutex mu_;
  size_t findings_ = 0;
  size_t notices_ = 0;
  Hook hook_;
  void write(const Json& f);
};

// One line of text for a JSON value (for the table form): strings unquoted, control characters
// (a file name with a newline) escaped so one finding stays one line.
std::string plain(const Json& v);

}  // namespace forage::scanners
