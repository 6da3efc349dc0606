#include "common/file.h"

#include <algorithm>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/error.h"

namespace forage {

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

MappedFile MappedFile::map(int fd, size_t size, int& error) {
  error = 0;
  if (size == 0) {
    error = EINVAL;
    return {};
  }
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) {
    error = errno;
    return {};
  }
  return MappedFile(p, size);
}

void MappedFile::reset() {
  if (addr_) ::munmap(addr_, size_);
  addr_ = nullptr;
  size_ = 0;
}

// A stream over `fd` (which it then owns), or the error of the call that gave fd (-1) or of
// fdopendir.
Dir Dir::adopt(int fd) {
  Dir d;
  if (fd < 0) {
    d.err_ = errno;
    return d;
  }
  d.d_ = ::fdopendir(fd);
  if (!d.d_) {
    d.err_ = errno;
    ::close(fd);
  }
  return d;
}

Dir Dir::open(const std::string& path) {
  return adopt(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
}

Dir Dir::at(int dirfd) {
  Dir d = adopt(::fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  if (!d.d_) return d;
  ::rewinddir(d.d_);  // the copy shares the offset of the original
  return d;
}

void Dir::reset() {
  if (d_) ::closedir(d_);
  d_ = nullptr;
}

int Dir::fd() const {
  return d_ ? ::dirfd(d_) : -1;
}

std::vector<std::string> Dir::names(size_t max, bool* more) {
  std::vector<std::string> out;
  if (more) *more = false;
  if (!d_) return out;
  for (;;) {
    // errno is the only way readdir() tells an error from the end.
    errno = 0;
    struct dirent* e = ::readdir(d_);
    if (!e) {
      if (errno != 0) err_ = errno;
      break;
    }
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    if (out.size() >= max) {
      if (more) *more = true;
      break;
    }
    out.emplace_back(e->d_name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string_view file_type_name(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "directory";
  if (S_ISLNK(m)) return "symlink";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISSOCK(m)) return "socket";
  if (S_ISCHR(m)) return "char-device";
  if (S_ISBLK(m)) return "block-device";
  return "other";
}

int open_noatime(int dirfd, const char* name, int flags) {
  int fd = ::openat(dirfd, name, flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::openat(dirfd, name, flags & ~O_NOATIME);
  return fd;
}

Fd open_evidence(const std::string& path) {
  int fd = open_noatime(AT_FDCWD, path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ELOOP) throw Error(path + ": is a symbolic link (not followed)");
    throw system_error(path, errno);
  }
  // O_NONBLOCK only protects the open() itself from FIFOs; reads should block normally.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return Fd(fd);
}

std::string read_all(int fd, const std::string& name, uint64_t max_bytes, uint64_t size_hint) {
  // Straight into the string, no bounce buffer: a regular file's size is the first guess (one
  // more byte to see the end without a resize), a pipe grows the buffer geometrically.
  max_bytes = std::min<uint64_t>(max_bytes, uint64_t(1) << 48);  // no overflow below
  std::string out;
  size_t used = 0;
  out.resize(std::max<uint64_t>(std::min<uint64_t>(size_hint, max_bytes) + 1, 4096));
  for (;;) {
    if (used == out.size()) {
      if (out.size() > max_bytes)
        throw Error(name + ": larger than " + std::to_string(max_bytes >> 20) + " MiB");
      out.resize(std::min<uint64_t>(out.size() * 2, max_bytes + 1));
    }
    ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw system_error(name, errno);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
    if (used > max_bytes)
      throw Error(name + ": larger than " + std::to_string(max_bytes >> 20) + " MiB");
  }
  out.resize(used);
  return out;
}

std::string read_file(const std::string& path, uint64_t max_bytes) {
  if (path == "-") return read_all(STDIN_FILENO, "<stdin>", max_bytes);
  Fd fd = open_evidence(path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw system_error(path, errno);
  if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory");
  if (!S_ISREG(st.st_mode)) throw Error(path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    throw Error(path + ": larger than " + std::to_string(max_bytes >> 20) + " MiB");
  return read_all(fd.get(), path, max_bytes, static_cast<uint64_t>(st.st_size));
}

}  // namespace forage

namespace forage {

namespace {
void write_fully(int fd, std::string_view data, const std::string& name) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw system_error(name, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}
}  // namespace

void write_output(const std::string& path, std::string_view data) {
  if (path == "-") {
    write_fully(STDOUT_FILENO, data, "<stdout>");
    return;
  }
  std::string partial = path + ".partial";
  Fd fd(::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) throw system_error(partial, errno);
  write_fully(fd.get(), data, partial);
  if (::fsync(fd.get()) != 0) throw system_error(partial, errno);
  fd.reset();
  if (::rename(partial.c_str(), path.c_str()) != 0) throw system_error(path, errno);
}

void write_all_or_throw(std::FILE* f, std::string_view data, const std::string& name) {
  errno = 0;
  if (std::fwrite(data.data(), 1, data.size(), f) != data.size() || std::fflush(f) != 0) {
    const int err = errno != 0 ? errno : EIO;
    std::clearerr(f);
    throw system_error(name, err);
  }
}

}  // namespace forage
