#include "ioc/tlp.h"

#include <array>
#include <cctype>
#include <cstring>

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

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

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
  // PREFIX-YYYYMMDD-NN with an upper-case prefix of 2..10 letters, e.g. EGI-20261120-01. Found
  // from its first '-' (memchr), not letter by letter: this runs over whole broadcasts.
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  auto alnum = [&](char c) { return upper(c) || digit(c) || (c >= 'a' && c <= 'z'); };
  const char* base = text.data();
  for (size_t j = 0; j < text.size(); ++j) {
    const void* hit = std::memchr(base + j, '-', text.size() - j);
    if (!hit) break;
    j = static_cast<const char*>(hit) - base;
    size_t i = j;
    while (i > 0 && j - i <= 10 && upper(text[i - 1])) --i;
    size_t prefix = j - i;
    if (prefix < 2 || prefix > 10 || (i > 0 && alnum(text[i - 1]))) continue;
    size_t k = j + 1;
    while (k < text.size() && k - j - 1 < 9 && digit(text[k])) ++k;
    if (k - j - 1 != 8 || k >= text.size() || text[k] != '-') continue;
    size_t m = k + 1;
    while (m < text.size() && m - k - 1 < 4 && digit(text[m])) ++m;
    size_t nn = m - k - 1;
    if (nn < 1 || nn > 3) continue;
    if (m < text.size() && alnum(text[m])) continue;
    return std::string(text.substr(i, m - i));
  }
  return std::nullopt;
}

}  // namespace forage::ioc
