// Reading JSON that forage did not write in this process (bundle members, node results, action
// logs): nlohmann's parser is iterative, but every walk over the value afterwards (the report's
// cells, merge, the destructor) recurses, so depth is bounded while parsing. Sizes are bounded by
// whoever reads the bytes (bundle verify's budgets, the merge's per-file limit).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace forage {

// Deeper than any record forage writes (incident.json is 6 levels) by far.
inline constexpr int kMaxJsonDepth = 256;

// Parses `text`; throws nlohmann's parse_error for text that is not JSON and forage::Error
// ("JSON nested deeper than 256 levels") for a value nested deeper than max_depth.
template <typename J = nlohmann::ordered_json>
J parse_json_bounded(std::string_view text, int max_depth = kMaxJsonDepth) {
  typename J::parser_callback_t limit = [max_depth](int depth, typename J::parse_event_t, J&) {
    if (depth > max_depth)
      throw Error("JSON nested deeper than " + std::to_string(max_depth) + " levels");
    return true;
  };
  return J::parse(text.begin(), text.end(), limit);
}

}  // namespace forage
