// The indicator model (DESIGN.md "IoC model"): typed, canonical values that remember where they
// came from (file, MIME part, line or JSON path), their context sentence and their TLP label.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forage::ioc {

enum class Type {
  kIpv4,
  kIpv6,
  kCidr,
  kDomain,
  kUrl,
  kEmail,
  kMd5,
  kSha1,
  kSha256,
  kSha512,
  kFilename,
  kFilepath,
  kUsername,
  kX509Dn,
};

inline constexpr Type kAllTypes[] = {
    Type::kIpv4,     Type::kIpv6,     Type::kCidr,     Type::kDomain, Type::kUrl,
    Type::kEmail,    Type::kMd5,      Type::kSha1,     Type::kSha256, Type::kSha512,
    Type::kFilename, Type::kFilepath, Type::kUsername, Type::kX509Dn};

std::string_view type_name(Type t);  // "ipv4", "sha256", "x509-dn", ...
std::optional<Type> type_from_name(std::string_view name);
bool is_hash(Type t);
bool is_network(Type t);  // ipv4, ipv6, cidr

// Where an indicator was read. display(): "file", "file:12", "file!2/iocs.csv:3",
// "file#/objects/4/pattern".
struct Source {
  std::string file;       // input path as given ("-" for stdin)
  std::string part;       // inside a container (MIME part "2/iocs.csv"); empty otherwise
  size_t line = 0;        // 1-based line of the decoded text; 0 when not line-based
  std::string json_path;  // JSON pointer for JSON inputs; empty otherwise
  std::string display() const;
};

struct Indicator {
  Type type = Type::kIpv4;
  std::string value;  // canonical (see canonical.h)
  Source source;
  std::string context;  // the sentence/line, comment or description it came with (capped)
  std::string tlp;      // "TLP:AMBER", ...; empty when the input said nothing
};

// Everything read from a set of inputs.
struct IocSet {
  std::vector<Indicator> indicators;  // input order; one entry per (type, value), first wins
  std::string tlp;                    // strictest TLP label seen in any input ("" if none)
  std::string case_tag;               // incident tag, e.g. "EGI-20261120-01" (first seen)
  std::vector<std::string> sources;   // the inputs read
  std::vector<std::string> notes;     // non-fatal remarks (an attachment skipped, a type ignored)
  std::vector<std::string> errors;    // problems skipped under --keep-going ("file: reason")

  // Adds unless (type, value) is already present. Returns true when added. Indicators enter
  // only through add() and merge(): the index below points into `indicators`.
  bool add(Indicator ind);
  // Whether (type, value) is present: lets a reader skip a repeat before building its Indicator.
  bool contains(Type t, std::string_view value) const;
  // Room for `n` indicators in all, so that adding them moves nothing and never rebuilds the
  // index. An overestimate costs little: unused indicator storage is never touched, and the
  // index is written whole but is only 16 bytes per reserved indicator.
  void reserve(size_t n);
  // Appends everything of `other` (dedup, TLP merged, first case tag kept).
  void merge(IocSet&& other);
  size_t count(Type t) const;

 private:
  // (type, value) -> position in `indicators`: open addressing over 8-byte slots holding a hash
  // tag and an index, so a look-up allocates nothing and a key is never stored twice. A tag
  // match is settled by comparing the indicator itself.
  struct Slot {
    uint32_t tag = 0;
    uint32_t index = UINT32_MAX;
  };
  std::vector<Slot> slots_;
  size_t find_slot(uint64_t h, Type t, std::string_view value) const;
  void place(uint64_t h, uint32_t index);
  void rehash(size_t slots);
};

// Caps a context sentence to a readable length, on one line.
std::string make_context(std::string_view line, size_t max = 240);

}  // namespace forage::ioc
