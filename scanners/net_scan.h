// `scan net`: every TCP and UDP socket of the host (IPv4 and IPv6, every network namespace a
// process is in), from /proc/PID/net/{tcp,tcp6,udp,udp6}, mapped to the owning processes through
// /proc/PID/fd, with both endpoints matched against IP and CIDR indicators (longest prefix).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "host/net.h"
#include "scanners/file_scan.h"

namespace forage::scanners {

using host::SocketEntry;

struct NetScanOptions {
  std::string proc_root = "/proc";
  bool all_namespaces = true;  // also the sockets of containers in their own network namespace
  bool listening = true;       // also match listening/unconnected sockets' local addresses
};

void scan_net(const NetScanOptions& opts, const ScanInputs& in, FindingSink& sink,
              ScanStats& stats);

}  // namespace forage::scanners
