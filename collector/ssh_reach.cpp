#include "collector/ssh_reach.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "common/strings.h"
#include "common/time.h"
#include "host/logins.h"

namespace forage::collector {

using Json = nlohmann::ordered_json;

namespace {

constexpr size_t kListMax = 1000;  // users / hosts / IPs kept in the report
constexpr double kSixMonthsDays = 182;

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int two_digits(std::string_view s, size_t at) {
  if (at + 2 > s.size() || !isdigit(static_cast<unsigned char>(s[at])) ||
      !isdigit(static_cast<unsigned char>(s[at + 1])))
    return -1;
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

bool valid_tm(int y, int mo, int d, int h, int mi, int s) {
  return y >= 1970 && y < 10000 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h <= 23 &&
         mi >= 0 && mi <= 59 && s >= 0 && s <= 60;
}

int64_t epoch_of(int y, int mo, int d, int h, int mi, int s) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(::timegm(&tm));
}

// "2026-11-20T10:15:00.123+01:00 host sshd[1]: ..." (RFC 3339, rsyslog's high-precision form).
bool rfc3339_time(std::string_view l, int64_t* t) {
  if (l.size() < 20 || l[4] != '-' || l[7] != '-' || l[10] != 'T' || l[13] != ':' || l[16] != ':')
    return false;
  int y1 = two_digits(l, 0), y2 = two_digits(l, 2), mo = two_digits(l, 5), d = two_digits(l, 8),
      h = two_digits(l, 11), mi = two_digits(l, 14), s = two_digits(l, 17);
  if (y1 < 0 || y2 < 0) return false;
  int y = y1 * 100 + y2;
  if (!valid_tm(y, mo, d, h, mi, s)) return false;
  size_t i = 19;
  if (i < l.size() && l[i] == '.')
    for (++i; i < l.size() && isdigit(static_cast<unsigned char>(l[i])); ++i) {
    }
  int64_t off = 0;
  if (i < l.size() && (l[i] == '+' || l[i] == '-')) {
    int oh = two_digits(l, i + 1), om = two_digits(l, i + 4);
    if (oh < 0 || om < 0 || i + 3 >= l.size() || l[i + 3] != ':') return false;
    off = (oh * 3600 + om * 60) * (l[i] == '+' ? 1 : -1);
  } else if (i >= l.size() || l[i] != 'Z') {
    return false;
  }
  *t = epoch_of(y, mo, d, h, mi, s) - off;
  return true;
}

// "Nov 20 10:15:00 host sshd[1]: ..." (no year, no zone).
bool syslog_time(std::string_view l, int year, int* month, int64_t* t) {
  if (l.size() < 15 || l[3] != ' ' || l[9] != ':' || l[12] != ':') return false;
  int mo = 0;
  for (int m = 0; m < 12; ++m)
    if (l.substr(0, 3) == kMonths[m]) mo = m + 1;
  if (mo == 0) return false;
  int d = l[4] == ' ' ? two_digits(std::string("0") + l[5], 0) : two_digits(l, 4);
  int h = two_digits(l, 7), mi = two_digits(l, 10), s = two_digits(l, 13);
  if (!valid_tm(year, mo, d, h, mi, s)) return false;
  *month = mo;
  *t = epoch_of(year, mo, d, h, mi, s);
  return true;
}

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (v.size() < kListMax && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}


void SshLogScanner::line(std::string_view l) {
  std::string_view head = l.substr(0, 256);
  if (head.find(" sshd[") == std::string_view::npos &&
      head.find(" sshd:") == std::string_view::npos &&
      head.find(" sshd-session[") == std::string_view::npos)
    return;
  int64_t t = 0;
  int month = 0;
  if (!rfc3339_time(l, &t)) {
    if (!syslog_time(l, year_, &month, &t)) return;
    // A line dated after the file's last change (a day of slack for the zone) is from the
    // year before: logs are written in order and the mtime is the last write.
    if (t > static_cast<int64_t>(mtime_) + 86400) syslog_time(l, year_ - 1, &month, &t);
    ++syslog_lines_;
  }
  found_ = true;
  ++r_.lines;
  if (r_.oldest_epoch == 0 || t < r_.oldest_epoch) r_.oldest_epoch = t;
  if (t > r_.newest_epoch) r_.newest_epoch = t;
  size_t f = l.find(" from ");
  if (f != std::string_view::npos) {
    std::string_view rest = l.substr(f + 6);
    // The address ends at the first byte no address has (a NUL would fool inet_pton).
    std::string ip(rest.substr(0, rest.find_first_not_of("0123456789abcdefABCDEF:.")));
    if (is_ip(ip)) {
      add_unique(r_.remote_ips, ip);
      size_t a = l.find("Accepted ");
      if (a != std::string_view::npos && a < f) {
        std::string_view acc = l.substr(a, f - a);  // "Accepted publickey for alice"
        size_t fr = acc.find(" for ");
        if (fr != std::string_view::npos)
          add_unique(r_.accepted, utf8_or_escaped(acc.substr(fr + 5)) + " from " + ip);
      }
    }
  }
}

void finish_reach(SshLogReach& r, std::time_t now) {
  if (now == 0) now = std::time(nullptr);
  if (r.oldest_epoch == 0) return;
  r.oldest = utc_iso(r.oldest_epoch);
  r.newest = utc_iso(r.newest_epoch);
  r.days = static_cast<double>(static_cast<int64_t>(now) - r.oldest_epoch) / 86400.0;
  r.span_days = static_cast<double>(r.newest_epoch - r.oldest_epoch) / 86400.0;
  r.sec01_six_months = r.days >= kSixMonthsDays;
}

SshLogReach ssh_reach_of_text(std::string_view text, std::time_t file_mtime,
                              const std::string& name, std::time_t now) {
  SshLogReach r;
  SshLogScanner s(r, file_mtime, name);
  s.feed(text.data(), text.size());
  s.finish();
  if (s.used_syslog_year())
    r.note = "syslog lines carry no year: inferred from the file's mtime; times read as UTC";
  finish_reach(r, now);
  return r;
}

nlohmann::ordered_json SshLogReach::to_json() const {
  Json j;
  j["oldest"] = oldest;
  j["newest"] = newest;
  j["days"] = static_cast<double>(static_cast<int64_t>(days * 10)) / 10;
  j["span_days"] = static_cast<double>(static_cast<int64_t>(span_days * 10)) / 10;
  j["sec01_six_months"] = sec01_six_months;
  j["sshd_lines"] = lines;
  j["files"] = files;
  j["journal_files"] = journal_files;
  if (!journal_files.empty())
    j["journal_note"] =
        "systemd journal files are present and were copied; forage does not parse them: sshd "
        "entries there may reach further back (journalctl --file ... -t sshd)";
  j["remote_ips"] = remote_ips;
  j["accepted"] = accepted;
  if (!note.empty()) j["note"] = note;
  return j;
}

}  // namespace forage::collector
