// STIX 2.1 patterning language (STIX 2.1 part 9): a recursive-descent parser for the whole
// grammar and the extraction of indicators from what a pattern states as a fact
// (`=` comparisons, `IN` sets, `ISSUBSET` networks) on the object paths we have a type for.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ioc/indicator.h"
#include "ioc/typed_value.h"

namespace forage::ioc::stix {

// A syntax error in a pattern: `offset` is the byte offset into the pattern where it was found.
// what() is "<reason> at offset <n>", e.g. "expected ']' at offset 42".
class PatternError : public std::runtime_error {
 public:
  PatternError(const std::string& reason, size_t offset);
  size_t offset() const { return offset_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
  size_t offset_;
};

// One step of an object path after the object type: a property name (`hashes`, `'SHA-256'`) or a
// list index (`[0]`, `[*]`).
struct PathStep {
  enum class Kind { kKey, kIndex, kAnyIndex };
  Kind kind = Kind::kKey;
  std::string key;  // kKey
  long index = 0;   // kIndex (may be negative: counts from the end)
};

struct ObjectPath {
  std::string object_type;  // "file", "ipv4-addr", ...
  std::vector<PathStep> steps;
  // "file:hashes.'SHA-256'", "email-message:body_multipart[*].body_raw_ref.name": keys that are
  // not plain identifiers are quoted, any index is written [*].
  std::string text() const;
};

enum class Op {
  kEq,
  kNe,
  kGt,
  kLt,
  kGe,
  kLe,
  kIn,
  kLike,
  kMatches,
  kIsSubset,
  kIsSuperset,
  kExists
};
std::string_view op_name(Op op);

struct Literal {
  enum class Kind { kNone, kString, kInt, kFloat, kBool, kTimestamp, kBinary, kHex, kSet };
  Kind kind = Kind::kNone;
  std::string text;          // unescaped string, digits, "true", timestamp, base64, hex digits
  std::vector<Literal> set;  // kSet elements
};

struct Comparison {
  ObjectPath path;
  Op op = Op::kEq;
  bool negated = false;  // `NOT` before the operator
  Literal value;         // kNone for EXISTS
  size_t offset = 0;     // where the comparison starts in the pattern
};

struct Qualifier {
  enum class Kind { kWithin, kRepeats, kStartStop };
  Kind kind = Kind::kWithin;
  std::string number;  // WITHIN seconds / REPEATS times, as written
  std::string start;   // START/STOP timestamps
  std::string stop;
};

// A node of the pattern tree. Observation-level nodes (kObservation, kObsAnd, kObsOr,
// kFollowedBy) hold observation children and qualifiers; comparison-level nodes (kAnd, kOr,
// kComparison) live inside a kObservation.
struct Node {
  enum class Kind { kObservation, kObsAnd, kObsOr, kFollowedBy, kAnd, kOr, kComparison };
  Kind kind = Kind::kComparison;
  std::vector<Node> children;
  Comparison comparison;              // kComparison
  std::vector<Qualifier> qualifiers;  // observation-level nodes
};

struct Pattern {
  Node root;
  // Every comparison of the pattern in textual order (a flattened view of the tree).
  std::vector<const Comparison*> comparisons() const;
};

// Parses a whole pattern. Throws PatternError. Nesting is capped (kMaxDepth) so hostile input
// cannot exhaust the stack.
inline constexpr int kMaxDepth = 100;
Pattern parse_pattern(std::string_view text);

// An indicator stated by a pattern.
struct Extracted {
  Type type;
  std::string value;  // canonical
  std::string path;   // ObjectPath::text() it came from
};

struct Extraction {
  std::vector<Extracted> indicators;
  // Values on an indicator path that are not valid for its type ("domain-name:value
  // 'domain x.net' is not a valid domain"); the pattern itself is fine.
  std::vector<std::string> problems;
};

// Indicators from the positive comparisons of a pattern: `=`, `IN` and (for networks) `ISSUBSET`
// on the paths forage has a type for. `!=`, NOT, ordering, LIKE and MATCHES state no value.
Extraction extract_indicators(const Pattern& pattern);

// How forage reads a value compared with an object path (nullopt: not an indicator path), e.g.
// "ipv4-addr:value" -> an address or network, "file:hashes.'SHA-256'" -> sha256.
std::optional<TypeRule> path_rule(const ObjectPath& path);

}  // namespace forage::ioc::stix
