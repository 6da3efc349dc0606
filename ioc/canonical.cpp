#include "ioc/canonical.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <mutex>
#include <unordered_set>

#include "common/embedded.h"
#include "common/strings.h"
#include "ioc/refang.h"

FORAGE_EMBEDDED_DECLARE(public_suffix_list)

namespace forage::ioc {
namespace {

// ASCII only, without the locale look-ups of <cctype>: these run on every candidate token.
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
  return is_digit(c) || is_alpha(c);
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Heterogeneous look-up (C++20): a string_view finds a std::string key without a copy.
struct ViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringSet = std::unordered_set<std::string, ViewHash, std::equal_to<>>;

// Looks `word` up in lower case; words longer than a label never match.
bool contains_lower(const StringSet& set, std::string_view word) {
  char buf[64] = {};
  if (word.size() > sizeof buf) return false;
  for (size_t i = 0; i < word.size(); ++i)
    buf[i] = (word[i] >= 'A' && word[i] <= 'Z') ? static_cast<char>(word[i] + 32) : word[i];
  return set.find(std::string_view(buf, word.size())) != set.end();
}

const StringSet& tlds() {
  static const StringSet set = [] {
    StringSet s;
    for (auto line : split_lines(FORAGE_EMBEDDED(public_suffix_list))) {
      line = trim(line);
      if (line.empty() || line.rfind("//", 0) == 0) continue;
      auto sp = line.find_first_of(" \t");
      if (sp != std::string_view::npos) line = line.substr(0, sp);
      auto dot = line.rfind('.');
      auto tld = dot == std::string_view::npos ? line : line.substr(dot + 1);
      if (!tld.empty() && tld[0] == '!') tld.remove_prefix(1);
      if (!tld.empty() && tld != "*") s.insert(to_lower(tld));
    }
    return s;
  }();
  return set;
}

// Extensions seen on payloads and tools; several are also TLDs (sh, py, pl, zip, so, run, ...),
// which is why a bare "ratatosk.sh" is a file name unless written defanged or with a scheme.
const StringSet& file_extensions() {
  static const StringSet set = {
      "sh",   "bash", "zsh",   "csh",      "py",    "pyc", "pl",   "pm",   "rb",  "php",  "js",
      "jar",  "war",  "class", "elf",      "bin",   "so",  "ko",   "o",    "a",   "out",  "exe",
      "dll",  "sys",  "bat",   "cmd",      "ps1",   "vbs", "msi",  "scr",  "lnk", "hta",  "doc",
      "docx", "docm", "xls",   "xlsx",     "xlsm",  "ppt", "pptx", "pdf",  "rtf", "zip",  "rar",
      "7z",   "gz",   "tgz",   "bz2",      "xz",    "zst", "tar",  "lz4",  "iso", "img",  "dmg",
      "deb",  "rpm",  "apk",   "appimage", "txt",   "log", "conf", "cfg",  "ini", "json", "xml",
      "yml",  "yaml", "csv",   "service",  "timer", "c",   "cpp",  "h",    "go",  "rs",   "lua",
      "run",  "dat",  "tmp",   "bak",      "old",   "pid", "lock", "key",  "pem", "crt",  "p12",
      "pfx",  "ovpn", "mov",   "mp4",      "png",   "jpg", "gif",  "html", "htm", "swf",  "torrent",
  };
  return set;
}

// Dotted decimal; what inet_ntop gives, without its printf machinery (this runs per address).
std::optional<std::string> ipv4_bytes_to_string(const unsigned char* b) {
  std::string out;
  out.reserve(15);
  for (int i = 0; i < 4; ++i) {
    if (i > 0) out += '.';
    unsigned v = b[i];
    if (v >= 100) out += static_cast<char>('0' + v / 100);
    if (v >= 10) out += static_cast<char>('0' + v / 10 % 10);
    out += static_cast<char>('0' + v % 10);
  }
  return out;
}

// The first byte of s that is in `set`, or npos: string_view::find_first_of calls memchr once
// per byte of s, which is slow for the short sets used here.
size_t find_any(std::string_view s, std::string_view set) {
  for (size_t i = 0; i < s.size(); ++i)
    for (char c : set)
      if (s[i] == c) return i;
  return std::string_view::npos;
}

bool parse_ipv4(std::string_view s, unsigned char out[4]) {
  int part = 0;
  size_t i = 0;
  while (part < 4) {
    size_t start = i;
    unsigned value = 0;
    while (i < s.size() && is_digit(s[i]) && i - start < 3)
      value = value * 10 + static_cast<unsigned>(s[i++] - '0');
    if (i == start || value > 255) return false;
    if (i < s.size() && is_digit(s[i])) return false;  // 4+ digits
    out[part++] = static_cast<unsigned char>(value);
    if (part < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

bool parse_ipv6(std::string_view s, unsigned char out[16]) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.empty() || s.size() > 45 || s.find(':') == std::string_view::npos) return false;
  char buf[64];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = 0;
  return inet_pton(AF_INET6, buf, out) == 1;
}

bool valid_label(std::string_view l) {
  if (l.empty() || l.size() > 63 || l.front() == '-' || l.back() == '-') return false;
  for (char c : l)
    if (!(is_alnum(c) || c == '-')) return false;
  return true;
}

}  // namespace

std::optional<std::string> canonical_ipv4(std::string_view s) {
  unsigned char b[4];
  if (!parse_ipv4(s, b)) return std::nullopt;
  return ipv4_bytes_to_string(b);
}

std::optional<std::string> canonical_ipv6(std::string_view s) {
  unsigned char b[16];
  if (!parse_ipv6(s, b)) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(AF_INET6, b, buf, sizeof buf)) return std::nullopt;
  return std::string(buf);
}

std::optional<std::string> canonical_cidr(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos || slash + 1 >= s.size() || s.size() - slash - 1 > 3)
    return std::nullopt;
  auto addr = s.substr(0, slash);
  auto len_s = s.substr(slash + 1);
  unsigned len = 0;
  for (char c : len_s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    len = len * 10 + static_cast<unsigned>(c - '0');
  }
  if (len_s.size() > 1 && len_s[0] == '0') return std::nullopt;
  unsigned char b[16] = {};
  size_t bytes = 0;
  int family = 0;
  if (parse_ipv4(addr, b)) {
    bytes = 4;
    family = AF_INET;
  } else if (parse_ipv6(addr, b)) {
    bytes = 16;
    family = AF_INET6;
  } else {
    return std::nullopt;
  }
  if (len > bytes * 8) return std::nullopt;
  for (size_t bit = len; bit < bytes * 8; ++bit)
    b[bit / 8] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(family, b, buf, sizeof buf)) return std::nullopt;
  return std::string(buf) + "/" + std::to_string(len);
}

bool is_known_tld(std::string_view label) {
  if (label.size() < 2) return false;
  return contains_lower(tlds(), label);
}

bool is_file_extension(std::string_view ext) {
  return contains_lower(file_extensions(), ext);
}

std::optional<std::string> canonical_domain(std::string_view s, bool require_known_tld) {
  std::string_view dv = s;
  if (!dv.empty() && dv.back() == '.') dv.remove_suffix(1);
  if (dv.empty() || dv.size() > 253) return std::nullopt;
  size_t labels = 0;
  size_t start = 0;
  std::string_view last;
  while (true) {
    auto dot = dv.find('.', start);
    auto label =
        dv.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!valid_label(label)) return std::nullopt;
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels < 2) return std::nullopt;
  bool punycode = last.size() > 4 && (last[0] | 0x20) == 'x' && (last[1] | 0x20) == 'n' &&
                  last[2] == '-' && last[3] == '-';
  if (!punycode) {
    for (char c : last)
      if (!is_alpha(c)) return std::nullopt;
    if (last.size() < 2) return std::nullopt;
  }
  if (require_known_tld && !punycode && !is_known_tld(last)) return std::nullopt;
  return to_lower(dv);
}

std::optional<std::string> canonical_email(std::string_view s) {
  auto at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return std::nullopt;
  auto local = s.substr(0, at);
  if (local.front() == '.' || local.back() == '.') return std::nullopt;
  constexpr std::string_view kLocalSpecials = ".!#$%&'*+/=?^_`{|}~-";
  for (char c : local) {
    if (!(is_alnum(c) || kLocalSpecials.find(c) != std::string_view::npos)) return std::nullopt;
  }
  auto domain = canonical_domain(s.substr(at + 1));
  if (!domain) return std::nullopt;
  return to_lower(local) + "@" + *domain;
}

namespace {

struct UrlParts {
  std::string scheme;
  std::string userinfo;
  std::string host;  // canonical, IPv6 without brackets
  Type host_type = Type::kDomain;
  std::string port;
  std::string rest;  // path, query, fragment as written
};

// Schemes seen in broadcasts; stratum+tcp and friends are the mining pools of cryptojacking jobs.
constexpr std::array<std::string_view, 24> kSchemes = {
    "http",   "https",  "ftp",         "ftps",        "sftp",        "tcp",
    "udp",    "ws",     "wss",         "ssh",         "scp",         "smb",
    "ldap",   "ldaps",  "irc",         "ircs",        "git",         "rsync",
    "telnet", "socks5", "stratum+tcp", "stratum+ssl", "stratum+tls", "stratum2+tcp"};

std::optional<UrlParts> parse_url(std::string_view s) {
  auto sep = s.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  UrlParts u;
  u.scheme = to_lower(s.substr(0, sep));
  bool known = false;
  for (auto k : kSchemes) known |= (u.scheme == k);
  if (!known) return std::nullopt;
  auto after = s.substr(sep + 3);
  // A backslash ends the host as it does in browsers ("http://example.com\\bad.doc").
  auto end = find_any(after, "/?#\\");
  auto authority = after.substr(0, end);
  u.rest = end == std::string_view::npos ? "" : std::string(after.substr(end));
  auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    u.userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority;
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    auto tail = authority.substr(close + 1);
    if (!tail.empty()) {
      if (tail[0] != ':') return std::nullopt;
      u.port = std::string(tail.substr(1));
    }
  } else if (std::count(authority.begin(), authority.end(), ':') > 1) {
    host = authority;  // an unbracketed IPv6 literal
  } else {
    auto colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      u.port = std::string(authority.substr(colon + 1));
    }
  }
  for (char c : u.port)
    if (!is_digit(c)) return std::nullopt;
  if (u.port.size() > 5) return std::nullopt;
  if (auto v4 = canonical_ipv4(host)) {
    u.host = *v4;
    u.host_type = Type::kIpv4;
  } else if (auto v6 = canonical_ipv6(host)) {
    u.host = *v6;
    u.host_type = Type::kIpv6;
  } else {
    // "http://example,com/" is a defang seen in the wild: commas in a host name.
    std::optional<std::string> d;
    if (host.find(',') == std::string_view::npos) {
      d = canonical_domain(host);
    } else {
      std::string h(host);
      std::replace(h.begin(), h.end(), ',', '.');
      d = canonical_domain(h);
    }
    if (!d) return std::nullopt;
    u.host = std::move(*d);
  }
  return u;
}

}  // namespace

std::optional<CanonicalUrl> canonical_url_and_host(std::string_view s) {
  auto u = parse_url(s);
  if (!u) return std::nullopt;
  CanonicalUrl c;
  std::string& out = c.url;
  out.reserve(s.size() + 8);
  out += u->scheme;
  out += "://";
  if (!u->userinfo.empty()) (out += u->userinfo) += '@';
  if (u->host_type == Type::kIpv6) {
    ((out += '[') += u->host) += ']';
  } else {
    out += u->host;
  }
  if (!u->port.empty()) (out += ':') += u->port;
  out += u->rest;
  c.host_type = u->host_type;
  c.host = std::move(u->host);
  return c;
}

std::optional<std::string> canonical_url(std::string_view s) {
  auto c = canonical_url_and_host(s);
  if (!c) return std::nullopt;
  return std::move(c->url);
}

std::optional<Indicator> url_host(std::string_view url) {
  auto u = parse_url(url);
  if (!u) return std::nullopt;
  Indicator i;
  i.type = u->host_type;
  i.value = u->host;
  return i;
}

std::optional<Type> hash_type(std::string_view s) {
  for (char c : s)
    if (!is_hex(c)) return std::nullopt;
  switch (s.size()) {
    case 32:
      return Type::kMd5;
    case 40:
      return Type::kSha1;
    case 64:
      return Type::kSha256;
    case 128:
      return Type::kSha512;
    default:
      return std::nullopt;
  }
}

namespace {

constexpr std::array<std::string_view, 15> kDnAttributes = {
    "dc",           "c",      "st",    "l",         "o", "ou", "cn", "uid", "e", "emailaddress",
    "serialnumber", "street", "title", "givenname", "sn"};

bool dn_attribute(std::string_view a) {
  auto l = to_lower(trim(a));
  for (auto k : kDnAttributes)
    if (l == k) return true;
  return false;
}

}  // namespace

std::optional<std::string> canonical_x509_dn(std::string_view s) {
  s = trim(s);
  if (s.size() < 4) return std::nullopt;
  if (s[0] == '/') {
    // OpenSSL one-line form: /DC=ch/DC=cern/OU=Organic Units/CN=fst (spaces inside kept).
    size_t rdns = 0;
    size_t pos = 1;
    while (pos < s.size()) {
      auto next = s.find('/', pos);
      auto rdn =
          s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
      auto eq = rdn.find('=');
      if (eq == std::string_view::npos) {
        if (rdns == 0) return std::nullopt;
        // A '/' inside a value (CN=host/name): belongs to the previous RDN.
      } else if (!dn_attribute(rdn.substr(0, eq))) {
        if (rdns == 0) return std::nullopt;
      } else {
        ++rdns;
      }
      if (next == std::string_view::npos) break;
      pos = next + 1;
    }
    if (rdns < 1) return std::nullopt;
    return std::string(s);
  }
  // RFC 4514-like form: CN=John Doe, O=Example, C=DE (two RDNs at least).
  size_t rdns = 0;
  size_t pos = 0;
  std::string out;
  while (pos < s.size()) {
    // "CN=Doe\, John": an escaped comma belongs to the value (RFC 4514 section 2.4).
    auto comma = pos;
    while (comma < s.size() && s[comma] != ',') comma += s[comma] == '\\' ? 2 : 1;
    if (comma >= s.size()) comma = std::string_view::npos;
    auto rdn =
        trim(s.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    auto eq = rdn.find('=');
    if (eq == std::string_view::npos || !dn_attribute(rdn.substr(0, eq)) || eq + 1 >= rdn.size())
      return std::nullopt;
    if (!out.empty()) out += ", ";
    out += std::string(trim(rdn.substr(0, eq))) + "=" + std::string(trim(rdn.substr(eq + 1)));
    ++rdns;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  if (rdns < 2) return std::nullopt;
  return out;
}

bool in_domain(std::string_view host, std::string_view domain) {
  if (domain.empty() || host.size() < domain.size()) return false;
  if (host == domain) return true;
  return host.size() > domain.size() && host.substr(host.size() - domain.size()) == domain &&
         host[host.size() - domain.size() - 1] == '.';
}

std::optional<std::string> canonicalize(Type t, std::string_view raw) {
  std::string refanged = refang(trim(raw));
  std::string_view v = trim(refanged);
  if (v.empty()) return std::nullopt;
  switch (t) {
    case Type::kIpv4: {
      if (auto c = canonical_ipv4(v)) return c;
      // "1.2.3.4:443" and "1.2.3.4/32" both name one address.
      auto stop = find_any(v, ":/");
      if (stop != std::string_view::npos) {
        if (v[stop] == '/' && v.substr(stop) == "/32") return canonical_ipv4(v.substr(0, stop));
        if (v[stop] == ':') return canonical_ipv4(v.substr(0, stop));
      }
      return std::nullopt;
    }
    case Type::kIpv6:
      return canonical_ipv6(v);
    case Type::kCidr:
      return canonical_cidr(v);
    case Type::kDomain:
      return canonical_domain(v, false);
    case Type::kUrl:
      return canonical_url(v);
    case Type::kEmail:
      return canonical_email(v);
    case Type::kMd5:
    case Type::kSha1:
    case Type::kSha256:
    case Type::kSha512:
      if (hash_type(v) == t) return to_lower(v);
      return std::nullopt;
    case Type::kFilename:
      if (v.find('/') != std::string_view::npos || v.find('\0') != std::string_view::npos)
        return std::nullopt;
      return std::string(v);
    case Type::kFilepath:
      if (v[0] == '/' || v.rfind("~/", 0) == 0 ||
          (v.size() > 2 && std::isalpha(static_cast<unsigned char>(v[0])) && v[1] == ':' &&
           v[2] == '\\'))
        return std::string(v);
      return std::nullopt;
    case Type::kUsername:
      if (find_any(v, " \t/") != std::string_view::npos || v.size() > 256) return std::nullopt;
      return std::string(v);
    case Type::kX509Dn:
      return canonical_x509_dn(v);
  }
  return std::nullopt;
}

std::optional<Classified> classify(std::string_view token) {
  Refanged r = refang_marked(trim(token));
  std::string_view v = trim(r.text);
  if (v.empty()) return std::nullopt;
  auto as = [](Type t, std::string value) { return Classified{t, std::move(value)}; };

  if (auto dn = canonical_x509_dn(v); dn && (v[0] == '/' ? v.find('=') < v.find('/', 1) : true))
    return as(Type::kX509Dn, *dn);
  if (v.find("://") != std::string_view::npos) {
    if (auto u = canonical_url(v)) return as(Type::kUrl, *u);
    return std::nullopt;
  }
  if (auto c = canonical_cidr(v)) return as(Type::kCidr, *c);
  if (auto ip = canonical_ipv4(v)) return as(Type::kIpv4, *ip);
  if (auto ip = canonicalize(Type::kIpv4, v)) return as(Type::kIpv4, *ip);  // ip:port
  if (auto ip = canonical_ipv6(v)) return as(Type::kIpv6, *ip);
  if (v.front() == '[') {  // [v6]:port
    auto close = v.find(']');
    if (close != std::string_view::npos)
      if (auto ip = canonical_ipv6(v.substr(1, close - 1))) return as(Type::kIpv6, *ip);
  }
  if (v.find('@') != std::string_view::npos) {
    if (auto e = canonical_email(v)) return as(Type::kEmail, *e);
    return std::nullopt;
  }
  if (auto h = hash_type(v)) return as(*h, to_lower(v));
  if (find_any(v, " \t") != std::string_view::npos) return std::nullopt;
  if (v[0] == '/' || v.rfind("~/", 0) == 0 ||
      (v.size() > 2 && std::isalpha(static_cast<unsigned char>(v[0])) && v[1] == ':' &&
       v[2] == '\\'))
    return as(Type::kFilepath, std::string(v));
  auto dot = v.rfind('.');
  if (dot != std::string_view::npos && dot > 0 && dot + 1 < v.size()) {
    auto ext = to_lower(v.substr(dot + 1));
    bool defanged = r.any();
    if (!defanged && is_file_extension(ext)) return as(Type::kFilename, std::string(v));
    if (auto d = canonical_domain(v)) return as(Type::kDomain, *d);
  }
  return std::nullopt;
}

}  // namespace forage::ioc
