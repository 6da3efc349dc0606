// JSON from outside the process: depth bounded while parsing.
#include "common/json.h"

#include <gtest/gtest.h>

using forage::Error;
using forage::parse_json_bounded;

TEST(JsonBounded, DeepNestingIsAnErrorNotACrash) {
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  try {
    parse_json_bounded(deep);
    FAIL() << "parsed";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "JSON nested deeper than 256 levels");
  }
  std::string deep_obj;
  for (int i = 0; i < 300; ++i) deep_obj += "{\"a\":";
  deep_obj += "1" + std::string(300, '}');
  EXPECT_THROW(parse_json_bounded(deep_obj), Error);
}

TEST(JsonBounded, OrdinaryValuesParseAsBefore) {
  std::string ok = std::string(200, '[') + "1" + std::string(200, ']');
  EXPECT_NO_THROW(parse_json_bounded(ok));
  auto j = parse_json_bounded(R"({"b":1,"a":[true,null,"x"]})");
  EXPECT_EQ(j.dump(), R"({"b":1,"a":[true,null,"x"]})");  // order kept
  EXPECT_THROW(parse_json_bounded("{"), nlohmann::json::parse_error);
}
