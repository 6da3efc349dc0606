// The file-system side of reading a live node that fights back (DESIGN.md "Rules for the code").
//
//   - descend by directory fd: below a base directory every open is one openat2() with
//     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV (kernel 5.6+),
//     else one O_NOFOLLOW|O_DIRECTORY openat() per component with a device check after each;
//   - open with O_NONBLOCK|O_NOFOLLOW|O_NOCTTY (a FIFO, a tty or a link never stalls or
//     redirects the reader), fstat before reading, read regular files only;
//   - refuse pseudo file systems (proc, sysfs, debugfs, tracefs, securityfs, cgroup, bpf, devpts,
//     ...) and FUSE unless named: a FUSE server may be a frozen target, and asking it anything
//     would wait forever. Mount points are recognised from /proc/self/mountinfo and statx() with
//     AT_STATX_DONT_SYNC, which never sends a request to the file system's server;
//   - read sparse files by their data (SEEK_DATA/SEEK_HOLE), within a byte budget.
//
// Errors are values here (an errno and a reason), never exceptions: a walk records what it could
// not read and goes on.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/file.h"

namespace forage::host {

class Deadline;

// Kinds of file system: local ones are read; pseudo ones never; network and FUSE ones only when
// a path given by the operator is on one.
enum class FsKind { kLocal, kPseudo, kNetwork, kFuse };
std::string_view fs_kind_name(FsKind k);

// From statfs(2) f_type; devtmpfs reports the tmpfs magic, so /dev is told by its mount point.
FsKind fs_kind(int64_t statfs_type, const std::string& mount_point);
// From the file-system type of /proc/self/mountinfo ("proc", "fuse.sshfs", "nfs4", ...).
FsKind fs_kind_of_type(std::string_view fstype, std::string_view mount_point = {});

// The mount table, read once: device number -> file-system type, mount point.
class Mounts {
 public:
  struct Mount {
    std::string point, fstype;
    FsKind kind = FsKind::kLocal;
  };
  static Mounts load(const std::string& mountinfo = "/proc/self/mountinfo");
  static Mounts parse(std::string_view mountinfo_text);
  // nullptr when the device is not in the table (btrfs subvolumes report their own devices).
  const Mount* find(dev_t dev) const;
  FsKind kind(dev_t dev) const;  // kLocal when unknown
  size_t size() const { return by_dev_.size(); }

 private:
  std::map<dev_t, Mount> by_dev_;
};


// What lstat of an entry shows, taken without following it and without asking a FUSE server.
struct Entry {
  struct stat st {};
  bool mount_root = false;  // the entry is the root of another mount
  int err = 0;              // errno when it could not be looked at
};
Entry peek(int dirfd, const std::string& name);

// A descriptor with the error that replaced it: `why` is a short reason for the action log.
struct Opened {
  Fd fd;
  struct stat st {};
  int err = 0;
  std::string why;
  explicit operator bool() const { return static_cast<bool>(fd); }
};

// Opens the directory `rel` (one or more components, no "..") below `dirfd` without following a
// link, a magic link or crossing into another file system.
Opened open_dir_beneath(int dirfd, std::string_view rel);
// Opens the regular file `rel` below `dirfd` under the same rules, O_NONBLOCK|O_NOCTTY,
// O_NOATIME when permitted; anything but a regular file on a readable file system is refused.
Opened open_file_beneath(int dirfd, std::string_view rel, const Mounts* mounts = nullptr);
// A base directory named by forage or by root-controlled data (a home in /etc/passwd): the path
// is followed as the kernel resolves it (a site's /home -> /data/home), but a base on a pseudo
// or FUSE file system is refused before it is touched.
Opened open_base_dir(const std::string& path, const Mounts& mounts);
// A file named by something a user controls (X509_USER_PROXY, _CONDOR_JOB_AD): opened without
// following a last-component link, non-blocking, regular files on readable file systems only.
Opened open_named_file(const std::string& path, const Mounts* mounts = nullptr);

// A file a process holds, through its /proc magic link (/proc/PID/exe, /proc/PID/fd/N): the link
// is followed (that is its point: it reaches a deleted or replaced file), but the file is looked
// at with stat() first and opened only when it is a regular file, non-blocking, so a FIFO, a tty
// or a device the process holds is never opened.
Opened open_process_file(const std::string& magic_link);

// Reads up to `max` bytes of a regular file from `off` (pread, EINTR-safe); holes are not read
// from disk (SEEK_DATA) but filled with zeros. Stops early at the deadline.
std::string read_range(int fd, uint64_t off, uint64_t max, const Deadline* deadline = nullptr);
// Reads a whole small regular file named by something a user controls (see open_named_file);
// larger than `max` is an error. Throws forage::Error("<path>: <reason>").
std::string read_named_file(const std::string& path, uint64_t max, const Mounts* mounts = nullptr);

// SHA-256 of the first `max` bytes (all of it when smaller); `*hashed` gets the byte count.
// Holes are hashed as the zeros they read as, without reading the disk.
std::string sha256_prefix(int fd, uint64_t max, uint64_t* hashed, const Deadline* deadline = nullptr);

// Bytes of data actually stored (st_blocks * 512), for "sparse" notes.
inline uint64_t allocated_bytes(const struct stat& st) {
  return static_cast<uint64_t>(st.st_blocks) * 512u;
}

namespace detail {
// Tests: take the one-openat-per-component fallback even where openat2 exists.
void use_openat2(bool yes);
}  // namespace detail

// Lexically clean absolute path: "//" and trailing "/" collapsed, "." dropped. Returns "" when it
// is not absolute or holds "..".
std::string clean_absolute_path(std::string_view p);

}  // namespace forage::host
