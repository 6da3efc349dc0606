// File access that never changes evidence: read-only, no symlink following, no atime update.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

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

// Opens `path` O_RDONLY|O_NOFOLLOW|O_NOATIME|O_CLOEXEC. O_NOATIME needs file ownership or
// CAP_FOWNER; without it the open is retried without O_NOATIME (logged at debug level).
// Throws forage::Error("<path>: <reason>").
Fd open_evidence(const std::string& path);

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
}  // namespace forage
