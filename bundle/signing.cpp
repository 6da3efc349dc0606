#include "bundle/signing.h"

#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "bundle/bag.h"
#include "common/error.h"
#include "common/strings.h"

namespace forage::bundle {
namespace {

BioPtr mem_bio(std::string_view data) {
  BioPtr b(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!b) throw Error("OpenSSL: out of memory");
  return b;
}

std::string bio_string(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string key_type(EVP_PKEY* k) {
  switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA:
      return "RSA";
    case EVP_PKEY_EC:
      return "EC";
    case EVP_PKEY_ED25519:
      return "Ed25519";
    default:
      return "other";
  }
}

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Trust anchors: --ca-file / --ca-path, else the grid CA directory and the system store.
StorePtr make_store(const TrustOptions& t, std::string& source) {
  StorePtr store(X509_STORE_new());
  if (!store) throw Error("OpenSSL: out of memory");
  if (!t.ca_file.empty()) {
    if (X509_STORE_load_file(store.get(), t.ca_file.c_str()) != 1)
      throw Error(t.ca_file + ": cannot load CA certificates (" + openssl_errors() + ")");
    source = "CA file " + t.ca_file;
  }
  if (!t.ca_path.empty()) {
    if (!is_dir(t.ca_path)) throw Error(t.ca_path + ": not a directory");
    if (X509_STORE_load_path(store.get(), t.ca_path.c_str()) != 1)
      throw Error(t.ca_path + ": cannot use as CA directory (" + openssl_errors() + ")");
    source += (source.empty() ? "" : ", ") + std::string("CA directory ") + t.ca_path;
  }
  if (source.empty()) {
    X509_STORE_set_default_paths(store.get());
    source = "system trust store";
    if (is_dir("/etc/grid-security/certificates")) {
      X509_STORE_load_path(store.get(), "/etc/grid-security/certificates");
      source += " + /etc/grid-security/certificates";
    }
  }
  ERR_clear_error();
  // Grid host certificates carry serverAuth+clientAuth, not emailProtection: accept any purpose,
  // as `openssl cms -verify -purpose any` does.
  X509_STORE_set_purpose(store.get(), X509_PURPOSE_ANY);
  return store;
}

void fill_subject(SignatureCheck& s, X509* cert) {
  s.has_certificate = true;
  s.subject_slash = subject_slash(cert);
  s.subject_rfc2253 = subject_rfc2253(cert);
  s.subject_oneline = subject_oneline(cert);
  s.fingerprint = certificate_fingerprint(cert);
}

std::string chain_problem(X509* cert, STACK_OF(X509) * extra, X509_STORE* store) {
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store, cert, extra) != 1) return openssl_errors();
  if (X509_verify_cert(ctx.get()) == 1) return "";
  return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

}  // namespace

SigningIdentity SigningIdentity::load(const std::string& cert_path, const std::string& key_path) {
  SigningIdentity id;
  id.key_ = load_private_key(key_path);
  bool ed = EVP_PKEY_get_base_id(id.key_.get()) == EVP_PKEY_ED25519;
  if (!cert_path.empty()) {
    id.cert_ = load_certificate(cert_path);
    ERR_clear_error();
    if (X509_check_private_key(id.cert_.get(), id.key_.get()) != 1)
      throw Error(key_path + ": does not belong to the certificate " + cert_path);
  } else if (!ed) {
    throw Error(key_path + ": a " + key_type(id.key_.get()) +
                " key needs its certificate (--sign-cert); only an Ed25519 key signs alone");
  }
  id.kind_ = ed ? Kind::kEd25519 : Kind::kCms;
  return id;
}

std::string SigningIdentity::describe() const {
  if (kind_ == Kind::kCms)
    return "CMS (" + key_type(key_.get()) + "), signer " + subject_slash(cert_.get());
  if (cert_) return "Ed25519, signer " + subject_slash(cert_.get());
  return "Ed25519 key sha256:" + public_key_fingerprint(key_.get());
}

std::vector<std::pair<std::string, std::string>> SigningIdentity::sign(std::string_view tm) const {
  std::vector<std::pair<std::string, std::string>> out;
  ERR_clear_error();
  if (kind_ == Kind::kCms) {
    auto in = mem_bio(tm);
    CmsPtr cms(CMS_sign(cert_.get(), key_.get(), nullptr, in.get(), CMS_DETACHED | CMS_BINARY));
    if (!cms) throw Error("signing the tag manifest: " + openssl_errors());
    BioPtr der(BIO_new(BIO_s_mem()));
    if (!der || i2d_CMS_bio(der.get(), cms.get()) != 1)
      throw Error("encoding the signature: " + openssl_errors());
    out.emplace_back(std::string(kSignatureCms), bio_string(der.get()));
    return out;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(tm.data()),
                     tm.size()) != 1)
    throw Error("signing the tag manifest (Ed25519): " + openssl_errors());
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(tm.data()), tm.size()) != 1)
    throw Error("signing the tag manifest (Ed25519): " + openssl_errors());
  sig.resize(len);
  BioPtr pem(BIO_new(BIO_s_mem()));
  int ok = cert_ ? PEM_write_bio_X509(pem.get(), cert_.get())
                 : PEM_write_bio_PUBKEY(pem.get(), key_.get());
  if (ok != 1) throw Error("encoding the signer key: " + openssl_errors());
  out.emplace_back(std::string(kSignatureRaw), sig);
  out.emplace_back(std::string(kSignatureKey), bio_string(pem.get()));
  return out;
}

SignatureCheck verify_cms_signature(std::string_view p7s, std::string_view content,
                                    const TrustOptions& trust) {
  SignatureCheck s;
  s.kind = "CMS";
  ERR_clear_error();
  const auto* p = reinterpret_cast<const unsigned char*>(p7s.data());
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(p7s.size())));
  if (!cms || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
    s.problem = "not a CMS SignedData structure (" + openssl_errors() + ")";
    return s;
  }
  // First the signature alone (so a wrong signature and an untrusted signer read differently).
  auto data = mem_bio(content);
  StorePtr empty(X509_STORE_new());
  if (CMS_verify(cms.get(), nullptr, empty.get(), data.get(), nullptr,
                 CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
    s.problem = "signature does not match the tag manifest (" + openssl_errors() + ")";
    X509StackRef signers(CMS_get0_signers(cms.get()));
    if (signers && sk_X509_num(signers.get()) > 0) fill_subject(s, sk_X509_value(signers.get(), 0));
    return s;
  }
  s.valid = true;
  X509StackRef signers(CMS_get0_signers(cms.get()));
  if (!signers || sk_X509_num(signers.get()) != 1) {
    s.problem = "expected exactly one signer";
    s.valid = false;
    return s;
  }
  X509* signer = sk_X509_value(signers.get(), 0);
  fill_subject(s, signer);
  StorePtr store = make_store(trust, s.trust_source);
  STACK_OF(X509)* included = CMS_get1_certs(cms.get());
  X509StackPtr certs(included);
  std::string why = chain_problem(signer, certs.get(), store.get());
  if (why.empty())
    s.trusted = true;
  else
    s.problem = "signer certificate not trusted: " + why;
  return s;
}

SignatureCheck verify_raw_signature(std::string_view sig, std::string_view pem,
                                    std::string_view content, const TrustOptions& trust) {
  SignatureCheck s;
  s.kind = "Ed25519";
  ERR_clear_error();
  auto b = mem_bio(pem);
  X509Ptr cert(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  PkeyPtr key;
  if (cert) {
    key.reset(X509_get_pubkey(cert.get()));
    fill_subject(s, cert.get());
  } else {
    ERR_clear_error();
    auto b2 = mem_bio(pem);
    key.reset(PEM_read_bio_PUBKEY(b2.get(), nullptr, nullptr, nullptr));
    if (key) s.fingerprint = public_key_fingerprint(key.get());
  }
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519) {
    s.problem = std::string(kSignatureKey) + ": not an Ed25519 public key or certificate";
    return s;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(content.data()),
                       content.size()) != 1) {
    ERR_clear_error();
    s.problem = "Ed25519 signature does not match the tag manifest";
    return s;
  }
  s.valid = true;
  if (cert) {
    StorePtr store = make_store(trust, s.trust_source);
    std::string why = chain_problem(cert.get(), nullptr, store.get());
    if (why.empty())
      s.trusted = true;
    else
      s.problem = "signer certificate not trusted: " + why;
  } else {
    s.problem =
        "bare Ed25519 key: its origin is proven only by --expect-signer sha256:" + s.fingerprint;
  }
  return s;
}

bool signer_matches(const SignatureCheck& s, std::string_view expected) {
  std::string e(trim(expected));
  if (istarts_with(e, "sha256:")) return to_lower(e.substr(7)) == s.fingerprint;
  if (!s.has_certificate) return false;
  // `openssl x509 -subject` prints "subject=..." in front.
  if (istarts_with(e, "subject=")) e = std::string(trim(e.substr(8)));
  return e == s.subject_slash || e == s.subject_rfc2253 || e == s.subject_oneline;
}

}  // namespace forage::bundle
