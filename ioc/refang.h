// Refanging: undoing the common ways CSIRTs "defang" indicators so nobody clicks them.
//   [.] (.) {.} [dot] (dot) {dot} \.  -> .      hxxp hXXp h**p meow -> http     fxp -> ftp
//   [:] -> :    [://] -> ://    [/] -> /          [@] (@) {@} [at] (at) {at} -> @
//   "user [at] example [dot] com" (bracketed word forms between spaces) -> user@example.com
//   example[.com, example.]com, http://[example.com (half brackets) -> example.com
// Word forms (dot, at) count only between name characters, so prose like "meet (at) noon" stays.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace forage::ioc {

struct Refanged {
  std::string text;
  // defanged[i]: byte i of text was produced by a defang form (the "." of "[.]", the "http" of
  // "hxxp"), or sits right before a dropped half bracket. A token with a marked byte was written
  // defanged on purpose: "ratatosk[.]sh" is a domain where "ratatosk.sh" is a file name.
  std::vector<uint8_t> defanged;  // 0 or 1 (bytes, not bits: filled a run at a time)
  bool any() const;
  bool any_in(size_t begin, size_t end) const;
};

Refanged refang_marked(std::string_view s);
std::string refang(std::string_view s);

// The text reader's hot path: when `s` holds a defang form, fills `out` (its buffers are reused
// from call to call) and returns true; otherwise returns false without touching `out`, and `s`
// is its own refanged form. Never allocates for text without defang forms.
bool refang_into(std::string_view s, Refanged& out);

}  // namespace forage::ioc
