// Hostile DER in S/MIME opaque-signed mail (application/pkcs7-mime; smime-type=signed-data):
// the part is read through OpenSSL's CMS decoder, so whatever a forwarder puts there must give
// a skipped part with the reason, or the embedded message, never a crash or a runaway.
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "common/ossl.h"
#include "ioc/mime.h"

namespace forage::ioc::mime {
namespace {

std::string base64(std::string_view der) {
  std::string out(4 * ((der.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(der.data()),
                          static_cast<int>(der.size()));
  out.resize(static_cast<size_t>(n));
  std::string lines;
  for (size_t i = 0; i < out.size(); i += 76) lines += out.substr(i, 76) + "\r\n";
  return lines;
}

std::string opaque_mail(std::string_view der) {
  return "From: csirt@example.org\r\nSubject: signed\r\nMIME-Version: 1.0\r\n"
         "Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" +
         base64(der);
}

// A throwaway signer: an EC key and its self-signed certificate.
struct Signer {
  PkeyPtr key{EVP_EC_gen("P-256")};
  X509Ptr cert{X509_new()};
  Signer() {
    X509* x = cert.get();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key.get());
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("csirt"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, key.get(), EVP_sha256());
  }
};

// CMS SignedData around `content`, the content inside (what `openssl cms -sign -nodetach`
// makes).
std::string signed_data(std::string_view content) {
  static const Signer signer;
  BioPtr in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  CmsPtr cms(CMS_sign(signer.cert.get(), signer.key.get(), nullptr, in.get(), CMS_BINARY));
  if (!cms) return "";
  BioPtr out(BIO_new(BIO_s_mem()));
  if (i2d_CMS_bio(out.get(), cms.get()) != 1) return "";
  char* p = nullptr;
  long n = BIO_get_mem_data(out.get(), &p);
  return std::string(p, static_cast<size_t>(n));
}

const Part* only_part(const Message& m) {
  return m.parts.size() == 1 ? &m.parts[0] : nullptr;
}

TEST(SmimeHostile, SignedDataGivesTheEmbeddedMessage) {
  std::string der = signed_data("Subject: inner\r\n\r\nblock 198.51.100.23\r\n");
  ASSERT_FALSE(der.empty());
  Message m = parse_message(opaque_mail(der));
  const Part* p = only_part(m);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->kind, Part::Kind::kMessage) << p->note;
  ASSERT_EQ(p->message->parts.size(), 1u);
  EXPECT_NE(p->message->parts[0].text.find("198.51.100.23"), std::string::npos);
}

TEST(SmimeHostile, NotCmsIsASkippedPartWithTheReason) {
  struct Case {
    std::string der, why;
  };
  std::string data_only;  // CMS, but id-data rather than signed data
  {
    BioPtr in(BIO_new_mem_buf("x", 1));
    CmsPtr cms(CMS_data_create(in.get(), CMS_BINARY));
    BioPtr out(BIO_new(BIO_s_mem()));
    ASSERT_EQ(i2d_CMS_bio(out.get(), cms.get()), 1);
    char* p = nullptr;
    long n = BIO_get_mem_data(out.get(), &p);
    data_only.assign(p, static_cast<size_t>(n));
  }
  std::string nested(200000, '\x30');  // SEQUENCE in SEQUENCE ..., indefinite lengths
  for (size_t i = 1; i < nested.size(); i += 2) nested[i] = '\x80';
  const Case cases[] = {
      {"", "not a DER CMS structure"},
      {"plain text, not DER", "not a DER CMS structure"},
      {std::string("\x30\x84\xff\xff\xff\xf0\x06\x09", 8), "not a DER CMS structure"},
      {nested, "not a DER CMS structure"},
      {data_only, "not CMS signed data"},
  };
  for (const auto& c : cases) {
    Message m = parse_message(opaque_mail(c.der));
    const Part* p = only_part(m);
    ASSERT_NE(p, nullptr) << c.why;
    EXPECT_EQ(p->kind, Part::Kind::kSkipped) << c.why;
    EXPECT_NE(p->note.find("S/MIME signed data not read (" + c.why), std::string::npos) << p->note;
  }
}

// Signed data in signed data, deeper than the message depth limit (kMaxDepth): reading stops
// there. (Each level is base64 of the next: 24 levels are about a megabyte.)
TEST(SmimeHostile, NestedSignedDataStopsAtTheDepthLimit) {
  std::string inner = "Subject: core\r\n\r\nblock 198.51.100.23\r\n";
  for (size_t i = 0; i < kMaxDepth + 8; ++i) {
    std::string der = signed_data(inner);
    ASSERT_FALSE(der.empty());
    inner =
        "Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" +
        base64(der);
  }
  Message m = parse_message(inner);
  size_t depth = 0;
  for (const Message* at = &m; at && !at->parts.empty(); ++depth) at = at->parts[0].message.get();
  EXPECT_LE(depth, kMaxDepth + 1);
}

// Random damage to a good structure: every outcome is a part, never a crash (ASan watches).
TEST(SmimeHostile, DamagedSignedDataNeverCrashes) {
  std::string good = signed_data("Subject: x\r\n\r\n198.51.100.23\r\n");
  ASSERT_FALSE(good.empty());
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string der = good;
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) der[rng() % der.size()] = static_cast<char>(rng());
    if (i % 3 == 0) der.resize(rng() % der.size());
    Message m = parse_message(opaque_mail(der));
    ASSERT_EQ(m.parts.size(), 1u);
  }
}

}  // namespace
}  // namespace forage::ioc::mime
