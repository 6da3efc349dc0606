// TLP labels and incident tags found in broadcast text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/tlp.h"

namespace forage::ioc {

// Canonical labels: "TLP:RED", "TLP:AMBER+STRICT", "TLP:AMBER", "TLP:GREEN", "TLP:CLEAR"
// (TLP 1.0 "WHITE" is read as TLP:CLEAR). Accepts "TLP:AMBER", "TLP: amber", "TLP AMBER", "tlp:amber".
std::optional<std::string> find_tlp(std::string_view text);  // strictest label in the text
// "[EGI-20261120-01]" or "EGI-20261120-01" (any upper-case prefix) -> "EGI-20261120-01"
std::optional<std::string> find_case_tag(std::string_view text);

}  // namespace forage::ioc
