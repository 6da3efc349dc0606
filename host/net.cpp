#include "host/net.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "common/strings.h"
#include "host/fs.h"
#include "host/proc.h"

namespace forage::host {
namespace {

const char* tcp_state(unsigned s) {
  static const char* kNames[] = {
      "UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",   "TIME_WAIT",
      "CLOSE",   "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV"};
  return s < std::size(kNames) ? kNames[s] : "UNKNOWN";
}

bool parse_hex32(std::string_view s, uint32_t& out) {
  if (s.size() != 8) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

// "0100007F:0CEA" or 32 hex digits + ":port".
bool parse_addr(std::string_view s, bool v6, uint8_t out[16], uint16_t& port) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view a = s.substr(0, colon), p = s.substr(colon + 1);
  size_t words = v6 ? 4 : 1;
  if (a.size() != words * 8 || p.size() != 4) return false;
  for (size_t w = 0; w < words; ++w) {
    uint32_t v = 0;
    if (!parse_hex32(a.substr(w * 8, 8), v)) return false;
    std::memcpy(out + w * 4, &v, 4);  // the kernel printed the native word of network bytes
  }
  unsigned port_v = 0;
  auto [q, ec] = std::from_chars(p.data(), p.data() + p.size(), port_v, 16);
  if (ec != std::errc() || q != p.data() + p.size()) return false;
  port = static_cast<uint16_t>(port_v);
  return true;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

std::vector<SocketEntry> parse_proc_net(std::string_view text, std::string_view proto,
                                        size_t* bad) {
  std::vector<SocketEntry> out;
  bool v6 = proto.size() > 0 && proto.back() == '6';
  bool udp = proto.rfind("udp", 0) == 0;
  bool first = true;
  for (std::string_view line : split_lines(text)) {
    if (first) {  // "  sl  local_address rem_address   st ..."
      first = false;
      if (line.find("local_address") != std::string_view::npos) continue;
    }
    if (trim(line).empty()) continue;
    auto w = words(line);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    SocketEntry s;
    s.proto = std::string(proto);
    s.v6 = v6;
    unsigned st = 0;
    bool ok = w.size() >= 10 && parse_addr(w[1], v6, s.local, s.local_port) &&
              parse_addr(w[2], v6, s.remote, s.remote_port) && w[3].size() == 2;
    if (ok) {
      auto [p, ec] = std::from_chars(w[3].data(), w[3].data() + 2, st, 16);
      ok = ec == std::errc() && p == w[3].data() + 2;
    }
    uint32_t uid = 0;
    if (ok) {
      auto [p, ec] = std::from_chars(w[7].data(), w[7].data() + w[7].size(), uid);
      ok = ec == std::errc() && p == w[7].data() + w[7].size();
    }
    if (ok) {
      auto [p, ec] = std::from_chars(w[9].data(), w[9].data() + w[9].size(), s.inode);
      ok = ec == std::errc() && p == w[9].data() + w[9].size();
    }
    if (!ok) {
      if (bad) ++*bad;
      continue;
    }
    s.uid = uid;
    if (udp)
      s.state = st == 1 ? "ESTABLISHED" : "UNCONN";
    else
      s.state = tcp_state(st);
    out.push_back(s);
  }
  return out;
}

std::string endpoint(const SocketEntry& s, bool remote) {
  const uint8_t* a = remote ? s.remote : s.local;
  uint16_t port = remote ? s.remote_port : s.local_port;
  char buf[INET6_ADDRSTRLEN] = {};
  if (s.v6) {
    ::inet_ntop(AF_INET6, a, buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(port);
  }
  ::inet_ntop(AF_INET, a, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(port);
}

std::map<uint64_t, std::vector<int>> socket_owners(const std::string& proc_root) {
  std::map<uint64_t, std::vector<int>> out;
  for (int pid : list_pids(proc_root)) {
    std::string fd_dir = proc_root + "/" + std::to_string(pid) + "/fd";
    Dir d = Dir::open(fd_dir);
    if (!d) continue;  // exited, or another user's without privilege
    for (const auto& name : d.names()) {
      std::string target = read_link(fd_dir + "/" + name).value_or("");
      constexpr std::string_view kPrefix = "socket:[";
      if (target.rfind(kPrefix, 0) != 0 || target.back() != ']') continue;
      uint64_t inode = 0;
      const char* b = target.data() + kPrefix.size();
      const char* end = target.data() + target.size() - 1;
      auto [p, ec] = std::from_chars(b, end, inode);
      if (ec != std::errc() || p != end) continue;
      auto& pids = out[inode];
      if (pids.empty() || pids.back() != pid) pids.push_back(pid);
    }
  }
  return out;
}

}  // namespace forage::host
