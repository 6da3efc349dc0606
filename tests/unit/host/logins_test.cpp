// utmp/wtmp/btmp and lastlog parsing: records built with the platform's own struct layout, cut
// and random input (never a crash, never a field longer than its slot), and the machine's real
// /var/log/wtmp when there is one.
#include "host/logins.h"

#include <arpa/inet.h>
#include <lastlog.h>
#include <utmp.h>

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "host/accounts.h"

namespace forage::host {
namespace {

std::string record(short type, const char* user, const char* host, const char* line, uint32_t t,
                   const char* addr = nullptr, pid_t pid = 4242) {
  struct utmp u;
  std::memset(&u, 0, sizeof u);
  u.ut_type = type;
  u.ut_pid = pid;
  std::strncpy(u.ut_user, user, sizeof u.ut_user);
  std::strncpy(u.ut_host, host, sizeof u.ut_host);
  std::strncpy(u.ut_line, line, sizeof u.ut_line);
  std::strncpy(u.ut_id, "ts/1", sizeof u.ut_id);
  u.ut_tv.tv_sec = static_cast<int32_t>(t);
  u.ut_tv.tv_usec = 123;
  u.ut_session = 77;
  if (addr) {
    if (std::strchr(addr, ':'))
      ::inet_pton(AF_INET6, addr, u.ut_addr_v6);
    else
      ::inet_pton(AF_INET, addr, u.ut_addr_v6);
  }
  return std::string(reinterpret_cast<const char*>(&u), sizeof u);
}

TEST(Utmp, ParsesRecordsWithThePlatformLayout) {
  std::string bytes =
      record(BOOT_TIME, "reboot", "6.1.0-test", "~", 1700000000) +
      record(USER_PROCESS, "alice", "203.0.113.5", "pts/0", 1763633700, "203.0.113.5") +
      record(DEAD_PROCESS, "", "", "pts/0", 1763637300) +
      record(USER_PROCESS, "bob", "2001:db8::7", "pts/1", 1763640000, "2001:db8::7");
  LoginParse p = parse_utmp(bytes);
  ASSERT_EQ(p.records.size(), 4u);
  EXPECT_EQ(p.trailing_bytes, 0u);
  EXPECT_EQ(p.records[0].type_name, "BOOT_TIME");
  const LoginRecord& a = p.records[1];
  EXPECT_EQ(a.type, USER_PROCESS);
  EXPECT_EQ(a.type_name, "USER_PROCESS");
  EXPECT_EQ(a.user, "alice");
  EXPECT_EQ(a.host, "203.0.113.5");
  EXPECT_EQ(a.line, "pts/0");
  EXPECT_EQ(a.id, "ts/1");
  EXPECT_EQ(a.pid, 4242);
  EXPECT_EQ(a.session, 77);
  EXPECT_EQ(a.tv_sec, 1763633700);
  EXPECT_EQ(a.tv_usec, 123);
  EXPECT_EQ(a.addr, "203.0.113.5");
  EXPECT_EQ(a.offset, kUtmpRecordSize);
  EXPECT_EQ(p.records[2].type_name, "DEAD_PROCESS");
  EXPECT_EQ(p.records[2].addr, "");
  EXPECT_EQ(p.records[3].addr, "2001:db8::7");
  auto j = to_json(p, "/var/log/wtmp");
  EXPECT_EQ(j["record_count"], 4);
  EXPECT_EQ(j["records"][1]["utc"], "2025-11-20T10:15:00Z");
  EXPECT_EQ(j["records"][1]["user"], "alice");
}

TEST(Utmp, TruncatedFileKeepsWholeRecordsAndReportsTheRest) {
  std::string two =
      record(USER_PROCESS, "alice", "h", "pts/0", 1) + record(USER_PROCESS, "bob", "h", "pts/1", 2);
  for (size_t cut = 0; cut <= two.size(); cut += 7) {
    LoginParse p = parse_utmp(std::string_view(two).substr(0, cut));
    EXPECT_EQ(p.records.size(), cut / kUtmpRecordSize) << cut;
    EXPECT_EQ(p.trailing_bytes, cut % kUtmpRecordSize) << cut;
  }
  LoginParse z = parse_utmp(std::string(3 * kUtmpRecordSize, '\0'));
  EXPECT_TRUE(z.records.empty());
  EXPECT_EQ(z.empty_records, 3u);
}

TEST(Utmp, FieldsWithoutNulStopAtTheirSlotAndHostileBytesAreEscaped) {
  struct utmp u;
  std::memset(&u, 'A', sizeof u);  // no NUL anywhere: every text field is full
  u.ut_type = USER_PROCESS;
  std::memcpy(u.ut_host,
              "\xff\xfe\x01"
              "evil",
              7);
  std::string bytes(reinterpret_cast<const char*>(&u), sizeof u);
  LoginParse p = parse_utmp(bytes);
  ASSERT_EQ(p.records.size(), 1u);
  EXPECT_EQ(p.records[0].user, std::string(sizeof u.ut_user, 'A'));
  EXPECT_EQ(p.records[0].line.size(), sizeof u.ut_line);
  EXPECT_EQ(p.records[0].host.size(), sizeof u.ut_host);
  std::string dumped;
  ASSERT_NO_THROW(dumped = to_json(p, "wtmp").dump());
  EXPECT_NE(dumped.find("\\\\xff"), std::string::npos) << dumped.substr(0, 400);
}

TEST(Utmp, RandomBytesNeverCrash) {
  std::mt19937 rng(6);
  for (int i = 0; i < 2000; ++i) {
    std::string b(rng() % (3 * kUtmpRecordSize + 5), '\0');
    for (auto& c : b) c = static_cast<char>(rng());
    LoginParse p = parse_utmp(b);
    EXPECT_EQ(p.records.size() + p.empty_records, b.size() / kUtmpRecordSize);
    for (const auto& r : p.records) {
      EXPECT_LE(r.user.size(), 32u);
      EXPECT_LE(r.host.size(), 256u);
    }
    ASSERT_NO_THROW(to_json(p, "fuzz").dump());
  }
}

std::string lastlog_rec(uint32_t t, const char* line, const char* host) {
  struct lastlog l;
  std::memset(&l, 0, sizeof l);
  l.ll_time = static_cast<int32_t>(t);
  std::strncpy(l.ll_line, line, sizeof l.ll_line);
  std::strncpy(l.ll_host, host, sizeof l.ll_host);
  return std::string(reinterpret_cast<const char*>(&l), sizeof l);
}

TEST(Lastlog, RecordsAreIndexedByUid) {
  auto names = host::UserNames::parse("root:x:0:0::/root:/bin/sh\nalice:x:2:2::/h:/bin/sh\n");
  std::string bytes = lastlog_rec(1763633700, "pts/0", "198.51.100.9") +
                      std::string(kLastlogRecordSize, '\0') +
                      lastlog_rec(1763640000, "pts/3", "203.0.113.5") + "xyz";
  LastlogParse p = parse_lastlog(bytes, names);
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.trailing_bytes, 3u);
  EXPECT_EQ(p.records[0].uid, 0u);
  EXPECT_EQ(p.records[0].user, "root");
  EXPECT_EQ(p.records[0].host, "198.51.100.9");
  EXPECT_EQ(p.records[1].uid, 2u);
  EXPECT_EQ(p.records[1].user, "alice");
  EXPECT_EQ(p.records[1].line, "pts/3");
  // A slice read at a uid's offset keeps its uid.
  LastlogParse one = parse_lastlog(lastlog_rec(5, "tty1", ""), names, 1000);
  ASSERT_EQ(one.records.size(), 1u);
  EXPECT_EQ(one.records[0].uid, 1000u);
  EXPECT_EQ(one.records[0].user, "1000");
  EXPECT_EQ(to_json(p, "lastlog")["records"][1]["utc"], "2025-11-20T12:00:00Z");
}

TEST(Lastlog, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  host::UserNames none;
  for (int i = 0; i < 1000; ++i) {
    std::string b(rng() % (4 * kLastlogRecordSize), '\0');
    for (auto& c : b) c = static_cast<char>(rng());
    LastlogParse p = parse_lastlog(b, none);
    EXPECT_LE(p.records.size(), b.size() / kLastlogRecordSize);
    ASSERT_NO_THROW(to_json(p, "fuzz").dump());
  }
}

TEST(Utmp, TheMachinesOwnWtmpParses) {
  std::ifstream in("/var/log/wtmp", std::ios::binary);
  if (!in) GTEST_SKIP() << "/var/log/wtmp absent or unreadable on this machine";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  if (bytes.empty()) GTEST_SKIP() << "/var/log/wtmp is empty on this machine";
  LoginParse p = parse_utmp(bytes);
  EXPECT_EQ(p.trailing_bytes, 0u);
  for (const auto& r : p.records)
    EXPECT_EQ(r.type_name.rfind("unknown", 0), std::string::npos) << r.offset;
}

}  // namespace
}  // namespace forage::host
