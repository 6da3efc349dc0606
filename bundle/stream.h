// Byte streams the bundle is built from: a Sink takes bytes (file, stdout, zstd, CMS
// encryption), a Source gives bytes (file, stdin, zstd, CMS decryption). Layers stack so that a
// bundle of any size passes through a fixed amount of memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace forage::bundle {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(const void* data, size_t size) = 0;
  void write(std::string_view s) { write(s.data(), s.size()); }
  // Ends this layer (writes trailers, flushes buffers) and finishes the layer below.
  virtual void finish() = 0;
  // Pushes what this layer buffers down to the descriptor without ending the stream, so a crash
  // loses nothing written before (the bundle writer calls it after every member).
  virtual void flush() {}
};

class Source {
 public:
  virtual ~Source() = default;
  // Up to `size` bytes; 0 only at the end of the stream. Throws forage::Error on failure.
  virtual size_t read(void* data, size_t size) = 0;
};

// Reads until `size` bytes or the end of the stream; returns the count read.
size_t read_full(Source& in, void* data, size_t size);

// Buffered writes to a descriptor it does not own. A failed write (disk full, EFBIG under
// `ulimit -f`, EPIPE) throws forage::Error naming `name`, and every later write throws too:
// what reached the descriptor before stays as it was.
// On a regular file it starts writeback of every written window at once and waits for the one
// before: the final fsync then waits for little, and a multi-GiB core does not fill the node's
// page cache with dirty pages (the co-located jobs keep their memory). A flush (the end of a
// member) also starts the writeback of what is left once it is 16 MiB or more: the last part of
// a core goes to disk while the collection goes on, not during the final fsync.
class FdSink : public Sink {
 public:
  // `window`: bytes per writeback step; at most two windows are dirty at a time.
  FdSink(int fd, std::string name, size_t buffer_size = 1 << 20, uint64_t window = 128u << 20);
  void write(const void* data, size_t size) override;
  using Sink::write;
  void finish() override { flush(); }
  void flush() override;
  uint64_t bytes_written() const { return written_; }
  bool failed() const { return failed_; }

 private:
  void write_through(const char* data, size_t size);
  void write_back(bool tail = false);
  static constexpr uint64_t kTail = 16u << 20;
  uint64_t window_;
  int fd_;
  bool regular_ = false;                // writeback control applies (not a pipe, socket or tty)
  uint64_t base_ = 0;                   // file offset of the first byte written through this sink
  uint64_t started_ = 0, settled_ = 0;  // bytes whose writeback was started / has finished
  std::string name_;
  std::vector<char> buf_;
  size_t used_ = 0;
  uint64_t written_ = 0;
  bool failed_ = false;
};

// Appends to a string (tests, small in-memory bundles).
class StringSink : public Sink {
 public:
  explicit StringSink(std::string& out) : out_(out) {}
  void write(const void* data, size_t size) override {
    out_.append(static_cast<const char*>(data), size);
  }
  using Sink::write;
  void finish() override {}

 private:
  std::string& out_;
};

class FdSource : public Source {
 public:
  FdSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  size_t read(void* data, size_t size) override;

 private:
  int fd_;
  std::string name_;
};

class StringSource : public Source {
 public:
  explicit StringSource(std::string_view data) : data_(data) {}
  size_t read(void* data, size_t size) override;

 private:
  std::string_view data_;
};

// Lets a reader look at the first bytes of a stream (format detection) before consuming them.
class PeekSource : public Source {
 public:
  explicit PeekSource(Source& in) : in_(in) {}
  // Up to `size` bytes from the current position, without consuming them.
  std::string_view peek(size_t size);
  size_t read(void* data, size_t size) override;

 private:
  Source& in_;
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace forage::bundle
