// Versions of every linked library, for `forage version` and a bundle's environment record.
// The C libraries' versions come from lib_versions.cpp, which alone includes their headers
// (yara.h defines macros that clash with nlohmann/json).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace forage::cli {

std::string yara_version();
std::string pcap_version();
std::string magic_version_string();
std::string openssl_version();
std::string zstd_version();

// {"yara": ..., "libpcap": ..., "libmagic": ..., "openssl": ..., "zstd": ..., "spdlog": ...}
nlohmann::ordered_json library_versions();

}  // namespace forage::cli
