#include "ioc/refang.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/strings.h"

namespace forage::ioc {
namespace {

struct Form {
  std::string_view from;  // matched case-insensitively
  std::string_view to;
};

// Longest forms first where one is a prefix of another.
constexpr std::array<Form, 22> kForms{{
    {"[://]", "://"}, {"[dot]", "."}, {"(dot)", "."}, {"{dot}", "."}, {"[.]", "."},
    {"(.)", "."},     {"{.}", "."},   {"\\.", "."},   {"[:]", ":"},   {"[/]", "/"},
    {"[@]", "@"},     {"(@)", "@"},   {"{@}", "@"},   {"[at]", "@"},  {"(at)", "@"},
    {"{at}", "@"},    {"hxxps", "https"}, {"hxxp", "http"}, {"h**ps", "https"},
    {"h**p", "http"}, {"fxp", "ftp"}, {"meow", "http"},
}};

bool label_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }

}  // namespace

bool Refanged::any() const { return std::find(defanged.begin(), defanged.end(), true) != defanged.end(); }

bool Refanged::any_in(size_t begin, size_t end) const {
  end = std::min(end, defanged.size());
  for (size_t i = begin; i < end; ++i)
    if (defanged[i]) return true;
  return false;
}

Refanged refang_marked(std::string_view s) {
  Refanged r;
  r.text.reserve(s.size());
  r.defanged.reserve(s.size());
  auto emit = [&](std::string_view t, bool mark) {
    r.text.append(t);
    r.defanged.insert(r.defanged.end(), t.size(), mark);
  };
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    // Fast path: only a few bytes can start a defang form.
    if (c != '[' && c != '(' && c != '{' && c != '\\' && (c | 0x20) != 'h' && (c | 0x20) != 'f' &&
        (c | 0x20) != 'm' && c != ':') {
      emit(std::string_view(&s[i], 1), false);
      ++i;
      continue;
    }
    bool matched = false;
    for (const auto& f : kForms) {
      if (i + f.from.size() > s.size() || !iequals(s.substr(i, f.from.size()), f.from)) continue;
      bool scheme = f.to == "http" || f.to == "https" || f.to == "ftp";
      if (scheme) {
        // A scheme form only at a word start and followed by "://" or a defanged ":".
        if (i > 0 && std::isalnum(static_cast<unsigned char>(s[i - 1]))) continue;
        auto rest = s.substr(i + f.from.size());
        if (!(rest.rfind("://", 0) == 0 || rest.rfind("[://]", 0) == 0 || rest.rfind("[:]", 0) == 0))
          continue;
      }
      if (f.from == "\\." && !(i > 0 && label_char(s[i - 1]) && i + 2 < s.size() && label_char(s[i + 2])))
        continue;
      if ((f.to == "@") && !(i > 0 && label_char(s[i - 1]) && i + f.from.size() < s.size() &&
                             label_char(s[i + f.from.size()])) &&
          f.from.size() > 3)
        continue;  // "(at)" in prose ("meet (at) noon") only between name characters
      emit(f.to, true);
      i += f.from.size();
      matched = true;
      break;
    }
    if (matched) continue;
    // Half brackets: "example[.com" / "example.]com"
    if (c == '[' && i + 2 < s.size() && s[i + 1] == '.' && i > 0 && label_char(s[i - 1]) &&
        label_char(s[i + 2])) {
      emit(".", true);
      i += 2;
      continue;
    }
    // "http://[example.com": a bracket that opens a host name, not an IPv6 literal.
    if (c == '[' && i >= 3 && s.substr(i - 3, 3) == "://") {
      size_t close = s.find(']', i);
      size_t slash = s.find('/', i);
      bool ipv6_literal = close != std::string_view::npos && (slash == std::string_view::npos || close < slash) &&
                          s.substr(i + 1, close - i - 1).find(':') != std::string_view::npos;
      if (!ipv6_literal) {
        if (!r.defanged.empty()) r.defanged.back() = true;
        ++i;
        continue;
      }
    }
    emit(std::string_view(&s[i], 1), false);
    ++i;
  }
  return r;
}

std::string refang(std::string_view s) { return refang_marked(s).text; }

}  // namespace forage::ioc
