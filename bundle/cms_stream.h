// CMS AuthEnvelopedData (RFC 5083, AES-256-GCM) as stream layers, so a TLP:RED bundle is
// encrypted while it is written and `openssl cms -decrypt -inform DER` opens it.
//
// Writing uses OpenSSL's own streaming encoder (CMS_encrypt with CMS_STREAM + BIO_new_CMS):
// indefinite-length BER, the content in OCTET STRING chunks, the GCM tag in the trailer.
// Reading: OpenSSL has no streaming CMS parser (d2i_CMS_bio loads everything into memory), so
// CmsDecryptSource walks the outer BER itself, hands OpenSSL the header (recipient infos and
// algorithm, content left out) to recover the content key, decrypts the chunks through the
// cipher BIO OpenSSL sets up (CMS_dataInit), and sets the GCM tag from the trailer before the
// final block: constant memory, and a bundle whose tag does not match is rejected.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bundle/ossl.h"
#include "bundle/stream.h"

namespace forage::bundle {

// True for a DER/BER ContentInfo whose content type is CMS (Auth)EnvelopedData.
bool looks_like_cms_enveloped(std::string_view first_bytes);

class CmsEncryptSink : public Sink {
 public:
  CmsEncryptSink(Sink& next, const std::vector<X509*>& recipients);
  ~CmsEncryptSink() override;
  void write(const void* data, size_t size) override;
  using Sink::write;
  void finish() override;
  // Pushes buffered plaintext through the cipher (BIO_flush would end the CMS structure).
  void flush() override;

 private:
  void push(const char* data, size_t size);
  void release_chain();
  struct State {
    Sink* sink = nullptr;
    std::exception_ptr error;
  } state_;
  Sink& next_;
  CmsPtr cms_;
  BIO* out_ = nullptr;    // our sink BIO at the bottom of the chain
  BIO* chain_ = nullptr;  // BIO_new_CMS(out_)
  std::vector<char> buf_;
  size_t used_ = 0;
};

class CmsDecryptSource : public Source {
 public:
  // `cert` may be null: then every recipient is tried with `key`.
  CmsDecryptSource(Source& in, EVP_PKEY* key, X509* cert, std::string name);
  ~CmsDecryptSource() override;
  size_t read(void* data, size_t size) override;
  std::string describe() const { return description_; }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::string description_;
};

}  // namespace forage::bundle
