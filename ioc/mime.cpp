// MIME decoding (mime.h) and read_email() (reader.h): a broadcast's parts become indicators,
// its transport headers never do, and neither does the sender's own domain.
#include "ioc/mime.h"

#include <iconv.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>

#include "common/error.h"
#include "common/ossl.h"
#include "common/strings.h"
#include "ioc/canonical.h"
#include "ioc/reader.h"
#include "ioc/tlp.h"

namespace forage::ioc {
namespace mime {
namespace {

// The encapsulated content of a DER CMS SignedData (S/MIME opaque-signed), into `out`; "" when
// read, else why not.
std::string signed_data_content(std::string_view der, std::string& out) {
  if (der.size() > static_cast<size_t>(INT32_MAX)) return "too large";
  BioPtr b(BIO_new_mem_buf(der.data(), static_cast<int>(der.size())));
  if (!b) return "out of memory";
  CmsPtr cms(d2i_CMS_bio(b.get(), nullptr));
  if (!cms) {
    ERR_clear_error();
    return "not a DER CMS structure";
  }
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) return "not CMS signed data";
  ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
  if (!content || !*content) return "detached signature without content";
  out.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(*content)),
             static_cast<size_t>(ASN1_STRING_length(*content)));
  return "";
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One line of a buffer: [begin, end) without its "\n" or "\r\n"; next is where the next starts.
struct Line {
  size_t begin = 0;
  size_t end = 0;
  size_t next = 0;
  bool has_newline = false;
};

Line next_line(std::string_view s, size_t pos) {
  Line l;
  l.begin = pos;
  size_t nl = s.find('\n', pos);
  if (nl == std::string_view::npos) {
    l.end = l.next = s.size();
  } else {
    l.end = nl;
    l.next = nl + 1;
    l.has_newline = true;
  }
  if (l.end > l.begin && s[l.end - 1] == '\r') --l.end;
  return l;
}

std::string_view line_text(std::string_view s, const Line& l) {
  return s.substr(l.begin, l.end - l.begin);
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    out += kReplacement;
  } else if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// --- charsets ---

// An iconv conversion descriptor, closed exactly once.
class Iconv {
 public:
  static std::optional<Iconv> open(const std::string& to, const std::string& from) {
    iconv_t cd = iconv_open(to.c_str(), from.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
    return Iconv(cd);
  }
  Iconv(Iconv&& other) noexcept : cd_(std::exchange(other.cd_, kInvalid())) {}
  Iconv& operator=(Iconv&& other) noexcept {
    if (this != &other) {
      close();
      cd_ = std::exchange(other.cd_, kInvalid());
    }
    return *this;
  }
  Iconv(const Iconv&) = delete;
  Iconv& operator=(const Iconv&) = delete;
  ~Iconv() { close(); }

  // Converts all of `in`; a byte that starts no valid sequence becomes U+FFFD.
  std::string convert(std::string_view in) {
    std::string out;
    out.reserve(in.size() + in.size() / 2);
    std::array<char, 4096> buf{};
    char* inp = const_cast<char*>(in.data());  // iconv's prototype; it does not write input
    size_t inleft = in.size();
    while (inleft > 0) {
      char* outp = buf.data();
      size_t outleft = buf.size();
      size_t r = iconv(cd_, &inp, &inleft, &outp, &outleft);
      int err = errno;
      out.append(buf.data(), static_cast<size_t>(outp - buf.data()));
      if (r != static_cast<size_t>(-1)) continue;
      if (err == E2BIG) continue;
      // EILSEQ (invalid) or EINVAL (incomplete at the end): skip one byte and resynchronise.
      out += kReplacement;
      ++inp;
      --inleft;
      iconv(cd_, nullptr, nullptr, nullptr, nullptr);
    }
    char* outp = buf.data();
    size_t outleft = buf.size();
    iconv(cd_, nullptr, nullptr, &outp, &outleft);  // stateful encodings: back to the initial state
    out.append(buf.data(), static_cast<size_t>(outp - buf.data()));
    return out;
  }

 private:
  explicit Iconv(iconv_t cd) : cd_(cd) {}
  static iconv_t kInvalid() { return reinterpret_cast<iconv_t>(-1); }
  void close() {
    if (cd_ != kInvalid()) iconv_close(cd_);
    cd_ = kInvalid();
  }
  iconv_t cd_;
};

// windows-1252 0x80..0x9F (Unicode's cp1252 table); the five unassigned bytes map to the C1
// control of the same value, as the WHATWG encoding standard does.
constexpr std::array<uint16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

std::string cp1252_to_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size() + in.size() / 4);
  for (unsigned char c : in) {
    if (c < 0x80)
      out += static_cast<char>(c);
    else if (c < 0xA0)
      append_utf8(out, kCp1252High[c - 0x80]);
    else
      append_utf8(out, c);
  }
  return out;
}

std::string normalize_charset(std::string_view cs) {
  cs = trim(cs);
  if (cs.size() >= 2 && cs.front() == '"' && cs.back() == '"')
    cs = trim(cs.substr(1, cs.size() - 2));
  if (auto star = cs.find('*'); star != std::string_view::npos)
    cs = cs.substr(0, star);  // RFC 2231 lang
  return to_lower(cs);
}

// --- header values ---

// Skips blanks and (nested, escaped) comments.
size_t skip_cfws(std::string_view s, size_t i) {
  while (i < s.size()) {
    if (is_space(s[i])) {
      ++i;
    } else if (s[i] == '(') {
      int depth = 0;
      for (; i < s.size(); ++i) {
        if (s[i] == '\\') {
          ++i;
        } else if (s[i] == '(') {
          ++depth;
        } else if (s[i] == ')' && --depth == 0) {
          ++i;
          break;
        }
      }
    } else {
      break;
    }
  }
  return i;
}

// A quoted string starting at s[i] == '"'; returns its unescaped content, i past the end quote.
std::string read_quoted(std::string_view s, size_t& i) {
  std::string out;
  ++i;
  while (i < s.size() && s[i] != '"') {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out += s[i++];
  }
  if (i < s.size()) ++i;
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    int hi = 0, lo = 0;
    if (s[i] == '%' && i + 2 < s.size() && (hi = hex_value(s[i + 1])) >= 0 &&
        (lo = hex_value(s[i + 2])) >= 0) {
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct RawParam {
  std::string name;  // lower-case, as written ("filename*0*")
  std::string value;
};

// RFC 2231: "name*" (extended), "name*0", "name*1*" ... joined into one UTF-8 value.
std::vector<std::pair<std::string, std::string>> join_params(const std::vector<RawParam>& raw) {
  struct Group {
    std::string plain;
    bool has_plain = false;
    std::vector<std::pair<int, const RawParam*>> sections;  // -1: the unsectioned "name*"
  };
  std::vector<std::string> order;
  std::vector<Group> groups;
  auto group_of = [&](const std::string& base) -> Group& {
    for (size_t i = 0; i < order.size(); ++i)
      if (order[i] == base) return groups[i];
    order.push_back(base);
    groups.emplace_back();
    return groups.back();
  };
  for (const auto& p : raw) {
    auto star = p.name.find('*');
    if (star == std::string::npos) {
      Group& g = group_of(p.name);
      if (!g.has_plain) {
        g.plain = p.value;
        g.has_plain = true;
      }
      continue;
    }
    std::string base = p.name.substr(0, star);
    std::string_view rest = std::string_view(p.name).substr(star + 1);
    int section = -1;
    if (!rest.empty() && is_digit(rest[0])) {
      section = 0;
      size_t k = 0;
      while (k < rest.size() && is_digit(rest[k]) && section < 10000)
        section = section * 10 + (rest[k++] - '0');
    }
    group_of(base).sections.emplace_back(section, &p);
  }

  std::vector<std::pair<std::string, std::string>> out;
  for (size_t gi = 0; gi < order.size(); ++gi) {
    Group& g = groups[gi];
    if (g.sections.empty()) {
      out.emplace_back(order[gi], decode_words(g.plain));
      continue;
    }
    std::stable_sort(g.sections.begin(), g.sections.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string bytes;
    std::string charset;
    int expect = g.sections.front().first;
    bool first = true;
    for (const auto& [num, p] : g.sections) {
      if (num != expect) break;  // a gap or duplicate: the value ends there
      expect = num < 0 ? INT_MAX : num + 1;
      bool extended = !p->name.empty() && p->name.back() == '*';
      std::string_view v = p->value;
      if (extended && first) {
        // charset'language'value
        auto q1 = v.find('\'');
        auto q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
        if (q2 != std::string_view::npos) {
          charset = std::string(v.substr(0, q1));
          v = v.substr(q2 + 1);
        }
      }
      bytes += extended ? percent_decode(v) : std::string(v);
      first = false;
    }
    out.emplace_back(order[gi], to_utf8(bytes, charset).text);
  }
  return out;
}

// --- RFC 2047 ---

std::optional<std::string> decode_q_word(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    int hi = 0, lo = 0;
    if (c == '_') {
      out += ' ';
    } else if (c == '=' && i + 2 < text.size() && (hi = hex_value(text[i + 1])) >= 0 &&
               (lo = hex_value(text[i + 2])) >= 0) {
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> decode_b_word(std::string_view text) {
  std::string padded(text);
  if (padded.size() % 4 == 2)
    padded += "==";
  else if (padded.size() % 4 == 3)
    padded += "=";
  Decoded d = decode_base64(padded);
  if (!d.ok()) return std::nullopt;
  return std::move(d.data);
}

// --- HTML ---

struct Entity_ {
  std::string_view name;
  uint32_t cp;
};
constexpr std::array<Entity_, 24> kEntities = {{
    {"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},      {"apos", '\''},
    {"nbsp", ' '},     {"ndash", 0x2013}, {"mdash", 0x2014}, {"hellip", 0x2026}, {"lsquo", 0x2018},
    {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"laquo", 0xAB},    {"raquo", 0xBB},
    {"copy", 0xA9},    {"reg", 0xAE},     {"trade", 0x2122}, {"middot", 0xB7},   {"bull", 0x2022},
    {"euro", 0x20AC},  {"shy", 0xAD},     {"zwsp", 0x200B},  {"sol", '/'},
}};

// Decodes the character reference at s[i] == '&' into out; returns the index after it, or i+1
// with '&' appended when it is none.
size_t decode_entity(std::string_view s, size_t i, std::string& out) {
  size_t j = i + 1;
  if (j < s.size() && s[j] == '#') {
    ++j;
    bool hexa = j < s.size() && (s[j] == 'x' || s[j] == 'X');
    if (hexa) ++j;
    uint32_t cp = 0;
    size_t start = j;
    while (j < s.size() && j - start < 8) {
      int v = hexa ? hex_value(s[j]) : (is_digit(s[j]) ? s[j] - '0' : -1);
      if (v < 0) break;
      cp = cp * (hexa ? 16 : 10) + static_cast<uint32_t>(v);
      ++j;
    }
    if (j == start) {
      out += '&';
      return i + 1;
    }
    if (j < s.size() && s[j] == ';') ++j;
    append_utf8(out, cp);
    return j;
  }
  size_t start = j;
  while (j < s.size() && j - start < 10 && (is_alpha(s[j]) || is_digit(s[j]))) ++j;
  auto name = s.substr(start, j - start);
  for (const auto& e : kEntities) {
    if (name == e.name) {
      if (j < s.size() && s[j] == ';') ++j;
      append_utf8(out, e.cp);
      return j;
    }
  }
  out += '&';
  return i + 1;
}

std::string decode_entities(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '&') {
      i = decode_entity(s, i, out);
    } else {
      out += s[i++];
    }
  }
  return out;
}

bool is_block_tag(std::string_view name) {
  static constexpr std::array<std::string_view, 30> kBlock = {
      "br",     "p",       "div",   "li",    "ul",      "ol",      "tr",      "table",
      "h1",     "h2",      "h3",    "h4",    "h5",      "h6",      "pre",     "blockquote",
      "hr",     "title",   "dt",    "dd",    "dl",      "section", "article", "header",
      "footer", "address", "tbody", "thead", "caption", "center"};
  return std::find(kBlock.begin(), kBlock.end(), name) != kBlock.end();
}

// Case-insensitive search of `needle` (lower-case) in s from pos.
size_t ifind(std::string_view s, std::string_view needle, size_t pos) {
  if (needle.empty() || s.size() < needle.size()) return std::string_view::npos;
  for (size_t i = pos; i + needle.size() <= s.size(); ++i) {
    size_t k = 0;
    while (k < needle.size() && std::tolower(static_cast<unsigned char>(s[i + k])) ==
                                    static_cast<unsigned char>(needle[k]))
      ++k;
    if (k == needle.size()) return i;
  }
  return std::string_view::npos;
}

// --- structure ---

std::string join_path(const std::string& prefix, size_t n) {
  return prefix.empty() ? std::to_string(n) : prefix + "." + std::to_string(n);
}

std::string safe_filename(std::string_view name) {
  auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name = name.substr(slash + 1);
  name = trim(name);
  if (name == "." || name == "..") return {};
  std::string out;
  for (unsigned char c : name) {
    if (out.size() >= 120) {
      out += "...";
      break;
    }
    out += (c < 0x20 || c == 0x7f) ? '_' : static_cast<char>(c);
  }
  return out;
}

std::string extension_of(std::string_view filename) {
  auto dot = filename.rfind('.');
  if (dot == std::string_view::npos) return {};
  return to_lower(filename.substr(dot + 1));
}

// More than a few control bytes (or any NUL) in what claims to be text.
bool looks_binary(std::string_view s) {
  size_t control = 0;
  for (unsigned char c : s) {
    if (c == 0) return true;
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b) ++control;
  }
  return control * 20 > s.size();
}

bool is_data_type(std::string_view type) {
  static constexpr std::array<std::string_view, 8> kData = {
      "text/csv",         "application/csv", "application/x-csv", "text/x-csv",
      "application/json", "text/json",       "text/x-json",       "application/x-json"};
  if (std::find(kData.begin(), kData.end(), type) != kData.end()) return true;
  return type.size() > 5 && type.substr(type.size() - 5) == "+json";  // application/stix+json
}

bool is_data_extension(std::string_view ext) {
  return ext == "csv" || ext == "json" || ext == "txt" || ext == "ioc";
}

class Walker {
 public:
  Message message(std::string_view data, const std::string& path, const std::string& label,
                  size_t depth, bool mbox) {
    Message m;
    m.path = path;
    m.label = label;
    Entity e = split_entity(data, mbox);
    for (auto& p : e.problems) m.problems.push_back({label, std::move(p)});
    e.problems.clear();
    m.headers = std::move(e.headers);
    if (const auto* s = m.headers.find("subject")) m.subject = decode_words(*s);
    for (const auto& f : m.headers.fields) {
      if (!iequals(f.name, "from") && !iequals(f.name, "sender") && !iequals(f.name, "reply-to"))
        continue;
      for (auto& d : address_domains(f.value))
        if (std::find(m.sender_domains.begin(), m.sender_domains.end(), d) ==
            m.sender_domains.end())
          m.sender_domains.push_back(std::move(d));
    }
    // RFC 3501: a message's non-multipart body is part 1; a multipart body's children are 1, 2...
    walk(m, Node{m.headers, e.body, join_path(path, 1), path, depth, false, "text/plain"});
    return m;
  }

 private:
  // One entity of the tree: its headers and (still transfer-encoded) body, its part number, the
  // prefix of its children's numbers, its depth, whether its multipart was cut off, and the type
  // it has when it declares none.
  struct Node {
    const Headers& headers;
    std::string_view body;
    std::string self;
    std::string prefix;
    size_t depth = 0;
    bool truncated = false;
    std::string_view default_type;
  };

  // The body after its Content-Transfer-Encoding: a view into the message for the identity
  // encodings (no copy down the nesting), else into `storage`. nullopt: undecodable (noted).
  static std::optional<std::string_view> decode_body(Message& m, const Node& n, Part& part,
                                                     const std::string& cte, bool multipart,
                                                     std::string& storage) {
    std::string_view decoded;
    if (cte.empty() || cte == "7bit" || cte == "8bit" || cte == "binary") {
      decoded = n.body;
    } else if (cte == "quoted-printable") {
      storage = decode_quoted_printable(n.body);
      decoded = storage;
    } else if (cte == "base64") {
      Decoded d = decode_base64(n.body);
      if (!d.ok() && !(n.truncated && d.truncated)) {
        m.problems.push_back({part.label(), "invalid base64: " + d.error});
        return std::nullopt;
      }
      storage = std::move(d.data);
      decoded = storage;
    } else {
      decoded = n.body;
      part.note = "unknown transfer encoding '" + printable(cte, 40) + "', read as is";
    }
    if (n.truncated && !multipart) {
      // The last line of a cut-off part may be a cut-off indicator (a sha256 cut to 40 hex
      // digits would read as a sha1): only whole lines are kept.
      auto nl = decoded.rfind('\n');
      decoded = decoded.substr(0, nl == std::string_view::npos ? 0 : nl + 1);
    }
    return decoded;
  }

  void walk(Message& m, const Node& n) {
    static const std::string kEmpty;
    const std::string* ct_raw = n.headers.find("content-type");
    HeaderValue ct = parse_header_value(ct_raw ? *ct_raw : kEmpty);
    std::string type = ct.value;
    if (type.find('/') == std::string::npos) type = std::string(n.default_type);
    const std::string* cd_raw = n.headers.find("content-disposition");
    HeaderValue cd = parse_header_value(cd_raw ? *cd_raw : kEmpty);

    Part part;
    part.path = n.self;
    part.content_type = type;
    if (auto f = cd.param("filename")) part.filename = safe_filename(*f);
    if (part.filename.empty())
      if (auto name = ct.param("name")) part.filename = safe_filename(*name);
    std::string label = part.label();
    bool multipart = type.rfind("multipart/", 0) == 0;
    if (n.truncated && !multipart)
      m.problems.push_back({label, "truncated: the closing boundary of its multipart is missing"});
    if (n.depth >= kMaxDepth) {
      m.problems.push_back(
          {label, "nested more than " + std::to_string(kMaxDepth) + " levels deep; not read"});
      return;
    }

    // Transfer encoding (also applied to multipart and message bodies: forbidden, but sent).
    std::string cte;
    if (const auto* v = n.headers.find("content-transfer-encoding")) {
      std::string_view t = trim(*v);
      cte = to_lower(t.substr(0, t.find_first_of(" \t(;")));
    }
    std::string storage;  // outlives every view into it, children's included
    auto decoded = decode_body(m, n, part, cte, multipart, storage);
    if (!decoded) return;

    if (type == "multipart/encrypted") return encrypted(m, std::move(part), "OpenPGP (PGP/MIME)");
    if (type == "multipart/signed") {
      auto protocol = to_lower(ct.param("protocol").value_or(""));
      note_signature(m, protocol.find("pkcs7") != std::string::npos ? "S/MIME" : "OpenPGP");
    }
    if (type == "application/pkcs7-mime" || type == "application/x-pkcs7-mime") {
      auto smime = to_lower(ct.param("smime-type").value_or(""));
      if (smime == "signed-data" || smime == "certs-only") {
        note_signature(m, "S/MIME");
        // Opaque-signed: the signed MIME entity is inside the CMS SignedData; read it as an
        // embedded message (the signature itself is not verified, as for every signed form).
        std::string inner;
        std::string why = smime == "certs-only" ? "certificates only, no content"
                                                : signed_data_content(*decoded, inner);
        if (why.empty()) {
          part.kind = Part::Kind::kMessage;
          part.message =
              std::make_shared<const Message>(message(inner, n.self, label, n.depth + 1, false));
          m.parts.push_back(std::move(part));
          return;
        }
        part.kind = Part::Kind::kSkipped;
        part.note = "S/MIME signed data not read (" + why +
                    "; extract it with `openssl cms -verify -noverify -in FILE -out plain.eml`)";
        m.parts.push_back(std::move(part));
        return;
      }
      return encrypted(m, std::move(part), "S/MIME");
    }
    if (multipart) return walk_multipart(m, n, ct, type, label, *decoded);
    if (type == "message/rfc822" || type == "message/global") {
      part.kind = Part::Kind::kMessage;
      part.message =
          std::make_shared<const Message>(message(*decoded, n.self, label, n.depth + 1, false));
      m.parts.push_back(std::move(part));
      return;
    }
    if (trim(*decoded).empty()) return;  // nothing to read, nothing worth a note
    read_leaf(m, std::move(part), ct, cd, cte, *decoded);
  }

  static void encrypted(Message& m, Part part, const std::string& scheme) {
    part.kind = Part::Kind::kEncrypted;
    part.note = scheme;
    m.parts.push_back(std::move(part));
  }

  static void note_signature(Message& m, const std::string& scheme) {
    if (std::find(m.signatures.begin(), m.signatures.end(), scheme) == m.signatures.end())
      m.signatures.push_back(scheme);
  }

  void walk_multipart(Message& m, const Node& n, const HeaderValue& ct, const std::string& type,
                      const std::string& label, std::string_view decoded) {
    auto boundary = ct.param("boundary");
    if (!boundary || boundary->empty()) {
      m.problems.push_back({label, type + " without a boundary parameter"});
      return;
    }
    Multipart mp = split_multipart(decoded, *boundary);
    if (mp.parts.empty()) {
      m.problems.push_back(
          {label, type + ": boundary \"" + printable(*boundary, 80) + "\" not found (no part)"});
      return;
    }
    std::string_view child_default = type == "multipart/digest" ? "message/rfc822" : "text/plain";
    for (size_t i = 0; i < mp.parts.size(); ++i) {
      std::string cpath = join_path(n.prefix, i + 1);
      Entity ce = split_entity(mp.parts[i]);
      bool last = i + 1 == mp.parts.size();
      for (auto& p : ce.problems) m.problems.push_back({cpath, std::move(p)});
      walk(m,
           Node{ce.headers, ce.body, cpath, cpath, n.depth + 1, last && !mp.closed, child_default});
    }
    if (mp.closed && n.truncated)
      m.problems.push_back({label, "truncated: the closing boundary of its multipart is missing"});
  }

  // A leaf part: text, HTML or data is read into part.text; anything else is skipped with a note.
  void read_leaf(Message& m, Part part, const HeaderValue& ct, const HeaderValue& cd,
                 const std::string& cte, std::string_view decoded) {
    const std::string type = part.content_type;
    const std::string label = part.label();
    bool attachment = cd.value == "attachment" || !part.filename.empty();
    std::string ext = extension_of(part.filename);
    std::string main_type = type.substr(0, type.find('/'));
    auto skip = [&](std::string why) {
      part.kind = Part::Kind::kSkipped;
      part.note = std::move(why);
      m.parts.push_back(std::move(part));
    };
    bool declared_text = main_type == "text" || is_data_type(type);
    if (type == "text/rfc822-headers") {
      // A bounce report quoting the returned message's headers: transport, never indicators.
      return skip(type + " part skipped (mail headers)");
    } else if (type == "text/html") {
      part.kind = Part::Kind::kHtml;
    } else if (is_data_type(type) || (attachment && main_type == "text") ||
               is_data_extension(ext)) {
      // Only the name says it is text: a binary file behind it is skipped, not an error.
      if (!declared_text && looks_binary(decoded))
        return skip(type + " attachment skipped (binary data despite its name)");
      part.kind = Part::Kind::kData;
    } else if (main_type == "text") {
      part.kind = Part::Kind::kText;
    } else {
      return skip(type + (attachment ? " attachment" : " part") +
                  " skipped (not text, CSV or JSON)");
    }

    auto charset = ct.param("charset");
    Utf8 u = to_utf8(decoded, charset ? *charset : std::string());
    if (!u.converted) {
      std::string note = "charset '" + printable(*charset, 40) + "' is not available, read as is";
      part.note = part.note.empty() ? note : part.note + "; " + note;
    }
    std::string text = std::move(u.text);
    if (part.kind != Part::Kind::kData && looks_binary(text)) {
      m.problems.push_back({label, type + " part holds binary data" +
                                       (cte == "base64" ? " (is it really base64?)" : "")});
      return;
    }
    if (part.kind == Part::Kind::kHtml) {
      text = html_to_text(text);
    } else if (part.kind == Part::Kind::kText) {
      if (auto f = ct.param("format"); f && iequals(*f, "flowed")) {
        auto delsp = ct.param("delsp");
        text = decode_flowed(text, delsp && iequals(*delsp, "yes"));
      }
      if (has_pgp_message(text)) return encrypted(m, std::move(part), "OpenPGP (inline armor)");
      if (is_clearsigned(text)) note_signature(m, "OpenPGP");
      text = strip_pgp_armor(text);
    } else if (part.kind == Part::Kind::kData && has_pgp_message(text)) {
      return encrypted(m, std::move(part), "OpenPGP (inline armor)");
    }
    part.text = std::move(text);
    m.parts.push_back(std::move(part));
  }
};

}  // namespace

// --- headers ---

const std::string* Headers::find(std::string_view name) const {
  for (const auto& f : fields)
    if (iequals(f.name, name)) return &f.value;
  return nullptr;
}

Entity split_entity(std::string_view data, bool mbox) {
  Entity e;
  size_t pos = 0;
  if (mbox && data.substr(0, 5) == "From ") pos = next_line(data, 0).next;
  bool dropping = false;  // continuation lines of a dropped field
  size_t number = 0;
  auto finish = [&e] {
    for (auto& f : e.headers.fields) f.value = std::string(trim(f.value));
  };
  while (pos < data.size()) {
    Line l = next_line(data, pos);
    std::string_view line = line_text(data, l);
    if (line.empty()) {
      e.body = data.substr(l.next);
      finish();
      return e;
    }
    if (is_wsp(line[0])) {
      if (!dropping && !e.headers.fields.empty()) {
        Field& f = e.headers.fields.back();
        if (f.value.size() + line.size() > kMaxHeaderField) {
          e.problems.push_back("header field " + std::to_string(number) + " (" +
                               printable(f.name, 40) + ") is longer than " +
                               std::to_string(kMaxHeaderField) + " bytes");
          e.headers.fields.pop_back();
          dropping = true;
        } else {
          f.value += line;  // unfolding removes the line break and keeps the blank
        }
      }
      pos = l.next;
      continue;
    }
    auto colon = line.find(':');
    std::string_view name =
        colon == std::string_view::npos ? std::string_view{} : line.substr(0, colon);
    while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);  // obsolete "Subject :"
    bool valid = !name.empty() &&
                 std::all_of(name.begin(), name.end(), [](char c) { return c > 32 && c < 127; });
    if (!valid) {
      // Not a header field: the header section ended without its empty line.
      e.body = data.substr(l.begin);
      finish();
      return e;
    }
    ++number;
    dropping = false;
    if (line.size() > kMaxHeaderField) {
      e.problems.push_back("header field " + std::to_string(number) + " (" + printable(name, 40) +
                           ") is longer than " + std::to_string(kMaxHeaderField) + " bytes");
      dropping = true;
    } else {
      e.headers.fields.push_back({std::string(name), std::string(line.substr(colon + 1))});
    }
    pos = l.next;
  }
  e.body = {};
  finish();
  return e;
}

std::optional<std::string> HeaderValue::param(std::string_view name) const {
  for (const auto& [n, v] : params)
    if (iequals(n, name)) return v;
  return std::nullopt;
}

HeaderValue parse_header_value(std::string_view raw) {
  std::string_view s = raw;
  HeaderValue hv;
  size_t i = skip_cfws(s, 0);
  std::string value;
  while (i < s.size() && s[i] != ';') {
    if (s[i] == '(') {
      i = skip_cfws(s, i);
    } else if (s[i] == '"') {
      value += read_quoted(s, i);
    } else if (is_space(s[i])) {
      ++i;
    } else {
      value += s[i++];
    }
  }
  hv.value = to_lower(value);

  std::vector<RawParam> params;
  while (i < s.size()) {
    if (s[i] != ';') {  // garbage after a parameter value: skip to the next ';'
      ++i;
      continue;
    }
    i = skip_cfws(s, i + 1);
    size_t start = i;
    while (i < s.size() && s[i] != '=' && s[i] != ';' && !is_space(s[i]) && s[i] != '(') ++i;
    std::string name = to_lower(s.substr(start, i - start));
    i = skip_cfws(s, i);
    if (name.empty() || i >= s.size() || s[i] != '=') continue;
    i = skip_cfws(s, i + 1);
    RawParam p;
    p.name = std::move(name);
    if (i < s.size() && s[i] == '"') {
      p.value = read_quoted(s, i);
    } else {
      size_t vs = i;
      while (i < s.size() && s[i] != ';' && !is_space(s[i]) && s[i] != '(') ++i;
      p.value = std::string(s.substr(vs, i - vs));
    }
    params.push_back(std::move(p));
    i = skip_cfws(s, i);
  }
  hv.params = join_params(params);
  return hv;
}

namespace {

// The next position at or after `from` where `found` holds, remembered: asked with positions that
// only grow, the whole string is scanned once however many times the question is asked.
template <typename Pred>
class NextOf {
 public:
  NextOf(std::string_view s, Pred found) : s_(s), found_(found) {}
  size_t operator()(size_t from) {
    if (from <= at_ && from >= asked_) return at_;
    asked_ = from;
    at_ = std::string_view::npos;
    for (size_t i = from; i < s_.size(); ++i)
      if (found_(s_, i)) {
        at_ = i;
        break;
      }
    return at_;
  }

 private:
  std::string_view s_;
  Pred found_;
  size_t asked_ = std::string_view::npos;
  size_t at_ = std::string_view::npos;
};

// "=?charset?q?text?=" at i: charset and text, or nothing. An encoded word holds no blank
// (RFC 2047 section 5), so its end is searched only up to the next blank.
template <typename End, typename Blank>
std::optional<std::string> encoded_word(std::string_view raw, size_t i, End& end_of, Blank& blank,
                                        size_t& next) {
  std::string_view head = raw.substr(i + 2, 78);  // a charset of fewer than 78 bytes
  size_t q = head.find('?');
  if (q == std::string_view::npos || q == 0 || i + 2 + q + 2 >= raw.size()) return std::nullopt;
  size_t cs_end = i + 2 + q;
  if (raw[cs_end + 2] != '?') return std::nullopt;
  char enc = static_cast<char>(std::tolower(static_cast<unsigned char>(raw[cs_end + 1])));
  if (enc != 'q' && enc != 'b') return std::nullopt;
  std::string_view charset = raw.substr(i + 2, cs_end - i - 2);
  if (std::any_of(charset.begin(), charset.end(), is_space)) return std::nullopt;
  size_t text_start = cs_end + 3;
  size_t text_end = end_of(text_start);
  if (text_end == std::string_view::npos || blank(text_start) < text_end) return std::nullopt;
  std::string_view text = raw.substr(text_start, text_end - text_start);
  auto bytes = enc == 'q' ? decode_q_word(text) : decode_b_word(text);
  if (!bytes) return std::nullopt;
  next = text_end + 2;
  return to_utf8(*bytes, charset).text;
}

}  // namespace

std::string decode_words(std::string_view raw) {
  std::string out;
  std::string pending;  // blanks after the last encoded word: dropped if another word follows
  bool after_word = false;
  NextOf end_of(raw, [](std::string_view s, size_t i) {
    return s[i] == '?' && i + 1 < s.size() && s[i + 1] == '=';
  });
  NextOf blank(raw, [](std::string_view s, size_t i) { return is_space(s[i]); });
  size_t i = 0;
  while (i < raw.size()) {
    if (raw[i] == '=' && i + 1 < raw.size() && raw[i + 1] == '?') {
      size_t next = 0;
      if (auto word = encoded_word(raw, i, end_of, blank, next)) {
        if (!after_word) out += pending;
        pending.clear();
        out += *word;
        after_word = true;
        i = next;
        continue;
      }
    }
    if (is_space(raw[i])) {
      pending += raw[i++];
      continue;
    }
    out += pending;
    pending.clear();
    out += raw[i++];
    after_word = false;
  }
  out += pending;
  return out;
}

std::vector<std::string> address_domains(std::string_view raw) {
  std::string_view s = raw;
  std::vector<std::string> out;
  std::string plain;  // outside quotes, comments and angle brackets
  std::string angle;
  bool saw_angle = false;
  auto finish = [&] {
    std::string_view addr = trim(saw_angle ? std::string_view(angle) : std::string_view(plain));
    auto at = addr.rfind('@');
    if (at != std::string_view::npos) {
      std::string_view dom = trim(addr.substr(at + 1));
      if (!dom.empty() && dom.front() == '[') dom = {};  // domain literal: an address, no domain
      if (auto c = canonical_domain(dom, false))
        if (std::find(out.begin(), out.end(), *c) == out.end()) out.push_back(*c);
    }
    plain.clear();
    angle.clear();
    saw_angle = false;
  };
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      read_quoted(s, i);  // a display name, even one that looks like an address
    } else if (c == '(') {
      i = skip_cfws(s, i);
    } else if (c == '<') {
      size_t end = s.find('>', i + 1);
      if (end == std::string_view::npos) end = s.size();
      angle = std::string(s.substr(i + 1, end - i - 1));
      if (auto colon = angle.rfind(':'); colon != std::string::npos)
        angle.erase(0, colon + 1);  // obsolete source route "<@relay:user@host>"
      saw_angle = true;
      i = end < s.size() ? end + 1 : end;
    } else if (c == ',' || c == ';') {
      finish();
      ++i;
    } else if (c == ':' && !saw_angle) {
      plain.clear();  // "group name:" precedes the group's addresses
      ++i;
    } else {
      plain += c;
      ++i;
    }
  }
  finish();
  return out;
}

// --- transfer encodings ---

std::string decode_quoted_printable(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t pos = 0;
  while (pos < in.size()) {
    Line l = next_line(in, pos);
    std::string_view line = line_text(in, l);
    // RFC 2045 6.7 (3): trailing blanks were added in transport and are deleted.
    while (!line.empty() && is_wsp(line.back())) line.remove_suffix(1);
    bool soft = !line.empty() && line.back() == '=';
    if (soft) line.remove_suffix(1);
    for (size_t i = 0; i < line.size(); ++i) {
      int hi = 0, lo = 0;
      if (line[i] == '=' && i + 2 < line.size() && (hi = hex_value(line[i + 1])) >= 0 &&
          (lo = hex_value(line[i + 2])) >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
      } else {
        out += line[i];
      }
    }
    if (!soft && l.has_newline) out += '\n';
    pos = l.next;
  }
  return out;
}

Decoded decode_base64(std::string_view in) {
  Decoded d;
  // OpenSSL stops silently at '-' (its PEM end marker) and rejects other bytes without saying
  // where: find the first byte outside the alphabet ourselves, for the message and the limit.
  size_t limit = in.size();
  size_t line = 1;
  size_t symbols = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\n') {
      ++line;
    } else if (is_alpha(c) || is_digit(c) || c == '+' || c == '/' || c == '=') {
      ++symbols;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      d.error = "invalid character '" + printable(std::string_view(&in[i], 1)) + "' at line " +
                std::to_string(line);
      limit = i;
      break;
    }
  }

  std::unique_ptr<EVP_ENCODE_CTX, decltype(&EVP_ENCODE_CTX_free)> ctx(EVP_ENCODE_CTX_new(),
                                                                      &EVP_ENCODE_CTX_free);
  if (!ctx) throw std::bad_alloc();
  EVP_DecodeInit(ctx.get());
  constexpr size_t kChunk = 1 << 20;
  std::string buf;
  bool failed = false;
  for (size_t pos = 0; pos < limit && !failed; pos += kChunk) {
    size_t n = std::min(kChunk, limit - pos);
    buf.resize(n / 4 * 3 + 80);
    int outl = 0;
    int r = EVP_DecodeUpdate(ctx.get(), reinterpret_cast<unsigned char*>(buf.data()), &outl,
                             reinterpret_cast<const unsigned char*>(in.data() + pos),
                             static_cast<int>(n));
    if (outl > 0) d.data.append(buf.data(), static_cast<size_t>(outl));
    if (r < 0) failed = true;
  }
  if (failed) {
    if (d.error.empty()) {
      // The alphabet was fine, so the padding was not: '=' inside the data or too many of them.
      size_t eq = in.find('=');
      size_t eq_line = 1 + static_cast<size_t>(std::count(in.begin(), in.begin() + eq, '\n'));
      d.error = "misplaced '=' padding at line " + std::to_string(eq_line);
    }
    return d;
  }
  buf.resize(80);
  int outl = 0;
  if (EVP_DecodeFinal(ctx.get(), reinterpret_cast<unsigned char*>(buf.data()), &outl) < 0) {
    if (d.error.empty()) {
      // OpenSSL drops the whole last block; decode again up to the last complete group so a
      // cut-off attachment gives all it can.
      size_t whole = symbols / 4 * 4;
      size_t cut = 0;
      for (size_t seen = 0; cut < limit && seen < whole; ++cut)
        if (!is_space(in[cut])) ++seen;
      Decoded prefix = decode_base64(in.substr(0, cut));
      if (prefix.ok()) d.data = std::move(prefix.data);
      d.error = "truncated: " + std::to_string(symbols) +
                " base64 characters are not a whole number of 4-character groups";
      d.truncated = true;
    }
  } else if (outl > 0) {
    d.data.append(buf.data(), static_cast<size_t>(outl));
  }
  return d;
}

// --- charsets ---

Utf8 to_utf8(std::string_view bytes, std::string_view charset) {
  std::string cs = normalize_charset(charset);
  static constexpr std::array<std::string_view, 10> kPassThrough = {
      "",          "us-ascii",     "ascii",     "utf-8", "utf8", "ansi_x3.4-1968",
      "iso646-us", "unknown-8bit", "x-unknown", "us"};
  if (std::find(kPassThrough.begin(), kPassThrough.end(), cs) != kPassThrough.end())
    return {std::string(bytes), true};
  if (std::all_of(bytes.begin(), bytes.end(), [](char c) { return (c & 0x80) == 0; }) &&
      cs.find("16") == std::string::npos && cs.find("32") == std::string::npos &&
      cs.find("ucs") == std::string::npos && cs.find("2022") == std::string::npos &&
      cs.find("utf-7") == std::string::npos)
    return {std::string(bytes), true};  // ASCII reads the same in every ASCII-based charset
  // Mailers label windows-1252 text as latin1; it differs only in 0x80..0x9F, which latin1
  // uses for control codes nobody writes (the WHATWG encoding standard decodes it the same way).
  static constexpr std::array<std::string_view, 14> kCp1252 = {
      "windows-1252", "cp1252",     "x-cp1252",   "cp-1252",        "iso-8859-1",
      "iso8859-1",    "iso_8859-1", "latin1",     "latin-1",        "l1",
      "cp819",        "ibm819",     "iso-ir-100", "iso_8859-1:1987"};
  if (std::find(kCp1252.begin(), kCp1252.end(), cs) != kCp1252.end())
    return {cp1252_to_utf8(bytes), true};
  bool name_ok = std::all_of(cs.begin(), cs.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.' || c == ':';
  });
  if (name_ok && cs.size() < 64)
    if (auto cd = Iconv::open("UTF-8", cs)) return {cd->convert(bytes), true};
  return {std::string(bytes), false};
}

// --- text bodies ---

std::string html_to_text(std::string_view h) {
  std::string out;
  out.reserve(h.size());
  size_t i = 0;
  while (i < h.size()) {
    char c = h[i];
    if (c == '&') {
      i = decode_entity(h, i, out);
      continue;
    }
    if (c != '<') {
      out += c;
      ++i;
      continue;
    }
    if (h.substr(i, 4) == "<!--") {
      size_t end = h.find("-->", i + 4);
      i = end == std::string_view::npos ? h.size() : end + 3;
      continue;
    }
    char n1 = i + 1 < h.size() ? h[i + 1] : '\0';
    if (!(is_alpha(n1) || n1 == '/' || n1 == '!' || n1 == '?')) {
      out += c;  // a lone '<' in text
      ++i;
      continue;
    }
    // A tag: its name, then attributes up to the '>' that is outside quotes.
    size_t j = i + 1;
    bool closing = false;
    if (j < h.size() && h[j] == '/') {
      closing = true;
      ++j;
    }
    size_t ns = j;
    while (j < h.size() && !is_space(h[j]) && h[j] != '>' && h[j] != '/') ++j;
    std::string name = to_lower(h.substr(ns, j - ns));
    std::vector<std::string> kept;
    while (j < h.size() && h[j] != '>') {
      if (is_space(h[j]) || h[j] == '/') {
        ++j;
        continue;
      }
      size_t as = j;
      while (j < h.size() && !is_space(h[j]) && h[j] != '=' && h[j] != '>' && h[j] != '/') ++j;
      std::string attr = to_lower(h.substr(as, j - as));
      if (j == as) {  // a stray '=' or quote
        ++j;
        continue;
      }
      while (j < h.size() && is_space(h[j])) ++j;
      if (j >= h.size() || h[j] != '=') continue;
      ++j;
      while (j < h.size() && is_space(h[j])) ++j;
      std::string_view value;
      if (j < h.size() && (h[j] == '"' || h[j] == '\'')) {
        char q = h[j];
        size_t end = h.find(q, j + 1);
        if (end == std::string_view::npos) end = h.size();
        value = h.substr(j + 1, end - j - 1);
        j = end < h.size() ? end + 1 : end;
      } else {
        size_t vs = j;
        while (j < h.size() && !is_space(h[j]) && h[j] != '>') ++j;
        value = h.substr(vs, j - vs);
      }
      if (attr == "href" || attr == "src") {
        std::string v = decode_entities(trim(value));
        // cid: and data: name inline content, not places on the network.
        if (!istarts_with(v, "cid:") && !istarts_with(v, "data:") && !v.empty())
          kept.push_back(std::move(v));
      }
    }
    i = j < h.size() ? j + 1 : h.size();
    if (!closing && (name == "script" || name == "style")) {
      size_t end = ifind(h, "</" + name, i);
      if (end == std::string_view::npos) {
        i = h.size();
      } else {
        size_t gt = h.find('>', end);
        i = gt == std::string_view::npos ? h.size() : gt + 1;
      }
      continue;
    }
    // Links of the document head (stylesheets, icons) are not what the sender pointed at.
    if (name != "link" && name != "meta" && name != "base") {
      for (const auto& v : kept) {
        out += ' ';
        out += v;
        out += ' ';
      }
    }
    if (is_block_tag(name))
      out += '\n';
    else if (!closing && (name == "td" || name == "th"))
      out += '\t';
  }
  return out;
}

std::string decode_flowed(std::string_view text, bool delsp) {
  std::string out;
  std::string para;
  size_t para_depth = 0;
  bool open = false;  // para holds flowed lines waiting for their end
  size_t pos = 0;
  while (pos < text.size()) {
    Line l = next_line(text, pos);
    std::string_view line = line_text(text, l);
    size_t depth = 0;
    while (depth < line.size() && line[depth] == '>') ++depth;
    std::string_view content = line.substr(depth);
    if (!content.empty() && content[0] == ' ') content.remove_prefix(1);  // space-stuffing
    bool flowed = !content.empty() && content.back() == ' ' && content != "-- ";
    if (open && depth != para_depth) {  // a quote level change ends the paragraph
      out += para;
      out += '\n';
      para.clear();
      open = false;
    }
    if (!open) {
      para.assign(depth, '>');
      if (depth > 0) para += ' ';
      para_depth = depth;
    }
    if (flowed && delsp) content.remove_suffix(1);
    para += content;
    if (flowed) {
      open = true;
    } else {
      out += para;
      if (l.has_newline) out += '\n';
      para.clear();
      open = false;
    }
    pos = l.next;
  }
  if (open) out += para;
  return out;
}

std::string strip_pgp_armor(std::string_view text) {
  enum class State { kNone, kSignedHeader, kSigned, kBlock };
  State state = State::kNone;
  State after_block = State::kNone;
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    Line l = next_line(text, pos);
    std::string_view line = line_text(text, l);
    std::string_view t = trim(line);
    std::string_view kept = line;
    if (state == State::kBlock) {
      if (t.rfind("-----END PGP ", 0) == 0) state = after_block;
      kept = {};
    } else if (t == "-----BEGIN PGP SIGNED MESSAGE-----") {
      state = State::kSignedHeader;
      kept = {};
    } else if (t.rfind("-----BEGIN PGP ", 0) == 0) {
      after_block = State::kNone;
      state = State::kBlock;
      kept = {};
    } else if (state == State::kSignedHeader) {
      if (t.empty()) state = State::kSigned;
      kept = {};  // "Hash: SHA256"
    } else if (state == State::kSigned && line.rfind("- ", 0) == 0) {
      kept = line.substr(2);  // RFC 4880 7.1 dash-escaping
    }
    out += kept;
    if (l.has_newline) out += '\n';
    pos = l.next;
  }
  return out;
}

bool has_armor_line(std::string_view text, std::string_view marker) {
  for (size_t pos = text.find(marker); pos != std::string_view::npos;
       pos = text.find(marker, pos + 1)) {
    bool line_start = pos == 0 || text[pos - 1] == '\n';
    size_t end = pos + marker.size();
    bool line_end = end == text.size() || text[end] == '\n' || text[end] == '\r';
    if (line_start && line_end) return true;
  }
  return false;
}

bool has_pgp_message(std::string_view text) {
  return has_armor_line(text, "-----BEGIN PGP MESSAGE-----");
}

bool is_clearsigned(std::string_view text) {
  return has_armor_line(text, "-----BEGIN PGP SIGNED MESSAGE-----");
}

// --- multipart ---

Multipart split_multipart(std::string_view body, std::string_view boundary) {
  Multipart mp;
  std::string delim = "--" + std::string(boundary);
  size_t part_start = std::string_view::npos;
  size_t pos = 0;
  while (pos < body.size()) {
    Line l = next_line(body, pos);
    std::string_view line = line_text(body, l);
    if (line.size() >= delim.size() && line.substr(0, delim.size()) == delim) {
      std::string_view rest = line.substr(delim.size());
      bool close = rest.substr(0, 2) == "--";
      if (close) rest.remove_prefix(2);
      if (trim(rest).empty()) {  // else a longer boundary that starts with ours
        if (part_start != std::string_view::npos) {
          // The line break before a delimiter belongs to the delimiter (RFC 2046 5.1.1).
          size_t end = l.begin;
          if (end > part_start && body[end - 1] == '\n') --end;
          if (end > part_start && body[end - 1] == '\r') --end;
          mp.parts.push_back(body.substr(part_start, end - part_start));
        }
        if (close) {
          mp.closed = true;
          return mp;
        }
        part_start = l.next;
      }
    }
    pos = l.next;
  }
  if (part_start != std::string_view::npos) mp.parts.push_back(body.substr(part_start));
  return mp;
}

// --- the tree ---

std::string Part::label() const {
  return filename.empty() ? path : path + "/" + filename;
}

std::string Message::header_label() const {
  return path.empty() ? "HEADER" : path + ".HEADER";
}

Message parse_message(std::string_view data) {
  Walker w;
  return w.message(data, "", "", 0, true);
}

}  // namespace mime

// --- indicators from the decoded tree ---

namespace {

bool at_sender_domain(const Indicator& ind, const std::vector<std::string>& domains) {
  std::string host;
  switch (ind.type) {
    case Type::kDomain:
      host = ind.value;
      break;
    case Type::kEmail:
      host = ind.value.substr(ind.value.rfind('@') + 1);
      break;
    case Type::kUrl:
      if (auto h = url_host(ind.value); h && h->type == Type::kDomain) host = h->value;
      break;
    default:
      return false;
  }
  return std::any_of(domains.begin(), domains.end(),
                     [&](const std::string& d) { return in_domain(host, d); });
}

void read_message(const mime::Message& m, const Source& src, const ReadOptions& opts, IocSet& out) {
  auto at = [&src](const std::string& part) {
    Source s;
    s.file = src.file;
    s.part = src.part.empty() ? part : part.empty() ? src.part : src.part + "/" + part;
    return s;
  };
  IocSet tmp;
  for (const auto& p : m.problems) input_problem(opts, tmp, at(p.part).display() + ": " + p.reason);

  // The Subject is where a CSIRT puts the case tag and the TLP label; it is the one header
  // read for indicators. Every other header is transport, never an indicator.
  std::string own_tlp;
  std::string body_tlp;
  std::string own_case;
  std::string body_case;
  if (!trim(m.subject).empty()) {
    read_text(m.subject, at(m.header_label()), tmp);
    if (auto t = find_tlp(m.subject)) own_tlp = *t;
    if (auto c = find_case_tag(m.subject)) own_case = *c;
  }
  for (const auto& part : m.parts) {
    Source ps = at(part.label());
    if (!part.note.empty()) tmp.notes.push_back(ps.display() + ": " + part.note);
    switch (part.kind) {
      case mime::Part::Kind::kText:
      case mime::Part::Kind::kHtml:
        read_text(part.text, ps, tmp, opts.contexts);
        if (auto t = find_tlp(part.text)) body_tlp = stricter_tlp(body_tlp, *t);
        if (body_case.empty())
          if (auto c = find_case_tag(part.text)) body_case = *c;
        break;
      case mime::Part::Kind::kData:
        try {
          read_input(part.text, ps, opts, tmp);
        } catch (const Error& e) {
          input_problem(opts, tmp, e.what());
        }
        break;
      case mime::Part::Kind::kMessage: {
        IocSet inner;
        read_message(*part.message, src, opts, inner);
        tmp.merge(std::move(inner));
        break;
      }
      case mime::Part::Kind::kSkipped:
        break;
      case mime::Part::Kind::kEncrypted:
        // Ciphertext never yields indicators, and reading around it would be a false all-clear.
        input_problem(opts, tmp, encrypted_message(ps, part.note));
        break;
    }
  }
  for (const auto& scheme : m.signatures)
    tmp.notes.push_back(at(m.label).display() + ": signed (" + scheme +
                        "); forage read the signed text and did not verify the signature");

  std::string tlp = stricter_tlp(own_tlp.empty() ? body_tlp : own_tlp, tmp.tlp);
  std::string case_tag = !own_case.empty()    ? own_case
                         : !body_case.empty() ? body_case
                                              : tmp.case_tag;

  // The sender's own domain (its contact addresses, its wiki) is in every broadcast and is
  // never an indicator.
  IocSet kept;
  size_t dropped = 0;
  for (auto& ind : tmp.indicators) {
    if (at_sender_domain(ind, m.sender_domains)) {
      ++dropped;
      continue;
    }
    ind.tlp = stricter_tlp(ind.tlp, tlp);
    kept.add(std::move(ind));
  }
  kept.tlp = tlp;
  kept.case_tag = case_tag;
  kept.sources = std::move(tmp.sources);
  kept.notes = std::move(tmp.notes);
  kept.errors = std::move(tmp.errors);
  if (dropped > 0) {
    std::string domains;
    for (const auto& d : m.sender_domains) domains += (domains.empty() ? "" : ", ") + d;
    kept.notes.push_back(at(m.label).display() + ": " + std::to_string(dropped) +
                         " value(s) at the sender's own domain (" + domains + ") not reported");
  }
  out.merge(std::move(kept));
}

}  // namespace

// "F: part 2 is encrypted with OpenPGP (PGP/MIME): decrypt it first, e.g. `gpg --decrypt F >
// plain.eml`".
std::string encrypted_message(const Source& part, const std::string& scheme) {
  const std::string& f = part.file;
  std::string how =
      scheme.rfind("S/MIME", 0) == 0
          ? "`openssl cms -decrypt -in " + f + " -recip CERT.pem -inkey KEY.pem > plain.eml`"
          : "`gpg --decrypt " + f + " > plain.eml`";
  std::string where = part.part.empty() ? f : f + ": part " + part.part;
  return where + " is encrypted with " + scheme + ": decrypt it first, e.g. " + how;
}

void read_email(std::string_view data, const Source& src, const ReadOptions& opts, IocSet& out) {
  // An attachment detected as an e-mail comes back here through read_input(), outside the
  // walker's depth count: this count bounds that recursion too.
  static thread_local size_t nesting = 0;
  if (nesting >= mime::kMaxDepth) {
    input_problem(opts, out,
                  src.display() + ": e-mails nested more than " + std::to_string(mime::kMaxDepth) +
                      " levels deep; not read");
    return;
  }
  struct Guard {
    Guard() { ++nesting; }
    ~Guard() { --nesting; }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
  } guard;
  mime::Message m = mime::parse_message(data);
  read_message(m, src, opts, out);
}

}  // namespace forage::ioc
