// Logs of the live node: which files are logs (auth, syslog, Slurm, HTCondor, journal), where they
// are, and reading them plain, rotated or gzip-compressed. Discovery descends by directory fd
// (host/fs.h), never following a link, never entering a pseudo or FUSE file system.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace forage::host {

class Deadline;

// What kind of log a file is, from its name: "auth", "syslog", "slurm", "condor", "journal";
// empty when it is none of them.
std::string log_kind(std::string_view path);

// The usual places under `root` ("" for the live host): /var/log/{auth.log*,secure*,syslog*,
// messages*}, /var/log/slurm*/, /var/log/condor/, /var/log/journal/, /run/log/journal/.
std::vector<std::string> default_log_paths(const std::string& root = "");

// The log files below `path` (a file is itself; a directory: every file whose name is a known
// log, recursively, `max_depth` levels). `named`: the operator gave this path, so a file is a log
// whatever its name. Links are not followed; `skipped(reason, path, detail)` hears of each link,
// unreadable directory or refused file system.
using SkipSink = std::function<void(std::string_view reason, const std::string& path,
                                    const std::string& detail)>;
std::vector<std::string> find_logs(const std::string& path, bool named, const SkipSink& skipped,
                                   int max_depth = 8);

// True when the file starts with the gzip magic (1f 8b).
bool is_gzip(int fd);

// Streams gzip data (several members too, as logrotate's delaycompress concatenations are) from
// `fd` through `sink` (false: stop), at most `max` output bytes. Returns "" at the end of the
// data, else why it stopped early: "corrupt gzip data: ...", "gzip data cut short", "stopped
// after N MiB", "stopped", a read error, or the deadline's reason.
std::string gunzip(int fd, uint64_t max, const std::function<bool(const char*, size_t)>& sink,
                   const Deadline* deadline = nullptr);

}  // namespace forage::host
