// Logs against the indicators (`forage sweep`, phase "logs"): login logs (auth.log, secure),
// syslog/messages, batch-system logs (Slurm, HTCondor), their rotations (.1, -20261120, .gz) and
// systemd journal files (the DATA objects: every logged field once, uncompressed or zstd).
// Only the indicator types that name who or where a login came from, and which are rare enough in
// ordinary log text to be worth a line: ipv4, ipv6, cidr, username, x509-dn, domain, url, email.
// (A file name such as "kswapd0" is in every kernel log: files are the file scan's business.)
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "host/logs.h"
#include "scanners/ioc_match.h"
#include "scanners/report.h"
#include "scanners/scan_stats.h"

namespace forage::scanners {

struct LogScanOptions {
  // Files or directories (directories: every file below whose name is a known log, recursively,
  // symlinks not followed). Empty: host::default_log_paths().
  std::vector<std::string> paths;
  uint64_t max_line = 64 << 10;  // longer lines are matched in their first bytes only
  size_t max_hits_per_file = 1000;
  // Asked between files and every few thousand lines: true stops the phase (the rest is counted
  // as skipped "budget", which makes the run incomplete).
  std::function<bool()> stop;
  // Called with the bytes read since the last call (sweep's CPU and I/O pacing).
  std::function<void(uint64_t)> pace;
};

// Findings: {"kind":"ioc","path","line","log","match":"log","ioc":{...},"text":"<the line>"};
// journal hits carry "offset" (of the DATA object) instead of "line". Unreadable files are
// counted "unreadable" (incomplete); a journal compressed with XZ or LZ4 objects is counted
// in "journal_objects_skipped".
void scan_logs(const LogScanOptions& opts, const IocIndex& iocs, FindingSink& sink,
               ScanStats& stats);

// One log's text (already decompressed): exposed for the tests.
void scan_log_text(std::string_view text, const std::string& path, const LogScanOptions& opts,
                   const IocIndex& iocs, FindingSink& sink, ScanStats& stats);

// One journal file's bytes. Returns false (after counting the reason) when it is not a journal
// file forage can read.
bool scan_journal_bytes(std::string_view data, const std::string& path, const LogScanOptions& opts,
                        const IocIndex& iocs, FindingSink& sink, ScanStats& stats);

}  // namespace forage::scanners
