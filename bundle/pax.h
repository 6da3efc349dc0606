// A small POSIX pax (ustar + extended headers) writer and reader: the tar layer of a bundle.
// Own code instead of libarchive, whose static link drags ~30 MB of ICU into the binary
// (DESIGN.md "Libraries"); tests/unit/bundle/pax_test.cpp checks both directions against GNU tar.
//
// The writer emits plain ustar headers and adds a pax 'x' header only when a field does not fit:
// names over 100 bytes or not ASCII (path, raw bytes when not UTF-8), sizes from
// 8 GiB, sub-second or negative mtimes. The reader accepts pax ('x', 'g'), ustar and the GNU
// extensions GNU tar writes by default ('L'/'K' long names, base-256 numbers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bundle/stream.h"

namespace forage::bundle {

inline constexpr size_t kTarBlock = 512;

enum class EntryType {
  kFile,
  kDirectory,
  kSymlink,
  kHardlink,
  kCharDevice,
  kBlockDevice,
  kFifo,
  kOther
};

std::string_view entry_type_name(EntryType t);

struct TarEntry {
  std::string name;  // raw bytes, exactly as stored (may be non-UTF-8; never contains NUL)
  EntryType type = EntryType::kFile;
  char typeflag = '0';
  uint64_t size = 0;  // bytes of data that follow the header
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  uint32_t mode = 0644;
  std::string linkname;
  uint64_t offset = 0;  // archive offset of the first header of this member
  bool sparse = false;  // GNU sparse member (never produced by forage)
};

class PaxWriter {
 public:
  explicit PaxWriter(Sink& out) : out_(out) {}

  struct Member {
    std::string name;
    uint64_t size = 0;
    int64_t mtime_sec = 0;
    uint32_t mtime_nsec = 0;
    uint32_t mode = 0644;
    EntryType type = EntryType::kFile;  // kFile or kDirectory
  };

  // Writes the header(s) of a member whose data (exactly `size` bytes) follows through write().
  void begin(const Member& m);
  void write(const void* data, size_t size);
  // Pads the data to a block boundary; throws if fewer than `size` bytes were written.
  void end();
  // A whole member from memory.
  void add(const Member& m, std::string_view data);
  // Writes the end-of-archive marker (two zero blocks) and finishes the sink.
  void finish();

  uint64_t offset() const { return offset_; }
  bool in_member() const { return in_member_; }
  uint64_t member_remaining() const { return remaining_; }

 private:
  void raw(const void* data, size_t size);
  Sink& out_;
  uint64_t offset_ = 0;
  uint64_t remaining_ = 0;
  uint64_t member_size_ = 0;
  bool in_member_ = false;
  unsigned pax_count_ = 0;
};

// Reads members one at a time. Any malformation throws forage::Error("<name>: offset N: why")
// with Exit::kVerifyFailed, because for forage a damaged archive is a failed verification.
class PaxReader {
 public:
  PaxReader(Source& in, std::string name) : in_(in), name_(std::move(name)) {}

  // The next member (after skipping whatever is left of the current one), or nullopt at the
  // end-of-archive marker. Throws on a truncated archive (EOF before the marker).
  std::optional<TarEntry> next();
  // Data of the current member; 0 once it is consumed.
  size_t read(void* data, size_t size);
  // After next() returned nullopt: true if anything but zero bytes follows the marker.
  bool data_after_end();
  uint64_t offset() const { return offset_; }

 private:
  [[noreturn]] void fail(const std::string& why) const;
  bool read_block(char* block);  // false at EOF on a block boundary
  void skip_rest();
  std::string read_meta_data(uint64_t size, const char* what);
  Source& in_;
  std::string name_;
  uint64_t offset_ = 0;
  uint64_t remaining_ = 0;  // data bytes of the current member not yet read
  uint64_t padding_ = 0;    // padding after them
  bool ended_ = false;
};

// Helpers shared with the tests.

}  // namespace forage::bundle
