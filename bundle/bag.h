// BagIt (RFC 8493) pieces of a bundle: file names, the top directory name, bag-info fields,
// manifest lines. Manifests are written in the format both BagIt and `sha256sum -c` read
// ("<hex>  <path>"); the writer keeps names free of the bytes that would need escaping in either
// (newline, carriage return, backslash, percent), see bag_safe_path().
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/layout.h"

namespace forage::bundle {

inline constexpr std::string_view kBagitTxt = "bagit.txt";
inline constexpr std::string_view kBagInfo = "bag-info.txt";
inline constexpr std::string_view kManifest = "manifest-sha256.txt";
inline constexpr std::string_view kTagManifest = "tagmanifest-sha256.txt";
inline constexpr std::string_view kSignatureCms = "tagmanifest-sha256.txt.p7s";
inline constexpr std::string_view kSignatureRaw = "tagmanifest-sha256.txt.sig";
inline constexpr std::string_view kSignatureKey = "tagmanifest-sha256.txt.sig.pem";
// The writer's own tag files under meta/ (common/layout.h lists every member).
inline constexpr std::string_view kActions = layout::kActions;
inline constexpr std::string_view kActionsHead = layout::kActionsHead;
inline constexpr std::string_view kEnvironment = layout::kEnvironment;
inline constexpr std::string_view kBagitContent =
    "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

// Members of one bundle, at most: verify stops reading past it (each member costs it a name and
// a digest, so a small zstd stream of millions of empty members would otherwise take
// gigabytes), and the writer stops adding members kMemberReserve before it, leaving room for
// its own tag files. A real collect holds thousands; `bundle create` of a large tree, hundreds
// of thousands.
inline constexpr uint64_t kMaxMembers = 1000000;
inline constexpr uint64_t kMemberReserve = 1000;
// Names the writer produces itself; a caller cannot add members with these names.
bool reserved_tag_name(std::string_view rel);
// Files outside the tag manifest by necessity (it cannot list itself or its signature).
bool unlisted_tag_name(std::string_view rel);

// [A-Za-z0-9._+-] kept, anything else '_', at most `max` bytes, never empty or starting with '.'.
std::string sanitize_component(std::string_view s, std::string_view fallback, size_t max = 64);
// <case>_<host>_<YYYYMMDDThhmmssZ>
std::string top_directory(std::string_view case_id, std::string_view host, std::time_t utc);
// A --tlp value as its canonical label (common/tlp.h), or forage::Error naming the valid ones.
std::string checked_tlp(std::string_view label);

// Checks a bag-relative path (no absolute, empty, "." or ".." components, no NUL); throws
// forage::Error otherwise. Returns it with control bytes, '\\' and '%' replaced by '_'.
std::string bag_safe_path(std::string_view rel);

std::string manifest_line(std::string_view sha256, std::string_view path);

struct ManifestEntry {
  std::string sha256;
  std::string path;
  size_t line = 0;
};

// Malformed manifest lines listed one by one; past this many, one problem counts the rest.
inline constexpr size_t kMaxManifestProblems = 100;

// Parses "<64 hex> <whitespace> [*]<path>" lines (BagIt percent-decoding of %0A %0D %25).
// Malformed lines become problems naming `file` and the line (at most kMaxManifestProblems, then
// one line counting the others). Calls `entry` for each good line in order and keeps nothing
// itself: the only copy of the manifest in memory is `text`, which verify holds within its
// 64 MiB tag-file budget (verify.h), so a manifest of a million lines costs no second copy.
void for_each_manifest_entry(std::string_view text, std::string_view file,
                             std::vector<std::string>& problems,
                             const std::function<void(ManifestEntry&&)>& entry);
// The same, collected (tests, small manifests).
std::vector<ManifestEntry> parse_manifest(std::string_view text, std::string_view file,
                                          std::vector<std::string>& problems);

// "Label: value" lines with indented continuation lines, in order.
std::vector<std::pair<std::string, std::string>> parse_bag_info(std::string_view text);

// Member name checks shared by verify and extract: returns "" or why the name is unsafe.
std::string unsafe_member_name(std::string_view name);

}  // namespace forage::bundle
