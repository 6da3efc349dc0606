#include "common/ossl.h"

#include <openssl/err.h>

#include "common/error.h"
#include "common/strings.h"

namespace forage {

std::string openssl_errors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    // "error:1E08010C:DECODER routines::unsupported" -> keep the readable reason at the end.
    std::string s = buf;
    auto pos = s.rfind(':');
    std::string reason = pos == std::string::npos ? s : s.substr(pos + 1);
    if (reason.empty()) reason = s;
    if (out.find(reason) != std::string::npos) continue;
    if (!out.empty()) out += "; ";
    out += reason;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

std::string certificate_fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) throw Error("OpenSSL: " + openssl_errors());
  return hex(md, n);
}

}  // namespace forage
