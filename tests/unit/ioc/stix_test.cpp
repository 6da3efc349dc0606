// STIX 2.1: the pattern grammar (ioc/stix_pattern.h) and bundles read by read_json.
#include <gtest/gtest.h>

#include <string>

#include "common/error.h"
#include "common/file.h"
#include "ioc/reader.h"
#include "ioc/stix_pattern.h"
#include "ioc/writers.h"

namespace forage::ioc {
namespace {

using stix::Literal;
using stix::Node;
using stix::Op;
using stix::parse_pattern;
using stix::PatternError;

std::string data_path(const std::string& name) {
  return std::string(FORAGE_TEST_DATA) + "/ioc/" + name;
}

IocSet read_stix(std::string_view text, bool keep_going = false,
                 const std::string& file = "b.json") {
  IocSet set;
  ReadOptions opts;
  opts.keep_going = keep_going;
  Source src;
  src.file = file;
  read_json(text, src, opts, set, Format::kJson);
  return set;
}

const Indicator* find(const IocSet& set, Type t, const std::string& value) {
  for (const auto& i : set.indicators)
    if (i.type == t && i.value == value) return &i;
  return nullptr;
}

// The message of the PatternError `pattern` raises ("" when it parses).
std::string pattern_error(std::string_view pattern) {
  try {
    parse_pattern(pattern);
  } catch (const PatternError& e) {
    return e.what();
  }
  return "";
}

std::string tsv_of(std::string_view pattern) {
  IocSet set;
  for (auto& e : stix::extract_indicators(parse_pattern(pattern)).indicators) {
    Indicator i;
    i.type = e.type;
    i.value = e.value;
    set.add(i);
  }
  return to_tsv(set);
}

// --- the grammar ---

TEST(StixPattern, SimpleComparison) {
  auto p = parse_pattern("[ipv4-addr:value = '10.0.0.0']");
  ASSERT_EQ(p.root.kind, Node::Kind::kObservation);
  auto cmps = p.comparisons();
  ASSERT_EQ(cmps.size(), 1u);
  EXPECT_EQ(cmps[0]->path.object_type, "ipv4-addr");
  EXPECT_EQ(cmps[0]->path.text(), "ipv4-addr:value");
  EXPECT_EQ(cmps[0]->op, Op::kEq);
  EXPECT_FALSE(cmps[0]->negated);
  EXPECT_EQ(cmps[0]->value.kind, Literal::Kind::kString);
  EXPECT_EQ(cmps[0]->value.text, "10.0.0.0");
  EXPECT_EQ(cmps[0]->offset, 1u);
}

TEST(StixPattern, ComparisonPrecedenceAndBindsTighterThanOr) {
  auto p = parse_pattern("[a:b = 'x' OR a:c = 'y' AND a:d = 'z']");
  ASSERT_EQ(p.root.kind, Node::Kind::kObservation);
  const Node& e = p.root.children.at(0);
  ASSERT_EQ(e.kind, Node::Kind::kOr);
  ASSERT_EQ(e.children.size(), 2u);
  EXPECT_EQ(e.children[0].kind, Node::Kind::kComparison);
  ASSERT_EQ(e.children[1].kind, Node::Kind::kAnd);
  EXPECT_EQ(e.children[1].children[1].comparison.value.text, "z");
}

TEST(StixPattern, ObservationPrecedence) {
  // FOLLOWEDBY < OR < AND, qualifiers bind to the observation before them.
  auto p = parse_pattern(
      "[a:b = '1'] OR [a:b = '2'] AND [a:b = '3'] FOLLOWEDBY [a:b = '4'] WITHIN 5 SECONDS");
  ASSERT_EQ(p.root.kind, Node::Kind::kFollowedBy);
  ASSERT_EQ(p.root.children.size(), 2u);
  const Node& left = p.root.children[0];
  ASSERT_EQ(left.kind, Node::Kind::kObsOr);
  EXPECT_EQ(left.children[1].kind, Node::Kind::kObsAnd);
  const Node& right = p.root.children[1];
  EXPECT_EQ(right.kind, Node::Kind::kObservation);
  ASSERT_EQ(right.qualifiers.size(), 1u);
  EXPECT_EQ(right.qualifiers[0].kind, stix::Qualifier::Kind::kWithin);
  EXPECT_EQ(right.qualifiers[0].number, "5");
  EXPECT_TRUE(p.root.qualifiers.empty());
}

TEST(StixPattern, ParenthesesQualifiersAndAllOperators) {
  auto p = parse_pattern(
      "([file:size > 10 AND file:size <= 2048 AND file:size >= -1.5 AND file:size < +7 AND "
      "file:name LIKE 'inv%.exe' AND file:name MATCHES '^a\\\\b$' AND file:name NOT = 'x' AND "
      "file:name != 'y' AND file:name <> 'z' AND file:name == 'w' AND EXISTS file:ctime AND "
      "ipv4-addr:value ISSUPERSET '10.0.0.0/8' AND ipv4-addr:value ISSUBSET '10.0.0.0/8' AND "
      "file:mime_type IN ('a', 'b', 1, true) AND file:is_encrypted = false AND "
      "artifact:payload_bin = b'aGVsbG8=' AND artifact:payload_bin = h'00ff' AND "
      "file:ctime = t'2016-11-23T10:42:39.123Z'] REPEATS 3 TIMES) "
      "START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'");
  auto cmps = p.comparisons();
  ASSERT_EQ(cmps.size(), 18u);
  EXPECT_EQ(cmps[0]->op, Op::kGt);
  EXPECT_EQ(cmps[0]->value.kind, Literal::Kind::kInt);
  EXPECT_EQ(cmps[1]->op, Op::kLe);
  EXPECT_EQ(cmps[2]->op, Op::kGe);
  EXPECT_EQ(cmps[2]->value.kind, Literal::Kind::kFloat);
  EXPECT_EQ(cmps[2]->value.text, "-1.5");
  EXPECT_EQ(cmps[3]->op, Op::kLt);
  EXPECT_EQ(cmps[4]->op, Op::kLike);
  EXPECT_EQ(cmps[5]->op, Op::kMatches);
  EXPECT_EQ(cmps[5]->value.text, "^a\\b$");
  EXPECT_TRUE(cmps[6]->negated);
  EXPECT_EQ(cmps[6]->op, Op::kEq);
  EXPECT_EQ(cmps[7]->op, Op::kNe);
  EXPECT_EQ(cmps[8]->op, Op::kNe);
  EXPECT_EQ(cmps[9]->op, Op::kEq);
  EXPECT_EQ(cmps[10]->op, Op::kExists);
  EXPECT_EQ(cmps[11]->op, Op::kIsSuperset);
  EXPECT_EQ(cmps[12]->op, Op::kIsSubset);
  EXPECT_EQ(cmps[13]->op, Op::kIn);
  ASSERT_EQ(cmps[13]->value.set.size(), 4u);
  EXPECT_EQ(cmps[13]->value.set[2].kind, Literal::Kind::kInt);
  EXPECT_EQ(cmps[13]->value.set[3].kind, Literal::Kind::kBool);
  EXPECT_EQ(cmps[14]->value.kind, Literal::Kind::kBool);
  EXPECT_EQ(cmps[15]->value.kind, Literal::Kind::kBinary);
  EXPECT_EQ(cmps[16]->value.kind, Literal::Kind::kHex);
  EXPECT_EQ(cmps[17]->value.kind, Literal::Kind::kTimestamp);
  // Parentheses make no node: both qualifiers apply to the observation, in written order.
  ASSERT_EQ(p.root.kind, Node::Kind::kObservation);
  ASSERT_EQ(p.root.qualifiers.size(), 2u);
  EXPECT_EQ(p.root.qualifiers[0].kind, stix::Qualifier::Kind::kRepeats);
  EXPECT_EQ(p.root.qualifiers[0].number, "3");
  EXPECT_EQ(p.root.qualifiers[1].kind, stix::Qualifier::Kind::kStartStop);
  EXPECT_EQ(p.root.qualifiers[1].start, "2016-06-01T00:00:00Z");
  EXPECT_EQ(p.root.qualifiers[1].stop, "2016-07-01T00:00:00Z");
}

TEST(StixPattern, ObjectPaths) {
  auto p = parse_pattern(
      "[file:hashes.'SHA-256' = 'a' AND email-message:body_multipart[*].body_raw_ref.name = 'b' "
      "AND x:list[0].y[-1] = 'c' AND x:'quote\\'d'.k = 'e' AND "
      "file:hashes.SHA-1 = 'f']");
  auto cmps = p.comparisons();
  ASSERT_EQ(cmps.size(), 5u);
  EXPECT_EQ(cmps[0]->path.text(), "file:hashes.'SHA-256'");
  ASSERT_EQ(cmps[0]->path.steps.size(), 2u);
  EXPECT_EQ(cmps[0]->path.steps[1].key, "SHA-256");
  EXPECT_EQ(cmps[1]->path.text(), "email-message:body_multipart[*].body_raw_ref.name");
  EXPECT_EQ(cmps[1]->path.steps[1].kind, stix::PathStep::Kind::kAnyIndex);
  EXPECT_EQ(cmps[2]->path.steps[1].kind, stix::PathStep::Kind::kIndex);
  EXPECT_EQ(cmps[2]->path.steps[1].index, 0);
  EXPECT_EQ(cmps[2]->path.steps[3].index, -1);
  EXPECT_EQ(cmps[2]->path.text(), "x:list[0].y[-1]");
  EXPECT_EQ(cmps[3]->path.steps[0].key, "quote'd");
  EXPECT_EQ(cmps[3]->path.text(), "x:'quote\\'d'.k");
  EXPECT_EQ(cmps[4]->path.steps[1].key, "SHA-1");
}

TEST(StixPattern, CommentsAndWhitespace) {
  auto p = parse_pattern("  /* c2 */ [ ipv4-addr:value\n=\t'1.2.3.4' // the server\n ]  ");
  EXPECT_EQ(p.comparisons().size(), 1u);
}

TEST(StixPattern, ErrorsNameReasonAndOffset) {
  // Unbalanced brackets.
  EXPECT_EQ(pattern_error("[ipv4-addr:value = '10.0.0.0'"), "expected ']' at offset 29");
  EXPECT_EQ(pattern_error("[ipv4-addr:value = '10.0.0.0']]"),
            "expected AND, OR, FOLLOWEDBY or the end of the pattern at offset 30");
  EXPECT_EQ(pattern_error("([file:name = 'a']"), "expected ')' at offset 18");
  EXPECT_EQ(pattern_error("[(file:name = 'a']"), "expected ')' at offset 17");
  // Unterminated strings point at the opening quote.
  EXPECT_EQ(pattern_error("[file:name = 'abc]"), "unterminated string at offset 13");
  EXPECT_EQ(pattern_error("[file:name = 'abc\\']"), "unterminated string at offset 13");
  EXPECT_EQ(pattern_error("[file:name = 'a\\x']"),
            "invalid escape '\\x' in string (only \\' and \\\\ are allowed) at offset 15");
  EXPECT_EQ(pattern_error(""), "empty pattern at offset 0");
  EXPECT_EQ(pattern_error("ipv4-addr:value = '1.2.3.4'"), "expected '[' or '(' at offset 0");
  EXPECT_EQ(pattern_error("[file = 'a']"), "expected ':' at offset 6");
  EXPECT_EQ(pattern_error("[file:name ~ 'a']"),
            "expected a comparison operator (=, !=, <, >, <=, >=, IN, LIKE, MATCHES, ISSUBSET, "
            "ISSUPERSET) at offset 11");
  EXPECT_EQ(
      pattern_error("[file:name = ]"),
      "expected a literal ('string', number, true/false, t'...', b'...', h'...') at offset 13");
  EXPECT_EQ(pattern_error("[file:name LIKE 5]"), "expected a string after LIKE at offset 16");
  EXPECT_EQ(pattern_error("[file:size > true]"), "a boolean cannot be ordered at offset 13");
  EXPECT_EQ(pattern_error("[file:size = 007]"), "integer with a leading zero at offset 13");
  EXPECT_EQ(pattern_error("[file:ctime = t'2016-13-01T00:00:00Z']"),
            "invalid timestamp '2016-13-01T00:00:00Z' at offset 14");
  EXPECT_EQ(pattern_error("[file:ctime = t'2016-01-01]"), "unterminated timestamp at offset 14");
  EXPECT_EQ(pattern_error("[artifact:payload_bin = b'abc']"),
            "invalid base64 in binary literal at offset 24");
  EXPECT_EQ(pattern_error("[artifact:payload_bin = h'0g']"), "invalid hex literal at offset 24");
  EXPECT_EQ(pattern_error("[a:b = 'x'] WITHIN -5 SECONDS"), "expected a number at offset 19");
  EXPECT_EQ(pattern_error("[a:b = 'x'] WITHIN 5 MINUTES"), "expected SECONDS at offset 21");
  EXPECT_EQ(pattern_error("[a:b = 'x'] REPEATS 2.5 TIMES"), "expected TIMES at offset 21");
  EXPECT_EQ(pattern_error("[a:b = 'x'] REPEATS 2x TIMES"),
            "unexpected character after a number at offset 21");
  // NOT belongs between the path and the operator (STIX 2.1 9.5).
  EXPECT_EQ(pattern_error("[NOT a:b = 'x']"),
            "NOT goes between the object path and the operator (type:property NOT = value) at "
            "offset 1");
  EXPECT_EQ(pattern_error("[a:b IN ('x', 'y']"), "expected ')' at offset 17");
  EXPECT_EQ(pattern_error("[a:b = 'x' /* open"), "unterminated comment at offset 11");
  // Keywords are upper case in the grammar.
  EXPECT_EQ(pattern_error("[a:b = 'x' and a:c = 'y']"), "expected ']' at offset 11");
  // Two adjacent strings are no path.
  EXPECT_EQ(pattern_error("[x:'it''s' = 'd']"),
            "expected a comparison operator (=, !=, <, >, <=, >=, IN, LIKE, MATCHES, ISSUBSET, "
            "ISSUPERSET) at offset 7");
}

TEST(StixPattern, NestingIsCappedNotACrash) {
  std::string deep(stix::kMaxDepth + 5, '(');
  deep += "[a:b = 'x']";
  deep += std::string(stix::kMaxDepth + 5, ')');
  auto msg = pattern_error(deep);
  EXPECT_NE(msg.find("nesting deeper than 100 levels"), std::string::npos) << msg;
  std::string hostile(1 << 20, '(');
  EXPECT_NE(pattern_error(hostile).find("nesting deeper"), std::string::npos);
  std::string inner = "[" + std::string(1 << 16, '(') + "a:b = 'x']";
  EXPECT_NE(pattern_error(inner).find("nesting deeper"), std::string::npos);
  // Within the cap, a deep pattern parses.
  std::string ok(50, '(');
  ok += "[a:b = 'x']" + std::string(50, ')');
  EXPECT_EQ(pattern_error(ok), "");
}

// --- indicators from patterns ---

TEST(StixExtract, PositiveComparisonsOnKnownPaths) {
  EXPECT_EQ(tsv_of("[ipv4-addr:value = '198.51.100.1' OR ipv6-addr:value = '2001:DB8:0:0::1']"),
            "ipv4\t198.51.100.1\nipv6\t2001:db8::1\n");
  EXPECT_EQ(tsv_of("[ipv4-addr:value = '223.166.0.0/15']"), "cidr\t223.166.0.0/15\n");
  EXPECT_EQ(tsv_of("[ipv4-addr:value ISSUBSET '10.1.2.3/8']"), "cidr\t10.0.0.0/8\n");
  EXPECT_EQ(tsv_of("[ipv4-addr:value ISSUPERSET '10.0.0.0/8']"), "");
  EXPECT_EQ(tsv_of("[domain-name:value = 'Evil.Example.COM']"), "domain\tevil.example.com\n");
  EXPECT_EQ(tsv_of("[url:value = 'HTTP://Evil.example.com/A']"),
            "url\thttp://evil.example.com/A\n");
  EXPECT_EQ(tsv_of("[email-addr:value = 'x@evil.example.com']"), "email\tx@evil.example.com\n");
  EXPECT_EQ(tsv_of("[email-message:sender_ref.value = 'y@evil.example.com']"),
            "email\ty@evil.example.com\n");
  EXPECT_EQ(tsv_of("[file:hashes.MD5 = '001DD76872D80801692FF942308C64E6' AND "
                   "file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709' AND "
                   "file:hashes.SHA256 = "
                   "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"),
            "md5\t001dd76872d80801692ff942308c64e6\n"
            "sha1\tda39a3ee5e6b4b0d3255bfef95601890afd80709\n"
            "sha256\te3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n");
  EXPECT_EQ(tsv_of("[file:hashes.'SHA-512' = '" + std::string(128, 'A') + "']"),
            "sha512\t" + std::string(128, 'a') + "\n");
  EXPECT_EQ(tsv_of("[directory:path = '/dev/shm/.x'] OR [user-account:user_id = 'root2']"),
            "filepath\t/dev/shm/.x\nusername\troot2\n");
  EXPECT_EQ(tsv_of("[x509-certificate:issuer = 'CN=WEBMAIL' AND "
                   "x509-certificate:serial_number = '4c:0b']"),
            "x509-dn\tCN=WEBMAIL\n");
  EXPECT_EQ(tsv_of("[x509-certificate:subject = 'CN=evil, O=Bad Corp, C=XX']"),
            "x509-dn\tCN=evil, O=Bad Corp, C=XX\n");
  EXPECT_EQ(
      tsv_of("[network-traffic:src_ref.value = '192.0.2.9' AND network-traffic:dst_port = 22]"),
      "ipv4\t192.0.2.9\n");
  EXPECT_EQ(tsv_of("[domain-name:value = 'circl.lu' AND "
                   "domain-name:resolves_to_refs[*].value = '149.13.33.14']"),
            "domain\tcircl.lu\nipv4\t149.13.33.14\n");
  EXPECT_EQ(tsv_of("[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]"),
            "ipv4\t192.0.2.1\nipv4\t192.0.2.2\n");
}

TEST(StixExtract, NegationsAndNonEqualityStateNoValue) {
  EXPECT_EQ(tsv_of("[ipv4-addr:value != '192.0.2.1']"), "");
  EXPECT_EQ(tsv_of("[ipv4-addr:value NOT = '192.0.2.1']"), "");
  EXPECT_EQ(tsv_of("[ipv4-addr:value NOT IN ('192.0.2.1')]"), "");
  EXPECT_EQ(tsv_of("[domain-name:value LIKE '%.evil.com']"), "");
  EXPECT_EQ(tsv_of("[email-message:subject MATCHES '^x']"), "");
  EXPECT_EQ(tsv_of("[file:size = '1.2.3.4']"), "");  // not an indicator path
  EXPECT_EQ(tsv_of("[file:hashes.'SHA3-256' = 'abcd']"), "");
}

TEST(StixExtract, InvalidValuesAreProblemsNotIndicators) {
  auto ex = stix::extract_indicators(
      parse_pattern("[domain-name:value = 'domain autuo.xicp.net' OR ipv4-addr:value = 5 OR "
                    "file:hashes.MD5 = 'abc' OR ipv4-addr:value = '1.2.3.4']"));
  ASSERT_EQ(ex.indicators.size(), 1u);
  EXPECT_EQ(ex.indicators[0].value, "1.2.3.4");
  EXPECT_EQ(ex.indicators[0].path, "ipv4-addr:value");
  ASSERT_EQ(ex.problems.size(), 3u);
  EXPECT_EQ(ex.problems[0], "domain-name:value: 'domain autuo.xicp.net' is not a valid domain");
  EXPECT_EQ(ex.problems[1], "ipv4-addr:value compared with a non-string value");
  EXPECT_EQ(ex.problems[2], "file:hashes.MD5: 'abc' is not a valid MD5 hash");
}

// --- bundles ---

TEST(StixBundle, IndicatorsMarkingsAndSources) {
  auto set = read_stix(read_file(data_path("stix_bundle.json")));
  EXPECT_EQ(to_tsv(set),
            "cidr\t185.220.102.0/24\n"
            "cidr\t198.51.100.16/28\n"
            "domain\tevil-update.example.net\n"
            "email\ta@phish.example.com\n"
            "email\tb@phish.example.com\n"
            "email\thelpdesk@evil-update.example.net\n"
            "filename\tkworkerds\n"
            "filename\tratatosk.sh\n"
            "filepath\t/var/tmp/.x\n"
            "ipv4\t185.220.101.7\n"
            "ipv4\t203.0.113.66\n"
            "ipv6\t2001:db8::7\n"
            "md5\td41d8cd98f00b204e9800998ecf8427e\n"
            "sha1\tda39a3ee5e6b4b0d3255bfef95601890afd80709\n"
            "sha256\te3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "url\thttps://evil-update.example.net/payload.bin\n"
            "username\tjdoe\n"
            "username\tsvc-backup\n"
            "x509-dn\t/DC=org/DC=example/OU=Robots/CN=robot job runner\n");
  EXPECT_TRUE(set.errors.empty());
  EXPECT_EQ(set.tlp, "TLP:AMBER+STRICT");

  const Indicator* c2 = find(set, Type::kIpv4, "185.220.101.7");
  ASSERT_NE(c2, nullptr);
  EXPECT_EQ(c2->source.json_path, "/objects/2/pattern");
  EXPECT_EQ(c2->source.display(), "b.json#/objects/2/pattern");
  EXPECT_EQ(c2->tlp, "TLP:AMBER");  // the well-known STIX 2.1 TLP marking, not in the bundle
  EXPECT_EQ(c2->context, "ratatosk C2: Command and control server of the ratatosk miner");

  const Indicator* hash =
      find(set, Type::kSha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  ASSERT_NE(hash, nullptr);
  EXPECT_EQ(hash->tlp, "TLP:AMBER+STRICT");  // TLP 2.0 extension marking
  EXPECT_EQ(hash->context, "ratatosk dropper");

  const Indicator* dom = find(set, Type::kDomain, "evil-update.example.net");
  ASSERT_NE(dom, nullptr);
  EXPECT_EQ(dom->tlp, "TLP:GREEN");  // a definition_type "tlp" marking defined in the bundle
  EXPECT_EQ(dom->context, "Phishing and web delivery");
  EXPECT_EQ(find(set, Type::kDomain, "example.org"), nullptr);       // NOT =
  EXPECT_EQ(find(set, Type::kDomain, "good.example.com"), nullptr);  // !=

  EXPECT_EQ(find(set, Type::kUsername, "jdoe")->tlp, "");  // unmarked: read_input fills the set's

  const Indicator* sco = find(set, Type::kSha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  ASSERT_NE(sco, nullptr);
  EXPECT_EQ(sco->source.json_path, "/objects/8/hashes/SHA-1");
  EXPECT_EQ(find(set, Type::kIpv4, "203.0.113.66")->source.json_path, "/objects/7/value");

  bool yara_note = false;
  for (const auto& n : set.notes)
    yara_note |= n.find("indicator--a1b2c3d4-0005-4000-8000-000000000005 has a yara pattern") !=
                 std::string::npos;
  EXPECT_TRUE(yara_note);
}

TEST(StixBundle, ReadInputFillsUnmarkedIndicatorsWithTheSetTlp) {
  IocSet set;
  Source src;
  src.file = "b.json";
  read_input(read_file(data_path("stix_bundle.json")), src, ReadOptions{}, set);
  EXPECT_EQ(find(set, Type::kUsername, "jdoe")->tlp, "TLP:AMBER+STRICT");
  EXPECT_EQ(find(set, Type::kIpv4, "185.220.101.7")->tlp, "TLP:AMBER");
}

const char* kBrokenPatternBundle = R"({"type": "bundle", "id": "bundle--1", "objects": [
  {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000001",
   "pattern": "[ipv4-addr:value = '192.0.2.1']", "pattern_type": "stix"},
  {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000002",
   "pattern": "[ipv4-addr:value = '192.0.2.2' AND domain-name:value = 'x.example.com'", "pattern_type": "stix"},
  {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000003",
   "pattern": "[file:name = 'unterminated]", "pattern_type": "stix"},
  {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000004",
   "pattern": 42},
  "not an object",
  {"type": "indicator", "spec_version": "2.1", "id": "indicator--aaaaaaaa-0000-4000-8000-000000000005",
   "pattern": "[domain-name:value = 'good.example.com']"}
]})";

TEST(StixBundle, BrokenPatternIsFatalWithoutKeepGoing) {
  try {
    read_stix(kBrokenPatternBundle);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "b.json#/objects/1/pattern: STIX pattern of "
                 "indicator--aaaaaaaa-0000-4000-8000-000000000002: expected ']' at offset 70");
  }
}

TEST(StixBundle, KeepGoingKeepsTheGoodIndicatorsAndNamesEachProblem) {
  auto set = read_stix(kBrokenPatternBundle, /*keep_going=*/true);
  EXPECT_EQ(to_tsv(set), "domain\tgood.example.com\nipv4\t192.0.2.1\n");
  ASSERT_EQ(set.errors.size(), 4u);
  EXPECT_EQ(set.errors[0],
            "b.json#/objects/1/pattern: STIX pattern of "
            "indicator--aaaaaaaa-0000-4000-8000-000000000002: expected ']' at offset 70");
  EXPECT_EQ(set.errors[1],
            "b.json#/objects/2/pattern: STIX pattern of "
            "indicator--aaaaaaaa-0000-4000-8000-000000000003: unterminated string at offset 13");
  EXPECT_EQ(set.errors[2],
            "b.json#/objects/3/pattern: STIX indicator "
            "indicator--aaaaaaaa-0000-4000-8000-000000000004 has no string pattern");
  EXPECT_EQ(set.errors[3], "b.json#/objects/4: a STIX object must be a JSON object");
}

TEST(StixBundle, BareArraysSingleObjectsAndWrongShapes) {
  auto arr =
      read_stix(R"([{"type": "domain-name", "id": "domain-name--1", "value": "a.example.com"},
                           {"type": "indicator", "id": "indicator--2", "pattern": "[url:value = 'http://b.example.com/x']"}])");
  EXPECT_EQ(to_tsv(arr), "domain\ta.example.com\nurl\thttp://b.example.com/x\n");
  // Indicators are read before observables.
  EXPECT_EQ(arr.indicators[0].source.json_path, "/1/pattern");
  EXPECT_EQ(arr.indicators[1].source.json_path, "/0/value");

  auto single = read_stix(R"({"type": "indicator", "spec_version": "2.1", "id": "indicator--3",
                             "pattern": "[ipv4-addr:value = '192.0.2.3']"})");
  EXPECT_EQ(to_tsv(single), "ipv4\t192.0.2.3\n");
  EXPECT_EQ(single.indicators[0].source.json_path, "/pattern");

  auto bad = read_stix(R"({"type": "bundle", "id": "bundle--x", "objects": "nope"})", true);
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0], "b.json#/objects: expected an array of STIX objects");

  auto revoked = read_stix(R"({"type": "indicator", "spec_version": "2.1", "id": "indicator--4",
                             "revoked": true, "pattern": "[ipv4-addr:value = '192.0.2.4']"})");
  EXPECT_TRUE(revoked.indicators.empty());
  ASSERT_EQ(revoked.notes.size(), 1u);

  auto typed =
      read_stix(R"({"type": "bundle", "objects": [{"type": "ipv4-addr", "id": "ipv4-addr--1",
                           "value": 17}, {"type": "file", "id": "file--2", "hashes": {"MD5": "zz"}}]})");
  EXPECT_TRUE(typed.indicators.empty());
  EXPECT_TRUE(typed.errors.empty());
  ASSERT_EQ(typed.notes.size(), 2u);
  EXPECT_EQ(typed.notes[0], "b.json#/objects/0/value: ipv4-addr:value is not a string (skipped)");
  EXPECT_EQ(
      typed.notes[1],
      "b.json#/objects/1/hashes/MD5: file:hashes.MD5: 'zz' is not a valid MD5 hash (skipped)");
}

TEST(StixBundle, ForcedFormatThatDoesNotFit) {
  IocSet set;
  Source src;
  src.file = "x.json";
  EXPECT_THROW(read_json(R"({"hello": "world"})", src, ReadOptions{}, set, Format::kStix), Error);
}

}  // namespace
}  // namespace forage::ioc
