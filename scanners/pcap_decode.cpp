#include "scanners/pcap_decode.h"

#include <pcap/pcap.h>

#include <cstring>

namespace forage::scanners::pcap {
namespace {

// Headers are read byte by byte: captured data has no alignment guarantee.
inline uint16_t be16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}
inline uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
inline uint32_t le32(const uint8_t* p) {
  return uint32_t{p[3]} << 24 | uint32_t{p[2]} << 16 | uint32_t{p[1]} << 8 | p[0];
}

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEther8021Q = 0x8100;
constexpr uint16_t kEther8021AD = 0x88a8;
constexpr uint16_t kEtherQinQOld = 0x9100;  // pre-802.1ad QinQ, still seen on switches
constexpr uint16_t kEtherMplsUnicast = 0x8847;
constexpr uint16_t kEtherMplsMulticast = 0x8848;
constexpr uint16_t kEtherPppoeSession = 0x8864;
constexpr int kMaxVlanTags = 8;  // more is a loop of garbage, not a network
constexpr int kMaxMplsLabels = 16;
constexpr int kMaxIpv6ExtHeaders = 16;
constexpr uint16_t kArphrdNetlink = 824;  // SLL of netlink monitor: "protocol" is a netlink family

bool has_ports(uint8_t proto) {
  // TCP, UDP, DCCP, SCTP, UDP-Lite: source and destination port are the first four bytes.
  return proto == 6 || proto == 17 || proto == 33 || proto == 132 || proto == 136;
}

Decoded ipv6(const uint8_t* p, size_t len, PacketInfo& out);

Decoded ipv4(const uint8_t* p, size_t len, PacketInfo& out) {
  // An IPv6 packet behind an IPv4 ethertype or link type: Wireshark decodes it as IPv6, and so
  // do we, so that both see the same addresses.
  if (len >= 1 && (p[0] >> 4) == 6) return ipv6(p, len, out);
  if (len < 20) return Decoded::kTruncated;
  if ((p[0] >> 4) != 4) return Decoded::kMalformed;
  size_t ihl = size_t(p[0] & 0x0f) * 4;
  if (ihl < 20) return Decoded::kMalformed;
  uint16_t total = be16(p + 2);
  // 0 is what a sender with TCP segmentation offload records; anything else below the header
  // length cannot be an IPv4 packet.
  if (total != 0 && total < ihl) return Decoded::kMalformed;
  out.version = 4;
  out.src4 = be32(p + 12);
  out.dst4 = be32(p + 16);
  out.proto = p[9];
  uint16_t frag = be16(p + 6);
  bool more = frag & 0x2000;
  uint16_t offset = frag & 0x1fff;
  out.fragment = more || offset != 0;
  // Only the first fragment carries the transport header.
  size_t end = total != 0 && total < len ? total : len;
  if (offset == 0 && has_ports(out.proto) && ihl + 4 <= end) {
    out.has_ports = true;
    out.sport = be16(p + ihl);
    out.dport = be16(p + ihl + 2);
  }
  return Decoded::kIp;
}

Decoded ipv6(const uint8_t* p, size_t len, PacketInfo& out) {
  if (len < 40) return Decoded::kTruncated;
  if ((p[0] >> 4) != 6) return Decoded::kMalformed;
  out.version = 6;
  std::memcpy(out.src6, p + 8, 16);
  std::memcpy(out.dst6, p + 24, 16);
  uint8_t next = p[6];
  size_t off = 40;
  for (int i = 0; i < kMaxIpv6ExtHeaders; ++i) {
    size_t hdr_len;
    if (next == 0 || next == 43 || next == 60 || next == 135 || next == 139 || next == 140) {
      // Hop-by-hop, routing, destination options, mobility, HIP, shim6: length in 8-byte units.
      if (off + 2 > len) break;
      hdr_len = (size_t(p[off + 1]) + 1) * 8;
    } else if (next == 51) {  // AH: length in 4-byte units, minus 2
      if (off + 2 > len) break;
      hdr_len = (size_t(p[off + 1]) + 2) * 4;
    } else if (next == 44) {  // fragment header
      if (off + 8 > len) break;
      out.fragment = true;
      uint16_t offset = be16(p + off + 2) & 0xfff8;
      next = p[off];
      off += 8;
      if (offset != 0) {  // later fragments: no transport header
        out.proto = next;
        return Decoded::kIp;
      }
      continue;
    } else {
      break;
    }
    next = p[off];
    off += hdr_len;
  }
  out.proto = next;
  if (has_ports(next) && off <= len && len - off >= 4) {
    out.has_ports = true;
    out.sport = be16(p + off);
    out.dport = be16(p + off + 2);
  }
  return Decoded::kIp;
}

// Either IP version, by the version nibble (raw IP link types).
Decoded ip_any(const uint8_t* p, size_t len, PacketInfo& out) {
  if (len < 1) return Decoded::kTruncated;
  switch (p[0] >> 4) {
    case 4:
      return ipv4(p, len, out);
    case 6:
      return ipv6(p, len, out);
    default:
      return Decoded::kMalformed;
  }
}

// From an ethertype at p[off-2..off) on: VLAN tags, then IPv4/IPv6 or something else.
Decoded ether_payload(uint16_t type, const uint8_t* p, size_t len, size_t off, PacketInfo& out) {
  while (type == kEther8021Q || type == kEther8021AD || type == kEtherQinQOld) {
    if (out.vlan_tags >= kMaxVlanTags) return Decoded::kMalformed;
    if (off + 4 > len) return Decoded::kTruncated;
    type = be16(p + off + 2);
    off += 4;
    ++out.vlan_tags;
  }
  if (type == kEtherIpv4) return ipv4(p + off, len - off, out);
  if (type == kEtherIpv6) return ipv6(p + off, len - off, out);
  out.ethertype = type;
  if (type == kEtherMplsUnicast || type == kEtherMplsMulticast) {
    // Label stack down to the bottom-of-stack bit; what follows has no type field: IP is
    // recognised by its version nibble (as Wireshark does), anything else (a pseudowire) is not IP.
    for (int i = 0;; ++i) {
      if (i >= kMaxMplsLabels) return Decoded::kMalformed;
      if (off + 4 > len) return Decoded::kTruncated;
      bool bottom = p[off + 2] & 1;
      off += 4;
      if (bottom) break;
    }
    if (off >= len) return Decoded::kTruncated;
    uint8_t version = p[off] >> 4;
    if (version == 4) return ipv4(p + off, len - off, out);
    if (version == 6) return ipv6(p + off, len - off, out);
    return Decoded::kNotIp;
  }
  if (type == kEtherPppoeSession) {  // PPPoE header (6 bytes), then the PPP protocol
    if (off + 8 > len) return Decoded::kTruncated;
    uint16_t ppp = be16(p + off + 6);
    if (ppp == 0x0021) return ipv4(p + off + 8, len - off - 8, out);
    if (ppp == 0x0057) return ipv6(p + off + 8, len - off - 8, out);
    return Decoded::kNotIp;
  }
  return Decoded::kNotIp;
}

// DLT_NULL / DLT_LOOP: a 4-byte address family. BSD values for IPv6 differ per system.
Decoded loopback(uint32_t family, const uint8_t* p, size_t len, PacketInfo& out) {
  if (family > 1500) return ether_payload(uint16_t(family), p, len, 4, out);  // an ethertype
  if (family == 2) return ipv4(p + 4, len - 4, out);
  if (family == 24 || family == 28 || family == 30) return ipv6(p + 4, len - 4, out);
  out.ethertype = uint16_t(family);
  return Decoded::kNotIp;
}

}  // namespace

int linktype_from_dlt(int dlt) {
  if (dlt == DLT_RAW) return kLinkRaw;
  return dlt;
}

int dlt_from_linktype(int linktype) {
  if (linktype == kLinkRaw || linktype == 12 || linktype == 14) return DLT_RAW;
  return linktype;
}

bool linktype_supported(int linktype) {
  switch (linktype) {
    case kLinkNull:
    case kLinkEthernet:
    case kLinkRaw:
    case 12:  // DLT_RAW as most systems wrote it into files
    case 14:  // DLT_RAW of OpenBSD and BSD/OS
    case kLinkLoop:
    case kLinkSll:
    case kLinkIpv4:
    case kLinkIpv6:
    case kLinkSll2:
      return true;
    default:
      return false;
  }
}

std::string linktype_name(int linktype) {
  const char* name = pcap_datalink_val_to_name(dlt_from_linktype(linktype));
  if (name) return name;
  return "LINKTYPE_" + std::to_string(linktype);
}

Decoded decode(int linktype, const uint8_t* p, size_t len, PacketInfo& out) {
  switch (linktype) {
    case kLinkEthernet:
      if (len < 14) return Decoded::kTruncated;
      // 802.3 frames carry a length (<= 1500) here: LLC, not IP; reported as such.
      return ether_payload(be16(p + 12), p, len, 14, out);
    case kLinkSll:
      if (len < 16) return Decoded::kTruncated;
      if (be16(p + 2) == kArphrdNetlink) {
        out.ethertype = be16(p + 14);
        return Decoded::kNotIp;
      }
      return ether_payload(be16(p + 14), p, len, 16, out);
    case kLinkSll2:
      if (len < 20) return Decoded::kTruncated;
      if (be16(p + 8) == kArphrdNetlink) {
        out.ethertype = be16(p);
        return Decoded::kNotIp;
      }
      return ether_payload(be16(p), p, len, 20, out);
    case kLinkRaw:
    case 12:
    case 14:
      return ip_any(p, len, out);
    case kLinkIpv4:
      return ipv4(p, len, out);
    case kLinkIpv6:
      return ipv6(p, len, out);
    case kLinkNull: {
      if (len < 4) return Decoded::kTruncated;
      // Host byte order of the capturing system: a family never needs the upper 16 bits.
      uint32_t family = le32(p);
      if (family & 0xffff0000u) family = be32(p);
      return loopback(family, p, len, out);
    }
    case kLinkLoop:
      if (len < 4) return Decoded::kTruncated;
      return loopback(be32(p), p, len, out);
    default:
      return Decoded::kUnsupportedLink;
  }
}

std::string protocol_name(uint8_t proto) {
  switch (proto) {
    case 1:
      return "icmp";
    case 2:
      return "igmp";
    case 4:
      return "ipip";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 33:
      return "dccp";
    case 41:
      return "ipv6";
    case 47:
      return "gre";
    case 50:
      return "esp";
    case 51:
      return "ah";
    case 58:
      return "ipv6-icmp";
    case 89:
      return "ospf";
    case 103:
      return "pim";
    case 112:
      return "vrrp";
    case 132:
      return "sctp";
    case 136:
      return "udplite";
    default:
      return "ip-proto-" + std::to_string(proto);
  }
}

}  // namespace forage::scanners::pcap
