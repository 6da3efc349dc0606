#include "common/tlp.h"

#include <array>

#include "common/strings.h"

namespace forage {
namespace {

// Longest first, so "AMBER+STRICT" is not read as "AMBER".
constexpr std::array<std::pair<std::string_view, Tlp>, 6> kWords{{
    {"amber+strict", Tlp::kAmberStrict},
    {"amber", Tlp::kAmber},
    {"green", Tlp::kGreen},
    {"clear", Tlp::kClear},
    {"white", Tlp::kClear},
    {"red", Tlp::kRed},
}};

}  // namespace

std::optional<Tlp> parse_tlp(std::string_view label) {
  std::string l = to_lower(trim(label));
  if (l.rfind("tlp", 0) == 0) {
    l.erase(0, 3);
    while (!l.empty() && (l[0] == ':' || l[0] == ' ' || l[0] == '-' || l[0] == '_')) l.erase(0, 1);
  }
  for (const auto& [word, t] : kWords)
    if (l == word) return t;
  return std::nullopt;
}

std::string_view tlp_label(Tlp t) {
  switch (t) {
    case Tlp::kClear:
      return "TLP:CLEAR";
    case Tlp::kGreen:
      return "TLP:GREEN";
    case Tlp::kAmber:
      return "TLP:AMBER";
    case Tlp::kAmberStrict:
      return "TLP:AMBER+STRICT";
    case Tlp::kRed:
      return "TLP:RED";
    case Tlp::kNone:
      break;
  }
  return "";
}

std::string_view tlp_word(Tlp t) {
  std::string_view l = tlp_label(t);
  return l.empty() ? l : l.substr(4);
}

std::optional<std::string> normalize_tlp(std::string_view label) {
  auto t = parse_tlp(label);
  if (!t) return std::nullopt;
  return std::string(tlp_label(*t));
}

int tlp_rank(std::string_view label) {
  auto t = parse_tlp(label);
  return t ? static_cast<int>(*t) : 0;
}

std::string stricter_tlp(const std::string& a, const std::string& b) {
  return tlp_rank(b) > tlp_rank(a) ? b : a;
}

std::string tlp_short(std::string_view label) {
  auto t = parse_tlp(label);
  return t ? std::string(tlp_word(*t)) : std::string(label);
}

}  // namespace forage
