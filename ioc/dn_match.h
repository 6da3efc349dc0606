// When two X.509 distinguished names name the same grid identity. A broadcast writes a DN as the
// grid tools print it (/DC=org/DC=example/CN=Alice) or in RFC 2253/4514 form
// (CN=Alice,DC=example,DC=org, sometimes written in the slash order); a process holds a proxy
// whose subject adds /CN=<digits>, /CN=proxy or /CN=limited proxy to its owner's DN. Both sides
// reduce to the same comparison key: RDNs in the grid order, attribute names and values
// lower-cased, RFC 4514 escapes undone, trailing proxy CNs dropped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace forage::ioc {

// The keys a DN may be compared by: one for the slash form, two for the comma form (its RFC 4514
// order reversed, and as written, since both orders are seen in broadcasts). Empty when the text
// is not a DN. Keys look like "/dc=org/dc=example/cn=alice".
std::vector<std::string> dn_match_keys(std::string_view dn);

}  // namespace forage::ioc
