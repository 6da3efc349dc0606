// Bag naming, TLP labels, manifest and bag-info parsing.
#include "bundle/bag.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace forage::bundle {
namespace {

TEST(Bag, TopDirectoryIsSanitised) {
  EXPECT_EQ(top_directory("EGI-20261120-01", "wn042", 1795428843),
            "EGI-20261120-01_wn042_20261123T101403Z");
  std::string t = top_directory("../../etc/passwd", "h/x", 0);
  EXPECT_EQ(t.find('/'), std::string::npos);
  EXPECT_EQ(t.find(".."), std::string::npos);
  EXPECT_EQ(t, "_._.__etc_passwd_h_x_19700101T000000Z");
  EXPECT_EQ(top_directory("", "", 0), "nocase_unknown-host_19700101T000000Z");
  EXPECT_EQ(sanitize_component(std::string(200, 'a'), "x").size(), 64u);
  EXPECT_EQ(sanitize_component("caf\xc3\xa9 $(rm)", "x"), "caf_____rm_");
}

TEST(Bag, TlpLabels) {
  EXPECT_EQ(checked_tlp("amber"), "TLP:AMBER");
  EXPECT_EQ(checked_tlp(" TLP:Amber+Strict "), "TLP:AMBER+STRICT");
  EXPECT_EQ(checked_tlp("tlp:red"), "TLP:RED");
  EXPECT_THROW(checked_tlp("purple"), Error);
  EXPECT_THROW(checked_tlp(""), Error);
}

TEST(Bag, SafePaths) {
  EXPECT_EQ(bag_safe_path("data/files/var/log/secure"), "data/files/var/log/secure");
  EXPECT_EQ(bag_safe_path("data/a\nb%c\\d"), "data/a_b_c_d");
  EXPECT_EQ(bag_safe_path(std::string("data/\xff\xfe", 7)), std::string("data/\xff\xfe", 7));
  for (const char* bad : {"/etc/passwd", "data/../x", "data//x", "data/./x", "", "data/x/"})
    EXPECT_THROW(bag_safe_path(bad), Error) << bad;
  EXPECT_NE(unsafe_member_name("a/../b"), "");
  EXPECT_NE(unsafe_member_name("/a"), "");
  EXPECT_EQ(unsafe_member_name("top/data/"), "");
  EXPECT_EQ(unsafe_member_name("top/..data"), "");
}

TEST(Bag, ManifestParsing) {
  std::string h(64, 'a');
  std::vector<std::string> problems;
  auto e = parse_manifest(h + "  data/x\n" + h + " *data/y\n" + std::string(64, 'B') +
                              "\tdata/a%0Ab%25\n\nnot a line\n" + h + "  \n",
                          "manifest-sha256.txt", problems);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].path, "data/x");
  EXPECT_EQ(e[1].path, "data/y");
  EXPECT_EQ(e[2].path, "data/a\nb%");
  EXPECT_EQ(e[2].sha256, std::string(64, 'b'));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("line 5"), std::string::npos);
  EXPECT_EQ(manifest_line(h, "data/x"), h + "  data/x\n");
}

// A manifest of a million bad lines: a hundred named, one line counting the rest; entries are
// handed over one by one (verify keeps no second copy of a manifest).
TEST(Bag, ManifestProblemsAreBounded) {
  std::string text;
  for (int i = 0; i < 1000000; ++i) text += "x\n";
  text += std::string(64, 'c') + "  data/last\n";
  std::vector<std::string> problems;
  size_t entries = 0;
  for_each_manifest_entry(text, "manifest-sha256.txt", problems, [&](ManifestEntry&& e) {
    EXPECT_EQ(e.path, "data/last");
    EXPECT_EQ(e.line, 1000001u);
    ++entries;
  });
  EXPECT_EQ(entries, 1u);
  ASSERT_EQ(problems.size(), kMaxManifestProblems + 1);
  EXPECT_EQ(problems[0], "manifest-sha256.txt: line 1: not '<sha256> <path>'");
  EXPECT_EQ(problems.back(), "manifest-sha256.txt: 999900 more malformed lines");
}

TEST(Bag, BagInfo) {
  auto f = parse_bag_info("Payload-Oxum: 12.3\nTLP: AMBER\nLong: first\n  second\nbroken\n");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].first, "Payload-Oxum");
  EXPECT_EQ(f[0].second, "12.3");
  EXPECT_EQ(f[2].second, "first second");
}

TEST(Bag, ReservedNames) {
  EXPECT_TRUE(reserved_tag_name("bagit.txt"));
  EXPECT_TRUE(reserved_tag_name("meta/actions.jsonl"));
  EXPECT_TRUE(reserved_tag_name("manifest-md5.txt"));
  EXPECT_FALSE(reserved_tag_name("meta/incident.json"));
  EXPECT_TRUE(unlisted_tag_name("tagmanifest-sha256.txt.p7s"));
  EXPECT_FALSE(unlisted_tag_name("bag-info.txt"));
}

}  // namespace
}  // namespace forage::bundle
