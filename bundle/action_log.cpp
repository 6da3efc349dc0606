#include "bundle/action_log.h"

#include <time.h>

#include <cstdio>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "bundle/pax.h"
#include "common/hash.h"
#include "common/json.h"
#include "common/layout.h"
#include "common/strings.h"
#include "common/time.h"

namespace forage::bundle {
namespace {

// A line of the log as JSON, or a discarded value when it is not JSON or nested too deep.
nlohmann::json parse_or_discarded(std::string_view text) {
  try {
    return parse_json_bounded<nlohmann::json>(text);
  } catch (const std::exception&) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
}

}  // namespace

void ActionLog::append(std::string_view actor, std::string_view action, std::string_view target,
                       std::string_view result) {
  timespec bt{};
  clock_gettime(CLOCK_BOOTTIME, &bt);
  nlohmann::ordered_json j;
  j["seq"] = count_ + 1;
  j["utc"] = utc_now_ns();
  j["boottime_ns"] =
      static_cast<uint64_t>(bt.tv_sec) * 1000000000ull + static_cast<uint64_t>(bt.tv_nsec);
  j["actor"] = utf8_or_escaped(actor);
  j["action"] = utf8_or_escaped(action);
  j["target"] = utf8_or_escaped(target);
  j["result"] = utf8_or_escaped(result);
  j["prev_sha256"] = last_hash_;
  std::string line = j.dump() + "\n";
  last_hash_ = sha256_hex(line);
  text_ += line;
  ++count_;
  // Per-file lines would flood a terminal on a large tree; problems and the rest stay visible.
  auto level = spdlog::level::info;
  for (std::string_view bad : {"padded", "truncated", "changed", "vanished", "unreadable"})
    if (result.substr(0, bad.size()) == bad) level = spdlog::level::warn;
  if (level == spdlog::level::info && (action == "bundle.add" || action == "bundle.skip"))
    level = spdlog::level::debug;
  spdlog::log(level, "action {}: {} {} -> {}", count_, action, printable(target, 200),
              printable(result, 200));
}

std::string ActionLog::head() const {
  nlohmann::ordered_json j;
  j["count"] = count_;
  j["last_sha256"] = last_hash_;
  return j.dump() + "\n";
}

ActionLogCheck check_action_log(std::string_view jsonl, std::string_view head) {
  ActionLogCheck r;
  std::string prev(kZeroHash);
  size_t pos = 0;
  uint64_t lineno = 0;
  while (pos < jsonl.size()) {
    size_t nl = jsonl.find('\n', pos);
    ++lineno;
    if (nl == std::string_view::npos) {
      r.problems.push_back(std::string(layout::kActions) + ": line " + std::to_string(lineno) +
                           " has no final newline (truncated log)");
      break;
    }
    std::string_view line = jsonl.substr(pos, nl - pos + 1);
    pos = nl + 1;
    nlohmann::json j = parse_or_discarded(line);
    std::string where = std::string(layout::kActions) + ": line " + std::to_string(lineno);
    if (j.is_discarded() || !j.is_object()) {
      r.problems.push_back(where + ": not a JSON object");
      prev = sha256_hex(line);
      continue;
    }
    auto seq = j.find("seq");
    if (seq == j.end() || !seq->is_number_unsigned() || seq->get<uint64_t>() != lineno)
      r.problems.push_back(where + ": seq is not " + std::to_string(lineno) +
                           " (lines missing or reordered)");
    auto ph = j.find("prev_sha256");
    if (ph == j.end() || !ph->is_string() || ph->get<std::string>() != prev)
      r.problems.push_back(where +
                           ": prev_sha256 does not match the previous line (edited, "
                           "reordered or removed lines)");
    for (const char* k : {"utc", "boottime_ns", "actor", "action", "target", "result"})
      if (!j.contains(k)) r.problems.push_back(where + ": field '" + k + "' missing");
    prev = sha256_hex(line);
    ++r.count;
  }
  nlohmann::json h = parse_or_discarded(head);
  if (h.is_discarded() || !h.is_object() || !h.contains("count") || !h.contains("last_sha256") ||
      !h["count"].is_number_unsigned() || !h["last_sha256"].is_string()) {
    r.problems.push_back(std::string(layout::kActionsHead) +
                         ": not {\"count\":N,\"last_sha256\":\"...\"}");
    return r;
  }
  uint64_t want = h["count"].get<uint64_t>();
  if (want != lineno)
    r.problems.push_back(std::string(layout::kActionsHead) + ": says " + std::to_string(want) +
                         " actions, the log has " + std::to_string(lineno) +
                         (want > lineno ? " (truncated log)" : ""));
  if (h["last_sha256"].get<std::string>() != prev)
    r.problems.push_back(std::string(layout::kActionsHead) +
                         ": last_sha256 does not match the last line of the log");
  return r;
}

}  // namespace forage::bundle
