// A user who swaps a directory of their home with a symbolic link to a root-only place, in a
// loop (renameat2 RENAME_EXCHANGE), while forage walks the home: the walker (base fd, peek,
// open_dir_beneath, open_file_beneath, as host/fs.h prescribes) must never read a byte from the
// other side. Raced for 2 seconds, with openat2 and with the per-component fallback; and, as the
// control that shows the race is real, a path-string open (what forage did before) must lose it.
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "../bundle/test_util.h"
#include "host/fs.h"

namespace forage::host {
namespace {

using bundle::test::spit;
using bundle::test::TempDir;

struct RaceResult {
  long reads = 0, escapes = 0, refused = 0, swaps = 0;
};

enum class Way { kOpenat2, kComponents, kPathString };

RaceResult race(Way way_of_opening) {
  const bool openat2 = way_of_opening == Way::kOpenat2;
  detail::use_openat2(openat2);
  TempDir t;
  ::mkdir((t / "home").c_str(), 0755);
  ::mkdir((t / "home/.ssh").c_str(), 0755);
  spit(t / "home/.ssh/authorized_keys", "user data");
  ::mkdir((t / "rootonly").c_str(), 0700);
  spit(t / "rootonly/authorized_keys", "ROOT SECRET");
  ::symlink((t / "rootonly").c_str(), (t / "home/swap").c_str());

  RaceResult r;
  std::atomic<bool> stop{false};
  std::thread toggler([&] {
    const std::string home = t / "home";
    int dir = ::open(home.c_str(), O_RDONLY | O_DIRECTORY);
    while (!stop.load(std::memory_order_relaxed)) {
      if (::renameat2(dir, ".ssh", dir, "swap", RENAME_EXCHANGE) == 0) ++r.swaps;
    }
    ::close(dir);
  });
  Mounts mounts = Mounts::load();
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < end) {
    if (way_of_opening == Way::kPathString) {
      // What forage did before host/: a path string, O_NOFOLLOW guarding the last component only.
      Fd f(::open((t / "home/.ssh/authorized_keys").c_str(), O_RDONLY | O_NOFOLLOW));
      if (!f) {
        ++r.refused;
        continue;
      }
      ++r.reads;
      if (read_range(f.get(), 0, 100).find("ROOT") != std::string::npos) ++r.escapes;
      continue;
    }
    Opened base = open_base_dir(t / "home", mounts);
    if (!base) continue;
    // The two ways the collector reads: descend one directory, then open below it; or one open
    // of the whole relative path.
    for (int way = 0; way < 2; ++way) {
      Opened f;
      if (way == 0) {
        Entry e = peek(base.fd.get(), ".ssh");
        if (e.err || !S_ISDIR(e.st.st_mode)) {
          ++r.refused;
          continue;
        }
        Opened d = open_dir_beneath(base.fd.get(), ".ssh");
        if (!d) {
          ++r.refused;
          continue;
        }
        f = open_file_beneath(d.fd.get(), "authorized_keys", &mounts);
      } else {
        f = open_file_beneath(base.fd.get(), ".ssh/authorized_keys", &mounts);
      }
      if (!f) {
        ++r.refused;
        continue;
      }
      std::string got = read_range(f.fd.get(), 0, 100);
      ++r.reads;
      if (got.find("ROOT") != std::string::npos) ++r.escapes;
    }
  }
  stop = true;
  toggler.join();
  detail::use_openat2(true);
  return r;
}

TEST(Race, RenameExchangeNeverEscapesWithOpenat2) {
  RaceResult r = race(Way::kOpenat2);
  EXPECT_EQ(r.escapes, 0) << r.reads << " reads";
  EXPECT_GT(r.swaps, 1000);
  EXPECT_GT(r.reads, 100);  // the walker still works while raced
  EXPECT_GT(r.refused, 100);  // and met the link often
  std::printf("openat2: %ld swaps, %ld reads, %ld refused, %ld escapes\n", r.swaps, r.reads,
              r.refused, r.escapes);
}

TEST(Race, RenameExchangeNeverEscapesComponentByComponent) {
  RaceResult r = race(Way::kComponents);
  EXPECT_EQ(r.escapes, 0) << r.reads << " reads";
  EXPECT_GT(r.swaps, 1000);
  EXPECT_GT(r.reads, 100);
  EXPECT_GT(r.refused, 100);
  std::printf("per component: %ld swaps, %ld reads, %ld refused, %ld escapes\n", r.swaps, r.reads,
              r.refused, r.escapes);
}

// The control: the race is real, and a path-string walk loses it.
TEST(Race, APathStringWalkEscapes) {
  RaceResult r = race(Way::kPathString);
  EXPECT_GT(r.escapes, 0) << r.reads << " reads, " << r.swaps << " swaps";
  std::printf("path string: %ld swaps, %ld reads, %ld escapes\n", r.swaps, r.reads, r.escapes);
}

}  // namespace
}  // namespace forage::host
