// Fuzzes the MIME decoder on whole messages, large headers included (run with -max_len of a few
// MB: docs/fuzzing.md): the message tree, the indicators read from it, and the header decoders
// (RFC 2047 words, RFC 2231 parameters, address domains) over the whole input as one field.
// Anything must give a message with its problems listed, never a crash, hang, quadratic time or
// sanitizer report.
#include <cstdint>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "ioc/mime.h"
#include "ioc/reader.h"

namespace {

// A header field is bounded (mime::kMaxHeaderField) when it comes from a message; the decoders
// on their own get a little more than that, so the bound itself is exercised.
constexpr size_t kMaxField = forage::ioc::mime::kMaxHeaderField + 1024;

size_t walk(const forage::ioc::mime::Message& m) {
  size_t n = m.subject.size() + m.problems.size() + m.sender_domains.size();
  for (const auto& p : m.parts) {
    n += p.label().size() + p.text.size();
    if (p.message) n += walk(*p.message);
  }
  return n;
}

}  // namespace

// The readers log a warning per odd part or line; at thousands of inputs a second that is all the
// fuzzer would do.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace mime = forage::ioc::mime;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t sink = walk(mime::parse_message(input));
  try {
    forage::ioc::IocSet set;
    forage::ioc::ReadOptions opts;
    opts.keep_going = true;
    forage::ioc::read_email(input, forage::ioc::Source{"fuzz"}, opts, set);
  } catch (const forage::Error&) {
  }
  std::string_view field = input.substr(0, kMaxField);
  sink += mime::decode_words(field).size();
  auto hv = mime::parse_header_value(field);
  for (const char* name : {"name", "filename", "boundary", "charset"})
    sink += hv.param(name).value_or("").size();
  sink += mime::address_domains(field).size();
  return sink == SIZE_MAX ? 1 : 0;
}
