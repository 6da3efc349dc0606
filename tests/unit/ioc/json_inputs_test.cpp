// read_json as a whole: broken and hostile JSON, format detection, JSON pointers, and any other
// JSON read as free text.
#include <gtest/gtest.h>

#include <string>

#include "common/error.h"
#include "ioc/reader.h"
#include "ioc/writers.h"

namespace forage::ioc {
namespace {

IocSet read(std::string_view text, bool keep_going = false) {
  IocSet set;
  ReadOptions opts;
  opts.keep_going = keep_going;
  Source src;
  src.file = "f.json";
  read_json(text, src, opts, set, Format::kJson);
  return set;
}

std::string error_of(std::string_view text) {
  try {
    read(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(JsonInputs, BrokenJsonNamesLineColumnAndReason) {
  EXPECT_EQ(error_of(R"({"Event": {"info": "x", "Attribute": [)"),
            "f.json: invalid JSON at line 1, column 39: syntax error while parsing value - "
            "unexpected end of input; expected '[', '{', or a literal");
  EXPECT_EQ(error_of("{\n  \"type\": \"bundle\",\n  \"objects\": [1,,2]\n}"),
            "f.json: invalid JSON at line 3, column 17: syntax error while parsing value - "
            "unexpected ','; expected '[', '{', or a literal");
  EXPECT_EQ(error_of("{\"a\": \"unterminated"),
            "f.json: invalid JSON at line 1, column 20: syntax error while parsing value - "
            "invalid string: missing closing quote; last read: '\"unterminated'");
  EXPECT_EQ(error_of(""),
            "f.json: invalid JSON at line 1, column 1: syntax error while parsing value - "
            "unexpected end of input; expected '[', '{', or a literal");
  EXPECT_NE(error_of("{\"a\": \"\xff\xfe\"}").find("f.json: invalid JSON at line 1, column 8: "),
            std::string::npos);
  // With --keep-going the problem is recorded and reading goes on with the next input.
  auto set = read(R"({"response": [)", /*keep_going=*/true);
  EXPECT_TRUE(set.indicators.empty());
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].rfind("f.json: invalid JSON at line 1, column 15: ", 0), 0u);
}

TEST(JsonInputs, DeepNestingIsRefusedBeforeParsing) {
  std::string deep(100000, '[');
  EXPECT_EQ(error_of(deep), "f.json: JSON nested deeper than 256 levels at line 1, column 257");
  std::string objects;
  for (int i = 0; i < 300; ++i) objects += "{\"a\":";
  EXPECT_EQ(error_of(objects), "f.json: JSON nested deeper than 256 levels at line 1, column 1281");
  // Brackets inside strings are no nesting; 200 levels are fine.
  std::string fine = "{\"format\": \"forage-iocs/1\", \"x\": " + std::string(200, '[') +
                     "\"[[[[\\\"[[[\"" + std::string(200, ']') + "}";
  EXPECT_EQ(error_of(fine), "");
}

TEST(JsonInputs, WrongTopLevelShapes) {
  // Scalars and empty containers are JSON without indicators, not errors.
  EXPECT_TRUE(read("42").indicators.empty());
  EXPECT_TRUE(read("null").indicators.empty());
  EXPECT_TRUE(read("[]").indicators.empty());
  EXPECT_TRUE(read("{}").indicators.empty());
  EXPECT_EQ(error_of("[1, 2, 3]"), "");
}

TEST(JsonInputs, PointersEscapeTildeAndSlash) {
  // STIX 2.0 observed-data keeps its observables under arbitrary keys.
  auto set =
      read(R"({"type": "bundle", "objects": [{"type": "observed-data", "id": "observed-data--1",
      "objects": {"a/b~c": {"type": "ipv4-addr", "value": "192.0.2.60"}}}]})");
  ASSERT_EQ(set.indicators.size(), 1u);
  EXPECT_EQ(set.indicators[0].source.json_path, "/objects/0/objects/a~1b~0c/value");
  EXPECT_EQ(set.indicators[0].source.display(), "f.json#/objects/0/objects/a~1b~0c/value");
}

TEST(JsonInputs, DetectionPicksTheRightReader) {
  // A forage file that happens to contain an "Event" key stays a forage file.
  auto f = read(R"({"format": "forage-iocs/1", "Event": {}, "indicators": [
      {"type": "cidr", "value": "192.0.2.0/24", "context": "net"}]})");
  EXPECT_EQ(to_tsv(f), "cidr\t192.0.2.0/24\n");
  // MISP inside a top-level list.
  auto m = read(
      R"([{"Event": {"info": "x", "Attribute": [{"type": "url", "value": "http://a.example.com/"}]}}])");
  EXPECT_EQ(to_tsv(m), "url\thttp://a.example.com/\n");
  // A STIX object without spec_version is recognised by its id.
  auto s = read(R"([{"type": "url", "id": "url--1", "value": "http://b.example.com/"}])");
  EXPECT_EQ(to_tsv(s), "url\thttp://b.example.com/\n");
}

TEST(JsonInputs, OtherJsonIsReadAsTextWithPointers) {
  auto set = read(R"({"alerts": [{"msg": "C2 at 198.51.100.23, drop hxxp://evil.example[.]net/a"},
                                 {"msg": 17, "tags": ["sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]}]})");
  bool ip = false, hash = false;
  for (const auto& i : set.indicators) {
    if (i.type == Type::kIpv4 && i.value == "198.51.100.23") {
      ip = true;
      EXPECT_EQ(i.source.json_path, "/alerts/0/msg");
    }
    if (i.type == Type::kSha256) {
      hash = true;
      EXPECT_EQ(i.source.json_path, "/alerts/1/tags/0");
    }
  }
  EXPECT_TRUE(ip);
  EXPECT_TRUE(hash);
  EXPECT_EQ(set.count(Type::kUrl), 1u);
}

}  // namespace
}  // namespace forage::ioc
