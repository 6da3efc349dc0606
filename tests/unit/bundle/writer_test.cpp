// BundleWriter and verify_bundle together, in process: member statuses for misbehaving sources,
// the abort path, compression + encryption + Ed25519 round trips, flat memory.
#include "bundle/writer.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "bundle/stream.h"
#include "bundle/verify.h"
#include "common/error.h"
#include "common/file.h"
#include "test_util.h"

namespace forage::bundle {
namespace {

using test::run;
using test::slurp;
using test::spit;
using test::TempDir;

WriterOptions unsigned_options(const std::string& out) {
  WriterOptions o;
  o.out = out;
  o.case_id = "CASE-1";
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

TEST(BundleWriter, SourcesThatMisbehaveAreRecordedAndTheBundleStaysValid) {
  TempDir t;
  spit(t / "notes.txt", "admin notes\n");
  ::symlink("/etc/passwd", (t / "link").c_str());
  std::string out = t / "b.tar";
  {
    BundleWriter w(unsigned_options(out));
    EXPECT_EQ(w.output_path(), out + ".partial");
    w.note("first note");
    auto r = w.add_file("data/notes.txt", t / "notes.txt");
    EXPECT_EQ(r.status, "complete");
    EXPECT_EQ(r.size, 12u);
    r = w.add_file("data/gone.txt", t / "does-not-exist");
    EXPECT_EQ(r.status, "vanished");
    EXPECT_FALSE(r.stored);
    r = w.add_file("data/link", t / "link");
    EXPECT_EQ(r.status, "unreadable");
    EXPECT_NE(r.detail.find("symbolic link"), std::string::npos);
    // A process that exits mid-dump: fewer bytes than declared -> zero padding.
    r = w.add_stream(
        "data/memory/42/core", 10000, [](StreamOut& o) { o.write("ELF", 3); }, "/proc/42/mem");
    EXPECT_EQ(r.status, "padded");
    EXPECT_EQ(r.from_source, 3u);
    EXPECT_EQ(r.size, 10000u);
    // More than declared: cut.
    r = w.add_stream(
        "data/more", 4, [](StreamOut& o) { EXPECT_EQ(o.write("abcdefgh", 8), 4u); }, "src");
    EXPECT_EQ(r.status, "truncated");
    // The source fails: recorded, padded, the bundle goes on.
    r = w.add_stream(
        "data/failing", 100,
        [](StreamOut& o) {
          o.write("xy", 2);
          throw Error("/proc/43/mem: Input/output error");
        },
        "/proc/43/mem");
    EXPECT_EQ(r.status, "padded");
    EXPECT_NE(r.detail.find("Input/output error"), std::string::npos);
    r = w.add_blob("meta/incident.json", "{}\n");
    EXPECT_EQ(r.status, "complete");
    // The same bag path twice: the second gets a new name, nothing is overwritten.
    EXPECT_EQ(w.add_blob("data/x", "1").bag_path, "data/x");
    EXPECT_EQ(w.add_blob("data/x", "2").bag_path, "data/x~2");
    EXPECT_THROW(w.add_blob("bagit.txt", "x"), Error);
    EXPECT_THROW(w.add_blob("meta/actions.jsonl", "x"), Error);
    EXPECT_THROW(w.add_blob("../escape", "x"), Error);
    EXPECT_THROW(w.add_blob("/abs", "x"), Error);
    EXPECT_EQ(w.finish(), out);
  }
  struct stat st {};
  EXPECT_NE(::stat((out + ".partial").c_str(), &st), 0);
  auto rep = verify_bundle(out, lenient());
  EXPECT_TRUE(rep.valid()) << all_problems(rep);
  EXPECT_EQ(rep.payload_files, 6u);
  EXPECT_EQ(rep.payload_bytes, 12u + 10000u + 4u + 100u + 1u + 1u);
  std::string log;
  ASSERT_EQ(run("tar -xOf " + out + " --wildcards '*/meta/actions.jsonl'", &log), 0);
  EXPECT_NE(log.find("vanished: no longer exists"), std::string::npos);
  EXPECT_NE(log.find("padded: source delivered 3 of 10000"), std::string::npos);
  EXPECT_NE(log.find("truncated: source delivered 4 bytes more"), std::string::npos);
  EXPECT_NE(log.find("\"actor\":\"operator\",\"action\":\"note\""), std::string::npos);
  // The stored core is what the source gave, then zeros.
  std::string core;
  ASSERT_EQ(run("tar -xOf " + out + " --wildcards '*/data/memory/42/core'", &core), 0);
  EXPECT_EQ(core, std::string("ELF") + std::string(9997, '\0'));
}

// Past the member limit (bag.h, lowered here) nothing more is added: each file is logged as
// skipped, tag files still fit in the reserve, and the bundle seals and verifies.
TEST(BundleWriter, MemberLimitSkipsAndTheBundleStillSeals) {
  TempDir t;
  ASSERT_EQ(::mkdir((t / "tree").c_str(), 0755), 0);
  for (int i = 0; i < 200; ++i) spit(t / ("tree/f" + std::to_string(i)), "x");
  std::string out = t / "b.tar";
  WriterOptions o = unsigned_options(out);
  o.max_members = kMemberReserve + 100;
  {
    BundleWriter w(o);
    PathSummary s = w.add_path("data/tree", t / "tree");
    EXPECT_EQ(s.files, 100u);
    EXPECT_EQ(s.skipped, 100u);
    auto r = w.add_file("data/one-more", t / "tree/f0");
    EXPECT_EQ(r.status, "skipped");
    EXPECT_FALSE(r.stored);
    EXPECT_NE(r.detail.find("member limit"), std::string::npos) << r.detail;
    EXPECT_EQ(w.add_blob("data/blob", "x").status, "skipped");
    EXPECT_EQ(w.add_blob("meta/incident.json", "{}\n").status, "complete");
    EXPECT_EQ(w.finish(), out);
  }
  auto rep = verify_bundle(out, lenient());
  EXPECT_TRUE(rep.valid()) << all_problems(rep);
  EXPECT_EQ(rep.payload_files, 100u);
  std::string log;
  ASSERT_EQ(run("tar -xOf " + out + " --wildcards '*/meta/actions.jsonl'", &log), 0);
  EXPECT_NE(log.find("member limit reached (100 members; verify accepts at most 1100"),
            std::string::npos);
  // Logged once, then counted: 100 from the tree, one file, one blob.
  size_t skips = 0;
  for (size_t at = 0; (at = log.find("\"bundle.skip\"", at)) != std::string::npos; ++at) ++skips;
  EXPECT_EQ(skips, 2u) << log;
  EXPECT_NE(log.find("102 files not collected in all"), std::string::npos) << log;
}

TEST(BundleWriter, RefusesToOverwriteAndNeedsAnExplicitUnsigned) {
  TempDir t;
  spit(t / "exists.tar", "x");
  EXPECT_THROW(BundleWriter(unsigned_options(t / "exists.tar")), Error);
  auto o = unsigned_options(t / "n.tar");
  o.unsigned_ok = false;
  EXPECT_THROW(BundleWriter(std::move(o)), Error);
  struct stat st {};
  EXPECT_NE(::stat((t / "n.tar.partial").c_str(), &st), 0);
}

TEST(BundleWriter, AbortLeavesAReadablePartial) {
  TempDir t;
  std::string out = t / "a.tar";
  {
    BundleWriter w(unsigned_options(out));
    w.add_blob("data/one", "one\n");
    // Destroyed mid-way (an exception in the caller): abort() closes what it can.
  }
  struct stat st {};
  EXPECT_NE(::stat(out.c_str(), &st), 0) << "an aborted bundle must not get its final name";
  ASSERT_EQ(::stat((out + ".partial").c_str(), &st), 0);
  std::string listing;
  EXPECT_EQ(run("tar -tf " + out + ".partial", &listing), 0) << listing;
  EXPECT_NE(listing.find("/data/one"), std::string::npos);
  EXPECT_NE(listing.find("/meta/actions.jsonl"), std::string::npos);
  std::string log;
  run("tar -xOf " + out + ".partial --wildcards '*/meta/actions.jsonl'", &log);
  EXPECT_NE(log.find("bundle.abort"), std::string::npos);
  // verify says what is wrong with it rather than crashing.
  auto rep = verify_bundle(out + ".partial", lenient());
  EXPECT_FALSE(rep.valid());
  EXPECT_NE(all_problems(rep).find("manifest-sha256.txt: missing"), std::string::npos);
}

class CryptoRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string o;
    ASSERT_EQ(run("cd " + t_.path() +
                      " && openssl genpkey -algorithm ed25519 -out ed.pem"
                      " && openssl req -x509 -newkey rsa:2048 -nodes -keyout r.key -out r.pem "
                      "-days 2 -subj /CN=R",
                  &o),
              0)
        << o;
  }
  TempDir t_;
};

TEST_F(CryptoRoundTrip, CompressedEncryptedEd25519) {
  auto signer = SigningIdentity::load("", t_ / "ed.pem");
  EXPECT_EQ(signer.kind(), SigningIdentity::Kind::kEd25519);
  X509Ptr recipient = load_certificate(t_ / "r.pem");
  auto o = unsigned_options(t_ / "e.p7m");
  o.unsigned_ok = false;
  o.signer = &signer;
  o.compress = true;
  o.encrypt_to = {recipient.get()};
  std::string payload(3 << 20, 'p');
  {
    BundleWriter w(std::move(o));
    w.add_blob("data/p", payload);
    w.finish();
  }
  std::string raw = slurp(t_ / "e.p7m");
  EXPECT_EQ(raw.find(std::string(100, 'p')), std::string::npos);
  VerifyOptions v;
  v.decrypt_key = t_ / "r.key";
  v.decrypt_cert = t_ / "r.pem";
  auto rep = verify_bundle(t_ / "e.p7m", v);
  EXPECT_FALSE(rep.valid()) << "a bare Ed25519 key proves nothing until pinned";
  ASSERT_EQ(rep.signatures.size(), 1u);
  EXPECT_TRUE(rep.signatures[0].valid);
  v.expect_signer = "sha256:" + rep.signatures[0].fingerprint;
  rep = verify_bundle(t_ / "e.p7m", v);
  EXPECT_TRUE(rep.valid()) << all_problems(rep);
  ASSERT_EQ(rep.layers.size(), 3u);
  EXPECT_EQ(rep.layers[1], "zstd");
  // Without the key: a usage error, not a verdict.
  EXPECT_THROW(verify_bundle(t_ / "e.p7m", lenient()), Error);
  // Extract writes the payload back.
  auto ex = extract_bundle(t_ / "e.p7m", t_ / "out", v);
  ASSERT_TRUE(ex.valid());
  EXPECT_EQ(slurp(t_ / ("out/" + ex.top + "/data/p")), payload);
}

// The writer's memory does not grow with the payload (256 MiB through a fixed buffer).
TEST(BundleWriter, PeakMemoryIsFlat) {
  TempDir t;
  auto o = unsigned_options(t / "big.tar.zst");
  o.compress = true;
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  {
    BundleWriter w(std::move(o));
    const uint64_t size = 256ull << 20;
    std::string chunk(1 << 20, 'z');
    w.add_stream(
        "data/big", size,
        [&](StreamOut& out) {
          while (out.remaining() > 0) out.write(chunk.data(), chunk.size());
        },
        "generated");
    w.finish();
  }
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  long grew_kib = after.ru_maxrss - before.ru_maxrss;
  EXPECT_LT(grew_kib, 64 * 1024) << "peak RSS grew by " << grew_kib << " KiB for a 256 MiB member";
  auto rep = verify_bundle(t / "big.tar.zst", lenient());
  EXPECT_TRUE(rep.valid()) << all_problems(rep);
  EXPECT_EQ(rep.payload_bytes, 256ull << 20);
}

// Large members cross FdSink's writeback windows and take the parallel hashing path: the
// manifest digests are what sha256sum computes over the extracted files.
TEST(BundleWriter, LargeMembersHashAndLandWholeOnDisk) {
  TempDir t;
  std::string big(70u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 24);
  spit(t / "big.bin", big);
  spit(t / "file.bin", big.substr(0, 40u << 20));
  {
    BundleWriter w(unsigned_options(t / "b.tar"));
    auto r = w.add_stream(
        "data/core", big.size(),
        [&](StreamOut& out) {
          for (size_t at = 0; at < big.size(); at += 3u << 20)  // uneven, as a core reader
            out.write(big.data() + at, std::min<size_t>(3u << 20, big.size() - at));
        },
        "generated");
    EXPECT_EQ(r.status, "complete");
    EXPECT_EQ(w.add_file("data/file.bin", t / "file.bin").status, "complete");
    w.finish();
  }
  std::string out;
  ASSERT_EQ(run("cd '" + t.path() + "' && mkdir x && tar -xf b.tar -C x && cd x/* && " +
                    "sha256sum -c --quiet manifest-sha256.txt && cmp data/core ../../big.bin",
                &out),
            0)
      << out;
}

// An output descriptor that does not start at offset 0 (`forage ... --out - >> file`).
TEST(FdSink, AppendsWholeAfterExistingBytesAcrossWritebackWindows) {
  TempDir t;
  spit(t / "o", "prefix");
  Fd fd(::open((t / "o").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  ASSERT_TRUE(fd);
  std::string chunk(5u << 20, 'a');
  {
    FdSink s(fd.get(), "o", 1 << 20, 8u << 20);  // small windows: many writeback steps
    for (int i = 0; i < 20; ++i) {
      chunk[0] = static_cast<char>('a' + i);
      s.write(chunk.data(), chunk.size());
    }
    s.finish();
  }
  std::string got = slurp(t / "o");
  ASSERT_EQ(got.size(), 6 + 20 * chunk.size());
  EXPECT_EQ(got.substr(0, 6), "prefix");
  EXPECT_EQ(got[6 + 19 * chunk.size()], 'a' + 19);
}

}  // namespace
}  // namespace forage::bundle
