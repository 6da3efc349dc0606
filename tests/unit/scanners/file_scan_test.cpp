// `scan files` reading paths: large files are mapped, small ones read, and both must give the
// same findings and hashes; a mapped file cut short while it is being scanned is a per-file
// error (the run is incomplete), never a SIGBUS.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "test_util.h"

#include "common/file.h"
#include "common/hash.h"
#include "common/map_guard.h"
#include "scanners/file_scan.h"

namespace fs = std::filesystem;
using namespace forage;
using namespace forage::scanners;
using namespace forage::scanners::test;

namespace {

// Deterministic bytes that do not contain the markers.
std::string filler(size_t n, unsigned seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>('a' + (x >> 16) % 26);
  }
  return s;
}

// The JSON lines of one scan, in the order written.
std::vector<Json> run_scan(const std::vector<WalkEntry>& entries, const FileScanOptions& opts,
                           const ScanInputs& in, bool& incomplete) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* mem = open_memstream(&buf, &size);
  {
    Reporter rep(true, mem);
    ScanStats stats;
    scan_entries(entries, opts, in, rep, stats);
    incomplete = stats.incomplete();
    rep.summary(stats.summary(0));
  }
  std::fclose(mem);
  std::vector<Json> lines;
  std::istringstream is(std::string(buf, size));
  std::free(buf);
  for (std::string line; std::getline(is, line);) lines.push_back(Json::parse(line));
  return lines;
}

std::multiset<std::string> findings_of(const std::vector<Json>& lines) {
  std::multiset<std::string> out;
  for (const auto& l : lines)
    if (l.value("kind", "") != "summary") out.insert(l.dump());
  return out;
}

}  // namespace

TEST(MappedFile, MapsAndUnmaps) {
  TempDir d;
  write(d.path / "f", "mapped bytes");
  Fd fd = open_evidence((d.path / "f").string());
  int err = -1;
  MappedFile m = MappedFile::map(fd.get(), 12, err);
  ASSERT_TRUE(m) << std::strerror(err);
  EXPECT_EQ(err, 0);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m.data()), m.size()), "mapped bytes");
  MappedFile moved = std::move(m);
  EXPECT_FALSE(m);
  EXPECT_TRUE(moved);
  moved.reset();
  EXPECT_FALSE(moved);
  EXPECT_FALSE(MappedFile::map(fd.get(), 0, err));
  EXPECT_EQ(err, EINVAL);
  EXPECT_FALSE(MappedFile::map(-1, 10, err));
  EXPECT_EQ(err, EBADF);
}

// The guard itself, deterministically: map, truncate through another descriptor, read it all.
TEST(MapGuard, TruncatedMappingReadsZerosAndReportsTheFault) {
  TempDir d;
  const size_t kSize = 1 << 20;
  write(d.path / "f", std::string(kSize, 'x'));
  Fd fd = open_evidence((d.path / "f").string());
  int err = 0;
  MappedFile m = MappedFile::map(fd.get(), kSize, err);
  ASSERT_TRUE(m);
  {
    MapGuard guard(m);
    ASSERT_EQ(::truncate((d.path / "f").c_str(), 10000), 0);
    size_t xs = 0;
    for (size_t i = 0; i < kSize; ++i) xs += m.data()[i] == 'x';
    EXPECT_TRUE(guard.faulted());
    EXPECT_EQ(xs, 10000u);  // the rest of the last page is zeros too, past it the pages are ours
  }
  {
    MapGuard guard(m);  // a new guard starts clean, and the zero pages stay readable
    EXPECT_EQ(m.data()[kSize - 1], 0);
    EXPECT_FALSE(guard.faulted());
  }
}

// Outside an armed guard a SIGBUS goes to the previous handler (here the default action).
TEST(MapGuard, UnguardedFaultStillKills) {
  TempDir d;
  write(d.path / "f", std::string(1 << 16, 'x'));
  Fd fd = open_evidence((d.path / "f").string());
  int err = 0;
  MappedFile m = MappedFile::map(fd.get(), 1 << 16, err);
  ASSERT_TRUE(m);
  { MapGuard installs_the_handler(m); }
  ASSERT_EQ(::truncate((d.path / "f").c_str(), 0), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    volatile uint8_t c = m.data()[100];
    (void)c;
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  // Killed by SIGBUS, or (under a sanitizer that owns SIGBUS) reported and exited non-zero.
  if (WIFSIGNALED(status))
    EXPECT_EQ(WTERMSIG(status), SIGBUS);
  else
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << status;
}

// Mapped and read paths over the same tree: identical output, and hashes that match the bytes.
TEST(ScanFiles, MappedAndReadPathsAgree) {
  TempDir d;
  std::vector<std::string> contents;
  for (size_t n : {size_t(1), size_t(4095), size_t(4096), size_t(4097), size_t(65535),
                   size_t(65536), size_t(65537), size_t(3 << 20) + 7}) {
    std::string s = "FORAGE_MAP_HEAD" + filler(n, static_cast<unsigned>(n)) + "FORAGE_MAP_TAIL";
    write(d.path / ("f" + std::to_string(n)), s);
    contents.push_back(s);
  }
  // An ELF header in a file named like a temporary directory is not needed: the notice path is
  // covered by the built-in rules tests; here every file is a finding three ways.
  ioc::IocSet set;
  for (const auto& s : contents) set.add(ind(ioc::Type::kSha256, sha256_hex(s)));
  set.add(ind(ioc::Type::kMd5, "00000000000000000000000000000000"));  // md5 computed too
  IocIndex index(set);
  auto rules = YaraRules::from_string(
      "rule head { strings: $h = \"FORAGE_MAP_HEAD\" condition: $h at 0 }\n"
      "rule tail { strings: $t = \"FORAGE_MAP_TAIL\" condition: $t at filesize - 15 }\n",
      "test");
  ScanInputs in{&rules, &index, nullptr, 10};
  ScanStats walk_stats;
  WalkOptions w;
  w.paths = {d.path.string()};
  auto entries = walk(w, walk_stats);
  std::sort(entries.begin(), entries.end(),
            [](const WalkEntry& a, const WalkEntry& b) { return a.path < b.path; });
  ASSERT_EQ(entries.size(), contents.size());

  FileScanOptions opts;
  opts.threads = 2;
  bool incomplete = true;
  opts.map_min_size = UINT64_MAX;  // read everything
  auto read_out = run_scan(entries, opts, in, incomplete);
  EXPECT_FALSE(incomplete);
  opts.map_min_size = 1;  // map everything
  auto map_out = run_scan(entries, opts, in, incomplete);
  EXPECT_FALSE(incomplete);
  opts.map_min_size = 65536;  // both, split in the middle of the sizes
  auto mixed_out = run_scan(entries, opts, in, incomplete);
  EXPECT_FALSE(incomplete);

  auto read_set = findings_of(read_out);
  EXPECT_EQ(read_set.size(), 3 * contents.size());  // sha256, head, tail per file
  EXPECT_EQ(findings_of(map_out), read_set);
  EXPECT_EQ(findings_of(mixed_out), read_set);
  size_t sha_hits = 0;
  for (const auto& l : map_out) {
    if (l.value("kind", "") == "ioc") {
      EXPECT_EQ(l["match"], "sha256");
      ++sha_hits;
    } else if (l.value("kind", "") == "yara") {
      std::ifstream f(l["path"].get<std::string>(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(f)), {});
      EXPECT_EQ(l["sha256"], sha256_hex(bytes));
      EXPECT_EQ(l["size"], bytes.size());
    }
  }
  EXPECT_EQ(sha_hits, contents.size());
  EXPECT_EQ(map_out.back()["bytes"], read_out.back()["bytes"]);
}

// Another thread keeps cutting a large file short and restoring it while it is scanned, mapped:
// each scan either sees the whole file (and its finding) or reports it unreadable, truncated;
// never a crash, never a finding from the zero-filled tail.
TEST(ScanFiles, FileTruncatedWhileMappedIsAnErrorNotACrash) {
  TempDir d;
  const fs::path file = d.path / "big";
  const std::string whole = filler(4 << 20, 7) + "FORAGE_MAP_TAIL";
  write(file, whole);
  auto rules = YaraRules::from_string(
      "rule tail { strings: $t = \"FORAGE_MAP_TAIL\" condition: $t }\n"
      "rule zeros { strings: $z = { 00 00 00 00 00 00 00 00 } condition: $z }\n",
      "test");
  ioc::IocSet set;
  set.add(ind(ioc::Type::kSha256, sha256_hex(whole)));
  IocIndex index(set);
  ScanInputs in{&rules, &index, nullptr, 10};
  ScanStats walk_stats;
  WalkOptions w;
  w.paths = {file.string()};
  auto entries = walk(w, walk_stats);
  ASSERT_EQ(entries.size(), 1u);
  FileScanOptions opts;
  opts.threads = 1;
  opts.map_min_size = 1;

  // Same inode throughout (the scan checks it): truncate in place, then write it back.
  std::atomic<bool> stop{false};
  std::thread cutter([&] {
    int fd = ::open(file.c_str(), O_WRONLY);
    while (!stop.load()) {
      ::ftruncate(fd, 4096);
      ::usleep(200);
      ::pwrite(fd, whole.data(), whole.size(), 0);
      ::usleep(300);
    }
    ::close(fd);
  });
  int clean = 0, truncated = 0;
  for (int i = 0; i < 200 && truncated < 3; ++i) {
    bool incomplete = false;
    auto out = run_scan(entries, opts, in, incomplete);
    const Json& sum = out.back();
    std::set<std::string> rules_hit;
    for (const auto& l : out)
      if (l.value("kind", "") == "yara") rules_hit.insert(l["rule"].get<std::string>());
    EXPECT_EQ(rules_hit.count("zeros"), 0u) << "a finding from a zero-filled page";
    if (incomplete) {
      ++truncated;
      EXPECT_EQ(sum["skipped"]["unreadable"], 1) << sum.dump();
      ASSERT_EQ(sum["incomplete_targets"].size(), 1u);
      std::string why = sum["incomplete_targets"][0];
      EXPECT_NE(why.find("while being scanned"), std::string::npos) << why;
      EXPECT_EQ(out.size(), 1u) << "nothing but the summary for a faulted file";
    } else if (sum["targets_scanned"] == 1 && sum["bytes"] == whole.size()) {
      ++clean;
      EXPECT_EQ(rules_hit, std::set<std::string>{"tail"});
    }
    // Otherwise the scan opened the file while it was short: a small, complete scan.
  }
  stop = true;
  cutter.join();
  EXPECT_GT(truncated, 0) << "the race never hit; clean scans: " << clean;
}
