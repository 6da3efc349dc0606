#include "sweep/sweep.h"

#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/file.h"
#include "common/hash.h"
#include "common/strings.h"
#include "common/time.h"
#include "common/tlp.h"
#include "host/accounts.h"
#include "host/proc.h"
#include "ioc/reader.h"
#include "ioc/writers.h"
#include "scanners/file_scan.h"
#include "scanners/ioc_match.h"
#include "scanners/log_scan.h"
#include "scanners/net_scan.h"
#include "scanners/pcap_scan.h"
#include "scanners/proc_scan.h"
#include "scanners/yara_rules.h"

namespace forage::sweep {
namespace {

using Clock = std::chrono::steady_clock;
using scanners::Finding;
using scanners::Reporter;
using scanners::ScanStats;
using scanners::YaraRules;

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

// Usage errors, before anything is read.
void check_options(const SweepOptions& o) {
  if (o.iocs.empty()) throw Error("sweep: --iocs is required (the broadcast)");
  if (o.budget_s <= 0) throw Error("--budget: must be more than 0");
  if (o.max_cpu < 0 || o.max_cpu > 100.0 * 1024)
    throw Error("--max-cpu: expected 1..100 (percent of one CPU)");
  for (const auto& s : o.skip_phases)
    if (std::find_if(std::begin(kSweepPhases), std::end(kSweepPhases),
                     [&](const char* p) { return s == p; }) == std::end(kSweepPhases))
      throw Error("--skip: unknown phase '" + s + "' (net, procs, files, logs, pcap)");
}

ioc::IocSet read_broadcast(const SweepOptions& o) {
  ioc::IocSet set = ioc::read_iocs_option(o.iocs, o.allow_empty_iocs && !o.no_rules);
  for (const auto& n : set.notes) spdlog::info("note: {}", n);
  if (!o.expect_digest.empty()) {
    std::string want = o.expect_digest;
    if (want.rfind("sha256:", 0) == 0) want = want.substr(7);
    std::string got = indicator_digest(set);
    if (to_lower(want) != got)
      throw Error("--expect-indicator-digest: the broadcast's indicators have digest sha256:" +
                  got + ", not " + o.expect_digest + " (not the broadcast that was checked)");
  }
  return set;
}

// The label on every line (and where it came from) and the case of the run.
struct Labels {
  std::string tlp;         // short: "AMBER"
  std::string tlp_source;  // broadcast | option | default
  std::string case_id;
};

Labels labels_for(const SweepOptions& o, const ioc::IocSet& set) {
  std::string tlp = o.tlp.empty() ? set.tlp : normalize_tlp(o.tlp).value_or("");
  if (!o.tlp.empty() && tlp.empty()) throw Error("--tlp: unknown label '" + o.tlp + "'");
  Labels l;
  l.tlp_source = o.tlp.empty() ? "broadcast" : "option";
  if (tlp.empty()) {
    // Nothing said: handle as the procedure handles incident data by default.
    tlp = "TLP:AMBER";
    l.tlp_source = "default";
    spdlog::warn("the indicators carry no TLP label: output is labelled AMBER");
  }
  l.tlp = tlp_short(tlp);
  l.case_id = o.case_id.empty() ? set.case_tag : o.case_id;
  return l;
}

std::optional<YaraRules> load_rules(const SweepOptions& o) {
  if (o.no_rules) return std::nullopt;
  return o.rules.empty() ? YaraRules::builtin() : YaraRules::load(o.rules);
}

struct Phase {
  std::string name;
  std::string status = "scanned";  // scanned | cut-short | skipped
  std::string reason;
  ScanStats stats;
  double seconds = 0;
  Json extra = Json::object();
};

// What the phases add up to in the node summary.
struct PhaseTotals {
  Json phases = Json::object();   // per phase: status, reason, its scan summary, findings
  Json skipped = Json::object();  // reason -> count, over every phase
  bool incomplete = false;
};

// One sweep: the engines' inputs, the budget and the pacing that the phases share, and what each
// phase did, for the node summary. Every finding of every phase passes through it on its way to
// the Reporter (add()): stamped with the broadcast's label and its phase, counted, its pids kept.
class SweepRun : public scanners::FindingSink {
 public:
  SweepRun(const SweepOptions& o, std::FILE* out);
  SweepResult run();
  void add(Finding f) override;

 private:
  using Scan = void (SweepRun::*)(Phase&);
  void run_phase(const std::string& name, Scan scan);
  void scan_sockets(Phase& ph);
  void scan_processes(Phase& ph);
  void scan_hiding_places(Phase& ph);
  void scan_walked(Phase& ph, const std::vector<scanners::WalkEntry>& entries,
                   const scanners::FileScanOptions& fo, std::set<std::pair<dev_t, ino_t>>& done);
  void scan_log_files(Phase& ph);
  void scan_captures(Phase& ph);

  bool out_of_time() const { return Clock::now() >= deadline_; }
  PhaseTotals phase_totals();
  Json node_summary(const Json& collected);

  const SweepOptions& o_;
  const Clock::time_point t0_;
  const Clock::time_point deadline_;
  SweepResult result_;
  const Labels labels_;
  const std::optional<YaraRules> rules_;
  const scanners::IocIndex index_;
  const host::UserNames users_;
  scanners::ScanInputs in_;
  Reporter reporter_;
  Pacer pacer_;
  std::deque<Phase> phases_;  // stable references: a phase's body fills its entry

  std::mutex mu_;  // add() runs on scan threads: guards the five below
  std::string current_phase_;
  std::map<std::string, uint64_t> by_kind_, by_phase_;
  std::map<std::string, uint64_t> notices_by_phase_;
  uint64_t findings_ = 0;
};

SweepRun::SweepRun(const SweepOptions& o, std::FILE* out)
    : o_(o),
      t0_(Clock::now()),
      deadline_(t0_ + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(o.budget_s))),
      result_{.iocs = read_broadcast(o)},
      labels_(labels_for(o, result_.iocs)),
      rules_(load_rules(o)),
      index_(result_.iocs),
      users_(host::UserNames::load(o.passwd)),
      reporter_(o.json, out),
      pacer_(o.max_cpu, o.io_rate_mb, deadline_) {
  in_.rules = rules_ ? &*rules_ : nullptr;
  in_.iocs = &index_;
  in_.users = &users_;
  in_.yara_timeout_s = o.yara_timeout_s;
}

SweepResult SweepRun::run() {
  // 1. Live sockets: the connection to the C2 is the first thing to go.
  run_phase("net", &SweepRun::scan_sockets);
  // 2. Processes, in chunks between which the budget and the pacing are checked.
  run_phase("procs", &SweepRun::scan_processes);
  // 3. Files of the hiding places and --paths.
  run_phase("files", &SweepRun::scan_hiding_places);
  // 4. Logs: who logged in from where, as whom.
  run_phase("logs", &SweepRun::scan_log_files);
  // 5. Captures given with --pcap.
  run_phase("pcap", &SweepRun::scan_captures);

  Json collected;
  if (o_.collect_on_hit && !result_.hit_pids.empty())
    collected = collect_on_hit(*o_.collect_on_hit, result_.hit_pids, labels_.case_id,
                               o_.tlp.empty() ? labels_.tlp : o_.tlp);

  Json summary = node_summary(collected);
  result_.exit_code = findings_ > 0 ? 1 : summary["incomplete"].get<bool>() ? 3 : 0;
  // Its "findings" (every phase's, the captures' too) and "notices" are the Reporter's counts.
  reporter_.summary(std::move(summary), labels_.tlp);
  return std::move(result_);
}

// Every line: the broadcast's TLP label; findings remember their phase and the pids they name.
void SweepRun::add(Finding f) {
  f.tlp = labels_.tlp;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (f.kind == Finding::Kind::kNotice) {
      ++notices_by_phase_[current_phase_];
    } else {
      ++findings_;
      ++by_kind_[scanners::kind_name(f.kind)];
      ++by_phase_[current_phase_];
      f.phase = current_phase_;
      result_.hit_pids.insert(f.pids.begin(), f.pids.end());
    }
  }
  reporter_.add(std::move(f));
}

// Runs one phase unless --skip names it or the budget is used up, and times it.
void SweepRun::run_phase(const std::string& name, Scan scan) {
  phases_.emplace_back();
  Phase& ph = phases_.back();
  ph.name = name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_phase_ = name;
  }
  if (std::find(o_.skip_phases.begin(), o_.skip_phases.end(), name) != o_.skip_phases.end()) {
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
  (this->*scan)(ph);
  ph.seconds = std::chrono::duration<double>(Clock::now() - p0).count();
  if (ph.stats.skipped_count("budget") > 0 && ph.status == "scanned") ph.status = "cut-short";
}

void SweepRun::scan_sockets(Phase& ph) {
  if (index_.ips().empty()) {
    ph.status = "skipped";
    ph.reason = "no ip/cidr indicators";
    return;
  }
  scanners::NetScanOptions no;
  no.proc_root = o_.proc_root;
  scanners::scan_net(no, in_, *this, ph.stats);
}

void SweepRun::scan_processes(Phase& ph) {
  std::vector<int> pids;
  const int self = ::getpid();
  for (int pid : host::list_pids(o_.proc_root))
    if (pid != self) pids.push_back(pid);
  constexpr size_t kChunk = 16;
  for (size_t i = 0; i < pids.size(); i += kChunk) {
    if (out_of_time()) {
      for (size_t j = i; j < pids.size(); ++j)
        ph.stats.skipped("budget", "pid " + std::to_string(pids[j]), true);
      break;
    }
    scanners::ProcScanOptions po;
    po.proc_root = o_.proc_root;
    po.max_region_size = o_.max_region;
    po.threads = o_.threads;
    po.pids.assign(pids.begin() + i, pids.begin() + std::min(pids.size(), i + kChunk));
    uint64_t before = ph.stats.bytes();
    scanners::scan_procs(po, in_, *this, ph.stats);
    pacer_.pace(ph.stats.bytes() - before);
  }
}

// The directories of the processes the net and procs phases named: their cwd (and two levels
// below it), their executable's directory (and one level below) and the directories of their
// open files (those files' neighbours only). The attacker's own directory comes before the usual
// hiding places, so the budget never cuts it first; the depths keep a lead such as a cwd of
// /home from eating the budget. "/" is left to the hiding places; system directories are
// looked at one level deep.
struct Lead {
  std::string path;
  int pid = 0;
  std::string why;
  int max_depth = 0;
};

bool system_directory(const std::string& d) {
  for (const char* top : {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot",
                          "/etc", "/var/lib", "/run"}) {
    std::string_view t = top;
    if (d == t || (d.size() > t.size() && d.compare(0, t.size(), t) == 0 && d[t.size()] == '/'))
      return true;
  }
  return false;
}

std::vector<Lead> lead_directories(const std::string& proc_root, const std::set<int>& pids) {
  constexpr size_t kMaxLeads = 64;
  std::vector<Lead> out;
  std::set<std::string> seen;
  for (int pid : pids)
    for (auto& d : host::process_directories(proc_root, pid)) {
      if (d.path == "/" || out.size() >= kMaxLeads || !seen.insert(d.path).second) continue;
      std::string_view why = d.why;
      int depth = system_directory(d.path) ? 0 : why == "cwd" ? 2 : why == "exe" ? 1 : 0;
      out.push_back({d.path, pid, d.why, depth});
    }
  return out;
}

// In chunks of at most 64 files and (but for one large file) 16 MiB, the budget and the pacing
// checked between chunks. Files scanned already (a lead inside a hiding place) are left out.
void SweepRun::scan_walked(Phase& ph, const std::vector<scanners::WalkEntry>& entries,
                           const scanners::FileScanOptions& fo,
                           std::set<std::pair<dev_t, ino_t>>& done) {
  std::vector<scanners::WalkEntry> todo;
  for (const auto& e : entries)
    if (done.emplace(e.dev, e.ino).second) todo.push_back(e);
  constexpr size_t kChunkFiles = 64;
  constexpr uint64_t kChunkBytes = 16ull << 20;
  size_t i = 0;
  while (i < todo.size()) {
    if (out_of_time()) {
      for (size_t j = i; j < todo.size(); ++j) ph.stats.skipped("budget", todo[j].path, true);
      break;
    }
    size_t j = i;
    uint64_t bytes = 0;
    while (j < todo.size() && j - i < kChunkFiles && (bytes < kChunkBytes || j == i))
      bytes += todo[j++].size;
    std::vector<scanners::WalkEntry> chunk(todo.begin() + i, todo.begin() + j);
    uint64_t before = ph.stats.bytes();
    scanners::scan_entries(chunk, fo, in_, *this, ph.stats);
    pacer_.pace(ph.stats.bytes() - before);
    i = j;
  }
}

void SweepRun::scan_hiding_places(Phase& ph) {
  scanners::FileScanOptions fo;
  fo.walk.max_size = o_.max_size;
  fo.walk.one_file_system = true;
  fo.threads = o_.threads;
  std::set<int> named;
  {
    std::lock_guard<std::mutex> lock(mu_);
    named = result_.hit_pids;
  }
  std::set<std::pair<dev_t, ino_t>> done;
  auto leads = lead_directories(o_.proc_root, named);
  if (!leads.empty()) {
    Json lj = Json::array();
    for (const auto& l : leads) {
      scanners::FileScanOptions lo = fo;
      lo.walk.paths = {l.path};
      lo.walk.max_depth = l.max_depth;
      lj.push_back({{"path", l.path}, {"pid", l.pid}, {"why", l.why}, {"depth", l.max_depth}});
      if (out_of_time()) continue;
      scan_walked(ph, scanners::walk(lo.walk, ph.stats), lo, done);
    }
    ph.extra["leads"] = std::move(lj);
  }
  if (!o_.no_default_paths) fo.walk.paths = hiding_places();
  for (const auto& p : o_.paths) fo.walk.paths.push_back(p);
  if (fo.walk.paths.empty() && leads.empty()) {
    ph.status = "skipped";
    ph.reason = "no paths";
    return;
  }
  ph.extra["paths"] = fo.walk.paths;
  if (fo.walk.paths.empty()) return;
  scan_walked(ph, scanners::walk(fo.walk, ph.stats), fo, done);
}

void SweepRun::scan_log_files(Phase& ph) {
  scanners::LogScanOptions lo;
  lo.paths = o_.log_paths;
  lo.stop = [this] { return out_of_time(); };
  lo.pace = [this](uint64_t n) { pacer_.pace(n); };
  scanners::scan_logs(lo, index_, *this, ph.stats);
  if (ph.stats.scanned_count() == 0 && !ph.stats.incomplete()) {
    ph.status = "skipped";
    ph.reason = "no logs found";
  }
}

void SweepRun::scan_captures(Phase& ph) {
  if (o_.pcaps.empty()) {
    ph.status = "skipped";
    ph.reason = "no --pcap given";
    return;
  }
  if (index_.ips().empty()) {
    ph.status = "skipped";
    ph.reason = "no ip/cidr indicators";
    return;
  }
  scanners::PcapScanOptions po;
  po.inputs = o_.pcaps;
  try {
    scanners::PcapResult r = scanners::scan_pcap(po, result_.iocs, *this);
    // The capture scan's summary (packets, link types, errors...) becomes part of the phase's
    // entry in the node summary, after the phase's findings and notices.
    uint64_t findings = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      findings = by_phase_["pcap"];
      ph.extra["findings"] = findings;
      ph.extra["notices"] = notices_by_phase_["pcap"];
    }
    for (auto& [k, v] : r.summary.items())
      if (k != "kind" && k != "findings" && k != "notices" && k != "tlp") ph.extra[k] = v;
    // Incomplete counts only when the captures gave no finding (a hit is the stronger news).
    if (r.incomplete && findings == 0)
      ph.stats.skipped("incomplete", "pcap", true, "a capture could not be read whole");
  } catch (const Error& e) {
    ph.stats.skipped("unreadable", "pcap", true, e.what());
  }
  ph.stats.scanned(0);
}

PhaseTotals SweepRun::phase_totals() {
  PhaseTotals t;
  for (auto& ph : phases_) {
    Json p;
    p["status"] = ph.status;
    if (!ph.reason.empty()) p["reason"] = ph.reason;
    if (ph.status != "skipped" || ph.reason == "budget") {
      Json s = ph.stats.summary(ph.seconds);
      for (auto& [k, v] : s.items()) p[k] = v;
      for (auto& [k, v] : ph.extra.items()) p[k] = v;
      for (auto& [k, v] : s["skipped"].items())
        t.skipped[k] = t.skipped.value(k, uint64_t{0}) + v.get<uint64_t>();
    }
    p["findings"] = by_phase_[ph.name];
    if (ph.stats.incomplete()) t.incomplete = true;
    t.phases[ph.name] = p;
  }
  return t;
}

Json SweepRun::node_summary(const Json& collected) {
  PhaseTotals totals = phase_totals();
  Json s;
  s["scan"] = "sweep";
  s["host"] = host_name();
  s["utc"] = utc_now();
  s["forage_version"] = o_.version;
  s["case"] = labels_.case_id;
  s["tlp_source"] = labels_.tlp_source;
  s["indicators"] = index_.size();
  s["indicator_digest"] = "sha256:" + indicator_digest(result_.iocs);
  s["rules"] = o_.no_rules ? "none" : o_.rules.empty() ? "built-in" : "given";
  if (rules_) s["rule_count"] = rules_->rule_count();
  s["budget_s"] = o_.budget_s;
  if (o_.max_cpu > 0) s["max_cpu"] = o_.max_cpu;
  if (o_.io_rate_mb > 0) s["io_rate_mb"] = o_.io_rate_mb;
  if (pacer_.active()) s["paced_seconds"] = std::round(pacer_.slept() * 1000) / 1000;
  s["phases"] = totals.phases;
  s["phases_scanned"] = Json::array();
  s["phases_skipped"] = Json::object();
  for (auto& ph : phases_) {
    if (ph.status == "skipped")
      s["phases_skipped"][ph.name] = ph.reason;
    else
      s["phases_scanned"].push_back(ph.name);
  }
  Json kinds = Json::object();
  for (const auto& [k, n] : by_kind_) kinds[k] = n;
  s["findings_by_kind"] = kinds;
  s["skipped"] = totals.skipped;
  if (!collected.is_null()) s["collected"] = collected;
  s["incomplete"] = totals.incomplete;
  s["seconds"] =
      std::round(std::chrono::duration<double>(Clock::now() - t0_).count() * 1000) / 1000;
  s["cpu_seconds"] = std::round(cpu_seconds() * 1000) / 1000;
  return s;
}

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
  check_options(o);
  SweepResult r = SweepRun(o, out).run();
  if (!r.hit_pids.empty()) {
    std::string pids;
    for (int p : r.hit_pids) pids += (pids.empty() ? "" : " ") + std::to_string(p);
    spdlog::warn("sweep: findings name process(es) {}", pids);
  }
  return r;
}

}  // namespace forage::sweep
