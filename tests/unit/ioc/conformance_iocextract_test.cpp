// Conformance with the test data of iocextract (third-party, read from ../shared/conformance
// when it is there, never copied into the repository): every indicator its valid list expects is
// found in its input text, nothing from its invalid list is.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "common/strings.h"
#include "ioc/canonical.h"
#include "ioc/reader.h"
#include "ioc/refang.h"

namespace forage::ioc {
namespace {

const std::string kDir = std::string(FORAGE_SHARED_DIR) + "/conformance/iocextract/test_data";

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::string text = slurp(path);  // outlives the views split_lines returns
  for (auto l : split_lines(text)) {
    l = trim(l);
    if (!l.empty()) out.emplace_back(l);
  }
  return out;
}

std::string key(Type t, std::string_view v) {
  return std::string(type_name(t)) + "\t" + std::string(v);
}

std::set<std::string> extract(const std::string& text) {
  IocSet set;
  Source src;
  src.file = "input.txt";
  read_text(text, src, set);
  std::set<std::string> keys;
  for (const auto& i : set.indicators) keys.insert(key(i.type, i.value));
  return keys;
}

// The host part of a refanged value without a scheme ("example.com/", "1.2.3.4:80/path").
std::string host_part(std::string_view v) {
  return std::string(v.substr(0, v.find('/')));
}

// What forage must find for one entry of valid.txt (empty when our model has no such type).
std::string expectation(const std::string& entry) {
  std::string r = refang(entry);
  auto sep = r.find("://");
  if (sep != std::string::npos) {
    if (auto u = canonical_url(r)) return key(Type::kUrl, *u);
    // Our URL model rejected it: at least its host must be there.
    std::string authority = host_part(std::string_view(r).substr(sep + 3));
    if (auto c = classify(authority)) return key(c->type, c->value);
    return "";
  }
  if (auto c = classify(entry)) return key(c->type, c->value);
  if (auto c = classify(host_part(r))) return key(c->type, c->value);  // "example[.]com/"
  return "";
}

class IocextractData : public testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kDir + "/input.txt"))
      GTEST_SKIP() << "no conformance data at " << kDir;
  }
};

TEST_F(IocextractData, EveryValidEntryIsFound) {
  auto found = extract(slurp(kDir + "/input.txt"));
  size_t checked = 0;
  for (const auto& entry : lines_of(kDir + "/valid.txt")) {
    // A phone number: iocextract extracts those, forage's model has no such type (DESIGN.md
    // "IoC model"), so there is nothing to expect.
    if (entry == "456-7890") continue;
    std::string want = expectation(entry);
    ASSERT_FALSE(want.empty()) << "no indicator type for valid entry '" << entry << "'";
    EXPECT_TRUE(found.count(want)) << "valid entry '" << entry << "': " << want << " not found";
    ++checked;
  }
  EXPECT_GE(checked, 47u);  // the data has 48 entries; one is the phone number
}

TEST_F(IocextractData, NothingFromTheInvalidListIsFoundInTheInput) {
  IocSet set;
  Source src;
  src.file = "input.txt";
  read_text(slurp(kDir + "/input.txt"), src, set);
  auto invalid = lines_of(kDir + "/invalid.txt");
  ASSERT_FALSE(invalid.empty());
  for (const auto& bad : invalid) {
    std::string r = to_lower(refang(bad));
    for (const auto& i : set.indicators)
      EXPECT_NE(to_lower(i.value), r)
          << "invalid entry '" << bad << "' found as " << type_name(i.type);
  }
}

TEST_F(IocextractData, TheInvalidListOnItsOwnGivesOnlyItsCidr) {
  auto found = extract(slurp(kDir + "/invalid.txt"));
  // The one exception: iocextract has no CIDR type and lists "100.20.30.0/24" as no IP
  // address; forage models networks, and this is one.
  std::set<std::string> want = {"cidr\t100.20.30.0/24"};
  EXPECT_EQ(found, want);
}

}  // namespace
}  // namespace forage::ioc
