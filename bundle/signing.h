// Signing the tag manifest, and checking such signatures.
//
// With an X.509 certificate and an RSA or EC key: a CMS SignedData, detached, DER
// (tagmanifest-sha256.txt.p7s), made with CMS_sign(CMS_DETACHED|CMS_BINARY): checked by
// `openssl cms -verify -binary -inform DER -content tagmanifest-sha256.txt -purpose any`.
//
// With an Ed25519 key: OpenSSL 3.0 (Debian 12) cannot put Ed25519 in CMS ("no default digest";
// with -md sha512 "invalid digest": RFC 8419 support arrived in OpenSSL 3.2), so the signature is
// the raw 64-byte Ed25519 signature of the tag manifest (tagmanifest-sha256.txt.sig) with the
// public key, or the certificate when one was given, next to it (tagmanifest-sha256.txt.sig.pem):
// checked by `openssl pkeyutl -verify -rawin -pubin|-certin -inkey ...sig.pem -sigfile ...sig`.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bundle/ossl.h"

namespace forage::bundle {

class SigningIdentity {
 public:
  enum class Kind { kCms, kEd25519 };

  // `cert_path` may be empty only for an Ed25519 key. Throws forage::Error (exit 2) naming the
  // file: unreadable, not a key, key and certificate that do not belong together.
  static SigningIdentity load(const std::string& cert_path, const std::string& key_path);

  Kind kind() const { return kind_; }
  X509* certificate() const { return cert_.get(); }
  // "CMS (RSA) signer /CN=..." or "Ed25519 key sha256:..."
  std::string describe() const;
  // (file name in the bag, bytes) for every signature file.
  std::vector<std::pair<std::string, std::string>> sign(std::string_view tag_manifest) const;

 private:
  Kind kind_ = Kind::kCms;
  X509Ptr cert_;
  PkeyPtr key_;
};

struct TrustOptions {
  std::string ca_file;
  std::string ca_path;
};

struct SignatureCheck {
  std::string kind;          // "CMS" or "Ed25519"
  bool valid = false;        // the signature matches the tag manifest
  bool trusted = false;      // the signer certificate chains to a trusted CA
  std::string problem;       // why not valid / not trusted
  std::string trust_source;  // what trust anchors were used
  bool has_certificate = false;
  std::string subject_slash, subject_rfc2253, subject_oneline;
  std::string fingerprint;  // certificate (or bare Ed25519 public key) SHA-256
};

SignatureCheck verify_cms_signature(std::string_view p7s_der, std::string_view content,
                                    const TrustOptions& trust);
SignatureCheck verify_raw_signature(std::string_view sig, std::string_view pem,
                                    std::string_view content, const TrustOptions& trust);

// --expect-signer: a DN in slash (/DC=org/CN=x), RFC 2253 (CN=x,DC=org) or `openssl x509
// -subject` form, or "sha256:<fingerprint>" of the certificate or bare Ed25519 key.
bool signer_matches(const SignatureCheck& s, std::string_view expected);

}  // namespace forage::bundle
