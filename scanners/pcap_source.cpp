#include "scanners/pcap_source.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "common/error.h"
#include "scanners/pcap_decode.h"
#include "scanners/pcapng.h"

namespace forage::scanners::pcap {

void PcapCloser::operator()(pcap_t* p) const {
  pcap_close(p);
}
void DumperCloser::operator()(pcap_dumper_t* d) const {
  pcap_dump_close(d);
}

// --- BPF ---

BpfProgram::BpfProgram(int dlt, const std::string& expr) : prog_(new bpf_program{}) {
  // A dead handle is all pcap_compile needs: the link type and a snap length.
  PcapHandle dead(pcap_open_dead(dlt, 262144));
  if (!dead)
    throw Error("--filter: cannot compile for link type " + linktype_name(linktype_from_dlt(dlt)));
  if (pcap_compile(dead.get(), prog_.get(), expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    std::string why = pcap_geterr(dead.get());
    prog_.reset();
    throw Error("--filter '" + expr + "': " + why + " (link type " +
                linktype_name(linktype_from_dlt(dlt)) + ")");
  }
}

BpfProgram::BpfProgram(BpfProgram&& o) noexcept : prog_(std::move(o.prog_)) {}

BpfProgram& BpfProgram::operator=(BpfProgram&& o) noexcept {
  if (this != &o) {
    reset();
    prog_ = std::move(o.prog_);
  }
  return *this;
}

BpfProgram::~BpfProgram() {
  reset();
}

void BpfProgram::reset() {
  if (prog_) pcap_freecode(prog_.get());
  prog_.reset();
}

bool BpfProgram::matches(uint32_t caplen, uint32_t len, const uint8_t* data) const {
  if (!prog_) return true;
  pcap_pkthdr h{};
  h.caplen = caplen;
  h.len = len;
  return pcap_offline_filter(prog_.get(), &h, data) != 0;
}

namespace {

// --- input streams ---

// gzip-compressed input as a stdio stream libpcap can read (fopencookie), decompressed as it is
// read. The first decompressed bytes were already read to recognise the format: served first.
struct GzStream {
  gzFile gz = nullptr;
  unsigned char head[4];
  size_t head_len = 0, head_pos = 0;
  std::shared_ptr<std::string> error;  // zlib's reason, once something went wrong
};

ssize_t gz_read(void* cookie, char* buf, size_t n) {
  auto* s = static_cast<GzStream*>(cookie);
  size_t done = 0;
  while (done < n && s->head_pos < s->head_len) buf[done++] = char(s->head[s->head_pos++]);
  if (done == n) return ssize_t(done);
  int want = int(std::min<size_t>(n - done, INT_MAX));
  int got = gzread(s->gz, buf + done, unsigned(want));
  int err = Z_OK;
  const char* msg = gzerror(s->gz, &err);
  // A gzip stream cut short: zlib says "unexpected end of file" and returns what it had.
  if (err != Z_OK) *s->error = msg;
  if (got < 0) {
    if (done > 0) return ssize_t(done);
    errno = EIO;
    return -1;
  }
  return ssize_t(done + size_t(got));
}

int gz_close(void* cookie) {
  auto* s = static_cast<GzStream*>(cookie);
  gzclose(s->gz);
  delete s;
  return 0;
}

// The same for a non-seekable plain input (stdin, a pipe): the bytes read to recognise it.
struct PipeStream {
  Fd fd;
  unsigned char head[4];
  size_t head_len = 0, head_pos = 0;
};

ssize_t pipe_read(void* cookie, char* buf, size_t n) {
  auto* s = static_cast<PipeStream*>(cookie);
  size_t done = 0;
  while (done < n && s->head_pos < s->head_len) buf[done++] = char(s->head[s->head_pos++]);
  if (done == n) return ssize_t(done);
  ssize_t got;
  do {
    got = ::read(s->fd.get(), buf + done, n - done);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return done > 0 ? ssize_t(done) : -1;
  return ssize_t(done + size_t(got));
}

int pipe_close(void* cookie) {
  delete static_cast<PipeStream*>(cookie);
  return 0;
}

size_t read_head(int fd, unsigned char* buf, size_t n) {
  size_t have = 0;
  while (have < n) {
    ssize_t got = ::read(fd, buf + have, n - have);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    have += size_t(got);
  }
  return have;
}

enum class Kind { kPcap, kPcapng, kGzip, kOther };

Kind kind_of(const unsigned char* m, size_t n) {
  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) return Kind::kGzip;
  if (n < 4) return Kind::kOther;
  uint32_t be = uint32_t{m[0]} << 24 | uint32_t{m[1]} << 16 | uint32_t{m[2]} << 8 | m[3];
  uint32_t le = __builtin_bswap32(be);
  if (be == 0x0A0D0D0A) return Kind::kPcapng;
  // microsecond, nanosecond and Kuznetsov's modified pcap, in either byte order
  for (uint32_t magic : {0xa1b2c3d4u, 0xa1b23c4du, 0xa1b2cd34u})
    if (be == magic || le == magic) return Kind::kPcap;
  return Kind::kOther;
}

// What the file is instead, for the message.
std::string not_a_capture(const unsigned char* m, size_t n) {
  auto starts = [&](std::initializer_list<unsigned char> sig) {
    if (n < sig.size()) return false;
    return std::equal(sig.begin(), sig.end(), m);
  };
  if (n == 0) return "empty file, not a capture";
  if (starts({0x28, 0xb5, 0x2f, 0xfd}))
    return "zstd-compressed: decompress it first (only gzip is read directly)";
  if (starts({0xfd, '7', 'z', 'X', 'Z'}))
    return "xz-compressed: decompress it first (only gzip is read directly)";
  if (starts({'B', 'Z', 'h'}))
    return "bzip2-compressed: decompress it first (only gzip is read directly)";
  return "not a capture file (no pcap or pcapng signature)";
}

class LibpcapFileReader : public PacketSource {
 public:
  LibpcapFileReader(PcapHandle p, std::string name, std::string format,
                    std::shared_ptr<std::string> gz_error)
      : p_(std::move(p)), gz_error_(std::move(gz_error)) {
    name_ = std::move(name);
    format_ = std::move(format);
    linktype_ = linktype_from_dlt(pcap_datalink(p_.get()));
  }

  Next next(Packet& pkt) override {
    pcap_pkthdr* h;
    const u_char* d;
    int rc = pcap_next_ex(p_.get(), &h, &d);
    if (rc == 1) {
      // Opened with nanosecond precision: tv_usec holds nanoseconds.
      pkt.ts_ns = int64_t(h->ts.tv_sec) * 1000000000 + int64_t(h->ts.tv_usec);
      pkt.caplen = h->caplen;
      pkt.len = h->len < h->caplen ? h->caplen : h->len;
      pkt.data = d;
      pkt.linktype = linktype_;
      return Next::kPacket;
    }
    if (rc == PCAP_ERROR_BREAK) {  // end of file
      if (gz_error_ && !gz_error_->empty()) {
        error_ = "gzip: " + *gz_error_;
        return Next::kError;
      }
      return Next::kEnd;
    }
    error_ = pcap_geterr(p_.get());
    if (gz_error_ && !gz_error_->empty()) error_ += " (gzip: " + *gz_error_ + ")";
    return Next::kError;
  }

 private:
  PcapHandle p_;
  int linktype_;
  std::shared_ptr<std::string> gz_error_;
};

std::unique_ptr<PacketSource> reader_for(FilePtr f, Kind kind, const std::string& name, bool gz,
                                         std::shared_ptr<std::string> gz_error) {
  if (kind == Kind::kPcapng)
    return std::make_unique<PcapngReader>(std::move(f), name, gz ? "pcapng.gz" : "pcapng");
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f.get(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (!p) throw Error(name + ": " + errbuf);
  f.release();  // pcap_close() closes it from now on
  return std::make_unique<LibpcapFileReader>(PcapHandle(p), name, gz ? "pcap.gz" : "pcap",
                                             std::move(gz_error));
}

}  // namespace

std::unique_ptr<PacketSource> open_capture(const std::string& path) {
  if (path == "-") {
    int fd = ::dup(STDIN_FILENO);
    if (fd < 0) throw system_error("stdin", errno);
    return open_capture(Fd(fd), "-");
  }
  return open_capture(open_evidence(path), path);
}

std::unique_ptr<PacketSource> open_capture(Fd fd, const std::string& name) {
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) throw system_error(name, errno);
  if (S_ISDIR(st.st_mode)) throw Error(name + ": is a directory");
  unsigned char head[4];
  size_t n;
  bool seekable = S_ISREG(st.st_mode);
  if (seekable) {
    ssize_t got = ::pread(fd.get(), head, sizeof head, 0);
    if (got < 0) throw system_error(name, errno);
    n = size_t(got);
  } else {
    n = read_head(fd.get(), head, sizeof head);
  }
  Kind kind = kind_of(head, n);

  if (kind == Kind::kGzip) {
    if (!seekable)
      throw Error(name +
                  ": gzip-compressed input on a pipe: decompress it first (zcat F | forage "
                  "scan pcap -)");
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    auto* s = new GzStream;
    s->error = std::make_shared<std::string>();
    s->gz = gzdopen(fd.get(), "rb");
    if (!s->gz) {
      delete s;
      throw Error(name + ": cannot set up gzip decompression");
    }
    fd.release();  // gzclose() closes it
    gzbuffer(s->gz, 256 << 10);
    int got = gzread(s->gz, s->head, sizeof s->head);
    s->head_len = got > 0 ? size_t(got) : 0;
    Kind inner = kind_of(s->head, s->head_len);
    if (inner != Kind::kPcap && inner != Kind::kPcapng) {
      int err = Z_OK;
      std::string zmsg = gzerror(s->gz, &err);
      std::string why = err != Z_OK ? "gzip: " + zmsg
                                    : "gzip-compressed, but " + not_a_capture(s->head, s->head_len);
      gz_close(s);
      throw Error(name + ": " + why);
    }
    std::shared_ptr<std::string> gz_error = s->error;
    FilePtr f(fopencookie(s, "r", cookie_io_functions_t{gz_read, nullptr, nullptr, gz_close}));
    if (!f) {
      gz_close(s);
      throw system_error(name, errno);
    }
    std::setvbuf(f.get(), nullptr, _IOFBF, 256 << 10);
    return reader_for(std::move(f), inner, name, true, gz_error);
  }

  if (kind == Kind::kOther) throw Error(name + ": " + not_a_capture(head, n));

  FilePtr f;
  if (seekable) {
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    f.reset(::fdopen(fd.get(), "rb"));
    if (!f) throw system_error(name, errno);
    fd.release();
  } else {
    auto* s = new PipeStream;
    s->fd = std::move(fd);
    std::memcpy(s->head, head, n);
    s->head_len = n;
    f.reset(fopencookie(s, "r", cookie_io_functions_t{pipe_read, nullptr, nullptr, pipe_close}));
    if (!f) {
      pipe_close(s);
      throw system_error(name, errno);
    }
  }
  std::setvbuf(f.get(), nullptr, _IOFBF, 256 << 10);
  return reader_for(std::move(f), kind, name, false, nullptr);
}

// --- live capture ---

LiveCapture::LiveCapture(const LiveOptions& o) {
  name_ = o.interface;
  format_ = "live";
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  PcapHandle p(pcap_create(o.interface.c_str(), errbuf));
  if (!p) throw Error("interface " + o.interface + ": " + errbuf);
  pcap_set_snaplen(p.get(), o.snaplen);
  pcap_set_promisc(p.get(), o.promisc ? 1 : 0);
  pcap_set_timeout(p.get(), o.timeout_ms);
  // Room for bursts between two reads; the kernel drops (and counts) what does not fit.
  pcap_set_buffer_size(p.get(), 32 << 20);
  pcap_set_tstamp_precision(p.get(), PCAP_TSTAMP_PRECISION_NANO);
  int rc = pcap_activate(p.get());
  if (rc < 0) {
    std::string detail = pcap_geterr(p.get());
    std::string why;
    switch (rc) {
      case PCAP_ERROR_NO_SUCH_DEVICE:
        why = "no such interface";
        break;
      case PCAP_ERROR_PERM_DENIED:
        why = "permission denied: capturing needs root or CAP_NET_RAW";
        break;
      case PCAP_ERROR_IFACE_NOT_UP:
        why = "interface is down";
        break;
      case PCAP_ERROR_PROMISC_PERM_DENIED:
        why = "permission denied for promiscuous mode";
        break;
      default:
        why = pcap_statustostr(rc);
    }
    if (!detail.empty() && detail != why) why += " (" + detail + ")";
    throw Error("interface " + o.interface + ": " + why);
  }
  linktype_ = linktype_from_dlt(pcap_datalink(p.get()));
  // With TPACKET_V3 the kernel only wakes a blocked reader when a block of packets retires: on
  // a quiet interface a blocking read never returns and --duration would never end. So reads are
  // non-blocking and next() waits in poll() with the timeout itself.
  if (pcap_setnonblock(p.get(), 1, errbuf) != 0)
    throw Error("interface " + o.interface + ": " + errbuf);
  fd_ = pcap_get_selectable_fd(p.get());
  timeout_ms_ = o.timeout_ms;
  if (!o.filter.empty()) {
    BpfProgram prog(pcap_datalink(p.get()), o.filter);
    if (pcap_setfilter(p.get(), const_cast<bpf_program*>(prog.get())) != 0)
      throw Error("interface " + o.interface + ": --filter: " + pcap_geterr(p.get()));
  }
  p_ = std::move(p);
}

PacketSource::Next LiveCapture::next(Packet& pkt) {
  pcap_pkthdr* h;
  const u_char* d;
  bool waited = false;
  for (;;) {
    int rc = pcap_next_ex(p_.get(), &h, &d);
    if (rc == 1) {
      pkt.ts_ns = int64_t(h->ts.tv_sec) * 1000000000 + int64_t(h->ts.tv_usec);
      pkt.caplen = h->caplen;
      pkt.len = h->len < h->caplen ? h->caplen : h->len;
      pkt.data = d;
      pkt.linktype = linktype_;
      return Next::kPacket;
    }
    if (rc == PCAP_ERROR_BREAK) return Next::kBreak;
    if (rc != 0) break;
    // Nothing buffered: wait for the descriptor, once per call, so the caller sees its clock and
    // its stop flag (a signal interrupts poll) at least every timeout.
    if (waited || fd_ < 0) return Next::kTimeout;
    pollfd pfd{fd_, POLLIN, 0};
    int n = ::poll(&pfd, 1, timeout_ms_);
    if (n <= 0) return Next::kTimeout;  // timeout, or EINTR from SIGINT
    waited = true;
  }
  error_ = pcap_geterr(p_.get());
  return Next::kError;
}

std::optional<LiveCapture::Stats> LiveCapture::stats() const {
  pcap_stat s{};
  if (pcap_stats(p_.get(), &s) != 0) return std::nullopt;
  return Stats{s.ps_recv, s.ps_drop, s.ps_ifdrop};
}

}  // namespace forage::scanners::pcap
