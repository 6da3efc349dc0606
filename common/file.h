// File access that never changes evidence: read-only, no symlink following, no atime update.
#pragma once

#include <dirent.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace forage {

// Move-only owner of a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset();

 private:
  int fd_ = -1;
};

// "file", "directory", "symlink", "fifo", "socket", "char-device", "block-device", "other".
std::string_view file_type_name(mode_t mode);

// openat(dirfd, name, flags | O_NOATIME), retried without O_NOATIME when the file is not ours
// (EPERM: O_NOATIME needs ownership or CAP_FOWNER). The one place that knows this dance; returns
// the descriptor or -1 with errno set.
int open_noatime(int dirfd, const char* name, int flags);

// A directory stream (RAII over DIR*).
class Dir {
 public:
  Dir() = default;
  // Opens `path` O_DIRECTORY|O_NOFOLLOW|O_NONBLOCK (a /proc directory, a base named by forage).
  static Dir open(const std::string& path);
  // A stream over a copy of `dirfd` (the caller keeps its descriptor).
  static Dir at(int dirfd);
  Dir(Dir&& o) noexcept : d_(std::exchange(o.d_, nullptr)), err_(o.err_) {}
  Dir& operator=(Dir&& o) noexcept {
    if (this != &o) {
      reset();
      d_ = std::exchange(o.d_, nullptr);
      err_ = o.err_;
    }
    return *this;
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  ~Dir() { reset(); }

  explicit operator bool() const { return d_ != nullptr; }
  int error() const { return err_; }  // errno of the failed open or read
  // Every name but "." and "..", sorted; stops after `max` names (`*more` set when it did).
  std::vector<std::string> names(size_t max = SIZE_MAX, bool* more = nullptr);
  int fd() const;

 private:
  static Dir adopt(int fd);
  void reset();
  DIR* d_ = nullptr;
  int err_ = 0;
};

// Opens `path` O_RDONLY|O_NOFOLLOW|O_NOATIME|O_CLOEXEC. O_NOATIME needs file ownership or
// CAP_FOWNER; without it the open is retried without O_NOATIME (logged at debug level).
// Throws forage::Error("<path>: <reason>").
Fd open_evidence(const std::string& path);

// The first `size` bytes of a regular file mapped read-only and private (nothing is ever written
// through it, and the file's atime follows the descriptor's O_NOATIME). Reading a page the file
// no longer backs (truncated since the mapping, or a device I/O error) raises SIGBUS: code that
// maps files other processes may change must guard its reads (scanners/map_guard.h does).
class MappedFile {
 public:
  MappedFile() = default;
  // Maps `size` (> 0) bytes of `fd` from offset 0. On failure: an empty MappedFile and the errno
  // in `error` (ENODEV: the file system cannot map; callers fall back to read()).
  static MappedFile map(int fd, size_t size, int& error);

  MappedFile(MappedFile&& o) noexcept
      : addr_(std::exchange(o.addr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  MappedFile& operator=(MappedFile&& o) noexcept {
    if (this != &o) {
      reset();
      addr_ = std::exchange(o.addr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() { reset(); }

  const uint8_t* data() const { return static_cast<const uint8_t*>(addr_); }
  size_t size() const { return size_; }
  explicit operator bool() const { return addr_ != nullptr; }
  void reset();

 private:
  MappedFile(void* addr, size_t size) : addr_(addr), size_(size) {}
  void* addr_ = nullptr;
  size_t size_ = 0;
};

// Reads a whole regular file (or stdin for "-") up to `max_bytes`; larger input is an error.
std::string read_file(const std::string& path, uint64_t max_bytes = 256ull << 20);

// Reads everything from an open descriptor (up to max_bytes). `name` is used in messages;
// `size_hint` (a regular file's size) sizes the buffer once.
std::string read_all(int fd, const std::string& name, uint64_t max_bytes, uint64_t size_hint = 0);

}  // namespace forage

namespace forage {
// Writes `data` to `path` ("-" is stdout) through "<path>.partial" renamed on success, so a
// reader never sees half a file. Throws forage::Error naming the path on failure (disk full...).
void write_output(const std::string& path, std::string_view data);
// Writes `data` to a stdio stream and flushes it: a result is never lost silently. Throws
// forage::Error("<name>: <reason>", exit 2) when fwrite or fflush fails (a full disk, a closed
// pipe, ulimit -f).
void write_all_or_throw(std::FILE* f, std::string_view data, const std::string& name);
}  // namespace forage
