#include "scanners/pcapng.h"

#include <cerrno>
#include <cstring>
#include <limits>

namespace forage::scanners::pcap {
namespace {

constexpr uint32_t kShb = 0x0A0D0D0A;  // the same in both byte orders
constexpr uint32_t kIdb = 1;
constexpr uint32_t kPb = 2;  // obsolete Packet Block, still written by old tools
constexpr uint32_t kSpb = 3;
constexpr uint32_t kEpb = 6;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
// A packet block holds one frame (at most 256 KiB for every link type we read); libpcap 1.10
// refuses blocks above 16 MiB too. Other blocks are skipped without being held in memory.
constexpr uint32_t kMaxBlock = 16u << 20;
constexpr size_t kMaxInterfaces = 1u << 16;
constexpr uint16_t kOptEnd = 0, kOptTsresol = 9, kOptTsoffset = 14;

uint16_t bswap16(uint16_t v) {
  return uint16_t(v << 8 | v >> 8);
}

std::string hex(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

}  // namespace

PcapngReader::PcapngReader(FilePtr f, std::string name, std::string format) : f_(std::move(f)) {
  name_ = std::move(name);
  format_ = std::move(format);
}

uint16_t PcapngReader::u16(const uint8_t* p) const {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return swapped_ ? bswap16(v) : v;
}

uint32_t PcapngReader::u32(const uint8_t* p) const {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return swapped_ ? __builtin_bswap32(v) : v;
}

PacketSource::Next PcapngReader::fail(std::string why) {
  failed_ = true;
  error_ = "pcapng block at offset " + std::to_string(offset_) + ": " + why;
  return Next::kError;
}

bool PcapngReader::read_exact(void* dst, size_t n) {
  return std::fread(dst, 1, n, f_.get()) == n;
}

bool PcapngReader::discard(uint64_t n) {
  char buf[16384];
  while (n > 0) {
    size_t chunk = n < sizeof buf ? size_t(n) : sizeof buf;
    if (!read_exact(buf, chunk)) return false;
    n -= chunk;
  }
  return true;
}

bool PcapngReader::section_header() {
  // body: byte-order magic, major, minor, section length (8), options
  if (body_.size() < 16) {
    error_ = "section header block too short";
    return false;
  }
  uint16_t major = u16(body_.data() + 4);
  if (major != 1) {
    error_ = "unsupported pcapng major version " + std::to_string(major);
    return false;
  }
  ifaces_.clear();  // interface ids are per section
  return true;
}

bool PcapngReader::interface_description() {
  if (body_.size() < 8) {
    error_ = "interface description block too short";
    return false;
  }
  if (ifaces_.size() >= kMaxInterfaces) {
    error_ = "more than " + std::to_string(kMaxInterfaces) + " interfaces in one section";
    return false;
  }
  Interface i;
  i.linktype = u16(body_.data());
  i.snaplen = u32(body_.data() + 4);
  size_t off = 8;
  while (off + 4 <= body_.size()) {
    uint16_t code = u16(body_.data() + off);
    uint16_t len = u16(body_.data() + off + 2);
    off += 4;
    if (code == kOptEnd) break;
    if (len > body_.size() - off) {
      error_ = "interface description block option " + std::to_string(code) + " overruns the block";
      return false;
    }
    const uint8_t* v = body_.data() + off;
    if (code == kOptTsresol && len >= 1) {
      i.binary_resolution = v[0] & 0x80;
      i.exponent = v[0] & 0x7f;
      if ((i.binary_resolution && i.exponent > 63) || (!i.binary_resolution && i.exponent > 19)) {
        error_ = "unsupported timestamp resolution (if_tsresol " + std::to_string(v[0]) + ")";
        return false;
      }
    } else if (code == kOptTsoffset && len >= 8) {
      uint64_t o;
      std::memcpy(&o, v, 8);
      i.offset_s = int64_t(swapped_ ? __builtin_bswap64(o) : o);
    }
    off += (size_t(len) + 3) & ~size_t{3};
  }
  ifaces_.push_back(i);
  return true;
}

int64_t PcapngReader::timestamp_ns(const Interface& i, uint32_t hi, uint32_t lo) const {
  uint64_t t = uint64_t{hi} << 32 | lo;
  __int128 sec, ns;
  if (i.binary_resolution) {
    sec = t >> i.exponent;
    __int128 frac = i.exponent ? (t & ((uint64_t{1} << i.exponent) - 1)) : 0;
    ns = (frac * 1000000000) >> i.exponent;
  } else {
    uint64_t per_sec = 1;
    for (int k = 0; k < i.exponent; ++k) per_sec *= 10;
    sec = t / per_sec;
    __int128 frac = t % per_sec;
    ns = i.exponent <= 9 ? frac * (1000000000 / int64_t(per_sec))
                         : frac / int64_t(per_sec / 1000000000);
  }
  __int128 total = (sec + i.offset_s) * 1000000000 + ns;
  // Hostile timestamps clamp to the representable range instead of overflowing.
  if (total > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (total < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return int64_t(total);
}

PcapngReader::Read PcapngReader::read_block(Block& blk) {
  uint8_t hdr[12];
  size_t got = std::fread(hdr, 1, 8, f_.get());
  if (got == 0) {
    if (std::ferror(f_.get())) return failed(std::string("read error: ") + std::strerror(errno));
    return Read::kEnd;
  }
  if (got < 8) return failed("truncated block header (file ends inside it)");
  uint32_t raw_type;
  std::memcpy(&raw_type, hdr, 4);
  bool shb = raw_type == kShb;
  if (shb) {
    // The byte order of a section is set by its header's magic, before the length is read.
    if (!read_exact(hdr + 8, 4)) return failed("truncated section header block");
    uint32_t bom;
    std::memcpy(&bom, hdr + 8, 4);
    if (bom == kByteOrderMagic)
      swapped_ = false;
    else if (bom == __builtin_bswap32(kByteOrderMagic))
      swapped_ = true;
    else
      return failed("section header with a bad byte-order magic " + hex(bom));
  }
  blk.type = u32(hdr);
  blk.len = u32(hdr + 4);
  if (blk.len < 12 || blk.len % 4 != 0)
    return failed("block type " + hex(blk.type) + " has an invalid length " +
                  std::to_string(blk.len));
  uint32_t body_len = blk.len - 12;
  blk.wanted = shb || blk.type == kIdb || blk.type == kEpb || blk.type == kSpb || blk.type == kPb;
  if (!blk.wanted) {
    if (!discard(body_len)) return failed("truncated block of type " + hex(blk.type));
  } else {
    if (body_len > kMaxBlock)
      return failed("block type " + hex(blk.type) + " of " + std::to_string(blk.len) +
                    " bytes is larger than any packet block can be");
    if (shb && body_len < 4) return failed("section header block too short");
    // Grow as bytes arrive, so a lying length in a short file costs no large allocation.
    body_.clear();
    size_t have = 0;
    if (shb) {
      body_.assign(hdr + 8, hdr + 12);
      have = 4;
    }
    while (have < body_len) {
      size_t chunk = std::min<size_t>(body_len - have, 1u << 20);
      body_.resize(have + chunk);
      if (!read_exact(body_.data() + have, chunk))
        return failed("truncated block of type " + hex(blk.type) + " (file ends inside it)");
      have += chunk;
    }
  }
  uint8_t trailer[4];
  if (!read_exact(trailer, 4)) return failed("truncated block of type " + hex(blk.type));
  if (u32(trailer) != blk.len)
    return failed("block type " + hex(blk.type) + ": length " + std::to_string(blk.len) +
                  " in the header but " + std::to_string(u32(trailer)) + " in the trailer");
  return Read::kBlock;
}

PacketSource::Next PcapngReader::packet(const Block& blk, uint64_t block_offset, Packet& p) {
  const uint8_t* b = body_.data();
  const uint32_t body_len = blk.len - 12;
  uint32_t iface = 0, hi = 0, lo = 0, caplen = 0, wire = 0;
  size_t data_off = 0;
  switch (blk.type) {
    case kEpb:
    case kPb:  // the obsolete Packet Block: a 16-bit interface id and a drops count beside it
      if (body_len < 20)
        return fail(blk.type == kEpb ? "enhanced packet block too short"
                                     : "packet block too short");
      iface = blk.type == kEpb ? u32(b) : u16(b);
      hi = u32(b + 4);
      lo = u32(b + 8);
      caplen = u32(b + 12);
      wire = u32(b + 16);
      data_off = 20;
      break;
    case kSpb:
      if (body_len < 4) return fail("simple packet block too short");
      wire = u32(b);
      data_off = 4;
      caplen = std::min<uint32_t>(wire, body_len - 4);
      break;
  }
  offset_ = block_offset;  // messages below name this block
  if (iface >= ifaces_.size())
    return fail("packet on interface " + std::to_string(iface) + " but the section describes " +
                std::to_string(ifaces_.size()) + " interface(s)");
  const Interface& i = ifaces_[iface];
  if (blk.type == kSpb && i.snaplen != 0) caplen = std::min(caplen, i.snaplen);
  if (caplen > body_len - data_off)
    return fail("captured length " + std::to_string(caplen) + " is larger than its block");
  offset_ += blk.len;
  p.ts_ns = blk.type == kSpb ? last_ts_ns_ : timestamp_ns(i, hi, lo);
  last_ts_ns_ = p.ts_ns;
  p.caplen = caplen;
  p.len = wire < caplen ? caplen : wire;
  p.data = b + data_off;
  p.linktype = i.linktype;
  return Next::kPacket;
}

PacketSource::Next PcapngReader::next(Packet& p) {
  for (;;) {
    if (failed_) return Next::kError;
    Block blk;
    Read r = read_block(blk);
    if (r == Read::kEnd) return Next::kEnd;
    if (r == Read::kError) return Next::kError;
    uint64_t block_offset = offset_;
    offset_ += blk.len;
    if (!blk.wanted) {
      ++skipped_;
      continue;
    }
    if (blk.type == kShb || blk.type == kIdb) {
      if (!(blk.type == kShb ? section_header() : interface_description())) {
        offset_ = block_offset;
        return fail(error_);
      }
      continue;
    }
    return packet(blk, block_offset, p);
  }
}

}  // namespace forage::scanners::pcap
