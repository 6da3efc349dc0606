// host/os_info: os-release(5) parsed as the shell would read it, the /usr/lib fallback when
// /etc/os-release is a link (it is one on Debian, Ubuntu, Fedora), and the kernel release, uptime
// and boot time from a saved /proc.
#include "host/os_info.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "../bundle/test_util.h"

namespace forage::host {
namespace {

using bundle::test::TempDir;

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(OsInfo, ParsesOsRelease) {
  auto kv = parse_os_release(
      "# comment\n"
      "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
      "NAME='Debian GNU/Linux'\n"
      "VERSION_ID=\"12\"\n"
      "ID=debian\n"
      "  VERSION=\"12 (\\\"bookworm\\\")\"  \n"
      "bad line\n"
      "lower=x\n"
      "=nokey\n"
      "HOME_URL=\"https://www.debian.org/\"\n");
  EXPECT_EQ(kv["PRETTY_NAME"], "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(kv["NAME"], "Debian GNU/Linux");
  EXPECT_EQ(kv["VERSION_ID"], "12");
  EXPECT_EQ(kv["ID"], "debian");
  EXPECT_EQ(kv["VERSION"], "12 (\"bookworm\")");
  EXPECT_EQ(kv.count("lower"), 0u);
  EXPECT_EQ(kv.size(), 6u);
  // Hostile: a huge value is cut, bytes that are not UTF-8 are escaped.
  auto big = parse_os_release("NAME=" + std::string(100000, 'a') + "\nID=\xff\n");
  EXPECT_EQ(big["NAME"].size(), 512u);
  EXPECT_EQ(big["ID"].find('\xff'), std::string::npos);
}

TEST(OsInfo, ReadsSavedRootsWithTheUsrLibFallback) {
  TempDir t;
  for (const char* d : {"etc", "usr", "usr/lib", "proc", "proc/sys", "proc/sys/kernel"})
    ::mkdir((t / d).c_str(), 0755);
  write(t / "usr/lib/os-release",
        "NAME=\"Rocky Linux\"\nVERSION=\"9.4 (Blue Onyx)\"\nID=\"rocky\"\nVERSION_ID=\"9.4\"\n"
        "PRETTY_NAME=\"Rocky Linux 9.4 (Blue Onyx)\"\n");
  ASSERT_EQ(::symlink("../usr/lib/os-release", (t / "etc/os-release").c_str()), 0);
  write(t / "proc/sys/kernel/osrelease", "5.14.0-427.el9.x86_64\n");
  write(t / "proc/uptime", "86461.25 170000.00\n");
  write(t / "proc/stat", "cpu  1 2 3\nbtime 1764547200\nprocesses 5\n");
  OsInfo os = read_os_info(t / "etc", t / "proc", t / "usr/lib");
  EXPECT_EQ(os.pretty_name, "Rocky Linux 9.4 (Blue Onyx)");
  EXPECT_EQ(os.name, "Rocky Linux");
  EXPECT_EQ(os.version, "9.4 (Blue Onyx)");
  EXPECT_EQ(os.id, "rocky");
  EXPECT_EQ(os.version_id, "9.4");
  EXPECT_EQ(os.os_release_path, t / "usr/lib/os-release");  // the link was not followed
  EXPECT_EQ(os.kernel_release, "5.14.0-427.el9.x86_64");
  EXPECT_DOUBLE_EQ(os.uptime_seconds, 86461.25);
  EXPECT_EQ(os.boot_epoch, 1764547200);
  EXPECT_TRUE(os.problems.empty());
  auto j = to_json(os);
  EXPECT_EQ(j["boot_utc"], "2025-12-01T00:00:00Z");
  EXPECT_EQ(j["source"], t / "usr/lib/os-release");
}

TEST(OsInfo, NothingReadableIsNamedNotThrown) {
  TempDir t;
  OsInfo os = read_os_info(t / "etc", t / "proc", t / "usr/lib");
  EXPECT_TRUE(os.pretty_name.empty());
  EXPECT_EQ(os.boot_epoch, 0);
  EXPECT_LT(os.uptime_seconds, 0);
  EXPECT_GE(os.problems.size(), 4u);
  auto j = to_json(os);
  EXPECT_TRUE(j["pretty_name"].is_null());
  EXPECT_TRUE(j["boot_utc"].is_null());
  EXPECT_TRUE(j["uptime_seconds"].is_null());
}

// The live node: Linux always has a kernel release and a boot time.
TEST(OsInfo, LiveNode) {
  OsInfo os = read_os_info();
  EXPECT_FALSE(os.kernel_release.empty());
  EXPECT_GT(os.boot_epoch, 0);
  EXPECT_GE(os.uptime_seconds, 0);
}

}  // namespace
}  // namespace forage::host
