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

#include "scanners/file_scan.h"

namespace forage::scanners {

struct SocketEntry {
  std::string proto;  // "tcp", "tcp6", "udp", "udp6"
  bool v6 = false;
  uint8_t local[16] = {}, remote[16] = {};  // network byte order; IPv4 in the first 4 bytes
  uint16_t local_port = 0, remote_port = 0;
  std::string state;  // "ESTABLISHED", "LISTEN", ... (UDP: "UNCONN" or "ESTABLISHED")
  uid_t uid = 0;
  uint64_t inode = 0;
};

// One /proc/net/{tcp,udp}[6] file. The header line and malformed lines are skipped (counted in
// `bad`). Addresses are printed by the kernel as native-endian words, so this is read on the
// machine (endianness) that wrote it.
std::vector<SocketEntry> parse_proc_net(std::string_view text, std::string_view proto,
                                        size_t* bad = nullptr);

// "192.0.2.1:443", "[2001:db8::1]:443".
std::string endpoint(const SocketEntry& s, bool remote);

// socket inode -> pids holding it, from /proc/*/fd (links "socket:[N]").
std::map<uint64_t, std::vector<int>> socket_owners(const std::string& proc_root);

struct NetScanOptions {
  std::string proc_root = "/proc";
  bool all_namespaces = true;  // also the sockets of containers in their own network namespace
  bool listening = true;       // also match listening/unconnected sockets' local addresses
};

void scan_net(const NetScanOptions& opts, const ScanInputs& in, Reporter& reporter,
              ScanStats& stats);

}  // namespace forage::scanners
