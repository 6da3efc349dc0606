// Versions of the C libraries, in a file of its own: yara.h defines macros that clash with
// C++ headers (nlohmann/json), so it is never included next to them.
#include <magic.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>
#include <yara.h>
#include <zstd.h>

#include <string>

namespace forage::cli {

std::string yara_version() { return YR_VERSION; }
std::string pcap_version() { return pcap_lib_version(); }
std::string magic_version_string() {
  return std::to_string(magic_version() / 100) + "." + std::to_string(magic_version() % 100);
}
std::string openssl_version() { return OpenSSL_version(OPENSSL_VERSION); }
std::string zstd_version() { return ZSTD_versionString(); }

}  // namespace forage::cli
