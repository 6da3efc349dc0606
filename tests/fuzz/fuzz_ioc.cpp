// Fuzzes every IoC reader through format detection: any bytes must give indicators or a
// forage::Error, never a crash, hang or sanitizer report.
#include <cstdint>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "ioc/reader.h"
#include "ioc/writers.h"

// The readers log a warning per odd part or line; at thousands of inputs a second that is all the
// fuzzer would do.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (bool keep_going : {false, true}) {
    forage::ioc::IocSet set;
    forage::ioc::ReadOptions opts;
    opts.keep_going = keep_going;
    try {
      forage::ioc::read_input(input, forage::ioc::Source{"fuzz"}, opts, set);
      (void)forage::ioc::to_json(set);
      (void)forage::ioc::to_tsv(set);
      (void)forage::ioc::to_yara(set);
    } catch (const forage::Error&) {
    }
  }
  return 0;
}
