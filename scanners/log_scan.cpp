#include "scanners/log_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "common/error.h"
#include "common/file.h"
#include "common/strings.h"

namespace forage::scanners {
namespace {

constexpr uint64_t kMaxJournal = 1ull << 30;
constexpr size_t kMaxJournalPayload = 1 << 20;
constexpr size_t kMaxText = 1024;  // of a line, in a finding
constexpr size_t kStopEvery = 4096;

bool wanted(ioc::Type t) {
  switch (t) {
    case ioc::Type::kIpv4:
    case ioc::Type::kIpv6:
    case ioc::Type::kCidr:
    case ioc::Type::kUsername:
    case ioc::Type::kX509Dn:
    case ioc::Type::kDomain:
    case ioc::Type::kUrl:
    case ioc::Type::kEmail:
      return true;
    default:
      return false;
  }
}

// Line splitter over chunks: calls `line(text, number)` for each line, the last one even without
// a newline. Lines longer than max_line are cut (the rest of the line is dropped).
class LineFeeder {
 public:
  LineFeeder(uint64_t max_line, std::function<bool(std::string_view, uint64_t)> line)
      : max_(max_line), line_(std::move(line)) {}
  // false: stop asked.
  bool feed(const char* data, size_t n) {
    size_t i = 0;
    while (i < n) {
      const char* nl = static_cast<const char*>(std::memchr(data + i, '\n', n - i));
      size_t end = nl ? static_cast<size_t>(nl - data) : n;
      if (!overlong_) {
        size_t take = std::min<size_t>(end - i, max_ - std::min<uint64_t>(max_, buf_.size()));
        buf_.append(data + i, take);
        if (buf_.size() >= max_ && !nl) overlong_ = true;
      }
      if (!nl) break;
      if (!emit()) return false;
      i = end + 1;
    }
    return true;
  }
  bool finish() { return buf_.empty() ? true : emit(); }

 private:
  bool emit() {
    ++number_;
    std::string_view l = buf_;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    bool go = line_(l, number_);
    buf_.clear();
    overlong_ = false;
    return go;
  }
  uint64_t max_;
  std::function<bool(std::string_view, uint64_t)> line_;
  std::string buf_;
  uint64_t number_ = 0;
  bool overlong_ = false;
};

class LogMatcher {
 public:
  LogMatcher(const std::string& path, const LogScanOptions& opts, const IocIndex& iocs,
             FindingSink& sink)
      : path_(path), kind_(host::log_kind(path)), opts_(opts), iocs_(iocs), sink_(sink) {}

  // Matches one unit of text (a line, a journal field); `where` is {"line":N} or {"offset":N}.
  void match(std::string_view text, const Json& where) {
    if (text.empty() || hits_ >= opts_.max_hits_per_file) return;
    for (const auto* ind : iocs_.in_text(text)) {
      if (!wanted(ind->type)) continue;
      if (hits_ >= opts_.max_hits_per_file) {
        truncated_ = true;
        break;
      }
      ++hits_;
      Finding f;
      f.path = path_;
      f.target["path"] = path_;
      for (const auto& [k, v] : where.items()) f.target[k] = v;
      f.target["log"] = kind_;
      f.match = "log";
      f.ioc = ioc_json(*ind);
      // One line of text, valid JSON whatever the bytes (dump replaces invalid UTF-8).
      f.details["text"] = printable(text, kMaxText);
      sink_.add(std::move(f));
    }
  }
  bool truncated() const { return truncated_; }

 private:
  std::string path_, kind_;
  const LogScanOptions& opts_;
  const IocIndex& iocs_;
  FindingSink& sink_;
  size_t hits_ = 0;
  bool truncated_ = false;
};

bool stop_asked(const LogScanOptions& o) {
  return o.stop && o.stop();
}

uint32_t le32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t le64(const unsigned char* p) {
  return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32;
}

// Streams a text log (plain or gzip) line by line. Returns false when stopped by the budget.
bool scan_text_file(const std::string& path, const LogScanOptions& opts, const IocIndex& iocs,
                    FindingSink& sink, ScanStats& stats) {
  Fd fd = open_evidence(path);
  LogMatcher m(path, opts, iocs, sink);
  bool stopped = false;
  LineFeeder feeder(opts.max_line, [&](std::string_view line, uint64_t n) {
    if (n % kStopEvery == 0 && stop_asked(opts)) {
      stopped = true;
      return false;
    }
    Json where;
    where["line"] = n;
    m.match(line, where);
    return true;
  });
  uint64_t total = 0;
  auto feed = [&](const char* p, size_t n) {
    total += n;
    if (opts.pace) opts.pace(n);
    return feeder.feed(p, n);
  };
  if (host::is_gzip(fd.get())) {
    // A stream cut short or damaged: what was read stays reported; the file counts as unreadable.
    std::string why = host::gunzip(fd.get(), UINT64_MAX, feed);
    if (!why.empty() && why != "stopped") throw Error(path + ": gzip: " + why);
  } else {
    std::vector<char> buf(1 << 20);
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw system_error(path, errno);
      }
      if (n == 0 || !feed(buf.data(), static_cast<size_t>(n))) break;
    }
  }
  if (!stopped) feeder.finish();
  if (m.truncated()) stats.bump("logs", "hits_capped");
  if (stopped) {
    stats.skipped("budget", path, true, "time budget used up in this log");
    return false;
  }
  stats.scanned(total);
  return true;
}

}  // namespace

void scan_log_text(std::string_view text, const std::string& path, const LogScanOptions& opts,
                   const IocIndex& iocs, FindingSink& sink, ScanStats& stats) {
  LogMatcher m(path, opts, iocs, sink);
  LineFeeder feeder(opts.max_line, [&](std::string_view line, uint64_t n) {
    Json where;
    where["line"] = n;
    m.match(line, where);
    return true;
  });
  feeder.feed(text.data(), text.size());
  feeder.finish();
  stats.scanned(text.size());
}

bool scan_journal_bytes(std::string_view data, const std::string& path, const LogScanOptions& opts,
                        const IocIndex& iocs, FindingSink& sink, ScanStats& stats) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t size = data.size();
  if (size < 120 || std::memcmp(p, "LPKSHHRH", 8) != 0) {
    stats.skipped("not-a-journal", path, true, "no journal header (LPKSHHRH)");
    return false;
  }
  uint32_t incompatible = le32(p + 12);
  bool compact = (incompatible & 16) != 0;
  uint64_t header_size = le64(p + 88);
  uint64_t arena_size = le64(p + 96);
  if (header_size < 120 || header_size > size) {
    stats.skipped("journal-corrupt", path, true, "header size out of range");
    return false;
  }
  uint64_t end = std::min<uint64_t>(size, header_size + std::min<uint64_t>(arena_size, size));
  LogMatcher m(path, opts, iocs, sink);
  std::string plain_payload;
  uint64_t off = (header_size + 7) & ~uint64_t{7};
  uint64_t objects = 0, skipped_compressed = 0;
  bool corrupt = false;
  while (off + 16 <= end) {
    uint8_t type = p[off];
    uint8_t flags = p[off + 1];
    uint64_t osize = le64(p + off + 8);
    if (type == 0 && osize == 0) break;  // the unused tail of an online journal
    if (osize < 16 || osize > end - off) {
      corrupt = true;
      break;
    }
    if (type == 1) {  // DATA
      ++objects;
      if (objects % kStopEvery == 0 && stop_asked(opts)) {
        stats.skipped("budget", path, true, "time budget used up in this journal");
        return true;
      }
      uint64_t payload_at = compact ? 72 : 64;
      if (osize > payload_at) {
        std::string_view payload(data.data() + off + payload_at, osize - payload_at);
        bool usable = true;
        if (flags & 4) {  // zstd
          unsigned long long n = ZSTD_getFrameContentSize(payload.data(), payload.size());
          if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN ||
              n > kMaxJournalPayload) {
            usable = false;
          } else {
            plain_payload.resize(n);
            size_t r = ZSTD_decompress(plain_payload.data(), n, payload.data(), payload.size());
            usable = !ZSTD_isError(r);
            if (usable) {
              plain_payload.resize(r);
              payload = plain_payload;
            }
          }
        } else if (flags & 3) {  // xz, lz4: libraries the static binary does not carry
          usable = false;
        }
        if (!usable) {
          ++skipped_compressed;
        } else {
          Json where;
          where["offset"] = off;
          // The time of the first entry with this field: ENTRY objects hold realtime (usec).
          uint64_t entry = le64(p + off + 40);
          if (entry && entry + 40 <= end && entry % 8 == 0 && p[entry] == 3)
            where["time_usec"] = le64(p + entry + 24);
          m.match(payload, where);
        }
      }
    }
    off += (osize + 7) & ~uint64_t{7};
  }
  if (skipped_compressed)
    stats.bump("journal_objects_skipped", "xz-lz4-or-bad", skipped_compressed);
  stats.bump("journal", "data_objects", objects);
  if (corrupt) stats.bump("journal", "cut_short_corrupt");
  stats.scanned(size);
  return true;
}

void scan_logs(const LogScanOptions& opts, const IocIndex& iocs, FindingSink& sink,
               ScanStats& stats) {
  std::vector<std::string> files;
  auto skipped = [&stats](std::string_view reason, const std::string& path,
                          const std::string& detail) {
    stats.skipped(std::string(reason), path, reason == "unreadable", detail);
  };
  const bool named = !opts.paths.empty();
  for (const auto& p : named ? opts.paths : host::default_log_paths())
    for (auto& f : host::find_logs(p, named, skipped)) files.push_back(std::move(f));
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    if (stop_asked(opts)) {
      for (size_t j = i; j < files.size(); ++j) stats.skipped("budget", files[j], true);
      return;
    }
    try {
      if (host::log_kind(f) == "journal") {
        Fd fd = open_evidence(f);
        std::string bytes = read_all(fd.get(), f, kMaxJournal);
        if (opts.pace) opts.pace(bytes.size());
        scan_journal_bytes(bytes, f, opts, iocs, sink, stats);
      } else if (!scan_text_file(f, opts, iocs, sink, stats)) {
        for (size_t j = i + 1; j < files.size(); ++j) stats.skipped("budget", files[j], true);
        return;
      }
    } catch (const Error& e) {
      stats.skipped("unreadable", f, true, e.what());
    }
  }
}

}  // namespace forage::scanners
