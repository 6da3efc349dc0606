// Fuzzes bundle verification end to end: any bytes (a tar, a zstd stream, a CMS structure, or
// garbage) must give a report or a forage::Error, never a crash, hang or sanitizer report.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "bundle/action_log.h"
#include "bundle/bag.h"
#include "bundle/stream.h"
#include "bundle/verify.h"
#include "common/error.h"
#include "common/strings.h"

namespace {

// A recipient key of our own, so encrypted inputs get as far as the recipient match.
std::string key_path() {
  static std::string path = [] {
    std::string p = "/tmp/forage-fuzz-bundle-" + std::to_string(::getpid()) + ".pem";
    EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    FILE* f = std::fopen(p.c_str(), "w");
    if (k && f) PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
    if (f) std::fclose(f);
    EVP_PKEY_free(k);
    std::atexit([] {
      ::unlink(("/tmp/forage-fuzz-bundle-" + std::to_string(::getpid()) + ".pem").c_str());
    });
    return p;
  }();
  return path;
}

}  // namespace

// The readers log a warning per odd part or line; at thousands of inputs a second that is all the
// fuzzer would do.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  forage::bundle::VerifyOptions opts;
  opts.allow_unsigned = true;
  opts.decrypt_key = key_path();
  try {
    forage::bundle::StringSource src(input);
    auto report = forage::bundle::verify_stream(src, "fuzz", opts);
    (void)report.text();
  } catch (const forage::Error&) {
  }
  // The text parsers on their own, with the input as every tag file at once.
  std::vector<std::string> problems;
  (void)forage::bundle::parse_manifest(input, "fuzz", problems);
  (void)forage::bundle::parse_bag_info(input);
  (void)forage::bundle::check_action_log(input, input);
  (void)forage::utf8_or_escaped(input);
  return 0;
}
