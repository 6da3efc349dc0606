#include "scanners/net_scan.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <set>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/file.h"
#include "common/strings.h"
#include "host/net.h"
#include "host/proc.h"

namespace forage::scanners {

using host::endpoint;
using host::list_pids;
using host::parse_proc_net;
using host::socket_owners;

namespace {

std::string readlink_str(const std::string& path) {
  char buf[256];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

void scan_net(const NetScanOptions& opts, const ScanInputs& in, FindingSink& sink,
              ScanStats& stats) {
  // One reader per network namespace: the namespace's sockets as seen by a process inside it.
  std::vector<std::pair<std::string, std::string>> namespaces;  // (netns id, net dir)
  std::set<std::string> seen;
  std::string own = readlink_str(opts.proc_root + "/self/ns/net");
  namespaces.push_back({own, opts.proc_root + "/net"});
  seen.insert(own);
  std::vector<int> pids = list_pids(opts.proc_root);
  if (opts.all_namespaces) {
    for (int pid : pids) {
      std::string dir = opts.proc_root + "/" + std::to_string(pid);
      std::string ns = readlink_str(dir + "/ns/net");
      if (ns.empty() || !seen.insert(ns).second) continue;
      namespaces.push_back({ns, dir + "/net"});
    }
  }
  auto owners = socket_owners(opts.proc_root);
  std::map<int, std::string> names;
  auto name_of = [&](int pid) -> std::string {
    auto it = names.find(pid);
    if (it != names.end()) return it->second;
    std::string comm;
    try {
      comm = read_all(Fd(::open((opts.proc_root + "/" + std::to_string(pid) + "/comm").c_str(),
                                O_RDONLY | O_CLOEXEC))
                          .get(),
                      "comm", 4096);
    } catch (const std::exception&) {
    }
    if (!comm.empty() && comm.back() == '\n') comm.pop_back();
    return names[pid] = comm;
  };

  const IpMatcher* ips = in.iocs ? &in.iocs->ips() : nullptr;
  std::set<uint64_t> done;  // a socket listed twice (same namespace reached two ways)
  for (const auto& [ns, dir] : namespaces) {
    for (const char* proto : {"tcp", "tcp6", "udp", "udp6"}) {
      std::string path = dir + "/" + proto;
      std::string text;
      try {
        text = read_all(Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)).get(), path, 256u << 20);
      } catch (const std::exception& e) {
        // No IPv6 on this host, or the namespace's last process exited.
        if (::access(dir.c_str(), F_OK) == 0 && std::string(proto).back() != '6')
          stats.skipped("unreadable", path, true, e.what());
        continue;
      }
      size_t bad = 0;
      auto sockets = parse_proc_net(text, proto, &bad);
      if (bad) stats.bump("lines_skipped", "malformed", bad);
      for (const auto& s : sockets) {
        if (s.inode != 0 && !done.insert(s.inode).second) continue;
        stats.scanned(0);
        stats.bump("sockets", proto);
        if (!ips || ips->empty()) continue;
        const ioc::Indicator* hit = nullptr;
        const char* side = "remote";
        hit = s.v6 ? ips->match_v6_or_mapped(s.remote) : ips->match_v4(ntohl([&] {
          uint32_t v;
          std::memcpy(&v, s.remote, 4);
          return v;
        }()));
        bool unconnected = s.state == "LISTEN" || s.state == "UNCONN";
        if (!hit && (opts.listening || !unconnected)) {
          side = "local";
          uint32_t v;
          std::memcpy(&v, s.local, 4);
          hit = s.v6 ? ips->match_v6_or_mapped(s.local) : ips->match_v4(ntohl(v));
        }
        if (!hit) continue;
        auto it = owners.find(s.inode);
        std::vector<int> holders = it == owners.end() ? std::vector<int>() : it->second;
        Finding f;
        f.pids = holders;
        Json& t = f.target;
        if (holders.empty()) {
          t["pid"] = nullptr;
        } else {
          t["pid"] = holders.front();
          t["process"] = name_of(holders.front());
          if (holders.size() > 1) t["pids"] = holders;
        }
        t["proto"] = proto;
        t["local"] = endpoint(s, false);
        t["remote"] = endpoint(s, true);
        t["state"] = s.state;
        t["uid"] = s.uid;
        if (in.users) t["owner"] = in.users->name(s.uid);
        t["inode"] = s.inode;
        t["netns"] = ns;
        f.match = side;
        f.ioc = ioc_json(*hit);
        sink.add(std::move(f));
      }
    }
  }
}

}  // namespace forage::scanners
