// Fuzzes the capture reading path: any bytes as a capture file (format detection, gzip, libpcap's
// pcap reader, our pcapng reader) and every packet through the link-layer/IP decoder; and the
// raw bytes as one frame of every supported link type. Any input must end in packets, a clean
// end or a reported error, never a crash, hang or sanitizer report.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/file.h"
#include "scanners/pcap_decode.h"
#include "scanners/pcap_source.h"

using namespace forage::scanners::pcap;

// The readers log a warning per odd part or line; at thousands of inputs a second that is all the
// fuzzer would do.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (int lt :
       {kLinkNull, kLinkEthernet, kLinkRaw, kLinkLoop, kLinkSll, kLinkIpv4, kLinkIpv6, kLinkSll2}) {
    PacketInfo info;
    (void)decode(lt, data, size, info);
  }

  // A regular file (memfd), as open_capture() sees files on disk: gzip needs a seekable input.
  int fd = memfd_create("fuzz_pcap", MFD_CLOEXEC);
  if (fd < 0) return 0;
  forage::Fd owner(fd);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) return 0;
    done += size_t(n);
  }
  ::lseek(fd, 0, SEEK_SET);
  try {
    auto src = open_capture(std::move(owner), "fuzz");
    Packet p;
    // Bounded: a small input cannot describe more packets than this anyway (each record has a
    // header), but a gzip bomb could.
    for (int k = 0; k < 100000; ++k) {
      auto r = src->next(p);
      if (r != PacketSource::Next::kPacket) break;
      PacketInfo info;
      (void)decode(p.linktype, p.data, p.caplen, info);
    }
  } catch (const forage::Error&) {
  }
  return 0;
}
