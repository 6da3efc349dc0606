#include "ioc/tlp.h"

#include <array>
#include <cctype>

#include "common/strings.h"

namespace forage::ioc {
namespace {

// Longest first, so "AMBER+STRICT" is not read as "AMBER".
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kLabels{{
    {"amber+strict", "TLP:AMBER+STRICT"},
    {"amber", "TLP:AMBER"},
    {"green", "TLP:GREEN"},
    {"clear", "TLP:CLEAR"},
    {"white", "TLP:CLEAR"},
    {"red", "TLP:RED"},
}};

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

std::optional<std::string> normalize_tlp(std::string_view label) {
  std::string l = to_lower(trim(label));
  if (l.rfind("tlp", 0) == 0) {
    l.erase(0, 3);
    while (!l.empty() && (l[0] == ':' || l[0] == ' ' || l[0] == '-' || l[0] == '_')) l.erase(0, 1);
  }
  for (const auto& [word, canonical] : kLabels)
    if (l == word) return std::string(canonical);
  return std::nullopt;
}

int tlp_rank(std::string_view label) {
  if (label == "TLP:CLEAR") return 1;
  if (label == "TLP:GREEN") return 2;
  if (label == "TLP:AMBER") return 3;
  if (label == "TLP:AMBER+STRICT") return 4;
  if (label == "TLP:RED") return 5;
  return 0;
}

std::string stricter_tlp(const std::string& a, const std::string& b) {
  return tlp_rank(b) > tlp_rank(a) ? b : a;
}

std::optional<std::string> find_tlp(std::string_view text) {
  std::string best;
  for (size_t i = 0; i + 3 <= text.size(); ++i) {
    if ((text[i] | 0x20) != 't' || (text[i + 1] | 0x20) != 'l' || (text[i + 2] | 0x20) != 'p')
      continue;
    if (i > 0 && is_word_char(text[i - 1])) continue;
    size_t j = i + 3;
    size_t sep = 0;
    while (j < text.size() && sep < 3 && (text[j] == ':' || text[j] == ' ' || text[j] == '-')) {
      ++j;
      ++sep;
    }
    if (sep == 0) continue;
    for (const auto& [word, canonical] : kLabels) {
      if (j + word.size() > text.size()) continue;
      if (!iequals(text.substr(j, word.size()), word)) continue;
      size_t end = j + word.size();
      if (end < text.size() && is_word_char(text[end])) continue;
      if (tlp_rank(canonical) > tlp_rank(best)) best = canonical;
      break;
    }
  }
  if (best.empty()) return std::nullopt;
  return best;
}

std::optional<std::string> find_case_tag(std::string_view text) {
  // PREFIX-YYYYMMDD-NN with an upper-case prefix of 2..10 letters, e.g. EGI-20261120-01.
  for (size_t i = 0; i + 14 <= text.size(); ++i) {
    if (!std::isupper(static_cast<unsigned char>(text[i]))) continue;
    if (i > 0 && std::isalnum(static_cast<unsigned char>(text[i - 1]))) continue;
    size_t j = i;
    while (j < text.size() && std::isupper(static_cast<unsigned char>(text[j]))) ++j;
    size_t prefix = j - i;
    if (prefix < 2 || prefix > 10 || j + 12 > text.size() || text[j] != '-') continue;
    size_t k = j + 1;
    size_t digits = 0;
    while (k < text.size() && std::isdigit(static_cast<unsigned char>(text[k]))) ++k, ++digits;
    if (digits != 8 || k >= text.size() || text[k] != '-') continue;
    size_t m = k + 1;
    size_t nn = 0;
    while (m < text.size() && std::isdigit(static_cast<unsigned char>(text[m]))) ++m, ++nn;
    if (nn < 1 || nn > 3) continue;
    if (m < text.size() && std::isalnum(static_cast<unsigned char>(text[m]))) continue;
    return std::string(text.substr(i, m - i));
  }
  return std::nullopt;
}

}  // namespace forage::ioc
