#include "host/private_key.h"

#include <cstdint>

namespace forage::host {
namespace {

constexpr std::string_view kBegin = "-----BEGIN ";
constexpr std::string_view kEnd = "-----END ";
constexpr size_t kMinBody = 40;  // base64 characters: the smallest real key is longer

bool b64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}

// One line from `at` (without its end of line); `at` moves past it.
std::string_view next_line(std::string_view s, size_t& at) {
  size_t nl = s.find('\n', at);
  std::string_view line = s.substr(at, nl == std::string_view::npos ? s.npos : nl - at);
  at = nl == std::string_view::npos ? s.size() : nl + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// The PEM block whose BEGIN line starts at `at`: label if it is a private key with a real body.
std::string pem_block(std::string_view s, size_t at) {
  size_t pos = at;
  std::string_view begin = next_line(s, pos);
  if (begin.size() < kBegin.size() + 5 || begin.substr(begin.size() - 5) != "-----") return "";
  std::string_view label = begin.substr(kBegin.size(), begin.size() - kBegin.size() - 5);
  bool pgp = label == "PGP PRIVATE KEY BLOCK";
  if (!pgp && (label.size() < 11 || label.substr(label.size() - 11) != "PRIVATE KEY")) return "";
  size_t body = 0;
  bool headers = true;  // RFC 1421 (Proc-Type, DEK-Info) or RFC 4880 (Version, Comment) lines
  for (int lines = 0; pos < s.size() && lines < 100000; ++lines) {
    std::string_view line = next_line(s, pos);
    if (line.substr(0, kEnd.size()) == kEnd) {
      std::string_view end_label = line.substr(kEnd.size());
      if (end_label.size() < 5 || end_label.substr(end_label.size() - 5) != "-----") return "";
      end_label.remove_suffix(5);
      return end_label == label && body >= kMinBody ? std::string(label) : "";
    }
    if (line.empty()) {
      headers = false;
      continue;
    }
    if (headers && line.find(": ") != std::string_view::npos && body == 0) continue;
    if (pgp && line[0] == '=') continue;  // the armor checksum
    for (char c : line) {
      if (c == ' ' || c == '\t') continue;
      if (!b64(c)) return "";
      ++body;
    }
    headers = false;
  }
  return "";
}

bool pgp_secret_packet(std::string_view s) {
  if (s.size() < 8) return false;
  auto u = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  uint8_t tag = u(0);
  size_t version_at = 0;
  if ((tag & 0xc0) == 0x80) {  // old format: 10 tttt ll
    unsigned type = (tag >> 2) & 0x0f;
    if (type != 5 && type != 7) return false;
    unsigned len_type = tag & 3;
    if (len_type == 3) return false;  // indeterminate length: not how keys are written
    version_at = 1 + (1u << len_type);
  } else if ((tag & 0xc0) == 0xc0) {  // new format: 11 tttttt
    unsigned type = tag & 0x3f;
    if (type != 5 && type != 7) return false;
    uint8_t l = u(1);
    version_at = l < 192 ? 2 : l < 224 ? 3 : l == 255 ? 6 : 0;
    if (version_at == 0) return false;
  } else {
    return false;
  }
  if (version_at + 6 >= s.size()) return false;
  uint8_t version = u(version_at);
  if (version < 3 || version > 5) return false;
  // Then a 4-byte creation time: a key made between 1990 and 2100.
  uint32_t created = uint32_t(u(version_at + 1)) << 24 | uint32_t(u(version_at + 2)) << 16 |
                     uint32_t(u(version_at + 3)) << 8 | u(version_at + 4);
  if (created < 631152000u || created > 4102444800u) return false;
  // Version 4: 4-byte creation time, then the public-key algorithm (RFC 4880 9.1, RFC 9580).
  uint8_t algo = u(version_at + (version == 3 ? 7 : 5));
  switch (algo) {
    case 1:
    case 2:
    case 3:
    case 16:
    case 17:
    case 18:
    case 19:
    case 22:
    case 25:
    case 27:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string private_key_kind(std::string_view s) {
  if (s.substr(0, 15) == std::string_view("openssh-key-v1\0", 15)) return "OpenSSH";
  if (s.substr(0, 15) == "(11:private-key" || s.substr(0, 25) == "(21:protected-private-key")
    return "GnuPG private key";
  if (pgp_secret_packet(s)) return "OpenPGP secret key";
  // PuTTY: "PuTTY-User-Key-File-3: ssh-ed25519" at a line start, with its Private-Lines.
  for (size_t at = 0; (at = s.find("PuTTY-User-Key-File-", at)) != std::string_view::npos; ++at) {
    if (at > 0 && s[at - 1] != '\n') continue;
    size_t p = s.find("\nPrivate-Lines: ", at);
    if (p != std::string_view::npos && p - at < 65536) return "PuTTY";
  }
  for (size_t at = 0; (at = s.find(kBegin, at)) != std::string_view::npos; ++at) {
    if (at > 0 && s[at - 1] != '\n') continue;  // quoted in a binary, a source, a sentence
    std::string label = pem_block(s, at);
    if (!label.empty()) return "PEM " + label;
  }
  return "";
}

}  // namespace forage::host
