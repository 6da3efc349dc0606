#include "scanners/sweep.h"

#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/hash.h"
#include "common/time.h"
#include "host/fs.h"
#include "host/proc.h"
#include "ioc/reader.h"
#include "ioc/tlp.h"
#include "ioc/writers.h"
#include "scanners/file_scan.h"
#include "scanners/log_scan.h"
#include "scanners/net_scan.h"
#include "scanners/pcap_scan.h"
#include "scanners/proc_scan.h"

namespace forage::scanners {

using host::UserNames;
namespace {

using Clock = std::chrono::steady_clock;

double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// Keeps forage's average CPU use (all threads) and read rate under their limits by sleeping
// between chunks of work. Averaged from the start of the scanning, so a burst (compiling rules,
// one large file) is paid back by the next pauses; never sleeps past the deadline.
class Pacer {
 public:
  Pacer(double max_cpu_pct, double io_mb_s, Clock::time_point deadline)
      : cpu_frac_(max_cpu_pct / 100.0), io_bytes_s_(io_mb_s * 1e6), deadline_(deadline) {}

  void pace(uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    bytes_ += bytes;
    double wall = std::chrono::duration<double>(Clock::now() - start_).count();
    double need = 0;
    if (cpu_frac_ > 0) need = std::max(need, (cpu_seconds() - cpu0_) / cpu_frac_);
    if (io_bytes_s_ > 0) need = std::max(need, bytes_ / io_bytes_s_);
    if (need <= wall) return;
    auto until = std::min(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(need - wall)),
                          deadline_);
    if (until > Clock::now()) {
      slept_ += std::chrono::duration<double>(until - Clock::now()).count();
      std::this_thread::sleep_until(until);
    }
  }
  double slept() const { return slept_; }
  bool active() const { return cpu_frac_ > 0 || io_bytes_s_ > 0; }

 private:
  std::mutex mu_;
  double cpu_frac_, io_bytes_s_;
  Clock::time_point deadline_;
  Clock::time_point start_ = Clock::now();
  double cpu0_ = cpu_seconds();
  uint64_t bytes_ = 0;
  double slept_ = 0;
};

std::vector<std::string> list_dir(const std::string& dir) {
  return Dir::open(dir).names();
}

bool exists_nofollow(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && !S_ISLNK(st.st_mode);
}

std::string host_name() {
  utsname u{};
  if (::uname(&u) == 0) return u.nodename;
  return "unknown";
}


struct Phase {
  std::string name;
  std::string status = "scanned";  // scanned | cut-short | skipped
  std::string reason;
  ScanStats stats;
  double seconds = 0;
  Json extra = Json::object();
};

}  // namespace


std::string indicator_digest(const ioc::IocSet& set) {
  return sha256_hex(ioc::to_tsv(set));
}

std::vector<std::string> hiding_places(const std::string& root) {
  std::vector<std::string> out;
  auto add = [&](const std::string& p) {
    if (exists_nofollow(root + p)) out.push_back(root + p);
  };
  for (const char* p :
       {"/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/var/lock", "/run/lock", "/var/spool/cron",
        "/etc/systemd/system", "/etc/ld.so.preload", "/etc/rc.local", "/etc/profile.d"})
    add(p);
  for (const auto& n : list_dir(root + "/etc"))
    if (n.rfind("cron", 0) == 0) add("/etc/" + n);
  std::vector<std::string> homes = {"/root"};
  for (const auto& n : list_dir(root + "/home")) homes.push_back("/home/" + n);
  for (const auto& h : homes)
    for (const auto& n : list_dir(root + h))
      if (n.size() > 1 && n[0] == '.') add(h + "/" + n);
  return out;
}

SweepResult run_sweep(const SweepOptions& o, std::FILE* out) {
  if (o.iocs.empty()) throw Error("sweep: --iocs is required (the broadcast)");
  if (o.budget_s <= 0) throw Error("--budget: must be more than 0");
  if (o.max_cpu < 0 || o.max_cpu > 100.0 * 1024)
    throw Error("--max-cpu: expected 1..100 (percent of one CPU)");
  for (const auto& s : o.skip_phases)
    if (std::find_if(std::begin(kSweepPhases), std::end(kSweepPhases),
                     [&](const char* p) { return s == p; }) == std::end(kSweepPhases))
      throw Error("--skip: unknown phase '" + s + "' (net, procs, files, logs, pcap)");
  const auto t0 = Clock::now();
  const auto deadline =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.budget_s));

  SweepResult result;
  result.iocs = ioc::read_files(o.iocs, {});
  const ioc::IocSet& set = result.iocs;
  for (const auto& n : set.notes) spdlog::info("note: {}", n);
  std::string tlp = o.tlp.empty() ? set.tlp : normalize_tlp(o.tlp).value_or("");
  if (!o.tlp.empty() && tlp.empty()) throw Error("--tlp: unknown label '" + o.tlp + "'");
  std::string tlp_source = o.tlp.empty() ? "broadcast" : "option";
  if (tlp.empty()) {
    // Nothing said: handle as the procedure handles incident data by default.
    tlp = "TLP:AMBER";
    tlp_source = "default";
    spdlog::warn("the indicators carry no TLP label: output is labelled AMBER");
  }
  const std::string tlp_label = tlp_short(tlp);
  const std::string case_id = o.case_id.empty() ? set.case_tag : o.case_id;

  std::optional<YaraRules> rules;
  std::string rules_name = "none";
  if (!o.no_rules) {
    rules.emplace(o.rules.empty() ? YaraRules::builtin() : YaraRules::load(o.rules));
    rules_name = o.rules.empty() ? "built-in" : "given";
  }
  IocIndex index(set);
  UserNames users = UserNames::load(o.passwd);
  ScanInputs in;
  in.rules = rules ? &*rules : nullptr;
  in.iocs = &index;
  in.users = &users;
  in.yara_timeout_s = o.yara_timeout_s;

  // Every line: the broadcast's TLP label; findings remember their phase and the pids they name.
  std::mutex mu;
  std::string current_phase;
  std::map<std::string, uint64_t> by_kind, by_phase;
  uint64_t findings = 0;
  auto hook = [&](Json& line) {
    line["tlp"] = tlp_label;
    std::string kind = line.value("kind", "");
    if (kind == "summary" || kind == "notice") return true;
    std::lock_guard<std::mutex> lock(mu);
    ++findings;
    ++by_kind[kind];
    ++by_phase[current_phase];
    line["phase"] = current_phase;
    if (line.contains("pid") && line["pid"].is_number_integer())
      result.hit_pids.insert(line["pid"].get<int>());
    if (line.contains("pids") && line["pids"].is_array())
      for (const auto& p : line["pids"])
        if (p.is_number_integer()) result.hit_pids.insert(p.get<int>());
    return true;
  };
  Reporter reporter(o.json, out);
  reporter.set_hook(hook);

  Pacer pacer(o.max_cpu, o.io_rate_mb, deadline);
  auto out_of_time = [&] { return Clock::now() >= deadline; };
  auto skipped = [&](const std::string& p) {
    return std::find(o.skip_phases.begin(), o.skip_phases.end(), p) != o.skip_phases.end();
  };
  std::deque<Phase> phases;
  auto run_phase = [&](const std::string& name, auto body) {
    phases.emplace_back();
    Phase& ph = phases.back();
    ph.name = name;
    {
      std::lock_guard<std::mutex> lock(mu);
      current_phase = name;
    }
    if (skipped(name)) {
      ph.status = "skipped";
      ph.reason = "--skip " + name;
      return;
    }
    if (out_of_time()) {
      ph.status = "skipped";
      ph.reason = "budget";
      ph.stats.skipped("budget", "phase " + name, true, "time budget used up before this phase");
      return;
    }
    auto p0 = Clock::now();
    spdlog::info("sweep: {}", name);
    body(ph);
    ph.seconds = std::chrono::duration<double>(Clock::now() - p0).count();
    if (ph.stats.skipped_count("budget") > 0 && ph.status == "scanned") ph.status = "cut-short";
  };

  // 1. Live sockets: the connection to the C2 is the first thing to go.
  run_phase("net", [&](Phase& ph) {
    if (index.ips().empty()) {
      ph.status = "skipped";
      ph.reason = "no ip/cidr indicators";
      return;
    }
    NetScanOptions no;
    no.proc_root = o.proc_root;
    scan_net(no, in, reporter, ph.stats);
  });

  // 2. Processes, in chunks between which the budget and the pacing are checked.
  run_phase("procs", [&](Phase& ph) {
    std::vector<int> pids;
    const int self = ::getpid();
    for (int pid : host::list_pids(o.proc_root))
      if (pid != self) pids.push_back(pid);
    constexpr size_t kChunk = 16;
    for (size_t i = 0; i < pids.size(); i += kChunk) {
      if (out_of_time()) {
        for (size_t j = i; j < pids.size(); ++j)
          ph.stats.skipped("budget", "pid " + std::to_string(pids[j]), true);
        break;
      }
      ProcScanOptions po;
      po.proc_root = o.proc_root;
      po.max_region_size = o.max_region;
      po.threads = o.threads;
      po.pids.assign(pids.begin() + i, pids.begin() + std::min(pids.size(), i + kChunk));
      uint64_t before = ph.stats.bytes();
      scan_procs(po, in, reporter, ph.stats);
      pacer.pace(ph.stats.bytes() - before);
    }
  });

  // 3. Files of the hiding places and --paths.
  run_phase("files", [&](Phase& ph) {
    FileScanOptions fo;
    if (!o.no_default_paths) fo.walk.paths = hiding_places();
    for (const auto& p : o.paths) fo.walk.paths.push_back(p);
    if (fo.walk.paths.empty()) {
      ph.status = "skipped";
      ph.reason = "no paths";
      return;
    }
    ph.extra["paths"] = fo.walk.paths;
    fo.walk.max_size = o.max_size;
    fo.walk.one_file_system = true;
    fo.threads = o.threads;
    auto entries = walk(fo.walk, ph.stats);
    constexpr size_t kChunkFiles = 64;
    constexpr uint64_t kChunkBytes = 16ull << 20;
    size_t i = 0;
    while (i < entries.size()) {
      if (out_of_time()) {
        for (size_t j = i; j < entries.size(); ++j)
          ph.stats.skipped("budget", entries[j].path, true);
        break;
      }
      size_t j = i;
      uint64_t bytes = 0;
      while (j < entries.size() && j - i < kChunkFiles && (bytes < kChunkBytes || j == i))
        bytes += entries[j++].size;
      std::vector<WalkEntry> chunk(entries.begin() + i, entries.begin() + j);
      uint64_t before = ph.stats.bytes();
      scan_entries(chunk, fo, in, reporter, ph.stats);
      pacer.pace(ph.stats.bytes() - before);
      i = j;
    }
  });

  // 4. Logs: who logged in from where, as whom.
  run_phase("logs", [&](Phase& ph) {
    LogScanOptions lo;
    lo.paths = o.log_paths;
    lo.stop = out_of_time;
    lo.pace = [&](uint64_t n) { pacer.pace(n); };
    scan_logs(lo, index, reporter, ph.stats);
    if (ph.stats.scanned_count() == 0 && !ph.stats.incomplete()) {
      ph.status = "skipped";
      ph.reason = "no logs found";
    }
  });

  // 5. Captures given with --pcap.
  run_phase("pcap", [&](Phase& ph) {
    if (o.pcaps.empty()) {
      ph.status = "skipped";
      ph.reason = "no --pcap given";
      return;
    }
    if (index.ips().empty()) {
      ph.status = "skipped";
      ph.reason = "no ip/cidr indicators";
      return;
    }
    // scan_pcap writes its own summary line: it becomes part of the node summary instead.
    Reporter pr(o.json, out);
    pr.set_hook([&](Json& line) {
      if (line.value("kind", "") == "summary") {
        ph.extra = line;
        ph.extra.erase("kind");
        ph.extra.erase("tlp");
        return false;
      }
      return hook(line);
    });
    PcapScanOptions po;
    po.inputs = o.pcaps;
    int rc = 2;
    try {
      rc = scan_pcap(po, set, pr);
    } catch (const Error& e) {
      ph.stats.skipped("unreadable", "pcap", true, e.what());
    }
    if (rc == static_cast<int>(Exit::kIncomplete))
      ph.stats.skipped("incomplete", "pcap", true, "a capture could not be read whole");
    ph.stats.scanned(0);
  });

  Json collected;
  if (o.on_hit && !result.hit_pids.empty())
    collected = o.on_hit(result.hit_pids, set, case_id, tlp_label);

  // The node summary.
  bool incomplete = false;
  Json ps = Json::object();
  Json skipped_total = Json::object();
  for (auto& ph : phases) {
    Json p;
    p["status"] = ph.status;
    if (!ph.reason.empty()) p["reason"] = ph.reason;
    if (ph.status != "skipped" || ph.reason == "budget") {
      Json s = ph.stats.summary(ph.seconds);
      for (auto& [k, v] : s.items()) p[k] = v;
      for (auto& [k, v] : ph.extra.items()) p[k] = v;
      for (auto& [k, v] : s["skipped"].items())
        skipped_total[k] = skipped_total.value(k, uint64_t{0}) + v.get<uint64_t>();
    }
    p["findings"] = by_phase[ph.name];
    if (ph.stats.incomplete()) incomplete = true;
    ps[ph.name] = p;
  }
  Json s;
  s["scan"] = "sweep";
  s["host"] = host_name();
  s["utc"] = utc_now();
  s["forage_version"] = o.version;
  s["case"] = case_id;
  s["tlp_source"] = tlp_source;
  s["indicators"] = index.size();
  s["indicator_digest"] = "sha256:" + indicator_digest(set);
  s["rules"] = rules_name;
  if (rules) s["rule_count"] = rules->rule_count();
  s["budget_s"] = o.budget_s;
  if (o.max_cpu > 0) s["max_cpu"] = o.max_cpu;
  if (o.io_rate_mb > 0) s["io_rate_mb"] = o.io_rate_mb;
  if (pacer.active()) s["paced_seconds"] = std::round(pacer.slept() * 1000) / 1000;
  s["phases"] = ps;
  s["phases_scanned"] = Json::array();
  s["phases_skipped"] = Json::object();
  for (auto& ph : phases) {
    if (ph.status == "skipped")
      s["phases_skipped"][ph.name] = ph.reason;
    else
      s["phases_scanned"].push_back(ph.name);
  }
  Json kinds = Json::object();
  for (const auto& [k, n] : by_kind) kinds[k] = n;
  s["findings_by_kind"] = kinds;
  s["skipped"] = skipped_total;
  if (!collected.is_null()) s["collected"] = collected;
  s["incomplete"] = incomplete;
  s["seconds"] = std::round(std::chrono::duration<double>(Clock::now() - t0).count() * 1000) / 1000;
  s["cpu_seconds"] = std::round(cpu_seconds() * 1000) / 1000;
  // Findings of the pcap phase went through their own Reporter: count them here.
  s["findings"] = findings;
  result.exit_code = findings > 0 ? 1 : incomplete ? 3 : 0;
  Json written;
  reporter.set_hook([&](Json& line) {
    line["findings"] = findings;
    line["tlp"] = tlp_label;
    written = line;
    return true;
  });
  reporter.summary(s);
  result.summary = written;
  return result;
}

}  // namespace forage::scanners
