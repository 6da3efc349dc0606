// verify_bundle and extract_bundle against hostile bundles: many large tag files (one memory
// budget for all of them), a parsed tag file past it, and a bundle that changes between
// extract's two reads (nothing unverified, no temporary file is left behind).
#include "bundle/verify.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "bundle/pax.h"
#include "bundle/stream.h"
#include "bundle/writer.h"
#include "common/error.h"
#include "common/file.h"
#include "common/hash.h"
#include "test_util.h"

namespace forage::bundle {
namespace {

using test::slurp;
using test::spit;
using test::TempDir;

constexpr uint64_t kMiB = 1ull << 20;

WriterOptions unsigned_options(const std::string& out) {
  WriterOptions o;
  o.out = out;
  o.case_id = "CASE-V";
  o.host = "testhost";
  o.unsigned_ok = true;
  o.environment = {{"host", {{"hostname", "testhost.example.org"}}}};
  return o;
}

VerifyOptions lenient() {
  VerifyOptions v;
  v.allow_unsigned = true;
  return v;
}

std::string all_problems(const VerifyReport& r) {
  std::string s;
  for (const auto& p : r.problems) s += p + "\n";
  return s;
}

// Resident set of this process now, in KiB.
long rss_now_kib() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

// How far verify_bundle(path) takes the peak RSS of a forked child above this process's RSS.
long verify_peak_growth_kib(const std::string& path) {
  long base = rss_now_kib();
  pid_t pid = ::fork();
  if (pid == 0) {
    try {
      verify_bundle(path, lenient());
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return ru.ru_maxrss - base;
}

// 12 tag files of 16 MiB (192 MiB, each one under the old per-file limit): the first ones fit
// the 64 MiB budget for all tag files, the rest are hashed, not kept, and reported.
TEST(VerifyBudget, ManyLargeTagFilesStayWithinOneBudget) {
  TempDir t;
  std::string out = t / "bomb.tar.zst";
  {
    auto o = unsigned_options(out);
    o.compress = true;
    BundleWriter w(std::move(o));
    std::string zeros(kMiB, '\0');
    for (int i = 0; i < 12; ++i)
      w.add_stream(
          "meta/big-" + std::to_string(i), 16 * kMiB,
          [&](StreamOut& s) {
            while (s.remaining() > 0) s.write(zeros.data(), zeros.size());
          },
          "generated");
    w.finish();
  }
  long grew = verify_peak_growth_kib(out);
  EXPECT_LT(grew, 48 * 1024) << "verify grew by " << grew << " KiB for 192 MiB of tag files";

  auto rep = verify_bundle(out, lenient());
  EXPECT_FALSE(rep.valid());
  std::string p = all_problems(rep);
  EXPECT_NE(p.find("meta/big-11: tag file of 16777216 bytes over the 64 MiB budget"),
            std::string::npos)
      << p;
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(rep.is_affected("meta/big-" + std::to_string(i)));
  for (int i = 4; i < 12; ++i)
    EXPECT_TRUE(rep.is_affected("meta/big-" + std::to_string(i))) << i << "\n" << p;
  // Hashed all the same: the tag manifest still agrees with every one of them.
  EXPECT_EQ(p.find("SHA-256 mismatch"), std::string::npos) << p;
  EXPECT_EQ(rep.files.at("meta/big-11").size, 16 * kMiB);
  // The archive check says so; nothing else is wrong: the action log and manifests were read.
  ASSERT_FALSE(rep.checks.empty());
  EXPECT_FALSE(rep.checks[0].ok);
  EXPECT_NE(rep.checks[0].what.find("tag files within 64 MiB"), std::string::npos);
  for (size_t i = 1; i < rep.checks.size(); ++i)
    EXPECT_TRUE(rep.checks[i].ok) << rep.checks[i].what;
}

// A tar at `path` holding top/bagit.txt, then what `fill` adds.
template <class F>
void write_bag_tar(const std::string& path, F fill) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  ASSERT_TRUE(fd);
  FdSink sink(fd.get(), path);
  PaxWriter w(sink);
  w.add({"top/bagit.txt", 0, 1700000000, 0},
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n");
  fill(w);
  w.finish();
}

// A tag file verify has to parse, past the budget: said so, not called "missing".
TEST(VerifyBudget, ParsedTagFilePastTheBudgetIsNotCalledMissing) {
  TempDir t;
  std::string out = t / "filler.tar";
  write_bag_tar(out, [&](PaxWriter& w) {
    uint64_t filler = 64 * kMiB - 100;
    w.begin({"top/meta/filler", filler, 1700000000, 0});
    std::string zeros(kMiB, '\0');
    for (uint64_t left = filler; left > 0;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(left, zeros.size()));
      w.write(zeros.data(), n);
      left -= n;
    }
    w.end();
    w.add({"top/bag-info.txt", 0, 1700000000, 0}, "Payload-Oxum: 0.0\n" + std::string(200, '#'));
  });
  auto rep = verify_bundle(out, lenient());
  std::string p = all_problems(rep);
  EXPECT_NE(p.find("bag-info.txt: tag file of 218 bytes over the 64 MiB budget"), std::string::npos)
      << p;
  EXPECT_NE(p.find("bag-info.txt: not checked (over the tag-file budget)"), std::string::npos) << p;
  EXPECT_EQ(p.find("bag-info.txt: missing"), std::string::npos) << p;
  EXPECT_EQ(p.find("bagit.txt: missing"), std::string::npos) << p;
}

// A manifest listing 200,000 files that are not there: every file counted as affected, the
// problems kept as text bounded (the rest counted in one line), the check failed.
TEST(VerifyBudget, ProblemsListedAreBounded) {
  TempDir t;
  std::string out = t / "listed.tar";
  write_bag_tar(out, [&](PaxWriter& w) {
    std::string manifest;
    for (int i = 0; i < 200000; ++i)
      manifest += std::string(64, 'a') + "  data/f" + std::to_string(i) + "\n";
    w.add({"top/manifest-sha256.txt", 0, 1700000000, 0}, manifest);
  });
  auto rep = verify_bundle(out, lenient());
  EXPECT_EQ(rep.problems.size(), 10001u);
  EXPECT_NE(rep.problems.back().find("more problems, not listed"), std::string::npos);
  EXPECT_GE(rep.affected_count(), 200000u);
  bool manifest_check_failed = false;
  for (const auto& c : rep.checks)
    if (c.what.rfind("manifest-sha256.txt", 0) == 0) manifest_check_failed = !c.ok;
  EXPECT_TRUE(manifest_check_failed);
}

// Files under `dir` whose name starts with `prefix`, recursively.
std::vector<std::string> find_named(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) found.push_back(e.path());
  return found;
}

// How many descriptors of this process refer to `path`.
int open_here(const std::string& path) {
  int count = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    std::error_code lec;
    if (std::filesystem::read_symlink(e.path(), lec) == path) ++count;
  }
  return count;
}

std::string make_two_file_bundle(const TempDir& t) {
  std::string out = t / "two.tar";
  BundleWriter w(unsigned_options(out));
  w.add_blob("data/a.txt", std::string(5000, 'a'));
  w.add_blob("data/b.txt", std::string(5000, 'b'));
  w.finish();
  return out;
}

// An extract killed mid-way leaves DIR/<top>: the next extract names it and writes nothing.
TEST(Extract, AnInterruptedExtractIsNamed) {
  TempDir t;
  std::string bundle = make_two_file_bundle(t);
  auto rep = verify_bundle(bundle, lenient());
  std::filesystem::create_directories(t / ("out/" + rep.top + "/data"));
  spit(t / ("out/" + rep.top + "/data/.forage-extract.1.1"), "half");
  try {
    extract_bundle(bundle, t / "out", lenient());
    ADD_FAILURE() << "extract went into an existing bag directory";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("if an earlier extract was interrupted, remove that "
                                         "directory, .forage-extract.* files included"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(t / ("out/" + rep.top + "/data/a.txt")));
}

TEST(Extract, LeavesNoTemporaryBehind) {
  TempDir t;
  std::string bundle = make_two_file_bundle(t);
  auto rep = extract_bundle(bundle, t / "out", lenient());
  ASSERT_TRUE(rep.valid()) << all_problems(rep);
  EXPECT_EQ(slurp(t / ("out/" + rep.top + "/data/b.txt")), std::string(5000, 'b'));
  EXPECT_TRUE(find_named(t / "out", ".forage-extract").empty());
}

// The bundle is a FIFO fed twice: verify reads the genuine bundle, the write pass a copy with
// data/b.txt changed. extract throws; data/b.txt is not there, nor any temporary file.
TEST(Extract, MemberThatNoLongerMatchesLeavesNoFileAndNoTemporary) {
  TempDir t;
  std::string good = slurp(make_two_file_bundle(t));
  std::string bad = good;
  size_t at = bad.find(std::string(100, 'b'));
  ASSERT_NE(at, std::string::npos);
  bad[at + 10] = 'X';
  std::string fifo = t / "bundle.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ::signal(SIGPIPE, SIG_IGN);
  std::thread feeder([&] {
    for (const std::string* data : {&good, &bad}) {
      {
        Fd fd(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));  // waits for the next open to read
        for (size_t off = 0; fd && off < data->size();) {
          ssize_t n = ::write(fd.get(), data->data() + off, data->size() - off);
          if (n <= 0) break;  // the reader stopped (EPIPE)
          off += static_cast<size_t>(n);
        }
        // The reader's descriptor may not be in the table yet when our open returns.
        while (fd && data == &good && open_here(fifo) < 2)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      // Until verify has closed the FIFO, a new writer would feed the same read. (extract's
      // second open blocks until a writer comes, so it has no descriptor yet.)
      while (open_here(fifo) > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  try {
    auto rep = extract_bundle(fifo, t / "out", lenient());
    ADD_FAILURE() << "extract accepted a member that differs from the verified bundle\n"
                  << all_problems(rep);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::kVerifyFailed);
    EXPECT_NE(std::string(e.what()).find("data/b.txt differs from the verified bundle"),
              std::string::npos)
        << e.what();
  }
  feeder.join();
  EXPECT_TRUE(find_named(t / "out", "b.txt").empty());
  EXPECT_TRUE(find_named(t / "out", ".forage-extract").empty());
  EXPECT_EQ(find_named(t / "out", "a.txt").size(), 1u) << "the verified member before it stays";
}

// Members a problem names are marked where they are kept (no second set of a million names), the
// other names in `affected`; both come out merged in order, and text() lists the first 200.
TEST(VerifyBudget, AffectedMembersAreMarkedAndListedInOrder) {
  TempDir t;
  std::string out = t / "unlisted.tar";
  write_bag_tar(out, [&](PaxWriter& w) {
    w.add({"top/manifest-sha256.txt", 0, 1700000000, 0},
          std::string(64, 'a') + "  data/f0150-missing\n");
    for (int i = 0; i < 300; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "top/data/f%04d", i);
      w.add({name, 0, 1700000000, 0}, "x");
    }
  });
  auto rep = verify_bundle(out, lenient());
  EXPECT_FALSE(rep.valid());
  EXPECT_TRUE(rep.is_affected("data/f0000"));
  EXPECT_TRUE(rep.is_affected("data/f0299"));
  EXPECT_TRUE(rep.is_affected("data/f0150-missing"));
  EXPECT_FALSE(rep.is_affected("bagit.txt"));
  EXPECT_TRUE(rep.files.at("data/f0007").affected);
  EXPECT_EQ(rep.files.count("data/f0150-missing"), 0u);
  EXPECT_EQ(rep.files.at("data/f0007").sha256_hex(), sha256_hex("x"));
  // 300 unlisted members, the missing one, and the absent tag files (bag-info.txt, ...).
  size_t n = rep.affected_count();
  EXPECT_GE(n, 301u);
  auto names = rep.affected_names(1000);
  ASSERT_EQ(names.size(), n);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
  auto at = std::find(names.begin(), names.end(), "data/f0150-missing");
  ASSERT_NE(at, names.end());
  EXPECT_EQ(*(at - 1), "data/f0150");
  EXPECT_EQ(*(at + 1), "data/f0151");
  EXPECT_EQ(rep.affected_names(3).size(), 3u);
  std::string text = rep.text();
  EXPECT_NE(text.find(", ... and " + std::to_string(n - 200) + " more\n"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace forage::bundle
