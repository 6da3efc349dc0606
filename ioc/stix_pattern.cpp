#include "ioc/stix_pattern.h"

#include <array>
#include <cctype>
#include <cstring>

#include "common/strings.h"

namespace forage::ioc::stix {
namespace {

bool ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}
bool digit(char c) {
  return c >= '0' && c <= '9';
}
bool base64_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
}

// The grammar of STIX 2.1 part 9.2 (the ANTLR grammar in the OASIS stix2-patterns repository),
// one function per rule, lowest precedence first:
//   pattern       := obs_followedby EOF
//   obs_followedby := obs_or ('FOLLOWEDBY' obs_or)*
//   obs_or        := obs_and ('OR' obs_and)*
//   obs_and       := obs_expr ('AND' obs_expr)*
//   obs_expr      := ('[' cmp_or ']' | '(' obs_followedby ')') qualifier*
//   qualifier     := 'WITHIN' number 'SECONDS' | 'REPEATS' int 'TIMES' | 'START' ts 'STOP' ts
//   cmp_or        := cmp_and ('OR' cmp_and)*
//   cmp_and       := prop_test ('AND' prop_test)*
//   prop_test     := '(' cmp_or ')' | 'EXISTS' path | path 'NOT'? operator literal
// Keywords are upper case, as in the grammar. Property names may contain '-' (the grammar wants
// such keys quoted, but "hashes.SHA-256" is common and unambiguous).
class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Pattern parse() {
    Pattern p;
    skip_ws();
    if (pos_ >= s_.size()) fail("empty pattern");
    p.root = obs_followedby();
    skip_ws();
    if (pos_ < s_.size()) fail("expected AND, OR, FOLLOWEDBY or the end of the pattern");
    return p;
  }

 private:
  [[noreturn]] void fail(const std::string& reason) const { throw PatternError(reason, pos_); }
  [[noreturn]] static void fail_at(const std::string& reason, size_t at) {
    throw PatternError(reason, at);
  }

  void skip_ws() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '*') {
        auto end = s_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) fail("unterminated comment");
        pos_ = end + 2;
      } else if (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '/') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  bool peek(char c) {
    skip_ws();
    return pos_ < s_.size() && s_[pos_] == c;
  }

  void expect(char c) {
    if (!peek(c)) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  // A keyword at the current position: the exact upper-case word, not the start of a longer one.
  bool keyword(std::string_view kw) {
    skip_ws();
    if (s_.substr(pos_, kw.size()) != kw) return false;
    size_t end = pos_ + kw.size();
    if (end < s_.size() && ident_char(s_[end])) return false;
    pos_ = end;
    return true;
  }

  void expect_keyword(std::string_view kw) {
    if (!keyword(kw)) fail("expected " + std::string(kw));
  }

  void enter() {
    if (++depth_ > kMaxDepth) fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  void leave() { --depth_; }

  static void join(Node& left, Node&& right, Node::Kind kind) {
    if (left.kind == kind && left.qualifiers.empty()) {
      left.children.push_back(std::move(right));
      return;
    }
    Node n;
    n.kind = kind;
    n.children.push_back(std::move(left));
    n.children.push_back(std::move(right));
    left = std::move(n);
  }

  Node obs_followedby() {
    Node left = obs_or();
    while (keyword("FOLLOWEDBY")) join(left, obs_or(), Node::Kind::kFollowedBy);
    return left;
  }

  Node obs_or() {
    Node left = obs_and();
    while (keyword("OR")) join(left, obs_and(), Node::Kind::kObsOr);
    return left;
  }

  Node obs_and() {
    Node left = obs_expr();
    while (keyword("AND")) join(left, obs_expr(), Node::Kind::kObsAnd);
    return left;
  }

  Node obs_expr() {
    enter();
    Node n;
    if (peek('[')) {
      ++pos_;
      n.kind = Node::Kind::kObservation;
      n.children.push_back(cmp_or());
      expect(']');
    } else if (peek('(')) {
      ++pos_;
      n = obs_followedby();
      expect(')');
    } else {
      fail("expected '[' or '('");
    }
    while (true) {
      Qualifier q;
      if (keyword("WITHIN")) {
        q.kind = Qualifier::Kind::kWithin;
        q.number = number(/*allow_float=*/true);
        expect_keyword("SECONDS");
      } else if (keyword("REPEATS")) {
        q.kind = Qualifier::Kind::kRepeats;
        q.number = number(/*allow_float=*/false);
        expect_keyword("TIMES");
      } else if (keyword("START")) {
        q.kind = Qualifier::Kind::kStartStop;
        q.start = timestamp_literal();
        expect_keyword("STOP");
        q.stop = timestamp_literal();
      } else {
        break;
      }
      // A qualifier applies to the whole expression before it: keep it on its own node so a
      // later join does not merge it with siblings.
      n.qualifiers.push_back(std::move(q));
    }
    leave();
    return n;
  }

  Node cmp_or() {
    Node left = cmp_and();
    while (keyword("OR")) join(left, cmp_and(), Node::Kind::kOr);
    return left;
  }

  Node cmp_and() {
    Node left = prop_test();
    while (keyword("AND")) join(left, prop_test(), Node::Kind::kAnd);
    return left;
  }

  Node prop_test() {
    enter();
    Node n;
    if (peek('(')) {
      ++pos_;
      n = cmp_or();
      expect(')');
      leave();
      return n;
    }
    n.kind = Node::Kind::kComparison;
    Comparison& c = n.comparison;
    c.offset = pos_;
    if (keyword("EXISTS")) {
      c.op = Op::kExists;
      c.path = object_path();
      leave();
      return n;
    }
    if (keyword("NOT")) {
      pos_ = c.offset;
      skip_ws();
      fail("NOT goes between the object path and the operator (type:property NOT = value)");
    }
    c.path = object_path();
    if (keyword("NOT")) c.negated = true;
    c.op = comparison_operator();
    switch (c.op) {
      case Op::kEq:
      case Op::kNe:
        c.value = literal(/*allow_bool=*/true);
        break;
      case Op::kGt:
      case Op::kLt:
      case Op::kGe:
      case Op::kLe:
        c.value = literal(/*allow_bool=*/false);
        break;
      case Op::kIn:
        c.value = set_literal();
        break;
      case Op::kLike:
      case Op::kMatches:
      case Op::kIsSubset:
      case Op::kIsSuperset:
        skip_ws();
        if (pos_ >= s_.size() || s_[pos_] != '\'')
          fail(std::string("expected a string after ") + std::string(op_name(c.op)));
        c.value.kind = Literal::Kind::kString;
        c.value.text = string_literal();
        break;
      case Op::kExists:
        break;
    }
    leave();
    return n;
  }

  std::string identifier(const char* what) {
    skip_ws();
    if (pos_ >= s_.size() || !ident_start(s_[pos_])) fail(std::string("expected ") + what);
    size_t start = pos_;
    while (pos_ < s_.size() && ident_char(s_[pos_])) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }

  PathStep key_step() {
    PathStep step;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '\'') {
      step.key = string_literal();
    } else {
      step.key = identifier("a property name");
    }
    return step;
  }

  ObjectPath object_path() {
    ObjectPath p;
    p.object_type = identifier("an object path (type:property)");
    expect(':');
    p.steps.push_back(key_step());
    while (true) {
      if (peek('.')) {
        ++pos_;
        p.steps.push_back(key_step());
      } else if (peek('[')) {
        ++pos_;
        PathStep step;
        if (peek('*')) {
          ++pos_;
          step.kind = PathStep::Kind::kAnyIndex;
        } else {
          skip_ws();
          size_t at = pos_;
          std::string n = number(/*allow_float=*/false, /*allow_negative=*/true);
          step.kind = PathStep::Kind::kIndex;
          if (n.size() > 9) fail_at("list index out of range", at);
          step.index = std::stol(n);
        }
        expect(']');
        p.steps.push_back(std::move(step));
      } else {
        break;
      }
    }
    return p;
  }

  Op comparison_operator() {
    skip_ws();
    auto rest = s_.substr(pos_);
    auto take = [&](std::string_view sym, Op op) {
      if (rest.substr(0, sym.size()) != sym) return false;
      pos_ += sym.size();
      result_op_ = op;
      return true;
    };
    if (take("==", Op::kEq) || take("!=", Op::kNe) || take("<>", Op::kNe) || take("<=", Op::kLe) ||
        take(">=", Op::kGe) || take("=", Op::kEq) || take("<", Op::kLt) || take(">", Op::kGt))
      return result_op_;
    if (keyword("IN")) return Op::kIn;
    if (keyword("LIKE")) return Op::kLike;
    if (keyword("MATCHES")) return Op::kMatches;
    if (keyword("ISSUBSET")) return Op::kIsSubset;
    if (keyword("ISSUPERSET")) return Op::kIsSuperset;
    fail(
        "expected a comparison operator (=, !=, <, >, <=, >=, IN, LIKE, MATCHES, ISSUBSET, "
        "ISSUPERSET)");
  }

  // 'text' with \' and \\ as the only escapes (STIX 2.1 9.3).
  std::string string_literal() {
    size_t open = pos_;
    ++pos_;  // the opening quote
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) fail_at("unterminated string", open);
      char c = s_[pos_];
      if (c == '\'') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) fail_at("unterminated string", open);
        char e = s_[pos_ + 1];
        if (e != '\'' && e != '\\')
          fail(std::string("invalid escape '\\") + printable(std::string_view(&e, 1)) +
               "' in string (only \\' and \\\\ are allowed)");
        out += e;
        pos_ += 2;
        continue;
      }
      out += c;
      ++pos_;
    }
  }

  // The body of a prefixed literal (t'...', b'...', h'...'): no escapes inside.
  std::string prefixed_body(const char* what) {
    size_t open = pos_;
    pos_ += 2;  // prefix and quote
    auto close = s_.find('\'', pos_);
    if (close == std::string_view::npos) fail_at(std::string("unterminated ") + what, open);
    std::string body(s_.substr(pos_, close - pos_));
    pos_ = close + 1;
    return body;
  }

  std::string timestamp_literal() {
    skip_ws();
    if (s_.substr(pos_, 2) != "t'") fail("expected a timestamp t'YYYY-MM-DDTHH:MM:SSZ'");
    size_t at = pos_;
    std::string t = prefixed_body("timestamp");
    if (!valid_timestamp(t)) fail_at("invalid timestamp '" + printable(t) + "'", at);
    return t;
  }

  // YYYY-MM-DDTHH:MM:SS[.s+]Z with the ranges of the grammar's TimestampLiteral.
  static bool valid_timestamp(std::string_view t) {
    if (t.size() < 20) return false;
    for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18})
      if (!digit(t[i])) return false;
    if (t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':') return false;
    auto two = [&](size_t i) { return (t[i] - '0') * 10 + (t[i + 1] - '0'); };
    int month = two(5);
    int day = two(8);
    if (month < 1 || month > 12 || day < 1 || day > 31) return false;
    if (two(11) > 23 || two(14) > 59 || two(17) > 60) return false;  // 60: a leap second
    size_t i = 19;
    if (t[i] == '.') {
      ++i;
      size_t start = i;
      while (i < t.size() && digit(t[i])) ++i;
      if (i == start) return false;
    }
    return i + 1 == t.size() && t[i] == 'Z';
  }

  static bool valid_base64(std::string_view b) {
    if (b.size() % 4 != 0) return false;
    for (size_t i = 0; i < b.size(); ++i) {
      char c = b[i];
      if (base64_char(c)) continue;
      // '=' only as padding: "xx==" or "xxx=" at the very end
      if (c != '=' || i + 2 < b.size()) return false;
      if (i + 2 == b.size() && b[i + 1] != '=') return false;
    }
    return true;
  }

  // [+-]?digits, or with allow_float [+-]?digits?.digits; returns the text as written.
  std::string number(bool allow_float, bool allow_negative = false) {
    skip_ws();
    size_t start = pos_;
    if (pos_ < s_.size() && (s_[pos_] == '+' || (allow_negative && s_[pos_] == '-'))) ++pos_;
    size_t digits = pos_;
    while (pos_ < s_.size() && digit(s_[pos_])) ++pos_;
    bool is_float = false;
    if (allow_float && pos_ < s_.size() && s_[pos_] == '.') {
      size_t frac = ++pos_;
      while (pos_ < s_.size() && digit(s_[pos_])) ++pos_;
      if (pos_ == frac) fail_at("expected digits after '.'", start);
      is_float = true;
    }
    if (pos_ == digits) fail_at(allow_float ? "expected a number" : "expected an integer", start);
    if (!is_float && s_[digits] == '0' && pos_ - digits > 1)
      fail_at("integer with a leading zero", start);
    if (pos_ < s_.size() && ident_char(s_[pos_])) fail("unexpected character after a number");
    return std::string(s_.substr(start, pos_ - start));
  }

  Literal literal(bool allow_bool) {
    skip_ws();
    Literal l;
    if (pos_ >= s_.size()) fail("expected a literal");
    char c = s_[pos_];
    char next = pos_ + 1 < s_.size() ? s_[pos_ + 1] : '\0';
    size_t at = pos_;
    if (c == '\'') {
      l.kind = Literal::Kind::kString;
      l.text = string_literal();
    } else if (c == 't' && next == '\'') {
      l.kind = Literal::Kind::kTimestamp;
      l.text = timestamp_literal();
    } else if (c == 'b' && next == '\'') {
      l.kind = Literal::Kind::kBinary;
      l.text = prefixed_body("binary literal");
      if (!valid_base64(l.text)) fail_at("invalid base64 in binary literal", at);
    } else if (c == 'h' && next == '\'') {
      l.kind = Literal::Kind::kHex;
      l.text = prefixed_body("hex literal");
      bool ok = l.text.size() % 2 == 0;
      for (char h : l.text) ok = ok && std::isxdigit(static_cast<unsigned char>(h));
      if (!ok) fail_at("invalid hex literal", at);
    } else if (keyword("true") || keyword("false")) {
      if (!allow_bool) fail_at("a boolean cannot be ordered", at);
      l.kind = Literal::Kind::kBool;
      l.text = std::string(s_.substr(at, pos_ - at));
    } else if (digit(c) || c == '+' || c == '-' || c == '.') {
      l.text = number(/*allow_float=*/true, /*allow_negative=*/true);
      l.kind = l.text.find('.') == std::string::npos ? Literal::Kind::kInt : Literal::Kind::kFloat;
    } else {
      fail("expected a literal ('string', number, true/false, t'...', b'...', h'...')");
    }
    return l;
  }

  Literal set_literal() {
    Literal set;
    set.kind = Literal::Kind::kSet;
    expect('(');
    if (peek(')')) {
      ++pos_;
      return set;
    }
    while (true) {
      set.set.push_back(literal(/*allow_bool=*/true));
      if (peek(',')) {
        ++pos_;
        continue;
      }
      expect(')');
      return set;
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;
  Op result_op_ = Op::kEq;
};

void collect(const Node& n, std::vector<const Comparison*>& out) {
  if (n.kind == Node::Kind::kComparison) out.push_back(&n.comparison);
  for (const auto& c : n.children) collect(c, out);
}

bool plain_identifier(std::string_view k) {
  if (k.empty() || !ident_start(k[0])) return false;
  for (char c : k)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

std::optional<Type> hash_key(std::string_view key) {
  std::string k = to_lower(key);
  if (k == "md5") return Type::kMd5;
  if (k == "sha-1" || k == "sha1") return Type::kSha1;
  if (k == "sha-256" || k == "sha256") return Type::kSha256;
  if (k == "sha-512" || k == "sha512") return Type::kSha512;
  return std::nullopt;
}

struct PathRule {
  std::string_view path;  // object type and keys joined with ':' and '.', any index as [*]
  ValueRule rule;
  Type type;
};

constexpr std::array<PathRule, 20> kPathRules = {{
    {"ipv4-addr:value", ValueRule::kIp, Type::kIpv4},
    {"ipv6-addr:value", ValueRule::kIp, Type::kIpv6},
    {"domain-name:value", ValueRule::kExact, Type::kDomain},
    // MISP's STIX export writes a domain|ip attribute as domain-name:resolves_to_refs[*].value
    {"domain-name:resolves_to_refs[*].value", ValueRule::kIp, Type::kIpv4},
    {"url:value", ValueRule::kExact, Type::kUrl},
    {"email-addr:value", ValueRule::kExact, Type::kEmail},
    {"email-message:from_ref.value", ValueRule::kExact, Type::kEmail},
    {"email-message:sender_ref.value", ValueRule::kExact, Type::kEmail},
    {"email-message:body_multipart[*].body_raw_ref.name", ValueRule::kExact, Type::kFilename},
    {"file:name", ValueRule::kExact, Type::kFilename},
    {"file:parent_directory_ref.path", ValueRule::kExact, Type::kFilepath},
    {"directory:path", ValueRule::kExact, Type::kFilepath},
    {"process:image_ref.name", ValueRule::kExact, Type::kFilename},
    {"process:binary_ref.name", ValueRule::kExact, Type::kFilename},
    {"user-account:user_id", ValueRule::kExact, Type::kUsername},
    {"user-account:account_login", ValueRule::kExact, Type::kUsername},
    {"x509-certificate:subject", ValueRule::kExact, Type::kX509Dn},
    {"x509-certificate:issuer", ValueRule::kExact, Type::kX509Dn},
    {"network-traffic:dst_ref.value", ValueRule::kIp, Type::kIpv4},
    {"network-traffic:src_ref.value", ValueRule::kIp, Type::kIpv4},
}};

std::string rule_key(const ObjectPath& p) {
  std::string k = p.object_type + ":";
  bool first = true;
  for (const auto& s : p.steps) {
    if (s.kind == PathStep::Kind::kKey) {
      if (!first) k += '.';
      k += s.key;
    } else {
      k += "[*]";
    }
    first = false;
  }
  return k;
}

}  // namespace

PatternError::PatternError(const std::string& reason, size_t offset)
    : std::runtime_error(reason + " at offset " + std::to_string(offset)),
      reason_(reason),
      offset_(offset) {}

std::string ObjectPath::text() const {
  std::string out = object_type + ":";
  bool first = true;
  for (const auto& s : steps) {
    switch (s.kind) {
      case PathStep::Kind::kKey: {
        if (!first) out += '.';
        if (plain_identifier(s.key)) {
          out += s.key;
        } else {
          out += '\'';
          for (char c : s.key) {
            if (c == '\'' || c == '\\') out += '\\';
            out += c;
          }
          out += '\'';
        }
        break;
      }
      case PathStep::Kind::kIndex:
        out += "[" + std::to_string(s.index) + "]";
        break;
      case PathStep::Kind::kAnyIndex:
        out += "[*]";
        break;
    }
    first = false;
  }
  return out;
}

std::string_view op_name(Op op) {
  switch (op) {
    case Op::kEq:
      return "=";
    case Op::kNe:
      return "!=";
    case Op::kGt:
      return ">";
    case Op::kLt:
      return "<";
    case Op::kGe:
      return ">=";
    case Op::kLe:
      return "<=";
    case Op::kIn:
      return "IN";
    case Op::kLike:
      return "LIKE";
    case Op::kMatches:
      return "MATCHES";
    case Op::kIsSubset:
      return "ISSUBSET";
    case Op::kIsSuperset:
      return "ISSUPERSET";
    case Op::kExists:
      return "EXISTS";
  }
  return "?";
}

std::vector<const Comparison*> Pattern::comparisons() const {
  std::vector<const Comparison*> out;
  collect(root, out);
  return out;
}

Pattern parse_pattern(std::string_view text) {
  return Parser(text).parse();
}

std::optional<TypeRule> path_rule(const ObjectPath& path) {
  // Any hashes dictionary (file, artifact, a process image, an e-mail attachment) names a hash.
  if (path.steps.size() >= 2) {
    const auto& last = path.steps.back();
    const auto& prev = path.steps[path.steps.size() - 2];
    if (last.kind == PathStep::Kind::kKey && prev.kind == PathStep::Kind::kKey &&
        prev.key == "hashes") {
      if (auto t = hash_key(last.key)) return TypeRule{ValueRule::kExact, *t};
      return std::nullopt;
    }
  }
  std::string key = rule_key(path);
  for (const auto& r : kPathRules)
    if (r.path == key) return TypeRule{r.rule, r.type};
  return std::nullopt;
}

Extraction extract_indicators(const Pattern& pattern) {
  Extraction out;
  for (const Comparison* c : pattern.comparisons()) {
    if (c->negated) continue;
    if (c->op != Op::kEq && c->op != Op::kIn && c->op != Op::kIsSubset) continue;
    auto rule = path_rule(c->path);
    if (!rule) continue;
    // ISSUBSET states "inside this network": an indicator only for address paths.
    if (c->op == Op::kIsSubset && rule->rule != ValueRule::kIp) continue;
    std::string path = c->path.text();
    std::vector<const Literal*> values;
    if (c->value.kind == Literal::Kind::kSet) {
      for (const auto& e : c->value.set) values.push_back(&e);
    } else {
      values.push_back(&c->value);
    }
    for (const Literal* v : values) {
      if (v->kind != Literal::Kind::kString) {
        out.problems.push_back(path + " compared with a non-string value");
        continue;
      }
      auto typed = read_typed(*rule, v->text);
      if (!typed.problem.empty()) {
        out.problems.push_back(path + ": " + typed.problem);
        continue;
      }
      for (auto& cl : typed.values) out.indicators.push_back({cl.type, std::move(cl.value), path});
    }
  }
  return out;
}

}  // namespace forage::ioc::stix
