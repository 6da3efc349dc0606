// The one JSON form of a finding (DESIGN.md "CLI surface"): kind first, the target, then what
// matched, the engine's details, and the sweep's stamps last.
#include "scanners/finding.h"

#include <gtest/gtest.h>

using forage::scanners::Finding;
using forage::scanners::Json;

TEST(Finding, IocLineKeepsItsOrder) {
  Finding f;
  f.pids = {42};
  f.target["pid"] = 42;
  f.target["process"] = "x";
  f.match = "exe";
  f.ioc = {{"type", "filename"}, {"value", "x"}};
  f.details["sha256"] = "ab";
  EXPECT_EQ(f.to_json().dump(), R"({"kind":"ioc","pid":42,"process":"x","match":"exe",)"
                                R"("ioc":{"type":"filename","value":"x"},"sha256":"ab"})");
  f.tlp = "TLP:AMBER";
  f.phase = "procs";
  const std::string line = f.to_json().dump();
  const std::string tail = R"("sha256":"ab","tlp":"TLP:AMBER","phase":"procs"})";
  EXPECT_EQ(line.substr(line.size() - tail.size()), tail);
}

TEST(Finding, YaraAndNoticeLines) {
  Finding y;
  y.kind = Finding::Kind::kYara;
  y.path = "/tmp/a";
  y.target = {{"path", "/tmp/a"}, {"size", 3}};
  y.rule = {{"rule", "R"}, {"namespace", "default"}, {"strings", Json::array()}};
  y.details["owner"] = "root";
  EXPECT_EQ(y.to_json().dump(), R"({"kind":"yara","path":"/tmp/a","size":3,"rule":"R",)"
                                R"("namespace":"default","strings":[],"owner":"root"})");
  Finding n;
  n.kind = Finding::Kind::kNotice;
  n.target["pid"] = 7;
  n.notice = "process runs a deleted executable";
  EXPECT_EQ(n.to_json().dump(),
            R"({"kind":"notice","pid":7,"notice":"process runs a deleted executable"})");
  // An empty TLP label is still a stamp (the sweep writes what the broadcast said).
  n.tlp = "";
  EXPECT_TRUE(n.to_json().contains("tlp"));
}
