// The Reporter: JSON lines and the summary on a stream, and a write that fails (a full disk, a
// stream that cannot be written) ends in forage::Error and exit 2, never in a truncated result
// with exit 0 or 1.
#include "scanners/report.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "test_util.h"

namespace forage::scanners {
namespace {

Finding hit() {
  Finding f;
  f.path = "/tmp/x";
  f.target["path"] = "/tmp/x";
  f.match = "filename";
  f.ioc = {{"type", "filename"}, {"value", "x"}};
  return f;
}

// The error summary() and exit_code() throw for a stream whose writes fail.
void expect_lost(std::FILE* out, const std::string& message) {
  Reporter r(true, out, "out.jsonl");
  r.add(hit());  // kept: the scanners' per-target handling must not swallow it
  EXPECT_EQ(r.findings(), 1u);
  try {
    r.summary(Json::object());
    ADD_FAILURE() << "summary() did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "out.jsonl: " + message);
    EXPECT_EQ(e.code(), Exit::kUsage);
  }
  EXPECT_THROW(r.exit_code(false), Error);
  EXPECT_THROW(r.check_output(), Error);
}

TEST(Reporter, WritesJsonLinesAndTheSummary) {
  test::TempDir t;
  const auto path = t.path / "out.jsonl";
  std::FILE* out = std::fopen(path.c_str(), "w");
  ASSERT_NE(out, nullptr);
  {
    Reporter r(true, out);
    r.add(hit());
    r.summary(Json{{"scan", "files"}});
    EXPECT_NO_THROW(r.check_output());
    EXPECT_EQ(r.exit_code(false), Exit::kFindings);
  }
  std::fclose(out);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(),
            "{\"kind\":\"ioc\",\"path\":\"/tmp/x\",\"match\":\"filename\","
            "\"ioc\":{\"type\":\"filename\",\"value\":\"x\"}}\n"
            "{\"kind\":\"summary\",\"findings\":1,\"notices\":0,\"scan\":\"files\"}\n");
}

TEST(Reporter, FullDiskIsAnErrorNotATruncatedResult) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full";
  std::FILE* out = std::fopen("/dev/full", "w");
  ASSERT_NE(out, nullptr);
  expect_lost(out, "No space left on device");
  std::fclose(out);
}

TEST(Reporter, UnwritableStreamIsAnError) {
  std::FILE* out = std::fopen("/dev/null", "r");  // fwrite fails: EBADF
  ASSERT_NE(out, nullptr);
  expect_lost(out, "Bad file descriptor");
  std::fclose(out);
}

TEST(Reporter, TableFormFailsTheSameWay) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full";
  std::FILE* out = std::fopen("/dev/full", "w");
  ASSERT_NE(out, nullptr);
  Reporter r(false, out);
  EXPECT_THROW(r.summary(Json::object()), Error);  // no finding: the summary line alone
  std::fclose(out);
}

}  // namespace
}  // namespace forage::scanners
