// Small string helpers shared by the parsers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace forage {

std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
std::vector<std::string_view> split_lines(std::string_view text);
// The non-empty fields between `sep` bytes: "/a//b/" gives {"a", "b"}; "a\0b\0" with '\0' too.
std::vector<std::string_view> split_nonempty(std::string_view text,
                                             char sep);  // \n, \r\n; keeps empty lines
std::string hex(const unsigned char* data, size_t size);
// Printable, single-line rendering of untrusted text for messages (control bytes escaped, capped).
std::string printable(std::string_view s, size_t max = 120);
// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s);
// The text as it is when it is valid UTF-8, else with each invalid byte written \xNN: for JSON
// records of untrusted names.
std::string utf8_or_escaped(std::string_view s);

}  // namespace forage
