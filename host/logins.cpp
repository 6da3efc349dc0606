#include "host/logins.h"

#include <arpa/inet.h>
#include <utmp.h>

#include <cstddef>
#include <cstring>
#include <ctime>

#include "common/strings.h"
#include "common/time.h"
#include "host/accounts.h"

namespace forage::host {

// The on-disk layout is glibc's struct utmp / struct lastlog; the offsets are taken from the
// header so the parser follows the platform, and the sizes are checked so a different ABI fails
// to build instead of misreading evidence.
static_assert(sizeof(struct utmp) == kUtmpRecordSize, "unexpected struct utmp layout");
static_assert(sizeof(struct lastlog) == kLastlogRecordSize, "unexpected struct lastlog layout");

namespace {

template <typename T>
T load(const char* rec, size_t off) {
  T v;
  std::memcpy(&v, rec + off, sizeof v);
  return v;
}

// A fixed-size char field: up to the first NUL, never past the field.
std::string field(const char* rec, size_t off, size_t size) {
  const char* p = rec + off;
  const void* nul = std::memchr(p, '\0', size);
  size_t n = nul ? static_cast<size_t>(static_cast<const char*>(nul) - p) : size;
  return std::string(p, n);
}

std::string type_name(int t) {
  switch (t) {
    case EMPTY:
      return "EMPTY";
    case RUN_LVL:
      return "RUN_LVL";
    case BOOT_TIME:
      return "BOOT_TIME";
    case NEW_TIME:
      return "NEW_TIME";
    case OLD_TIME:
      return "OLD_TIME";
    case INIT_PROCESS:
      return "INIT_PROCESS";
    case LOGIN_PROCESS:
      return "LOGIN_PROCESS";
    case USER_PROCESS:
      return "USER_PROCESS";
    case DEAD_PROCESS:
      return "DEAD_PROCESS";
    case ACCOUNTING:
      return "ACCOUNTING";
  }
  return "unknown(" + std::to_string(t) + ")";
}

std::string address(const char* rec) {
  unsigned char a[16];
  std::memcpy(a, rec + offsetof(struct utmp, ut_addr_v6), sizeof a);
  bool rest_zero = true;
  for (int i = 4; i < 16; ++i) rest_zero = rest_zero && a[i] == 0;
  bool all_zero = rest_zero && a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0;
  if (all_zero) return "";
  char text[INET6_ADDRSTRLEN] = {};
  // glibc stores an IPv4 address in the first word only.
  if (rest_zero) {
    ::inet_ntop(AF_INET, a, text, sizeof text);
  } else {
    ::inet_ntop(AF_INET6, a, text, sizeof text);
  }
  return text;
}

bool all_zero(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != 0) return false;
  return true;
}

}  // namespace


LoginParse parse_utmp(std::string_view bytes) {
  LoginParse out;
  size_t n = bytes.size() / kUtmpRecordSize;
  out.trailing_bytes = bytes.size() % kUtmpRecordSize;
  out.records.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const char* rec = bytes.data() + i * kUtmpRecordSize;
    if (all_zero(rec, kUtmpRecordSize)) {
      ++out.empty_records;
      continue;
    }
    LoginRecord r;
    r.offset = i * kUtmpRecordSize;
    r.type = load<int16_t>(rec, offsetof(struct utmp, ut_type));
    r.type_name = type_name(r.type);
    r.pid = load<int32_t>(rec, offsetof(struct utmp, ut_pid));
    r.line = field(rec, offsetof(struct utmp, ut_line), sizeof(utmp::ut_line));
    r.id = field(rec, offsetof(struct utmp, ut_id), sizeof(utmp::ut_id));
    r.user = field(rec, offsetof(struct utmp, ut_user), sizeof(utmp::ut_user));
    r.host = field(rec, offsetof(struct utmp, ut_host), sizeof(utmp::ut_host));
    size_t ex = offsetof(struct utmp, ut_exit);
    r.exit_termination = load<int16_t>(rec, ex);
    r.exit_status = load<int16_t>(rec, ex + sizeof(int16_t));
    r.session = load<int32_t>(rec, offsetof(struct utmp, ut_session));
    size_t tv = offsetof(struct utmp, ut_tv);
    r.tv_sec = load<uint32_t>(rec, tv);
    r.tv_usec = load<int32_t>(rec, tv + sizeof(int32_t));
    r.addr = address(rec);
    out.records.push_back(std::move(r));
  }
  return out;
}

LastlogParse parse_lastlog(std::string_view bytes, const UserNames& names,
                           uint32_t first_uid) {
  LastlogParse out;
  size_t n = bytes.size() / kLastlogRecordSize;
  out.trailing_bytes = bytes.size() % kLastlogRecordSize;
  for (size_t i = 0; i < n; ++i) {
    const char* rec = bytes.data() + i * kLastlogRecordSize;
    if (all_zero(rec, kLastlogRecordSize)) continue;
    LastlogRecord r;
    r.uid = first_uid + static_cast<uint32_t>(i);
    r.user = names.name(static_cast<uid_t>(r.uid));
    r.time = load<uint32_t>(rec, offsetof(struct lastlog, ll_time));
    r.line = field(rec, offsetof(struct lastlog, ll_line), sizeof(lastlog::ll_line));
    r.host = field(rec, offsetof(struct lastlog, ll_host), sizeof(lastlog::ll_host));
    out.records.push_back(std::move(r));
  }
  return out;
}

nlohmann::ordered_json to_json(const LoginRecord& r) {
  nlohmann::ordered_json j;
  j["offset"] = r.offset;
  j["type"] = r.type_name;
  j["pid"] = r.pid;
  j["line"] = utf8_or_escaped(r.line);
  j["id"] = utf8_or_escaped(r.id);
  j["user"] = utf8_or_escaped(r.user);
  j["host"] = utf8_or_escaped(r.host);
  j["addr"] = r.addr;
  j["utc"] = utc_iso(r.tv_sec);
  j["tv_sec"] = r.tv_sec;
  j["tv_usec"] = r.tv_usec;
  j["session"] = r.session;
  j["exit"] = {{"termination", r.exit_termination}, {"status", r.exit_status}};
  return j;
}

nlohmann::ordered_json to_json(const LoginParse& p, std::string_view source) {
  nlohmann::ordered_json j;
  j["source"] = utf8_or_escaped(source);
  j["format"] = "utmp (glibc struct utmp, 384-byte records)";
  j["record_count"] = p.records.size();
  j["empty_records"] = p.empty_records;
  j["trailing_bytes"] = p.trailing_bytes;
  auto& recs = j["records"] = nlohmann::ordered_json::array();
  for (const auto& r : p.records) recs.push_back(to_json(r));
  return j;
}

nlohmann::ordered_json to_json(const LastlogParse& p, std::string_view source) {
  nlohmann::ordered_json j;
  j["source"] = utf8_or_escaped(source);
  j["format"] = "lastlog (glibc struct lastlog, 292-byte records indexed by uid)";
  j["record_count"] = p.records.size();
  j["trailing_bytes"] = p.trailing_bytes;
  auto& recs = j["records"] = nlohmann::ordered_json::array();
  for (const auto& r : p.records) {
    recs.push_back({{"uid", r.uid},
                    {"user", utf8_or_escaped(r.user)},
                    {"utc", utc_iso(r.time)},
                    {"time", r.time},
                    {"line", utf8_or_escaped(r.line)},
                    {"host", utf8_or_escaped(r.host)}});
  }
  return j;
}

}  // namespace forage::host
