// TLP labels and incident tags found in broadcast text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace forage::ioc {

// Canonical labels: "TLP:RED", "TLP:AMBER+STRICT", "TLP:AMBER", "TLP:GREEN", "TLP:CLEAR"
// (TLP 1.0 "WHITE" is read as TLP:CLEAR). Accepts "TLP:AMBER", "TLP: amber", "TLP AMBER", "tlp:amber".
std::optional<std::string> find_tlp(std::string_view text);  // strictest label in the text
std::optional<std::string> normalize_tlp(std::string_view label);  // "amber" or "TLP:AMBER" -> "TLP:AMBER"
int tlp_rank(std::string_view canonical_label);  // CLEAR 1 < GREEN 2 < AMBER 3 < AMBER+STRICT 4 < RED 5; 0 unknown
std::string stricter_tlp(const std::string& a, const std::string& b);
// "[EGI-20261120-01]" or "EGI-20261120-01" (any upper-case prefix) -> "EGI-20261120-01"
std::optional<std::string> find_case_tag(std::string_view text);

}  // namespace forage::ioc
