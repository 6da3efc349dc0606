// The rules of host/fs.h, each against the real kernel: no link, magic link, ".." or other file
// system is followed below a base; FIFOs, directories and pseudo files are refused without
// blocking; mount points are recognised without asking their file system; sparse files are read
// by their data. Both the openat2 path and the per-component fallback are run.
#include "host/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include <gtest/gtest.h>

#include "../bundle/test_util.h"
#include "common/error.h"
#include "common/hash.h"
#include "host/deadline.h"

namespace forage::host {
namespace {

using bundle::test::spit;
using bundle::test::TempDir;

class Beneath : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    detail::use_openat2(GetParam());
    ::mkdir((t / "base").c_str(), 0755);
    ::mkdir((t / "base/dir").c_str(), 0755);
    ::mkdir((t / "outside").c_str(), 0755);
    spit(t / "base/dir/file", "inside");
    spit(t / "outside/secret", "SECRET");
    ::symlink((t / "outside").c_str(), (t / "base/link").c_str());
    ::symlink("../outside/secret", (t / "base/dir/rel").c_str());
    ::mkfifo((t / "base/fifo").c_str(), 0600);
    Opened b = open_base_dir(t / "base", Mounts::load());
    ASSERT_TRUE(b) << b.why;
    base = std::move(b.fd);
  }
  void TearDown() override { detail::use_openat2(true); }
  TempDir t;
  Fd base;
};

TEST_P(Beneath, OpensWhatIsBelowAndNothingElse) {
  Opened f = open_file_beneath(base.get(), "dir/file");
  ASSERT_TRUE(f) << f.why;
  EXPECT_EQ(read_range(f.fd.get(), 0, 100), "inside");
  Opened d = open_dir_beneath(base.get(), "dir");
  ASSERT_TRUE(d) << d.why;
  EXPECT_TRUE(S_ISDIR(d.st.st_mode));

  Opened via_link = open_file_beneath(base.get(), "link/secret");
  EXPECT_FALSE(via_link);
  EXPECT_EQ(via_link.err, ELOOP);
  EXPECT_NE(via_link.why.find("symbolic link"), std::string::npos);
  EXPECT_FALSE(open_file_beneath(base.get(), "dir/rel"));  // a last-component link
  EXPECT_FALSE(open_dir_beneath(base.get(), "link"));
  EXPECT_FALSE(open_file_beneath(base.get(), "../outside/secret"));
  EXPECT_FALSE(open_file_beneath(base.get(), "/etc/passwd"));
  EXPECT_FALSE(open_file_beneath(base.get(), "dir/./file"));
}

TEST_P(Beneath, RefusesFifosAndDirectoriesWithoutBlocking) {
  auto t0 = std::chrono::steady_clock::now();
  Opened fifo = open_file_beneath(base.get(), "fifo");
  EXPECT_FALSE(fifo);
  EXPECT_NE(fifo.why.find("fifo, not a regular file"), std::string::npos) << fifo.why;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  Opened dir = open_file_beneath(base.get(), "dir");
  EXPECT_FALSE(dir);
  EXPECT_NE(dir.why.find("directory"), std::string::npos);
}

TEST_P(Beneath, DoesNotCrossIntoAnotherFileSystem) {
  // /proc is a mount of its own below "/": not entered from a base of "/".
  Opened root = open_base_dir("/", Mounts::load());
  ASSERT_TRUE(root) << root.why;
  Opened p = open_file_beneath(root.fd.get(), "proc/self/status");
  EXPECT_FALSE(p);
  EXPECT_EQ(p.err, EXDEV) << p.why;
}

INSTANTIATE_TEST_SUITE_P(Openat2AndFallback, Beneath, ::testing::Values(true, false));

TEST(Fs, PseudoFileSystemsAreRefused) {
  Mounts m = Mounts::load();
  EXPECT_GT(m.size(), 0u);
  Opened proc = open_base_dir("/proc", m);
  EXPECT_FALSE(proc);
  EXPECT_NE(proc.why.find("pseudo"), std::string::npos) << proc.why;
  // /proc/kmsg: reading it would block and take the kernel's messages from syslog.
  auto t0 = std::chrono::steady_clock::now();
  Opened kmsg = open_named_file("/proc/kmsg", &m);
  EXPECT_FALSE(kmsg);
  EXPECT_NE(kmsg.why.find("pseudo"), std::string::npos) << kmsg.why;
  // Without the mount table, fstatfs still tells.
  Opened status = open_named_file("/proc/self/status", nullptr);
  EXPECT_FALSE(status);
  EXPECT_NE(status.why.find("pseudo"), std::string::npos) << status.why;
  EXPECT_THROW(read_named_file("/proc/kmsg", 1 << 20, &m), Error);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST(Fs, NamedFilesRefuseLinksFifosAndOversize) {
  TempDir t;
  spit(t / "f", "12345");
  EXPECT_EQ(read_named_file(t / "f", 10), "12345");
  EXPECT_THROW(read_named_file(t / "f", 4), Error);
  ::symlink("f", (t / "l").c_str());
  EXPECT_THROW(read_named_file(t / "l", 10), Error);
  ::mkfifo((t / "p").c_str(), 0600);
  EXPECT_THROW(read_named_file(t / "p", 10), Error);
  EXPECT_THROW(read_named_file(t.path(), 10), Error);
}

TEST(Fs, PeekSeesMountRootsWithoutFollowing) {
  Opened root = open_base_dir("/", Mounts::load());
  ASSERT_TRUE(root);
  Entry proc = peek(root.fd.get(), "proc");
  ASSERT_EQ(proc.err, 0);
  EXPECT_TRUE(proc.mount_root);
  TempDir t;
  ::symlink("/etc", (t / "l").c_str());
  Opened d = open_base_dir(t.path(), Mounts::load());
  ASSERT_TRUE(d);
  Entry l = peek(d.fd.get(), "l");
  EXPECT_TRUE(S_ISLNK(l.st.st_mode));
  EXPECT_FALSE(l.mount_root);
  EXPECT_EQ(peek(d.fd.get(), "missing").err, ENOENT);
}

TEST(Fs, MountTableKindsAndEscapes) {
  Mounts m = Mounts::parse(
      "22 1 0:21 / /proc rw - proc proc rw\n"
      "23 1 0:22 / /sys rw - sysfs sysfs rw\n"
      "30 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "40 30 0:45 / /home/alice/my\\040mount rw - fuse.sshfs host: rw\n"
      "41 30 0:46 / /data rw - nfs4 srv:/x rw\n"
      "42 30 0:47 / /dev rw - devtmpfs udev rw\n"
      "43 30 0:48 / /run rw - tmpfs tmpfs rw\n"
      "garbage line\n");
  EXPECT_EQ(m.kind(makedev(0, 21)), FsKind::kPseudo);
  EXPECT_EQ(m.kind(makedev(0, 22)), FsKind::kPseudo);
  EXPECT_EQ(m.kind(makedev(8, 1)), FsKind::kLocal);
  EXPECT_EQ(m.kind(makedev(0, 45)), FsKind::kFuse);
  ASSERT_NE(m.find(makedev(0, 45)), nullptr);
  EXPECT_EQ(m.find(makedev(0, 45))->point, "/home/alice/my mount");
  EXPECT_EQ(m.kind(makedev(0, 46)), FsKind::kNetwork);
  EXPECT_EQ(m.kind(makedev(0, 47)), FsKind::kPseudo);
  EXPECT_EQ(m.kind(makedev(0, 48)), FsKind::kLocal);
  EXPECT_EQ(m.kind(makedev(9, 9)), FsKind::kLocal);  // unknown
  EXPECT_EQ(m.size(), 7u);
}

TEST(Fs, SparseFilesAreReadByTheirData) {
  TempDir t;
  Fd fd(::open((t / "sparse").c_str(), O_RDWR | O_CREAT, 0600));
  ASSERT_TRUE(fd);
  // 8 TiB of hole with 5 bytes of data at 64 MiB.
  ASSERT_EQ(::pwrite(fd.get(), "hello", 5, 64ll << 20), 5);
  ASSERT_EQ(::ftruncate(fd.get(), static_cast<off_t>(8ull << 40)), 0);
  auto t0 = std::chrono::steady_clock::now();
  std::string head = read_range(fd.get(), (64ull << 20) - 3, 10);
  EXPECT_EQ(head, std::string("\0\0\0hello\0\0", 10));
  uint64_t hashed = 0;
  std::string sha = sha256_prefix(fd.get(), 1ull << 20, &hashed);
  EXPECT_EQ(hashed, 1ull << 20);
  EXPECT_EQ(sha, sha256_hex(std::string(1u << 20, '\0')));
  // A hash up to the data: holes are fed as zeros, the data where it is.
  std::string big = sha256_prefix(fd.get(), (64ull << 20) + 5, &hashed);
  EXPECT_EQ(hashed, (64ull << 20) + 5);
  std::string expect(static_cast<size_t>(64ull << 20), '\0');
  expect += "hello";
  EXPECT_EQ(big, sha256_hex(expect));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
}

TEST(Fs, ReadsStopAtTheDeadline) {
  TempDir t;
  spit(t / "f", std::string(4 << 20, 'x'));
  Fd fd(::open((t / "f").c_str(), O_RDONLY));
  Deadline past = Deadline::in(std::chrono::milliseconds(0));
  EXPECT_EQ(read_range(fd.get(), 0, 4 << 20, &past), "");
  uint64_t hashed = 1;
  sha256_prefix(fd.get(), 4 << 20, &hashed, &past);
  EXPECT_EQ(hashed, 0u);
}

TEST(Fs, CleanAbsolutePaths) {
  EXPECT_EQ(clean_absolute_path("/home/alice/"), "/home/alice");
  EXPECT_EQ(clean_absolute_path("//home//./bob"), "/home/bob");
  EXPECT_EQ(clean_absolute_path("/"), "/");
  EXPECT_EQ(clean_absolute_path("/home/../root"), "");
  EXPECT_EQ(clean_absolute_path("home/alice"), "");
  EXPECT_EQ(clean_absolute_path(""), "");
}

TEST(Fs, DirNamesSortedAndCapped) {
  TempDir t;
  for (const char* n : {"c", "a", "b"}) spit(t / n, "");
  Dir d = Dir::open(t.path());
  ASSERT_TRUE(d);
  EXPECT_EQ(d.names(), (std::vector<std::string>{"a", "b", "c"}));
  Dir again = Dir::open(t.path());
  bool more = false;
  EXPECT_EQ(again.names(2, &more).size(), 2u);
  EXPECT_TRUE(more);
  Dir none = Dir::open(t / "missing");
  EXPECT_FALSE(none);
  EXPECT_EQ(none.error(), ENOENT);
  ::symlink(t.path().c_str(), (t / "link").c_str());
  EXPECT_FALSE(Dir::open(t / "link"));  // a link is not a directory to descend into
}

}  // namespace
}  // namespace forage::host
