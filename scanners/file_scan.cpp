#include "scanners/file_scan.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/file.h"
#include "common/filetype.h"
#include "common/hash.h"
#include "common/map_guard.h"
#include "common/strings.h"
#include "scanners/identity.h"
#include "scanners/progress.h"

namespace forage::scanners {
namespace {

// libmagic looks at most at this many bytes; handing it more only costs time.
constexpr size_t kMagicBytes = 256 * 1024;
// libyara allows 32 scanners at once (YR_MAX_THREADS).
constexpr unsigned kMaxThreads = 32;

std::string extension_of(const std::string& name) {
  auto dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return "";
  return to_lower(name.substr(dot));
}

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A reusable read buffer that is not zero-filled on growth (std::vector would memset every new
// byte: a quarter of the time of a scan without rules).
class Buffer {
 public:
  uint8_t* data() { return data_.get(); }
  size_t capacity() const { return cap_; }
  void ensure(size_t n) {
    if (n <= cap_) return;
    data_.reset(new uint8_t[n]);
    cap_ = n;
  }
  void release() {
    data_.reset();
    cap_ = 0;
  }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t cap_ = 0;
};

// A target's bytes: mapped (large files) or read into the worker's buffer.
struct Content {
  const uint8_t* data = nullptr;
  size_t size = 0;
  MappedFile map;  // set when mapped
};

// Opens the walked file and maps or reads it whole (`buf` is reused between files). Returns false
// with a reason when the file cannot be read; the size read may differ from the walk's if the
// file changed since.
bool load_target(const WalkEntry& e, Buffer& buf, Content& c, const FileScanOptions& opts,
                 std::string& reason, std::string& why) {
  Fd fd;
  try {
    fd = open_evidence(e.path);
  } catch (const Error& err) {
    int code = errno;
    reason = code == ENOENT ? "vanished" : code == ELOOP ? "symlink" : "unreadable";
    why = err.what();
    // open_evidence names the path; the summary line adds it already.
    if (why.rfind(e.path + ": ", 0) == 0) why.erase(0, e.path.size() + 2);
    return false;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    reason = "unreadable";
    why = std::strerror(errno);
    return false;
  }
  if (st.st_dev != e.dev || st.st_ino != e.ino || !S_ISREG(st.st_mode)) {
    reason = "changed";  // replaced between the walk and the scan
    return false;
  }
  uint64_t want = static_cast<uint64_t>(st.st_size);
  if (opts.walk.max_size > 0 && want > opts.walk.max_size) {
    reason = "too-large";
    return false;
  }
  if (want > 0 && want >= opts.map_min_size && want <= SIZE_MAX) {
    int err = 0;
    c.map = MappedFile::map(fd.get(), static_cast<size_t>(want), err);
    if (c.map) {
      c.data = c.map.data();
      c.size = c.map.size();
      return true;
    }
    // A file system that cannot map (ENODEV) or no address space left: read it instead.
    spdlog::debug("{}: not mapped ({}), reading it", e.path, std::strerror(err));
  }
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  buf.ensure(std::max<uint64_t>(want, 1));
  size_t size = 0;
  while (size < want) {
    ssize_t n = ::read(fd.get(), buf.data() + size, want - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      reason = "unreadable";
      why = std::strerror(errno);
      return false;
    }
    if (n == 0) break;  // truncated while we read: scan what was there
    size += static_cast<size_t>(n);
  }
  c.data = buf.data();
  c.size = size;
  return true;
}

struct Worker {
  const FileScanOptions& opts;
  const ScanInputs& in;
  FindingSink& sink;
  ScanStats& stats;
  Progress& progress;
  const std::vector<WalkEntry>& entries;
  std::atomic<size_t>& next;

  void run() {
    std::optional<YaraScanner> yara;
    if (in.rules) yara.emplace(*in.rules, in.yara_timeout_s);
    FileTyper typer;
    std::vector<std::pair<HashAlgo, Hasher>> hashers;
    if (in.iocs)
      for (HashAlgo a : in.iocs->hash_algos()) hashers.emplace_back(a, Hasher(a));
    Buffer buf;

    for (size_t i = next.fetch_add(1); i < entries.size(); i = next.fetch_add(1)) {
      const WalkEntry& e = entries[i];
      try {
        scan_one(e, yara ? &*yara : nullptr, typer, hashers, buf);
      } catch (const std::exception& ex) {
        // A target must never stop the run; std::bad_alloc on a huge file lands here too.
        stats.skipped("error", e.path, true, ex.what());
      }
      // Large buffers are not kept: the largest files come first.
      if (buf.capacity() > (64u << 20)) buf.release();
    }
  }

  void scan_one(const WalkEntry& e, YaraScanner* yara, FileTyper& typer,
                std::vector<std::pair<HashAlgo, Hasher>>& hashers, Buffer& buf) {
    Content c;
    std::string reason, why;
    if (!load_target(e, buf, c, opts, reason, why)) {
      bool incomplete = reason == "unreadable";
      stats.skipped(reason, e.path, incomplete, why);
      progress.add(1, 0);
      return;
    }
    // Findings wait until the bytes are known good: a mapped file cut short under us reads as
    // zeros from the cut on, and nothing computed from that may be reported.
    std::vector<Finding> findings;
    std::optional<Finding> notice;
    YaraStatus yara_status = YaraStatus::kOk;
    std::string yara_error;
    if (c.map) {
      MapGuard guard(c.map);
      examine(e, c.data, c.size, yara, typer, hashers, findings, notice, yara_status, yara_error);
      if (guard.faulted()) {
        struct stat st {};
        bool shrank = ::lstat(e.path.c_str(), &st) == 0 && st.st_ino == e.ino &&
                      static_cast<uint64_t>(st.st_size) < c.size;
        stats.skipped("unreadable", e.path, true,
                      shrank ? "truncated while being scanned"
                             : "cut short while being scanned (truncated, or an I/O error)");
        progress.add(1, 0);
        return;
      }
    } else {
      examine(e, c.data, c.size, yara, typer, hashers, findings, notice, yara_status, yara_error);
    }
    for (auto& f : findings) sink.add(std::move(f));
    if (yara_status == YaraStatus::kTimeout)
      stats.skipped("yara-timeout", e.path, true,
                    "YARA stopped after " + std::to_string(in.yara_timeout_s) + " s");
    else if (yara_status == YaraStatus::kError)
      stats.skipped("yara-error", e.path, true, yara_error);
    if (notice) sink.add(std::move(*notice));
    stats.scanned(c.size);
    progress.add(1, c.size);
  }

  // A proxy (or user certificate) file whose DN an indicator names: the key, if the file holds
  // one, is never read out, only its presence said.
  std::optional<Finding> proxy_finding(const WalkEntry& e, std::string_view bytes,
                                       const Json& target) const {
    if (!in.iocs->has_dns() || !looks_like_proxy(bytes, bytes.size())) return std::nullopt;
    host::ProxyInfo px;
    const auto* ind = proxy_file_dn_hit(*in.iocs, bytes, e.path, &px);
    if (!ind) return std::nullopt;
    Finding f;
    f.path = e.path;
    f.target = target;
    f.match = "proxy_dn";
    f.ioc = ioc_json(*ind);
    Json id;
    id["dn"] = px.identity;
    id["uid"] = e.uid;
    id["user"] = in.users ? in.users->name(e.uid) : std::to_string(e.uid);
    id["proxy"] = e.path;
    id["not_after"] = px.chain.front().not_after;
    id["private_key_present"] = px.private_key_present;
    id["private_key_copied"] = false;
    f.details["identity"] = std::move(id);
    return f;
  }

  // Hashes, indicators, YARA and the temporary-directory check over one target's bytes.
  void examine(const WalkEntry& e, const uint8_t* data, size_t size, YaraScanner* yara,
               FileTyper& typer, std::vector<std::pair<HashAlgo, Hasher>>& hashers,
               std::vector<Finding>& findings, std::optional<Finding>& notice,
               YaraStatus& yara_status, std::string& yara_error) {
    std::string name = base_name(e.path);
    // libmagic is the costliest step after YARA: run it only when a rule reads `filetype`, and
    // otherwise only for files that turn out to be worth reporting.
    std::optional<std::string> type_cache;
    auto type = [&]() -> const std::string& {
      if (!type_cache)
        type_cache = typer.describe(
            std::string_view(reinterpret_cast<const char*>(data), std::min(size, kMagicBytes)));
      return *type_cache;
    };
    bool found = false;

    Json target;
    target["path"] = e.path;
    target["size"] = size;
    auto ioc_finding = [&](const char* match, const ioc::Indicator& ind) {
      Finding f;
      f.path = e.path;
      f.target = target;
      f.match = match;
      f.ioc = ioc_json(ind);
      return f;
    };

    // Hashes: only the types present in the indicators.
    std::string sha256;
    for (auto& [algo, h] : hashers) {
      h.update(data, size);
      std::string hex = h.final_hex();
      if (algo == HashAlgo::kSha256) sha256 = hex;
      if (const auto* ind = in.iocs->hash(algo, hex)) {
        Finding f = ioc_finding(hash_name(algo), *ind);
        f.details["filetype"] = type();
        findings.push_back(std::move(f));
        found = true;
      }
    }
    if (in.iocs) {
      if (const auto* ind = in.iocs->filename(name)) {
        findings.push_back(ioc_finding("filename", *ind));
        found = true;
      }
      if (const auto* ind = in.iocs->filepath(e.path)) {
        findings.push_back(ioc_finding("filepath", *ind));
        found = true;
      }
      if (auto f = proxy_finding(e, std::string_view(reinterpret_cast<const char*>(data), size),
                                 target)) {
        findings.push_back(std::move(*f));
        found = true;
      }
    }

    if (yara) {
      YaraExternals ext;
      ext.filename = name;
      ext.filepath = e.path;
      ext.extension = extension_of(name);
      if (in.rules->uses_filetype()) ext.filetype = filetype_tag(type());
      ext.owner = in.users ? in.users->name(e.uid) : std::to_string(e.uid);
      YaraResult r = yara->scan(data, size, ext);
      for (const auto& m : r.matches) {
        Finding f = yara_finding(target, m);
        f.path = e.path;
        f.details["filetype"] = type();
        f.details["owner"] = ext.owner;
        if (sha256.empty())
          sha256 = sha256_hex(std::string_view(reinterpret_cast<const char*>(data), size));
        f.details["sha256"] = sha256;
        findings.push_back(std::move(f));
        found = true;
      }
      yara_status = r.status;
      yara_error = r.error;
    }

    static constexpr uint8_t kElf[4] = {0x7f, 'E', 'L', 'F'};
    if (!found && size >= 4 && std::memcmp(data, kElf, 4) == 0 && in_temp_dir(e.path)) {
      Finding n;
      n.kind = Finding::Kind::kNotice;
      n.path = e.path;
      n.target = target;
      n.notice = "ELF executable in a temporary directory";
      n.details["filetype"] = type();
      n.details["owner"] = in.users ? in.users->name(e.uid) : std::to_string(e.uid);
      if (sha256.empty())
        sha256 = sha256_hex(std::string_view(reinterpret_cast<const char*>(data), size));
      n.details["sha256"] = sha256;
      notice = std::move(n);
    }
  }
};

}  // namespace

bool in_temp_dir(const std::string& path) {
  for (const char* d : {"/tmp/", "/var/tmp/", "/dev/shm/", "/run/shm/", "/var/lock/", "/run/lock/"})
    if (path.rfind(d, 0) == 0) return true;
  return false;
}

Finding yara_finding(Json target, const YaraMatch& m) {
  Finding y;
  y.kind = Finding::Kind::kYara;
  y.target = std::move(target);
  Json f;
  f["rule"] = m.rule;
  f["namespace"] = m.ns;
  if (!m.tags.empty()) f["tags"] = m.tags;
  if (!m.meta.empty()) {
    Json meta = Json::object();
    for (const auto& x : m.meta) {
      if (meta.contains(x.key)) continue;  // repeated keys: the first one
      if (x.type == YaraMatch::Meta::kInteger)
        meta[x.key] = x.number;
      else if (x.type == YaraMatch::Meta::kBoolean)
        meta[x.key] = x.number != 0;
      else
        meta[x.key] = x.text;
    }
    f["meta"] = meta;
  }
  Json strings = Json::array();
  for (const auto& s : m.strings)
    strings.push_back({{"id", s.identifier}, {"offset", s.offset}, {"data", s.data}});
  f["strings"] = strings;
  y.rule = std::move(f);
  return y;
}

namespace {

// libyara builds and frees every imported module's object tree (pe, elf, math, hash: thousands of
// small blocks) for each file. With glibc's defaults those blocks sit in fastbins that are
// consolidated again on the next large request, and the per-thread heaps grow and trim in small
// steps: about 5 % of a scan of /usr/bin with the bench rules (bench/bench_scan_files.sh, run with
// the same settings through GLIBC_TUNABLES). Process-wide, once, before the workers start.
void tune_allocator_for_scans() {
  static std::once_flag once;
  std::call_once(once, [] {
    ::mallopt(M_MXFAST, 0);
    ::mallopt(M_TOP_PAD, 64 << 20);
    ::mallopt(M_TRIM_THRESHOLD, 512 << 20);
  });
}

}  // namespace

void scan_files(const FileScanOptions& opts, const ScanInputs& in, FindingSink& sink,
                ScanStats& stats) {
  std::vector<WalkEntry> entries = walk(opts.walk, stats);
  // Largest first: the long scans start early and the small ones fill the gaps at the end.
  std::sort(entries.begin(), entries.end(), [](const WalkEntry& a, const WalkEntry& b) {
    return a.size != b.size ? a.size > b.size : a.path < b.path;
  });
  scan_entries(entries, opts, in, sink, stats);
}

std::vector<WalkEntry> walk(const WalkOptions& opts, ScanStats& stats) {
  return host::walk_files(opts, [&stats](const std::string& reason, const std::string& path,
                                         bool incomplete, const std::string& detail) {
    stats.skipped(reason, path, incomplete, detail);
  });
}

void scan_entries(const std::vector<WalkEntry>& entries, const FileScanOptions& opts,
                  const ScanInputs& in, FindingSink& sink, ScanStats& stats) {
  tune_allocator_for_scans();
  uint64_t total_bytes = 0;
  for (const auto& e : entries) total_bytes += e.size;

  unsigned threads =
      opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(
      {threads, kMaxThreads, static_cast<unsigned>(std::max<size_t>(1, entries.size()))});
  spdlog::debug("scan files: {} files, {} bytes, {} threads", entries.size(), total_bytes, threads);

  Progress progress(opts.progress, "files", entries.size(), total_bytes);
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(threads);
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      try {
        Worker{opts, in, sink, stats, progress, entries, next}.run();
      } catch (...) {
        errors[t] = std::current_exception();
        next.store(entries.size());  // the others stop too
      }
    });
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace forage::scanners
