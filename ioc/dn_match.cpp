#include "ioc/dn_match.h"

#include <algorithm>

#include "common/strings.h"

namespace forage::ioc {
namespace {

struct Rdn {
  std::string attr, value;  // lower case
};

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// The names attribute types go by in grid DNs and in OpenSSL's output.
std::string attr_name(std::string_view a) {
  std::string l = lower_ascii(trim(a));
  if (l == "e" || l == "email" || l == "emailaddress" || l == "1.2.840.113549.1.9.1")
    return "emailaddress";
  if (l == "userid" || l == "0.9.2342.19200300.100.1.1") return "uid";
  if (l == "domaincomponent" || l == "0.9.2342.19200300.100.1.25") return "dc";
  if (l == "commonname" || l == "2.5.4.3") return "cn";
  if (l == "organizationname" || l == "2.5.4.10") return "o";
  if (l == "organizationalunitname" || l == "2.5.4.11") return "ou";
  if (l == "countryname" || l == "2.5.4.6") return "c";
  if (l == "localityname" || l == "2.5.4.7") return "l";
  if (l == "stateorprovincename" || l == "2.5.4.8") return "st";
  return l;
}

bool plausible_attr(std::string_view a) {
  a = trim(a);
  if (a.empty() || a.size() > 40) return false;
  return std::all_of(a.begin(), a.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
  });
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 4514 section 2.4: "\," "\+" "\\" ... and "\2C" (a byte in hex).
std::string unescape_4514(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\' || i + 1 >= v.size()) {
      out += v[i];
      continue;
    }
    int h = hex_digit(v[i + 1]), l = i + 2 < v.size() ? hex_digit(v[i + 2]) : -1;
    if (h >= 0 && l >= 0) {
      out += static_cast<char>(h * 16 + l);
      i += 2;
    } else {
      out += v[++i];
    }
  }
  return out;
}

bool proxy_cn(const Rdn& r) {
  if (r.attr != "cn") return false;
  if (r.value == "proxy" || r.value == "limited proxy") return true;
  return !r.value.empty() &&
         std::all_of(r.value.begin(), r.value.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "/DC=org/DC=example/CN=host/name": a segment without "=" belongs to the previous value.
std::vector<Rdn> parse_slash(std::string_view s) {
  std::vector<Rdn> out;
  size_t pos = 1;
  while (pos <= s.size()) {
    size_t next = s.find('/', pos);
    std::string_view seg = s.substr(pos, next == std::string_view::npos ? s.npos : next - pos);
    size_t eq = seg.find('=');
    if (eq != std::string_view::npos && plausible_attr(seg.substr(0, eq))) {
      out.push_back({attr_name(seg.substr(0, eq)), std::string(seg.substr(eq + 1))});
    } else if (!out.empty()) {
      out.back().value += "/" + std::string(seg);
    } else if (!seg.empty()) {
      return {};
    }
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return out;
}

std::vector<Rdn> parse_commas(std::string_view s) {
  std::vector<Rdn> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = pos;
    while (end < s.size() && s[end] != ',' && s[end] != ';') end += s[end] == '\\' ? 2 : 1;
    end = std::min(end, s.size());
    std::string_view rdn = trim(s.substr(pos, end - pos));
    size_t eq = rdn.find('=');
    if (eq == std::string_view::npos || !plausible_attr(rdn.substr(0, eq))) return {};
    out.push_back({attr_name(rdn.substr(0, eq)), unescape_4514(trim(rdn.substr(eq + 1)))});
    pos = end + 1;
  }
  return out;
}

std::string key_of(std::vector<Rdn> rdns) {
  while (!rdns.empty() && proxy_cn(rdns.back())) rdns.pop_back();
  std::string k;
  for (auto& r : rdns) k += "/" + r.attr + "=" + lower_ascii(trim(r.value));
  return k;
}

}  // namespace

std::vector<std::string> dn_match_keys(std::string_view dn) {
  dn = trim(dn);
  if (dn.size() < 3) return {};
  std::vector<Rdn> rdns = dn[0] == '/' ? parse_slash(dn) : parse_commas(dn);
  if (rdns.empty()) return {};
  for (auto& r : rdns) r.value = lower_ascii(trim(r.value));
  std::vector<std::string> keys;
  if (dn[0] == '/') {
    keys.push_back(key_of(rdns));
  } else {
    std::vector<Rdn> reversed(rdns.rbegin(), rdns.rend());
    keys.push_back(key_of(reversed));
    if (rdns.size() > 1) keys.push_back(key_of(rdns));
  }
  keys.erase(std::remove(keys.begin(), keys.end(), std::string()), keys.end());
  return keys;
}

}  // namespace forage::ioc
