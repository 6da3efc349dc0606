// Is this a private key? The one test forage applies before anything leaves the node: a file
// that holds a private key is hashed, never copied, and the report asks whether the key must be
// considered exposed. A false alarm there costs a CSIRT a revocation question, so the test looks
// for a key, not for the words of one:
//
//   - a PEM block: a "-----BEGIN <label>PRIVATE KEY-----" (or "PGP PRIVATE KEY BLOCK") line at
//     the start of a line, a base64 body (RFC 7468; RFC 1421 / RFC 4880 headers allowed) and the
//     matching END line;
//   - an OpenSSH "openssh-key-v1" container (the binary form, decoded);
//   - a PuTTY "PuTTY-User-Key-File-N:" file with its Private-Lines;
//   - an OpenPGP Secret-Key or Secret-Subkey packet (RFC 4880 tags 5 and 7, versions 3 to 5);
//   - a GnuPG private-keys-v1.d S-expression ("(11:private-key", "(21:protected-private-key").
//
// The ssh, ssh-agent and ssh-keygen binaries, sources and documents that only name a header are
// not keys.
#pragma once

#include <string>
#include <string_view>

namespace forage::host {

// "" when the bytes hold no private key, else what kind: "PEM EC PRIVATE KEY", "OpenSSH",
// "PuTTY", "OpenPGP secret key", "GnuPG private key".
std::string private_key_kind(std::string_view bytes);
inline bool holds_private_key(std::string_view bytes) {
  return !private_key_kind(bytes).empty();
}

}  // namespace forage::host
