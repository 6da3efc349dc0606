#include "scanners/pcap_scan.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/time.h"
#include "host/deadline.h"
#include "scanners/ip_match.h"
#include "scanners/pcap_decode.h"
#include "scanners/pcap_source.h"

namespace forage::scanners {
namespace {

using pcap::Decoded;
using pcap::Packet;
using pcap::PacketInfo;
using pcap::PacketSource;

// Per-indicator memory stays bounded whatever the traffic (a scan of a /8 seen by a whole site).
constexpr size_t kMaxPeersTracked = 4096;
constexpr size_t kMaxPeersReported = 100;
constexpr size_t kMaxPortsPerPeer = 32;
constexpr size_t kMaxIocPorts = 64;
constexpr size_t kMaxIocAddresses = 256;
constexpr int kMaxDirDepth = 64;
constexpr uint32_t kDumpSnaplen = 262144;  // the largest snap length readers accept
constexpr size_t kWriteBuffer = 1u << 20;  // --write-matches: bytes per write(2)

// SIGINT/SIGTERM stop cleanly with the summary still written: the command asks for it
// (host::stop_gracefully()), the loops below ask host::stop_requested() (a signal also
// interrupts the live capture's poll()).

// --- small helpers ---

struct Addr {
  uint8_t version = 0;
  uint8_t b[16] = {};
  bool operator==(const Addr& o) const {
    return version == o.version && std::memcmp(b, o.b, 16) == 0;
  }
};

// Every bit of the address reaches the low bits the tables below index by (a plain multiply
// leaves the low bits of an IPv4 address's hash to its first octet: long probe runs).
struct AddrHash {
  size_t operator()(const Addr& a) const {
    uint64_t x, y;
    std::memcpy(&x, a.b, 8);
    std::memcpy(&y, a.b + 8, 8);
    uint64_t z = x ^ (y * 0x9E3779B97F4A7C15ull) ^ a.version;
    z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdull;  // MurmurHash3's finaliser
    z = (z ^ (z >> 33)) * 0xc4ceb9fe1a85ec53ull;
    return size_t(z ^ (z >> 33));
  }
};

Addr addr_v4(uint32_t a) {
  Addr r;
  r.version = 4;
  a = htonl(a);
  std::memcpy(r.b, &a, 4);
  return r;
}

Addr addr_v6(const uint8_t* a) {
  Addr r;
  r.version = 6;
  std::memcpy(r.b, a, 16);
  return r;
}

std::string addr_text(const Addr& a) {
  char buf[INET6_ADDRSTRLEN] = "";
  inet_ntop(a.version == 4 ? AF_INET : AF_INET6, a.b, buf, sizeof buf);
  return buf;
}

// "2024-11-20T08:15:02.123456Z"
std::string utc(int64_t ns) {
  return utc_iso(ns / 1000000000, ns % 1000000000, 6);
}

// --- per-indicator statistics, updated in place ---
//
// The hot path of a scan where hits are many (a DDoS capture: every packet matches): a matched
// packet finds its indicator's Hit by the indicator's position in the IocSet (a flat array, no
// hashing of keys), then bumps counters in place. Nothing is allocated per packet once an
// indicator, a peer or a port has been seen; sets are small flat arrays scanned branch-free, peers
// an open-addressing table. Sorting and formatting wait for the findings at the end.

// At most N distinct ports in arrival order (sorted when reported); a port beyond N sets
// `capped`. The membership test is a loop without early exit, which the compiler vectorises.
template <size_t N>
struct PortSet {
  std::array<uint16_t, N> v;
  uint16_t n = 0;
  bool capped = false;

  bool contains(uint16_t p) const {
    bool found = false;
    for (size_t i = 0; i < n; ++i) found |= v[i] == p;
    return found;
  }
  void add(uint16_t p) {
    if (capped || contains(p)) return;  // capped: the set is full and p changes nothing
    if (n < N)
      v[n++] = p;
    else
      capped = true;
  }
  Json sorted() const {
    std::array<uint16_t, N> s = v;
    std::sort(s.begin(), s.begin() + n);
    Json a = Json::array();
    for (size_t i = 0; i < n; ++i) a.push_back(s[i]);
    return a;
  }
};

// Addresses to values, at most `max` of them, by open addressing (linear probing, load <= 1/2).
// A slot holds the entry's index + 1 (low 32 bits, 0: empty) and the top 32 bits of its hash, so
// a probe reads an entry only when the hashes agree: when the table is full and most addresses
// are new (a scan, a DDoS), a lookup touches one cache line. Entries stay in order of first
// appearance. Never shrinks.
template <typename V>
class AddrMap {
 public:
  struct Entry {
    Addr addr;
    V value{};
  };

  // The value of `a`, added when absent; nullptr when absent and `max` entries are already held.
  V* find_or_add(const Addr& a, size_t max) {
    const uint64_t h = AddrHash()(a), tag = h >> 32 << 32;
    if (!slots_.empty()) {
      const size_t mask = slots_.size() - 1;
      for (size_t i = h & mask;; i = (i + 1) & mask) {
        const uint64_t slot = slots_[i];
        if (slot == 0) {
          if (entries_.size() >= max) return nullptr;
          if ((entries_.size() + 1) * 2 > slots_.size()) break;  // grow first
          entries_.push_back(Entry{a});
          slots_[i] = tag | entries_.size();
          return &entries_.back().value;
        }
        if ((slot & ~0xffffffffull) == tag && entries_[uint32_t(slot) - 1].addr == a)
          return &entries_[uint32_t(slot) - 1].value;
      }
    }
    if (max == 0) return nullptr;
    grow();
    return find_or_add(a, max);
  }

  size_t size() const { return entries_.size(); }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  void grow() {
    std::vector<uint64_t> s(slots_.empty() ? 8 : slots_.size() * 2, 0);
    const size_t mask = s.size() - 1;
    for (size_t k = 0; k < entries_.size(); ++k) {
      const uint64_t h = AddrHash()(entries_[k].addr);
      size_t i = h & mask;
      while (s[i]) i = (i + 1) & mask;
      s[i] = (h >> 32 << 32) | (k + 1);
    }
    slots_.swap(s);
  }

  std::vector<Entry> entries_;
  std::vector<uint64_t> slots_;
};

struct Peer {
  uint64_t packets = 0, bytes = 0;
  PortSet<kMaxPortsPerPeer> ports;
};

struct Hit {
  int64_t first_ns = std::numeric_limits<int64_t>::max();
  int64_t last_ns = std::numeric_limits<int64_t>::min();
  uint64_t packets_from = 0, bytes_from = 0;  // the indicator was the source
  uint64_t packets_to = 0, bytes_to = 0;      // the indicator was the destination
  std::array<uint64_t, 256> protocols{};
  AddrMap<Peer> peers;
  uint64_t untracked_peer_packets = 0;
  PortSet<kMaxIocPorts> ioc_ports;
  AddrMap<char> ioc_addresses;  // a CIDR indicator's own addresses seen
  bool ioc_addresses_capped = false;
  std::vector<uint32_t> captures;  // ascending: captures are scanned one after the other
};

// --- --write-matches: one pcap file per link type (a pcap file has one link type) ---

class MatchWriter {
 public:
  explicit MatchWriter(std::string path) : path_(std::move(path)) {}
  MatchWriter(const MatchWriter&) = delete;
  MatchWriter& operator=(const MatchWriter&) = delete;
  ~MatchWriter() {
    for (auto& [lt, out] : outs_) {
      out.dumper.reset();
      if (!finished_) ::unlink(out.partial.c_str());
    }
  }

  // False (and error() set) when the file cannot be created; the scan goes on without it.
  bool write(const Packet& p) {
    auto it = outs_.find(p.linktype);
    if (it == outs_.end()) {
      if (failed_) return false;
      it = open(p.linktype);
      if (it == outs_.end()) return false;
    }
    pcap_pkthdr h{};
    h.ts.tv_sec = time_t(p.ts_ns >= 0 ? p.ts_ns / 1000000000 : (p.ts_ns + 1) / 1000000000 - 1);
    h.ts.tv_usec = suseconds_t((p.ts_ns - int64_t(h.ts.tv_sec) * 1000000000) / 1000);
    h.caplen = std::min(p.caplen, kDumpSnaplen);
    h.len = p.len;
    pcap_dump(reinterpret_cast<u_char*>(it->second.dumper.get()), &h, p.data);
    return true;
  }

  // Flushes, closes and renames into place. Returns the files written; error() on failure.
  std::vector<std::string> finish() {
    std::vector<std::string> done;
    for (auto& [lt, out] : outs_) {
      bool ok =
          pcap_dump_flush(out.dumper.get()) == 0 && !std::ferror(pcap_dump_file(out.dumper.get()));
      out.dumper.reset();
      if (ok && std::rename(out.partial.c_str(), out.final.c_str()) == 0) {
        done.push_back(out.final);
      } else {
        error_ = out.final + ": " + std::strerror(errno);
        ::unlink(out.partial.c_str());
      }
    }
    finished_ = true;
    return done;
  }

  const std::string& error() const { return error_; }

 private:
  struct Out {
    pcap::PcapHandle dead;
    std::unique_ptr<char[]> buffer;  // the FILE's: outlives the dumper (declared before it)
    pcap::DumperHandle dumper;
    std::string final, partial;
  };

  std::map<int, Out>::iterator open(int linktype) {
    Out out;
    out.final = path_;
    if (!outs_.empty()) {  // further link types: beside the first file
      std::filesystem::path p(path_);
      std::string ext = p.extension().string();
      out.final = (p.parent_path() / (p.stem().string() + "-" + pcap::linktype_name(linktype) +
                                      (ext.empty() ? ".pcap" : ext)))
                      .string();
    }
    out.partial = out.final + ".partial";
    // Classic microsecond pcap: the format every tool reads (sub-microsecond digits are dropped).
    out.dead.reset(pcap_open_dead_with_tstamp_precision(
        pcap::dlt_from_linktype(linktype), int(kDumpSnaplen), PCAP_TSTAMP_PRECISION_MICRO));
    if (!out.dead) {
      failed_ = true;
      error_ = out.final + ": cannot write link type " + pcap::linktype_name(linktype);
      return outs_.end();
    }
    // Our own FILE with a 1 MiB buffer: libpcap's pcap_dump_open gets stdio's default (one page),
    // a write(2) every few packets when every packet matches.
    std::FILE* f = std::fopen(out.partial.c_str(), "wbe");
    if (!f) {
      failed_ = true;
      error_ = out.final + ": " + std::strerror(errno);
      return outs_.end();
    }
    out.buffer = std::make_unique<char[]>(kWriteBuffer);
    std::setvbuf(f, out.buffer.get(), _IOFBF, kWriteBuffer);
    out.dumper.reset(pcap_dump_fopen(out.dead.get(), f));
    if (!out.dumper) {
      std::fclose(f);
      ::unlink(out.partial.c_str());
      failed_ = true;
      error_ = out.final + ": " + pcap_geterr(out.dead.get());
      return outs_.end();
    }
    if (!outs_.empty())
      spdlog::info("matching packets of link type {} go to {}", pcap::linktype_name(linktype),
                   out.final);
    return outs_.emplace(linktype, std::move(out)).first;
  }

  std::string path_, error_;
  std::map<int, Out> outs_;
  bool failed_ = false, finished_ = false;
};

// --- the scan ---

class CaptureScan {
 public:
  CaptureScan(const PcapScanOptions& o, const ioc::IocSet& iocs)
      : opts_(o),
        iocs_(iocs),
        matcher_(IpMatcher::from(iocs)),
        hit_of_(iocs.indicators.size(), kNoHit) {
    if (!o.write_matches.empty()) writer_ = std::make_unique<MatchWriter>(o.write_matches);
  }

  size_t indicators() const { return matcher_.size(); }

  uint32_t add_capture(const std::string& name) {
    captures_.push_back(name);
    return uint32_t(captures_.size() - 1);
  }

  void error(const std::string& message) {
    spdlog::warn("{}", message);
    errors_.push_back(message);
  }

  void skip_target(const std::string& reason) { ++skipped_targets_[reason]; }

  // Reads a whole capture file; a read error ends it (recorded), what came before counts.
  void scan_source(PacketSource& src, uint32_t capture) {
    ++targets_;
    uint64_t before = packets_total_;
    Packet p;
    for (;;) {
      if (host::stop_requested()) {
        interrupted_ = true;
        break;
      }
      auto r = src.next(p);
      if (r == PacketSource::Next::kPacket) {
        process(p, capture);
        continue;
      }
      if (r == PacketSource::Next::kError)
        error(src.name() + ": " + src.error() + " (after " +
              std::to_string(packets_total_ - before) + " packets)");
      break;
    }
    if (src.blocks_skipped() > 0)
      spdlog::info("{}: skipped {} pcapng blocks that carry no packets", src.name(),
                   src.blocks_skipped());
    spdlog::debug("{}: {} packets ({})", src.name(), packets_total_ - before, src.format());
  }

  void scan_live(pcap::LiveCapture& live, uint32_t capture) {
    ++targets_;
    using Clock = std::chrono::steady_clock;
    auto deadline = opts_.duration_s > 0
                        ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(opts_.duration_s))
                        : Clock::time_point::max();
    Packet p;
    uint64_t n = 0;
    for (;;) {
      if (host::stop_requested()) break;
      auto r = live.next(p);
      if (r == PacketSource::Next::kPacket) {
        process(p, capture);
        ++n;
        if (opts_.max_packets && n >= opts_.max_packets) break;
        if ((n & 63) == 0 && Clock::now() >= deadline) break;
        continue;
      }
      if (r == PacketSource::Next::kTimeout) {
        if (Clock::now() >= deadline) break;
        continue;
      }
      if (r == PacketSource::Next::kError)
        error("interface " + live.name() + ": " + live.error() + " (after " + std::to_string(n) +
              " packets)");
      break;  // kBreak (signal) or kError
    }
    if (auto s = live.stats()) {
      kernel_ = *s;
      if (s->dropped > 0 || s->if_dropped > 0)
        spdlog::warn(
            "interface {}: the kernel dropped {} packets (interface: {}); the scan missed them",
            live.name(), s->dropped, s->if_dropped);
    }
    live_ = true;
  }

  PcapResult finish(FindingSink& sink, double seconds) {
    // Findings in order of first appearance: the timeline of the incident.
    std::vector<std::pair<const ioc::Indicator*, const Hit*>> order;
    for (size_t id = 0; id < hit_of_.size(); ++id)
      if (hit_of_[id] != kNoHit) order.emplace_back(&iocs_.indicators[id], &hits_[hit_of_[id]]);
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      if (a.second->first_ns != b.second->first_ns) return a.second->first_ns < b.second->first_ns;
      return a.first->value < b.first->value;
    });
    for (const auto& [ind, hit] : order) sink.add(finding(*ind, *hit));

    std::vector<std::string> written;
    if (writer_) {
      written = writer_->finish();
      if (!writer_->error().empty()) error("--write-matches " + writer_->error());
    }

    Json s;
    s["targets"] = targets_;
    Json skipped = Json::object();
    for (const auto& [k, v] : skipped_targets_) skipped[k] = v;
    s["skipped"] = skipped;
    s["packets_total"] = packets_total_;
    s["packets_matched"] = packets_matched_;
    s["bytes"] = bytes_total_;
    s["bytes_matched"] = bytes_matched_;
    s["packets_ip"] = packets_ip_;
    s["fragments"] = fragments_;
    std::map<std::string, uint64_t> by_name;  // sorted by name: stable output
    uint64_t unsupported = 0;
    for (const auto& [lt, n] : link_counts_) {
      by_name[pcap::linktype_name(lt)] += n;
      if (!pcap::linktype_supported(lt)) unsupported += n;
    }
    Json links = Json::object();
    for (const auto& [name, n] : by_name) links[name] = n;
    s["link_types"] = links;
    Json ps = Json::object();
    if (not_ip_) ps["not ip"] = not_ip_;
    if (truncated_) ps["truncated"] = truncated_;
    if (malformed_) ps["malformed"] = malformed_;
    if (filtered_) ps["filtered"] = filtered_;
    for (const auto& [lt, n] : link_counts_)
      if (!pcap::linktype_supported(lt)) ps["link type " + pcap::linktype_name(lt)] = n;
    s["packets_skipped"] = ps;
    s["indicators"] = matcher_.size();
    s["iocs_ignored"] = iocs_.indicators.size() - matcher_.size();
    if (live_) {
      s["interface"] = opts_.interface;
      s["kernel"] = {{"received", kernel_.received},
                     {"dropped", kernel_.dropped},
                     {"if_dropped", kernel_.if_dropped}};
    }
    if (writer_) s["write_matches"] = written;
    if (interrupted_) s["interrupted"] = true;
    s["errors"] = errors_;
    s["seconds"] = std::round(seconds * 1000) / 1000;

    if (unsupported > 0)
      spdlog::warn("{} packets of link types this scanner does not read were skipped", unsupported);
    bool incomplete = !errors_.empty() || unsupported > 0 || (interrupted_ && !live_) ||
                      kernel_.dropped > 0 || kernel_.if_dropped > 0;
    return PcapResult{std::move(s), incomplete};
  }

 private:
  // The hot path: once per packet.
  void process(const Packet& p, uint32_t capture) {
    ++packets_total_;
    bytes_total_ += p.len;
    if (p.linktype != last_linktype_ || !link_counter_) {
      last_linktype_ = p.linktype;
      link_counter_ = &link_counts_[p.linktype];
      filter_ = filter_for(p.linktype);
    }
    ++*link_counter_;
    if (reject_all_ || (filter_ && !filter_->matches(p.caplen, p.len, p.data))) {
      ++filtered_;
      return;
    }
    PacketInfo info;
    switch (pcap::decode(p.linktype, p.data, p.caplen, info)) {
      case Decoded::kIp:
        break;
      case Decoded::kNotIp:
        ++not_ip_;
        return;
      case Decoded::kUnsupportedLink:
        return;  // counted by link type
      case Decoded::kTruncated:
        ++truncated_;
        return;
      case Decoded::kMalformed:
        ++malformed_;
        return;
    }
    ++packets_ip_;
    if (info.fragment) ++fragments_;
    const ioc::Indicator *src, *dst;
    if (info.version == 4) {
      src = matcher_.match_v4(info.src4);
      dst = matcher_.match_v4(info.dst4);
    } else {
      src = matcher_.match_v6(info.src6);
      dst = matcher_.match_v6(info.dst6);
    }
    if (!src && !dst) return;
    ++packets_matched_;
    bytes_matched_ += p.len;
    if (src) record(*src, true, info, p, capture);
    if (dst && dst != src) record(*dst, false, info, p, capture);
    if (writer_ && !writer_->write(p) && !write_error_reported_) {
      write_error_reported_ = true;
      error("--write-matches " + writer_->error());
    }
  }

  // The Hit of an indicator of the matcher (which points into iocs_.indicators).
  Hit& hit_for(const ioc::Indicator& ind) {
    uint32_t& k = hit_of_[size_t(&ind - iocs_.indicators.data())];
    if (k == kNoHit) {
      k = uint32_t(hits_.size());
      hits_.emplace_back();
    }
    return hits_[k];
  }

  void record(const ioc::Indicator& ind, bool is_src, const PacketInfo& info, const Packet& p,
              uint32_t capture) {
    Hit& h = hit_for(ind);
    h.first_ns = std::min(h.first_ns, p.ts_ns);
    h.last_ns = std::max(h.last_ns, p.ts_ns);
    if (is_src) {
      ++h.packets_from;
      h.bytes_from += p.len;
    } else {
      ++h.packets_to;
      h.bytes_to += p.len;
    }
    ++h.protocols[info.proto];
    if (h.captures.empty() || h.captures.back() != capture) h.captures.push_back(capture);

    Addr self = info.version == 4 ? addr_v4(is_src ? info.src4 : info.dst4)
                                  : addr_v6(is_src ? info.src6 : info.dst6);
    Addr other = info.version == 4 ? addr_v4(is_src ? info.dst4 : info.src4)
                                   : addr_v6(is_src ? info.dst6 : info.src6);
    if (ind.type == ioc::Type::kCidr && !h.ioc_addresses.find_or_add(self, kMaxIocAddresses))
      h.ioc_addresses_capped = true;
    uint16_t self_port = is_src ? info.sport : info.dport;
    uint16_t other_port = is_src ? info.dport : info.sport;
    if (info.has_ports) h.ioc_ports.add(self_port);
    Peer* peer = h.peers.find_or_add(other, kMaxPeersTracked);
    if (!peer) {
      ++h.untracked_peer_packets;
      return;
    }
    ++peer->packets;
    peer->bytes += p.len;
    if (info.has_ports) peer->ports.add(other_port);
  }

  Finding finding(const ioc::Indicator& ind, const Hit& h) const {
    Finding out;
    Json caps = Json::array();
    for (uint32_t c : h.captures) caps.push_back(captures_[c]);
    out.target["pcap"] = caps;
    Json& f = out.details;
    Json i;
    i["type"] = std::string(ioc::type_name(ind.type));
    i["value"] = ind.value;
    i["source"] = ind.source.display();
    std::string tlp = ind.tlp.empty() ? iocs_.tlp : ind.tlp;
    if (!tlp.empty()) i["tlp"] = tlp;
    if (!ind.context.empty()) i["context"] = ind.context;
    out.ioc = std::move(i);
    f["first_seen"] = utc(h.first_ns);
    f["last_seen"] = utc(h.last_ns);
    f["packets"] = h.packets_from + h.packets_to;
    f["bytes"] = h.bytes_from + h.bytes_to;
    f["from_ioc"] = {{"packets", h.packets_from}, {"bytes", h.bytes_from}};
    f["to_ioc"] = {{"packets", h.packets_to}, {"bytes", h.bytes_to}};
    Json protos = Json::object();
    for (int k = 0; k < 256; ++k)
      if (h.protocols[k]) protos[pcap::protocol_name(uint8_t(k))] = h.protocols[k];
    f["protocols"] = protos;
    if (ind.type == ioc::Type::kCidr) {
      std::vector<Addr> a;
      for (const auto& e : h.ioc_addresses.entries()) a.push_back(e.addr);
      std::sort(a.begin(), a.end(),
                [](const Addr& x, const Addr& y) { return std::memcmp(x.b, y.b, 16) < 0; });
      Json addrs = Json::array();
      for (const auto& x : a) addrs.push_back(addr_text(x));
      f["ioc_addresses"] = addrs;
      if (h.ioc_addresses_capped) f["ioc_addresses_capped"] = true;
    }
    f["ioc_ports"] = h.ioc_ports.sorted();
    if (h.ioc_ports.capped) f["ioc_ports_capped"] = true;
    std::vector<std::pair<Addr, const Peer*>> peers;
    for (const auto& e : h.peers.entries()) peers.emplace_back(e.addr, &e.value);
    std::sort(peers.begin(), peers.end(), [](const auto& x, const auto& y) {
      if (x.second->packets != y.second->packets) return x.second->packets > y.second->packets;
      return std::memcmp(x.first.b, y.first.b, 16) < 0;
    });
    Json pj = Json::array();
    for (size_t k = 0; k < peers.size() && k < kMaxPeersReported; ++k) {
      const Peer& p = *peers[k].second;
      Json e = {{"ip", addr_text(peers[k].first)}, {"packets", p.packets}, {"bytes", p.bytes}};
      e["ports"] = p.ports.sorted();
      if (p.ports.capped) e["ports_capped"] = true;
      pj.push_back(e);
    }
    f["peers"] = pj;
    f["peers_total"] = h.peers.size();
    if (h.untracked_peer_packets) f["untracked_peer_packets"] = h.untracked_peer_packets;
    return out;
  }

  // The --filter program for a link type, compiled on first use; nullptr for no filtering.
  // reject_all_ is set when the filter has no meaning on that link type (e.g. "ether host" on
  // raw IP): its packets are then counted as filtered rather than scanned unfiltered.
  const pcap::BpfProgram* filter_for(int linktype) {
    reject_all_ = false;
    if (opts_.filter.empty() || live_filter_in_kernel_) return nullptr;
    auto it = filters_.find(linktype);
    if (it == filters_.end()) {
      std::unique_ptr<pcap::BpfProgram> prog;
      try {
        prog = std::make_unique<pcap::BpfProgram>(pcap::dlt_from_linktype(linktype), opts_.filter);
      } catch (const Error& e) {
        error(e.what());
      }
      it = filters_.emplace(linktype, std::move(prog)).first;
    }
    reject_all_ = !it->second;
    return it->second.get();
  }

 public:
  bool live_filter_in_kernel_ = false;

 private:
  const PcapScanOptions& opts_;
  const ioc::IocSet& iocs_;
  IpMatcher matcher_;
  std::unique_ptr<MatchWriter> writer_;
  bool write_error_reported_ = false;
  static constexpr uint32_t kNoHit = UINT32_MAX;
  std::vector<uint32_t> hit_of_;  // by indicator position in iocs_.indicators: index in hits_
  std::deque<Hit> hits_;          // in order of first match; a deque never moves them
  std::vector<std::string> captures_;
  std::map<int, uint64_t> link_counts_;
  int last_linktype_ = -1;
  uint64_t* link_counter_ = nullptr;
  const pcap::BpfProgram* filter_ = nullptr;
  bool reject_all_ = false;
  std::map<int, std::unique_ptr<pcap::BpfProgram>> filters_;
  std::vector<std::string> errors_;
  std::map<std::string, uint64_t> skipped_targets_;
  uint64_t targets_ = 0;
  uint64_t packets_total_ = 0, packets_matched_ = 0, bytes_total_ = 0, bytes_matched_ = 0;
  uint64_t packets_ip_ = 0, fragments_ = 0;
  uint64_t not_ip_ = 0, truncated_ = 0, malformed_ = 0, filtered_ = 0;
  bool interrupted_ = false, live_ = false;
  pcap::LiveCapture::Stats kernel_;
};

// --- offline inputs ---

struct Target {
  std::string path;
  bool explicit_arg = true;  // named on the command line (not found in a directory)
  int64_t first_ns = std::numeric_limits<int64_t>::max();
};

void walk(const std::string& dir, int depth, std::vector<Target>& out, CaptureScan& scan) {
  if (depth > kMaxDirDepth) {
    scan.error(dir + ": directories nested deeper than " + std::to_string(kMaxDirDepth));
    return;
  }
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec), end;
  if (ec) {
    scan.error(dir + ": " + ec.message());
    return;
  }
  std::vector<std::string> names;
  for (; it != end; it.increment(ec)) {
    if (ec) {
      scan.error(dir + ": " + ec.message());
      break;
    }
    names.push_back(it->path().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& path : names) {
    auto st = std::filesystem::symlink_status(path, ec);
    if (ec) {
      scan.error(path + ": " + ec.message());
    } else if (std::filesystem::is_symlink(st)) {
      scan.skip_target("symlink");  // never followed out of the tree being scanned
    } else if (std::filesystem::is_directory(st)) {
      walk(path, depth + 1, out, scan);
    } else if (std::filesystem::is_regular_file(st)) {
      out.push_back(Target{path, false});
    } else {
      scan.skip_target("not a regular file");
    }
  }
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

PcapResult scan_offline(const PcapScanOptions& o, CaptureScan& scan, FindingSink& sink,
                        std::chrono::steady_clock::time_point t0) {
  bool stdin_input = std::find(o.inputs.begin(), o.inputs.end(), "-") != o.inputs.end();
  if (stdin_input && o.inputs.size() > 1)
    throw Error("'-' (stdin) must be the only capture: captures are scanned in time order");

  std::vector<Target> targets;
  for (const auto& in : o.inputs) {
    if (in == "-") {
      targets.push_back(Target{in});
      continue;
    }
    struct stat st {};
    if (::stat(in.c_str(), &st) != 0) throw system_error(in, errno);
    if (S_ISDIR(st.st_mode))
      walk(in, 0, targets, scan);
    else
      targets.push_back(Target{in});
  }
  if (!o.write_matches.empty())
    for (const auto& t : targets)
      if (same_file(t.path, o.write_matches))
        throw Error("--write-matches " + o.write_matches + " is one of the captures to scan");

  // Time order: each capture's first packet (a capture with none goes last).
  std::vector<Target> usable;
  std::vector<std::string> failures;
  for (auto& t : targets) {
    if (t.path == "-") {
      usable.push_back(t);
      continue;
    }
    try {
      auto src = pcap::open_capture(t.path);
      Packet p;
      if (src->next(p) == PacketSource::Next::kPacket) t.first_ns = p.ts_ns;
      usable.push_back(t);
    } catch (const Error& e) {
      if (!t.explicit_arg && std::string(e.what()).find("not a capture") != std::string::npos) {
        scan.skip_target("not a capture");
        spdlog::debug("{}", e.what());
        continue;
      }
      failures.push_back(e.what());
    }
  }
  if (usable.empty()) {
    // Nothing readable: a usage/input error, one line (the others logged before it).
    if (failures.empty()) throw Error("no capture files in " + o.inputs.front());
    for (size_t k = 1; k < failures.size(); ++k) spdlog::error("{}", failures[k]);
    throw Error(failures.front());
  }
  for (const auto& f : failures) scan.error(f);
  std::stable_sort(usable.begin(), usable.end(),
                   [](const Target& a, const Target& b) { return a.first_ns < b.first_ns; });

  for (const auto& t : usable) {
    if (host::stop_requested()) break;
    std::unique_ptr<PacketSource> src;
    try {
      src = pcap::open_capture(t.path);
    } catch (const Error& e) {
      scan.error(e.what());  // vanished or changed since it was first opened
      continue;
    }
    uint32_t id = scan.add_capture(t.path);
    scan.scan_source(*src, id);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return scan.finish(sink, secs);
}

}  // namespace

PcapResult scan_pcap(const PcapScanOptions& o, const ioc::IocSet& iocs, FindingSink& sink) {
  auto t0 = std::chrono::steady_clock::now();
  bool live = !o.interface.empty();
  if (live == !o.inputs.empty())
    throw Error(live ? "give either capture files or --interface, not both"
                     : "nothing to scan: give capture files or --interface IF");
  if (!live && (o.duration_s > 0 || o.max_packets > 0))
    throw Error("--duration and --packets apply to --interface only");
  if (o.snaplen < 64 || o.snaplen > 262144)
    throw Error("--snaplen " + std::to_string(o.snaplen) + ": must be between 64 and 262144");

  // A syntax error is a usage error, before anything is read (link-type specific problems are
  // reported per capture).
  if (!o.filter.empty() && !live) pcap::BpfProgram check(DLT_EN10MB, o.filter);

  CaptureScan scan(o, iocs);
  if (scan.indicators() == 0)
    spdlog::warn("no IP address or network among the indicators: nothing can match");
  size_t ignored = iocs.indicators.size() - scan.indicators();
  if (ignored > 0) {
    std::map<std::string, size_t> by_type;
    for (const auto& i : iocs.indicators)
      if (!ioc::is_network(i.type)) ++by_type[std::string(ioc::type_name(i.type))];
    std::string list;
    for (const auto& [t, n] : by_type)
      list += (list.empty() ? "" : ", ") + t + " " + std::to_string(n);
    spdlog::info("note: {} indicator(s) that are not IP addresses or networks are ignored{}",
                 ignored, list.empty() ? "" : " (" + list + ")");
  }
  if (!live) return scan_offline(o, scan, sink, t0);

  pcap::LiveOptions lo;
  lo.interface = o.interface;
  lo.snaplen = o.snaplen;
  lo.promisc = o.promisc;
  lo.filter = o.filter;
  pcap::LiveCapture cap(lo);
  scan.live_filter_in_kernel_ = true;
  spdlog::info("capturing on {} ({}, snaplen {}, {}){}", o.interface,
               pcap::linktype_name(cap.linktype()), o.snaplen,
               o.promisc ? "promiscuous" : "not promiscuous",
               o.duration_s > 0 ? fmt::format(" for {} s", o.duration_s)
               : o.max_packets  ? fmt::format(" for {} packets", o.max_packets)
                                : std::string(" until interrupted"));
  uint32_t id = scan.add_capture("live:" + o.interface);
  scan.scan_live(cap, id);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return scan.finish(sink, secs);
}

}  // namespace forage::scanners
