// The pax writer and reader, judged by GNU tar in both directions, plus hostile archives.
#include "bundle/pax.h"

#include <sys/stat.h>

#include <cstring>
#include <map>

#include <gtest/gtest.h>

#include "common/error.h"
#include "test_util.h"

namespace forage::bundle {
namespace {

using test::run;
using test::slurp;
using test::spit;
using test::TempDir;

std::string long_name(size_t n) {
  std::string s = "top/";
  while (s.size() < n) s += "abcdefghij/";
  return s + "file.txt";
}

const std::string kNonUtf8 = std::string("top/odd\xff\xfe-name.bin");

std::string build_archive() {
  std::string out;
  StringSink sink(out);
  PaxWriter w(sink);
  w.add({"top/", 0, 1700000000, 0, 0755, EntryType::kDirectory}, "");
  w.add({"top/short.txt", 0, 1700000000, 0}, "hello\n");
  w.add({long_name(180), 0, 1700000001, 123456789}, std::string(700, 'x'));
  w.add({kNonUtf8, 0, 1700000002, 500000000}, "binary name\n");
  w.add({"top/empty", 0, 1700000003, 0}, "");
  w.add({"top/block", 0, 1700000004, 0}, std::string(512, 'b'));
  w.finish();
  return out;
}

TEST(PaxWriter, RoundTripThroughOwnReader) {
  std::string a = build_archive();
  ASSERT_EQ(a.size() % 512, 0u);
  StringSource src(a);
  PaxReader r(src, "a.tar");
  std::vector<std::pair<std::string, std::string>> got;
  std::vector<uint32_t> nsecs;
  while (auto e = r.next()) {
    std::string data;
    char buf[100];
    size_t n;
    while ((n = r.read(buf, sizeof buf)) > 0) data.append(buf, n);
    EXPECT_EQ(data.size(), e->type == EntryType::kDirectory ? 0u : e->size);
    got.emplace_back(e->name, data);
    nsecs.push_back(e->mtime_nsec);
  }
  EXPECT_FALSE(r.data_after_end());
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[1].first, "top/short.txt");
  EXPECT_EQ(got[1].second, "hello\n");
  EXPECT_EQ(got[2].first, long_name(180));
  EXPECT_EQ(got[2].second, std::string(700, 'x'));
  EXPECT_EQ(nsecs[2], 123456789u);
  EXPECT_EQ(got[3].first, kNonUtf8);
  EXPECT_EQ(nsecs[3], 500000000u);
  EXPECT_EQ(got[5].second, std::string(512, 'b'));
}

TEST(PaxWriter, GnuTarExtractsIt) {
  TempDir t;
  spit(t / "a.tar", build_archive());
  std::string out;
  ASSERT_EQ(run("mkdir " + t / "x" + " && tar -xf " + t / "a.tar" + " -C " + t / "x", &out), 0)
      << out;
  EXPECT_EQ(out, "") << "GNU tar warned";
  EXPECT_EQ(slurp(t / ("x/top/short.txt")), "hello\n");
  EXPECT_EQ(slurp(t / ("x/" + long_name(180))), std::string(700, 'x'));
  EXPECT_EQ(slurp(t / ("x/" + kNonUtf8)), "binary name\n");
  struct stat st {};
  ASSERT_EQ(::stat((t / ("x/" + long_name(180))).c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1700000001);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
  // GNU tar's own verification of the listing.
  ASSERT_EQ(run("tar -tf " + t / "a.tar" + " | wc -l", &out), 0);
  EXPECT_EQ(out, "6\n");
}

TEST(PaxWriter, LargeSizeUsesPaxRecordAndGnuTarAgrees) {
  std::string out;
  StringSink sink(out);
  PaxWriter w(sink);
  const uint64_t big = 9ull << 30;  // over the 8 GiB ustar limit
  w.begin({"top/core", big, 1700000000, 0});
  EXPECT_NE(out.find("size=9663676416\n"), std::string::npos);
  // Reader: the header says 9 GiB, the data is missing: size read right, then truncation.
  StringSource src(out);
  PaxReader r(src, "big.tar");
  auto e = r.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->size, big);
  char buf[16];
  EXPECT_THROW(r.read(buf, sizeof buf), Error);
  TempDir t;
  spit(t / "big.tar", out);
  std::string listing;
  run("tar -tvf " + t / "big.tar", &listing);
  EXPECT_NE(listing.find("9663676416"), std::string::npos) << listing;
}

TEST(PaxWriter, RefusesMisuse) {
  std::string out;
  StringSink sink(out);
  PaxWriter w(sink);
  w.begin({"a", 3, 0, 0});
  EXPECT_THROW(w.write("abcd", 4), Error);
  w.write("ab", 2);
  EXPECT_THROW(w.end(), Error);
  EXPECT_THROW(w.begin({"b", 0, 0, 0}), Error);
  PaxWriter w2(sink);
  EXPECT_THROW(w2.begin({std::string("a\0b", 3), 0, 0, 0}), Error);
}

// GNU tar's own formats, with names that need its extensions.
class GnuTarArchives : public ::testing::TestWithParam<const char*> {};

TEST_P(GnuTarArchives, ReaderReadsThem) {
  TempDir t;
  std::string deep = "d/" + std::string(120, 'n') + "/" + std::string(120, 'm') + "/leaf.txt";
  ASSERT_EQ(run("mkdir -p " + t / ("src/d/" + std::string(120, 'n') + "/" + std::string(120, 'm'))),
            0);
  spit(t / ("src/" + deep), "deep\n");
  spit(t / "src/plain.txt", std::string(1000, 'p'));
  spit(t / "src/odd\xff.bin", "odd\n");
  std::string fmt = GetParam();
  std::string out;
  ASSERT_EQ(
      run("cd " + t / "src" + " && tar --format=" + fmt + " -cf ../g.tar plain.txt d odd*.bin",
          &out),
      0)
      << out;
  std::string a = slurp(t / "g.tar");
  StringSource src(a);
  PaxReader r(src, "g.tar");
  std::map<std::string, std::string> files;
  while (auto e = r.next()) {
    std::string data;
    char buf[333];
    size_t n;
    while ((n = r.read(buf, sizeof buf)) > 0) data.append(buf, n);
    if (e->type == EntryType::kFile) files[e->name] = data;
  }
  EXPECT_EQ(files["plain.txt"], std::string(1000, 'p'));
  EXPECT_EQ(files[deep], "deep\n");
  EXPECT_EQ(files["odd\xff.bin"], "odd\n");
}

INSTANTIATE_TEST_SUITE_P(Formats, GnuTarArchives, ::testing::Values("gnu", "posix", "pax"));

TEST(PaxReader, ReadsBase256Size) {
  // GNU tar writes base-256 numbers in its default format for big values; build one by hand.
  std::string a;
  StringSink sink(a);
  PaxWriter w(sink);
  w.add({"f", 0, 0, 0}, "data");
  w.finish();
  // Re-encode the size field (4) in base-256 and fix the checksum.
  a[124] = static_cast<char>(0x80);
  for (int i = 125; i < 135; ++i) a[i] = 0;
  a[135] = 4;
  std::memset(&a[148], ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i) sum += static_cast<unsigned char>(a[i]);
  std::snprintf(&a[148], 8, "%06o", sum);
  StringSource src(a);
  PaxReader r(src, "b256.tar");
  auto e = r.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->size, 4u);
}

// Hostile archives: each must be a forage::Error with the verify exit code and a reason.
std::string expect_failure(const std::string& a) {
  StringSource src(a);
  PaxReader r(src, "bad.tar");
  try {
    while (auto e = r.next()) {
      char buf[4096];
      while (r.read(buf, sizeof buf) > 0) {
      }
    }
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::kVerifyFailed);
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

std::string header_with_pax(const std::string& pax_body) {
  std::string a;
  StringSink sink(a);
  PaxWriter w(sink);
  // Write a real 'x' member by hand: a file named PaxHeaders with type x.
  w.add({"PaxHeaders/x", 0, 0, 0}, pax_body);
  w.add({"f", 0, 0, 0}, "data");
  w.finish();
  a[156] = 'x';
  std::memset(&a[148], ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i) sum += static_cast<unsigned char>(a[i]);
  std::snprintf(&a[148], 8, "%06o", sum);
  return a;
}

TEST(PaxReader, HostileInputs) {
  std::string good = build_archive();
  std::string bad = good;
  bad[10] ^= 1;
  EXPECT_NE(expect_failure(bad).find("checksum"), std::string::npos);
  EXPECT_NE(expect_failure(good.substr(0, good.size() - 1024)).find("no end-of-archive"),
            std::string::npos);
  EXPECT_NE(expect_failure(good.substr(0, good.size() - 512)).find("single block"),
            std::string::npos);
  EXPECT_NE(expect_failure(good.substr(0, 1500)).find("truncated"), std::string::npos);
  EXPECT_NE(expect_failure(good.substr(0, 700)).find("truncated"), std::string::npos);
  EXPECT_NE(expect_failure(std::string(512, 'A')).find("checksum"), std::string::npos);
  EXPECT_NE(expect_failure(header_with_pax("99999 path=x\n")).find("out of range"),
            std::string::npos);
  EXPECT_NE(expect_failure(header_with_pax("abc path=x\n")).find("malformed"), std::string::npos);
  EXPECT_NE(expect_failure(header_with_pax("9 path=xy\n")).find("newline"), std::string::npos);
  EXPECT_NE(expect_failure(header_with_pax(std::string("12 path=a\0b\n", 12))).find("NUL"),
            std::string::npos);
  EXPECT_NE(expect_failure(header_with_pax("14 size=-1234\n")).find("invalid pax size"),
            std::string::npos);
  // A pax header claiming an enormous size is refused before any allocation.
  std::string huge = header_with_pax("9 a=b\n");
  std::memcpy(&huge[124], "77777777777", 11);
  std::memset(&huge[148], ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i) sum += static_cast<unsigned char>(huge[i]);
  std::snprintf(&huge[148], 8, "%06o", sum);
  EXPECT_NE(expect_failure(huge).find("limit 1 MiB"), std::string::npos);
}

TEST(PaxReader, DataAfterEndIsNoticed) {
  std::string a = build_archive() + std::string(1024, '\0');
  StringSource src(a);
  PaxReader r(src, "a.tar");
  while (r.next()) {
  }
  EXPECT_FALSE(r.data_after_end());
  std::string b = build_archive() + "appended";
  StringSource src2(b);
  PaxReader r2(src2, "b.tar");
  while (r2.next()) {
  }
  EXPECT_TRUE(r2.data_after_end());
}

}  // namespace
}  // namespace forage::bundle
