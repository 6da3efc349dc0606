// The one error style of forage: library code throws forage::Error; cli/main.cpp is the single
// place that turns it into the line the user reads ("forage: <context>: <cause>") and the exit code.
#pragma once

#include <stdexcept>
#include <string>

namespace forage {

// Exit codes, everywhere (DESIGN.md "CLI surface").
enum class Exit : int {
  kOk = 0,            // done, nothing found
  kFindings = 1,      // findings
  kUsage = 2,         // usage or input error
  kIncomplete = 3,    // some targets unreadable
  kVerifyFailed = 4,  // bundle verification failed
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, Exit code = Exit::kUsage)
      : std::runtime_error(message), code_(code) {}

  Exit code() const { return code_; }

  // A new error that says what we were doing when this one happened:
  //   Error("process exited").within("reading /proc/42/mem") -> "reading /proc/42/mem: process exited"
  Error within(const std::string& context) const { return Error(context + ": " + what(), code_); }

 private:
  Exit code_;
};

// Error from errno: "<context>: <strerror(err)>".
Error system_error(const std::string& context, int err);

}  // namespace forage
