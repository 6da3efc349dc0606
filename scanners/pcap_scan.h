// The capture scanner (`forage scan pcap`): which packets of capture files or a live interface
// have an indicator (IPv4/IPv6 address or CIDR network) as their outer source or destination.
// One finding per indicator seen, after the whole input: first/last seen, packets and bytes in
// each direction, peers and their ports, protocols, the captures it was seen in. Then one summary
// line (packets_total, packets_matched, bytes, link types, skipped counts, errors).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ioc/indicator.h"
#include "scanners/report.h"

namespace forage::scanners {

struct PcapScanOptions {
  // Offline: capture files and directories (searched recursively, symlinks inside not followed);
  // "-" alone reads stdin. Scanned in time order of their first packet.
  std::vector<std::string> inputs;
  // Live: an interface name or "any" (instead of inputs).
  std::string interface;
  double duration_s = 0;     // live: stop after this many seconds (0: until SIGINT/SIGTERM)
  uint64_t max_packets = 0;  // live: stop after this many packets (0: no limit)
  int snaplen = 128;         // live: bytes kept per packet
  bool promisc = false;      // live
  std::string filter;        // BPF expression: packets it rejects are not examined (counted)
  // Matching packets go to this pcap file (and, for each further link type seen among them, to
  // "<stem>-<LINKTYPE>.pcap" beside it, as one pcap file has a single link type).
  std::string write_matches;
};

// What a capture scan gives besides its findings: the fields of its summary line (packets,
// link types, errors...) and whether it is incomplete (a capture unreadable, packets dropped or
// of link types not read, an offline scan interrupted).
struct PcapResult {
  Json summary;
  bool incomplete = false;
};

// Runs the scan. Findings go to `sink`, one per indicator seen, in order of first appearance;
// progress and problems are logged on stderr. Throws forage::Error on usage errors and when no
// input could be opened (the message names the file or interface). SIGINT/SIGTERM stop the scan
// cleanly: the findings so far and the summary are still given.
PcapResult scan_pcap(const PcapScanOptions& o, const ioc::IocSet& iocs, FindingSink& sink);

}  // namespace forage::scanners
