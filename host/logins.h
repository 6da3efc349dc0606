// Login records: utmp/wtmp/btmp (glibc struct utmp, 384 bytes a record on Linux) and lastlog
// (struct lastlog, indexed by uid). The bytes are parsed by forage itself, never by `last` or
// `lastlog` of the host: the host is compromised and its programs are not to be trusted.
//
// The input is evidence and may be truncated, corrupt or planted: every field is bounded by the
// record size, text fields are cut at their first NUL and escaped for JSON, and a trailing partial
// record is reported, never read past.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/time.h"

namespace forage::host {

class UserNames;

inline constexpr size_t kUtmpRecordSize = 384;
inline constexpr size_t kLastlogRecordSize = 292;

struct LoginRecord {
  int type = 0;           // ut_type (USER_PROCESS = 7, DEAD_PROCESS = 8, BOOT_TIME = 2, ...)
  std::string type_name;  // "USER_PROCESS", ... or "unknown(<n>)"
  int32_t pid = 0;
  std::string line, id, user, host;
  int16_t exit_termination = 0, exit_status = 0;
  int32_t session = 0;
  int64_t tv_sec = 0;  // seconds since the epoch (the 32-bit field read as unsigned: past 2038)
  int32_t tv_usec = 0;
  std::string addr;   // ut_addr_v6 as an IPv4 or IPv6 address; empty when all zero
  size_t offset = 0;  // byte offset of the record in the file
};

struct LoginParse {
  std::vector<LoginRecord> records;
  uint64_t trailing_bytes = 0;  // a partial record at the end (file cut or being written)
  uint64_t empty_records = 0;   // all-zero records (EMPTY type, no data)
};

// Parses utmp/wtmp/btmp bytes. Never throws.
LoginParse parse_utmp(std::string_view bytes);

struct LastlogRecord {
  uint32_t uid = 0;
  std::string user;  // from the passwd given, else the decimal uid
  int64_t time = 0;
  std::string line, host;
};

struct LastlogParse {
  std::vector<LastlogRecord> records;  // only uids that ever logged in (non-zero records)
  uint64_t trailing_bytes = 0;
};

// Parses lastlog bytes whose first record is uid `first_uid` (0 for a whole file). Never throws.
LastlogParse parse_lastlog(std::string_view bytes, const UserNames& names,
                           uint32_t first_uid = 0);


// {"source": name, "records": [...], "trailing_bytes": n, ...}
nlohmann::ordered_json to_json(const LoginParse& p, std::string_view source);
nlohmann::ordered_json to_json(const LastlogParse& p, std::string_view source);
nlohmann::ordered_json to_json(const LoginRecord& r);

}  // namespace forage::host
