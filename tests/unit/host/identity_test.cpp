// ActAs: a thread that takes a user's file-system identity sees only what that user may read,
// on that thread only, and gets root's view back afterwards (root only: exits 77 otherwise).
#include "host/identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "../bundle/test_util.h"
#include "common/file.h"

namespace forage::host {
namespace {

using bundle::test::spit;
using bundle::test::TempDir;

bool readable(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  return static_cast<bool>(fd);
}

TEST(ActAs, AUsersRightsOnThisThreadOnly) {
  if (!can_act_as_others()) GTEST_SKIP() << "needs root";
  TempDir t;
  ::chmod(t.path().c_str(), 0755);
  spit(t / "rootonly", "secret");
  ::chmod((t / "rootonly").c_str(), 0600);
  spit(t / "group0", "group secret");
  ::chmod((t / "group0").c_str(), 0640);  // root:root: readable by group 0 only
  spit(t / "public", "hello");
  ::chmod((t / "public").c_str(), 0644);
  ASSERT_TRUE(readable(t / "rootonly"));
  Identity nobody{65534, 65534, {65534}, "nobody"};
  // A thread that was running before the switch keeps root's view meanwhile. (A thread created
  // during an ActAs inherits the switched identity, as clone() copies the caller's.)
  std::atomic<int> phase{0};
  bool other = false;
  std::thread th([&] {
    while (phase.load() != 1) std::this_thread::yield();
    other = readable(t / "rootonly");
    phase = 2;
  });
  {
    ActAs as(nobody);
    ASSERT_TRUE(as.ok()) << as.error();
    EXPECT_TRUE(as.switched());
    EXPECT_FALSE(readable(t / "rootonly"));
    EXPECT_FALSE(readable(t / "group0"));  // root's supplementary groups are dropped too
    EXPECT_TRUE(readable(t / "public"));
    phase = 1;
    while (phase.load() != 2) std::this_thread::yield();
  }
  th.join();
  EXPECT_TRUE(other);
  EXPECT_TRUE(readable(t / "rootonly"));
  EXPECT_TRUE(readable(t / "group0"));
}

TEST(ActAs, RootAndNonRootAreNoOps) {
  ActAs as(Identity::root());
  EXPECT_TRUE(as.ok());
  EXPECT_FALSE(as.switched());
}

}  // namespace
}  // namespace forage::host
