// Refanging: undoing the common ways CSIRTs "defang" indicators so nobody clicks them.
//   [.] (.) {.} [dot] (dot) {dot} \.  -> .      hxxp hXXp h**p -> http     fxp -> ftp
//   [:] -> :    [://] -> ://    [/] -> /          [@] (@) [at] (at) {at} -> @
//   example[.com, http://[example.com (a half bracket) -> example.com
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace forage::ioc {

struct Refanged {
  std::string text;
  // defanged[i]: byte i of text came from (or sits inside a token adjacent to) a defang form.
  std::vector<bool> defanged;
  bool any() const;
  bool any_in(size_t begin, size_t end) const;
};

Refanged refang_marked(std::string_view s);
std::string refang(std::string_view s);

}  // namespace forage::ioc
