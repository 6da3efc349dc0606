// The ELF core writer against a real forked child (a marker in its heap, a second thread), read
// back with <elf.h>; the /proc parsers against saved samples and hostile text.
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "collector/core.h"
#include "common/error.h"
#include "common/file.h"
#include "host/proc.h"

using namespace forage;
using namespace forage::collector;
using namespace forage::host;

namespace {

constexpr char kMarker[] = "CORE-TEST-MARKER-51e2";

// A child with the marker in its heap and one extra thread, stopped with SIGSTOP like the
// Freezer does. The pipe tells the parent the marker's address.
class Child {
 public:
  Child() {
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[0]);
      char* m = static_cast<char*>(std::malloc(64));
      std::strcpy(m, kMarker);
      pthread_t t;
      pthread_create(
          &t, nullptr,
          [](void*) -> void* {
            for (;;) ::pause();
          },
          nullptr);
      uint64_t a = reinterpret_cast<uint64_t>(m);
      if (::write(fds[1], &a, sizeof a) != sizeof a) _exit(1);
      for (;;) ::pause();
    }
    ::close(fds[1]);
    if (::read(fds[0], &addr_, sizeof addr_) != sizeof addr_) addr_ = 0;
    ::close(fds[0]);
    ::kill(pid_, SIGSTOP);
    for (int i = 0; i < 200; ++i) {
      auto s = read_stat("/proc", pid_);
      if (s && s->state == 'T') break;
      ::usleep(5000);
    }
  }
  ~Child() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  int pid() const { return pid_; }
  uint64_t addr() const { return addr_; }

 private:
  int pid_ = -1;
  uint64_t addr_ = 0;
};

struct StringOut : bundle::StreamOut {
  std::string data;
  uint64_t cap;
  explicit StringOut(uint64_t c) : cap(c) {}
  size_t write(const void* p, size_t n) override {
    size_t take = static_cast<size_t>(std::min<uint64_t>(n, cap - data.size()));
    data.append(static_cast<const char*>(p), take);
    return take;
  }
  uint64_t remaining() const override { return cap - data.size(); }
};

template <typename T>
T at(const std::string& s, uint64_t off) {
  T v;
  if (off + sizeof v > s.size()) throw std::out_of_range("past the core");
  std::memcpy(&v, s.data() + off, sizeof v);
  return v;
}

}  // namespace

TEST(Core, ChildCoreHasMarkerThreadsAndNotes) {
  Child c;
  ASSERT_NE(c.addr(), 0u);
  CoreOptions opt;
  CorePlan plan = plan_core(c.pid(), opt);
  EXPECT_EQ(plan.threads.size(), 2u);
  EXPECT_EQ(plan.registers_source, "ptrace");
  // Reading the registers must leave the child stopped (back in its group stop).
  EXPECT_EQ(read_stat("/proc", c.pid())->state, 'T');
  EXPECT_EQ(read_task_stat("/proc", c.pid(), plan.threads[1].tid)->state, 'T');

  StringOut out(plan.size);
  CoreWriteStats stats;
  write_core(plan, opt, out, stats);
  ASSERT_EQ(out.data.size(), plan.size);
  EXPECT_FALSE(stats.process_gone);

  auto eh = at<Elf64_Ehdr>(out.data, 0);
  EXPECT_EQ(std::memcmp(eh.e_ident, ELFMAG, SELFMAG), 0);
  EXPECT_EQ(eh.e_type, ET_CORE);
  ASSERT_EQ(eh.e_phnum, plan.segments.size() + 1);

  bool found_marker = false;
  int prstatus = 0, prpsinfo = 0, auxv = 0, file = 0;
  for (int i = 0; i < eh.e_phnum; ++i) {
    auto ph = at<Elf64_Phdr>(out.data, eh.e_phoff + i * sizeof(Elf64_Phdr));
    if (ph.p_type == PT_NOTE) {
      uint64_t off = ph.p_offset, end = ph.p_offset + ph.p_filesz;
      while (off < end) {
        auto nh = at<Elf64_Nhdr>(out.data, off);
        uint64_t desc = off + sizeof nh + ((nh.n_namesz + 3) & ~3u);
        if (nh.n_type == NT_PRSTATUS) {
          ++prstatus;
          auto st = at<elf_prstatus>(out.data, desc);
          if (prstatus == 1) {
            EXPECT_EQ(st.pr_pid, c.pid());  // the leader first
          }
        }
        prpsinfo += nh.n_type == NT_PRPSINFO;
        auxv += nh.n_type == NT_AUXV;
        file += nh.n_type == NT_FILE;
        off = desc + ((nh.n_descsz + 3) & ~3u);
      }
    } else if (ph.p_type == PT_LOAD && ph.p_vaddr <= c.addr() &&
               c.addr() + sizeof kMarker <= ph.p_vaddr + ph.p_filesz) {
      found_marker =
          out.data.compare(ph.p_offset + (c.addr() - ph.p_vaddr), sizeof kMarker - 1, kMarker) == 0;
    }
  }
  EXPECT_TRUE(found_marker);
  EXPECT_EQ(prstatus, 2);
  EXPECT_EQ(prpsinfo, 1);
  EXPECT_EQ(auxv, 1);
  EXPECT_EQ(file, 1);
}

// A child holding an anonymous mapping of `len` bytes (huge pages off) with the first page of
// every `stride` pages touched (0x5a), stopped; its address.
struct SparseChild {
  pid_t pid = -1;
  uint64_t addr = 0;
  SparseChild(size_t len, size_t stride) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid = ::fork();
    if (pid == 0) {
      auto* m =
          static_cast<unsigned char*>(::mmap(nullptr, len, PROT_READ | PROT_WRITE,
                                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
      if (m == MAP_FAILED) _exit(1);
      ::madvise(m, len, MADV_NOHUGEPAGE);  // a huge page would make every page present
      for (size_t off = 0; off < len; off += stride * 4096) std::memset(m + off, 0x5a, 4096);
      uint64_t a = reinterpret_cast<uint64_t>(m);
      if (::write(fds[1], &a, sizeof a) != sizeof a) _exit(1);
      for (;;) ::pause();
    }
    ::close(fds[1]);
    if (::read(fds[0], &addr, sizeof addr) != ssize_t(sizeof addr)) addr = 0;
    ::close(fds[0]);
    ::kill(pid, SIGSTOP);
  }
  ~SparseChild() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  // Pages of [addr, addr + len) present or swapped.
  size_t resident(size_t len) const {
    Fd pm(::open(("/proc/" + std::to_string(pid) + "/pagemap").c_str(), O_RDONLY));
    std::vector<uint64_t> e(len / 4096);
    if (::pread(pm.get(), e.data(), e.size() * 8, off_t(addr / 4096 * 8)) != ssize_t(e.size() * 8))
      return 0;
    return size_t(std::count_if(e.begin(), e.end(), [](uint64_t v) { return v >> 62; }));
  }
};

// The byte at `a` as gdb reads it from the core: a hole reads as zero; -1 outside every segment.
int core_byte(const CorePlan& plan, const std::string& core, uint64_t a) {
  for (const auto& s : plan.segments) {
    if (a < s.region.start || a >= s.region.end) continue;
    if (s.file_size == 0) return s.hole ? 0 : -1;
    return static_cast<unsigned char>(core[s.file_offset + (a - s.region.start)]);
  }
  return -1;
}

CoreOptions without_registers() {
  CoreOptions o;
  o.registers = false;
  return o;
}

// The core of `plan` as collect writes it.
std::string core_of(const CorePlan& plan, const CoreOptions& opt, CoreWriteStats& stats) {
  StringOut out(plan.size);
  write_core(plan, opt, out, stats);
  return std::move(out.data);
}

// Anonymous memory touched one page in 64: the mapping is split as pagemap says, the touched
// pages with their bytes, the untouched runs as holes (no bytes in the core, zeros to gdb), and
// nothing is read from them (nor faulted in: still absent afterwards).
TEST(Core, UntouchedPagesAreHolesNotRead) {
  constexpr size_t kLen = 8u << 20, kPage = 4096, kStride = 64;
  SparseChild c(kLen, kStride);
  ASSERT_NE(c.addr, 0u);
  size_t before = c.resident(kLen);
  ASSERT_EQ(before, kLen / kPage / kStride);
  CoreOptions opt = without_registers();
  CorePlan plan = plan_core(c.pid, opt);
  size_t pieces = 0, holes = 0;
  uint64_t covered = 0;
  for (const auto& s : plan.segments) {
    if (s.region.start < c.addr || s.region.end > c.addr + kLen) continue;
    ++pieces;
    covered += s.region.end - s.region.start;
    if (s.hole) {
      ++holes;
      EXPECT_EQ(s.file_size, 0u);
    } else {
      EXPECT_EQ(s.file_size, kPage);  // one touched page
    }
  }
  EXPECT_EQ(covered, kLen);
  EXPECT_EQ(pieces, 2 * kLen / kPage / kStride);  // a page and a hole, 128 times
  EXPECT_EQ(holes, pieces / 2);
  CoreWriteStats stats;
  std::string core = core_of(plan, opt, stats);
  EXPECT_EQ(c.resident(kLen), before);
  ASSERT_EQ(core.size(), plan.size);
  uint64_t dumped = 0;  // of the mapping: the touched pages alone
  for (const auto& s : plan.segments)
    if (s.region.start >= c.addr && s.region.end <= c.addr + kLen) dumped += s.file_size;
  EXPECT_EQ(dumped, kLen / kStride);
  for (size_t p = 0; p < kLen / kPage; ++p) {
    int want = p % kStride == 0 ? 0x5a : 0;
    for (size_t i : {size_t(0), kPage / 2, kPage - 1})
      ASSERT_EQ(core_byte(plan, core, c.addr + p * kPage + i), want) << "page " << p;
  }
  auto j = plan.to_json();
  EXPECT_GE(j["untouched_holes"]["count"].get<size_t>(), holes);  // the stacks have some too
  EXPECT_GE(j["untouched_holes"]["bytes"].get<uint64_t>(), kLen - kLen / kStride);
}

// Short untouched runs (under 4 pages) stay inside the touched run: written as zeros without
// being read.
TEST(Core, ShortUntouchedRunsAreZerosNotRead) {
  constexpr size_t kLen = 8u << 20, kPage = 4096, kStride = 3;
  SparseChild c(kLen, kStride);
  ASSERT_NE(c.addr, 0u);
  size_t before = c.resident(kLen);
  CoreOptions opt = without_registers();
  CorePlan plan = plan_core(c.pid, opt);
  CoreWriteStats stats;
  std::string core = core_of(plan, opt, stats);
  EXPECT_EQ(c.resident(kLen), before);
  EXPECT_GE(stats.untouched_bytes, kLen / kStride * (kStride - 1) - kLen / 64);
  for (size_t p = 0; p < kLen / kPage; ++p)
    ASSERT_EQ(core_byte(plan, core, c.addr + p * kPage + 7), p % kStride == 0 ? 0x5a : 0)
        << "page " << p;
}

// A target's vast reservation with a few pages touched does not make a vast core: 64 GiB with
// 4 pages touched is split (a few KiB of core); 1 TiB, past the page-map budget, is listed and
// not dumped.
TEST(Core, VastSparseReservationsMakeSmallCores) {
  constexpr size_t kPage = 4096;
  {
    constexpr size_t kLen = 64ull << 30;
    SparseChild c(kLen, kLen / kPage / 4);
    ASSERT_NE(c.addr, 0u);
    CoreOptions opt = without_registers();
    CorePlan plan = plan_core(c.pid, opt);
    uint64_t in_mapping = 0;
    for (const auto& s : plan.segments)
      if (s.region.start >= c.addr && s.region.end <= c.addr + kLen) in_mapping += s.file_size;
    EXPECT_EQ(in_mapping, 4 * kPage);
    EXPECT_LT(plan.size, 1ull << 30);
    CoreWriteStats stats;
    std::string core = core_of(plan, opt, stats);
    EXPECT_EQ(core_byte(plan, core, c.addr + kLen / 4), 0x5a);
    EXPECT_EQ(core_byte(plan, core, c.addr + kLen / 4 + kPage), 0);
  }
  {
    constexpr size_t kLen = 1ull << 40;
    SparseChild c(kLen, kLen / kPage / 2);
    ASSERT_NE(c.addr, 0u);
    CoreOptions opt = without_registers();
    CorePlan plan = plan_core(c.pid, opt);
    const CoreSegment* seg = nullptr;
    for (const auto& s : plan.segments)
      if (s.region.start == c.addr) seg = &s;
    ASSERT_NE(seg, nullptr);
    EXPECT_EQ(seg->file_size, 0u);
    EXPECT_NE(seg->reason.find("past the page-map budget"), std::string::npos) << seg->reason;
    EXPECT_LT(plan.size, 1ull << 30);
    EXPECT_NE(plan.to_json().dump().find("past the page-map budget"), std::string::npos);
  }
}

TEST(Core, SizeCapKeepsHeapAndStacksFirst) {
  Child c;
  CoreOptions opt;
  uint64_t heap = 0;
  for (const auto& s : plan_core(c.pid(), opt).segments)
    if (s.region.start <= c.addr() && c.addr() < s.region.end) heap = s.file_size;
  ASSERT_GT(heap, 0u);
  // Room for the heap and the headers, not for the 8 MiB stack of the second thread as well.
  opt.max_size = heap + (2 << 20);
  CorePlan plan = plan_core(c.pid(), opt);
  EXPECT_LE(plan.size, opt.max_size);
  bool capped = false;
  for (const auto& s : plan.segments) {
    if (s.reason.find("size cap") != std::string::npos) capped = true;
    // The heap (the marker's region) is small and goes first.
    if (s.region.start <= c.addr() && c.addr() < s.region.end) {
      EXPECT_GT(s.file_size, 0u);
    }
  }
  EXPECT_TRUE(capped);
  EXPECT_NE(plan.to_json().dump().find("--max-core-size"), std::string::npos);
}

TEST(Core, ProcessExitMidDumpStopsAndSaysWhere) {
  CorePlan plan;
  CoreOptions opt;
  {
    Child c;
    plan = plan_core(c.pid(), opt);
  }  // killed and reaped here
  StringOut out(plan.size);
  CoreWriteStats stats;
  write_core(plan, opt, out, stats);
  EXPECT_TRUE(stats.process_gone);
  EXPECT_NE(stats.stopped_at.find("process exited"), std::string::npos);
  EXPECT_LT(out.data.size(), plan.size);
}

TEST(Core, MissingProcessIsAnError) {
  EXPECT_THROW(plan_core(0x3ffffff0, CoreOptions{}), Error);
}

TEST(Core, NtFileLayout) {
  std::vector<host::MapRegion> r(3);
  r[0] = {0x1000, 0x3000, "r-xp", 0x2000, "08:01", 7, "/bin/x"};
  r[1] = {0x5000, 0x6000, "rw-p", 0, "00:00", 0, "[heap]"};
  r[2] = {0x7000, 0x8000, "r--p", 0, "08:01", 9, "/lib/y (deleted)"};
  std::string d = nt_file_desc(r, 4096);
  ASSERT_EQ(d.size(), 16u + 2 * 24 + 7 + 17);
  EXPECT_EQ(at<uint64_t>(d, 0), 2u);
  EXPECT_EQ(at<uint64_t>(d, 8), 4096u);
  EXPECT_EQ(at<uint64_t>(d, 16), 0x1000u);
  EXPECT_EQ(at<uint64_t>(d, 24), 0x3000u);
  EXPECT_EQ(at<uint64_t>(d, 32), 2u);  // file offset in pages
  EXPECT_EQ(std::string(d.data() + 64), "/bin/x");
  EXPECT_EQ(std::string(d.data() + 71), "/lib/y (deleted)");
}

TEST(Core, SmapsParsing) {
  auto u = parse_smaps(
      "00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/dbus-daemon\n"
      "Size:                328 kB\nRss:                 300 kB\nSwap:                  0 kB\n"
      "7f0000000000-7f0040000000 rw-p 00000000 00:00 0 \n"
      "Rss:                   0 kB\nSwap:                 12 kB\n"
      "garbage line without colon\nRss: notanumber kB\n");
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[0].start, 0x400000u);
  EXPECT_EQ(u[0].rss_kb, 300u);
  EXPECT_EQ(u[1].start, 0x7f0000000000u);
  EXPECT_EQ(u[1].swap_kb, 12u);
  EXPECT_TRUE(parse_smaps("").empty());
  EXPECT_TRUE(parse_smaps(std::string("\0\xff-\n:", 5)).empty());
}

TEST(Procfs, StatWithHostileCommand) {
  auto s = parse_stat(
      "42 (a) b) (c) T 7 42 42 0 -1 4194560 100 0 0 0 11 22 0 0 20 5 3 0 12345 1000 10 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->pid, 42);
  EXPECT_EQ(s->comm, "a) b) (c");
  EXPECT_EQ(s->state, 'T');
  EXPECT_EQ(s->ppid, 7);
  EXPECT_EQ(s->utime, 11u);
  EXPECT_EQ(s->nice, 5);
  EXPECT_EQ(s->num_threads, 3);
  EXPECT_EQ(s->start_ticks, 12345u);
  EXPECT_FALSE(parse_stat(""));
  EXPECT_FALSE(parse_stat("42 (x"));
  EXPECT_FALSE(parse_stat("42 (x) T 1 2"));
  EXPECT_FALSE(parse_stat("x (y) T 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20"));
}

TEST(Procfs, DescendantsDeepestFirst) {
  std::vector<std::pair<int, int>> parents = {{10, 1}, {11, 10}, {12, 11}, {13, 10}, {20, 1}};
  auto d = with_descendants(parents, {10});
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d.front(), 12);
  EXPECT_EQ(d.back(), 10);
  // A cycle in hostile input terminates.
  auto c = with_descendants({{5, 6}, {6, 5}}, {5});
  EXPECT_EQ(c.size(), 2u);
}
