// Sockets of a live host from /proc/net/{tcp,tcp6,udp,udp6} and their owners from /proc/PID/fd.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace forage::host {

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

}  // namespace forage::host
