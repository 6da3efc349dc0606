#include "ioc/tlp.h"

#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>

#include "common/strings.h"
#include "common/tlp.h"

namespace forage::ioc {
namespace {


bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

}  // namespace

namespace {

// 0x80 in every byte of w that equals the lower-case letter c once folded with | 0x20 (the fold
// find_tlp applies byte by byte), 0 elsewhere. Exact per byte: no carry crosses a byte.
uint64_t folded_bytes_equal(uint64_t w, char c) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kLows = 0x7F7F7F7F7F7F7F7Full;
  uint64_t x = (w | (kOnes * 0x20)) ^ (kOnes * static_cast<uint8_t>(c));
  return ~(((x & kLows) + kLows) | x | kLows);
}

uint64_t load8(const char* p) {
  uint64_t w = 0;
  std::memcpy(&w, p, 8);
  return w;
}

}  // namespace

std::optional<std::string> find_tlp(std::string_view text) {
  std::string best;
  auto label_at = [&](size_t i) {
    if ((text[i] | 0x20) != 't' || (text[i + 1] | 0x20) != 'l' || (text[i + 2] | 0x20) != 'p')
      return;
    if (i > 0 && is_word_char(text[i - 1])) return;
    size_t j = i + 3;
    size_t sep = 0;
    while (j < text.size() && sep < 3 && (text[j] == ':' || text[j] == ' ' || text[j] == '-')) {
      ++j;
      ++sep;
    }
    if (sep == 0) return;
    // Longest first, so "AMBER+STRICT" is not read as "AMBER".
    for (std::string_view word : {"amber+strict", "amber", "green", "clear", "white", "red"}) {
      if (j + word.size() > text.size()) continue;
      if (!iequals(text.substr(j, word.size()), word)) continue;
      size_t end = j + word.size();
      if (end < text.size() && is_word_char(text[end])) continue;
      best = stricter_tlp(best, *normalize_tlp(word));
      break;
    }
  };
  // This runs over every text input whole: eight starting positions at a time, and only a
  // window where some position starts "tlp" (case-folded) is looked at byte by byte.
  size_t i = 0;
  for (; i + 10 <= text.size(); i += 8) {
    const char* p = text.data() + i;
    if (folded_bytes_equal(load8(p), 't') & folded_bytes_equal(load8(p + 1), 'l') &
        folded_bytes_equal(load8(p + 2), 'p')) {
      for (size_t k = i; k < i + 8; ++k) label_at(k);
    }
  }
  for (; i + 3 <= text.size(); ++i) label_at(i);
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
