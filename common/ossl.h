// Move-only owners for OpenSSL handles, and the one way to turn the OpenSSL error queue into the
// text of a forage::Error. Shared by bundle/ (signing, encryption) and host/ (grid proxies).
#pragma once

#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

namespace forage {

template <auto Free>
struct OsslDeleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};

using BioPtr = std::unique_ptr<BIO, OsslDeleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, OsslDeleter<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OsslDeleter<EVP_PKEY_free>>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, OsslDeleter<CMS_ContentInfo_free>>;
using StorePtr = std::unique_ptr<X509_STORE, OsslDeleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OsslDeleter<X509_STORE_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OsslDeleter<EVP_MD_CTX_free>>;

inline void free_x509_stack(STACK_OF(X509) * s) {
  sk_X509_pop_free(s, X509_free);
}
inline void free_x509_stack_shallow(STACK_OF(X509) * s) {
  sk_X509_free(s);
}
// Owns the stack and the certificates in it.
using X509StackPtr = std::unique_ptr<STACK_OF(X509), OsslDeleter<free_x509_stack>>;
// Owns the stack only (certificates borrowed, e.g. from CMS_get0_signers).
using X509StackRef = std::unique_ptr<STACK_OF(X509), OsslDeleter<free_x509_stack_shallow>>;

// Drains the OpenSSL error queue: "reason; reason" (or "unknown OpenSSL error").
std::string openssl_errors();

// SHA-256 of the DER encoding, lower-case hex.
std::string certificate_fingerprint(X509* cert);

}  // namespace forage
