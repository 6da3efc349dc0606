// The walk of `scan files`: regular files under the paths given, never following a symbolic
// link, never opening anything but directories (a FIFO or a device is counted, not touched),
// staying off pseudo and network file systems unless they were named.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "scanners/scan_stats.h"

namespace forage::scanners {

struct WalkOptions {
  std::vector<std::string> paths;
  std::vector<std::string> excludes;  // fnmatch globs, matched on the full path and the name
  uint64_t max_size = 0;              // 0: no limit
  bool one_file_system = false;       // stay on the file system of each path given
};

struct WalkEntry {
  std::string path;
  uint64_t size = 0;
  dev_t dev = 0;
  ino_t ino = 0;
  uid_t uid = 0;
};

// Kinds of file system the walk does not enter unless a path given is on one.
enum class FsKind { kLocal, kPseudo, kNetwork };
FsKind fs_kind(int64_t statfs_type, const std::string& mount_point);

// Every regular file to scan; what is left out is counted in `stats` by reason:
// symlink, special (FIFO, socket, device), excluded, too-large, pseudo-fs, network-fs,
// other-fs (--one-file-system), vanished, unreadable (incomplete), loop.
std::vector<WalkEntry> walk(const WalkOptions& opts, ScanStats& stats);

// fnmatch on the path and on its last component.
bool excluded(const std::string& path, const std::vector<std::string>& globs);

}  // namespace forage::scanners
