// read_files on real files: a mapped input that another process cuts short while it is parsed
// gives an error naming the file (never a SIGBUS), and an untouched one parses whole.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/error.h"
#include "ioc/reader.h"

namespace forage::ioc {
namespace {

std::string big_text() {
  std::string s;
  s.reserve(48u << 20);
  for (unsigned i = 0; s.size() < (48u << 20); ++i)
    s += "host 10." + std::to_string(i % 250) + "." + std::to_string((i / 250) % 250) +
         ".7 contacted evil" + std::to_string(i % 9973) + ".example.net on port 443\n";
  return s;
}

TEST(ReadFiles, TruncatedWhileParsedIsAnErrorNotACrash) {
  char path[] = "/tmp/forage-ioc-trunc.XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = big_text();
  ReadOptions opts;
  opts.contexts = false;
  bool saw_truncation = false;
  for (int attempt = 0; attempt < 10 && !saw_truncation; ++attempt) {
    ASSERT_EQ(::pwrite(fd, text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
    std::atomic<bool> go{false};
    std::thread cutter([&] {
      while (!go) std::this_thread::yield();
      std::this_thread::sleep_for(std::chrono::milliseconds(20 + 20 * attempt));
      ASSERT_EQ(::ftruncate(fd, 4096), 0);
    });
    try {
      go = true;
      auto set = read_files({path}, opts);
      EXPECT_FALSE(set.indicators.empty());  // read whole before the cut came: still sane
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()),
                std::string(path) + ": truncated by another process while being read");
      saw_truncation = true;
    }
    cutter.join();
  }
  ::close(fd);
  ::unlink(path);
  EXPECT_TRUE(saw_truncation) << "the cut never landed during a parse: nothing was tested";
}

}  // namespace
}  // namespace forage::ioc
