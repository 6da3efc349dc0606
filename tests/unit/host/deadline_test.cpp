// Deadlines and the watchdog: a read that would wait for ever returns once the deadline passes;
// a stop request makes every deadline expire.
#include "host/deadline.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <gtest/gtest.h>

#include "host/budget.h"

namespace forage::host {
namespace {

using namespace std::chrono_literals;

TEST(Deadline, ExpiresAndSaysWhy) {
  Deadline none;
  EXPECT_FALSE(none.expired());
  EXPECT_FALSE(none.limited());
  Deadline past = Deadline::in(0ms);
  EXPECT_TRUE(past.expired());
  EXPECT_EQ(past.reason(), "deadline reached");
  Deadline later = Deadline::in(1h);
  EXPECT_FALSE(later.expired());
  EXPECT_EQ(later.earlier(past).when(), past.when());
  EXPECT_EQ(none.earlier(later).when(), later.when());
}

TEST(Deadline, AStopRequestExpiresEveryDeadline) {
  Deadline later = Deadline::in(1h);
  request_stop(SIGTERM);
  EXPECT_TRUE(stop_requested());
  EXPECT_TRUE(later.expired());
  EXPECT_FALSE(later.timed_out());
  EXPECT_EQ(later.reason(), "interrupted by SIGTERM");
  reset_stop();
  EXPECT_FALSE(later.expired());
}

TEST(Watchdog, BreaksABlockedReadAtTheDeadline) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);  // nobody writes: a read waits for ever
  auto t0 = std::chrono::steady_clock::now();
  Deadline d = Deadline::in(200ms);
  ssize_t n;
  {
    Watchdog w(d);
    char c;
    n = ::read(p[0], &c, 1);
    EXPECT_GE(w.fired(), 1);
  }
  EXPECT_EQ(n, -1);
  EXPECT_EQ(errno, EINTR);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 3s);
  ::close(p[0]);
  ::close(p[1]);
}

TEST(Budget, NestedBudgetsBoundEachOther) {
  Budget total(100);
  Budget row(60, &total);
  EXPECT_EQ(row.left(), 60u);
  row.take(50);
  EXPECT_EQ(row.left(), 10u);
  EXPECT_EQ(total.left(), 50u);
  Budget other(80, &total);
  EXPECT_EQ(other.left(), 50u);  // the total decides
  EXPECT_FALSE(other.fits(51));
  other.take(50);
  EXPECT_EQ(row.left(), 0u);
  EXPECT_TRUE(row.fits(0));
}

}  // namespace
}  // namespace forage::host
