// pcapng reader (the block format of pcapng.com / draft-ietf-opsawg-pcapng): sections with
// either byte order, any number of interfaces with their own link types, snap lengths and
// timestamp resolutions. Streaming: one block in memory at a time. Internal to the capture scanner;
// open_capture() (pcap_source.h) picks it for pcapng files.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "scanners/pcap_source.h"

namespace forage::scanners::pcap {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

class PcapngReader : public PacketSource {
 public:
  // `f` is positioned at the first Section Header Block. `name`/`format` for messages.
  PcapngReader(FilePtr f, std::string name, std::string format);
  Next next(Packet& p) override;
  uint64_t blocks_skipped() const override { return skipped_; }

 private:
  struct Interface {
    int linktype = 0;
    uint32_t snaplen = 0;
    bool binary_resolution = false;  // if_tsresol: 2^-exp instead of 10^-exp
    uint8_t exponent = 6;            // microseconds unless if_tsresol says otherwise
    int64_t offset_s = 0;            // if_tsoffset
  };

  FilePtr f_;
  bool swapped_ = false;  // the current section's byte order is not the host's
  bool failed_ = false;
  uint64_t offset_ = 0;  // file offset of the block being read, for messages
  uint64_t skipped_ = 0;
  int64_t last_ts_ns_ = 0;  // Simple Packet Blocks carry no timestamp: they get the previous one
  std::vector<uint8_t> body_;
  std::vector<Interface> ifaces_;

  // One block read whole (header, body, trailer); body_ holds the body of a wanted one.
  struct Block {
    uint32_t type = 0;
    uint32_t len = 0;  // of the whole block
    bool wanted = false;
  };
  enum class Read { kBlock, kEnd, kError };
  Read read_block(Block& blk);
  Read failed(std::string why) {
    fail(std::move(why));
    return Read::kError;
  }
  // The packet of an EPB, PB or SPB in body_.
  Next packet(const Block& blk, uint64_t block_offset, Packet& p);

  Next fail(std::string why);
  uint16_t u16(const uint8_t* p) const;
  uint32_t u32(const uint8_t* p) const;
  bool read_exact(void* dst, size_t n);
  bool discard(uint64_t n);
  // Block handlers; false when the block is malformed (error_ set).
  bool section_header();
  bool interface_description();
  int64_t timestamp_ns(const Interface& i, uint32_t hi, uint32_t lo) const;
};

}  // namespace forage::scanners::pcap
