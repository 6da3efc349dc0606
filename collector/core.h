// A live process's memory as an ELF core file that gdb opens, streamed (bundle::StreamOut) with
// its size known before the first byte: the plan is made from /proc/PID/maps (and smaps) while the
// process is frozen, then headers, notes and segments are written in one pass.
//
// Layout: ELF header, program headers (PT_NOTE, then one PT_LOAD per mapping at its virtual
// address), the notes (per thread NT_PRSTATUS + NT_PRFPREG, NT_PRPSINFO, NT_AUXV, NT_FILE), then
// the segment bytes. A region that cannot or should not be read (vvar, vsyscall, a device, no read
// permission, an untouched anonymous mapping, over the size cap, EIO on its first page) is still a
// PT_LOAD, with p_filesz 0, and is listed in the plan with the reason.
//
// Private anonymous memory (heap, stacks, anonymous mappings) that smaps says is only partly
// resident or swapped is split as /proc/PID/pagemap says, while planning: each run of touched
// pages is a PT_LOAD with its bytes, each run of never-touched pages (4 pages or more) a PT_LOAD
// with p_filesz 0, which gdb reads as zeros. A shorter untouched run inside a touched one is
// written as zeros without being read. So the dump faults in nothing in the target, a sparse
// mapping costs what it holds (a target's 16 TiB reservation with one page touched gives a
// small core, not 16 TiB of zeros), and a page behind a userfaultfd (which would wait for the
// frozen target's own handler) is never asked for. The page map is read for at most 256 GiB of
// such mappings, smallest first, in at most 262,144 pieces (past that the merged runs grow);
// a larger mapping mostly untouched is listed, not dumped (tests/integration/test_core_holes.sh).
//
// Registers come from ptrace (PTRACE_SEIZE + PTRACE_INTERRUPT + PTRACE_GETREGSET, then detach:
// a SIGSTOPped process stays stopped). If ptrace is refused the notes carry zero registers and
// the plan says why.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bundle/writer.h"
#include "host/deadline.h"
#include "host/proc.h"

namespace forage::collector {

struct CoreOptions {
  std::string proc_root = "/proc";
  uint64_t max_size = 0;  // cap on the core's size in bytes; 0: none
  bool registers = true;  // read registers with ptrace
  // The dump stops here (the rest of the core is zero-filled and the stats say so): a target
  // that maps a file of a stalled file system cannot hold the collection.
  host::Deadline deadline;
};

struct CoreSegment {
  host::MapRegion region;
  uint64_t file_offset = 0;  // in the core
  uint64_t file_size = 0;    // 0: not dumped (reason says why)
  std::string reason;
  bool sparse = false;    // private anonymous, partly untouched: read as /proc/PID/pagemap says
  bool hole = false;      // an untouched run of a split region: no bytes, reads as zeros
  uint64_t resident = 0;  // bytes resident or swapped (smaps) of the whole mapping
};

struct CoreThread {
  int tid = 0;
  bool registers = false;  // false: zero registers in the note
  std::string problem;     // why there are no registers
};

struct CorePlan {
  int pid = 0;
  std::vector<CoreSegment> segments;
  std::vector<CoreThread> threads;
  std::string notes;  // the PT_NOTE bytes, complete
  uint64_t headers_size = 0;
  uint64_t size = 0;             // the whole core file
  std::string registers_source;  // "ptrace" or "none: <reason>"

  uint64_t dumped_bytes() const;
  nlohmann::ordered_json to_json() const;  // segments skipped, threads, sizes
};

// What happened while the memory was read.
struct CoreWriteStats {
  uint64_t bytes_read = 0;        // memory bytes read from the process
  uint64_t unreadable_bytes = 0;  // zero-filled after a read error inside a dumped segment
  uint64_t unreadable_ranges = 0;
  uint64_t untouched_bytes = 0;  // zeros for pages never touched (pagemap), not read
  bool process_gone = false;     // the process exited mid-dump: the rest is padding
  bool abandoned = false;        // the deadline came first: the rest is padding
  std::string stopped_at;        // where the dump stopped early, "" when it went to the end
};

// Plans the core of `pid` (frozen for a consistent picture). Throws forage::Error when the process
// does not exist or its maps cannot be read.
CorePlan plan_core(int pid, const CoreOptions& options);

// Writes plan.size bytes (or stops early when the process goes away: the caller's member is then
// zero-padded). Output errors propagate.
void write_core(const CorePlan& plan, const CoreOptions& options, bundle::StreamOut& out,
                CoreWriteStats& stats);

// The NT_FILE note descriptor for these regions (file-backed ones only); exposed for tests.
std::string nt_file_desc(const std::vector<host::MapRegion>& regions, uint64_t page_size);

// Smaps "Rss:" and "Swap:" of each region, in kB, keyed by start address. Parsed from text so
// tests can feed saved samples; bad lines are skipped.
struct SmapsUsage {
  uint64_t start = 0;
  uint64_t rss_kb = 0, swap_kb = 0;
};
std::vector<SmapsUsage> parse_smaps(std::string_view text);

}  // namespace forage::collector
