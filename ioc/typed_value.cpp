#include "ioc/typed_value.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/strings.h"

namespace forage::ioc {
namespace {

struct NameRule {
  std::string_view name;  // normalised: lower case, runs of ' ', '_', '-' as one ' '
  ValueRule rule;
  Type type;
};

using R = ValueRule;
using T = Type;

// clang-format off
constexpr std::array kNames = {
    // forage's own type names (indicator.h)
    NameRule{"ipv4", R::kIp, T::kIpv4},
    NameRule{"ipv6", R::kIp, T::kIpv6},
    NameRule{"cidr", R::kIp, T::kCidr},
    NameRule{"domain", R::kExact, T::kDomain},
    NameRule{"url", R::kExact, T::kUrl},
    NameRule{"email", R::kExact, T::kEmail},
    NameRule{"md5", R::kExact, T::kMd5},
    NameRule{"sha1", R::kExact, T::kSha1},
    NameRule{"sha256", R::kExact, T::kSha256},
    NameRule{"sha512", R::kExact, T::kSha512},
    NameRule{"filename", R::kFile, T::kFilename},
    NameRule{"filepath", R::kExact, T::kFilepath},
    NameRule{"username", R::kExact, T::kUsername},
    NameRule{"x509 dn", R::kExact, T::kX509Dn},
    // MISP attribute types (describeTypes.json) that are indicators
    NameRule{"ip dst", R::kIp, T::kIpv4},
    NameRule{"ip src", R::kIp, T::kIpv4},
    NameRule{"ip dst|port", R::kIpPort, T::kIpv4},
    NameRule{"ip src|port", R::kIpPort, T::kIpv4},
    NameRule{"hostname", R::kExact, T::kDomain},
    NameRule{"hostname|port", R::kHostPort, T::kDomain},
    NameRule{"domain|ip", R::kDomainIp, T::kDomain},
    NameRule{"uri", R::kExact, T::kUrl},
    NameRule{"link", R::kReference, T::kUrl},
    NameRule{"email src", R::kExact, T::kEmail},
    NameRule{"email dst", R::kExact, T::kEmail},
    NameRule{"email reply to", R::kExact, T::kEmail},
    NameRule{"email attachment", R::kFile, T::kFilename},
    NameRule{"filename|md5", R::kFilenameHash, T::kMd5},
    NameRule{"filename|sha1", R::kFilenameHash, T::kSha1},
    NameRule{"filename|sha256", R::kFilenameHash, T::kSha256},
    NameRule{"filename|sha512", R::kFilenameHash, T::kSha512},
    NameRule{"malware sample", R::kFilenameHash, T::kMd5},
    // STIX object types used as CSV types
    NameRule{"ipv4 addr", R::kIp, T::kIpv4},
    NameRule{"ipv6 addr", R::kIp, T::kIpv6},
    NameRule{"domain name", R::kExact, T::kDomain},
    NameRule{"email addr", R::kExact, T::kEmail},
    NameRule{"user account", R::kExact, T::kUsername},
    // free words
    NameRule{"ip", R::kIp, T::kIpv4},
    NameRule{"ip address", R::kIp, T::kIpv4},
    NameRule{"ipaddress", R::kIp, T::kIpv4},
    NameRule{"ip addr", R::kIp, T::kIpv4},
    NameRule{"ipv4 address", R::kIp, T::kIpv4},
    NameRule{"ipv6 address", R::kIp, T::kIpv6},
    NameRule{"src ip", R::kIp, T::kIpv4},
    NameRule{"dst ip", R::kIp, T::kIpv4},
    NameRule{"source ip", R::kIp, T::kIpv4},
    NameRule{"destination ip", R::kIp, T::kIpv4},
    NameRule{"network", R::kIp, T::kCidr},
    NameRule{"subnet", R::kIp, T::kCidr},
    NameRule{"netblock", R::kIp, T::kCidr},
    NameRule{"ip range", R::kIp, T::kCidr},
    NameRule{"host", R::kExact, T::kDomain},
    NameRule{"host name", R::kExact, T::kDomain},
    NameRule{"fqdn", R::kExact, T::kDomain},
    NameRule{"dns", R::kExact, T::kDomain},
    NameRule{"dns name", R::kExact, T::kDomain},
    NameRule{"subdomain", R::kExact, T::kDomain},
    NameRule{"e mail", R::kExact, T::kEmail},
    NameRule{"email address", R::kExact, T::kEmail},
    NameRule{"e mail address", R::kExact, T::kEmail},
    NameRule{"mail", R::kExact, T::kEmail},
    NameRule{"mail address", R::kExact, T::kEmail},
    NameRule{"sender", R::kExact, T::kEmail},
    NameRule{"sender address", R::kExact, T::kEmail},
    NameRule{"md5 hash", R::kExact, T::kMd5},
    NameRule{"sha 1", R::kExact, T::kSha1},
    NameRule{"sha1 hash", R::kExact, T::kSha1},
    NameRule{"sha 1 hash", R::kExact, T::kSha1},
    NameRule{"sha 256", R::kExact, T::kSha256},
    NameRule{"sha256 hash", R::kExact, T::kSha256},
    NameRule{"sha 256 hash", R::kExact, T::kSha256},
    NameRule{"sha 512", R::kExact, T::kSha512},
    NameRule{"sha512 hash", R::kExact, T::kSha512},
    NameRule{"sha 512 hash", R::kExact, T::kSha512},
    NameRule{"hash", R::kHash, T::kSha256},
    NameRule{"file hash", R::kHash, T::kSha256},
    NameRule{"filehash", R::kHash, T::kSha256},
    NameRule{"hash value", R::kHash, T::kSha256},
    NameRule{"checksum", R::kHash, T::kSha256},
    NameRule{"file", R::kFile, T::kFilename},
    NameRule{"file name", R::kFile, T::kFilename},
    NameRule{"attachment", R::kFile, T::kFilename},
    NameRule{"path", R::kFile, T::kFilepath},
    NameRule{"file path", R::kFile, T::kFilepath},
    NameRule{"full path", R::kFile, T::kFilepath},
    NameRule{"fullpath", R::kFile, T::kFilepath},
    NameRule{"user", R::kExact, T::kUsername},
    NameRule{"user name", R::kExact, T::kUsername},
    NameRule{"userid", R::kExact, T::kUsername},
    NameRule{"user id", R::kExact, T::kUsername},
    NameRule{"account", R::kExact, T::kUsername},
    NameRule{"account name", R::kExact, T::kUsername},
    NameRule{"account login", R::kExact, T::kUsername},
    NameRule{"local account", R::kExact, T::kUsername},
    NameRule{"login", R::kExact, T::kUsername},
    NameRule{"dn", R::kExact, T::kX509Dn},
    NameRule{"x509", R::kExact, T::kX509Dn},
    NameRule{"x509 subject", R::kExact, T::kX509Dn},
    NameRule{"x509 issuer", R::kExact, T::kX509Dn},
    NameRule{"distinguished name", R::kExact, T::kX509Dn},
    NameRule{"subject", R::kExact, T::kX509Dn},
    NameRule{"subject dn", R::kExact, T::kX509Dn},
    NameRule{"issuer", R::kExact, T::kX509Dn},
    NameRule{"issuer dn", R::kExact, T::kX509Dn},
    NameRule{"certificate subject", R::kExact, T::kX509Dn},
    NameRule{"certificate issuer", R::kExact, T::kX509Dn},
    NameRule{"certificate dn", R::kExact, T::kX509Dn},
    NameRule{"cert subject", R::kExact, T::kX509Dn},
    NameRule{"cert dn", R::kExact, T::kX509Dn},
};
// clang-format on

std::string normalise(std::string_view name) {
  std::string out;
  bool sep = false;
  for (char c : trim(name)) {
    if (c == ' ' || c == '_' || c == '-' || c == '\t') {
      sep = true;
      continue;
    }
    if (sep && !out.empty() && out.back() != '|' && c != '|') out += ' ';
    sep = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string describe(Type t) {
  switch (t) {
    case Type::kIpv4:
    case Type::kIpv6:
    case Type::kCidr:
      return "IP address or network";
    case Type::kDomain:
      return "domain";
    case Type::kUrl:
      return "URL";
    case Type::kEmail:
      return "e-mail address";
    case Type::kMd5:
      return "MD5 hash";
    case Type::kSha1:
      return "SHA-1 hash";
    case Type::kSha256:
      return "SHA-256 hash";
    case Type::kSha512:
      return "SHA-512 hash";
    case Type::kFilename:
      return "file name";
    case Type::kFilepath:
      return "file path";
    case Type::kUsername:
      return "user name";
    case Type::kX509Dn:
      return "X.509 DN";
  }
  return "value";
}

std::string invalid(std::string_view value, std::string_view what) {
  return "'" + printable(value) + "' is not a valid " + std::string(what);
}

bool looks_like_path(std::string_view v) {
  return v.find('/') != std::string_view::npos || v.find('\\') != std::string_view::npos ||
         (!v.empty() && v[0] == '~');
}

std::optional<Classified> read_ip(std::string_view v) {
  if (v.find('/') != std::string_view::npos) {
    if (auto c = canonicalize(Type::kCidr, v)) return Classified{Type::kCidr, *c};
    // "1.2.3.4/32" names one address; canonicalize(kIpv4) knows that spelling.
  }
  if (auto c = canonicalize(Type::kIpv4, v)) return Classified{Type::kIpv4, *c};
  if (auto c = canonicalize(Type::kIpv6, v)) return Classified{Type::kIpv6, *c};
  // "[2001:db8::1]:443"
  auto t = trim(v);
  if (!t.empty() && t.front() == '[') {
    auto close = t.find(']');
    if (close != std::string_view::npos)
      if (auto c = canonicalize(Type::kIpv6, t.substr(1, close - 1)))
        return Classified{Type::kIpv6, *c};
  }
  return std::nullopt;
}

std::optional<Classified> read_file(std::string_view v) {
  Type t = looks_like_path(trim(v)) ? Type::kFilepath : Type::kFilename;
  if (auto c = canonical_typed(t, v)) return Classified{t, *c};
  return std::nullopt;
}

}  // namespace

std::optional<TypeRule> type_rule(std::string_view name) {
  if (name.size() > 64) return std::nullopt;
  std::string n = normalise(name);
  for (const auto& r : kNames)
    if (r.name == n) return TypeRule{r.rule, r.type};
  return std::nullopt;
}

std::optional<std::string> canonical_typed(Type t, std::string_view value) {
  if (auto c = canonicalize(t, value)) return c;
  if (t != Type::kX509Dn) return std::nullopt;
  // One RDN written as "CN=WEBMAIL": validated through the one-line form, kept as written.
  auto v = trim(value);
  if (v.empty() || v[0] == '/' || v.find(',') != std::string_view::npos) return std::nullopt;
  if (v.find('/') != std::string_view::npos) return std::nullopt;
  if (!canonical_x509_dn("/" + std::string(v))) return std::nullopt;
  auto eq = v.find('=');
  if (eq == std::string_view::npos || eq + 1 >= v.size()) return std::nullopt;
  auto attr = trim(v.substr(0, eq));
  auto val = trim(v.substr(eq + 1));
  if (attr.empty() || val.empty()) return std::nullopt;
  return std::string(attr) + "=" + std::string(val);
}

TypedValues read_typed(const TypeRule& rule, std::string_view value) {
  TypedValues out;
  auto v = trim(value);
  auto fail = [&](std::string_view what) {
    out.values.clear();
    out.problem = invalid(v, what);
    return out;
  };
  if (v.empty()) {
    out.problem = "empty value";
    return out;
  }
  switch (rule.rule) {
    case ValueRule::kReference:
      return out;
    case ValueRule::kExact: {
      auto c = canonical_typed(rule.type, v);
      if (!c) return fail(describe(rule.type));
      out.values.push_back({rule.type, *c});
      return out;
    }
    case ValueRule::kIp: {
      auto c = read_ip(v);
      if (!c) return fail(describe(Type::kIpv4));
      out.values.push_back(*c);
      return out;
    }
    case ValueRule::kHash: {
      auto t = hash_type(v);
      if (!t) return fail("MD5, SHA-1, SHA-256 or SHA-512 hash");
      out.values.push_back({*t, to_lower(v)});
      return out;
    }
    case ValueRule::kFile: {
      auto c = read_file(v);
      if (!c) return fail(looks_like_path(v) ? "file path" : "file name");
      out.values.push_back(*c);
      return out;
    }
    case ValueRule::kIpPort: {
      auto bar = v.rfind('|');
      if (bar == std::string_view::npos) return fail("address|port pair");
      auto c = read_ip(v.substr(0, bar));
      if (!c) return fail("address|port pair");
      out.values.push_back(*c);
      return out;
    }
    case ValueRule::kHostPort: {
      auto bar = v.rfind('|');
      if (bar == std::string_view::npos) return fail("hostname|port pair");
      auto c = canonical_typed(Type::kDomain, v.substr(0, bar));
      if (!c) return fail("hostname|port pair");
      out.values.push_back({Type::kDomain, *c});
      return out;
    }
    case ValueRule::kDomainIp: {
      auto bar = v.find('|');
      if (bar == std::string_view::npos) return fail("domain|ip pair");
      auto d = canonical_typed(Type::kDomain, v.substr(0, bar));
      auto ip = read_ip(v.substr(bar + 1));
      if (!d || !ip) return fail("domain|ip pair");
      out.values.push_back({Type::kDomain, *d});
      out.values.push_back(*ip);
      return out;
    }
    case ValueRule::kFilenameHash: {
      auto bar = v.rfind('|');
      if (bar == std::string_view::npos) return fail("filename|hash pair");
      auto name = read_file(v.substr(0, bar));
      auto hash = trim(v.substr(bar + 1));
      if (!name || hash_type(hash) != rule.type)
        return fail("filename|" + std::string(type_name(rule.type)) + " pair");
      out.values.push_back(*name);
      out.values.push_back({rule.type, to_lower(hash)});
      return out;
    }
  }
  return out;
}

}  // namespace forage::ioc
