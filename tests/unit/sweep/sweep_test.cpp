// forage sweep: the helpers whose results every node must agree on.
#include "sweep/sweep.h"

#include <gtest/gtest.h>

#include "common/tlp.h"

namespace forage::sweep {
namespace {

TEST(Sweep, DigestAndTlpHelpers) {
  ioc::IocSet a, b;
  ioc::Indicator i1, i2;
  i1.type = ioc::Type::kIpv4;
  i1.value = "192.0.2.1";
  i2.type = ioc::Type::kUsername;
  i2.value = "bad";
  a.add(i1);
  a.add(i2);
  b.add(i2);
  b.add(i1);
  EXPECT_EQ(indicator_digest(a), indicator_digest(b));  // order does not matter
  EXPECT_NE(indicator_digest(a), indicator_digest(ioc::IocSet{}));
  EXPECT_EQ(tlp_short("TLP:AMBER+STRICT"), "AMBER+STRICT");
  EXPECT_EQ(tlp_short(""), "");
}

}  // namespace
}  // namespace forage::sweep
