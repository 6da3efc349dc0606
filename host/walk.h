// The walk of `scan files` and the sweep's file phase: regular files under the paths given,
// never following a symbolic link, never opening anything but directories (a FIFO or a device is
// counted, not touched), descending by directory fd (each child opened O_NOFOLLOW beneath its
// parent), and staying off pseudo, network and FUSE file systems unless a path given is on one.
// A mount point is recognised from the mount table and statx(AT_STATX_DONT_SYNC) before it is
// entered, so a FUSE file system served by a frozen process is never asked anything.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace forage::host {

struct WalkOptions {
  std::vector<std::string> paths;
  std::vector<std::string> excludes;  // fnmatch globs, matched on the full path and the name
  uint64_t max_size = 0;              // 0: no limit
  bool one_file_system = false;       // stay on the file system of each path given
  int max_depth = -1;                 // subdirectory levels below a path given; -1: no limit
};

struct WalkEntry {
  std::string path;
  uint64_t size = 0;
  dev_t dev = 0;
  ino_t ino = 0;
  uid_t uid = 0;
};

// Hears of what the walk leaves out, by reason: symlink, special (FIFO, socket, device),
// excluded, too-large, duplicate, depth (below max_depth), pseudo-fs, network-fs, other-fs
// (--one-file-system), vanished, unreadable (incomplete = true), loop.
using WalkSkip = std::function<void(const std::string& reason, const std::string& path,
                                    bool incomplete, const std::string& detail)>;

// Every regular file to scan, each (device, inode) once.
std::vector<WalkEntry> walk_files(const WalkOptions& opts, const WalkSkip& skipped);

// fnmatch on the path and on its last component.
bool excluded(const std::string& path, const std::vector<std::string>& globs);

}  // namespace forage::host
