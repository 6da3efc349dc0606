// The action log hash chain: every way to damage it is reported, a good log is not.
#include "bundle/action_log.h"

#include <gtest/gtest.h>

#include "common/hash.h"

namespace forage::bundle {
namespace {

ActionLog sample() {
  ActionLog log;
  log.append("forage", "bundle.begin", "top", "ok");
  log.append("operator:alice", "note", "", "isolated the node");
  log.append("forage", "bundle.add", std::string("/tmp/odd\xff", 9), "stored");
  log.append("forage", "bundle.seal", "top", "done");
  return log;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    out.push_back(text.substr(pos, nl - pos + 1));
    pos = nl + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += l;
  return s;
}

bool mentions(const ActionLogCheck& c, const std::string& what) {
  for (const auto& p : c.problems)
    if (p.find(what) != std::string::npos) return true;
  return false;
}

TEST(ActionLog, ChainAndHeadAgree) {
  ActionLog log = sample();
  EXPECT_EQ(log.count(), 4u);
  auto c = check_action_log(log.text(), log.head());
  EXPECT_TRUE(c.problems.empty()) << c.problems.front();
  EXPECT_EQ(c.count, 4u);
  auto lines = lines_of(log.text());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find("\"prev_sha256\":\"" + std::string(kZeroHash) + "\""), std::string::npos);
  EXPECT_NE(lines[1].find("\"prev_sha256\":\"" + sha256_hex(lines[0]) + "\""), std::string::npos);
  EXPECT_NE(log.head().find(sha256_hex(lines[3])), std::string::npos);
  // Non-UTF-8 bytes are escaped visibly, not replaced.
  EXPECT_NE(lines[2].find("/tmp/odd\\\\xff"), std::string::npos) << lines[2];
  EXPECT_NE(lines[0].find("\"boottime_ns\":"), std::string::npos);
}

TEST(ActionLog, TruncatedReorderedEditedAreCaught) {
  ActionLog log = sample();
  auto lines = lines_of(log.text());

  auto truncated = lines;
  truncated.pop_back();
  auto c = check_action_log(join(truncated), log.head());
  EXPECT_TRUE(mentions(c, "says 4 actions, the log has 3 (truncated log)"));
  EXPECT_TRUE(mentions(c, "last_sha256 does not match"));

  auto reordered = lines;
  std::swap(reordered[1], reordered[2]);
  c = check_action_log(join(reordered), log.head());
  EXPECT_TRUE(mentions(c, "line 2: seq is not 2"));
  EXPECT_TRUE(mentions(c, "prev_sha256 does not match"));

  auto edited = lines;
  edited[1].replace(edited[1].find("isolated"), 8, "ISOLATED");
  c = check_action_log(join(edited), log.head());
  EXPECT_TRUE(mentions(c, "line 3: prev_sha256"));

  // The last line edited: only the head can tell.
  auto last = lines;
  last[3].replace(last[3].find("done"), 4, "DONE");
  c = check_action_log(join(last), log.head());
  EXPECT_TRUE(mentions(c, "last_sha256 does not match"));

  std::string cut = log.text();
  cut.pop_back();
  c = check_action_log(cut, log.head());
  EXPECT_TRUE(mentions(c, "no final newline"));

  c = check_action_log(log.text(), "garbage");
  EXPECT_TRUE(mentions(c, "meta/actions.head: not"));
  c = check_action_log("not json\n{\"seq\":\"x\"}\n", log.head());
  EXPECT_TRUE(mentions(c, "line 1: not a JSON object"));
  EXPECT_TRUE(mentions(c, "line 2: seq is not 2"));
  EXPECT_TRUE(mentions(c, "field 'utc' missing"));
}

TEST(ActionLog, EmptyLogWithMatchingHead) {
  ActionLog log;
  auto c = check_action_log("", log.head());
  EXPECT_TRUE(c.problems.empty());
}

}  // namespace
}  // namespace forage::bundle
