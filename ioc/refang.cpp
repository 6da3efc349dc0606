#include "ioc/refang.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

namespace forage::ioc {
namespace {

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool name_char(char c) {
  return is_alnum(c) || c == '-' || c == '_';
}
char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// s[i...] starts with `lit` (given in lower case), case-insensitively.
bool at(std::string_view s, size_t i, std::string_view lit) {
  if (i > s.size() || s.size() - i < lit.size()) return false;
  for (size_t k = 0; k < lit.size(); ++k)
    if (lower(s[i + k]) != lit[k]) return false;
  return true;
}

// Bytes that can start a defang form; everything else is copied without a second look. Letters
// start a scheme form ("hxxp") only at a word start, dots only a half bracket (".]").
enum : uint8_t { kBracket = 1, kLetter = 2, kDot = 3 };
constexpr std::array<uint8_t, 256> kTrigger = [] {
  std::array<uint8_t, 256> t{};
  for (unsigned char c : std::string_view("[({\\")) t[c] = kBracket;
  for (unsigned char c : std::string_view("hHfFmM")) t[c] = kLetter;
  t['.'] = kDot;
  return t;
}();

struct Match {
  size_t back = 0;  // the form starts this many bytes before the trigger (a space to swallow)
  size_t len = 0;   // bytes of input replaced, counted from the form's start
  std::string_view to;
  bool mark_prev = false;  // nothing emitted; mark the byte before instead
};

struct Bracketed {
  std::string_view inner;
  std::string_view to;
  bool word;         // "dot"/"at": only between name characters (or between spaced names)
  bool square_only;  // ":", "://", "/" are only written in square brackets
};

constexpr std::array<Bracketed, 7> kBracketed{{
    {"://", "://", false, true},
    {"dot", ".", true, false},
    {".", ".", false, false},
    {"at", "@", true, false},
    {"@", "@", false, false},
    {":", ":", false, true},
    {"/", "/", false, true},
}};

bool scheme_separator_at(std::string_view s, size_t i) {
  return at(s, i, "://") || at(s, i, "[://]") || at(s, i, "[:]");
}

std::optional<Match> bracketed(std::string_view s, size_t i) {
  char open = s[i];
  char close = open == '[' ? ']' : open == '(' ? ')' : '}';
  bool before = i > 0 && name_char(s[i - 1]);
  for (const auto& b : kBracketed) {
    if (b.square_only && open != '[') continue;
    size_t len = b.inner.size() + 2;
    if (!at(s, i + 1, b.inner) || i + len > s.size() || s[i + len - 1] != close) continue;
    bool after = i + len < s.size() && name_char(s[i + len]);
    if (b.word || open == '(') {
      // "(.)" and "(@)" are emoticons and the like in prose unless glued to names.
      if (before && after) return Match{0, len, b.to};
      // "user [at] example [dot] com": spaced word forms in square or curly brackets.
      bool spaced = b.word && open != '(' && i >= 2 && s[i - 1] == ' ' && name_char(s[i - 2]) &&
                    i + len + 1 < s.size() && s[i + len] == ' ' && name_char(s[i + len + 1]);
      if (spaced) return Match{1, len + 2, b.to};
      continue;
    }
    return Match{0, len, b.to};
  }
  if (open != '[') return std::nullopt;
  // Half bracket: "example[.com".
  if (before && i + 2 < s.size() && s[i + 1] == '.' && name_char(s[i + 2])) return Match{0, 2, "."};
  // "http://[example.com": a bracket opening a host name, not an IPv6 literal "http://[::1]".
  if (i >= 3 && s.substr(i - 3, 3) == "://") {
    // An IPv6 literal closes within 64 bytes (bounded, so hostile lines stay linear).
    auto window = s.substr(i + 1, 64);
    auto close_pos = window.find(']');
    bool ipv6_literal = close_pos != std::string_view::npos &&
                        window.substr(0, close_pos).find(':') != std::string_view::npos &&
                        window.substr(0, close_pos).find('/') == std::string_view::npos;
    if (!ipv6_literal) return Match{0, 1, "", true};
  }
  return std::nullopt;
}

// "C:\\Users\\bob\\.ssh": a path separator earlier in the same word (a backslash not itself part of
// a "\\." form) makes it a Windows path, where "\\." starts a dot-directory and is not a defanged
// dot. Looks back a bounded way, so long lines stay linear.
bool in_windows_path(std::string_view s, size_t i) {
  for (size_t k = i, seen = 0; k > 0 && seen < 256; --k, ++seen) {
    char c = s[k - 1];
    if (c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '<' || c == '>') return false;
    if (c == '\\' && s[k] != '.') return true;  // "evil\\.example\\.com" is defanged, not a path
  }
  return false;
}

std::optional<Match> match_at(std::string_view s, size_t i) {
  char c = s[i];
  switch (c) {
    case '[':
    case '(':
    case '{':
      return bracketed(s, i);
    case '\\':  // "example\.com", as in a regular expression
      if (i > 0 && name_char(s[i - 1]) && i + 2 < s.size() && s[i + 1] == '.' &&
          name_char(s[i + 2]) && !in_windows_path(s, i))
        return Match{0, 2, "."};
      return std::nullopt;
    case '.':  // half bracket "example.]com"
      if (i > 0 && name_char(s[i - 1]) && i + 2 < s.size() && s[i + 1] == ']' &&
          name_char(s[i + 2]))
        return Match{0, 2, "."};
      return std::nullopt;
    default:
      break;
  }
  // Scheme forms: at a word start and followed by a (possibly defanged) "://".
  if (i > 0 && is_alnum(s[i - 1])) return std::nullopt;
  struct Scheme {
    std::string_view from, to;
  };
  static constexpr std::array<Scheme, 7> kSchemes{{{"hxxps", "https"},
                                                   {"hxxp", "http"},
                                                   {"h**ps", "https"},
                                                   {"h**p", "http"},
                                                   {"fxps", "ftps"},
                                                   {"fxp", "ftp"},
                                                   {"meow", "http"}}};
  for (const auto& sc : kSchemes) {
    if (lower(c) != sc.from[0] || !at(s, i, sc.from)) continue;
    if (scheme_separator_at(s, i + sc.from.size())) return Match{0, sc.from.size(), sc.to};
  }
  return std::nullopt;
}

// Refangs s into text/mask; returns false (and leaves them alone) when there is nothing to do.
// Applies the forms found at increasing positions, copying the bytes in between in bulk.
class Writer {
 public:
  Writer(std::string_view s, std::string& text, std::vector<uint8_t>& mask)
      : s_(s), text_(text), mask_(mask) {}

  // Tries a form at i; returns where scanning goes on.
  size_t at(size_t i) {
    if (i < run_) return run_;
    auto m = match_at(s_, i);
    if (!m || i - m->back < run_) return i + 1;
    if (!any_) {
      any_ = true;
      text_.clear();
      mask_.clear();
      text_.reserve(s_.size());
      mask_.reserve(s_.size());
    }
    size_t from = i - m->back;
    copy(run_, from);
    if (m->mark_prev) {
      if (!mask_.empty()) mask_.back() = 1;
    } else {
      text_.append(m->to);
      mask_.insert(mask_.end(), m->to.size(), 1);
    }
    run_ = from + m->len;
    return run_;
  }

  bool finish() {
    if (any_) copy(run_, s_.size());
    return any_;
  }

 private:
  void copy(size_t from, size_t to) {
    text_.append(s_.data() + from, to - from);
    mask_.insert(mask_.end(), to - from, 0);
  }
  std::string_view s_;
  std::string& text_;
  std::vector<uint8_t>& mask_;
  size_t run_ = 0;  // start of the bytes not yet copied
  bool any_ = false;
};

// Where a form may start, found with memchr instead of a look at every byte: brackets and '\\'
// start one, ']' ends ".]", and a scheme form ("hxxp") sits right before a ':' (or "[:").
// Returns false when there are more than `cap` (the caller then scans byte by byte).
bool candidates(std::string_view s, size_t* out, size_t cap, size_t& n) {
  n = 0;
  auto push = [&](size_t pos) {
    if (n == cap) return false;
    out[n++] = pos;
    return true;
  };
  for (char c : std::string_view("[({\\]:")) {
    for (size_t pos = 0; pos < s.size(); ++pos) {
      auto* hit = static_cast<const char*>(std::memchr(s.data() + pos, c, s.size() - pos));
      if (!hit) break;
      pos = static_cast<size_t>(hit - s.data());
      if (c == ']') {
        if (pos > 0 && s[pos - 1] == '.' && !push(pos - 1)) return false;
      } else if (c == ':') {
        size_t sep = pos > 0 && s[pos - 1] == '[' ? pos - 1 : pos;
        for (size_t len = 3; len <= 5; ++len)
          if (sep >= len && kTrigger[static_cast<unsigned char>(s[sep - len])] == kLetter &&
              !push(sep - len))
            return false;
      } else if (!push(pos)) {
        return false;
      }
    }
  }
  std::sort(out, out + n);
  return true;
}

bool refang_core(std::string_view s, std::string& text, std::vector<uint8_t>& mask) {
  Writer w(s, text, mask);
  constexpr size_t kCap = 64;
  size_t found[kCap];
  size_t n = 0;
  if (candidates(s, found, kCap, n)) {
    for (size_t k = 0; k < n; ++k) w.at(found[k]);
    return w.finish();
  }
  for (size_t i = 0; i < s.size();) {
    uint8_t trigger = kTrigger[static_cast<unsigned char>(s[i])];
    bool maybe = trigger != 0 && !(trigger == kLetter && i > 0 && is_alnum(s[i - 1])) &&
                 !(trigger == kDot && (i + 1 >= s.size() || s[i + 1] != ']'));
    i = maybe ? w.at(i) : i + 1;
  }
  return w.finish();
}

}  // namespace

bool Refanged::any() const {
  return std::find(defanged.begin(), defanged.end(), 1) != defanged.end();
}

bool Refanged::any_in(size_t begin, size_t end) const {
  end = std::min(end, defanged.size());
  for (size_t i = begin; i < end; ++i)
    if (defanged[i]) return true;
  return false;
}

Refanged refang_marked(std::string_view s) {
  Refanged r;
  if (!refang_core(s, r.text, r.defanged)) {
    r.text.assign(s);
    r.defanged.assign(s.size(), 0);
  }
  return r;
}

std::string refang(std::string_view s) {
  return refang_marked(s).text;
}

bool refang_into(std::string_view s, Refanged& out) {
  return refang_core(s, out.text, out.defanged);
}

}  // namespace forage::ioc
