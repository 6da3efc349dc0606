// The records both the collector (writer) and `bundle report` (reader) use.
#include "common/records.h"

#include <gtest/gtest.h>

#include "common/error.h"

using forage::Error;
using forage::records::Target;
using forage::records::target_from_json;
using Json = nlohmann::ordered_json;

TEST(Records, TargetRoundTripsInTheIncidentJsonOrder) {
  Target t;
  t.pid = 4242;
  t.ppid = 1;
  t.uid = 1000;
  t.user = "alice";
  t.exe = "/tmp/x\xff";  // not UTF-8: escaped on the way out
  t.remote_endpoints = {"203.0.113.5:4444"};
  t.frozen = "cgroup freezer";
  t.kill_result = "killed";
  Json j = forage::records::to_json(t);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"pid", "ppid", "uid", "user", "exe", "exe_deleted",
                                            "exe_sha256", "cmdline", "cwd", "start_utc",
                                            "remote_endpoints", "frozen", "core", "killed"}));
  Target back = target_from_json(j);
  EXPECT_EQ(back.pid, 4242);
  EXPECT_EQ(back.remote_endpoints, t.remote_endpoints);
  EXPECT_EQ(back.kill_result, "killed");
  EXPECT_NE(back.exe, t.exe);  // the escaped form, valid UTF-8
}

TEST(Records, WrongTypesNameTheField) {
  EXPECT_THROW(target_from_json(Json(1)), Error);
  try {
    target_from_json(Json{{"pid", "4242"}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "pid: expected an integer");
  }
  EXPECT_THROW(target_from_json(Json{{"remote_endpoints", Json::array({1})}}), Error);
  // Missing fields keep their defaults (bundles of older versions).
  EXPECT_EQ(target_from_json(Json::object()).pid, 0);
}
