#include "scanners/proc_scan.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/file.h"
#include "common/hash.h"
#include "host/fs.h"
#include "host/grid.h"
#include "host/proc.h"
#include "scanners/identity.h"
#include "scanners/progress.h"

namespace forage::scanners {

using host::list_pids;
using host::parse_maps;
using host::ProcInfo;
using host::read_proc;
using host::region_skip_reason;
namespace {

constexpr unsigned kMaxThreads = 32;  // libyara's limit on scanners alive at once
constexpr uint64_t kMaxExeBytes = 1ull << 30;

std::string hex_address(uint64_t a) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(a));
  return buf;
}

std::string join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// Digests of executables, shared by the threads: 300 bash processes are one file.
class ExeHashCache {
 public:
  // Hashes /proc/PID/exe (works for a deleted executable too). Empty map when unreadable.
  std::map<HashAlgo, std::string> get(const std::string& proc_root, int pid,
                                      const std::vector<HashAlgo>& algos) {
    // A magic link, followed on purpose (a deleted executable too); only a regular file is
    // opened, non-blocking, without touching its atime.
    host::Opened exe = host::open_process_file(proc_root + "/" + std::to_string(pid) + "/exe");
    if (!exe) return {};
    const Fd& fd = exe.fd;
    const struct stat& st = exe.st;
    auto key = std::make_pair(st.st_dev, st.st_ino);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = cache_.find(key);
      if (it != cache_.end()) return it->second;
    }
    std::vector<std::pair<HashAlgo, Hasher>> hashers;
    for (HashAlgo a : algos) hashers.emplace_back(a, Hasher(a));
    std::vector<char> buf(1 << 20);
    uint64_t total = 0;
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return {};
      if (n == 0) break;
      total += static_cast<uint64_t>(n);
      if (total > kMaxExeBytes) return {};
      for (auto& [a, h] : hashers) h.update(buf.data(), static_cast<size_t>(n));
    }
    std::map<HashAlgo, std::string> out;
    for (auto& [a, h] : hashers) out[a] = h.final_hex();
    std::lock_guard<std::mutex> lock(mu_);
    cache_[key] = out;
    return out;
  }

 private:
  std::mutex mu_;
  std::map<std::pair<dev_t, ino_t>, std::map<HashAlgo, std::string>> cache_;
};

struct ProcWorker {
  const ProcScanOptions& opts;
  const ScanInputs& in;
  FindingSink& sink;
  ScanStats& stats;
  Progress& progress;
  ExeHashCache& exe_hashes;
  const std::vector<int>& pids;
  std::atomic<size_t>& next;

  void run() {
    std::optional<YaraScanner> yara;
    if (in.rules) yara.emplace(*in.rules, in.yara_timeout_s);
    std::vector<uint8_t> buf;
    for (size_t i = next.fetch_add(1); i < pids.size(); i = next.fetch_add(1)) {
      try {
        scan_one(pids[i], yara ? &*yara : nullptr, buf);
      } catch (const std::exception& ex) {
        stats.skipped("error", "pid " + std::to_string(pids[i]), true, ex.what());
      }
      progress.add(1, 0);
    }
  }

  Json target_of(const ProcInfo& p, const std::string& owner) const {
    Json t;
    t["pid"] = p.pid;
    t["process"] = p.comm;
    t["exe"] = p.exe + (p.exe_deleted ? " (deleted)" : "");
    t["owner"] = owner;
    return t;
  }

  void ioc_finding(const Json& target, const char* match, const ioc::Indicator& ind,
                   const Json& identity = Json()) {
    Finding f;
    f.pids = {target["pid"].get<int>()};
    f.target = target;
    f.match = match;
    f.ioc = ioc_json(ind);
    if (!identity.is_null()) f.details["identity"] = identity;
    sink.add(std::move(f));
  }

  // Who the process is on the grid: its owner against username indicators, the DN of the proxy
  // it holds (or of its HTCondor job ad) against x509-dn indicators. Each finding names the uid,
  // user, DN, proxy and jobs.
  void identity_findings(const ProcInfo& p, const std::string& owner, const Json& target) {
    const IocIndex& x = *in.iocs;
    const ioc::Indicator* by_owner = x.username(owner);
    if (!by_owner && !x.has_dns()) return;
    host::GridContext g = host::grid_context(p.pid, p.env, opts.proc_root);
    Json id = identity_json(g, p.uid, owner);
    if (by_owner) ioc_finding(target, "owner", *by_owner, id);
    if (!x.has_dns()) return;
    if (g.proxy && g.proxy->found) {
      if (const auto* ind = x.x509_dn(g.proxy->identity))
        return ioc_finding(target, "proxy_dn", *ind, id);
    }
    if (!g.condor_x509_subject.empty())
      if (const auto* ind = x.x509_dn(g.condor_x509_subject))
        ioc_finding(target, "job_ad_dn", *ind, id);
  }

  void scan_one(int pid, YaraScanner* yara, std::vector<uint8_t>& buf) {
    const std::string label = "pid " + std::to_string(pid);
    auto info = read_proc(opts.proc_root, pid);
    if (!info) return stats.skipped("exited", label);
    if (info->kernel_thread) return stats.skipped("kernel-thread", label);
    const ProcInfo& p = *info;
    std::string owner = in.users ? in.users->name(p.uid) : std::to_string(p.uid);
    Json target = target_of(p, owner);

    // Identity, executable, command line and environment against the indicators.
    std::vector<HashAlgo> algos;
    if (in.iocs && !in.iocs->empty()) {
      const IocIndex& x = *in.iocs;
      identity_findings(p, owner, target);
      if (!p.exe.empty()) {
        if (const auto* ind = x.filepath(p.exe)) ioc_finding(target, "exe", *ind);
        auto slash = p.exe.rfind('/');
        if (const auto* ind = x.filename(p.exe.substr(slash == std::string::npos ? 0 : slash + 1)))
          ioc_finding(target, "exe", *ind);
      }
      for (const auto* ind : x.in_text(join(p.argv, ' '))) {
        Json t = target;
        t["cmdline"] = join(p.argv, ' ');
        ioc_finding(t, "cmdline", *ind);
      }
      for (const auto* ind : x.in_text(join(p.env, '\n'))) ioc_finding(target, "environ", *ind);
      algos = x.hash_algos();
    }
    if (p.exe_deleted && std::find(algos.begin(), algos.end(), HashAlgo::kSha256) == algos.end())
      algos.push_back(HashAlgo::kSha256);
    if (!algos.empty() && !p.exe.empty()) {
      auto digests = exe_hashes.get(opts.proc_root, pid, algos);
      for (const auto& [a, hex] : digests)
        if (in.iocs)
          if (const auto* ind = in.iocs->hash(a, hex)) {
            Json t = target;
            t[hash_name(a)] = hex;
            ioc_finding(t, hash_name(a), *ind);
          }
      if (p.exe_deleted) {
        Finding n;
        n.kind = Finding::Kind::kNotice;
        n.pids = {pid};
        n.target = target;
        n.notice = "process runs a deleted executable";
        if (digests.count(HashAlgo::kSha256)) n.details["sha256"] = digests[HashAlgo::kSha256];
        sink.add(std::move(n));
      }
    }

    uint64_t bytes = 0;
    if (yara && !scan_memory(p, owner, target, *yara, buf, bytes)) return;
    stats.scanned(bytes);
  }

  // Up to len bytes of the target's memory from address `start`; fewer at an unmapped page.
  static size_t read_region(int mem, uint64_t start, uint64_t len, uint8_t* out) {
    size_t got = 0;
    while (got < len) {
      ssize_t n = ::pread(mem, out + got, len - got, static_cast<off_t>(start + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    return got;
  }

  // False when the process could not be scanned at all (counted as skipped).
  bool scan_memory(const ProcInfo& p, const std::string& owner, const Json& target,
                   YaraScanner& yara, std::vector<uint8_t>& buf, uint64_t& bytes) {
    const std::string dir = opts.proc_root + "/" + std::to_string(p.pid);
    const std::string label = "pid " + std::to_string(p.pid) + " (" + p.comm + ")";
    Fd mem(::open((dir + "/mem").c_str(), O_RDONLY | O_CLOEXEC));
    if (!mem) {
      int err = errno;
      if (err == ENOENT || err == ESRCH) {
        stats.skipped("exited", label);
      } else {
        stats.skipped("unreadable", label, true, std::string("memory: ") + std::strerror(err));
      }
      return false;
    }
    std::string maps_text;
    try {
      maps_text = read_all(Fd(::open((dir + "/maps").c_str(), O_RDONLY | O_CLOEXEC)).get(),
                           dir + "/maps", 64u << 20);
    } catch (const std::exception&) {
      stats.skipped("exited", label);
      return false;
    }
    size_t bad = 0;
    auto regions = parse_maps(maps_text, &bad);
    if (regions.empty()) {
      stats.skipped("exited", label);  // maps of an exiting process read empty
      return false;
    }
    if (bad) stats.bump("regions_skipped", "malformed", bad);

    YaraExternals ext;
    ext.filepath = p.exe;
    auto slash = p.exe.rfind('/');
    ext.filename =
        p.exe.empty() ? p.comm : p.exe.substr(slash == std::string::npos ? 0 : slash + 1);
    auto dot = ext.filename.rfind('.');
    if (dot != std::string::npos && dot > 0)
      ext.extension = to_lower_ascii(ext.filename.substr(dot));
    ext.owner = owner;

    // One finding per (rule, namespace) per process: the first region, and how many matched.
    struct Hit {
      Finding finding;
      size_t regions = 0;
    };
    std::map<std::pair<std::string, std::string>, Hit> hits;
    std::vector<std::pair<std::string, std::string>> order;
    for (const auto& r : regions) {
      std::string why = region_skip_reason(r);
      if (!why.empty()) {
        stats.bump("regions_skipped", why);
        continue;
      }
      uint64_t len = r.end - r.start;
      if (len > opts.max_region_size) {
        stats.bump("regions_skipped", "truncated");  // scanned in its first max_region_size bytes
        len = opts.max_region_size;
      }
      if (buf.size() < len) buf.resize(len);
      size_t got = read_region(mem.get(), r.start, len, buf.data());
      if (got == 0) {
        // EIO: a guard page, memory gone since maps was read, or the process exited.
        stats.bump("regions_skipped", "io-error");
        continue;
      }
      stats.bump("regions", "scanned");
      bytes += got;
      YaraResult res = yara.scan(buf.data(), got, ext, r.start);
      for (const auto& m : res.matches) {
        auto key = std::make_pair(m.ns, m.rule);
        auto it = hits.find(key);
        if (it == hits.end()) {
          Json t = target;
          t["region"] = hex_address(r.start) + "-" + hex_address(r.end);
          t["region_perms"] = r.perms;
          if (!r.path.empty()) t["region_path"] = r.path;
          hits[key] = Hit{yara_finding(t, m), 1};
          hits[key].finding.pids = {p.pid};
          order.push_back(key);
        } else {
          ++it->second.regions;
        }
      }
      if (res.status == YaraStatus::kTimeout) stats.bump("regions_skipped", "yara-timeout");
      if (res.status == YaraStatus::kError) stats.bump("regions_skipped", "yara-error");
    }
    if (buf.size() > (64u << 20)) std::vector<uint8_t>().swap(buf);
    for (const auto& key : order) {
      Hit& h = hits[key];
      h.finding.details["regions_matched"] = h.regions;
      sink.add(std::move(h.finding));
    }
    return true;
  }

  static std::string to_lower_ascii(std::string s) {
    for (char& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
  }
};

}  // namespace

void scan_procs(const ProcScanOptions& opts, const ScanInputs& in, FindingSink& sink,
                ScanStats& stats) {
  std::vector<int> pids = opts.pids.empty() ? list_pids(opts.proc_root) : opts.pids;
  if (opts.pids.empty() && pids.empty())
    throw Error(opts.proc_root + ": no processes listed (is /proc mounted?)");
  const int self = ::getpid();
  pids.erase(std::remove(pids.begin(), pids.end(), self), pids.end());
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());

  unsigned threads =
      opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(
      {threads, kMaxThreads, static_cast<unsigned>(std::max<size_t>(1, pids.size()))});
  Progress progress(opts.progress, "processes", pids.size(), 0);
  ExeHashCache exe_hashes;
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(threads);
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      try {
        ProcWorker{opts, in, sink, stats, progress, exe_hashes, pids, next}.run();
      } catch (...) {
        errors[t] = std::current_exception();
        next.store(pids.size());
      }
    });
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace forage::scanners
