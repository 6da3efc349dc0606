// The action log of a bundle (meta/actions.jsonl): every action the tool takes and every note
// of the operator, one JSON object per line, each line chained to the previous one by SHA-256.
// meta/actions.head holds the count and the hash of the last line; it is listed in the tag
// manifest, which the signature covers, so a truncated, reordered or edited log is detected.
//
// Line:  {"seq":N,"utc":"...Z","boottime_ns":N,"actor":"...","action":"...","target":"...",
//         "result":"...","prev_sha256":"<sha256 of the previous line incl. its \n, or 64 zeros>"}
// Head:  {"count":N,"last_sha256":"<sha256 of the last line incl. its \n>"}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace forage::bundle {

inline constexpr std::string_view kZeroHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

class ActionLog {
 public:
  // Appends one line stamped with the current UTC and CLOCK_BOOTTIME; also logged on stderr.
  void append(std::string_view actor, std::string_view action, std::string_view target,
              std::string_view result);
  const std::string& text() const { return text_; }
  uint64_t count() const { return count_; }
  std::string head() const;

 private:
  std::string text_;
  uint64_t count_ = 0;
  std::string last_hash_ = std::string(kZeroHash);
};

struct ActionLogCheck {
  uint64_t count = 0;                 // lines that parsed
  std::vector<std::string> problems;  // empty when the chain and the head agree
};

// Checks the chain line by line and against the head. Never throws on bad input.
ActionLogCheck check_action_log(std::string_view jsonl, std::string_view head);


}  // namespace forage::bundle
