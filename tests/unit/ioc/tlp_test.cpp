#include "ioc/tlp.h"

#include <gtest/gtest.h>

namespace forage::ioc {
namespace {

TEST(CaseTag, FoundAmongProse) {
  EXPECT_EQ(find_case_tag("Subject: [EGI-20261120-01] TLP:AMBER incident"), "EGI-20261120-01");
  EXPECT_EQ(find_case_tag("see CSIRT-20250101-123."), "CSIRT-20250101-123");
  EXPECT_EQ(find_case_tag("first OSG-20260101-2 then EGI-20261120-01"), "OSG-20260101-2");
  EXPECT_EQ(find_case_tag("EG-20261120-9"), "EG-20261120-9");
}

TEST(CaseTag, NearMissesAreNot) {
  EXPECT_FALSE(find_case_tag("E-20261120-01"));            // prefix too short
  EXPECT_FALSE(find_case_tag("ABCDEFGHIJK-20261120-01"));  // prefix too long
  EXPECT_FALSE(find_case_tag("xEGI-20261120-01"));         // glued to a word
  EXPECT_FALSE(find_case_tag("EGI-2026112-01"));           // 7 digits
  EXPECT_FALSE(find_case_tag("EGI-202611201-01"));         // 9 digits
  EXPECT_FALSE(find_case_tag("EGI-20261120-0123"));        // 4-digit sequence
  EXPECT_FALSE(find_case_tag("EGI-20261120-01b"));         // glued after
  EXPECT_FALSE(find_case_tag("EGI-20261120-"));            // no sequence
  EXPECT_FALSE(find_case_tag("egi-20261120-01"));          // lower case
  EXPECT_FALSE(find_case_tag("--------"));
  EXPECT_FALSE(find_case_tag(""));
  // A ten-letter prefix is the longest accepted.
  EXPECT_EQ(find_case_tag("ABCDEFGHIJ-20261120-01"), "ABCDEFGHIJ-20261120-01");
}

TEST(Tlp, StrictestLabelWins) {
  EXPECT_EQ(find_tlp("TLP:GREEN then tlp amber"), "TLP:AMBER");
  EXPECT_EQ(find_tlp("TLP:AMBER+STRICT"), "TLP:AMBER+STRICT");
  EXPECT_FALSE(find_tlp("atlp:red"));
  EXPECT_FALSE(find_tlp("TLP:REDDISH"));
}

// find_tlp looks at eight starting positions at a time and at the last few bytes one by one: a
// label is found at every offset, glued or not, and up to the very end of the text.
TEST(Tlp, FoundAtEveryOffsetAndAtTheEnd) {
  for (size_t pad = 0; pad < 24; ++pad) {
    std::string filler(pad, 'x');
    std::string spaced(pad, ' ');
    EXPECT_EQ(find_tlp(spaced + "TLP:RED"), "TLP:RED") << pad;
    EXPECT_EQ(find_tlp(spaced + "tlp-amber" + spaced), "TLP:AMBER") << pad;
    EXPECT_EQ(find_tlp(spaced + "Tlp: Green."), "TLP:GREEN") << pad;
    if (pad > 0) EXPECT_FALSE(find_tlp(filler + "TLP:RED")) << pad;  // glued to a word
    EXPECT_FALSE(find_tlp(spaced + "TLP:RE")) << pad;  // cut off by the end of the text
    EXPECT_FALSE(find_tlp(spaced + "TL")) << pad;
  }
  EXPECT_EQ(find_tlp(""), std::nullopt);
  std::string many;
  for (int k = 0; k < 50; ++k) many += "tl tlp tlpx TLP:CLEAR ";
  EXPECT_EQ(find_tlp(many + "TLP:AMBER+STRICT " + many), "TLP:AMBER+STRICT");
}

}  // namespace
}  // namespace forage::ioc
