#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/file.h"
#include "common/filetype.h"
#include "common/hash.h"
#include "common/strings.h"

namespace fs = std::filesystem;
using namespace forage;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/forage-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

}  // namespace

TEST(Hasher, KnownVectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Hasher md5(HashAlgo::kMd5);
  md5.update("abc");
  EXPECT_EQ(md5.final_hex(), "900150983cd24fb0d6963f7d28e17f72");
  // Reusable after final.
  md5.update("abc");
  EXPECT_EQ(md5.final_hex(), "900150983cd24fb0d6963f7d28e17f72");
  Hasher sha1(HashAlgo::kSha1);
  sha1.update("ab");
  sha1.update("c");
  EXPECT_EQ(sha1.final_hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(FileTyper, UsesEmbeddedDatabaseOnly) {
  // A database path that does not exist: the embedded copy must still work.
  setenv("MAGIC", "/nonexistent/magic.mgc", 1);
  FileTyper typer;
  // /proc/self/exe is a symlink, which read_file() rightly refuses; read it plainly here.
  std::ifstream in("/proc/self/exe", std::ios::binary);
  std::string self((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(typer.describe(self).find("ELF"), std::string::npos) << typer.describe(self);
  EXPECT_NE(typer.describe("#!/bin/sh\necho hi\n").find("shell script"), std::string::npos);
  FileTyper mime(0x10 /* MAGIC_MIME_TYPE */);
  EXPECT_EQ(mime.describe(std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10)),
            "application/gzip");
  EXPECT_GT(FileTyper::embedded_database_size(), 1000000u);
}

TEST(ReadFile, RefusesSymlinksAndDirectories) {
  TempDir t;
  write(t.path / "real", "payload");
  fs::create_symlink(t.path / "real", t.path / "link");
  EXPECT_EQ(read_file((t.path / "real").string()), "payload");
  try {
    read_file((t.path / "link").string());
    FAIL() << "symlink followed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("symbolic link"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find((t.path / "link").string()), std::string::npos);
  }
  EXPECT_THROW(read_file(t.path.string()), Error);
  EXPECT_THROW(read_file((t.path / "missing").string()), Error);
  EXPECT_THROW(read_file((t.path / "real").string(), 3), Error);  // over the size cap
}

TEST(ReadFile, DoesNotBlockOnFifo) {
  TempDir t;
  auto fifo = t.path / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THROW(read_file(fifo.string()), Error);  // not a regular file, and no hang on open
}

TEST(ReadFile, KeepsAccessTime) {
  TempDir t;
  auto p = t.path / "evidence";
  write(p, "x");
  struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
  read_file(p.string());
  struct stat st {};
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1000000000);
}

TEST(WriteOutput, AtomicRename) {
  TempDir t;
  auto p = (t.path / "out.json").string();
  write_output(p, "{}\n");
  EXPECT_EQ(read_file(p), "{}\n");
  EXPECT_FALSE(fs::exists(p + ".partial"));
  EXPECT_THROW(write_output((t.path / "no/such/dir/x").string(), "x"), Error);
}

TEST(Error, ContextChain) {
  Error e = Error("process exited", Exit::kIncomplete).within("reading /proc/42/mem");
  EXPECT_STREQ(e.what(), "reading /proc/42/mem: process exited");
  EXPECT_EQ(e.code(), Exit::kIncomplete);
}

TEST(Strings, Basics) {
  EXPECT_EQ(trim("  a b \r\n"), "a b");
  EXPECT_EQ(to_lower("AbC"), "abc");
  EXPECT_TRUE(iequals("TLP", "tlp"));
  auto lines = split_lines("a\r\nb\n\nc");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "a");
  EXPECT_EQ(lines[2], "");
  EXPECT_EQ(printable("a\nb\x01"), "a\\nb\\x01");
}

namespace forage {
namespace {

// A pipe filled by a writer thread: read_all sees a stream of unknown size.
std::string through_pipe(const std::string& data, uint64_t max, uint64_t hint) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe");
  std::thread writer([&] {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::write(fds[1], data.data() + off, data.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fds[1]);
  });
  std::string got;
  try {
    got = read_all(fds[0], "pipe", max, hint);
  } catch (...) {
    ::close(fds[0]);
    writer.join();
    throw;
  }
  ::close(fds[0]);
  writer.join();
  return got;
}

TEST(ReadAll, StreamsOfEverySizeComeBackWhole) {
  for (size_t size :
       {size_t(0), size_t(1), size_t(4095), size_t(4096), size_t(4097), size_t(300000)}) {
    std::string data(size, '\0');
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 7 + 3);
    EXPECT_EQ(through_pipe(data, 1 << 20, 0), data) << size;
    EXPECT_EQ(through_pipe(data, 1 << 20, 10), data) << size;        // hint too small
    EXPECT_EQ(through_pipe(data, 1 << 20, size * 3), data) << size;  // hint too large
  }
}

TEST(ReadAll, LimitIsExact) {
  std::string data(10000, 'x');
  EXPECT_EQ(through_pipe(data, 10000, 0).size(), 10000u);
  EXPECT_THROW(through_pipe(data, 9999, 0), Error);
  EXPECT_THROW(through_pipe(data, 9999, 10000), Error);
}

}  // namespace
}  // namespace forage
