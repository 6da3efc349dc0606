#include "collector/artifacts.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <sstream>

#include "bundle/action_log.h"
#include "bundle/writer.h"
#include "host/logins.h"
#include "common/error.h"
#include "common/file.h"
#include "common/filetype.h"
#include "common/hash.h"
#include "common/strings.h"
#include "host/accounts.h"

namespace forage::collector {

using host::LoginParse;
using host::parse_utmp;
using host::LastlogParse;
using host::parse_lastlog;
using host::utc_iso;
using host::kLastlogRecordSize;

namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t kParseMax = 64ull << 20;        // utmp-style files parsed up to this
constexpr uint64_t kGunzipMax = 4ull << 30;        // decompressed bytes scanned per .gz log
constexpr uint64_t kKeyScanMax = 8ull << 20;       // whole-file private key check up to this
constexpr uint64_t kLastlogCopyMax = 64ull << 20;  // a larger lastlog is sparse: parsed only
constexpr size_t kListMax = 1000;                  // users / hosts / IPs kept in the report
constexpr double kSixMonthsDays = 182;

}  // namespace

const std::vector<ArtifactSpec>& artifact_table() {
  using P = ArtifactPolicy;
  using X = ArtifactParser;
  // Rows are taken in this order; a file matched by two rows is taken once, by the first.
  static const std::vector<ArtifactSpec> table = {
      {.name = "auth-logs",
       .category = "logs",
       .paths = {"/var/log/auth.log*", "/var/log/secure*"},
       .bag_dir = "data/logs",
       .why = "authentication log, rotated and compressed too; scanned for the SSH log reach"},
      {.name = "syslog",
       .category = "logs",
       .paths = {"/var/log/syslog*", "/var/log/messages*"},
       .bag_dir = "data/logs",
       .why = "system log, rotated and compressed too"},
      {.name = "journal",
       .category = "logs",
       .paths = {"/var/log/journal/**", "/run/log/journal/**"},
       .bag_dir = "data/logs",
       .why = "systemd journal files (persistent and volatile); read with journalctl --file"},
      {.name = "wtmp",
       .category = "logins",
       .paths = {"/var/log/wtmp*"},
       .policy = P::kCopyParse,
       .parser = X::kUtmp,
       .bag_dir = "data/logs",
       .why = "login history; parsed to <file>.json"},
      {.name = "btmp",
       .category = "logins",
       .paths = {"/var/log/btmp*"},
       .policy = P::kCopyParse,
       .parser = X::kUtmp,
       .bag_dir = "data/logs",
       .why = "failed logins; parsed to <file>.json"},
      {.name = "lastlog",
       .category = "logins",
       .paths = {"/var/log/lastlog"},
       .policy = P::kCopyParse,
       .parser = X::kLastlog,
       .bag_dir = "data/logs",
       .why = "last login per uid; parsed to lastlog.json (a sparse one is parsed, not copied)"},
      {.name = "accounts",
       .category = "accounts",
       .paths = {"/etc/passwd", "/etc/group"},
       .bag_dir = "data/host",
       .why = "local users and groups"},
      {.name = "shadow",
       .category = "accounts",
       .paths = {"/etc/shadow"},
       .policy = P::kMetadataOnly,
       .parser = X::kShadow,
       .bag_dir = "data/host",
       .why = "password state and ageing only (user, last change, expiry): hashes never copied"},
      {.name = "sudoers",
       .category = "privileges",
       .paths = {"/etc/sudoers", "/etc/sudoers.d/**"},
       .bag_dir = "data/host",
       .why = "who may become root"},
      {.name = "cron",
       .category = "persistence",
       .paths = {"/etc/crontab", "/etc/anacrontab", "/etc/cron.d/**", "/etc/cron.hourly/**",
                 "/etc/cron.daily/**", "/etc/cron.weekly/**", "/etc/cron.monthly/**",
                 "/var/spool/cron/**", "/var/spool/anacron/**"},
       .bag_dir = "data/host",
       .why = "scheduled jobs, system-wide and per user"},
      {.name = "systemd-units",
       .category = "persistence",
       .paths = {"/etc/systemd/system/**", "/etc/systemd/user/**", "~/.config/systemd/user/**"},
       .bag_dir = "data/host",
       .why = "locally added or overridden units and timers (links recorded, not followed)"},
      {.name = "boot-persistence",
       .category = "persistence",
       .paths = {"/etc/ld.so.preload", "/etc/rc.local", "/etc/profile.d/**", "/etc/environment"},
       .bag_dir = "data/host",
       .why = "preloaded libraries and login-time scripts, favourite rootkit hooks"},
      {.name = "sshd-config",
       .category = "ssh",
       .paths = {"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/**", "/etc/ssh/ssh_host_*.pub"},
       .bag_dir = "data/host",
       .why = "SSH server configuration and public host keys"},
      {.name = "ssh-host-keys",
       .category = "ssh",
       .paths = {"/etc/ssh/ssh_host_*_key"},
       .policy = P::kHashOnly,
       .bag_dir = "data/host",
       .why = "SSH host private keys: sha256 recorded (was the key replaced?), never copied"},
      {.name = "user-ssh",
       .category = "ssh",
       .paths = {"~/.ssh/**"},
       .bag_dir = "data/host",
       .why =
           "every user's ~/.ssh (authorized_keys, known_hosts, config); private keys hashed only"},
      {.name = "shell-history",
       .category = "history",
       .paths = {"~/.bash_history", "~/.zsh_history", "~/.sh_history", "~/.ash_history",
                 "~/.history", "~/.local/share/fish/fish_history", "~/.python_history",
                 "~/.mysql_history", "~/.psql_history", "~/.lesshst", "~/.viminfo", "~/.wget-hsts"},
       .bag_dir = "data/host",
       .why = "shell and tool histories of every user"},
      {.name = "tmp-listings",
       .category = "listing",
       .paths = {"/tmp", "/var/tmp", "/dev/shm"},
       .policy = P::kListing,
       .bag_dir = "data/host",
       .why = "listing with sha256 and libmagic type; small executables (ELF, #!) copied"},
      {.name = "all-logs",
       .category = "logs",
       .paths = {"/var/log/**"},
       .profile = Profile::kFull,
       .bag_dir = "data/logs",
       .why = "the whole /var/log tree (profile full)"},
  };
  return table;
}

std::string_view policy_name(ArtifactPolicy p) {
  switch (p) {
    case ArtifactPolicy::kCopy:
      return "copy";
    case ArtifactPolicy::kCopyParse:
      return "copy+parse";
    case ArtifactPolicy::kMetadataOnly:
      return "metadata-only";
    case ArtifactPolicy::kHashOnly:
      return "hash-only";
    case ArtifactPolicy::kListing:
      return "listing";
  }
  return "copy";
}

std::string artifact_table_text() {
  std::ostringstream o;
  o << "Host artefacts taken by `forage collect` (profile triage, the default; full adds the rows\n"
       "marked full; process takes none). Any file holding a private key is hashed, never copied.\n"
       "~/ means every home directory listed in /etc/passwd. Extra listings: the targets' cwd.\n\n";
  for (const auto& s : artifact_table()) {
    o << s.name << "  [" << s.category << ", " << policy_name(s.policy) << ", "
      << profile_name(s.profile) << "] -> " << s.bag_dir << "/\n";
    o << "    " << s.why << "\n";
    for (const auto& p : s.paths) o << "    " << p << "\n";
  }
  return o.str();
}

bool holds_private_key(std::string_view b) {
  if (b.substr(0, 15) == std::string_view("openssh-key-v1\0", 15)) return true;
  if (b.substr(0, 20) == "PuTTY-User-Key-File-") return true;
  for (std::string_view tail :
       {std::string_view("PRIVATE KEY-----"), std::string_view("PRIVATE KEY BLOCK-----")}) {
    size_t pos = 0;
    while ((pos = b.find(tail, pos)) != std::string_view::npos) {
      size_t line = b.rfind('\n', pos);
      line = line == std::string_view::npos ? 0 : line + 1;
      if (b.substr(line, pos - line).find("-----BEGIN ") != std::string_view::npos) return true;
      pos += tail.size();
    }
  }
  return false;
}

namespace {

// O_NOFOLLOW|O_NOATIME without blocking on a FIFO; O_NOATIME needs ownership or CAP_FOWNER.
int open_nofollow(int dirfd, const char* name) {
  int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
  int fd = ::openat(dirfd, name, flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::openat(dirfd, name, flags);
  if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

// Up to `max` bytes from `off` without moving the file offset.
std::string pread_some(int fd, uint64_t off, uint64_t max) {
  std::string out;
  out.resize(static_cast<size_t>(std::min<uint64_t>(max, 1ull << 20)));
  size_t got = 0;
  while (got < max) {
    if (got == out.size()) out.resize(static_cast<size_t>(std::min<uint64_t>(max, got * 2)));
    ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(off + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

// Streams a gzip file (several members too) through `sink`; stops at `max` output bytes.
// Returns "" or the reason it stopped early.
std::string gunzip_fd(int fd, uint64_t max, const std::function<void(const char*, size_t)>& sink) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return "zlib initialisation failed";
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
  std::vector<unsigned char> in(1 << 16), out(1 << 16);
  uint64_t off = 0, produced = 0;
  for (;;) {
    ssize_t n = ::pread(fd, in.data(), in.size(), static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::strerror(errno);
    if (n == 0) return "";
    off += static_cast<uint64_t>(n);
    z.next_in = in.data();
    z.avail_in = static_cast<uInt>(n);
    while (z.avail_in > 0) {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      int r = inflate(&z, Z_NO_FLUSH);
      size_t k = out.size() - z.avail_out;
      if (k) sink(reinterpret_cast<const char*>(out.data()), k);
      produced += k;
      if (produced >= max) return "stopped after " + std::to_string(max >> 20) + " MiB";
      if (r == Z_STREAM_END) {
        if (inflateReset(&z) != Z_OK) return "zlib reset failed";
        continue;
      }
      if (r == Z_BUF_ERROR && k == 0) break;
      if (r != Z_OK) return std::string("corrupt gzip data: ") + (z.msg ? z.msg : "inflate failed");
    }
  }
}

bool has_glob(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

std::vector<std::string> path_components(std::string_view p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    if (j > i) out.emplace_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::vector<std::string> list_dir(const std::string& real) {
  std::vector<std::string> names;
  // O_NOFOLLOW: a directory swapped for a link after it was checked is not entered.
  int fd = ::open(real.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR* raw = fd >= 0 ? ::fdopendir(fd) : nullptr;
  if (!raw && fd >= 0) ::close(fd);
  std::unique_ptr<DIR, int (*)(DIR*)> d(raw, ::closedir);
  if (!d) return names;
  while (dirent* e = ::readdir(d.get())) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  std::string home;
};

// name:password:uid:gid:gecos:home:shell; malformed lines are skipped.
std::vector<PasswdEntry> parse_passwd_homes(std::string_view text) {
  std::vector<PasswdEntry> out;
  for (std::string_view line : split_lines(text)) {
    std::vector<std::string_view> f;
    size_t i = 0;
    while (f.size() < 7) {
      size_t j = line.find(':', i);
      f.push_back(line.substr(i, j == std::string_view::npos ? line.npos : j - i));
      if (j == std::string_view::npos) break;
      i = j + 1;
    }
    if (f.size() < 6 || f[0].empty() || f[5].empty() || f[5][0] != '/') continue;
    PasswdEntry e;
    e.name = std::string(f[0]);
    try {
      e.uid = static_cast<uint32_t>(std::stoul(std::string(f[2])));
    } catch (const std::exception&) {
      continue;
    }
    e.home = std::string(f[5]);
    out.push_back(std::move(e));
  }
  return out;
}

// --- SSH log reach -----------------------------------------------------------------------

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

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (v.size() < kListMax && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

class SshScanner {
 public:
  SshScanner(SshLogReach& r, std::time_t mtime, std::string name)
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
  void line(std::string_view l) {
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

  SshLogReach& r_;
  std::time_t mtime_;
  std::string name_;
  int year_ = 1970;
  std::string partial_;
  bool found_ = false;
  uint64_t syslog_lines_ = 0;
};

void finish_reach(SshLogReach& r, std::time_t now) {
  if (now == 0) now = std::time(nullptr);
  if (r.oldest_epoch == 0) return;
  r.oldest = utc_iso(r.oldest_epoch);
  r.newest = utc_iso(r.newest_epoch);
  r.days = static_cast<double>(static_cast<int64_t>(now) - r.oldest_epoch) / 86400.0;
  r.span_days = static_cast<double>(r.newest_epoch - r.oldest_epoch) / 86400.0;
  r.sec01_six_months = r.days >= kSixMonthsDays;
}

}  // namespace

SshLogReach ssh_reach_of_text(std::string_view text, std::time_t file_mtime,
                              const std::string& name, std::time_t now) {
  SshLogReach r;
  SshScanner s(r, file_mtime, name);
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

nlohmann::ordered_json ArtifactReport::to_json() const {
  Json j;
  j["files_copied"] = files_copied;
  j["bytes_copied"] = bytes_copied;
  j["hashed_only"] = hashed_only;
  j["listed"] = listed;
  j["problems"] = problems;
  j["skipped"] = skipped;
  j["private_keys_not_copied"] = private_keys;
  j["parsed"] = parsed;
  j["ssh_logs"] = ssh_logs.to_json();
  j["login_users"] = login_users;
  j["login_hosts"] = login_hosts;
  j["errors"] = errors;
  return j;
}

std::string read_evidence_file(const std::string& path, uint64_t max_bytes) {
  Fd fd(open_nofollow(AT_FDCWD, path.c_str()));
  if (!fd)
    throw system_error(path, errno).within(errno == ELOOP ? "symbolic link not followed" : "open");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw system_error(path, errno);
  if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory");
  if (!S_ISREG(st.st_mode)) throw Error(path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    throw Error(path + ": larger than " + std::to_string(max_bytes) + " bytes");
  return read_all(fd.get(), path, max_bytes);
}

namespace {

struct Ctx {
  bundle::BundleWriter& w;
  std::string root;  // "" for "/", else without trailing '/'
  ArtifactReport& rep;
  const ArtifactOptions& opt;
  std::set<std::string> done;  // virtual paths already taken
  std::vector<PasswdEntry> users;
  host::UserNames names;
  FileTyper typer{0};
  dev_t out_dev = 0;
  ino_t out_ino = 0;
  Json keys = Json::array();
  Json links = Json::array();

  std::string real(const std::string& vpath) const { return root + vpath; }
  bool is_output(const struct stat& st) const {
    return out_ino != 0 && st.st_dev == out_dev && st.st_ino == out_ino;
  }
};

std::string bag_for(const ArtifactSpec& s, const std::string& vpath) {
  if (vpath.rfind("/var/log/", 0) == 0) return "data/logs/" + vpath.substr(9);
  return s.bag_dir + vpath;
}

// Non-directory entries of a tree, not following links.
void walk_tree(const Ctx& c, const std::string& vdir, int depth, std::vector<std::string>& out) {
  if (depth > 32 || out.size() > 1000000) return;
  for (const auto& n : list_dir(c.real(vdir))) {
    std::string v = vdir + "/" + n;
    struct stat st {};
    if (::lstat(c.real(v).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode))
      walk_tree(c, v, depth + 1, out);
    else
      out.push_back(v);
  }
}

// Expands one table path (globs, "**", "~/") to existing virtual paths.
std::vector<std::string> expand(const Ctx& c, const std::string& pattern) {
  std::vector<std::string> bases;
  std::string rest = pattern;
  if (pattern.rfind("~/", 0) == 0) {
    std::set<std::string> homes;
    for (const auto& u : c.users)
      if (u.home != "/") homes.insert(u.home);
    bases.assign(homes.begin(), homes.end());
    rest = pattern.substr(1);
  } else {
    bases.push_back("");
  }
  std::vector<std::string> out;
  auto parts = path_components(rest);
  for (const auto& base : bases) {
    std::vector<std::string> cur = {base};
    for (size_t i = 0; i < parts.size() && !cur.empty(); ++i) {
      bool last = i + 1 == parts.size();
      const std::string& comp = parts[i];
      std::vector<std::string> next;
      if (comp == "**") {
        for (const auto& d : cur) walk_tree(c, d, 0, out);
        cur.clear();
        break;
      }
      for (const auto& d : cur) {
        std::vector<std::string> cands;
        if (has_glob(comp)) {
          for (const auto& n : list_dir(c.real(d.empty() ? "/" : d)))
            if (::fnmatch(comp.c_str(), n.c_str(), 0) == 0) cands.push_back(d + "/" + n);
        } else {
          cands.push_back(d + "/" + comp);
        }
        for (auto& v : cands) {
          struct stat st {};
          if (::lstat(c.real(v).c_str(), &st) != 0) continue;
          if (last) {
            next.push_back(v);
          } else if (S_ISDIR(st.st_mode)) {
            next.push_back(v);
          } else if (S_ISLNK(st.st_mode) && c.root.empty() && !has_glob(comp)) {
            // A literal directory of the table that the host relocated (/home -> /data/home)
            // is followed; links found by globbing, and any link inside a test root, are not.
            // The files below it are still opened O_NOFOLLOW.
            struct stat t {};
            if (::stat(v.c_str(), &t) == 0 && S_ISDIR(t.st_mode)) next.push_back(v);
          }
        }
      }
      cur = std::move(next);
    }
    out.insert(out.end(), cur.begin(), cur.end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string hash_fd(int fd, uint64_t max, uint64_t* size) {
  Hasher h(HashAlgo::kSha256);
  std::vector<char> buf(1 << 16);
  uint64_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    h.update(buf.data(), static_cast<size_t>(n));
    off += static_cast<uint64_t>(n);
    if (off > max) break;
  }
  *size = off;
  return h.final_hex();
}

void record_key(Ctx& c, const std::string& vpath, int fd, const std::string& where) {
  if (!c.done.insert("key:" + vpath).second) return;  // seen by two listings
  uint64_t size = 0;
  std::string sha = hash_fd(fd, UINT64_MAX, &size);
  c.rep.hashed_only++;
  add_unique(c.rep.private_keys, utf8_or_escaped(vpath));
  c.keys.push_back({{"path", utf8_or_escaped(vpath)},
                    {"sha256", sha},
                    {"size", size},
                    {"found_in", where},
                    {"copied", false}});
  c.w.record(
      "artifacts.hash-only", c.real(vpath),
      "holds a private key: sha256 " + sha + ", " + std::to_string(size) + " bytes, NOT copied");
}

void skip(Ctx& c, const std::string& vpath, const struct stat& st, const std::string& why) {
  (void)st;
  c.rep.skipped++;
  c.w.record("artifacts.skip", c.real(vpath), why);
}

std::string link_target(const std::string& real) {
  char t[4096];
  ssize_t k = ::readlink(real.c_str(), t, sizeof t - 1);
  return k > 0 ? std::string(t, static_cast<size_t>(k)) : "?";
}

void parse_utmp_file(Ctx& c, const std::string& vpath, const std::string& bag, int fd, bool gz) {
  std::string bytes;
  std::string note;
  if (gz) {
    note = gunzip_fd(fd, kParseMax, [&](const char* p, size_t n) {
      bytes.append(p, std::min<size_t>(n, kParseMax - std::min<size_t>(bytes.size(), kParseMax)));
    });
  } else {
    bytes = pread_some(fd, 0, kParseMax);
    struct stat st {};
    if (::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) > kParseMax)
      note = "parsed the first " + std::to_string(kParseMax >> 20) + " MiB only";
  }
  LoginParse p = parse_utmp(bytes);
  bool failed_logins = vpath.find("btmp") != std::string::npos;
  for (const auto& r : p.records) {
    if (!failed_logins && r.type == 7 && !r.user.empty())
      add_unique(c.rep.login_users, utf8_or_escaped(r.user));
    if (!r.host.empty()) add_unique(c.rep.login_hosts, utf8_or_escaped(r.host));
  }
  Json j = to_json(p, c.real(vpath));
  if (!note.empty()) j["note"] = note;
  std::string out = (gz && bag.size() > 3 ? bag.substr(0, bag.size() - 3) : bag) + ".json";
  c.w.add_blob(out, j.dump(1) + "\n");
  c.rep.parsed.push_back(out);
}

void parse_lastlog_file(Ctx& c, const std::string& vpath, const std::string& bag, int fd,
                        uint64_t size) {
  LastlogParse all;
  std::string how;
  if (size <= kLastlogCopyMax) {
    all = parse_lastlog(pread_some(fd, 0, size), c.names);
    how = "whole file";
  } else {
    // A sparse file indexed by uid: read the records of the uids /etc/passwd knows.
    how = "records of the uids in /etc/passwd (file is sparse, " + std::to_string(size) + " bytes)";
    std::set<uint32_t> seen;
    for (const auto& u : c.users) {
      if (!seen.insert(u.uid).second) continue;
      uint64_t off = static_cast<uint64_t>(u.uid) * kLastlogRecordSize;
      if (off + kLastlogRecordSize > size) continue;
      auto one = parse_lastlog(pread_some(fd, off, kLastlogRecordSize), c.names, u.uid);
      for (auto& r : one.records) all.records.push_back(std::move(r));
    }
  }
  Json j = to_json(all, c.real(vpath));
  j["read"] = how;
  c.w.add_blob(bag + ".json", j.dump(1) + "\n");
  c.rep.parsed.push_back(bag + ".json");
}

std::string days_to_date(std::string_view f) {
  if (f.empty() || f.size() > 9 ||
      !std::all_of(f.begin(), f.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return std::string(f.empty() ? "" : "invalid");
  return utc_iso(std::stoll(std::string(f)) * 86400).substr(0, 10);
}

// Only non-secret fields: never the hash, only what state it is in.
void shadow_metadata(Ctx& c, const std::string& vpath, int fd, const struct stat& st) {
  std::string text = pread_some(fd, 0, 16ull << 20);
  Json accounts = Json::array();
  for (std::string_view line : split_lines(text)) {
    std::vector<std::string_view> f;
    size_t i = 0;
    while (f.size() < 9) {
      size_t j = line.find(':', i);
      f.push_back(line.substr(i, j == std::string_view::npos ? line.npos : j - i));
      if (j == std::string_view::npos) break;
      i = j + 1;
    }
    if (f.size() < 2 || f[0].empty()) continue;
    f.resize(9);
    std::string_view pw = f[1];
    std::string state = pw.empty()                ? "empty (no password needed)"
                        : pw[0] == '!'            ? "locked"
                        : pw == "*" || pw == "!!" ? "no password (login disabled)"
                        : pw[0] == '$'            ? "set"
                                                  : "set (legacy or unusual format)";
    std::string algo;
    std::string_view h = pw.substr(pw.empty() || pw[0] != '!' ? 0 : 1);
    if (h.size() > 3 && h[0] == '$') {
      std::string_view id = h.substr(1, h.find('$', 1) - 1);
      algo = id == "1"                                ? "md5crypt"
             : id == "5"                              ? "sha256crypt"
             : id == "6"                              ? "sha512crypt"
             : id == "y"                              ? "yescrypt"
             : id == "2b" || id == "2a" || id == "2y" ? "bcrypt"
             : id == "gy"                             ? "gost-yescrypt"
                                                      : "other";
    }
    accounts.push_back({{"user", utf8_or_escaped(f[0])},
                        {"password", state},
                        {"algorithm", algo},
                        {"last_change", days_to_date(f[2])},
                        {"min_days", utf8_or_escaped(f[3])},
                        {"max_days", utf8_or_escaped(f[4])},
                        {"warn_days", utf8_or_escaped(f[5])},
                        {"inactive_days", utf8_or_escaped(f[6])},
                        {"expires", days_to_date(f[7])}});
  }
  Json j;
  j["source"] = utf8_or_escaped(c.real(vpath));
  j["policy"] = "metadata only: password hashes are never copied";
  j["file"] = {{"size", static_cast<uint64_t>(st.st_size)},
               {"mode", std::to_string(st.st_mode & 07777)},
               {"uid", st.st_uid},
               {"gid", st.st_gid},
               {"mtime", utc_iso(st.st_mtim.tv_sec)},
               {"ctime", utc_iso(st.st_ctim.tv_sec)}};
  j["accounts"] = std::move(accounts);
  std::string bag = "data/host" + vpath + ".metadata.json";
  c.w.add_blob(bag, j.dump(1) + "\n");
  c.rep.parsed.push_back(bag);
  c.w.record("artifacts.metadata", c.real(vpath),
             std::to_string(j["accounts"].size()) + " accounts; password hashes not copied");
}

void take_file(Ctx& c, const ArtifactSpec& s, const std::string& vpath) {
  if (!c.done.insert(vpath).second) return;
  std::string real = c.real(vpath);
  struct stat st {};
  if (::lstat(real.c_str(), &st) != 0) {
    c.rep.problems++;
    c.w.record("artifacts.skip", real, std::string("vanished: ") + std::strerror(errno));
    return;
  }
  if (S_ISLNK(st.st_mode)) {
    // Links are evidence too (an enabled unit, authorized_keys pointing elsewhere): kept in
    // artifacts.json, never followed.
    std::string target = utf8_or_escaped(link_target(real));
    c.links.push_back({{"path", utf8_or_escaped(vpath)}, {"target", target}, {"row", s.name}});
    return skip(c, vpath, st, "symbolic link to '" + target + "', not followed");
  }
  if (!S_ISREG(st.st_mode)) return skip(c, vpath, st, "not a regular file, not collected");
  if (c.is_output(st)) return skip(c, vpath, st, "the bundle being written, not collected");
  Fd fd(open_nofollow(AT_FDCWD, real.c_str()));
  if (!fd) {
    c.rep.problems++;
    c.w.record("artifacts.skip", real, std::string("unreadable: ") + std::strerror(errno));
    return;
  }
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return skip(c, vpath, st, "changed type while opened, not collected");
  uint64_t size = static_cast<uint64_t>(st.st_size);
  std::string bag = bag_for(s, vpath);

  if (s.parser == ArtifactParser::kShadow) return shadow_metadata(c, vpath, fd.get(), st);
  if (s.policy == ArtifactPolicy::kHashOnly) return record_key(c, vpath, fd.get(), s.name);
  // A private key is never copied, whatever the row says (a key left in a cron dir, a log...).
  if (holds_private_key(pread_some(fd.get(), 0, std::min(size, kKeyScanMax))))
    return record_key(c, vpath, fd.get(), s.name);

  bool gz = vpath.size() > 3 && vpath.compare(vpath.size() - 3, 3, ".gz") == 0;
  bool copy = !(s.parser == ArtifactParser::kLastlog && size > kLastlogCopyMax);
  if (copy) {
    bundle::MemberResult r = c.w.add_fd(bag, fd.get(), real);
    if (r.stored) {
      c.rep.files_copied++;
      c.rep.bytes_copied += r.size;
    }
    if (r.problem()) c.rep.problems++;
  } else {
    c.w.record("artifacts.skip", real,
               "sparse lastlog of " + std::to_string(size) + " bytes: not copied, parsed by uid");
    c.rep.skipped++;
  }
  if (s.policy == ArtifactPolicy::kCopyParse) {
    if (s.parser == ArtifactParser::kUtmp) parse_utmp_file(c, vpath, bag, fd.get(), gz);
    if (s.parser == ArtifactParser::kLastlog) parse_lastlog_file(c, vpath, bag, fd.get(), size);
  }
  if (s.name == "auth-logs") {
    SshLogReach& reach = c.rep.ssh_logs;
    SshScanner scan(reach, st.st_mtim.tv_sec, c.real(vpath));
    auto sink = [&](const char* p, size_t n) { scan.feed(p, n); };
    if (gz) {
      std::string why = gunzip_fd(fd.get(), kGunzipMax, sink);
      if (!why.empty()) c.rep.errors.push_back(utf8_or_escaped(real) + ": " + why);
    } else {
      std::vector<char> buf(1 << 16);
      uint64_t off = 0;
      for (;;) {
        ssize_t n = ::pread(fd.get(), buf.data(), buf.size(), static_cast<off_t>(off));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        sink(buf.data(), static_cast<size_t>(n));
        off += static_cast<uint64_t>(n);
      }
    }
    scan.finish();
    if (scan.used_syslog_year())
      reach.note = "syslog lines carry no year: inferred from each file's mtime; times read as UTC";
  }
  if (s.name == "journal" || vpath.find("/journal/") != std::string::npos) {
    if (vpath.find(".journal") != std::string::npos)
      add_unique(c.rep.ssh_logs.journal_files, utf8_or_escaped(c.real(vpath)));
  }
}

bool looks_executable(std::string_view head) {
  return head.substr(0, 4) ==
             "\x7f"
             "ELF" ||
         head.substr(0, 2) == "#!";
}

std::string mode_text(mode_t m) {
  char b[8];
  std::snprintf(b, sizeof b, "%04o", static_cast<unsigned>(m & 07777));
  return b;
}

std::string type_text(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "directory";
  if (S_ISLNK(m)) return "symlink";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISSOCK(m)) return "socket";
  if (S_ISCHR(m)) return "char-device";
  if (S_ISBLK(m)) return "block-device";
  return "other";
}

// One listing line; a regular file is hashed, typed and, when it is a small executable, copied.
void list_entry(Ctx& c, int dirfd, const std::string& name, const std::string& vpath,
                const struct stat& st, std::string& out) {
  Json j;
  j["path"] = utf8_or_escaped(c.real(vpath));
  j["type"] = type_text(st.st_mode);
  j["size"] = static_cast<uint64_t>(st.st_size);
  j["mode"] = mode_text(st.st_mode);
  j["uid"] = st.st_uid;
  j["user"] = utf8_or_escaped(c.names.name(st.st_uid));
  j["gid"] = st.st_gid;
  j["mtime"] = utc_iso(st.st_mtim.tv_sec);
  j["ctime"] = utc_iso(st.st_ctim.tv_sec);
  if (S_ISLNK(st.st_mode)) {
    char t[4096];
    ssize_t k = ::readlinkat(dirfd, name.c_str(), t, sizeof t - 1);
    j["link"] = utf8_or_escaped(k > 0 ? std::string(t, static_cast<size_t>(k)) : "?");
  }
  if (S_ISREG(st.st_mode) && c.is_output(st)) {
    j["note"] = "the bundle being written";
  } else if (S_ISREG(st.st_mode)) {
    Fd fd(open_nofollow(dirfd, name.c_str()));
    struct stat now {};
    if (!fd || ::fstat(fd.get(), &now) != 0 || !S_ISREG(now.st_mode)) {
      j["error"] = fd ? "changed type" : std::strerror(errno);
      c.rep.problems++;
    } else {
      uint64_t size = static_cast<uint64_t>(now.st_size);
      std::string head = pread_some(fd.get(), 0, std::min<uint64_t>(size, 1 << 20));
      j["magic"] = utf8_or_escaped(c.typer.describe(std::string_view(head).substr(0, 65536)));
      if (size <= c.opt.hash_max) {
        uint64_t got = 0;
        j["sha256"] = hash_fd(fd.get(), c.opt.hash_max, &got);
      } else {
        j["sha256"] = nullptr;
        j["note"] = "larger than the hash limit, not hashed";
      }
      bool key = holds_private_key(size <= kKeyScanMax ? pread_some(fd.get(), 0, size)
                                                       : std::string_view(head));
      if (key) {
        j["private_key"] = true;
        record_key(c, vpath, fd.get(), "listing");
      } else if (looks_executable(head) && size <= c.opt.executable_cap &&
                 c.done.insert(vpath).second) {
        std::string bag = "data/host/files" + vpath;
        bundle::MemberResult r = c.w.add_fd(bag, fd.get(), c.real(vpath));
        if (r.stored) {
          c.rep.files_copied++;
          c.rep.bytes_copied += r.size;
          j["copied_to"] = r.bag_path;
        }
        if (r.problem()) c.rep.problems++;
      }
    }
  }
  out += j.dump() + "\n";
  c.rep.listed++;
}

void list_tree(Ctx& c, int dirfd, const std::string& vdir, int depth, uint64_t& count,
               std::string& out) {
  if (depth > 32) return;
  int dupfd = ::dup(dirfd);
  DIR* d = dupfd >= 0 ? ::fdopendir(dupfd) : nullptr;
  if (!d) {
    if (dupfd >= 0) ::close(dupfd);
    c.rep.problems++;
    c.w.record("artifacts.list", c.real(vdir), std::string("unreadable: ") + std::strerror(errno));
    return;
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    if (count >= c.opt.listing_max_entries) return;
    std::string v = vdir + "/" + n;
    struct stat st {};
    if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    ++count;
    list_entry(c, dirfd, n, v, st, out);
    if (S_ISDIR(st.st_mode)) {
      Fd sub(::openat(dirfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub) list_tree(c, sub.get(), v, depth + 1, count, out);
    }
  }
}

void take_listing(Ctx& c, const std::string& vdir) {
  std::string key = "listing:" + vdir;
  if (!c.done.insert(key).second) return;
  std::string real = c.real(vdir);
  Fd d(::open(real.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!d) {
    if (errno != ENOENT) c.rep.problems++;
    c.w.record("artifacts.list", real, std::string("not listed: ") + std::strerror(errno));
    return;
  }
  std::string slug;
  for (char ch : vdir) slug += ch == '/' ? '_' : ch;
  while (!slug.empty() && slug[0] == '_') slug.erase(0, 1);
  if (slug.empty()) slug = "root";
  std::string out;
  uint64_t count = 0;
  list_tree(c, d.get(), vdir == "/" ? "" : vdir, 0, count, out);
  std::string bag = "data/host/listings/" + slug + ".jsonl";
  c.w.add_blob(bag, out);
  std::string result = std::to_string(count) + " entries -> " + bag;
  if (count >= c.opt.listing_max_entries)
    result += " (stopped at the limit of " + std::to_string(c.opt.listing_max_entries) + ")";
  c.w.record("artifacts.list", real, result);
}

}  // namespace

ArtifactReport collect_artifacts(bundle::BundleWriter& w, Profile profile,
                                 const std::vector<std::string>& extra_dirs,
                                 const std::string& root, const ArtifactOptions& opt) {
  ArtifactReport rep;
  if (profile == Profile::kProcess) return rep;
  Ctx c{w, root, rep, opt};
  while (!c.root.empty() && c.root.back() == '/') c.root.pop_back();
  const std::string& out = w.output_path();
  struct stat ost {};
  if (out != "-" && ::stat(out.c_str(), &ost) == 0) {
    c.out_dev = ost.st_dev;
    c.out_ino = ost.st_ino;
  }
  try {
    std::string passwd = read_evidence_file(c.real("/etc/passwd"), 64ull << 20);
    c.users = parse_passwd_homes(passwd);
    c.names = host::UserNames::parse(passwd);
  } catch (const Error& e) {
    rep.errors.push_back(std::string("home directories unknown: ") + e.what());
  }
  w.record("artifacts.begin", c.root.empty() ? "/" : c.root,
           "profile " + std::string(profile_name(profile)) + ", " + std::to_string(c.users.size()) +
               " accounts in /etc/passwd");

  for (const auto& s : artifact_table()) {
    if (s.profile == Profile::kFull && profile != Profile::kFull) continue;
    ArtifactReport before = rep;
    // Writer failures (disk full, closed pipe) propagate: the bundle so far stays readable and
    // the caller decides; nothing else here throws.
    for (const auto& pattern : s.paths) {
      if (s.policy == ArtifactPolicy::kListing) {
        take_listing(c, pattern);
        continue;
      }
      for (const auto& v : expand(c, pattern)) take_file(c, s, v);
    }
    w.record("artifacts.row", s.name,
             std::to_string(rep.files_copied - before.files_copied) + " files copied, " +
                 std::to_string(rep.bytes_copied - before.bytes_copied) + " bytes, " +
                 std::to_string(rep.hashed_only - before.hashed_only) + " hashed only, " +
                 std::to_string(rep.problems - before.problems) + " problems");
  }
  for (const auto& d : extra_dirs) {
    if (d.empty() || d[0] != '/') continue;
    take_listing(c, d);
  }
  finish_reach(rep.ssh_logs, 0);
  Json j = rep.to_json();
  j["profile"] = profile_name(profile);
  j["root"] = c.root.empty() ? "/" : c.root;
  j["private_keys"] = c.keys;
  j["links"] = c.links;
  w.add_blob("data/host/artifacts.json", j.dump(2) + "\n");
  const auto& r = rep.ssh_logs;
  w.record("artifacts.ssh-log-reach", "auth/secure logs",
           r.oldest.empty() ? std::string("no sshd line found")
                            : "oldest " + r.oldest + ", newest " + r.newest + ", " +
                                  std::to_string(static_cast<int>(r.days)) + " days back; SEC01 " +
                                  (r.sec01_six_months ? "six months met" : "six months NOT met"));
  w.record("artifacts.end", c.root.empty() ? "/" : c.root,
           std::to_string(rep.files_copied) + " files, " + std::to_string(rep.bytes_copied) +
               " bytes, " + std::to_string(rep.hashed_only) + " hashed only, " +
               std::to_string(rep.listed) + " listed, " + std::to_string(rep.problems) +
               " problems");
  return rep;
}

}  // namespace forage::collector
