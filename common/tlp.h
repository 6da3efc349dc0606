// Traffic Light Protocol labels (FIRST TLP 2.0), the one reading and writing of them in forage:
// indicators, bundles, sweeps and reports all keep the canonical label text ("TLP:AMBER").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace forage {

enum class Tlp { kNone = 0, kClear, kGreen, kAmber, kAmberStrict, kRed };  // by strictness

// "amber", "TLP:AMBER", "tlp: Amber", "TLP AMBER", "tlp-amber+strict"; TLP 1.0's WHITE is read as
// CLEAR. nullopt for anything else.
std::optional<Tlp> parse_tlp(std::string_view label);
// "TLP:AMBER" ("" for kNone) and the word alone, "AMBER".
std::string_view tlp_label(Tlp t);
std::string_view tlp_word(Tlp t);

// On label text: the canonical form of any accepted spelling; its strictness (0 unknown or none,
// 1 CLEAR ... 5 RED); the stricter of two (ties and unknowns keep the first).
std::optional<std::string> normalize_tlp(std::string_view label);
int tlp_rank(std::string_view label);
std::string stricter_tlp(const std::string& a, const std::string& b);
// "TLP:AMBER+STRICT" -> "AMBER+STRICT"; text that is no label comes back as it is.
std::string tlp_short(std::string_view label);

}  // namespace forage
