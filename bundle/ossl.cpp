#include "bundle/ossl.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/error.h"
#include "common/file.h"
#include "common/hash.h"
#include "common/strings.h"

namespace forage::bundle {

namespace {

BioPtr mem_bio(const std::string& data) {
  BioPtr b(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!b) throw Error("OpenSSL: out of memory");
  return b;
}

// Never prompt on a terminal: an encrypted key is an error the operator must resolve.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

std::string name_print(X509_NAME* name, unsigned long flags) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || X509_NAME_print_ex(b.get(), name, 0, flags) < 0) return "";
  char* data = nullptr;
  long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

X509Ptr load_certificate(const std::string& path) {
  std::string data = read_file(path, 1 << 20);
  ERR_clear_error();
  auto b = mem_bio(data);
  X509Ptr cert(PEM_read_bio_X509(b.get(), nullptr, no_passphrase, nullptr));
  if (!cert) {
    ERR_clear_error();
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    cert.reset(d2i_X509(nullptr, &p, static_cast<long>(data.size())));
  }
  if (!cert) throw Error(path + ": not a PEM or DER X.509 certificate (" + openssl_errors() + ")");
  return cert;
}

PkeyPtr load_private_key(const std::string& path) {
  std::string data = read_file(path, 1 << 20);
  ERR_clear_error();
  auto b = mem_bio(data);
  PkeyPtr key(PEM_read_bio_PrivateKey(b.get(), nullptr, no_passphrase, nullptr));
  OPENSSL_cleanse(data.data(), data.size());
  if (!key) {
    std::string why = openssl_errors();
    if (why.find("bad decrypt") != std::string::npos || why.find("password") != std::string::npos ||
        why.find("interrupted") != std::string::npos)
      throw Error(path + ": private key is pass-phrase protected; forage needs it unencrypted");
    throw Error(path + ": not a PEM private key (" + why + ")");
  }
  return key;
}

std::string public_key_fingerprint(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key, &der);
  if (n <= 0) throw Error("OpenSSL: " + openssl_errors());
  std::string fp =
      sha256_hex(std::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(n)));
  OPENSSL_free(der);
  return fp;
}

std::string subject_slash(X509* cert) {
  char buf[2048];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

std::string subject_rfc2253(X509* cert) {
  return name_print(X509_get_subject_name(cert), XN_FLAG_RFC2253);
}

std::string subject_oneline(X509* cert) {
  return name_print(X509_get_subject_name(cert), XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
}

}  // namespace forage::bundle
