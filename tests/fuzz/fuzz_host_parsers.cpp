// Fuzzes the parsers of the host scanners over hostile bytes: /proc/PID/maps, /proc/net/*,
// passwd, free-text indicator search (command lines, environments) and IP parsing. Every input
// runs through all of them: no crash, hang or sanitizer report.
#include <cstdint>
#include <string_view>

#include "scanners/ioc_match.h"
#include "scanners/net_scan.h"
#include "host/proc.h"
#include "host/accounts.h"

namespace {

const forage::scanners::IocIndex& index() {
  static forage::ioc::IocSet set = [] {
    forage::ioc::IocSet s;
    auto add = [&](forage::ioc::Type t, const char* v) {
      forage::ioc::Indicator i;
      i.type = t;
      i.value = v;
      s.add(i);
    };
    add(forage::ioc::Type::kCidr, "10.0.0.0/8");
    add(forage::ioc::Type::kIpv6, "2001:db8::1");
    add(forage::ioc::Type::kDomain, "evil.example.com");
    add(forage::ioc::Type::kFilename, "kdevtmpfsi");
    add(forage::ioc::Type::kFilepath, "~/.x/m");
    add(forage::ioc::Type::kUsername, "mallory");
    add(forage::ioc::Type::kUrl, "http://evil.example.com/a");
    return s;
  }();
  static forage::scanners::IocIndex x(set);
  return x;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t bad = 0;
  for (const auto& r : forage::host::parse_maps(in, &bad))
    (void)forage::host::region_skip_reason(r);
  for (const char* proto : {"tcp", "tcp6", "udp", "udp6"})
    for (const auto& s : forage::host::parse_proc_net(in, proto, &bad)) {
      (void)forage::host::endpoint(s, true);
      (void)forage::host::endpoint(s, false);
    }
  (void)forage::host::UserNames::parse(in).name(0);
  (void)forage::host::split_nul(in);
  (void)index().in_text(in);
  (void)index().filepath(in);
  (void)index().ips().match(in);
  uint8_t a6[16];
  (void)forage::scanners::parse_ipv6(in, a6);
  (void)forage::scanners::parse_ipv4(in);
  return 0;
}
