#include "collector/core.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/procfs.h>
#include <sys/ptrace.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "common/error.h"
#include "common/file.h"
#include "common/strings.h"
#include "host/fs.h"
#include "host/proc.h"

namespace forage::collector {

using host::process_gone;
using host::ProcIds;
using host::read_ids;
using host::read_proc_file;
using host::read_stat;
using host::read_task_stat;
using host::thread_ids;
namespace {

#if defined(__x86_64__)
constexpr uint16_t kMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kMachine = EM_AARCH64;
#else
#error "ELF cores are written for x86_64 and aarch64 only"
#endif

constexpr uint64_t kChunk = 8u << 20;  // one read from the process
constexpr size_t kSlice =
    2u << 20;  // one hand-over to the bundle writer (hashed and written in parallel)

uint64_t align_up(uint64_t v, uint64_t a) {
  return (v + a - 1) / a * a;
}

void put_note(std::string& out, uint32_t type, std::string_view name, const void* desc,
              size_t size) {
  Elf64_Nhdr h{};
  h.n_namesz = static_cast<Elf64_Word>(name.size() + 1);
  h.n_descsz = static_cast<Elf64_Word>(size);
  h.n_type = type;
  out.append(reinterpret_cast<const char*>(&h), sizeof h);
  out.append(name);
  out.push_back('\0');
  out.resize(align_up(out.size(), 4), '\0');
  out.append(static_cast<const char*>(desc), size);
  out.resize(align_up(out.size(), 4), '\0');
}

struct Regs {
  elf_gregset_t gregs{};
  elf_fpregset_t fpregs{};
  bool have = false, have_fp = false;
  std::string problem;
};

// Waits (bounded) for a seized thread to report its ptrace-stop. A thread stuck in an
// uninterruptible sleep never does; it then keeps zero registers rather than hang the dump.
bool wait_stopped(int tid) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = ::waitpid(tid, &status, __WALL | WNOHANG);
    if (r == tid) return WIFSTOPPED(status);
    if (r < 0 && errno != EINTR) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

char task_state(int pid, int tid) {
  auto s = read_task_stat("/proc", pid, tid);
  return s ? s->state : 'X';
}

Regs thread_registers(int pid, int tid) {
  Regs r;
  const bool was_stopped = task_state(pid, tid) == 'T';
  if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
    r.problem = std::string("ptrace seize refused: ") + std::strerror(errno);
    return r;
  }
  if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
    r.problem = std::string("ptrace interrupt failed: ") + std::strerror(errno);
  } else if (!wait_stopped(tid)) {
    r.problem = "thread did not stop for ptrace within 2 s";
  } else {
    iovec iov{&r.gregs, sizeof r.gregs};
    if (::ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(NT_PRSTATUS), &iov) == 0)
      r.have = true;
    else
      r.problem = std::string("PTRACE_GETREGSET failed: ") + std::strerror(errno);
    iovec fiov{&r.fpregs, sizeof r.fpregs};
    if (::ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(NT_PRFPREG), &fiov) == 0)
      r.have_fp = true;
  }
  // Detaching a thread of a group-stopped process puts it back into the group stop; it runs
  // (in the kernel) for a moment to get there. Wait for that, so the freeze stays verifiable.
  ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
  for (int i = 0; was_stopped && i < 200 && task_state(pid, tid) != 'T'; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return r;
}

uint32_t phdr_flags(const std::string& perms) {
  uint32_t f = 0;
  if (perms.size() >= 3) {
    if (perms[0] == 'r') f |= PF_R;
    if (perms[1] == 'w') f |= PF_W;
    if (perms[2] == 'x') f |= PF_X;
  }
  return f;
}

bool anonymous(const host::MapRegion& r) {
  return r.path.empty();
}

// Memory only the process holds, whose never-touched pages read as zeros: not a file's pages
// (they read as the file), not shared memory, not the kernel's [vdso]/[vvar].
bool private_anonymous(const host::MapRegion& r) {
  if (r.inode != 0 || r.perms.size() < 4 || r.perms[3] != 'p') return false;
  const std::string& p = r.path;
  return p.empty() || p == "[heap]" || p.rfind("[stack", 0) == 0 || p.rfind("[anon:", 0) == 0;
}

// Dump priority under a size cap: what only the process holds first (anonymous memory, heap,
// stacks), then written file mappings, last read-only file mappings (the files hold those).
int priority(const host::MapRegion& r) {
  if (r.path.empty() || r.path[0] == '[') return 0;
  if (r.perms.size() > 1 && r.perms[1] == 'w') return 1;
  return 2;
}

class MemReader {
 public:
  MemReader(int pid, Fd mem) : pid_(pid), mem_(std::move(mem)) {}

  // Reads [addr, addr+len) into buf; unreadable pages become zeros. Returns false when the
  // process is gone (nothing more can be read).
  bool read(uint64_t addr, char* buf, size_t len, CoreWriteStats& stats,
            const std::string& proc_root) {
    size_t done = 0;
    while (done < len) {
      iovec local{buf + done, len - done};
      iovec remote{reinterpret_cast<void*>(addr + done), len - done};
      ssize_t n = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
      if (n > 0) {
        done += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == ESRCH) return false;
      // process_vm_readv stops at the first fault; /proc/PID/mem reads the same page through
      // the kernel's access path (and works where process_vm_readv is not permitted).
      size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
      size_t want = std::min(len - done, page - ((addr + done) % page));
      ssize_t m =
          mem_ ? ::pread(mem_.get(), buf + done, want, static_cast<off_t>(addr + done)) : -1;
      if (m > 0) {
        done += static_cast<size_t>(m);
        continue;
      }
      if (process_gone(proc_root, pid_)) return false;
      std::memset(buf + done, 0, want);
      stats.unreadable_bytes += want;
      if (!in_bad_range_) ++stats.unreadable_ranges;
      in_bad_range_ = true;
      done += want;
      continue;
    }
    in_bad_range_ = false;
    return true;
  }

  // Whether the first byte of a region can be read at all.
  bool probe(uint64_t addr) {
    char c;
    iovec local{&c, 1};
    iovec remote{reinterpret_cast<void*>(addr), 1};
    if (::process_vm_readv(pid_, &local, 1, &remote, 1, 0) == 1) return true;
    return mem_ && ::pread(mem_.get(), &c, 1, static_cast<off_t>(addr)) == 1;
  }

 private:
  int pid_;
  Fd mem_;
  bool in_bad_range_ = false;
};

// The device of a mapping ("00:2d", hex) on a FUSE mount.
bool fuse_backed(const host::MapRegion& r, const host::Mounts& mounts) {
  unsigned maj = 0, min = 0;
  if (std::sscanf(r.dev.c_str(), "%x:%x", &maj, &min) != 2) return false;
  return mounts.kind(makedev(maj, min)) == host::FsKind::kFuse;
}

Fd open_mem(const std::string& proc_root, int pid) {
  return Fd(::open((proc_root + "/" + std::to_string(pid) + "/mem").c_str(),
                   O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
}

// /proc/PID/pagemap: 64 bits a page, bit 63 present, bit 62 swapped (both readable without
// privileges since Linux 4.2; only the frame numbers need CAP_SYS_ADMIN).
class PageMap {
 public:
  PageMap(const std::string& proc_root, int pid)
      : fd_(::open((proc_root + "/" + std::to_string(pid) + "/pagemap").c_str(),
                   O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) {}

  // The entries of the pages of [addr, addr + len), both page-aligned; false when they cannot
  // be read (then the caller reads every page).
  bool read(uint64_t addr, size_t len, std::vector<uint64_t>& out) const {
    if (!fd_) return false;
    out.resize(len / kPage);
    char* p = reinterpret_cast<char*>(out.data());
    size_t want = out.size() * sizeof(uint64_t), got = 0;
    while (got < want) {
      ssize_t n = ::pread(fd_.get(), p + got, want - got,
                          static_cast<off_t>(addr / kPage * sizeof(uint64_t) + got));
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    return true;
  }
  static bool holds_data(uint64_t entry) { return (entry >> 62) != 0; }

  static inline const size_t kPage = static_cast<size_t>(::sysconf(_SC_PAGESIZE));

 private:
  Fd fd_;
};

}  // namespace

std::vector<SmapsUsage> parse_smaps(std::string_view text) {
  std::vector<SmapsUsage> out;
  for (std::string_view line : split_lines(text)) {
    if (line.empty()) continue;
    size_t colon = line.find(':');
    size_t dash = line.find('-');
    if (dash != std::string_view::npos && (colon == std::string_view::npos || dash < colon)) {
      // A region header: "start-end perms ...".
      uint64_t start = 0;
      auto [p, ec] = std::from_chars(line.data(), line.data() + dash, start, 16);
      if (ec == std::errc() && p == line.data() + dash) out.push_back({start, 0, 0});
      continue;
    }
    if (out.empty() || colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    if (key != "Rss" && key != "Swap") continue;
    std::string_view v = trim(line.substr(colon + 1));
    v = v.substr(0, v.find(' '));
    uint64_t kb = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), kb);
    if (ec != std::errc()) continue;
    (key == "Rss" ? out.back().rss_kb : out.back().swap_kb) = kb;
  }
  return out;
}

std::string nt_file_desc(const std::vector<host::MapRegion>& regions, uint64_t page_size) {
  std::vector<const host::MapRegion*> files;
  for (const auto& r : regions)
    if (!r.path.empty() && r.path[0] == '/') files.push_back(&r);
  std::string d;
  auto put = [&d](uint64_t v) { d.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(files.size());
  put(page_size);
  for (const auto* r : files) {
    put(r->start);
    put(r->end);
    put(r->offset / page_size);
  }
  for (const auto* r : files) {
    d += r->path;
    d.push_back('\0');
  }
  return d;
}

uint64_t CorePlan::dumped_bytes() const {
  uint64_t n = 0;
  for (const auto& s : segments) n += s.file_size;
  return n;
}

nlohmann::ordered_json CorePlan::to_json() const {
  nlohmann::ordered_json j;
  j["pid"] = pid;
  j["size"] = size;
  j["segments"] = segments.size();
  j["dumped_bytes"] = dumped_bytes();
  j["registers"] = registers_source;
  auto& th = j["threads"] = nlohmann::ordered_json::array();
  for (const auto& t : threads) {
    nlohmann::ordered_json o{{"tid", t.tid}, {"registers", t.registers}};
    if (!t.problem.empty()) o["problem"] = t.problem;
    th.push_back(std::move(o));
  }
  uint64_t holes = 0, hole_bytes = 0;
  for (const auto& s : segments)
    if (s.hole) ++holes, hole_bytes += s.region.end - s.region.start;
  j["untouched_holes"] = {{"count", holes}, {"bytes", hole_bytes}};
  auto& sk = j["not_dumped"] = nlohmann::ordered_json::array();
  for (const auto& s : segments) {
    if (s.file_size || s.hole) continue;
    char range[64];
    std::snprintf(range, sizeof range, "%llx-%llx", static_cast<unsigned long long>(s.region.start),
                  static_cast<unsigned long long>(s.region.end));
    sk.push_back({{"range", range},
                  {"perms", s.region.perms},
                  {"path", s.region.path},
                  {"bytes", s.region.end - s.region.start},
                  {"reason", s.reason}});
  }
  return j;
}

namespace {

using SmapsIndex = std::vector<SmapsUsage>;

const SmapsUsage* usage_of(const SmapsIndex& usage, uint64_t start) {
  auto it = std::lower_bound(usage.begin(), usage.end(), start,
                             [](const SmapsUsage& u, uint64_t s) { return u.start < s; });
  return it != usage.end() && it->start == start ? &*it : nullptr;
}

// One segment per mapping; the reason says why one is kept empty.
std::vector<CoreSegment> plan_segments(int pid, const std::vector<host::MapRegion>& regions,
                                       const SmapsIndex& usage, const CoreOptions& opt) {
  static const host::Mounts mounts = host::Mounts::load();
  MemReader probe(pid, open_mem(opt.proc_root, pid));
  std::vector<CoreSegment> out;
  for (const auto& r : regions) {
    CoreSegment s;
    s.region = r;
    s.reason = host::region_skip_reason(r);
    // A page of a file on FUSE is read by asking its server, which may be this frozen target or
    // its child: the read would wait for ever.
    if (s.reason.empty() && r.inode != 0 && fuse_backed(r, mounts))
      s.reason = "mapped from a FUSE file system (its server may be frozen): not read";
    if (s.reason.empty() && opt.deadline.expired()) s.reason = "not read: " + opt.deadline.reason();
    if (s.reason.empty() && anonymous(r)) {
      const SmapsUsage* u = usage_of(usage, r.start);
      if (u && u->rss_kb == 0 && u->swap_kb == 0)
        s.reason = "untouched anonymous memory (no resident or swapped page: zeros)";
    }
    if (s.reason.empty() && r.end > r.start && !probe.probe(r.start))
      s.reason = "unreadable (first page cannot be read)";
    if (s.reason.empty()) s.file_size = r.end - r.start;
    if (const SmapsUsage* u = usage_of(usage, r.start))
      s.resident = (u->rss_kb + u->swap_kb) * 1024;
    if (s.file_size && private_anonymous(r))
      s.sparse = !usage_of(usage, r.start) || s.resident < s.file_size;
    out.push_back(std::move(s));
  }
  return out;
}

// Splitting sparse mappings (collector/core.h): the address space whose page map may be read
// (8 bytes a page: 256 GiB is 512 MiB of map, about half a second), the pieces all of them may
// become (a program header each), and the shortest untouched run that becomes a hole.
constexpr uint64_t kSplitBudget = 256ull << 30;
constexpr size_t kMaxPieces = 1u << 18;
constexpr uint64_t kMinHolePages = 4;

using Runs = std::vector<std::pair<uint64_t, uint64_t>>;  // [start, end) of touched pages

// Merges runs closer than `gap` bytes, in place.
void merge_runs(Runs& runs, uint64_t gap) {
  size_t w = 0;
  for (size_t i = 1; i < runs.size(); ++i) {
    if (runs[i].first - runs[w].second < gap)
      runs[w].second = runs[i].second;
    else
      runs[++w] = runs[i];
  }
  if (!runs.empty()) runs.resize(w + 1);
}

// The touched runs of [start, end) as the page map says, untouched gaps shorter than
// kMinHolePages merged in; past `max_runs` the merged gap doubles. nullopt: the map could not
// be read, or the deadline came.
std::optional<Runs> touched_runs(const PageMap& pm, uint64_t start, uint64_t end, size_t max_runs,
                                 const CoreOptions& opt) {
  const uint64_t page = PageMap::kPage;
  const uint64_t chunk = (1u << 17) * page;  // 1 MiB of map a read
  uint64_t gap = kMinHolePages * page;
  std::vector<uint64_t> entries;
  Runs runs;
  for (uint64_t addr = start; addr < end; addr += chunk) {
    if (opt.deadline.expired()) return std::nullopt;
    uint64_t len = std::min(chunk, end - addr);
    if (!pm.read(addr, static_cast<size_t>(len), entries)) return std::nullopt;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (!PageMap::holds_data(entries[i])) continue;
      uint64_t a = addr + i * page;
      if (!runs.empty() && a - runs.back().second < gap)
        runs.back().second = a + page;
      else
        runs.emplace_back(a, a + page);
    }
    while (runs.size() > std::max<size_t>(max_runs, 1)) merge_runs(runs, gap *= 2);
  }
  return runs;
}

// A sparse segment as its pieces: a hole before each touched run, the run, a hole at the end.
std::vector<CoreSegment> pieces_of(const CoreSegment& s, const Runs& runs) {
  std::vector<CoreSegment> out;
  auto piece = [&](uint64_t a, uint64_t b, bool touched) {
    CoreSegment p = s;
    p.region.start = a;
    p.region.end = b;
    p.file_size = touched ? b - a : 0;
    p.sparse = touched;
    p.hole = !touched;
    if (!touched) p.reason = "untouched anonymous pages (page map: zeros)";
    out.push_back(std::move(p));
  };
  uint64_t at = s.region.start;
  for (const auto& [a, b] : runs) {
    if (a > at) piece(at, a, false);
    piece(a, b, true);
    at = b;
  }
  if (at < s.region.end) piece(at, s.region.end, false);
  return out;
}

// Splits the sparse segments, smallest first, within kSplitBudget and kMaxPieces. One past the
// budget is dumped whole (zeros written for its untouched pages) when at least half of it is
// resident, else listed with the reason: a target's vast reservation cannot fill the disk.
void split_sparse(int pid, std::vector<CoreSegment>& segs, const CoreOptions& opt) {
  std::vector<size_t> order;
  for (size_t i = 0; i < segs.size(); ++i)
    if (segs[i].sparse && segs[i].file_size) order.push_back(i);
  if (order.empty()) return;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return segs[a].file_size < segs[b].file_size; });
  PageMap pm(opt.proc_root, pid);
  uint64_t budget = kSplitBudget;
  size_t pieces = segs.size();
  std::vector<std::optional<std::vector<CoreSegment>>> split(segs.size());
  for (size_t i : order) {
    CoreSegment& s = segs[i];
    if (s.file_size > budget) {
      if (s.resident < s.file_size / 2) {
        s.reason = "sparse anonymous memory of " + std::to_string(s.file_size) + " bytes, " +
                   std::to_string(s.resident) +
                   " resident, past the page-map budget (256 GiB of sparse memory): not dumped";
        s.file_size = 0;
        s.sparse = false;
      }
      continue;
    }
    budget -= s.file_size;
    size_t room = kMaxPieces > pieces ? (kMaxPieces - pieces) / 2 : 0;
    auto runs = touched_runs(pm, s.region.start, s.region.end, room, opt);
    if (!runs) continue;  // read whole, zeros as the map says at write time
    split[i] = pieces_of(s, *runs);
    pieces += split[i]->size() - 1;
  }
  std::vector<CoreSegment> out;
  out.reserve(pieces);
  for (size_t i = 0; i < segs.size(); ++i) {
    if (!split[i]) {
      out.push_back(std::move(segs[i]));
      continue;
    }
    for (auto& p : *split[i]) out.push_back(std::move(p));
  }
  segs = std::move(out);
}

// Every thread's registers (ptrace), while the process is frozen; the plan says where they came
// from.
std::vector<Regs> plan_registers(int pid, const std::vector<int>& tids, const CoreOptions& opt,
                                 CorePlan& plan) {
  std::vector<Regs> regs;
  std::string first_problem;
  for (int tid : tids) {
    Regs r;
    if (opt.deadline.expired())
      r.problem = "registers not read: " + opt.deadline.reason();
    else if (opt.registers)
      r = thread_registers(pid, tid);
    else
      r.problem = "registers not requested";
    if (!r.have && first_problem.empty()) first_problem = r.problem;
    plan.threads.push_back({tid, r.have, r.problem});
    regs.push_back(r);
  }
  size_t with_regs = 0;
  for (const auto& t : plan.threads) with_regs += t.registers;
  if (with_regs == tids.size() && !tids.empty())
    plan.registers_source = "ptrace";
  else if (with_regs > 0)
    plan.registers_source = "ptrace for " + std::to_string(with_regs) + " of " +
                            std::to_string(tids.size()) + " threads (" + first_problem + ")";
  else
    plan.registers_source = "none: zero registers (" +
                            (tids.empty() ? std::string("no threads listed") : first_problem) + ")";
  return regs;
}

elf_prpsinfo prpsinfo(int pid, const host::ProcStat& stat, const CoreOptions& opt) {
  auto ids = read_ids(opt.proc_root, pid).value_or(ProcIds{});
  elf_prpsinfo ps{};
  ps.pr_state = 0;
  ps.pr_sname = stat.state;
  ps.pr_zomb = stat.state == 'Z';
  ps.pr_nice = static_cast<char>(stat.nice);
  ps.pr_uid = ids.uid;
  ps.pr_gid = ids.gid;
  ps.pr_pid = pid;
  ps.pr_ppid = stat.ppid;
  ps.pr_pgrp = stat.pgrp;
  ps.pr_sid = stat.session;
  std::strncpy(ps.pr_fname, stat.comm.c_str(), sizeof ps.pr_fname - 1);
  std::string args;
  if (auto c = read_proc_file(opt.proc_root + "/" + std::to_string(pid) + "/cmdline", 4096)) {
    args = *c;
    while (!args.empty() && args.back() == '\0') args.pop_back();
    std::replace(args.begin(), args.end(), '\0', ' ');
  }
  std::strncpy(ps.pr_psargs, args.c_str(), sizeof ps.pr_psargs - 1);
  return ps;
}

// The notes in the kernel's order, which gdb expects (each NT_PRFPREG follows its NT_PRSTATUS):
// the first thread's status, NT_PRPSINFO, NT_AUXV, NT_FILE, its FP registers, then the others.
std::string core_notes(int pid, const host::ProcStat& stat, const std::vector<int>& tids,
                       const std::vector<Regs>& regs, const std::vector<host::MapRegion>& regions,
                       const CoreOptions& opt) {
  std::string notes;
  const long hz = ::sysconf(_SC_CLK_TCK);
  auto prstatus = [&](size_t i) {
    elf_prstatus st{};
    auto ts = read_task_stat(opt.proc_root, pid, tids[i]);
    st.pr_pid = tids[i];
    st.pr_ppid = stat.ppid;
    st.pr_pgrp = stat.pgrp;
    st.pr_sid = stat.session;
    if (ts) {
      st.pr_utime.tv_sec = static_cast<time_t>(ts->utime / hz);
      st.pr_stime.tv_sec = static_cast<time_t>(ts->stime / hz);
    }
    std::memcpy(&st.pr_reg, &regs[i].gregs, sizeof st.pr_reg);
    st.pr_fpvalid = regs[i].have_fp ? 1 : 0;
    put_note(notes, NT_PRSTATUS, "CORE", &st, sizeof st);
  };
  auto fpregs = [&](size_t i) {
    if (regs[i].have_fp)
      put_note(notes, NT_PRFPREG, "CORE", &regs[i].fpregs, sizeof(elf_fpregset_t));
  };
  if (!tids.empty()) prstatus(0);
  elf_prpsinfo ps = prpsinfo(pid, stat, opt);
  put_note(notes, NT_PRPSINFO, "CORE", &ps, sizeof ps);
  const std::string dir = opt.proc_root + "/" + std::to_string(pid);
  if (auto auxv = read_proc_file(dir + "/auxv", 1 << 16); auxv && !auxv->empty())
    put_note(notes, NT_AUXV, "CORE", auxv->data(), auxv->size());
  std::string f = nt_file_desc(regions, static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)));
  put_note(notes, NT_FILE, "CORE", f.data(), f.size());
  if (!tids.empty()) fpregs(0);
  for (size_t i = 1; i < tids.size(); ++i) {
    prstatus(i);
    fpregs(i);
  }
  return notes;
}

// Offsets of every segment, after the cap: the highest-priority regions keep their bytes.
// More than 65534 program headers need the PN_XNUM escape (count in section 0).
void lay_out(CorePlan& plan, uint64_t max_size) {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t phnum = 1 + plan.segments.size();
  const bool xnum = phnum >= PN_XNUM;
  plan.headers_size =
      sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr) + (xnum ? sizeof(Elf64_Shdr) : 0);
  const uint64_t data_start = align_up(plan.headers_size + plan.notes.size(), page);
  if (max_size) {
    uint64_t budget = max_size > data_start ? max_size - data_start : 0;
    for (int prio = 0; prio <= 2; ++prio) {
      for (auto& s : plan.segments) {
        if (!s.file_size || priority(s.region) != prio) continue;
        if (s.file_size <= budget) {
          budget -= s.file_size;
        } else {
          s.file_size = 0;
          s.reason = "over the core size cap (--max-core-size)";
        }
      }
    }
  }
  uint64_t off = data_start;
  for (auto& s : plan.segments) {
    s.file_offset = off;
    off += s.file_size;
  }
  plan.size = off;
}

}  // namespace

CorePlan plan_core(int pid, const CoreOptions& opt) {
  const std::string dir = opt.proc_root + "/" + std::to_string(pid);
  auto stat = read_stat(opt.proc_root, pid);
  if (!stat) throw Error(dir + ": no such process");
  if (stat->state == 'Z' || stat->state == 'X')
    throw Error(dir + ": zombie, no memory left to dump");
  auto maps_text = read_proc_file(dir + "/maps", 256u << 20);
  if (!maps_text) throw system_error(dir + "/maps", errno);
  auto regions = host::parse_maps(*maps_text);
  SmapsIndex usage;
  if (auto sm = read_proc_file(dir + "/smaps", 512u << 20)) usage = parse_smaps(*sm);
  host::Watchdog watchdog(opt.deadline);  // a probe or a ptrace wait that blocks returns EINTR

  CorePlan plan;
  plan.pid = pid;
  plan.segments = plan_segments(pid, regions, usage, opt);
  split_sparse(pid, plan.segments, opt);
  const auto tids = thread_ids(opt.proc_root, pid);
  std::vector<Regs> regs = plan_registers(pid, tids, opt, plan);
  plan.notes = core_notes(pid, *stat, tids, regs, regions, opt);
  lay_out(plan, opt.max_size);
  return plan;
}

namespace {

// The ELF header, the program headers (PT_NOTE, then one PT_LOAD per segment), the notes, and the
// padding up to the first segment's bytes.
std::string core_headers(const CorePlan& plan) {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t phnum = 1 + plan.segments.size();
  const bool xnum = phnum >= PN_XNUM;
  std::string head;
  head.reserve(plan.headers_size + plan.notes.size());

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
  eh.e_type = ET_CORE;
  eh.e_machine = kMachine;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = xnum ? PN_XNUM : static_cast<Elf64_Half>(phnum);
  if (xnum) {
    eh.e_shoff = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 1;
  }
  head.append(reinterpret_cast<const char*>(&eh), sizeof eh);

  Elf64_Phdr note{};
  note.p_type = PT_NOTE;
  note.p_offset = plan.headers_size;
  note.p_filesz = plan.notes.size();
  head.append(reinterpret_cast<const char*>(&note), sizeof note);
  for (const auto& s : plan.segments) {
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_flags = phdr_flags(s.region.perms);
    ph.p_offset = s.file_offset;
    ph.p_vaddr = s.region.start;
    ph.p_filesz = s.file_size;
    ph.p_memsz = s.region.end - s.region.start;
    ph.p_align = page;
    head.append(reinterpret_cast<const char*>(&ph), sizeof ph);
  }
  if (xnum) {
    Elf64_Shdr sh{};
    sh.sh_info = static_cast<Elf64_Word>(phnum);
    head.append(reinterpret_cast<const char*>(&sh), sizeof sh);
  }
  head += plan.notes;
  uint64_t data_start =
      plan.segments.empty() ? align_up(head.size(), page) : plan.segments.front().file_offset;
  head.resize(data_start, '\0');
  return head;
}

std::string where_in(const CoreSegment& s, uint64_t pos) {
  char b[96];
  std::snprintf(b, sizeof b, "%llx (segment %llx-%llx)",
                static_cast<unsigned long long>(s.region.start + pos),
                static_cast<unsigned long long>(s.region.start),
                static_cast<unsigned long long>(s.region.end));
  return b;
}

// The segments' bytes: a reader thread fills buffers from the process while the caller's thread
// hashes and writes the previous one, so reading and SHA-256 overlap instead of taking turns.
class SegmentCopy {
 public:
  SegmentCopy(const CorePlan& plan, const CoreOptions& opt) : plan_(plan), opt_(opt) {}

  void run(bundle::StreamOut& out, CoreWriteStats& stats) {
    reader_ = std::thread([this] { read_all(); });
    try {
      write_all(out);
    } catch (...) {
      finish(stats);
      throw;
    }
    finish(stats);
  }

 private:
  struct Buffer {
    std::vector<char> data = std::vector<char>(kChunk);
    size_t len = 0;
  };

  void read_all() {
    host::Watchdog watchdog(opt_.deadline);  // a read that waits in the kernel returns EINTR
    MemReader mem(plan_.pid, open_mem(opt_.proc_root, plan_.pid));
    PageMap pages(opt_.proc_root, plan_.pid);
    for (const auto& s : plan_.segments)
      if (!read_segment(s, mem, pages)) break;
    {
      std::lock_guard lk(mu_);
      reader_done_ = true;
    }
    cv_.notify_all();
  }

  // False when the copy stops here: the deadline, the process gone, or the writer stopping.
  bool read_segment(const CoreSegment& s, MemReader& mem, const PageMap& pages) {
    for (uint64_t pos = 0; pos < s.file_size;) {
      if (opt_.deadline.expired()) {
        rstats_.abandoned = true;
        rstats_.stopped_at = "abandoned (" + opt_.deadline.reason() + ") at " + where_in(s, pos);
        return false;
      }
      size_t idx;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return stop_ || !free_q_.empty(); });
        if (stop_) return false;
        idx = free_q_.front();
        free_q_.pop_front();
      }
      size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, s.file_size - pos));
      if (!read_chunk(s, s.region.start + pos, bufs_[idx].data.data(), n, mem, pages)) {
        rstats_.process_gone = true;
        rstats_.stopped_at = "process exited while reading " + where_in(s, pos);
        return false;
      }
      bufs_[idx].len = n;
      {
        std::lock_guard lk(mu_);
        full_q_.push_back(idx);
      }
      cv_.notify_all();
      pos += n;
    }
    return true;
  }

  // [addr, addr + n) of segment `s` into buf: from the process, except in a sparse segment the
  // pages pagemap shows holding nothing, which are zeros not asked for. False: process gone.
  bool read_chunk(const CoreSegment& s, uint64_t addr, char* buf, size_t n, MemReader& mem,
                  const PageMap& pages) {
    if (!s.sparse || !pages.read(addr, n, entries_)) {
      if (!mem.read(addr, buf, n, rstats_, opt_.proc_root)) return false;
      rstats_.bytes_read += n;
      return true;
    }
    for (size_t i = 0; i < entries_.size();) {
      const bool data = PageMap::holds_data(entries_[i]);
      size_t j = i + 1;
      while (j < entries_.size() && PageMap::holds_data(entries_[j]) == data) ++j;
      const size_t off = i * PageMap::kPage, len = (j - i) * PageMap::kPage;
      if (data) {
        if (!mem.read(addr + off, buf + off, len, rstats_, opt_.proc_root)) return false;
        rstats_.bytes_read += len;
      } else {
        std::memset(buf + off, 0, len);
        rstats_.untouched_bytes += len;
      }
      i = j;
    }
    return true;
  }

  void write_all(bundle::StreamOut& out) {
    for (;;) {
      size_t idx;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return !full_q_.empty() || reader_done_; });
        if (full_q_.empty()) return;
        idx = full_q_.front();
        full_q_.pop_front();
      }
      size_t n = bufs_[idx].len;
      // Handed on in slices that stay in the CPU cache between hashing and copying out.
      for (size_t off = 0; off < n; off += kSlice) {
        size_t len = std::min(kSlice, n - off);
        if (out.write(bufs_[idx].data.data() + off, len) < len) return;  // member full
      }
      {
        std::lock_guard lk(mu_);
        free_q_.push_back(idx);
      }
      cv_.notify_all();
    }
  }

  void finish(CoreWriteStats& stats) {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    reader_.join();
    stats.bytes_read += rstats_.bytes_read;
    stats.unreadable_bytes += rstats_.unreadable_bytes;
    stats.unreadable_ranges += rstats_.unreadable_ranges;
    stats.untouched_bytes += rstats_.untouched_bytes;
    stats.process_gone = rstats_.process_gone;
    stats.abandoned = rstats_.abandoned;
    stats.stopped_at = rstats_.stopped_at;
  }

  const CorePlan& plan_;
  const CoreOptions& opt_;
  std::vector<Buffer> bufs_ = std::vector<Buffer>(3);
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<size_t> free_q_ = {0, 1, 2}, full_q_;
  bool reader_done_ = false, stop_ = false;
  CoreWriteStats rstats_;          // the reader's, merged at the end
  std::vector<uint64_t> entries_;  // the reader's pagemap entries of one chunk
  std::thread reader_;
};

}  // namespace

void write_core(const CorePlan& plan, const CoreOptions& opt, bundle::StreamOut& out,
                CoreWriteStats& stats) {
  std::string head = core_headers(plan);
  if (out.write(head.data(), head.size()) < head.size()) return;
  SegmentCopy(plan, opt).run(out, stats);
}

}  // namespace forage::collector
