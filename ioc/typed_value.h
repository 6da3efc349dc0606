// Values that arrive with a type name written by their producer: a CSV type column, a MISP
// attribute type or object relation, a STIX object path. One table maps every such name to how
// forage reads the value, so CSV, MISP and STIX agree on what "ip-dst" or "SHA-256" means.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ioc/canonical.h"
#include "ioc/indicator.h"

namespace forage::ioc {

enum class ValueRule {
  kExact,         // the value as `type` (canonicalize)
  kIp,            // IPv4 or IPv6 address, or a CIDR network when written with '/'
  kHash,          // MD5, SHA-1, SHA-256 or SHA-512, told apart by length
  kFile,          // a file name, or a file path when it names a directory
  kIpPort,        // MISP "ip-dst|port": "203.0.113.5|443" gives the address
  kHostPort,      // MISP "hostname|port": the host name
  kDomainIp,      // MISP "domain|ip": both
  kFilenameHash,  // MISP "filename|sha256": both; `type` is the hash type
  kReference,     // MISP "link": a pointer to a report, never an indicator
};

struct TypeRule {
  ValueRule rule = ValueRule::kExact;
  Type type = Type::kIpv4;
};

// Looks up a producer's type name: forage's own ("ipv4", "x509-dn"), MISP attribute types
// ("ip-dst", "filename|sha256", "email-src", "malware-sample") and the free words people put in
// CSV headers ("IP address", "SHA-256", "file name", "user", "DN"). Case, '_', '-' and spaces
// do not matter. nullopt: a name forage has no reading for.
std::optional<TypeRule> type_rule(std::string_view name);

struct TypedValues {
  std::vector<Classified> values;  // canonical
  std::string problem;             // why the value is not valid under the rule (values empty)
};

// Reads `value` under `rule`. Network and e-mail values are refanged first (canonicalize).
TypedValues read_typed(const TypeRule& rule, std::string_view value);

// canonicalize() widened to what typed sources legitimately write but free text must not give:
// an X.509 DN with a single RDN ("CN=WEBMAIL", as in a STIX x509-certificate:issuer).
std::optional<std::string> canonical_typed(Type t, std::string_view value);

}  // namespace forage::ioc
