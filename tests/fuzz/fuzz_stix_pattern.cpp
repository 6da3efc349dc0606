// Fuzzes the STIX 2.1 pattern parser and the extraction behind it: any bytes must give a pattern
// or a PatternError, never a crash, hang, stack exhaustion or sanitizer report.
#include <cstdint>
#include <string_view>

#include <spdlog/spdlog.h>

#include "ioc/stix_pattern.h"

// The readers log a warning per odd part or line; at thousands of inputs a second that is all the
// fuzzer would do.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    auto pattern = forage::ioc::stix::parse_pattern(input);
    for (const auto* c : pattern.comparisons()) (void)c->path.text();
    (void)forage::ioc::stix::extract_indicators(pattern);
  } catch (const forage::ioc::stix::PatternError& e) {
    // The offset always points into the pattern or just past its end.
    if (e.offset() > size) __builtin_trap();
  }
  return 0;
}
