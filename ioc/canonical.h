// Canonical forms and validation of indicator values (DESIGN.md "IoC model"):
// lower-case hex and domains, compressed lower-case IPv6, CIDR with host bits cleared.
// Every function takes an already refanged value and returns nullopt when it is not valid.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ioc/indicator.h"

namespace forage::ioc {

std::optional<std::string> canonical_ipv4(std::string_view s);  // dotted quad, decimal
std::optional<std::string> canonical_ipv6(std::string_view s);  // also "[...]"; no zone ids
std::optional<std::string> canonical_cidr(std::string_view s);  // "net/len", v4 or v6
// Host name with at least two labels; with require_known_tld the last label must be a real
// top-level domain (public suffix list, embedded at build time).
std::optional<std::string> canonical_domain(std::string_view s, bool require_known_tld = true);
std::optional<std::string> canonical_email(std::string_view s);
// scheme://host[:port]/rest with a valid host (domain with a known TLD, IPv4 or IPv6).
// Scheme and host are lower-cased; the rest is kept as written.
std::optional<std::string> canonical_url(std::string_view s);
// The host of a canonical URL, as its own indicator (domain, ipv4 or ipv6).
std::optional<Indicator> url_host(std::string_view canonical_url);
// Both at once, parsing the URL a single time (the free-text reader meets thousands of URLs).
struct CanonicalUrl {
  std::string url;
  Type host_type = Type::kDomain;
  std::string host;
};
std::optional<CanonicalUrl> canonical_url_and_host(std::string_view s);
std::optional<Type> hash_type(std::string_view hex);  // by length; all characters hex
std::optional<std::string> canonical_x509_dn(
    std::string_view s);  // "/DC=../CN=.." or "CN=.., O=.."

bool is_known_tld(std::string_view label);     // case-insensitive
bool is_file_extension(std::string_view ext);  // sh, py, zip, exe, so, tar, ... (lower-case)
// host == domain or a subdomain of it (both canonical)
bool in_domain(std::string_view host, std::string_view domain);

// The canonical value of `value` read as type `t`, or nullopt when it is not valid as that type.
std::optional<std::string> canonicalize(Type t, std::string_view value);

// Classifies one explicitly listed value (a line of a list, a CSV cell without a type): refangs
// it and finds its type. Bare words without structure are not classified (nullopt). Nothing is
// dropped for being private or loopback: an explicit indicator stays.
struct Classified {
  Type type;
  std::string value;
};
std::optional<Classified> classify(std::string_view token);

}  // namespace forage::ioc
