// Fuzzes the collector's parsers of host evidence over hostile bytes: utmp/wtmp/btmp and lastlog
// records, /proc/PID/cgroup batch-job paths, auth-log sshd lines (the SSH log reach), private key
// detection and X.509 proxy files (PEM chain, VOMS extension). Every input runs through all of
// them, and every result is rendered as JSON: no crash, hang, sanitizer report or exception.
#include <cstdint>
#include <string>
#include <string_view>

#include "collector/artifacts.h"
#include "host/accounts.h"
#include "host/grid.h"
#include "host/logins.h"
#include "host/private_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace forage::collector;
  using namespace forage::host;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  static const auto names = UserNames::parse("root:x:0:0::/root:/bin/sh\n");
  size_t sink = 0;
  sink += to_json(parse_utmp(in), "fuzz").dump().size();
  sink += to_json(parse_lastlog(in, names, 1000), "fuzz").dump().size();
  auto job = batch_job_from_cgroup(in);
  sink += job.first.size() + job.second.size();
  sink += ssh_reach_of_text(in, 1767571200, "fuzz", 1795392000).to_json().dump().size();
  sink += holds_private_key(in) ? 1 : 0;
  GridContext g;
  g.proxy = parse_proxy(in, "fuzz");
  sink += g.to_json().dump().size();
  return sink == SIZE_MAX ? 1 : 0;
}
