// Log scanning: text logs (plain, gzip, damaged gzip), journal files (real layout, hostile
// bytes), what is matched and what is not, the budget stop.
#include "scanners/log_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace forage::scanners {
namespace {

namespace fs = std::filesystem;

struct Tmp {
  fs::path dir;
  Tmp() {
    char t[] = "/tmp/forage-logscan.XXXXXX";
    dir = ::mkdtemp(t);
  }
  ~Tmp() { fs::remove_all(dir); }
};

ioc::IocSet make_set() {
  ioc::IocSet set;
  auto add = [&](ioc::Type t, std::string v) {
    ioc::Indicator i;
    i.type = t;
    i.value = std::move(v);
    i.source.file = "unit";
    set.add(i);
  };
  add(ioc::Type::kIpv4, "203.0.113.45");
  add(ioc::Type::kCidr, "198.51.100.0/24");
  add(ioc::Type::kUsername, "baduser");
  add(ioc::Type::kX509Dn, "/DC=org/DC=example/CN=Bad User");
  add(ioc::Type::kFilename, "kswapd0");  // never matched in logs
  return set;
}

// Runs `body` with a JSON Reporter on a memory stream; returns the finding lines.
template <typename F>
std::vector<Json> capture(F body) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = ::open_memstream(&buf, &len);
  {
    Reporter r(true, f);
    body(r);
  }
  std::fclose(f);
  std::vector<Json> out;
  std::string text(buf, len);
  ::free(buf);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    out.push_back(Json::parse(text.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return out;
}

TEST(LogScan, LoginLineGivesAddressAndUserWithLineNumbers) {
  auto set = make_set();
  IocIndex idx(set);
  ScanStats st;
  LogScanOptions o;
  std::string text =
      "Nov 23 11:58:01 wn01 sshd[1]: Accepted publickey for baduser from 203.0.113.45 port 5\r\n"
      "Nov 23 11:58:02 wn01 kernel: kswapd0: woke up\n"
      "Nov 23 11:58:03 wn01 sshd[2]: Failed password for root from 198.51.100.7\n"
      "job by /DC=org/DC=example/CN=Bad User";  // no final newline
  auto hits =
      capture([&](Reporter& r) { scan_log_text(text, "/var/log/auth.log", o, idx, r, st); });
  ASSERT_EQ(hits.size(), 4u);
  EXPECT_EQ(hits[0]["line"], 1);
  EXPECT_EQ(hits[0]["log"], "auth");
  EXPECT_EQ(hits[0]["match"], "log");
  std::set<std::string> line1;
  for (int i = 0; i < 2; ++i) line1.insert(hits[i]["ioc"]["value"].get<std::string>());
  EXPECT_EQ(line1, (std::set<std::string>{"baduser", "203.0.113.45"}));
  EXPECT_EQ(hits[0]["text"].get<std::string>().back(), '5');  // \r dropped
  EXPECT_EQ(hits[2]["line"], 3);
  EXPECT_EQ(hits[2]["ioc"]["value"], "198.51.100.0/24");
  EXPECT_EQ(hits[3]["line"], 4);
  EXPECT_EQ(hits[3]["ioc"]["type"], "x509-dn");
}

TEST(LogScan, ControlCharactersStayOnOneLineAndLongLinesAreCut) {
  auto set = make_set();
  IocIndex idx(set);
  ScanStats st;
  LogScanOptions o;
  o.max_line = 100;
  std::string text = "evil\x1b[31m 203.0.113.45 \x01\n" + std::string(500, 'a') + " 203.0.113.45\n";
  auto hits = capture([&](Reporter& r) { scan_log_text(text, "/var/log/syslog", o, idx, r, st); });
  ASSERT_EQ(hits.size(), 1u);  // the address of line 2 is past max_line
  EXPECT_EQ(hits[0]["text"], "evil\\x1b[31m 203.0.113.45 \\x01");
}

TEST(LogScan, GzipRotationsAndDamagedGzip) {
  Tmp t;
  auto set = make_set();
  IocIndex idx(set);
  std::string gzpath = (t.dir / "secure-20261120.gz").string();
  gzFile g = gzopen(gzpath.c_str(), "wb");
  std::string body;
  for (int i = 0; i < 20000; ++i) body += "Nov 20 10:00:00 h sshd: session for alice\n";
  body += "Nov 20 10:00:01 h sshd: Accepted password for baduser from 192.0.2.1\n";
  gzwrite(g, body.data(), body.size());
  gzclose(g);
  std::ofstream(t.dir / "messages") << "nothing\n";
  std::ofstream(t.dir / "unrelated.txt") << "203.0.113.45\n";  // not a log by name
  // A damaged copy: the gzip stream cut in half.
  std::string bytes;
  {
    std::ifstream in(gzpath, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(t.dir / "auth.log.3.gz", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  ScanStats st;
  LogScanOptions o;
  o.paths = {t.dir.string()};
  auto hits = capture([&](Reporter& r) { scan_logs(o, idx, r, st); });
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["path"], gzpath);
  EXPECT_EQ(hits[0]["line"], 20001);
  EXPECT_EQ(hits[0]["ioc"]["value"], "baduser");
  EXPECT_EQ(st.scanned_count(), 2u);  // messages and the good .gz
  EXPECT_TRUE(st.incomplete());       // the damaged .gz
  EXPECT_EQ(st.skipped_count("unreadable"), 1u);
}

TEST(LogScan, StopAskedCountsTheRestAsBudget) {
  Tmp t;
  auto set = make_set();
  IocIndex idx(set);
  std::ofstream(t.dir / "auth.log") << "203.0.113.45\n";
  std::ofstream(t.dir / "syslog") << "203.0.113.45\n";
  ScanStats st;
  LogScanOptions o;
  o.paths = {t.dir.string()};
  o.stop = [] { return true; };
  auto hits = capture([&](Reporter& r) { scan_logs(o, idx, r, st); });
  EXPECT_TRUE(hits.empty());
  EXPECT_EQ(st.skipped_count("budget"), 2u);
  EXPECT_TRUE(st.incomplete());
}

TEST(LogScan, KindsFromNames) {
  EXPECT_EQ(host::log_kind("/var/log/auth.log.2.gz"), "auth");
  EXPECT_EQ(host::log_kind("/var/log/secure-20261120"), "auth");
  EXPECT_EQ(host::log_kind("/var/log/messages"), "syslog");
  EXPECT_EQ(host::log_kind("/var/log/slurm/slurmctld.log"), "slurm");
  EXPECT_EQ(host::log_kind("/var/log/condor/StartLog"), "condor");
  EXPECT_EQ(host::log_kind("/var/log/journal/abc/system.journal"), "journal");
  EXPECT_EQ(host::log_kind("/var/log/dpkg.log"), "");
}

void put64(std::string& s, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}

// A journal file laid out as systemd writes it: header, then objects 8-byte aligned.
std::string journal(const std::vector<std::string>& payloads, bool compact = false) {
  const size_t header = 256;
  std::string f(header, '\0');
  f.replace(0, 8, "LPKSHHRH");
  if (compact) f[12] = 16;
  size_t payload_at = compact ? 72 : 64;
  for (const auto& p : payloads) {
    std::string obj(payload_at, '\0');
    obj[0] = 1;  // DATA
    obj += p;
    put64(obj, 8, obj.size());
    while (obj.size() % 8) obj += '\0';
    f += obj;
  }
  put64(f, 88, header);
  put64(f, 96, f.size() - header);
  return f;
}

TEST(LogScan, JournalDataObjects) {
  auto set = make_set();
  IocIndex idx(set);
  for (bool compact : {false, true}) {
    ScanStats st;
    LogScanOptions o;
    auto j = journal({"_HOSTNAME=wn01", "MESSAGE=Accepted publickey for baduser from 203.0.113.45",
                      "MESSAGE=kswapd0 started"},
                     compact);
    auto hits = capture(
        [&](Reporter& r) { EXPECT_TRUE(scan_journal_bytes(j, "system.journal", o, idx, r, st)); });
    ASSERT_EQ(hits.size(), 2u) << compact;
    EXPECT_TRUE(hits[0].contains("offset"));
    EXPECT_EQ(hits[0]["log"], "journal");
    EXPECT_FALSE(st.incomplete());
  }
}

TEST(LogScan, HostileJournalBytesNeverCrash) {
  auto set = make_set();
  IocIndex idx(set);
  LogScanOptions o;
  auto good = journal({"MESSAGE=from 203.0.113.45", "MESSAGE=x"});
  // Not a journal; header size beyond the file; an object claiming to be huge; every prefix.
  std::vector<std::string> bad = {"", "LPKSHHRH", std::string(4096, '\xff')};
  std::string big = good;
  put64(big, 88, 1ull << 60);
  bad.push_back(big);
  std::string huge_obj = good;
  put64(huge_obj, 256 + 8, ~0ull);
  bad.push_back(huge_obj);
  for (size_t n = 0; n < good.size(); n += 7) bad.push_back(good.substr(0, n));
  srand(7);
  for (int k = 0; k < 200; ++k) {
    std::string m = good;
    for (int i = 0; i < 8; ++i) m[rand() % m.size()] = static_cast<char>(rand());
    bad.push_back(m);
  }
  for (const auto& b : bad) {
    ScanStats st;
    capture([&](Reporter& r) { scan_journal_bytes(b, "x.journal", o, idx, r, st); });
  }
  ScanStats st;
  EXPECT_FALSE(capture([&](Reporter& r) {
                 EXPECT_FALSE(
                     scan_journal_bytes("not a journal at all, but long enough to have a "
                                        "header of one hundred and twenty bytes......."
                                        "................................",
                                        "y.journal", o, idx, r, st));
               }).size());
  EXPECT_TRUE(st.incomplete());
}

}  // namespace
}  // namespace forage::scanners
