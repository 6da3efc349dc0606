// Link-layer and IP header decoding for the capture scanner: from the bytes of one captured frame
// to its outer IPv4/IPv6 addresses, transport protocol and ports. Pure functions over untrusted
// bytes: every read is checked against the captured length (caplen), nothing else is trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace forage::scanners::pcap {

// LINKTYPE_ values of the capture file formats (tcpdump.org/linktypes.html). libpcap's DLT_ values
// differ for raw IP (DLT_RAW is 12 or 14); linktype_from_dlt() maps them.
inline constexpr int kLinkNull = 0;      // BSD loopback: 4-byte address family, host byte order
inline constexpr int kLinkEthernet = 1;  // Ethernet: 802.1Q/802.1ad tags, MPLS, PPPoE inside
inline constexpr int kLinkRaw = 101;     // raw IPv4 or IPv6 (version nibble)
inline constexpr int kLinkLoop = 108;    // OpenBSD loopback: address family, network byte order
inline constexpr int kLinkSll = 113;     // Linux cooked capture v1 ("any" before libpcap 1.10)
inline constexpr int kLinkIpv4 = 228;    // raw IPv4 only
inline constexpr int kLinkIpv6 = 229;    // raw IPv6 only
inline constexpr int kLinkSll2 = 276;    // Linux cooked capture v2

// LINKTYPE_ value of a libpcap DLT_ value (they only differ for raw IP and a few others).
int linktype_from_dlt(int dlt);
// The reverse, for handing a pcapng interface's link type to libpcap (BPF compile, dump file).
int dlt_from_linktype(int linktype);
bool linktype_supported(int linktype);
// "EN10MB", "LINUX_SLL2", "RAW", ... (libpcap's names); "LINKTYPE_<n>" when libpcap has none.
std::string linktype_name(int linktype);

enum class Decoded : uint8_t {
  kIp,               // outer IPv4/IPv6 header found; addresses valid
  kNotIp,            // a valid frame carrying something else (ARP, LLC, ...): `ethertype` says what
  kUnsupportedLink,  // link type this decoder does not read
  kTruncated,        // captured bytes end before the IP addresses (snaplen or damaged record)
  kMalformed,        // a header that cannot be right (IHL < 5, wrong version, ...)
};

struct PacketInfo {
  uint8_t version = 0;     // 4 or 6 when kIp
  uint8_t proto = 0;       // transport protocol after IPv6 extension headers; 255 when unknown
  bool fragment = false;   // part of a fragmented datagram
  bool has_ports = false;  // TCP/UDP/SCTP/DCCP/UDP-Lite ports present (first fragment only)
  uint16_t sport = 0, dport = 0;
  uint16_t ethertype = 0;       // for kNotIp: the ethertype or address family that was not IP
  uint8_t vlan_tags = 0;        // 802.1Q/802.1ad tags passed over
  uint32_t src4 = 0, dst4 = 0;  // IPv4, host byte order
  uint8_t src6[16], dst6[16];   // IPv6 (not initialised for IPv4)
};

Decoded decode(int linktype, const uint8_t* data, size_t caplen, PacketInfo& out);

// "tcp", "udp", "icmp", "ipv6-icmp", ... or "ip-proto-<n>".
std::string protocol_name(uint8_t proto);

}  // namespace forage::scanners::pcap
