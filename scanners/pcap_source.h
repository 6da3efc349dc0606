// Where captured packets come from: capture files (pcap and pcapng, plain or gzip-compressed) and
// live interfaces, behind one PacketSource interface; and the move-only owners of libpcap's C
// handles (pcap_t, pcap_dumper_t, bpf_program).
//
// Classic pcap files and live capture go through libpcap. pcapng files are read by PcapngReader
// (pcapng.cpp): libpcap 1.10 stops with an error at the first interface whose link type or snap
// length differs from the first interface's (sf-pcapng.c, "an interface has a type %u different
// from the type of the first interface"), which is exactly what `dumpcap -i eth0 -i any` writes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "common/file.h"

typedef struct pcap pcap_t;
typedef struct pcap_dumper pcap_dumper_t;
struct bpf_program;

namespace forage::scanners::pcap {

struct PcapCloser {
  void operator()(pcap_t* p) const;
};
// Owns a pcap_t (and the FILE* libpcap read it from).
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

struct DumperCloser {
  void operator()(pcap_dumper_t* d) const;
};
using DumperHandle = std::unique_ptr<pcap_dumper_t, DumperCloser>;

// A compiled BPF filter (pcap_compile / pcap_freecode).
class BpfProgram {
 public:
  BpfProgram() = default;
  // Compiles `expr` for link type `dlt`; throws forage::Error naming the expression.
  BpfProgram(int dlt, const std::string& expr);
  BpfProgram(BpfProgram&& o) noexcept;
  BpfProgram& operator=(BpfProgram&& o) noexcept;
  BpfProgram(const BpfProgram&) = delete;
  BpfProgram& operator=(const BpfProgram&) = delete;
  ~BpfProgram();

  const bpf_program* get() const { return prog_.get(); }
  bool matches(uint32_t caplen, uint32_t len, const uint8_t* data) const;

 private:
  std::unique_ptr<bpf_program> prog_;
  void reset();
};

// One captured packet; `data` stays valid until the next call to PacketSource::next().
struct Packet {
  int64_t ts_ns = 0;  // UTC, nanoseconds since the epoch
  uint32_t caplen = 0;
  uint32_t len = 0;  // length on the wire
  const uint8_t* data = nullptr;
  int linktype = 0;  // LINKTYPE_ value (pcap_decode.h)
};

class PacketSource {
 public:
  enum class Next { kPacket, kEnd, kTimeout, kError, kBreak };
  virtual ~PacketSource() = default;

  // kError: error() says why, and the source is unusable from then on. kTimeout: live capture
  // only, nothing arrived within the read timeout. kBreak: libpcap reported PCAP_ERROR_BREAK.
  virtual Next next(Packet& p) = 0;

  const std::string& name() const { return name_; }
  const std::string& error() const { return error_; }
  // "pcap", "pcapng", "pcap.gz", "pcapng.gz", "live"
  const std::string& format() const { return format_; }
  // Blocks of a pcapng file that are not packets and were skipped, by kind ("unknown block 0x..").
  virtual uint64_t blocks_skipped() const { return 0; }

 protected:
  std::string name_, error_, format_;
};

// Opens a capture file ("-" is stdin) and recognises it by content: pcap (any byte order,
// micro- or nanosecond), pcapng, either gzip-compressed. The file is opened read-only without
// following symlinks and without changing its access time. Throws forage::Error("<path>: <why>")
// when it cannot be read or is not a capture.
std::unique_ptr<PacketSource> open_capture(const std::string& path);
// The same over an already open descriptor (taken over); `name` is used in messages.
std::unique_ptr<PacketSource> open_capture(Fd fd, const std::string& name);

struct LiveOptions {
  std::string interface;  // "any" for every interface (Linux cooked capture)
  int snaplen = 128;      // enough for link, VLAN, IPv6 with extension headers and ports
  bool promisc = false;
  int timeout_ms = 200;  // how often next() returns kTimeout so the caller can check its clock
  std::string filter;    // BPF expression run in the kernel; empty for none
};

class LiveCapture : public PacketSource {
 public:
  // Throws forage::Error naming the interface: no such device, permission denied (needs root or
  // CAP_NET_RAW), bad filter.
  explicit LiveCapture(const LiveOptions& o);
  Next next(Packet& p) override;
  int linktype() const { return linktype_; }

  struct Stats {
    uint64_t received = 0, dropped = 0, if_dropped = 0;
  };
  std::optional<Stats> stats() const;

 private:
  PcapHandle p_;
  int linktype_ = 0;
  int fd_ = -1;
  int timeout_ms_ = 200;
};

}  // namespace forage::scanners::pcap
