// Free text and one-per-line lists (reader.h): the extractor behind `forage ioc parse` for a
// broadcast pasted into a file or a decoded e-mail body.
//
// Speed matters (issue 2 wants >= 10x the npm ioc-extractor), so there is no regular expression
// and prose is never looked at byte by byte: memchr over the whole input finds the lines that may
// hold a defang form (only those are refanged) and the bytes . : @ / \ that every indicator but a
// hash contains; only the tokens around them are examined, plus hex runs found by probing every
// 16th byte (a hash is 32 hex digits or more). Three rarer passes run only on lines holding ':'
// or '=': URLs ("://"), X.509 DNs (which contain spaces) and labelled user names ("user: fsta").
//
// Decisions a reader of the output may want to know (each has a unit test):
// - A URL is one indicator, its host another. Inside a URL only hashes are looked for (a
//   VirusTotal link names its sample); its path gives no file names or paths.
// - Inside a DN only addresses, hashes and e-mail addresses are looked for: "CN=wn1.example.org"
//   is part of an identity, not a host to block.
// - A file path also gives its basename as a file name when that has a known file extension
//   ("/tmp/.x/ratatosk.sh" -> "ratatosk.sh"): droppers re-create the same name elsewhere.
// - Heuristics that only free text gets (an explicit list keeps everything): loopback,
//   unspecified, broadcast and netmask addresses are dropped; a dotted quad after "version",
//   "release", "build", ... is a version; all-digit or one-character "hashes" are placeholders.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>

#include "common/strings.h"
#include "ioc/canonical.h"
#include "ioc/reader.h"
#include "ioc/refang.h"

namespace forage::ioc {
namespace {

constexpr size_t kMaxToken = 4096;  // longer runs without a delimiter are no indicator
constexpr size_t kMaxUrl =
    size_t{64} * 1024;  // bounded so a hostile line cannot make us copy megabytes
// Bounds on DNs keep a hostile line of "CN=a CN=a ..." linear (RFC 5280's longest attribute, a
// 200-byte serial or organisation, fits with room to spare).
constexpr size_t kMaxDn = 1024;
constexpr size_t kMaxDnValue = 256;

enum : uint8_t {
  kDelim = 1,    // ends a token
  kSpecial = 2,  // . : @ / \ -- a token without one of these can only be a hash
  kHexChar = 4,
  kUrlStop = 8,  // ends a URL
  kAlnum = 16,
  kDnStop = 32,  // ends an X.509 DN
  kHigh = 64,    // a byte of a multi-byte UTF-8 character: maybe a Unicode delimiter
};

constexpr std::array<uint8_t, 256> kClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c <= 0x20; ++c) t[c] |= kDelim | kUrlStop;
  for (int c = 0; c < 0x20; ++c) t[c] |= kDnStop;  // tab and control bytes; spaces stay
  t[0x7f] |= kDelim | kUrlStop | kDnStop;
  for (unsigned char c : std::string_view("\"'`<>()[]{}|,;=*^!&?#")) t[c] |= kDelim;
  for (unsigned char c : std::string_view("\"'`<>|^")) t[c] |= kUrlStop;
  for (unsigned char c : std::string_view("\"'`<>)]};")) t[c] |= kDnStop;
  for (unsigned char c : std::string_view(".:@/\\")) t[c] |= kSpecial;
  for (int c = '0'; c <= '9'; ++c) t[c] |= kAlnum | kHexChar;
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= kAlnum;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] |= kAlnum;
  for (int c = 'a'; c <= 'f'; ++c) t[c] |= kHexChar;
  for (int c = 'A'; c <= 'F'; ++c) t[c] |= kHexChar;
  for (int c = 0x80; c <= 0xff; ++c) t[c] |= kHigh;
  return t;
}();

uint8_t cls(char c) {
  return kClass[static_cast<unsigned char>(c)];
}
bool is_alnum(char c) {
  return (cls(c) & kAlnum) != 0;
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
  return (cls(c) & kHexChar) != 0;
}
// A plain loop: string_view::find calls memchr, which costs more than these tiny sets.
bool one_of(char c, std::string_view set) {
  for (char s : set)
    if (s == c) return true;
  return false;
}
char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool is_hash_length(size_t n) {
  return n == 32 || n == 40 || n == 64 || n == 128;
}

bool all_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return is_hex(c); });
}

bool lower_equals(std::string_view s, std::string_view lower_lit) {
  if (s.size() != lower_lit.size()) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (lower(s[i]) != lower_lit[i]) return false;
  return true;
}

template <size_t N>
bool lower_in(std::string_view s, const std::array<std::string_view, N>& words) {
  return std::any_of(words.begin(), words.end(),
                     [&](std::string_view w) { return lower_equals(s, w); });
}

// Strict dotted quad (1-3 decimal digits per part, no sign, nothing around it).
bool parse_v4(std::string_view s, uint32_t& out) {
  uint32_t v = 0;
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
    size_t start = i;
    unsigned n = 0;
    while (i < s.size() && is_digit(s[i]) && i - start < 4) n = n * 10 + unsigned(s[i++] - '0');
    if (i == start || i - start > 3 || n > 255) return false;
    v = (v << 8) | n;
  }
  if (i != s.size()) return false;
  out = v;
  return true;
}

std::string format_v4(uint32_t v) {
  std::string out;
  out.reserve(15);
  for (int shift = 24; shift >= 0; shift -= 8) {
    char buf[4];
    auto r = std::to_chars(buf, buf + sizeof buf, (v >> shift) & 0xff);
    out.append(buf, r.ptr);
    if (shift > 0) out += '.';
  }
  return out;
}

// Addresses that appear in every how-to and never identify an attacker.
bool noise_v4(uint32_t v) {
  if ((v >> 24) == 127 || v == 0) return true;  // loopback, unspecified
  uint32_t host = ~v;                           // 255.x.x.x netmasks and the broadcast address
  return (v >> 24) == 255 && (host & (host + 1)) == 0;
}

bool noise_cidr(std::string_view c) {
  return c.size() >= 2 &&
         (c.substr(c.size() - 2) == "/0" || c.rfind("127.", 0) == 0 || c == "::1/128");
}

// Unicode spaces, quotes and dashes around indicators in pasted text (UTF-8): delimiters like
// their ASCII cousins. Returns their length at s[i], 0 for anything else.
size_t unicode_delimiter(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  unsigned c0 = b(0);
  if (c0 == 0xC2) return (b(1) == 0xA0 || b(1) == 0xAB || b(1) == 0xBB) ? 2 : 0;
  if (c0 == 0xE2 && b(1) == 0x80) {
    unsigned c2 = b(2);
    // U+2000-U+200F spaces and marks, U+2013/2014 dashes, U+2018-U+201F quotes, U+2026 "...",
    // U+2028/2029 separators, U+202F narrow no-break space.
    if ((c2 >= 0x80 && c2 <= 0x8F) || c2 == 0x93 || c2 == 0x94 || (c2 >= 0x98 && c2 <= 0x9F) ||
        c2 == 0xA6 || c2 == 0xA8 || c2 == 0xA9 || c2 == 0xAF)
      return 3;
    return 0;
  }
  if (c0 == 0xE3 && b(1) == 0x80 && b(2) >= 0x80 && b(2) <= 0x82) return 3;  // ideographic
  if (c0 == 0xEF && b(1) == 0xBB && b(2) == 0xBF) return 3;                  // BOM / ZWNBSP
  return 0;
}

// A name with a file extension: "payload.exe", "tor-browser.tar.xz", ".x.sh".
bool valid_filename(std::string_view s) {
  if (s.empty() || s.size() > 255 || s[0] == '-') return false;
  for (char c : s)
    if (!is_alnum(c) && !one_of(c, "._-+~$%")) return false;
  auto dot = s.rfind('.');
  if (dot == std::string_view::npos || dot + 1 >= s.size()) return false;
  auto base = s.substr(0, dot);
  auto ext = s.substr(dot + 1);
  if (std::none_of(base.begin(), base.end(), is_alnum)) return false;
  // "U.S.A" is no file: one-letter extensions ("x.c", "a.o") only after a plain name.
  if (ext.size() == 1 && (base.size() < 2 || base.find('.') != std::string_view::npos))
    return false;
  return ext.size() <= 10 && is_file_extension(ext);
}

constexpr std::array<std::string_view, 9> kVersionWords = {
    "version", "ver", "v", "release", "build", "firmware", "kernel", "rev", "revision"};

constexpr std::array<std::string_view, 6> kNotUsers = {"none", "unknown", "null",
                                                       "nil",  "na",      "various"};

// X.509 attribute names as written in DNs. Free text only counts the upper-case spellings (and
// OpenSSL's mixed-case long names), so "c=3, l=5" in a code snippet is no DN.
bool dn_attribute_text(std::string_view a) {
  static constexpr std::array<std::string_view, 10> kShort = {"DC", "C",  "ST",  "L", "O",
                                                              "OU", "CN", "UID", "E", "SN"};
  static constexpr std::array<std::string_view, 9> kLong = {
      "SERIALNUMBER", "STREET",       "TITLE",     "GIVENNAME", "EMAILADDRESS",
      "emailAddress", "serialNumber", "givenName", "street"};
  return std::find(kShort.begin(), kShort.end(), a) != kShort.end() ||
         std::find(kLong.begin(), kLong.end(), a) != kLong.end();
}

// No control byte and no two spaces in a row. Eight bytes at a time (SWAR): this runs on every
// line that gives an indicator.
bool plain_text(std::string_view t) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighs = 0x8080808080808080ull;
  constexpr uint64_t kLows = 0x7F7F7F7F7F7F7F7Full;
  size_t i = 0;
  bool prev_space = false;  // the last byte of the previous word
  for (; i + 8 <= t.size(); i += 8) {
    uint64_t w = 0;
    std::memcpy(&w, t.data() + i, 8);
    if ((w - kOnes * 0x20) & ~w & kHighs) return false;      // a byte < 0x20
    uint64_t x = w ^ (kOnes * 0x20);                         // spaces become zero bytes
    uint64_t spaces = ~(((x & kLows) + kLows) | x | kLows);  // exact: 0x80 per space
    if (spaces & (spaces >> 8)) return false;
    if (prev_space && (spaces & 0x80)) return false;
    prev_space = (spaces >> 63) != 0;
  }
  for (; i < t.size(); ++i) {
    auto c = static_cast<unsigned char>(t[i]);
    if (c < 0x20 || (c == ' ' && prev_space)) return false;
    prev_space = c == ' ';
  }
  return true;
}

// make_context(line), without its byte-by-byte appends for the usual line that is already
// trimmed, single-spaced, free of control bytes and short.
std::string context_of(std::string_view line) {
  constexpr size_t kMax = 240;  // make_context's default
  auto t = trim(line);
  if (t.size() <= kMax && plain_text(t)) return std::string(t);
  return make_context(line, kMax);
}

// What a line may hold, so that most lines skip the refang scan and the rarer passes.
struct LineHints {
  bool maybe_defanged = true;  // has a byte that every defang form needs ([ ( { \ ] :)
  bool colon = true;
  bool equals = true;
};

// The next occurrence of one byte in the whole input: memchr runs once over the text instead of
// a look at every byte of every line.
class NextByte {
 public:
  NextByte(std::string_view text, char c)
      : begin_(text.data()), end_(text.data() + text.size()), c_(c) {}
  // The first occurrence at or after p, or the end of the text. Cheap when asked in order.
  const char* from(const char* p) {
    if (!valid_ || p < asked_ || cached_ < p) {
      const void* hit = p < end_ ? std::memchr(p, c_, static_cast<size_t>(end_ - p)) : nullptr;
      cached_ = hit ? static_cast<const char*>(hit) : end_;
      asked_ = p;
      valid_ = true;
    }
    return cached_;
  }
  size_t from(size_t pos) { return static_cast<size_t>(from(begin_ + pos) - begin_); }

 private:
  const char* begin_;
  const char* end_;
  char c_;
  const char* asked_ = nullptr;
  const char* cached_ = nullptr;
  bool valid_ = false;
};

// The bytes that make a token worth a look (see LineReader::tokens).
constexpr std::array<char, 5> kSpecialBytes = {'.', ':', '@', '/', '\\'};
using SpecialFinders = std::array<NextByte, kSpecialBytes.size()>;

struct Span {
  size_t begin;
  size_t end;
  bool dn;  // false: a URL
};

// Spans are found left to right, so each list is sorted; lookups are binary searches so that a
// line of a million URLs stays linear.
const Span* span_in(const std::vector<Span>& spans, size_t pos) {
  auto it = std::upper_bound(spans.begin(), spans.end(), pos,
                             [](size_t p, const Span& s) { return p < s.begin; });
  if (it == spans.begin()) return nullptr;
  --it;
  return pos < it->end ? &*it : nullptr;
}

class LineReader {
 public:
  // `specials` find the special bytes in the whole input the lines come from (nullptr: none).
  LineReader(const Source& src, IocSet& out, SpecialFinders* specials, bool contexts = true)
      : src_(src), out_(out), specials_(specials), contexts_(contexts) {}

  // `hints` says what the line may hold, found by the caller for the whole input at once.
  void line(std::string_view original, size_t number, const LineHints& hints) {
    original_ = original;
    number_ = number;
    have_context_ = false;
    urls_.clear();
    dns_.clear();
    marked_ = hints.maybe_defanged && refang_into(original, buf_);
    text_ = marked_ ? std::string_view(buf_.text) : original;
    bool colon = hints.colon;
    bool equals = hints.equals;
    if (marked_) {  // "[:]" became ':'
      colon = std::memchr(text_.data(), ':', text_.size()) != nullptr;
      equals = std::memchr(text_.data(), '=', text_.size()) != nullptr;
    }
    if (colon) urls();
    if (equals) dns();
    if (colon || equals) usernames();
    // The tokens between the spans; inside DNs only the strongly typed ones.
    size_t pos = 0;
    size_t u = 0;
    size_t d = 0;
    while (u < urls_.size() || d < dns_.size()) {
      bool url = d >= dns_.size() || (u < urls_.size() && urls_[u].begin < dns_[d].begin);
      const Span& s = url ? urls_[u++] : dns_[d++];
      if (s.begin > pos) tokens(pos, s.begin, false);
      if (s.dn) tokens(std::max(pos, s.begin), s.end, true);
      pos = std::max(pos, s.end);
    }
    tokens(pos, text_.size(), false);
  }

 private:
  char at(size_t i) const { return i < text_.size() ? text_[i] : '\0'; }
  // Byte i has class `stop`, or starts a Unicode delimiter.
  bool stop_at(size_t i, uint8_t stop) const {
    uint8_t k = cls(text_[i]);
    return (k & stop) || ((k & kHigh) && unicode_delimiter(text_, i));
  }
  bool defanged(size_t b, size_t e) const { return marked_ && buf_.any_in(b, e); }

  const Span* span_at(size_t pos) const {
    if (const Span* s = span_in(urls_, pos)) return s;
    return span_in(dns_, pos);
  }
  // Where the next URL starts: a DN never runs into one.
  size_t next_url(size_t pos) const {
    auto it = std::lower_bound(urls_.begin(), urls_.end(), pos,
                               [](const Span& s, size_t p) { return s.begin < p; });
    return it == urls_.end() ? text_.size() : it->begin;
  }

  void add(Type t, std::string value) {
    // Repeats are common (a broadcast names its C2 in every paragraph): skip them before paying
    // for the context and the copy of the source.
    if (out_.contains(t, value)) return;
    add_new(t, std::move(value));
  }
  // The same for a value not yet in a string of its own: a repeat then costs no allocation.
  void add_view(Type t, std::string_view value) {
    if (!out_.contains(t, value)) add_new(t, std::string(value));
  }
  void add_new(Type t, std::string value) {
    Indicator ind;
    ind.type = t;
    ind.value = std::move(value);
    ind.source = src_;
    ind.source.line = number_;
    if (contexts_) {
      if (!have_context_) {
        context_ = context_of(original_);
        have_context_ = true;
      }
      ind.context = context_;
    }
    out_.add(std::move(ind));
  }

  void add_v4(uint32_t v) {
    if (!noise_v4(v)) add(Type::kIpv4, format_v4(v));
  }
  void add_v6(std::string canonical) {
    if (canonical != "::1" && canonical != "::") add(Type::kIpv6, std::move(canonical));
  }
  void add_cidr(std::string canonical) {
    if (!noise_cidr(canonical)) add(Type::kCidr, std::move(canonical));
  }
  void add_hash(size_t b, size_t e) {
    auto s = text_.substr(b, e - b);
    // All-digit or one-character runs are counters and placeholders ("000...0"), not digests.
    if (std::all_of(s.begin(), s.end(), is_digit)) return;
    if (s.find_first_not_of(s[0]) == std::string_view::npos) return;
    auto t = hash_type(s);
    if (!t) return;
    char lower_hex[128];  // the longest hash: SHA-512
    if (s.size() > sizeof lower_hex) return;
    std::transform(s.begin(), s.end(), lower_hex, lower);
    add_view(*t, std::string_view(lower_hex, s.size()));
  }
  void add_filename(std::string_view s) {
    if (valid_filename(s)) add_view(Type::kFilename, s);
  }

  // ---- URLs: "scheme://..." up to a space, a quote or '<' '>' ----

  void urls() {
    size_t p = 0;
    while ((p = text_.find("://", p)) != std::string_view::npos) {
      size_t s = p;
      size_t floor = urls_.empty() ? 0 : urls_.back().end;
      while (s > floor && (is_alnum(text_[s - 1]) || one_of(text_[s - 1], "+-."))) --s;
      while (s < p && !is_alpha(text_[s])) ++s;
      if (s == p) {
        p += 3;
        continue;
      }
      size_t e = p + 3;
      while (e < text_.size() && !stop_at(e, kUrlStop)) ++e;
      e = trim_url(p + 3, e);
      urls_.push_back({s, e, false});
      url(s, p, e);
      p = std::max(e, p + 3);
    }
  }

  // Drops sentence punctuation and unbalanced closing brackets after a URL ("(see http://x/)."),
  // but keeps a dot that was written defanged ("http://example[.]com/[.]").
  size_t trim_url(size_t body, size_t e) const {
    long paren = 0, square = 0, curly = 0;  // opened minus closed within the URL
    for (size_t i = body; i < e; ++i) {
      switch (text_[i]) {
        case '(':
          ++paren;
          break;
        case ')':
          --paren;
          break;
        case '[':
          ++square;
          break;
        case ']':
          --square;
          break;
        case '{':
          ++curly;
          break;
        case '}':
          --curly;
          break;
        default:
          break;
      }
    }
    while (e > body) {
      char c = text_[e - 1];
      if (c == '.' && defanged(e - 1, e)) break;
      if (one_of(c, ".,;:!?*([{")) {
        --e;  // sentence punctuation; an opening bracket cannot end a URL
      } else if (c == ')' && paren < 0) {
        ++paren, --e;
      } else if (c == ']' && square < 0) {
        ++square, --e;
      } else if (c == '}' && curly < 0) {
        ++curly, --e;
      } else {
        break;
      }
    }
    return e;
  }

  void url(size_t s, size_t sep, size_t e) {
    if (e - s > kMaxUrl) return;
    auto text = text_.substr(s, e - s);
    if (auto c = canonical_url_and_host(text)) {
      add(Type::kUrl, std::move(c->url));
      uint32_t v = 0;
      if (c->host_type == Type::kIpv4 && parse_v4(c->host, v)) {
        add_v4(v);
      } else if (c->host_type == Type::kIpv6) {
        add_v6(std::move(c->host));
      } else {
        add(c->host_type, std::move(c->host));
      }
      // A VirusTotal or sandbox link names its sample.
      for (size_t i = s; i < e;) {
        if (!is_alnum(text_[i])) {
          ++i;
          continue;
        }
        size_t j = i;
        bool hex = true;
        while (j < e && is_alnum(text_[j])) hex &= is_hex(text_[j++]);
        if (hex && is_hash_length(j - i)) add_hash(i, j);
        i = j;
      }
      return;
    }
    // A URL our model rejects (odd scheme, bad port) may still name a host worth blocking.
    size_t a = sep + 3;
    size_t ae = a;
    while (ae < e && !one_of(text_[ae], "/?#\\")) ++ae;
    for (size_t k = ae; k > a; --k) {
      if (text_[k - 1] == '@') {
        a = k;
        break;
      }
    }
    tokens(a, ae, false);
  }

  // ---- X.509 DNs: "/DC=ch/DC=cern/OU=Organic Units/CN=fst" and "CN=John Doe, O=Example" ----

  // The attribute name starting at i is followed by '=' and is a DN attribute.
  bool attribute_at(size_t i, size_t limit) const {
    size_t j = i;
    while (j < limit && is_alnum(text_[j])) ++j;
    return j > i && j < limit && text_[j] == '=' && dn_attribute_text(text_.substr(i, j - i));
  }

  size_t trim_dn(size_t b, size_t e) const {
    while (e > b && one_of(text_[e - 1], " .,;:")) --e;
    return e;
  }

  void dns() {
    size_t q = 0;
    while ((q = text_.find('=', q)) != std::string_view::npos) {
      if (const Span* s = span_at(q)) {
        q = s->end;
        continue;
      }
      size_t a = q;
      while (a > 0 && is_alnum(text_[a - 1])) --a;
      size_t end = 0;
      if (a < q && dn_attribute_text(text_.substr(a, q - a))) {
        if (a > 0 && text_[a - 1] == '/')
          end = slash_dn(a - 1);
        else if (a == 0 || !one_of(text_[a - 1], "._-\\"))
          end = comma_dn(a);
      }
      q = std::max(end, q + 1);
    }
  }

  size_t slash_dn(size_t st) {
    if (st > 0 && (is_alnum(text_[st - 1]) || one_of(text_[st - 1], "._-/~\\"))) return 0;
    size_t limit = std::min(next_url(st), st + kMaxDn);
    size_t e = st + 1;
    while (e < limit) {
      char c = text_[e];
      if (stop_at(e, kDnStop)) break;
      if (c == ' ') {
        // Spaces belong to values ("OU=Organic Units") unless a second DN starts after them.
        size_t k = e;
        while (k < limit && text_[k] == ' ') ++k;
        if (k < limit && text_[k] == '/' && attribute_at(k + 1, limit)) break;
        e = k;
        continue;
      }
      ++e;
    }
    if (e == st + kMaxDn) return 0;
    e = trim_dn(st, e);
    size_t rdns = 0;
    for (size_t i = st; i < e; ++i)
      if (text_[i] == '/' && attribute_at(i + 1, e)) ++rdns;
    if (rdns < 2) return 0;
    auto dn = canonical_x509_dn(text_.substr(st, e - st));
    if (!dn) return 0;
    add(Type::kX509Dn, *dn);
    dns_.push_back({st, e, true});
    return e;
  }

  size_t comma_dn(size_t a) {
    size_t limit = std::min(next_url(a), a + kMaxDn);
    size_t pos = a;
    size_t rdns = 0;
    size_t last = a;
    while (attribute_at(pos, limit)) {
      size_t v = text_.find('=', pos) + 1;
      size_t ve = v;
      size_t value_limit = std::min(limit, v + kMaxDnValue);
      while (ve < value_limit) {
        char c = text_[ve];
        if (c == '\\' && ve + 1 < limit) {  // RFC 4514 escape: "\," is part of the value
          ve += 2;
          continue;
        }
        if (c == ',' || stop_at(ve, kDnStop)) break;
        ++ve;
      }
      if (ve == value_limit && ve < limit) break;  // too long for a value: prose, not a DN
      if (trim(text_.substr(v, ve - v)).empty()) break;
      ++rdns;
      last = ve;
      if (ve >= limit || text_[ve] != ',') break;
      pos = ve + 1;
      while (pos < limit && text_[pos] == ' ') ++pos;
    }
    if (rdns < 2) return 0;
    size_t e = trim_dn(a, last);
    auto dn = canonical_x509_dn(text_.substr(a, e - a));
    if (!dn) return 0;
    add(Type::kX509Dn, *dn);
    dns_.push_back({a, e, true});
    return e;
  }

  // ---- user names from labelled fields: "Local account: pillhcb048", "users: a, b" ----

  // The word ending at `end` (after skipping up to 4 blanks and `extra` bytes backwards).
  std::string_view word_before(size_t end, std::string_view extra = "") const {
    size_t k = end;
    for (int n = 0;
         n < 4 && k > 0 &&
         (one_of(text_[k - 1], " \t") || (!extra.empty() && one_of(text_[k - 1], extra)));
         ++n)
      --k;
    size_t w = k;
    while (w > 0 && is_alpha(text_[w - 1])) --w;
    if (w > 0 && (is_digit(text_[w - 1]) || text_[w - 1] == '_')) return {};
    return text_.substr(w, k - w);
  }

  void usernames() {
    static constexpr std::array<std::string_view, 3> kSingular = {"user", "username", "login"};
    static constexpr std::array<std::string_view, 3> kPlural = {"users", "usernames", "logins"};
    NextByte colon(text_, ':');
    NextByte equals(text_, '=');
    for (size_t q = std::min(colon.from(size_t{0}), equals.from(size_t{0})); q < text_.size();
         q = std::min(colon.from(q + 1), equals.from(q + 1))) {
      if (const Span* s = span_at(q)) {
        q = s->end - 1;
        continue;
      }
      size_t end = q;
      bool plural = false;
      if (end >= 3 && text_.substr(end - 3, 3) == "(s)") {  // "account(s):"
        end -= 3;
        plural = true;
      }
      auto word = word_before(end);
      if (word.empty() || word.size() > 9) continue;
      size_t word_begin = static_cast<size_t>(word.data() - text_.data());
      if (lower_in(word, kPlural) || lower_equals(word, "accounts")) {
        plural = true;
      } else if (lower_equals(word, "name") || lower_equals(word, "names")) {
        if (!lower_equals(word_before(word_begin), "user")) continue;  // "user name:"
        plural |= word.size() == 5;
      } else if (lower_equals(word, "login")) {
        if (lower_equals(word_before(word_begin), "last")) continue;  // "Last login: Tue ..."
      } else if (!lower_in(word, kSingular) && !lower_equals(word, "account")) {
        continue;
      }
      user_values(q + 1, plural);
    }
  }

  void user_values(size_t i, bool plural) {
    auto blanks = [&] {
      while (i < text_.size() && one_of(text_[i], " \t")) ++i;
    };
    for (int n = 0; n < 64; ++n) {
      blanks();
      if (span_at(i)) return;
      bool quoted = one_of(at(i), "\"'");
      if (quoted) ++i;
      size_t b = i;
      while (i < text_.size() && (is_alnum(text_[i]) || one_of(text_[i], "._-$\\"))) ++i;
      size_t e = i;
      while (e > b && one_of(text_[e - 1], ".-")) --e;
      auto name = text_.substr(b, e - b);
      // A user name has a letter ("2024-11-20" after "login:" is a date) and is not "none".
      if (name.size() < 2 || name.size() > 64 || std::none_of(name.begin(), name.end(), is_alpha) ||
          lower_in(name, kNotUsers))
        return;
      add_view(Type::kUsername, name);
      if (quoted && one_of(at(i), "\"'")) ++i;
      if (!plural) return;
      blanks();
      bool more = false;
      if (at(i) == ',') {
        ++i;
        blanks();
        more = true;
      }
      if (lower_equals(text_.substr(i, 4), "and ")) {
        i += 4;
        more = true;
      }
      if (!more) return;
    }
  }

  // ---- tokens: maximal runs between delimiters ----

  // The hot loop. Only tokens with one of . : @ / \ (found with memchr, so prose is never
  // looked at byte by byte) or hex runs of a hash's length can be indicators. A hash has no
  // special byte, but a hex run of 32 or more covers two multiples of 16 from `from`: probing
  // those positions finds every one.
  void tokens(size_t from, size_t to, bool in_dn) {
    if (from >= to) return;
    const char* p = text_.data();
    // A line read as written is part of the whole input, whose finders are shared by all lines.
    bool shared = specials_ != nullptr && !marked_;
    auto find = [&](size_t k, size_t pos) -> size_t {
      if (pos >= to) return to;
      if (shared) return std::min(to, static_cast<size_t>((*specials_)[k].from(p + pos) - p));
      auto* hit = static_cast<const char*>(std::memchr(p + pos, kSpecialBytes[k], to - pos));
      return hit ? static_cast<size_t>(hit - p) : to;
    };
    std::array<size_t, kSpecialBytes.size()> next{};
    for (size_t k = 0; k < next.size(); ++k) next[k] = find(k, from);
    size_t done = from;   // every byte before it is examined
    size_t probe = from;  // the next position probed for a hex run
    while (true) {
      size_t seed = *std::min_element(next.begin(), next.end());
      for (; probe < seed; probe += 16) {
        // The first probe inside a run of 32 or more hex digits has hex at +8 and +16 too: in
        // prose that rules out nearly every probe before a look at its word.
        if (probe >= done && probe + 16 < to && is_hex(p[probe]) && is_hex(p[probe + 16]) &&
            is_hex(p[probe + 8]))
          done = examine(probe, done, to, in_dn);
      }
      if (seed >= to) break;
      if (seed >= done) done = examine(seed, done, to, in_dn);
      for (size_t k = 0; k < next.size(); ++k)
        if (next[k] < done) next[k] = find(k, done);
    }
  }

  bool delimiter_at(size_t i) const {
    uint8_t k = cls(text_[i]);
    return (k & kDelim) || ((k & kHigh) && unicode_delimiter(text_, i));
  }
  // A delimiter ends at byte i (a multi-byte one started at most two bytes before, not before lo).
  bool delimiter_ends_at(size_t i, size_t lo) const {
    uint8_t k = cls(text_[i]);
    if (k & kDelim) return true;
    if (!(k & kHigh)) return false;
    return (i >= lo + 2 && unicode_delimiter(text_, i - 2) == 3) ||
           (i >= lo + 1 && unicode_delimiter(text_, i - 1) == 2);
  }

  // Examines the whole token around byte `at` (no delimiter), within [lo, hi); returns its end.
  size_t examine(size_t at, size_t lo, size_t hi, bool in_dn) {
    size_t b = at;
    while (b > lo && !delimiter_ends_at(b - 1, lo)) --b;
    uint8_t any = 0;
    uint8_t every = 0xff;
    size_t e = b;
    for (; e < hi; ++e) {
      uint8_t k = cls(text_[e]);
      if ((k & (kDelim | kHigh)) && delimiter_at(e)) break;
      any |= k;
      every &= k;
    }
    if (any & kSpecial)
      token(b, e, in_dn);
    else if ((every & kHexChar) && is_hash_length(e - b))
      add_hash(b, e);
    return std::max(e, at + 1);
  }

  void token(size_t b, size_t e, bool in_dn) {
    // Sentence punctuation around the token; "2001:db8::" keeps its "::".
    while (e > b && one_of(text_[e - 1], ".:-") &&
           !(text_[e - 1] == ':' && e - b >= 2 && text_[e - 2] == ':'))
      --e;
    while (b < e && text_[b] == '-') ++b;
    while (e - b >= 2 && text_[b] == '.' && text_[b + 1] == '.') ++b;
    if (b >= e || e - b > kMaxToken) return;
    auto tok = text_.substr(b, e - b);
    if (!in_dn && path_start(tok)) return path(tok);
    if (auto atsign = tok.find('@'); atsign != std::string_view::npos)
      return email(b, b + atsign, e, in_dn);
    rest(b, e, in_dn);
  }

  void rest(size_t b, size_t e, bool in_dn) {
    if (text_.substr(b, e - b).find(':') == std::string_view::npos) return piece(b, e, in_dn);
    if (ipv6(b, e)) return;
    // "1.2.3.4:8080", "example.com:443", "sha256:<hex>", "10:30:00" (nothing)
    size_t pb = b;
    for (size_t k = b; k <= e; ++k) {
      if (k == e || text_[k] == ':') {
        if (k > pb) piece(pb, k, in_dn);
        pb = k + 1;
      }
    }
  }

  static bool path_start(std::string_view t) {
    if (t.size() >= 2 && t[0] == '/') return is_alnum(t[1]) || one_of(t[1], "._~-$");
    if (t.size() > 2 && t[0] == '~' && t[1] == '/') return true;
    if (t.size() > 3 && is_alpha(t[0]) && t[1] == ':' && t[2] == '\\') return true;   // C:\...
    if (t.size() > 3 && t[0] == '\\' && t[1] == '\\' && is_alnum(t[2])) return true;  // UNC
    if (t.size() > 3 && t[0] == '%') {  // %APPDATA%\x.exe
      auto close = t.find('%', 1);
      return close != std::string_view::npos && close > 1 && close + 1 < t.size() &&
             t[close + 1] == '\\';
    }
    return false;
  }

  void path(std::string_view t) {
    bool unix_path = t[0] == '/' || t[0] == '~';
    if (unix_path) {
      // "/tmp/x.sh:12" (a line number) and "$PATH"-like "/usr/bin:/bin" end a Unix path.
      t = t.substr(0, t.find(':'));
      while (!t.empty() && one_of(t.back(), ".,")) t.remove_suffix(1);
      if (t.size() < 4 && t.find('/', 1) == std::string_view::npos) return;  // "/a", "/s"
      auto first = t.substr(1, t.find('/', 1) - 1);
      if (t[0] == '/' && std::all_of(first.begin(), first.end(), is_digit)) return;  // "/24"
    }
    if (!valid_utf8(t)) return;
    add_view(Type::kFilepath, t);
    auto slash = t.find_last_of(unix_path ? "/" : "\\/");
    if (slash != std::string_view::npos) add_filename(t.substr(slash + 1));
  }

  void email(size_t b, size_t atsign, size_t e, bool in_dn) {
    size_t lb = atsign;
    while (lb > b && (is_alnum(text_[lb - 1]) || one_of(text_[lb - 1], "._%+-"))) --lb;
    size_t de = atsign + 1;
    while (de < e && (is_alnum(text_[de]) || one_of(text_[de], ".-"))) ++de;
    while (de > atsign + 1 && one_of(text_[de - 1], ".-")) --de;
    if (lb < atsign && de > atsign + 1) {
      if (auto m = canonical_email(text_.substr(lb, de - lb))) {
        add(Type::kEmail, *m);
        return;
      }
    }
    // "root@203.0.113.5": an ssh target; the part after the '@' on its own.
    if (atsign + 1 < e) rest(atsign + 1, e, in_dn);
  }

  // The whole token as an IPv6 address or network ("fe80::1%eth0", "2001:db8::/32",
  // "IPv6:2001:db8::1"). True when it was one, kept or dropped.
  bool ipv6(size_t b, size_t e) {
    auto t = text_.substr(b, e - b);
    auto first = t.find(':');
    if (first > 0 && !all_hex(t.substr(0, first))) t = t.substr(first + 1);  // a label
    std::string_view len;
    if (auto slash = t.find('/'); slash != std::string_view::npos) {
      len = t.substr(slash + 1);
      t = t.substr(0, slash);
    }
    if (auto pct = t.find('%'); pct != std::string_view::npos) t = t.substr(0, pct);
    if (t.size() < 2 || t.size() > 45) return false;
    size_t colons = 0;
    bool digit = false;
    for (char c : t) {
      if (c == ':') {
        ++colons;
      } else if (is_digit(c)) {
        digit = true;
      } else if (!is_hex(c) && c != '.') {
        return false;
      }
    }
    // A digit and two colons: "std::max" and "a::b" in pasted code are no addresses.
    if (colons < 2 || !digit) return false;
    auto v6 = canonical_ipv6(t);
    if (!v6) return false;
    if (!len.empty() && len.size() <= 3 && std::all_of(len.begin(), len.end(), is_digit)) {
      if (auto c = canonical_cidr(std::string(t) + "/" + std::string(len))) {
        add_cidr(*c);
        return true;
      }
    }
    add_v6(*v6);
    return true;
  }

  // "version 1.2.3.4", "release: 10.2.0.1"
  bool version_before(size_t b) const { return lower_in(word_before(b, ":="), kVersionWords); }

  // One piece of a token, without ':' or '@': a hash, an address, a CIDR, a domain or a file.
  void piece(size_t b, size_t e, bool in_dn) {
    while (b < e && text_[b] == '/') ++b;  // "//example.com" after a scheme-less "http:"
    size_t cut = b;
    while (cut < e && text_[cut] != '/' && text_[cut] != '\\') ++cut;
    if (cut < e) {
      // "185.220.101.7/24" is the network 185.220.101.0/24 and not also an address.
      auto len = text_.substr(cut + 1, e - cut - 1);
      uint32_t v = 0;
      if (text_[cut] == '/' && !len.empty() && len.size() <= 2 &&
          std::all_of(len.begin(), len.end(), is_digit) && parse_v4(text_.substr(b, cut - b), v)) {
        if (auto c = canonical_cidr(text_.substr(b, e - b))) return add_cidr(*c);
      }
      e = cut;  // "example.com/path", "192.168.0.1/some/url": the host part
    }
    while (e > b && one_of(text_[e - 1], ".-")) --e;
    if (b >= e) return;
    auto t = text_.substr(b, e - b);
    if (is_hash_length(t.size()) && all_hex(t)) return add_hash(b, e);
    auto dot = t.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return;
    uint32_t v = 0;
    if (parse_v4(t, v)) {
      if (!version_before(b)) add_v4(v);
      return;
    }
    if (auto dash = t.find('-'); dash != std::string_view::npos) {
      // A range "185.220.101.1-185.220.101.254": both ends (a sweep matches addresses).
      uint32_t first = 0;
      uint32_t last = 0;
      if (parse_v4(t.substr(0, dash), first) && parse_v4(t.substr(dash + 1), last)) {
        add_v4(first);
        add_v4(last);
        return;
      }
    }
    if (std::all_of(t.begin(), t.end(), [](char c) { return is_digit(c) || c == '.'; }))
      return;  // "1.2.3.4.5": a version, an OID
    if (in_dn) return;
    auto ext = t.substr(dot + 1);
    bool file_ext = ext.size() <= 10 && is_file_extension(ext);
    // "ratatosk.sh" is a script; "ratatosk[.]sh" was defanged, so its author meant a host.
    if (file_ext && !defanged(b, e)) return add_filename(t);
    if (!file_ext && t.size() <= 253) {
      // A repeated host costs a look-up, not a new string: the canonical form is the token
      // lower-cased, and whatever canonical_domain() says, adding a present value does nothing.
      char folded[253];
      std::transform(t.begin(), t.end(), folded, lower);
      if (out_.contains(Type::kDomain, std::string_view(folded, t.size()))) return;
    }
    if (auto d = canonical_domain(t)) return add(Type::kDomain, std::move(*d));
    if (file_ext) add_filename(t);
  }

  const Source& src_;
  IocSet& out_;
  SpecialFinders* specials_;
  Refanged buf_;
  bool marked_ = false;
  std::string_view text_;      // the refanged line
  std::string_view original_;  // as written, for the context
  size_t number_ = 0;
  std::string context_;
  bool have_context_ = false;
  bool contexts_ = true;
  std::vector<Span> urls_;
  std::vector<Span> dns_;
};

// Calls f(line, number) for every line; "\r\n" endings lose their '\r'.
template <typename F>
void for_each_line(std::string_view text, F&& f) {
  size_t pos = 0;
  size_t number = 0;
  while (pos < text.size()) {
    auto* nl = static_cast<const char*>(std::memchr(text.data() + pos, '\n', text.size() - pos));
    size_t end = nl ? static_cast<size_t>(nl - text.data()) : text.size();
    auto line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!f(line, ++number)) return;
    pos = end + 1;
  }
}

bool is_comment(std::string_view t) {
  return t[0] == '#' || t.rfind("//", 0) == 0;
}

struct ListEntry {
  Classified value;
  std::string_view comment;
};

// One line of a list: the value alone, or the value and a trailing "# comment".
std::optional<ListEntry> list_entry(std::string_view t) {
  if (auto c = classify(t)) return ListEntry{std::move(*c), {}};
  for (size_t h = t.find('#'); h != std::string_view::npos; h = t.find('#', h + 1)) {
    if (h == 0 || !one_of(t[h - 1], " \t")) continue;
    if (auto c = classify(trim(t.substr(0, h))))
      return ListEntry{std::move(*c), trim(t.substr(h + 1))};
  }
  return std::nullopt;
}

}  // namespace

void read_text(std::string_view text, const Source& src, IocSet& out, bool contexts) {
  SpecialFinders specials = {NextByte(text, '.'), NextByte(text, ':'), NextByte(text, '@'),
                             NextByte(text, '/'), NextByte(text, '\\')};
  LineReader reader(src, out, &specials, contexts);
  // Growing the vector of indicators copies every one of them into fresh pages, again and again:
  // on dense input that was a third of the time. A generous reservation costs address space
  // only (untouched pages are never faulted in); one indicator per 64 bytes is more than dense
  // broadcasts hold.
  out.reserve(out.indicators.size() + std::min<size_t>(text.size() / 64, 1u << 22));
  // Every defang form needs one of these bytes: [.] (.) {.} \. .] and hxxp before a ':'.
  std::array<NextByte, 6> defang = {NextByte(text, '['),  NextByte(text, '('), NextByte(text, '{'),
                                    NextByte(text, '\\'), NextByte(text, ']'), NextByte(text, ':')};
  NextByte& colon = defang[5];
  NextByte equals(text, '=');
  for_each_line(text, [&](std::string_view line, size_t number) {
    size_t b = static_cast<size_t>(line.data() - text.data());
    size_t e = b + line.size();
    LineHints hints;
    hints.maybe_defanged =
        std::any_of(defang.begin(), defang.end(), [&](NextByte& n) { return n.from(b) < e; });
    hints.colon = colon.from(b) < e;
    hints.equals = equals.from(b) < e;
    reader.line(line, number, hints);
    return true;
  });
}

bool looks_like_list(std::string_view text) {
  size_t entries = 0;
  bool ok = true;
  for_each_line(text, [&](std::string_view line, size_t) {
    auto t = trim(line);
    if (t.empty() || is_comment(t)) return true;
    ok = list_entry(t).has_value();
    ++entries;
    return ok;
  });
  return ok && entries > 0;
}

void read_list(std::string_view text, const Source& src, IocSet& out) {
  std::string heading;  // the last comment line: "# C2 servers" describes what follows
  for_each_line(text, [&](std::string_view line, size_t number) {
    auto t = trim(line);
    if (t.empty()) return true;
    Source at = src;
    at.line = number;
    if (is_comment(t)) {
      heading = make_context(trim(t.substr(t[0] == '#' ? 1 : 2)));
      return true;
    }
    auto entry = list_entry(t);
    if (!entry) {
      out.notes.push_back(at.display() + ": not an indicator: " + printable(t, 80));
      return true;
    }
    Indicator ind;
    ind.type = entry->value.type;
    ind.value = std::move(entry->value.value);
    ind.source = std::move(at);
    ind.context = !entry->comment.empty() ? make_context(entry->comment)
                  : !heading.empty()      ? heading
                                          : make_context(t);
    out.add(std::move(ind));
    return true;
  });
}

}  // namespace forage::ioc
