// How far back the SSH logs of a node reach (SEC01 asks for six months): the sshd lines of
// auth/secure logs, plain or rotated, their oldest and newest times, remote addresses and accepted
// logins. Syslog lines carry no year: it is inferred from each file's mtime.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace forage::collector {

struct SshLogReach {
  int64_t oldest_epoch = 0, newest_epoch = 0;  // 0: no sshd line found
  uint64_t lines = 0;                          // sshd lines seen
  std::string oldest, newest;                  // ISO 8601 UTC, "" when no sshd line was found
  double days = 0;                             // from the oldest sshd line to the collection time
  double span_days = 0;                        // from the oldest to the newest sshd line
  bool sec01_six_months = false;               // days >= 182: the logs reach six months back
  std::vector<std::string> files;              // files that held sshd lines
  std::vector<std::string> journal_files;      // systemd journal files present (not parsed)
  std::vector<std::string> remote_ips;         // "from <ip>" of sshd lines (first 1000)
  std::vector<std::string> accepted;           // "user from ip" of Accepted lines (first 1000)
  std::string note;                            // how the year of syslog lines was inferred

  nlohmann::ordered_json to_json() const;
};

// Appends `s` unless present or the list holds 1000 entries (report lists stay bounded).
void add_unique(std::vector<std::string>& v, const std::string& s);

// Feeds one log file's text, in chunks, into a reach.
class SshLogScanner {
 public:
  SshLogScanner(SshLogReach& r, std::time_t mtime, std::string name)
      : r_(r), mtime_(mtime), name_(std::move(name)) {
    std::tm tm{};
    ::gmtime_r(&mtime_, &tm);
    year_ = tm.tm_year + 1900;
  }

  void feed(const char* p, size_t n) {
    std::string_view s(p, n);
    while (!s.empty()) {
      size_t nl = s.find('\n');
      if (nl == std::string_view::npos) {
        if (partial_.size() < 65536) partial_.append(s.substr(0, 65536 - partial_.size()));
        return;
      }
      if (partial_.empty()) {
        line(s.substr(0, nl));
      } else {
        partial_.append(s.substr(0, nl));
        line(partial_);
        partial_.clear();
      }
      s.remove_prefix(nl + 1);
    }
  }
  void finish() {
    if (!partial_.empty()) line(partial_);
    partial_.clear();
    if (found_) add_unique(r_.files, name_);
  }
  bool used_syslog_year() const { return syslog_lines_ > 0; }

 private:
  void line(std::string_view l);

  SshLogReach& r_;
  std::time_t mtime_;
  std::string name_;
  int year_ = 1970;
  std::string partial_;
  bool found_ = false;
  uint64_t syslog_lines_ = 0;
};

// Fills the ISO times, days and the SEC01 verdict; `now` 0: the current time.
void finish_reach(SshLogReach& r, std::time_t now);

// sshd-line time range of one auth/secure log text. Syslog lines carry no year: it is inferred
// from `file_mtime` (a line dated after the file's last change belongs to the year before).
// `now` (0: the current time) is what `days` counts back from.
SshLogReach ssh_reach_of_text(std::string_view text, std::time_t file_mtime,
                              const std::string& name, std::time_t now = 0);

}  // namespace forage::collector
