// Conformance over third-party data (../shared/conformance, not part of the repo): the OASIS
// STIX 2.1 examples and MISP's own test events. Skipped when the data is not there.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "common/file.h"
#include "common/strings.h"
#include "ioc/reader.h"
#include "ioc/writers.h"

namespace forage::ioc {
namespace {

namespace fs = std::filesystem;

const fs::path kConformance = fs::path(FORAGE_SHARED_DIR) / "conformance";

#define REQUIRE_CONFORMANCE_DATA(dir)                                      \
  do {                                                                     \
    if (!fs::is_directory(kConformance / (dir)))                           \
      GTEST_SKIP() << "no conformance data at " << (kConformance / (dir)); \
  } while (0)

// Reads one file the way `forage ioc parse` does, without --keep-going: any problem throws.
IocSet parse(const fs::path& path) {
  IocSet set;
  Source src;
  src.file = path.filename().string();
  read_input(read_file(path.string()), src, ReadOptions{}, set);
  return set;
}

const Indicator* find(const IocSet& set, Type t, const std::string& value) {
  for (const auto& i : set.indicators)
    if (i.type == t && i.value == value) return &i;
  return nullptr;
}

std::set<std::string> tsv_lines(const IocSet& set) {
  std::set<std::string> lines;
  std::string tsv = to_tsv(set);
  for (auto line : split_lines(tsv))
    if (!line.empty()) lines.emplace(line);
  return lines;
}

// An oracle independent of the pattern parser: the `path = 'value'` comparisons of the
// examples' patterns, found with a regular expression, for the paths forage has a type for.
std::set<std::string> expected_from_patterns(const std::string& text) {
  static const std::map<std::string, std::string> kTypes = {{"ipv4-addr:value", "ipv4"},
                                                            {"domain-name:value", "domain"},
                                                            {"file:name", "filename"},
                                                            {"file:hashes.md5", "md5"},
                                                            {"file:hashes.'SHA-256'", "sha256"},
                                                            {"x509-certificate:issuer", "x509-dn"},
                                                            {"url:value", "url"}};
  static const std::regex kCmp(R"(([a-z0-9-]+:[A-Za-z0-9_.'-]+) = '([^']*)')");
  std::set<std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), kCmp), end; it != end; ++it) {
    auto type = kTypes.find((*it)[1].str());
    if (type == kTypes.end()) continue;
    std::string value = (*it)[2].str();
    if (value.find(' ') != std::string::npos && type->second == "domain") continue;  // invalid
    if (type->second == "ipv4" && value.find('/') != std::string::npos) {
      out.insert("cidr\t" + value);
      continue;
    }
    if (type->second != "x509-dn" && type->second != "filename") value = to_lower(value);
    out.insert(type->second + "\t" + value);
  }
  return out;
}

TEST(ConformanceStix21, EveryExampleParsesAndGivesWhatItsPatternsName) {
  REQUIRE_CONFORMANCE_DATA("stix21/examples");
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kConformance / "stix21/examples")) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    SCOPED_TRACE(entry.path().string());
    IocSet set;
    ASSERT_NO_THROW(set = parse(entry.path()));
    EXPECT_TRUE(set.errors.empty());
    auto got = tsv_lines(set);
    for (const auto& want : expected_from_patterns(read_file(entry.path().string())))
      EXPECT_EQ(got.count(want), 1u) << "missing " << want;
  }
  EXPECT_GE(files, 8u);
}

TEST(ConformanceStix21, ConcreteIndicators) {
  REQUIRE_CONFORMANCE_DATA("stix21/examples");
  const fs::path ex = kConformance / "stix21/examples";

  auto c2 = parse(ex / "indicator-for-c2-ip-address.json");
  EXPECT_EQ(to_tsv(c2), "ipv4\t10.0.0.0\n");
  EXPECT_EQ(c2.indicators[0].source.json_path, "/objects/0/pattern");
  EXPECT_EQ(c2.indicators[0].context,
            "IP Address for known C2 channel: Test description C2 channel.");

  auto coa = parse(ex / "indicators-for-C2-with-COA.json");
  EXPECT_EQ(to_tsv(coa),
            "ipv4\t10.0.0.0\n"
            "sha256\tef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c\n");

  auto campaign = parse(ex / "indicator-to-campaign-relationship.json");
  EXPECT_EQ(to_tsv(campaign), "ipv4\t10.0.0.0\n");

  // Both patterns of the e-mail example are regular expressions (MATCHES): they name no value.
  // The subject pattern even contains "[IMPORTANT]", which must not confuse the bracket parser.
  auto mail = parse(ex / "malicious-email-indicator-with-attachment.json");
  EXPECT_EQ(to_tsv(mail), "");
  EXPECT_TRUE(mail.errors.empty());

  // Infrastructure: no indicator objects, but cyber-observables (an IP and a domain).
  auto infra = parse(ex / "infrastructure.json");
  EXPECT_EQ(to_tsv(infra), "domain\texample.com\nipv4\t198.51.100.3\n");
  EXPECT_EQ(find(infra, Type::kIpv4, "198.51.100.3")->source.json_path, "/objects/4/value");

  // A bare campaign marked with the STIX 2.1 TLP:RED definition (and an unknown second ref).
  auto marked = parse(ex / "interop-objectmarking-test.json");
  EXPECT_TRUE(marked.indicators.empty());
  EXPECT_EQ(marked.tlp, "TLP:RED");

  auto apt1 = parse(ex / "threat-reports/apt1.json");
  EXPECT_EQ(to_tsv(apt1),
            "cidr\t112.64.0.0/15\n"
            "cidr\t139.226.0.0/15\n"
            "cidr\t223.166.0.0/15\n"
            "cidr\t58.246.0.0/15\n"
            "domain\tarrowservice.net\n"
            "domain\thugesoft.org\n"
            "domain\tmsnhome.org\n"
            "md5\t001dd76872d80801692ff942308c64e6\n"
            "md5\t002325a0a67fded0381b5648d7fe9b8e\n"
            "md5\t00dbb9e1c09dbdafb360f3163ba5a3de\n"
            "x509-dn\tCN=LM-68AB71FBD8F5\n"
            "x509-dn\tCN=WEBMAIL\n");

  auto ivy = parse(ex / "threat-reports/poisonivy.json");
  EXPECT_EQ(ivy.count(Type::kDomain), 24u);
  EXPECT_EQ(ivy.count(Type::kIpv4), 18u);
  EXPECT_EQ(ivy.count(Type::kFilename), 2u);
  EXPECT_EQ(ivy.indicators.size(), 44u);
  EXPECT_NE(find(ivy, Type::kDomain, "www.webserver.dynssl.com"), nullptr);
  EXPECT_NE(find(ivy, Type::kIpv4, "219.76.208.163"), nullptr);
  EXPECT_NE(find(ivy, Type::kFilename, "CPiShellPutDoc"), nullptr);
  // 'domain autuo.xicp.net' (sic, in the report) is no domain: a note, not a guess.
  EXPECT_EQ(find(ivy, Type::kDomain, "autuo.xicp.net"), nullptr);
  bool noted = false;
  for (const auto& n : ivy.notes)
    noted |= n.find("'domain autuo.xicp.net' is not a valid domain") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(ConformanceMisp, CollectionsGiveTheirToIdsAttributes) {
  REQUIRE_CONFORMANCE_DATA("misp/tests");
  const fs::path dir = kConformance / "misp/tests";

  auto one = parse(dir / "test_events_collection_1.json");
  // The AS attribute (no to_ids) has a type that is no indicator here; the domain is for IDS.
  EXPECT_EQ(to_tsv(one), "domain\tcircl.lu\n");
  EXPECT_EQ(one.indicators[0].source.json_path, "/response/1/Event/Attribute/0/value");
  EXPECT_EQ(one.indicators[0].context, "Domain test attribute");
  EXPECT_TRUE(one.errors.empty());

  auto two = parse(dir / "test_events_collection_2.json");
  EXPECT_EQ(to_tsv(two), "domain\tcircl.lu\nfilename\ttest_file_name\nipv4\t149.13.33.14\n");
  EXPECT_EQ(find(two, Type::kIpv4, "149.13.33.14")->context, "Domain|ip test attribute");
}

TEST(ConformanceMisp, StixTranslationGivesTheSameIndicators) {
  REQUIRE_CONFORMANCE_DATA("misp/tests");
  const fs::path dir = kConformance / "misp/tests";
  // test_events_collection_stix21.json is MISP's own STIX 2.1 export of the four events of the
  // two collections. The AS attribute becomes only observed-data with an autonomous-system
  // object (no indicator, and no type forage has); every other attribute becomes an indicator
  // whose pattern names its value(s) and whose description is the attribute comment.
  IocSet misp = parse(dir / "test_events_collection_1.json");
  misp.merge(parse(dir / "test_events_collection_2.json"));
  IocSet stix = parse(dir / "test_events_collection_stix21.json");
  EXPECT_EQ(to_tsv(stix), to_tsv(misp));
  EXPECT_TRUE(stix.errors.empty());
  for (const auto& m : misp.indicators) {
    const Indicator* s = find(stix, m.type, m.value);
    ASSERT_NE(s, nullptr) << m.value;
    EXPECT_EQ(s->context, m.context) << m.value;
    EXPECT_EQ(s->source.json_path.rfind("/objects/", 0), 0u) << s->source.json_path;
  }
}

}  // namespace
}  // namespace forage::ioc
