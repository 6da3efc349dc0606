// Test captures: frames built byte by byte for every link type the capture scanner reads, written
// with libpcap (pcap_open_dead + pcap_dump_open) or, for pcapng, block by block (libpcap 1.10
// cannot write pcapng). Shared by the unit tests (tests/unit/scanners/pcap*_test.cpp) and the
// generator behind the integration tests and the benchmark (tests/tools/pcap_gen.cpp).
#pragma once

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace forage::testing {

using Bytes = std::vector<uint8_t>;

inline void put16(Bytes& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
inline void put32(Bytes& b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b, uint16_t(v));
}
inline void put32le(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
}
inline Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline uint32_t v4(const char* s) {
  in_addr a{};
  if (inet_pton(AF_INET, s, &a) != 1) throw std::invalid_argument(s);
  return ntohl(a.s_addr);
}
struct V6 {
  uint8_t b[16];
};
inline V6 v6(const char* s) {
  V6 r{};
  if (inet_pton(AF_INET6, s, r.b) != 1) throw std::invalid_argument(s);
  return r;
}

// Transport header: ports (TCP gets a 20-byte header, UDP 8) then `payload` zero bytes.
inline Bytes transport(uint8_t proto, uint16_t sport, uint16_t dport, size_t payload) {
  Bytes t;
  put16(t, sport);
  put16(t, dport);
  if (proto == 6) {
    put32(t, 1);       // seq
    put32(t, 0);       // ack
    put16(t, 0x5002);  // data offset 5, SYN
    put16(t, 65535);
    put32(t, 0);  // checksum, urgent
  } else if (proto == 17) {
    put16(t, uint16_t(8 + payload));
    put16(t, 0);
  }
  t.resize(t.size() + payload, 0);
  return t;
}

struct Ip4Opts {
  uint16_t frag_offset = 0;  // in 8-byte units
  bool more_fragments = false;
  uint8_t ihl = 5;
  int total_length = -1;  // -1: computed
};

inline Bytes ipv4(uint32_t src, uint32_t dst, uint8_t proto, const Bytes& l4, Ip4Opts o = {}) {
  Bytes b;
  b.push_back(uint8_t(0x40 | (o.ihl & 0x0f)));
  b.push_back(0);
  size_t hl = size_t(o.ihl) * 4 < 20 ? 20 : size_t(o.ihl) * 4;
  put16(b, uint16_t(o.total_length >= 0 ? o.total_length : int(hl + l4.size())));
  put16(b, 0x1234);
  put16(b, uint16_t((o.more_fragments ? 0x2000 : 0) | (o.frag_offset & 0x1fff)));
  b.push_back(64);
  b.push_back(proto);
  put16(b, 0);
  put32(b, src);
  put32(b, dst);
  b.resize(hl, 1);  // options: NOPs
  // Header checksum, so tshark shows no error.
  uint32_t sum = 0;
  for (size_t i = 0; i < hl; i += 2) sum += uint32_t(b[i] << 8 | b[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  b[10] = uint8_t(~sum >> 8);
  b[11] = uint8_t(~sum);
  return cat(b, l4);
}

// `ext`: IPv6 extension headers as (type, bytes) already encoded; `proto` follows the last one.
inline Bytes ipv6(const V6& src, const V6& dst, uint8_t proto, const Bytes& l4,
                  const Bytes& ext = {}, uint8_t first_next = 0) {
  Bytes b;
  put32(b, 0x60000000);
  put16(b, uint16_t(ext.size() + l4.size()));
  b.push_back(ext.empty() ? proto : first_next);
  b.push_back(64);
  b.insert(b.end(), src.b, src.b + 16);
  b.insert(b.end(), dst.b, dst.b + 16);
  return cat(cat(b, ext), l4);
}

// IPv6 fragment header (8 bytes): next header, offset in 8-byte units.
inline Bytes ipv6_frag_header(uint8_t next, uint16_t offset_units, bool more) {
  Bytes b{next, 0};
  put16(b, uint16_t(offset_units << 3 | (more ? 1 : 0)));
  put32(b, 0xabcd);
  return b;
}

// Ethernet II, with VLAN tags (each a TPID: 0x8100, 0x88a8, 0x9100) before the ethertype.
inline Bytes ether(uint16_t ethertype, const Bytes& payload, std::vector<uint16_t> tags = {}) {
  Bytes b{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x66, 0x77, 0x88, 0x99, 0xaa};
  uint16_t vid = 100;
  for (uint16_t tpid : tags) {
    put16(b, tpid);
    put16(b, vid++);
  }
  put16(b, ethertype);
  return cat(b, payload);
}

inline Bytes sll(uint16_t ethertype, const Bytes& payload, uint16_t hatype = 1) {
  Bytes b;
  put16(b, 0);  // packet type: to us
  put16(b, hatype);
  put16(b, 6);
  for (uint8_t x : {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0}) b.push_back(x);
  put16(b, ethertype);
  return cat(b, payload);
}

inline Bytes sll2(uint16_t ethertype, const Bytes& payload, uint16_t hatype = 1) {
  Bytes b;
  put16(b, ethertype);
  put16(b, 0);
  put32(b, 2);  // interface index
  put16(b, hatype);
  b.push_back(0);  // packet type
  b.push_back(6);
  for (uint8_t x : {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0}) b.push_back(x);
  return cat(b, payload);
}

// DLT_NULL: address family in the capturing host's byte order; DLT_LOOP: network byte order.
inline Bytes null_hdr(uint32_t family, const Bytes& payload, bool big_endian = false) {
  Bytes b;
  if (big_endian) put32(b, family);
  else put32le(b, family);
  return cat(b, payload);
}

// A pcap file written by libpcap.
class PcapWriter {
 public:
  PcapWriter(const std::string& path, int dlt, int snaplen = 65535, bool nano = false) {
    dead_ = pcap_open_dead_with_tstamp_precision(
        dlt, snaplen, nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
    if (!dead_) throw std::runtime_error("pcap_open_dead");
    dumper_ = pcap_dump_open(dead_, path.c_str());
    if (!dumper_) throw std::runtime_error(path + ": " + pcap_geterr(dead_));
    nano_ = nano;
    snaplen_ = uint32_t(snaplen);
  }
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  ~PcapWriter() { close(); }

  // ts in microseconds (or nanoseconds for a nano file); caplen cut to the snap length.
  void add(int64_t ts, const Bytes& frame, uint32_t wire_len = 0) {
    pcap_pkthdr h{};
    int64_t per = nano_ ? 1000000000 : 1000000;
    h.ts.tv_sec = time_t(ts / per);
    h.ts.tv_usec = suseconds_t(ts % per);
    h.caplen = uint32_t(frame.size()) < snaplen_ ? uint32_t(frame.size()) : snaplen_;
    h.len = wire_len ? wire_len : uint32_t(frame.size());
    pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, frame.data());
  }
  void close() {
    if (dumper_) pcap_dump_close(dumper_);
    if (dead_) pcap_close(dead_);
    dumper_ = nullptr;
    dead_ = nullptr;
  }

 private:
  pcap_t* dead_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
  bool nano_ = false;
  uint32_t snaplen_ = 65535;
};

// pcapng built block by block, in either byte order.
class PcapngBuilder {
 public:
  explicit PcapngBuilder(bool big_endian = false) : be_(big_endian) { section(big_endian); }

  // A new section (its interfaces start again at 0), possibly of the other byte order.
  void section(bool big_endian) {
    be_ = big_endian;
    Bytes body;
    u32(body, 0x1A2B3C4D);
    u16(body, 1);
    u16(body, 0);
    u32(body, 0xffffffff);  // section length unknown
    u32(body, 0xffffffff);
    block(0x0A0D0D0A, body);
  }
  // tsresol: if_tsresol option byte (6: microseconds, 9: nanoseconds, 0x80|n: 2^-n); -1: none.
  void interface(int linktype, uint32_t snaplen = 65535, int tsresol = -1,
                 int64_t tsoffset = 0) {
    Bytes body;
    u16(body, uint16_t(linktype));
    u16(body, 0);
    u32(body, snaplen);
    if (tsresol >= 0) {
      u16(body, 9);
      u16(body, 1);
      body.push_back(uint8_t(tsresol));
      body.resize(body.size() + 3, 0);
    }
    if (tsoffset != 0) {
      u16(body, 14);
      u16(body, 8);
      u64(body, uint64_t(tsoffset));
    }
    if (tsresol >= 0 || tsoffset != 0) u32(body, 0);  // opt_endofopt
    block(1, body);
  }
  // ts in the interface's units.
  void packet(uint32_t iface, uint64_t ts, const Bytes& frame, uint32_t wire_len = 0) {
    Bytes body;
    u32(body, iface);
    u32(body, uint32_t(ts >> 32));
    u32(body, uint32_t(ts));
    u32(body, uint32_t(frame.size()));
    u32(body, wire_len ? wire_len : uint32_t(frame.size()));
    body.insert(body.end(), frame.begin(), frame.end());
    body.resize((body.size() + 3) & ~size_t{3}, 0);
    block(6, body);
  }
  void simple_packet(const Bytes& frame) {
    Bytes body;
    u32(body, uint32_t(frame.size()));
    body.insert(body.end(), frame.begin(), frame.end());
    body.resize((body.size() + 3) & ~size_t{3}, 0);
    block(3, body);
  }
  // Any other block (name resolution, custom, unknown): readers must skip it.
  void other(uint32_t type, size_t body_len, uint8_t fill = 0x5a) {
    block(type, Bytes(body_len, fill));
  }

  const Bytes& bytes() const { return out_; }
  void save(const std::string& path) const {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error(path);
    std::fwrite(out_.data(), 1, out_.size(), f);
    std::fclose(f);
  }

 private:
  void u16(Bytes& b, uint16_t v) {
    if (be_) put16(b, v);
    else {
      b.push_back(uint8_t(v));
      b.push_back(uint8_t(v >> 8));
    }
  }
  void u32(Bytes& b, uint32_t v) {
    if (be_) put32(b, v);
    else put32le(b, v);
  }
  void u64(Bytes& b, uint64_t v) {
    if (be_) {
      u32(b, uint32_t(v >> 32));
      u32(b, uint32_t(v));
    } else {
      u32(b, uint32_t(v));
      u32(b, uint32_t(v >> 32));
    }
  }
  void block(uint32_t type, const Bytes& body) {
    uint32_t len = uint32_t(12 + body.size());
    u32(out_, type);
    u32(out_, len);
    out_.insert(out_.end(), body.begin(), body.end());
    u32(out_, len);
  }

  bool be_;
  Bytes out_;
};

}  // namespace forage::testing
