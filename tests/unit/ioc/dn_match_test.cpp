// DN comparison keys: the slash form of grid tools, RFC 2253/4514 in either order, any case,
// escapes, attribute aliases, trailing proxy CNs; and what is not a DN.
#include "ioc/dn_match.h"

#include <gtest/gtest.h>

namespace forage::ioc {
namespace {

bool same(const std::string& a, const std::string& b) {
  for (const auto& x : dn_match_keys(a))
    for (const auto& y : dn_match_keys(b))
      if (x == y) return true;
  return false;
}

TEST(DnMatch, SlashAndRfc2253FormsOfOneIdentityMeet) {
  const std::string grid = "/DC=org/DC=example/OU=People/CN=Alice Grid";
  EXPECT_EQ(dn_match_keys(grid),
            std::vector<std::string>{"/dc=org/dc=example/ou=people/cn=alice grid"});
  EXPECT_TRUE(same(grid, "CN=Alice Grid,OU=People,DC=example,DC=org"));     // RFC 2253 order
  EXPECT_TRUE(same(grid, "cn=alice grid, ou=People, dc=EXAMPLE, dc=org"));  // spaces, case
  EXPECT_TRUE(same(grid, "DC=org, DC=example, OU=People, CN=Alice Grid"));  // slash order
  EXPECT_TRUE(same(grid, "/dc=org/dc=example/ou=people/cn=ALICE GRID"));
  EXPECT_TRUE(same(grid, "/DC=org/DC=example/OU=People/CN=Alice Grid/CN=123456789"));  // proxy
  EXPECT_TRUE(same(grid, grid + "/CN=proxy/CN=limited proxy"));
  EXPECT_FALSE(same(grid, "/DC=org/DC=example/OU=People/CN=Bob Grid"));
  EXPECT_FALSE(same(grid, "/DC=org/DC=example/OU=People"));  // a prefix is not the identity
  EXPECT_FALSE(same(grid, grid + "/CN=Service"));            // a CN that is no proxy's
}

TEST(DnMatch, EscapesAliasesAndSlashesInValues) {
  EXPECT_TRUE(same("/O=Doe, John/CN=x", "CN=x,O=Doe\\, John"));
  EXPECT_TRUE(same("/O=A+B/CN=x", "CN=x,O=A\\2BB"));
  EXPECT_TRUE(same("/C=DE/O=GridKa/emailAddress=a@b.de/CN=A", "CN=A,E=a@b.de,O=GridKa,C=DE"));
  EXPECT_TRUE(same("/DC=ch/DC=cern/CN=host/wn01.cern.ch", "CN=host/wn01.cern.ch,DC=cern,DC=ch"));
  EXPECT_TRUE(same("/DC=org/UID=alice/CN=A", "CN=A,userid=alice,DC=org"));
}

TEST(DnMatch, NotADn) {
  EXPECT_TRUE(dn_match_keys("").empty());
  EXPECT_TRUE(dn_match_keys("hello world").empty());
  EXPECT_TRUE(dn_match_keys("/usr/bin/python3").empty());
  EXPECT_TRUE(dn_match_keys("a=b=c,,").empty());
  EXPECT_TRUE(dn_match_keys("/CN=123").empty());  // only a proxy CN: nobody
  std::string junk(100000, '\\');
  EXPECT_NO_THROW(dn_match_keys(junk));
  EXPECT_NO_THROW(dn_match_keys("CN=" + junk));
}

}  // namespace
}  // namespace forage::ioc
