#include "bundle/stream.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace forage::bundle {

size_t read_full(Source& in, void* data, size_t size) {
  size_t got = 0;
  auto* p = static_cast<char*>(data);
  while (got < size) {
    size_t n = in.read(p + got, size - got);
    if (n == 0) break;
    got += n;
  }
  return got;
}

FdSink::FdSink(int fd, std::string name, size_t buffer_size, uint64_t window)
    : window_(window), fd_(fd), name_(std::move(name)), buf_(buffer_size) {
  struct stat st {};
  off_t at = ::lseek(fd_, 0, SEEK_CUR);
  regular_ = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && at >= 0;
  if (regular_) base_ = static_cast<uint64_t>(at);
}

void FdSink::write_back(bool tail) {
  if (!regular_ || written_ - started_ < (tail ? kTail : window_)) return;
  const auto off = [this](uint64_t n) { return static_cast<off64_t>(base_ + n); };
  // Best effort: an error here (a file system without it) only means the final fsync does all.
  if (::sync_file_range(fd_, off(started_), off(written_) - off(started_), SYNC_FILE_RANGE_WRITE) !=
      0) {
    regular_ = false;
    return;
  }
  if (tail) {  // started, not waited for: the next window or the final fsync waits
    started_ = written_;
    return;
  }
  if (started_ > settled_ && ::sync_file_range(fd_, off(settled_), off(started_) - off(settled_),
                                               SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                                   SYNC_FILE_RANGE_WAIT_AFTER) == 0) {
    ::posix_fadvise(fd_, off(settled_), off(started_) - off(settled_), POSIX_FADV_DONTNEED);
    settled_ = started_;
  }
  started_ = written_;
}

void FdSink::write_through(const char* data, size_t size) {
  if (failed_) throw Error(name_ + ": output already failed");
  while (size > 0) {
    ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      failed_ = true;
      int err = errno;
      if (err == EFBIG)
        throw Error(name_ + ": file size limit reached (ulimit -f): " + std::strerror(err));
      throw system_error(name_, err);
    }
    data += n;
    size -= static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
  write_back();
}

void FdSink::write(const void* data, size_t size) {
  if (failed_) throw Error(name_ + ": output already failed");
  const char* p = static_cast<const char*>(data);
  if (used_ + size <= buf_.size()) {
    std::memcpy(buf_.data() + used_, p, size);
    used_ += size;
    return;
  }
  flush();
  // Large chunks go straight through: copying them into the buffer would only cost time.
  if (size >= buf_.size()) {
    write_through(p, size);
  } else {
    std::memcpy(buf_.data(), p, size);
    used_ = size;
  }
}

void FdSink::flush() {
  if (used_ > 0) {
    size_t n = used_;
    used_ = 0;
    write_through(buf_.data(), n);
  }
  write_back(true);
}

size_t FdSource::read(void* data, size_t size) {
  for (;;) {
    ssize_t n = ::read(fd_, data, size);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    throw system_error(name_, errno);
  }
}

size_t StringSource::read(void* data, size_t size) {
  size_t n = std::min(size, data_.size());
  std::memcpy(data, data_.data(), n);
  data_.remove_prefix(n);
  return n;
}

std::string_view PeekSource::peek(size_t size) {
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  while (buf_.size() < size) {
    char tmp[4096];
    size_t n = in_.read(tmp, std::min(sizeof tmp, size - buf_.size()));
    if (n == 0) break;
    buf_.append(tmp, n);
  }
  return std::string_view(buf_).substr(0, size);
}

size_t PeekSource::read(void* data, size_t size) {
  if (pos_ < buf_.size()) {
    size_t n = std::min(size, buf_.size() - pos_);
    std::memcpy(data, buf_.data() + pos_, n);
    pos_ += n;
    if (pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    }
    return n;
  }
  return in_.read(data, size);
}

}  // namespace forage::bundle
